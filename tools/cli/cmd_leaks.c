/*
 * cmd_leaks.c — `track leaks PID --since FILE`: the threads (and with --fds, descriptors)
 * of a running traced process that were started since a snapshot and are still there, as
 * goleak checks a Go test: checked again with a growing pause until --timeout, so threads
 * that are winding down pass, then reported with what each runs, waits on, holds, and
 * where it was created.  Read from the segment only: nothing is stopped or traced.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/procsnap.h"
#include "render/json.h"

#define MAX_RULES 64
#define PAUSE_FIRST_NS 1000000ull     /* 1 ms, doubled after each look ... */
#define PAUSE_MAX_NS 100000000ull     /* ... up to 100 ms */

enum {
	OPT_SINCE = TRACK_LONG_ONLY(0),
	OPT_TIMEOUT,
	OPT_IGNORE,
	OPT_FDS,
	OPT_NUM_CALLERS,
	OPT_JSON,
};

static const struct track_opt leaks_opts_table[] = {
	{OPT_SINCE, "since", "FILE", "the snapshot to compare with (track snapshot)"},
	{OPT_TIMEOUT, "timeout", "DURATION",
	 "look again until this long has passed (default 1s;\n"
	 "500ms, 2s, 1m): threads winding down pass"},
	{OPT_IGNORE, "ignore", "RULE",
	 "leave out threads a rule matches, RULE one of\n"
	 "fn=GLOB (start routine), name=GLOB (thread name),\n"
	 "created=GLOB (a function where it was created);\n"
	 "may be given many times"},
	{OPT_FDS, "fds", NULL, "also report descriptors opened since (the snapshot\n"
	 "must have been taken with --fds)"},
	{OPT_NUM_CALLERS, "num-callers", "N", "frames per stack (default 12)"},
	{OPT_JSON, "json", NULL, "print the result as JSON (README, track leaks)"},
	{0},
};

static const struct track_subcmd leaks_cmd = {
	"leaks", "PID --since FILE [OPTIONS]",
	"Report the threads of a running traced process started since a snapshot (track\n"
	"snapshot) and still alive, looking again until --timeout so that threads that\n"
	"are still ending pass.  The process is read from its segment, never stopped.",
	leaks_opts_table,
	"exit status: 0 nothing leaked; 1 something leaked (the report says what); 2 an\n"
	"error: bad usage, a bad or foreign snapshot, a process gone or not traced.",
	0,
};

struct rule {
	char kind;          /* 'f' start routine, 'n' name, 'c' creation stack */
	const char *glob;
	const char *text;   /* as typed, for messages */
	int matched;
};

struct leaks_opts {
	const char *since;
	uint64_t timeout_ns;
	struct rule rules[MAX_RULES];
	int nrules, fds, frames, json;
	pid_t pid;
};

static int add_rule(struct leaks_opts *o, const char *text)
{
	static const struct {
		const char *prefix;
		char kind;
	} kinds[] = {{"fn=", 'f'}, {"name=", 'n'}, {"created=", 'c'}};
	size_t i;
	if (o->nrules == MAX_RULES) {
		track_error("at most %d --ignore rules", MAX_RULES);
		return -1;
	}
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strncmp(text, kinds[i].prefix, strlen(kinds[i].prefix)) == 0 &&
		    text[strlen(kinds[i].prefix)] != '\0') {
			struct rule *r = &o->rules[o->nrules++];
			r->kind = kinds[i].kind;
			r->glob = text + strlen(kinds[i].prefix);
			r->text = text;
			return 0;
		}
	track_error("--ignore %s: a rule is fn=GLOB, name=GLOB or created=GLOB", text);
	return -1;
}

/* 0 ok; -1 help printed; else an exit status (said). */
static int parse(int argc, char **argv, struct leaks_opts *o)
{
	int key;
	long v;
	o->timeout_ns = 1000000000ull;
	while ((key = track_opt_next(&leaks_cmd, argc, argv)) != TRACK_OPT_END) {
		switch (key) {
		case TRACK_OPT_HELP: return -1;
		case OPT_SINCE: o->since = optarg; break;
		case OPT_FDS: o->fds = 1; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_TIMEOUT:
			if (track_opt_duration("--timeout", optarg, &o->timeout_ns) != 0)
				return TRACK_EXIT_USAGE;
			break;
		case OPT_IGNORE:
			if (add_rule(o, optarg) != 0)
				return TRACK_EXIT_USAGE;
			break;
		case OPT_NUM_CALLERS:
			if (track_opt_number("--num-callers", optarg, 1, TRACK_STACK_DEPTH + 2, &v) != 0)
				return TRACK_EXIT_USAGE;
			o->frames = (int)v;
			break;
		default: return TRACK_EXIT_USAGE;
		}
	}
	if (track_opt_pid(&leaks_cmd, argc, argv, &o->pid) != 0)
		return TRACK_EXIT_USAGE;
	if (o->since == NULL) {
		track_error("--since FILE is needed: take one first with 'track snapshot %s -o FILE'",
			    argv[optind]);
		return TRACK_EXIT_USAGE;
	}
	return 0;
}

/* Whether a function name of pc's location matches glob (inlined frames included). */
static int pc_matches(struct track_symbolizer *sym, uint64_t pc, int is_return, const char *glob)
{
	struct track_frame f[8];
	int n = sym != NULL && pc != 0 ? track_sym_lookup(sym, pc, is_return, f, 8) : 0, k;
	for (k = 0; k < n; k++)
		if (f[k].function != NULL && fnmatch(glob, f[k].function, 0) == 0)
			return 1;
	return 0;
}

static int rule_matches(struct track_view *v, const struct rule *r,
			const struct track_thread_rec *t)
{
	const struct track_stack_rec *st;
	char name[TRACK_NAME_MAX + 1];
	uint32_t i;
	switch (r->kind) {
	case 'n':
		snprintf(name, sizeof name, "%.*s", TRACK_NAME_MAX, t->name);
		return fnmatch(r->glob, name, 0) == 0;
	case 'f':
		return pc_matches(track_view_sym(v), t->start_routine, 0, r->glob);
	default:
		if (pc_matches(track_view_sym(v), t->create_pc, 1, r->glob))
			return 1;
		st = track_snap_stack(v->snap, t->create_stack);
		for (i = 0; st != NULL && i < st->nframes; i++)
			if (pc_matches(track_view_sym(v), st->frames[i], 1, r->glob))
				return 1;
		return 0;
	}
}

/* Keep the threads in idx no rule leaves out (marking the rules that matched); how many. */
static size_t drop_ignored(struct track_view *v, struct leaks_opts *o, uint32_t *idx, size_t n)
{
	size_t i, kept = 0;
	int k, out;
	for (i = 0; i < n; i++) {
		for (out = 0, k = 0; k < o->nrules; k++)
			if (rule_matches(v, &o->rules[k], &v->snap->threads[idx[i]])) {
				o->rules[k].matched = 1;
				out = 1;
			}
		if (!out)
			idx[kept++] = idx[i];
	}
	return kept;
}

/* What leaked now: threads into idx (room for s->nthreads), descriptors into fdx; the
 * count of both. */
static size_t look(struct track_view *v, struct leaks_opts *o, const struct track_procsnap *since,
		   uint32_t *idx, size_t *nthreads, struct track_procsnap *now, size_t **fdx,
		   size_t *nfds)
{
	char err[256];
	size_t *p;
	*nthreads = drop_ignored(v, o, idx, track_procsnap_new_threads(v->snap, since, idx));
	*nfds = 0;
	if (o->fds) {
		track_procsnap_free(now);
		if (track_procsnap_take(v->snap, 1, now, err, sizeof err) == TRACK_EXIT_OK &&
		    (p = realloc(*fdx, (now->nfds + 1) * sizeof *p)) != NULL) {
			*fdx = p;
			*nfds = track_procsnap_new_fds(now, since, p);
		}
	}
	return *nthreads + *nfds;
}

static void pause_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	nanosleep(&ts, NULL);
}

/* The result as JSON: {"pid", "leaked", "waited_ns", "threads": [thread..], "fds"?:
 * [{"fd", "target"}..]} (threads as the report's threads.list has them). */
static void report_json(FILE *out, struct track_view *v, const struct leaks_opts *o,
			const uint32_t *idx, size_t nthreads, const struct track_procsnap *now,
			const size_t *fdx, size_t nfds, uint64_t waited_ns)
{
	json_t *root = json_object(), *ts = json_array(), *fs = json_array();
	size_t i;
	json_object_set_new(root, "pid", json_integer(o->pid));
	json_object_set_new(root, "leaked", json_boolean(nthreads + nfds > 0));
	json_object_set_new(root, "waited_ns", json_integer((json_int_t)waited_ns));
	for (i = 0; i < nthreads; i++)
		json_array_append_new(ts, track_json_thread(v, &v->snap->threads[idx[i]]));
	json_object_set_new(root, "threads", ts);
	for (i = 0; i < nfds; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "fd", json_integer(now->fds[fdx[i]].fd));
		json_object_set_new(f, "target", json_string(now->fds[fdx[i]].target));
		json_array_append_new(fs, f);
	}
	if (o->fds)
		json_object_set_new(root, "fds", fs);
	else
		json_decref(fs);
	json_dumpf(root, out, JSON_INDENT(1));
	fputc('\n', out);
	json_decref(root);
}

static void report(FILE *out, struct track_view *v, const struct leaks_opts *o,
		   const uint32_t *idx, size_t nthreads, const struct track_procsnap *now,
		   const size_t *fdx, size_t nfds)
{
	char waited[32];
	size_t i;
	track_fmt_ns(o->timeout_ns, waited, sizeof waited);
	if (nthreads > 0)
		fprintf(out, "track leaks: pid %d: %zu thread%s started since the snapshot %s still "
			"alive after %s:\n", (int)o->pid, nthreads, nthreads == 1 ? "" : "s",
			nthreads == 1 ? "is" : "are", waited);
	track_text_threads(out, v, idx, nthreads, o->frames);
	if (nfds > 0)
		fprintf(out, "track leaks: pid %d: %zu descriptor%s opened since the snapshot %s "
			"still open:\n", (int)o->pid, nfds, nfds == 1 ? "" : "s",
			nfds == 1 ? "is" : "are");
	for (i = 0; i < nfds; i++)
		fprintf(out, "  fd %d -> %s\n", now->fds[fdx[i]].fd, now->fds[fdx[i]].target);
}

/* The snapshot at o->since, checked to be of this process and to have what is asked. */
static int read_since(const struct leaks_opts *o, const struct track_snap *s,
		      struct track_procsnap *since)
{
	char err[512];
	if (track_procsnap_read(o->since, since, err, sizeof err) != TRACK_EXIT_OK) {
		track_error("%s", err);
		return -1;
	}
	if (since->pid != s->hdr.pid || since->starttime != s->hdr.proc_starttime) {
		track_error("%s is a snapshot of process %d%s, not of process %d", o->since,
			    (int)since->pid, since->pid == s->hdr.pid ? " before its pid was reused" : "",
			    (int)o->pid);
		return -1;
	}
	if (o->fds && !since->has_fds) {
		track_error("%s has no descriptors: take it with 'track snapshot --fds'", o->since);
		return -1;
	}
	return 0;
}

/* Look until nothing leaked or the timeout passed; 0 nothing leaked, 1 leaks (reported), 2
 * the process ended meanwhile (said). */
static int check(struct track_snap *s, struct leaks_opts *o, const struct track_procsnap *since)
{
	struct track_procsnap now = {0};
	struct track_view v;
	uint32_t *idx = calloc(s->nthreads + 1, sizeof *idx);
	size_t *fdx = NULL, nthreads = 0, nfds = 0;
	uint64_t start = track_mono_ns(), pause = PAUSE_FIRST_NS;
	char err[256];
	int rc = 0;
	track_view_init(&v, s, NULL, NULL);
	while (idx != NULL) {
		if (look(&v, o, since, idx, &nthreads, &now, &fdx, &nfds) == 0) {
			if (o->json)
				report_json(stdout, &v, o, idx, 0, &now, fdx, 0, track_mono_ns() - start);
			break;
		}
		if (track_mono_ns() - start >= o->timeout_ns) {
			if (o->json)
				report_json(stdout, &v, o, idx, nthreads, &now, fdx, nfds,
					    track_mono_ns() - start);
			else
				report(stdout, &v, o, idx, nthreads, &now, fdx, nfds);
			rc = 1;
			break;
		}
		pause_ns(pause);
		pause = pause * 2 < PAUSE_MAX_NS ? pause * 2 : PAUSE_MAX_NS;
		if (track_snap_reload(s, err, sizeof err) != TRACK_EXIT_OK || !s->alive) {
			track_error("process %d ended during the check", (int)o->pid);
			rc = TRACK_EXIT_USAGE;
			break;
		}
		free(idx);
		idx = calloc(s->nthreads + 1, sizeof *idx);
	}
	track_view_fini(&v);
	track_procsnap_free(&now);
	free(idx);
	free(fdx);
	return rc;
}

int track_cmd_leaks(int argc, char **argv)
{
	struct leaks_opts o;
	struct track_snap s;
	struct track_procsnap since;
	int rc, k;
	memset(&o, 0, sizeof o);
	rc = parse(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : TRACK_EXIT_USAGE;
	if (track_load_live(o.pid, &s) != TRACK_EXIT_OK)
		return TRACK_EXIT_USAGE;
	if (read_since(&o, &s, &since) != 0) {
		track_procsnap_free(&since);   /* read, then refused: another process's */
		track_snap_free(&s);
		return TRACK_EXIT_USAGE;
	}
	rc = check(&s, &o, &since);
	for (k = 0; k < o.nrules && rc != TRACK_EXIT_USAGE; k++)   /* a typo must not silently ignore nothing */
		if (!o.rules[k].matched)
			track_error("warning: --ignore %s matched no thread", o.rules[k].text);
	if (rc == 0 && !o.json)
		printf("track leaks: pid %d: nothing started since the snapshot is still alive\n",
		       (int)o.pid);
	track_procsnap_free(&since);
	track_snap_free(&s);
	if (track_flush(stdout, "standard output") != 0)
		return TRACK_EXIT_USAGE;
	return rc;
}

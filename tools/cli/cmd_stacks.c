/*
 * cmd_stacks.c — `track stacks PID`: every thread's stack of a live process, grouped like a
 * Go goroutine dump, annotated with what the shim knows when the process runs under it:
 * what each thread waits on, for how long, who holds it, what it holds, who created it.
 *
 * Default: stop each thread briefly in turn and unwind it (remote_unwind.c); works on any
 * process the user may ptrace.  --no-stop: stop nothing and show the stacks the shim
 * recorded when each blocked thread began to wait (running threads have none).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/remote_unwind.h"
#include "render/json.h"
#include "cli/cli.h"

struct st_opts {
	int json, all, no_stop, max_frames;
};

/* One thread to print: its frames and, when the shim saw it, its record. */
struct st_thread {
	pid_t tid;
	char name[TRACK_NAME_MAX + 1];
	const uint64_t *pcs;
	int npcs;
	int first_is_pc;                      /* frame 0 is a pc (remote), not a return address */
	int error;
	const struct track_thread_rec *rec;   /* NULL without the shim */
	int group;
};

struct st_ctx {
	struct st_opts o;
	pid_t pid;
	struct track_snap snap;
	int have_snap;
	struct track_symbolizer *sym;
	struct st_thread *t;
	size_t n;
	uint64_t now_ns;
	struct track_rstacks rs;
	int no_stack;                         /* threads with no stack to show */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: track stacks [OPTIONS] PID\n\n"
		"Print the stack of every thread of a running process, identical stacks grouped\n"
		"with a count.  Under the shim, each thread is annotated with what it waits on, for\n"
		"how long, who holds that lock, the locks it holds and where it was created.\n"
		"Each thread is stopped on its own, briefly (the times are printed); the process\n"
		"as a whole never is.  Works on any process you may ptrace, shim or not.\n\n"
		"options:\n"
		"      --json          print JSON instead of text\n"
		"      --all           one entry per thread: no grouping\n"
		"      --no-stop       stop nothing: show only the stacks the shim recorded for\n"
		"                      blocked threads (needs the shim)\n"
		"      --max-frames N  frames per stack (default 64)\n"
		"  -h, --help          show this help\n\n"
		"exit status: 0 printed; 2 bad usage; 4 not allowed to trace it (the message says\n"
		"why); 5 no such process (or no segment, for --no-stop); 1 other failure.\n");
}

static int parse(int argc, char **argv, struct st_opts *o, pid_t *pid)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},      {"all", no_argument, NULL, 'a'},
		{"no-stop", no_argument, NULL, 'n'},   {"max-frames", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
	};
	int c;
	long v;
	o->max_frames = 64;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = 1; break;
		case 'a': o->all = 1; break;
		case 'n': o->no_stop = 1; break;
		case 'm':
			if ((v = track_parse_count(optarg, 4096)) < 1) {
				track_error("--max-frames needs a number from 1 to 4096, not '%s'",
					    optarg);
				return TRACK_EXIT_USAGE;
			}
			o->max_frames = (int)v;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			track_opt_error("stacks", longopts, c, argv);
			return TRACK_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (v = track_parse_count(argv[optind], INT32_MAX)) < 1) {
		track_error("name one process id; try 'track stacks --help'");
		return TRACK_EXIT_USAGE;
	}
	*pid = (pid_t)v;
	return 0;
}

static const struct track_thread_rec *rec_of(const struct st_ctx *c, pid_t tid)
{
	uint32_t i;
	const struct track_thread_rec *best = NULL;
	if (!c->have_snap)
		return NULL;
	for (i = 0; i < c->snap.nthreads; i++) {
		const struct track_thread_rec *r = &c->snap.threads[i];
		if (r->tid == tid && r->state != TRACK_TS_EXITED)
			best = r;
	}
	return best;
}

static const struct track_obj_rec *obj_of(const struct st_ctx *c, uint32_t idx)
{
	return c->have_snap && idx >= 1 && idx <= c->snap.nobjs ? &c->snap.objs[idx - 1] : NULL;
}

/* --- gathering ---------------------------------------------------------------------------- */

static int gather_remote(struct st_ctx *c)
{
	char err[512];
	size_t i;
	int rc = track_remote_stacks(c->pid, c->o.max_frames, &c->rs, err, sizeof err);
	if (rc != 0) {
		track_error("%s", err);
		return rc == ESRCH ? TRACK_EXIT_NOENT : rc == EPERM ? TRACK_EXIT_PERM
								  : TRACK_EXIT_FAIL;
	}
	c->t = calloc(c->rs.nthreads ? c->rs.nthreads : 1, sizeof *c->t);
	if (c->t == NULL)
		return TRACK_EXIT_FAIL;
	for (i = 0; i < c->rs.nthreads; i++) {
		struct track_rthread *r = &c->rs.threads[i];
		struct st_thread *t = &c->t[c->n++];
		t->tid = r->tid;
		snprintf(t->name, sizeof t->name, "%s", r->name);
		t->pcs = r->pcs;
		t->npcs = r->npcs;
		t->first_is_pc = 1;
		t->error = r->error;
		t->rec = rec_of(c, r->tid);
		c->no_stack += t->npcs == 0;
	}
	return 0;
}

static int gather_recorded(struct st_ctx *c)
{
	uint32_t i;
	if (!c->have_snap) {
		track_error("process %d has no track segment: --no-stop shows what the shim "
			    "recorded, so the process must run under it", (int)c->pid);
		return TRACK_EXIT_NOENT;
	}
	c->t = calloc(c->snap.nthreads ? c->snap.nthreads : 1, sizeof *c->t);
	if (c->t == NULL)
		return TRACK_EXIT_FAIL;
	for (i = 0; i < c->snap.nthreads; i++) {
		const struct track_thread_rec *r = &c->snap.threads[i];
		const struct track_stack_rec *st;
		struct st_thread *t;
		if (r->state == TRACK_TS_EXITED || r->state == TRACK_TS_UNUSED)
			continue;
		t = &c->t[c->n++];
		t->tid = r->tid;
		snprintf(t->name, sizeof t->name, "%.*s", TRACK_NAME_MAX, r->name);
		t->rec = r;
		st = r->state != TRACK_TS_RUNNING ? track_snap_stack(&c->snap, r->wait_stack) : NULL;
		if (st != NULL) {
			t->pcs = st->frames;
			t->npcs = (int)st->nframes;
		}
		c->no_stack += t->npcs == 0;
	}
	return 0;
}

/* Whether pc lies in libtrack.so itself: its frames are left out, the shim is invisible. */
static int in_shim(struct track_symbolizer *sym, uint64_t pc, int is_return)
{
	struct track_frame f[8];
	const char *base;
	int n = track_sym_lookup(sym, pc, is_return, f, 8);
	if (n < 1 || f[n - 1].module == NULL)
		return 0;
	base = strrchr(f[n - 1].module, '/');
	base = base ? base + 1 : f[n - 1].module;
	return strncmp(base, "libtrack.so", 11) == 0;
}

/* Drop the shim's frames from the unwound stacks (they live in memory the unwinder owns). */
static void hide_shim_frames(struct st_ctx *c)
{
	size_t i;
	for (i = 0; i < c->rs.nthreads && i < c->n; i++) {
		struct track_rthread *r = &c->rs.threads[i];
		int k, out = 0, kept_top = 0;
		for (k = 0; k < r->npcs; k++)
			if (!in_shim(c->sym, r->pcs[k], k > 0)) {
				kept_top |= k == 0;
				r->pcs[out++] = r->pcs[k];
			}
		/* without the original top frame, every frame left is a return address */
		c->t[i].first_is_pc = kept_top;
		r->npcs = out;
		c->t[i].npcs = out;
	}
}

/* --- grouping ----------------------------------------------------------------------------- */

static int same_group(const struct st_thread *a, const struct st_thread *b)
{
	uint32_t sa = a->rec ? a->rec->state : TRACK_TS_RUNNING;
	uint32_t sb = b->rec ? b->rec->state : TRACK_TS_RUNNING;
	uint64_t oa = a->rec ? a->rec->wait_obj : 0, ob = b->rec ? b->rec->wait_obj : 0;
	if (a->npcs == 0 || b->npcs == 0)
		return a->npcs == b->npcs;   /* threads with no stack to show: one group */
	return a->npcs == b->npcs && sa == sb && oa == ob &&
	       memcmp(a->pcs, b->pcs, (size_t)a->npcs * sizeof *a->pcs) == 0;
}

/* Number groups in order of first appearance; returns the number of groups. */
static int group(struct st_ctx *c)
{
	int groups = 0;
	size_t i, j;
	for (i = 0; i < c->n; i++)
		c->t[i].group = -1;
	for (i = 0; i < c->n; i++) {
		if (c->t[i].group >= 0)
			continue;
		c->t[i].group = groups;
		for (j = i + 1; j < c->n && !c->o.all; j++)
			if (c->t[j].group < 0 && same_group(&c->t[i], &c->t[j]))
				c->t[j].group = groups;
		groups++;
	}
	return groups;
}

/* --- annotation --------------------------------------------------------------------------- */

static const char *thread_name(const struct st_ctx *c, pid_t tid)
{
	const struct track_thread_rec *r = rec_of(c, tid);
	return r ? r->name : "";
}

/* "[blocked 2.3 s on mutex 0x.. (first used at f (x.c:8)) held by thread 12 "w"]" */
static void describe_wait(const struct st_ctx *c, const struct track_thread_rec *r, char *buf,
			  size_t len)
{
	const struct track_obj_rec *o = obj_of(c, r->wait_obj_idx);
	char dur[32], where[256], extra[160] = "";
	uint64_t since = c->now_ns > r->since_ns ? c->now_ns - r->since_ns : 0;
	track_fmt_ns(since, dur, sizeof dur);
	if (r->state == TRACK_TS_RUNNING) {
		snprintf(buf, len, "running");
		return;
	}
	if (r->state == TRACK_TS_JOIN) {
		snprintf(buf, len, "joining thread %d \"%.*s\" for %s", r->wait_tid, TRACK_NAME_MAX,
			 thread_name(c, r->wait_tid), dur);
		return;
	}
	if (o != NULL && o->owner_tid != 0)
		snprintf(extra, sizeof extra, " held by thread %d \"%.*s\"", o->owner_tid,
			 TRACK_NAME_MAX, thread_name(c, o->owner_tid));
	else if (o != NULL && o->readers != 0)
		snprintf(extra, sizeof extra, " held by %u reader(s)", o->readers);
	else if (o != NULL && o->waiters > 1)
		snprintf(extra, sizeof extra, " (%u waiters)", o->waiters);
	snprintf(buf, len, "%s 0x%llx for %s (first used at %s)%s", track_state_verb(r->state),
		 (unsigned long long)r->wait_obj, dur,
		 o ? track_fmt_pc(c->sym, o->first_pc, 1, where, sizeof where) : "?", extra);
}

static void print_held(FILE *out, const struct st_ctx *c, const struct track_thread_rec *r)
{
	uint32_t i, n = r->nheld < TRACK_HELD_MAX ? r->nheld : TRACK_HELD_MAX;
	char where[256];
	for (i = 0; i < n; i++) {
		const struct track_obj_rec *o = obj_of(c, r->held[i] & ~TRACK_HELD_READ);
		if (o == NULL)
			continue;
		fprintf(out, "    holds %s 0x%llx%s (first used at %s)\n", track_kind_name(o->kind),
			(unsigned long long)o->addr, r->held[i] & TRACK_HELD_READ ? " for reading" : "",
			track_fmt_pc(c->sym, o->first_pc, 1, where, sizeof where));
	}
	if (r->nheld > TRACK_HELD_MAX)
		fprintf(out, "    ... and %u more locks\n", r->nheld - TRACK_HELD_MAX);
}

/* --- text output -------------------------------------------------------------------------- */

static void print_frames(FILE *out, const struct st_ctx *c, const struct st_thread *t)
{
	struct track_frame f[8];
	char buf[512];
	int i, k, n;
	for (i = 0; i < t->npcs; i++) {
		n = track_sym_lookup(c->sym, t->pcs[i], !(t->first_is_pc && i == 0), f, 8);
		for (k = 0; k < n; k++)
			fprintf(out, "  %s%s\n", track_sym_format(&f[k], buf, sizeof buf),
				f[k].inlined ? " [inlined]" : "");
	}
	if (t->error == E2BIG)
		fprintf(out, "  ... (more frames: --max-frames)\n");
	else if (t->error == EIO)
		fprintf(out, "  ... (unwinding stopped here)\n");
}

static void print_thread_line(FILE *out, const struct st_ctx *c, const struct st_thread *t)
{
	char what[768];
	fprintf(out, "thread %d \"%s\"", t->tid, t->name);
	if (t->rec != NULL) {
		describe_wait(c, t->rec, what, sizeof what);
		fprintf(out, ": [%s]", what);
	} else if (t->error == ESRCH) {
		fprintf(out, ": [exited while being read]");
	} else if (t->error == ETIMEDOUT) {
		fprintf(out, ": [in uninterruptible sleep: not stopped]");
	}
	fputc('\n', out);
	if (t->rec != NULL) {
		char where[256];
		print_held(out, c, t->rec);
		if (t->rec->create_pc)
			fprintf(out, "    created by thread %d at %s\n", t->rec->creator_tid,
				track_fmt_pc(c->sym, t->rec->create_pc, 1, where, sizeof where));
	}
}

static size_t stopped_count(const struct st_ctx *c)
{
	size_t i, n = 0;
	for (i = 0; i < c->rs.nthreads; i++)
		n += c->rs.threads[i].stopped_ns > 0;
	return n;
}

static void print_text(FILE *out, struct st_ctx *c, int groups)
{
	char cmd[256], a[32], b[32];
	int g;
	size_t i;
	fprintf(out, "track stacks: pid %d", (int)c->pid);
	if (c->have_snap)
		fprintf(out, " (%s)", track_cmdline(&c->snap.hdr, cmd, sizeof cmd));
	fprintf(out, ": %zu threads, %d group%s\n", c->n, groups, groups == 1 ? "" : "s");
	if (c->o.no_stop)
		fprintf(out, "nothing was stopped (--no-stop): stacks recorded by the shim when each "
			     "thread began to wait\n");
	else if (stopped_count(c) == 0)
		fprintf(out, "no thread was stopped: each was read where it sleeps\n");
	else
		fprintf(out, "%zu of %zu threads were stopped, one at a time, each for at most %s; "
			     "%s from the first stop to the last resume\n",
			stopped_count(c), c->rs.nthreads,
			track_fmt_ns(c->rs.max_stopped_ns, a, sizeof a),
			track_fmt_ns(c->rs.total_stopped_ns, b, sizeof b));
	if (!c->have_snap)
		fprintf(out, "no track segment: stacks only (run it under track for what each "
			     "thread waits on)\n");
	for (g = 0; g < groups; g++) {
		const struct st_thread *first = NULL;
		size_t count = 0;
		for (i = 0; i < c->n; i++)
			if (c->t[i].group == g) {
				count++;
				if (first == NULL)
					first = &c->t[i];
			}
		if (first->npcs == 0)
			continue;   /* listed at the end */
		fputc('\n', out);
		if (count > 1)
			fprintf(out, "%zu threads with this stack:\n", count);
		for (i = 0; i < c->n; i++)
			if (c->t[i].group == g)
				print_thread_line(out, c, &c->t[i]);
		print_frames(out, c, first);
	}
	if (c->no_stack > 0) {
		fprintf(out, "\n%d thread%s with no %s stack:\n", c->no_stack,
			c->no_stack == 1 ? "" : "s", c->o.no_stop ? "recorded" : "readable");
		for (i = 0; i < c->n; i++)
			if (c->t[i].npcs == 0)
				print_thread_line(out, c, &c->t[i]);
	}
}

/* --- JSON output -------------------------------------------------------------------------- */

static json_t *thread_json(const struct st_ctx *c, const struct st_thread *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "tid", json_integer(t->tid));
	json_object_set_new(o, "name", track_json_text(t->name, strlen(t->name)));
	if (t->rec != NULL) {
		char what[768];
		json_object_set_new(o, "state", json_string(track_state_name(t->rec->state)));
		describe_wait(c, t->rec, what, sizeof what);
		json_object_set_new(o, "doing", json_string(what));
		if (t->rec->state != TRACK_TS_RUNNING) {
			char hex[32];
			snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)t->rec->wait_obj);
			json_object_set_new(o, "waiting_on", json_string(hex));
			json_object_set_new(o, "waiting_ns",
					    json_integer((json_int_t)(c->now_ns > t->rec->since_ns
								      ? c->now_ns - t->rec->since_ns
								      : 0)));
		}
		json_object_set_new(o, "creator_tid", json_integer(t->rec->creator_tid));
		json_object_set_new(o, "created_at",
				    track_json_location(c->sym, t->rec->create_pc, 1));
	}
	if (t->error)
		json_object_set_new(o, "error", json_string(strerror(t->error)));
	if (!c->o.no_stop && (size_t)(t - c->t) < c->rs.nthreads)
		json_object_set_new(o, "stopped_ns",
				    json_integer((json_int_t)c->rs.threads[t - c->t].stopped_ns));
	return o;
}

static void print_json(struct st_ctx *c, int groups)
{
	json_t *root = json_object(), *ga = json_array();
	int g;
	size_t i;
	json_object_set_new(root, "pid", json_integer(c->pid));
	json_object_set_new(root, "threads", json_integer((json_int_t)c->n));
	json_object_set_new(root, "shim", json_boolean(c->have_snap));
	json_object_set_new(root, "stopped", json_boolean(!c->o.no_stop));
	if (!c->o.no_stop) {
		json_object_set_new(root, "threads_stopped",
				    json_integer((json_int_t)stopped_count(c)));
		json_object_set_new(root, "max_thread_stop_ns",
				    json_integer((json_int_t)c->rs.max_stopped_ns));
		json_object_set_new(root, "first_stop_to_last_resume_ns",
				    json_integer((json_int_t)c->rs.total_stopped_ns));
		json_object_set_new(root, "wall_ns", json_integer((json_int_t)c->rs.wall_ns));
	}
	for (g = 0; g < groups; g++) {
		json_t *grp = json_object(), *ts = json_array(), *frames = json_array();
		const struct st_thread *first = NULL;
		for (i = 0; i < c->n; i++)
			if (c->t[i].group == g) {
				if (first == NULL)
					first = &c->t[i];
				json_array_append_new(ts, thread_json(c, &c->t[i]));
			}
		for (i = 0; i < (size_t)first->npcs; i++)
			json_array_append_new(frames,
					      track_json_location(c->sym, first->pcs[i],
								  !(first->first_is_pc && i == 0)));
		json_object_set_new(grp, "count", json_integer((json_int_t)json_array_size(ts)));
		json_object_set_new(grp, "frames", frames);
		json_object_set_new(grp, "threads", ts);
		json_array_append_new(ga, grp);
	}
	json_object_set_new(root, "groups", ga);
	json_dumpf(root, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(root);
}

/* --- entry point -------------------------------------------------------------------------- */

static void load_segment(struct st_ctx *c)
{
	char path[512], err[512];
	struct timespec ts;
	if (track_seg_find_pid(c->pid, path, sizeof path, err, sizeof err) == TRACK_EXIT_OK &&
	    track_snap_load(path, &c->snap, err, sizeof err) == TRACK_EXIT_OK && c->snap.alive)
		c->have_snap = 1;
	else if (c->snap.threads != NULL)
		track_snap_free(&c->snap);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int track_cmd_stacks(int argc, char **argv)
{
	struct st_ctx c;
	int rc, groups;
	memset(&c, 0, sizeof c);
	rc = parse(argc, argv, &c.o, &c.pid);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (kill(c.pid, 0) != 0 && errno == ESRCH) {
		track_error("no process %d", (int)c.pid);
		return TRACK_EXIT_NOENT;
	}
	load_segment(&c);
	rc = c.o.no_stop ? gather_recorded(&c) : gather_remote(&c);
	if (rc == 0) {
		c.sym = c.have_snap && c.o.no_stop ? track_sym_new(c.snap.mods, c.snap.nmods)
						   : track_sym_new_pid(c.pid);
		if (!c.o.no_stop && c.sym != NULL)
			hide_shim_frames(&c);
		groups = group(&c);
		if (c.o.json)
			print_json(&c, groups);
		else
			print_text(stdout, &c, groups);
		if (c.sym)
			track_sym_free(c.sym);
	}
	free(c.t);
	track_rstacks_free(&c.rs);
	if (c.have_snap)
		track_snap_free(&c.snap);
	return rc;
}

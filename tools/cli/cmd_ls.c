/*
 * cmd_ls.c — the segments' lifecycle from the command line: `track ls` lists the segments of
 * traced processes, running and ended; `track clean` removes those whose process has ended
 * (all, or those that ended long enough ago); and the sweep that track ls, track run and
 * track report make of segments whose process ended more than TRACK_SWEEP_AFTER ago.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/seglist.h"
#include "render/listing.h"

#define SWEEP_DEFAULT "3d"   /* a crash on Friday evening is still there on Monday morning */

/* Options with no short form. */
enum {
	OPT_SORT = TRACK_LONG_ONLY(0),
	OPT_JSON,
	OPT_OLDER_THAN,
};

static const struct track_opt ls_opts[] = {
	{OPT_SORT, "sort", "KEY",
	 "order by pid (the default), or largest first by age,\n"
	 "threads, objects, findings or size"},
	{OPT_JSON, "json", NULL, "print a JSON array instead (README: track ls --json)"},
	{0},
};

static const struct track_subcmd ls_cmd = {
	"ls", "[--sort KEY] [--json]",
	"List the segments of traced processes (yours).  STATE is running, exec'd (the\n"
	"process runs a later image now), ended or unreadable.  AGE is how long ago it\n"
	"started (running) or ended; \">3h\": it ended 3 hours ago or earlier (its end\n"
	"was not recorded, as when it is killed); \"?\": not known.  THREADS and\n"
	"OBJECTS are the threads and the synchronisation objects (locks, condvars,\n"
	"semaphores, barriers) alive, at exit for an ended process; FINDINGS those the\n"
	"shim recorded (before suppressions); SIZE the memory the segment takes.\n"
	"Segments of processes that ended more than TRACK_SWEEP_AFTER ago (default " SWEEP_DEFAULT ")\n"
	"are removed first.",
	ls_opts, "exit status: 0 listed (also when there are none); 2 bad usage.", 0,
};

static const struct track_opt clean_opts[] = {
	{'n', "dry-run", NULL, "list what would be removed, remove nothing"},
	{OPT_OLDER_THAN, "older-than", "DURATION",
	 "only segments of processes that ended at least\n"
	 "DURATION ago (30s, 10m, 2h, 7d); not those whose\n"
	 "end is unknown, nor unreadable ones"},
	{0},
};

static const struct track_subcmd clean_cmd = {
	"clean", "[-n|--dry-run] [--older-than DURATION]",
	"Remove the segments (yours) left by processes that have ended.  A segment whose\n"
	"process runs, or that a track command is reading, is never removed.",
	clean_opts, "exit status: 0 done (also when there was nothing to remove); 2 bad usage.",
	0,
};

struct lsopts {
	enum track_seg_sort sort;
	int json;
	int dry_run;
	uint64_t older;       /* clean --older-than, in ns */
	int older_set;
};

/* One option of ls or clean into o; 0, or TRACK_EXIT_USAGE (said). */
static int take_opt(struct lsopts *o, int key)
{
	int i;
	switch (key) {
	case 'n': o->dry_run = 1; return 0;
	case OPT_JSON: o->json = 1; return 0;
	case OPT_OLDER_THAN:
		o->older_set = 1;
		return track_opt_duration("--older-than", optarg, &o->older) == 0 ? 0
										   : TRACK_EXIT_USAGE;
	case OPT_SORT:
		if (track_opt_choice("--sort", optarg, track_seg_sort_names) != 0)
			return TRACK_EXIT_USAGE;
		for (i = 0; strcmp(track_seg_sort_names[i], optarg) != 0; i++)
			;
		o->sort = (enum track_seg_sort)i;
		return 0;
	}
	return TRACK_EXIT_USAGE;
}

/* Options of ls and clean: -1 to go on, else the exit status. */
static int parse(const struct track_subcmd *c, int argc, char **argv, struct lsopts *o)
{
	int key, rc;
	memset(o, 0, sizeof *o);
	while ((key = track_opt_next(c, argc, argv)) != TRACK_OPT_END) {
		if (key == TRACK_OPT_HELP)
			return 0;
		if ((rc = take_opt(o, key)) != 0)
			return rc;
	}
	if (optind < argc) {
		track_error("unexpected argument '%s'; try 'track %s --help'", argv[optind],
			    c->name);
		return TRACK_EXIT_USAGE;
	}
	return -1;
}

size_t track_sweep_old(const char *except, uint64_t *bytes, const char **after)
{
	const char *v = getenv("TRACK_SWEEP_AFTER");
	uint64_t older, freed = 0;
	size_t n;
	if (v == NULL || *v == '\0')
		v = SWEEP_DEFAULT;
	if (after != NULL)
		*after = v;
	if (strcmp(v, "off") == 0)
		return 0;
	if (track_parse_duration(v, &older) != 0) {
		track_error("TRACK_SWEEP_AFTER='%s' is not a duration such as 30s, 10m, 2h or 7d, "
			    "or off: no old segment was removed; set it right", v);
		return 0;
	}
	n = track_seg_sweep(older, except, &freed);
	if (bytes != NULL)
		*bytes = freed;
	return n;
}

/* The segments into l; -1 (said, l freed) if memory ran out. */
static int list(struct track_seg_list *l, uint64_t now)
{
	if (track_seg_list(l, now) == 0)
		return 0;
	track_seg_list_free(l);
	track_error("out of memory listing the segments");
	return -1;
}

int track_cmd_ls(int argc, char **argv)
{
	struct track_seg_list l;
	struct lsopts o;
	const char *after = NULL;
	uint64_t now, freed = 0;
	size_t swept;
	int rc = parse(&ls_cmd, argc, argv, &o);
	if (rc >= 0)
		return rc;
	swept = track_sweep_old(NULL, &freed, &after);
	now = track_realtime_ns();
	if (list(&l, now) != 0)
		return TRACK_EXIT_FAIL;
	track_seg_list_sort(&l, o.sort, now);
	track_listing_write(stdout, &l, now, o.json);
	track_seg_list_free(&l);
	if (swept > 0)
		track_error("removed %zu segment%s (%llu KB) of processes that ended more than %s "
			    "ago (TRACK_SWEEP_AFTER)", swept, swept == 1 ? "" : "s",
			    (unsigned long long)(freed / 1024), after);
	return track_flush(stdout, "standard output") == 0 ? 0 : TRACK_EXIT_FAIL;
}

/* Whether clean takes e: an ended process's segment (that ended long enough ago, with
 * --older-than), or an unreadable file named like a segment of a process that is gone. */
static int cleanable(const struct track_seg_entry *e, const struct lsopts *o, uint64_t now)
{
	struct track_seg_age a;
	if (e->state == TRACK_SEG_UNREADABLE)
		return !o->older_set && !track_proc_alive(e->pid, 0);
	if (e->state != TRACK_SEG_ENDED)
		return 0;
	track_seg_age(e, now, &a);
	return !o->older_set || (a.known && a.ns >= o->older);
}

int track_cmd_clean(int argc, char **argv)
{
	struct track_seg_list l;
	struct lsopts o;
	uint64_t now = track_realtime_ns();
	size_t i, n = 0;
	int rc = parse(&clean_cmd, argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (list(&l, now) != 0)
		return TRACK_EXIT_FAIL;
	for (i = 0; i < l.n; i++) {
		const struct track_seg_entry *e = &l.v[i];
		enum track_remove_result r;
		if (!cleanable(e, &o, now))
			continue;
		n++;
		if (o.dry_run) {
			printf("would remove %s\n", e->path);
		} else if ((r = track_seg_remove(e->path, e->pid)) == TRACK_REMOVE_REMOVED) {
			printf("removed %s\n", e->path);
		} else {
			printf("kept %s: %s\n", e->path, track_remove_words[r]);
		}
	}
	track_seg_list_free(&l);
	if (n == 0)
		printf("nothing to remove\n");
	return track_flush(stdout, "standard output") == 0 ? 0 : TRACK_EXIT_FAIL;
}

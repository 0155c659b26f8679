/*
 * cmd_top.c — `track top [PID|SEGMENT]`: the live dashboard of a traced process.  Picks the
 * process (named, or chosen among the user's running traced processes), then hands it to
 * the curses screen (tools/top/) or, with --batch, prints frames of the same model as text
 * or JSON (render/topframe.c), like `top -b`.  Reading costs the target nothing: each
 * refresh reloads its segment; only the screen's `s` key stops threads (track stacks).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/seglist.h"
#include "core/top_model.h"
#include "render/topframe.h"
#include "top/top.h"

#define DELAY_MIN 0.1
#define DELAY_MAX 3600.0

enum {
	OPT_BATCH = TRACK_LONG_ONLY(0),
	OPT_ITERATIONS,
	OPT_DELAY,
	OPT_JSON,
	OPT_SORT,
	OPT_ROWS,
};

static const struct track_opt top_opts[] = {
	{OPT_BATCH, "batch", NULL, "print frames to stdout instead of the screen\n(like top -b)"},
	{OPT_ITERATIONS, "iterations", "N", "--batch: stop after N frames (default: until the\nprocess ends)"},
	{OPT_DELAY, "delay", "SECONDS", "between refreshes: 0.1 to 3600, default 1"},
	{OPT_JSON, "json", NULL, "--batch: each frame one line of JSON"},
	{OPT_SORT, "sort", "KEY", "order locks by wait-rate (the default), acq-rate,\n"
	 "contended, wait-p95, wait-max, hold-p95, waiters"},
	{OPT_ROWS, "rows", "N", "--batch: rows per panel (default 10)"},
	{0},
};

static const struct track_subcmd top_cmd = {
	"top", "[OPTIONS] [PID|SEGMENT]",
	"Watch a traced process live: threads (alive, with a history, created and exited\n"
	"per second, by state), the findings that light up, pools of threads by start\n"
	"routine, locks by wait time per second, queues (registered queues, condvars with\n"
	"waiters, semaphores) and who blocks whom right now.  Rates are computed between\n"
	"refreshes.  Nothing is stopped: the segment is read again each refresh.  Without\n"
	"PID, pick one of your running traced processes (with --batch: the only one).  A\n"
	"SEGMENT file of an ended process replays its last state.\n\n"
	"keys: arrows, PgUp/PgDn, Home/End move; Tab the next panel; F6, > or < the\n"
	"locks' sort column; Enter the selected thread's or lock's recorded stack; s\n"
	"every thread's live stack (stops each briefly, as track stacks); p pause; + and\n"
	"- the refresh interval; / filter; h or F1 help; q quit.  NO_COLOR=1: no colours.",
	top_opts,
	"exit status: 0 quit, or the frames were printed; 1 failure (no terminal, or\n"
	"one curses cannot drive: TERM unset, unknown or dumb; a write error); 2 bad\n"
	"usage (also: several processes to pick from with --batch);\n"
	"3 segment of another layout version; 4 segment of another user; 5 no such\n"
	"process, not traced, or no traced process running.",
	0,
};

/* The sort keys as options name them, in enum track_top_lock_sort order. */
static const char *const sort_keys[] = {"wait-rate", "acq-rate", "contended", "wait-p95",
					"wait-max", "hold-p95", "waiters", NULL};

struct topopts {
	int batch, json, rows_set;
	long iterations, rows;
	double delay;
	enum track_top_lock_sort sort;
};

/* A decimal number of seconds from DELAY_MIN to DELAY_MAX; -1 (said) otherwise. */
static int parse_delay(const char *v, double *out)
{
	char *end;
	/* decimal digits and a point only: strtod would take " 1", "0x1", "1e0" and "inf" */
	double d = v[strspn(v, "0123456789.")] == '\0' ? strtod(v, &end) : -1;
	if (d != -1 && end != v && *end == '\0' && d >= DELAY_MIN && d <= DELAY_MAX) {
		*out = d;
		return 0;
	}
	track_error("--delay needs seconds from 0.1 to 3600 (0.5, 2), not '%s'", v);
	return -1;
}

static int take_opt(struct topopts *o, int key)
{
	int i;
	switch (key) {
	case OPT_BATCH: o->batch = 1; return 0;
	case OPT_JSON: o->json = 1; return 0;
	case OPT_ITERATIONS:
		return track_opt_number("--iterations", optarg, 1, 1000000000, &o->iterations);
	case OPT_ROWS:
		o->rows_set = 1;
		return track_opt_number("--rows", optarg, 1, 100000, &o->rows);
	case OPT_DELAY:
		return parse_delay(optarg, &o->delay);
	case OPT_SORT:
		if (track_opt_choice("--sort", optarg, sort_keys) != 0)
			return -1;
		for (i = 0; strcmp(sort_keys[i], optarg) != 0; i++)
			;
		o->sort = (enum track_top_lock_sort)i;
		return 0;
	}
	return -1;
}

/* Options: -1 to go on (optind at the operands), else the exit status. */
static int parse(int argc, char **argv, struct topopts *o)
{
	int key;
	memset(o, 0, sizeof *o);
	o->delay = 1.0;
	o->rows = 10;
	while ((key = track_opt_next(&top_cmd, argc, argv)) != TRACK_OPT_END) {
		if (key == TRACK_OPT_HELP)
			return 0;
		if (key < 0 || take_opt(o, key) != 0)
			return TRACK_EXIT_USAGE;
	}
	if (argc - optind > 1) {
		track_error("name one PID or segment file; try 'track top --help'");
		return TRACK_EXIT_USAGE;
	}
	if ((o->json || o->iterations) && !o->batch) {
		track_error("--json and --iterations go with --batch; try 'track top --help'");
		return TRACK_EXIT_USAGE;
	}
	if (o->rows_set && !o->batch) {   /* the screen sizes its panels itself */
		track_error("--rows goes with --batch; try 'track top --help'");
		return TRACK_EXIT_USAGE;
	}
	return -1;
}

/* The running traced processes of l: their indexes into idx (at most max); how many. */
static size_t running(const struct track_seg_list *l, size_t *idx, size_t max)
{
	size_t i, n = 0;
	for (i = 0; i < l->n && n < max; i++)
		if (l->v[i].state == TRACK_SEG_RUNNING)
			idx[n++] = i;
	return n;
}

#define PICK_QUIT (-1)   /* the user left the picker: not an error */

/* Which of the n running processes l->v[idx[..]] to watch, into *chosen: the only one
 * (batch), or the user's pick (screen).  The exit status, or PICK_QUIT. */
static int choose(const struct topopts *o, const struct track_seg_list *l, const size_t *idx,
		  size_t n, uint64_t now, long *chosen)
{
	if (n == 0) {
		track_error("no traced process of yours is running; start one with libtrack.so "
			    "preloaded, or name a segment file (track ls lists them)");
		return TRACK_EXIT_NOENT;
	}
	if (o->batch && n > 1) {
		track_error("%zu traced processes are running; name one: track top --batch PID "
			    "(track ls lists them)", n);
		return TRACK_EXIT_USAGE;
	}
	*chosen = o->batch ? (long)idx[0] : track_top_pick(l, idx, n, now);
	return *chosen >= 0 ? TRACK_EXIT_OK : *chosen == -1 ? PICK_QUIT : TRACK_EXIT_FAIL;
}

/* The process to watch when none is named: its segment's path into path; the exit status,
 * or PICK_QUIT. */
static int pick(const struct topopts *o, char *path, size_t len)
{
	struct track_seg_list l;
	size_t idx[512];
	long chosen;
	uint64_t now = track_realtime_ns();
	int rc;
	if (track_seg_list(&l, now) != 0) {
		track_seg_list_free(&l);
		track_error("out of memory listing the segments");
		return TRACK_EXIT_FAIL;
	}
	track_seg_list_sort(&l, TRACK_SORT_PID, now);
	rc = choose(o, &l, idx, running(&l, idx, sizeof idx / sizeof idx[0]), now, &chosen);
	if (rc == TRACK_EXIT_OK)
		snprintf(path, len, "%s", l.v[chosen].path);
	track_seg_list_free(&l);
	return rc;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* --batch: frames to stdout, one each delay, until iterations or the process's end. */
static int batch(struct track_top_session *ss, const struct topopts *o)
{
	struct track_top_opts fo = {(int)o->rows, o->sort};
	char err[512];
	long i;
	int rc;
	for (i = 0; o->iterations == 0 || i < o->iterations; i++) {
		if (i > 0) {
			sleep_s(o->delay);
			if ((rc = track_top_refresh(ss, err, sizeof err)) != TRACK_EXIT_OK) {
				track_error("%s", err);
				return rc;
			}
		}
		track_top_sort_locks(&ss->model, o->sort);
		if (o->json)
			track_top_write_json(stdout, &ss->model, &fo);
		else
			track_top_write_text(stdout, &ss->model, &fo);
		if (!ss->model.alive && !o->json)
			printf("process %d has ended: that was its last state\n", (int)ss->model.pid);
		if (fflush(stdout) != 0 || ferror(stdout))
			return track_flush(stdout, "standard output") == 0 ? 0 : TRACK_EXIT_FAIL;
		if (!ss->model.alive)
			break;
	}
	return track_flush(stdout, "standard output") == 0 ? 0 : TRACK_EXIT_FAIL;
}

int track_cmd_top(int argc, char **argv)
{
	struct track_top_session ss;
	struct topopts o;
	char path[512], err[512];
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (!o.batch && !track_top_terminal_ok())
		return TRACK_EXIT_FAIL;
	rc = optind < argc ? track_resolve_target(argv[optind], path, sizeof path) : pick(&o, path, sizeof path);
	if (rc != TRACK_EXIT_OK)
		return rc == PICK_QUIT ? TRACK_EXIT_OK : rc;
	rc = track_top_open(&ss, path, err, sizeof err);
	if (rc != TRACK_EXIT_OK) {
		track_error("%s", err);
		track_top_close(&ss);
		return rc;
	}
	if (o.batch) {
		rc = batch(&ss, &o);
	} else {
		struct track_top_ui_opts uo = {o.delay, o.sort};
		rc = track_top_ui(&ss, &uo);
	}
	track_top_close(&ss);
	return rc;
}

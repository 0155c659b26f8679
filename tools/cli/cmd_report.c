/*
 * cmd_report.c — `track report PID|SEGMENT`: the report of track run, for a process that
 * runs (live, without stopping it) or for the segment an ended process left behind.  Reading
 * destroys nothing: the segment of an ended process is removed only when --collect asks.
 * Then the segments of processes that ended long ago are swept (cmd_ls.c), but this one.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/leaks.h"
#include "core/seglist.h"

/* Options with no short form. */
enum {
	OPT_JSON = TRACK_LONG_ONLY(0),
	OPT_TOP,
	OPT_KEEP,
	OPT_COLLECT,
	OPT_LEAKS,
	OPT_SUPPRESSIONS,
	OPT_NUM_CALLERS,
	OPT_SORT,
};

static const struct track_opt report_opts_table[] = {
	{OPT_JSON, "json", "FILE",
	 "write the report as JSON to FILE ('-': stdout)\ninstead of text"},
	TRACK_FORMAT_OPTIONS,
	{'o', "output", "FILE", "write the report to FILE (default: stdout)"},
	{OPT_TOP, "top", "N", "list the first N locks (default 10; prometheus: the\n"
	 "N locks with most wait time get series of their own)"},
	{OPT_SORT, "sort", "KEY", "order locks by wait (total wait, the default), hold\n"
	 "(total hold time), contended, acquisitions or name"},
	{OPT_NUM_CALLERS, "num-callers", "N", "frames per stack in the text report (default 12)"},
	{OPT_LEAKS, "leaks", NULL, "of an ended process: report the threads it left\n"
	 "running or unjoined and the locks left held\n(as track run --leaks does)"},
	{OPT_COLLECT, "collect", NULL, "remove the segment of an ended process once\nreported"},
	{OPT_KEEP, "keep", NULL, "keep the segment (the default; for scripts written\nwhen it was not)"},
	{OPT_SUPPRESSIONS, "suppressions", "FILE",
	 "leave out the findings FILE's rules match (default:\n"
	 "$TRACK_SUPPRESSIONS; see README, Suppressions)"},
	{0},
};

static const struct track_subcmd report_cmd = {
	"report", "[OPTIONS] PID|SEGMENT",
	"Report on the threads and locks of a process traced by libtrack: a running one\n"
	"(read live, without stopping it) or one that has ended and left its segment.",
	report_opts_table,
	"exit status: 0 reported; 2 bad usage; 3 segment of another layout version;\n"
	"4 segment of another user; 5 no such process or segment; 1 other failure.",
	0,
};

/* What to write: text to stdout, or JSON to a file, or --format's to --output's. */
struct report_opts {
	const char *json;
	const char *format, *output;   /* --format, --output: NULL for the defaults */
	struct track_render_opts render;
	int collect;
	int leaks;   /* --leaks */
	const struct track_suppressions *supp;
};

/* --collect: remove the reported segment; said when it could not be. */
static void collect_segment(const char *path, pid_t pid)
{
	enum track_remove_result r = track_seg_remove(path, pid);
	if (r != TRACK_REMOVE_REMOVED)
		track_error("kept %s: %s", path, track_remove_words[r]);
}

/* Load the snapshot at path and report it; returns the exit status. */
static int report_segment(const char *path, const struct report_opts *o)
{
	struct track_snap s;
	struct track_view v;
	struct track_dest d;
	char err[512];
	int collect, rc = track_snap_load(path, &s, err, sizeof err);
	if (rc != TRACK_EXIT_OK) {
		track_error("%s", err);
		return rc;
	}
	rc = o->json != NULL ? track_dest_open(&d, "json", o->json, NULL, NULL, &o->render)
			     : track_dest_open(&d, o->format ? o->format : "text", o->output,
					       stdout, "standard output", &o->render);
	if (o->leaks && s.alive)
		track_error("note: process %d is running: --leaks judges a process at its end (for "
			    "a running one: track snapshot, then track leaks)", (int)s.hdr.pid);
	if (o->leaks)
		track_leaks_derive(&s);
	if (rc == 0) {
		track_view_init(&v, &s, o->supp, NULL);
		track_dest_add(&d, &v);
		track_view_fini(&v);
		rc = track_dest_close(&d);
	}
	rc = rc == 0 ? 0 : TRACK_EXIT_FAIL;
	collect = rc == 0 && o->collect && !s.alive;
	track_snap_free(&s);   /* first: a snapshot held is a reader, whose segment stays */
	if (collect)
		collect_segment(path, s.hdr.pid);
	return rc;
}

int track_resolve_target(const char *arg, char *path, size_t len)
{
	char err[512];
	long pid;
	int rc;
	if (arg[0] == '\0') {
		track_error("name one PID or segment file, not an empty string");
		return TRACK_EXIT_USAGE;
	}
	if (arg[strspn(arg, "0123456789")] != '\0') {   /* not all digits: a path */
		if (strlen(arg) >= len) {   /* cut short, it would name another file */
			track_error("a segment's path is shorter than %zu bytes, not '%s'", len, arg);
			return TRACK_EXIT_USAGE;
		}
		snprintf(path, len, "%s", arg);
		return 0;
	}
	if ((pid = track_parse_pid(arg)) < 0)
		return TRACK_EXIT_USAGE;
	rc = track_seg_find_pid((pid_t)pid, path, len, err, sizeof err);
	if (rc != TRACK_EXIT_OK)
		track_error("%s", err);
	return rc;
}

int track_cmd_report(int argc, char **argv)
{
	struct report_opts o = {NULL, NULL, NULL, {10, TRACK_RENDER_FRAMES, "report", 0, 0, TRACK_LS_WAIT},
				0, 0, NULL};
	struct track_suppressions *supp = NULL;
	const char *supp_path = NULL;
	char path[512], err[512];
	int key, rc;
	long v;
	while ((key = track_opt_next(&report_cmd, argc, argv)) != TRACK_OPT_END) {
		switch (key) {
		case TRACK_OPT_HELP:
			return 0;
		case OPT_JSON:
			o.json = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case TRACK_OPT_FORMAT:
		case TRACK_OPT_VIEW:
		case TRACK_OPT_VALUE:
			if (track_format_opt(key, optarg, &o.format, &o.render) < 0)
				return TRACK_EXIT_USAGE;
			break;
		case OPT_TOP:
			if (track_opt_number("--top", optarg, 0, 1000000, &v) != 0)
				return TRACK_EXIT_USAGE;
			o.render.top = (int)v;
			break;
		case OPT_SORT:
			if (track_opt_choice("--sort", optarg, track_lock_sort_names) != 0)
				return TRACK_EXIT_USAGE;
			o.render.sort = track_lock_sort_of(optarg);
			break;
		case OPT_NUM_CALLERS:
			if (track_opt_number("--num-callers", optarg, 1, TRACK_STACK_DEPTH + 2, &v) != 0)
				return TRACK_EXIT_USAGE;
			o.render.frames = (int)v;
			break;
		case OPT_KEEP:
			o.collect = 0;
			break;
		case OPT_COLLECT:
			o.collect = 1;
			break;
		case OPT_LEAKS:
			o.leaks = 1;
			break;
		case OPT_SUPPRESSIONS:
			supp_path = optarg;
			break;
		default:
			return TRACK_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		track_error("name one PID or segment file; try 'track report --help'");
		return TRACK_EXIT_USAGE;
	}
	if (o.format != NULL && strcmp(o.format, "pprof") == 0 && o.output == NULL) {
		track_error("--format pprof writes a binary file: name it with --output FILE (or "
			    "--output - for a pipe)");
		return TRACK_EXIT_USAGE;
	}
	if (o.json != NULL && (o.output != NULL || (o.format && strcmp(o.format, "json") != 0))) {
		track_error("--json FILE is --format json --output FILE: give one or the other");
		return TRACK_EXIT_USAGE;
	}
	if (track_supp_open(supp_path, track_finding_kind, &supp, err, sizeof err) != 0) {
		track_error("%s", err);
		return TRACK_EXIT_USAGE;
	}
	o.supp = supp;
	rc = track_resolve_target(argv[optind], path, sizeof path);
	if (rc == 0)
		rc = report_segment(path, &o);
	if (rc == 0)
		track_sweep_old(path, NULL, NULL);
	track_supp_free(supp);
	return rc;
}

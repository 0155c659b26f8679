/*
 * cmd_report.c — `track report PID|SEGMENT`: the report of track run, for a process that
 * runs (live, without stopping it) or for the segment an ended process left behind.  A
 * segment of an ended process is collected (removed) once reported, unless --keep.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: track report [OPTIONS] PID|SEGMENT\n\n"
		"Report on the threads and locks of a process traced by libtrack: a running one\n"
		"(read live, without stopping it) or one that has ended and left its segment.\n\n"
		"options:\n"
		"      --json FILE   write the report as JSON to FILE ('-': stdout) instead of text\n"
		"      --top N       list the N most contended locks (default 10)\n"
		"      --keep        keep the segment of an ended process (default: remove it)\n"
		"      --suppressions FILE\n"
		"                    leave out the findings FILE's rules match (default:\n"
		"                    $TRACK_SUPPRESSIONS; see README, Suppressions)\n"
		"  -h, --help        show this help\n\n"
		"exit status: 0 reported; 2 bad usage; 3 segment of another layout version;\n"
		"4 segment of another user; 5 no such process or segment; 1 other failure.\n");
}

/* Load the snapshot at path and render it as r says; returns the exit status. */
static int report_segment(const char *path, int keep, struct track_render *r)
{
	struct track_snap s;
	char err[512];
	int rc = track_snap_load(path, &s, err, sizeof err);
	if (rc != TRACK_EXIT_OK) {
		track_error("%s", err);
		return rc;
	}
	track_render_one(r, &s, NULL);
	rc = track_render_end(r) == 0 ? 0 : TRACK_EXIT_FAIL;
	if (r->out != NULL && track_close_report(r->out, "standard output") != 0)
		rc = TRACK_EXIT_FAIL;
	if (rc == 0 && !keep && !s.alive)
		unlink(path);
	track_snap_free(&s);
	return rc;
}

/* A PID (all digits) or a path to a segment file. */
static int resolve_target(const char *arg, char *path, size_t len)
{
	char err[512];
	long pid = track_parse_count(arg, INT32_MAX);
	int rc;
	if (pid < 0) {
		snprintf(path, len, "%s", arg);
		return 0;
	}
	rc = track_seg_find_pid((pid_t)pid, path, len, err, sizeof err);
	if (rc != TRACK_EXIT_OK)
		track_error("%s", err);
	return rc;
}

int track_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", required_argument, NULL, 'j'},
		{"top", required_argument, NULL, 't'},
		{"keep", no_argument, NULL, 'k'},
		{"suppressions", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct track_render r = {stdout, NULL, 10, NULL, 0, NULL, NULL};
	struct track_suppressions *supp = NULL;
	const char *supp_path = NULL;
	char path[512], err[512];
	int c, keep = 0, rc;
	long v;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			r.json_path = optarg;
			r.out = NULL;
			break;
		case 't':
			if ((v = track_parse_count(optarg, 1000000)) < 0) {
				track_error("--top needs a non-negative number, not '%s'", optarg);
				return TRACK_EXIT_USAGE;
			}
			r.top = (int)v;
			break;
		case 'k':
			keep = 1;
			break;
		case 'S':
			supp_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			track_opt_error("report", longopts, c, argv);
			return TRACK_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		track_error("name one PID or segment file; try 'track report --help'");
		return TRACK_EXIT_USAGE;
	}
	if (track_supp_open(supp_path, track_finding_kind, &supp, err, sizeof err) != 0) {
		track_error("%s", err);
		return TRACK_EXIT_USAGE;
	}
	r.supp = supp;
	rc = resolve_target(argv[optind], path, sizeof path);
	if (rc == 0)
		rc = report_segment(path, keep, &r);
	track_supp_free(supp);
	return rc;
}

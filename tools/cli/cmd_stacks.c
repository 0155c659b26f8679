/*
 * cmd_stacks.c — `track stacks PID`: every thread's stack of a live process, grouped like a
 * Go goroutine dump, annotated with what the shim knows when the process runs under it
 * (core/stackdump.c takes the dump, render/dump.c prints it).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <string.h>

#include "render/dump.h"
#include "cli/cli.h"
#include "cli/options.h"

struct st_opts {
	int json, all, no_stop, max_frames;
};

/* Options with no short form. */
enum {
	OPT_JSON = TRACK_LONG_ONLY(0),
	OPT_ALL,
	OPT_NO_STOP,
	OPT_MAX_FRAMES,
};

static const struct track_opt stacks_opts_table[] = {
	{OPT_JSON, "json", NULL, "print JSON instead of text"},
	{OPT_ALL, "all", NULL, "one entry per thread: no grouping"},
	{OPT_NO_STOP, "no-stop", NULL, "stop nothing: show only the stacks the shim\n"
	 "recorded for blocked threads (needs the shim)"},
	{OPT_MAX_FRAMES, "max-frames", "N", "frames per stack (default 64)"},
	{0},
};

static const struct track_subcmd stacks_cmd = {
	"stacks", "[OPTIONS] PID",
	"Print the stack of every thread of a running process, identical stacks grouped\n"
	"with a count.  Under the shim, each thread is annotated with what it waits on,\n"
	"for how long, who holds that lock, the locks it holds and where it was created.\n"
	"Each thread is stopped on its own, briefly (the times are printed); the process\n"
	"as a whole never is.  Works on any process you may ptrace, shim or not.",
	stacks_opts_table,
	"exit status: 0 printed; 2 bad usage; 4 not allowed to trace it (the message says\n"
	"why); 5 no such process (or no segment, for --no-stop); 1 other failure.",
	0,
};

/* 0 ok; -1 help printed; else an exit status (said). */
static int parse(int argc, char **argv, struct st_opts *o, pid_t *pid)
{
	int key;
	long v;
	o->max_frames = 64;
	while ((key = track_opt_next(&stacks_cmd, argc, argv)) != TRACK_OPT_END) {
		switch (key) {
		case TRACK_OPT_HELP: return -1;
		case OPT_JSON: o->json = 1; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_NO_STOP: o->no_stop = 1; break;
		case OPT_MAX_FRAMES:
			if (track_opt_number("--max-frames", optarg, 1, 4096, &v) != 0)
				return TRACK_EXIT_USAGE;
			o->max_frames = (int)v;
			break;
		default:
			return TRACK_EXIT_USAGE;
		}
	}
	return track_opt_pid(&stacks_cmd, argc, argv, pid) == 0 ? 0 : TRACK_EXIT_USAGE;
}

int track_cmd_stacks(int argc, char **argv)
{
	struct st_opts o;
	struct track_stackdump d;
	char err[512];
	pid_t pid;
	int rc;
	memset(&o, 0, sizeof o);
	rc = parse(argc, argv, &o, &pid);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = track_stackdump_take(&d, pid, o.no_stop, o.max_frames, o.all, err, sizeof err);
	if (rc != TRACK_EXIT_OK)
		track_error("%s", err);
	else
		track_dump_write(stdout, &d, o.json);
	track_stackdump_free(&d);
	if (rc == TRACK_EXIT_OK && track_flush(stdout, "standard output") != 0)
		rc = TRACK_EXIT_FAIL;
	return rc;
}

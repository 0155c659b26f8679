/*
 * main.c — the track command: dispatch to a subcommand, or print help and version.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "core/segread.h"
#include "cli/cli.h"

#ifndef TRACK_VERSION
#define TRACK_VERSION "0.0.0"
#endif

struct subcommand {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct subcommand commands[] = {
	{"run", track_cmd_run, "run a program under the shim and report on its threads and locks"},
	{"stacks", track_cmd_stacks, "print every thread's stack of a live process, grouped"},
	{"report", track_cmd_report, "report on a process from its segment (live or exited)"},
	{"ls", track_cmd_ls, "list the segments of traced processes"},
	{"clean", track_cmd_clean, "remove segments left by processes that have ended"},
};

static void usage(FILE *out)
{
	size_t i;
	fprintf(out, "usage: track [--help] [--version] COMMAND [ARGS]\n\n"
		     "track finds what happens to the threads and locks of any pthreads program.\n\n"
		     "commands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'track COMMAND --help' describes a command.  Exit statuses: see "
		     "'track run --help'.\n");
}

int main(int argc, char **argv)
{
	size_t i;
	if (argc < 2) {
		usage(stderr);
		return TRACK_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("track %s (segment layout %u)\n", TRACK_VERSION, TRACK_SEGMENT_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	track_error("unknown command '%s'; try 'track --help'", argv[1]);
	return TRACK_EXIT_USAGE;
}

/*
 * main.c — the track command: dispatch to a subcommand, or print help and version.
 */
#define _GNU_SOURCE
#include <signal.h>
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
	{"snapshot", track_cmd_snapshot, "record a live process's threads (and descriptors)"},
	{"leaks", track_cmd_leaks, "threads (descriptors) started since a snapshot, still alive"},
	{"exporter", track_cmd_exporter, "serve Prometheus metrics of every traced process (HTTP)"},
	{"top", track_cmd_top, "watch a traced process live: threads, pools, locks, queues"},
};

static void usage(FILE *out)
{
	size_t i;
	fprintf(out, "usage: track [--help] [--version] COMMAND [ARGS]\n\n"
		     "track finds what happens to the threads and locks of any pthreads program.\n\n"
		     "commands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'track help COMMAND' (or 'track COMMAND --help') describes a command.  "
		     "Exit statuses: see\n'track help run'.\n");
}

static const struct subcommand *find(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* Anything after what takes no more: said, TRACK_EXIT_USAGE; else 0. */
static int no_more(int argc, char **argv, int used)
{
	if (argc <= used)
		return 0;
	track_error("unexpected argument '%s'; try 'track --help'", argv[used]);
	return TRACK_EXIT_USAGE;
}

/* `track help [COMMAND]`: the command's own --help, or the list of commands. */
static int help(int argc, char **argv)
{
	const struct subcommand *c;
	char *args[] = {NULL, "--help", NULL};
	if (no_more(argc, argv, 3) != 0)
		return TRACK_EXIT_USAGE;
	if (argc < 3 || strcmp(argv[2], "help") == 0) {
		usage(stdout);
		return 0;
	}
	c = find(argv[2]);
	if (c == NULL) {
		track_error("no command '%s'; the commands are listed by 'track help'", argv[2]);
		return TRACK_EXIT_USAGE;
	}
	args[0] = argv[2];
	return c->fn(2, args);
}

struct sigaction track_sigpipe_inherited, track_sigxfsz_inherited;

int main(int argc, char **argv)
{
	const struct subcommand *c;
	struct sigaction ign = {0};
	/* A report written into a closed pipe (track report | head), or past the file size
	 * limit (ulimit -f), is a write error, said and answered with status 1, the segments
	 * kept and no part of a report left: not a death that loses them. */
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &track_sigpipe_inherited);
	sigaction(SIGXFSZ, &ign, &track_sigxfsz_inherited);
	if (argc < 2) {
		usage(stderr);
		return TRACK_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0)
		return help(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (no_more(argc, argv, 2) != 0)
			return TRACK_EXIT_USAGE;
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		if (no_more(argc, argv, 2) != 0)
			return TRACK_EXIT_USAGE;
		printf("track %s (segment layout %u)\n", TRACK_VERSION, TRACK_SEGMENT_VERSION);
		return 0;
	}
	c = find(argv[1]);
	if (c != NULL)
		return c->fn(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		track_error("unknown option '%s'; try 'track --help'", argv[1]);
	else
		track_error("unknown command '%s'; try 'track --help'", argv[1]);
	return TRACK_EXIT_USAGE;
}

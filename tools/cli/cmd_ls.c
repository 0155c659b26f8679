/*
 * cmd_ls.c — `track ls` lists the segments of traced processes, running and ended;
 * `track clean` removes those whose process has ended.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"

static const struct track_opt no_opts[] = {{0}};

static const struct track_subcmd ls_cmd = {
	"ls", "",
	"List the segments of traced processes (yours), running and ended.\n"
	"THREADS is the number alive (at exit, for an ended process).",
	no_opts, "exit status: 0 listed (also when there are none); 2 bad usage.", 0,
};

static const struct track_opt clean_opts[] = {
	{'n', "dry-run", NULL, "list what would be removed, remove nothing"},
	{0},
};

static const struct track_subcmd clean_cmd = {
	"clean", "[-n|--dry-run]",
	"Remove the segments (yours) left by processes that have ended.",
	clean_opts, "exit status: 0 done (also when there was nothing to remove); 2 bad usage.",
	0,
};

/* Options of ls and clean: -1 to go on, else the exit status. */
static int parse(const struct track_subcmd *c, int argc, char **argv, int *dry_run)
{
	int key;
	while ((key = track_opt_next(c, argc, argv)) != TRACK_OPT_END) {
		if (key == TRACK_OPT_HELP)
			return 0;
		if (key != 'n')
			return TRACK_EXIT_USAGE;
		*dry_run = 1;
	}
	if (optind < argc) {
		track_error("unexpected argument '%s'; try 'track %s --help'", argv[optind],
			    c->name);
		return TRACK_EXIT_USAGE;
	}
	return -1;
}

struct ls_ctx {
	int rows;
	int dry_run;
	int removed;
};

/* One line a segment, from its header alone: listing a hundred segments reads a hundred
 * pages, not a hundred tables. */
static void ls_visit(const char *path, pid_t pid, unsigned gen, void *vctx)
{
	struct ls_ctx *c = vctx;
	struct track_seg_header h;
	char err[512], cmd[256];
	uint64_t findings;
	if (!c->rows++)
		printf("%-8s %-4s %-8s %8s %8s %8s  %s\n", "PID", "GEN", "STATE", "THREADS",
		       "LOCKS", "FINDINGS", "COMMAND");
	if (track_seg_header(path, &h, err, sizeof err) != TRACK_EXIT_OK) {
		printf("%-8d %-4u %-8s %8s %8s %8s  (%s)\n", (int)pid, gen, "?", "-", "-", "-", err);
		return;
	}
	findings = h.findings_used < h.max_findings ? h.findings_used : h.max_findings;
	printf("%-8d %-4u %-8s %8llu %8llu %8llu  %s\n", h.pid, h.exec_gen,
	       track_proc_alive(h.pid, h.proc_starttime) ? "running" : "ended",
	       (unsigned long long)h.threads_alive, (unsigned long long)h.objects_live,
	       (unsigned long long)findings, track_cmdline(&h, cmd, sizeof cmd));
}

int track_cmd_ls(int argc, char **argv)
{
	struct ls_ctx c = {0, 0, 0};
	int rc = parse(&ls_cmd, argc, argv, &c.dry_run);
	if (rc >= 0)
		return rc;
	track_seg_each(ls_visit, &c);
	if (c.rows == 0)
		printf("no segments\n");
	return 0;
}

static void clean_visit(const char *path, pid_t pid, unsigned gen, void *vctx)
{
	struct ls_ctx *c = vctx;
	struct track_seg_header h;
	char err[512];
	(void)gen;
	if (track_seg_header(path, &h, err, sizeof err) == TRACK_EXIT_OK) {
		if (track_proc_alive(h.pid, h.proc_starttime))
			return;
	} else if (kill(pid, 0) == 0) {
		return;   /* unreadable, but its process may still be using it */
	}
	if (c->dry_run || unlink(path) == 0) {
		printf("%s %s\n", c->dry_run ? "would remove" : "removed", path);
		c->removed++;
	}
}

int track_cmd_clean(int argc, char **argv)
{
	struct ls_ctx c = {0, 0, 0};
	int rc = parse(&clean_cmd, argc, argv, &c.dry_run);
	if (rc >= 0)
		return rc;
	track_seg_each(clean_visit, &c);
	if (c.removed == 0)
		printf("nothing to remove\n");
	return 0;
}

/*
 * cmd_ls.c — `track ls` lists the segments of traced processes, running and ended;
 * `track clean` removes those whose process has ended.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static int help_or_usage_error(int argc, char **argv, const char *usage, int *dry_run)
{
	int i;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (dry_run != NULL && (strcmp(argv[i], "-n") == 0 ||
					strcmp(argv[i], "--dry-run") == 0)) {
			*dry_run = 1;
			continue;
		}
		track_error("unexpected argument '%s'; try 'track %s --help'", argv[i], argv[0]);
		return TRACK_EXIT_USAGE;
	}
	return -1;
}

struct ls_ctx {
	int rows;
	int dry_run;
	int removed;
};

static void ls_visit(const char *path, pid_t pid, unsigned gen, void *vctx)
{
	struct ls_ctx *c = vctx;
	struct track_snap s;
	char err[512], cmd[256];
	(void)pid, (void)gen;
	if (!c->rows++)
		printf("%-8s %-4s %-8s %8s %8s %8s  %s\n", "PID", "GEN", "STATE", "THREADS",
		       "LOCKS", "FINDINGS", "COMMAND");
	if (track_snap_load(path, &s, err, sizeof err) != TRACK_EXIT_OK) {
		printf("%-8d %-4u %-8s %8s %8s %8s  (%s)\n", (int)pid, gen, "?", "-", "-", "-", err);
		return;
	}
	printf("%-8d %-4u %-8s %8llu %8llu %8u  %s\n", s.hdr.pid, s.hdr.exec_gen,
	       s.alive ? "running" : "ended", (unsigned long long)s.hdr.threads_alive,
	       (unsigned long long)s.hdr.objects_live, s.nfindings,
	       track_cmdline(&s.hdr, cmd, sizeof cmd));
	track_snap_free(&s);
}

int track_cmd_ls(int argc, char **argv)
{
	struct ls_ctx c = {0, 0, 0};
	int rc = help_or_usage_error(argc, argv,
				     "usage: track ls\n\nList the segments of traced processes "
				     "(yours), running and ended.\nTHREADS is the number alive "
				     "(at exit, for an ended process).\n",
				     NULL);
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
	struct track_snap s;
	char err[512];
	(void)gen;
	if (track_snap_load(path, &s, err, sizeof err) == TRACK_EXIT_OK) {
		int alive = s.alive;
		track_snap_free(&s);
		if (alive)
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
	int rc = help_or_usage_error(argc, argv,
				     "usage: track clean [-n|--dry-run]\n\nRemove the segments "
				     "(yours) left by processes that have ended.\n",
				     &c.dry_run);
	if (rc >= 0)
		return rc;
	track_seg_each(clean_visit, &c);
	if (c.removed == 0)
		printf("nothing to remove\n");
	return 0;
}

/*
 * cmd_snapshot.c — `track snapshot [--fds] [-o FILE] PID`: which threads (and descriptors)
 * a live traced process has now, as a JSON file that `track leaks --since FILE` compares
 * the process with later (core/procsnap.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/procsnap.h"

enum {
	OPT_FDS = TRACK_LONG_ONLY(0),
};

static const struct track_opt snapshot_opts_table[] = {
	{'o', "output", "FILE", "write the snapshot to FILE (default: standard output)"},
	{OPT_FDS, "fds", NULL, "also record the open file descriptors"},
	{0},
};

static const struct track_subcmd snapshot_cmd = {
	"snapshot", "[--fds] [-o FILE] PID",
	"Record which threads (and, with --fds, which descriptors) a running process traced\n"
	"by libtrack has now, for 'track leaks PID --since FILE' to compare with later.\n"
	"The process is read from its segment, never stopped.",
	snapshot_opts_table,
	"exit status: 0 written; 2 bad usage, or the process is gone, not traced, not\n"
	"yours; 1 the file could not be written.",
	0,
};

/* The segment of live process pid, loaded; TRACK_EXIT_OK or a status (said). */
int track_load_live(pid_t pid, struct track_snap *s)
{
	char path[TRACK_SEGFILE_PATH_MAX], err[TRACK_SEGFILE_PATH_MAX + 256];
	int rc = track_seg_find_pid(pid, path, sizeof path, err, sizeof err);
	if (rc == TRACK_EXIT_OK)
		rc = track_snap_load(path, s, err, sizeof err);
	if (rc != TRACK_EXIT_OK) {
		track_error("%s", err);
		return rc;
	}
	if (!s->alive) {
		track_error("process %d has ended: a leak check needs it running (its segment: "
			    "track report %s)", (int)pid, path);
		track_snap_free(s);
		return TRACK_EXIT_NOENT;
	}
	return TRACK_EXIT_OK;
}

/* The snapshot j into the file at path, whole or not at all; 0, or -1 (said). */
static int write_file(json_t *j, const char *path)
{
	int created, rc, e;
	FILE *f = track_open_output(path, "the snapshot", &created);
	if (f == NULL)
		return -1;
	rc = json_dumpf(j, f, JSON_INDENT(1));
	e = errno;
	if (fflush(f) != 0 || ferror(f))
		rc = -1, e = errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -1, e = errno;
	if (rc == 0)
		return 0;
	track_out_discard(path, created);
	track_error("cannot write the snapshot to %s: %s", path, strerror(e));
	return -1;
}

/* 0 ok; -1 help printed; else an exit status (said). */
static int parse(int argc, char **argv, const char **out, int *fds, pid_t *pid)
{
	int key;
	while ((key = track_opt_next(&snapshot_cmd, argc, argv)) != TRACK_OPT_END) {
		switch (key) {
		case TRACK_OPT_HELP: return -1;
		case 'o': *out = optarg; break;
		case OPT_FDS: *fds = 1; break;
		default: return TRACK_EXIT_USAGE;
		}
	}
	return track_opt_pid(&snapshot_cmd, argc, argv, pid) == 0 ? 0 : TRACK_EXIT_USAGE;
}

int track_cmd_snapshot(int argc, char **argv)
{
	const char *out = NULL;
	struct track_snap s;
	struct track_procsnap ps;
	char err[512];
	int fds = 0, rc;
	pid_t pid;
	json_t *j;
	rc = parse(argc, argv, &out, &fds, &pid);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (track_load_live(pid, &s) != TRACK_EXIT_OK)
		return TRACK_EXIT_USAGE;
	rc = track_procsnap_take(&s, fds, &ps, err, sizeof err);
	track_snap_free(&s);
	if (rc != TRACK_EXIT_OK) {
		track_error("%s", err);
		return TRACK_EXIT_USAGE;
	}
	j = track_procsnap_json(&ps);
	rc = out != NULL ? write_file(j, out) : json_dumpf(j, stdout, JSON_INDENT(1));
	json_decref(j);
	track_procsnap_free(&ps);
	if (rc != 0) {
		if (out == NULL)
			track_error("cannot write the snapshot to standard output");
		return TRACK_EXIT_FAIL;
	}
	if (out == NULL)
		putchar('\n');
	return track_flush(stdout, "standard output") == 0 ? 0 : TRACK_EXIT_FAIL;
}

/*
 * track.h — what the subcommands of the track command share: their entry points, error
 * reporting, and rendering a set of collected segments.
 */
#ifndef TRACK_TOOL_H
#define TRACK_TOOL_H

#include <stdio.h>

#include "model.h"

int track_cmd_run(int argc, char **argv);
int track_cmd_report(int argc, char **argv);
int track_cmd_ls(int argc, char **argv);
int track_cmd_clean(int argc, char **argv);
int track_cmd_stacks(int argc, char **argv);

/* "track: <message>" on stderr. */
void track_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The shim to preload: TRACK_LIB, else the libtrack.so installed beside this track. */
int track_find_shim(char *out, size_t len);

/* Render snapshots: text to out (if not NULL), JSON to json_path (if not NULL). The first
 * snapshot is the primary process; ex describes how it ended. Returns 0, or -1 if the JSON
 * could not be written. */
struct track_render {
	FILE *out;
	const char *json_path;
	int top;
	const struct track_suppressions *supp;   /* findings to leave out, or NULL */
};
int track_render_all(struct track_snap *snaps, size_t n, const struct track_exit *ex,
		     const struct track_render *r);

/* Parse a non-negative integer option value; -1 if it is not one. */
long track_parse_count(const char *s, long max);

#endif

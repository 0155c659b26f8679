/*
 * track.h — what the subcommands of the track command share: their entry points, error
 * reporting, and rendering a set of collected segments.
 */
#ifndef TRACK_TOOL_H
#define TRACK_TOOL_H

#include <stdio.h>

#include <jansson.h>

#include "core/model.h"

int track_cmd_run(int argc, char **argv);
int track_cmd_report(int argc, char **argv);
int track_cmd_ls(int argc, char **argv);
int track_cmd_clean(int argc, char **argv);
int track_cmd_stacks(int argc, char **argv);

/* "track: <message>" on stderr. */
void track_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The shim to preload: TRACK_LIB, else the libtrack.so installed beside this track. */
int track_find_shim(char *out, size_t len);

/* Rendering the snapshots of a report, one after the other: text to out (if not NULL),
 * JSON to json_path (if not NULL).  The first rendered is the primary process (ex says how
 * it ended), the others its "other processes"; each snapshot may be freed once rendered. */
struct track_render {
	FILE *out;
	const char *json_path;
	int top;
	const struct track_suppressions *supp;   /* findings to leave out, or NULL */
	/* state */
	size_t done;
	json_t *json, *others;
};
void track_render_one(struct track_render *r, struct track_snap *s, const struct track_exit *ex);
/* Write the JSON out; 0, or -1 if it could not be written. */
int track_render_end(struct track_render *r);

/* The one-line message for getopt_long's answer opt ('?' or ':'), naming the option as
 * typed and whether it lacked its argument. */
struct option;
void track_opt_error(const char *cmd, const struct option *longopts, int opt, char **argv);

/* Flush (and close, unless stdout or stderr) the report stream; -1 with a message naming
 * where it went if anything could not be written. */
int track_close_report(FILE *f, const char *name);

/* Parse a non-negative integer option value; -1 if it is not one. */
long track_parse_count(const char *s, long max);

#endif

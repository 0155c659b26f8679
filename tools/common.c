/*
 * common.c — pieces every subcommand uses: error messages, finding the shim, parsing
 * numbers, and rendering collected snapshots as text and JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_json.h"
#include "report_text.h"
#include "track.h"

#ifndef TRACK_REL_LIBDIR
#define TRACK_REL_LIBDIR "../lib"
#endif

void track_error(const char *fmt, ...)
{
	va_list ap;
	fputs("track: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

long track_parse_count(const char *s, long max)
{
	char *end;
	long v;
	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

int track_find_shim(char *out, size_t len)
{
	const char *env = getenv("TRACK_LIB");
	const char *rel[] = {TRACK_REL_LIBDIR, "../lib"};
	char self[PATH_MAX];
	ssize_t n;
	size_t i;
	char *slash;
	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char dir[PATH_MAX + 64], real[PATH_MAX];
		snprintf(dir, sizeof dir, "%s/%s", self, rel[i]);
		/* Canonical directory, but the library's own name: libtrack.so, not the
		 * versioned file its symlink points to. */
		if (realpath(dir, real) == NULL)
			continue;
		snprintf(out, len, "%s/libtrack.so", real);
		if (access(out, R_OK) == 0)
			return 0;
	}
	snprintf(out, len, "%s/%s/libtrack.so", self, TRACK_REL_LIBDIR);
	return -1;
}

static int write_json(json_t *root, const char *path)
{
	int rc = strcmp(path, "-") == 0 ? json_dumpf(root, stdout, JSON_INDENT(2))
					: json_dump_file(root, path, JSON_INDENT(2));
	if (rc != 0)
		track_error("cannot write JSON report to %s", path);
	return rc;
}

int track_render_all(struct track_snap *snaps, size_t n, const struct track_exit *ex,
		     const struct track_render *r)
{
	json_t *root = NULL, *others = NULL;
	size_t i;
	int rc = 0;
	for (i = 0; i < n; i++) {
		struct track_symbolizer *sym = track_sym_new(snaps[i].mods, snaps[i].nmods);
		const struct track_exit *e = i == 0 ? ex : NULL;
		if (r->out != NULL) {
			struct track_text_opts o = {r->top, i == 0, r->supp};
			if (i == 1)
				fprintf(r->out, "\nother processes of this run:\n");
			track_report_text(r->out, &snaps[i], sym, e, &o);
		}
		if (r->json_path != NULL) {
			json_t *j = track_report_json(&snaps[i], sym, e, r->supp);
			if (i == 0) {
				root = j;
				others = json_array();
			} else {
				json_array_append_new(others, j);
			}
		}
		if (sym != NULL)
			track_sym_free(sym);
	}
	if (root != NULL) {
		json_object_set_new(root, "other_processes", others);
		rc = write_json(root, r->json_path);
		json_decref(root);
	}
	return rc;
}

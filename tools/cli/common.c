/*
 * common.c — pieces every subcommand uses: error messages, finding the shim, parsing
 * numbers, and rendering collected snapshots as text and JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render/json.h"
#include "render/text.h"
#include "cli/cli.h"

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

void track_opt_error(const char *cmd, const struct option *longopts, int opt, char **argv)
{
	const char *typed = argv[optind - 1];
	size_t i;
	if (opt == '?' && optopt != 0) {
		/* a known option without its argument: name it as typed, long or short */
		for (i = 0; longopts[i].name != NULL; i++)
			if (longopts[i].val == optopt && longopts[i].has_arg == required_argument &&
			    strncmp(typed, "--", 2) == 0) {
				track_error("option --%s needs an argument; try 'track %s --help'",
					    longopts[i].name, cmd);
				return;
			}
		track_error("option -%c needs an argument; try 'track %s --help'", optopt, cmd);
		return;
	}
	track_error("unknown option '%s'; try 'track %s --help'", typed, cmd);
}

int track_close_report(FILE *f, const char *name)
{
	int bad = fflush(f) != 0 || ferror(f);
	int e = errno;
	if (f != stdout && f != stderr && fclose(f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (bad)
		track_error("cannot write the report to %s: %s", name, strerror(e));
	return bad ? -1 : 0;
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

/* The first snapshot given is the primary process; the rest follow as "other processes". */
void track_render_one(struct track_render *r, struct track_snap *s, const struct track_exit *ex)
{
	struct track_symbolizer *sym = track_sym_new(s->mods, s->nmods);
	int primary = r->done == 0;
	if (r->out != NULL) {
		struct track_text_opts o = {r->top, primary, r->supp};
		if (r->done == 1)
			fprintf(r->out, "\nother processes of this run:\n");
		track_report_text(r->out, s, sym, primary ? ex : NULL, &o);
	}
	if (r->json_path != NULL) {
		json_t *j = track_report_json(s, sym, primary ? ex : NULL, r->supp);
		if (primary) {
			r->json = j;
			r->others = json_array();
		} else {
			json_array_append_new(r->others, j);
		}
	}
	if (sym != NULL)
		track_sym_free(sym);
	r->done++;
}

int track_render_end(struct track_render *r)
{
	int rc = 0;
	if (r->json != NULL) {
		json_object_set_new(r->json, "other_processes", r->others);
		rc = write_json(r->json, r->json_path);
		json_decref(r->json);
		r->json = r->others = NULL;
	}
	return rc;
}

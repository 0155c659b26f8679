/*
 * common.c — pieces every subcommand uses: error messages, finding the shim, parsing
 * numbers, and the destinations reports are written to.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int track_dest_open(struct track_dest *d, const char *format, const char *path, FILE *dflt,
		    const char *dflt_name, const struct track_render_opts *o)
{
	memset(d, 0, sizeof *d);
	if (path == NULL) {
		d->f = dflt;
		d->name = dflt_name;
	} else if (strcmp(path, "-") == 0) {
		d->f = stdout;
		d->name = "stdout";
	} else if ((d->f = fopen(path, "we")) == NULL) {
		track_error("cannot write the report to %s: %s", path, strerror(errno));
		return -1;
	} else {
		d->name = path;
	}
	if (track_output_begin(&d->out, format, d->f, o) != 0) {
		track_error("cannot begin the %s report: out of memory", format);
		if (d->f != stdout && d->f != stderr) {
			fclose(d->f);
			unlink(path);   /* nothing was written: leave no empty report */
		}
		d->f = NULL;
		return -1;
	}
	return 0;
}

void track_dest_add(struct track_dest *d, struct track_view *v)
{
	if (d->f != NULL)
		track_output_add(&d->out, v);
}

int track_flush(FILE *f, const char *name)
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

int track_dest_close(struct track_dest *d)
{
	int ended, rc;
	if (d->f == NULL)
		return 0;
	ended = track_output_end(&d->out);
	rc = track_flush(d->f, d->name);
	if (ended != 0 && rc == 0) {
		/* the renderer failed with the stream still good: it ran out of memory */
		track_error("cannot write the report to %s: out of memory", d->name);
		rc = -1;
	}
	d->f = NULL;
	return rc;
}

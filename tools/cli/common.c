/*
 * common.c — what every subcommand needs from its surroundings: a way to say what went
 * wrong, and the shim to preload.
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

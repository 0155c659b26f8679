/*
 * common.c — what every subcommand needs from its surroundings: a way to say what went
 * wrong, and the shim to preload.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "track/text.h"

#ifndef TRACK_REL_LIBDIR
#define TRACK_REL_LIBDIR "../lib"
#endif

/* The longest message said whole: beyond it, a value given whole (a 64 KB argument) would
 * bury what the message says to do, which is at its end. */
#define ERROR_MAX 480

/* The start of the UTF-8 character at or before s (not before lo). */
static const char *char_start(const char *s, const char *lo)
{
	while (s > lo && (*(const unsigned char *)s & 0xc0) == 0x80)
		s--;
	return s;
}

void track_error(const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL, *clean;
	size_t len;
	int n;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	/* what came from outside is echoed: one line, printable, of a readable length */
	clean = n >= 0 ? malloc(4 * (size_t)n + 1) : NULL;
	if (clean == NULL) {
		fputs("track: out of memory\n", stderr);
		free(msg);
		return;
	}
	len = track_text_clean(clean, 4 * (size_t)n + 1, msg);
	if (len <= ERROR_MAX) {
		fprintf(stderr, "track: %s\n", clean);
	} else {
		const char *head_end = char_start(clean + ERROR_MAX / 2, clean);
		const char *tail = char_start(clean + len - ERROR_MAX / 2, clean);
		fprintf(stderr, "track: %.*s...%s\n", (int)(head_end - clean), clean, tail);
	}
	free(clean);
	free(msg);
}

/* Why the file at path cannot be preloaded as the shim, or NULL.  Looked at without
 * blocking (a FIFO) and without reading more than an ELF header's magic (/dev/zero). */
static const char *not_a_library(const char *path)
{
	static char buf[128];
	unsigned char magic[4];
	const char *why = NULL;
	struct stat st;
	int fd;
	if (strpbrk(path, ": \t\n") != NULL)
		return "LD_PRELOAD cannot name a path with ':' or a space in it";
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(buf, sizeof buf, "%s", strerror(errno));
		return buf;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
		 memcmp(magic, "\x7f" "ELF", sizeof magic) != 0)
		why = "not a shared library (no ELF header)";
	close(fd);
	return why;
}

int track_find_shim(char *out, size_t len)
{
	const char *env = getenv("TRACK_LIB");
	const char *rel[] = {TRACK_REL_LIBDIR, "../lib"};
	char self[PATH_MAX];
	ssize_t n;
	size_t i;
	char *slash;
	const char *why;
	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s", env);
		if ((why = not_a_library(env)) == NULL && strlen(env) < len)
			return 0;
		track_error("TRACK_LIB=%s: %s; set it to the path of libtrack.so, or unset it", env,
			    why != NULL ? why : "too long a path");
		return -2;
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

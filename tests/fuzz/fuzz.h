/*
 * fuzz.h — what the libFuzzer targets of tests/fuzz share: the readers under test take a
 * path, so each input is written to a file of the target's own (in $TMPDIR, named by pid),
 * which is removed once the input has been read.
 */
#ifndef TRACK_FUZZ_H
#define TRACK_FUZZ_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The input as the file at path (room for len bytes): its descriptor, open for writing
 * (the caller may extend it), or -1. */
static inline int fuzz_file(const uint8_t *data, size_t size, const char *what, char *path,
			    size_t len)
{
	const char *tmp = getenv("TMPDIR");
	size_t done = 0;
	int fd;
	snprintf(path, len, "%s/track-fuzz-%s.%d", tmp != NULL && *tmp != '\0' ? tmp : "/tmp", what,
		 (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		perror(path);
		abort();   /* not a finding: the target cannot run */
	}
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0) {
			perror(path);
			abort();
		}
		done += (size_t)n;
	}
	return fd;
}

/* The input read: its file removed. */
static inline void fuzz_file_done(int fd, const char *path)
{
	close(fd);
	unlink(path);
}

#endif /* TRACK_FUZZ_H */

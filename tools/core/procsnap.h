/*
 * procsnap.h — a snapshot of a live process's threads (and descriptors) for leak checks,
 * as JSON, and what is alive now that was not then (procsnap.c).
 */
#ifndef TRACK_PROCSNAP_H
#define TRACK_PROCSNAP_H

#include <jansson.h>

#include "core/segread.h"

struct track_procsnap_thread {
	int32_t tid;
	uint64_t created_ns;   /* CLOCK_MONOTONIC, from its record: tids are reused */
};

struct track_procsnap_fd {
	int fd;
	uint64_t dev, ino;     /* what it refers to: a number reopened on another file is new */
	char target[256];      /* /proc/PID/fd/N's link: a path, "socket:[123]", "pipe:[45]" */
};

struct track_procsnap {
	pid_t pid;
	uint64_t starttime;    /* /proc/PID/stat field 22: the same process, not a reused pid */
	uint64_t taken_mono_ns;
	struct track_procsnap_thread *threads;
	size_t nthreads;
	int has_fds;
	struct track_procsnap_fd *fds;
	size_t nfds;
};

/* The threads alive in s (and with fds, the process's open descriptors).  TRACK_EXIT_OK or
 * a status with err set. */
int track_procsnap_take(const struct track_snap *s, int fds, struct track_procsnap *ps,
			char *err, size_t errlen);
void track_procsnap_free(struct track_procsnap *ps);

/* The snapshot as JSON ("format": "track-snapshot", "version": 1), and read back from a
 * file (TRACK_EXIT_OK, or TRACK_EXIT_USAGE with err: not JSON, not a snapshot, another
 * version, a field missing or out of range). */
json_t *track_procsnap_json(const struct track_procsnap *ps);
int track_procsnap_read(const char *path, struct track_procsnap *ps, char *err, size_t errlen);

/* Whether thread record t was alive in ps. */
int track_procsnap_had_thread(const struct track_procsnap *ps, const struct track_thread_rec *t);
/* The threads alive in s that were not in since, as indexes into s->threads (out has room
 * for s->nthreads); how many. */
size_t track_procsnap_new_threads(const struct track_snap *s, const struct track_procsnap *since,
				  uint32_t *out);
/* The descriptors of now that since did not have (out: room for now->nfds); how many. */
size_t track_procsnap_new_fds(const struct track_procsnap *now, const struct track_procsnap *since,
			      size_t *out);

#endif /* TRACK_PROCSNAP_H */

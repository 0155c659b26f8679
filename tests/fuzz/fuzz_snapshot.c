/*
 * fuzz_snapshot.c — libFuzzer target: a file given to `track leaks --since`, read as a
 * snapshot of `track snapshot`.  A snapshot that reads must also be written back and read
 * again to the same snapshot (what track snapshot writes, track leaks must take).
 */
#include <string.h>

#include "fuzz.h"

#include "core/procsnap.h"

static void same(const struct track_procsnap *a, const struct track_procsnap *b)
{
	size_t i;
	if (a->pid != b->pid || a->starttime != b->starttime ||
	    a->taken_mono_ns != b->taken_mono_ns || a->nthreads != b->nthreads ||
	    a->has_fds != b->has_fds || a->nfds != b->nfds)
		abort();
	for (i = 0; i < a->nthreads; i++)
		if (a->threads[i].tid != b->threads[i].tid ||
		    a->threads[i].created_ns != b->threads[i].created_ns)
			abort();
	for (i = 0; i < a->nfds; i++)
		if (a->fds[i].fd != b->fds[i].fd || a->fds[i].dev != b->fds[i].dev ||
		    a->fds[i].ino != b->fds[i].ino)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct track_procsnap ps, again;
	char path[256], err[512];
	int fd = fuzz_file(data, size, "snapshot", path, sizeof path);
	if (track_procsnap_read(path, &ps, err, sizeof err) == TRACK_EXIT_OK) {
		json_t *j = track_procsnap_json(&ps);
		size_t *out = calloc(ps.nfds + 1, sizeof *out);
		if (j == NULL || out == NULL || json_dump_file(j, path, 0) != 0)
			abort();
		json_decref(j);
		if (track_procsnap_read(path, &again, err, sizeof err) != TRACK_EXIT_OK) {
			fprintf(stderr, "the snapshot written back does not read: %s\n", err);
			abort();
		}
		same(&ps, &again);
		if (track_procsnap_new_fds(&ps, &again, out) != 0)
			abort();   /* nothing is new against itself */
		free(out);
		track_procsnap_free(&again);
		track_procsnap_free(&ps);
	}
	fuzz_file_done(fd, path);
	return 0;
}

/*
 * queues.c — queues a program registers through include/track.h, so that the tools can show
 * their depth, high-water mark, capacity, rejections and producers' waits.
 *
 * Registration (rare) takes the shim's lock and fills a record of the segment's queue
 * table; the program's enqueue, dequeue and reject calls are inline in track.h and update
 * that record directly with one relaxed atomic each: nothing of the shim runs on them.
 */
#define _GNU_SOURCE
#include <string.h>

#include "shim.h"

static int same_name(const struct track_queue_rec *q, const char *name)
{
	return __atomic_load_n(&q->valid, __ATOMIC_ACQUIRE) &&
	       strncmp(q->name, name, sizeof q->name - 1) == 0;
}

/* The queue called name (its first TRACK_QUEUE_NAME - 1 bytes), registered now with
 * capacity if it was not; NULL if the shim is not recording or the table is full. */
struct track_queue_rec *track__queue_register(const char *name, uint64_t capacity)
{
	struct track_seg_header *h = track__g.hdr;
	struct track_queue_rec *q = NULL;
	uint64_t i, used;
	if (!__atomic_load_n(&track__g.on, __ATOMIC_ACQUIRE) || h == NULL || name == NULL)
		return NULL;
	track__ilock();
	used = h->queues_used;
	for (i = 0; i < used && q == NULL; i++)
		if (same_name(&track__g.queues[i], name))
			q = &track__g.queues[i];
	if (q == NULL && used < h->max_queues &&
	    track__seg_reserve(&track__g.queues[used], sizeof *q) == 0) {
		q = &track__g.queues[used];
		strncpy(q->name, name, sizeof q->name - 1);
		q->capacity = capacity;
		q->created_ns = track__now_ns();
		__atomic_store_n(&q->valid, 1, __ATOMIC_RELEASE);
		TRACK_STORE(&h->queues_used, used + 1);
	} else if (q == NULL) {
		TRACK_ADD(&h->queues_dropped, 1);
	}
	track__iunlock();
	return q;
}

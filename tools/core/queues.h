/*
 * queues.h — the queues of a snapshot as the reports and the dashboard show them: the queues
 * the program registered through track.h (depth, high-water mark, capacity, rejections, time
 * producers waited for room), and the waiting queues every pthreads program has already:
 * the threads waiting on a condvar, a semaphore's count and its waiters, a barrier's
 * arrivals, each with its wait profile.
 */
#ifndef TRACK_QUEUES_H
#define TRACK_QUEUES_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

/* A registered queue, its counters read once (they move while a live process runs). */
struct track_queue_row {
	const struct track_queue_rec *rec;
	uint64_t capacity, enqueued, dequeued, depth, high_water, rejected, waits, wait_ns;
};

/* The queues registered in s (complete records), in the order they were registered; *out
 * is malloc'd (NULL when none). */
size_t track_queue_rows(const struct track_snap *s, struct track_queue_row **out);

/* A condvar, semaphore or barrier: its record and its profiles.  wait: its completed waits
 * (NULL: none blocked yet); top_waiter: the waiting call stack with most total wait. */
struct track_waitq_row {
	const struct track_obj_rec *rec;
	const struct track_prof_rec *wait, *top_waiter;
};

/* The used objects of kind (TRACK_OBJ_COND, _SEM or _BARRIER), most total wait first (then
 * most waits); *out is malloc'd (NULL when none). */
size_t track_waitq_rows(const struct track_snap *s, uint32_t kind, struct track_waitq_row **out);

#endif /* TRACK_QUEUES_H */

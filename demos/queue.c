/*
 * queue.c — a bounded queue annotated with track.h's queue API, so that the report shows
 * its depth, high-water mark, capacity, rejections and the time producers waited for room.
 *
 * Deterministic, one thread: 5 items enqueued into a queue of capacity 4 (the fifth after
 * a producer waited 10 ms for room), 2 refused while it was full, 3 dequeued: depth 2,
 * high-water mark 4.  Without the shim, track_queue_register returns NULL and every call is
 * a no-op: the program runs the same and says "queue: not tracked".
 *
 *   track run -- build/bin/demo_queue
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>

#include <track.h>

#define CAPACITY 4

static int items[CAPACITY], head, count;

static int push(track_queue_t *q, int v)
{
	if (count == CAPACITY) {
		track_queue_rejected(q);
		return -1;
	}
	items[(head + count++) % CAPACITY] = v;
	track_queue_enqueued(q);
	return 0;
}

static int pop(track_queue_t *q)
{
	int v = items[head];
	head = (head + 1) % CAPACITY;
	count--;
	track_queue_dequeued(q);
	return v;
}

int main(void)
{
	track_queue_t *q = track_queue_register("jobs", CAPACITY);
	struct timespec room = {0, 10 * 1000000L};
	uint64_t t0;
	int i, refused = 0, sum = 0;
	for (i = 0; i < CAPACITY + 2; i++)
		refused += push(q, i) != 0;   /* 4 in, 2 refused */
	for (i = 0; i < 3; i++)
		sum += pop(q);
	t0 = track_queue_wait_begin(q);   /* a producer waits for room */
	nanosleep(&room, NULL);
	track_queue_wait_end(q, t0);
	push(q, 99);
	printf("queue: %s, %d refused, %d left, sum %d\n", q != NULL ? "tracked" : "not tracked",
	       refused, count, sum);
	return 0;
}

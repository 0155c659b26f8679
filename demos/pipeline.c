/*
 * pipeline.c — a bounded-queue pipeline service to watch with `track top`.
 *
 * Producer threads put jobs into a bounded queue (a mutex and two condvars, registered with
 * track.h's queue API so that the tools show its depth, capacity, high-water mark and
 * rejections); a pool of worker threads takes them, does the work and passes each result to
 * a second bounded queue, drained by one writer thread.  Every worker counts its results
 * under one statistics lock.  Options make it misbehave in the ways a dashboard should
 * show:
 *
 *   --slow        workers take 5 ms a job: the jobs queue fills, producers wait (saturation)
 *   --reject      producers never wait: a job that finds the queue full is rejected
 *   --hot         workers hold the statistics lock while they work: one hot, contended lock
 *   --leak        a thread is started every 100 ms and never ends (leak growth)
 *   --deadlock    two threads take two account locks in opposite orders and deadlock
 *   --producers N, --workers N, --capacity N   (2, 4, 16)
 *   --seconds N   stop after N seconds; without it, runs until stdin closes
 *
 * It prints "ready" once every thread runs, and at the end how many jobs were produced,
 * rejected and written.
 *
 *   build/bin/demo_pipeline --hot & track top $!
 *   track run -- build/bin/demo_pipeline --seconds 3 --reject
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "track.h"

#define MAX_THREADS 64
#define LEAK_MAX 600

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	long *items;
	unsigned cap, head, len;
	int closed;
	track_queue_t *tq;
};

static struct queue jobs, results;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t account_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t account_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t forgotten_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forgotten = PTHREAD_COND_INITIALIZER;
static volatile int stopping;
static int opt_slow, opt_reject, opt_hot, opt_leak, opt_deadlock;
static long produced, rejected, written, stats_done;

static void queue_init(struct queue *q, const char *name, unsigned cap)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->items = calloc(cap, sizeof *q->items);
	q->cap = cap;
	q->tq = track_queue_register(name, cap);
}

/* Put v; wait for room unless nonblocking.  0, or -1 (rejected, or closed). */
static int queue_put(struct queue *q, long v, int nonblocking)
{
	pthread_mutex_lock(&q->lock);
	if (q->len == q->cap && nonblocking) {
		pthread_mutex_unlock(&q->lock);
		track_queue_rejected(q->tq);
		return -1;
	}
	if (q->len == q->cap && !q->closed) {
		uint64_t t0 = track_queue_wait_begin(q->tq);
		while (q->len == q->cap && !q->closed)
			pthread_cond_wait(&q->not_full, &q->lock);
		track_queue_wait_end(q->tq, t0);
	}
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	q->items[(q->head + q->len++) % q->cap] = v;
	track_queue_enqueued(q->tq);
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* Take one item into *v: 0, or -1 when the queue is closed and empty. */
static int queue_get(struct queue *q, long *v)
{
	pthread_mutex_lock(&q->lock);
	while (q->len == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->len == 0) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	*v = q->items[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	track_queue_dequeued(q->tq);
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_full);
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

/* Work for us microseconds on the CPU. */
static void spin_us(long us)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static void *producer(void *arg)
{
	long n = 0;
	struct timespec pace = {0, 1000000};   /* about 1000 jobs a second each */
	while (!stopping) {
		if (queue_put(&jobs, n++, opt_reject) != 0) {
			if (jobs.closed)
				break;
			__atomic_add_fetch(&rejected, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&produced, 1, __ATOMIC_RELAXED);
		}
		nanosleep(&pace, NULL);
	}
	return arg;
}

static void *worker(void *arg)
{
	long v;
	while (queue_get(&jobs, &v) == 0) {
		if (opt_slow) {
			struct timespec slow = {0, 5000000};
			nanosleep(&slow, NULL);
		}
		pthread_mutex_lock(&stats_lock);
		if (opt_hot)   /* I/O under the lock: every other worker queues behind it */
			usleep(500);
		else
			spin_us(2);
		stats_done++;
		pthread_mutex_unlock(&stats_lock);
		if (queue_put(&results, v * 2, 0) != 0)
			break;
	}
	return arg;
}

static void *writer(void *arg)
{
	long v;
	while (queue_get(&results, &v) == 0)
		__atomic_add_fetch(&written, 1, __ATOMIC_RELAXED);
	return arg;
}

/* Waits for ever for a signal nobody sends: a thread leaked. */
static void *leaked(void *arg)
{
	pthread_mutex_lock(&forgotten_lock);
	for (;;)
		pthread_cond_wait(&forgotten, &forgotten_lock);
	return arg;
}

static void *leaker(void *arg)
{
	int i;
	for (i = 0; i < LEAK_MAX && !stopping; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, leaked, NULL) == 0)
			pthread_detach(t);
		usleep(100000);
	}
	return arg;
}

/* Take two accounts in an order; the two transfer threads use opposite orders. */
static void *transfer(void *arg)
{
	int ab = arg != NULL;
	pthread_mutex_t *first = ab ? &account_a : &account_b, *second = ab ? &account_b : &account_a;
	usleep(200000);
	pthread_mutex_lock(first);
	usleep(300000);   /* the other takes its first lock meanwhile */
	pthread_mutex_lock(second);
	pthread_mutex_unlock(second);
	pthread_mutex_unlock(first);
	return NULL;
}

static long arg_num(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "demo_pipeline: %s needs a number\n", argv[*i]);
		exit(2);
	}
	return atol(argv[++*i]);
}

static void start(pthread_t *t, int *n, void *(*fn)(void *), void *arg, const char *name)
{
	if (*n >= MAX_THREADS || pthread_create(&t[*n], NULL, fn, arg) != 0) {
		fprintf(stderr, "demo_pipeline: cannot start a thread\n");
		exit(1);
	}
	pthread_setname_np(t[*n], name);
	(*n)++;
}

/* Until stdin closes, or for seconds. */
static void run_until_told(long seconds)
{
	char buf[256];
	if (seconds > 0) {
		sleep((unsigned)seconds);
		return;
	}
	while (read(0, buf, sizeof buf) > 0)
		;
}

int main(int argc, char **argv)
{
	pthread_t prod[MAX_THREADS], work[MAX_THREADS], other[4];
	long nprod = 2, nwork = 4, cap = 16, seconds = 0;
	int np = 0, nw = 0, no = 0, i;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--slow") == 0) opt_slow = 1;
		else if (strcmp(argv[i], "--reject") == 0) opt_reject = 1;
		else if (strcmp(argv[i], "--hot") == 0) opt_hot = 1;
		else if (strcmp(argv[i], "--leak") == 0) opt_leak = 1;
		else if (strcmp(argv[i], "--deadlock") == 0) opt_deadlock = 1;
		else if (strcmp(argv[i], "--producers") == 0) nprod = arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--workers") == 0) nwork = arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--capacity") == 0) cap = arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--seconds") == 0) seconds = arg_num(argc, argv, &i);
		else {
			fprintf(stderr, "usage: demo_pipeline [--slow] [--reject] [--hot] [--leak] "
					"[--deadlock] [--producers N] [--workers N] [--capacity N] "
					"[--seconds N]\n");
			return 2;
		}
	}
	if (nprod < 1 || nprod > MAX_THREADS || nwork < 1 || nwork > MAX_THREADS || cap < 1) {
		fprintf(stderr, "demo_pipeline: 1 to %d producers and workers, capacity 1 or more\n",
			MAX_THREADS);
		return 2;
	}
	queue_init(&jobs, "jobs", (unsigned)cap);
	queue_init(&results, "results", (unsigned)cap);
	for (i = 0; i < nwork; i++)
		start(work, &nw, worker, NULL, "worker");
	start(other, &no, writer, NULL, "writer");
	for (i = 0; i < nprod; i++)
		start(prod, &np, producer, NULL, "producer");
	if (opt_leak)
		start(other, &no, leaker, NULL, "leaker");
	if (opt_deadlock) {   /* never joined: they never return */
		pthread_t a, b;
		pthread_create(&a, NULL, transfer, (void *)1);
		pthread_create(&b, NULL, transfer, NULL);
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	run_until_told(seconds);
	stopping = 1;
	for (i = 0; i < np; i++)
		pthread_join(prod[i], NULL);
	queue_close(&jobs);
	for (i = 0; i < nw; i++)
		pthread_join(work[i], NULL);
	queue_close(&results);
	for (i = 0; i < no; i++)
		pthread_join(other[i], NULL);
	printf("produced %ld, rejected %ld, written %ld\n", produced, rejected, written);
	return 0;
}

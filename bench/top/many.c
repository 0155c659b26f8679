/*
 * many.c — a process of many threads and many locks for bench/top/run: what `track top`
 * costs to watch, and whether watching slows the target.
 *
 *   bench_top_many THREADS LOCKS SECONDS
 *
 * Makes LOCKS mutexes and takes each once (so the shim has a record of every one), then
 * starts THREADS threads that each, every 10 ms, take one of the locks (a different one each
 * time), bump its counter and let it go.  Says "ready" once all run; after SECONDS it stops
 * them, joins them and prints the acquisitions made in those SECONDS, and per second: the
 * target's throughput.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct lock {
	pthread_mutex_t m;
	long n;
};

static struct lock *locks;
static long nlocks;
static atomic_int stop, started, counting;

static void *loop(void *arg)
{
	unsigned long i = (unsigned long)arg;
	long done = 0;
	struct timespec nap = {0, 10000000};
	atomic_fetch_add(&started, 1);
	while (!atomic_load(&stop)) {
		struct lock *l = &locks[(i = i * 2654435761u + 1) % (unsigned long)nlocks];
		pthread_mutex_lock(&l->m);
		l->n++;
		pthread_mutex_unlock(&l->m);
		done += atomic_load(&counting);
		nanosleep(&nap, NULL);
	}
	return (void *)done;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, i, total = 0, seconds;
	pthread_t *t;
	pthread_attr_t at;
	struct timespec a, b;
	nlocks = argc > 2 ? atol(argv[2]) : 10000;
	seconds = argc > 3 ? atol(argv[3]) : 10;
	t = calloc((size_t)n, sizeof *t);
	locks = calloc((size_t)nlocks, sizeof *locks);
	if (t == NULL || locks == NULL || n < 1 || nlocks < 1)
		return 1;
	for (i = 0; i < nlocks; i++) {
		pthread_mutex_init(&locks[i].m, NULL);
		pthread_mutex_lock(&locks[i].m);
		pthread_mutex_unlock(&locks[i].m);
	}
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], &at, loop, (void *)(i + 1)) != 0)
			return 1;
	while (atomic_load(&started) < n)
		usleep(1000);
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &a);
	atomic_store(&counting, 1);
	sleep((unsigned)seconds);
	atomic_store(&counting, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++) {
		void *done;
		pthread_join(t[i], &done);
		total += (long)done;
	}
	printf("acquisitions %ld per_s %.1f\n", total,
	       total / ((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
	return 0;
}

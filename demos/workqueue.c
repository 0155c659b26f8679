/*
 * workqueue.c — the demo track run is shown on: a work queue with a few workers.
 *
 * The main thread pushes jobs into a queue guarded by one mutex and a condvar; workers take
 * them, do a little work, and add their results to a shared tally under a second mutex that
 * every worker wants at once (the contention the report shows).  A "reaper" thread is
 * started and forgotten: it is still waiting when the program exits, which the report lists.
 *
 *   track run -- build/bin/demo_workqueue [WORKERS] [JOBS]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	int *jobs;
	int head, tail, cap;
	int closed;
};

static struct queue q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0};
static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;
static long long tally;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void queue_push(int job)
{
	pthread_mutex_lock(&q.lock);
	q.jobs[q.tail++ % q.cap] = job;
	pthread_cond_signal(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
}

/* The next job, or -1 once the queue is closed and empty. */
static int queue_pop(void)
{
	int job = -1;
	pthread_mutex_lock(&q.lock);
	while (q.head == q.tail && !q.closed)
		pthread_cond_wait(&q.nonempty, &q.lock);
	if (q.head != q.tail)
		job = q.jobs[q.head++ % q.cap];
	pthread_mutex_unlock(&q.lock);
	return job;
}

static void queue_close(void)
{
	pthread_mutex_lock(&q.lock);
	q.closed = 1;
	pthread_cond_broadcast(&q.nonempty);
	pthread_mutex_unlock(&q.lock);
}

/* A little arithmetic per job, then the shared tally: every worker wants that lock. */
static void record(int job)
{
	long long v = 0;
	int i;
	for (i = 0; i < 2000; i++)
		v += (job * 31 + i) % 7;
	pthread_mutex_lock(&tally_lock);
	tally += v;
	usleep(20);   /* holding the lock a little too long: the contention to find */
	pthread_mutex_unlock(&tally_lock);
}

static void *worker(void *arg)
{
	int job;
	(void)arg;
	while ((job = queue_pop()) >= 0)
		record(job);
	return NULL;
}

/* Started and never stopped: a leak that the report lists at exit. */
static void *reaper(void *arg)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	(void)arg;
	pthread_mutex_lock(&m);
	for (;;)
		pthread_cond_wait(&never, &m);
	return NULL;
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	int jobs = argc > 2 ? atoi(argv[2]) : 20000;
	pthread_t *t, r;
	char name[16];
	int i;
	if (workers < 1 || workers > 1000 || jobs < 0) {
		fprintf(stderr, "usage: demo_workqueue [WORKERS 1-1000] [JOBS]\n");
		return 2;
	}
	q.cap = jobs + 1;
	q.jobs = malloc(sizeof *q.jobs * (size_t)q.cap);
	t = malloc(sizeof *t * (size_t)workers);
	pthread_create(&r, NULL, reaper, NULL);
	pthread_setname_np(r, "reaper");
	for (i = 0; i < workers; i++) {
		pthread_create(&t[i], NULL, worker, NULL);
		snprintf(name, sizeof name, "worker-%d", i % 1000);
		pthread_setname_np(t[i], name);
	}
	for (i = 0; i < jobs; i++)
		queue_push(i);
	queue_close();
	for (i = 0; i < workers; i++)
		pthread_join(t[i], NULL);
	printf("%d jobs done by %d workers, tally %lld\n", jobs, workers, tally);
	free(t);
	free(q.jobs);
	return 0;
}

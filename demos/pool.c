/*
 * pool.c — a worker pool that forgets to stop its workers, for leak checks.
 *
 * The pool starts four workers that wait on a condvar for jobs, runs some, and then, in
 * the default "leak" mode, returns from main without telling them to stop: the workers are
 * still alive when the process ends (what goleak catches in a Go test).  "clean" stops and
 * joins them; "slow" stops them and they take 200 ms to wind down before main joins them;
 * "fd" stops them cleanly but leaves its job log open.
 *
 *   track run --leaks -- build/bin/demo_pool          thread-leak, 4 times
 *   track run --leaks -- build/bin/demo_pool clean    no findings
 *   track run --leaks --fds -- build/bin/demo_pool fd  fd-leak, once
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 4
#define JOBS 1000

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static int jobs, stopping, slow;
static long done;

static void *worker(void *arg)
{
	pthread_mutex_lock(&queue_lock);
	for (;;) {
		while (jobs == 0 && !stopping)
			pthread_cond_wait(&work_ready, &queue_lock);
		if (jobs == 0)
			break;
		jobs--;
		done++;
	}
	pthread_mutex_unlock(&queue_lock);
	if (slow)
		usleep(200000);   /* flushing, closing: a slow shutdown */
	return arg;
}

static void submit(int n)
{
	pthread_mutex_lock(&queue_lock);
	jobs += n;
	pthread_cond_broadcast(&work_ready);
	pthread_mutex_unlock(&queue_lock);
}

static void stop(pthread_t *w)
{
	int i;
	pthread_mutex_lock(&queue_lock);
	stopping = 1;
	pthread_cond_broadcast(&work_ready);
	pthread_mutex_unlock(&queue_lock);
	for (i = 0; i < WORKERS; i++)
		pthread_join(w[i], NULL);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "leak";
	pthread_t w[WORKERS];
	int i;
	slow = strcmp(mode, "slow") == 0;
	for (i = 0; i < WORKERS; i++) {
		pthread_create(&w[i], NULL, worker, NULL);
		pthread_setname_np(w[i], "pool-worker");
	}
	submit(JOBS);
	while (__atomic_load_n(&done, __ATOMIC_RELAXED) < JOBS)
		usleep(1000);
	if (strcmp(mode, "leak") != 0)
		stop(w);
	if (strcmp(mode, "fd") == 0 && fopen("/dev/null", "w") == NULL)   /* the log, never closed */
		return 1;
	printf("%ld jobs done (%s)\n", done, mode);
	return 0;
}

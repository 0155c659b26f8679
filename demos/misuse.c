/*
 * misuse.c — a sampler of pthread API mistakes, each made once.
 *
 * None of them crashes or hangs this program (the mutexes are error-checking ones, so glibc
 * refuses the bad calls instead of corrupting them), and it exits 0.  They are bugs all the
 * same, and in another program or with another mutex type each can corrupt a lock, hang or
 * leak.  track lists every one with the call's stack:
 *
 *   unlock-not-owner         unlocking a mutex another thread holds
 *   unlock-unlocked          unlocking a mutex nobody holds
 *   double-lock              locking a non-recursive mutex the thread already holds
 *   destroy-locked           destroying a locked mutex
 *   cond-wait-without-mutex  waiting on a condvar without holding its mutex
 *   exit-holding-lock        a thread that returns still holding a mutex
 *   join-invalid             joining a detached thread
 *
 *   track run -- build/bin/demo_misuse
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t config_lock;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static sem_t finish, finished;

static void errorcheck_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
}

static void said(const char *what, int rc)
{
	printf("%-46s -> %s\n", what, rc ? strerror(rc) : "ok");
}

static void *release_someone_elses(void *arg)
{
	said("unlock a mutex the main thread holds", pthread_mutex_unlock(&config_lock));
	return arg;
}

static void *leave_locked(void *arg)
{
	pthread_mutex_lock(&stats_lock);
	said("return from a thread holding a mutex", 0);
	return arg;   /* stats_lock stays locked for ever */
}

static void *background(void *arg)
{
	sem_wait(&finish);
	sem_post(&finished);
	return arg;
}

int main(void)
{
	pthread_t t;

	errorcheck_init(&config_lock);
	sem_init(&finish, 0, 0);
	sem_init(&finished, 0, 0);

	pthread_mutex_lock(&config_lock);
	pthread_create(&t, NULL, release_someone_elses, NULL);
	pthread_join(t, NULL);

	said("lock a mutex this thread already holds", pthread_mutex_lock(&config_lock));
	said("destroy a locked mutex", pthread_mutex_destroy(&config_lock));
	pthread_mutex_unlock(&config_lock);
	said("unlock a mutex nobody holds", pthread_mutex_unlock(&config_lock));

	said("wait on a condvar without its mutex", pthread_cond_wait(&changed, &config_lock));

	pthread_create(&t, NULL, leave_locked, NULL);
	pthread_join(t, NULL);

	pthread_create(&t, NULL, background, NULL);
	pthread_detach(t);
	said("join a detached thread", pthread_join(t, NULL));
	sem_post(&finish);
	sem_wait(&finished);

	pthread_mutex_destroy(&config_lock);
	printf("done: 7 mistakes, none of them fatal this time\n");
	return 0;
}

/*
 * hotlock.c — one hot lock, and who to blame for it: the demo of track's wait and hold
 * profiles and of the formats built on them (folded stacks, pprof, Prometheus).
 *
 * slow_updater() takes g_hot and keeps it for a long time (it sleeps holding it); the
 * readers call read_stats(), which takes g_hot briefly and so waits for the updater most of
 * the time.  g_cold is taken just as often by the readers but only ever by one thread at a
 * time: uncontended.  The contention view of the report charges the waiting to
 * read_stats() (the waiters' stacks); the holding view charges it to slow_updater() (the
 * call that held g_hot when the waits began), as Go's mutex profile does.
 *
 *   track run --format folded --output wait.folded -- build/bin/demo_hotlock
 *   track run --format folded --view holding --output hold.folded -- build/bin/demo_hotlock
 *   track run --format pprof --output hot.pb.gz -- build/bin/demo_hotlock
 *
 * An argument N runs N rounds of the updater (default 20): the program takes about
 * N * 2 ms.  "stay" keeps it running until its stdin closes (for live reading and the
 * exporter), after printing "ready".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READERS 3

static pthread_mutex_t g_hot = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_cold = PTHREAD_MUTEX_INITIALIZER;
static long g_stats, g_cold_count;
static volatile int g_stop;

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* Holds g_hot for 2 ms per round: every reader that comes meanwhile waits. */
static __attribute__((noinline)) void slow_updater(int rounds)
{
	int i;
	for (i = 0; i < rounds; i++) {
		pthread_mutex_lock(&g_hot);
		g_stats++;
		sleep_us(2000);
		pthread_mutex_unlock(&g_hot);
		sleep_us(200);
	}
}

static __attribute__((noinline)) long read_stats(void)
{
	long v;
	pthread_mutex_lock(&g_hot);
	v = g_stats;
	pthread_mutex_unlock(&g_hot);
	return v;
}

static __attribute__((noinline)) void count_cold(void)
{
	pthread_mutex_lock(&g_cold);
	g_cold_count++;
	pthread_mutex_unlock(&g_cold);
}

static void *reader(void *arg)
{
	pthread_mutex_t *turn = arg;   /* one reader at a time touches g_cold */
	while (!g_stop) {
		read_stats();
		pthread_mutex_lock(turn);
		count_cold();
		pthread_mutex_unlock(turn);
		sleep_us(100);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;
	pthread_t t[READERS];
	int i, stay = argc > 1 && strcmp(argv[1], "stay") == 0;
	int rounds = argc > 1 && !stay ? atoi(argv[1]) : 20;
	char line[16];
	for (i = 0; i < READERS; i++)
		pthread_create(&t[i], NULL, reader, &turn);
	slow_updater(rounds);
	if (stay) {
		printf("ready\n");
		fflush(stdout);
		while (fgets(line, sizeof line, stdin) != NULL)
			;
	}
	g_stop = 1;
	for (i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	printf("stats %ld\n", g_stats);
	return 0;
}

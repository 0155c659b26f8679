/*
 * hotcold.c — one hot lock and one cold one, for the wait and hold profiles.
 *
 * slow_holder() takes g_hot 10 times and keeps it 20 ms each time (a sleep inside the
 * critical section), while two quick_taker() threads take it 10 times each for an instant:
 * they wait, and the report charges their waits to slow_holder's call (the holding site).
 * main takes g_cold 100 times, alone: never contended.  g_hot is acquired exactly 30 times.
 *
 *   track run -- build/bin/demo_hotcold
 *   TRACK_HOLD_SAMPLE=1 track run --json r.json -- build/bin/demo_hotcold   (every hold timed)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define HOLDS 10
#define HOLD_MS 20
#define TAKERS 2

static pthread_mutex_t g_hot = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_cold = PTHREAD_MUTEX_INITIALIZER;
static volatile long shared;

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static __attribute__((noinline)) void *slow_holder(void *arg)
{
	int i;
	(void)arg;
	for (i = 0; i < HOLDS; i++) {
		pthread_mutex_lock(&g_hot);
		sleep_ms(HOLD_MS);   /* slow work inside the critical section */
		shared++;
		pthread_mutex_unlock(&g_hot);
		sleep_ms(2);
	}
	return NULL;
}

static __attribute__((noinline)) void *quick_taker(void *arg)
{
	int i;
	(void)arg;
	sleep_ms(1);   /* let slow_holder take it first */
	for (i = 0; i < HOLDS; i++) {
		pthread_mutex_lock(&g_hot);
		shared++;
		pthread_mutex_unlock(&g_hot);
		sleep_ms(HOLD_MS / 2);
	}
	return NULL;
}

int main(void)
{
	pthread_t holder, takers[TAKERS];
	int i;
	pthread_create(&holder, NULL, slow_holder, NULL);
	for (i = 0; i < TAKERS; i++)
		pthread_create(&takers[i], NULL, quick_taker, NULL);
	for (i = 0; i < 100; i++) {
		pthread_mutex_lock(&g_cold);
		shared++;
		pthread_mutex_unlock(&g_cold);
	}
	pthread_join(holder, NULL);
	for (i = 0; i < TAKERS; i++)
		pthread_join(takers[i], NULL);
	printf("hotcold: %ld\n", shared);
	return 0;
}

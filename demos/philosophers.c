/*
 * philosophers.c — the dining philosophers, deadlocking.
 *
 * Five philosophers sit at a round table with a fork (a mutex) between each two.  To eat, each
 * picks up the fork on the left, ponders for a moment, then picks up the fork on the right.
 * They all sit down at once, so every one of them is soon holding a left fork and reaching for
 * a right fork that a neighbour holds: all five wait for each other, for ever.
 *
 * Run on its own, the program hangs.  Under track run the deadlock is found within about a
 * second: the report names the five threads, the fork each one waits for and who holds it,
 * with their stacks, and the program is ended with status 1 (--on-deadlock=report leaves it
 * hanging, --on-deadlock=abort aborts it for a core dump).  The fix: let one philosopher pick
 * up the right fork first, or take forks in a global order.
 *
 *   track run -- build/bin/demo_philosophers
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define N 5
#define MEALS 3

static pthread_mutex_t forks[N];
static pthread_barrier_t table;   /* everyone sits down before anyone eats */

static void *philosopher(void *arg)
{
	int i = (int)(intptr_t)arg, meal;
	pthread_mutex_t *left = &forks[i], *right = &forks[(i + 1) % N];
	pthread_barrier_wait(&table);
	for (meal = 0; meal < MEALS; meal++) {
		pthread_mutex_lock(left);
		usleep(100 * 1000);   /* pondering, holding the left fork: long enough to deadlock */
		pthread_mutex_lock(right);
		printf("philosopher %d eats\n", i);
		pthread_mutex_unlock(right);
		pthread_mutex_unlock(left);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	char name[16];
	int i;
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_barrier_init(&table, NULL, N);
	for (i = 0; i < N; i++)
		pthread_mutex_init(&forks[i], NULL);
	for (i = 0; i < N; i++) {
		pthread_create(&t[i], NULL, philosopher, (void *)(intptr_t)i);
		snprintf(name, sizeof name, "philosopher-%d", i);
		pthread_setname_np(t[i], name);
	}
	for (i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	printf("everyone ate\n");
	return 0;
}

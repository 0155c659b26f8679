/*
 * hold.c — N threads blocked on a condvar until stdin closes, for bench/leaks/run: a
 * process with many live threads for `track leaks` to check.  Says "ready" once all wait.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, waiting;

static void *waiter(void *arg)
{
	pthread_mutex_lock(&mu);
	waiting++;
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, i;
	pthread_t *t = calloc((size_t)n, sizeof *t);
	pthread_attr_t at;
	if (t == NULL)
		return 1;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], &at, waiter, NULL) != 0)
			return 1;
	for (;;) {
		pthread_mutex_lock(&mu);
		i = waiting;
		pthread_mutex_unlock(&mu);
		if (i == n)
			break;
	}
	printf("ready\n");
	fflush(stdout);
	while (getchar() != EOF)
		;
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

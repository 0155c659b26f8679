/*
 * micro.c — the pthread microbenchmarks that bench/run times natively and under libtrack.
 *
 *   bench_micro CASE ITERATIONS
 *
 * runs one case and prints its cost per operation on stdout: one number, in the case's unit
 * (ns, or µs for "create").  Timing is CLOCK_MONOTONIC around the measured loop only, after a
 * short warm-up, so process start-up and the shim's first sighting of each lock are excluded.
 * `bench_micro which` prints the object that pthread_mutex_lock resolves to, which tells
 * bench/run whether the preload really interposed.
 *
 * Every pthread call is an ordinary dynamically linked call through the PLT (the file is
 * built with -fplt, never static), so LD_PRELOAD interposes on it exactly as on any program;
 * the compiler cannot drop the calls because it knows nothing of what they do.  Each case
 * checks what it computed (mutual exclusion, hand-offs, joins) and exits 1 if it is wrong, so
 * a shim that broke the program is reported as a failure, not as a fast time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_micro: %s: %s\n", what, strerror(rc));
	exit(1);
}

#define CHECK(call)                                   \
	do {                                          \
		int rc_ = (call);                     \
		if (rc_ != 0)                         \
			die(#call, rc_);              \
	} while (0)

/* Keeps the compiler from assuming anything about memory across the loop body. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* --- 1. uncontended lock/unlock pair ------------------------------------------------------ */

static pthread_mutex_t m_a, m_b;
static volatile unsigned long counter;

static double bench_uncontended(long n)
{
	long i;
	uint64_t t0, t1;
	CHECK(pthread_mutex_init(&m_a, NULL));
	for (i = 0; i < 1000; i++) {            /* warm-up: PLT binding, shim's first sighting */
		CHECK(pthread_mutex_lock(&m_a));
		CHECK(pthread_mutex_unlock(&m_a));
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&m_a);
		BARRIER();
		pthread_mutex_unlock(&m_a);
	}
	t1 = now_ns();
	CHECK(pthread_mutex_destroy(&m_a));
	return (double)(t1 - t0) / (double)n;
}

/* --- 1t. the same in a process that has had a second thread ------------------------------- */

static void *nothing(void *arg)
{
	return arg;
}

/* glibc (2.35 on) takes a mutex with plain stores while a process has only ever had one
 * thread, and with atomic instructions from the first pthread_create on: every threaded
 * program pays the latter.  One thread is made and joined first. */
static double bench_uncontended_mt(long n)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, nothing, NULL));
	CHECK(pthread_join(t, NULL));
	return bench_uncontended(n);
}

/* --- 2. contended: two threads hammering one mutex ---------------------------------------- */

struct hammer {
	long n;
	pthread_barrier_t *start;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	long i;
	pthread_barrier_wait(h->start);
	for (i = 0; i < h->n; i++) {
		pthread_mutex_lock(&m_a);
		counter++;
		pthread_mutex_unlock(&m_a);
	}
	return NULL;
}

/* n pairs in all, n/2 by each of two threads; returns ns per pair (wall time / n). */
static double bench_contended(long n)
{
	pthread_t th[2];
	pthread_barrier_t start;
	struct hammer h;
	uint64_t t0, t1;
	int i;
	n -= n % 2;
	CHECK(pthread_mutex_init(&m_a, NULL));
	CHECK(pthread_barrier_init(&start, NULL, 3));
	h.n = n / 2;
	h.start = &start;
	counter = 0;
	for (i = 0; i < 2; i++)
		CHECK(pthread_create(&th[i], NULL, hammer_main, &h));
	pthread_barrier_wait(&start);
	t0 = now_ns();
	for (i = 0; i < 2; i++)
		CHECK(pthread_join(th[i], NULL));
	t1 = now_ns();
	if (counter != (unsigned long)n) {
		fprintf(stderr, "bench_micro: contended: counter %lu, expected %ld: mutual "
			"exclusion broken\n", counter, n);
		exit(1);
	}
	CHECK(pthread_barrier_destroy(&start));
	CHECK(pthread_mutex_destroy(&m_a));
	return (double)(t1 - t0) / (double)n;
}

/* --- 3. condvar ping-pong ----------------------------------------------------------------- */

static pthread_cond_t cv[2];
static int turn;                                 /* whose move: 0 main thread, 1 partner */

/* One side of the game: wait for our turn, hand it over, n times. */
static void play(int me, long n)
{
	long i;
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&m_a);
		while (turn != me)
			pthread_cond_wait(&cv[me], &m_a);
		turn = !me;
		counter++;
		pthread_cond_signal(&cv[!me]);
		pthread_mutex_unlock(&m_a);
	}
}

static void *partner_main(void *arg)
{
	play(1, *(long *)arg);
	return NULL;
}

/* n round trips (main -> partner -> main); returns ns per round trip. */
static double bench_condvar(long n)
{
	pthread_t th;
	uint64_t t0, t1;
	long total = n + 100;                    /* 100 warm-up round trips */
	long i;
	CHECK(pthread_mutex_init(&m_a, NULL));
	CHECK(pthread_cond_init(&cv[0], NULL));
	CHECK(pthread_cond_init(&cv[1], NULL));
	turn = 0;
	counter = 0;
	CHECK(pthread_create(&th, NULL, partner_main, &total));
	play(0, 100);
	/* wait until the partner has made its 100th move, so timing starts at a hand-over */
	pthread_mutex_lock(&m_a);
	while (turn != 0)
		pthread_cond_wait(&cv[0], &m_a);
	pthread_mutex_unlock(&m_a);
	t0 = now_ns();
	play(0, n);
	pthread_mutex_lock(&m_a);
	while (turn != 0)
		pthread_cond_wait(&cv[0], &m_a);
	pthread_mutex_unlock(&m_a);
	t1 = now_ns();
	CHECK(pthread_join(th, NULL));
	if (counter != 2ul * (unsigned long)total) {
		fprintf(stderr, "bench_micro: condvar: %lu moves, expected %ld\n", counter,
			2 * total);
		exit(1);
	}
	for (i = 0; i < 2; i++)
		CHECK(pthread_cond_destroy(&cv[i]));
	CHECK(pthread_mutex_destroy(&m_a));
	return (double)(t1 - t0) / (double)n;
}

/* The same game with both threads on one CPU: no cross-CPU wake-up, whose latency (tens of
 * µs on a virtual machine whose idle CPUs halt) otherwise hides the cost of the calls. */
static double bench_condvar_1cpu(long n)
{
	cpu_set_t set;
	int cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	CHECK(pthread_setaffinity_np(pthread_self(), sizeof set, &set));
	return bench_condvar(n);
}

/* --- 4. thread create + join -------------------------------------------------------------- */

static void *child_main(void *arg)
{
	return (char *)arg + 1;
}

static void create_join(long n)
{
	long i;
	for (i = 0; i < n; i++) {
		pthread_t th;
		void *ret;
		CHECK(pthread_create(&th, NULL, child_main, (void *)(uintptr_t)i));
		CHECK(pthread_join(th, &ret));
		if (ret != (char *)(uintptr_t)i + 1) {
			fprintf(stderr, "bench_micro: create: thread %ld returned %p\n", i, ret);
			exit(1);
		}
	}
}

/* Returns µs per sequential create+join pair. */
static double bench_create(long n)
{
	uint64_t t0, t1;
	create_join(20);
	t0 = now_ns();
	create_join(n);
	t1 = now_ns();
	return (double)(t1 - t0) / (double)n / 1000.0;
}

/* --- 6. nested locks ---------------------------------------------------------------------- */

static double bench_nested(long n)
{
	long i;
	uint64_t t0, t1;
	CHECK(pthread_mutex_init(&m_a, NULL));
	CHECK(pthread_mutex_init(&m_b, NULL));
	for (i = 0; i < 1000; i++) {
		CHECK(pthread_mutex_lock(&m_a));
		CHECK(pthread_mutex_lock(&m_b));
		CHECK(pthread_mutex_unlock(&m_b));
		CHECK(pthread_mutex_unlock(&m_a));
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&m_a);
		pthread_mutex_lock(&m_b);
		BARRIER();
		pthread_mutex_unlock(&m_b);
		pthread_mutex_unlock(&m_a);
	}
	t1 = now_ns();
	CHECK(pthread_mutex_destroy(&m_b));
	CHECK(pthread_mutex_destroy(&m_a));
	return (double)(t1 - t0) / (double)n;
}

/* --- 7. thread storm, and 8. many threads alive at once -------------------------------- */

static sem_t storm_done;

/* malloc+free of blocks of 16 to 4096 bytes, 64 live at a time, while 256 mutexes live in
 * heap blocks of their own: every free then pays what the shim does to find locks in freed
 * memory (libtrack/freed.c). */
#define FREE_SLOTS 64
#define FREE_LOCKS 256
static double bench_free(long n)
{
	pthread_mutex_t *locks[FREE_LOCKS];
	void *slot[FREE_SLOTS] = {0};
	unsigned seed = 12345;
	long i;
	uint64_t t0, t1;
	for (i = 0; i < FREE_LOCKS; i++) {
		locks[i] = malloc(sizeof *locks[i]);
		if (locks[i] == NULL)
			exit(1);
		CHECK(pthread_mutex_init(locks[i], NULL));
		CHECK(pthread_mutex_lock(locks[i]));
		CHECK(pthread_mutex_unlock(locks[i]));
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		unsigned k = (seed = seed * 1103515245u + 12345u) >> 16;
		free(slot[k % FREE_SLOTS]);
		slot[k % FREE_SLOTS] = malloc(16u << (k % 9));
		if (slot[k % FREE_SLOTS] == NULL)
			exit(1);
	}
	t1 = now_ns();
	for (i = 0; i < FREE_SLOTS; i++)
		free(slot[i]);
	for (i = 0; i < FREE_LOCKS; i++) {
		CHECK(pthread_mutex_destroy(locks[i]));
		free(locks[i]);
	}
	return (double)(t1 - t0) / (double)n;
}

static void *storm_thread(void *arg)
{
	pthread_mutex_t local = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&m_a);
	pthread_mutex_lock(&local);
	counter++;
	pthread_mutex_unlock(&local);
	pthread_mutex_unlock(&m_a);
	sem_post(&storm_done);
	return arg;
}

/* n short-lived detached threads, each taking a global and a local mutex, as fast as they
 * can be made (the thread storm of the shim-safety probe; tests/fixtures/fx_safety.c
 * storm).  Returns µs per thread. */
static double bench_storm(long n)
{
	pthread_attr_t at;
	uint64_t t0, t1;
	long i;
	CHECK(pthread_mutex_init(&m_a, NULL));
	CHECK(sem_init(&storm_done, 0, 0));
	CHECK(pthread_attr_init(&at));
	CHECK(pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED));
	counter = 0;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pthread_t t;
		int rc;
		while ((rc = pthread_create(&t, &at, storm_thread, NULL)) == EAGAIN)
			sched_yield();
		CHECK(rc);
	}
	for (i = 0; i < n; i++)
		while (sem_wait(&storm_done) != 0)
			;
	t1 = now_ns();
	if (counter != (unsigned long)n)
		die("storm: counter", (int)counter);
	return (double)(t1 - t0) / (double)n / 1000.0;
}

static pthread_cond_t all_made = PTHREAD_COND_INITIALIZER;
static long made, target;

static void *waits_for_all(void *arg)
{
	pthread_mutex_lock(&m_a);
	while (made < target)
		pthread_cond_wait(&all_made, &m_a);
	pthread_mutex_unlock(&m_a);
	return arg;
}

/* n threads alive at once, each waiting on a condvar until the last is made; then all are
 * released and joined.  Returns µs per thread (bench/run measures its peak memory). */
static double bench_alive(long n)
{
	pthread_t *t = calloc((size_t)n, sizeof *t);
	pthread_attr_t at;
	uint64_t t0, t1;
	long i;
	if (t == NULL)
		die("alive: calloc", ENOMEM);
	CHECK(pthread_mutex_init(&m_a, NULL));
	CHECK(pthread_attr_init(&at));
	CHECK(pthread_attr_setstacksize(&at, 64 * 1024));
	target = n;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		CHECK(pthread_create(&t[i], &at, waits_for_all, NULL));
		pthread_mutex_lock(&m_a);
		made++;
		pthread_mutex_unlock(&m_a);
	}
	pthread_mutex_lock(&m_a);
	pthread_cond_broadcast(&all_made);
	pthread_mutex_unlock(&m_a);
	for (i = 0; i < n; i++)
		CHECK(pthread_join(t[i], NULL));
	t1 = now_ns();
	free(t);
	return (double)(t1 - t0) / (double)n / 1000.0;
}

/* --- 9. what a clock read costs ------------------------------------------------------------
 * clock_gettime(CLOCK_MONOTONIC) through the vDSO: what timing every hold would add (two
 * reads per hold), against an uncontended pair (case 1t).  The shim does not wrap it. */

static double bench_clock(long n)
{
	struct timespec ts;
	uint64_t t0, t1, sum = 0;
	long i;
	for (i = 0; i < 1000; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += (uint64_t)ts.tv_nsec;
		BARRIER();
	}
	t1 = now_ns();
	if (sum == 0)
		die("clock_gettime", EINVAL);
	return (double)(t1 - t0) / (double)n;
}

/* --- 10. wait accounting: blocked time measured by the waiter itself ----------------------
 * One thread holds the lock about 2 ms at a time, n times; each time the other, told the
 * lock is held, times its own pthread_mutex_lock call, which blocks until the holder lets
 * go.  Prints the waiter's own total in ns: bench/run compares it with the wait total the
 * shim reports for the lock (both include the wake-up). */

static pthread_mutex_t m_acc = PTHREAD_MUTEX_INITIALIZER;
static volatile int acc_held, acc_done;
static long acc_rounds;

static void spin_until(volatile int *flag, int value)
{
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != value)
		sched_yield();
}

static void *acc_holder(void *arg)
{
	struct timespec hold = {0, 2 * 1000000L};
	long i;
	(void)arg;
	for (i = 0; i < acc_rounds; i++) {
		CHECK(pthread_mutex_lock(&m_acc));
		__atomic_store_n(&acc_held, 1, __ATOMIC_RELEASE);
		nanosleep(&hold, NULL);
		CHECK(pthread_mutex_unlock(&m_acc));
		spin_until(&acc_done, 1);
		__atomic_store_n(&acc_done, 0, __ATOMIC_RELEASE);
	}
	return NULL;
}

static double bench_waitacc(long n)
{
	pthread_t t;
	uint64_t sum = 0, t0;
	long i;
	acc_rounds = n;
	CHECK(pthread_create(&t, NULL, acc_holder, NULL));
	for (i = 0; i < n; i++) {
		spin_until(&acc_held, 1);
		__atomic_store_n(&acc_held, 0, __ATOMIC_RELEASE);
		t0 = now_ns();
		CHECK(pthread_mutex_lock(&m_acc));
		sum += now_ns() - t0;
		CHECK(pthread_mutex_unlock(&m_acc));
		__atomic_store_n(&acc_done, 1, __ATOMIC_RELEASE);
	}
	CHECK(pthread_join(t, NULL));
	return (double)sum;
}

/* --- driver ------------------------------------------------------------------------------- */

static const struct bcase {
	const char *name;
	double (*fn)(long);
	const char *what;
} cases[] = {
	{ "uncontended", bench_uncontended, "ns per uncontended mutex lock/unlock pair" },
	{ "uncontended-mt", bench_uncontended_mt,
	  "the same, in a process that has had a second thread (atomic path)" },
	{ "contended", bench_contended, "ns per lock/unlock pair, 2 threads on one mutex" },
	{ "condvar", bench_condvar, "ns per condvar ping-pong round trip" },
	{ "condvar-1cpu", bench_condvar_1cpu, "the same, both threads pinned to one CPU" },
	{ "create", bench_create, "us per sequential pthread_create+pthread_join" },
	{ "nested", bench_nested, "ns per lock A, lock B, unlock B, unlock A" },
	{ "storm", bench_storm, "us per short-lived detached thread (global and local mutex)" },
	{ "alive", bench_alive, "us per thread, all alive at once in a condvar wait" },
	{ "clock", bench_clock, "ns per clock_gettime(CLOCK_MONOTONIC) (vDSO)" },
	{ "free", bench_free, "ns per malloc+free pair, with 256 heap mutexes alive" },
	{ "waitacc", bench_waitacc,
	  "total ns the waiter measured itself blocked in pthread_mutex_lock, N waits of ~2 ms" },
};

static void usage(FILE *f)
{
	size_t i;
	fprintf(f, "usage: bench_micro CASE ITERATIONS | bench_micro which\n");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		fprintf(f, "  %-12s %s\n", cases[i].name, cases[i].what);
}

int main(int argc, char **argv)
{
	size_t i;
	long n;
	char *end;
	if (argc == 2 && strcmp(argv[1], "which") == 0) {
		Dl_info info;
		void *p = dlsym(RTLD_DEFAULT, "pthread_mutex_lock");
		if (p == NULL || dladdr(p, &info) == 0 || info.dli_fname == NULL) {
			printf("unknown\n");
			return 1;
		}
		printf("%s\n", info.dli_fname);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	errno = 0;
	n = strtol(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || n < 2) {
		fprintf(stderr, "bench_micro: bad iteration count '%s'\n", argv[2]);
		return 2;
	}
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (strcmp(argv[1], cases[i].name) == 0) {
			double v = cases[i].fn(n);
			printf("%.3f\n", v);
			return 0;
		}
	}
	usage(stderr);
	return 2;
}

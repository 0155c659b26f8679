/*
 * pipeline.c — the bounded-queue service of the concurrency design guides, to watch with
 * `track top`.
 *
 *   ingress -> [to_parse] -> parse -> [to_enrich] -> enrich -> [to_verify] -> verify
 *           -> [to_store] -> store
 *
 * One ingress thread accepts bursts of requests into a bounded queue and rejects what finds
 * it full (backpressure at the edge, never an unbounded backlog).  Each stage is a pool of
 * workers sized to its dependency: a service with that many connections (a counting
 * semaphore), called with a per-dependency timeout.  A call waits for a free connection
 * (sem_timedwait) and for the reply (pthread_cond_timedwait on the dependency's condvar); a
 * call that runs past its timeout is counted and its item dropped.  One reply in 50 is slow
 * (20 times the usual latency, past the timeout of 10 times it).  Stages pass items on
 * through bounded queues that block when full, so a slow stage backs up to the ingress.
 * Every queue is registered with track.h's queue API (depth, capacity, high-water mark,
 * rejections, producers' waits); counters are C11 atomics, printed at the end.
 *
 * SIGTERM or SIGINT (or stdin closing, or --seconds) shuts it down gracefully: stop intake,
 * let each stage drain its queue in order, join each stage's workers within a grace period
 * of its queue closing (a thread still busy then is named and abandoned), print the
 * counters, exit 0.
 *
 * Faults to inject, so that every panel of `track top` has something true to show:
 *
 *   --slow STAGE  that stage's dependency answers 8 times slower: its queue fills, the
 *                 stage before waits for room, and the ingress rejects (saturation)
 *   --burst       every 2 s the ingress receives 4 queues' worth at once: rejections
 *   --hot         enrich does its cache refill I/O (500 us) under cache_lock: one hot lock
 *   --lock-order  enrich takes cache_lock then quota_lock; store, for one item in 100,
 *                 quota_lock then, with a 20 ms timedlock that backs off, cache_lock: a
 *                 lock-order inversion that the timeout keeps from deadlocking for good
 *   --stall       after 1 s one verify call is made without a timeout, and auth never
 *                 answers it: that worker waits on auth's condvar for good (TRACK_STALL=1s
 *                 reports it); shutdown abandons it after the grace period
 *   --leak        a thread is started every 100 ms, waits for ever and is never joined
 *   --deadlock    two threads take two account locks in opposite orders and deadlock
 *   --parse N, --enrich N, --verify N, --store N   connections of each dependency and
 *                 workers of its pool (2, 4, 2, 3)
 *   --capacity N  of every queue (64)
 *   --flood       the ingress offers requests as fast as the first queue takes them,
 *                 waiting for room instead of rejecting: throughput is the pipeline's
 *                 capacity (bench/pipeline/run)
 *   --grace S     seconds to drain and join at shutdown (2)
 *   --seconds N   stop after N seconds; without it, runs until stdin closes or SIGTERM
 *
 * It prints "ready PID" once every thread runs, and at the end what each part did.
 *
 *   build/bin/demo_pipeline --hot & track top $!
 *   track run -- build/bin/demo_pipeline --seconds 3 --slow enrich
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "track.h"

#define MAX_WORKERS 64
#define LEAK_MAX 600
#define NSTAGES 4

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	long *items;
	unsigned cap, head, len;
	int closed;
	track_queue_t *tq;
};

/* A service a stage calls: conns connections, a usual latency, a timeout. */
struct dependency {
	const char *name;
	sem_t conns;
	pthread_mutex_t lock;   /* the replies' */
	pthread_cond_t reply;   /* signalled by nobody: a reply is its time passing */
	long latency_us, timeout_us;
	atomic_long calls, timeouts;
};

struct stage {
	const char *name;
	struct queue *in;     /* its own: named for the dashboard, as the dependency */
	struct stage *next;   /* NULL: the last */
	struct dependency *dep;
	int workers, slow;
	pthread_t t[MAX_WORKERS];
	atomic_long done, dropped;
};

static struct queue to_parse, to_enrich, to_verify, to_store;
static struct dependency schema = {.name = "schema", .latency_us = 200},
	geo = {.name = "geo", .latency_us = 1000}, auth = {.name = "auth", .latency_us = 400},
	db = {.name = "db", .latency_us = 600};
static struct stage stages[NSTAGES] = {
	{.name = "parse", .in = &to_parse, .dep = &schema, .workers = 2},
	{.name = "enrich", .in = &to_enrich, .dep = &geo, .workers = 4},
	{.name = "verify", .in = &to_verify, .dep = &auth, .workers = 2},
	{.name = "store", .in = &to_store, .dep = &db, .workers = 3},
};
static struct stage *const enrich = &stages[1], *const verify = &stages[2], *const store = &stages[3];

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t quota_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t account_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t account_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t forgotten_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forgotten = PTHREAD_COND_INITIALIZER;

static atomic_int stopping, stall_armed;
static volatile sig_atomic_t terminated;
static int opt_hot, opt_leak, opt_deadlock, opt_burst, opt_lock_order, opt_stall, opt_flood;
static atomic_long accepted, rejected, lock_backoffs;
static unsigned cache[256];

static void queue_init(struct queue *q, const char *name, unsigned cap)
{
	char full[32];
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->items = calloc(cap, sizeof *q->items);
	q->cap = cap;
	snprintf(full, sizeof full, "to_%s", name);
	q->tq = track_queue_register(full, cap);
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

/* Take one item into *v: 0, or -1 when the queue is closed and empty (drained). */
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

static struct timespec after_us(long us)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += us / 1000000;
	t.tv_nsec += us % 1000000 * 1000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static int before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec ? a->tv_sec < b->tv_sec : a->tv_nsec < b->tv_nsec;
}

/* One call to d, whose reply takes reply_us (-1: never comes): 0, or -1 when it ran past
 * d's timeout (counted).  With no_timeout, the caller waits for the reply however long. */
static int dependency_call(struct dependency *d, long reply_us, int no_timeout)
{
	struct timespec deadline = after_us(d->timeout_us), reply;
	int rc = 0;
	atomic_fetch_add(&d->calls, 1);
	if (sem_timedwait(&d->conns, &deadline) != 0) {   /* no connection free in time */
		atomic_fetch_add(&d->timeouts, 1);
		return -1;
	}
	reply = after_us(reply_us < 0 ? 0 : reply_us);
	pthread_mutex_lock(&d->lock);
	for (;;) {
		const struct timespec *until = no_timeout || before(&reply, &deadline) ? &reply : &deadline;
		int w = reply_us < 0 ? pthread_cond_wait(&d->reply, &d->lock)
				     : pthread_cond_timedwait(&d->reply, &d->lock, until);
		if (w != ETIMEDOUT)
			continue;
		if (until == &deadline) {
			atomic_fetch_add(&d->timeouts, 1);
			rc = -1;
		}
		break;
	}
	pthread_mutex_unlock(&d->lock);
	sem_post(&d->conns);
	return rc;
}

/* What a stage does to an item besides calling its dependency. */
static void stage_work(struct stage *s, long v)
{
	if (s == enrich) {   /* a shared cache, looked up (and refilled) under its lock */
		pthread_mutex_lock(&cache_lock);
		if (opt_hot)   /* refill I/O under the lock: every other enricher queues behind it */
			usleep(500);
		cache[v & 255] = (unsigned)v;
		if (opt_lock_order) {   /* then the quota: cache_lock -> quota_lock */
			pthread_mutex_lock(&quota_lock);
			pthread_mutex_unlock(&quota_lock);
		}
		pthread_mutex_unlock(&cache_lock);
	} else if (s == store && opt_lock_order && v % 100 == 0) {
		/* one item in 100 (a refund) takes quota_lock -> cache_lock: the inversion */
		for (;;) {
			struct timespec t = after_us(20000);
			pthread_mutex_lock(&quota_lock);
			if (pthread_mutex_timedlock(&cache_lock, &t) == 0) {
				pthread_mutex_unlock(&cache_lock);
				pthread_mutex_unlock(&quota_lock);
				break;
			}
			pthread_mutex_unlock(&quota_lock);   /* back off, and try again */
			atomic_fetch_add(&lock_backoffs, 1);
			usleep(1000);
		}
	}
}

static void *stage_worker(void *arg)
{
	struct stage *s = arg;
	long v, n = 0;
	while (queue_get(s->in, &v) == 0) {
		long us = s->dep->latency_us * (s->slow ? 8 : 1);
		int forever = 0;
		if (++n % 50 == 0)
			us *= 20;   /* the slow tail: past the timeout */
		if (s == verify && opt_stall && atomic_exchange(&stall_armed, 0))
			forever = 1;   /* the call made without a timeout, never answered */
		if (dependency_call(s->dep, forever ? -1 : us, forever) != 0) {
			atomic_fetch_add(&s->dropped, 1);
			continue;
		}
		stage_work(s, v);
		atomic_fetch_add(&s->done, 1);
		if (s->next != NULL && queue_put(s->next->in, v, 0) != 0)
			break;
	}
	return NULL;
}

/* Bursts: every 10 ms, 1 to 24 requests (about 1,250 a second); --burst adds four queues'
 * worth every 2 s.  A request that finds the queue full is rejected. */
static void *ingress(void *arg)
{
	unsigned seed = 1;
	long v = 0, tick = 0;
	struct timespec pace = {0, 10000000};
	(void)arg;
	while (!atomic_load(&stopping)) {
		long i, n = 1 + rand_r(&seed) % 24;
		if (opt_burst && ++tick % 200 == 0)
			n += 4 * to_parse.cap;
		if (opt_flood)
			n = 1L << 40;   /* until stopped */
		for (i = 0; i < n && !atomic_load(&stopping); i++) {
			if (queue_put(&to_parse, v++, !opt_flood) == 0)
				atomic_fetch_add(&accepted, 1);
			else
				atomic_fetch_add(&rejected, 1);
		}
		nanosleep(&pace, NULL);
	}
	return NULL;
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
	for (i = 0; i < LEAK_MAX && !atomic_load(&stopping); i++) {
		pthread_t t;   /* joinable, and never joined */
		pthread_create(&t, NULL, leaked, NULL);
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

static void *arm_stall(void *arg)
{
	sleep(1);
	atomic_store(&stall_armed, 1);
	return arg;
}

static long arg_num(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "demo_pipeline: %s needs a number\n", argv[*i]);
		exit(2);
	}
	return atol(argv[++*i]);
}

static struct stage *stage_named(const char *name)
{
	int i;
	for (i = 0; name != NULL && i < NSTAGES; i++)
		if (strcmp(stages[i].name, name) == 0)
			return &stages[i];
	fprintf(stderr, "demo_pipeline: --slow needs a stage: parse, enrich, verify or store\n");
	exit(2);
}

static void start(pthread_t *t, void *(*fn)(void *), void *arg, const char *name)
{
	if (pthread_create(t, NULL, fn, arg) != 0) {
		fprintf(stderr, "demo_pipeline: cannot start a thread\n");
		exit(1);
	}
	pthread_setname_np(*t, name);
}

static void on_term(int sig)
{
	(void)sig;
	terminated = 1;
}

/* Until stdin closes, seconds pass, or SIGTERM/SIGINT (blocked in every other thread; let
 * in only while ppoll waits). */
static void run_until_told(long seconds, const sigset_t *waiting_mask)
{
	struct timespec end, now, left;
	char buf[256];
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	while (!terminated) {
		struct pollfd in = {0, POLLIN, 0};
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000;
		}
		if (seconds > 0 && left.tv_sec < 0)
			return;
		if (ppoll(seconds > 0 ? NULL : &in, seconds > 0 ? 0 : 1, seconds > 0 ? &left : NULL,
			  waiting_mask) > 0 && read(0, buf, sizeof buf) <= 0)
			return;
	}
}

/* Join a stage's workers by the deadline: how many did not end by then (named). */
static int join_stage(struct stage *s, const struct timespec *deadline)
{
	int i, late = 0;
	for (i = 0; i < s->workers; i++) {
		if (pthread_timedjoin_np(s->t[i], NULL, deadline) != 0) {
			fprintf(stderr, "demo_pipeline: %s-%d still busy after the grace period: abandoned\n",
				s->name, i + 1);
			late++;
		}
	}
	return late;
}

int main(int argc, char **argv)
{
	pthread_t in_thread, other[4];
	long cap = 64, seconds = 0, grace = 2;
	int no = 0, i, late = 0;
	struct sigaction sa;
	sigset_t term, old;
	struct timespec deadline;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--slow") == 0) stage_named(argv[++i])->slow = 1;
		else if (strcmp(argv[i], "--burst") == 0) opt_burst = 1;
		else if (strcmp(argv[i], "--hot") == 0) opt_hot = 1;
		else if (strcmp(argv[i], "--lock-order") == 0) opt_lock_order = 1;
		else if (strcmp(argv[i], "--stall") == 0) opt_stall = 1;
		else if (strcmp(argv[i], "--leak") == 0) opt_leak = 1;
		else if (strcmp(argv[i], "--deadlock") == 0) opt_deadlock = 1;
		else if (strcmp(argv[i], "--flood") == 0) opt_flood = 1;
		else if (strcmp(argv[i], "--parse") == 0) stages[0].workers = (int)arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--enrich") == 0) stages[1].workers = (int)arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--verify") == 0) stages[2].workers = (int)arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--store") == 0) stages[3].workers = (int)arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--capacity") == 0) cap = arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--grace") == 0) grace = arg_num(argc, argv, &i);
		else if (strcmp(argv[i], "--seconds") == 0) seconds = arg_num(argc, argv, &i);
		else {
			fprintf(stderr, "usage: demo_pipeline [--slow STAGE] [--burst] [--hot] [--lock-order] "
					"[--stall] [--leak] [--deadlock] [--flood] [--parse N] [--enrich N] "
					"[--verify N] [--store N] [--capacity N] [--grace S] [--seconds N]\n");
			return 2;
		}
	}
	for (i = 0; i < NSTAGES; i++)
		if (stages[i].workers < 1 || stages[i].workers > MAX_WORKERS) {
			fprintf(stderr, "demo_pipeline: 1 to %d workers a stage\n", MAX_WORKERS);
			return 2;
		}
	if (cap < 1 || grace < 0) {
		fprintf(stderr, "demo_pipeline: capacity 1 or more, grace 0 or more\n");
		return 2;
	}
	/* SIGTERM and SIGINT reach main alone, while it waits */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (i = 0; i < NSTAGES; i++) {
		struct stage *s = &stages[i];
		struct dependency *d = s->dep;
		int w;
		queue_init(s->in, s->name, (unsigned)cap);
		s->next = i + 1 < NSTAGES ? &stages[i + 1] : NULL;
		sem_init(&d->conns, 0, (unsigned)s->workers);   /* the pool is sized to it */
		pthread_mutex_init(&d->lock, NULL);
		pthread_cond_init(&d->reply, NULL);
		d->timeout_us = 10 * d->latency_us;   /* the usual latency, 10 times */
		for (w = 0; w < s->workers; w++) {
			char name[16];
			snprintf(name, sizeof name, "%s-%d", s->name, w + 1);
			start(&s->t[w], stage_worker, s, name);
		}
	}
	start(&in_thread, ingress, NULL, "ingress");
	if (opt_leak)
		start(&other[no++], leaker, NULL, "leaker");
	if (opt_stall)
		start(&other[no++], arm_stall, NULL, "stall");
	if (opt_deadlock) {   /* never joined: they never return */
		pthread_t a, b;
		pthread_create(&a, NULL, transfer, (void *)1);
		pthread_create(&b, NULL, transfer, NULL);
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	run_until_told(seconds, &old);

	/* graceful shutdown: stop intake, drain stage by stage, join within the grace period */
	atomic_store(&stopping, 1);
	pthread_join(in_thread, NULL);
	for (i = 0; i < NSTAGES; i++) {   /* each stage has the grace period once its input closes */
		queue_close(stages[i].in);
		deadline = after_us(grace * 1000000);
		late += join_stage(&stages[i], &deadline);
	}
	for (i = 0; i < no; i++)
		pthread_join(other[i], NULL);
	printf("%s: accepted %ld, rejected %ld, stored %ld", terminated ? "terminated" : "stopped",
	       atomic_load(&accepted), atomic_load(&rejected), atomic_load(&store->done));
	for (i = 0; i < NSTAGES; i++)
		printf("; %s %ld done, %ld dropped, %s %ld calls, %ld timeouts", stages[i].name,
		       atomic_load(&stages[i].done), atomic_load(&stages[i].dropped), stages[i].dep->name,
		       atomic_load(&stages[i].dep->calls), atomic_load(&stages[i].dep->timeouts));
	printf("; lock back-offs %ld; abandoned %d\n", atomic_load(&lock_backoffs), late);
	fflush(stdout);
	return 0;
}

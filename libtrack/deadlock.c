/*
 * deadlock.c — real deadlocks, found the moment they close.
 *
 * When a thread starts waiting for a lock (or for a thread, in a join), it follows the
 * wait-for chain: the lock's owner, what that owner waits for, that lock's owner, and so on.
 * If the chain comes back to the thread itself, every thread on it holds what the next one
 * waits for and none can move: a deadlock.  The last thread to join the cycle is the one
 * that sees it close (each thread publishes its state, then fences, then looks at the
 * others', so two threads closing a cycle at once cannot both miss it).
 *
 * Waits with a timeout never count (they end by themselves), nor do condvar, semaphore and
 * barrier waits (nobody owns what they wait for).  Before reporting, the chain is read again
 * a little later: every thread must still be waiting on the same object since the same
 * moment.  A program that is merely slow never has a cycle of owners, so it is never
 * reported.  Then, per TRACK_ON_DEADLOCK: report only (the program hangs, as it would
 * without track), exit with TRACK_DEADLOCK_EXITCODE, or abort.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define CONFIRM_NS 50000000L   /* re-read the cycle this long after first seeing it */

struct chain {
	int32_t tids[TRACK_CYCLE_MAX];
	uint32_t stacks[TRACK_CYCLE_MAX];
	uint64_t objs[TRACK_CYCLE_MAX];
	uint64_t since[TRACK_CYCLE_MAX];
	uint32_t n;
};

static int is_lock_wait(uint32_t state)
{
	return state == TRACK_TS_MUTEX || state == TRACK_TS_SPIN || state == TRACK_TS_RWLOCK_RD ||
	       state == TRACK_TS_RWLOCK_WR || state == TRACK_TS_JOIN;
}

/* A thread holding rwlock idx for reading that is itself stuck in a lock wait, or 0. */
static int32_t stuck_reader(uint32_t idx)
{
	uint64_t i, n = TRACK_LOAD(&track_g.hdr->threads_used);
	for (i = 0; i < n && i < track_g.hdr->max_threads; i++) {
		const struct track_thread_rec *r = &track_g.threads[i];
		uint32_t k, held = TRACK_LOAD(&r->nheld);
		if (!is_lock_wait(TRACK_LOAD(&r->state)))
			continue;
		for (k = 0; k < held && k < TRACK_HELD_MAX; k++)
			if (TRACK_LOAD(&r->held[k]) == (idx | TRACK_HELD_READ))
				return TRACK_LOAD(&r->tid);
	}
	return 0;
}

/* Whether taking again a lock the thread owns blocks for ever, or fails: glibc refuses
 * (EDEADLK) an errorcheck mutex and an rwlock whose write side the thread holds; a normal
 * or adaptive mutex and a spinlock wait for ever.  (Recursive mutexes never get here; a
 * write request on an rwlock the thread reads is handled by the readers path.) */
static int relock_blocks(uint32_t state, uint64_t addr)
{
	const pthread_mutex_t *m = (const pthread_mutex_t *)(uintptr_t)addr;
	if (state == TRACK_TS_RWLOCK_RD || state == TRACK_TS_RWLOCK_WR)
		return 0;
	if (state == TRACK_TS_MUTEX)
		return (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & 3) !=
		       PTHREAD_MUTEX_ERRORCHECK;
	return 1;
}

/* Who must act before thread r can go on, or 0 if nobody in particular. */
static int32_t waits_for(const struct track_thread_rec *r)
{
	uint32_t state = TRACK_LOAD(&r->state), idx = TRACK_LOAD(&r->wait_obj_idx);
	const struct track_obj_rec *o;
	int32_t owner;
	if (!is_lock_wait(state) || (TRACK_LOAD(&r->wait_flags) & TRACK_WF_TIMED))
		return 0;
	if (state == TRACK_TS_JOIN) {
		/* The joined thread may not have started when the join began. */
		int32_t tid = TRACK_LOAD(&r->wait_tid);
		return tid ? tid : track_tid_of_pthread(TRACK_LOAD(&r->wait_obj));
	}
	if (idx < 1 || idx > track_g.hdr->max_objects)
		return 0;
	o = &track_g.objs[idx - 1];
	owner = TRACK_LOAD(&o->owner_tid);
	if (owner == TRACK_LOAD(&r->tid) && !relock_blocks(state, TRACK_LOAD(&r->wait_obj)))
		return 0;
	/* A writer waits for the readers; one that holds a read lock itself waits for ever. */
	if (owner == 0 && state == TRACK_TS_RWLOCK_WR && TRACK_LOAD(&o->readers) > 0)
		owner = stuck_reader(idx);
	return owner;
}

/* Follow the chain from thread tid; 1 if it comes back to tid (c filled). */
static int walk(int32_t tid, struct chain *c)
{
	int32_t cur = tid;
	c->n = 0;
	while (c->n < TRACK_CYCLE_MAX) {
		const struct track_thread_rec *r = track_thread_by_tid(cur);
		int32_t next;
		uint32_t k;
		if (r == NULL || TRACK_LOAD(&r->state) == TRACK_TS_EXITED)
			return 0;
		next = waits_for(r);
		if (next == 0)
			return 0;
		c->tids[c->n] = cur;
		c->stacks[c->n] = TRACK_LOAD(&r->wait_stack);
		c->objs[c->n] = TRACK_LOAD(&r->wait_obj);
		c->since[c->n] = TRACK_LOAD(&r->since_ns);
		c->n++;
		if (next == tid)
			return 1;
		for (k = 0; k < c->n; k++)
			if (c->tids[k] == next)
				return 0;   /* a cycle without us: its last member reports it */
		cur = next;
	}
	return 0;
}

static int same_chain(const struct chain *a, const struct chain *b)
{
	return a->n == b->n && memcmp(a->tids, b->tids, a->n * sizeof a->tids[0]) == 0 &&
	       memcmp(a->objs, b->objs, a->n * sizeof a->objs[0]) == 0 &&
	       memcmp(a->since, b->since, a->n * sizeof a->since[0]) == 0;
}

static uint64_t chain_signature(const struct chain *c)
{
	uint64_t h = 0;
	uint32_t k;
	for (k = 0; k < c->n; k++)
		h += ((uint64_t)(uint32_t)c->tids[k] * 0x9e3779b97f4a7c15ull) ^ c->objs[k];
	return h | 1;
}

static void act(uint32_t n)
{
	char msg[160];
	int len;
	if (track_g.on_deadlock == TRACK_OD_REPORT)
		return;
	len = snprintf(msg, sizeof msg,
		       "track: deadlock: %u threads wait for each other; %s (TRACK_ON_DEADLOCK)\n",
		       n, track_g.on_deadlock == TRACK_OD_ABORT ? "aborting" : "exiting");
	if (len > 0 && write(2, msg, (size_t)len) < 0)
		len = 0;
	if (track_g.on_deadlock == TRACK_OD_ABORT)
		abort();
	track_segment_mark_exit();
	_exit(track_g.deadlock_exit);
}

/* Wait before re-reading the cycle, without becoming a cancellation point or changing
 * errno (the wrapper this runs in may be neither). */
static void confirm_pause(struct timespec *left)
{
	int saved = errno, state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	while (nanosleep(left, left) != 0 && errno == EINTR)
		;
	pthread_setcancelstate(state, NULL);
	errno = saved;
}

void track_deadlock_check(struct track_tls *t)
{
	struct chain first, again;
	struct timespec pause = {0, CONFIRM_NS};
	/* Our state is published; now look at the others' (pairs with their fences). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (t->busy || !walk(t->tid, &first))
		return;
	confirm_pause(&pause);
	if (!walk(t->tid, &again) || !same_chain(&first, &again))
		return;
	track_finding_deadlock(again.tids, again.stacks, again.objs, again.n,
			       chain_signature(&again));
	act(again.n);
}

/* TRACK_ON_DEADLOCK=report|exit|abort (default report: by hand, nothing changes what the
 * program does) and TRACK_DEADLOCK_EXITCODE (default 1). */
void track_deadlock_init(void)
{
	const char *m = getenv("TRACK_ON_DEADLOCK");
	track_g.on_deadlock = TRACK_OD_REPORT;
	if (m != NULL && strcmp(m, "exit") == 0)
		track_g.on_deadlock = TRACK_OD_EXIT;
	else if (m != NULL && strcmp(m, "abort") == 0)
		track_g.on_deadlock = TRACK_OD_ABORT;
	track_g.deadlock_exit = (int)track_env_u64("TRACK_DEADLOCK_EXITCODE", 1, 1, 255);
}

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
 * Other threads' records change under the walk: each is read whole under its sequence
 * counter (retried a bounded number of times, then taken as "not waiting"), and nothing the
 * walk reads is the program's own memory, which may have been freed since.  What a lock
 * does when its owner asks again (block for ever, or fail), and whether an rwlock prefers
 * writers (then a read request waits for a writer queued on it, who waits for the readers),
 * the waiter itself noted.
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
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define CONFIRM_NS 50000000L   /* re-read the cycle this long after first seeing it */

/* A wait-for chain being followed: room for cap threads.  Most chains are short and live
 * on the stack (struct short_chain); a chain longer than TRACK_CYCLE_MAX is followed again
 * in pages mapped for the occasion (long_check): no lock, no allocator, any length. */
struct chain {
	int32_t *tids;
	uint32_t *stacks;
	uint64_t *objs;
	uint64_t *since;
	uint32_t n, cap;
};

struct short_chain {
	struct chain c;
	int32_t tids[TRACK_CYCLE_MAX];
	uint32_t stacks[TRACK_CYCLE_MAX];
	uint64_t objs[TRACK_CYCLE_MAX];
	uint64_t since[TRACK_CYCLE_MAX];
};

#define ITEM_BYTES (sizeof(int32_t) + sizeof(uint32_t) + 2 * sizeof(uint64_t))

static struct chain *short_chain(struct short_chain *b)
{
	b->c.tids = b->tids;
	b->c.stacks = b->stacks;
	b->c.objs = b->objs;
	b->c.since = b->since;
	b->c.cap = TRACK_CYCLE_MAX;
	return &b->c;
}

/* A chain of cap threads on mem (cap * ITEM_BYTES bytes, 8-byte aligned). */
static void chain_on(struct chain *c, char *mem, uint32_t cap)
{
	c->objs = (uint64_t *)mem;
	c->since = c->objs + cap;
	c->tids = (int32_t *)(c->since + cap);
	c->stacks = (uint32_t *)(c->tids + cap);
	c->cap = cap;
}

static int is_lock_wait(uint32_t state)
{
	return state == TRACK_TS_MUTEX || state == TRACK_TS_SPIN || state == TRACK_TS_RWLOCK_RD ||
	       state == TRACK_TS_RWLOCK_WR || state == TRACK_TS_JOIN;
}

/* A thread holding rwlock idx for reading that is itself stuck in a lock wait, or 0. */
static int32_t stuck_reader(uint32_t idx)
{
	uint64_t i, n = TRACK_LOAD(&track__g.hdr->threads_used);
	for (i = 0; i < n && i < track__g.hdr->max_threads; i++) {
		const struct track_thread_rec *r = &track__g.threads[i];
		uint32_t k, held = TRACK_LOAD(&r->nheld);
		if (!is_lock_wait(TRACK_LOAD(&r->state)))
			continue;
		for (k = 0; k < held && k < TRACK_HELD_MAX; k++)
			if (TRACK_LOAD(&r->held[k]) == (idx | TRACK_HELD_READ))
				return TRACK_LOAD(&r->tid);
	}
	return 0;
}

/* What a thread record says about its wait, read whole. */
struct wait_view {
	uint32_t state, flags, idx, stack;
	int32_t tid, wait_tid;
	uint64_t obj, since;
};

#define SEQ_TRIES 64

/* A consistent copy of r's wait state; 0 if it kept changing (or is being changed by a
 * thread that stopped half-way, say suspended by a signal): then it counts as not waiting. */
static int read_wait(const struct track_thread_rec *r, struct wait_view *v)
{
	int tries;
	for (tries = 0; tries < SEQ_TRIES; tries++) {
		uint32_t s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (TRACK_SEQ_WRITING(s1))
			continue;
		v->state = TRACK_LOAD(&r->state);
		v->flags = TRACK_LOAD(&r->wait_flags);
		v->idx = TRACK_LOAD(&r->wait_obj_idx);
		v->stack = TRACK_LOAD(&r->wait_stack);
		v->tid = TRACK_LOAD(&r->tid);
		v->wait_tid = TRACK_LOAD(&r->wait_tid);
		v->obj = TRACK_LOAD(&r->wait_obj);
		v->since = TRACK_LOAD(&r->since_ns);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) == s1)
			return 1;
	}
	return 0;
}

/* A thread queued, for ever (no timeout), to write rwlock idx (at obj), or 0. */
static int32_t queued_writer(uint32_t idx, uint64_t obj)
{
	uint64_t i, n = TRACK_LOAD(&track__g.hdr->threads_used);
	for (i = 0; i < n && i < track__g.hdr->max_threads; i++) {
		struct wait_view w;
		if (TRACK_LOAD(&track__g.threads[i].state) != TRACK_TS_RWLOCK_WR ||
		    !read_wait(&track__g.threads[i], &w))
			continue;
		if (w.state == TRACK_TS_RWLOCK_WR && w.idx == idx && w.obj == obj &&
		    !(w.flags & TRACK_WF_TIMED))
			return w.tid;
	}
	return 0;
}

/* Whether taking again a lock the thread owns blocks for ever, or fails: glibc refuses
 * (EDEADLK) an errorcheck mutex and an rwlock whose write side the thread holds; a normal
 * or adaptive mutex and a spinlock wait for ever.  (Recursive mutexes never get here; a
 * write request on an rwlock the thread reads is handled by the readers path.) */
static int relock_blocks(const struct wait_view *v)
{
	if (v->state == TRACK_TS_RWLOCK_RD || v->state == TRACK_TS_RWLOCK_WR)
		return 0;
	return !(v->flags & TRACK_WF_RELOCK_FAILS);
}

/* Who must act before the thread seen in v can go on, or 0 if nobody in particular. */
static int32_t waits_for(const struct wait_view *v)
{
	const struct track_obj_rec *o;
	int32_t owner;
	if (!is_lock_wait(v->state) || (v->flags & TRACK_WF_TIMED))
		return 0;
	if (v->state == TRACK_TS_JOIN)   /* the joined thread may not have started then */
		return v->wait_tid ? v->wait_tid : track__tid_of_pthread(v->obj);
	if (v->idx < 1 || v->idx > track__g.hdr->max_objects)
		return 0;
	o = &track__g.objs[v->idx - 1];
	if (TRACK_LOAD(&o->addr) != v->obj)
		return 0;   /* the record describes another object by now */
	owner = TRACK_LOAD(&o->owner_tid);
	if (owner == v->tid && !relock_blocks(v))
		return 0;
	/* A writer waits for the readers; one that holds a read lock itself waits for ever. */
	if (owner == 0 && v->state == TRACK_TS_RWLOCK_WR && TRACK_LOAD(&o->readers) > 0)
		owner = stuck_reader(v->idx);
	/* A reader of a writer-preferring rwlock waits behind a writer queued on it. */
	if (owner == 0 && v->state == TRACK_TS_RWLOCK_RD && (v->flags & TRACK_WF_PREFER_WRITER) &&
	    TRACK_LOAD(&o->readers) > 0)
		owner = queued_writer(v->idx, v->obj);
	return owner;
}

/* Whether next is on the chain already (a cycle without the walker: its last member reports
 * it).  Exactly among the first TRACK_CYCLE_MAX; past them by Brent's marks (the thread at
 * each power of two of the length), which catch any loop within twice its length without
 * the quadratic cost of looking through a long chain at every step. */
static int seen(const struct chain *c, int32_t next, int32_t *mark)
{
	uint32_t k;
	if (c->n <= TRACK_CYCLE_MAX) {
		for (k = 0; k < c->n; k++)
			if (c->tids[k] == next)
				return 1;
	} else if (next == *mark) {
		return 1;
	}
	if ((c->n & (c->n - 1)) == 0)
		*mark = c->tids[c->n - 1];
	return 0;
}

/* Follow the chain from thread tid; 1 if it comes back to tid (c filled), 0 if not, -1 if
 * it is longer than c holds. */
static int walk(int32_t tid, struct chain *c)
{
	int32_t cur = tid, mark = 0;
	c->n = 0;
	while (c->n < c->cap) {
		const struct track_thread_rec *r = track__thread_by_tid(cur);
		struct wait_view v;
		int32_t next;
		if (r == NULL || !read_wait(r, &v) || v.tid != cur || v.state == TRACK_TS_EXITED)
			return 0;
		next = waits_for(&v);
		if (next == 0)
			return 0;
		c->tids[c->n] = cur;
		c->stacks[c->n] = v.stack;
		c->objs[c->n] = v.obj;
		c->since[c->n] = v.since;
		c->n++;
		if (next == tid)
			return 1;
		if (seen(c, next, &mark))
			return 0;
		cur = next;
	}
	return -1;
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
		h += track_hash_mix((uint32_t)c->tids[k]) ^ c->objs[k];
	return h | 1;
}

/* A hang confirmed and recorded (what: "deadlock: 2 threads waiting for each other"): per
 * TRACK_ON_DEADLOCK, leave it, or say so and end the process. */
static void act(const char *what)
{
	char msg[200];
	size_t len;
	if (track__g.on_deadlock == TRACK_OD_REPORT)
		return;
	len = track__format(msg, sizeof msg, "track: %s; %s (TRACK_ON_DEADLOCK)\n", what,
			    track__g.on_deadlock == TRACK_OD_ABORT ? "aborting" : "exiting");
	if (write(2, msg, len) < 0)
		len = 0;
	if (track__g.on_deadlock == TRACK_OD_ABORT)
		abort();
	track__segment_mark_exit(TRACK_PS_DEADLOCK, track__g.deadlock_exit);
	track__exit_now(track__g.deadlock_exit);
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

/* A cycle seen (first): read it again a little later into again, and if nothing moved,
 * record it and act on it. */
static void confirm(struct chain *first, struct chain *again, int32_t tid)
{
	struct timespec pause = {0, CONFIRM_NS};
	char what[96];
	confirm_pause(&pause);
	if (walk(tid, again) != 1 || !same_chain(first, again))
		return;
	track__finding_deadlock(again->tids, again->stacks, again->objs, again->n,
			       chain_signature(again));
	track__deadlock_words(what, sizeof what, again->n);
	act(what);
}

/* A chain longer than TRACK_CYCLE_MAX threads: followed again in private pages, room for
 * every thread there is (a longer chain must loop), unmapped after. */
static void long_check(int32_t tid)
{
	uint64_t used = TRACK_LOAD(&track__g.hdr->threads_used), max = track__g.hdr->max_threads;
	uint32_t cap = (uint32_t)(used < max ? used : max) + 1;
	size_t bytes = 2 * (size_t)cap * ITEM_BYTES;
	char *mem = track__map_private(bytes);
	struct chain first, again;
	if (mem == NULL)
		return;
	chain_on(&first, mem, cap);
	chain_on(&again, mem + bytes / 2, cap);
	if (walk(tid, &first) == 1)
		confirm(&first, &again, tid);
	munmap(mem, bytes);
}

void track__deadlock_check(struct track__thread *t)
{
	struct short_chain first, again;
	int r;
	/* Our state is published; now look at the others' (pairs with their fences). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (track__busy())
		return;
	r = walk(t->tid, short_chain(&first));
	if (r < 0)
		long_check(t->tid);
	else if (r > 0)
		confirm(&first.c, short_chain(&again), t->tid);
}

/* How many threads wait (state) on obj now with no timeout, and the latest moment one of
 * them began: a destroy that finds them waits for them for ever. */
static uint32_t untimed_waiters(uint64_t obj, uint32_t state, uint64_t *latest)
{
	uint64_t i, n = TRACK_LOAD(&track__g.hdr->threads_used);
	uint32_t count = 0;
	*latest = 0;
	for (i = 0; i < n && i < track__g.hdr->max_threads; i++) {
		struct wait_view v;
		if (!read_wait(&track__g.threads[i], &v) || v.state != state ||
		    v.obj != obj || (v.flags & TRACK_WF_TIMED))
			continue;
		count++;
		if (v.since > *latest)
			*latest = v.since;
	}
	return count;
}

void track__destroy_hang_check(struct track_obj_rec *r, const void *obj, uint32_t state)
{
	struct timespec pause = {0, CONFIRM_NS};
	uint64_t latest, again_latest, at = (uint64_t)(uintptr_t)obj;
	uint64_t woken = TRACK_LOAD(&r->last_wake_ns), waits = TRACK_LOAD(&r->acquisitions);
	uint32_t n = untimed_waiters(at, state, &latest);
	char what[160];
	if (n == 0 || track__g.on_deadlock == TRACK_OD_REPORT)
		return;
	confirm_pause(&pause);
	/* still the same waiters, nobody woken, no barrier round completed meanwhile */
	if (untimed_waiters(at, state, &again_latest) != n || again_latest != latest ||
	    TRACK_LOAD(&r->last_wake_ns) != woken || TRACK_LOAD(&r->acquisitions) != waits)
		return;
	track__format(what, sizeof what, "%s %p destroyed with %u thread%s waiting %s it that "
		      "nobody will release: the destroy waits for them for ever",
		      state == TRACK_TS_BARRIER ? "barrier" : "condvar", obj, n, n == 1 ? "" : "s",
		      state == TRACK_TS_BARRIER ? "at" : "on");
	act(what);
}

/* TRACK_ON_DEADLOCK=report|exit|abort (default report: by hand, nothing changes what the
 * program does) and TRACK_DEADLOCK_EXITCODE (default 1). */
void track__deadlock_init(void)
{
	int action = track__env_pick(TRACK_ENV_ON_DEADLOCK);
	track__g.on_deadlock = action >= 0 ? (uint32_t)action : TRACK_OD_REPORT;
	track__g.deadlock_exit = (int)track__env_num(TRACK_ENV_DEADLOCK_EXITCODE);
}

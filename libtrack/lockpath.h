/*
 * lockpath.h — the bookkeeping every lock wrapper shares: what happens when a lock is taken
 * without waiting (inline, the hot path), when it had to wait, when it is released, and when
 * a thread blocks in any wrapped call (slow paths in lockpath.c).
 *
 * Ownership facts (owner, depth, acquisition counts, wait statistics) are written by the
 * thread that holds the lock, while it holds it: the lock itself orders those writes, so
 * they need no atomic read-modify-write.  Shared-side facts (rwlock readers, waiters) use
 * atomic operations.
 */
#ifndef TRACK_LOCKPATH_H
#define TRACK_LOCKPATH_H

#include <errno.h>

#include "shim.h"

/* The calling thread's state and the record of the object at addr, or NULL to pass through. */
static inline struct track_obj_rec *track__lock_rec(struct track__thread **tp, const void *addr,
						   uint32_t kind, uint64_t pc, int create)
{
	/* A registered thread implies the shim is on: no global flag on the fast path. */
	struct track__thread *t = track__self();
	*tp = t;
	if (unlikely(t == NULL))
		return NULL;
	return track__obj(t, addr, kind, pc, create);
}

/* Lock r, which the record says thread t holds, was taken by t again without waiting:
 * whether it is a recursive mutex (1: one more level).  Any other lock cannot be taken
 * twice: its memory was set up afresh while the old lock in it was held (the function whose
 * local it was returned, or it was freed, with the lock held): a freed-locked finding, and
 * the hold listed goes on as the new lock's (0). */
TRACK_HIDDEN int track__owner_took_again(struct track__thread *t, struct track_obj_rec *r,
					 uint64_t pc);

/* The lock at addr was released and has no live record: if the thread lists it as held (its
 * record was retired after the lock was taken, by recycling), it holds it no more. */
TRACK_HIDDEN void track__held_forget(struct track__thread *t, uintptr_t addr);

static inline void track__unlock_untracked(struct track__thread *t, const void *addr)
{
	if (t != NULL && unlikely(t->thr->nheld != 0))
		track__held_forget(t, (uintptr_t)addr);
}

/* The slot of edge key (from_id << 32 | to_id) in a thread's edge cache. */
static inline uint32_t track__ecache_at(uint64_t key)
{
	return track_hash_bits(key, 6) & (TRACK_ECACHE_SIZE - 1);
}

/* Whether this thread already reported the edge from -> to with these flags and this set of
 * other held locks. */
static inline int track__ecache_hit(const struct track__thread *t, uint32_t from, uint32_t to,
				   uint32_t gate_hash, uint32_t flags)
{
	uint64_t key = (uint64_t)from << 32 | to;
	const struct track__ecache_ent *c = &t->ecache[track__ecache_at(key)];
	return c->key == key && c->gate_hash == gate_hash && (c->flags & flags) == flags;
}

/* Lock-order bookkeeping after a blocking-capable acquisition made while holding `before`
 * other locks (flags: TRACK_EF_TO_WRITE for an exclusive request).  The common nested case,
 * one lock held and an edge already known, is a cache hit. */
static inline int track__order_note(struct track__thread *t, uint32_t before, uint32_t flags)
{
	if (likely(before == 0) || track__g.lock_order == TRACK_LO_OFF)
		return 0;
	if (likely(before == 1) && t->held_id[0] != t->held_id[1] &&
	    track__ecache_hit(t, t->held_id[0], t->held_id[1], 0,
			     flags | (t->thr->held[0] & TRACK_HELD_READ ? 0 : TRACK_EF_FROM_WRITE)))
		return 0;
	return track__order_slow(t, before, flags);
}

/* Thread t took lock r exclusively (mutex, spinlock, rwlock for writing); blocking: it was
 * (or could have been) a waiting acquisition, which orders r after the locks held. */
static inline void track__got_excl(struct track__thread *t, struct track_obj_rec *r, uint64_t pc,
				  int blocking)
{
	if (unlikely(r->owner_tid == t->tid)) {
		/* a recursive mutex taken again by its owner: no edge */
		if (track__owner_took_again(t, r, pc))
			r->depth++;
	} else {
		uint32_t before;
		TRACK_STORE(&r->owner_tid, t->tid);
		before = track__held_push(t, r, 0, pc);
		if (blocking)
			track__order_note(t, before, TRACK_EF_TO_WRITE);
	}
	TRACK_STORE(&r->acquisitions, r->acquisitions + 1);
}

/* Whether rwlock l prefers writers, and the lock-order flags of a read request of rwlock r.
 * Readers do not block readers, so a
 * read request is no wait in a cycle of readers, unless the rwlock prefers writers (glibc's
 * PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): then a queued writer makes the read
 * request wait, as an exclusive request would.  Read from the rwlock itself (its kind is in
 * glibc's public layout), which the caller now holds. */
static inline int track__rwlock_prefers_writers(const pthread_rwlock_t *l)
{
	return __atomic_load_n(&l->__data.__flags, __ATOMIC_RELAXED) ==
	       PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
}

static inline uint32_t track__read_request_flags(const struct track_obj_rec *r)
{
	return track__rwlock_prefers_writers((const pthread_rwlock_t *)(uintptr_t)r->addr)
		       ? TRACK_EF_TO_WRITE : 0;
}

/* Thread t took rwlock r for reading. */
static inline void track__got_shared(struct track__thread *t, struct track_obj_rec *r, uint64_t pc,
				    int blocking)
{
	uint32_t before;
	TRACK_ADD(&r->readers, 1);
	TRACK_ADD(&r->acquisitions, 1);
	before = track__held_push(t, r, TRACK_HELD_READ, pc);
	if (blocking)
		track__order_note(t, before, track__read_request_flags(r));
}

/* Acquisition bookkeeping after a successful take that did not wait. */
static inline void track__took(const void *addr, uint32_t kind, uint64_t pc, int shared,
			      int blocking)
{
	struct track__thread *t;
	struct track_obj_rec *r = track__lock_rec(&t, addr, kind, pc, 1);
	if (unlikely(r == NULL))
		return;
	if (shared)
		track__got_shared(t, r, pc, blocking);
	else
		track__got_excl(t, r, pc, blocking);
}

/* A wait in progress: begun when a wrapper is about to block, ended when it returns (or is
 * unwound by cancellation, through __attribute__((cleanup))). */
struct track__wait {
	struct track__thread *t;
	struct track_obj_rec *r;
	uint64_t t0;
	uint64_t dt;
	uint32_t state;        /* the thread's state while it waits */
	uint32_t stack;        /* where it waits (stack id), 0 if not captured */
	uint64_t holder_pc;    /* a lock: where its owner took it, when the wait began (0: no
				  owner known) */
	uintptr_t prev_sp;     /* the thread's wait_sp and wait_gen before this wait: a wait */
	uint64_t prev_gen;     /* in a signal handler nests in another */
};

TRACK_HIDDEN void track__wait_begin(struct track__wait *w, struct track__thread *t,
				   struct track_obj_rec *r, uint32_t state, const void *addr,
				   uint32_t wflags);
TRACK_HIDDEN void track__wait_end(struct track__wait *w);

/* Statistics of an acquisition that had to wait, w (called holding the lock): the lock's
 * figures, its profiles, and the timing of the hold that begins now. */
TRACK_HIDDEN void track__contended(struct track__thread *t, struct track_obj_rec *r,
				   const struct track__wait *w);

/* Release bookkeeping for an exclusive unlock; returns 0 when t was the owner, -1 (nothing
 * changed) when it was not, which the caller reports as misuse. */
static inline int track__release_excl(struct track__thread *t, struct track_obj_rec *r)
{
	if (unlikely(TRACK_LOAD(&r->owner_tid) != t->tid))
		return -1;
	if (unlikely(r->depth > 0)) {
		r->depth--;
		return 0;
	}
	TRACK_STORE(&r->owner_tid, 0);
	track__held_pop(t, r);
	return 0;
}

/* Unlock by a thread the record does not show as the owner: call the real unlock, keep the
 * record truthful about the outcome, and report the misuse, unless ours says the caller
 * does hold it (the lock was taken while untracked: a full table, a signal handler inside
 * the shim). */
TRACK_HIDDEN int track__unlock_misuse(struct track__thread *t, struct track_obj_rec *r,
				     void *obj, uint64_t pc, int (*real_unlock)(void *),
				     int32_t real_owner);

TRACK_HIDDEN int track__timespec_ok(const struct timespec *ts);
TRACK_HIDDEN int track__clock_ok(clockid_t clk);

/* Whether a call of that form passes the argument checks glibc makes before it tries the
 * lock (a plain call has none): when not, the wrapper passes the call straight on, for the
 * real one to report. */
static inline int track__how_args_ok(enum track__how how, clockid_t clk,
				    const struct timespec *abs)
{
	return how == TRACK__PLAIN ||
	       (track__timespec_ok(abs) && (how != TRACK__CLOCK || track__clock_ok(clk)));
}

#endif /* TRACK_LOCKPATH_H */

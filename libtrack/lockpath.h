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
static inline struct track_obj_rec *track_lock_rec(struct track_tls **tp, const void *addr,
						   uint32_t kind, uint64_t pc, int create)
{
	/* A registered thread implies the shim is on: no global flag on the fast path. */
	struct track_tls *t = track_self();
	if (unlikely(t == NULL))
		return NULL;
	*tp = t;
	return track_obj(t, addr, kind, pc, create);
}

/* Thread t took lock r exclusively (mutex, spinlock, rwlock for writing). */
static inline void track_got_excl(struct track_tls *t, struct track_obj_rec *r)
{
	if (unlikely(r->owner_tid == t->tid)) {
		r->depth++;           /* recursive mutex taken again by its owner */
	} else {
		TRACK_STORE(&r->owner_tid, t->tid);
		track_held_push(t, r, 0);
	}
	TRACK_STORE(&r->acquisitions, r->acquisitions + 1);
}

/* Thread t took rwlock r for reading. */
static inline void track_got_shared(struct track_tls *t, struct track_obj_rec *r)
{
	TRACK_ADD(&r->readers, 1);
	TRACK_ADD(&r->acquisitions, 1);
	track_held_push(t, r, TRACK_HELD_READ);
}

/* Fast-path acquisition bookkeeping after a successful non-blocking take. */
static inline void track_took(const void *addr, uint32_t kind, uint64_t pc, int shared)
{
	struct track_tls *t;
	struct track_obj_rec *r = track_lock_rec(&t, addr, kind, pc, 1);
	if (unlikely(r == NULL))
		return;
	if (shared)
		track_got_shared(t, r);
	else
		track_got_excl(t, r);
}

/* A wait in progress: begun when a wrapper is about to block, ended when it returns (or is
 * unwound by cancellation, through __attribute__((cleanup))). */
struct track_wait {
	struct track_tls *t;
	struct track_obj_rec *r;
	uint64_t t0;
	uint64_t dt;
};

TRACK_HIDDEN void track_wait_begin(struct track_wait *w, struct track_tls *t,
				   struct track_obj_rec *r, uint32_t state, const void *addr);
TRACK_HIDDEN void track_wait_end(struct track_wait *w);

/* Statistics of an acquisition that had to wait (called holding the lock). */
static inline void track_contended(struct track_tls *t, struct track_obj_rec *r, uint64_t dt)
{
	TRACK_STORE(&t->thr->contended, t->thr->contended + 1);
	TRACK_STORE(&r->contended, r->contended + 1);
	TRACK_STORE(&r->wait_ns, r->wait_ns + dt);
	if (dt > r->max_wait_ns)
		TRACK_STORE(&r->max_wait_ns, dt);
}

/* Release bookkeeping for an exclusive unlock; returns 0 when t was the owner, -1 (nothing
 * changed) when it was not, which the caller reports as misuse. */
static inline int track_release_excl(struct track_tls *t, struct track_obj_rec *r)
{
	if (unlikely(r->owner_tid != t->tid))
		return -1;
	if (unlikely(r->depth > 0)) {
		r->depth--;
		return 0;
	}
	TRACK_STORE(&r->owner_tid, 0);
	track_held_pop(t, r);
	return 0;
}

/* Unlock by a thread that does not own the lock: call the real unlock, keep the record
 * truthful about the outcome, and report the misuse. */
TRACK_HIDDEN int track_unlock_misuse(struct track_tls *t, struct track_obj_rec *r,
				     void *obj, uint64_t pc, int (*real_unlock)(void *));

TRACK_HIDDEN int track_timespec_ok(const struct timespec *ts);
TRACK_HIDDEN int track_clock_ok(clockid_t clk);

#endif /* TRACK_LOCKPATH_H */

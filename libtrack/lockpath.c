/*
 * lockpath.c — slow paths shared by the lock wrappers: blocking, misuse on release, and the
 * held-lock list when a lock is released out of order.
 */
#define _GNU_SOURCE
#include <string.h>

#include "lockpath.h"

#define TRACK_X_NAME(e, name) name,
static const char *const kind_names[TRACK_OBJ_KIND_COUNT] = {TRACK_OBJ_KINDS(TRACK_X_NAME)};
#undef TRACK_X_NAME

static int is_lock_wait(uint32_t state)
{
	return state == TRACK_TS_MUTEX || state == TRACK_TS_SPIN || state == TRACK_TS_RWLOCK_RD ||
	       state == TRACK_TS_RWLOCK_WR;
}

/* Where the owner of lock r took it (the return address of its call), read from the owner's
 * record; 0 if there is no single owner (free, or held for reading), or it changed while
 * being read. */
static uint64_t holder_pc(const struct track_obj_rec *r)
{
	int32_t owner = TRACK_LOAD(&r->owner_tid);
	const struct track_thread_rec *o = owner != 0 ? track__thread_by_tid(owner) : NULL;
	uint32_t idx = track__obj_index(r), n, i;
	uint64_t pc = 0;
	if (o == NULL)
		return 0;
	n = TRACK_LOAD(&o->nheld);
	for (i = 0; i < n && i < TRACK_HELD_MAX && pc == 0; i++)
		if ((TRACK_LOAD(&o->held[i]) & ~TRACK_HELD_READ) == idx)
			pc = TRACK_LOAD(&o->held_pc[i]);
	return TRACK_LOAD(&r->owner_tid) == owner ? pc : 0;
}

void track__wait_begin(struct track__wait *w, struct track__thread *t, struct track_obj_rec *r,
		      uint32_t state, const void *addr, uint32_t wflags)
{
	uint32_t n, peak;
	if (unlikely(TRACK_LOAD(&t->thr->state) != TRACK_TS_RUNNING))
		track__wait_stale(t);
	n = TRACK_ADD(&r->waiters, 1);
	peak = TRACK_LOAD(&r->peak_waiters);
	while (n > peak && !__atomic_compare_exchange_n(&r->peak_waiters, &peak, n, 1,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	w->t = t;
	w->r = r;
	w->prev_sp = t->wait_sp;
	w->prev_gen = t->wait_gen;
	w->state = state;
	w->holder_pc = is_lock_wait(state) ? holder_pc(r) : 0;
	w->stack = track__stack_capture(t);
	t->wait_sp = (uintptr_t)w;
	t->wait_gen = TRACK_LOAD(&r->gen);
	track__thread_set_state(t, state, (uint64_t)(uintptr_t)addr, track__obj_index(r), 0,
			       w->stack, wflags);
	if (is_lock_wait(state))
		track__deadlock_check(t);
	w->t0 = track__now_ns();
	w->dt = 0;
	/* the wait it opens is this thread's, and no shim lock is held into it */
	TRACK_ASSERT(t == track__tls.self && track__tls.nlocks == 0);
}

/* The wait is over (on return, or on cancellation's unwind).  Unless the thread's record
 * was closed meanwhile (it ended), or the wait was taken for one left by a jump and closed
 * already (threads.c, track__wait_stale), its waiter count and state are undone. */
void track__wait_end(struct track__wait *w)
{
	struct track__thread *t = w->t;
	if (t == NULL)
		return;
	w->dt = track__now_ns() - w->t0;
	if (track__tls.self == t && t->wait_sp == (uintptr_t)w) {
		TRACK_SUB(&w->r->waiters, 1);
		track__thread_running(t, w->dt);
		if (!is_lock_wait(w->state)) {   /* a lock's are its acquisition's: contended */
			track__prof_obj(w->r, TRACK_PR_WAIT, w->dt, 1);
			track__prof_site(TRACK_PR_WAIT_SITE, w->r, 0, w->stack, w->dt);
		}
	}
	if (track__tls.self == t) {
		t->wait_sp = w->prev_sp;
		t->wait_gen = w->prev_gen;
	}
	w->t = NULL;
}

void track__contended(struct track__thread *t, struct track_obj_rec *r,
		      const struct track__wait *w)
{
	struct track_thread_rec *thr = t->thr;
	uint64_t dt = w->dt, pc = 0;
	uint32_t n = thr->nheld;
	TRACK_STORE(&thr->contended, thr->contended + 1);
	TRACK_STORE(&r->contended, r->contended + 1);
	TRACK_STORE(&r->wait_ns, r->wait_ns + dt);
	if (dt > r->max_wait_ns)
		TRACK_STORE(&r->max_wait_ns, dt);
	if (n - 1 < TRACK_HELD_MAX && (thr->held[n - 1] & ~TRACK_HELD_READ) == track__obj_index(r)) {
		pc = thr->held_pc[n - 1];
		t->held_t0[n - 1] = (w->t0 + dt) | 1;   /* its clock is read: time this hold */
	}
	track__prof_obj(r, TRACK_PR_WAIT, dt, 1);
	track__prof_site(TRACK_PR_WAIT_SITE, r, pc, w->stack, dt);
	if (w->holder_pc != 0)
		track__prof_site(TRACK_PR_HOLD_SITE, r, w->holder_pc, 0, dt);
}

/* Remove listed entry i, closing the gap in every parallel list; when locks beyond the list
 * are held, one of them, unknown, takes the freed last slot as a placeholder (0). */
static void held_drop_at(struct track__thread *t, uint32_t i, uint32_t listed, int more_beyond)
{
	struct track_thread_rec *thr = t->thr;
	if (t->held_t0[i] != 0)
		track__hold_end(t, i);
	t->held_xor ^= t->held_id[i];
	for (; i + 1 < listed; i++) {
		TRACK_STORE(&thr->held[i], thr->held[i + 1]);
		TRACK_STORE(&thr->held_pc[i], thr->held_pc[i + 1]);
		t->held_id[i] = t->held_id[i + 1];
		t->held_t0[i] = t->held_t0[i + 1];
	}
	if (more_beyond) {
		TRACK_STORE(&thr->held[listed - 1], 0);
		TRACK_STORE(&thr->held_pc[listed - 1], 0);
		t->held_id[listed - 1] = 0;
	}
	if (listed > 0)
		t->held_t0[listed - 1] = 0;
}

/*
 * A lock released out of order, or by a thread holding more than TRACK_HELD_MAX locks.  Only
 * the first TRACK_HELD_MAX are listed; a listed slot holding 0 stands for a held lock that
 * is not known individually (it was taken while the list was full).
 */
void track__held_remove_slow(struct track__thread *t, uint32_t idx)
{
	struct track_thread_rec *thr = t->thr;
	uint32_t n = thr->nheld, listed = n < TRACK_HELD_MAX ? n : TRACK_HELD_MAX, i;
	if (n == 0)
		return;
	for (i = listed; i-- > 0;)
		if (thr->held[i] != 0 && (thr->held[i] & ~TRACK_HELD_READ) == idx)
			break;
	if (i == UINT32_MAX) {
		/* Not listed: one of the unknown locks went (drop a placeholder if the list
		 * would otherwise be longer than what is held), or it was never ours. */
		for (i = listed; i-- > 0;)
			if (thr->held[i] == 0)
				break;
		if (i == UINT32_MAX && n <= TRACK_HELD_MAX)
			return;   /* released through someone else's mistake: nothing to drop */
		if (i != UINT32_MAX && n <= TRACK_HELD_MAX)
			held_drop_at(t, i, listed, 0);
		TRACK_STORE(&thr->nheld, n - 1);
		return;
	}
	held_drop_at(t, i, listed, n > TRACK_HELD_MAX);
	TRACK_STORE(&thr->nheld, n - 1);
}

int track__owner_took_again(struct track__thread *t, struct track_obj_rec *r, uint64_t pc)
{
	const void *obj = (const void *)(uintptr_t)r->addr;
	int in_stack = t->stack_hi != 0 && r->addr >= t->stack_lo && r->addr < t->stack_hi;
	/* the thread holds it: its memory is live, and says what it is now */
	if (r->kind == TRACK_OBJ_MUTEX &&
	    (__atomic_load_n(&((const pthread_mutex_t *)obj)->__data.__kind, __ATOMIC_RELAXED) &
	     TRACK_MUTEX_TYPE_MASK) == PTHREAD_MUTEX_RECURSIVE)
		return 1;
	track__finding(TRACK_FK_FREED_LOCKED, obj, r->kind, pc, t->tid,
		      "%s %p set up again while thread %d held it: %s", kind_names[r->kind],
		      obj, t->tid, in_stack ? "the function whose local it was returned with it locked"
					    : "its memory was reused with it locked");
	return 0;
}

void track__held_forget(struct track__thread *t, uintptr_t addr)
{
	struct track_thread_rec *thr = t->thr;
	uint32_t n = thr->nheld < TRACK_HELD_MAX ? thr->nheld : TRACK_HELD_MAX, i;
	for (i = n; i-- > 0;) {
		uint32_t v = thr->held[i] & ~TRACK_HELD_READ;
		const struct track_obj_rec *r = v ? &track__g.objs[v - 1] : NULL;
		if (r != NULL && TRACK_LOAD(&r->addr) == (uint64_t)addr &&
		    !(TRACK_LOAD(&r->flags) & TRACK_OF_LIVE)) {
			track__held_remove_slow(t, v);
			return;
		}
	}
}

int track__unlock_misuse(struct track__thread *t, struct track_obj_rec *r, void *obj, uint64_t pc,
			int (*real_unlock)(void *), int32_t real_owner)
{
	int32_t owner = TRACK_LOAD(&r->owner_tid);
	int rc = real_unlock(obj);
	const char *what = kind_names[r->kind < TRACK_OBJ_KIND_COUNT ? r->kind : 0];
	if (real_owner == t->tid)
		return rc;   /* taken while untracked: not a misuse */
	if (rc == 0 && owner != 0) {
		/* It really was unlocked (a normal mutex does not check): nobody holds it now. */
		TRACK_STORE(&r->depth, 0);
		TRACK_STORE(&r->owner_tid, 0);
	}
	if (owner != 0)
		track__finding(TRACK_FK_UNLOCK_NOT_OWNER, obj, r->kind, pc, owner,
			      "thread %d unlocked %s %p held by thread %d", t->tid, what, obj,
			      owner);
	else
		track__finding(TRACK_FK_UNLOCK_UNLOCKED, obj, r->kind, pc, 0,
			      "thread %d unlocked %s %p, which was not locked", t->tid, what, obj);
	return rc;
}

int track__timespec_ok(const struct timespec *ts)
{
	return ts != NULL && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

int track__clock_ok(clockid_t clk)
{
	return clk == CLOCK_MONOTONIC || clk == CLOCK_REALTIME;
}

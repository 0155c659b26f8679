/*
 * rwlock.c — pthread_rwlock_* wrappers.  A writer is an owner like a mutex's; readers are
 * counted on the record and listed, marked as readers, among each thread's held locks.
 */
#define _GNU_SOURCE
#include "lockpath.h"

static int real_unlock(void *l)
{
	return __pthread_rwlock_unlock(l);
}

TRACK_EXPORT int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *attr)
{
	return track__inited(__pthread_rwlock_init(l, attr), l, TRACK_OBJ_RWLOCK, TRACK_RA());
}

TRACK_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	struct track__thread *t;
	struct track_obj_rec *r = track__lock_rec(&t, l, TRACK_OBJ_RWLOCK, 0, 0);
	int rc;
	if (r != NULL && (TRACK_LOAD(&r->owner_tid) != 0 || TRACK_LOAD(&r->readers) != 0))
		track__finding(TRACK_FK_DESTROY_LOCKED, l, TRACK_OBJ_RWLOCK, TRACK_RA(),
			      r->owner_tid, "rwlock %p destroyed while held", (void *)l);
	rc = __pthread_rwlock_destroy(l);
	if (rc == 0 && r != NULL)
		track__obj_destroy(l);
	return rc;
}

static int rw_real(pthread_rwlock_t *l, int write, enum track__how how, clockid_t clk,
		   const struct timespec *abs)
{
	switch (how) {
	case TRACK__TIMED:
		return write ? track__real.rwlock_timedwrlock(l, abs)
			     : track__real.rwlock_timedrdlock(l, abs);
	case TRACK__CLOCK:
		return write ? track__real.rwlock_clockwrlock(l, clk, abs)
			     : track__real.rwlock_clockrdlock(l, clk, abs);
	default:
		return write ? __pthread_rwlock_wrlock(l) : __pthread_rwlock_rdlock(l);
	}
}

/* What the deadlock walk must know of this wait that only the waiter may read (the rwlock
 * itself: other threads never read the program's memory). */
static uint32_t wait_flags(const pthread_rwlock_t *l, int write)
{
	if (write)
		return TRACK_WF_WRITE;
	return track__rwlock_prefers_writers(l) ? TRACK_WF_PREFER_WRITER : 0;
}

/* Every rdlock and wrlock variant: try, and only wait (and bookkeep the wait) on EBUSY. */
static int rw_lock(pthread_rwlock_t *l, int write, enum track__how how, clockid_t clk,
		   const struct timespec *abs, uint64_t pc)
{
	struct track__thread *t = NULL;
	struct track_obj_rec *r;
	struct track__wait w;
	int rc;
	if (how != TRACK__PLAIN) {
		track__resolve();
		/* glibc checks the clock and timeout before trying: so must we. */
		if (!track__how_args_ok(how, clk, abs)) {
			track__timeout_refused(how == TRACK__TIMED
						       ? (write ? "pthread_rwlock_timedwrlock"
								: "pthread_rwlock_timedrdlock")
						       : (write ? "pthread_rwlock_clockwrlock"
								: "pthread_rwlock_clockrdlock"), l, pc);
			return rw_real(l, write, how, clk, abs);
		}
	}
	rc = write ? __pthread_rwlock_trywrlock(l) : __pthread_rwlock_tryrdlock(l);
	if (likely(rc == 0)) {
		track__took(l, TRACK_OBJ_RWLOCK, pc, !write, 1);
		return 0;
	}
	if (rc != EBUSY)
		return rw_real(l, write, how, clk, abs);
	r = track__lock_rec(&t, l, TRACK_OBJ_RWLOCK, pc, 1);
	if (r == NULL || track__busy())
		return rw_real(l, write, how, clk, abs);
	/* its own write holder asking again: glibc answers EDEADLK, as for an errorcheck mutex */
	if (TRACK_LOAD(&r->owner_tid) == t->tid)
		track__finding(TRACK_FK_DOUBLE_LOCK, l, TRACK_OBJ_RWLOCK, pc, t->tid,
			      "thread %d asked for the %s side of rwlock %p whose write side it "
			      "holds", t->tid, write ? "write" : "read", (void *)l);
	track__wait_begin(&w, t, r, write ? TRACK_TS_RWLOCK_WR : TRACK_TS_RWLOCK_RD, l,
			 track__how_wflags(how) | wait_flags(l, write));
	rc = rw_real(l, write, how, clk, abs);
	track__wait_end(&w);
	if (rc == 0) {
		if (write) {
			track__got_excl(t, r, pc, 1);
			track__contended(t, r, &w);
		} else {
			track__got_shared(t, r, pc, 1);
			TRACK_ADD(&r->contended, 1);
			TRACK_ADD(&r->wait_ns, w.dt);
		}
	} else if (rc == ETIMEDOUT) {
		TRACK_ADD(&r->timeouts, 1);
	}
	return rc;
}

TRACK_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	return rw_lock(l, 0, TRACK__PLAIN, 0, NULL, TRACK_RA());
}

TRACK_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	return rw_lock(l, 1, TRACK__PLAIN, 0, NULL, TRACK_RA());
}

TRACK_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *abs)
{
	return rw_lock(l, 0, TRACK__TIMED, CLOCK_REALTIME, abs, TRACK_RA());
}

TRACK_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *abs)
{
	return rw_lock(l, 1, TRACK__TIMED, CLOCK_REALTIME, abs, TRACK_RA());
}

TRACK_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clk,
					    const struct timespec *abs)
{
	return rw_lock(l, 0, TRACK__CLOCK, clk, abs, TRACK_RA());
}

TRACK_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clk,
					    const struct timespec *abs)
{
	return rw_lock(l, 1, TRACK__CLOCK, clk, abs, TRACK_RA());
}

TRACK_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	int rc = __pthread_rwlock_tryrdlock(l);
	if (rc == 0)
		track__took(l, TRACK_OBJ_RWLOCK, TRACK_RA(), 1, 0);
	return rc;
}

TRACK_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	int rc = __pthread_rwlock_trywrlock(l);
	if (rc == 0)
		track__took(l, TRACK_OBJ_RWLOCK, TRACK_RA(), 0, 0);
	return rc;
}

/* Whether thread t may hold rwlock r for reading: it lists it, or it holds locks that are
 * not listed individually (taken while the list was full: more than TRACK_HELD_MAX held,
 * now or earlier, shown as 0 entries), any of which may be this one. */
static int holds_for_read(const struct track__thread *t, const struct track_obj_rec *r)
{
	const struct track_thread_rec *thr = t->thr;
	uint32_t want = track__obj_index(r) | TRACK_HELD_READ, i;
	uint32_t n = thr->nheld < TRACK_HELD_MAX ? thr->nheld : TRACK_HELD_MAX;
	if (thr->nheld > TRACK_HELD_MAX)
		return 1;
	for (i = 0; i < n; i++)
		if (thr->held[i] == want || thr->held[i] == 0)
			return 1;
	return 0;
}

TRACK_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	struct track__thread *t;
	struct track_obj_rec *r = track__lock_rec(&t, l, TRACK_OBJ_RWLOCK, 0, 0);
	if (r == NULL) {
		track__unlock_untracked(t, l);
	} else if (track__release_excl(t, r) != 0) {
		if (TRACK_LOAD(&r->readers) == 0 || !holds_for_read(t, r))
			return track__unlock_misuse(t, r, l, TRACK_RA(), real_unlock,
						   (int32_t)__atomic_load_n(&l->__data.__cur_writer,
									    __ATOMIC_RELAXED));
		TRACK_SUB(&r->readers, 1);
		track__held_pop(t, r);
	}
	return __pthread_rwlock_unlock(l);
}

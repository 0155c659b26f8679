/*
 * mutex.c — pthread_mutex_* wrappers.
 *
 * Every acquisition first tries the lock without blocking (what glibc's own lock does first
 * anyway): success is the uncontended fast path, bookkept inline; EBUSY means the thread is
 * about to wait, and only then does the shim read clocks, change the thread's state and
 * count waiters.  Return values and errno are always the real call's.
 */
#define _GNU_SOURCE
#include "lockpath.h"

static int real_unlock(void *m)
{
	return __pthread_mutex_unlock(m);
}

/* Record the mutex's type at init, for the reports. */
static void note_type(struct track_obj_rec *r, const pthread_mutexattr_t *attr)
{
	int type = PTHREAD_MUTEX_DEFAULT, robust = PTHREAD_MUTEX_STALLED;
	if (r == NULL)
		return;
	if (attr != NULL) {
		pthread_mutexattr_gettype(attr, &type);
		pthread_mutexattr_getrobust(attr, &robust);
	}
	r->subtype = (uint32_t)type | (robust == PTHREAD_MUTEX_ROBUST ? 16u : 0u);
}

TRACK_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	int rc = __pthread_mutex_init(m, attr);
	if (rc == 0 && track_g.on)
		note_type(track_obj_init(m, TRACK_OBJ_MUTEX, TRACK_RA()), attr);
	return rc;
}

TRACK_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
	struct track_tls *t;
	struct track_obj_rec *r = track_lock_rec(&t, m, TRACK_OBJ_MUTEX, 0, 0);
	int rc;
	if (r != NULL && TRACK_LOAD(&r->owner_tid) != 0)
		track_finding(TRACK_FK_DESTROY_LOCKED, m, TRACK_OBJ_MUTEX, TRACK_RA(),
			      r->owner_tid, "mutex %p destroyed while thread %d holds it",
			      (void *)m, r->owner_tid);
	rc = __pthread_mutex_destroy(m);
	if (rc == 0 && r != NULL)
		track_obj_destroy(m);
	return rc;
}

/* The blocking part of lock, timedlock and clocklock. */
static int mutex_wait(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs,
		      int timed, uint64_t pc)
{
	struct track_tls *t = NULL;
	struct track_obj_rec *r = track_lock_rec(&t, m, TRACK_OBJ_MUTEX, pc, 1);
	struct track_wait w;
	int rc;
	if (r == NULL || t->busy) {
		if (!timed)
			return __pthread_mutex_lock(m);
		return timed == 1 ? track_real.mutex_timedlock(m, abs)
				  : track_real.mutex_clocklock(m, clk, abs);
	}
	if (TRACK_LOAD(&r->owner_tid) == t->tid)
		track_finding(TRACK_FK_DOUBLE_LOCK, m, TRACK_OBJ_MUTEX, pc, t->tid,
			      "thread %d locked non-recursive mutex %p that it already holds",
			      t->tid, (void *)m);
	track_wait_begin(&w, t, r, TRACK_TS_MUTEX, m);
	if (!timed)
		rc = __pthread_mutex_lock(m);
	else if (timed == 1)
		rc = track_real.mutex_timedlock(m, abs);
	else
		rc = track_real.mutex_clocklock(m, clk, abs);
	track_wait_end(&w);
	if (rc == 0 || rc == EOWNERDEAD) {
		track_got_excl(t, r);
		track_contended(r, w.dt);
	} else if (rc == ETIMEDOUT) {
		TRACK_ADD(&r->timeouts, 1);
	}
	return rc;
}

/* trylock said something other than EBUSY: pass it on, bookkeeping a robust takeover. */
static int mutex_try_other(pthread_mutex_t *m, int rc, uint64_t pc)
{
	if (rc == EOWNERDEAD)
		track_took(m, TRACK_OBJ_MUTEX, pc, 0);
	return rc;
}

TRACK_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	int rc = __pthread_mutex_trylock(m);
	if (likely(rc == 0)) {
		track_took(m, TRACK_OBJ_MUTEX, TRACK_RA(), 0);
		return 0;
	}
	if (rc != EBUSY)
		return mutex_try_other(m, rc, TRACK_RA());
	return mutex_wait(m, 0, NULL, 0, TRACK_RA());
}

TRACK_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int rc = __pthread_mutex_trylock(m);
	if (likely(rc == 0)) {
		track_took(m, TRACK_OBJ_MUTEX, TRACK_RA(), 0);
		return 0;
	}
	return mutex_try_other(m, rc, TRACK_RA());
}

TRACK_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	int rc;
	track_resolve();
	rc = __pthread_mutex_trylock(m);
	if (rc == 0) {
		track_took(m, TRACK_OBJ_MUTEX, TRACK_RA(), 0);
		return 0;
	}
	if (rc != EBUSY)
		return mutex_try_other(m, rc, TRACK_RA());
	return mutex_wait(m, CLOCK_REALTIME, abs, 1, TRACK_RA());
}

TRACK_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk,
					 const struct timespec *abs)
{
	int rc;
	track_resolve();
	if (!track_clock_ok(clk))      /* glibc rejects the clock before trying the lock */
		return track_real.mutex_clocklock(m, clk, abs);
	rc = __pthread_mutex_trylock(m);
	if (rc == 0) {
		track_took(m, TRACK_OBJ_MUTEX, TRACK_RA(), 0);
		return 0;
	}
	if (rc != EBUSY)
		return mutex_try_other(m, rc, TRACK_RA());
	return mutex_wait(m, clk, abs, 2, TRACK_RA());
}

TRACK_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct track_tls *t;
	struct track_obj_rec *r = track_lock_rec(&t, m, TRACK_OBJ_MUTEX, 0, 0);
	if (likely(r != NULL) && unlikely(track_release_excl(t, r) != 0))
		return track_unlock_misuse(t, r, m, TRACK_RA(), real_unlock);
	return __pthread_mutex_unlock(m);
}

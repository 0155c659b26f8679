/*
 * cond.c — pthread_cond_* wrappers.  These are the current glibc versions (GLIBC_2.3.2),
 * resolved with dlvsym, never the old compat ones.
 *
 * A wait releases the mutex and takes it back before returning, even when the wait is ended
 * by cancellation (glibc re-acquires the mutex before the cancellation unwinds past it); the
 * wrapper mirrors that in the mutex's record, and a cleanup attribute restores the thread's
 * state when a cancellation unwinds through the wrapper.
 */
#define _GNU_SOURCE
#include "lockpath.h"

struct cond_wait {
	struct track__wait w;
	struct track__thread *t;
	struct track_obj_rec *mr;   /* the mutex's record, if the caller held it (pinned) */
	uint64_t mr_gen;
	uint64_t pc;
};

/* Runs on return and on cancellation: the mutex is held again by the waiter. */
static void cond_wait_end(struct cond_wait *cw)
{
	track__wait_end(&cw->w);
	if (cw->mr == NULL)
		return;
	if (track__tls.self == cw->t && TRACK_LOAD(&cw->mr->gen) == cw->mr_gen) {
		/* an acquisition: counted as one, as its hold is (else a report would say "800
		 * of 400 holds timed" of a mutex every holder waited with once) */
		TRACK_STORE(&cw->mr->owner_tid, cw->t->tid);
		TRACK_STORE(&cw->mr->acquisitions, cw->mr->acquisitions + 1);
		track__held_push(cw->t, cw->mr, 0, cw->pc);
	}
	TRACK_SUB(&cw->mr->pins, 1);
}

static int cond_real(pthread_cond_t *c, pthread_mutex_t *m, enum track__how how, clockid_t clk,
		     const struct timespec *abs)
{
	switch (how) {
	case TRACK__TIMED:
		return track__real.cond_timedwait(c, m, abs);
	case TRACK__CLOCK:
		return track__real.cond_clockwait(c, m, clk, abs);
	default:
		return track__real.cond_wait(c, m);
	}
}

/* Misuse at the start of a wait: the caller must hold the mutex, and waiters at one time
 * must all use the same mutex (POSIX leaves both undefined). */
static void cond_check_use(struct track__thread *t, struct track_obj_rec *cr, pthread_cond_t *c,
			   struct track_obj_rec *mr, pthread_mutex_t *m, uint64_t pc)
{
	uint64_t prev = TRACK_LOAD(&cr->cond_mutex);
	if (mr != NULL && TRACK_LOAD(&mr->owner_tid) != t->tid)
		track__finding(TRACK_FK_COND_NO_MUTEX, c, TRACK_OBJ_COND, pc, mr->owner_tid,
			      "thread %d waited on condvar %p without holding mutex %p", t->tid,
			      (void *)c, (void *)m);
	if (TRACK_LOAD(&cr->waiters) > 0 && prev != 0 && prev != (uint64_t)(uintptr_t)m)
		track__finding(TRACK_FK_COND_TWO_MUTEXES, c, TRACK_OBJ_COND, pc, 0,
			      "condvar %p waited on with mutex %p while others wait with %p",
			      (void *)c, (void *)m, (void *)(uintptr_t)prev);
	TRACK_STORE(&cr->cond_mutex, (uint64_t)(uintptr_t)m);
}

static int cond_wait_any(pthread_cond_t *c, pthread_mutex_t *m, enum track__how how,
			 clockid_t clk, const struct timespec *abs, uint64_t pc)
{
	struct track__thread *t = NULL;
	struct track_obj_rec *cr, *mr;
	int rc;
	track__resolve();
	cr = track__lock_rec(&t, c, TRACK_OBJ_COND, pc, 1);
	if (cr == NULL || track__busy())
		return cond_real(c, m, how, clk, abs);
	{
		struct cond_wait cw __attribute__((cleanup(cond_wait_end))) = {{0}, t, NULL, 0, pc};
		mr = track__obj(t, m, TRACK_OBJ_MUTEX, pc, 1);
		cond_check_use(t, cr, c, mr, m, pc);
		if (mr != NULL && TRACK_LOAD(&mr->owner_tid) == t->tid && mr->depth == 0) {
			/* Pinned while released: an idle-looking record must not be recycled
			 * under a waiter that will take the mutex back. */
			TRACK_ADD(&mr->pins, 1);
			cw.mr_gen = TRACK_LOAD(&mr->gen);
			TRACK_STORE(&mr->owner_tid, 0);
			track__held_pop(t, mr);
			cw.mr = mr;
		}
		TRACK_ADD(&cr->acquisitions, 1);
		TRACK_STORE(&cr->last_wait_ns, track__now_ns());
		track__wait_begin(&cw.w, t, cr, TRACK_TS_COND, c, track__how_wflags(how));
		rc = cond_real(c, m, how, clk, abs);
		if (rc == ETIMEDOUT)
			TRACK_ADD(&cr->timeouts, 1);
	}
	return rc;
}

TRACK_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	return cond_wait_any(c, m, TRACK__PLAIN, 0, NULL, TRACK_RA());
}

TRACK_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
					const struct timespec *abs)
{
	return cond_wait_any(c, m, TRACK__TIMED, CLOCK_REALTIME, abs, TRACK_RA());
}

TRACK_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
					const struct timespec *abs)
{
	return cond_wait_any(c, m, TRACK__CLOCK, clk, abs, TRACK_RA());
}

/* signal and broadcast: count them on the condvar's record. */
static void cond_count(pthread_cond_t *c, int broadcast, uint64_t pc)
{
	struct track__thread *t;
	struct track_obj_rec *r = track__lock_rec(&t, c, TRACK_OBJ_COND, pc, 1);
	if (r == NULL)
		return;
	TRACK_ADD(broadcast ? &r->broadcasts : &r->signals, 1);
	if (TRACK_LOAD(&r->waiters) == 0)
		TRACK_ADD(&r->idle_wakes, 1);   /* nobody to wake: lost, unless the state it
						   signals is checked before waiting */
	/* Remember a wake-up that leaves nobody blocked: every current waiter (broadcast), or
	 * the only one (signal).  Destroying the condvar right after is allowed. */
	if (broadcast || TRACK_LOAD(&r->waiters) <= 1)
		TRACK_STORE(&r->last_wake_ns, track__now_ns());
}

TRACK_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	track__resolve();
	cond_count(c, 0, TRACK_RA());
	return track__real.cond_signal(c);
}

TRACK_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	track__resolve();
	cond_count(c, 1, TRACK_RA());
	return track__real.cond_broadcast(c);
}

TRACK_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
	track__resolve();
	return track__inited(track__real.cond_init(c, attr), c, TRACK_OBJ_COND, TRACK_RA());
}

TRACK_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	struct track__thread *t;
	struct track_obj_rec *r;
	int rc;
	track__resolve();
	r = track__lock_rec(&t, c, TRACK_OBJ_COND, 0, 0);
	if (r != NULL && TRACK_LOAD(&r->waiters) != 0 &&
	    TRACK_LOAD(&r->last_wake_ns) < TRACK_LOAD(&r->last_wait_ns)) {
		track__finding(TRACK_FK_DESTROY_COND_WAITERS, c, TRACK_OBJ_COND, TRACK_RA(), 0,
			      "condvar %p destroyed with %u thread(s) waiting", (void *)c,
			      TRACK_LOAD(&r->waiters));
		track__destroy_hang_check(r, c, TRACK_TS_COND);
	}
	rc = track__real.cond_destroy(c);
	if (rc == 0 && r != NULL)
		track__obj_destroy(c);
	return rc;
}

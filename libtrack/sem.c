/*
 * sem.c — sem_* and pthread_barrier_wait wrappers: waits that are not locks (no owner), but
 * where threads block and where CPython, among others, does all its locking.
 *
 * sem_wait and sem_timedwait are cancellation points that must act even when they would not
 * block, so the wrapper tests for cancellation before its non-blocking try, as glibc does.
 */
#define _GNU_SOURCE
#include "lockpath.h"

struct sem_wait_ctx {
	struct track__wait w;
};

static void sem_wait_end(struct sem_wait_ctx *s)
{
	track__wait_end(&s->w);
}

static int sem_real(sem_t *s, enum track__how how, clockid_t clk, const struct timespec *abs)
{
	switch (how) {
	case TRACK__TIMED:
		return track__real.sem_timedwait(s, abs);
	case TRACK__CLOCK:
		return track__real.sem_clockwait(s, clk, abs);
	default:
		return track__real.sem_wait(s);
	}
}

/* Keep the semaphore's count in its record (what a queue view shows), after a call that
 * changed it; errno is left as it was. */
static void note_value(struct track_obj_rec *r, sem_t *s)
{
	int v = 0, saved = errno;
	if (r != NULL && sem_getvalue(s, &v) == 0)
		TRACK_STORE(&r->sem_value, v);
	errno = saved;
}

static int sem_wait_any(sem_t *s, enum track__how how, clockid_t clk, const struct timespec *abs,
			uint64_t pc)
{
	struct track__thread *t = NULL;
	struct track_obj_rec *r;
	int rc, saved;
	track__resolve();
	if (!track__how_args_ok(how, clk, abs)) {   /* the real call reports the bad argument */
		track__timeout_refused(how == TRACK__TIMED ? "sem_timedwait" : "sem_clockwait", s, pc);
		return sem_real(s, how, clk, abs);
	}
	r = track__lock_rec(&t, s, TRACK_OBJ_SEM, pc, 1);
	if (r == NULL || track__busy())
		return sem_real(s, how, clk, abs);
	if (how != TRACK__CLOCK)
		pthread_testcancel();
	saved = errno;
	if (track__real.sem_trywait(s) == 0) {
		TRACK_ADD(&r->acquisitions, 1);
		note_value(r, s);
		return 0;
	}
	if (errno != EAGAIN)
		return sem_real(s, how, clk, abs);
	errno = saved;
	{
		struct sem_wait_ctx ctx __attribute__((cleanup(sem_wait_end))) = {{0}};
		track__wait_begin(&ctx.w, t, r, TRACK_TS_SEM, s, track__how_wflags(how));
		rc = sem_real(s, how, clk, abs);
		saved = errno;
		track__wait_end(&ctx.w);
		if (rc == 0) {
			TRACK_ADD(&r->acquisitions, 1);
			TRACK_ADD(&r->contended, 1);
			TRACK_ADD(&r->wait_ns, ctx.w.dt);
			note_value(r, s);
		} else if (saved == ETIMEDOUT) {
			TRACK_ADD(&r->timeouts, 1);
		}
		errno = saved;
	}
	return rc;
}

TRACK_EXPORT int sem_wait(sem_t *s)
{
	return sem_wait_any(s, TRACK__PLAIN, 0, NULL, TRACK_RA());
}

TRACK_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs)
{
	return sem_wait_any(s, TRACK__TIMED, CLOCK_REALTIME, abs, TRACK_RA());
}

TRACK_EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abs)
{
	return sem_wait_any(s, TRACK__CLOCK, clk, abs, TRACK_RA());
}

TRACK_EXPORT int sem_trywait(sem_t *s)
{
	struct track__thread *t;
	struct track_obj_rec *r;
	int rc;
	track__resolve();
	rc = track__real.sem_trywait(s);
	if (rc == 0 && (r = track__lock_rec(&t, s, TRACK_OBJ_SEM, TRACK_RA(), 1)) != NULL) {
		TRACK_ADD(&r->acquisitions, 1);
		note_value(r, s);
	}
	return rc;
}

TRACK_EXPORT int sem_post(sem_t *s)
{
	struct track__thread *t;
	struct track_obj_rec *r;
	int saved = errno, rc;
	track__resolve();
	r = track__lock_rec(&t, s, TRACK_OBJ_SEM, TRACK_RA(), 1);
	if (r != NULL)
		TRACK_ADD(&r->signals, 1);
	errno = saved;
	rc = track__real.sem_post(s);
	if (rc == 0)
		note_value(r, s);
	return rc;
}

TRACK_EXPORT int sem_init(sem_t *s, int pshared, unsigned value)
{
	struct track__thread *t;
	int rc;
	track__resolve();
	rc = track__inited(track__real.sem_init(s, pshared, value), s, TRACK_OBJ_SEM, TRACK_RA());
	if (rc == 0 && track__g.on)
		note_value(track__lock_rec(&t, s, TRACK_OBJ_SEM, 0, 0), s);
	return rc;
}

TRACK_EXPORT int sem_destroy(sem_t *s)
{
	track__resolve();
	return track__destroyed(track__real.sem_destroy(s), s);
}

TRACK_EXPORT int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr,
				     unsigned count)
{
	track__resolve();
	return track__inited(track__real.barrier_init(b, attr, count), b, TRACK_OBJ_BARRIER,
			     TRACK_RA());
}

/* A barrier destroyed while threads wait at it: glibc's destroy waits for them to leave,
 * which they never do unless the round completes; confirmed, ended as a deadlock is. */
TRACK_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
	struct track__thread *t;
	struct track_obj_rec *r;
	track__resolve();
	r = track__lock_rec(&t, b, TRACK_OBJ_BARRIER, 0, 0);
	if (r != NULL && TRACK_LOAD(&r->waiters) != 0) {
		track__finding(TRACK_FK_DESTROY_BARRIER_WAITERS, b, TRACK_OBJ_BARRIER, TRACK_RA(), 0,
			      "barrier %p destroyed with %u thread(s) waiting at it", (void *)b,
			      TRACK_LOAD(&r->waiters));
		track__destroy_hang_check(r, b, TRACK_TS_BARRIER);
	}
	return track__destroyed(track__real.barrier_destroy(b), b);
}

struct barrier_ctx {
	struct track__wait w;
};

static void barrier_end(struct barrier_ctx *b)
{
	track__wait_end(&b->w);
}

TRACK_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
	struct track__thread *t = NULL;
	struct track_obj_rec *r;
	int rc;
	track__resolve();
	r = track__lock_rec(&t, b, TRACK_OBJ_BARRIER, TRACK_RA(), 1);
	if (r == NULL || track__busy())
		return track__real.barrier_wait(b);
	TRACK_ADD(&r->acquisitions, 1);
	{
		struct barrier_ctx ctx __attribute__((cleanup(barrier_end))) = {{0}};
		track__wait_begin(&ctx.w, t, r, TRACK_TS_BARRIER, b, 0);
		rc = track__real.barrier_wait(b);
		track__wait_end(&ctx.w);
		TRACK_ADD(&r->wait_ns, ctx.w.dt);
	}
	return rc;
}

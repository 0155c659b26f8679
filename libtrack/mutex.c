/*
 * mutex.c — pthread_mutex_* wrappers.
 *
 * Every acquisition first tries the lock without blocking (what glibc's own lock does first
 * anyway): success is the uncontended fast path, bookkept inline; EBUSY means the thread is
 * about to wait, and only then does the shim read clocks, change the thread's state and
 * count waiters.  Return values and errno are always the real call's.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lockpath.h"

static int real_unlock(void *m)
{
	return __pthread_mutex_unlock(m);
}

/* The record's subtype (type, robust, process-shared) is read from the mutex itself when
 * the record is made (objects.c), at init or at first use. */
TRACK_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	int rc = __pthread_mutex_init(m, attr);
	if (rc == 0 && track__g.on)
		track__obj_init(m, TRACK_OBJ_MUTEX, TRACK_RA());
	return rc;
}

TRACK_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
	struct track__thread *t;
	struct track_obj_rec *r = track__lock_rec(&t, m, TRACK_OBJ_MUTEX, 0, 0);
	int rc;
	if (r != NULL && TRACK_LOAD(&r->owner_tid) != 0)
		track__finding(TRACK_FK_DESTROY_LOCKED, m, TRACK_OBJ_MUTEX, TRACK_RA(),
			      r->owner_tid, "mutex %p destroyed while thread %d holds it",
			      (void *)m, r->owner_tid);
	rc = __pthread_mutex_destroy(m);
	if (rc == 0 && r != NULL)
		track__obj_destroy(m);
	return rc;
}

/* Whether relocking m by its owner fails (EDEADLK) instead of blocking for ever: an
 * errorcheck mutex.  Read by the waiter itself, from the mutex it was handed: the deadlock
 * walk of other threads never reads the program's memory. */
static uint32_t relock_flag(const pthread_mutex_t *m)
{
	return (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & 3) == PTHREAD_MUTEX_ERRORCHECK
		       ? TRACK_WF_RELOCK_FAILS : 0;
}

static int mutex_real(pthread_mutex_t *m, enum track__how how, clockid_t clk,
		      const struct timespec *abs)
{
	switch (how) {
	case TRACK__TIMED:
		return track__real.mutex_timedlock(m, abs);
	case TRACK__CLOCK:
		return track__real.mutex_clocklock(m, clk, abs);
	default:
		return __pthread_mutex_lock(m);
	}
}

/* The blocking part of lock, timedlock and clocklock. */
static int mutex_wait(pthread_mutex_t *m, enum track__how how, clockid_t clk,
		      const struct timespec *abs, uint64_t pc)
{
	struct track__thread *t = NULL;
	struct track_obj_rec *r = track__lock_rec(&t, m, TRACK_OBJ_MUTEX, pc, 1);
	struct track__wait w;
	int rc;
	if (r == NULL || track__busy())
		return mutex_real(m, how, clk, abs);
	if (TRACK_LOAD(&r->owner_tid) == t->tid)
		track__finding(TRACK_FK_DOUBLE_LOCK, m, TRACK_OBJ_MUTEX, pc, t->tid,
			      "thread %d locked non-recursive mutex %p that it already holds",
			      t->tid, (void *)m);
	track__wait_begin(&w, t, r, TRACK_TS_MUTEX, m, track__how_wflags(how) | relock_flag(m));
	rc = mutex_real(m, how, clk, abs);
	track__wait_end(&w);
	if (rc == 0 || rc == EOWNERDEAD) {
		track__got_excl(t, r, pc, 1);
		track__contended(t, r, &w);
	} else if (rc == ETIMEDOUT) {
		TRACK_ADD(&r->timeouts, 1);
	}
	return rc;
}

/* glibc refused a call on m as invalid (EINVAL): a mutex destroyed (glibc marks its kind
 * -1), or memory that never was one.  Recorded once per call site. */
static int mutex_invalid(const pthread_mutex_t *m, const char *call, uint64_t pc)
{
	if (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) == -1)
		track__finding(TRACK_FK_USE_AFTER_DESTROY, m, TRACK_OBJ_MUTEX, pc, 0,
			      "%s on mutex %p after pthread_mutex_destroy (EINVAL)", call,
			      (const void *)m);
	else
		track__api_failed(call, m, "not an initialised mutex (garbage, or memory that "
				  "never was one)", pc);
	return EINVAL;
}

/* trylock said something other than EBUSY: pass it on, bookkeeping a robust takeover. */
static int mutex_try_other(pthread_mutex_t *m, int rc, uint64_t pc)
{
	if (rc == EOWNERDEAD)
		track__took(m, TRACK_OBJ_MUTEX, pc, 0, 0);
	else if (rc == EINVAL && track__g.on)
		TRACK__KEEP_ERRNO(mutex_invalid(m, "lock", pc));
	return rc;
}

/* What follows the first try of every lock call, which returned rc: bookkeep the take, pass
 * on a failure other than EBUSY, or wait. */
static int mutex_after_try(pthread_mutex_t *m, int rc, enum track__how how, clockid_t clk,
			   const struct timespec *abs, uint64_t pc)
{
	if (rc == 0) {
		track__took(m, TRACK_OBJ_MUTEX, pc, 0, 1);
		return 0;
	}
	if (rc != EBUSY)
		return mutex_try_other(m, rc, pc);
	return mutex_wait(m, how, clk, abs, pc);
}

/*
 * glibc's own first step for a plain mutex (normal type, process-private, no elision: a
 * __kind of 0), done inline: take __lock from 0 to 1 and record the owner and user count
 * as glibc does.  This saves the call into glibc on the hot path, which is most of the
 * shim's cost there.  The layout is glibc's public, frozen ABI (struct __pthread_mutex_s);
 * every other kind of mutex, and every failed try, goes through glibc as before.  In a
 * process that has only ever had one thread, glibc (2.35 on) takes and frees __lock with
 * plain stores, no atomic instruction: so does this, for the same reason.
 * Returns 0 taken, EBUSY held by someone, -1 not a plain mutex (or thread not registered).
 */
static inline int plain_trylock(pthread_mutex_t *m, const struct track__thread *t)
{
	int zero = 0;
	if (unlikely(t == NULL || __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) != 0))
		return -1;
	if (__libc_single_threaded) {
		if (unlikely(m->__data.__lock != 0))
			return EBUSY;
		m->__data.__lock = 1;
	} else if (unlikely(!__atomic_compare_exchange_n(&m->__data.__lock, &zero, 1, 0,
							 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))) {
		return EBUSY;
	}
	m->__data.__owner = t->tid;
	++m->__data.__nusers;
	return 0;
}

/* glibc's unlock of a plain mutex, inlined likewise: clear the owner, one user less, free
 * __lock, and wake one waiter if there were any (__lock was 2).  Only called for a mutex
 * plain_trylock took, so its kind is known. */
static __attribute__((noinline)) int plain_wake(pthread_mutex_t *m)
{
	TRACK__KEEP_ERRNO(syscall(SYS_futex, &m->__data.__lock, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1,
				  NULL, NULL, 0));
	return 0;
}

static inline int plain_unlock(pthread_mutex_t *m)
{
	m->__data.__owner = 0;
	--m->__data.__nusers;
	if (__libc_single_threaded) {
		m->__data.__lock = 0;
		return 0;
	}
	if (unlikely(__atomic_exchange_n(&m->__data.__lock, 0, __ATOMIC_RELEASE) > 1))
		return plain_wake(m);
	return 0;
}

/* The same, falling back to glibc's trylock for everything else. */
static inline int any_trylock(pthread_mutex_t *m, const struct track__thread *t)
{
	int rc = plain_trylock(m, t);
	return likely(rc >= 0) ? rc : __pthread_mutex_trylock(m);
}

/*
 * The try a lock call makes first, which the program did not ask for, so it must leave the
 * mutex as the program's lock call would.  glibc's trylock of a robust mutex that is not
 * recoverable (its owner died and nobody made it consistent) returns ENOTRECOVERABLE but
 * keeps the lock word it just took (it frees it only `if (oldval == id)`, and oldval is the
 * 0 it replaced); its lock frees it.  Left so, the program's next unlock ran into glibc's
 * robust-list code with the mutex on no list (SIGSEGV), and any other locker would block for
 * ever instead of being told ENOTRECOVERABLE.  So the word is given back as glibc's lock
 * gives it back (robust mutexes use shared futexes), and the call returns what lock would.
 */
static int lock_first_try(pthread_mutex_t *m)
{
	int rc = __pthread_mutex_trylock(m), tid;
	if (likely(rc != ENOTRECOVERABLE))
		return rc;
	tid = track__tls.self != NULL ? track__tls.self->tid : (int)syscall(SYS_gettid);
	if ((__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) & FUTEX_TID_MASK) == tid &&
	    __atomic_exchange_n(&m->__data.__lock, 0, __ATOMIC_RELEASE) > 1)
		TRACK__KEEP_ERRNO(syscall(SYS_futex, &m->__data.__lock, FUTEX_WAKE, 1, NULL, NULL, 0));
	return rc;
}

/* Everything pthread_mutex_lock does off its hot path: any mutex but a plain one, a
 * thread not yet registered, an object not in this thread's cache, a recursive take. */
static __attribute__((noinline)) int mutex_lock_slow(pthread_mutex_t *m, int rc, uint64_t pc)
{
	if (rc < 0)
		rc = lock_first_try(m);
	return mutex_after_try(m, rc, TRACK__PLAIN, 0, NULL, pc);
}

/* What the hot path leaves out of line: a hold to time, a nested lock's order. */
static __attribute__((noinline)) int mutex_took_more(struct track__thread *t, uint32_t before,
						    uint64_t acq)
{
	track__hold_tick(t, before, acq);
	return track__order_note(t, before, TRACK_EF_TO_WRITE);
}

/* The hot path, kept straight so that it needs no stack frame: a plain mutex taken at the
 * first try, its record in this thread's cache, not already held by this thread. */
TRACK_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	struct track__thread *t = track__tls.self;
	struct track__cached c;
	int rc = plain_trylock(m, t);
	if (likely(rc == 0) && likely(track__obj_cached(t, m, &c)) &&
	    likely(c.rec->owner_tid != t->tid)) {
		uint64_t acq = c.rec->acquisitions;
		uint32_t before;
		TRACK_STORE(&c.rec->owner_tid, t->tid);
		TRACK_STORE(&c.rec->acquisitions, acq + 1);
		before = track__held_push_idx(t, c.idx, c.rec->lock_id, TRACK_RA());
		if (likely(before == 0) && likely(t->hold_left != 0) &&
		    likely(acq >= TRACK_HOLD_FIRST)) {
			t->hold_left--;
			return 0;
		}
		return mutex_took_more(t, before, acq);
	}
	return mutex_lock_slow(m, rc, TRACK_RA());
}

TRACK_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int rc = any_trylock(m, track__tls.self);
	if (likely(rc == 0)) {
		track__took(m, TRACK_OBJ_MUTEX, TRACK_RA(), 0, 0);
		return 0;
	}
	return mutex_try_other(m, rc, TRACK_RA());
}

/* timedlock and clocklock. */
static int mutex_lock_timed(pthread_mutex_t *m, enum track__how how, clockid_t clk,
			    const struct timespec *abs, uint64_t pc)
{
	track__resolve();
	/* glibc rejects the clock before trying the lock */
	if (how == TRACK__CLOCK && !track__clock_ok(clk))
		return track__real.mutex_clocklock(m, clk, abs);
	return mutex_after_try(m, lock_first_try(m), how, clk, abs, pc);
}

TRACK_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	return mutex_lock_timed(m, TRACK__TIMED, CLOCK_REALTIME, abs, TRACK_RA());
}

TRACK_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk,
					 const struct timespec *abs)
{
	return mutex_lock_timed(m, TRACK__CLOCK, clk, abs, TRACK_RA());
}

static __attribute__((noinline)) int mutex_unlock_slow(pthread_mutex_t *m, uint64_t pc)
{
	struct track__thread *t;
	struct track_obj_rec *r = track__lock_rec(&t, m, TRACK_OBJ_MUTEX, 0, 0);
	int rc;
	if (unlikely(r == NULL)) {
		track__unlock_untracked(t, m);
		rc = __pthread_mutex_unlock(m);
		if (rc == EINVAL && t != NULL)
			TRACK__KEEP_ERRNO(mutex_invalid(m, "unlock", pc));
		return rc;
	}
	if (unlikely(track__release_excl(t, r) != 0))
		return track__unlock_misuse(t, r, m, pc, real_unlock,
					   __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED));
	return __pthread_mutex_unlock(m);
}

/* The hot path: the record cached, held once by this thread, released in LIFO order. */
TRACK_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct track__thread *t = track__tls.self;
	struct track_thread_rec *thr;
	struct track__cached c;
	uint32_t n;
	if (likely(t != NULL) && likely(track__obj_cached(t, m, &c)) &&
	    likely(c.rec->owner_tid == t->tid) && likely(c.rec->depth == 0) &&
	    likely((n = (thr = t->thr)->nheld) - 1 < TRACK_HELD_MAX) &&
	    likely(thr->held[n - 1] == c.idx) && likely(t->held_t0[n - 1] == 0)) {
		TRACK_STORE(&c.rec->owner_tid, 0);
		t->held_xor ^= t->held_id[n - 1];
		TRACK_STORE(&thr->nheld, n - 1);
		if (likely(__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) == 0))
			return plain_unlock(m);
		return __pthread_mutex_unlock(m);
	}
	return mutex_unlock_slow(m, TRACK_RA());
}

/*
 * spin.c — pthread_spin_* wrappers: the same bookkeeping as a mutex, where "blocked" means
 * spinning on a spinlock someone else holds.
 */
#define _GNU_SOURCE
#include "lockpath.h"

static int real_unlock(void *s)
{
	return track_real.spin_unlock(s);
}

TRACK_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
	int rc;
	track_resolve();
	rc = track_real.spin_init(s, pshared);
	if (rc == 0 && track_g.on)
		track_obj_init((const void *)s, TRACK_OBJ_SPIN, TRACK_RA());
	return rc;
}

TRACK_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s)
{
	int rc;
	track_resolve();
	rc = track_real.spin_destroy(s);
	if (rc == 0 && track_g.on)
		track_obj_destroy((const void *)s);
	return rc;
}

TRACK_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
	struct track_thread *t = NULL;
	struct track_obj_rec *r;
	struct track_wait w;
	int rc;
	track_resolve();
	rc = track_real.spin_trylock(s);
	if (likely(rc == 0)) {
		track_took((const void *)s, TRACK_OBJ_SPIN, TRACK_RA(), 0, 1);
		return 0;
	}
	r = track_lock_rec(&t, (const void *)s, TRACK_OBJ_SPIN, TRACK_RA(), 1);
	if (r == NULL || track_busy())
		return track_real.spin_lock(s);
	track_wait_begin(&w, t, r, TRACK_TS_SPIN, (const void *)s, 0);
	rc = track_real.spin_lock(s);
	track_wait_end(&w);
	if (rc == 0) {
		track_got_excl(t, r, TRACK_RA(), 1);
		track_contended(t, r, w.dt);
	}
	return rc;
}

TRACK_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
	int rc;
	track_resolve();
	rc = track_real.spin_trylock(s);
	if (rc == 0)
		track_took((const void *)s, TRACK_OBJ_SPIN, TRACK_RA(), 0, 0);
	return rc;
}

TRACK_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
	struct track_thread *t;
	struct track_obj_rec *r;
	track_resolve();
	r = track_lock_rec(&t, (const void *)s, TRACK_OBJ_SPIN, 0, 0);
	if (r == NULL)
		track_unlock_untracked(t, (const void *)s);
	else if (track_release_excl(t, r) != 0)
		return track_unlock_misuse(t, r, (void *)s, TRACK_RA(), real_unlock, 0);
	return track_real.spin_unlock(s);
}

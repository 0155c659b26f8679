/*
 * spin.c — pthread_spin_* wrappers: the same bookkeeping as a mutex, where "blocked" means
 * spinning on a spinlock someone else holds.
 */
#define _GNU_SOURCE
#include "lockpath.h"

static int real_unlock(void *s)
{
	return track__real.spin_unlock(s);
}

TRACK_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
	track__resolve();
	return track__inited(track__real.spin_init(s, pshared), (const void *)s, TRACK_OBJ_SPIN,
			     TRACK_RA());
}

TRACK_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s)
{
	track__resolve();
	return track__destroyed(track__real.spin_destroy(s), (const void *)s);
}

TRACK_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
	struct track__thread *t = NULL;
	struct track_obj_rec *r;
	struct track__wait w;
	int rc;
	track__resolve();
	rc = track__real.spin_trylock(s);
	if (likely(rc == 0)) {
		track__took((const void *)s, TRACK_OBJ_SPIN, TRACK_RA(), 0, 1);
		return 0;
	}
	r = track__lock_rec(&t, (const void *)s, TRACK_OBJ_SPIN, TRACK_RA(), 1);
	if (r == NULL || track__busy())
		return track__real.spin_lock(s);
	track__wait_begin(&w, t, r, TRACK_TS_SPIN, (const void *)s, 0);
	rc = track__real.spin_lock(s);
	track__wait_end(&w);
	if (rc == 0) {
		track__got_excl(t, r, TRACK_RA(), 1);
		track__contended(t, r, &w);
	}
	return rc;
}

TRACK_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
	int rc;
	track__resolve();
	rc = track__real.spin_trylock(s);
	if (rc == 0)
		track__took((const void *)s, TRACK_OBJ_SPIN, TRACK_RA(), 0, 0);
	return rc;
}

TRACK_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
	struct track__thread *t;
	struct track_obj_rec *r;
	track__resolve();
	r = track__lock_rec(&t, (const void *)s, TRACK_OBJ_SPIN, 0, 0);
	if (r == NULL)
		track__unlock_untracked(t, (const void *)s);
	else if (track__release_excl(t, r) != 0)
		return track__unlock_misuse(t, r, (void *)s, TRACK_RA(), real_unlock, 0);
	return track__real.spin_unlock(s);
}

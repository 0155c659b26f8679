/*
 * profile.h — the wait and hold profiles of a snapshot (segment.h, struct track_prof_rec) as
 * every front end reads them: a histogram summed up (count, total, max, percentiles), the
 * profiles of one role or one object, most costly first.  Text, JSON, folded stacks, pprof,
 * Prometheus and the dashboard all draw from here.
 *
 * Percentiles come from the log-linear histogram: each is the upper bound of the bucket the
 * quantile falls in (never more than the maximum seen), so the true value is at most that
 * and at least 80% of it.  Hold figures are estimates from samples (the header's
 * hold_sample); every wait is measured.
 */
#ifndef TRACK_PROFILE_H
#define TRACK_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/segread.h"

/* One histogram, summed up. */
struct track_dist {
	uint64_t count, total_ns, max_ns, samples;
	uint64_t p50, p95, p99;
};

/* The duration below which a fraction q (0 < q <= 1) of the events of hist fell, as the
 * upper bound of its bucket, at most max_ns; 0 if there are none. */
uint64_t track_hist_quantile(const uint64_t *hist, uint64_t max_ns, double q);

/* The figures of p (zeros for NULL). */
void track_dist_of(const struct track_prof_rec *p, struct track_dist *d);

/* The name of a profile role ("wait", "hold-site", ...). */
const char *track_prof_role_name(uint32_t role);

/* The complete profiles of s with this role, most total time first; with addr non-zero,
 * only those of the object at addr.  *out is malloc'd (NULL when there are none). */
size_t track_profs(const struct track_snap *s, uint32_t role, uint64_t addr,
		   const struct track_prof_rec ***out);

/* The object's own profile (TRACK_PR_WAIT or TRACK_PR_HOLD) of the object record r: the one
 * for its address and first-use site; NULL if it has had no event. */
const struct track_prof_rec *track_obj_prof(const struct track_snap *s,
					    const struct track_obj_rec *r, uint32_t role);

#endif /* TRACK_PROFILE_H */

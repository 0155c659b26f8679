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
#include "core/symbolize.h"

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

/* The profiles of a snapshot ordered by what they are about: object (address, lock id,
 * kind), then role, then most total time first, so that one object's profiles of one role
 * are one run, found by binary search.  Built once per report: a lookup per object would
 * otherwise scan every profile for every object. */
struct track_prof_index {
	const struct track_prof_rec **p;
	size_t n;
};
/* 0, or -1 when out of memory (then it is empty, and lookups find nothing). */
int track_prof_index_init(struct track_prof_index *ix, const struct track_snap *s);
void track_prof_index_fini(struct track_prof_index *ix);
/* The profiles of role about object r, most total time first: how many, *first the first.
 * For role TRACK_PR_JOIN_SITE pass r NULL: every join site. */
size_t track_prof_find(const struct track_prof_index *ix, const struct track_obj_rec *r,
		       uint32_t role, const struct track_prof_rec *const **first);
/* The one profile of role (TRACK_PR_WAIT or TRACK_PR_HOLD) about r, or NULL. */
const struct track_prof_rec *track_prof_own(const struct track_prof_index *ix,
					    const struct track_obj_rec *r, uint32_t role);

/* The stack to find a site profile's site with: its own; for a holding site, which has only
 * the return address of the holder's lock call, a recorded stack that begins at that address
 * (the same call seen waiting, or first using the lock), so that a call made through the
 * runtime (std::mutex::lock out of line) is named by the program's line; 0 if none. */
uint32_t track_prof_site_stack(const struct track_snap *s, const struct track_prof_rec *p);

/* Where a site profile's events happened, as reports give a site (track_fmt_site): its call
 * (pc) with its stack (track_prof_site_stack); for a join site, which has no pc, the stack's
 * own site. */
const char *track_fmt_prof_site(const struct track_snap *s, struct track_symbolizer *sym,
				const struct track_prof_rec *p, char *buf, size_t len);

/* Non-empty buckets of a histogram, as the reports list them: the least duration the bucket
 * counts (track_hist_lower) and how many.  Fills at most TRACK_HIST_BUCKETS entries of out,
 * returns how many. */
struct track_hist_bin {
	uint64_t lower_ns, count;
};
size_t track_hist_bins(const uint64_t *hist, struct track_hist_bin *out);

#endif /* TRACK_PROFILE_H */

/*
 * profile.c — reading the wait and hold profiles of a snapshot (see profile.h).
 */
#include <stdlib.h>

#include "core/profile.h"

uint64_t track_hist_quantile(const uint64_t *hist, uint64_t max_ns, double q)
{
	uint64_t total = 0, want, seen = 0;
	uint32_t b;
	for (b = 0; b < TRACK_HIST_BUCKETS; b++)
		total += hist[b];
	if (total == 0)
		return 0;
	want = (uint64_t)((double)total * q + 0.999999);
	if (want == 0)
		want = 1;
	for (b = 0; b < TRACK_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= want)
			break;
	}
	if (b + 1 >= TRACK_HIST_BUCKETS)
		return max_ns;
	return track_hist_lower(b + 1) < max_ns ? track_hist_lower(b + 1) : max_ns;
}

void track_dist_of(const struct track_prof_rec *p, struct track_dist *d)
{
	d->count = d->total_ns = d->max_ns = d->samples = d->p50 = d->p95 = d->p99 = 0;
	if (p == NULL)
		return;
	d->count = p->count;
	d->total_ns = p->total_ns;
	d->max_ns = p->max_ns;
	d->samples = p->samples;
	d->p50 = track_hist_quantile(p->hist, p->max_ns, 0.50);
	d->p95 = track_hist_quantile(p->hist, p->max_ns, 0.95);
	d->p99 = track_hist_quantile(p->hist, p->max_ns, 0.99);
}

#define TRACK_X_PR_NAME(e, name) name,
static const char *const role_names[TRACK_PR_COUNT] = {TRACK_PROF_ROLES(TRACK_X_PR_NAME)};
#undef TRACK_X_PR_NAME

const char *track_prof_role_name(uint32_t role)
{
	return role < TRACK_PR_COUNT ? role_names[role] : "unknown";
}

static int by_total_desc(const void *a, const void *b)
{
	const struct track_prof_rec *x = *(const struct track_prof_rec *const *)a;
	const struct track_prof_rec *y = *(const struct track_prof_rec *const *)b;
	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static int wanted(const struct track_prof_rec *p, uint32_t role, uint64_t addr)
{
	return p->ready && p->role == role && (addr == 0 || p->addr == addr) && p->samples > 0;
}

size_t track_profs(const struct track_snap *s, uint32_t role, uint64_t addr,
		   const struct track_prof_rec ***out)
{
	size_t n = 0;
	uint32_t i;
	*out = NULL;
	for (i = 0; i < s->nprofs; i++)
		n += wanted(&s->profs[i], role, addr);
	if (n == 0 || (*out = malloc(n * sizeof **out)) == NULL)
		return 0;
	n = 0;
	for (i = 0; i < s->nprofs; i++)
		if (wanted(&s->profs[i], role, addr))
			(*out)[n++] = &s->profs[i];
	qsort(*out, n, sizeof **out, by_total_desc);
	return n;
}

const struct track_prof_rec *track_obj_prof(const struct track_snap *s,
					    const struct track_obj_rec *r, uint32_t role)
{
	uint32_t i;
	for (i = 0; i < s->nprofs; i++) {
		const struct track_prof_rec *p = &s->profs[i];
		if (p->ready && p->role == role && p->addr == r->addr && p->pc == r->first_pc &&
		    p->obj_kind == r->kind)
			return p;
	}
	return NULL;
}

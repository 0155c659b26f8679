/*
 * profile.c — reading the wait and hold profiles of a snapshot (see profile.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
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

/* --- the index by object ------------------------------------------------------------------ */

/* Object identity (a join site has none: address 0), role, then most total time first. */
static int by_object(const void *a, const void *b)
{
	const struct track_prof_rec *x = *(const struct track_prof_rec *const *)a;
	const struct track_prof_rec *y = *(const struct track_prof_rec *const *)b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->lock_id != y->lock_id)
		return x->lock_id < y->lock_id ? -1 : 1;
	if (x->obj_kind != y->obj_kind)
		return x->obj_kind < y->obj_kind ? -1 : 1;
	if (x->role != y->role)
		return x->role < y->role ? -1 : 1;
	return by_total_desc(a, b);
}

int track_prof_index_init(struct track_prof_index *ix, const struct track_snap *s)
{
	uint32_t i;
	ix->n = 0;
	ix->p = malloc((s->nprofs ? s->nprofs : 1) * sizeof *ix->p);
	if (ix->p == NULL)
		return -1;
	for (i = 0; i < s->nprofs; i++)
		if (s->profs[i].ready && s->profs[i].samples > 0 && s->profs[i].role < TRACK_PR_COUNT)
			ix->p[ix->n++] = &s->profs[i];
	qsort(ix->p, ix->n, sizeof *ix->p, by_object);
	return 0;
}

void track_prof_index_fini(struct track_prof_index *ix)
{
	free(ix->p);
	ix->p = NULL;
	ix->n = 0;
}

/* Where key's run begins (the first entry not before it, ignoring totals). */
static size_t lower_bound(const struct track_prof_index *ix, const struct track_prof_rec *key)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct track_prof_rec *p = ix->p[mid];
		int before = p->addr != key->addr ? p->addr < key->addr
			     : p->lock_id != key->lock_id ? p->lock_id < key->lock_id
			     : p->obj_kind != key->obj_kind ? p->obj_kind < key->obj_kind
			     : p->role < key->role;
		if (before)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t track_prof_find(const struct track_prof_index *ix, const struct track_obj_rec *r,
		       uint32_t role, const struct track_prof_rec *const **first)
{
	struct track_prof_rec key;
	size_t i, n = 0;
	memset(&key, 0, sizeof key);
	key.role = role;
	if (r != NULL) {
		key.addr = r->addr;
		key.lock_id = r->lock_id;
		key.obj_kind = r->kind;
	}
	i = lower_bound(ix, &key);
	*first = ix->p != NULL ? ix->p + i : NULL;
	while (i + n < ix->n && ix->p[i + n]->addr == key.addr &&
	       ix->p[i + n]->lock_id == key.lock_id && ix->p[i + n]->obj_kind == key.obj_kind &&
	       ix->p[i + n]->role == role)
		n++;
	return n;
}

const struct track_prof_rec *track_prof_own(const struct track_prof_index *ix,
					    const struct track_obj_rec *r, uint32_t role)
{
	const struct track_prof_rec *const *p;
	size_t n = track_prof_find(ix, r, role, &p), i;
	for (i = 0; i < n; i++)
		if (p[i]->pc == r->first_pc)
			return p[i];
	return NULL;
}

size_t track_hist_bins(const uint64_t *hist, struct track_hist_bin *out)
{
	size_t n = 0;
	uint32_t b;
	for (b = 0; b < TRACK_HIST_BUCKETS; b++)
		if (hist[b] > 0) {
			out[n].lower_ns = track_hist_lower(b);
			out[n++].count = hist[b];
		}
	return n;
}

/* Whether stack id begins at pc. */
static int stack_begins(const struct track_snap *s, uint32_t id, uint64_t pc)
{
	const struct track_stack_rec *st = track_snap_stack(s, id);
	return st != NULL && st->nframes > 0 && st->frames[0] == pc;
}

uint32_t track_prof_site_stack(const struct track_snap *s, const struct track_prof_rec *p)
{
	const struct track_obj_rec *r = track_snap_obj_at(s, p->addr);
	uint32_t i;
	if (p->role != TRACK_PR_HOLD_SITE)
		return p->stack;
	if (p->pc == 0)
		return 0;
	/* the same lock's stacks first: a wrapper's return address is shared by its callers */
	for (i = 0; i < s->nprofs; i++) {
		const struct track_prof_rec *w = &s->profs[i];
		if (w->ready && w->role == TRACK_PR_WAIT_SITE && w->addr == p->addr &&
		    w->lock_id == p->lock_id && stack_begins(s, w->stack, p->pc))
			return w->stack;
	}
	if (r != NULL && r->lock_id == p->lock_id && stack_begins(s, r->first_stack, p->pc))
		return r->first_stack;
	for (i = 1; i <= s->nstacks; i++)
		if (stack_begins(s, i, p->pc))
			return i;
	return 0;
}

const char *track_fmt_prof_site(const struct track_snap *s, struct track_symbolizer *sym,
				const struct track_prof_rec *p, char *buf, size_t len)
{
	const struct track_stack_rec *st = p->pc == 0 ? track_snap_stack(s, p->stack) : NULL;
	if (st != NULL)
		return track_fmt_site_pcs(sym, st->frames, st->nframes, buf, len);
	return track_fmt_site(s, sym, p->pc, track_prof_site_stack(s, p), buf, len);
}

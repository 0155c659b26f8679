/*
 * jsonviews.c — the parts of the JSON report about where time went (README, "JSON report"):
 * a profile with its histogram, the waiting and holding sites of an object, blocked joins,
 * pools of threads and registered queues.  Built from the model (core/profile.h, pools.h,
 * queues.h) like the text blocks of textviews.c.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/pools.h"
#include "core/queues.h"
#include "render/json.h"

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* [{"lower_ns", "count"}, ...]: the non-empty buckets, shortest first. */
static json_t *hist_json(const uint64_t *hist)
{
	struct track_hist_bin bins[TRACK_HIST_BUCKETS];
	size_t n = track_hist_bins(hist, bins), i;
	json_t *a = json_array();
	for (i = 0; i < n; i++) {
		json_t *b = json_object();
		json_object_set_new(b, "lower_ns", u64(bins[i].lower_ns));
		json_object_set_new(b, "count", u64(bins[i].count));
		json_array_append_new(a, b);
	}
	return a;
}

json_t *track_json_dist(const struct track_prof_rec *p)
{
	struct track_dist d;
	json_t *o;
	if (p == NULL)
		return json_null();
	track_dist_of(p, &d);
	o = json_object();
	json_object_set_new(o, "count", u64(d.count));
	json_object_set_new(o, "total_ns", u64(d.total_ns));
	json_object_set_new(o, "max_ns", u64(d.max_ns));
	json_object_set_new(o, "p50_ns", u64(d.p50));
	json_object_set_new(o, "p95_ns", u64(d.p95));
	json_object_set_new(o, "p99_ns", u64(d.p99));
	json_object_set_new(o, "samples", u64(d.samples));
	json_object_set_new(o, "histogram", hist_json(p->hist));
	return o;
}

/* One site profile: its figures, where ("site"), and for waits and joins the whole stack. */
static json_t *site_json(struct track_view *v, const struct track_prof_rec *p)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	const struct track_stack_rec *st = track_snap_stack(s, p->stack);
	json_t *o = track_json_dist(p);
	if (p->pc == 0 && st != NULL)
		json_object_set_new(o, "site", track_json_site_pcs(sym, st->frames, st->nframes));
	else
		json_object_set_new(o, "site",
				    track_json_site(s, sym, p->pc, track_prof_site_stack(s, p)));
	if (p->role != TRACK_PR_HOLD_SITE)
		json_object_set_new(o, "stack", track_json_stack(s, sym, p->stack));
	return o;
}

json_t *track_json_sites(struct track_view *v, const struct track_prof_index *ix,
			 const struct track_obj_rec *r, uint32_t role)
{
	const struct track_prof_rec *const *p;
	size_t n = track_prof_find(ix, r, role, &p), i;
	json_t *a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, site_json(v, p[i]));
	return a;
}

json_t *track_json_joins(struct track_view *v, const struct track_prof_index *ix)
{
	json_t *o = json_object();
	const struct track_prof_rec *const *p;
	size_t n = track_prof_find(ix, NULL, TRACK_PR_JOIN_SITE, &p), i;
	uint64_t count = 0, total = 0, max = 0;
	for (i = 0; i < n; i++) {
		count += p[i]->count;
		total += p[i]->total_ns;
		max = p[i]->max_ns > max ? p[i]->max_ns : max;
	}
	json_object_set_new(o, "blocked", u64(count));
	json_object_set_new(o, "wait_ns", u64(total));
	json_object_set_new(o, "max_wait_ns", u64(max));
	json_object_set_new(o, "sites", track_json_sites(v, ix, NULL, TRACK_PR_JOIN_SITE));
	return o;
}

/* {"running": N, "condvar": N, ...}: the pool's alive threads by state. */
static json_t *states_json(const struct track_pool *p)
{
	json_t *o = json_object();
	uint32_t st;
	for (st = 0; st < TRACK_TS_COUNT; st++)
		if (p->in_state[st] > 0)
			json_object_set_new(o, track_state_name(st), u64(p->in_state[st]));
	return o;
}

json_t *track_json_pools(struct track_view *v)
{
	struct track_pool *p;
	size_t n = track_pools(v, &p), i;
	json_t *a = json_array();
	for (i = 0; i < n; i++) {
		json_t *o = json_object();
		int other = p[i].start_routine == TRACK_POOL_OTHER;
		json_object_set_new(o, "start_routine",
				    other ? json_null()
					  : track_json_location(track_view_sym(v),
								p[i].start_routine, 0));
		json_object_set_new(o, "name_pattern",
				    other ? json_null() : json_string(p[i].pattern));
		json_object_set_new(o, "threads", u64(p[i].threads));
		json_object_set_new(o, "alive", u64(p[i].alive));
		json_object_set_new(o, "running", u64(p[i].running));
		json_object_set_new(o, "blocked", u64(track_pool_blocked(&p[i])));
		json_object_set_new(o, "states", states_json(&p[i]));
		json_object_set_new(o, "lifetime_ns", u64(p[i].life_ns));
		json_object_set_new(o, "blocked_ns", u64(p[i].blocked_ns));
		json_object_set_new(o, "blocked_share", json_real(track_pool_blocked_share(&p[i])));
		json_array_append_new(a, o);
	}
	free(p);
	return a;
}

json_t *track_json_queues(const struct track_snap *s)
{
	struct track_queue_row *q;
	size_t n = track_queue_rows(s, &q), i;
	json_t *a = json_array();
	for (i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "name", track_json_text(q[i].rec->name,
							       strnlen(q[i].rec->name,
								       TRACK_QUEUE_NAME)));
		json_object_set_new(o, "capacity", q[i].capacity ? u64(q[i].capacity) : json_null());
		json_object_set_new(o, "depth", u64(q[i].depth));
		json_object_set_new(o, "high_water", u64(q[i].high_water));
		json_object_set_new(o, "enqueued", u64(q[i].enqueued));
		json_object_set_new(o, "dequeued", u64(q[i].dequeued));
		json_object_set_new(o, "rejected", u64(q[i].rejected));
		json_object_set_new(o, "waits", u64(q[i].waits));
		json_object_set_new(o, "wait_ns", u64(q[i].wait_ns));
		json_array_append_new(a, o);
	}
	free(q);
	return a;
}

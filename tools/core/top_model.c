/*
 * top_model.c — the dashboard's model (see top_model.h): one frame computed from a view,
 * rates against the previous frame's totals, kept per object and thread slot (a slot's
 * generation tells a reused slot from the same object or thread).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/pools.h"
#include "core/profile.h"
#include "core/queues.h"
#include "core/top_model.h"

#define LOCKS_KEPT 256   /* the most active locks a frame keeps: more than any screen shows */
#define GROWTH_SAMPLES 10   /* leak growth: threads alive never fell over this many samples */
#define GROWTH_MIN 4        /* ... and rose by at least this many */

#define X_LABEL(e, label) label,
const char *const track_top_alert_names[TRACK_TOP_ALERT_COUNT] = {TRACK_TOP_ALERTS(X_LABEL)};
const char *const track_top_sort_names[TRACK_TOP_SORT_COUNT] = {TRACK_TOP_LOCK_SORTS(X_LABEL)};
#undef X_LABEL

/* Totals of one slot at the previous frame. */
struct slot_prev {
	uint64_t gen;
	uint64_t a, b, c;   /* locks: acquisitions, wait ns, contended; condvars and
			       semaphores: signals (posts), barriers: arrivals; queues:
			       enqueued, rejected, producer waits */
	int seen;
};

/* Per pool, the (state, object) most of its blocked threads share: a majority vote in one
 * pass (Boyer-Moore), then a count of the winner. */
struct vote {
	uint32_t state;
	uint64_t obj;
	uint32_t n;
	uint64_t blocked_delta, span;   /* ns blocked since the previous frame, ns alive */
};

/* A kept lock's histograms at the previous frame: the interval's percentiles come from the
 * difference. */
struct hist_prev {
	size_t slot;
	uint64_t gen;
	uint64_t wait[TRACK_HIST_BUCKETS], hold[TRACK_HIST_BUCKETS];
};

/* A pool's totals at a frame, to tell how busy it was between two (core/pools.h). */
struct pool_prev {
	uint64_t routine;
	char pattern[TRACK_NAME_MAX + 1];
	uint64_t life, blocked;
};

struct track_top_prev {
	uint64_t at_ns, created, exited;
	int have;
	struct slot_prev *objs, *queues;   /* by object slot, by queue slot */
	size_t cap_objs, cap_queues;
	struct vote *votes;   /* one per pool, for the frame being made */
	struct pool_prev *pool_prev, *pool_next;   /* pools' totals: previous frame, this one */
	struct hist_prev *hist_prev, *hist_next;   /* kept locks' histograms: the same */
	size_t nhist_prev, cap_hist_prev, cap_hist_next;
	size_t npool_prev, cap_pool_prev, cap_pool_next;
	size_t cap_locks, cap_pools, cap_queue_rows, cap_threads, cap_chains, cap_votes;
};

void track_top_init(struct track_top *t)
{
	memset(t, 0, sizeof *t);
	t->first = 1;
}

void track_top_free(struct track_top *t)
{
	if (t->prev != NULL) {
		free(t->prev->objs);
		free(t->prev->queues);
		free(t->prev->votes);
		free(t->prev->pool_prev);
		free(t->prev->pool_next);
		free(t->prev->hist_prev);
		free(t->prev->hist_next);
		free(t->prev);
	}
	free(t->locks);
	free(t->pools);
	free(t->queues);
	free(t->threads);
	free(t->chains);
	memset(t, 0, sizeof *t);
}

/* Make *p hold at least n elements of size sz (new ones zeroed); -1 out of memory. */
static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
	void *q;
	size_t c = *cap ? *cap : 16;
	if (n <= *cap)
		return 0;
	while (c < n)
		c *= 2;
	if ((q = realloc(*p, c * sz)) == NULL)
		return -1;
	memset((char *)q + *cap * sz, 0, (c - *cap) * sz);
	*p = q;
	*cap = c;
	return 0;
}

#define GROW(ptr, cap, n) grow((void **)&(ptr), &(cap), (n), sizeof *(ptr))

/* x per second over dt seconds, from the previous total; no rate without one. */
static double rate(uint64_t now, uint64_t before, int have, double dt)
{
	if (!have || dt <= 0)
		return TRACK_TOP_NO_RATE;
	return now >= before ? (double)(now - before) / dt : 0;
}

/* The previous totals of slot i if it held the same generation, else NULL; then records
 * the new ones. */
static const struct slot_prev *swap_slot(struct slot_prev *v, size_t i, uint64_t gen,
					 uint64_t a, uint64_t b, uint64_t c, struct slot_prev *old)
{
	*old = v[i];
	v[i].gen = gen;
	v[i].a = a;
	v[i].b = b;
	v[i].c = c;
	v[i].seen = 1;
	return old->seen && old->gen == gen ? old : NULL;
}

/* --- threads: counts, history, pools --------------------------------------------------- */

static int thread_alive(const struct track_thread_rec *r)
{
	return r->state != TRACK_TS_EXITED && r->state != TRACK_TS_UNUSED;
}

static int state_blocked(uint32_t st)
{
	return st != TRACK_TS_RUNNING && st != TRACK_TS_EXITED && st != TRACK_TS_UNUSED;
}

static void push_history(struct track_top *t, uint32_t alive)
{
	if (t->nhistory == TRACK_TOP_HISTORY) {
		memmove(t->history, t->history + 1, (TRACK_TOP_HISTORY - 1) * sizeof t->history[0]);
		t->nhistory--;
	}
	t->history[t->nhistory++] = alive;
}

/* Whether threads alive rose steadily: never fell over the last samples, and grew. */
static int steady_growth(const struct track_top *t)
{
	uint32_t i, from;
	if (t->nhistory < GROWTH_SAMPLES)
		return 0;
	from = t->nhistory - GROWTH_SAMPLES;
	for (i = from + 1; i < t->nhistory; i++)
		if (t->history[i] < t->history[i - 1])
			return 0;
	return t->history[t->nhistory - 1] >= t->history[from] + GROWTH_MIN;
}

/* The function a thread starts in, by name, as core/pools.h names a pool's. */
static void routine_name(struct track_view *v, uint64_t routine, char *buf, size_t len)
{
	struct track_pool p;
	memset(&p, 0, sizeof p);
	p.start_routine = routine;
	track_pool_routine(v, &p, buf, len);
}

static void vote(struct vote *vt, const struct track_thread_rec *r)
{
	if (!state_blocked(r->state))
		return;
	if (vt->n == 0) {
		vt->state = r->state;
		vt->obj = r->wait_obj;
		vt->n = 1;
	} else if (vt->state == r->state && vt->obj == r->wait_obj) {
		vt->n++;
	} else {
		vt->n--;
	}
}

/* The pool (of the frame's) thread r belongs to: same start routine and name pattern. */
static long pool_index(const struct track_top *t, const struct track_thread_rec *r)
{
	char pat[TRACK_NAME_MAX + 1];
	size_t i;
	track_name_pattern(r->name, TRACK_NAME_MAX, pat, sizeof pat);
	for (i = 0; i < t->npools; i++)
		if (t->pools[i].start_routine == r->start_routine && strcmp(t->pools[i].pattern, pat) == 0)
			return (long)i;
	return -1;
}

/* Threads: counts by state, the list of those alive. */
static int do_threads(struct track_top *t, struct track_view *v)
{
	const struct track_snap *s = v->snap;
	uint32_t i;
	memset(t->by_state, 0, sizeof t->by_state);
	t->nthreads = 0;
	if (GROW(t->threads, t->prev->cap_threads, s->nthreads))
		return -1;
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *r = &s->threads[i];
		struct track_top_thread *tt;
		if (!thread_alive(r))
			continue;
		t->by_state[r->state < TRACK_TS_COUNT ? r->state : TRACK_TS_UNUSED]++;
		tt = &t->threads[t->nthreads++];
		tt->rec = r;
		tt->for_ns = t->at_mono_ns > r->since_ns ? t->at_mono_ns - r->since_ns : 0;
		routine_name(v, r->start_routine, tt->pool, sizeof tt->pool);
		if (r->state == TRACK_TS_RUNNING)
			snprintf(tt->doing, sizeof tt->doing, "running");
		else
			track_fmt_wait_target(v, r, tt->doing, sizeof tt->doing);
	}
	return 0;
}

/* The pool's totals at the previous frame, if it had one; NULL if not. */
static const struct pool_prev *pool_before(const struct track_top_prev *pv,
					   const struct track_pool *p)
{
	size_t i;
	for (i = 0; i < pv->npool_prev; i++)
		if (pv->pool_prev[i].routine == p->start_routine &&
		    strcmp(pv->pool_prev[i].pattern, p->pattern) == 0)
			return &pv->pool_prev[i];
	return NULL;
}

/* One pool of the model (core/pools.h) into the frame, busy over the interval when the
 * previous frame had it (the lifetime's share otherwise). */
static void pool_row(struct track_top *t, struct track_view *v, const struct track_pool *p,
		     struct pool_prev *next)
{
	struct track_top_pool *tp = &t->pools[t->npools++];
	const struct pool_prev *was = t->prev->have ? pool_before(t->prev, p) : NULL;
	char fn[TRACK_TOP_SITE - TRACK_NAME_MAX - 4];
	memset(tp, 0, sizeof *tp);
	tp->start_routine = p->start_routine;
	memcpy(tp->pattern, p->pattern, sizeof tp->pattern);
	track_pool_routine(v, p, fn, sizeof fn);
	if (p->pattern[0] == '\0' || strcmp(p->pattern, fn) == 0)
		snprintf(tp->name, sizeof tp->name, "%s", fn);
	else
		snprintf(tp->name, sizeof tp->name, "%s \"%s\"", fn, p->pattern);
	tp->threads = p->alive;
	tp->threads_ever = p->threads;
	tp->running = p->running;
	if (was != NULL && p->life_ns > was->life) {
		uint64_t dl = p->life_ns - was->life;
		uint64_t db = p->blocked_ns > was->blocked ? p->blocked_ns - was->blocked : 0;
		tp->busy_pct = 100.0 * (db >= dl ? 0 : 1 - (double)db / (double)dl);
	} else {
		tp->busy_pct = 100.0 * (1 - track_pool_blocked_share(p));
	}
	next->routine = p->start_routine;
	memcpy(next->pattern, p->pattern, sizeof next->pattern);
	next->life = p->life_ns;
	next->blocked = p->blocked_ns;
}

/* What most of each pool's blocked threads wait on: one vote per blocked thread, then a
 * count of each pool's winner with an example thread to name it. */
static void pools_blocked_on(struct track_top *t, struct track_view *v)
{
	struct vote *votes = t->prev->votes;
	size_t i, p;
	memset(votes, 0, t->npools * sizeof *votes);
	for (i = 0; i < t->nthreads; i++) {
		long k = pool_index(t, t->threads[i].rec);
		if (k >= 0)
			vote(&votes[k], t->threads[i].rec);
	}
	for (p = 0; p < t->npools; p++) {
		struct track_top_pool *pool = &t->pools[p];
		const struct track_thread_rec *example = NULL;
		for (i = 0; votes[p].n > 0 && i < t->nthreads; i++) {
			const struct track_thread_rec *r = t->threads[i].rec;
			if (state_blocked(r->state) && r->state == votes[p].state &&
			    r->wait_obj == votes[p].obj && pool_index(t, r) == (long)p) {
				pool->blocked_count++;
				example = r;
			}
		}
		pool->blocked_state = example != NULL ? votes[p].state : TRACK_TS_RUNNING;
		pool->blocked_obj = example != NULL ? votes[p].obj : 0;
		if (example != NULL)
			track_fmt_wait_target(v, example, pool->blocked_on, sizeof pool->blocked_on);
	}
}

/* Pools with threads alive, as core/pools.h groups them (most threads first). */
static int do_pools(struct track_top *t, struct track_view *v)
{
	struct track_top_prev *pv = t->prev;
	struct track_pool *pools;
	struct pool_prev *swap;
	size_t n = track_pools(v, &pools), i;
	t->npools = 0;
	if (pools == NULL || GROW(t->pools, pv->cap_pools, n) || GROW(pv->votes, pv->cap_votes, n) ||
	    GROW(pv->pool_next, pv->cap_pool_next, n)) {
		free(pools);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (pools[i].alive > 0)
			pool_row(t, v, &pools[i], &pv->pool_next[t->npools]);
	free(pools);
	swap = pv->pool_prev;
	pv->pool_prev = pv->pool_next;
	pv->pool_next = swap;
	i = pv->cap_pool_prev;
	pv->cap_pool_prev = pv->cap_pool_next;
	pv->cap_pool_next = i;
	pv->npool_prev = t->npools;
	pools_blocked_on(t, v);
	return 0;
}

/* --- findings ---------------------------------------------------------------------------- */

static enum track_top_alert alert_of(uint32_t kind)
{
	switch (kind) {
	case TRACK_FK_LOCK_ORDER: return TRACK_TOP_ALERT_LOCK_ORDER;
	case TRACK_FK_DEADLOCK: return TRACK_TOP_ALERT_DEADLOCK;
	case TRACK_FK_STALL:
	case TRACK_FK_THREAD_LIMIT: return TRACK_TOP_ALERT_STALL;
	case TRACK_FK_THREAD_LEAK:
	case TRACK_FK_LOCK_HELD_AT_EXIT:
	case TRACK_FK_FD_LEAK: return TRACK_TOP_ALERT_LEAK;
	default: return TRACK_TOP_ALERT_MISUSE;
	}
}

static void do_alerts(struct track_top *t, struct track_view *v)
{
	const struct track_snap *s = v->snap;
	uint32_t i;
	memset(t->alerts, 0, sizeof t->alerts);
	for (i = 0; i < s->nfindings; i++)
		if (track_finding_shown(v, &s->findings[i]))
			t->alerts[alert_of(s->findings[i].kind)]++;
	t->alerts[TRACK_TOP_ALERT_LEAK] += steady_growth(t);
}

/* --- locks ------------------------------------------------------------------------------- */

/* How active a lock was: what keeps it among the LOCKS_KEPT. */
static int by_activity(const void *a, const void *b)
{
	const struct track_top_lock *x = a, *y = b;
	if (x->wait_per_s != y->wait_per_s)
		return x->wait_per_s < y->wait_per_s ? 1 : -1;
	if (x->waiters != y->waiters)
		return x->waiters < y->waiters ? 1 : -1;
	if (x->acq_per_s != y->acq_per_s)
		return x->acq_per_s < y->acq_per_s ? 1 : -1;
	if (x->wait_ns != y->wait_ns)
		return x->wait_ns < y->wait_ns ? 1 : -1;
	return x->acquisitions < y->acquisitions ? 1 : x->acquisitions > y->acquisitions ? -1 : 0;
}

static void lock_rates(struct track_top *t, const struct track_snap *s,
		       const struct track_lock_row *row, struct track_top_lock *l, double dt)
{
	struct slot_prev old;
	size_t slot = (size_t)(row->rec - s->objs);
	uint64_t acq = row->rec->acquisitions;
	const struct slot_prev *was = swap_slot(t->prev->objs, slot, row->rec->gen, acq,
						row->wait_ns, row->contended, &old);
	int have = was != NULL && t->prev->have;
	uint64_t dacq = have && acq > was->a ? acq - was->a : 0;
	uint64_t dcont = have && row->contended > was->c ? row->contended - was->c : 0;
	l->acq_per_s = rate(acq, have ? was->a : 0, have, dt);
	l->wait_per_s = rate(row->wait_ns, have ? was->b : 0, have, dt);
	if (l->wait_per_s == TRACK_TOP_NO_RATE)   /* the first frame: the average so far */
		l->wait_per_s = t->uptime_ns ? (double)row->wait_ns / ((double)t->uptime_ns / 1e9) : 0;
	/* of the interval's acquisitions when it had some, else of all */
	if (dacq > 0)
		l->contended_pct = 100.0 * (double)dcont / (double)dacq;
	else
		l->contended_pct = acq ? 100.0 * (double)row->contended / (double)acq : 0;
	if (l->contended_pct > 100)   /* unfinished waits counted, not yet acquired */
		l->contended_pct = 100;
}

/* The previous frame's histograms of the lock in slot with generation gen, or NULL. */
static const struct hist_prev *hist_before(const struct track_top_prev *pv, size_t slot,
					   uint64_t gen)
{
	size_t i;
	for (i = 0; i < pv->nhist_prev; i++)
		if (pv->hist_prev[i].slot == slot && pv->hist_prev[i].gen == gen)
			return &pv->hist_prev[i];
	return NULL;
}

/* The 95th percentile of p's events since before (NULL: since the start), and p's
 * histogram into save; 0 without events. */
static uint64_t p95_since(const struct track_prof_rec *p, const uint64_t *before, uint64_t *save)
{
	uint64_t d[TRACK_HIST_BUCKETS];
	uint32_t b;
	if (p == NULL) {
		memset(save, 0, sizeof d);
		return 0;
	}
	for (b = 0; b < TRACK_HIST_BUCKETS; b++) {
		save[b] = p->hist[b];
		d[b] = before == NULL ? p->hist[b] : p->hist[b] > before[b] ? p->hist[b] - before[b] : 0;
	}
	return track_hist_quantile(d, p->max_ns, 0.95);
}

/* Names, sites and percentiles: only for the locks kept (symbolizing costs).  The
 * percentiles are of the interval since the previous frame when the lock was kept then,
 * else since the start. */
static void lock_details(struct track_top *t, struct track_view *v, struct track_top_lock *l,
			 struct hist_prev *next)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	const struct hist_prev *was;
	track_obj_label(s, sym, l->rec->addr, l->rec->kind, l->name, sizeof l->name);
	track_fmt_site(s, sym, l->rec->first_pc, l->rec->first_stack, l->site, sizeof l->site);
	next->slot = (size_t)(l->rec - s->objs);
	next->gen = l->rec->gen;
	was = t->prev->have ? hist_before(t->prev, next->slot, next->gen) : NULL;
	l->wait_p95 = p95_since(l->wait_prof, was != NULL ? was->wait : NULL, next->wait);
	l->hold_p95 = p95_since(l->hold_prof, was != NULL ? was->hold : NULL, next->hold);
	l->top_holder[0] = '\0';
	if (l->holder_prof != NULL)
		track_fmt_prof_site(s, sym, l->holder_prof, l->top_holder, sizeof l->top_holder);
}

/* This frame's histograms become the previous ones. */
static void swap_hists(struct track_top_prev *pv, size_t n)
{
	struct hist_prev *h = pv->hist_prev;
	size_t cap = pv->cap_hist_prev;
	pv->hist_prev = pv->hist_next;
	pv->cap_hist_prev = pv->cap_hist_next;
	pv->hist_next = h;
	pv->cap_hist_next = cap;
	pv->nhist_prev = n;
}

static int do_locks(struct track_top *t, struct track_view *v, double dt)
{
	const struct track_snap *s = v->snap;
	struct track_top_prev *pv = t->prev;
	struct track_lock_row *rows = NULL;
	size_t i, n = track_lock_rows(v, &rows);
	t->nlocks = 0;
	if (rows == NULL || GROW(pv->objs, pv->cap_objs, s->nobjs) || GROW(t->locks, pv->cap_locks, n)) {
		free(rows);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct track_top_lock *l = &t->locks[t->nlocks++];
		memset(l, 0, sizeof *l);
		l->rec = rows[i].rec;
		l->acquisitions = rows[i].rec->acquisitions;
		l->contended = rows[i].contended;
		l->wait_ns = rows[i].wait_ns;
		l->wait_max = rows[i].max_wait_ns;
		l->owner = rows[i].rec->owner_tid;
		l->waiters = rows[i].waiting > rows[i].rec->waiters ? rows[i].waiting : rows[i].rec->waiters;
		l->wait_prof = rows[i].wait;
		l->hold_prof = rows[i].hold;
		l->holder_prof = rows[i].top_holder;
		lock_rates(t, s, &rows[i], l, dt);
	}
	free(rows);
	if (t->nlocks > 1)   /* no array at all when there is nothing (qsort wants one) */
		qsort(t->locks, t->nlocks, sizeof *t->locks, by_activity);
	if (t->nlocks > LOCKS_KEPT)
		t->nlocks = LOCKS_KEPT;
	if (GROW(pv->hist_next, pv->cap_hist_next, t->nlocks))
		return -1;
	for (i = 0; i < t->nlocks; i++)
		lock_details(t, v, &t->locks[i], &pv->hist_next[i]);
	swap_hists(pv, t->nlocks);
	return 0;
}

double track_top_lock_key(const struct track_top_lock *l, enum track_top_lock_sort key)
{
	switch (key) {
	case TRACK_TOP_SORT_ACQ_RATE: return l->acq_per_s;
	case TRACK_TOP_SORT_CONTENDED: return l->contended_pct;
	case TRACK_TOP_SORT_WAIT_P95: return (double)l->wait_p95;
	case TRACK_TOP_SORT_WAIT_MAX: return (double)l->wait_max;
	case TRACK_TOP_SORT_HOLD_P95: return (double)l->hold_p95;
	case TRACK_TOP_SORT_WAITERS: return l->waiters;
	default: return l->wait_per_s;
	}
}

static enum track_top_lock_sort sort_key;

static int by_key(const void *a, const void *b)
{
	double x = track_top_lock_key(a, sort_key), y = track_top_lock_key(b, sort_key);
	if (x != y)
		return x < y ? 1 : -1;
	return by_activity(a, b);
}

void track_top_sort_locks(struct track_top *t, enum track_top_lock_sort key)
{
	sort_key = key;
	if (t->nlocks > 1)
		qsort(t->locks, t->nlocks, sizeof *t->locks, by_key);
}

/* --- queues ------------------------------------------------------------------------------ */

static struct track_top_queue *new_queue(struct track_top *t, enum track_top_queue_type type)
{
	struct track_top_queue *q;
	if (GROW(t->queues, t->prev->cap_queue_rows, t->nqueues + 1))
		return NULL;
	q = &t->queues[t->nqueues++];
	memset(q, 0, sizeof *q);
	q->type = type;
	return q;
}

/* The registered queues (core/queues.h), with rates against the previous frame by slot. */
static int registered_queues(struct track_top *t, const struct track_snap *s, double dt)
{
	struct track_top_prev *pv = t->prev;
	struct track_queue_row *rows;
	size_t i, n = track_queue_rows(s, &rows);
	int rc = -1;
	if (GROW(pv->queues, pv->cap_queues, s->nqueues))
		goto out;
	for (i = 0; i < n; i++) {
		const struct track_queue_row *r = &rows[i];
		struct track_top_queue *q;
		struct slot_prev old;
		const struct slot_prev *was;
		int have;
		if ((q = new_queue(t, TRACK_TOP_Q_REGISTERED)) == NULL)
			goto out;
		snprintf(q->name, sizeof q->name, "%.*s", TRACK_QUEUE_NAME, r->rec->name);
		q->depth = r->depth;
		q->capacity = r->capacity;
		q->high_water = r->high_water;
		q->rejected = r->rejected;
		q->producer_waits = r->waits;
		was = swap_slot(pv->queues, (size_t)(r->rec - s->queues), 1, r->enqueued, r->rejected,
				r->waits, &old);
		have = was != NULL && pv->have;
		q->enqueued_per_s = rate(r->enqueued, have ? was->a : 0, have, dt);
		q->rejected_per_s = rate(r->rejected, have ? was->b : 0, have, dt);
		q->waits_per_s = rate(r->waits, have ? was->c : 0, have, dt);
	}
	rc = 0;
out:
	free(rows);
	return rc;
}

static enum track_top_queue_type waitq_type(uint32_t kind)
{
	return kind == TRACK_OBJ_COND ? TRACK_TOP_Q_CONDVAR : kind == TRACK_OBJ_SEM ? TRACK_TOP_Q_SEM
										   : TRACK_TOP_Q_BARRIER;
}

/* The waiting queues of kind (core/queues.h, most waited on first): condvars and barriers
 * with waiters now, semaphores alive; signals (posts, arrivals) per second by object slot. */
static int waiting_queues(struct track_top *t, struct track_view *v, double dt, uint32_t kind)
{
	const struct track_snap *s = v->snap;
	struct track_waitq_row *rows;
	size_t i, n = track_waitq_rows(s, kind, &rows);
	for (i = 0; i < n; i++) {
		const struct track_obj_rec *r = rows[i].rec;
		struct track_top_queue *q;
		struct slot_prev old;
		const struct slot_prev *was;
		struct track_dist d;
		uint64_t events = kind == TRACK_OBJ_BARRIER ? r->acquisitions : r->signals;
		was = swap_slot(t->prev->objs, (size_t)(r - s->objs), r->gen, events, 0, 0, &old);
		if (!(r->flags & TRACK_OF_LIVE) || (kind != TRACK_OBJ_SEM && r->waiters == 0))
			continue;
		if ((q = new_queue(t, waitq_type(kind))) == NULL) {
			free(rows);
			return -1;
		}
		track_obj_label(s, track_view_sym(v), r->addr, r->kind, q->name, sizeof q->name);
		q->waiters = r->waiters;
		q->sem_value = r->sem_value;
		track_dist_of(rows[i].wait, &d);
		q->wait_p95 = d.p95;
		q->enqueued_per_s = rate(events, was != NULL && t->prev->have ? was->a : 0,
					 was != NULL && t->prev->have, dt);
		q->rejected_per_s = TRACK_TOP_NO_RATE;
	}
	free(rows);
	return 0;
}

static int do_queues(struct track_top *t, struct track_view *v, double dt)
{
	t->nqueues = 0;
	if (GROW(t->prev->objs, t->prev->cap_objs, v->snap->nobjs) ||
	    registered_queues(t, v->snap, dt) != 0 ||
	    waiting_queues(t, v, dt, TRACK_OBJ_COND) != 0 ||
	    waiting_queues(t, v, dt, TRACK_OBJ_SEM) != 0)
		return -1;
	return waiting_queues(t, v, dt, TRACK_OBJ_BARRIER);
}

/* --- wait-for chains --------------------------------------------------------------------- */

/* Whom thread r waits for: a lock's owner or the thread it joins; 0 if none. */
static int32_t waits_for(const struct track_snap *s, const struct track_thread_rec *r)
{
	const struct track_obj_rec *o;
	if (r->state == TRACK_TS_JOIN)
		return r->wait_tid;
	if (!track_state_is_lock_wait(r->state))
		return 0;
	o = track_snap_obj(s, r->wait_obj_idx);
	return o != NULL && o->addr == r->wait_obj ? o->owner_tid : 0;
}

static void what_waits(struct track_view *v, const struct track_thread_rec *r, char *buf,
		       size_t len)
{
	if (r == NULL || !state_blocked(r->state))
		snprintf(buf, len, "%s", r == NULL ? "" : "running");
	else
		track_fmt_wait_target(v, r, buf, len);
}

static void follow(struct track_view *v, const struct track_thread_rec *r, struct track_top_chain *c)
{
	const struct track_snap *s = v->snap;
	uint32_t i;
	memset(c, 0, sizeof *c);
	while (r != NULL && c->n <= TRACK_TOP_CHAIN) {
		int32_t next;
		c->tid[c->n] = r->tid;
		c->state[c->n] = r->state;
		c->timed |= state_blocked(r->state) && (r->wait_flags & TRACK_WF_TIMED) != 0;
		what_waits(v, r, c->what[c->n], sizeof c->what[0]);
		c->n++;
		next = waits_for(s, r);
		if (next == 0 || c->n > TRACK_TOP_CHAIN)
			break;
		for (i = 0; i < c->n; i++)
			if (c->tid[i] == next)
				c->cycle = 1;
		if (c->cycle) {
			if (c->n <= TRACK_TOP_CHAIN)
				c->tid[c->n] = next;   /* shown as the link back, not followed */
			break;
		}
		r = track_snap_thread(s, next);
		if (r == NULL || !thread_alive(r)) {
			if (c->n <= TRACK_TOP_CHAIN) {
				c->tid[c->n] = next;
				c->n++;
			}
			break;
		}
	}
}

static int by_wait_desc(const void *a, const void *b)
{
	const struct track_top_chain *x = a, *y = b;
	if (x->cycle != y->cycle)
		return y->cycle - x->cycle;
	return x->for_ns < y->for_ns ? 1 : x->for_ns > y->for_ns ? -1 : x->tid[0] - y->tid[0];
}

static int do_chains(struct track_top *t, struct track_view *v)
{
	size_t i;
	t->nchains = 0;
	for (i = 0; i < t->nthreads; i++) {
		const struct track_thread_rec *r = t->threads[i].rec;
		struct track_top_chain *c;
		if (!track_state_is_lock_wait(r->state) && r->state != TRACK_TS_JOIN)
			continue;
		if (GROW(t->chains, t->prev->cap_chains, t->nchains + 1))
			return -1;
		c = &t->chains[t->nchains++];
		follow(v, r, c);
		c->for_ns = t->threads[i].for_ns;
	}
	if (t->nchains > 1)
		qsort(t->chains, t->nchains, sizeof *t->chains, by_wait_desc);
	return 0;
}

/* --- the frame --------------------------------------------------------------------------- */

int track_top_update(struct track_top *t, struct track_view *v)
{
	const struct track_snap *s = v->snap;
	struct track_top_prev *pv;
	double dt;
	int rc;
	if (t->prev == NULL && (t->prev = calloc(1, sizeof *t->prev)) == NULL)
		return -1;
	pv = t->prev;
	t->at_mono_ns = s->alive ? s->read_mono_ns : 0;
	if (!s->alive) {
		struct track_end e;
		track_view_end(v, &e);
		t->at_mono_ns = e.mono_ns;
	}
	t->alive = s->alive;
	t->pid = s->hdr.pid;
	track_cmdline(&s->hdr, t->command, sizeof t->command);
	t->frame++;
	t->first = !pv->have;
	dt = pv->have && t->at_mono_ns > pv->at_ns ? (double)(t->at_mono_ns - pv->at_ns) / 1e9 : 0;
	if (pv->have && dt == 0)
		pv->have = 0;   /* the same moment again (an ended process): no rates */
	t->interval_s = dt;
	t->uptime_ns = track_duration_ns(v, NULL);
	t->created = s->hdr.threads_created;
	t->exited = s->hdr.threads_exited;
	t->peak = s->hdr.threads_peak;
	t->threads_alive = s->hdr.threads_alive;
	t->created_per_s = rate(t->created, pv->created, pv->have, dt);
	t->exited_per_s = rate(t->exited, pv->exited, pv->have, dt);
	rc = do_threads(t, v);
	if (rc == 0)
		rc = do_pools(t, v);
	if (rc == 0)
		rc = do_locks(t, v, dt);
	if (rc == 0)
		rc = do_queues(t, v, dt);
	if (rc == 0)
		rc = do_chains(t, v);
	push_history(t, (uint32_t)t->nthreads);
	do_alerts(t, v);
	pv->at_ns = t->at_mono_ns;
	pv->created = t->created;
	pv->exited = t->exited;
	pv->have = rc == 0;
	if (rc != 0)
		t->nthreads = t->npools = t->nlocks = t->nqueues = t->nchains = 0;
	return rc;
}

/* --- the sparkline and stacks ------------------------------------------------------------- */

const char *track_top_sparkline(const struct track_top *t, int width, int ascii, char *buf,
				size_t len)
{
	static const char *const blocks[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
		"\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
	static const char levels[] = " .:-=+*#%@";
	uint32_t lo = UINT32_MAX, hi = 0, i, from;
	size_t o = 0;
	buf[0] = '\0';
	if (width <= 0 || t->nhistory == 0)
		return buf;
	from = t->nhistory > (uint32_t)width ? t->nhistory - (uint32_t)width : 0;
	for (i = from; i < t->nhistory; i++) {
		lo = t->history[i] < lo ? t->history[i] : lo;
		hi = t->history[i] > hi ? t->history[i] : hi;
	}
	for (i = from; i < t->nhistory; i++) {
		double f = hi > lo ? (double)(t->history[i] - lo) / (double)(hi - lo) : 0.5;
		const char *cell;
		char one[2] = {0, 0};
		if (ascii) {
			one[0] = levels[1 + (int)(f * (sizeof levels - 3) + 0.5)];
			cell = one;
		} else {
			cell = blocks[(int)(f * 7 + 0.5)];
		}
		if (o + strlen(cell) + 1 > len)
			break;
		memcpy(buf + o, cell, strlen(cell));
		o += strlen(cell);
	}
	buf[o] = '\0';
	return buf;
}

/* Append to buf (at *o) a formatted line. */
static void addf(char *buf, size_t len, size_t *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void addf(char *buf, size_t len, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (*o + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, len - *o, fmt, ap);
	va_end(ap);
	*o += n > 0 ? (size_t)n : 0;
	if (*o >= len)
		*o = len - 1;
}

static void add_stack(struct track_view *v, uint32_t id, char *buf, size_t len, size_t *o)
{
	const struct track_stack_rec *st = track_snap_stack(v->snap, id);
	struct track_symbolizer *sym = track_view_sym(v);
	char line[512];
	uint32_t i;
	if (st == NULL) {
		addf(buf, len, o, "    (no stack recorded)\n");
		return;
	}
	for (i = 0; i < st->nframes; i++)
		addf(buf, len, o, "    %s\n", track_fmt_pc(sym, st->frames[i], 1, line, sizeof line));
}

const char *track_top_thread_stack(struct track_view *v, int32_t tid, char *buf, size_t len)
{
	const struct track_thread_rec *r = track_snap_thread(v->snap, tid);
	char what[512], pc[512];
	size_t o = 0;
	uint32_t i;
	buf[0] = '\0';
	if (r == NULL) {
		addf(buf, len, &o, "thread %d: no record in the segment\n", (int)tid);
		return buf;
	}
	what_waits(v, r, what, sizeof what);
	addf(buf, len, &o, "thread %d \"%.*s\": %s\n", (int)tid, TRACK_NAME_MAX, r->name, what);
	if (state_blocked(r->state) && r->wait_stack != 0) {
		addf(buf, len, &o, "  where its wait began:\n");
		add_stack(v, r->wait_stack, buf, len, &o);
	}
	for (i = 0; i < r->nheld && i < TRACK_HELD_MAX; i++) {
		const struct track_obj_rec *h = track_snap_obj(v->snap, r->held[i] & ~TRACK_HELD_READ);
		if (h == NULL)
			continue;
		addf(buf, len, &o, "  holds %s, taken at %s\n",
		     track_obj_label(v->snap, track_view_sym(v), h->addr, h->kind, what, sizeof what),
		     track_fmt_pc(track_view_sym(v), r->held_pc[i], 1, pc, sizeof pc));
	}
	addf(buf, len, &o, "  created at:\n");
	add_stack(v, r->create_stack, buf, len, &o);
	return buf;
}

const char *track_top_lock_stack(struct track_view *v, uint64_t addr, char *buf, size_t len)
{
	const struct track_obj_rec *r = track_snap_obj_at(v->snap, addr);
	char name[256];
	size_t o = 0;
	buf[0] = '\0';
	if (r == NULL) {
		addf(buf, len, &o, "0x%llx: no record in the segment\n", (unsigned long long)addr);
		return buf;
	}
	addf(buf, len, &o, "%s %s\n", track_kind_name(r->kind),
	     track_obj_label(v->snap, track_view_sym(v), addr, r->kind, name, sizeof name));
	if (r->owner_tid != 0) {
		addf(buf, len, &o, "  held by thread %d; its stack:\n", (int)r->owner_tid);
		{
			char sub[8192];
			track_top_thread_stack(v, r->owner_tid, sub, sizeof sub);
			addf(buf, len, &o, "%s", sub);
		}
	}
	addf(buf, len, &o, "  first used at:\n");
	add_stack(v, r->first_stack, buf, len, &o);
	return buf;
}

/* --- a session ---------------------------------------------------------------------------- */

int track_top_open(struct track_top_session *ss, const char *path, char *err, size_t errlen)
{
	int rc;
	memset(ss, 0, sizeof *ss);
	rc = track_snap_load(path, &ss->snap, err, errlen);
	if (rc != TRACK_EXIT_OK)
		return rc;
	ss->loaded = 1;
	track_view_init(&ss->view, &ss->snap, NULL, NULL);
	track_top_init(&ss->model);
	if (track_top_update(&ss->model, &ss->view) != 0) {
		snprintf(err, errlen, "out of memory");
		return TRACK_EXIT_FAIL;
	}
	return TRACK_EXIT_OK;
}

int track_top_refresh(struct track_top_session *ss, char *err, size_t errlen)
{
	struct track_top *t = &ss->model;
	int rc;
	if (ss->broken) {
		snprintf(err, errlen, "the segment could not be read again");
		return TRACK_EXIT_FAIL;
	}
	if (!ss->snap.alive && !t->alive && t->frame > 0)
		return TRACK_EXIT_OK;   /* ended, and already shown so: the last picture stays */
	if (ss->snap.alive) {
		rc = track_snap_reload(&ss->snap, err, errlen);
		if (rc != TRACK_EXIT_OK) {
			ss->broken = 1;   /* what the lists point to may be gone */
			t->nthreads = t->npools = t->nlocks = t->nqueues = t->nchains = 0;
			return rc;
		}
	}
	if (track_top_update(&ss->model, &ss->view) != 0) {
		snprintf(err, errlen, "out of memory");
		return TRACK_EXIT_FAIL;
	}
	return TRACK_EXIT_OK;
}

void track_top_close(struct track_top_session *ss)
{
	if (!ss->loaded)
		return;
	track_top_free(&ss->model);
	track_view_fini(&ss->view);
	track_snap_free(&ss->snap);   /* also after a failed reload, as segread.h asks */
	ss->loaded = 0;
}

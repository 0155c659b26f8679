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
#include "core/profile.h"
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
			       semaphores: signals (posts); threads: ns blocked; queues:
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

struct track_top_prev {
	uint64_t at_ns, created, exited;
	int have;
	struct slot_prev *objs, *thrs, *queues;
	size_t cap_objs, cap_thrs, cap_queues;
	struct vote *votes;   /* one per pool, for the frame being made */
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
		free(t->prev->thrs);
		free(t->prev->queues);
		free(t->prev->votes);
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

/* ns thread r has spent blocked in pthread calls, its current wait included. */
static uint64_t blocked_ns(const struct track_thread_rec *r, uint64_t now)
{
	uint64_t n = r->wait_ns;
	if (state_blocked(r->state) && now > r->since_ns)
		n += now - r->since_ns;
	return n;
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

/* The function at pc (a start routine), by name, into buf. */
static void routine_name(struct track_view *v, const struct track_thread_rec *r, char *buf,
			 size_t len)
{
	struct track_symbolizer *sym;
	struct track_frame f[8];
	int n;
	if (r->start_routine == 0) {
		snprintf(buf, len, "%s", (r->flags & TRACK_TF_MAIN) ? "main" : "(not created by pthread_create)");
		return;
	}
	sym = track_view_sym(v);
	n = sym != NULL ? track_sym_lookup(sym, r->start_routine, 0, f, 8) : 0;
	if (n > 0 && f[n - 1].function != NULL)
		snprintf(buf, len, "%s", f[n - 1].function);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)r->start_routine);
}

static struct track_top_pool *pool_of(struct track_top *t, uint64_t routine)
{
	size_t i;
	for (i = 0; i < t->npools; i++)
		if (t->pools[i].start_routine == routine)
			return &t->pools[i];
	return NULL;
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

static void pool_blocked_on(struct track_view *v, struct track_top_pool *p,
			    const struct track_thread_rec *example)
{
	if (p->blocked_count == 0) {
		p->blocked_state = TRACK_TS_RUNNING;
		p->blocked_on[0] = '\0';
		return;
	}
	track_fmt_wait_target(v, example, p->blocked_on, sizeof p->blocked_on);
}

static int by_threads_desc(const void *a, const void *b)
{
	const struct track_top_pool *x = a, *y = b;
	if (x->threads != y->threads)
		return x->threads < y->threads ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Threads: counts by state, the threads list, pools with their busy share. */
static int do_threads(struct track_top *t, struct track_view *v, double dt)
{
	const struct track_snap *s = v->snap;
	struct track_top_prev *pv = t->prev;
	struct vote *votes = pv->votes;
	uint32_t i;
	size_t p;
	memset(t->by_state, 0, sizeof t->by_state);
	t->nthreads = t->npools = 0;
	if (GROW(pv->thrs, pv->cap_thrs, s->nthreads) || GROW(t->threads, pv->cap_threads, s->nthreads))
		return -1;
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *r = &s->threads[i];
		struct track_top_thread *tt;
		struct track_top_pool *pool;
		struct slot_prev old;
		const struct slot_prev *was;
		uint64_t blk;
		if (!thread_alive(r))
			continue;
		t->by_state[r->state < TRACK_TS_COUNT ? r->state : TRACK_TS_UNUSED]++;
		tt = &t->threads[t->nthreads++];
		tt->rec = r;
		tt->for_ns = t->at_mono_ns > r->since_ns ? t->at_mono_ns - r->since_ns : 0;
		routine_name(v, r, tt->pool, sizeof tt->pool);
		if (r->state == TRACK_TS_RUNNING)
			snprintf(tt->doing, sizeof tt->doing, "running");
		else
			track_fmt_wait_target(v, r, tt->doing, sizeof tt->doing);
		if ((pool = pool_of(t, r->start_routine)) == NULL) {
			if (GROW(t->pools, pv->cap_pools, t->npools + 1) ||
			    GROW(pv->votes, pv->cap_votes, t->npools + 1))
				return -1;
			votes = pv->votes;
			pool = &t->pools[t->npools];
			memset(pool, 0, sizeof *pool);
			memset(&votes[t->npools], 0, sizeof *votes);
			t->npools++;
			pool->start_routine = r->start_routine;
			snprintf(pool->name, sizeof pool->name, "%s", tt->pool);
		}
		p = (size_t)(pool - t->pools);
		pool->threads++;
		pool->running += r->state == TRACK_TS_RUNNING;
		vote(&votes[p], r);
		blk = blocked_ns(r, t->at_mono_ns);
		was = swap_slot(pv->thrs, i, r->gen, blk, 0, 0, &old);
		if (was != NULL && pv->have) {
			votes[p].blocked_delta += blk > was->a ? blk - was->a : 0;
			votes[p].span += (uint64_t)(dt * 1e9);
		}
	}
	/* second pass: count each pool's winner, keep an example thread to name it */
	for (p = 0; p < t->npools; p++) {
		struct track_top_pool *pool = &t->pools[p];
		const struct track_thread_rec *example = NULL;
		pool->blocked_count = 0;
		for (i = 0; votes[p].n > 0 && i < t->nthreads; i++) {
			const struct track_thread_rec *r = t->threads[i].rec;
			if (r->start_routine == pool->start_routine && state_blocked(r->state) &&
			    r->state == votes[p].state && r->wait_obj == votes[p].obj) {
				pool->blocked_count++;
				example = r;
			}
		}
		pool->blocked_state = votes[p].state;
		pool->blocked_obj = votes[p].obj;
		pool_blocked_on(v, pool, example);
		if (votes[p].span > 0) {
			double b = (double)votes[p].blocked_delta / (double)votes[p].span;
			pool->busy_pct = 100.0 * (b > 1 ? 0 : 1 - b);
		} else {
			pool->busy_pct = 100.0 * pool->running / pool->threads;
		}
	}
	qsort(t->pools, t->npools, sizeof *t->pools, by_threads_desc);
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

/* Names, sites and percentiles: only for the locks kept (symbolizing costs). */
static void lock_details(struct track_view *v, struct track_top_lock *l)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	struct track_dist d;
	track_obj_label(s, sym, l->rec->addr, l->rec->kind, l->name, sizeof l->name);
	track_fmt_site(s, sym, l->rec->first_pc, l->rec->first_stack, l->site, sizeof l->site);
	track_dist_of(track_obj_prof(s, l->rec, TRACK_PR_WAIT), &d);
	l->wait_p95 = d.p95;
	track_dist_of(track_obj_prof(s, l->rec, TRACK_PR_HOLD), &d);
	l->hold_p95 = d.p95;
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
		lock_rates(t, s, &rows[i], l, dt);
	}
	free(rows);
	qsort(t->locks, t->nlocks, sizeof *t->locks, by_activity);
	if (t->nlocks > LOCKS_KEPT)
		t->nlocks = LOCKS_KEPT;
	for (i = 0; i < t->nlocks; i++)
		lock_details(v, &t->locks[i]);
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

static int registered_queues(struct track_top *t, const struct track_snap *s, double dt)
{
	struct track_top_prev *pv = t->prev;
	uint32_t i;
	if (GROW(pv->queues, pv->cap_queues, s->nqueues))
		return -1;
	for (i = 0; i < s->nqueues; i++) {
		const struct track_queue_rec *r = &s->queues[i];
		struct track_top_queue *q;
		struct slot_prev old;
		const struct slot_prev *was;
		int have;
		if (!r->valid)
			continue;
		if ((q = new_queue(t, TRACK_TOP_Q_REGISTERED)) == NULL)
			return -1;
		snprintf(q->name, sizeof q->name, "%.*s", TRACK_QUEUE_NAME, r->name);
		q->depth = r->enqueued > r->dequeued ? r->enqueued - r->dequeued : 0;
		q->capacity = r->capacity;
		q->high_water = r->high_water;
		q->rejected = r->rejected;
		q->producer_waits = r->waits;
		was = swap_slot(pv->queues, i, 1, r->enqueued, r->rejected, r->waits, &old);
		have = was != NULL && pv->have;
		q->enqueued_per_s = rate(r->enqueued, have ? was->a : 0, have, dt);
		q->rejected_per_s = rate(r->rejected, have ? was->b : 0, have, dt);
		q->waits_per_s = rate(r->waits, have ? was->c : 0, have, dt);
	}
	return 0;
}

/* Condvars with waiters, then semaphores in use. */
static int object_queues(struct track_top *t, struct track_view *v, double dt, uint32_t kind)
{
	const struct track_snap *s = v->snap;
	uint32_t i;
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *r = &s->objs[i];
		struct track_top_queue *q;
		struct slot_prev old;
		const struct slot_prev *was;
		int have;
		if (r->kind != kind || !(r->flags & TRACK_OF_LIVE) || !track_obj_used(r))
			continue;
		was = swap_slot(t->prev->objs, i, r->gen, r->signals, 0, 0, &old);
		if (kind == TRACK_OBJ_COND && r->waiters == 0)
			continue;
		if ((q = new_queue(t, kind == TRACK_OBJ_COND ? TRACK_TOP_Q_CONDVAR : TRACK_TOP_Q_SEM)) == NULL)
			return -1;
		track_obj_label(s, track_view_sym(v), r->addr, r->kind, q->name, sizeof q->name);
		q->waiters = r->waiters;
		q->sem_value = r->sem_value;
		have = was != NULL && t->prev->have;
		q->enqueued_per_s = rate(r->signals, have ? was->a : 0, have, dt);
		q->rejected_per_s = TRACK_TOP_NO_RATE;
	}
	return 0;
}

static int do_queues(struct track_top *t, struct track_view *v, double dt)
{
	t->nqueues = 0;
	if (registered_queues(t, v->snap, dt) != 0)
		return -1;
	if (object_queues(t, v, dt, TRACK_OBJ_COND) != 0)
		return -1;
	return object_queues(t, v, dt, TRACK_OBJ_SEM);
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
	rc = do_threads(t, v, dt);
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

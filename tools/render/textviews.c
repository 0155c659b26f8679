/*
 * textviews.c — the text report's blocks about where time went: which locks made threads
 * wait and who held them meanwhile, how condvars, semaphores, barriers and joins were waited
 * on, how busy each pool of threads was, how full each registered queue got.  Everything is
 * read from the model (core/model.h, profile.h, pools.h, queues.h); this file only lays it
 * out, at most about 100 columns wide.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/pools.h"
#include "core/profile.h"
#include "core/queues.h"
#include "render/textviews.h"

#define NAME_COL_MIN 16
#define NAME_COL_MAX 32
#define SITES_SHOWN 3   /* waiting and holding sites listed per lock */

/* A duration, or "-" when there is nothing to measure. */
static const char *ns_or_dash(uint64_t ns, int have, char *buf, size_t len)
{
	if (!have)
		snprintf(buf, len, "-");
	else
		track_fmt_ns(ns, buf, len);
	return buf;
}

/* The p95 of a profile, or "-". */
static const char *p95_of(const struct track_prof_rec *p, char *buf, size_t len)
{
	struct track_dist d;
	track_dist_of(p, &d);
	return ns_or_dash(d.p95, p != NULL, buf, len);
}

/* Width of the name column for the objects recs[0..n) (at most top of them). */
static int name_width(struct track_view *v, const struct track_obj_rec *const *recs, size_t n)
{
	int width = NAME_COL_MIN;
	char name[256];
	size_t i;
	for (i = 0; i < n; i++) {
		int w = (int)strlen(track_obj_label(v->snap, track_view_sym(v), recs[i]->addr,
						    recs[i]->kind, name, sizeof name));
		if (w > width)
			width = w < NAME_COL_MAX ? w : NAME_COL_MAX;
	}
	return width;
}

static const char *label(struct track_view *v, const struct track_obj_rec *r, char *buf,
			 size_t len)
{
	return track_obj_label(v->snap, track_view_sym(v), r->addr, r->kind, buf, len);
}

/* "p50 1.0 ms, p95 2.0 ms, p99 2.0 ms, max 2.1 ms" */
static const char *dist_words(const struct track_dist *d, char *buf, size_t len)
{
	char a[32], b[32], c[32], m[32];
	snprintf(buf, len, "p50 %s, p95 %s, p99 %s, max %s", track_fmt_ns(d->p50, a, sizeof a),
		 track_fmt_ns(d->p95, b, sizeof b), track_fmt_ns(d->p99, c, sizeof c),
		 track_fmt_ns(d->max_ns, m, sizeof m));
	return buf;
}

/* --- locks -------------------------------------------------------------------------------- */

static const char *const sort_words[TRACK_LS_COUNT] = {
	[TRACK_LS_WAIT] = "total wait", [TRACK_LS_HOLD] = "total hold time",
	[TRACK_LS_CONTENDED] = "contended acquisitions", [TRACK_LS_ACQUISITIONS] = "acquisitions",
	[TRACK_LS_NAME] = "name",
};

static void print_lock_row(FILE *out, struct track_view *v, const struct track_lock_row *row,
			   int width)
{
	const struct track_obj_rec *r = row->rec;
	char name[256], acq[32], con[32], tot[32], p95[32], max[32], hold[32];
	fprintf(out, "  %-*s %-9s %10s %10s %10s %9s %9s %9s\n", width,
		label(v, r, name, sizeof name), track_kind_name(r->kind),
		track_fmt_count(r->acquisitions, acq, sizeof acq),
		track_fmt_count(row->contended, con, sizeof con),
		track_fmt_ns(row->wait_ns, tot, sizeof tot), p95_of(row->wait, p95, sizeof p95),
		ns_or_dash(row->max_wait_ns, row->contended > 0, max, sizeof max),
		p95_of(row->hold, hold, sizeof hold));
}

/* "      4.48 s     11,235  worker (workqueue.c:77)": the top sites of one role of a lock. */
static void print_sites(FILE *out, struct track_view *v, const struct track_prof_index *ix,
			const struct track_obj_rec *r, uint32_t role, const char *title)
{
	const struct track_prof_rec *const *p;
	size_t n = track_prof_find(ix, r, role, &p), i;
	char tot[32], cnt[32], where[256];
	if (n == 0)
		return;
	fprintf(out, "    %s\n", title);
	for (i = 0; i < n && i < SITES_SHOWN; i++)
		fprintf(out, "      %10s %10s  %s\n", track_fmt_ns(p[i]->total_ns, tot, sizeof tot),
			track_fmt_count(p[i]->count, cnt, sizeof cnt),
			track_fmt_prof_site(v->snap, track_view_sym(v), p[i], where, sizeof where));
	if (n > SITES_SHOWN)
		fprintf(out, "      ... %zu more (--json)\n", n - SITES_SHOWN);
}

/* "    held now by thread 12 \"worker\", 2 threads waiting" */
static void print_owner(FILE *out, const struct track_snap *s, const struct track_lock_row *row)
{
	const struct track_thread_rec *t;
	if (row->rec->owner_tid == 0 && row->waiting == 0)
		return;
	fprintf(out, "    %s", s->alive ? "now" : "at the end");
	if (row->rec->owner_tid != 0) {
		t = track_snap_thread(s, row->rec->owner_tid);
		fprintf(out, " held by thread %d \"%.*s\"%s", row->rec->owner_tid, TRACK_NAME_MAX,
			t != NULL ? t->name : "", row->waiting ? "," : "");
	}
	if (row->waiting)
		fprintf(out, " %u thread%s waiting", row->waiting, row->waiting == 1 ? "" : "s");
	fputc('\n', out);
}

/* One listed lock: where it was first used, its wait and hold distributions, who waited
 * where, who held it meanwhile, who holds it now. */
static void print_lock_block(FILE *out, struct track_view *v, const struct track_prof_index *ix,
			     const struct track_lock_row *row)
{
	const struct track_obj_rec *r = row->rec;
	char name[256], where[256], words[160], cnt[32], acq[32];
	struct track_dist d;
	fprintf(out, "  %s (%s), first used at %s\n", label(v, r, name, sizeof name),
		track_kind_name(r->kind),
		track_fmt_site(v->snap, track_view_sym(v), r->first_pc, r->first_stack, where,
			       sizeof where));
	if (row->wait != NULL) {
		track_dist_of(row->wait, &d);
		fprintf(out, "    wait: %s waits, %s\n", track_fmt_count(d.count, cnt, sizeof cnt),
			dist_words(&d, words, sizeof words));
	}
	if (row->hold != NULL) {
		track_dist_of(row->hold, &d);
		fprintf(out, "    hold: %s of %s holds timed, %s\n",
			track_fmt_count(d.samples, cnt, sizeof cnt),
			track_fmt_count(r->acquisitions, acq, sizeof acq),
			dist_words(&d, words, sizeof words));
	}
	print_sites(out, v, ix, r, TRACK_PR_WAIT_SITE, "waited at (total wait, waits):");
	print_sites(out, v, ix, r, TRACK_PR_HOLD_SITE,
		    "held meanwhile by (the holder's call; the waits it caused):");
	print_owner(out, v->snap, row);
}

/* How hold times were measured, so that their figures are read right. */
static void print_hold_sampling(FILE *out, const struct track_seg_header *h)
{
	if (h->hold_sample == 0)
		fprintf(out, "  hold times: not measured (TRACK_HOLD_SAMPLE=0)\n");
	else if (h->hold_sample == 1)
		fprintf(out, "  hold times: every hold timed (TRACK_HOLD_SAMPLE=1)\n");
	else
		fprintf(out, "  hold times: every hold of a lock's first %u timed, then 1 in %u "
			"uncontended (TRACK_HOLD_SAMPLE), and every hold that began with a wait\n",
			TRACK_HOLD_FIRST, h->hold_sample);
	fprintf(out, "  percentiles are upper bounds of log-scale buckets: the true value is at "
		"most that, within 20%%\n");
}

void track_text_locks(FILE *out, struct track_view *v, int top, const struct track_render_opts *o)
{
	struct track_lock_row *rows;
	const struct track_obj_rec **recs;
	struct track_prof_index ix;
	int by = o->sort >= 0 && o->sort < TRACK_LS_COUNT ? o->sort : TRACK_LS_WAIT;
	size_t n = track_lock_rows_by(v, (enum track_lock_sort)by, &rows), i, shown, locks = 0;
	uint64_t acq = 0, contended = 0, waiting = 0;
	char a[32], c[32];
	int width;
	for (i = 0; i < n; i++) {
		acq += rows[i].rec->acquisitions;
		contended += rows[i].contended;
		locks += rows[i].contended > 0;
		waiting += rows[i].waiting;
	}
	fprintf(out, "locks: %zu used, %s acquisitions, %s contended (%zu lock%s)\n", n,
		track_fmt_count(acq, a, sizeof a), track_fmt_count(contended, c, sizeof c), locks,
		locks == 1 ? "" : "s");
	shown = n < (size_t)top ? n : (size_t)top;
	recs = calloc(shown ? shown : 1, sizeof *recs);
	if (n == 0 || recs == NULL) {
		free(recs);
		free(rows);
		return;
	}
	for (i = 0; i < shown; i++)
		recs[i] = rows[i].rec;
	width = name_width(v, recs, shown);
	fprintf(out, "  %sby %s:\n", locks ? "" : "none contended; ", sort_words[by]);
	fprintf(out, "  %-*s %-9s %10s %10s %10s %9s %9s %9s\n", width, "LOCK",
		"KIND", "ACQUIRED", "CONTENDED", "WAIT TOTAL", "WAIT p95", "WAIT MAX", "HOLD p95");
	for (i = 0; i < shown; i++)
		print_lock_row(out, v, &rows[i], width);
	if (waiting)
		fprintf(out, "  (%llu thread%s still blocked %s: counted as contended, waiting so "
			"far)\n", (unsigned long long)waiting, waiting == 1 ? " was" : "s were",
			v->snap->alive ? "now" : "at the end");
	if (n > shown)
		fprintf(out, "  ... %zu more (track %s --top N, or --json FILE)\n", n - shown,
			o->command != NULL ? o->command : "report");
	print_hold_sampling(out, &v->snap->hdr);
	track_prof_index_init(&ix, v->snap);
	for (i = 0; i < shown; i++)
		print_lock_block(out, v, &ix, &rows[i]);
	track_prof_index_fini(&ix);
	free(recs);
	free(rows);
}

/* --- condvars, semaphores, barriers, joins --------------------------------------------------- */

/* The name column's width for rows[0..n). */
static int waitq_width(struct track_view *v, const struct track_waitq_row *rows, size_t n)
{
	const struct track_obj_rec *recs[64] = {NULL};
	size_t i;
	for (i = 0; i < n && i < 64; i++)
		recs[i] = rows[i].rec;
	return name_width(v, recs, i);
}

/* The columns every waiting queue has: waits, waiting now, peak, total and p95 of its
 * blocked waits. */
#define WAITQ_HEAD "%8s %7s %5s %10s %9s"
static void print_waitq_cols(FILE *out, const struct track_waitq_row *q)
{
	char w[32], tot[32], p95[32];
	fprintf(out, " %8s %7u %5u %10s %9s", track_fmt_count(q->rec->acquisitions, w, sizeof w),
		q->rec->waiters, q->rec->peak_waiters,
		ns_or_dash(q->wait != NULL ? q->wait->total_ns : 0, q->wait != NULL, tot, sizeof tot),
		p95_of(q->wait, p95, sizeof p95));
}

/* The columns only one kind has: a condvar's signals, broadcasts and signals that found no
 * waiter; a semaphore's posts, waits that blocked and value; none for a barrier. */
static void print_waitq_tail(FILE *out, const struct track_obj_rec *r)
{
	char a[32], b[32], c[32];
	if (r->kind == TRACK_OBJ_COND)
		fprintf(out, " %9s %10s %9s", track_fmt_count(r->signals, a, sizeof a),
			track_fmt_count(r->broadcasts, b, sizeof b),
			track_fmt_count(r->idle_wakes, c, sizeof c));
	else if (r->kind == TRACK_OBJ_SEM)
		fprintf(out, " %9s %7s %6d", track_fmt_count(r->signals, a, sizeof a),
			track_fmt_count(r->contended, b, sizeof b), r->sem_value);
}

static void print_waitq_table(FILE *out, struct track_view *v, uint32_t kind,
			      const struct track_waitq_row *q, size_t n, int width)
{
	char name[256];
	size_t i;
	fprintf(out, "  %-*s " WAITQ_HEAD, width, kind == TRACK_OBJ_COND ? "CONDVAR"
						 : kind == TRACK_OBJ_SEM ? "SEMAPHORE" : "BARRIER",
		"WAITS", "WAITING", "PEAK", "WAIT TOTAL", "WAIT p95");
	if (kind == TRACK_OBJ_COND)
		fprintf(out, " %9s %10s %9s", "SIGNALS", "BROADCASTS", "NO WAITER");
	else if (kind == TRACK_OBJ_SEM)
		fprintf(out, " %9s %7s %6s", "POSTS", "BLOCKED", "VALUE");
	fputc('\n', out);
	for (i = 0; i < n; i++) {
		fprintf(out, "  %-*s", width, label(v, q[i].rec, name, sizeof name));
		print_waitq_cols(out, &q[i]);
		print_waitq_tail(out, q[i].rec);
		fputc('\n', out);
	}
}

/* "condvars: 2 used, 5 waits, 20,000 signals, 1 broadcasts, 19,990 found no waiter" */
static void print_waitq_totals(FILE *out, uint32_t kind, const struct track_waitq_row *q,
			       size_t n)
{
	uint64_t waits = 0, sig = 0, bc = 0, idle = 0;
	char a[32], b[32], c[32];
	size_t i;
	for (i = 0; i < n; i++) {
		waits += q[i].rec->acquisitions;
		sig += q[i].rec->signals;
		bc += q[i].rec->broadcasts;
		idle += q[i].rec->idle_wakes;
	}
	track_fmt_count(waits, a, sizeof a);
	track_fmt_count(sig, b, sizeof b);
	if (kind == TRACK_OBJ_COND)
		fprintf(out, "condvars: %zu used, %s waits, %s signals, %llu broadcasts, %s found no "
			"waiter\n", n, a, b, (unsigned long long)bc, track_fmt_count(idle, c, sizeof c));
	else if (kind == TRACK_OBJ_SEM)
		fprintf(out, "semaphores: %zu used, %s waits, %s posts\n", n, a, b);
	else
		fprintf(out, "barriers: %zu used, %s waits\n", n, a);
}

static void print_waitq_kind(FILE *out, struct track_view *v, uint32_t kind, int top)
{
	struct track_waitq_row *q;
	size_t n = track_waitq_rows(v->snap, kind, &q), shown = n < (size_t)top ? n : (size_t)top;
	int width = waitq_width(v, q, shown);
	if (n == 0)
		return;
	print_waitq_totals(out, kind, q, n);
	if (shown > 0)
		print_waitq_table(out, v, kind, q, shown, width);
	if (n > shown)
		fprintf(out, "  ... %zu more (--top N, or --json FILE)\n", n - shown);
	free(q);
}

/* "joins: 3 blocked, 1.20 s in all, p95 ..., at main (x.c:40)" */
static void print_joins(FILE *out, struct track_view *v)
{
	struct track_prof_index ix;
	const struct track_prof_rec *const *p;
	uint64_t count = 0, total = 0, max = 0;
	char c[32], t[32], m[32], where[256];
	size_t n, i;
	track_prof_index_init(&ix, v->snap);
	n = track_prof_find(&ix, NULL, TRACK_PR_JOIN_SITE, &p);
	for (i = 0; i < n; i++) {
		count += p[i]->count;
		total += p[i]->total_ns;
		max = p[i]->max_ns > max ? p[i]->max_ns : max;
	}
	if (n > 0)
		fprintf(out, "joins: %s blocked, %s in all, longest %s, most at %s\n",
			track_fmt_count(count, c, sizeof c), track_fmt_ns(total, t, sizeof t),
			track_fmt_ns(max, m, sizeof m),
			track_fmt_prof_site(v->snap, track_view_sym(v), p[0], where, sizeof where));
	track_prof_index_fini(&ix);
}

void track_text_waits(FILE *out, struct track_view *v, int top)
{
	print_waitq_kind(out, v, TRACK_OBJ_COND, top);
	print_waitq_kind(out, v, TRACK_OBJ_SEM, top);
	print_waitq_kind(out, v, TRACK_OBJ_BARRIER, top);
	print_joins(out, v);
}

/* --- pools --------------------------------------------------------------------------------- */

/* "3 condvar, 1 mutex": what the pool's blocked threads wait on. */
static const char *blocked_on(const struct track_pool *p, char *buf, size_t len)
{
	size_t o = 0;
	uint32_t st;
	buf[0] = '\0';
	for (st = 0; st < TRACK_TS_COUNT && o < len; st++)
		if (st != TRACK_TS_RUNNING && p->in_state[st] > 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%u %s", o ? ", " : "",
					      p->in_state[st], track_state_name(st));
	return buf;
}

/* "worker \"worker-*\"": the pool's start routine (its function) and name pattern. */
static const char *pool_name(struct track_view *v, const struct track_pool *p, char *buf,
			     size_t len)
{
	char routine[256];
	snprintf(buf, len, "%s \"%s\"", track_pool_routine(v, p, routine, sizeof routine),
		 p->pattern);
	return buf;
}

void track_text_pools(FILE *out, struct track_view *v, int top)
{
	struct track_pool *p;
	size_t n = track_pools(v, &p), i;
	char name[256], life[32], on[160], threads[32];
	if (n == 0 || p[0].threads < 2) {   /* no thread has a fellow: nothing to group */
		free(p);
		return;
	}
	fprintf(out, "pools (threads by start routine and name):\n");
	fprintf(out, "  %-28s %7s %5s %7s %7s %8s %9s  %s\n", "POOL", "THREADS", "ALIVE",
		"RUNNING", "BLOCKED", "BLOCKED%", "LIFETIME", "BLOCKED ON");
	for (i = 0; i < n && (int)i < top; i++)
		fprintf(out, "  %-28.28s %7s %5u %7u %7u %7.0f%% %9s%s%s\n",
			pool_name(v, &p[i], name, sizeof name),
			track_fmt_count(p[i].threads, threads, sizeof threads), p[i].alive,
			p[i].running, track_pool_blocked(&p[i]),
			100.0 * track_pool_blocked_share(&p[i]),
			track_fmt_ns(p[i].life_ns, life, sizeof life),
			track_pool_blocked(&p[i]) ? "  " : "", blocked_on(&p[i], on, sizeof on));
	if (n > (size_t)top)
		fprintf(out, "  ... %zu more (--top N, or --json FILE)\n", n - top);
	fprintf(out, "  (BLOCKED%%: the share of its threads' lifetime spent blocked in pthread "
		"calls)\n");
	free(p);
}

/* --- registered queues ------------------------------------------------------------------------ */

void track_text_queues(FILE *out, struct track_view *v)
{
	struct track_queue_row *q;
	size_t n = track_queue_rows(v->snap, &q), i;
	char d[32], hw[32], cap[32], enq[32], deq[32], rej[32], w[32], wt[32];
	if (n == 0)
		return;
	fprintf(out, "queues (registered through track.h):\n");
	fprintf(out, "  %-20s %7s %10s %8s %10s %10s %8s %7s %10s\n", "QUEUE", "DEPTH", "HIGH WATER",
		"CAPACITY", "ENQUEUED", "DEQUEUED", "REJECTED", "WAITS", "WAIT TOTAL");
	for (i = 0; i < n; i++) {
		const struct track_queue_rec *r = q[i].rec;
		fprintf(out, "  %-20.*s %7s %10s %8s %10s %10s %8s %7s %10s\n",
			(int)strnlen(r->name, TRACK_QUEUE_NAME), r->name,
			track_fmt_count(q[i].depth, d, sizeof d),
			track_fmt_count(q[i].high_water, hw, sizeof hw),
			q[i].capacity ? track_fmt_count(q[i].capacity, cap, sizeof cap) : "-",
			track_fmt_count(q[i].enqueued, enq, sizeof enq),
			track_fmt_count(q[i].dequeued, deq, sizeof deq),
			track_fmt_count(q[i].rejected, rej, sizeof rej),
			track_fmt_count(q[i].waits, w, sizeof w),
			track_fmt_ns(q[i].wait_ns, wt, sizeof wt));
	}
	fprintf(out, "  (WAITS: producers that waited for room; DEPTH: enqueued - dequeued)\n");
	free(q);
}

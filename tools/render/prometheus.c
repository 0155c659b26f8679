/*
 * prometheus.c — the Prometheus text exposition format (version 0.0.4): what `track report
 * --format prometheus` writes and what the exporter (tools/export/) serves on /metrics.
 *
 * Every metric is named track_..., with its unit in the name (_seconds, _total for
 * counters), and carries the labels pid and command (the program's short name, as
 * /proc/PID/comm has it).  A report of several processes is one exposition: each family's
 * HELP and TYPE once, then its series of every process, so series are kept per family
 * until the end.  Families with no series are left out.
 *
 * Durations are histograms over bounded buckets: le = 1024 ns * 4^k (1.024 us to 68.7 s),
 * each an edge of the segment's log-linear histogram (segment.h), so the cumulative counts
 * are exact, not interpolated.  Hold times are estimates: one uncontended hold in the
 * segment's hold_sample is timed and counted that many times (core/profile.h).
 *
 * Cardinality is bounded: per process, the N locks (and the N other objects) with most
 * wait time (opts.top) get series of their own, the rest are summed into one series with
 * lock="other" (object="other"), site="" and kind="".
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/pools.h"
#include "core/profile.h"
#include "core/profstack.h"
#include "render/render.h"

#define LABELS_MAX 1024
#define NAME_MAX_LEN 96
#define LE_FIRST_LOG 10   /* 1024 ns */
#define LE_STEP_LOG 2     /* times 4 */

struct family {
	char name[NAME_MAX_LEN];
	const char *type, *help;
	char *buf;
	size_t len;
	FILE *m;   /* its series so far */
};

struct prom {
	FILE *out;
	struct track_render_opts o;
	struct family **fams;   /* each allocated alone: its memstream writes to its buf and len,
				   which must not move when the array grows */
	size_t nfams, capfams;
	int failed;
};

/* One object's (or the summed rest's) figures. */
struct agg {
	char label[160], site[160];
	const char *kind;
	uint64_t calls, blocked, wait_ns;
	struct track_prof_rec wait, hold;   /* count, total_ns, hist summed */
};

/* The family called name (made with type and help the first time); NULL without memory. */
static struct family *family(struct prom *p, const char *name, const char *type,
			     const char *help)
{
	size_t i;
	struct family *f;
	for (i = 0; i < p->nfams; i++)
		if (strcmp(p->fams[i]->name, name) == 0)
			return p->fams[i];
	if (p->nfams == p->capfams) {
		size_t cap = p->capfams ? 2 * p->capfams : 32;
		struct family **a = realloc(p->fams, cap * sizeof *a);
		if (a == NULL)
			goto fail;
		p->fams = a;
		p->capfams = cap;
	}
	f = calloc(1, sizeof *f);
	if (f == NULL)
		goto fail;
	snprintf(f->name, sizeof f->name, "%s", name);
	f->type = type;
	f->help = help;
	if ((f->m = open_memstream(&f->buf, &f->len)) == NULL) {
		free(f);
		goto fail;
	}
	p->fams[p->nfams++] = f;
	return f;
fail:
	p->failed = 1;
	return NULL;
}

/* A label value escaped as the format wants (backslash, double quote, line feed). */
static void put_escaped(FILE *m, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', m);
		if (*s == '\n')
			fputs("\\n", m);
		else
			fputc(*s, m);
	}
}

/* Labels: base (the process's: 'pid="1",command="x"', or ""), then name, "value" pairs
 * (NULL-terminated), as "{...}" in buf. */
static const char *labels(char *buf, size_t len, const char *base, ...)
{
	char *text = NULL;
	size_t tlen = 0;
	const char *k, *val, *sep = base[0] != '\0' ? "," : "";
	va_list ap;
	FILE *m = open_memstream(&text, &tlen);
	if (m == NULL)
		return "{}";
	fprintf(m, "{%s", base);
	va_start(ap, base);
	while ((k = va_arg(ap, const char *)) != NULL) {
		val = va_arg(ap, const char *);
		fprintf(m, "%s%s=\"", sep, k);
		sep = ",";
		put_escaped(m, val);
		fputc('"', m);
	}
	va_end(ap);
	fputc('}', m);
	fclose(m);
	snprintf(buf, len, "%s", text ? text : "{}");
	free(text);
	return buf;
}

static void put_u64(struct family *f, const char *suffix, const char *lab, uint64_t v)
{
	if (f != NULL)
		fprintf(f->m, "%s%s%s %llu\n", f->name, suffix, lab, (unsigned long long)v);
}

/* Nanoseconds as seconds, exactly (no rounding through a double), into buf. */
static const char *seconds(char *buf, size_t len, uint64_t ns)
{
	size_t n = (size_t)snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
				    (unsigned long long)(ns % 1000000000u));
	while (n > 2 && n < len && buf[n - 1] == '0' && buf[n - 2] != '.')
		buf[--n] = '\0';
	return buf;
}

static void put_seconds(struct family *f, const char *suffix, const char *lab, uint64_t ns)
{
	char buf[32];
	if (f != NULL)
		fprintf(f->m, "%s%s%s %s\n", f->name, suffix, lab, seconds(buf, sizeof buf, ns));
}

/* A histogram's series: cumulative buckets at 1024 ns * 4^k, +Inf, _sum and _count. */
static void put_hist(struct family *f, const char *lab, const struct track_prof_rec *h)
{
	uint64_t cum = 0;
	uint32_t b = 0, e;
	char le[LABELS_MAX + 64], sec[32];
	size_t n = strlen(lab);
	if (f == NULL)
		return;
	for (e = LE_FIRST_LOG; e <= TRACK_HIST_MAX_LOG; e += LE_STEP_LOG) {
		for (; b + 1 < TRACK_HIST_BUCKETS && track_hist_lower(b + 1) <= (1ull << e); b++)
			cum += h->hist[b];
		snprintf(le, sizeof le, "%.*s,le=\"%s\"}", (int)(n - 1), lab,
			 seconds(sec, sizeof sec, 1ull << e));
		put_u64(f, "_bucket", le, cum < h->count ? cum : h->count);
	}
	snprintf(le, sizeof le, "%.*s,le=\"+Inf\"}", (int)(n - 1), lab);
	put_u64(f, "_bucket", le, h->count);
	put_seconds(f, "_sum", lab, h->total_ns);
	put_u64(f, "_count", lab, h->count);
}

static void add_prof(struct track_prof_rec *to, const struct track_prof_rec *p)
{
	uint32_t b;
	if (p == NULL)
		return;
	to->count += p->count;
	to->total_ns += p->total_ns;
	for (b = 0; b < TRACK_HIST_BUCKETS; b++)
		to->hist[b] += p->hist[b];
}

/* Object r's figures added to a (whose label, site and kind are set by the caller), with
 * its wait and hold profiles (NULL: none). */
static void add_obj(struct agg *a, const struct track_obj_rec *r, uint64_t blocked,
		    uint64_t wait_ns, const struct track_prof_rec *wait,
		    const struct track_prof_rec *hold)
{
	a->calls += r->acquisitions;
	a->blocked += blocked;
	a->wait_ns += wait_ns;
	add_prof(&a->wait, wait);
	add_prof(&a->hold, hold);
}

/* The entry of list[0..*n) for r's label, site and kind (a new one if none): two records of
 * one object (destroyed, then made again at the same address) are one series. */
static struct agg *agg_for(struct track_view *v, const struct track_obj_rec *r, struct agg *list,
			   size_t *n)
{
	struct track_symbolizer *sym = track_view_sym(v);
	struct track_frame fr[8];
	struct agg a;
	size_t i;
	int nf = track_site(v->snap, sym, r->first_pc, r->first_stack, fr, 8);
	memset(&a, 0, sizeof a);
	track_obj_label(v->snap, sym, r->addr, r->kind, a.label, sizeof a.label);
	if (nf > 0 && fr[0].function != NULL)
		snprintf(a.site, sizeof a.site, "%s", fr[0].function);
	else
		snprintf(a.site, sizeof a.site, "0x%llx", (unsigned long long)r->first_pc);
	a.kind = track_kind_name(r->kind);
	for (i = 0; i < *n; i++)
		if (strcmp(list[i].label, a.label) == 0 && strcmp(list[i].site, a.site) == 0 &&
		    list[i].kind == a.kind)
			return &list[i];
	list[*n] = a;
	return &list[(*n)++];
}

static int by_wait_desc(const void *x, const void *y)
{
	const struct agg *a = x, *b = y;
	return a->wait_ns < b->wait_ns ? 1 : a->wait_ns > b->wait_ns ? -1 : strcmp(a->label, b->label);
}

/* Keep the top entries of list[0..n) (by wait time) and sum the rest into one, "other";
 * the new count. */
static size_t bound(struct agg *list, size_t n, size_t top)
{
	struct agg rest;
	size_t i;
	if (n <= top)
		return n;
	qsort(list, n, sizeof *list, by_wait_desc);
	memset(&rest, 0, sizeof rest);
	snprintf(rest.label, sizeof rest.label, "other");
	rest.kind = "";
	for (i = top; i < n; i++) {
		rest.calls += list[i].calls;
		rest.blocked += list[i].blocked;
		rest.wait_ns += list[i].wait_ns;
		add_prof(&rest.wait, &list[i].wait);
		add_prof(&rest.hold, &list[i].hold);
	}
	list[top] = rest;
	return top + 1;
}

/* The locks of the view, summed per series and bounded; *out malloc'd, the count. */
static size_t lock_aggs(struct track_view *v, size_t top, struct agg **out)
{
	struct track_lock_row *rows;
	size_t nrows = track_lock_rows(v, &rows), i, n = 0;
	*out = calloc(nrows + 1, sizeof **out);
	if (*out == NULL) {
		free(rows);
		return 0;
	}
	for (i = 0; i < nrows; i++)
		add_obj(agg_for(v, rows[i].rec, *out, &n), rows[i].rec, rows[i].contended,
			rows[i].wait_ns, rows[i].wait, rows[i].hold);
	free(rows);
	return bound(*out, n, top);
}

/* The condvars, semaphores and barriers, likewise. */
static size_t wait_aggs(struct track_view *v, size_t top, struct agg **out)
{
	const struct track_snap *s = v->snap;
	struct track_prof_index ix;
	size_t n = 0;
	uint32_t i;
	*out = calloc(s->nobjs + 1, sizeof **out);
	if (*out == NULL)
		return 0;
	track_prof_index_init(&ix, s);   /* empty without memory: then no profiles */
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *r = &s->objs[i];
		if (r->kind == TRACK_OBJ_NONE || track_kind_is_lock(r->kind) || !track_obj_used(r))
			continue;
		add_obj(agg_for(v, r, *out, &n), r, r->contended, r->wait_ns,
			track_prof_own(&ix, r, TRACK_PR_WAIT), NULL);
	}
	track_prof_index_fini(&ix);
	return bound(*out, n, top);
}

/* The families of one class of objects: locks, or the condvars, semaphores and barriers. */
struct obj_families {
	const char *label;   /* the label naming the object */
	size_t (*aggs)(struct track_view *v, size_t top, struct agg **out);
	const char *calls, *calls_help, *blocked, *blocked_help, *wait, *wait_help;
	const char *hold, *hold_help;   /* NULL: no hold times */
};

static const struct obj_families lock_families = {
	"lock", lock_aggs,
	"track_lock_acquisitions_total", "Lock acquisitions.",
	"track_lock_contentions_total",
	"Lock acquisitions that had to wait (waits still under way included).",
	"track_lock_wait_seconds", "Time lock acquisitions waited (completed waits).",
	"track_lock_hold_seconds", "Time locks were held (estimated from sampled holds).",
};

static const struct obj_families wait_families = {
	"object", wait_aggs,
	"track_waits_total", "Waits on condvars, semaphores and barriers.",
	"track_blocked_waits_total", "Waits on condvars, semaphores and barriers that blocked.",
	"track_wait_seconds", "Time blocked on condvars, semaphores and barriers.",
	NULL, NULL,
};

static void put_objects(struct prom *p, struct track_view *v, const char *base,
			const struct obj_families *o)
{
	struct agg *list;
	size_t n = o->aggs(v, (size_t)p->o.top, &list), i;
	char lab[LABELS_MAX];
	for (i = 0; i < n; i++) {
		const struct agg *a = &list[i];
		labels(lab, sizeof lab, base, o->label, a->label, "site", a->site, "kind", a->kind,
		       NULL);
		put_u64(family(p, o->calls, "counter", o->calls_help), "", lab, a->calls);
		put_u64(family(p, o->blocked, "counter", o->blocked_help), "", lab, a->blocked);
		put_hist(family(p, o->wait, "histogram", o->wait_help), lab, &a->wait);
		if (o->hold != NULL)
			put_hist(family(p, o->hold, "histogram", o->hold_help), lab, &a->hold);
	}
	free(list);
}

/* Thread figures as track_threads_*, what was lost as track_overflow_*_total. */
static int counter_is_gauge(const struct track_counter *c)
{
	return strcmp(c->name, "peak") == 0 || strcmp(c->name, "alive_at_exit") == 0 ||
	       strcmp(c->name, "torn_reads") == 0;
}

static void put_counters(struct prom *p, struct track_view *v, const char *lab)
{
	char name[NAME_MAX_LEN];
	size_t i;
	for (i = 0; i < track_ncounters; i++) {
		const struct track_counter *c = &track_counters[i];
		int gauge = counter_is_gauge(c);
		const char *what = strcmp(c->name, "alive_at_exit") == 0 ? "alive" : c->name;
		snprintf(name, sizeof name, "track_%s_%s%s",
			 c->group == TRACK_CG_THREADS ? "threads" : "overflow", what,
			 gauge ? "" : "_total");
		put_u64(family(p, name, gauge ? "gauge" : "counter", c->help), "", lab,
			c->value(v->snap));
	}
}

static void put_findings(struct prom *p, struct track_view *v, const char *base)
{
	uint64_t n[TRACK_FK_COUNT][TRACK_SEV_COUNT] = {{0}};
	char lab[LABELS_MAX];
	uint32_t i, k;
	for (i = 0; i < v->snap->nfindings; i++) {
		const struct track_finding_rec *f = &v->snap->findings[i];
		if (track_finding_shown(v, f) && f->kind < TRACK_FK_COUNT && f->severity < TRACK_SEV_COUNT)
			n[f->kind][f->severity]++;
	}
	for (i = 0; i < TRACK_FK_COUNT; i++)
		for (k = 0; k < TRACK_SEV_COUNT; k++)
			if (n[i][k] > 0)
				put_u64(family(p, "track_findings", "gauge",
					       "Findings reported (not suppressed), by kind and "
					       "severity."), "",
					labels(lab, sizeof lab, base, "kind", track_finding_name(i),
					       "severity", track_severity_name(k), NULL),
					n[i][k]);
}

static void put_queues(struct prom *p, struct track_view *v, const char *base)
{
	char lab[LABELS_MAX], name[TRACK_QUEUE_NAME + 1];
	uint32_t i;
	for (i = 0; i < v->snap->nqueues; i++) {
		const struct track_queue_rec *q = &v->snap->queues[i];
		if (!q->valid)
			continue;
		snprintf(name, sizeof name, "%.*s", TRACK_QUEUE_NAME, q->name);
		labels(lab, sizeof lab, base, "queue", name, NULL);
		put_u64(family(p, "track_queue_depth", "gauge", "Items in the queue now."), "",
			lab, q->enqueued - q->dequeued);
		put_u64(family(p, "track_queue_capacity", "gauge",
			       "The queue's capacity (0: unbounded)."), "", lab, q->capacity);
		put_u64(family(p, "track_queue_high_water", "gauge",
			       "The greatest depth seen at an enqueue."), "", lab, q->high_water);
		put_u64(family(p, "track_queue_enqueued_total", "counter", "Items enqueued."), "",
			lab, q->enqueued);
		put_u64(family(p, "track_queue_dequeued_total", "counter", "Items dequeued."), "",
			lab, q->dequeued);
		put_u64(family(p, "track_queue_rejected_total", "counter",
			       "Enqueues refused because the queue was full."), "", lab, q->rejected);
		put_u64(family(p, "track_queue_producer_waits_total", "counter",
			       "Producers that waited for room."), "", lab, q->waits);
		put_seconds(family(p, "track_queue_producer_wait_seconds_total", "counter",
				   "Time producers waited for room."), "", lab, q->wait_ns);
	}
}

/* Pools (threads by start routine and name pattern): the top N by threads get series of
 * their own, the rest are summed into pool="other". */
static void put_pool(struct prom *p, const char *lab, const struct track_pool *q)
{
	put_u64(family(p, "track_pool_threads", "gauge",
		       "Threads of the pool alive now (or at the end)."), "", lab, q->alive);
	put_u64(family(p, "track_pool_threads_running", "gauge",
		       "Threads of the pool alive and not blocked in a pthread call."), "", lab,
		q->running);
	put_u64(family(p, "track_pool_threads_created_total", "counter",
		       "Threads the pool has had."), "", lab, q->threads);
	put_seconds(family(p, "track_pool_lifetime_seconds_total", "counter",
			   "Its threads' lifetimes added up."), "", lab, q->life_ns);
	put_seconds(family(p, "track_pool_blocked_seconds_total", "counter",
			   "Its threads' time blocked in pthread calls; utilization is the rest of "
			   "the lifetime."), "", lab, q->blocked_ns);
}

static void put_pools(struct prom *p, struct track_view *v, const char *base)
{
	struct track_pool *q, other = {0};
	size_t n = track_pools(v, &q), i, top = p->o.top > 0 ? (size_t)p->o.top : n;
	char lab[LABELS_MAX], routine[256];
	for (i = 0; i < n; i++) {
		if (i >= top) {
			other.alive += q[i].alive, other.running += q[i].running;
			other.threads += q[i].threads, other.life_ns += q[i].life_ns;
			other.blocked_ns += q[i].blocked_ns;
			continue;
		}
		labels(lab, sizeof lab, base, "pool", track_pool_routine(v, &q[i], routine,
									 sizeof routine),
		       "name", q[i].pattern, NULL);
		put_pool(p, lab, &q[i]);
	}
	if (n > top)
		put_pool(p, labels(lab, sizeof lab, base, "pool", "other", "name", "*", NULL), &other);
	free(q);
}

static void *prom_begin(FILE *out, const struct track_render_opts *o)
{
	struct prom *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->out = out;
	p->o = *o;
	return p;
}

static void prom_process(void *state, struct track_view *v, size_t index)
{
	struct prom *p = state;
	const struct track_seg_header *h = &v->snap->hdr;
	char base[LABELS_MAX], comm[TRACK_NAME_MAX], pid[16], lab[LABELS_MAX];
	size_t n;
	(void)index;
	/* the process's own labels, 'pid="...",command="..."': the braces taken off */
	snprintf(pid, sizeof pid, "%d", (int)h->pid);
	labels(lab, sizeof lab, "", "pid", pid, "command", track_proc_command(h, comm, sizeof comm),
	       NULL);
	n = strlen(lab);
	snprintf(base, sizeof base, "%.*s", (int)(n - 2), lab + 1);
	put_seconds(family(p, "track_process_start_time_seconds", "gauge",
			   "When the process started, seconds since the Unix epoch."), "", lab,
		    h->start_realtime_ns);
	put_counters(p, v, lab);
	put_objects(p, v, base, &lock_families);
	put_objects(p, v, base, &wait_families);
	put_findings(p, v, base);
	put_queues(p, v, base);
	put_pools(p, v, base);
}

/* One line of HELP text: backslashes and line feeds escaped. */
static void put_help(FILE *out, const char *help)
{
	for (; *help; help++) {
		if (*help == '\\')
			fputs("\\\\", out);
		else if (*help == '\n')
			fputs("\\n", out);
		else
			fputc(*help, out);
	}
}

static int prom_end(void *state)
{
	struct prom *p = state;
	int rc = p->failed ? -1 : 0;
	size_t i;
	for (i = 0; i < p->nfams; i++) {
		struct family *f = p->fams[i];
		if (fclose(f->m) != 0)
			rc = -1;
		if (f->len > 0) {
			fprintf(p->out, "# HELP %s ", f->name);
			put_help(p->out, f->help);
			fprintf(p->out, "\n# TYPE %s %s\n", f->name, f->type);
			fwrite(f->buf, 1, f->len, p->out);
		}
		free(f->buf);
		free(f);
	}
	free(p->fams);
	free(p);
	return rc;
}

const struct track_renderer track_prometheus_renderer = {"prometheus", prom_begin, prom_process,
							 prom_end};

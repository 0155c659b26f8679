/*
 * topframe.c — track top's batch frames, text and JSON (see topframe.h), and the cells and
 * header lines the curses screen shares with them, so that a figure is worded once.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <string.h>

#include "core/model.h"
#include "render/json.h"
#include "render/topframe.h"

const char *track_top_fmt_rate(double r, char *buf, size_t len)
{
	if (r == TRACK_TOP_NO_RATE)
		snprintf(buf, len, "-");
	else if (r >= 1e6)
		snprintf(buf, len, "%.1fM", r / 1e6);
	else if (r >= 1e4)
		snprintf(buf, len, "%.1fk", r / 1e3);
	else
		snprintf(buf, len, r >= 100 || r == 0 ? "%.0f" : "%.1f", r);
	return buf;
}

/* Wait per second as time per second ("312.0 ms/s"): how many threads it kept blocked, on
 * average, in ms. */
static const char *fmt_wait_rate(double ns_per_s, char *buf, size_t len)
{
	char d[32];
	if (ns_per_s == TRACK_TOP_NO_RATE)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/s", track_fmt_ns((uint64_t)ns_per_s, d, sizeof d));
	return buf;
}

/* A duration for a narrow column: "" for none. */
static const char *fmt_dur(uint64_t ns, char *buf, size_t len)
{
	if (ns == 0)
		snprintf(buf, len, "-");
	else
		track_fmt_ns(ns, buf, len);
	return buf;
}

const char *track_top_fmt_bar(uint64_t depth, uint64_t cap, int width, char *buf, size_t len)
{
	int i, fill;
	size_t o = 0;
	if (cap == 0) {
		snprintf(buf, len, "%llu (unbounded)", (unsigned long long)depth);
		return buf;
	}
	fill = (int)((depth > cap ? cap : depth) * (uint64_t)width / cap);
	if (depth > 0 && fill == 0)
		fill = 1;
	buf[o++] = '[';
	for (i = 0; i < width && o + 2 < len; i++)
		buf[o++] = i < fill ? '#' : ' ';
	snprintf(buf + o, len - o, "] %llu/%llu", (unsigned long long)depth, (unsigned long long)cap);
	return buf;
}

const char *track_top_title(const struct track_top *t, char *buf, size_t len)
{
	char up[32];
	snprintf(buf, len, "pid %d  %s  up %s  %s", (int)t->pid, t->alive ? "running" : "ENDED",
		 track_fmt_ns(t->uptime_ns, up, sizeof up), t->command);
	return buf;
}

const char *track_top_threads_line(const struct track_top *t, char *buf, size_t len)
{
	char c[32], e[32];
	snprintf(buf, len, "threads: %llu alive, peak %llu, %llu created (%s/s), %llu exited (%s/s)",
		 (unsigned long long)t->nthreads, (unsigned long long)t->peak,
		 (unsigned long long)t->created, track_top_fmt_rate(t->created_per_s, c, sizeof c),
		 (unsigned long long)t->exited, track_top_fmt_rate(t->exited_per_s, e, sizeof e));
	return buf;
}

const char *track_top_states_line(const struct track_top *t, char *buf, size_t len)
{
	size_t o = 0;
	uint32_t st;
	buf[0] = '\0';
	for (st = TRACK_TS_RUNNING; st < TRACK_TS_EXITED && o + 1 < len; st++) {
		int n;
		if (t->by_state[st] == 0 && st != TRACK_TS_RUNNING)
			continue;
		n = snprintf(buf + o, len - o, "%s%u %s", o ? ", " : "", t->by_state[st],
			     track_state_verb(st));
		o += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

const char *track_top_alerts_line(const struct track_top *t, char *buf, size_t len)
{
	size_t o = 0;
	int a, n;
	n = snprintf(buf, len, "findings:");
	o = n > 0 ? (size_t)n : 0;
	for (a = 0; a < TRACK_TOP_ALERT_COUNT && o + 1 < len; a++) {
		n = snprintf(buf + o, len - o, " %s%s%s %u", t->alerts[a] ? "[" : "",
			     track_top_alert_names[a], t->alerts[a] ? "]" : "", t->alerts[a]);
		o += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

const char *track_top_pool_row(const struct track_top_pool *p, char *buf, size_t len)
{
	char on[TRACK_TOP_SITE + 16] = "-";
	if (p->blocked_count > 0)
		snprintf(on, sizeof on, "%u %s", p->blocked_count, p->blocked_on);
	snprintf(buf, len, "%-24.24s %7u %5.1f  %s", p->name, p->threads, p->busy_pct, on);
	return buf;
}

const char *track_top_lock_row(const struct track_top_lock *l, char *buf, size_t len)
{
	char acq[16], w[32], p95[16], max[16], hold[16], owner[16] = "-";
	if (l->owner != 0)
		snprintf(owner, sizeof owner, "%d", (int)l->owner);
	snprintf(buf, len, "%-18.18s %7s %5.1f %8s %8s %8s %8s %6s %4u %s", l->name,
		 track_top_fmt_rate(l->acq_per_s, acq, sizeof acq), l->contended_pct,
		 fmt_wait_rate(l->wait_per_s, w, sizeof w), fmt_dur(l->wait_p95, p95, sizeof p95),
		 fmt_dur(l->wait_max, max, sizeof max), fmt_dur(l->hold_p95, hold, sizeof hold),
		 owner, l->waiters, l->site);
	return buf;
}

static const char *queue_kind(enum track_top_queue_type type)
{
	static const char *const kinds[] = {"queue", "condvar", "semaphore", "barrier"};
	return kinds[type];
}

const char *track_top_queue_row(const struct track_top_queue *q, char *buf, size_t len)
{
	char bar[64], high[24], rej[16], in[16], waits[24], w[16];
	snprintf(waits, sizeof waits, "%u", q->waiters);
	if (q->type == TRACK_TOP_Q_REGISTERED) {
		track_top_fmt_bar(q->depth, q->capacity, 10, bar, sizeof bar);
		snprintf(high, sizeof high, "%llu", (unsigned long long)q->high_water);
		snprintf(waits, sizeof waits, "%s/s", track_top_fmt_rate(q->waits_per_s, w, sizeof w));
	} else if (q->type == TRACK_TOP_Q_SEM) {
		snprintf(bar, sizeof bar, "value %d", (int)q->sem_value);
		snprintf(high, sizeof high, "-");
	} else {
		snprintf(bar, sizeof bar, "-");
		snprintf(high, sizeof high, "-");
	}
	snprintf(buf, len, "%-20.20s %-9s %-20s %6s %6s %6s %7s", q->name, queue_kind(q->type), bar,
		 high, track_top_fmt_rate(q->rejected_per_s, rej, sizeof rej),
		 track_top_fmt_rate(q->enqueued_per_s, in, sizeof in), waits);
	return buf;
}

const char *track_top_thread_row(const struct track_top_thread *th, char *buf, size_t len)
{
	char d[32];
	snprintf(buf, len, "%-7d %-15.*s %-14.14s %-9s %s: %s", (int)th->rec->tid, TRACK_NAME_MAX,
		 th->rec->name, track_state_name(th->rec->state),
		 track_fmt_ns(th->for_ns, d, sizeof d), th->pool, th->doing);
	return buf;
}

const char *track_top_chain_row(const struct track_top_chain *c, char *buf, size_t len)
{
	char d[32];
	size_t o = 0;
	uint32_t i;
	int n = snprintf(buf, len, "%s%s: ",
			 !c->cycle ? "" : c->timed ? "CYCLE (timed waits: may end) " : "DEADLOCK ",
			 track_fmt_ns(c->for_ns, d, sizeof d));
	o = n > 0 ? (size_t)n : 0;
	for (i = 0; i < c->n && o + 1 < len; i++) {
		n = snprintf(buf + o, len - o, "%s%d %s", i ? " -> " : "", (int)c->tid[i], c->what[i]);
		o += n > 0 ? (size_t)n : 0;
	}
	if (c->cycle && o + 1 < len)
		snprintf(buf + o, len - o, " -> %d (cycle)", (int)c->tid[c->n < TRACK_TOP_CHAIN + 1 ? c->n : TRACK_TOP_CHAIN]);
	return buf;
}

/* --- text --------------------------------------------------------------------------------- */

static size_t shown(size_t n, int rows)
{
	return rows >= 0 && n > (size_t)rows ? (size_t)rows : n;
}

static void text_more(FILE *out, size_t n, size_t shown_n)
{
	if (n > shown_n)
		fprintf(out, "  ... %zu more\n", n - shown_n);
}

void track_top_write_text(FILE *out, const struct track_top *t, const struct track_top_opts *o)
{
	char line[1024], spark[TRACK_TOP_HISTORY * 4];
	size_t i, n;
	fprintf(out, "frame %llu  %s\n", (unsigned long long)t->frame, track_top_title(t, line, sizeof line));
	fprintf(out, "%s\n", track_top_threads_line(t, line, sizeof line));
	fprintf(out, "alive history: [%s]\n", track_top_sparkline(t, 60, 1, spark, sizeof spark));
	fprintf(out, "states: %s\n", track_top_states_line(t, line, sizeof line));
	fprintf(out, "%s\n", track_top_alerts_line(t, line, sizeof line));
	fprintf(out, "POOLS\n  %s\n", TRACK_TOP_POOL_HEAD);
	for (i = 0, n = shown(t->npools, o->rows); i < n; i++)
		fprintf(out, "  %s\n", track_top_pool_row(&t->pools[i], line, sizeof line));
	text_more(out, t->npools, n);
	fprintf(out, "LOCKS by %s\n  %s\n", track_top_sort_names[o->sort], TRACK_TOP_LOCK_HEAD);
	for (i = 0, n = shown(t->nlocks, o->rows); i < n; i++)
		fprintf(out, "  %s\n", track_top_lock_row(&t->locks[i], line, sizeof line));
	text_more(out, t->nlocks, n);
	fprintf(out, "QUEUES\n  %s\n", TRACK_TOP_QUEUE_HEAD);
	for (i = 0, n = shown(t->nqueues, o->rows); i < n; i++)
		fprintf(out, "  %s\n", track_top_queue_row(&t->queues[i], line, sizeof line));
	text_more(out, t->nqueues, n);
	fprintf(out, "WAIT-FOR\n");
	for (i = 0, n = shown(t->nchains, o->rows); i < n; i++)
		fprintf(out, "  %s\n", track_top_chain_row(&t->chains[i], line, sizeof line));
	if (t->nchains == 0)
		fprintf(out, "  nobody waits for a lock's owner or a thread\n");
	text_more(out, t->nchains, n);
	fprintf(out, "\n");
}

/* --- JSON --------------------------------------------------------------------------------- */

static json_t *num_or_null(double r)
{
	return r == TRACK_TOP_NO_RATE ? json_null() : json_real(r);
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *text(const char *s)
{
	return track_json_text(s, strlen(s));
}

static json_t *threads_json(const struct track_top *t)
{
	json_t *o = json_object(), *st = json_object(), *h = json_array();
	uint32_t s;
	for (s = TRACK_TS_RUNNING; s < TRACK_TS_EXITED; s++)
		json_object_set_new(st, track_state_name(s), json_integer(t->by_state[s]));
	for (s = 0; s < t->nhistory; s++)
		json_array_append_new(h, json_integer(t->history[s]));
	json_object_set_new(o, "alive", u64(t->nthreads));
	json_object_set_new(o, "peak", u64(t->peak));
	json_object_set_new(o, "created", u64(t->created));
	json_object_set_new(o, "exited", u64(t->exited));
	json_object_set_new(o, "created_per_s", num_or_null(t->created_per_s));
	json_object_set_new(o, "exited_per_s", num_or_null(t->exited_per_s));
	json_object_set_new(o, "by_state", st);
	json_object_set_new(o, "alive_history", h);
	return o;
}

static json_t *pool_json(const struct track_top_pool *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", text(p->name));
	json_object_set_new(o, "pattern", text(p->pattern));
	json_object_set_new(o, "threads", json_integer(p->threads));
	json_object_set_new(o, "threads_ever", json_integer(p->threads_ever));
	json_object_set_new(o, "running", json_integer(p->running));
	json_object_set_new(o, "busy_pct", json_real(p->busy_pct));
	json_object_set_new(o, "blocked", json_integer(p->blocked_count));
	json_object_set_new(o, "blocked_on", p->blocked_count ? text(p->blocked_on) : json_null());
	return o;
}

static json_t *lock_json(const struct track_top_lock *l)
{
	json_t *o = json_object();
	char addr[32];
	snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)l->rec->addr);
	json_object_set_new(o, "name", text(l->name));
	json_object_set_new(o, "address", json_string(addr));
	json_object_set_new(o, "kind", json_string(track_kind_name(l->rec->kind)));
	json_object_set_new(o, "acquisitions", u64(l->acquisitions));
	json_object_set_new(o, "acquisitions_per_s", num_or_null(l->acq_per_s));
	json_object_set_new(o, "contended", u64(l->contended));
	json_object_set_new(o, "contended_pct", json_real(l->contended_pct));
	json_object_set_new(o, "wait_ns", u64(l->wait_ns));
	json_object_set_new(o, "wait_ns_per_s", num_or_null(l->wait_per_s));
	json_object_set_new(o, "wait_p95_ns", u64(l->wait_p95));
	json_object_set_new(o, "wait_max_ns", u64(l->wait_max));
	json_object_set_new(o, "hold_p95_ns", u64(l->hold_p95));
	json_object_set_new(o, "owner", l->owner ? json_integer(l->owner) : json_null());
	json_object_set_new(o, "waiters", json_integer(l->waiters));
	json_object_set_new(o, "first_used_at", text(l->site));
	json_object_set_new(o, "top_holding_site", l->top_holder[0] ? text(l->top_holder) : json_null());
	return o;
}

static json_t *queue_json(const struct track_top_queue *q)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", text(q->name));
	json_object_set_new(o, "kind", json_string(queue_kind(q->type)));
	if (q->type == TRACK_TOP_Q_REGISTERED) {
		json_object_set_new(o, "depth", u64(q->depth));
		json_object_set_new(o, "capacity", u64(q->capacity));
		json_object_set_new(o, "high_water", u64(q->high_water));
		json_object_set_new(o, "rejected", u64(q->rejected));
		json_object_set_new(o, "rejected_per_s", num_or_null(q->rejected_per_s));
		json_object_set_new(o, "enqueued_per_s", num_or_null(q->enqueued_per_s));
		json_object_set_new(o, "producer_waits", u64(q->producer_waits));
		json_object_set_new(o, "producer_waits_per_s", num_or_null(q->waits_per_s));
		return o;
	}
	if (q->type == TRACK_TOP_Q_SEM)
		json_object_set_new(o, "value", json_integer(q->sem_value));
	json_object_set_new(o, q->type == TRACK_TOP_Q_SEM ? "posts_per_s"
			    : q->type == TRACK_TOP_Q_BARRIER ? "arrivals_per_s" : "signals_per_s",
			    num_or_null(q->enqueued_per_s));
	json_object_set_new(o, "wait_p95_ns", u64(q->wait_p95));
	json_object_set_new(o, "waiters", json_integer(q->waiters));
	return o;
}

static json_t *chain_json(const struct track_top_chain *c)
{
	json_t *o = json_object(), *a = json_array();
	uint32_t i;
	for (i = 0; i < c->n; i++) {
		json_t *l = json_object();
		json_object_set_new(l, "tid", json_integer(c->tid[i]));
		json_object_set_new(l, "state", json_string(track_state_name(c->state[i])));
		json_object_set_new(l, "doing", text(c->what[i]));
		json_array_append_new(a, l);
	}
	json_object_set_new(o, "chain", a);
	json_object_set_new(o, "waited_ns", u64(c->for_ns));
	json_object_set_new(o, "cycle", json_boolean(c->cycle));
	json_object_set_new(o, "timed", json_boolean(c->timed));
	return o;
}

static json_t *thread_json(const struct track_top_thread *th)
{
	json_t *o = json_object();
	json_object_set_new(o, "tid", json_integer(th->rec->tid));
	json_object_set_new(o, "name", track_json_text(th->rec->name, strnlen(th->rec->name, TRACK_NAME_MAX)));
	json_object_set_new(o, "state", json_string(track_state_name(th->rec->state)));
	json_object_set_new(o, "for_ns", u64(th->for_ns));
	json_object_set_new(o, "pool", text(th->pool));
	json_object_set_new(o, "doing", text(th->doing));
	return o;
}

/* The first n elements of an array of records, each made by fn, as a JSON array. */
#define ARRAY_OF(base, count, fn, rows)                                         \
	({                                                                      \
		json_t *a_ = json_array();                                      \
		size_t i_, n_ = shown((count), (rows));                         \
		for (i_ = 0; i_ < n_; i_++)                                     \
			json_array_append_new(a_, fn(&(base)[i_]));             \
		a_;                                                             \
	})

void track_top_write_json(FILE *out, const struct track_top *t, const struct track_top_opts *o)
{
	json_t *root = json_object(), *alerts = json_object();
	int a;
	for (a = 0; a < TRACK_TOP_ALERT_COUNT; a++)
		json_object_set_new(alerts, track_top_alert_names[a], json_integer(t->alerts[a]));
	json_object_set_new(root, "frame", u64(t->frame));
	json_object_set_new(root, "pid", json_integer(t->pid));
	json_object_set_new(root, "command", text(t->command));
	json_object_set_new(root, "alive", json_boolean(t->alive));
	json_object_set_new(root, "uptime_ns", u64(t->uptime_ns));
	json_object_set_new(root, "interval_s", t->first ? json_null() : json_real(t->interval_s));
	json_object_set_new(root, "threads", threads_json(t));
	json_object_set_new(root, "findings", alerts);
	json_object_set_new(root, "locks_sorted_by", json_string(track_top_sort_names[o->sort]));
	json_object_set_new(root, "pools", ARRAY_OF(t->pools, t->npools, pool_json, o->rows));
	json_object_set_new(root, "locks", ARRAY_OF(t->locks, t->nlocks, lock_json, o->rows));
	json_object_set_new(root, "queues", ARRAY_OF(t->queues, t->nqueues, queue_json, o->rows));
	json_object_set_new(root, "wait_for", ARRAY_OF(t->chains, t->nchains, chain_json, o->rows));
	json_object_set_new(root, "thread_list", ARRAY_OF(t->threads, t->nthreads, thread_json, o->rows));
	json_dumpf(root, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(root);
}

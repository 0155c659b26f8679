/*
 * model.c — names, derived facts and formatting shared by every renderer (see model.h).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model.h"

#define X_NAME(e, name, ...) name,
#define X_VERB(e, name, verb) verb,
static const char *const state_names[TRACK_TS_COUNT] = {TRACK_THREAD_STATES(X_NAME)};
static const char *const state_verbs[TRACK_TS_COUNT] = {TRACK_THREAD_STATES(X_VERB)};
static const char *const kind_names[TRACK_OBJ_KIND_COUNT] = {TRACK_OBJ_KINDS(X_NAME)};
static const char *const finding_names[TRACK_FK_COUNT] = {TRACK_FINDING_KINDS(X_NAME)};
static const char *const severity_names[TRACK_SEV_COUNT] = {TRACK_SEVERITIES(X_NAME)};
static const char *const mutex_types[] = {TRACK_MUTEX_TYPES(X_NAME)};
#define X_ROBUST(e, name) "robust-" name,
static const char *const robust_types[] = {TRACK_MUTEX_TYPES(X_ROBUST)};
#undef X_ROBUST
#define X_LO_NAME(e, v, name) name,
const char *const track_lock_order_names[] = {TRACK_LOCK_ORDER_MODES(X_LO_NAME) NULL};
#undef X_LO_NAME
const char *const track_deadlock_action_names[] = {TRACK_DEADLOCK_ACTIONS(X_NAME) NULL};
#undef X_NAME
#undef X_VERB

const char *track_state_name(uint32_t state)
{
	return state < TRACK_TS_COUNT ? state_names[state] : "unknown";
}

const char *track_state_verb(uint32_t state)
{
	return state < TRACK_TS_COUNT ? state_verbs[state] : "unknown";
}

const char *track_kind_name(uint32_t kind)
{
	return kind < TRACK_OBJ_KIND_COUNT ? kind_names[kind] : "object";
}

const char *track_finding_name(uint32_t kind)
{
	return kind < TRACK_FK_COUNT ? finding_names[kind] : "unknown";
}

const char *track_mutex_type_name(uint32_t subtype)
{
	return (subtype & TRACK_MUTEX_ROBUST ? robust_types
					      : mutex_types)[subtype & TRACK_MUTEX_TYPE_MASK];
}

int track_thread_flag_names(uint32_t flags, const char **out, int max)
{
	int n = 0;
#define X_FLAG(e, bit, name)                                     \
	if ((name) != NULL && (flags & (bit)) && n < max)        \
		out[n++] = (name);
	TRACK_THREAD_FLAGS(X_FLAG)
#undef X_FLAG
	return n;
}

int track_finding_kind(const char *name)
{
	int k;
	for (k = 1; k < TRACK_FK_COUNT; k++)
		if (strcmp(finding_names[k], name) == 0)
			return k;
	return -1;
}

const char *track_severity_name(uint32_t severity)
{
	return severity < TRACK_SEV_COUNT ? severity_names[severity] : "error";
}

int track_obj_used(const struct track_obj_rec *r)
{
	return (r->flags & TRACK_OF_LIVE) || r->acquisitions > 0 || r->signals > 0 ||
	       r->broadcasts > 0;
}


int track_thread_outlived(const struct track_snap *s, const struct track_thread_rec *t)
{
	if (t->state == TRACK_TS_EXITED || t->state == TRACK_TS_UNUSED)
		return 0;
	/* The thread that called exit() ended the process: it did not outlive it.  A thread that
	 * had not started yet (no tid) did not end either. */
	return s->alive || !track_thread_started(t) || t->tid != s->hdr.exit_tid;
}

uint64_t track_alive_at_exit(const struct track_snap *s)
{
	uint64_t n = 0;
	uint32_t i;
	for (i = 0; i < s->nthreads; i++)
		n += track_thread_outlived(s, &s->threads[i]);
	return n;
}

static int lock_cmp(const void *a, const void *b)
{
	const struct track_obj_rec *x = *(const struct track_obj_rec *const *)a;
	const struct track_obj_rec *y = *(const struct track_obj_rec *const *)b;
	if (x->contended != y->contended)
		return x->contended < y->contended ? 1 : -1;
	if (x->wait_ns != y->wait_ns)
		return x->wait_ns < y->wait_ns ? 1 : -1;
	if (x->acquisitions != y->acquisitions)
		return x->acquisitions < y->acquisitions ? 1 : -1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int is_lock(uint32_t kind)
{
	return kind == TRACK_OBJ_MUTEX || kind == TRACK_OBJ_RWLOCK || kind == TRACK_OBJ_SPIN;
}

size_t track_sorted_locks(const struct track_snap *s, const struct track_obj_rec ***out)
{
	const struct track_obj_rec **v = calloc(s->nobjs ? s->nobjs : 1, sizeof *v);
	size_t n = 0;
	uint32_t i;
	*out = v;
	if (v == NULL)
		return 0;
	for (i = 0; i < s->nobjs; i++)
		if (is_lock(s->objs[i].kind) && track_obj_used(&s->objs[i]))
			v[n++] = &s->objs[i];
	qsort(v, n, sizeof *v, lock_cmp);
	return n;
}

static int each_pc(const uint64_t *pcs, size_t n, track_pc_fn fn, void *ctx)
{
	size_t i;
	int rc = 0;
	for (i = 0; i < n && rc == 0; i++)
		rc = fn(pcs[i], ctx);
	return rc;
}

static int each_stack_pc(const struct track_snap *s, uint32_t id, track_pc_fn fn, void *ctx)
{
	const struct track_stack_rec *st = track_snap_stack(s, id);
	return st != NULL ? each_pc(st->frames, st->nframes, fn, ctx) : 0;
}

static int each_edge_pc(struct track_view *v, const struct track_edge_rec *e, track_pc_fn fn,
			void *ctx)
{
	uint64_t from[TRACK_FROM_STACK_MAX];
	int partial, rc = each_stack_pc(v->snap, e->to_stack, fn, ctx);
	if (rc == 0 && e->to_stack == 0)
		rc = fn(e->to_pc, ctx);
	if (rc == 0)
		rc = each_pc(from, track_edge_from_stack(v, e, from, TRACK_FROM_STACK_MAX, &partial),
			     fn, ctx);
	return rc;
}

int track_finding_each_pc(struct track_view *v, const struct track_finding_rec *f,
			  track_pc_fn fn, void *ctx)
{
	const struct track_snap *s = v->snap;
	uint32_t i, n = track_finding_items(f);
	int rc = 0;
	if (f->kind == TRACK_FK_LOCK_ORDER) {
		for (i = 0; i < n && rc == 0; i++) {
			const struct track_edge_rec *e = track_snap_edge(s, f->edges[i]);
			if (e != NULL)
				rc = each_edge_pc(v, e, fn, ctx);
		}
		return rc;
	}
	if (f->kind == TRACK_FK_DEADLOCK) {
		for (i = 0; i < n && rc == 0; i++)
			rc = each_stack_pc(s, f->stacks[i], fn, ctx);
		return rc;
	}
	if (f->stack == 0 && f->other_stack == 0)
		return fn(f->pc, ctx);
	rc = each_stack_pc(s, f->stack, fn, ctx);
	return rc != 0 ? rc : each_stack_pc(s, f->other_stack, fn, ctx);
}

struct supp_ctx {
	const struct track_suppressions *sp;
	struct track_symbolizer *sym;
	int kind;
};

/* Whether a suppression matches one of the (inlined and real) functions at pc. */
static int pc_suppressed(uint64_t pc, void *vctx)
{
	const struct supp_ctx *c = vctx;
	struct track_frame f[8];
	struct track_supp_frame sf[8];
	int n = track_sym_lookup(c->sym, pc, 1, f, 8), i;
	for (i = 0; i < n; i++) {
		sf[i].function = f[i].function;
		sf[i].file = f[i].file;
	}
	return track_supp_match(c->sp, c->kind, sf, n > 0 ? (size_t)n : 0);
}

/* Suppressions match symbolized frames: without a symbolizer nothing is suppressed. */
int track_finding_suppressed(struct track_view *v, const struct track_finding_rec *f)
{
	struct supp_ctx c = {v->supp, NULL, (int)f->kind};
	if (v->supp == NULL || v->supp->n == 0 || (c.sym = track_view_sym(v)) == NULL)
		return 0;
	return track_finding_each_pc(v, f, pc_suppressed, &c);
}

int track_finding_shown(struct track_view *v, const struct track_finding_rec *f)
{
	return f->valid && !track_finding_suppressed(v, f);
}

void track_findings_tally(struct track_view *v, struct track_tally *t)
{
	const struct track_snap *s = v->snap;
	uint32_t i;
	memset(t, 0, sizeof *t);
	for (i = 0; i < s->nfindings; i++) {
		const struct track_finding_rec *f = &s->findings[i];
		if (!f->valid)
			continue;
		if (track_finding_suppressed(v, f)) {
			t->suppressed++;
			continue;
		}
		t->shown++;
		t->errors += f->severity == TRACK_SEV_ERROR;
	}
}

uint64_t track_findings_count(struct track_view *v)
{
	struct track_tally t;
	track_findings_tally(v, &t);
	return t.errors;
}

uint64_t track_duration_ns(const struct track_snap *s)
{
	struct timespec ts;
	uint64_t end = s->hdr.exit_mono_ns;
	if (end == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		end = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		/* a killed process: the last thing it recorded is the best end we know */
		if (!s->alive) {
			uint64_t last = s->hdr.start_mono_ns;
			uint32_t i;
			for (i = 0; i < s->nthreads; i++) {
				if (s->threads[i].exited_ns > last)
					last = s->threads[i].exited_ns;
				if (s->threads[i].since_ns > last)
					last = s->threads[i].since_ns;
			}
			end = last;
		}
	}
	return end > s->hdr.start_mono_ns ? end - s->hdr.start_mono_ns : 0;
}

const char *track_cmdline(const struct track_seg_header *h, char *buf, size_t len)
{
	size_t n = h->cmdline_len < sizeof h->cmdline ? h->cmdline_len : sizeof h->cmdline;
	size_t i, o = 0;
	for (i = 0; i < n && o + 1 < len; i++) {
		char c = h->cmdline[i];
		if (c == '\0' && i + 1 == n)
			break;
		buf[o++] = c == '\0' ? ' ' : (c == '\n' || c == '\t') ? ' ' : c;
	}
	buf[o] = '\0';
	if (o == 0)
		snprintf(buf, len, "%s", h->exe);
	return buf;
}

const char *track_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

const char *track_fmt_count(uint64_t n, char *buf, size_t len)
{
	char tmp[32];
	int d = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
	size_t o = 0;
	int i;
	for (i = 0; i < d && o + 1 < len; i++) {
		if (i > 0 && (d - i) % 3 == 0 && o + 2 < len)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

const char *track_fmt_pc(struct track_symbolizer *sym, uint64_t pc, int is_return, char *buf,
			 size_t len)
{
	struct track_frame f[8];
	int n;
	if (pc == 0) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (sym == NULL) {
		snprintf(buf, len, "0x%llx", (unsigned long long)pc);
		return buf;
	}
	n = track_sym_lookup(sym, pc, is_return, f, 8);
	/* The innermost entry: where exactly the call was, inlined or not. */
	(void)n;
	return track_sym_format(&f[0], buf, len);
}

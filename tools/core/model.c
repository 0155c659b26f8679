/*
 * model.c — names, derived facts and formatting shared by every renderer (see model.h).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model.h"
#include "core/profile.h"
#include "track/env.h"

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

static int row_cmp(const void *a, const void *b)
{
	const struct track_lock_row *x = a, *y = b;
	if (x->contended != y->contended)
		return x->contended < y->contended ? 1 : -1;
	if (x->wait_ns != y->wait_ns)
		return x->wait_ns < y->wait_ns ? 1 : -1;
	if (x->rec->acquisitions != y->rec->acquisitions)
		return x->rec->acquisitions < y->rec->acquisitions ? 1 : -1;
	return x->rec->addr < y->rec->addr ? -1 : x->rec->addr > y->rec->addr;
}

int track_kind_is_lock(uint32_t kind)
{
	return kind == TRACK_OBJ_MUTEX || kind == TRACK_OBJ_RWLOCK || kind == TRACK_OBJ_SPIN;
}

int track_state_is_lock_wait(uint32_t state)
{
	return state == TRACK_TS_MUTEX || state == TRACK_TS_RWLOCK_RD ||
	       state == TRACK_TS_RWLOCK_WR || state == TRACK_TS_SPIN;
}

/* Add each thread's unfinished lock wait to the row of its lock (rows indexed by record). */
static void add_unfinished_waits(const struct track_view *v, struct track_lock_row *by_rec)
{
	const struct track_snap *s = v->snap;
	struct track_end end;
	uint32_t i;
	track_view_end(v, &end);
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *t = &s->threads[i];
		struct track_lock_row *r;
		uint64_t ns;
		if (!track_state_is_lock_wait(t->state) || t->wait_obj_idx == 0 ||
		    t->wait_obj_idx > s->nobjs)
			continue;
		r = &by_rec[t->wait_obj_idx - 1];
		if (r->rec->addr != t->wait_obj)
			continue;   /* the record was reused for another object since */
		ns = end.mono_ns > t->since_ns ? end.mono_ns - t->since_ns : 0;
		r->contended++;
		r->waiting++;
		r->wait_ns += ns;
		if (ns > r->max_wait_ns)
			r->max_wait_ns = ns;
	}
}

/* Each lock's profiles (its wait, its hold, its costliest holding site) into its row. */
static void add_profiles(const struct track_snap *s, struct track_lock_row *by_rec)
{
	struct track_prof_index ix;
	uint32_t i;
	if (track_prof_index_init(&ix, s) != 0)
		return;
	for (i = 0; i < s->nobjs; i++) {
		const struct track_prof_rec *const *sites;
		if (!track_kind_is_lock(s->objs[i].kind))
			continue;
		by_rec[i].wait = track_prof_own(&ix, &s->objs[i], TRACK_PR_WAIT);
		by_rec[i].hold = track_prof_own(&ix, &s->objs[i], TRACK_PR_HOLD);
		if (track_prof_find(&ix, &s->objs[i], TRACK_PR_HOLD_SITE, &sites) > 0)
			by_rec[i].top_holder = sites[0];
	}
	track_prof_index_fini(&ix);
}

size_t track_lock_rows(const struct track_view *v, struct track_lock_row **out)
{
	const struct track_snap *s = v->snap;
	struct track_lock_row *by_rec = calloc(s->nobjs ? s->nobjs : 1, sizeof *by_rec);
	size_t n = 0;
	uint32_t i;
	*out = by_rec;
	if (by_rec == NULL)
		return 0;
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *r = &s->objs[i];
		by_rec[i].rec = r;
		by_rec[i].contended = r->contended;
		by_rec[i].wait_ns = r->wait_ns;
		by_rec[i].max_wait_ns = r->max_wait_ns;
	}
	add_unfinished_waits(v, by_rec);
	add_profiles(v->snap, by_rec);
	/* keep the locks worth reporting, in place */
	for (i = 0; i < s->nobjs; i++)
		if (track_kind_is_lock(s->objs[i].kind) &&
		    (track_obj_used(&s->objs[i]) || by_rec[i].waiting))
			by_rec[n++] = by_rec[i];
	qsort(by_rec, n, sizeof *by_rec, row_cmp);
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
			const struct track_edge_rec *e = track_snap_edge(s, track_finding_edge(s, f, i));
			if (e != NULL)
				rc = each_edge_pc(v, e, fn, ctx);
		}
		return rc;
	}
	if (f->kind == TRACK_FK_DEADLOCK) {
		for (i = 0; i < n && rc == 0; i++)
			rc = each_stack_pc(s, track_finding_item(s, f, i).stack, fn, ctx);
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
		t->errors += f->severity == TRACK_SEV_ERROR ||
			     (v->stall_is_error && f->severity == TRACK_SEV_WARNING);
	}
}

uint64_t track_findings_count(struct track_view *v)
{
	struct track_tally t;
	track_findings_tally(v, &t);
	return t.errors;
}

/* The last moment the shim recorded anything: a lower bound for an unknown end. */
static uint64_t last_event(const struct track_snap *s)
{
	uint64_t last = s->hdr.start_mono_ns;
	uint32_t i;
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *t = &s->threads[i];
		if (t->exited_ns > last)
			last = t->exited_ns;
		if (t->since_ns > last)
			last = t->since_ns;
		if (t->created_ns > last)
			last = t->created_ns;
	}
	for (i = 0; i < s->nfindings; i++)
		if (s->findings[i].when_ns > last)
			last = s->findings[i].when_ns;
	return last;
}

static enum track_end_kind shim_end(uint32_t proc_state)
{
	switch (proc_state) {
	case TRACK_PS_EXITED:
		return TRACK_END_EXIT;
	case TRACK_PS_QUICK_EXIT:
		return TRACK_END_QUICK_EXIT;
	case TRACK_PS_DEADLOCK:
		return TRACK_END_DEADLOCK;
	default:
		return TRACK_END_UNKNOWN;
	}
}

void track_view_end(const struct track_view *v, struct track_end *e)
{
	const struct track_snap *s = v->snap;
	const struct track_exit *ex = v->exit != NULL && v->exit->known ? v->exit : NULL;
	memset(e, 0, sizeof *e);
	e->exact = 1;
	e->kind = shim_end(s->hdr.proc_state);
	if (s->alive) {
		e->kind = TRACK_END_RUNNING;
		e->mono_ns = s->read_mono_ns;
		return;
	}
	if (e->kind != TRACK_END_UNKNOWN) {
		e->mono_ns = s->hdr.exit_mono_ns;
		e->code_known = e->kind != TRACK_END_EXIT;
		e->code = s->hdr.exit_code;
	} else if (s->replaced_mono_ns != 0) {
		e->kind = TRACK_END_EXEC;
		e->mono_ns = s->replaced_mono_ns;
	} else if (ex != NULL && ex->end_mono_ns != 0) {
		e->kind = TRACK_END_REAPED;
		e->mono_ns = ex->end_mono_ns;
	} else {
		e->mono_ns = last_event(s);
		e->exact = 0;
	}
	if (ex != NULL) {   /* the caller saw the status itself: it is the one that counts */
		e->code_known = !ex->signal;
		e->code = ex->code;
		e->signal = ex->signal;
	}
}

uint64_t track_duration_ns(const struct track_view *v, int *exact)
{
	struct track_end e;
	uint64_t start = v->snap->hdr.start_mono_ns;
	track_view_end(v, &e);
	if (exact != NULL)
		*exact = e.exact;
	return e.mono_ns > start ? e.mono_ns - start : 0;
}

uint64_t track_state_ns(const struct track_view *v, uint64_t since, int *exact)
{
	struct track_end e;
	track_view_end(v, &e);
	*exact = e.exact;
	return e.mono_ns > since ? e.mono_ns - since : 0;
}

const char *track_fmt_state_for(const struct track_view *v, uint64_t since, char *buf,
				size_t len)
{
	char d[32];
	int exact;
	uint64_t ns = track_state_ns(v, since, &exact);
	uint64_t start = v->snap->hdr.start_mono_ns;
	if (exact)
		snprintf(buf, len, "for %s", track_fmt_ns(ns, d, sizeof d));
	else if (ns > 0)
		snprintf(buf, len, "for at least %s", track_fmt_ns(ns, d, sizeof d));
	else
		snprintf(buf, len, "since %s after start, for how long is not known",
			 track_fmt_ns(since > start ? since - start : 0, d, sizeof d));
	return buf;
}

int32_t track_join_target(const struct track_snap *s, const struct track_thread_rec *t)
{
	uint32_t i;
	if (t->state != TRACK_TS_JOIN || t->wait_tid != 0)
		return t->state == TRACK_TS_JOIN ? t->wait_tid : 0;
	/* joined before it ran: its record has its pthread_t now */
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *o = &s->threads[i];
		if (o->pthread_self == t->wait_obj && o->tid != 0 && o->state != TRACK_TS_UNUSED &&
		    o != t && (o->exited_ns == 0 || !(o->flags & TRACK_TF_RECLAIMED)))
			return o->tid;
	}
	return 0;
}

const char *track_fmt_wait_target(struct track_view *v, const struct track_thread_rec *t,
				  char *buf, size_t len)
{
	const struct track_thread_rec *w;
	int32_t tid = track_join_target(v->snap, t);
	char name[256];
	if (t->state != TRACK_TS_JOIN) {
		snprintf(buf, len, "%s %s", track_state_verb(t->state),
			 track_obj_label(v->snap, track_view_sym(v), t->wait_obj, TRACK_OBJ_NONE,
					 name, sizeof name));
		return buf;
	}
	w = tid != 0 ? track_snap_thread(v->snap, tid) : NULL;
	if (w != NULL)
		snprintf(buf, len, "joining thread %d \"%.*s\"", tid, TRACK_NAME_MAX, w->name);
	else if (tid != 0)
		snprintf(buf, len, "joining thread %d", tid);
	else   /* a pthread_t, not an object */
		snprintf(buf, len, "%s 0x%llx", track_state_verb(t->state),
			 (unsigned long long)t->wait_obj);
	return buf;
}

int track_env_refused(const struct track_seg_header *h, const char **names, int max)
{
	int n = 0, i;
	for (i = 0; i < TRACK_ENV_COUNT && n < max; i++)
		if (h->env_bad & (1ull << i))
			names[n++] = track_env_spec((enum track_env_var)i)->name;
	return n;
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

const char *track_fit_command(const char *cmd, size_t width, char *buf, size_t len)
{
	size_t prog = strcspn(cmd, " ");
	const char *base = cmd;
	const char *p;
	for (p = cmd; p < cmd + prog; p++)
		if (*p == '/')
			base = p + 1;
	if (strlen(cmd) <= width || base == cmd)
		snprintf(buf, len, "%.*s", (int)(width < len ? width : len - 1), cmd);
	else if (strlen(base) + 4 <= width)
		snprintf(buf, len, ".../%s", base);
	else
		snprintf(buf, len, "%.*s", (int)(width < len ? width : len - 1), base);
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

/* --- lock tables in the order asked for ------------------------------------------------------ */

#define X_LS_NAME(e, name) name,
const char *const track_lock_sort_names[] = {TRACK_LOCK_SORTS(X_LS_NAME) NULL};
#undef X_LS_NAME

int track_lock_sort_of(const char *name)
{
	int i;
	for (i = 0; track_lock_sort_names[i] != NULL; i++)
		if (strcmp(track_lock_sort_names[i], name) == 0)
			return i;
	return -1;
}

/* A row and what it is sorted by. */
struct sort_row {
	struct track_lock_row row;
	uint64_t key;
	char label[64];
};

#define DESC(a, b) ((a) != (b) ? ((a) < (b) ? 1 : -1) : 0)

static int sort_cmp(const void *pa, const void *pb)
{
	const struct sort_row *a = pa, *b = pb;
	int c = DESC(a->key, b->key);
	if (c == 0)
		c = strcmp(a->label, b->label);
	if (c == 0)
		c = DESC(a->row.wait_ns, b->row.wait_ns);
	if (c == 0)
		c = DESC(a->row.contended, b->row.contended);
	if (c == 0)
		c = DESC(a->row.rec->acquisitions, b->row.rec->acquisitions);
	if (c == 0)
		c = -DESC(a->row.rec->addr, b->row.rec->addr);
	return c;
}

static uint64_t sort_key(const struct track_lock_row *r, enum track_lock_sort by)
{
	switch (by) {
	case TRACK_LS_HOLD: return r->hold != NULL ? r->hold->total_ns : 0;
	case TRACK_LS_CONTENDED: return r->contended;
	case TRACK_LS_ACQUISITIONS: return r->rec->acquisitions;
	case TRACK_LS_NAME: return 0;
	default: return r->wait_ns;
	}
}

size_t track_lock_rows_by(struct track_view *v, enum track_lock_sort by,
			  struct track_lock_row **out)
{
	size_t n = track_lock_rows(v, out), i;
	struct sort_row *t = calloc(n ? n : 1, sizeof *t);
	if (t == NULL)
		return n;   /* most contended first, as track_lock_rows gives them */
	for (i = 0; i < n; i++) {
		t[i].row = (*out)[i];
		t[i].key = sort_key(&t[i].row, by);
		if (by == TRACK_LS_NAME)
			track_obj_label(v->snap, track_view_sym(v), t[i].row.rec->addr,
					t[i].row.rec->kind, t[i].label, sizeof t[i].label);
	}
	qsort(t, n, sizeof *t, sort_cmp);
	for (i = 0; i < n; i++)
		(*out)[i] = t[i].row;
	free(t);
	return n;
}

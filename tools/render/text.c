/*
 * text.c — the text renderer: the report track run prints when the program ends (and track
 * report prints for a segment): what happened to the threads, which locks were contended,
 * what was found wrong, what could not be recorded.  It reads well in a terminal; scripts
 * should use the JSON report instead.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "render/render.h"

/* n return addresses, one frame a line, each line prefixed by indent; at most max frames
 * (the rest counted).  Inline frames get their own lines. */
static void print_pcs(FILE *out, struct track_symbolizer *sym, const uint64_t *pcs, size_t n,
		      const char *indent, int max)
{
	struct track_frame f[8];
	char buf[512];
	int shown = 0;
	size_t i;
	for (i = 0; i < n && shown < max; i++) {
		int nf = track_sym_lookup(sym, pcs[i], 1, f, 8), k;
		for (k = 0; k < nf && shown < max; k++, shown++)
			fprintf(out, "%s%s%s\n", indent, track_sym_format(&f[k], buf, sizeof buf),
				f[k].inlined ? " [inlined]" : "");
	}
	if (i < n)
		fprintf(out, "%s... %zu more frames\n", indent, n - i);
}

/* The same for the stack with this id; nothing for id 0. */
static void print_stack(FILE *out, struct track_view *v, uint32_t id, const char *indent,
			int max)
{
	const struct track_stack_rec *st = track_snap_stack(v->snap, id);
	if (st != NULL)
		print_pcs(out, track_view_sym(v), st->frames, st->nframes, indent, max);
}

static void print_header(FILE *out, struct track_view *v)
{
	const struct track_snap *s = v->snap;
	const struct track_exit *ex = v->exit;
	char cmd[512], dur[32];
	const struct track_seg_header *h = &s->hdr;
	fprintf(out, "track: pid %d: %s\n", h->pid, track_cmdline(h, cmd, sizeof cmd));
	track_fmt_ns(track_duration_ns(s), dur, sizeof dur);
	if (s->alive)
		fprintf(out, "  running for %s\n", dur);
	else if (ex != NULL && ex->known && ex->signal)
		fprintf(out, "  killed by signal %d (%s) after %s\n", ex->signal,
			strsignal(ex->signal), dur);
	else if (ex != NULL && ex->known)
		fprintf(out, "  exited with status %d after %s\n", ex->code, dur);
	else if (h->proc_state == TRACK_PS_EXITED)
		fprintf(out, "  exited after %s\n", dur);
	else
		fprintf(out, "  ended without exit() (killed, or _exit) after about %s\n", dur);
}

/* "threads: 3 created, 3 exited, ...": the thread figures that have words (counters.c). */
static void print_thread_totals(FILE *out, const struct track_snap *s)
{
	const char *sep = "threads: ";
	size_t i;
	for (i = 0; i < track_ncounters; i++) {
		const struct track_counter *c = &track_counters[i];
		if (c->group != TRACK_CG_THREADS || c->text == NULL)
			continue;
		fputs(sep, out);
		fprintf(out, c->text, (unsigned long long)c->value(s), s->alive ? "now" : "at exit");
		sep = ", ";
	}
	fputc('\n', out);
}

/* One line per thread that was still running when the process ended. */
static void print_outliving_threads(FILE *out, struct track_view *v)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	uint32_t i;
	int shown = 0;
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *t = &s->threads[i];
		char where[256], fn[256], since[32];
		if (!track_thread_outlived(s, t))
			continue;
		if (!shown++)
			fprintf(out, "threads still alive %s:\n", s->alive ? "now" : "at exit");
		if (!track_thread_started(t))
			fprintf(out, "  thread (%s)", s->alive ? "not started yet"
							       : "had not started");
		else
			fprintf(out, "  thread %d \"%.*s\"%s", t->tid, TRACK_NAME_MAX, t->name,
				t->flags & TRACK_TF_MAIN ? " (main)" : "");
		if (t->start_routine)
			fprintf(out, " running %s",
				track_fmt_pc(sym, t->start_routine, 0, fn, sizeof fn));
		fputc('\n', out);
		if (t->state != TRACK_TS_RUNNING) {
			uint64_t end = s->hdr.exit_mono_ns ? s->hdr.exit_mono_ns : t->since_ns;
			char obj[256];
			track_fmt_ns(end > t->since_ns ? end - t->since_ns : 0, since, sizeof since);
			if (t->state == TRACK_TS_JOIN)   /* a pthread_t, not an object */
				snprintf(obj, sizeof obj, "0x%llx",
					 (unsigned long long)t->wait_obj);
			else
				track_obj_label(s, sym, t->wait_obj, TRACK_OBJ_NONE, obj,
						sizeof obj);
			fprintf(out, "    %s %s for %s, in\n", track_state_verb(t->state), obj,
				since);
			print_stack(out, v, t->wait_stack, "      ", 8);
		}
		if (t->create_stack) {
			fprintf(out, "    created by thread %d at\n", t->creator_tid);
			print_stack(out, v, t->create_stack, "      ", 6);
		} else if (t->create_pc) {
			fprintf(out, "    created by thread %d at %s\n", t->creator_tid,
				track_fmt_site(s, sym, t->create_pc, 0, where, sizeof where));
		}
	}
}

/* The LOCK column: wide enough for the names of the rows shown, up to a point. */
#define LOCK_COL_MIN 16
#define LOCK_COL_MAX 32

static void print_lock_row(FILE *out, const struct track_snap *s, const struct track_obj_rec *r,
			   struct track_symbolizer *sym, int width)
{
	char acq[32], con[32], tot[32], max[32], where[256], name[256];
	fprintf(out, "  %-*s %-9s %12s %10s %10s %10s  %s\n", width,
		track_obj_label(s, sym, r->addr, r->kind, name, sizeof name),
		track_kind_name(r->kind),
		track_fmt_count(r->acquisitions, acq, sizeof acq),
		track_fmt_count(r->contended, con, sizeof con),
		track_fmt_ns(r->wait_ns, tot, sizeof tot),
		track_fmt_ns(r->max_wait_ns, max, sizeof max),
		track_fmt_site(s, sym, r->first_pc, r->first_stack, where, sizeof where));
}

static void print_locks(FILE *out, struct track_view *view, int top)
{
	const struct track_obj_rec **v;
	size_t n = track_sorted_locks(view->snap, &v), i, contended = 0;
	uint64_t acq = 0;
	char a[32];
	for (i = 0; i < n; i++) {
		acq += v[i]->acquisitions;
		contended += v[i]->contended > 0;
	}
	fprintf(out, "locks: %zu used, %s acquisitions, %zu contended\n", n,
		track_fmt_count(acq, a, sizeof a), contended);
	if (n > 0) {
		struct track_symbolizer *sym = track_view_sym(view);
		int width = LOCK_COL_MIN;
		char name[256];
		for (i = 0; i < n && (int)i < top; i++) {
			int w = (int)strlen(track_obj_label(view->snap, sym, v[i]->addr,
							    v[i]->kind, name, sizeof name));
			if (w > width)
				width = w < LOCK_COL_MAX ? w : LOCK_COL_MAX;
		}
		fprintf(out, "  %s:\n", contended ? "most contended" : "none contended; most used");
		fprintf(out, "  %-*s %-9s %12s %10s %10s %10s  %s\n", width, "LOCK", "KIND",
			"ACQUIRED", "CONTENDED", "WAIT TOTAL", "WAIT MAX", "FIRST USED AT");
		for (i = 0; i < n && (int)i < top; i++)
			print_lock_row(out, view->snap, v[i], sym, width);
		if (n > (size_t)top)
			fprintf(out, "  ... %zu more (track run --top N, or --json)\n", n - top);
	}
	free(v);
}

static void print_waits(FILE *out, const struct track_snap *s)
{
	uint64_t cw = 0, sw = 0, bw = 0, sig = 0, bc = 0, posts = 0;
	uint32_t i, nc = 0, ns = 0, nb = 0;
	char a[32], b[32], c[32];
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *r = &s->objs[i];
		if (!track_obj_used(r))
			continue;
		if (r->kind == TRACK_OBJ_COND) {
			nc++, cw += r->acquisitions, sig += r->signals, bc += r->broadcasts;
		} else if (r->kind == TRACK_OBJ_SEM) {
			ns++, sw += r->acquisitions, posts += r->signals;
		} else if (r->kind == TRACK_OBJ_BARRIER) {
			nb++, bw += r->acquisitions;
		}
	}
	if (nc)
		fprintf(out, "condvars: %u used, %s waits, %s signals, %llu broadcasts\n", nc,
			track_fmt_count(cw, a, sizeof a), track_fmt_count(sig, b, sizeof b),
			(unsigned long long)bc);
	if (ns)
		fprintf(out, "semaphores: %u used, %s waits, %s posts\n", ns,
			track_fmt_count(sw, a, sizeof a), track_fmt_count(posts, c, sizeof c));
	if (nb)
		fprintf(out, "barriers: %u used, %llu waits\n", nb, (unsigned long long)bw);
}

/* "mutex g_a" or "mutex 0x55d0c0ffee00", with " (first used at f (x.c:1))" if first_use; a
 * lock whose record now describes another object is named by its id. */
static const char *lock_name(const struct track_snap *s, struct track_symbolizer *sym,
			     const struct track_edge_rec *e, int to, int first_use, char *buf,
			     size_t len)
{
	const struct track_obj_rec *o = track_edge_lock(s, e, to);
	char where[256], name[256];
	if (o == NULL)
		snprintf(buf, len, "lock #%u", to ? e->to_id : e->from_id);
	else if (first_use)
		snprintf(buf, len, "%s %s (first used at %s)", track_kind_name(o->kind),
			 track_obj_label(s, sym, o->addr, o->kind, name, sizeof name),
			 track_fmt_site(s, sym, o->first_pc, o->first_stack, where, sizeof where));
	else
		snprintf(buf, len, "%s %s", track_kind_name(o->kind),
			 track_obj_label(s, sym, o->addr, o->kind, name, sizeof name));
	return buf;
}

/* One edge of a cycle: who took which lock where, then both stacks. */
static void print_edge(FILE *out, struct track_view *v, const struct track_edge_rec *e)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	char first[768], second[512], at1[256], at2[256];
	uint64_t from[TRACK_FROM_STACK_MAX];
	int partial;
	size_t n = track_edge_from_stack(v, e, from, TRACK_FROM_STACK_MAX, &partial);
	lock_name(s, sym, e, 0, 1, first, sizeof first);
	lock_name(s, sym, e, 1, 0, second, sizeof second);
	fprintf(out, "    thread %d took %s at %s, then %s at %s\n", e->tid, first,
		track_fmt_site_pcs(sym, from, n, at1, sizeof at1), second,
		track_fmt_site(s, sym, e->to_pc, e->to_stack, at2, sizeof at2));
	fprintf(out, "      %s taken at %s:\n", lock_name(s, sym, e, 0, 0, first, sizeof first),
		partial ? "(reconstructed), partial: the function that took it had returned"
			: "(reconstructed from the second lock's stack)");
	print_pcs(out, sym, from, n, "        ", 12);
	fprintf(out, "      %s taken, holding the first, at:\n", second);
	if (e->to_stack)
		print_stack(out, v, e->to_stack, "        ", 12);
	else
		fprintf(out, "        %s\n", track_fmt_pc(sym, e->to_pc, 1, at2, sizeof at2));
}

static void print_lock_order(FILE *out, struct track_view *v, const struct track_finding_rec *f)
{
	const struct track_snap *s = v->snap;
	uint32_t i, n = track_finding_items(f);
	int by_class = 0;
	for (i = 0; i < n; i++) {
		const struct track_edge_rec *e = track_snap_edge(s, f->edges[i]);
		by_class |= e != NULL && track_edge_by_class(s, e);
	}
	fprintf(out, "  lock-order inversion (potential deadlock): cycle of %u locks%s\n", n,
		by_class ? " (by class: locks first used at the same place)" : "");
	for (i = 0; i < n; i++) {
		const struct track_edge_rec *e = track_snap_edge(s, f->edges[i]);
		if (e != NULL)
			print_edge(out, v, e);
		else
			fprintf(out, "    (an edge of this cycle is no longer in the segment)\n");
	}
	if (f->gate) {
		const struct track_obj_rec *g = track_snap_obj_at(s, f->gate);
		char name[256];
		fprintf(out, "    gated by %s %s: cannot deadlock while every path takes it "
			"first (severity %s)\n", g != NULL ? track_kind_name(g->kind) : "lock",
			track_obj_label(s, track_view_sym(v), f->gate,
					g != NULL ? g->kind : TRACK_OBJ_NONE, name, sizeof name),
			track_severity_name(f->severity));
	}
}

static void print_deadlock(FILE *out, struct track_view *v, const struct track_finding_rec *f)
{
	uint32_t i, n = track_finding_items(f);
	if (n == 1)
		fprintf(out, "  DEADLOCK: 1 thread waiting for itself\n");
	else
		fprintf(out, "  DEADLOCK: %u threads waiting for each other\n", n);
	for (i = 0; i < n; i++) {
		struct track_wait w;
		char name[256];
		track_deadlock_wait(v->snap, f, i, &w);
		fprintf(out, "    thread %d \"%.*s\" ", w.tid, TRACK_NAME_MAX,
			w.thread != NULL ? w.thread->name : "");
		if (w.join)
			fprintf(out, "joins thread %d\n", w.held_by);
		else
			fprintf(out, "waits for %s %s held by thread %d\n", w.kind,
				track_obj_label(v->snap, track_view_sym(v), w.object,
						TRACK_OBJ_NONE, name, sizeof name),
				w.held_by);
		print_stack(out, v, w.stack, "      ", 12);
	}
}

/* A misuse finding: what happened, how often, and where. */
static void print_misuse(FILE *out, struct track_view *v, const struct track_finding_rec *f)
{
	char where[256], text[TRACK_FINDING_TEXT + 256];
	fprintf(out, "  %s: %s", track_finding_name(f->kind),
		track_finding_text(v->snap, track_view_sym(v), f, text, sizeof text));
	if (f->count > 1)
		fprintf(out, " (%u times)", f->count);
	if (f->severity != TRACK_SEV_ERROR)
		fprintf(out, " (severity %s)", track_severity_name(f->severity));
	fputc('\n', out);
	if (f->stack)
		print_stack(out, v, f->stack, "    at ", 8);
	else
		fprintf(out, "    at %s\n",
			track_fmt_site(v->snap, track_view_sym(v), f->pc, 0, where, sizeof where));
}

static void print_findings(FILE *out, struct track_view *v)
{
	const struct track_snap *s = v->snap;
	struct track_tally t;
	uint32_t i;
	track_findings_tally(v, &t);
	if (t.shown == 0)
		fprintf(out, "findings: none");
	else
		fprintf(out, "findings: %u", t.shown);
	if (t.suppressed)
		fprintf(out, " (%u suppressed)", t.suppressed);
	fputc('\n', out);
	for (i = 0; i < s->nfindings; i++) {
		const struct track_finding_rec *f = &s->findings[i];
		if (!track_finding_shown(v, f))
			continue;
		if (f->kind == TRACK_FK_LOCK_ORDER)
			print_lock_order(out, v, f);
		else if (f->kind == TRACK_FK_DEADLOCK)
			print_deadlock(out, v, f);
		else
			print_misuse(out, v, f);
	}
}

/* A warning or a note for each thing that could not be recorded (core/counters.h). */
static void print_overflow(FILE *out, const struct track_snap *s)
{
	size_t i;
	for (i = 0; i < track_ncounters; i++) {
		const struct track_counter *c = &track_counters[i];
		uint64_t n = c->value(s);
		if (c->group != TRACK_CG_OVERFLOW || n == 0 || c->level == TRACK_CL_QUIET)
			continue;
		fprintf(out, "%s: %llu ", c->level == TRACK_CL_WARNING ? "warning" : "note",
			(unsigned long long)n);
		fprintf(out, c->text, c->limit != NULL ? c->limit(s) : 0);
		fputc('\n', out);
	}
}

/* --- the renderer --------------------------------------------------------------------------- */

struct text_state {
	FILE *out;
	int top;
};

static void *text_begin(FILE *out, const struct track_render_opts *o)
{
	struct text_state *st = malloc(sizeof *st);
	if (st != NULL) {
		st->out = out;
		st->top = o->top;
	}
	return st;
}

/* The primary process in full; the others of a run (its children) after a heading, with
 * fewer locks. */
static void text_process(void *vst, struct track_view *v, size_t index)
{
	struct text_state *st = vst;
	FILE *out = st->out;
	if (index == 1)
		fprintf(out, "\nother processes of this run:\n");
	print_header(out, v);
	print_thread_totals(out, v->snap);
	print_outliving_threads(out, v);
	print_locks(out, v, index == 0 ? st->top : (st->top < 3 ? st->top : 3));
	print_waits(out, v->snap);
	print_findings(out, v);
	print_overflow(out, v->snap);
}

static int text_end(void *st)
{
	free(st);
	return 0;
}

const struct track_renderer track_text_renderer = {"text", text_begin, text_process, text_end};

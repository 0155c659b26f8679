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
#include <unistd.h>

#include "core/counters.h"
#include "core/findings.h"
#include "track/env.h"
#include "render/render.h"
#include "render/textviews.h"

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
		fprintf(out, "%s... %zu more frame%s\n", indent, n - i, n - i == 1 ? "" : "s");
}

/* The same for the stack with this id; nothing for id 0. */
static void print_stack(FILE *out, struct track_view *v, uint32_t id, const char *indent,
			int max)
{
	const struct track_stack_rec *st = track_snap_stack(v->snap, id);
	if (st != NULL)
		print_pcs(out, track_view_sym(v), st->frames, st->nframes, indent, max);
}

/* "warning: the shim refused TRACK_X=...": a variable it replaced by its default. */
static void print_env_refused(FILE *out, const struct track_seg_header *h)
{
	const char *names[TRACK_ENV_COUNT];
	int n = track_env_refused(h, names, TRACK_ENV_COUNT), i;
	for (i = 0; i < n; i++)
		fprintf(out, "  warning: %s had a value the shim could not use: it used the "
			"default\n", names[i]);
}

/* "exited with status 3", "killed by signal 9 (Killed)", "ended by exec": how it ended. */
static const char *end_words(const struct track_end *e, char *buf, size_t len)
{
	static const char *const how[] = {
		[TRACK_END_EXIT] = "exited",
		[TRACK_END_QUICK_EXIT] = "exited through _exit()",
		[TRACK_END_DEADLOCK] = "ended by track on a deadlock (TRACK_ON_DEADLOCK=exit)",
		[TRACK_END_EXEC] = "replaced by exec (its next image is reported on its own)",
		[TRACK_END_REAPED] = "ended",
		[TRACK_END_UNKNOWN] = "ended without exit() (killed, or ended where the shim "
				      "could not see)",
	};
	if (e->signal)
		snprintf(buf, len, "killed by signal %d (%s)", e->signal, strsignal(e->signal));
	else if (e->code_known)
		snprintf(buf, len, "%s with status %d", how[e->kind], e->code);
	else
		snprintf(buf, len, "%s", how[e->kind]);
	return buf;
}

static void print_header(FILE *out, struct track_view *v)
{
	const struct track_snap *s = v->snap;
	char cmd[512], dur[32], how[160];
	const struct track_seg_header *h = &s->hdr;
	struct track_end e;
	track_view_end(v, &e);
	fprintf(out, "track: pid %d: %s\n", h->pid, track_cmdline(h, cmd, sizeof cmd));
	track_fmt_ns(track_duration_ns(v, NULL), dur, sizeof dur);
	if (e.kind == TRACK_END_RUNNING)
		fprintf(out, "  running for %s\n", dur);
	else if (e.exact)
		fprintf(out, "  %s after %s\n", end_words(&e, how, sizeof how), dur);
	else
		fprintf(out, "  %s, at a time not known: its last recorded event was %s after "
			"start\n", end_words(&e, how, sizeof how), dur);
	if (h->uid != (uint32_t)geteuid())   /* a process that changed user, read by root */
		fprintf(out, "  ran as uid %u; its segment: %s\n", h->uid, s->path);
	print_env_refused(out, h);
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

/* Whether two outliving threads read the same: same function, state, object and stacks,
 * holding nothing (so printing one says all of both). */
static int same_thread(const struct track_thread_rec *a, const struct track_thread_rec *b)
{
	return a->start_routine == b->start_routine && a->state == b->state &&
	       a->wait_obj == b->wait_obj && a->wait_stack == b->wait_stack &&
	       a->create_stack == b->create_stack && a->create_pc == b->create_pc &&
	       a->creator_tid == b->creator_tid && a->nheld == 0 && b->nheld == 0 &&
	       !(a->flags & TRACK_TF_MAIN) && !(b->flags & TRACK_TF_MAIN);
}

/* ", held by thread 12 \"worker\"" (or "... (which has exited)"), for a thread blocked on
 * a lock whose owner is known. */
static const char *held_by(const struct track_snap *s, const struct track_thread_rec *t,
			   char *buf, size_t len)
{
	const struct track_obj_rec *o = t->wait_obj_idx ? track_snap_obj(s, t->wait_obj_idx) : NULL;
	const struct track_thread_rec *w;
	buf[0] = '\0';
	if (o == NULL || o->addr != t->wait_obj || o->owner_tid == 0 ||
	    !track_state_is_lock_wait(t->state))
		return buf;
	w = track_snap_thread(s, o->owner_tid);
	snprintf(buf, len, ", held by thread %d \"%.*s\"%s", o->owner_tid, TRACK_NAME_MAX,
		 w != NULL ? w->name : "", w != NULL && w->state == TRACK_TS_EXITED
						 ? " (which has exited)" : "");
	return buf;
}

/* "    holds mutex 0x.. (rwlock 0x.. for reading), taken at f (a.c:3)", one line a lock. */
static void print_held(FILE *out, struct track_view *v, const struct track_thread_rec *t)
{
	const struct track_snap *s = v->snap;
	uint32_t i, n = t->nheld < TRACK_HELD_MAX ? t->nheld : TRACK_HELD_MAX;
	char at[256], name[256];
	for (i = 0; i < n; i++) {
		const struct track_obj_rec *o = track_snap_obj(s, t->held[i] & ~TRACK_HELD_READ);
		if (o == NULL)
			continue;
		fprintf(out, "    holds %s %s%s, taken at %s\n", track_kind_name(o->kind),
			track_obj_label(s, track_view_sym(v), o->addr, o->kind, name, sizeof name),
			t->held[i] & TRACK_HELD_READ ? " for reading" : "",
			track_fmt_pc(track_view_sym(v), t->held_pc[i], 1, at, sizeof at));
	}
	if (t->nheld > n)
		fprintf(out, "    holds %u more locks\n", t->nheld - n);
}

/* The first line of a thread, or of a group of like threads: who, running what. */
static void print_thread_who(FILE *out, struct track_view *v, const uint32_t *idx, size_t n)
{
	const struct track_snap *s = v->snap;
	const struct track_thread_rec *t = &s->threads[idx[0]];
	char fn[256];
	size_t i;
	if (n > 1)
		fprintf(out, "  %zu threads alike:", n);
	else if (!track_thread_started(t))
		fprintf(out, "  thread (%s)", s->alive ? "not started yet" : "had not started");
	else
		fprintf(out, "  thread %d \"%.*s\"%s", t->tid, TRACK_NAME_MAX, t->name,
			t->flags & TRACK_TF_MAIN ? " (main)" : "");
	if (t->start_routine)
		fprintf(out, " running %s", track_fmt_pc(track_view_sym(v), t->start_routine, 0, fn,
							  sizeof fn));
	fputc('\n', out);
	for (i = 0; n > 1 && i < n; i++) {
		const struct track_thread_rec *u = &s->threads[idx[i]];
		if (i == 8) {
			fprintf(out, " ... %zu more\n", n - i);
			break;
		}
		fprintf(out, "%s%d \"%.*s\"%s", i == 0 ? "    threads " : ", ", u->tid, TRACK_NAME_MAX,
			u->name, i + 1 == n ? "\n" : "");
	}
}

/* A thread that outlived the process (or is alive now), or a group of like ones (idx, n):
 * who, what it waits on and for how long (the longest of a group), what it holds, where it
 * was created. */
static void print_outliving(FILE *out, struct track_view *v, const uint32_t *idx, size_t n,
			    int frames)
{
	const struct track_snap *s = v->snap;
	const struct track_thread_rec *t = &s->threads[idx[0]];
	char where[256], since[96], target[320], owner[128];
	uint64_t first = t->since_ns;
	size_t i;
	print_thread_who(out, v, idx, n);
	for (i = 1; i < n; i++)
		if (s->threads[idx[i]].since_ns < first)
			first = s->threads[idx[i]].since_ns;
	if (t->state != TRACK_TS_RUNNING) {
		fprintf(out, "    %s %s%s%s, in\n", track_fmt_wait_target(v, t, target, sizeof target),
			track_fmt_state_for(v, first, since, sizeof since),
			n > 1 ? " (the longest)" : "", held_by(s, t, owner, sizeof owner));
		print_stack(out, v, t->wait_stack, "      ", frames);
	}
	print_held(out, v, t);
	if (t->create_stack) {
		fprintf(out, "    created by thread %d at\n", t->creator_tid);
		print_stack(out, v, t->create_stack, "      ", frames);
	} else if (t->create_pc) {
		fprintf(out, "    created by thread %d at %s\n", t->creator_tid,
			track_fmt_site(s, track_view_sym(v), t->create_pc, 0, where, sizeof where));
	}
}

void track_text_threads(FILE *out, struct track_view *v, const uint32_t *list, size_t n,
			int frames)
{
	const struct track_snap *s = v->snap;
	uint32_t *group = malloc((n ? n : 1) * sizeof *group);
	char *done = calloc(n ? n : 1, 1);
	size_t i, j, k;
	for (i = 0; group != NULL && done != NULL && i < n; i++) {
		if (done[i])
			continue;
		for (k = 0, j = i; j < n; j++)
			if (!done[j] && (j == i || same_thread(&s->threads[list[i]],
							       &s->threads[list[j]]))) {
				group[k++] = list[j];
				done[j] = 1;
			}
		print_outliving(out, v, group, k, frames > 0 ? frames : TRACK_RENDER_FRAMES);
	}
	free(group);
	free(done);
}

/* The threads still running when the process ended (or now), like ones grouped. */
static void print_outliving_threads(FILE *out, struct track_view *v, int frames)
{
	const struct track_snap *s = v->snap;
	uint32_t *list = malloc((s->nthreads ? s->nthreads : 1) * sizeof *list), i;
	size_t n = 0;
	for (i = 0; list != NULL && i < s->nthreads; i++)
		if (track_thread_outlived(s, &s->threads[i]))
			list[n++] = i;
	if (n > 0)
		fprintf(out, "threads still alive %s:\n",
			s->alive ? "now" : s->replaced_mono_ns ? "when exec replaced the image"
							      : "at exit");
	track_text_threads(out, v, list, n, frames);
	free(list);
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
static void print_edge(FILE *out, struct track_view *v, const struct track_edge_rec *e,
		       int frames)
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
	print_pcs(out, sym, from, n, "        ", frames);
	fprintf(out, "      %s taken, holding the first, at:\n", second);
	if (e->to_stack)
		print_stack(out, v, e->to_stack, "        ", frames);
	else
		fprintf(out, "        %s\n", track_fmt_pc(sym, e->to_pc, 1, at2, sizeof at2));
}

static void print_lock_order(FILE *out, struct track_view *v, const struct track_finding_rec *f,
			     int frames)
{
	const struct track_snap *s = v->snap;
	uint32_t i, n = track_finding_items(f);
	int by_class = 0;
	for (i = 0; i < n; i++) {
		const struct track_edge_rec *e = track_snap_edge(s, track_finding_edge(s, f, i));
		by_class |= e != NULL && track_edge_by_class(s, e);
	}
	fprintf(out, "  lock-order inversion %s: cycle of %u locks%s\n",
		f->gate ? "(info: gated, cannot deadlock)" : "(potential deadlock)", n,
		by_class ? " (by class: locks first used at the same place)" : "");
	for (i = 0; i < n; i++) {
		const struct track_edge_rec *e = track_snap_edge(s, track_finding_edge(s, f, i));
		if (e != NULL)
			print_edge(out, v, e, frames);
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

static void print_deadlock(FILE *out, struct track_view *v, const struct track_finding_rec *f,
			   int frames)
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
			fprintf(out, "waits for %s %s %s thread %d%s\n", w.kind,
				track_obj_label(v->snap, track_view_sym(v), w.object,
						TRACK_OBJ_NONE, name, sizeof name),
				w.queued_writer ? "behind" : "held by", w.held_by,
				w.queued_writer ? ", a writer queued on it" : "");
		print_stack(out, v, w.stack, "      ", frames);
	}
}

/* A misuse finding: what happened, how often, on what, and where.  For exit-holding-lock
 * the call site is where the lock still held was taken; the stack is where the thread
 * ended. */
static void print_misuse(FILE *out, struct track_view *v, const struct track_finding_rec *f,
			 int frames)
{
	char where[256], text[TRACK_FINDING_TEXT + 256], name[256];
	fprintf(out, "  %s: %s", track_finding_name(f->kind),
		track_finding_text(v->snap, track_view_sym(v), f, text, sizeof text));
	if (f->count > 1)
		fprintf(out, " (%u times)", f->count);
	if (f->severity != TRACK_SEV_ERROR)
		fprintf(out, " (severity %s)", track_severity_name(f->severity));
	fputc('\n', out);
	if (f->kind == TRACK_FK_FD_LEAK)
		return;   /* where it was opened is not known: the shim does not wrap open */
	if (f->kind == TRACK_FK_THREAD_LEAK) {   /* the stack is where it was created */
		fprintf(out, "    created by thread %d at\n", f->other_tid);
		if (f->stack)
			print_stack(out, v, f->stack, "      ", frames);
		else
			fprintf(out, "      %s\n", track_fmt_site(v->snap, track_view_sym(v), f->pc, 0,
							 where, sizeof where));
		return;
	}
	if (f->kind == TRACK_FK_EXIT_HOLDING_LOCK && f->obj) {
		fprintf(out, "    holding %s %s, taken at %s; the thread ended at\n",
			track_kind_name(f->obj_kind),
			track_obj_label(v->snap, track_view_sym(v), f->obj, f->obj_kind, name,
					sizeof name),
			track_fmt_pc(track_view_sym(v), f->pc, 1, where, sizeof where));
		print_stack(out, v, f->stack, "      ", frames);
		return;
	}
	if (f->obj && f->obj_kind != TRACK_OBJ_NONE)
		fprintf(out, "    on %s %s\n", track_kind_name(f->obj_kind),
			track_obj_label(v->snap, track_view_sym(v), f->obj, f->obj_kind, name,
					sizeof name));
	if (f->stack)
		print_stack(out, v, f->stack, "    at ", frames);
	else
		fprintf(out, "    at %s\n",
			track_fmt_site(v->snap, track_view_sym(v), f->pc, 0, where, sizeof where));
}

/* "thread 12 "worker"": a thread and the name it had, when its record is still there. */
static const char *thread_words(const struct track_snap *s, int32_t tid, char *buf, size_t len)
{
	const struct track_thread_rec *t = track_snap_thread(s, tid);
	snprintf(buf, len, "thread %d \"%.*s\"", tid, TRACK_NAME_MAX, t != NULL ? t->name : "");
	return buf;
}

/* A stall: who waits, on what, since when, where; and the thread it waits for (the lock's
 * owner, the thread joined): its state when the stall was seen, and its own wait or where it
 * took the lock. */
static void print_stall(FILE *out, struct track_view *v, const struct track_finding_rec *f,
			int frames)
{
	const struct track_snap *s = v->snap;
	char text[TRACK_FINDING_TEXT + 256], who[64], name[256], at[256];
	uint32_t other_state = f->edges[TRACK_STALL_OTHER_STATE];
	fprintf(out, "  stall: %s", track_finding_text(s, track_view_sym(v), f, text, sizeof text));
	if (f->count > 1)
		fprintf(out, " (%u waits at this place on this object)", f->count);
	fprintf(out, " (severity %s)\n", track_severity_name(f->severity));
	fprintf(out, "    %s %s", thread_words(s, f->tid, who, sizeof who),
		track_state_verb(f->edges[TRACK_STALL_WAITER_STATE]));
	if (f->obj_kind != TRACK_OBJ_NONE)
		fprintf(out, " %s", track_obj_label(s, track_view_sym(v), f->obj, f->obj_kind, name,
						    sizeof name));
	fprintf(out, ", at\n");
	print_stack(out, v, f->stack, "      ", frames);
	if (f->other_tid == 0)
		return;
	fprintf(out, "    %s %s, %s", f->edges[TRACK_STALL_WAITER_STATE] == TRACK_TS_JOIN
					   ? "joins" : "held by",
		thread_words(s, f->other_tid, who, sizeof who), track_state_verb(other_state));
	if (other_state >= TRACK_TS_MUTEX && other_state <= TRACK_TS_BARRIER &&
	    other_state != TRACK_TS_JOIN && f->objs[TRACK_STALL_OTHER_OBJ])
		fprintf(out, " %s", track_obj_label(s, track_view_sym(v),
						    f->objs[TRACK_STALL_OTHER_OBJ], TRACK_OBJ_NONE,
						    name, sizeof name));
	if (f->other_stack) {
		fprintf(out, ", at\n");
		print_stack(out, v, f->other_stack, "      ", frames);
	} else if (f->objs[TRACK_STALL_OTHER_PC]) {
		fprintf(out, "; it took the lock at %s\n",
			track_fmt_pc(track_view_sym(v), f->objs[TRACK_STALL_OTHER_PC], 1, at,
				     sizeof at));
	} else {
		fputc('\n', out);
	}
}

/* Too many threads: where the one that crossed the limit was created, then the creation
 * sites with the most live threads then. */
static void print_thread_limit(FILE *out, struct track_view *v,
			       const struct track_finding_rec *f, int frames)
{
	uint32_t i, n = track_finding_items(f);
	fprintf(out, "  thread-limit: %.*s (severity %s); the thread that crossed it was created "
		"by thread %d at\n", TRACK_FINDING_TEXT, f->text, track_severity_name(f->severity),
		f->tid);
	print_stack(out, v, f->stack, "      ", frames);
	fprintf(out, "    live threads by creation site, most first:\n");
	for (i = 0; i < n; i++) {
		fprintf(out, "    %llu thread%s created at\n", (unsigned long long)f->objs[i],
			f->objs[i] == 1 ? "" : "s");
		if (f->stacks[i])
			print_stack(out, v, f->stacks[i], "      ", frames < 6 ? frames : 6);
		else
			fprintf(out, "      (not created through the shim: the main thread, or "
				"threads started before it)\n");
	}
	if (f->tids[TRACK_LIMIT_OTHER] > 0)
		fprintf(out, "    %d more from other sites\n", f->tids[TRACK_LIMIT_OTHER]);
}

/* Findings in severity order, each after its SUMMARY line; cycles through the same code
 * sites as one listed are counted there, not repeated (core/findings.h). */
static void print_findings(FILE *out, struct track_view *v, int frames)
{
	struct track_finding_entry *e;
	struct track_tally t;
	size_t n = track_findings_list(v, &e), i;
	char line[2048];
	track_findings_tally(v, &t);
	if (t.shown == 0)
		fprintf(out, "findings: none");
	else
		fprintf(out, "findings: %u", t.shown);
	if (t.suppressed)
		fprintf(out, " (%u suppressed)", t.suppressed);
	fputc('\n', out);
	for (i = 0; i < n; i++) {
		const struct track_finding_rec *f = e[i].f;
		if (e[i].group != e[i].index)
			continue;   /* counted with the first of its group */
		fprintf(out, "  SUMMARY: %s\n", track_finding_summary(v, f, line, sizeof line));
		if (f->kind == TRACK_FK_LOCK_ORDER)
			print_lock_order(out, v, f, frames);
		else if (f->kind == TRACK_FK_DEADLOCK)
			print_deadlock(out, v, f, frames);
		else if (f->kind == TRACK_FK_STALL)
			print_stall(out, v, f, frames);
		else if (f->kind == TRACK_FK_THREAD_LIMIT)
			print_thread_limit(out, v, f, frames);
		else
			print_misuse(out, v, f, frames);
		if (e[i].also)
			fprintf(out, "    and %u more cycle%s through the same code sites, between "
				"other locks (all in --json)\n", e[i].also, e[i].also == 1 ? "" : "s");
	}
	free(e);
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
	struct track_render_opts o;
	int top, frames;
};

static void *text_begin(FILE *out, const struct track_render_opts *o)
{
	struct text_state *st = malloc(sizeof *st);
	if (st != NULL) {
		st->out = out;
		st->o = *o;
		st->top = o->top;
		st->frames = o->frames > 0 ? o->frames : TRACK_RENDER_FRAMES;
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
	print_outliving_threads(out, v, st->frames);
	track_text_locks(out, v, index == 0 ? st->top : (st->top < 3 ? st->top : 3), &st->o);
	track_text_waits(out, v, index == 0 ? st->top : (st->top < 3 ? st->top : 3));
	track_text_pools(out, v, st->top);
	track_text_queues(out, v);
	print_findings(out, v, st->frames);
	print_overflow(out, v->snap);
}

static int text_end(void *st)
{
	free(st);
	return 0;
}

const struct track_renderer track_text_renderer = {"text", text_begin, text_process, text_end};

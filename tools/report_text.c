/*
 * report_text.c — the report track run prints when the program ends (and track report
 * prints for a segment): what happened to the threads, which locks were contended, what was
 * found wrong.  It reads well in a terminal; scripts should use the JSON report instead.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "report_text.h"

uint64_t track_findings_count(const struct track_snap *s)
{
	return s->nfindings;
}

static void print_header(FILE *out, const struct track_snap *s, const struct track_exit *ex)
{
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

static void print_thread_totals(FILE *out, const struct track_snap *s)
{
	const struct track_seg_header *h = &s->hdr;
	fprintf(out,
		"threads: %llu created, %llu exited, %llu joined, %llu detached, peak %llu alive, "
		"%llu alive %s\n",
		(unsigned long long)h->threads_created, (unsigned long long)h->threads_exited,
		(unsigned long long)h->threads_joined, (unsigned long long)h->threads_detached,
		(unsigned long long)h->threads_peak, (unsigned long long)track_alive_at_exit(s),
		s->alive ? "now" : "at exit");
}

/* One line per thread that was still running when the process ended. */
static void print_outliving_threads(FILE *out, const struct track_snap *s,
				    struct track_symbolizer *sym)
{
	uint32_t i;
	int shown = 0;
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *t = &s->threads[i];
		char where[256], fn[256], since[32];
		if (!track_thread_outlived(s, t))
			continue;
		if (!shown++)
			fprintf(out, "threads still alive %s:\n", s->alive ? "now" : "at exit");
		fprintf(out, "  thread %d \"%.*s\"%s", t->tid, TRACK_NAME_MAX, t->name,
			t->flags & TRACK_TF_MAIN ? " (main)" : "");
		if (t->start_routine)
			fprintf(out, " running %s",
				track_fmt_pc(sym, t->start_routine, 0, fn, sizeof fn));
		fputc('\n', out);
		if (t->state != TRACK_TS_RUNNING) {
			uint64_t end = s->hdr.exit_mono_ns ? s->hdr.exit_mono_ns : t->since_ns;
			track_fmt_ns(end > t->since_ns ? end - t->since_ns : 0, since, sizeof since);
			fprintf(out, "    %s 0x%llx for %s, in\n", track_state_verb(t->state),
				(unsigned long long)t->wait_obj, since);
			track_print_stack(out, s, sym, t->wait_stack, "      ", 8);
		}
		if (t->create_stack) {
			fprintf(out, "    created by thread %d at\n", t->creator_tid);
			track_print_stack(out, s, sym, t->create_stack, "      ", 6);
		} else if (t->create_pc) {
			fprintf(out, "    created by thread %d at %s\n", t->creator_tid,
				track_fmt_pc(sym, t->create_pc, 1, where, sizeof where));
		}
	}
}

static void print_lock_row(FILE *out, const struct track_obj_rec *r,
			   struct track_symbolizer *sym)
{
	char acq[32], con[32], tot[32], max[32], where[256];
	fprintf(out, "  0x%-14llx %-9s %12s %10s %10s %10s  %s\n", (unsigned long long)r->addr,
		track_kind_name(r->kind), track_fmt_count(r->acquisitions, acq, sizeof acq),
		track_fmt_count(r->contended, con, sizeof con),
		track_fmt_ns(r->wait_ns, tot, sizeof tot),
		track_fmt_ns(r->max_wait_ns, max, sizeof max),
		track_fmt_pc(sym, r->first_pc, 1, where, sizeof where));
}

static void print_locks(FILE *out, const struct track_snap *s, struct track_symbolizer *sym,
			int top)
{
	const struct track_obj_rec **v;
	size_t n = track_sorted_locks(s, &v), i, contended = 0;
	uint64_t acq = 0;
	char a[32];
	for (i = 0; i < n; i++) {
		acq += v[i]->acquisitions;
		contended += v[i]->contended > 0;
	}
	fprintf(out, "locks: %zu used, %s acquisitions, %zu contended\n", n,
		track_fmt_count(acq, a, sizeof a), contended);
	if (n > 0) {
		fprintf(out, "  %s:\n", contended ? "most contended" : "none contended; most used");
		fprintf(out, "  %-16s %-9s %12s %10s %10s %10s  %s\n", "LOCK", "KIND", "ACQUIRED",
			"CONTENDED", "WAIT TOTAL", "WAIT MAX", "FIRST USED AT");
		for (i = 0; i < n && (int)i < top; i++)
			print_lock_row(out, v[i], sym);
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

static void print_findings(FILE *out, const struct track_snap *s, struct track_symbolizer *sym)
{
	uint32_t i;
	if (s->nfindings == 0) {
		fprintf(out, "findings: none\n");
		return;
	}
	fprintf(out, "findings: %u\n", s->nfindings);
	for (i = 0; i < s->nfindings; i++) {
		const struct track_finding_rec *f = &s->findings[i];
		char where[256];
		fprintf(out, "  %s: %.*s", track_finding_name(f->kind), TRACK_FINDING_TEXT, f->text);
		if (f->count > 1)
			fprintf(out, " (%u times)", f->count);
		fputc('\n', out);
		if (f->stack)
			track_print_stack(out, s, sym, f->stack, "    at ", 8);
		else
			fprintf(out, "    at %s\n", track_fmt_pc(sym, f->pc, 1, where, sizeof where));
	}
}

static void print_overflow(FILE *out, const struct track_snap *s)
{
	const struct track_seg_header *h = &s->hdr;
	if (h->threads_dropped)
		fprintf(out, "warning: %llu threads not tracked: raise TRACK_MAX_THREADS (now %u)\n",
			(unsigned long long)h->threads_dropped, h->max_threads);
	if (h->objects_dropped)
		fprintf(out, "warning: %llu objects not tracked: raise TRACK_MAX_OBJECTS (now %u)\n",
			(unsigned long long)h->objects_dropped, h->max_objects);
	if (h->findings_dropped)
		fprintf(out, "warning: %llu findings not recorded: raise TRACK_MAX_FINDINGS\n",
			(unsigned long long)h->findings_dropped);
	if (s->torn)
		fprintf(out, "warning: %u thread records changed while being read\n", s->torn);
}

void track_report_text(FILE *out, const struct track_snap *s, struct track_symbolizer *sym,
		       const struct track_exit *ex, const struct track_text_opts *o)
{
	print_header(out, s, ex);
	print_thread_totals(out, s);
	print_outliving_threads(out, s, sym);
	print_locks(out, s, sym, o->is_primary ? o->top : (o->top < 3 ? o->top : 3));
	print_waits(out, s);
	print_findings(out, s, sym);
	print_overflow(out, s);
}

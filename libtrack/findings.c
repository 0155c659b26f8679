/*
 * findings.c — recording what the shim found wrong (misuse of the pthread API, and in later
 * versions lock-order cycles and deadlocks) in the segment's findings table.
 *
 * A finding is identified by its kind, object and call site: the same mistake made a million
 * times in a loop is one finding with a count, not a million entries.  The table is bounded;
 * what does not fit is counted as dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shim.h"

void track_finding(uint32_t kind, const void *obj, uint32_t obj_kind, uint64_t pc,
		   int32_t other_tid, const char *fmt, ...)
{
	struct track_tls *t = &track_tls;
	struct track_seg_header *h = track_g.hdr;
	struct track_finding_rec *f = NULL;
	uint64_t i, n;
	va_list ap;
	int saved = errno;
	uint32_t stack;
	if (!track_g.on || t->busy)
		return;
	stack = track_stack_capture(t);
	t->busy = 1;
	track_ilock();
	n = h->findings_used;
	for (i = 0; i < n; i++) {
		struct track_finding_rec *e = &track_g.findings[i];
		if (e->kind == kind && e->obj == (uint64_t)(uintptr_t)obj && e->pc == pc) {
			TRACK_ADD(&e->count, 1);
			goto out;
		}
	}
	if (n >= h->max_findings) {
		TRACK_ADD(&h->findings_dropped, 1);
		goto out;
	}
	f = &track_g.findings[n];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->tid = t->tid;
	f->count = 1;
	f->obj = (uint64_t)(uintptr_t)obj;
	f->obj_kind = obj_kind;
	f->pc = pc;
	f->stack = stack;
	f->other_tid = other_tid;
	f->when_ns = track_now_ns();
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof f->text, fmt, ap);
	va_end(ap);
	__atomic_store_n(&f->valid, 1, __ATOMIC_RELEASE);
	TRACK_STORE(&h->findings_used, n + 1);
out:
	track_iunlock();
	t->busy = 0;
	if (f != NULL)
		track_modules_note_pc(pc);
	errno = saved;
}

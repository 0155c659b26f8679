/*
 * findings.c — recording what the shim found wrong (misuse of the pthread API, lock-order
 * cycles and deadlocks) in the segment's findings table.
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
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

/* A new finding's line for TRACK_REPORT=stderr (struct track__announce, shim.h), made under
 * the shim lock and written after it is released (a write to a full pipe may block; nothing
 * may block holding that lock). */
static void announce_prepare(struct track__announce *a, const struct track_finding_rec *f)
{
	static const char *const kinds[] = {TRACK_FINDING_KINDS(TRACK__X_NAME)};
	a->len = 0;
	if (track__g.report != TRACK_RM_STDERR || f->severity > TRACK_SEV_WARNING)
		return;
	a->len = track__format(a->line, sizeof a->line,
			       "libtrack: pid %d: %s: %s; `track report %d` has the stacks\n",
			       track__g.hdr->pid, kinds[f->kind], f->text, track__g.hdr->pid);
}

/* The raw system call: write(2) in glibc is a cancellation point, and the shim adds none. */
void track__announce_write(const struct track__announce *a)
{
	if (a->len > 0)
		syscall(SYS_write, 2, a->line, a->len);
}

/* A fresh record for a new finding of kind, or NULL (counted) when the table is full.
 * Called under the shim lock; the caller fills it and publishes it. */
static struct track_finding_rec *finding_new(uint32_t kind)
{
	struct track_seg_header *h = track__g.hdr;
	struct track_finding_rec *f;
	if (h->findings_used >= h->max_findings ||
	    track__seg_reserve(&track__g.findings[h->findings_used], sizeof *f) != 0) {
		TRACK_ADD(&h->findings_dropped, 1);
		return NULL;
	}
	f = &track__g.findings[h->findings_used];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->tid = track__tls.self != NULL ? track__tls.self->tid : 0;
	f->count = 1;
	f->when_ns = track__now_ns();
	return f;
}

/* Make a filled record visible to readers: complete first, then counted. */
static void finding_publish(struct track_finding_rec *f)
{
	__atomic_store_n(&f->valid, 1, __ATOMIC_RELEASE);
	TRACK_STORE(&track__g.hdr->findings_used, track__g.hdr->findings_used + 1);
}

struct track_finding_rec *track__finding(uint32_t kind, const void *obj, uint32_t obj_kind,
					 uint64_t pc, int32_t other_tid, const char *fmt, ...)
{
	struct track_seg_header *h = track__g.hdr;
	struct track_finding_rec *f = NULL;
	uint64_t i, n;
	va_list ap;
	int saved = errno;
	uint32_t stack;
	struct track__announce an = {.len = 0};
	if (!track__g.on || track__busy())
		return NULL;
	stack = track__stack_capture(track__tls.self);
	track__ilock();
	n = h->findings_used;
	for (i = 0; i < n; i++) {
		struct track_finding_rec *e = &track__g.findings[i];
		if (e->kind == kind && e->obj == (uint64_t)(uintptr_t)obj && e->pc == pc) {
			TRACK_ADD(&e->count, 1);
			goto out;
		}
	}
	f = finding_new(kind);
	if (f == NULL)
		goto out;
	f->obj = (uint64_t)(uintptr_t)obj;
	f->obj_kind = obj_kind;
	f->pc = pc;
	f->stack = stack;
	f->other_tid = other_tid;
	va_start(ap, fmt);
	track__vformat(f->text, sizeof f->text, fmt, ap);
	va_end(ap);
	finding_publish(f);
	announce_prepare(&an, f);
out:
	track__iunlock();
	if (f != NULL)
		track__modules_note_pc(pc);
	track__announce_write(&an);
	errno = saved;
	return f;
}

/* What an exit-holding-lock finding remembers of lock r: which lock, and how many times a
 * thread had asked for it (waits and timeouts) when its owner ended. */
uint64_t track__exit_holding_signature(const struct track_obj_rec *r)
{
	return (uint64_t)TRACK_LOAD(&r->lock_id) << 32 |
	       (uint32_t)(TRACK_LOAD(&r->contended) + TRACK_LOAD(&r->timeouts));
}

/* How soon before the end a thread may end holding a lock for it to be part of the end. */
#define EXITING_NS 1000000000ull

/*
 * Threads that end holding a lock as the process ends (the JVM's VM thread does so on every
 * run), and a process that calls exit() holding a lock it keeps for its whole life (redis
 * does), harm nobody: no thread waits for that lock, and none will.  At the end, such a
 * finding, made within EXITING_NS of it on a lock nobody asked for since (its signature is
 * the lock's count of waits and timeouts when the thread ended), is made informational.
 * One that a thread waits for is an error: that thread is stuck for good.
 */
void track__exit_holding_review(uint64_t end_ns)
{
	struct track_seg_header *h = track__g.hdr;
	uint64_t i, n;
	if (!track__g.on || h == NULL)
		return;
	track__ilock();
	n = h->findings_used;
	for (i = 0; i < n; i++) {
		struct track_finding_rec *f = &track__g.findings[i];
		const struct track_obj_rec *r;
		size_t len;
		if (f->kind != TRACK_FK_EXIT_HOLDING_LOCK || f->severity != TRACK_SEV_ERROR ||
		    f->when_ns + EXITING_NS < end_ns)
			continue;
		/* the lock itself, not another made since at its address (its memory freed) */
		r = track__obj_find((const void *)(uintptr_t)f->obj);
		if (r != NULL && (uint32_t)(f->signature >> 32) != TRACK_LOAD(&r->lock_id))
			r = NULL;
		if (r != NULL && (TRACK_LOAD(&r->waiters) != 0 ||
				  track__exit_holding_signature(r) != f->signature))
			continue;
		len = strlen(f->text);
		track__format(f->text + len, sizeof f->text - len,
			      " as the process ended; nobody waited for it");
		TRACK_STORE(&f->severity, TRACK_SEV_INFO);
	}
	track__iunlock();
}

void track__init_refused(const void *addr, uint32_t kind, uint64_t pc)
{
	static const char *const calls[TRACK_OBJ_KIND_COUNT] = {
		[TRACK_OBJ_MUTEX] = "pthread_mutex_init", [TRACK_OBJ_RWLOCK] = "pthread_rwlock_init",
		[TRACK_OBJ_SPIN] = "pthread_spin_init",   [TRACK_OBJ_COND] = "pthread_cond_init",
		[TRACK_OBJ_SEM] = "sem_init",             [TRACK_OBJ_BARRIER] = "pthread_barrier_init",
	};
	const char *call = kind < TRACK_OBJ_KIND_COUNT && calls[kind] ? calls[kind] : "init";
	track__api_failed(call, addr, kind == TRACK_OBJ_BARRIER
				      ? "an invalid attribute, or a count of 0"
				      : "an invalid attribute or value", pc);
}

void track__api_failed(const char *call, const void *obj, const char *why, uint64_t pc)
{
	/* no object in the key: once per call site, whatever object it was called on */
	track__finding(TRACK_FK_API_CALL_FAILED, NULL, TRACK_OBJ_NONE, pc, 0,
		      "%s(%p) failed with EINVAL: %s", call, obj, why);
}

void track__timeout_refused(const char *call, const void *obj, uint64_t pc)
{
	track__api_failed(call, obj, "its timeout's nanoseconds are out of range, or its clock "
			  "is not one it takes", pc);
}

size_t track__deadlock_words(char *buf, size_t len, uint32_t n)
{
	return track__format(buf, len, "deadlock: %u thread%s waiting for %s", n,
			     n == 1 ? "" : "s", n == 1 ? "itself" : "each other");
}

/* A finding with a list payload (a lock-order cycle or a deadlock), reported once per
 * signature: a cycle seen again only counts; one that was gated and is no longer gets its
 * severity raised.  Returns the record to fill, or NULL.  Called under the shim lock. */
static struct track_finding_rec *finding_by_signature(uint32_t kind, uint64_t signature,
						      uint32_t severity, int *fresh)
{
	struct track_seg_header *h = track__g.hdr;
	uint64_t i, n = h->findings_used;
	struct track_finding_rec *f;
	*fresh = 0;
	for (i = 0; i < n; i++) {
		f = &track__g.findings[i];
		if (f->kind == kind && f->signature == signature) {
			TRACK_ADD(&f->count, 1);
			if (severity < f->severity)
				TRACK_STORE(&f->severity, severity);
			return NULL;
		}
	}
	f = finding_new(kind);
	if (f != NULL) {
		f->signature = signature;
		f->severity = severity;
		*fresh = 1;
	}
	return f;
}

/* n entries for a long cycle in the cycle-item section, zeroed, their first's index + 1 in
 * *first; NULL when the section is full (the finding keeps its first TRACK_CYCLE_MAX, and
 * the truncation is counted).  Called under the shim lock. */
static struct track_cycle_item *items_new(uint32_t n, uint32_t *first)
{
	struct track_seg_header *h = track__g.hdr;
	uint64_t used = h->cycle_items_used;
	struct track_cycle_item *it = &track__g.cycle_items[used];
	*first = 0;
	if (used + n > h->max_cycle_items || track__seg_reserve(it, n * sizeof *it) != 0) {
		TRACK_ADD(&h->cycles_too_long, 1);
		return NULL;
	}
	memset(it, 0, n * sizeof *it);
	TRACK_STORE(&h->cycle_items_used, used + n);
	*first = (uint32_t)used + 1;
	return it;
}

/* Room in f for a list of n entries: nitems set, and the long-cycle entries to fill as well
 * as f's own arrays when n > TRACK_CYCLE_MAX (NULL otherwise, or if there is no room). */
static struct track_cycle_item *list_room(struct track_finding_rec *f, uint32_t n)
{
	struct track_cycle_item *it = NULL;
	f->nitems = n < TRACK_CYCLE_MAX ? n : TRACK_CYCLE_MAX;
	if (n > TRACK_CYCLE_MAX && (it = items_new(n, &f->items)) != NULL)
		f->nitems = n;
	return it;
}

int track__finding_cycle_locked(uint32_t kind, uint32_t severity, const uint32_t *edges,
				uint32_t n, uint64_t signature, uint64_t gate, uint64_t pc,
				uint32_t stack, struct track__announce *an)
{
	struct track_finding_rec *f;
	struct track_cycle_item *it;
	uint32_t k;
	int fresh;
	an->len = 0;
	f = finding_by_signature(kind, signature, severity, &fresh);
	if (f == NULL)
		return 0;
	f->pc = pc;
	f->stack = stack;
	f->gate = gate;
	it = list_room(f, n);
	memcpy(f->edges, edges, (n < TRACK_CYCLE_MAX ? n : TRACK_CYCLE_MAX) * sizeof *edges);
	for (k = 0; it != NULL && k < n; k++)
		it[k].edge = edges[k];
	track__format(f->text, sizeof f->text, "lock-order cycle of %u locks%s", n,
		     gate ? " (gated)" : "");
	finding_publish(f);
	announce_prepare(an, f);
	return 1;
}

void track__finding_put(const struct track_finding_rec *src)
{
	struct track_finding_rec *f;
	struct track__announce an = {.len = 0};
	int fresh;
	track__ilock();
	f = finding_by_signature(src->kind, src->signature, src->severity, &fresh);
	if (f != NULL) {
		memcpy((char *)f + sizeof f->valid, (const char *)src + sizeof src->valid,
		       sizeof *f - sizeof f->valid);
		f->count = 1;
		f->when_ns = track__now_ns();
		finding_publish(f);
		announce_prepare(&an, f);
	}
	track__iunlock();
	track__announce_write(&an);
}

void track__finding_deadlock(const int32_t *tids, const uint32_t *stacks, const uint64_t *objs,
			    uint32_t n, uint64_t signature)
{
	struct track_finding_rec *f;
	struct track__announce an = {.len = 0};
	int fresh;
	track__ilock();
	f = finding_by_signature(TRACK_FK_DEADLOCK, signature, TRACK_SEV_ERROR, &fresh);
	if (f != NULL) {
		struct track_cycle_item *it = list_room(f, n);
		uint32_t k, m = n < TRACK_CYCLE_MAX ? n : TRACK_CYCLE_MAX;
		memcpy(f->tids, tids, m * sizeof *tids);
		memcpy(f->stacks, stacks, m * sizeof *stacks);
		memcpy(f->objs, objs, m * sizeof *objs);
		for (k = 0; it != NULL && k < n; k++) {
			it[k].tid = tids[k];
			it[k].stack = stacks[k];
			it[k].obj = objs[k];
		}
		f->stack = stacks[0];
		f->obj = objs[0];
		track__deadlock_words(f->text, sizeof f->text, n);
		finding_publish(f);
		announce_prepare(&an, f);
	}
	track__iunlock();
	track__announce_write(&an);
}

/*
 * leaks.c — what a process left behind when it ended, as findings: threads it started that
 * were still alive at its end, joinable threads that ended and were never joined (what
 * ThreadSanitizer calls a thread leak), and locks still held.  Asked for with TRACK_LEAKS=1
 * (`track run --leaks`), which the shim records in the header, or `track report --leaks`.
 *
 * The shim records the facts anyway (thread records, lock owners); the judgement is made
 * here, once the process has ended, and added to the snapshot as findings of their own
 * kinds, so that suppressions, --error-exitcode, the summaries and every format treat them
 * as any other finding.  A live process is never judged: its threads may still be joined.
 *
 * Without leak checking, a process that ended by a signal (or some way the shim did not see)
 * still has its held locks said: killed-holding-lock, where the crash or kill found them.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "core/leaks.h"

/* Whether thread record t is one the program started and is responsible for: made by its
 * pthread_create, not the main thread, not one glibc or a library started outside the shim. */
static int program_thread(const struct track_thread_rec *t)
{
	return t->state != TRACK_TS_UNUSED && !(t->flags & (TRACK_TF_MAIN | TRACK_TF_FOREIGN)) &&
	       t->creator_tid != 0;
}

static void add_thread_leak(struct track_snap *s, const struct track_thread_rec *t,
			    const char *what)
{
	struct track_finding_rec *f = track_snap_add_finding(s);
	if (f == NULL)
		return;
	f->kind = TRACK_FK_THREAD_LEAK;
	f->severity = TRACK_SEV_ERROR;
	f->tid = t->tid;
	f->count = 1;
	f->pc = t->create_pc;
	f->stack = t->create_stack;
	f->other_tid = t->creator_tid;
	f->when_ns = t->created_ns;
	snprintf(f->text, sizeof f->text, "thread %d \"%.*s\" %s", t->tid, TRACK_NAME_MAX,
		 t->name, what);
}

/* Where the owner of lock index + 1 idx took it, from its held list; 0 if not listed. */
static uint64_t taken_at(const struct track_thread_rec *owner, uint32_t idx)
{
	uint32_t i, n = owner->nheld < TRACK_HELD_MAX ? owner->nheld : TRACK_HELD_MAX;
	for (i = 0; i < n; i++)
		if ((owner->held[i] & ~TRACK_HELD_READ) == idx)
			return owner->held_pc[i];
	return 0;
}

/* A new finding of kind and severity about lock o (record index + 1 idx), located where its
 * owner took it (or where it was first used); NULL if the snapshot has no room. */
static struct track_finding_rec *held_lock_finding(struct track_snap *s,
						   const struct track_obj_rec *o, uint32_t idx,
						   uint32_t kind, uint32_t severity)
{
	const struct track_thread_rec *owner =
		o->owner_tid ? track_snap_thread(s, o->owner_tid) : NULL;
	struct track_finding_rec *f = track_snap_add_finding(s);
	if (f == NULL)
		return NULL;
	f->kind = kind;
	f->severity = severity;
	f->tid = o->owner_tid;
	f->count = 1;
	f->obj = o->addr;
	f->obj_kind = o->kind;
	f->pc = owner != NULL ? taken_at(owner, idx) : 0;
	if (f->pc == 0)
		f->pc = o->first_pc;
	return f;
}

static void add_lock_leak(struct track_snap *s, const struct track_obj_rec *o, uint32_t idx)
{
	struct track_finding_rec *f =
		held_lock_finding(s, o, idx, TRACK_FK_LOCK_HELD_AT_EXIT, TRACK_SEV_ERROR);
	if (f == NULL)
		return;
	if (o->owner_tid)
		snprintf(f->text, sizeof f->text, "%s 0x%llx still locked by thread %d at the end",
			 track_kind_name(o->kind), (unsigned long long)o->addr, o->owner_tid);
	else
		snprintf(f->text, sizeof f->text, "rwlock 0x%llx still held by %u reader%s at the end",
			 (unsigned long long)o->addr, o->readers, o->readers == 1 ? "" : "s");
}

static void add_fd_leak(struct track_snap *s, const struct track_fd_rec *r)
{
	struct track_finding_rec *f = track_snap_add_finding(s);
	if (f == NULL)
		return;
	f->kind = TRACK_FK_FD_LEAK;
	f->severity = TRACK_SEV_ERROR;
	f->count = 1;
	snprintf(f->text, sizeof f->text, "descriptor %d (%.*s) opened and still open at the end",
		 r->fd, TRACK_FD_TARGET_MAX, r->target);
}

/* The shim's exit-holding-lock findings about the lock at addr (a thread ended, or called
 * exit(), holding it) say what lock-held-at-exit says of it now: the derived finding, which
 * leak checking asked for, replaces them (they are left out of this snapshot). */
static void replaces_shims(struct track_snap *s, uint64_t addr, uint32_t nshim)
{
	uint32_t i;
	for (i = 0; i < nshim; i++)
		if (s->findings[i].kind == TRACK_FK_EXIT_HOLDING_LOCK && s->findings[i].obj == addr)
			s->findings[i].valid = 0;
}

/* How the process ended, for a killed-holding-lock message: "was killed by signal 11
 * (Segmentation fault)", or what is known. */
static const char *killed_how(const struct track_end *end, char *buf, size_t len)
{
	const char *abbrev = end->signal != 0 ? sigabbrev_np(end->signal) : NULL;
	if (abbrev != NULL)
		snprintf(buf, len, "was killed by SIG%s", abbrev);
	else if (end->signal != 0)
		snprintf(buf, len, "was killed by signal %d", end->signal);
	else
		snprintf(buf, len, "ended other than by exit() or _exit() (how is not known)");
	return buf;
}

static void add_killed_holding(struct track_snap *s, const struct track_obj_rec *o, uint32_t idx,
			       const char *how)
{
	int stuck = o->kind == TRACK_OBJ_MUTEX && (o->subtype & TRACK_MUTEX_PSHARED) &&
		    !(o->subtype & TRACK_MUTEX_ROBUST);
	struct track_finding_rec *f =
		held_lock_finding(s, o, idx, TRACK_FK_KILLED_HOLDING_LOCK,
				  stuck ? TRACK_SEV_ERROR : TRACK_SEV_INFO);
	char text[256];
	if (f == NULL)
		return;
	snprintf(text, sizeof text, "%s 0x%llx held by thread %d when the process %s%s",
		 track_kind_name(o->kind), (unsigned long long)o->addr, o->owner_tid, how,
		 stuck ? "; process-shared, not robust: its other users wait for ever" : "");
	snprintf(f->text, sizeof f->text, "%.*s", (int)sizeof f->text - 1, text);
}

void track_killed_derive(struct track_snap *s, const struct track_end *end)
{
	char how[96];
	uint32_t i;
	if (s->alive || s->killed_derived || s->leaks_derived ||
	    !(end->kind == TRACK_END_UNKNOWN || (end->kind == TRACK_END_REAPED && end->signal != 0)))
		return;
	s->killed_derived = 1;
	killed_how(end, how, sizeof how);
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *o = &s->objs[i];
		const struct track_thread_rec *owner;
		if (!track_kind_is_lock(o->kind) || !(o->flags & TRACK_OF_LIVE) || o->owner_tid == 0)
			continue;
		/* a robust mutex's owner dying is what the attribute is for: the next locker is
		 * told (EOWNERDEAD) */
		if (o->kind == TRACK_OBJ_MUTEX && (o->subtype & TRACK_MUTEX_ROBUST))
			continue;
		owner = track_snap_thread(s, o->owner_tid);
		if (owner != NULL && track_thread_outlived(s, owner))
			add_killed_holding(s, o, i + 1, how);
	}
}

void track_leaks_derive(struct track_snap *s)
{
	uint32_t nshim = s->nfindings;
	uint32_t i, n = s->nthreads, m = s->nobjs;
	if (s->alive || s->leaks_derived)
		return;
	s->leaks_derived = 1;
	for (i = 0; i < n; i++) {
		const struct track_thread_rec *t = &s->threads[i];
		if (!program_thread(t))
			continue;
		if (track_thread_outlived(s, t))
			add_thread_leak(s, t, "was still running when the process ended");
		else if (t->state == TRACK_TS_EXITED &&
			 !(t->flags & (TRACK_TF_DETACHED | TRACK_TF_JOINED)))
			add_thread_leak(s, t, "ended and was never joined (nor detached)");
	}
	for (i = 0; i < m; i++) {
		const struct track_obj_rec *o = &s->objs[i];
		if (track_kind_is_lock(o->kind) && (o->flags & TRACK_OF_LIVE) &&
		    (o->owner_tid != 0 || o->readers != 0)) {
			add_lock_leak(s, o, i + 1);
			replaces_shims(s, o->addr, nshim);
		}
	}
	for (i = 0; i < s->nfds; i++)
		add_fd_leak(s, &s->fds[i]);
}

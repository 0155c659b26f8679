/*
 * dumpstate.c — what each thread of a dump is doing, read at the instant its stack is taken,
 * and what the dump says between threads (see dumpstate.h).
 *
 * Why at that instant: a busy thread changes state thousands of times a second, so a record
 * read before the walk (or a few threads earlier) describes another moment than the stack
 * printed under it, and the dump says "blocked on mutex" over a stack inside the critical
 * section.  A thread writes its own record only when it runs; while it is ptrace-stopped, or
 * asleep and shown not to have run (remote_unwind.c), the record cannot change, so one read
 * then belongs to the stack copied then.  It can still be caught half-written (the counter
 * odd), or with the thread inside the shim between its record and the call the record
 * names: then the unwinder is asked for another stop, and if none settles the dump says
 * that the state is not known.
 *
 * Between threads: each thread's state is of its own instant, and the instants differ.  A
 * waiter is said to be held up by a thread only if that thread is shown holding the lock and
 * the lock's own record named it as the owner at the waiter's instant; counts of waiters are
 * counts of the threads shown waiting.  Nothing is taken from the objects' counters.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dumpstate.h"
#include "core/model.h"

int track_dump_reserve(struct track_stackdump *d, size_t n)
{
	size_t cap = d->cap ? d->cap : 64;
	struct track_dump_thread *v;
	if (n <= d->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = realloc(d->t, cap * sizeof *v);
	if (v == NULL)
		return -1;
	memset(v + d->cap, 0, (cap - d->cap) * sizeof *v);
	d->t = v;
	d->cap = cap;
	return 0;
}

/* --- one thread ------------------------------------------------------------------------ */

/* Object record idx into out: as the snapshot has it, or as it is now. */
typedef int (*obj_reader)(const struct track_snap *s, uint32_t idx, struct track_obj_rec *out);

static int snap_obj_copy(const struct track_snap *s, uint32_t idx, struct track_obj_rec *out)
{
	const struct track_obj_rec *o = track_snap_obj(s, idx);
	if (o == NULL)
		return -1;
	*out = *o;
	return 0;
}

/* The state of t from record r and the records of the objects it names, read by get. */
static void read_state(struct track_dump_thread *t, const struct track_snap *s,
		       const struct track_thread_rec *r, obj_reader get)
{
	struct track_obj_rec o;
	uint32_t i, listed = r->nheld < TRACK_HELD_MAX ? r->nheld : TRACK_HELD_MAX;
	t->state = *r;
	t->rec = &t->state;
	if (r->state != TRACK_TS_RUNNING && r->state != TRACK_TS_JOIN &&
	    get(s, r->wait_obj_idx, &o) == 0 && o.addr == r->wait_obj) {
		t->wait_first_pc = o.first_pc;
		t->wait_owner = o.owner_tid;
		t->wait_readers = o.readers;
	}
	for (i = 0; i < listed; i++) {
		uint32_t idx = r->held[i] & ~TRACK_HELD_READ;
		struct track_dump_lock *l = &t->holds[t->nholds];
		if (idx == 0 || get(s, idx, &o) != 0 || o.kind == TRACK_OBJ_NONE) {
			t->holds_unlisted++;   /* held, but which lock is not known */
			continue;
		}
		l->addr = o.addr;
		l->kind = o.kind;
		l->read = (r->held[i] & TRACK_HELD_READ) != 0;
		l->first_pc = o.first_pc;
		l->taken_pc = r->held_pc[i];
		t->nholds++;
	}
	if (r->nheld > TRACK_HELD_MAX)
		t->holds_unlisted += r->nheld - TRACK_HELD_MAX;
}

void track_dump_state_recorded(struct track_stackdump *d, struct track_dump_thread *t,
			       const struct track_thread_rec *r)
{
	read_state(t, &d->snap, r, snap_obj_copy);
	t->at_ns = d->now_ns;
}

static int module_named(const struct track_module_rec *m, const char *prefix)
{
	const char *base = strrchr(m->path, '/');
	base = base ? base + 1 : m->path;
	return (m->flags & TRACK_MF_VALID) && strncmp(base, prefix, strlen(prefix)) == 0;
}

void track_dump_stop_init(struct track_dump_stop *x, struct track_stackdump *d)
{
	uint32_t i;
	memset(x, 0, sizeof *x);
	x->d = d;
	for (i = 0; i < d->snap.nmods; i++) {
		const struct track_module_rec *m = &d->snap.mods[i];
		if (module_named(m, "libtrack.so")) {
			x->shim_lo = m->lo;
			x->shim_hi = m->hi;
		} else if (module_named(m, "linux-vdso.so")) {
			x->vdso_lo = m->lo;
			x->vdso_hi = m->hi;
		}
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Not settled: the record caught being written, or the thread stopped in the shim's
 * bookkeeping: in the shim's own code (between its record and the call the record names,
 * or updating its list of held locks, which has no counter), or in the vDSO's clock while
 * its record says it waits (the shim timing the wait). */
int track_dump_at_stop(void *arg, size_t i, pid_t tid, uint64_t pc)
{
	struct track_dump_stop *x = arg;
	struct track_stackdump *d = x->d;
	struct track_thread_rec r;
	struct track_dump_thread *t;
	int got;
	if (track_dump_reserve(d, i + 1) != 0)
		return 1;               /* no room to keep it: it is shown without a state */
	t = &d->t[i];
	memset(t, 0, sizeof *t);
	got = track_snap_thread_now(&d->snap, tid, &r);
	if (got < 0)
		return 1;               /* the shim has no record of it */
	if (got == 0 || (pc >= x->shim_lo && pc < x->shim_hi) ||
	    (r.state != TRACK_TS_RUNNING && pc >= x->vdso_lo && pc < x->vdso_hi)) {
		t->state_changing = 1;
		return 0;
	}
	read_state(t, &d->snap, &r, track_snap_obj_now);
	t->at_ns = mono_ns();
	return 1;
}

/* --- between threads ------------------------------------------------------------------- */

/* A lock shown held, or an object shown waited on, by a thread of the dump. */
struct ref {
	uint64_t addr;
	struct track_dump_thread *t;
	int read;
};

static int cmp_ref(const void *a, const void *b)
{
	uint64_t x = ((const struct ref *)a)->addr, y = ((const struct ref *)b)->addr;
	return (x > y) - (x < y);
}

/* Waiting on an object at wait_obj (not joining, whose wait_obj is a pthread_t). */
static int waits_on_object(const struct track_dump_thread *t)
{
	return t->rec != NULL && t->rec->state != TRACK_TS_RUNNING &&
	       t->rec->state != TRACK_TS_JOIN;
}

static int lock_wait(const struct track_dump_thread *t)
{
	return t->rec != NULL && track_state_is_lock_wait(t->rec->state);
}

static const struct track_dump_thread *shown(const struct track_stackdump *d, pid_t tid)
{
	size_t i;
	for (i = 0; i < d->n; i++)
		if (d->t[i].tid == tid)
			return &d->t[i];
	return NULL;
}

/* Waiter w and the threads shown holding what it waits on, refs [h, h + n). */
static void find_holder(const struct track_stackdump *d, struct track_dump_thread *w,
			const struct ref *h, size_t n)
{
	const struct track_dump_thread *owner = NULL, *named;
	uint32_t readers = 0;
	size_t k;
	for (k = 0; k < n; k++) {   /* w itself among them: it waits on a lock it holds */
		if (h[k].read)
			readers++;
		else
			owner = h[k].t;
	}
	if (owner != NULL && w->wait_owner == owner->tid) {
		w->held_by = owner;
	} else if (owner == NULL && readers > 0 && w->wait_owner == 0 &&
		   w->wait_readers == readers) {
		w->readers_shown = readers;
	} else if (owner != NULL || readers > 0 || w->wait_readers > 0) {
		w->holder_changed = 1;
	} else if (w->wait_owner != 0) {
		/* Its owner then is shown not holding it: taken after that thread was read,
		 * unless that thread holds locks not known one by one.  Not shown at all: the
		 * lock's record is all there is. */
		named = shown(d, w->wait_owner);
		if (named == NULL)
			w->held_by_absent = w->wait_owner;
		else
			w->holder_changed = named->holds_unlisted == 0;
	}
}

static void relate_holders(struct track_stackdump *d, struct ref *holds, size_t nh)
{
	size_t i;
	qsort(holds, nh, sizeof *holds, cmp_ref);
	for (i = 0; i < d->n; i++) {
		struct track_dump_thread *w = &d->t[i];
		struct ref key = {0, NULL, 0}, *h;
		size_t n;
		if (!lock_wait(w))
			continue;
		key.addr = w->rec->wait_obj;
		h = bsearch(&key, holds, nh, sizeof *holds, cmp_ref);
		while (h != NULL && h > holds && h[-1].addr == key.addr)
			h--;
		for (n = 0; h != NULL && h + n < holds + nh && h[n].addr == key.addr; n++)
			;
		find_holder(d, w, h, n);
	}
}

static void count_waiters(struct ref *waits, size_t nw)
{
	size_t i, j;
	qsort(waits, nw, sizeof *waits, cmp_ref);
	for (i = 0; i < nw; i = j) {
		for (j = i; j < nw && waits[j].addr == waits[i].addr; j++)
			;
		for (size_t k = i; k < j; k++)
			waits[k].t->waiters = (uint32_t)(j - i);
	}
}

void track_dump_relate(struct track_stackdump *d)
{
	size_t i, nh = 0, nw = 0;
	struct ref *holds, *waits;
	uint32_t k;
	for (i = 0; i < d->n; i++)
		if (d->t[i].rec != NULL)
			nh += d->t[i].nholds;
	holds = malloc((nh ? nh : 1) * sizeof *holds);
	waits = malloc((d->n ? d->n : 1) * sizeof *waits);
	if (holds != NULL && waits != NULL) {   /* else no relation is claimed */
		nh = 0;
		for (i = 0; i < d->n; i++) {
			struct track_dump_thread *t = &d->t[i];
			if (t->rec == NULL)
				continue;
			for (k = 0; k < t->nholds; k++)
				holds[nh++] = (struct ref){t->holds[k].addr, t, t->holds[k].read};
			if (waits_on_object(t))
				waits[nw++] = (struct ref){t->rec->wait_obj, t, 0};
		}
		relate_holders(d, holds, nh);
		count_waiters(waits, nw);
	}
	free(holds);
	free(waits);
}

/* --- in words -------------------------------------------------------------------------- */

uint64_t track_stackdump_waited(const struct track_dump_thread *t)
{
	return t->rec != NULL && t->at_ns > t->rec->since_ns ? t->at_ns - t->rec->since_ns : 0;
}

const struct track_dump_lock *track_stackdump_holding(const struct track_dump_thread *h,
						      uint64_t addr)
{
	uint32_t k;
	for (k = 0; k < h->nholds; k++)
		if (h->holds[k].addr == addr)
			return &h->holds[k];
	return NULL;
}

/* Who holds what t waits on, as the dump shows it, into buf. */
static void holder_words(const struct track_dump_thread *t, char *buf, size_t len)
{
	buf[0] = '\0';
	if (t->held_by != NULL)
		snprintf(buf, len, " held by thread %d \"%s\"", t->held_by->tid, t->held_by->name);
	else if (t->readers_shown > 0)
		snprintf(buf, len, " held for reading by %u thread%s", t->readers_shown,
			 t->readers_shown == 1 ? "" : "s");
	else if (t->holder_changed)
		snprintf(buf, len, " (its holder changed while the stacks were taken)");
	else if (t->held_by_absent != 0)
		snprintf(buf, len, " held by thread %d (not among the threads shown)",
			 t->held_by_absent);
}

void track_stackdump_doing(const struct track_stackdump *d, const struct track_dump_thread *t,
			   char *buf, size_t len)
{
	const struct track_thread_rec *r = t->rec;
	char dur[32], where[256], holder[128], waiters[32] = "", name[256];
	track_fmt_ns(track_stackdump_waited(t), dur, sizeof dur);
	if (r->state == TRACK_TS_RUNNING) {
		snprintf(buf, len, "running");
		return;
	}
	if (r->state == TRACK_TS_JOIN) {
		int32_t tid = track_join_target(&d->snap, r);
		if (tid != 0)
			snprintf(buf, len, "joining thread %d \"%.*s\" for %s", tid, TRACK_NAME_MAX,
				 track_stackdump_name(d, tid), dur);
		else
			snprintf(buf, len, "joining thread 0x%llx (not known) for %s",
				 (unsigned long long)r->wait_obj, dur);
		return;
	}
	holder_words(t, holder, sizeof holder);
	if (t->waiters > 1)
		snprintf(waiters, sizeof waiters, " (%u waiters)", t->waiters);
	snprintf(buf, len, "%s %s for %s (first used at %s)%s%s", track_state_verb(r->state),
		 track_obj_label(&d->snap, d->view.sym, r->wait_obj, TRACK_OBJ_NONE, name,
				 sizeof name),
		 dur,
		 t->wait_first_pc ? track_fmt_site(&d->snap, d->view.sym, t->wait_first_pc, 0,
						   where, sizeof where)
				  : "?",
		 holder, waiters);
}

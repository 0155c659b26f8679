/*
 * threads.c — the thread registry and the thread-lifecycle wrappers: pthread_create (through
 * a trampoline that registers the new thread and notices how it ends), the join family,
 * pthread_detach, pthread_exit, pthread_setname_np, and what fork does to all of it.
 *
 * A thread writes only its own record; the few facts another thread learns (joined,
 * detached, a name set from outside) are set with atomic operations on separate fields.
 * Threads the shim did not create (the main thread, threads glibc starts internally, threads
 * started before the shim was up) are registered on their first intercepted call, and a
 * thread-specific-data destructor notices their end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

/* What the trampoline needs, kept out of the segment: it is private to this process. */
struct thread_priv {
	void *(*fn)(void *);
	void *arg;
};

/* pthread_t -> slot, for joinable threads not yet joined or detached. */
struct tmap_ent {
	uint64_t key;     /* pthread_t; 0 empty, 1 deleted */
	uint32_t slot;
	uint32_t pad;
	uint64_t gen;
};
#define TMAP_DELETED 1u

/* tid -> slot, for following wait-for chains (deadlock.c): live threads only. */
struct tidmap_ent {
	int32_t tid;      /* 0 empty, -1 deleted */
	uint32_t slot;
};

static void tmap_put(pthread_t th, uint32_t slot);

static struct thread_priv *priv;
static struct tmap_ent *tmap;
static struct tidmap_ent *tidmap;
static uint32_t tmap_mask;
static uint32_t reuse_hand;
static pthread_key_t exit_key;
static int exit_key_ok;

static int32_t sys_gettid(void)
{
	return (int32_t)syscall(SYS_gettid);
}

/* --- tid map ------------------------------------------------------------------------------ */

static uint32_t tid_hash(int32_t tid)
{
	return ((uint32_t)tid * 2654435761u) & tmap_mask;
}

/* Under the shim lock. */
static void tidmap_put(int32_t tid, uint32_t slot)
{
	uint32_t i = tid_hash(tid), n;
	struct tidmap_ent *free_ent = NULL;
	for (n = 0; n <= tmap_mask; n++, i = (i + 1) & tmap_mask) {
		struct tidmap_ent *e = &tidmap[i];
		int32_t k = __atomic_load_n(&e->tid, __ATOMIC_RELAXED);
		if (k == tid) {
			free_ent = e;
			break;
		}
		if (k == -1 && free_ent == NULL)
			free_ent = e;
		if (k == 0) {
			if (free_ent == NULL)
				free_ent = e;
			break;
		}
	}
	if (free_ent == NULL)
		return;
	__atomic_store_n(&free_ent->slot, slot, __ATOMIC_RELAXED);
	__atomic_store_n(&free_ent->tid, tid, __ATOMIC_RELEASE);
}

/* Under the shim lock. */
static void tidmap_del(int32_t tid)
{
	uint32_t i = tid_hash(tid), n;
	for (n = 0; n <= tmap_mask; n++, i = (i + 1) & tmap_mask) {
		int32_t k = __atomic_load_n(&tidmap[i].tid, __ATOMIC_RELAXED);
		if (k == tid) {
			__atomic_store_n(&tidmap[i].tid, -1, __ATOMIC_RELEASE);
			return;
		}
		if (k == 0)
			return;
	}
}

/* The record of live thread tid, or NULL.  Lock-free: the record's own tid is checked. */
struct track_thread_rec *track_thread_by_tid(int32_t tid)
{
	uint32_t i, n;
	if (tidmap == NULL || tid <= 0)
		return NULL;
	for (i = tid_hash(tid), n = 0; n <= tmap_mask; n++, i = (i + 1) & tmap_mask) {
		int32_t k = __atomic_load_n(&tidmap[i].tid, __ATOMIC_ACQUIRE);
		if (k == tid) {
			struct track_thread_rec *r =
				&track_g.threads[__atomic_load_n(&tidmap[i].slot, __ATOMIC_RELAXED)];
			return TRACK_LOAD(&r->tid) == tid ? r : NULL;
		}
		if (k == 0)
			return NULL;
	}
	return NULL;
}

/* --- thread state, written by the thread itself ------------------------------------------- */

static inline void seq_begin(struct track_thread_rec *thr)
{
	TRACK_STORE(&thr->seq, thr->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void seq_end(struct track_thread_rec *thr)
{
	__atomic_store_n(&thr->seq, thr->seq + 1, __ATOMIC_RELEASE);
}

void track_thread_set_state(struct track_tls *t, uint32_t state, uint64_t obj, uint32_t obj_idx,
			    int32_t wait_tid, uint32_t stack, uint32_t wflags)
{
	struct track_thread_rec *thr = t->thr;
	seq_begin(thr);
	TRACK_STORE(&thr->state, state);
	TRACK_STORE(&thr->since_ns, track_now_ns());
	TRACK_STORE(&thr->wait_obj, obj);
	TRACK_STORE(&thr->wait_obj_idx, obj_idx);
	TRACK_STORE(&thr->wait_tid, wait_tid);
	TRACK_STORE(&thr->wait_stack, stack);
	TRACK_STORE(&thr->wait_flags, wflags);
	seq_end(thr);
}

void track_thread_running(struct track_tls *t, uint64_t waited_ns)
{
	struct track_thread_rec *thr = t->thr;
	seq_begin(thr);
	TRACK_STORE(&thr->state, TRACK_TS_RUNNING);
	TRACK_STORE(&thr->since_ns, track_now_ns());
	TRACK_STORE(&thr->wait_obj, 0);
	TRACK_STORE(&thr->wait_obj_idx, 0);
	TRACK_STORE(&thr->wait_tid, 0);
	TRACK_STORE(&thr->wait_stack, 0);
	TRACK_STORE(&thr->wait_ns, thr->wait_ns + waited_ns);
	seq_end(thr);
}

/* --- slots ------------------------------------------------------------------------------- */

static void bump_alive(void)
{
	struct track_seg_header *h = track_g.hdr;
	uint64_t alive = TRACK_ADD(&h->threads_alive, 1);
	uint64_t peak = TRACK_LOAD(&h->threads_peak);
	while (alive > peak &&
	       !__atomic_compare_exchange_n(&h->threads_peak, &peak, alive, 1, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

/* A fresh slot, or the oldest-seen exited one when the table is full; -1 if none.
 * Under the shim lock. */
static int64_t slot_alloc(void)
{
	struct track_seg_header *h = track_g.hdr;
	uint32_t cap = h->max_threads, n;
	if (h->threads_used < cap)
		return (int64_t)TRACK_ADD(&h->threads_used, 1) - 1;
	for (n = 0; n < cap; n++) {
		uint32_t i = reuse_hand;
		reuse_hand = (reuse_hand + 1) % cap;
		if (TRACK_LOAD(&track_g.threads[i].state) == TRACK_TS_EXITED) {
			TRACK_ADD(&h->threads_recycled, 1);
			return i;
		}
	}
	TRACK_ADD(&h->threads_dropped, 1);
	return -1;
}

/* Claim and clear a slot; the caller fills it.  Returns NULL when the table is full. */
static struct track_thread_rec *slot_claim(uint32_t *slot_out)
{
	struct track_thread_rec *thr;
	int64_t s;
	track_ilock();
	s = slot_alloc();
	if (s >= 0) {
		thr = &track_g.threads[s];
		/* Mark it taken before dropping the lock so nobody else recycles it. */
		TRACK_STORE(&thr->state, TRACK_TS_RUNNING);
	}
	track_iunlock();
	if (s < 0)
		return NULL;
	seq_begin(thr);
	{
		/* a new generation: maps that name the old occupant must see it has changed */
		uint64_t gen = thr->gen;
		memset((char *)thr + offsetof(struct track_thread_rec, tid), 0,
		       sizeof *thr - offsetof(struct track_thread_rec, tid));
		TRACK_STORE(&thr->gen, gen + 1);
	}
	TRACK_STORE(&thr->state, TRACK_TS_RUNNING);
	seq_end(thr);
	*slot_out = (uint32_t)s;
	return thr;
}

/* Bind the calling thread to its record. */
static void bind_self(struct track_tls *t, struct track_thread_rec *thr, uint32_t slot)
{
	t->tid = sys_gettid();
	t->slot = slot;
	t->gone = 0;
	seq_begin(thr);
	TRACK_STORE(&thr->tid, t->tid);
	TRACK_STORE(&thr->pthread_self, (uint64_t)pthread_self());
	prctl(PR_GET_NAME, thr->name, 0, 0, 0);
	if (thr->created_ns == 0)
		TRACK_STORE(&thr->created_ns, track_now_ns());
	TRACK_STORE(&thr->since_ns, track_now_ns());
	seq_end(thr);
	track_ilock();
	tidmap_put(t->tid, slot);
	track_iunlock();
	t->thr = thr;
}

/* Close the calling thread's record: it is ending. */
static void close_self(struct track_tls *t, uint32_t why)
{
	struct track_thread_rec *thr = t->thr;
	if (thr == NULL)
		return;
	if (thr->nheld > 0) {
		/* Located where the first listed lock it still holds was taken. */
		uint32_t i, n = thr->nheld < TRACK_HELD_MAX ? thr->nheld : TRACK_HELD_MAX;
		for (i = 0; i < n && thr->held[i] == 0; i++)
			;
		const struct track_obj_rec *r =
			i < n ? &track_g.objs[(thr->held[i] & ~TRACK_HELD_READ) - 1] : NULL;
		track_finding(TRACK_FK_EXIT_HOLDING_LOCK, r ? (void *)(uintptr_t)r->addr : NULL,
			      r ? r->kind : 0, i < n ? thr->held_pc[i] : 0, 0,
			      "thread %d ended holding %u lock(s)", t->tid, thr->nheld);
	}
	__atomic_or_fetch(&thr->flags, why, __ATOMIC_RELAXED);
	seq_begin(thr);
	TRACK_STORE(&thr->exited_ns, track_now_ns());
	TRACK_STORE(&thr->state, TRACK_TS_EXITED);
	seq_end(thr);
	TRACK_SUB(&track_g.hdr->threads_alive, 1);
	TRACK_ADD(&track_g.hdr->threads_exited, 1);
	track_ilock();
	tidmap_del(t->tid);
	track_iunlock();
	t->thr = NULL;
	t->gone = 1;
}

static void foreign_exit(void *arg)
{
	struct track_tls *t = &track_tls;
	(void)arg;
	if (t->thr != NULL && track_g.on)
		close_self(t, 0);
}

static struct track_tls *register_self(uint32_t flags)
{
	struct track_tls *t = &track_tls;
	struct track_thread_rec *thr;
	uint32_t slot;
	t->busy++;   /* a signal handler running meanwhile must not register us twice */
	thr = slot_claim(&slot);
	if (thr == NULL) {
		t->gone = 1;   /* table full of live threads: leave this one untracked */
		t->busy--;
		return NULL;
	}
	__atomic_or_fetch(&thr->flags, flags, __ATOMIC_RELAXED);
	bind_self(t, thr, slot);
	bump_alive();
	/* The main thread and foreign threads can be joined too: know their pthread_t. */
	tmap_put(pthread_self(), slot);
	if (flags & TRACK_TF_FOREIGN) {
		TRACK_ADD(&track_g.hdr->threads_foreign, 1);
		if (exit_key_ok)
			pthread_setspecific(exit_key, (void *)1);
	}
	t->busy--;
	return t;
}

struct track_tls *track_self_slow(void)
{
	struct track_tls *t = &track_tls;
	int saved = errno;
	if (!__atomic_load_n(&track_g.on, __ATOMIC_ACQUIRE) || t->gone || t->busy)
		return NULL;
	t = register_self(TRACK_TF_FOREIGN);
	errno = saved;
	return t;
}

/* --- pthread_t map -------------------------------------------------------------------------- */

static struct tmap_ent *tmap_find(pthread_t th, int for_insert)
{
	uint64_t k = (uint64_t)th;
	uint32_t i = (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 32) & tmap_mask;
	struct tmap_ent *del = NULL;
	uint32_t n;
	for (n = 0; n <= tmap_mask; n++, i = (i + 1) & tmap_mask) {
		struct tmap_ent *e = &tmap[i];
		if (e->key == k)
			return e;
		if (e->key == 0)
			return for_insert ? (del ? del : e) : NULL;
		if (e->key == TMAP_DELETED && del == NULL)
			del = e;
	}
	return for_insert ? del : NULL;
}

static void tmap_put(pthread_t th, uint32_t slot)
{
	struct tmap_ent *e;
	track_ilock();
	e = tmap_find(th, 1);
	if (e != NULL) {
		e->key = (uint64_t)th;
		e->slot = slot;
		e->gen = track_g.threads[slot].gen;
	}
	track_iunlock();
}

/* The record of joinable thread th, removing it from the map if take; NULL if unknown. */
static struct track_thread_rec *tmap_get(pthread_t th, int take)
{
	struct track_thread_rec *thr = NULL;
	struct tmap_ent *e;
	track_ilock();
	e = tmap_find(th, 0);
	if (e != NULL) {
		if (TRACK_LOAD(&track_g.threads[e->slot].gen) == e->gen)
			thr = &track_g.threads[e->slot];
		if (take || thr == NULL)
			e->key = TMAP_DELETED;
	}
	track_iunlock();
	return thr;
}

/* The tid of joinable thread th, 0 if unknown or not started yet. */
int32_t track_tid_of_pthread(uint64_t th)
{
	struct track_thread_rec *r = tmap_get((pthread_t)th, 0);
	return r != NULL ? TRACK_LOAD(&r->tid) : 0;
}

/* --- creation ------------------------------------------------------------------------------- */

struct trampoline_exit {
	struct track_tls *t;
	int returned;
};

/* Runs when the thread function returns, and during the forced unwind of pthread_exit or
 * cancellation (the shim is built with -fexceptions, so cleanups run on that unwind). */
static void trampoline_cleanup(struct trampoline_exit *x)
{
	struct track_tls *t = x->t;
	uint32_t why = 0;
	if (t->thr == NULL || !track_g.on)
		return;
	if (!x->returned && !(t->thr->flags & TRACK_TF_EXPLICIT))
		why = TRACK_TF_CANCELLED;
	close_self(t, why);
}

static void *trampoline(void *arg)
{
	uint32_t slot = (uint32_t)(uintptr_t)arg;
	struct thread_priv p = priv[slot];
	struct trampoline_exit x __attribute__((cleanup(trampoline_cleanup))) = {&track_tls, 0};
	void *ret;
	track_tls.busy++;   /* until bound, a signal handler must not register us as foreign */
	bind_self(&track_tls, &track_g.threads[slot], slot);
	track_tls.busy--;
	ret = p.fn(p.arg);
	x.returned = 1;
	return ret;
}

TRACK_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
				void *(*fn)(void *), void *arg)
{
	struct track_tls *t;
	struct track_thread_rec *thr;
	uint32_t slot;
	int detached = PTHREAD_CREATE_JOINABLE;
	int rc;
	track_resolve();
	if (!track_g.on || (t = track_self()) == NULL || t->busy ||
	    (thr = slot_claim(&slot)) == NULL)
		return track_real.create(th, attr, fn, arg);
	if (attr != NULL)
		pthread_attr_getdetachstate(attr, &detached);
	thr->creator_tid = t->tid;
	thr->start_routine = (uint64_t)(uintptr_t)fn;
	thr->create_pc = TRACK_RA();
	thr->created_ns = track_now_ns();
	thr->flags = detached == PTHREAD_CREATE_DETACHED ? TRACK_TF_DETACHED : 0;
	thr->create_stack = track_stack_capture(t);
	priv[slot].fn = fn;
	priv[slot].arg = arg;
	bump_alive();
	t->busy++;
	track_modules_note_pc(thr->create_pc);
	t->busy--;
	rc = track_real.create(th, attr, trampoline, (void *)(uintptr_t)slot);
	if (rc != 0) {
		TRACK_SUB(&track_g.hdr->threads_alive, 1);
		TRACK_STORE(&thr->state, TRACK_TS_EXITED);
		TRACK_STORE(&thr->exited_ns, thr->created_ns);
		return rc;
	}
	TRACK_ADD(&track_g.hdr->threads_created, 1);
	if (detached == PTHREAD_CREATE_DETACHED)
		TRACK_ADD(&track_g.hdr->threads_detached, 1);
	else
		tmap_put(*th, slot);
	return rc;
}

/* --- joining -------------------------------------------------------------------------------- */

typedef int (*join_fn)(pthread_t th, void **ret, clockid_t clk, const struct timespec *abs);

struct join_wait {
	struct track_tls *t;
	uint64_t t0;
};

static void join_wait_end(struct join_wait *w)
{
	if (w->t != NULL && w->t->thr != NULL)
		track_thread_running(w->t, track_now_ns() - w->t0);
}

/* The work every join variant shares: state, bookkeeping of the reaped thread, misuse. */
static int join_common(pthread_t th, void **ret, clockid_t clk, const struct timespec *abs,
		       join_fn call, int blocks, uint64_t pc)
{
	struct track_tls *t = track_g.on ? track_self() : NULL;
	struct track_thread_rec *target;
	int rc;
	/* Joining oneself fails at once (EDEADLK): no wait, and no deadlock to find. */
	if (t == NULL || pthread_equal(th, pthread_self()))
		return call(th, ret, clk, abs);
	target = tmap_get(th, 0);
	{
		struct join_wait w __attribute__((cleanup(join_wait_end))) = {NULL, 0};
		if (blocks) {
			track_thread_set_state(t, TRACK_TS_JOIN, (uint64_t)th, 0,
					       target ? TRACK_LOAD(&target->tid) : 0,
					       track_stack_capture(t), abs ? TRACK_WF_TIMED : 0);
			track_deadlock_check(t);
			w.t = t;
			w.t0 = track_now_ns();
		}
		rc = call(th, ret, clk, abs);
	}
	if (rc == 0) {
		target = tmap_get(th, 1);
		if (target != NULL)
			__atomic_or_fetch(&target->flags, TRACK_TF_JOINED, __ATOMIC_RELAXED);
		TRACK_ADD(&track_g.hdr->threads_joined, 1);
	} else if (rc == EINVAL || rc == ESRCH) {
		track_finding(TRACK_FK_JOIN_INVALID, (void *)th, 0, pc, 0,
			      "pthread_join on a thread that is not joinable (%s)",
			      rc == EINVAL ? "detached or already joined" : "no such thread");
	}
	return rc;
}

static int call_join(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	(void)c, (void)a;
	return track_real.join(th, ret);
}

static int call_tryjoin(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	(void)c, (void)a;
	return track_real.tryjoin_np(th, ret);
}

static int call_timedjoin(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	(void)c;
	return track_real.timedjoin_np(th, ret, a);
}

static int call_clockjoin(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	return track_real.clockjoin_np(th, ret, c, a);
}

TRACK_EXPORT int pthread_join(pthread_t th, void **ret)
{
	track_resolve();
	return join_common(th, ret, 0, NULL, call_join, 1, TRACK_RA());
}

TRACK_EXPORT int pthread_tryjoin_np(pthread_t th, void **ret)
{
	track_resolve();
	return join_common(th, ret, 0, NULL, call_tryjoin, 0, TRACK_RA());
}

TRACK_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abs)
{
	track_resolve();
	return join_common(th, ret, 0, abs, call_timedjoin, 1, TRACK_RA());
}

TRACK_EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk,
				      const struct timespec *abs)
{
	track_resolve();
	return join_common(th, ret, clk, abs, call_clockjoin, 1, TRACK_RA());
}

TRACK_EXPORT int pthread_detach(pthread_t th)
{
	struct track_thread_rec *target;
	int rc;
	track_resolve();
	rc = track_real.detach(th);
	if (rc != 0 || !track_g.on || track_tls.busy)
		return rc;
	target = tmap_get(th, 1);
	if (target != NULL)
		__atomic_or_fetch(&target->flags, TRACK_TF_DETACHED, __ATOMIC_RELAXED);
	TRACK_ADD(&track_g.hdr->threads_detached, 1);
	return rc;
}

TRACK_EXPORT void pthread_exit(void *ret)
{
	struct track_tls *t = &track_tls;
	track_resolve();
	if (track_g.on && t->thr != NULL) {
		__atomic_or_fetch(&t->thr->flags, TRACK_TF_EXPLICIT, __ATOMIC_RELAXED);
		/* Threads the trampoline did not start have no cleanup frame to notice the end. */
		if (t->thr->start_routine == 0)
			close_self(t, 0);
	}
	track_real.exit(ret);
}

TRACK_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
	struct track_thread_rec *thr = NULL;
	int rc;
	track_resolve();
	rc = track_real.setname_np(th, name);
	if (rc != 0 || !track_g.on || track_tls.busy)
		return rc;
	if (pthread_equal(th, pthread_self()))
		thr = track_tls.thr;
	else
		thr = tmap_get(th, 0);
	if (thr != NULL) {
		char buf[TRACK_NAME_MAX];
		snprintf(buf, sizeof buf, "%s", name);
		memcpy(thr->name, buf, sizeof buf);
	}
	return rc;
}

/* --- start-up and fork -------------------------------------------------------------------- */

void *track_map_private(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int alloc_private(void)
{
	uint32_t cap = track_g.hdr->max_threads, n = 1;
	while (n < 2 * cap)
		n <<= 1;
	priv = track_map_private((size_t)cap * sizeof *priv);
	tmap = track_map_private((size_t)n * sizeof *tmap);
	tidmap = track_map_private((size_t)n * sizeof *tidmap);
	tmap_mask = n - 1;
	return priv != NULL && tmap != NULL && tidmap != NULL ? 0 : -1;
}

void track_threads_init(void)
{
	if (alloc_private() != 0)
		return;
	exit_key_ok = pthread_key_create(&exit_key, foreign_exit) == 0;
	register_self(TRACK_TF_MAIN);
}

void track_threads_after_fork(void)
{
	struct track_tls *t = &track_tls;
	struct track_seg_header *old = track_g.hdr;
	uint32_t held[TRACK_HELD_MAX], kinds[TRACK_HELD_MAX], nheld = 0, i;
	uint64_t addrs[TRACK_HELD_MAX];
	int32_t parent_tid = t->tid;

	track_ilock_reset();
	if (t->thr != NULL) {
		nheld = t->thr->nheld < TRACK_HELD_MAX ? t->thr->nheld : TRACK_HELD_MAX;
		memcpy(held, t->thr->held, nheld * sizeof held[0]);
		for (i = 0; i < nheld; i++) {
			struct track_obj_rec *r = held[i] ? &track_g.objs[(held[i] & ~TRACK_HELD_READ) - 1]
							  : NULL;
			addrs[i] = r ? r->addr : 0;
			kinds[i] = r ? r->kind : 0;
		}
	}
	memset(t, 0, sizeof *t);
	track_objects_reset();
	__atomic_store_n(&track_g.on, 0, __ATOMIC_RELAXED);
	munmap(priv, (size_t)old->max_threads * sizeof *priv);
	munmap(tmap, (size_t)(tmap_mask + 1) * sizeof *tmap);
	munmap(tidmap, (size_t)(tmap_mask + 1) * sizeof *tidmap);
	track_order_reset();
	if (track_segment_create() != 0 || alloc_private() != 0) {
		munmap(old, old->total_size);
		return;
	}
	track_modules_copy(old);
	munmap(old, old->total_size);
	if (register_self(TRACK_TF_MAIN) == NULL)
		return;
	t->thr->creator_tid = parent_tid;
	__atomic_store_n(&track_g.on, 1, __ATOMIC_RELEASE);
	/* Locks held across fork stay held in the child. */
	for (i = 0; i < nheld; i++) {
		struct track_obj_rec *r =
			addrs[i] ? track_obj(t, (void *)(uintptr_t)addrs[i], kinds[i], 0, 1) : NULL;
		if (r == NULL)
			continue;
		if (held[i] & TRACK_HELD_READ)
			TRACK_ADD(&r->readers, 1);
		else
			TRACK_STORE(&r->owner_tid, t->tid);
		track_held_push(t, r, held[i] & TRACK_HELD_READ, 0);
	}
}

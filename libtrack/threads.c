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
 *
 * Memory per thread is bounded: a record in the segment, and private state (struct
 * track__thread) taken from a pool and given back when the thread ends.  Records of ended
 * threads are kept for the report, but once more than recycle_after records are in use those
 * of threads that ended and were joined or detached are reused, oldest first, so that a
 * program starting threads by the million keeps a bounded segment.  A reused record's
 * thread is added to its pool's tally first (slot_claim), so reports still count it.
 *
 * A signal can reach a new thread before the trampoline runs (glibc unblocks signals just
 * before calling it), and a handler's wrapped call then registers the thread as a foreign
 * one.  The trampoline takes such a registration over: the record made for the thread by
 * pthread_create is the one kept, the other is given back without a trace.  (Blocking
 * signals around the creation instead deadlocks: glibc's set*id broadcast and
 * stop-the-world collectors both need the creator to take a signal while it waits for
 * glibc's stack-cache lock.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"


extern void *__libc_stack_end;

/* What the trampoline needs, kept out of the segment: it is private to this process. */
struct thread_priv {
	void *(*fn)(void *);
	void *arg;
	uint64_t stack_size;  /* its stack's size, as far as the attributes tell */
	uint32_t reclaim_next; /* in the reclaim queue: the slot after it + 1 (0: the last) */
	uint32_t queued;       /* in the reclaim queue */
};

/* pthread_t -> slot, for joinable threads not yet joined or detached. */
struct tmap_ent {
	uint64_t key;     /* pthread_t; 0 empty, 1 deleted */
	uint32_t slot;
	uint32_t pad;
	uint64_t gen;
};
#define TMAP_DELETED 1u


static void tmap_put(pthread_t th, uint32_t slot);

static struct thread_priv *priv;
static struct tmap_ent *tmap;
static uint32_t tmap_mask;

/* tid -> slot + 1, for following wait-for chains (deadlock.c): live threads only.  Thread
 * ids are small integers (below kernel.pid_max), so a plain array: one store to add, one
 * to remove, no probing, and pages touched only as far as the ids used reach. */
static uint32_t *tidmap;
static uint32_t tidmap_len;
/* Entries in use on each page of the tid map.  The kernel hands out ids in rising order, so a
 * thread storm sweeps the map: a page whose last entry goes is given back (else a storm of
 * 30,000 threads leaves 120 KB of it resident), unless new ids still come from it: there
 * short-lived threads would empty it again and again. */
#define TIDMAP_PAGE_IDS 1024u   /* uint32_t entries per 4 KB page */
static uint16_t *tidmap_live;
static uint32_t tidmap_newest;  /* the page of the last id put */
static uint32_t reuse_hand;
/* Records in use before those of reaped threads are reused (TRACK_THREAD_RECORDS): few, as a
 * reused record's thread stays counted in the totals and its pool's tally, and each record
 * kept is 384 bytes of the traced process's memory. */
static uint32_t recycle_after;
static pthread_key_t exit_key;
static int exit_key_ok;

/* The thread tables' own lock (slots, the private state pool, the tid and pthread_t maps,
 * the reuse queue): made and ended threads contend for it, and not with the object and
 * lock-order bookkeeping under the shim lock, which a program's critical sections pay for.
 * Nothing under it takes another shim lock; it may be taken under the shim lock. */
static int tlock;

static void tlock_take(void)
{
	track__spin_take(&tlock);
}

static void tlock_drop(void)
{
	track__spin_drop(&tlock);
}

/* Private per-thread state: a pool of max_threads blocks, handed out fresh or from the free
 * list (under the thread lock). */
static struct track__thread *pool;
static uint32_t pool_used, pool_free;

/* Slots of reaped threads (ended and joined, or detached), oldest first, for reuse: a queue
 * linked through their private blocks, which only slots in use touch (a ring of max_threads
 * entries would have its every page made resident by a long thread storm). */
static uint32_t reclaim_head, reclaim_tail;   /* slot + 1; 0: empty */

/* The size of a stack nobody chose (the main thread's, a thread made without attributes):
 * RLIMIT_STACK, which the main stack grows up to and glibc's default follows (at least
 * 8 MiB here; the unwinder's own limit, 1 GiB, when unlimited).  It bounds where the
 * unwinder believes the thread's stack to be. */
static uint64_t default_stack;

static void find_default_stack(void)
{
	struct rlimit rl;
	default_stack = 1ull << 30;
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		default_stack = rl.rlim_cur > (8ull << 20) ? rl.rlim_cur : 8ull << 20;
}

static int32_t sys_gettid(void)
{
	return (int32_t)syscall(SYS_gettid);
}

/* --- tid map ------------------------------------------------------------------------------ */

/* Under the thread lock (a put into a page cannot race its release).  A look-up meanwhile
 * reads 0 from a released page, as it would from the entry. */
static void tidmap_release(uint32_t page)
{
	madvise(&tidmap[page * TIDMAP_PAGE_IDS], TIDMAP_PAGE_IDS * sizeof *tidmap, MADV_DONTNEED);
}

/* Under the thread lock. */
static void tidmap_put(int32_t tid, uint32_t slot)
{
	uint32_t page = (uint32_t)tid / TIDMAP_PAGE_IDS, was = tidmap_newest;
	if (tid <= 0 || (uint32_t)tid >= tidmap_len)
		return;
	tidmap_newest = page;
	if (was != page && tidmap_live[was] == 0)   /* emptied while ids still came from it */
		tidmap_release(was);
	if (tidmap[tid] == 0)
		tidmap_live[page]++;
	__atomic_store_n(&tidmap[tid], slot + 1, __ATOMIC_RELEASE);
}

/* Under the thread lock. */
static void tidmap_del(int32_t tid, uint32_t slot)
{
	uint32_t page = (uint32_t)tid / TIDMAP_PAGE_IDS;
	if (tid <= 0 || (uint32_t)tid >= tidmap_len || tidmap[tid] != slot + 1)
		return;
	__atomic_store_n(&tidmap[tid], 0, __ATOMIC_RELEASE);
	if (--tidmap_live[page] == 0 && page != tidmap_newest)
		tidmap_release(page);
}

/* The record of live thread tid, or NULL.  Lock-free: the record's own tid is checked. */
struct track_thread_rec *track__thread_by_tid(int32_t tid)
{
	struct track_thread_rec *r;
	uint32_t v;
	if (tidmap == NULL || tid <= 0 || (uint32_t)tid >= tidmap_len)
		return NULL;
	v = __atomic_load_n(&tidmap[tid], __ATOMIC_ACQUIRE);
	if (v == 0 || v > track__g.hdr->max_threads)
		return NULL;
	r = &track__g.threads[v - 1];
	return TRACK_LOAD(&r->tid) == tid ? r : NULL;
}

/* kernel.pid_max: thread ids are below it. */
static uint32_t pid_max(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/pid_max", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	unsigned long v;
	if (fd >= 0)
		close(fd);
	v = n > 0 ? strtoul(buf, NULL, 10) : 0;
	return v >= 301 && v <= (1u << 22) ? (uint32_t)v : 1u << 22;
}

/* --- thread state, written by the thread itself ------------------------------------------- */

/* A change to the record's wait state or identity: the counter is odd meanwhile, so readers
 * retry.  Only this thread writes it; a signal handler's change nested inside another
 * (found the counter odd already) leaves the counter to the outer one, which ends odd-free
 * only when both are done.  Returns whether this one made it odd. */
static inline int seq_begin(struct track_thread_rec *thr)
{
	uint32_t s = thr->seq;
	if (TRACK_SEQ_WRITING(s))
		return 0;
	TRACK_STORE(&thr->seq, s + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return 1;
}

static inline void seq_end(struct track_thread_rec *thr, int began)
{
	/* the outer change made the counter odd, and nothing made it even meanwhile */
	TRACK_ASSERT(!began || TRACK_SEQ_WRITING(thr->seq));
	if (began)
		__atomic_store_n(&thr->seq, thr->seq + 1, __ATOMIC_RELEASE);
}

void track__thread_set_state(struct track__thread *t, uint32_t state, uint64_t obj,
			    uint32_t obj_idx, int32_t wait_tid, uint32_t stack, uint32_t wflags)
{
	struct track_thread_rec *thr = t->thr;
	int w;
	/* only the thread itself writes its wait state, into its own record */
	TRACK_ASSERT(t == track__tls.self && thr == &track__g.threads[t->slot]);
	w = seq_begin(thr);
	TRACK_STORE(&thr->state, state);
	TRACK_STORE(&thr->since_ns, track__now_ns());
	TRACK_STORE(&thr->wait_obj, obj);
	TRACK_STORE(&thr->wait_obj_idx, obj_idx);
	TRACK_STORE(&thr->wait_tid, wait_tid);
	TRACK_STORE(&thr->wait_stack, stack);
	TRACK_STORE(&thr->wait_flags, wflags);
	seq_end(thr, w);
}

void track__thread_running(struct track__thread *t, uint64_t waited_ns)
{
	struct track_thread_rec *thr = t->thr;
	int w;
	TRACK_ASSERT(t == track__tls.self && thr == &track__g.threads[t->slot]);
	w = seq_begin(thr);
	TRACK_STORE(&thr->state, TRACK_TS_RUNNING);
	TRACK_STORE(&thr->since_ns, track__now_ns());
	TRACK_STORE(&thr->wait_obj, 0);
	TRACK_STORE(&thr->wait_obj_idx, 0);
	TRACK_STORE(&thr->wait_tid, 0);
	TRACK_STORE(&thr->wait_stack, 0);
	TRACK_STORE(&thr->wait_flags, 0);
	TRACK_STORE(&thr->wait_ns, thr->wait_ns + waited_ns);
	seq_end(thr, w);
}

/*
 * The thread's record shows a wait, yet the thread is taking locks or starting another wait.
 * Either a signal handler interrupted the wait and is making calls of its own (the wait goes
 * on afterwards), or the thread left the wait without returning from it, by a longjmp out of
 * a handler.  In the second case the wait is over: close it, or it would stand for ever in
 * the wait-for graph and make deadlocks out of nothing.  The two differ in whether a signal
 * frame lies between this call and the wait's frame (an alternate signal stack, where the
 * unwinder does not go, is asked of the kernel).  When it cannot tell, the wait stays.
 * A rare path: never the hot one.
 */
void track__wait_stale(struct track__thread *t)
{
	struct track_thread_rec *thr = t->thr;
	uint32_t state = TRACK_LOAD(&thr->state), idx = TRACK_LOAD(&thr->wait_obj_idx);
	stack_t ss;
	if (state == TRACK_TS_RUNNING || state == TRACK_TS_EXITED || t->wait_sp == 0)
		return;
	if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK))
		return;
	if (track__unwind_in_handler(t->stack_lo, t->stack_hi, t->wait_sp) != 0)
		return;
	if (idx >= 1 && idx <= track__g.hdr->max_objects &&
	    TRACK_LOAD(&track__g.objs[idx - 1].gen) == t->wait_gen)
		TRACK_SUB(&track__g.objs[idx - 1].waiters, 1);
	track__thread_running(t, track__now_ns() - TRACK_LOAD(&thr->since_ns));
	t->wait_sp = 0;
	TRACK_ADD(&track__g.hdr->stale_waits, 1);
}

/* --- slots and private state --------------------------------------------------------------- */

/* One more thread alive.  If that raised the peak, *from and *to say from what to what
 * (else *to is 0), for a registration that turns out not to be one (threads.c,
 * forget_early_registration). */
static void bump_alive(uint64_t *from, uint64_t *to)
{
	struct track_seg_header *h = track__g.hdr;
	uint64_t alive = TRACK_ADD(&h->threads_alive, 1);
	uint64_t peak = TRACK_LOAD(&h->threads_peak);
	*to = 0;
	while (alive > peak) {
		if (__atomic_compare_exchange_n(&h->threads_peak, &peak, alive, 1, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			*from = peak;
			*to = alive;
			return;
		}
	}
}

/* Under the thread lock: the record of a thread that ended and was joined or detached may be
 * reused (once recycle_after records are in use), or one never used at all. */
static void reclaim_push(uint32_t slot)
{
	struct thread_priv *p = &priv[slot];
	if (p->queued)
		return;
	p->queued = 1;
	p->reclaim_next = 0;
	if (reclaim_tail != 0)
		priv[reclaim_tail - 1].reclaim_next = slot + 1;
	else
		reclaim_head = slot + 1;
	reclaim_tail = slot + 1;
}

/* Under the thread lock: the oldest slot queued for reuse, taken off the queue; -1 if none. */
static int64_t reclaim_pop(void)
{
	uint32_t slot;
	if (reclaim_head == 0)
		return -1;
	slot = reclaim_head - 1;
	reclaim_head = priv[slot].reclaim_next;
	if (reclaim_head == 0)
		reclaim_tail = 0;
	priv[slot].queued = 0;
	return slot;
}

/* The next fresh slot, its page populated first (readers go up to threads_used); -1 if the
 * file system has no room for it. */
static int64_t slot_fresh(struct track_seg_header *h)
{
	uint64_t s = h->threads_used;
	if (track__seg_reserve(&track__g.threads[s], sizeof track__g.threads[s]) != 0)
		return -1;
	TRACK_STORE(&h->threads_used, s + 1);
	return (int64_t)s;
}

/* Undo what bump_alive did to the peak, unless something raised it further since. */
static void peak_undo(uint64_t from, uint64_t to)
{
	if (to != 0)
		__atomic_compare_exchange_n(&track__g.hdr->threads_peak, &to, from, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* A fresh slot while few are used, then the oldest reaped one, then any fresh one, then any
 * ended one; -1 if none.  Under the thread lock. */
static int64_t slot_alloc(void)
{
	struct track_seg_header *h = track__g.hdr;
	uint32_t cap = h->max_threads, n;
	int64_t s;
	uint64_t used = h->threads_used;
	if (used < cap && (used < recycle_after || reclaim_head == 0) && (s = slot_fresh(h)) >= 0)
		return s;
	while ((s = reclaim_pop()) >= 0) {
		uint32_t state = TRACK_LOAD(&track__g.threads[s].state);
		if (state == TRACK_TS_EXITED || state == TRACK_TS_UNUSED) {
			TRACK_ADD(&h->threads_recycled, state == TRACK_TS_EXITED);
			return s;
		}
	}
	if (used < cap && (s = slot_fresh(h)) >= 0)
		return s;
	/* Only records in use may be read: the pages past them may never have been populated. */
	for (n = 0; n < used; n++) {
		uint32_t i = reuse_hand;
		reuse_hand = (reuse_hand + 1) % (uint32_t)used;
		if (TRACK_LOAD(&track__g.threads[i].state) == TRACK_TS_EXITED) {
			TRACK_ADD(&h->threads_recycled, 1);
			return i;
		}
	}
	return -1;
}

/* Under the thread lock: once a thread has both ended and been reaped (joined or detached),
 * its record may be reused.  Whichever side learns the second fact queues it, once. */
static void maybe_reclaim(struct track_thread_rec *thr, uint32_t slot)
{
	uint32_t flags = TRACK_LOAD(&thr->flags);
	if (TRACK_LOAD(&thr->state) != TRACK_TS_EXITED ||
	    !(flags & (TRACK_TF_DETACHED | TRACK_TF_JOINED)) ||
	    (__atomic_fetch_or(&thr->flags, TRACK_TF_RECLAIMED, __ATOMIC_RELAXED) &
	     TRACK_TF_RECLAIMED))
		return;
	reclaim_push(slot);
}

/* Private state for a thread, zeroed; NULL if the pool is empty.  Under the thread lock. */
static struct track__thread *state_alloc(void)
{
	struct track__thread *t;
	if (pool_free != 0) {
		t = &pool[pool_free - 1];
		pool_free = t->next_free;
	} else if (pool_used < track__g.hdr->max_threads) {
		t = &pool[pool_used++];
	} else {
		return NULL;
	}
	memset(t, 0, sizeof *t);
	return t;
}

/* Under the thread lock. */
static void state_free(struct track__thread *t)
{
	t->next_free = pool_free;
	pool_free = (uint32_t)(t - pool) + 1;
}

/* The tally of the pool (start routine, name pattern) a thread belongs to, added to the
 * table if new; the last entry sums pools that find the table full.  NULL if the file
 * system cannot supply the table's page.  Under the thread lock. */
static struct track_pool_tally *tally_of(uint64_t routine, const char *pattern)
{
	struct track_seg_header *h = track__g.hdr;
	struct track_pool_tally *t = track__g.tallies;
	uint32_t i, n = h->pool_tallies_used;
	for (i = 0; i < n; i++)
		if (t[i].start_routine == routine && strcmp(t[i].pattern, pattern) == 0)
			return &t[i];
	if (n + 1 < h->max_pool_tallies) {
		if (track__seg_reserve(&t[n], sizeof t[n]) != 0)
			return NULL;
		t[n].start_routine = routine;
		memcpy(t[n].pattern, pattern, sizeof t[n].pattern);
		TRACK_STORE(&h->pool_tallies_used, n + 1);
		return &t[n];
	}
	n = h->max_pool_tallies - 1;
	if (h->pool_tallies_used == n && track__seg_reserve(&t[n], sizeof t[n]) != 0)
		return NULL;
	t[n].start_routine = TRACK_POOL_OTHER;
	TRACK_STORE(&h->pool_tallies_used, n + 1);
	return &t[n];
}

/* The ended thread of a record about to be reused, added to its pool's tally: reports still
 * count it (a thread whose creation failed never ran, and is no pool's).  Under the thread
 * lock, inside the pool_seq window (slot_claim). */
static void tally_fold(const struct track_thread_rec *thr)
{
	char pattern[TRACK_NAME_MAX];
	struct track_pool_tally *t;
	uint64_t life, blocked;
	if (thr->tid == 0)
		return;
	track_name_pattern(thr->name, TRACK_NAME_MAX, pattern, sizeof pattern);
	t = tally_of(thr->start_routine, pattern);
	if (t == NULL)
		return;
	track_thread_times(thr, thr->exited_ns, &life, &blocked);
	TRACK_STORE(&t->threads, t->threads + 1);
	TRACK_STORE(&t->life_ns, t->life_ns + life);
	TRACK_STORE(&t->blocked_ns, t->blocked_ns + blocked);
}

/* Claim and clear a slot; the caller fills it.  Returns NULL when the table is full; the
 * caller counts the thread that goes untracked.  A record of an ended thread moves it into
 * its pool's tally as it is cleared, all under the thread lock (so that no other reuse
 * overlaps) and with the header's pool_seq odd (so that readers copy both again). */
static struct track_thread_rec *slot_claim(uint32_t *slot_out)
{
	struct track_seg_header *h = track__g.hdr;
	struct track_thread_rec *thr;
	uint64_t gen;
	int64_t s;
	int w, ended;
	tlock_take();
	s = slot_alloc();
	if (s < 0) {
		tlock_drop();
		return NULL;
	}
	thr = &track__g.threads[s];
	ended = TRACK_LOAD(&thr->state) == TRACK_TS_EXITED;
	if (ended) {
		TRACK_STORE(&h->pool_seq, h->pool_seq + 1);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		tally_fold(thr);
	}
	w = seq_begin(thr);
	/* a new generation: maps that name the old occupant must see it has changed */
	gen = thr->gen;
	memset((char *)thr + offsetof(struct track_thread_rec, tid), 0,
	       sizeof *thr - offsetof(struct track_thread_rec, tid));
	TRACK_STORE(&thr->gen, gen + 1);
	TRACK_STORE(&thr->state, TRACK_TS_RUNNING);
	seq_end(thr, w);
	if (ended)
		__atomic_store_n(&h->pool_seq, h->pool_seq + 1, __ATOMIC_RELEASE);
	tlock_drop();
	*slot_out = (uint32_t)s;
	return thr;
}

/* The bounds of the calling thread's stack, for the unwinder: [lo, hi).  A thread glibc
 * started has its static TLS (track__tls among it) right above its stack; the main thread's
 * stack ends at __libc_stack_end.  size: the stack's size as far as known (its attributes,
 * or RLIMIT_STACK): a stack pointer below hi - size is on some other stack. */
static void stack_bounds(struct track__thread *t, uint64_t size)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), hi = 0;
	if (sp < (uintptr_t)&track__tls)
		hi = (uintptr_t)&track__tls;
	else if (sp < (uintptr_t)__libc_stack_end)
		hi = (uintptr_t)__libc_stack_end;
	if (size == 0 || size > (1ull << 30))
		size = 1ull << 30;
	if (hi == 0 || hi - sp > size) {
		t->stack_lo = t->stack_hi = 0;   /* not on the stack we expected: capture nothing */
		return;
	}
	t->stack_hi = hi;
	t->stack_lo = hi - size;
}

/* Bind the calling thread to its record and a private state; NULL if the pool is empty. */
static struct track__thread *bind_self(struct track_thread_rec *thr, uint32_t slot,
				      uint64_t stack_size)
{
	struct track__thread *t;
	int32_t tid = sys_gettid();
	int w;
	tlock_take();
	t = state_alloc();
	if (t != NULL)
		tidmap_put(tid, slot);
	tlock_drop();
	if (t == NULL)
		return NULL;
	t->thr = thr;
	t->tid = tid;
	t->slot = slot;
	stack_bounds(t, stack_size);
	t->born_lock_id = track__order_serial();
	w = seq_begin(thr);
	TRACK_STORE(&thr->tid, tid);
	TRACK_STORE(&thr->pthread_self, (uint64_t)pthread_self());
	prctl(PR_GET_NAME, thr->name, 0, 0, 0);
	if (thr->created_ns == 0)
		TRACK_STORE(&thr->created_ns, track__now_ns());
	TRACK_STORE(&thr->since_ns, track__now_ns());
	seq_end(thr, w);
	track__tls.gone = 0;
	track__tls.self = t;
	return t;
}

/* Give up a record that could not be bound (no private state left). */
static void unclaim(struct track_thread_rec *thr)
{
	TRACK_STORE(&thr->exited_ns, track__now_ns());
	TRACK_STORE(&thr->state, TRACK_TS_EXITED);
	TRACK_ADD(&track__g.hdr->threads_dropped, 1);
	track__tls.gone = 1;
}

/* The lock of listed held entry i of thread t, if t still holds it: the list can be stale
 * when another thread released the lock for it (an unlock-not-owner of a normal mutex,
 * which glibc lets through), or its record was retired. */
static const struct track_obj_rec *listed_lock(const struct track__thread *t, uint32_t i)
{
	uint32_t v = t->thr->held[i], idx = v & ~TRACK_HELD_READ;
	const struct track_obj_rec *o;
	if (idx == 0 || idx > track__g.hdr->max_objects)
		return NULL;
	o = &track__g.objs[idx - 1];
	if (!(TRACK_LOAD(&o->flags) & TRACK_OF_LIVE))
		return NULL;
	if (v & TRACK_HELD_READ)
		return TRACK_LOAD(&o->readers) != 0 ? o : NULL;
	return TRACK_LOAD(&o->owner_tid) == t->tid ? o : NULL;
}

/* Record that thread t ends (how: "ended", "called exit()") holding locks, if it does;
 * located where the first listed lock it still holds was taken.  A robust mutex's owner
 * dying is what the attribute is for: the next locker gets EOWNERDEAD. */
void track__note_exit_holding(struct track__thread *t, const char *how)
{
	struct track_thread_rec *thr = t->thr;
	uint32_t i, n = thr->nheld < TRACK_HELD_MAX ? thr->nheld : TRACK_HELD_MAX, held = 0;
	const struct track_obj_rec *r = NULL;
	struct track_finding_rec *f;
	uint64_t pc = 0;
	if (thr->nheld == 0)
		return;
	for (i = 0; i < n; i++) {
		const struct track_obj_rec *o = listed_lock(t, i);
		if (o == NULL)
			continue;
		if (o->kind == TRACK_OBJ_MUTEX && (o->subtype & TRACK_MUTEX_ROBUST))
			continue;
		if (held++ == 0)
			r = o, pc = thr->held_pc[i];
	}
	held += thr->nheld - n;   /* held beyond the list: not known, counted */
	if (held == 0)
		return;
	f = track__finding(TRACK_FK_EXIT_HOLDING_LOCK, r ? (void *)(uintptr_t)r->addr : NULL,
			  r ? r->kind : 0, pc, 0, "thread %d %s holding %u lock(s)", t->tid, how,
			  held);
	if (f != NULL && r != NULL)   /* who asked for it later: see track__exit_holding_review */
		TRACK_STORE(&f->signature, track__exit_holding_signature(r));
}

/* Close the calling thread's record: it is ending. */
static void close_self(struct track__thread *t, uint32_t why)
{
	struct track_thread_rec *thr = t->thr;
	int w;
	track__note_exit_holding(t, "ended");
	__atomic_or_fetch(&thr->flags, why, __ATOMIC_RELAXED);
	w = seq_begin(thr);
	TRACK_STORE(&thr->exited_ns, track__now_ns());
	TRACK_STORE(&thr->state, TRACK_TS_EXITED);
	seq_end(thr, w);
	TRACK_SUB(&track__g.hdr->threads_alive, 1);
	TRACK_ADD(&track__g.hdr->threads_exited, 1);
	if (t->drops != 0)
		TRACK_ADD(&track__g.hdr->objects_dropped, t->drops);
	track__tls.self = NULL;
	track__tls.gone = 1;
	tlock_take();
	tidmap_del(t->tid, t->slot);
	maybe_reclaim(thr, t->slot);
	state_free(t);
	tlock_drop();
}

static void foreign_exit(void *arg)
{
	struct track__thread *t = track__tls.self;
	(void)arg;
	if (t != NULL && track__g.on)
		close_self(t, 0);
}


static struct track__thread *register_self(uint32_t flags)
{
	struct track_thread_rec *thr;
	struct track__thread *t;
	uint32_t slot;
	track__tls.busy++;   /* a signal handler running meanwhile must not register us twice */
	thr = slot_claim(&slot);
	t = thr != NULL ? bind_self(thr, slot, default_stack) : NULL;
	if (t == NULL) {
		if (thr != NULL)
			unclaim(thr);
		else
			TRACK_ADD(&track__g.hdr->threads_dropped, 1);
		track__tls.gone = 1;   /* table full of live threads: leave this one untracked */
		track__tls.busy--;
		return NULL;
	}
	__atomic_or_fetch(&thr->flags, flags, __ATOMIC_RELAXED);
	bump_alive(&t->peak_from, &t->peak_to);
	/* The main thread and foreign threads can be joined too: know their pthread_t. */
	tmap_put(pthread_self(), slot);
	if (flags & TRACK_TF_FOREIGN) {
		TRACK_ADD(&track__g.hdr->threads_foreign, 1);
		if (exit_key_ok)
			pthread_setspecific(exit_key, (void *)1);
	}
	track__tls.busy--;
	return t;
}

struct track__thread *track__self_slow(void)
{
	struct track__thread *t;
	int saved = errno;
	if (!__atomic_load_n(&track__g.on, __ATOMIC_ACQUIRE) || track__tls.gone || track__tls.busy)
		return NULL;
	t = register_self(TRACK_TF_FOREIGN);
	errno = saved;
	return t;
}

/* --- pthread_t map -------------------------------------------------------------------------- */

static struct tmap_ent *tmap_find(pthread_t th, int for_insert)
{
	uint64_t k = (uint64_t)th;
	uint32_t i = track_hash_bits(k, 32) & tmap_mask;
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
	tlock_take();
	e = tmap_find(th, 1);
	if (e != NULL) {
		e->key = (uint64_t)th;
		e->slot = slot;
		e->gen = track__g.threads[slot].gen;
	}
	tlock_drop();
}

/* The record of joinable thread th, removing it from the map if take; NULL if unknown.
 * A thread taken out because it was joined after it ended may have its record reused. */
static struct track_thread_rec *tmap_get(pthread_t th, int take)
{
	struct track_thread_rec *thr = NULL;
	struct tmap_ent *e;
	tlock_take();
	e = tmap_find(th, 0);
	if (e != NULL) {
		if (TRACK_LOAD(&track__g.threads[e->slot].gen) == e->gen)
			thr = &track__g.threads[e->slot];
		if (take || thr == NULL)
			e->key = TMAP_DELETED;
	}
	tlock_drop();
	return thr;
}

/*
 * For join and detach, which must name the thread before the real call: once glibc has
 * reaped it, its pthread_t may be handed at once to a thread another thread makes, whose
 * entry then replaces this one.  Looked up after the call, the new thread was taken for the
 * reaped one (flagged joined, its entry removed) and the reaped one was never counted.  So
 * the entry is seen before (seen_*), and after the call taken out only if it is still
 * the one seen; the record is the one seen if it is still that thread's.
 */
struct tmap_seen {
	uint32_t slot;
	uint64_t gen;
	int found;
};

static struct track_thread_rec *tmap_see(pthread_t th, struct tmap_seen *seen)
{
	struct tmap_ent *e;
	tlock_take();
	e = tmap_find(th, 0);
	seen->found = e != NULL && TRACK_LOAD(&track__g.threads[e->slot].gen) == e->gen;
	if (seen->found) {
		seen->slot = e->slot;
		seen->gen = e->gen;
	}
	tlock_drop();
	return seen->found ? &track__g.threads[seen->slot] : NULL;
}

static struct track_thread_rec *tmap_take_seen(pthread_t th, const struct tmap_seen *seen)
{
	struct track_thread_rec *thr = NULL;
	struct tmap_ent *e;
	if (!seen->found)
		return tmap_get(th, 1);   /* not mapped before the call: as well as can be */
	tlock_take();
	e = tmap_find(th, 0);
	if (e != NULL && e->slot == seen->slot && e->gen == seen->gen)
		e->key = TMAP_DELETED;
	if (TRACK_LOAD(&track__g.threads[seen->slot].gen) == seen->gen)
		thr = &track__g.threads[seen->slot];
	tlock_drop();
	return thr;
}

/* The tid of joinable thread th, 0 if unknown or not started yet. */
int32_t track__tid_of_pthread(uint64_t th)
{
	struct track_thread_rec *r = tmap_get((pthread_t)th, 0);
	return r != NULL ? TRACK_LOAD(&r->tid) : 0;
}

/* --- creation ------------------------------------------------------------------------------- */

struct trampoline_exit {
	int returned;
};

/* Runs when the thread function returns, and during the forced unwind of pthread_exit or
 * cancellation (the shim is built with -fexceptions, so cleanups run on that unwind). */
static void trampoline_cleanup(struct trampoline_exit *x)
{
	struct track__thread *t = track__tls.self;
	uint32_t why = 0;
	if (t == NULL || !track__g.on)
		return;
	if (!x->returned && !(t->thr->flags & TRACK_TF_EXPLICIT))
		why = TRACK_TF_CANCELLED;
	close_self(t, why);
}

/* A signal handler registered this thread before its trampoline ran: give that record and
 * its private state back (its counts undone), so that the record pthread_create made is
 * the thread's only one. */
static void forget_early_registration(struct track__thread *early)
{
	struct track_thread_rec *thr = early->thr;
	uint64_t raised = early->peak_to;
	int w;
	TRACK_SUB(&track__g.hdr->threads_alive, 1);
	peak_undo(early->peak_from, raised);
	TRACK_SUB(&track__g.hdr->threads_foreign, 1);
	if (exit_key_ok)
		pthread_setspecific(exit_key, NULL);
	track__tls.self = NULL;
	w = seq_begin(thr);
	TRACK_STORE(&thr->tid, 0);
	TRACK_STORE(&thr->state, TRACK_TS_UNUSED);   /* reusable, and in no report */
	seq_end(thr, w);
	tlock_take();
	reclaim_push(early->slot);
	state_free(early);
	tlock_drop();
}

static void *trampoline(void *arg)
{
	uint32_t slot = (uint32_t)(uintptr_t)arg;
	struct thread_priv p = priv[slot];
	struct trampoline_exit x __attribute__((cleanup(trampoline_cleanup))) = {0};
	struct track_thread_rec *thr = &track__g.threads[slot];
	struct track__thread *t;
	void *ret;
	track__tls.busy++;   /* from here, a handler's calls pass through until we are bound */
	if (track__tls.self != NULL)
		forget_early_registration(track__tls.self);
	t = bind_self(thr, slot, p.stack_size);
	if (t == NULL) {
		TRACK_SUB(&track__g.hdr->threads_alive, 1);
		unclaim(thr);
	} else {
		/* its stacks end at this frame's caller, start_thread (unwind.c says why) */
		t->stop_sp = (uintptr_t)__builtin_dwarf_cfa();
		if (!(TRACK_LOAD(&thr->flags) & TRACK_TF_DETACHED))
			tmap_put(pthread_self(), slot);   /* the early registration may have put its own */
	}
	track__tls.busy--;
	ret = p.fn(p.arg);
	x.returned = 1;
	return ret;
}

/*
 * A thread created while every record is a live thread's goes untracked.  It is counted
 * once, here (created, and not tracked), and must not be counted again as an unknown
 * thread when it first calls into the shim: it starts through this trampoline, which marks
 * it gone.  Its function and argument wait in one of a few cells, static (no allocation),
 * taken with a compare-and-swap and freed as soon as the thread starts.  With every cell
 * in use (that many creations not yet started) it starts as a plain thread, and is counted
 * when it first calls in, if it does.
 */
#define UNTRACKED_CELLS 64
static struct untracked_cell {
	void *(*fn)(void *);
	void *arg;
	int busy;
} untracked[UNTRACKED_CELLS];

static void *untracked_trampoline(void *cellp)
{
	struct untracked_cell *c = cellp;
	void *(*fn)(void *) = c->fn;
	void *arg = c->arg;
	__atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
	track__tls.gone = 1;   /* counted by its creator */
	return fn(arg);
}

static int create_untracked(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			    void *arg)
{
	int i, rc, zero;
	for (i = 0; i < UNTRACKED_CELLS; i++) {
		zero = 0;
		if (__atomic_compare_exchange_n(&untracked[i].busy, &zero, 1, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
	}
	if (i == UNTRACKED_CELLS)
		return track__real.create(th, attr, fn, arg);
	untracked[i].fn = fn;
	untracked[i].arg = arg;
	rc = track__real.create(th, attr, untracked_trampoline, &untracked[i]);
	if (rc != 0) {
		__atomic_store_n(&untracked[i].busy, 0, __ATOMIC_RELEASE);
		return rc;
	}
	TRACK_ADD(&track__g.hdr->threads_created, 1);
	TRACK_ADD(&track__g.hdr->threads_dropped, 1);
	return rc;
}

/* --- joined handles ---------------------------------------------------------------------------
 *
 * The pthread_t of a joined thread is dead: glibc may free or reuse its descriptor, and a
 * pthread_cancel of it is undefined (it may signal another thread).  The values of the
 * threads joined lately are kept, so that a cancel of one is told; a new thread given the
 * same value takes it off.  Under the thread lock. */
#define JOINED_RING 64u
static uint64_t joined_ring[JOINED_RING];
static uint32_t joined_next;

static void joined_note(pthread_t th)
{
	joined_ring[joined_next++ % JOINED_RING] = (uint64_t)th;
}

static void joined_forget(pthread_t th)
{
	uint32_t i;
	for (i = 0; i < JOINED_RING; i++)
		if (joined_ring[i] == (uint64_t)th)
			joined_ring[i] = 0;
}

static int joined_lately(pthread_t th)
{
	uint32_t i;
	for (i = 0; i < JOINED_RING; i++)
		if (th != 0 && joined_ring[i] == (uint64_t)th)
			return 1;
	return 0;
}

/* The new thread's stack size as its attributes say (or glibc's default), for the unwinder's
 * bounds, and whether it starts detached. */
static uint64_t attr_facts(const pthread_attr_t *attr, int *detached)
{
	size_t size = 0;
	*detached = PTHREAD_CREATE_JOINABLE;
	if (attr == NULL)
		return default_stack;
	pthread_attr_getdetachstate(attr, detached);
	pthread_attr_getstacksize(attr, &size);
	return size;
}

TRACK_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
				void *(*fn)(void *), void *arg)
{
	struct track__thread *t;
	struct track_thread_rec *thr;
	struct thread_priv *p;
	uint64_t peak_from, peak_to;
	uint32_t slot;
	int detached, rc;
	track__resolve();
	if (!track__g.on || (t = track__self()) == NULL || track__busy())
		return track__real.create(th, attr, fn, arg);
	if ((thr = slot_claim(&slot)) == NULL)
		return create_untracked(th, attr, fn, arg);
	p = &priv[slot];
	p->stack_size = attr_facts(attr, &detached);
	p->fn = fn;
	p->arg = arg;
	thr->creator_tid = t->tid;
	thr->start_routine = (uint64_t)(uintptr_t)fn;
	thr->create_pc = TRACK_RA();
	thr->created_ns = track__now_ns();
	thr->flags = detached == PTHREAD_CREATE_DETACHED ? TRACK_TF_DETACHED : 0;
	thr->create_stack = track__stack_capture(t);
	bump_alive(&peak_from, &peak_to);   /* counted now: the thread may end before we return */
	TRACK_ASSERT(track__tls.nlocks == 0);   /* no shim lock across a call into glibc */
	if (unlikely(track__g.thread_limit != 0))
		track__thread_limit_crossed(t, thr);
	track__modules_note_pc(thr->create_pc);
	rc = track__real.create(th, attr, trampoline, (void *)(uintptr_t)slot);
	if (rc != 0) {
		TRACK_SUB(&track__g.hdr->threads_alive, 1);
		peak_undo(peak_from, peak_to);
		TRACK_STORE(&thr->exited_ns, thr->created_ns);
		TRACK_STORE(&thr->state, TRACK_TS_EXITED);
		return rc;
	}
	TRACK_ADD(&track__g.hdr->threads_created, 1);
	tlock_take();
	joined_forget(*th);   /* a live thread's handle now */
	tlock_drop();
	if (detached == PTHREAD_CREATE_DETACHED)
		TRACK_ADD(&track__g.hdr->threads_detached, 1);
	else
		tmap_put(*th, slot);
	return rc;
}

TRACK_EXPORT int pthread_cancel(pthread_t th)
{
	int dead = 0;
	track__resolve();
	if (track__g.on && !track__busy()) {
		tlock_take();
		dead = joined_lately(th);
		tlock_drop();
	}
	if (dead)
		track__finding(TRACK_FK_CANCEL_INVALID, (void *)th, 0, TRACK_RA(), 0,
			      "pthread_cancel of a thread already joined: its handle is no "
			      "longer valid");
	return track__real.cancel(th);
}

/* --- joining -------------------------------------------------------------------------------- */

typedef int (*join_fn)(pthread_t th, void **ret, clockid_t clk, const struct timespec *abs);

struct join_wait {
	struct track__thread *t;
	uint64_t t0;
	uintptr_t prev_sp;
	uint32_t stack;
};

static void join_wait_end(struct join_wait *w)
{
	uint64_t dt;
	if (w->t == NULL || track__tls.self != w->t)
		return;
	if (w->t->wait_sp == (uintptr_t)w) {   /* not closed meanwhile as stale */
		dt = track__now_ns() - w->t0;
		track__thread_running(w->t, dt);
		track__prof_site(TRACK_PR_JOIN_SITE, NULL, 0, w->stack, dt);
	}
	w->t->wait_sp = w->prev_sp;
}

/* A joined or detached thread: flag it (how), and let its record be reused once it has
 * ended. */
static void reaped(struct track_thread_rec *target, uint32_t how)
{
	__atomic_or_fetch(&target->flags, how, __ATOMIC_RELAXED);
	tlock_take();
	maybe_reclaim(target, (uint32_t)(target - track__g.threads));
	tlock_drop();
}

/* The work every join variant shares: state, bookkeeping of the reaped thread, misuse. */
static int join_common(pthread_t th, void **ret, clockid_t clk, const struct timespec *abs,
		       join_fn call, int blocks, uint64_t pc)
{
	struct track__thread *t = track__g.on ? track__self() : NULL;
	struct track_thread_rec *target;
	struct tmap_seen seen;
	int rc;
	/* Joining oneself fails at once (EDEADLK): no wait, and no deadlock to find; a bug. */
	if (t == NULL)
		return call(th, ret, clk, abs);
	if (pthread_equal(th, pthread_self())) {
		rc = call(th, ret, clk, abs);
		track__finding(TRACK_FK_JOIN_INVALID, (void *)th, 0, pc, t->tid,
			      "thread %d joined itself (%s)", t->tid,
			      rc == EDEADLK ? "EDEADLK" : "it returned");
		return rc;
	}
	target = tmap_see(th, &seen);
	{
		struct join_wait w __attribute__((cleanup(join_wait_end))) = {NULL, 0, 0, 0};
		if (blocks) {
			if (TRACK_LOAD(&t->thr->state) != TRACK_TS_RUNNING)
				track__wait_stale(t);
			w.prev_sp = t->wait_sp;
			t->wait_sp = (uintptr_t)&w;
			w.stack = track__stack_capture(t);
			track__thread_set_state(t, TRACK_TS_JOIN, (uint64_t)th, 0,
					       target ? TRACK_LOAD(&target->tid) : 0,
					       w.stack, abs ? TRACK_WF_TIMED : 0);
			track__deadlock_check(t);
			w.t = t;
			w.t0 = track__now_ns();
		}
		TRACK_ASSERT(track__tls.nlocks == 0);   /* nor across a wait */
		rc = call(th, ret, clk, abs);
	}
	if (rc == 0) {
		tlock_take();
		joined_note(th);
		tlock_drop();
		target = tmap_take_seen(th, &seen);
		if (target != NULL) {   /* an untracked thread is in no count but not_tracked */
			reaped(target, TRACK_TF_JOINED);
			TRACK_ADD(&track__g.hdr->threads_joined, 1);
		}
	} else if (rc == EINVAL || rc == ESRCH) {
		track__finding(TRACK_FK_JOIN_INVALID, (void *)th, 0, pc, 0,
			      "pthread_join on a thread that is not joinable (%s)",
			      rc == EINVAL ? "detached or already joined" : "no such thread");
	}
	return rc;
}

static int call_join(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	(void)c, (void)a;
	return track__real.join(th, ret);
}

static int call_tryjoin(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	(void)c, (void)a;
	return track__real.tryjoin_np(th, ret);
}

static int call_timedjoin(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	(void)c;
	return track__real.timedjoin_np(th, ret, a);
}

static int call_clockjoin(pthread_t th, void **ret, clockid_t c, const struct timespec *a)
{
	return track__real.clockjoin_np(th, ret, c, a);
}

TRACK_EXPORT int pthread_join(pthread_t th, void **ret)
{
	track__resolve();
	return join_common(th, ret, 0, NULL, call_join, 1, TRACK_RA());
}

TRACK_EXPORT int pthread_tryjoin_np(pthread_t th, void **ret)
{
	track__resolve();
	return join_common(th, ret, 0, NULL, call_tryjoin, 0, TRACK_RA());
}

TRACK_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abs)
{
	track__resolve();
	return join_common(th, ret, 0, abs, call_timedjoin, 1, TRACK_RA());
}

TRACK_EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk,
				      const struct timespec *abs)
{
	track__resolve();
	return join_common(th, ret, clk, abs, call_clockjoin, 1, TRACK_RA());
}

TRACK_EXPORT int pthread_detach(pthread_t th)
{
	struct track_thread_rec *target = NULL;
	struct tmap_seen seen = {0, 0, 0};
	int rc;
	track__resolve();
	if (track__g.on && !track__busy())
		tmap_see(th, &seen);
	rc = track__real.detach(th);
	if (rc != 0 && (rc == EINVAL || rc == ESRCH) && track__g.on && !track__busy())
		track__finding(TRACK_FK_DETACH_INVALID, (void *)th, 0, TRACK_RA(), 0,
			      "pthread_detach on a thread that is not joinable (%s)",
			      rc == EINVAL ? "detached or already joined" : "no such thread");
	if (rc != 0 || !track__g.on || track__busy())
		return rc;
	target = tmap_take_seen(th, &seen);
	/* A thread detaching itself may do so before its creator has mapped it. */
	if (target == NULL && pthread_equal(th, pthread_self()) && track__tls.self != NULL)
		target = track__tls.self->thr;
	if (target != NULL) {
		reaped(target, TRACK_TF_DETACHED);
		TRACK_ADD(&track__g.hdr->threads_detached, 1);
	}
	return rc;
}

TRACK_EXPORT void pthread_exit(void *ret)
{
	struct track__thread *t = track__tls.self;
	track__resolve();
	if (track__g.on && t != NULL) {
		__atomic_or_fetch(&t->thr->flags, TRACK_TF_EXPLICIT, __ATOMIC_RELAXED);
		/* Threads the trampoline did not start have no cleanup frame to notice the end. */
		if (t->thr->start_routine == 0)
			close_self(t, 0);
	}
	track__real.exit(ret);
}

TRACK_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
	struct track_thread_rec *thr = NULL;
	int rc;
	track__resolve();
	rc = track__real.setname_np(th, name);
	if (rc != 0 || !track__g.on || track__busy())
		return rc;
	if (pthread_equal(th, pthread_self()))
		thr = track__tls.self != NULL ? track__tls.self->thr : NULL;
	else
		thr = tmap_get(th, 0);
	if (thr != NULL) {
		char buf[TRACK_NAME_MAX];
		track__format(buf, sizeof buf, "%s", name);
		memcpy(thr->name, buf, sizeof buf);
	}
	return rc;
}

/* --- start-up and fork -------------------------------------------------------------------- */

void *track__map_private(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t tmap_bytes(void)
{
	return (size_t)(tmap_mask + 1) * sizeof *tmap;
}

static void free_private(uint32_t cap)
{
	if (priv != NULL)
		munmap(priv, (size_t)cap * sizeof *priv);
	if (tmap != NULL)
		munmap(tmap, tmap_bytes());
	if (tidmap != NULL)
		munmap(tidmap, (size_t)tidmap_len * sizeof *tidmap);
	if (tidmap_live != NULL)
		munmap(tidmap_live, (size_t)(tidmap_len / TIDMAP_PAGE_IDS) * sizeof *tidmap_live);
	if (pool != NULL)
		munmap(pool, (size_t)cap * sizeof *pool);
	priv = NULL, tmap = NULL, tidmap = NULL, tidmap_live = NULL, pool = NULL;
}

static int alloc_private(void)
{
	uint32_t cap = track__g.hdr->max_threads;
	tmap_mask = track__pow2_at_least(2 * cap) - 1;
	priv = track__map_private((size_t)cap * sizeof *priv);
	tmap = track__map_private(tmap_bytes());
	tidmap_len = (pid_max() + TIDMAP_PAGE_IDS - 1) / TIDMAP_PAGE_IDS * TIDMAP_PAGE_IDS;
	tidmap = track__map_private((size_t)tidmap_len * sizeof *tidmap);
	tidmap_live = track__map_private((size_t)(tidmap_len / TIDMAP_PAGE_IDS) * sizeof *tidmap_live);
	pool = track__map_private((size_t)cap * sizeof *pool);
	/* a fork child maps its own (pid_max may have changed): the newest page of the old map
	 * may lie past the end of this one */
	pool_used = pool_free = reclaim_head = reclaim_tail = tidmap_newest = 0;
	if (priv != NULL && tmap != NULL && tidmap != NULL && tidmap_live != NULL && pool != NULL)
		return 0;
	free_private(cap);
	return -1;
}

int track__threads_init(void)
{
	find_default_stack();
	recycle_after = (uint32_t)track__env_num(TRACK_ENV_THREAD_RECORDS);
	if (alloc_private() != 0)
		return -1;
	exit_key_ok = pthread_key_create(&exit_key, foreign_exit) == 0;
	register_self(TRACK_TF_MAIN);
	return 0;
}

/* Which locks the forking thread holds, by address, to hold them again in the child. */
struct held_copy {
	uint32_t n;
	uint32_t read[TRACK_HELD_MAX];
	uint32_t kind[TRACK_HELD_MAX];
	uint64_t addr[TRACK_HELD_MAX];
};

static void held_save(const struct track__thread *t, struct held_copy *c)
{
	uint32_t i;
	c->n = 0;
	if (t == NULL)
		return;
	c->n = t->thr->nheld < TRACK_HELD_MAX ? t->thr->nheld : TRACK_HELD_MAX;
	for (i = 0; i < c->n; i++) {
		uint32_t h = t->thr->held[i];
		const struct track_obj_rec *r = h ? &track__g.objs[(h & ~TRACK_HELD_READ) - 1] : NULL;
		c->read[i] = h & TRACK_HELD_READ;
		c->addr[i] = r ? r->addr : 0;
		c->kind[i] = r ? r->kind : 0;
	}
}

/* Locks held across fork stay held in the child. */
static void held_restore(struct track__thread *t, const struct held_copy *c)
{
	uint32_t i;
	for (i = 0; i < c->n; i++) {
		struct track_obj_rec *r =
			c->addr[i] ? track__obj(t, (void *)(uintptr_t)c->addr[i], c->kind[i], 0, 1)
				   : NULL;
		if (r == NULL)
			continue;
		if (c->read[i])
			TRACK_ADD(&r->readers, 1);
		else
			TRACK_STORE(&r->owner_tid, t->tid);
		track__held_push(t, r, c->read[i], 0);
	}
}

/* In the child of fork, with the thread busy (init.c's fork handlers): a fresh segment and
 * private state, the forking thread registered as the main one; the thread is tracked again
 * (busy lowered) once that is done, and the locks it held across fork are held again. */
void track__threads_after_fork(void)
{
	struct track__thread *t = track__tls.self;
	struct track_seg_header *old = track__g.hdr;
	uint32_t old_cap = old->max_threads;
	int32_t parent_tid = t != NULL ? t->tid : 0;
	uintptr_t stop_sp = t != NULL ? t->stop_sp : 0;   /* the same stack in the child */
	struct held_copy held;

	__atomic_store_n(&track__g.on, 0, __ATOMIC_RELAXED);   /* first: see track__self_slow */
	track__ilock_reset();
	tlock = 0;   /* only this thread is left: a lock another held is free */
	held_save(t, &held);
	track__tls.self = NULL;
	track__tls.gone = 0;
	track__objects_reset();
	free_private(old_cap);
	track__order_reset();
	if (track__segment_create() != 0 || alloc_private() != 0) {
		munmap(old, old->total_size);
		goto out;
	}
	track__modules_copy(old);
	munmap(old, old->total_size);
	if ((t = register_self(TRACK_TF_MAIN)) == NULL)
		goto out;
	t->thr->creator_tid = parent_tid;
	t->stop_sp = stop_sp;
	__atomic_store_n(&track__g.on, 1, __ATOMIC_RELEASE);
	track__tls.busy--;
	held_restore(t, &held);
	return;
out:
	track__tls.busy--;
}

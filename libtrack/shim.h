/*
 * shim.h — what the files of libtrack share: the global state, the per-thread state, the
 * real pthread functions, and the inline fast paths every wrapper uses.
 *
 * The rules that shape this file (see docs/DESIGN.md, "The shim's hot path"): the
 * uncontended lock/unlock path makes no system call, takes no lock, allocates nothing and
 * does not unwind.  It reads one thread-local cache entry, checks one generation number and
 * writes fields of the lock record and the thread record that only the lock holder or the
 * thread itself writes.  Everything else happens on slow paths in the .c files.
 */
#ifndef TRACK_SHIM_H
#define TRACK_SHIM_H

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

#include "track/hash.h"
#include "track/env.h"
#include "track/segfile.h"
#include "track/segment.h"

#define TRACK_HIDDEN   __attribute__((visibility("hidden")))
#define TRACK_EXPORT   __attribute__((visibility("default")))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)
#define TRACK_RA()     ((uint64_t)(uintptr_t)__builtin_return_address(0))

/*
 * The shim's own invariants, checked in a debug build (cmake -DTRACK_DEBUG=ON; CI runs the
 * stress, safety, sync and order suites with one).  A broken invariant writes one line to
 * stderr with write(2) and aborts: no allocation, no lock, safe in a signal handler.  In a
 * normal build the condition is not even evaluated: the code is the same as without it.
 */
#ifdef TRACK_DEBUG
__attribute__((visibility("hidden"), noreturn, cold)) void track__assert_failed(const char *file,
										  int line,
										  const char *what);
#define TRACK_ASSERT(c)                                               \
	do {                                                          \
		if (__builtin_expect(!(c), 0))                         \
			track__assert_failed(__FILE__, __LINE__, #c); \
	} while (0)
#else
#define TRACK_ASSERT(c) ((void)sizeof(!(c)))
#endif

/* Run stmt and leave errno as it was: the program must see the errno of its own call, not of
 * a system call the shim made on the way (a signal mask, a futex wake, a page populated). */
#define TRACK__KEEP_ERRNO(stmt)          \
	do {                             \
		int keep_errno__ = errno; \
		stmt;                    \
		errno = keep_errno__;    \
	} while (0)

/* Relaxed atomics on segment fields: readers in other processes see whole values. */
#define TRACK_LOAD(p)        __atomic_load_n((p), __ATOMIC_RELAXED)
#define TRACK_STORE(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define TRACK_ADD(p, v)      __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define TRACK_SUB(p, v)      __atomic_sub_fetch((p), (v), __ATOMIC_RELAXED)

/* --- per-thread state ------------------------------------------------------------------ */

#define TRACK_CACHE_SIZE 64u    /* object lookups cached per thread: a power of two */

struct track__cache_ent {
	uintptr_t addr;              /* 0: empty */
	struct track_obj_rec *rec;   /* never NULL once filled; compare addr first */
	uint32_t gen;                /* low half of rec->gen when filled */
	uint32_t idx;                /* track__obj_index(rec) */
};

#define TRACK_ECACHE_SIZE 32u   /* lock-order edges known to this thread: a power of two */

/* An edge this thread has already reported to the graph, with the mode and the set of
 * other held locks (by hash) it was seen with: seeing it again the same way costs nothing. */
struct track__ecache_ent {
	uint64_t key;                  /* from_id << 32 | to_id */
	uint32_t gate_hash;            /* xor of the other held lock ids */
	uint32_t flags;                /* TRACK_EF_* already reported */
};

/*
 * A registered thread's own state.  It lives in the shim's private memory (threads.c), not in
 * thread-local storage: glibc carves static TLS out of every thread's stack, and a program
 * that runs threads on small stacks must keep what it asked for.  Only the thread itself
 * reads or writes it (and signal handlers that interrupt it: see fills).
 */
struct track__thread {
	struct track_thread_rec *thr;  /* its record in the segment */
	int32_t  tid;
	uint32_t slot;                 /* index of thr in the thread table */
	uint32_t fills;                /* cache fills so far: the hot path re-reads it to notice a
					  fill a signal handler made while it read an entry */
	uint32_t held_xor;             /* xor of held_id[] over all held locks */
	uint32_t filling;              /* inside cache_fill (objects.c): a nested one skips */
	uintptr_t stack_lo, stack_hi;  /* this thread's stack, as far as known; hi 0: unknown */
	uintptr_t stop_sp;             /* the CFA of its trampoline (threads the shim started):
					  stacks end at the trampoline's caller; 0: none */
	uint32_t born_lock_id;         /* track__order_serial() when it was registered */
	uintptr_t wait_sp;             /* an address in the frame of the current wait's wrapper
					  (its struct track__wait), 0 if none */
	uint64_t wait_gen;             /* generation of the record the current wait is on */
	uint32_t drops;                /* objects not given a record, not yet counted in the header */
	uint64_t peak_from, peak_to;   /* the peak thread count its registration raised, from and
					  to (to 0: it did not) */
	uint32_t next_free;            /* free-list link of the private state pool (index + 1) */
	uint32_t held_id[TRACK_HELD_MAX]; /* lock-order node of each listed held lock */
	uint64_t held_t0[TRACK_HELD_MAX]; /* when each listed held lock was taken, if its hold is
					  timed (profile.c), else 0; low bit set: counted once */
	uint32_t hold_left;            /* holds to let pass before the next timed one */
	uint32_t rng;                  /* its sampling's random state */
	struct track__cache_ent cache[TRACK_CACHE_SIZE];
	struct track__ecache_ent ecache[TRACK_ECACHE_SIZE];
};

/* Thread-local: kept small (see struct track__thread). */
struct track__tls {
	struct track__thread *self;     /* NULL until the thread is registered */
	int      busy;                 /* inside a shim slow path (nesting count): do not re-enter */
	int      gone;                 /* its record is closed: track nothing more */
	uint32_t nlocks;               /* shim-internal locks held: signals are blocked meanwhile */
	uint32_t resolving_free;       /* finding the real free (freed.c) */
	uint64_t sigmask;              /* the signal mask to restore when the last is released */
	struct track__thread *forking;  /* self, set aside while fork handlers run (init.c) */
};

extern __thread struct track__tls track__tls __attribute__((tls_model("initial-exec")));

/* --- process state ---------------------------------------------------------------------- */

/* An index of the segment (index.c): a row of open-addressing tables of uint32_t slots,
 * each twice the one before, TRACK__INDEX_LEVEL0 slots first, up to top; laid out smallest
 * first, track__index_slots(top) slots in all.  Filled a level at a time. */
#define TRACK__INDEX_LEVEL0 1024u   /* one 4 KB page: a hash spreads even three entries over
					every page of its level */
struct track__index {
	uint32_t *slots;
	uint32_t top;     /* slots of the largest level (a power of two) */
	uint32_t level;   /* the level new entries go into */
};

static inline uint32_t track__index_slots(uint32_t top)
{
	return top <= TRACK__INDEX_LEVEL0 ? top : 2 * top - TRACK__INDEX_LEVEL0;
}

struct track__global {
	int on;                          /* segment mapped: record; otherwise pass through */
	struct track_seg_header *hdr;
	struct track_thread_rec *threads;
	struct track_obj_rec *objs;
	uint32_t *hash;                  /* the object index (segment.h, TRACK_SLOT_*) */
	struct track_module_rec *modules;
	struct track_finding_rec *findings;
	struct track_stack_rec *stacks;
	struct track_edge_rec *edges;
	uint32_t *edge_index;            /* edge index + 1 by pair of lock ids */
	struct track_fd_rec *fds;        /* descriptors left open (fdleaks.c) */
	struct track_prof_rec *profs;    /* wait and hold profiles (profile.c) */
	struct track_queue_rec *queues;  /* queues registered through track.h (queues.c) */
	struct track_pool_tally *tallies; /* threads of reused records, by pool (threads.c) */
	struct track_cycle_item *cycle_items; /* entries of long cycles (findings.c) */
	int stacks_on;                   /* capture stacks on slow paths (TRACK_STACKS) */
	uint32_t lock_order;             /* TRACK_LO_* (TRACK_LOCK_ORDER) */
	uint32_t on_deadlock;            /* TRACK_OD_* (TRACK_ON_DEADLOCK) */
	int deadlock_exit;               /* TRACK_DEADLOCK_EXITCODE */
	uint32_t report;                 /* TRACK_RM_* (TRACK_REPORT) */
	uint64_t env_bad;                /* variables whose values were refused (header env_bad) */
	struct track__index obj_index;   /* objects by address (objects.c) */
	struct track__index edge_ix;     /* lock-order edges by pair of locks (lockorder.c) */
	struct track__index prof_ix;     /* profiles by identity (profile.c) */
	uint32_t hold_sample;            /* TRACK_HOLD_SAMPLE */
	uint32_t thread_limit;           /* TRACK_THREAD_LIMIT, 0: none (watchdog.c) */
	char path[TRACK_SEGFILE_PATH_MAX]; /* the segment file */
};

extern struct track__global track__g TRACK_HIDDEN;

/* The real functions that are not reached through a public glibc alias.  Mutex and rwlock
 * calls go straight to glibc's exported __pthread_* names, so they work before anything
 * is resolved (dlsym itself may lock). */
struct track__real {
	int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	int (*join)(pthread_t, void **);
	int (*tryjoin_np)(pthread_t, void **);
	int (*timedjoin_np)(pthread_t, void **, const struct timespec *);
	int (*clockjoin_np)(pthread_t, void **, clockid_t, const struct timespec *);
	int (*detach)(pthread_t);
	int (*cancel)(pthread_t);
	void (*exit)(void *) __attribute__((noreturn));
	int (*setname_np)(pthread_t, const char *);
	int (*mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
	int (*mutex_clocklock)(pthread_mutex_t *, clockid_t, const struct timespec *);
	int (*rwlock_timedrdlock)(pthread_rwlock_t *, const struct timespec *);
	int (*rwlock_timedwrlock)(pthread_rwlock_t *, const struct timespec *);
	int (*rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
	int (*rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
	int (*cond_init)(pthread_cond_t *, const pthread_condattr_t *);
	int (*cond_destroy)(pthread_cond_t *);
	int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
	int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
	int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
			      const struct timespec *);
	int (*cond_signal)(pthread_cond_t *);
	int (*cond_broadcast)(pthread_cond_t *);
	int (*spin_init)(pthread_spinlock_t *, int);
	int (*spin_destroy)(pthread_spinlock_t *);
	int (*spin_lock)(pthread_spinlock_t *);
	int (*spin_trylock)(pthread_spinlock_t *);
	int (*spin_unlock)(pthread_spinlock_t *);
	int (*sem_init)(sem_t *, int, unsigned);
	int (*sem_destroy)(sem_t *);
	int (*sem_wait)(sem_t *);
	int (*sem_trywait)(sem_t *);
	int (*sem_timedwait)(sem_t *, const struct timespec *);
	int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
	int (*sem_post)(sem_t *);
	int (*barrier_wait)(pthread_barrier_t *);
	int (*barrier_init)(pthread_barrier_t *, const pthread_barrierattr_t *, unsigned);
	int (*barrier_destroy)(pthread_barrier_t *);
};

extern struct track__real track__real TRACK_HIDDEN;

/* glibc's public aliases of the mutex and rwlock entry points (exported since 2.2.5). */
extern int __pthread_mutex_init(pthread_mutex_t *, const pthread_mutexattr_t *);
extern int __pthread_mutex_destroy(pthread_mutex_t *);
extern int __pthread_mutex_lock(pthread_mutex_t *);
extern int __pthread_mutex_trylock(pthread_mutex_t *);
extern int __pthread_mutex_unlock(pthread_mutex_t *);
extern int __pthread_rwlock_init(pthread_rwlock_t *, const pthread_rwlockattr_t *);
extern int __pthread_rwlock_destroy(pthread_rwlock_t *);
extern int __pthread_rwlock_rdlock(pthread_rwlock_t *);
extern int __pthread_rwlock_tryrdlock(pthread_rwlock_t *);
extern int __pthread_rwlock_wrlock(pthread_rwlock_t *);
extern int __pthread_rwlock_trywrlock(pthread_rwlock_t *);
extern int __pthread_rwlock_unlock(pthread_rwlock_t *);

/* They are not default versions, so the link must name the version: the base version of
 * glibc on each architecture. */
#if defined(__x86_64__)
#define TRACK_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define TRACK_GLIBC_BASE "GLIBC_2.17"
#else
#error "libtrack: add the base glibc symbol version of this architecture"
#endif
#define TRACK_BIND_BASE(fn) __asm__(".symver " #fn "," #fn "@" TRACK_GLIBC_BASE)
TRACK_BIND_BASE(__pthread_mutex_init);
TRACK_BIND_BASE(__pthread_mutex_destroy);
TRACK_BIND_BASE(__pthread_mutex_lock);
TRACK_BIND_BASE(__pthread_mutex_trylock);
TRACK_BIND_BASE(__pthread_mutex_unlock);
TRACK_BIND_BASE(__pthread_rwlock_init);
TRACK_BIND_BASE(__pthread_rwlock_destroy);
TRACK_BIND_BASE(__pthread_rwlock_rdlock);
TRACK_BIND_BASE(__pthread_rwlock_tryrdlock);
TRACK_BIND_BASE(__pthread_rwlock_wrlock);
TRACK_BIND_BASE(__pthread_rwlock_trywrlock);
TRACK_BIND_BASE(__pthread_rwlock_unlock);

/* Which form of a blocking call a wrapper makes: plain, with an absolute timeout on
 * CLOCK_REALTIME (the timed calls), or with one on a clock the caller names (the clock
 * calls).  Each family's forms share one body, which dispatches on this. */
enum track__how { TRACK__PLAIN, TRACK__TIMED, TRACK__CLOCK };

/* The wait flag a wait of that form shows (it may end by timing out). */
static inline uint32_t track__how_wflags(enum track__how how)
{
	return how != TRACK__PLAIN ? TRACK_WF_TIMED : 0;
}

/* --- functions of the shim's files ------------------------------------------------------- */

/* init.c */
TRACK_HIDDEN void track__resolve(void);
TRACK_HIDDEN const char *track__env(const char *name);
TRACK_HIDDEN uint64_t track__env_num(enum track_env_var v);
TRACK_HIDDEN int track__env_pick(enum track_env_var v);
/* For the name tables of segment.h's X-lists: X(NAME, "name", ...) gives "name". */
#define TRACK__X_NAME(e, name, ...) name,
/* For TRACK_THREAD_STATES: X(NAME, "name", "in words") gives "in words". */
#define TRACK__X_VERB(e, name, verb) verb,
TRACK_HIDDEN void track__warn(const char *what, const char *detail);
TRACK_HIDDEN __attribute__((noreturn)) void track__exit_now(int status);

/* fdleaks.c: descriptors open at the start, and those opened since, at the end */
TRACK_HIDDEN void track__fds_at_start(void);
TRACK_HIDDEN void track__fds_at_end(void);
/* Call fn for every descriptor of this process (but the one reading the list). */
TRACK_HIDDEN void track__each_fd(void (*fn)(int fd, void *ctx), void *ctx);

/* leakfds.c: descriptor lists for the leak API (they allocate: never on a pthread path) */
struct track__fd_ent {
	int fd;
	int is_new;            /* set by track__fd_list_new_since */
	uint64_t dev, ino;
	int check_msg;         /* a deleted check_XXXXXX file: Check's own message file */
};
struct track__fd_list {
	struct track__fd_ent *ent;   /* by fd, ascending; malloc'd */
	uint32_t n, cap;
	int failed;
};
/* The descriptors open now into l (its buffer reused); -1 if they could not be listed. */
TRACK_HIDDEN int track__fd_list_take(struct track__fd_list *l);
/* Mark those of now not in then (by number and file) but the shim's own; how many. */
TRACK_HIDDEN uint32_t track__fd_list_new_since(struct track__fd_list *now,
					       const struct track__fd_list *then);
/* A malloc'd report of the n marked descriptors of now. */
TRACK_HIDDEN char *track__fd_list_report(const struct track__fd_list *now, uint32_t n,
					 uint64_t waited_ns);

/* segment.c */
TRACK_HIDDEN int  track__segment_create(void);
TRACK_HIDDEN void track__segment_mark_exit(uint32_t state, int code);
TRACK_HIDDEN int  track__seg_reserve(const void *p, size_t len);
TRACK_HIDDEN int  track__seg_present(const void *p);

/* collect.c: at exit, remove the segment unless it holds evidence (see there) */
TRACK_HIDDEN void track__segment_collect_self(void);

/* index.c: levelled open-addressing indexes.  find: the slot whose value match() accepts
 * on hash's chain at any level (lock-free); claim: a slot for a new entry (under the
 * owner's lock; live: entries now); free: give a slot back (under the owner's lock). */
TRACK_HIDDEN void track__index_init(struct track__index *ix, uint32_t *slots, uint32_t top);
TRACK_HIDDEN uint32_t track__index_value(const uint32_t *s);
TRACK_HIDDEN uint32_t *track__index_find(const struct track__index *ix, uint32_t hash,
					 int (*match)(uint32_t v, void *ctx), void *ctx);
TRACK_HIDDEN uint32_t *track__index_claim(struct track__index *ix, uint32_t hash, uint64_t live);
TRACK_HIDDEN void track__index_free(const struct track__index *ix, uint32_t *s);

/* ilock.c: the shim's own locks for its slow paths */
TRACK_HIDDEN void track__spin_take(int *word);
TRACK_HIDDEN void track__spin_drop(int *word);
TRACK_HIDDEN void track__ilock(void);
TRACK_HIDDEN void track__iunlock(void);
TRACK_HIDDEN void track__ilock_reset(void);

/* threads.c */
TRACK_HIDDEN struct track__thread *track__self_slow(void);
TRACK_HIDDEN int track__threads_init(void);
TRACK_HIDDEN void track__threads_after_fork(void);
TRACK_HIDDEN void track__thread_set_state(struct track__thread *t, uint32_t state, uint64_t obj,
					 uint32_t obj_idx, int32_t wait_tid, uint32_t stack,
					 uint32_t wflags);
TRACK_HIDDEN struct track_thread_rec *track__thread_by_tid(int32_t tid);
TRACK_HIDDEN int32_t track__tid_of_pthread(uint64_t th);
TRACK_HIDDEN void track__thread_running(struct track__thread *t, uint64_t waited_ns);
TRACK_HIDDEN void track__wait_stale(struct track__thread *t);
TRACK_HIDDEN void track__note_exit_holding(struct track__thread *t, const char *how);

/* objects.c; all three leave errno as it was */
TRACK_HIDDEN struct track_obj_rec *track__obj_slow(struct track__thread *t, uintptr_t addr,
						  uint32_t kind, uint64_t pc, int create);
TRACK_HIDDEN struct track_obj_rec *track__obj_init(const void *addr, uint32_t kind,
						  uint64_t pc);
TRACK_HIDDEN void track__obj_destroy(const void *addr);
TRACK_HIDDEN uint64_t track__exit_holding_signature(const struct track_obj_rec *r);
/* free() releases the memory of heap record r (freed.c): retire it (a held lock: a
 * freed-locked finding, at pc); whether it did. */
TRACK_HIDDEN int track__obj_freed(struct track_obj_rec *r, uint64_t pc);

/* freed.c: free() interception. */
TRACK_HIDDEN void track__freed_init(void);
TRACK_HIDDEN int track__freed_may_be_heap(const struct track__thread *t, uintptr_t a);
TRACK_HIDDEN void track__freed_link(struct track_obj_rec *r);
TRACK_HIDDEN void track__freed_unlink(struct track_obj_rec *r);
TRACK_HIDDEN void track__freed_reset(void);
/* The live record of the object at addr, or NULL (no cache, no record made). */
TRACK_HIDDEN struct track_obj_rec *track__obj_find(const void *addr);

/* A call glibc refuses for an invalid argument (EINVAL): a bug of the caller, recorded once
 * per call site as api-call-failed, saying why; an init refused so (findings.c). */
TRACK_HIDDEN void track__api_failed(const char *call, const void *obj, const char *why,
				    uint64_t pc);
TRACK_HIDDEN void track__init_refused(const void *addr, uint32_t kind, uint64_t pc);
/* At the end: a thread that ended holding a lock moments before the process ended, with
 * nobody waiting for it, is informational (findings.c). */
TRACK_HIDDEN void track__exit_holding_review(uint64_t end_ns);
/* A timed wait whose timeout or clock glibc refuses before trying. */
TRACK_HIDDEN void track__timeout_refused(const char *call, const void *obj, uint64_t pc);
/* "deadlock: 2 threads waiting for each other": the finding's words and the exit line's. */
TRACK_HIDDEN size_t track__deadlock_words(char *buf, size_t len, uint32_t n);

/* The tail of the init wrappers: the real call's result, and a fresh record for the object
 * when it succeeded; an init refused for an invalid argument is recorded. */
static inline int track__inited(int rc, const void *addr, uint32_t kind, uint64_t pc)
{
	if (rc == 0 && track__g.on)
		track__obj_init(addr, kind, pc);
	else if (rc == EINVAL && track__g.on)
		track__init_refused(addr, kind, pc);
	return rc;
}

/* The tail of the destroy wrappers: the object's record retired when the call succeeded. */
static inline int track__destroyed(int rc, const void *addr)
{
	if (rc == 0 && track__g.on)
		track__obj_destroy(addr);
	return rc;
}
TRACK_HIDDEN void track__objects_reset(void);

/* lockpath.c: per-thread held-lock bookkeeping */
TRACK_HIDDEN void track__held_remove_slow(struct track__thread *t, uint32_t idx);

/* Private anonymous memory for the shim's own tables; NULL on failure. */
TRACK_HIDDEN void *track__map_private(size_t bytes);

/* format.c: text for findings and warnings, without stdio (no locks, little stack) */
TRACK_HIDDEN size_t track__format(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
TRACK_HIDDEN size_t track__vformat(char *buf, size_t len, const char *fmt, va_list ap);

/* findings.c */
/* Returns the new record (already visible), or NULL when it only counted a known finding,
 * or could not be made. */
TRACK_HIDDEN struct track_finding_rec *track__finding(uint32_t kind, const void *obj,
						     uint32_t obj_kind, uint64_t pc,
				int32_t other_tid, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* A lock-order cycle of n edges (any number), recorded once per signature; 1 if it made a
 * new finding (whose edges must then stay).  Called under the shim lock (the graph's
 * callers hold it around the graph lock): the line for TRACK_REPORT=stderr goes to *an,
 * written by the caller with track__announce_write once it has let go. */
struct track__announce {
	char line[TRACK_FINDING_TEXT + 128];
	size_t len;
};
TRACK_HIDDEN int track__finding_cycle_locked(uint32_t kind, uint32_t severity,
					     const uint32_t *edges, uint32_t n, uint64_t signature,
					     uint64_t gate, uint64_t pc, uint32_t stack,
					     struct track__announce *an);
TRACK_HIDDEN void track__announce_write(const struct track__announce *an);
/* A finding the caller filled (kind, severity, signature and the rest), recorded unless one
 * of its kind and signature is there already (which then counts it): stall and
 * thread-limit findings, made where track__finding's own capture does not fit. */
TRACK_HIDDEN void track__finding_put(const struct track_finding_rec *src);
TRACK_HIDDEN void track__finding_deadlock(const int32_t *tids, const uint32_t *stacks,
					 const uint64_t *objs, uint32_t n, uint64_t signature);

/* lockorder.c: the lock-order graph */
TRACK_HIDDEN void track__order_init(void);
TRACK_HIDDEN void track__order_assign(struct track_obj_rec *r);
/* The last instance lock id given out: locks made later have greater ids. */
TRACK_HIDDEN uint32_t track__order_serial(void);
TRACK_HIDDEN int track__order_slow(struct track__thread *t, uint32_t before, uint32_t flags);
TRACK_HIDDEN void track__order_reset(void);
/* A lock record retired (destroyed, initialised again, recycled): in instance mode its lock
 * id dies with it, and its edges leave the graph.  Under the shim lock. */
TRACK_HIDDEN void track__order_forget(struct track_obj_rec *r);

/* profile.c: wait and hold profiles */
TRACK_HIDDEN void track__profile_init(void);
/* An event of an object's own profile (role TRACK_PR_WAIT or TRACK_PR_HOLD), counted weight
 * times; an event of a site's (TRACK_PR_*_SITE; r NULL for a join). */
TRACK_HIDDEN void track__prof_obj(struct track_obj_rec *r, uint32_t role, uint64_t ns,
				  uint64_t weight);
TRACK_HIDDEN void track__prof_site(uint32_t role, const struct track_obj_rec *r, uint64_t pc,
				   uint32_t stack, uint64_t ns);
/* Time the hold of listed held lock n from now (every: counted once, else as a sample);
 * the hold of listed lock i is over. */
TRACK_HIDDEN void track__hold_begin(struct track__thread *t, uint32_t n, int every);
TRACK_HIDDEN void track__hold_end(struct track__thread *t, uint32_t i);

/* queues.c: queues registered through track.h */
TRACK_HIDDEN struct track_queue_rec *track__queue_register(const char *name, uint64_t capacity);

/* deadlock.c: wait-for cycles */
TRACK_HIDDEN void track__deadlock_check(struct track__thread *t);
/* A condvar or barrier (state: the waiters' TRACK_TS_COND or TRACK_TS_BARRIER) about to be
 * destroyed with waiters: if some wait with no timeout and nobody wakes them, glibc's
 * destroy waits for ever; confirmed, it is ended as a deadlock is. */
TRACK_HIDDEN void track__destroy_hang_check(struct track_obj_rec *r, const void *obj,
					   uint32_t state);
TRACK_HIDDEN void track__deadlock_init(void);

/* watchdog.c: stall alerts, the thread limit, the dump signal */
TRACK_HIDDEN void track__watchdog_init(void);
TRACK_HIDDEN void track__watchdog_after_fork(void);
/* Called by pthread_create when a thread limit is set: records thread-limit the first time
 * the live threads, thr's among them, are more than the limit. */
TRACK_HIDDEN void track__thread_limit_crossed(struct track__thread *t,
					     const struct track_thread_rec *thr);

/* stacks.c */
TRACK_HIDDEN void track__stacks_init(void);
TRACK_HIDDEN uint32_t track__stack_capture(struct track__thread *t);

/* unwind.c: the shim's own unwinder */
TRACK_HIDDEN int track__unwind(uint64_t *pcs, int max, uintptr_t stack_lo, uintptr_t stack_hi,
				uintptr_t stop);
TRACK_HIDDEN int track__unwind_in_handler(uintptr_t stack_lo, uintptr_t stack_hi,
					 uintptr_t limit);

/* modules.c */
TRACK_HIDDEN void track__modules_scan(void);
TRACK_HIDDEN void track__modules_note_pc(uint64_t pc);
TRACK_HIDDEN void track__modules_copy(const struct track_seg_header *old);

/* clock */
static inline uint64_t track__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The least power of two at least v (v at most 2^31): the size of a table probed by mask. */
static inline uint32_t track__pow2_at_least(uint64_t v)
{
	uint32_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}


/* leakinfo.c: for the leak API (leaks.c, include/track.h) */
struct track_leak_opts;
TRACK_HIDDEN int track__leak_ignored(uint32_t slot, const struct track_leak_opts *o);
TRACK_HIDDEN char *track__leak_report(const uint32_t *slots, uint32_t n, uint64_t waited_ns);

/* --- inline fast paths ------------------------------------------------------------------ */

/* The calling thread's state, registering it on first sight; NULL when not tracking. */
static inline struct track__thread *track__self(void)
{
	struct track__thread *t = track__tls.self;
	if (likely(t != NULL))
		return t;
	return track__self_slow();
}

/* Whether the calling thread is inside a shim slow path (then wrappers pass through). */
static inline int track__busy(void)
{
	return track__tls.busy != 0;
}

/* The cache entry for an object at address a. */
static inline struct track__cache_ent *track__cache_ent(struct track__thread *t, uintptr_t a)
{
	return &t->cache[((a >> 4) ^ (a >> 12)) & (TRACK_CACHE_SIZE - 1)];
}

/* What a current cache entry says about the object at addr. */
struct track__cached {
	struct track_obj_rec *rec;
	uint32_t idx;
};

/*
 * The cached record of the object at addr, if current: the hot path.  The entry is read
 * field by field, so a signal handler that refills it in between (its own wrapped call, a
 * sem_post say) could leave fields of two objects; the fill count read before and after
 * tells.  The generation tells whether the record still describes this object.
 */
static inline int track__obj_cached(struct track__thread *t, const void *addr,
				   struct track__cached *c)
{
	uint32_t fills = t->fills;
	struct track__cache_ent *e = track__cache_ent(t, (uintptr_t)addr);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (unlikely(e->addr != (uintptr_t)addr))
		return 0;
	c->rec = e->rec;
	c->idx = e->idx;
	if (unlikely((uint32_t)TRACK_LOAD(&c->rec->gen) != e->gen))
		return 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return likely(t->fills == fills);
}

/* The record of the object at addr: one cache entry and a generation check when hot. */
static inline struct track_obj_rec *track__obj(struct track__thread *t, const void *addr,
					      uint32_t kind, uint64_t pc, int create)
{
	struct track__cached c;
	if (likely(track__obj_cached(t, addr, &c)))
		return c.rec;
	return track__obj_slow(t, (uintptr_t)addr, kind, pc, create);
}

/* Index + 1 of an object record: 0 means none in the segment's fields. */
static inline uint32_t track__obj_index(const struct track_obj_rec *r)
{
	TRACK_ASSERT(r >= track__g.objs && r < track__g.objs + track__g.hdr->max_objects);
	return (uint32_t)(r - track__g.objs) + 1;
}

/*
 * Record that thread t now holds the lock with index idx (| TRACK_HELD_READ) and lock-order
 * node id, taken at pc (called with the lock held).  Returns how many it held before.
 * A thread whose record still shows a wait is taking locks, so it left that wait without
 * returning from it (a longjmp out of a signal handler): the wait is closed first.  The count
 * is raised before the slot is written, so that a signal handler's own push and pop in
 * between use the next slot and leave this one alone; the slot's lock id is cleared first,
 * so that such a handler's lock-order check takes it for an unknown lock, not a stale one.
 */
static inline uint32_t track__held_push_idx(struct track__thread *t, uint32_t idx, uint32_t id,
					   uint64_t pc)
{
	struct track_thread_rec *thr = t->thr;
	uint32_t n;
	if (unlikely(TRACK_LOAD(&thr->state) != TRACK_TS_RUNNING))
		track__wait_stale(t);
	n = thr->nheld;
	if (likely(n < TRACK_HELD_MAX))
		t->held_id[n] = 0;   /* a handler's lock-order check skips the slot until written */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	TRACK_STORE(&thr->nheld, n + 1);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (likely(n < TRACK_HELD_MAX)) {
		TRACK_STORE(&thr->held[n], idx);
		TRACK_STORE(&thr->held_pc[n], pc);
		t->held_id[n] = id;
		t->held_xor ^= id;   /* of the listed locks only: the others are unknown later */
	}
	return n;
}

/* A hold of listed held lock n of a lock acquired acq times before: time it if it is one
 * of the lock's first, or the one the thread's countdown picks.  Apart from the push so that
 * the uncontended lock path can keep it out of line (a call in the middle of it would cost
 * that path a stack frame).  held_t0[] of a slot not in use is always 0: whatever releases a
 * lock clears its slot. */
static inline void track__hold_tick(struct track__thread *t, uint32_t n, uint64_t acq)
{
	uint32_t left = t->hold_left;
	if (unlikely(acq < TRACK_HOLD_FIRST)) {
		if (n < TRACK_HELD_MAX)
			track__hold_begin(t, n, 1);
	} else if (likely(left != 0)) {
		t->hold_left = left - 1;
	} else if (n < TRACK_HELD_MAX) {
		track__hold_begin(t, n, 0);
	}
}

static inline uint32_t track__held_push(struct track__thread *t, struct track_obj_rec *r,
				       uint32_t mark, uint64_t pc)
{
	uint32_t n = track__held_push_idx(t, track__obj_index(r) | mark, r->lock_id, pc);
	track__hold_tick(t, n, TRACK_LOAD(&r->acquisitions));
	return n;
}

/* Record that thread t no longer holds lock r. */
static inline void track__held_pop(struct track__thread *t, struct track_obj_rec *r)
{
	struct track_thread_rec *thr = t->thr;
	uint32_t n = thr->nheld;
	if (likely(n > 0 && n <= TRACK_HELD_MAX &&
		   (thr->held[n - 1] & ~TRACK_HELD_READ) == track__obj_index(r))) {
		if (unlikely(t->held_t0[n - 1] != 0))
			track__hold_end(t, n - 1);
		t->held_xor ^= t->held_id[n - 1];
		TRACK_STORE(&thr->nheld, n - 1);
		return;
	}
	track__held_remove_slow(t, track__obj_index(r));
}

#endif /* TRACK_SHIM_H */

/*
 * track/segment.h — the layout of the shared-memory segment.
 *
 * This header is the one contract between libtrack.so (which writes the segment from inside
 * the traced process) and the track tools (which map it read-only, live or after the process
 * has gone).  Everything in it is plain data: fixed-size records, 64-bit counters, offsets
 * rather than pointers, so that a tool built separately can read it.
 *
 * Layout of one segment file (TRACK_DIR/track.<uid>.<pid>.<gen>):
 *
 *   track_seg_header      process identity, capacities, section offsets, totals
 *   track_thread_rec[]    one per thread ever seen (recycled oldest-exited-first when full)
 *   track_obj_rec[]       one per synchronisation object (mutex, rwlock, spin, cond, sem,
 *                         barrier) in use; destroyed objects are retired and their slots reused
 *   uint32_t index[]      open-addressing index: object address -> object record index + 1
 *   track_module_rec[]    the module map (path, load address, build-id) for symbolizing
 *   track_finding_rec[]   findings (misuse, later lock order and deadlocks)
 *   track_stack_rec[]     deduplicated call stacks (raw return addresses), open-addressed by
 *                         hash; everything else names a stack by its index + 1
 *   track_edge_rec[]      the lock-order graph: one edge per (held lock -> lock acquired
 *                         while holding it) first seen, in the order they were first seen
 *   uint32_t index[]      open-addressing index: pair of lock ids -> edge index + 1
 *   track_cycle_item[]    the entries of cycles longer than TRACK_CYCLE_MAX (lock-order
 *                         cycles, deadlocks), appended; a finding names its first
 *                         entry (track_finding_rec.items)
 *   track_fd_rec[]        descriptors left open at the end (TRACK_LEAKS=2)
 *   track_prof_rec[]      wait and hold profiles: per object, per waiting call stack, per
 *                         holding call site, per join site; each a log-linear histogram
 *   uint32_t index[]      open-addressing index: profile identity -> profile index + 1
 *   track_queue_rec[]     queues the program registered through track.h
 *   track_pool_tally[]    threads whose records were reused, added up by pool
 *
 * Any change to these structures bumps TRACK_SEGMENT_VERSION; a tool refuses a segment whose
 * version differs from its own rather than misread it.
 *
 * Concurrency: every record has a single writer at a time (a thread writes its own thread
 * record; a lock record's hot fields are written by the thread holding the lock).  Records
 * whose fields must be read together carry a sequence counter (odd while being written): a
 * reader copies the record and retries, or gives up and says so, when the counter moved.
 */
#ifndef TRACK_SEGMENT_H
#define TRACK_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

/* A sequence counter that is odd: its record is being written. */
#define TRACK_SEQ_WRITING(seq) (((seq) & 1u) != 0)

#define TRACK_SEGMENT_MAGIC   0x4745534b43415254ULL /* "TRACKSEG" little-endian */
#define TRACK_SEGMENT_VERSION 9u

/* Default capacities; each can be changed with an environment variable at start. */
#define TRACK_DEFAULT_MAX_THREADS  16384u  /* TRACK_MAX_THREADS */
#define TRACK_DEFAULT_THREAD_RECORDS 128u  /* TRACK_THREAD_RECORDS: records in use before
					      those of ended, reaped threads are reused */
#define TRACK_DEFAULT_MAX_OBJECTS  65536u  /* TRACK_MAX_OBJECTS */
#define TRACK_DEFAULT_MAX_MODULES  512u    /* TRACK_MAX_MODULES */
#define TRACK_DEFAULT_MAX_FINDINGS 256u    /* TRACK_MAX_FINDINGS */
#define TRACK_DEFAULT_MAX_STACKS   16384u  /* TRACK_MAX_STACKS (rounded up to a power of two) */
#define TRACK_DEFAULT_MAX_EDGES    1048576u /* TRACK_MAX_EDGES (rounded up to a power of two):
					      edges among live locks; a destroyed lock's are reused */
#define TRACK_FALLBACK_MAX_EDGES   16384u  /* its default where the kernel cannot populate
					      pages on request (before 5.14): the whole segment
					      is allocated at start there */
#define TRACK_DEFAULT_SEARCH_VISITS 4096u  /* TRACK_SEARCH_VISITS: locks one cycle search visits */
#define TRACK_CYCLE_ITEMS_PER_FINDING 256u /* the long-cycle section: this many entries per
					      finding of TRACK_MAX_FINDINGS */
#define TRACK_DEFAULT_MAX_PROFILES 4096u   /* TRACK_MAX_PROFILES (rounded up to a power of two) */
#define TRACK_DEFAULT_HOLD_SAMPLE  64u     /* TRACK_HOLD_SAMPLE: time 1 uncontended hold in N */
#define TRACK_HOLD_FIRST           1024u   /* ... past a lock's first N holds, all timed */
#define TRACK_MAX_QUEUES           64u
#define TRACK_MAX_POOL_TALLIES     64u  /* pools with reused thread records (the last entry
					   sums those past the others: TRACK_POOL_OTHER) */
#define TRACK_MAX_FDS              64u  /* descriptor records (TRACK_LEAKS=2) */
#define TRACK_DEFAULT_DEADLOCK_EXIT 7      /* TRACK_DEADLOCK_EXITCODE: a status of its own, not
					      1, which programs and track use for failing */

#define TRACK_CMDLINE_MAX   1024
#define TRACK_PATH_MAX      256
#define TRACK_NAME_MAX      16  /* as pthread_setname_np: 15 chars + NUL */
#define TRACK_HELD_MAX      16  /* locks one thread holds that are individually recorded */
#define TRACK_BUILD_ID_MAX  20
#define TRACK_FINDING_TEXT  160
#define TRACK_STACK_DEPTH   30  /* frames kept per captured stack */
#define TRACK_CYCLE_MAX     16  /* edges (or threads) of a lock-order cycle or deadlock kept in
				   the finding record; a longer one has all of them in the
				   segment's cycle-item section too */
#define TRACK_GATE_MAX      4   /* locks remembered as held around an edge (gate candidates) */

/*
 * Enumerations and the names reports give them come from one list each: X(NAME, "name",
 * ...) expands to the enum here and to the name tables of the tools (and the shim's
 * messages), so a value is named once.
 */

/* What a thread is doing: X(NAME, report name, in words). */
#define TRACK_THREAD_STATES(X)                                                  \
	X(UNUSED, "unused", "unused")                   /* slot never used */    \
	X(RUNNING, "running", "running")                /* not in a blocking call */ \
	X(MUTEX, "mutex", "blocked on mutex")                                      \
	X(RWLOCK_RD, "rwlock-read", "blocked on rwlock (read)")                    \
	X(RWLOCK_WR, "rwlock-write", "blocked on rwlock (write)")                  \
	X(SPIN, "spin", "spinning on spinlock")                                     \
	X(COND, "condvar", "waiting on condvar")                                    \
	X(JOIN, "join", "joining thread")                                           \
	X(SEM, "semaphore", "waiting on semaphore")                                 \
	X(BARRIER, "barrier", "waiting at barrier")                                 \
	X(EXITED, "exited", "exited")

#define TRACK_X_TS(e, name, verb) TRACK_TS_##e,
enum track_thread_state { TRACK_THREAD_STATES(TRACK_X_TS) TRACK_TS_COUNT };
#undef TRACK_X_TS

/* What kind of object a record describes: X(NAME, report name). */
#define TRACK_OBJ_KINDS(X)                                                      \
	X(NONE, "object")                                                           \
	X(MUTEX, "mutex")                                                           \
	X(RWLOCK, "rwlock")                                                         \
	X(SPIN, "spinlock")                                                         \
	X(COND, "condvar")                                                          \
	X(SEM, "semaphore")                                                         \
	X(BARRIER, "barrier")

#define TRACK_X_OBJ(e, name) TRACK_OBJ_##e,
enum track_obj_kind { TRACK_OBJ_KINDS(TRACK_X_OBJ) TRACK_OBJ_KIND_COUNT };
#undef TRACK_X_OBJ

/* Wait flags */
#define TRACK_WF_TIMED  0x01u   /* the wait has a timeout: it cannot deadlock for ever */
#define TRACK_WF_WRITE  0x02u   /* rwlock: waiting to write */
#define TRACK_WF_RELOCK_FAILS 0x04u /* a lock that refuses (EDEADLK) rather than blocks when its
				       owner asks again: an errorcheck mutex */
#define TRACK_WF_PREFER_WRITER 0x08u /* rwlock read request on a writer-preferring rwlock: a
				       writer queued on it blocks the read as an owner would */

/* A mutex record's subtype: the PTHREAD_MUTEX_* type in the low bits, and whether it is
 * robust and process-shared.  The types in PTHREAD_MUTEX_* order: X(NAME, report name). */
#define TRACK_MUTEX_TYPE_MASK 3u
#define TRACK_MUTEX_ROBUST    16u
#define TRACK_MUTEX_PSHARED   32u   /* PTHREAD_PROCESS_SHARED */
#define TRACK_MUTEX_TYPES(X)                                                    \
	X(NORMAL, "normal")                                                         \
	X(RECURSIVE, "recursive")                                                   \
	X(ERRORCHECK, "errorcheck")                                                 \
	X(ADAPTIVE, "adaptive")

/* Mark bit in held[] (thread records) for locks held for reading (rwlock read side). */
#define TRACK_HELD_READ 0x80000000u

/* Thread flags: X(NAME, bit, report name or NULL for one reports leave out), in the order
 * reports list them. */
#define TRACK_THREAD_FLAGS(X)                                                   \
	X(MAIN, 0x04u, "main")                 /* the process's initial thread */     \
	X(DETACHED, 0x01u, "detached")         /* at creation or by pthread_detach */ \
	X(JOINED, 0x02u, "joined")             /* reaped by a join */                 \
	X(FOREIGN, 0x08u, "foreign")           /* not made by the shim's pthread_create */ \
	X(CANCELLED, 0x10u, "cancelled")       /* ended by cancellation */            \
	X(EXPLICIT, 0x20u, "pthread_exit")     /* ended by pthread_exit */            \
	X(RECLAIMED, 0x40u, NULL)              /* ended and reaped: its record may be reused */

#define TRACK_X_TF(e, bit, name) TRACK_TF_##e = bit,
enum track_thread_flag { TRACK_THREAD_FLAGS(TRACK_X_TF) };
#undef TRACK_X_TF

struct track_thread_rec {
	/* First cache line: what the thread's own lock path touches. */
	uint32_t seq;          /* sequence counter: odd while the wait state is being changed */
	uint32_t state;        /* enum track_thread_state */
	int32_t  tid;          /* kernel thread id */
	uint32_t nheld;        /* locks held (may exceed TRACK_HELD_MAX; only the first are listed) */
	uint32_t held[TRACK_HELD_MAX]; /* object record index + 1 of each held lock, oldest first,
					  | TRACK_HELD_READ when held for reading; 0: held, but
					  taken while the list was full */
	/* The rest: identity, lifetime and the current wait. */
	uint32_t flags;        /* TRACK_TF_* */
	int32_t  creator_tid;  /* 0 for the main thread and threads created outside the shim */
	uint64_t gen;          /* increases each time the slot is (re)used */
	char     name[TRACK_NAME_MAX];
	uint64_t since_ns;     /* CLOCK_MONOTONIC ns: when the current state began */
	uint64_t wait_obj;     /* address of what it waits on (object, or pthread_t when joining) */
	uint32_t wait_obj_idx; /* object record index + 1 (0: none) */
	int32_t  wait_tid;     /* thread waited for (join), 0 if unknown */
	uint32_t wait_stack;   /* stack id where the current blocking wait began, 0 if none */
	uint32_t wait_flags;   /* TRACK_WF_* about the current wait */
	uint64_t start_routine;/* address of the thread function */
	uint64_t create_pc;    /* return address of the pthread_create call */
	uint64_t created_ns;   /* CLOCK_MONOTONIC ns */
	uint64_t exited_ns;    /* CLOCK_MONOTONIC ns, 0 while alive */
	uint64_t pthread_self; /* pthread_t value, to match joins */
	uint64_t contended;    /* lock acquisitions by this thread that had to wait */
	uint64_t wait_ns;      /* total time blocked in wrapped calls */
	uint32_t create_stack; /* stack id of the pthread_create call (the creator's stack) */
	uint32_t pad1;
	uint64_t reserved[2];
	uint64_t held_pc[TRACK_HELD_MAX]; /* return address of the call that took each held lock */
} __attribute__((aligned(64)));

struct track_obj_rec {
	/* First cache line: what the lock/unlock path touches. */
	uint64_t addr;         /* address of the object in the traced process */
	uint64_t gen;          /* increases each time the slot is reused: keeps caches honest */
	uint32_t kind;         /* enum track_obj_kind */
	int32_t  owner_tid;    /* current owner (mutex, spin, rwlock writer), 0 if none */
	uint32_t depth;        /* extra recursive acquisitions by the owner */
	uint32_t readers;      /* rwlock readers holding it now */
	uint64_t acquisitions; /* lock: acquisitions; cond, sem, barrier: waits */
	uint64_t contended;    /* acquisitions (or waits) that had to block */
	uint64_t wait_ns;      /* total time spent blocked */
	uint32_t lock_id;      /* unique for the object's lifetime: node of the lock-order graph */
	uint32_t class_id;     /* lock class (first-use or init site), for class-level checking */
	/* Second cache line: slow-path facts. */
	uint32_t waiters;      /* threads blocked on it now */
	uint32_t peak_waiters; /* most threads seen blocked at once */
	uint16_t flags;        /* TRACK_OF_* */
	uint16_t subtype;      /* mutex: PTHREAD_MUTEX_* type, TRACK_MUTEX_ROBUST, _PSHARED */
	uint32_t first_stack;  /* stack id of that first use or initialisation */
	uint64_t signals;      /* cond: pthread_cond_signal calls; sem: sem_post calls */
	uint64_t broadcasts;   /* cond: pthread_cond_broadcast calls */
	uint32_t timeouts;     /* timed acquisitions or waits that timed out */
	uint32_t next_free;    /* shim-private: free list link */
	uint64_t first_pc;     /* return address of the call that first used or initialised it */
	int32_t  first_tid;    /* thread of that call */
	uint32_t heap_next;    /* shim-private: next record of its bucket (TRACK_OF_HEAP, freed.c) */
	uint64_t cond_mutex;   /* cond: the mutex it was last waited with */
	/* Third cache line: lock-order graph and rarely written statistics. */
	uint64_t max_wait_ns;  /* longest single block */
	uint32_t out_head;     /* first outgoing lock-order edge (edge index + 1), 0 if none */
	uint32_t in_head;      /* first incoming lock-order edge: out_head and in_head are
				  adjacent (lockorder.c reaches both through one pointer) */
	uint64_t last_wait_ns;   /* cond: when the latest current wait began */
	uint64_t last_wake_ns;   /* cond: latest broadcast (or signal, with one waiter) */
	uint32_t pins;           /* mutex: condvar waits that released it and will take it back */
	int32_t  sem_value;      /* sem: its count after the latest post or wait (sem_getvalue) */
	uint32_t prof_wait;      /* shim-private cache: its TRACK_PR_WAIT profile (index + 1) */
	uint32_t prof_hold;      /* shim-private cache: its TRACK_PR_HOLD profile (index + 1) */
	uint64_t idle_wakes;     /* cond: signals and broadcasts that found no thread waiting */
	uint64_t first_hold;     /* lock: its first timed hold, in ns + 1, until its hold profile
				    is made (at the second): 0 none yet; TRACK_FIRST_HOLD_TAKEN
				    once it went into the profile.  A lock held once (a thread's
				    local, say) needs no profile: readers show this hold as one */
} __attribute__((aligned(64)));

#define TRACK_FIRST_HOLD_TAKEN UINT64_MAX

#define TRACK_OF_LIVE      0x01u  /* record describes a live object */
#define TRACK_OF_STATIC    0x02u  /* first seen in use, not through an init call */
#define TRACK_OF_DESTROYED 0x04u  /* retired by a destroy call */
#define TRACK_OF_HEAP      0x08u  /* in memory free() may release (not a loaded object's
				     data, not its first user's stack): retired when freed */
#define TRACK_OF_FREED     0x10u  /* retired because free() released its memory */

/* The object index: open-addressed by the object's address, each slot the index + 1 of the
 * record (whose own addr field is the key), 0 empty, or a tombstone (the record was retired;
 * probes go on past it).  4 bytes a slot: a few hundred objects touch few pages. */
#define TRACK_SLOT_EMPTY 0u
#define TRACK_SLOT_TOMB  0xffffffffu

struct track_module_rec {
	uint64_t base;         /* load bias (dlpi_addr) */
	uint64_t lo, hi;       /* lowest and highest mapped address of its PT_LOAD segments */
	uint32_t build_id_len;
	uint32_t flags;        /* TRACK_MF_* */
	uint8_t  build_id[TRACK_BUILD_ID_MAX];
	char     path[TRACK_PATH_MAX];
} __attribute__((aligned(64)));

#define TRACK_MF_VALID    0x01u   /* record is complete */
#define TRACK_MF_MAIN     0x02u   /* the main executable */
#define TRACK_MF_UNLOADED 0x04u   /* dlclose'd since: addresses may have been reused */

struct track_finding_rec {
	uint32_t valid;        /* 1 once complete */
	uint32_t kind;         /* enum track_finding_kind */
	int32_t  tid;          /* thread that made the call */
	uint32_t count;        /* times seen (same kind, object and call site) */
	uint64_t obj;          /* object address */
	uint64_t pc;           /* return address of the call */
	uint64_t when_ns;      /* CLOCK_MONOTONIC ns of the first sighting */
	int32_t  other_tid;    /* e.g. the owner for unlock-not-owner */
	uint32_t obj_kind;
	uint32_t stack;        /* stack id of the call */
	uint32_t other_stack;  /* a second stack where the finding has one, else 0 */
	char     text[TRACK_FINDING_TEXT];
	uint32_t severity;     /* TRACK_SEV_* */
	uint32_t nitems;       /* entries used in edges[] or tids[]/stacks[] */
	uint64_t signature;    /* identifies a cycle: the same cycle is reported once;
				  exit-holding-lock: the lock's lock_id << 32 | its waits and
				  timeouts so far (mod 2^32) */
	uint64_t gate;         /* lock-order: address of the lock held around every edge, or 0 */
	uint32_t items;        /* lock-order, deadlock: when nitems > TRACK_CYCLE_MAX, the index
				  + 1 of the first of its nitems entries in the cycle-item section
				  (every entry, the first TRACK_CYCLE_MAX also below); 0 none */
	uint32_t pad;
	uint32_t edges[TRACK_CYCLE_MAX];  /* lock-order cycle: edge index + 1, in cycle order */
	int32_t  tids[TRACK_CYCLE_MAX];   /* deadlock: the threads in the wait-for cycle */
	uint32_t stacks[TRACK_CYCLE_MAX]; /* deadlock: where each of them waits */
	uint64_t objs[TRACK_CYCLE_MAX];   /* deadlock: what each of them waits on */
} __attribute__((aligned(64)));

/*
 * A stall finding (written by the shim's watchdog thread, once per wait: its signature is
 * the thread's record generation, tid and the wait's start): tid the thread that waits, stack
 * where its wait began, obj and obj_kind what it waits on (a join: the pthread_t, kind none),
 * other_tid the lock's owner or the thread joined (0: none known), other_stack that thread's
 * own wait stack when it was blocked too, and in the arrays:
 */
#define TRACK_STALL_WAITER_STATE 0  /* edges[]: the waiter's state (enum track_thread_state) */
#define TRACK_STALL_OTHER_STATE  1  /* edges[]: the other thread's state when seen, 0 unknown */
#define TRACK_STALL_SINCE        0  /* objs[]: CLOCK_MONOTONIC ns when the wait began */
#define TRACK_STALL_THRESHOLD    1  /* objs[]: the threshold (TRACK_STALL) in ns */
#define TRACK_STALL_OTHER_OBJ    2  /* objs[]: what the other thread waited on, if blocked */
#define TRACK_STALL_OTHER_PC     3  /* objs[]: return address of the call where the owner
				       took the lock (its held_pc), if the shim listed it */
/*
 * A thread-limit finding (once per process, at the pthread_create that made the live
 * threads more than the limit): tid the creator, stack and pc its pthread_create call; then
 * the creation sites with the most live threads at that moment, most first: stacks[i] a
 * site's create_stack (0: threads the shim did not create, the main thread among them),
 * objs[i] how many live threads it started, nitems how many sites are listed.
 */
#define TRACK_LIMIT_ALIVE 0         /* tids[]: threads alive after the creation */
#define TRACK_LIMIT_LIMIT 1         /* tids[]: the limit (TRACK_THREAD_LIMIT) */
#define TRACK_LIMIT_OTHER 2         /* tids[]: live threads from sites not listed */

/* A finding's severity: X(NAME, report name).  ERROR counts for --error-exitcode; WARNING
 * (stall, thread-limit: slow or big, perhaps not wrong) counts only with --stall-is-error;
 * INFO is shown, not counted (e.g. an inversion every path of which holds a common gate
 * lock, which therefore cannot deadlock).  Lower is more severe. */
#define TRACK_SEVERITIES(X) X(ERROR, "error") X(WARNING, "warning") X(INFO, "info")

#define TRACK_X_SEV(e, name) TRACK_SEV_##e,
enum track_severity { TRACK_SEVERITIES(TRACK_X_SEV) TRACK_SEV_COUNT };
#undef TRACK_X_SEV

/* Edge flags */
#define TRACK_EF_TO_WRITE    0x01u  /* the second lock was requested exclusively at least once */
#define TRACK_EF_FROM_WRITE  0x02u  /* the first lock was held exclusively at least once */
#define TRACK_EF_CLASS       0x04u  /* a class-level edge (lock classes, not instances) */
#define TRACK_EF_PINNED      0x08u  /* a finding names it: never reused, even once its locks
				       are destroyed */

struct track_edge_rec {
	uint64_t key;          /* (from_id << 32 | to_id); 0: empty slot */
	uint32_t ready;        /* 1 once the record is complete */
	uint32_t flags;        /* TRACK_EF_* (more may be or'ed in later) */
	uint32_t from_id, to_id;     /* lock ids (or class ids for class edges) */
	uint32_t from_idx, to_idx;   /* object record index + 1 of each, when the edge was made */
	uint32_t next_out;     /* next edge with the same from_id (edge index + 1) */
	int32_t  tid;          /* thread that made the edge first */
	uint32_t to_stack;     /* stack where the second lock was taken, holding the first */
	uint32_t ngate;        /* entries in gate[] */
	uint64_t from_pc;      /* return address where the first lock was taken */
	uint64_t to_pc;        /* return address where the second lock was taken */
	uint64_t count;        /* times first seen per thread (not every acquisition) */
	uint32_t gate[TRACK_GATE_MAX]; /* lock ids held (besides from) every time the edge was seen */
	/* shim-private links (the tools read edges by id from findings): the lists of edges
	 * out of and into each lock, doubly linked so that a destroyed lock's edges come out
	 * in constant time each; a free edge's next_out links the free list */
	uint32_t prev_out, next_in, prev_in, pad;
} __attribute__((aligned(64)));

/* An entry of a long cycle (segment section cycle_items_off): lock-order cycles use edge,
 * deadlocks tid, stack and obj, as a finding's edges[], tids[], stacks[] and objs[]. */
struct track_cycle_item {
	uint32_t edge;         /* edge index + 1 */
	int32_t  tid;          /* the thread */
	uint32_t stack;        /* where it waits */
	uint32_t pad;
	uint64_t obj;          /* what it waits on */
};

struct track_stack_rec {
	uint64_t hash;         /* 0: empty slot */
	uint32_t nframes;      /* 0 while being written */
	uint32_t hits;         /* times this stack was captured */
	uint64_t frames[TRACK_STACK_DEPTH]; /* return addresses, innermost first */
};

/* What the shim found wrong: X(NAME, report name). */
#define TRACK_FINDING_KINDS(X)                                                  \
	X(NONE, "none")                                                             \
	X(UNLOCK_NOT_OWNER, "unlock-not-owner")     /* a lock another thread holds */ \
	X(UNLOCK_UNLOCKED, "unlock-unlocked")       /* a lock nobody holds */       \
	X(DOUBLE_LOCK, "double-lock")               /* a non-recursive mutex it holds */ \
	X(DESTROY_LOCKED, "destroy-locked")         /* a held lock destroyed */     \
	X(DESTROY_COND_WAITERS, "destroy-cond-with-waiters")                        \
	X(EXIT_HOLDING_LOCK, "exit-holding-lock")                                   \
	X(JOIN_INVALID, "join-invalid")                                             \
	X(LOCK_ORDER, "lock-order-inversion")       /* a cycle in the lock-order graph */ \
	X(DEADLOCK, "deadlock")                     /* threads waiting in a cycle, now */ \
	X(COND_NO_MUTEX, "cond-wait-without-mutex") /* without holding its mutex */ \
	X(COND_TWO_MUTEXES, "cond-two-mutexes")     /* one condvar, two mutexes at once */ \
	X(DESTROY_BARRIER_WAITERS, "destroy-barrier-with-waiters")                   \
	X(DETACH_INVALID, "detach-invalid")         /* a detached or joined thread */ \
	X(API_CALL_FAILED, "api-call-failed")       /* refused for an invalid argument */ \
	X(REINIT_LIVE, "reinit-in-use")             /* initialised again while held or waited */ \
	X(CANCEL_INVALID, "cancel-invalid")         /* pthread_cancel of a joined thread */ \
	X(USE_AFTER_DESTROY, "use-after-destroy")   /* a mutex used after its destroy */ \
	X(STALL, "stall")                           /* blocked longer than TRACK_STALL */ \
	X(THREAD_LIMIT, "thread-limit")             /* more threads alive than TRACK_THREAD_LIMIT */ \
	X(CHECKING_INCOMPLETE, "checking-incomplete") /* lock-order checking lost something: an \
				edge dropped (table full of live edges) or a cycle search cut off \
				by its visit budget; the text says which and what raises it */ \
	X(FREED_LOCKED, "freed-locked")             /* memory of a held lock freed */ \
	/* derived by the tools when the process has ended, if leak checking was asked for \
	 * (header leak_check): never written by the shim */                          \
	X(THREAD_LEAK, "thread-leak")               /* alive at exit, or ended unjoined */ \
	X(LOCK_HELD_AT_EXIT, "lock-held-at-exit")   /* still locked when it ended */ \
	X(FD_LEAK, "fd-leak")                       /* opened since the start, still open */ \
	/* derived by the tools when the process ended other than by exit() or _exit() (a   \
	 * signal): never written by the shim */                                        \
	X(KILLED_HOLDING_LOCK, "killed-holding-lock") /* held by a thread alive at that end */

#define TRACK_X_FK(e, name) TRACK_FK_##e,
enum track_finding_kind { TRACK_FINDING_KINDS(TRACK_X_FK) TRACK_FK_COUNT };
#undef TRACK_X_FK

/* Lock-order checking (TRACK_LOCK_ORDER, track run --lock-order): X(NAME, value, its name),
 * listed as messages list them, the default first.  INSTANCE: nodes are lock objects;
 * CLASS: nodes are lock classes, locks first used at the same site. */
#define TRACK_LOCK_ORDER_MODES(X) X(INSTANCE, 1, "instance") X(CLASS, 2, "class") X(OFF, 0, "off")

#define TRACK_X_LO(e, v, name) TRACK_LO_##e = v,
#define TRACK_X_LO_COUNT(e, v, name) +1
enum track_lock_order_mode { TRACK_LOCK_ORDER_MODES(TRACK_X_LO) };
enum { TRACK_LO_COUNT = 0 TRACK_LOCK_ORDER_MODES(TRACK_X_LO_COUNT) };
#undef TRACK_X_LO
#undef TRACK_X_LO_COUNT

/* What a confirmed deadlock does (TRACK_ON_DEADLOCK, track run --on-deadlock): REPORT
 * records it, and the program hangs as it would without track; EXIT records it, then
 * _exit(deadlock_exit); ABORT records it, then abort(). */
#define TRACK_DEADLOCK_ACTIONS(X) X(REPORT, "report") X(EXIT, "exit") X(ABORT, "abort")

#define TRACK_X_OD(e, name) TRACK_OD_##e,
enum track_deadlock_action { TRACK_DEADLOCK_ACTIONS(TRACK_X_OD) TRACK_OD_COUNT };
#undef TRACK_X_OD

/* A descriptor open when the process ended that was not open when it started (written at
 * the end, with TRACK_LEAKS=2). */
#define TRACK_FD_TARGET_MAX 104
struct track_fd_rec {
	int32_t  fd;
	uint32_t pad;
	uint64_t dev, ino;         /* what it refers to */
	char     target[TRACK_FD_TARGET_MAX];  /* /proc/self/fd/N's link, cut to fit */
};

/*
 * Profiles: how long threads waited, and held locks, as counts, totals, maxima and a
 * histogram of durations.  The histogram is log-linear: bucket 0 counts durations under
 * 2^TRACK_HIST_MIN_LOG ns (256 ns); then each power of two from there to 2^TRACK_HIST_MAX_LOG
 * ns (68.7 s) is cut into TRACK_HIST_SUB equal buckets (so a bucket is at most 25% wider
 * than its lower bound); the last bucket counts everything longer.
 */
#define TRACK_HIST_SUB     4
#define TRACK_HIST_MIN_LOG 8
#define TRACK_HIST_MAX_LOG 36
#define TRACK_HIST_BUCKETS (2 + TRACK_HIST_SUB * (TRACK_HIST_MAX_LOG - TRACK_HIST_MIN_LOG))

/* The bucket a duration of ns falls in. */
static inline uint32_t track_hist_bucket(uint64_t ns)
{
	uint32_t e;
	if (ns < (1ull << TRACK_HIST_MIN_LOG))
		return 0;
	e = 63u - (uint32_t)__builtin_clzll(ns);
	if (e >= TRACK_HIST_MAX_LOG)
		return TRACK_HIST_BUCKETS - 1;
	return 1u + (e - TRACK_HIST_MIN_LOG) * TRACK_HIST_SUB +
	       (uint32_t)((ns >> (e - 2)) & (TRACK_HIST_SUB - 1));
}

/* The least duration bucket b counts (its upper bound is the next one's lower bound; the
 * last bucket has none). */
static inline uint64_t track_hist_lower(uint32_t b)
{
	uint32_t e, sub;
	if (b == 0)
		return 0;
	if (b >= TRACK_HIST_BUCKETS - 1)
		return 1ull << TRACK_HIST_MAX_LOG;
	e = TRACK_HIST_MIN_LOG + (b - 1) / TRACK_HIST_SUB;
	sub = (b - 1) % TRACK_HIST_SUB;
	return (1ull << e) + (uint64_t)sub * (1ull << (e - 2));
}

/* What a profile record measures: X(NAME, report name). */
#define TRACK_PROF_ROLES(X)                                                     \
	X(NONE, "none")                                                             \
	X(WAIT, "wait")           /* an object's blocking waits: a lock's contended \
				     acquisitions; condvar, semaphore and barrier waits */ \
	X(HOLD, "hold")           /* a lock's hold times (sampled: see hold_sample) */ \
	X(WAIT_SITE, "wait-site") /* the waits on one object from one call stack */ \
	X(HOLD_SITE, "hold-site") /* the waits on one lock charged to the call that held it \
				     when the wait began (its return address) */      \
	X(JOIN_SITE, "join-site") /* joins that blocked, from one call stack */

#define TRACK_X_PR(e, name) TRACK_PR_##e,
enum track_prof_role { TRACK_PROF_ROLES(TRACK_X_PR) TRACK_PR_COUNT };
#undef TRACK_X_PR

/*
 * One profile.  Identity (written once, before ready): role, object, site.  Figures
 * (written with relaxed atomic adds by any thread, no lock): count of events, their total
 * and longest duration, and the histogram.  Hold profiles are estimates: a lock's first 1024
 * holds are all timed and counted once; after that an uncontended hold is timed once in
 * hold_sample and counted hold_sample times; a hold that began with a wait is always timed
 * and counted once; samples says how many were timed.
 */
struct track_prof_rec {
	uint64_t key;          /* hash of the identity; 0: empty */
	uint32_t ready;        /* 1 once the identity is complete */
	uint32_t role;         /* enum track_prof_role */
	uint32_t obj_kind;     /* enum track_obj_kind (join: TRACK_OBJ_NONE) */
	uint32_t lock_id;      /* the object's lock id (unique for its lifetime); 0 for joins */
	uint64_t addr;         /* the object's address */
	uint64_t pc;           /* wait, hold: where the object was first used; sites: the call's
				  return address */
	uint32_t stack;        /* wait, hold: the object's first-use stack; wait-site, join-site:
				  the waiter's stack; hold-site: 0 (only pc is known) */
	uint32_t pad;
	uint64_t count;        /* events (holds: estimated) */
	uint64_t total_ns;     /* their total duration (holds: estimated) */
	uint64_t max_ns;       /* the longest one */
	uint64_t samples;      /* events timed */
	uint64_t hist[TRACK_HIST_BUCKETS];
} __attribute__((aligned(64)));

/* A queue the program registered with track_queue_register (track.h).  The program's calls
 * update the counters with one relaxed atomic each; depth is enqueued - dequeued. */
#define TRACK_QUEUE_NAME 48
struct track_queue_rec {
	uint32_t valid;        /* 1 once registered */
	uint32_t pad;
	uint64_t capacity;     /* 0: unbounded */
	uint64_t enqueued, dequeued;
	uint64_t rejected;     /* enqueues refused: the queue was full (backpressure) */
	uint64_t high_water;   /* the greatest depth seen at an enqueue */
	uint64_t waits;        /* producers that waited for room */
	uint64_t wait_ns;      /* their total wait */
	uint64_t created_ns;   /* CLOCK_MONOTONIC */
	char     name[TRACK_QUEUE_NAME];
} __attribute__((aligned(64)));

/* The threads of one pool whose records were reused, added up.  A pool is the threads that
 * run one start routine (0: threads the shim did not start) under one name pattern
 * (track_name_pattern); reports add a pool's tally to what its records still kept say, so
 * that its counts cover every thread it had however many records were reused.  Written
 * under the shim's thread lock, with the header's pool_seq odd while a record moves into a
 * tally (a reader copying both then would count its thread twice or not at all). */
#define TRACK_POOL_OTHER UINT64_MAX   /* start_routine of the entry summing pools that found
					 the table full */
struct track_pool_tally {
	uint64_t start_routine;
	char     pattern[TRACK_NAME_MAX]; /* NUL-terminated */
	uint64_t threads;      /* threads whose records were folded in */
	uint64_t life_ns;      /* their lifetimes added up */
	uint64_t blocked_ns;   /* their time blocked in wrapped calls */
	uint64_t pad;
} __attribute__((aligned(64)));

/* name (at most n bytes, maybe unterminated) with each run of digits replaced by '*',
 * NUL-terminated in out[len]: "worker-12" -> "worker-*".  The pools' name patterns. */
static inline const char *track_name_pattern(const char *name, size_t n, char *out, size_t len)
{
	size_t i, o = 0;
	int digits = 0;   /* inside a run of digits, already written as '*' */
	for (i = 0; i < n && name[i] != '\0' && o + 1 < len; i++) {
		int d = name[i] >= '0' && name[i] <= '9';
		if (!d || !digits)
			out[o++] = d ? '*' : name[i];
		digits = d;
	}
	out[o] = '\0';
	return out;
}

/* How long the thread of record t lived up to end (CLOCK_MONOTONIC ns; its exit if it
 * ended), and how long of that it was blocked in wrapped calls (a wait under way counts up
 * to end). */
static inline void track_thread_times(const struct track_thread_rec *t, uint64_t end,
				      uint64_t *life, uint64_t *blocked)
{
	uint64_t until = t->exited_ns ? t->exited_ns : end;
	*life = until > t->created_ns ? until - t->created_ns : 0;
	*blocked = t->wait_ns;
	if (t->state != TRACK_TS_RUNNING && t->state != TRACK_TS_EXITED && end > t->since_ns)
		*blocked += end - t->since_ns;
	if (*blocked > *life)
		*blocked = *life;
}

/* Process states in the header: how the process ended, when the shim saw it end. */
#define TRACK_PS_RUNNING    1u
#define TRACK_PS_EXITED     2u   /* exit() ran the shim's destructor */
#define TRACK_PS_QUICK_EXIT 3u   /* _exit() or _Exit(), called by the program: exit_code */
#define TRACK_PS_DEADLOCK   4u   /* the shim ended it on a deadlock (TRACK_ON_DEADLOCK=exit):
				    exit_code */

struct track_seg_header {
	uint64_t magic;            /* TRACK_SEGMENT_MAGIC */
	uint32_t version;          /* TRACK_SEGMENT_VERSION */
	uint32_t header_size;      /* sizeof(struct track_seg_header) */
	uint64_t total_size;       /* bytes in the file */
	/* record sizes, so that a reader can check the layout */
	uint32_t thread_rec_size, obj_rec_size, hash_slot_size, module_rec_size;
	uint32_t finding_rec_size, stack_rec_size, edge_rec_size, max_edges;
	uint64_t edges_off;
	/* capacities and offsets (bytes from the start of the segment) */
	uint32_t max_threads, max_objects, hash_slots, max_modules, max_findings, max_stacks;
	/* hash_slot_size is 4 (uint32_t slots, see TRACK_SLOT_*) */
	uint64_t threads_off, objects_off, hash_off, modules_off, findings_off, stacks_off;

	/* the process */
	int32_t  pid, ppid;
	uint32_t uid, exec_gen;    /* exec_gen: 0, 1, ... for successive images of one pid */
	uint64_t proc_starttime;   /* /proc/PID/stat field 22: tells pid reuse from exec */
	uint64_t run_id;           /* TRACK_RUN_ID of the `track run` that started it, or 0 */
	uint64_t start_realtime_ns;/* CLOCK_REALTIME at shim start */
	uint64_t start_mono_ns;    /* CLOCK_MONOTONIC at shim start */
	uint64_t exit_mono_ns;     /* CLOCK_MONOTONIC when it ended (proc_state EXITED and after),
				      0 otherwise */
	uint32_t proc_state;       /* TRACK_PS_* */
	int32_t  exit_tid;         /* the thread that ended it by calling exit() or _exit(); 0 if
				      none did (killed, or ended by the shim on a deadlock) */
	char     exe[TRACK_PATH_MAX];
	char     cmdline[TRACK_CMDLINE_MAX]; /* arguments separated by NUL, truncated */
	uint32_t cmdline_len;
	uint32_t pad2;

	/* totals: written with atomic operations */
	uint64_t threads_created;  /* through pthread_create (successful) */
	uint64_t threads_exited;
	uint64_t threads_joined;
	uint64_t threads_detached;
	uint64_t threads_alive;    /* including the main thread and foreign threads */
	uint64_t threads_peak;
	uint64_t threads_foreign;  /* seen but not created through the shim */
	uint64_t threads_used;     /* thread slots handed out, ever */
	uint64_t threads_recycled; /* exited records overwritten when the table was full */
	uint64_t threads_dropped;  /* threads not recorded: table full of live threads */
	uint64_t objects_used;     /* object slots handed out, ever (high-water mark) */
	uint64_t objects_live;
	uint64_t objects_dropped;  /* objects not tracked: table or index full */
	uint64_t objects_recycled; /* idle records reclaimed when the table was full */
	uint64_t modules_used;
	uint64_t modules_dropped;
	uint64_t findings_used;
	uint64_t findings_dropped;
	uint64_t stacks_used;      /* distinct stacks recorded */
	uint64_t stacks_dropped;   /* captures not recorded: table full */
	uint64_t stack_captures;   /* captures made (a measure of slow-path work) */
	uint32_t stacks_enabled;   /* 0 if TRACK_STACKS=0 turned capture off */
	uint32_t lock_order_mode;  /* TRACK_LO_* */
	uint64_t edges_used;       /* edge records handed out, ever (high-water mark) */
	uint64_t edges_dropped;    /* edges not recorded: table full of live edges */
	uint64_t cycles_too_long;  /* long cycles reported with their first TRACK_CYCLE_MAX
				      entries only: the cycle-item section was full */
	uint32_t on_deadlock;      /* TRACK_OD_* */
	int32_t  deadlock_exit;    /* exit status used by TRACK_OD_EXIT */
	uint64_t storage_failures; /* pages of the segment its file system could not supply:
				      the tables stopped growing there (a full TRACK_DIR) */
	uint64_t stale_waits;      /* waits left without returning (a longjmp out of a signal
				      handler), closed when the thread was next seen running */
	uint64_t stacks_unknown;   /* captures skipped: the thread ran on a stack whose bounds the
				      shim does not know (a coroutine or signal stack) */
	uint64_t edge_index_off;   /* the edge index: edge_index_slots uint32_t, edge index + 1 */
	uint32_t edge_index_slots;
	uint32_t pad4;
	uint64_t env_bad;          /* bit i: entry i of TRACK_ENV_VARS (track/env.h) had a value
				      the shim could not use, and it used the default */
	int32_t  exit_code;        /* the status, for proc_state QUICK_EXIT and DEADLOCK */
	uint32_t leak_check;       /* 1: TRACK_LEAKS asked for leak findings at the end */
	uint64_t fds_off;          /* descriptors open at the end that were not at the start
				      (TRACK_LEAKS=2): max_fds track_fd_rec */
	uint32_t max_fds, fds_used;
	uint64_t fds_dropped;      /* more of them than max_fds */
	/* profiles (track_prof_rec) and registered queues (track_queue_rec) */
	uint64_t profs_off, prof_index_off, queues_off;
	uint32_t max_profs, prof_index_slots;
	uint64_t profs_used;       /* profile records handed out */
	uint64_t profs_dropped;    /* events not profiled: the profile table was full */
	uint32_t hold_sample;      /* past a lock's first 1024 holds, 1 uncontended hold in
				      hold_sample is timed (0: no hold is) */
	uint32_t max_queues;
	uint64_t queues_used;
	uint64_t queues_dropped;   /* registrations refused: the queue table was full */
	/* stall alerts and dumps (TRACK_STALL, TRACK_THREAD_LIMIT, TRACK_DUMP_SIGNAL) */
	uint64_t stall_ns;         /* TRACK_STALL: a wait this long is a stall (0: not checked) */
	uint32_t thread_limit;     /* TRACK_THREAD_LIMIT (0: none) */
	uint32_t dump_signal;      /* TRACK_DUMP_SIGNAL's number (0: none) */
	uint64_t dump_requests;    /* times that signal arrived: `track run` watches it */
	int32_t  watchdog_tid;     /* the shim's watchdog thread, in no thread count (0: none) */
	uint32_t pad5;
	uint64_t reserved[1];
	/* the lock-order graph bounded by what is alive, and cycles of any length */
	uint64_t edges_live;       /* edges among locks not destroyed (edges_used minus reused) */
	uint64_t edges_reclaimed;  /* edges of destroyed locks taken out of the graph */
	uint64_t searches_cut;     /* cycle searches stopped by TRACK_SEARCH_VISITS */
	uint64_t cycle_items_off;  /* max_cycle_items struct track_cycle_item */
	uint64_t cycle_items_used; /* entries handed out (append only) */
	uint32_t max_cycle_items;
	uint32_t search_visits;    /* TRACK_SEARCH_VISITS */
	uint64_t gone_realtime_ns; /* written by the tools, never by the shim: CLOCK_REALTIME when
				      a track command first found the process gone without an end
				      of its own recorded (killed, crashed, replaced by exec): it
				      ended before then.  0 until then */
	uint64_t pool_tallies_off; /* max_pool_tallies struct track_pool_tally */
	uint32_t max_pool_tallies, pool_tallies_used;
	uint64_t pool_seq;         /* odd while a reused thread record moves into its tally */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct track_thread_rec) == 384, "thread record layout");
_Static_assert(sizeof(struct track_obj_rec) == 192, "object record layout");
_Static_assert(sizeof(struct track_edge_rec) == 128, "edge record layout");
_Static_assert(sizeof(struct track_stack_rec) == 256, "stack record layout");
_Static_assert(sizeof(struct track_module_rec) == 320, "module record layout");
_Static_assert(sizeof(struct track_finding_rec) == 576, "finding record layout");
_Static_assert(sizeof(struct track_fd_rec) == 128, "descriptor record layout");
_Static_assert(sizeof(struct track_prof_rec) == 1024, "profile record layout");
_Static_assert(sizeof(struct track_queue_rec) == 128, "queue record layout");
_Static_assert(sizeof(struct track_cycle_item) == 24, "cycle item layout");
_Static_assert(sizeof(struct track_pool_tally) == 64, "pool tally layout");
_Static_assert(sizeof(struct track_seg_header) == 1984, "header layout");

#endif /* TRACK_SEGMENT_H */

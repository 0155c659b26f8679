/*
 * top_model.h — what the dashboard (track top) shows, computed from successive views of one
 * process: counts of threads by state, a history of threads alive (the sparkline), threads
 * created and exited per second, the findings that light up, pools (threads grouped by
 * start routine), locks with their rates between refreshes and percentiles, queues
 * (registered queues, condvars with waiters, semaphores) and the wait-for chains (who
 * blocks whom right now).
 *
 * One model, many front ends: the curses screen (tools/top/) and the batch frames, text and
 * JSON (render/topframe.c), draw from the same struct track_top.  Locks, pools and queues
 * come from the reports' model (model.h track_lock_rows, pools.h, queues.h); this adds what
 * needs two frames.  Rates: the model keeps the previous frame's totals (per object by
 * record slot and generation, per queue by slot, per pool by routine and name pattern) and
 * divides by the time between the two snapshots' reads.  Its own buffers grow and are
 * reused; the reports' model allocates its rows afresh each frame.
 */
#ifndef TRACK_TOP_MODEL_H
#define TRACK_TOP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/view.h"

#define TRACK_TOP_HISTORY 120   /* samples of threads alive the sparkline keeps */
#define TRACK_TOP_CHAIN 4       /* links of a wait-for chain shown */
#define TRACK_TOP_SITE 96       /* a symbolized site or name, cut to fit */

/* The findings the header lights: X(NAME, label). */
#define TRACK_TOP_ALERTS(X)                                                     \
	X(LOCK_ORDER, "lock-order") X(DEADLOCK, "deadlock") X(MISUSE, "misuse")     \
	X(STALL, "stall") X(LEAK, "leak-growth")

#define TRACK_X_TA(e, label) TRACK_TOP_ALERT_##e,
enum track_top_alert { TRACK_TOP_ALERTS(TRACK_X_TA) TRACK_TOP_ALERT_COUNT };
#undef TRACK_X_TA

extern const char *const track_top_alert_names[TRACK_TOP_ALERT_COUNT];

/* A rate not known yet (the first frame): front ends show "-". */
#define TRACK_TOP_NO_RATE (-1.0)

struct track_top_lock {
	const struct track_obj_rec *rec;   /* in the current snapshot */
	uint64_t acquisitions, contended, wait_ns;   /* totals, unfinished waits counted */
	double acq_per_s;        /* acquisitions per second since the previous frame */
	double wait_per_s;       /* ns of waiting per second of wall time (1e9: one thread
				    blocked all the time) */
	double contended_pct;    /* of the acquisitions since the previous frame (first frame:
				    of all), 0..100 */
	uint64_t wait_p95, hold_p95;   /* of the waits and (sampled) holds since the previous
					  frame (0: none), or since the start when the lock was
					  not among those kept then (the first frame) */
	uint64_t wait_max;             /* the longest wait since the start, unfinished ones
					  counted */
	int32_t owner;           /* 0: free */
	uint32_t waiters;
	char name[TRACK_TOP_SITE];    /* its variable's name, or its address */
	char site[TRACK_TOP_SITE];    /* where it was first used, symbolized */
	char top_holder[TRACK_TOP_SITE];  /* the holding site that made others wait longest
					     ("" none yet) */
	/* its profiles (core/profile.h), from track_lock_rows: NULL none yet */
	const struct track_prof_rec *wait_prof, *hold_prof, *holder_prof;
};

/* How front ends may order the locks: X(NAME, column label). */
#define TRACK_TOP_LOCK_SORTS(X)                                                 \
	X(WAIT_RATE, "WAIT/S") X(ACQ_RATE, "ACQ/S") X(CONTENDED, "CONT%")           \
	X(WAIT_P95, "WAIT-P95") X(WAIT_MAX, "WAIT-MAX") X(HOLD_P95, "HOLD-P95")     \
	X(WAITERS, "WAITERS")

#define TRACK_X_LS(e, label) TRACK_TOP_SORT_##e,
enum track_top_lock_sort { TRACK_TOP_LOCK_SORTS(TRACK_X_LS) TRACK_TOP_SORT_COUNT };
#undef TRACK_X_LS

extern const char *const track_top_sort_names[TRACK_TOP_SORT_COUNT];

/* A pool: threads with one start routine and one name pattern (core/pools.h). */
struct track_top_pool {
	uint64_t start_routine;
	char pattern[TRACK_NAME_MAX + 1];   /* "worker-*" */
	char name[TRACK_TOP_SITE];   /* the start routine's function ("(main)": the main thread
					and threads the shim did not create), and the pattern
					when it is not the function's name */
	uint32_t threads, running;   /* alive now, running now */
	uint32_t threads_ever;       /* threads it has had (the exited ones still recorded) */
	double busy_pct;          /* share of its threads' time not blocked in a pthread call
				     since the previous frame (first frame: over their lives) */
	uint32_t blocked_state;   /* what most of its blocked threads do (TRACK_TS_RUNNING:
				     none is blocked) */
	uint32_t blocked_count;   /* how many of them do that on blocked_obj */
	uint64_t blocked_obj;
	char blocked_on[TRACK_TOP_SITE];   /* that, in words: "condvar work.ready" */
};

/* What a queue row is. */
enum track_top_queue_type {
	TRACK_TOP_Q_REGISTERED, TRACK_TOP_Q_CONDVAR, TRACK_TOP_Q_SEM, TRACK_TOP_Q_BARRIER
};

struct track_top_queue {
	enum track_top_queue_type type;
	char name[TRACK_TOP_SITE];
	uint64_t depth, capacity, high_water, rejected;  /* registered queues */
	double rejected_per_s, enqueued_per_s;           /* registered; signals/s (condvar),
							    posts/s (semaphore), arrivals/s
							    (barrier) in enqueued */
	uint64_t wait_p95;         /* condvar, semaphore, barrier: of its waits, since the start */
	uint32_t waiters;          /* condvar, semaphore: threads waiting now */
	uint64_t producer_waits;   /* registered: producers that waited for room, in total */
	double waits_per_s;        /* ... and per second since the previous frame */
	int32_t sem_value;
};

/* One thread alive, for the threads panel and the wait-for chains. */
struct track_top_thread {
	const struct track_thread_rec *rec;
	uint64_t for_ns;           /* in its state that long */
	char pool[TRACK_TOP_SITE];
	char doing[TRACK_TOP_SITE * 2];   /* "running", "blocked on mutex hot_lock" */
};

/* A thread blocked on a lock or a join, and who keeps it there: the owner, what the owner
 * waits for, and so on (at most TRACK_TOP_CHAIN links).  cycle: the chain came back to a
 * thread already in it: a deadlock, unless timed: some wait in it has a timeout and will
 * end (a timed lock backing off), so the cycle may resolve. */
struct track_top_chain {
	int32_t tid[TRACK_TOP_CHAIN + 1];    /* tid[0] the waiter; tid[i+1] holds what tid[i]
						waits on (0: no owner known) */
	uint32_t state[TRACK_TOP_CHAIN + 1]; /* each one's state */
	char what[TRACK_TOP_CHAIN + 1][TRACK_TOP_SITE];  /* what each waits on ("" running) */
	uint32_t n;                          /* threads in tid[] */
	uint64_t for_ns;                     /* how long tid[0] has waited */
	int cycle;
	int timed;                           /* a wait of the chain has a timeout */
};

struct track_top {
	/* the frame */
	int32_t pid;
	char command[160];         /* its command line, cut to fit */
	uint64_t frame;            /* frames computed so far: 1 for the first */
	uint64_t at_mono_ns;       /* when the snapshot was read */
	uint64_t uptime_ns;        /* the process's, to now or to its end */
	int alive;                 /* the process runs */
	int first;                 /* no previous frame: no rates */
	double interval_s;         /* since the previous frame */
	uint64_t created, exited, peak, threads_alive;
	double created_per_s, exited_per_s;
	uint32_t by_state[TRACK_TS_COUNT];
	uint32_t alerts[TRACK_TOP_ALERT_COUNT];   /* findings of each (leak-growth: also a
						     steady rise of threads alive) */
	uint32_t history[TRACK_TOP_HISTORY];      /* threads alive, oldest first */
	uint32_t nhistory;
	struct track_top_lock *locks;   size_t nlocks;
	struct track_top_pool *pools;   size_t npools;
	struct track_top_queue *queues; size_t nqueues;
	struct track_top_thread *threads; size_t nthreads;
	struct track_top_chain *chains; size_t nchains;
	/* the previous frame, and buffers kept for the next (top_model.c) */
	struct track_top_prev *prev;
};

void track_top_init(struct track_top *t);
void track_top_free(struct track_top *t);

/* Compute a new frame from v (whose snapshot was just loaded or reloaded), with rates
 * against the previous frame.  0, or -1 out of memory (the frame is then empty). */
int track_top_update(struct track_top *t, struct track_view *v);

/* Queues: registered ones first (in the order registered), then condvars with waiters,
 * semaphores alive and barriers with waiters, most waited on first (core/queues.h). */

/* Order t's locks by key, largest first. */
void track_top_sort_locks(struct track_top *t, enum track_top_lock_sort key);

/* The lock's figure that key orders by (for highlighting the sorted column). */
double track_top_lock_key(const struct track_top_lock *l, enum track_top_lock_sort key);

/* The sparkline of the history, one cell per sample, the latest last, at most width cells,
 * into buf: with ascii, " .:-=+*#%@"; else the Unicode block elements (UTF-8). */
const char *track_top_sparkline(const struct track_top *t, int width, int ascii, char *buf,
				size_t len);

/* The recorded stack of a thread (where its wait began, else where it was created) or of a
 * lock (where it was first used, and where its owner took it), one symbolized frame a line,
 * with a title line first, into buf (a NUL-terminated text of lines).  Nothing is
 * stopped: these are what the shim recorded. */
const char *track_top_thread_stack(struct track_view *v, int32_t tid, char *buf, size_t len);
const char *track_top_lock_stack(struct track_view *v, uint64_t addr, char *buf, size_t len);

/* One process watched: its snapshot, reloaded each refresh (track_snap_reload: nothing is
 * stopped, and a warm snapshot allocates nothing), its view and the model.  Once the process
 * has ended the snapshot is not read again: the last picture stays. */
struct track_top_session {
	struct track_snap snap;
	struct track_view view;
	struct track_top model;
	int loaded;
	int broken;    /* a reload failed: the snapshot is not to be read again, and the model
			  shows nothing of it (its records may be gone) */
};

/* Load the segment at path and compute the first frame: TRACK_EXIT_OK, or a track_status
 * with a one-line reason in err. */
int track_top_open(struct track_top_session *ss, const char *path, char *err, size_t errlen);
/* Read the segment again (unless its process has ended) and compute the next frame.  After
 * a failure (said in err) the session is broken: the model's lists are empty and stay so. */
int track_top_refresh(struct track_top_session *ss, char *err, size_t errlen);
void track_top_close(struct track_top_session *ss);

#endif /* TRACK_TOP_MODEL_H */

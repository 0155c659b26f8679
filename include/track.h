/*
 * track.h — the public in-process API of track: thread-leak snapshots and checks, for tests
 * (goleak for pthreads programs), and queues a program registers so that the tools show
 * their depth, capacity, high-water mark, rejections and producers' waits.
 *
 *	track_snapshot_t *snap;
 *	track_snapshot(&snap);                 // which threads are alive now
 *	... run the code under test ...
 *	char *report;
 *	if (track_check_leaks(snap, NULL, &report) == TRACK_LEAKS)
 *		fprintf(stderr, "%s", report), free(report);
 *	track_snapshot_free(snap);
 *
 * Design: this header is the whole client, and needs no library at link time.  libtrack.so
 * exports one entry point, track_api_get(), which returns a table of the functions that
 * implement the API (libtrack/leaks.c).  The inline functions below find it at run time with
 * dlsym(RTLD_DEFAULT), once, so one program works in every case:
 *   - linked with -ltrack: the entry point is in the global scope, found;
 *   - run under the preloaded shim (LD_PRELOAD, track run): found the same way;
 *   - run without the shim, or with the shim disabled (TRACK_DISABLE, no segment): every call
 *     returns TRACK_ABSENT, a status of its own: a test can skip, it never passes by default.
 * A snapshot also lists the descriptors open then, for track_check_fd_leaks.
 * The API reads the shim's thread records (the same ones reports use) from the calling
 * thread; nothing is added to any lock or thread path.  Before glibc 2.34, link with -ldl.
 *
 * A thread is known by its record's slot and generation, so a thread that ended and whose
 * record was reused by a new one is not taken for the old one.  The thread calling
 * track_check_leaks is never reported.  Threads the shim could not record (its thread table
 * full of live threads: the report's "not tracked") are invisible to it.
 *
 * C and C++; TRACK_API_VERSION is the version of this header's table.
 */
#ifndef TRACK_H
#define TRACK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <dlfcn.h>

#include "track/segment.h"

/* RTLD_DEFAULT, which dlfcn.h defines only under _GNU_SOURCE: the global scope. */
#define TRACK__RTLD_DEFAULT ((void *)0)

#ifdef __cplusplus
extern "C" {
#endif

#define TRACK_API_VERSION 2   /* 1: thread leaks; 2: descriptor leaks and queues */

/* What the API's calls return. */
enum track_status {
	TRACK_OK = 0,       /* no leak (track_check_leaks), or done */
	TRACK_LEAKS = 1,    /* threads leaked: *report says which */
	TRACK_ABSENT = 2,   /* the shim is not loaded, or loaded but not recording: cannot tell */
	TRACK_ERROR = 3     /* out of memory, or a snapshot of no use here */
};

/* The threads alive at one moment (opaque; track_snapshot_free frees it). */
typedef struct track_snapshot track_snapshot_t;

/*
 * How track_check_leaks looks and what it ignores.  Zero it (or pass NULL) for the
 * defaults.  Lists are NULL-terminated arrays, or NULL.  Function names are those dladdr
 * finds: functions of a shared library, or of the executable when it is linked with
 * -rdynamic; a function pointer (ignore_routines) needs no name at all.
 */
struct track_leak_opts {
	long deadline_ms;      /* keep looking this long for the new threads to end (0: 1000) */
	long max_retry_ms;     /* the longest pause between two looks (0: 100); pauses start at
				  1 ms and double */
	void *(*const *ignore_routines)(void *); /* threads started with these functions */
	const char *const *ignore_symbols;       /* threads whose start routine's name matches
						    one of these fnmatch patterns */
	const char *const *ignore_names;         /* threads whose name (pthread_setname_np)
						    matches one of these fnmatch patterns */
	const char *const *ignore_creators;      /* threads whose creation stack has a function
						    whose name matches one of these patterns */
};

/* The table libtrack.so exports through track_api_get (version TRACK_API_VERSION); NULL if
 * it has no table of that version. */
struct track_api {
	unsigned version;
	int (*snapshot)(track_snapshot_t **out);
	int (*check_leaks)(const track_snapshot_t *snap, const struct track_leak_opts *opts,
			   char **report);
	void (*snapshot_free)(track_snapshot_t *snap);
	/* version 2 */
	struct track_queue_rec *(*queue_register)(const char *name, uint64_t capacity);
	int (*check_fd_leaks)(const track_snapshot_t *snap, const struct track_leak_opts *opts,
			      char **report);
};

typedef const struct track_api *(*track_api_get_fn)(unsigned version);

/* The shim's table, looked up once; NULL when no shim is loaded. */
static inline const struct track_api *track_api(void)
{
	static const struct track_api *api;
	static int looked;
	if (!__atomic_load_n(&looked, __ATOMIC_ACQUIRE)) {
		track_api_get_fn get;
		*(void **)&get = dlsym(TRACK__RTLD_DEFAULT, "track_api_get");
		__atomic_store_n(&api, get != NULL ? get(TRACK_API_VERSION) : NULL,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&api, __ATOMIC_RELAXED);
}

/* Record which threads are alive now into *out (NULL when the status is not TRACK_OK). */
static inline int track_snapshot(track_snapshot_t **out)
{
	const struct track_api *api = track_api();
	*out = NULL;
	return api != NULL ? api->snapshot(out) : TRACK_ABSENT;
}

/*
 * The threads alive now that were not alive at snap (NULL: none was, but the caller), less
 * those opts ignores, looked for until opts->deadline_ms has passed without them all
 * ending.  TRACK_LEAKS: *report (if report is not NULL) is a malloc'd text, one paragraph
 * per thread: tid, name, start routine, what it is blocked on and for how long, the stack
 * it was created from; free() it.  Otherwise *report is NULL.
 */
static inline int track_check_leaks(const track_snapshot_t *snap,
				    const struct track_leak_opts *opts, char **report)
{
	const struct track_api *api = track_api();
	if (report != NULL)
		*report = NULL;
	return api != NULL ? api->check_leaks(snap, opts, report) : TRACK_ABSENT;
}

/*
 * The descriptors open now that were not open at snap (the same number on another file
 * counts as new), looked for until opts->deadline_ms has passed without them all closing
 * (only the deadline and retry cap of opts apply).  TRACK_LEAKS: *report (if report is not
 * NULL) is a malloc'd text listing each with what it refers to (a path, socket:[...],
 * pipe:[...], anon_inode:[eventfd] ...); free() it.  TRACK_ERROR: snap was taken in another
 * process, or the descriptors could not be listed.
 */
static inline int track_check_fd_leaks(const track_snapshot_t *snap,
				       const struct track_leak_opts *opts, char **report)
{
	const struct track_api *api = track_api();
	if (report != NULL)
		*report = NULL;
	if (api == NULL)
		return TRACK_ABSENT;
	return api->version >= 2 ? api->check_fd_leaks(snap, opts, report) : TRACK_ERROR;
}

static inline void track_snapshot_free(track_snapshot_t *snap)
{
	const struct track_api *api = snap != NULL ? track_api() : NULL;
	if (api != NULL)
		api->snapshot_free(snap);
}

/*
 * Queues.  A bounded buffer, a work queue or a connection backlog is often the thing to
 * watch in a pthreads program; the tools show condvars and semaphores already, and these
 * calls add the program's own queues:
 *
 *	static track_queue_t *q;
 *	q = track_queue_register("requests", 128);   // once; NULL without the shim: fine
 *	...
 *	if (full) { track_queue_rejected(q); return EBUSY; }
 *	push(item); track_queue_enqueued(q);
 *	...
 *	item = pop(); track_queue_dequeued(q);
 *
 * and around a producer's wait for room:
 *
 *	uint64_t t0 = track_queue_wait_begin(q);
 *	while (full) pthread_cond_wait(&not_full, &lock);
 *	track_queue_wait_end(q, t0);
 *
 * Every call takes a NULL queue and then does nothing, so a program runs the same without
 * the shim, for the cost of a test.  With it, enqueue, dequeue and reject are one relaxed
 * atomic on the queue's record in the segment (enqueue also keeps the high-water mark);
 * the wait calls read the clock.  Depth is enqueued - dequeued: report every enqueue and
 * every dequeue, from any thread.  Registering a name again returns the same queue.  A
 * queue belongs to the process that registered it: a child of fork registers its own.
 */
typedef struct track_queue_rec track_queue_t;

/* The queue called name (at most TRACK_QUEUE_NAME - 1 bytes are kept), with capacity items
 * (0: unbounded); NULL when the shim is absent or its queue table is full. */
static inline track_queue_t *track_queue_register(const char *name, uint64_t capacity)
{
	const struct track_api *api = track_api();
	return api != NULL && api->version >= 2 ? api->queue_register(name, capacity) : NULL;
}

static inline void track_queue_enqueued(track_queue_t *q)
{
	uint64_t depth;
	if (q == NULL)
		return;
	depth = __atomic_add_fetch(&q->enqueued, 1, __ATOMIC_RELAXED) -
		__atomic_load_n(&q->dequeued, __ATOMIC_RELAXED);
	if (depth > __atomic_load_n(&q->high_water, __ATOMIC_RELAXED) && depth < (1ull << 62))
		__atomic_store_n(&q->high_water, depth, __ATOMIC_RELAXED);
}

static inline void track_queue_dequeued(track_queue_t *q)
{
	if (q != NULL)
		__atomic_add_fetch(&q->dequeued, 1, __ATOMIC_RELAXED);
}

/* An item refused because the queue was full: backpressure. */
static inline void track_queue_rejected(track_queue_t *q)
{
	if (q != NULL)
		__atomic_add_fetch(&q->rejected, 1, __ATOMIC_RELAXED);
}

/* A producer begins to wait for room: returns what track_queue_wait_end needs (0 when
 * there is no queue). */
static inline uint64_t track_queue_wait_begin(track_queue_t *q)
{
	struct timespec ts;
	if (q == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void track_queue_wait_end(track_queue_t *q, uint64_t t0)
{
	uint64_t now;
	if (q == NULL || t0 == 0)
		return;
	now = track_queue_wait_begin(q);
	__atomic_add_fetch(&q->waits, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&q->wait_ns, now - t0, __ATOMIC_RELAXED);
}

/* A name for a status, for messages. */
static inline const char *track_status_name(int status)
{
	static const char *const names[] = {"ok", "leaks", "absent", "error"};
	return status >= 0 && status <= TRACK_ERROR ? names[status] : "unknown";
}

#ifdef __cplusplus
}
#endif

#endif /* TRACK_H */

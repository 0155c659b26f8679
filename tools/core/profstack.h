/*
 * profstack.h — the wait and hold profiles (core/profile.h) as weighted call stacks: what
 * folded stacks and pprof are made of.  A view of them picks the profiles of one question:
 *
 *   contention  which stacks waited for locks (mutex, rwlock, spinlock): wait-site profiles
 *   blocking    which stacks blocked on condvars, semaphores, barriers and joins: wait-site
 *               profiles of those objects and join-site profiles
 *   holding     which calls held a lock while others waited for it (Go's mutex profile
 *               charges the holder the same way): hold-site profiles, one frame each
 *
 * Each stack is the recorded return addresses, innermost first, with any frame of libtrack
 * itself dropped, and comes with the label of its object ("mutex g_hot", "thread join"),
 * which renderers put at the root so that a flame graph splits by object first.
 */
#ifndef TRACK_PROFSTACK_H
#define TRACK_PROFSTACK_H

#include <stddef.h>
#include <stdint.h>

#include "core/view.h"

/* The views: X(NAME, name). */
#define TRACK_PROF_VIEWS(X) X(CONTENTION, "contention") X(BLOCKING, "blocking") X(HOLDING, "holding")

#define TRACK_X_PV(e, name) TRACK_PV_##e,
enum track_prof_view { TRACK_PROF_VIEWS(TRACK_X_PV) TRACK_PV_COUNT };
#undef TRACK_X_PV

extern const char *const track_prof_view_names[];   /* NULL-terminated */

/* One stack of a view and what it cost. */
struct track_prof_stack {
	const struct track_prof_rec *prof;
	const char *object;        /* "mutex g_hot", "condvar 0x7ffd...", "thread join" */
	uint64_t pcs[TRACK_STACK_DEPTH];   /* return addresses, innermost first */
	size_t npcs;
	uint64_t count, total_ns;  /* events (contentions, blocking waits) and their time */
};

typedef void (*track_prof_stack_fn)(const struct track_prof_stack *st, void *ctx);

/* Call fn for every stack of the view's profiles in view (each role's most total time first);
 * how many.  st and its strings are valid during the call only. */
size_t track_prof_stacks(struct track_view *v, enum track_prof_view view, track_prof_stack_fn fn,
			 void *ctx);

/* The short name of the process's program, as /proc/PID/comm gives it (the executable's
 * base name, at most 15 characters), into buf (at least 16 bytes). */
const char *track_proc_command(const struct track_seg_header *h, char *buf, size_t len);

/* The frame that names a process after the first of a report, "pid N COMMAND", into buf;
 * "" for the first (index 0). */
const char *track_proc_frame(const struct track_seg_header *h, size_t index, char *buf,
			     size_t len);

#endif /* TRACK_PROFSTACK_H */

/*
 * dumpstate.h — the shim's state of each thread of a thread dump (core/stackdump.h): read
 * at the instant the thread's stack is taken, so that what the dump says a thread does
 * agrees with the stack printed under it; and what the dump says between threads (who holds
 * the lock one waits on, how many wait), derived from those states and nothing else.
 * stackdump.c takes the dump and calls these; renderers use stackdump.h.
 */
#ifndef TRACK_DUMPSTATE_H
#define TRACK_DUMPSTATE_H

#include "core/stackdump.h"

/* Room for n threads in d->t, the new ones zeroed; 0, or -1 (out of memory). */
int track_dump_reserve(struct track_stackdump *d, size_t n);

/* t's state from the snapshot's record r (--no-stop: nothing is stopped, the snapshot is
 * the instant), read at d->now_ns. */
void track_dump_state_recorded(struct track_stackdump *d, struct track_dump_thread *t,
			       const struct track_thread_rec *r);

/* The remote unwinder's hook (struct track_rhook) for dump d, which must have its segment:
 * each thread's record, and the records of the objects it names, read while the thread is
 * held still, into d->t[i]. */
struct track_dump_stop {
	struct track_stackdump *d;
	uint64_t shim_lo, shim_hi;   /* the shim's code */
	uint64_t vdso_lo, vdso_hi;   /* the vDSO's */
};
void track_dump_stop_init(struct track_dump_stop *x, struct track_stackdump *d);
int track_dump_at_stop(void *arg, size_t i, pid_t tid, uint64_t pc);

/* Fill in held_by, readers_shown, holder_changed and waiters of every thread of d. */
void track_dump_relate(struct track_stackdump *d);

#endif /* TRACK_DUMPSTATE_H */

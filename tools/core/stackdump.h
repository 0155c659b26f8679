/*
 * stackdump.h — every thread's stack of a live process, grouped like a Go goroutine dump, with
 * what the shim knows of each thread when the process runs under it (what it waits on, for
 * how long, who holds that, what it holds, who created it).  track stacks renders one
 * (render/dump.c); the dashboard's thread view can take one the same way.
 *
 * Two ways to take one: stop each thread briefly in turn and unwind it (remote_unwind.c),
 * which works on any process the user may ptrace; or stop nothing and use the stacks the
 * shim recorded when each blocked thread began to wait (running threads have none).
 */
#ifndef TRACK_STACKDUMP_H
#define TRACK_STACKDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/remote_unwind.h"
#include "core/view.h"

/* A lock a thread holds, as read with the thread's state. */
struct track_dump_lock {
	uint64_t addr;
	uint32_t kind;                        /* enum track_obj_kind */
	int read;                             /* held for reading (an rwlock's shared side) */
	uint64_t first_pc;                    /* where it was first used or initialised */
	uint64_t taken_pc;                    /* return address of the call that took it */
};

/* One thread of the dump: its frames and, when the shim saw it, its state.  Stopping a
 * thread, its record is read while it is stopped (or, read in place, while it provably does
 * not run), so that state and stack are of one instant; a record caught half-written is
 * read at another stop, and never shown when no stop settles. */
struct track_dump_thread {
	pid_t tid;
	char name[TRACK_NAME_MAX + 1];
	const uint64_t *pcs;
	int npcs;
	int first_is_pc;                      /* frame 0 is a pc (remote), not a return address */
	int error;                            /* as struct track_rthread's; 0 when recorded */
	uint64_t stopped_ns;                  /* how long it was stopped; 0 when recorded */
	int stops;                            /* times it was stopped */
	const struct track_thread_rec *rec;   /* its state (&state), or NULL: no shim, no record,
						 or state_changing */
	int state_changing;                   /* the shim was changing the record at every stop */
	uint64_t at_ns;                       /* CLOCK_MONOTONIC when rec was read, the thread
						 held still: its "for 2.3 s" is measured to here */
	/* what it waits on, from that object's record at at_ns */
	uint64_t wait_first_pc;               /* where it was first used (0: not known) */
	int32_t wait_owner;                   /* the lock's owner then (0: none, or no lock) */
	uint32_t wait_readers;                /* its readers then */
	/* the locks it holds */
	struct track_dump_lock holds[TRACK_HELD_MAX];
	uint32_t nholds;
	uint32_t holds_unlisted;              /* more held, but not known one by one */
	/* Over the whole dump, from the states shown, each checked against the lock's record
	 * at this thread's at_ns: a holder shown is one that held it then too. */
	const struct track_dump_thread *held_by;  /* shown holding what it waits on */
	pid_t held_by_absent;                 /* else its owner then, if not among those shown */
	uint32_t readers_shown;               /* threads shown holding it for reading */
	int holder_changed;                   /* the holders shown are not the lock's at at_ns */
	uint32_t waiters;                     /* threads shown waiting on the same object */
	struct track_thread_rec state;        /* the record read (rec points here) */
	int group;                            /* groups numbered in order of first appearance */
};

struct track_stackdump {
	pid_t pid;
	int recorded;                 /* the shim's recorded stacks: nothing was stopped */
	struct track_snap snap;       /* the process's segment, when have_snap */
	int have_snap;
	struct track_view view;       /* of snap; its symbolizer is NULL if the process's
					 modules cannot be read */
	struct track_dump_thread *t;
	size_t n, cap;
	int groups;
	int no_stack;                 /* threads with no stack to show */
	uint64_t now_ns;              /* CLOCK_MONOTONIC when the segment was read */
	struct track_rstacks rs;      /* the unwound stacks (not recorded) */
};

/* Take the dump of process pid: recorded, or by stopping each thread (at most max_frames
 * frames each); grouped unless each_alone.  Returns TRACK_EXIT_OK, or a track_status with a
 * one-line reason in err; the dump must be freed either way. */
int track_stackdump_take(struct track_stackdump *d, pid_t pid, int recorded, int max_frames,
			 int each_alone, char *err, size_t errlen);
void track_stackdump_free(struct track_stackdump *d);

/* How many threads were stopped (0 when recorded, or when each was read where it slept). */
size_t track_stackdump_stopped(const struct track_stackdump *d);

/* What thread t (with a state: t->rec) is doing, in a line: "running", "joining thread 12
 * "w" for 2.0 s", "blocked on mutex 0x.. for 2.3 s (first used at f (x.c:8)) held by
 * thread 12 "w" (3 waiters)". */
void track_stackdump_doing(const struct track_stackdump *d, const struct track_dump_thread *t,
			   char *buf, size_t len);

/* How long t has been in its state, as of when it was read. */
uint64_t track_stackdump_waited(const struct track_dump_thread *t);

/* The lock at addr if thread h is shown holding it, else NULL. */
const struct track_dump_lock *track_stackdump_holding(const struct track_dump_thread *h,
						      uint64_t addr);

/* The name the shim recorded for thread tid ("" if none). */
const char *track_stackdump_name(const struct track_stackdump *d, pid_t tid);

#endif /* TRACK_STACKDUMP_H */

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

/* One thread of the dump: its frames and, when the shim saw it, its record. */
struct track_dump_thread {
	pid_t tid;
	char name[TRACK_NAME_MAX + 1];
	const uint64_t *pcs;
	int npcs;
	int first_is_pc;                      /* frame 0 is a pc (remote), not a return address */
	int error;                            /* as struct track_rthread's; 0 when recorded */
	uint64_t stopped_ns;                  /* how long it was stopped; 0 when recorded */
	const struct track_thread_rec *rec;   /* NULL without the shim */
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
	size_t n;
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

/* What thread record r is doing, in a line: "running", "joining thread 12 "w" for 2.0 s",
 * "blocked on mutex 0x.. for 2.3 s (first used at f (x.c:8)) held by thread 12 "w"". */
void track_stackdump_doing(const struct track_stackdump *d, const struct track_thread_rec *r,
			   char *buf, size_t len);

/* The name the shim recorded for thread tid ("" if none). */
const char *track_stackdump_name(const struct track_stackdump *d, pid_t tid);

#endif /* TRACK_STACKDUMP_H */

/*
 * remote_unwind.h — the stacks of every thread of a live process, for `track stacks PID`.
 *
 * Works on any process the caller may ptrace, with or without the shim, including -O2 code
 * without frame pointers: unwinding uses the DWARF CFI (.eh_frame / .debug_frame) through
 * elfutils libdwfl.
 *
 * The process as a whole is never stopped, and a sleeping thread (blocked in a system
 * call: the threads one usually wants to see) normally not at all: on x86_64 it is read
 * where it sleeps (its sp and pc from /proc/PID/task/TID/syscall, its stack with
 * process_vm_readv, its scheduler counters proving it did not run meanwhile).  A running
 * thread, or one whose stack cannot be walked from sp and pc alone, is stopped alone and
 * briefly: PTRACE_SEIZE, PTRACE_INTERRUPT, registers and the top of its stack copied,
 * PTRACE_DETACH, tens of microseconds; the unwinding itself runs afterwards on the copy while
 * the thread runs again.  Stacks are therefore consistent per thread (each is exactly what
 * it was at one instant) but not across threads: thread B is looked at a little after
 * thread A.  That is what one wants for the stacks of blocked threads, which do not move;
 * a running thread's stack is a sample.
 *
 * Permissions are those of ptrace (PTRACE_MODE_ATTACH), for reading in place too.  The
 * caller's thread becomes the tracer of each stopped thread in turn: call from one thread,
 * and do not reap children with waitpid(-1, ...) concurrently (a SIGCHLD handler doing so
 * would steal the stop notifications).  Only 64-bit x86_64 and aarch64 targets (aarch64:
 * every thread is stopped, as its innermost return address is in a register).
 * TRACK_STACKS_STOP_ALL in the environment makes every thread be stopped (tests, way out).
 */
#ifndef TRACK_REMOTE_UNWIND_H
#define TRACK_REMOTE_UNWIND_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct track_rthread {
	pid_t tid;
	char name[16];            /* /proc/PID/task/TID/comm ("" if it could not be read) */
	uint64_t *pcs;            /* frame 0 is the current pc (not a return address); later */
	int npcs;                 /* frames are return addresses (symbolize with is_return=1),
				     except the frame a signal handler interrupted (the one
				     after __restore_rt), whose pc is exact too */
	uint64_t stopped_ns;      /* how long this thread was stopped: an upper bound, from
				     the interrupt request until the detach returned (summed
				     over its stops, see struct track_rhook); 0 if it was read
				     without stopping it */
	uint64_t held_ns;         /* of that, the part after its stop was seen (copy and
				     detach): the rest is the thread's way into the stop, which
				     a loaded machine lengthens by scheduling delay */
	int stops;                /* times it was stopped (more than 1: see track_rhook) */
	int error;                /* 0, or errno-like:
				     ESRCH      the thread exited before it could be read
				     EPERM      this thread could not be traced (e.g. its own tracer)
				     ETIMEDOUT  it stayed in uninterruptible sleep; see
						track_remote_stacks
				     EIO        unwinding failed part-way (pcs holds the frames got)
				     E2BIG      max_frames reached (pcs holds max_frames frames) */
};

struct track_rstacks {
	pid_t pid;
	struct track_rthread *threads;  /* in the order they were read: /proc/PID/task order,
					   then threads that appeared during the walk */
	size_t nthreads;
	uint64_t wall_ns;               /* whole operation */
	uint64_t max_stopped_ns;        /* longest any thread was stopped (0: none was) */
	uint64_t total_stopped_ns;      /* first stop to last resume: how long the process as
					   a whole was disturbed (never all at once); 0: no stop */
	Dwfl *dwfl;                     /* the modules of the process as reported at the start
					   (dwfl_linux_proc_report), kept for symbolizing; owned,
					   freed by track_rstacks_free; NULL after a failure */
};

/*
 * What a caller reads about a thread at the instant its stack is taken, rather than before
 * or after: at_stop is called while the thread cannot run, ptrace-stopped or (read in place)
 * asleep and shown by its scheduler counters not to have run since before its stack was
 * copied, and before it is let go.  i is the thread's index in out->threads, pc its current
 * pc.  It returns whether what it read there is settled: false (say, a record the thread
 * was in the middle of writing) has the thread let go and stopped again, up to
 * TRACK_RHOOK_TRIES stops in all; the last call for a thread is the one that counts.
 */
#define TRACK_RHOOK_TRIES 8
struct track_rhook {
	int (*at_stop)(void *arg, size_t i, pid_t tid, uint64_t pc);
	void *arg;
};

/*
 * Read every thread of process pid (a thread id is taken to mean its process), one at a
 * time, stopping only those that must be (see above), and unwind each to at most
 * max_frames frames (<= 0: 256; at most 65536).
 * Threads that appear during the walk are picked up too (the task list is re-read until
 * it holds nothing new, a few rounds at most); threads that exit during it are listed with
 * error ESRCH.
 *
 * Returns 0 (out filled; individual threads may carry an error), or an errno value with a
 * one-line reason in err (out is then empty):
 *   ESRCH   no such process (or it exited before any thread could be read)
 *   EPERM   ptrace refused, with the likely reason: another tracer (TracerPid), another
 *           user's process without CAP_SYS_PTRACE, kernel.yama.ptrace_scope, a non-dumpable
 *           process, or a container / seccomp / LSM policy
 *   EINVAL  pid is our own process
 *   ENOTSUP a target this code cannot unwind (32-bit process, unsupported architecture)
 *   ENOMEM, EIO  out of memory, libdwfl could not be set up
 * The target is never left stopped: every thread stopped is detached before the next is
 * looked at, on every path.  A thread in uninterruptible sleep ('D') that cannot be read in
 * place is not stopped until it leaves that sleep (waiting up to 100 ms; then it is
 * reported ETIMEDOUT, not attached).  The one
 * case that cannot be helped: a thread that enters such a sleep between that check and the
 * stop request and stays in it for over a second is reported ETIMEDOUT and stays attached
 * with the stop request pending, so when it wakes it stops until the calling process exits
 * (the kernel then detaches it).  `track stacks` exits right away; a long-lived caller
 * should know.
 */
int track_remote_stacks(pid_t pid, int max_frames, struct track_rstacks *out, char *err,
			size_t errlen);
/* The same, calling hook (NULL: none) at every thread's stop. */
int track_remote_stacks_hooked(pid_t pid, int max_frames, const struct track_rhook *hook,
			       struct track_rstacks *out, char *err, size_t errlen);

/* Free everything in *s (threads, pcs, dwfl) and zero it.  NULL is fine. */
void track_rstacks_free(struct track_rstacks *s);

#endif /* TRACK_REMOTE_UNWIND_H */

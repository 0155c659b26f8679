/*
 * ilock.c — the shim's own locks, guarding its slow paths: the shim lock here (object
 * records and their index, findings), and the graph's, the profiles', the module map's and
 * the thread tables' in their own files.  Each is a plain test-and-set lock on an atomic
 * word: it must not be a pthread mutex, which the shim itself intercepts.
 *
 * A thread holding one has every signal blocked (the kernel's mask, set with one system
 * call on the first lock and restored on the last).  Programs suspend threads from signal
 * handlers — stop-the-world garbage collectors, checkpointers, profilers — and a thread
 * stopped inside a handler while holding a shim lock would leave every other thread
 * spinning on it for good.  With signals blocked, a handler can only run once the lock is
 * free.  Nothing blocking or intercepted is ever called under one, so holders finish
 * quickly, and a handler's own wrapped calls never find their own thread holding one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static int ilock_word;

/* The raw system call, with the kernel's 8-byte mask: glibc's sigprocmask would leave its
 * own cancellation and set*id signals unblocked, and an asynchronous cancel arriving under
 * a shim lock would unwind out of it with the lock held. */
static void mask_all(uint64_t *saved)
{
	uint64_t all = ~0ull;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, saved, sizeof all);
}

static void mask_restore(const uint64_t *saved)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, saved, NULL, sizeof *saved);
}

void track__spin_take(int *word)
{
	struct track__tls *t = &track__tls;
	unsigned spins = 0;
	if (t->nlocks == 0) {
		uint64_t saved;
		TRACK__KEEP_ERRNO(mask_all(&saved));
		t->sigmask = saved;   /* signals are blocked from here: no handler can overwrite it */
	}
	t->nlocks++;
	t->busy++;
	while (__atomic_exchange_n(word, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(word, __ATOMIC_RELAXED)) {
			if (++spins < 128)
				cpu_relax();
			else
				sched_yield();
		}
	}
}

void track__spin_drop(int *word)
{
	struct track__tls *t = &track__tls;
	/* dropped by the thread that took it: held, and counted in its nesting */
	TRACK_ASSERT(__atomic_load_n(word, __ATOMIC_RELAXED) != 0);
	TRACK_ASSERT(t->nlocks > 0 && t->busy > 0);
	__atomic_store_n(word, 0, __ATOMIC_RELEASE);
	t->busy--;
	if (--t->nlocks == 0)
		TRACK__KEEP_ERRNO(mask_restore(&t->sigmask));
}

void track__ilock(void)
{
	track__spin_take(&ilock_word);
}

void track__iunlock(void)
{
	track__spin_drop(&ilock_word);
}

#ifdef TRACK_DEBUG
/* A broken invariant: say where, with one write(2) (no stdio), and abort. */
void track__assert_failed(const char *file, int line, const char *what)
{
	char msg[512];
	size_t n = track__format(msg, sizeof msg,
				 "libtrack: internal invariant broken at %s:%d: %s (thread %ld)\n",
				 file, line, what, (long)syscall(SYS_gettid));
	if (write(2, msg, n) < 0)
		abort();
	abort();
}
#endif

/* After fork only the forking thread exists: a lock another thread held is simply free. */
void track__ilock_reset(void)
{
	__atomic_store_n(&ilock_word, 0, __ATOMIC_RELAXED);
}

/*
 * ilock.c — the shim's own locks, guarding its slow paths (allocating records, the index,
 * the thread map, findings, the graph, the module map).  Each is a plain test-and-set lock
 * on an atomic word: it must not be a pthread mutex, which the shim itself intercepts.
 * Nothing blocking or intercepted is ever called while one is held, so holders finish
 * quickly.  Holding one marks the thread busy: a signal handler that calls a wrapper in the
 * meantime passes straight through instead of spinning on its own thread's lock.
 */
#define _GNU_SOURCE
#include <sched.h>

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

void track_spin_take(int *word)
{
	unsigned spins = 0;
	track_tls.busy++;
	while (__atomic_exchange_n(word, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(word, __ATOMIC_RELAXED)) {
			if (++spins < 128)
				cpu_relax();
			else
				sched_yield();
		}
	}
}

void track_spin_drop(int *word)
{
	__atomic_store_n(word, 0, __ATOMIC_RELEASE);
	track_tls.busy--;
}

void track_ilock(void)
{
	track_spin_take(&ilock_word);
}

void track_iunlock(void)
{
	track_spin_drop(&ilock_word);
}

/* After fork only the forking thread exists: a lock another thread held is simply free. */
void track_ilock_reset(void)
{
	__atomic_store_n(&ilock_word, 0, __ATOMIC_RELAXED);
}

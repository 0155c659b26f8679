/*
 * ilock.c — the shim's own lock, guarding its slow paths (allocating records, the index,
 * the thread map, findings).  It is a plain test-and-set lock on an atomic word: it must
 * not be a pthread mutex, which the shim itself intercepts.  Nothing blocking or
 * intercepted is ever called while it is held, so holders finish quickly.
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

void track_ilock(void)
{
	unsigned spins = 0;
	while (__atomic_exchange_n(&ilock_word, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&ilock_word, __ATOMIC_RELAXED)) {
			if (++spins < 128)
				cpu_relax();
			else
				sched_yield();
		}
	}
}

void track_iunlock(void)
{
	__atomic_store_n(&ilock_word, 0, __ATOMIC_RELEASE);
}

/* After fork only the forking thread exists: a lock another thread held is simply free. */
void track_ilock_reset(void)
{
	__atomic_store_n(&ilock_word, 0, __ATOMIC_RELAXED);
}

/*
 * test_unwind.c — the shim's unwinder (libtrack/unwind.c, compiled into this test) against
 * glibc's backtrace(), which unwinds with libgcc: the same return addresses for plain call
 * chains, recursion, frames that realign or alloca, callbacks from libc (qsort), and frames
 * interrupted by a signal; no frames at all when the stack's bounds are unknown; never a
 * crash when called from a signal handler that interrupts code anywhere, hundreds of
 * thousands of times.  And track__unwind_in_handler, which tells a handler nested in a wait
 * from a thread that jumped out of one.
 */
#define _GNU_SOURCE
#include <check.h>
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

int track__unwind(uint64_t *pcs, int max, uintptr_t stack_lo, uintptr_t stack_hi,
		  uintptr_t stop);
int track__unwind_in_handler(uintptr_t stack_lo, uintptr_t stack_hi, uintptr_t limit);

/* The main thread's stack as the shim takes it: 8 MB below its top. */
#define HI ((uintptr_t)__libc_stack_end)
#define LO (HI - (8u << 20))
extern void *__libc_stack_end;

#define MAXF 64

struct both {
	uint64_t ours[MAXF];
	void *theirs[MAXF];
	int n_ours, n_theirs;
};

static struct both got;

/* Both unwinds, from the same function: ours has its own frame first, and the return
 * address into this function differs by the call instruction; from there on they agree. */
static __attribute__((noinline)) void capture(void)
{
	got.n_ours = track__unwind(got.ours, MAXF, LO, HI, 0);
	got.n_theirs = backtrace(got.theirs, MAXF);
	__asm__ volatile("" ::: "memory");
}

static void agree(const char *what)
{
	int i;
	ck_assert_msg(got.n_theirs >= 3, "%s: backtrace gave %d frames", what, got.n_theirs);
	ck_assert_msg(got.n_ours == got.n_theirs + 1, "%s: %d frames, backtrace %d", what,
		      got.n_ours, got.n_theirs);
	for (i = 1; i < got.n_theirs; i++)
		ck_assert_msg(got.ours[i + 1] == (uint64_t)(uintptr_t)got.theirs[i],
			      "%s: frame %d is %#llx, backtrace says %p", what, i,
			      (unsigned long long)got.ours[i + 1], got.theirs[i]);
}

static __attribute__((noinline)) int recurse(int k)
{
	int r;
	if (k == 0)
		capture();
	r = k ? recurse(k - 1) + 1 : 0;
	__asm__ volatile("" ::: "memory");
	return r;
}

START_TEST(recursion_agrees_with_backtrace)
{
	recurse(10);
	agree("recursion");
}
END_TEST

static __attribute__((noinline)) int with_alloca(int n)
{
	volatile char *p = alloca((size_t)n);
	p[0] = 1;
	p[n - 1] = 2;
	recurse(3);
	return p[0] + p[n - 1];
}

START_TEST(alloca_frames_agree)
{
	with_alloca(1000);
	agree("alloca");
	with_alloca(100000);
	agree("large alloca");
}
END_TEST

static __attribute__((noinline, aligned(64))) int aligned_frame(void)
{
	/* a local wider than the stack's alignment: the frame is realigned, and its CFA is
	 * found through an expression */
	volatile char big[64] __attribute__((aligned(64)));
	big[0] = 1;
	recurse(2);
	return big[0];
}

START_TEST(realigned_frame_agrees)
{
	aligned_frame();
	agree("realigned");
}
END_TEST

static int cmp_capture(const void *a, const void *b)
{
	static int once;
	if (!once++)
		capture();
	return *(const int *)a - *(const int *)b;
}

START_TEST(callback_from_libc_agrees)
{
	int v[16], i;
	for (i = 0; i < 16; i++)
		v[i] = 16 - i;
	qsort(v, 16, sizeof v[0], cmp_capture);
	agree("qsort callback");
}
END_TEST

static void on_usr1_capture(int sig)
{
	(void)sig;
	capture();
}

START_TEST(through_a_signal_frame)
{
	signal(SIGUSR1, on_usr1_capture);
	raise(SIGUSR1);
	signal(SIGUSR1, SIG_DFL);
	agree("signal frame");
}
END_TEST

START_TEST(unknown_stack_gives_no_frames)
{
	uint64_t pcs[8];
	int local;
	ck_assert_int_eq(track__unwind(pcs, 8, 0, 0, 0), 0);
	/* a stack that does not hold the stack pointer: below it, or above it */
	ck_assert_int_eq(track__unwind(pcs, 8, LO, (uintptr_t)&local - 4096, 0), 0);
	ck_assert_int_eq(track__unwind(pcs, 8, (uintptr_t)&local + 4096, HI, 0), 0);
	/* a top inside the stack: the walk stops there, it never reads above */
	ck_assert_int_le(track__unwind(pcs, 8, LO, (uintptr_t)&local + 64, 0), 2);
}
END_TEST

/* Unwinding from a handler that lands anywhere: in libc, in this loop, in the kernel's
 * return path.  Whatever it finds, it must not crash, and must end in main's frames. */
static volatile long storms, deep_enough;

static void on_alarm(int sig)
{
	uint64_t pcs[MAXF];
	(void)sig;
	if (track__unwind(pcs, MAXF, LO, HI, 0) >= 3)
		deep_enough++;
	storms++;
}

START_TEST(from_handlers_that_interrupt_anything)
{
	struct itimerval it = {{0, 50}, {0, 50}};
	struct sigaction sa;
	volatile double x = 1;
	long i;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; storms < 20000 && i < 40000000000L; i++) {
		x = x * 1.0000001;
		if ((i & 1023) == 0) {
			char *p = malloc((size_t)(i & 4095) + 1);
			free(p);
			getpid();
		}
	}
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	ck_assert_int_ge(storms, 20000);
	ck_assert_int_ge(deep_enough * 10, storms * 9);   /* almost all got past the handler */
}
END_TEST

/* A wait's frame, and a handler that runs while it is live: in_handler says 1 from the
 * handler, 0 from code that merely runs below the same address without a signal frame. */
static volatile int in_handler_result = -2;
static uintptr_t wait_frame;

static void on_usr2_check(int sig)
{
	(void)sig;
	in_handler_result = track__unwind_in_handler(LO, HI, wait_frame);
}

static __attribute__((noinline)) int not_in_handler(void)
{
	return track__unwind_in_handler(LO, HI, wait_frame);
}

static __attribute__((noinline)) void waiting(void)
{
	volatile int marker = 0;
	wait_frame = (uintptr_t)&marker;
	signal(SIGUSR2, on_usr2_check);
	raise(SIGUSR2);
	signal(SIGUSR2, SIG_DFL);
	ck_assert_int_eq(not_in_handler(), 0);
}

START_TEST(handler_nested_in_a_frame_is_told_apart)
{
	waiting();
	ck_assert_int_eq(in_handler_result, 1);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("unwind", recursion_agrees_with_backtrace),
		TEST("unwind", alloca_frames_agree),
		TEST("unwind", realigned_frame_agrees),
		TEST("unwind", callback_from_libc_agrees),
		TEST("unwind", through_a_signal_frame),
		TEST("unwind", unknown_stack_gives_no_frames),
		TEST("unwind", from_handlers_that_interrupt_anything),
		TEST("unwind", handler_nested_in_a_frame_is_told_apart),
	};
	return run_tests("unwind", 60, tests, ARRAY_SIZE(tests));
}

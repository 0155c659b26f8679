/*
 * test_remote_unwind.c — tools/core/remote_unwind.c against a live process: fx_blocked (built -O2
 * without frame pointers, no shim) with threads blocked in three known call chains.  Every
 * thread is found, each stack symbolizes to its chain in order, sleeping threads are read
 * without being stopped (x86_64) and give the very stacks that stopping them gives, a
 * running thread is stopped, the process runs on unharmed afterwards (never left stopped
 * or traced, signals not lost, exits normally), a stopped (SIGSTOP) process stays stopped,
 * and a missing process gives ESRCH.
 *
 * How long threads were stopped is printed, not asserted: timing is not pass/fail here
 * (bench/stacks/run measures it).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "core/remote_unwind.h"
#include "core/symbolize.h"

enum chain { CH_A, CH_B, CH_C, CH_MAIN, CH_NONE };

/* The function names of a stack, innermost first (inlined entries included). */
static int stack_names(struct track_symbolizer *sym, const struct track_rthread *th,
		       const char **names, int max)
{
	int f, n = 0;
	for (f = 0; f < th->npcs && n < max; f++) {
		struct track_frame fr[8];
		int k, m = track_sym_lookup(sym, th->pcs[f], f > 0, fr, 8);
		for (k = 0; k < m && n < max; k++)
			names[n++] = fr[k].function ? fr[k].function : "?";
	}
	return n;
}

static int find_name(const char **names, int n, int from, const char *want)
{
	int i;
	for (i = from; i < n; i++)
		if (strcmp(names[i], want) == 0)
			return i;
	return -1;
}

static int find_sub(const char **names, int n, int to, const char *sub)
{
	int i;
	for (i = 0; i < to && i < n; i++)
		if (strstr(names[i], sub) != NULL)
			return i;
	return -1;
}

/* The chain a stack shows, checking the order of its frames: the blocking call innermost,
   then the chain's functions consecutively, then the thread start. */
static enum chain classify(const char **names, int n, char *why, size_t len)
{
	static const char *const chains[3][4] = {
		{ "fx_a3", "fx_a2", "fx_chain_a", NULL },
		{ "fx_b2", "fx_chain_b", NULL },
		{ "fx_chain_c", NULL },
	};
	static const char *const blockers[3] = { "pthread_cond_wait", "read",
						 "pthread_mutex_lock" };
	int c, i, at;
	if (find_name(names, n, 0, "main") >= 0)
		return CH_MAIN;
	for (c = 0; c < 3; c++) {
		at = find_name(names, n, 0, chains[c][0]);
		if (at < 0)
			continue;
		for (i = 1; chains[c][i]; i++)
			if (at + i >= n || strcmp(names[at + i], chains[c][i]) != 0) {
				snprintf(why, len, "%s not right after %s", chains[c][i],
					 chains[c][i - 1]);
				return CH_NONE;
			}
		if (find_sub(names, n, at, blockers[c]) < 0) {
			snprintf(why, len, "no %s inside %s", blockers[c], chains[c][0]);
			return CH_NONE;
		}
		if (at + i >= n || strcmp(names[at + i], "start") != 0) {
			snprintf(why, len, "%s not called from start", chains[c][i - 1]);
			return CH_NONE;
		}
		if (find_name(names, n, at + i, "start_thread") < 0) {
			snprintf(why, len, "no start_thread below start");
			return CH_NONE;
		}
		return (enum chain)c;
	}
	snprintf(why, len, "no chain function at all");
	return CH_NONE;
}

static void describe(const char **names, int n, char *buf, size_t len)
{
	size_t o = 0;
	int i;
	buf[0] = '\0';
	for (i = 0; i < n && o + 2 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " <- " : "", names[i]);
}

/* Can sleeping threads be read without a stop here: x86_64, and the kernel counts
   switch-ins (the last field of schedstat)? */
static int can_peek(void)
{
#if defined(__x86_64__)
	char buf[128] = "";
	FILE *f = fopen("/proc/self/schedstat", "r");
	char *p;
	if (!f)
		return 0;
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ' ');
	return p && atoll(p + 1) > 0;
#else
	return 0;
#endif
}

/* Unwind target pid with nthreads blocked threads and check every stack. */
static void check_all_stacks(pid_t pid, int nthreads)
{
	struct track_rstacks s;
	struct track_symbolizer *sym;
	char err[512];
	int counts[5] = { 0 }, r;
	uint64_t max_held = 0;
	size_t i;

	r = track_remote_stacks(pid, 64, &s, err, sizeof err);
	ck_assert_msg(r == 0, "track_remote_stacks: %s (%s)", err, strerror(r));
	ck_assert_int_eq(s.pid, pid);
	ck_assert_ptr_nonnull(s.dwfl);
	ck_assert_uint_eq(s.nthreads, (size_t)nthreads + 1);
	sym = track_sym_new_pid(pid);
	ck_assert_ptr_nonnull(sym);
	for (i = 0; i < s.nthreads; i++) {
		const struct track_rthread *th = &s.threads[i];
		const char *names[128];
		char why[128] = "", desc[2048];
		int n;
		enum chain c;
		ck_assert_msg(th->error == 0, "thread %d: error %s", (int)th->tid,
			      strerror(th->error));
		ck_assert_int_ge(th->npcs, 3);
		ck_assert_uint_le(th->held_ns, th->stopped_ns);
		n = stack_names(sym, th, names, 128);
		c = classify(names, n, why, sizeof why);
		describe(names, n, desc, sizeof desc);
		ck_assert_msg(c != CH_NONE, "thread %d (%s): %s: %s", (int)th->tid, th->name,
			      why, desc);
		counts[c]++;
		/* The thread's name tells its chain too. */
		if (c == CH_MAIN)
			ck_assert_int_eq(th->tid, pid);
		else
			ck_assert_int_eq(th->name[4], "abc"[c]);
	}
	ck_assert_int_eq(counts[CH_MAIN], 1);
	ck_assert_int_eq(counts[CH_A], (nthreads + 2) / 3);
	ck_assert_int_eq(counts[CH_B], (nthreads + 1) / 3);
	ck_assert_int_eq(counts[CH_C], nthreads / 3);
	ck_assert_uint_ge(s.wall_ns, s.total_stopped_ns);
	ck_assert_uint_ge(s.total_stopped_ns, s.max_stopped_ns);
	for (i = 0; i < s.nthreads; i++)
		if (s.threads[i].held_ns > max_held)
			max_held = s.threads[i].held_ns;
	fprintf(stderr, "remote_unwind: %zu threads: wall %.2f ms, longest stop %.1f us (held "
		"after the stop: at most %.1f us), process disturbed %.2f ms\n", s.nthreads,
		s.wall_ns / 1e6, s.max_stopped_ns / 1e3, max_held / 1e3,
		s.total_stopped_ns / 1e6);
	track_sym_free(sym);
	track_rstacks_free(&s);
	ck_assert_ptr_null(s.threads);
}

/* No shim in the target: nothing of libtrack is mapped. */
static void assert_no_shim(pid_t pid)
{
	char path[64], line[1024];
	FILE *f;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		ck_assert_msg(strstr(line, "libtrack") == NULL, "shim mapped: %s", line);
	fclose(f);
}

START_TEST(hundred_threads_all_found_and_symbolized)
{
	struct blocked_fx t;
	start_blocked(&t, 100, NULL, 0);
	assert_no_shim(t.pid);
	check_all_stacks(t.pid, 100);
	/* Still running normally: nobody stopped, nobody traced, and again the same. */
	ck_assert_int_eq(assert_threads(t.pid, "tT", 1, NULL), 101);
	setenv("TRACK_STACKS_STOP_ALL", "1", 1);
	check_all_stacks(t.pid, 100);
	unsetenv("TRACK_STACKS_STOP_ALL");
	ck_assert_int_eq(assert_threads(t.pid, "tT", 1, NULL), 101);
	end_blocked(&t, NULL, 0);
}
END_TEST

static int by_tid(const void *a, const void *b)
{
	const struct track_rthread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Sleeping threads are read where they sleep (stopped_ns 0), and that gives exactly the
   frames that stopping each thread gives.  A thread blocked in a futex is now and then woken
   spuriously under load and seen running for a moment: then it is (rightly) stopped to be
   read.  So the in-place pass is taken again, up to three times, until one stops nobody. */
START_TEST(sleeping_threads_are_not_stopped)
{
	struct blocked_fx t;
	struct track_rstacks peek, stop;
	char err[512];
	size_t i;
	int tries;
	start_blocked(&t, 60, NULL, 0);
	for (tries = 1;; tries++) {
		ck_assert_int_eq(track_remote_stacks(t.pid, 64, &peek, err, sizeof err), 0);
		if (!can_peek() || peek.max_stopped_ns == 0 || tries == 3)
			break;
		track_rstacks_free(&peek);
	}
	setenv("TRACK_STACKS_STOP_ALL", "1", 1);
	ck_assert_int_eq(track_remote_stacks(t.pid, 64, &stop, err, sizeof err), 0);
	unsetenv("TRACK_STACKS_STOP_ALL");
	ck_assert_uint_eq(peek.nthreads, 61);
	ck_assert_uint_eq(stop.nthreads, 61);
	qsort(peek.threads, peek.nthreads, sizeof *peek.threads, by_tid);
	qsort(stop.threads, stop.nthreads, sizeof *stop.threads, by_tid);
	for (i = 0; i < peek.nthreads; i++) {
		const struct track_rthread *a = &peek.threads[i], *b = &stop.threads[i];
		ck_assert_int_eq(a->tid, b->tid);
		ck_assert_int_eq(a->error, 0);
		ck_assert_int_eq(b->error, 0);
		ck_assert_int_gt(b->stopped_ns, 0);
		if (can_peek())
			ck_assert_msg(a->stopped_ns == 0, "sleeping thread %d was stopped",
				      (int)a->tid);
		ck_assert_int_eq(a->npcs, b->npcs);
		ck_assert_mem_eq(a->pcs, b->pcs, (size_t)a->npcs * sizeof *a->pcs);
	}
	if (can_peek()) {
		ck_assert_uint_eq(peek.max_stopped_ns, 0);
		ck_assert_uint_eq(peek.total_stopped_ns, 0);
	}
	track_rstacks_free(&peek);
	track_rstacks_free(&stop);
	end_blocked(&t, NULL, 0);
}
END_TEST

START_TEST(a_thread_id_means_its_process)
{
	struct blocked_fx t;
	struct track_rstacks s;
	char err[256], path[64];
	DIR *d;
	struct dirent *e;
	pid_t other = 0;
	start_blocked(&t, 3, NULL, 0);
	snprintf(path, sizeof path, "/proc/%d/task", (int)t.pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (atoi(e->d_name) > 0 && atoi(e->d_name) != t.pid)
			other = atoi(e->d_name);
	closedir(d);
	ck_assert_int_gt(other, 0);
	ck_assert_int_eq(track_remote_stacks(other, 0, &s, err, sizeof err), 0);
	ck_assert_int_eq(s.pid, t.pid);
	ck_assert_uint_eq(s.nthreads, 4);
	track_rstacks_free(&s);
	ck_assert_int_eq(assert_threads(t.pid, "tT", 1, NULL), 4);
	end_blocked(&t, NULL, 0);
}
END_TEST

START_TEST(missing_process_is_esrch)
{
	struct track_rstacks s;
	char err[256];
	int status;
	pid_t gone = fork();
	ck_assert_int_ge(gone, 0);
	if (gone == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(gone, &status, 0), gone);
	memset(&s, 0x55, sizeof s);
	ck_assert_int_eq(track_remote_stacks(gone, 0, &s, err, sizeof err), ESRCH);
	ck_assert_msg(strstr(err, "no such process") != NULL, "err: %s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_uint_eq(s.nthreads, 0);
	ck_assert_ptr_null(s.threads);
	ck_assert_ptr_null(s.dwfl);
	track_rstacks_free(&s);
	ck_assert_int_eq(track_remote_stacks(-1, 0, &s, err, sizeof err), ESRCH);
	ck_assert_int_eq(track_remote_stacks(0, 0, &s, err, sizeof err), ESRCH);
}
END_TEST

/* Under another tracer: EPERM, saying who traces it, and the target is left as it was. */
START_TEST(traced_process_is_refused_with_the_tracer_named)
{
	struct blocked_fx t;
	struct track_rstacks s;
	char err[512];
	if (system("command -v strace >/dev/null") != 0)
		return;
	start_blocked(&t, 3, NULL, BLOCKED_STRACE);   /* t.pid: the fixture, strace's child */
	ck_assert_int_eq(track_remote_stacks(t.pid, 0, &s, err, sizeof err), EPERM);
	ck_assert_msg(strstr(err, "already traced by process") && strstr(err, "strace"),
		      "err: %s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_ptr_null(s.threads);
	end_blocked(&t, NULL, 0);
}
END_TEST

START_TEST(own_process_is_refused)
{
	struct track_rstacks s;
	char err[256];
	ck_assert_int_eq(track_remote_stacks(getpid(), 0, &s, err, sizeof err), EINVAL);
	ck_assert_msg(err[0] != '\0' && strchr(err, '\n') == NULL, "err: %s", err);
}
END_TEST

/* Threads appear and exit, one spins, signals arrive, during repeated walks: every walk
   succeeds, the blocked threads always unwind, the target is never left stopped or traced,
   no signal is lost, and it exits normally. */
START_TEST(churning_process_is_left_unharmed)
{
	struct blocked_fx t;
	char line[128];
	long sent = -1, received = -2;
	int round, spin_seen = 0;
	start_blocked(&t, 30, "churn", 0);
	for (round = 0; round < 25; round++) {
		struct track_rstacks s;
		struct track_symbolizer *sym = track_sym_new_pid(t.pid);
		char err[512];
		size_t i, ok_blocked = 0;
		int r = track_remote_stacks(t.pid, 64, &s, err, sizeof err);
		ck_assert_msg(r == 0, "round %d: %s", round, err);
		ck_assert_ptr_nonnull(sym);
		for (i = 0; i < s.nthreads; i++) {
			const struct track_rthread *th = &s.threads[i];
			const char *names[128];
			char why[128];
			int n;
			ck_assert_msg(th->error == 0 || th->error == ESRCH || th->error == EIO,
				      "thread %d: %s", (int)th->tid, strerror(th->error));
			if (strncmp(th->name, "blk_", 4) != 0 || th->error)
				continue;
			n = stack_names(sym, th, names, 128);
			/* A signal handler may be running on top of the chain: only check the
			   chain when the stack is the plain blocked one. */
			if (find_name(names, n, 0, "on_signal") < 0 &&
			    find_sub(names, n, n, "restore_rt") < 0) {
				ck_assert_msg(classify(names, n, why, sizeof why) ==
					      (enum chain)(th->name[4] - 'a'),
					      "thread %d (%s): %s", (int)th->tid, th->name, why);
				ok_blocked++;
			}
		}
		for (i = 0; i < s.nthreads; i++) {
			const char *names[128];
			int n;
			if (s.threads[i].error)
				continue;
			n = stack_names(sym, &s.threads[i], names, 128);
			/* Always running: it can only have been read by stopping it. */
			if (find_name(names, n, 0, "fx_spin") >= 0) {
				spin_seen++;
				ck_assert_uint_gt(s.threads[i].stopped_ns, 0);
			}
		}
		ck_assert_uint_ge(ok_blocked, 20);
		track_sym_free(sym);
		track_rstacks_free(&s);
		assert_threads(t.pid, "t", 1, NULL);
	}
	ck_assert_int_gt(spin_seen, 0);
	end_blocked(&t, line, sizeof line);
	ck_assert_msg(sscanf(line, "sent=%ld received=%ld", &sent, &received) == 2,
		      "fx_blocked said: %s", line);
	ck_assert_int_gt(sent, 0);
	ck_assert_int_eq(sent, received);
}
END_TEST

/* A process stopped by SIGSTOP is unwound and stays stopped ('T', untraced); after
   SIGCONT it runs on and exits normally. */
START_TEST(stopped_process_stays_stopped)
{
	struct blocked_fx t;
	char st = '?';
	int i;
	start_blocked(&t, 9, NULL, 0);
	ck_assert_int_eq(kill(t.pid, SIGSTOP), 0);
	for (i = 0; i < 500 && !all_threads_in(t.pid, 'T'); i++)
		usleep(10000);
	check_all_stacks(t.pid, 9);
	ck_assert_int_eq(assert_threads(t.pid, "tSRD", 1, &st), 10);
	ck_assert_int_eq(st, 'T');
	ck_assert_int_eq(kill(t.pid, SIGCONT), 0);
	usleep(100000);
	ck_assert_int_eq(assert_threads(t.pid, "tT", 1, NULL), 10);
	end_blocked(&t, NULL, 0);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("live", hundred_threads_all_found_and_symbolized),
		TEST("live", sleeping_threads_are_not_stopped),
		TEST("live", a_thread_id_means_its_process),
		TEST("live", missing_process_is_esrch),
		TEST("live", own_process_is_refused),
		TEST("live", traced_process_is_refused_with_the_tracer_named),
		TEST("live", churning_process_is_left_unharmed),
		TEST("live", stopped_process_stays_stopped),
	};
	return run_tests("remote_unwind", 120, tests, ARRAY_SIZE(tests));
}

/*
 * test_leaks.c — the in-process leak API (include/track.h) and its Check fixture
 * (include/track/check.h), through fixture programs (tests/fixtures/leaks): a leaked
 * worker is reported with its start routine, name and creation site; a pool that joins its
 * workers passes; workers that take 200 ms to end pass within the deadline and fail a
 * shorter one; each ignore rule, matching and not; without the shim a status of its own;
 * linked with -ltrack; the Check fixture, forked and not; descriptors opened since the
 * snapshot, closed, reused for another file and closed late, from the API and the fixture.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { ST_OK = 0, ST_LEAKS = 1, ST_ABSENT = 2 };

/* Run fixture fx (mode and options, NULL-terminated) with env; fills r. */
static void run_fx(const char *fx, char *const args[], char *const env[], struct run_result *r)
{
	char *argv[16];
	int i = 0;
	argv[i++] = strdup(fixture(fx));
	while (args[i - 1] != NULL && i < 15) {
		argv[i] = args[i - 1];
		i++;
	}
	argv[i] = NULL;
	run(argv, NULL, env, r);
}

/* fx_leaks under the preloaded shim; its status must be want. */
static void leaks_preloaded(char *const args[], int want, struct run_result *r)
{
	run_fx("fx_leaks", args, (char *[]){shim_preload(), NULL}, r);
	ck_assert_msg(r->status == want, "status %d, want %d\nout: %s\nerr: %s", r->status, want,
		      r->out, r->err);
}

START_TEST(leak_reported)
{
	struct run_result r;
	leaks_preloaded((char *[]){"leak", "--deadline", "100", NULL}, ST_LEAKS, &r);
	want_text(r.out, "status leaks", "1 thread leaked", "\"leaky-worker\"",
		  "started at leaky_worker_main (", "waiting on condvar", "created at:",
		  "start_pool+", "run_pool", "main+", NULL);
	ck_assert_msg(strstr(r.out, "pool-worker") == NULL, "joined workers reported:\n%s", r.out);
	run_free(&r);
}
END_TEST

START_TEST(joined_pool_passes)
{
	struct run_result r;
	leaks_preloaded((char *[]){"clean", NULL}, ST_OK, &r);
	want_text(r.out, "status ok", NULL);
	run_free(&r);
}
END_TEST

START_TEST(slow_shutdown_within_deadline)
{
	struct run_result r;
	leaks_preloaded((char *[]){"slow", "--deadline", "1000", NULL}, ST_OK, &r);
	run_free(&r);
}
END_TEST

START_TEST(slow_shutdown_past_deadline)
{
	struct run_result r;
	leaks_preloaded((char *[]){"slow", "--deadline", "50", NULL}, ST_LEAKS, &r);
	want_text(r.out, "3 threads leaked", "\"pool-worker\"", "pool_worker_main (", NULL);
	run_free(&r);
}
END_TEST

/* Each ignore rule: the option that matches the leaked worker (the first two of a row)
 * passes; the one that does not (the last two) still reports it. */
static const char *const ignore_rules[][4] = {
	{"--ignore-routine", NULL, NULL, NULL},
	{"--ignore-symbol", "leaky_*", "--ignore-symbol", "pool_*"},
	{"--ignore-name", "leaky-*", "--ignore-name", "pool-*"},
	{"--ignore-creator", "start_pool", "--ignore-creator", "stop_pool"},
	{"--ignore-creator", "run_pool", "--ignore-creator", "nothing_here"},
};

START_TEST(ignore_rule)
{
	const char *const *rule = ignore_rules[_i];
	struct run_result r;
	leaks_preloaded((char *[]){"leak", "--deadline", "100", (char *)rule[0], (char *)rule[1],
				   NULL}, ST_OK, &r);
	run_free(&r);
	if (rule[2] == NULL)
		return;
	leaks_preloaded((char *[]){"leak", "--deadline", "100", (char *)rule[2], (char *)rule[3],
				   NULL}, ST_LEAKS, &r);
	want_text(r.out, "leaky_worker_main", NULL);
	run_free(&r);
}
END_TEST

START_TEST(absent_without_shim)
{
	struct run_result r;
	run_fx("fx_leaks", (char *[]){"leak", NULL}, (char *[]){"LD_PRELOAD", NULL}, &r);
	ck_assert_int_eq(r.status, ST_ABSENT);
	want_text(r.out, "status absent", NULL);
	run_free(&r);
}
END_TEST

START_TEST(absent_when_disabled)
{
	struct run_result r;
	run_fx("fx_leaks", (char *[]){"leak", NULL},
	       (char *[]){shim_preload(), "TRACK_DISABLE=1", NULL}, &r);
	ck_assert_int_eq(r.status, ST_ABSENT);
	run_free(&r);
}
END_TEST

START_TEST(linked_with_libtrack)
{
	struct run_result r;
	run_fx("fx_leaks_linked", (char *[]){"leak", "--deadline", "100", NULL},
	       (char *[]){"LD_PRELOAD", NULL}, &r);
	ck_assert_msg(r.status == ST_LEAKS, "status %d\n%s%s", r.status, r.out, r.err);
	want_text(r.out, "\"leaky-worker\"", "leaky_worker_main (", "start_pool+", NULL);
	run_free(&r);
	run_fx("fx_leaks_linked", (char *[]){"clean", NULL}, (char *[]){"LD_PRELOAD", NULL}, &r);
	ck_assert_int_eq(r.status, ST_OK);
	run_free(&r);
}
END_TEST

/* The Check fixture in fork mode (_i 0) and CK_FORK=no (_i 1). */
static char *check_mode(int i)
{
	return i == 0 ? "CK_FORK=yes" : "CK_FORK=no";
}

START_TEST(check_fixture_fails_on_leak)
{
	struct run_result r;
	run_fx("fx_check", (char *[]){"leak", NULL}, (char *[]){shim_preload(), check_mode(_i),
								  NULL}, &r);
	ck_assert_msg(r.status == 1, "status %d\n%s%s", r.status, r.out, r.err);
	want_text(r.out, "0%: Checks: 1, Failures: 1", "1 thread leaked", "\"helper\"",
		  "stuck_helper_main (", "waiting on condvar", NULL);
	run_free(&r);
}
END_TEST

START_TEST(check_fixture_passes_clean)
{
	struct run_result r;
	run_fx("fx_check", (char *[]){"clean", NULL}, (char *[]){shim_preload(), check_mode(_i),
								   NULL}, &r);
	ck_assert_msg(r.status == 0, "status %d\n%s%s", r.status, r.out, r.err);
	want_text(r.out, "100%: Checks: 1", NULL);
	ck_assert_msg(strstr(r.err, "not checked") == NULL, "%s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(fd_leak_reported)
{
	struct run_result r;
	leaks_preloaded((char *[]){"fdleak", NULL}, ST_LEAKS, &r);
	want_text(r.out, "status leaks", "3 descriptors opened since the snapshot",
		  "-> /dev/null", "-> pipe:[", NULL);
	run_free(&r);
}
END_TEST

START_TEST(fd_closed_passes)
{
	struct run_result r;
	leaks_preloaded((char *[]){"fdclean", NULL}, ST_OK, &r);
	want_text(r.out, "status ok", NULL);
	run_free(&r);
}
END_TEST

/* A number open at the snapshot now on another file is a new descriptor. */
START_TEST(fd_reused_number_counts)
{
	struct run_result r;
	leaks_preloaded((char *[]){"fdswap", NULL}, ST_LEAKS, &r);
	want_text(r.out, "status leaks", "fd 0 -> /dev/zero", NULL);
	run_free(&r);
}
END_TEST

/* Closed by another thread 200 ms later: within the default deadline of 1 s. */
START_TEST(fd_closed_late_within_deadline)
{
	struct run_result r;
	leaks_preloaded((char *[]){"fdslow", NULL}, ST_OK, &r);
	run_free(&r);
}
END_TEST

START_TEST(fd_absent_without_shim)
{
	struct run_result r;
	run_fx("fx_leaks", (char *[]){"fdleak", NULL}, (char *[]){"LD_PRELOAD", NULL}, &r);
	ck_assert_msg(r.status == ST_ABSENT, "status %d\n%s", r.status, r.out);
	want_text(r.out, "status absent", NULL);
	run_free(&r);
}
END_TEST

/* TEMP=DIR for Check's message files: the test's own segment directory, on tmpfs (where a
 * new file never has an old one's inode).  Under CK_FORK=no Check replaces its message file
 * between the fixture's snapshot and its check, and the check must not take that for a
 * descriptor the test opened (it did, every run, before leakfds.c knew). */
static char *check_temp(void)
{
	static char env[600];
	snprintf(env, sizeof env, "TEMP=%s", getenv("TRACK_DIR"));
	return env;
}

START_TEST(check_fixture_fails_on_fd_leak)
{
	struct run_result r;
	run_fx("fx_check", (char *[]){"fdleak", NULL},
	       (char *[]){shim_preload(), check_mode(_i), check_temp(), NULL}, &r);
	ck_assert_msg(r.status == 1, "status %d\n%s%s", r.status, r.out, r.err);
	want_text(r.out, "0%: Checks: 1, Failures: 1", "1 descriptor opened since the snapshot",
		  "-> /dev/null", NULL);
	run_free(&r);
}
END_TEST

START_TEST(check_fixture_passes_closed_fd)
{
	struct run_result r;
	run_fx("fx_check", (char *[]){"fdclean", NULL},
	       (char *[]){shim_preload(), check_mode(_i), check_temp(), NULL}, &r);
	ck_assert_msg(r.status == 0, "status %d\n%s%s", r.status, r.out, r.err);
	want_text(r.out, "100%: Checks: 1", NULL);
	run_free(&r);
}
END_TEST

START_TEST(check_fixture_without_shim)
{
	struct run_result r;
	run_fx("fx_check", (char *[]){"leak", NULL}, (char *[]){"LD_PRELOAD", check_mode(_i),
								  NULL}, &r);
	ck_assert_msg(r.status == 0, "status %d\n%s%s", r.status, r.out, r.err);
	want_text(r.err, "thread leaks not checked", NULL);
	ck_assert_msg(strstr(strstr(r.err, "not checked") + 1, "not checked") == NULL,
		      "said more than once:\n%s", r.err);
	run_free(&r);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("api", leak_reported),
		TEST("api", joined_pool_passes),
		TEST("api", slow_shutdown_within_deadline),
		TEST("api", slow_shutdown_past_deadline),
		LOOP_TEST("api", ignore_rule, ARRAY_SIZE(ignore_rules)),
		TEST("api", absent_without_shim),
		TEST("api", absent_when_disabled),
		TEST("api", linked_with_libtrack),
		TEST("fds", fd_leak_reported),
		TEST("fds", fd_closed_passes),
		TEST("fds", fd_reused_number_counts),
		TEST("fds", fd_closed_late_within_deadline),
		TEST("fds", fd_absent_without_shim),
		LOOP_TEST("check", check_fixture_fails_on_fd_leak, 2),
		LOOP_TEST("check", check_fixture_passes_closed_fd, 2),
		LOOP_TEST("check", check_fixture_fails_on_leak, 2),
		LOOP_TEST("check", check_fixture_passes_clean, 2),
		LOOP_TEST("check", check_fixture_without_shim, 2),
	};
	return run_tests("leaks", 60, tests, ARRAY_SIZE(tests));
}

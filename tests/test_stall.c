/*
 * test_stall.c — stall alerts, the thread limit, `track run --timeout` and the dump signal
 * (libtrack/watchdog.c, tools/cli/cmd_run.c), on tests/fixtures/fx_stall.c.  Every positive
 * has its negative beside it.  Timings are never tight: thresholds of 200 ms against waits
 * of a second or more, and of seconds against waits of tens of milliseconds.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char **fx(const char *a, const char *b, const char *c, const char *d)
{
	static char *argv[6];
	argv[0] = (char *)fixture("fx_stall");
	argv[1] = (char *)a, argv[2] = (char *)b, argv[3] = (char *)c, argv[4] = (char *)d;
	argv[5] = NULL;
	return argv;
}

static json_t *finding(json_t *root, const char *kind)
{
	return jfind(root, "findings", "kind", kind);
}

/* The function of the first frame of the stack at path of o. */
static const char *first_function(json_t *o, const char *path)
{
	json_t *st = o;
	char buf[128], *save = NULL, *tok;
	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && st; tok = strtok_r(NULL, ".", &save))
		st = json_object_get(st, tok);
	return json_string_value(json_object_get(json_array_get(st, 0), "function"));
}

START_TEST(stall_on_long_condvar_wait)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--stall=200ms", NULL}, fx("cond", "1500", NULL, NULL),
			      NULL, &r), *f;
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, 0);
	want_findings(root, "stall=1 deadlock=0");
	f = finding(root, "stall");
	ck_assert_str_eq(jstr(f, "severity"), "warning");
	ck_assert_str_eq(jstr(f, "stall.state"), "condvar");
	ck_assert_str_eq(jstr(f, "object_name"), "cv");
	ck_assert_str_eq(first_function(f, "stack"), "cond_waiter");
	ck_assert_int_ge(jint(f, "stall.seen_after_ns"), 200000000);
	ck_assert_int_eq(jint(f, "stall.threshold_ns"), 200000000);
	want_text(text, "stall: thread ", "waiting on condvar cv for ", "(severity warning)",
		  "cond_waiter", NULL);
	free(text);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(no_stall_on_short_condvar_wait)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--stall=3s", NULL}, fx("cond", "50", NULL, NULL), NULL,
			      &r);
	ck_assert_int_eq(r.status, 0);
	want_findings(root, "stall=0");
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
	/* nor any without --stall, however long the wait */
	root = traced(NULL, fx("cond", "1000", NULL, NULL), NULL, &r);
	want_findings(root, "stall=0");
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(stall_on_mutex_names_running_owner)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--stall=200ms", NULL}, fx("mutex", "1500", NULL, NULL),
			      NULL, &r), *f;
	char *text = slurp_file(tmp_path("report.txt")), held[64];
	long long main_tid = jint(root, "process.pid");
	f = finding(root, "stall");
	ck_assert_msg(f != NULL, "no stall: %s", findings_text(root));
	ck_assert_str_eq(jstr(f, "stall.state"), "mutex");
	ck_assert_int_eq(jint(f, "stall.other.tid"), main_tid);
	ck_assert_str_eq(jstr(f, "stall.other.role"), "owner");
	ck_assert_str_eq(jstr(f, "stall.other.state"), "running");
	ck_assert_str_eq(jstr(f, "stall.other.took_lock_at.function"), "main");
	snprintf(held, sizeof held, "held by thread %lld", main_tid);
	want_text(text, held, "running; it took the lock at main", NULL);
	want_findings(root, "deadlock=0");
	free(text);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(stall_on_mutex_shows_blocked_owners_wait)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--stall=200ms", NULL},
			      fx("owner-waits", "1500", NULL, NULL), NULL, &r), *f;
	f = jfind(root, "findings", "object_name", "m");
	ck_assert_msg(f != NULL, "no stall on m: %s", findings_text(root));
	ck_assert_str_eq(jstr(f, "kind"), "stall");
	ck_assert_str_eq(jstr(f, "stall.other.state"), "condvar");
	ck_assert_str_eq(first_function(f, "stall.other.stack"), "holder_waits");
	ck_assert_str_eq(first_function(f, "stack"), "mutex_waiter");
	want_findings(root, "deadlock=0");
	json_decref(root);
	run_free(&r);
}
END_TEST

/* --stall-is-error: the same run fails with it, passes without. */
START_TEST(stall_is_error_changes_status)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--stall=200ms", "--error-exitcode=9", NULL},
			      fx("cond", "1200", NULL, NULL), NULL, &r);
	want_findings(root, "stall=1");
	ck_assert_int_eq(r.status, 0);
	json_decref(root);
	run_free(&r);
	root = traced((char *[]){"--stall=200ms", "--error-exitcode=9", "--stall-is-error", NULL},
		      fx("cond", "1200", NULL, NULL), NULL, &r);
	want_findings(root, "stall=1");
	ck_assert_int_eq(r.status, 9);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A condvar nobody signals and a join of its waiter: stuck for good, and no deadlock by the
 * detector's rules (no cycle of lock owners): stalls, never a deadlock. */
START_TEST(stall_never_a_deadlock)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--stall=200ms", "--timeout=2s", NULL},
			      fx("hang", NULL, NULL, NULL), NULL, &r);
	ck_assert_int_eq(r.status, 124);
	want_findings(root, "deadlock=0");
	ck_assert_int_ge(count_findings(root, "stall"), 2);   /* the condvar and the join */
	ck_assert_ptr_nonnull(jfind(root, "findings", "object_name", "never"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(thread_limit_above_n)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--max-threads=4", NULL}, fx("threads", "8", NULL, NULL),
			      NULL, &r), *f, *site;
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, 0);
	want_findings(root, "thread-limit=1");
	f = finding(root, "thread-limit");
	ck_assert_str_eq(jstr(f, "severity"), "warning");
	ck_assert_int_eq(jint(f, "thread_limit.limit"), 4);
	ck_assert_int_eq(jint(f, "thread_limit.alive"), 5);
	site = json_array_get(json_object_get(json_object_get(f, "thread_limit"), "sites"), 0);
	ck_assert_int_eq(jint(site, "threads"), 4);
	ck_assert_str_eq(jstr(site, "location.function"), "spawn_workers");
	want_text(text, "thread-limit: 5 threads alive, more than the limit of 4",
		  "4 threads created at", "spawn_workers", NULL);
	free(text);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(no_thread_limit_at_n)
{
	struct run_result r;
	/* 8 workers and main: 9 alive at the most */
	json_t *root = traced((char *[]){"--max-threads=9", NULL}, fx("threads", "8", NULL, NULL),
			      NULL, &r);
	ck_assert_int_eq(r.status, 0);
	want_ints(root, "threads.peak=9");
	want_findings(root, "thread-limit=0");
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(timeout_ends_hung_program)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--timeout=1s", NULL}, fx("hang", NULL, NULL, NULL), NULL,
			      &r);
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, 124);
	/* the grouped stacks on stderr name where it hangs; then the report */
	want_text(r.err, "--timeout: the program still runs after 1 s", "track stacks: pid",
		  "never_signalled", "___pthread_cond_wait", "joining thread", NULL);
	want_text(text, "killed by signal 9", "waiting on condvar never", NULL);
	ck_assert_int_eq(jint(root, "process.signal"), 9);
	free(text);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A program that ends before its timeout is left alone: the same status and output. */
START_TEST(timeout_not_reached_changes_nothing)
{
	struct run_result r;
	json_t *root = run_like_native(fx("sleep", "100", "3", NULL),
				       (char *[]){"--timeout=60s", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_null(strstr(r.err, "--timeout"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(dump_signal_under_track_run)
{
	struct run_result r;
	char sig[8];
	json_t *root;
	snprintf(sig, sizeof sig, "%d", SIGUSR1);
	root = traced((char *[]){"--dump-signal=USR1", NULL}, fx("raise", sig, "1500", "3"), NULL,
		      &r);
	ck_assert_int_eq(r.status, 3);
	want_text(r.out, "done", NULL);
	want_text(r.err, "the program got its dump signal; the stacks of process",
		  "cond_waiter", "waiting on condvar cv", NULL);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Without the option the signal does what it does natively: it ends the program. */
START_TEST(no_dump_signal_no_dump)
{
	struct run_result r;
	char sig[8];
	json_t *root;
	snprintf(sig, sizeof sig, "%d", SIGUSR1);
	root = run_like_native(fx("raise", sig, "100", "3"), NULL, NULL, &r);
	ck_assert_int_eq(r.status, 128 + SIGUSR1);
	ck_assert_ptr_null(strstr(r.err, "dump"));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Preloaded without track run: the shim's watchdog writes what it knows. */
START_TEST(dump_signal_preloaded)
{
	struct run_result r;
	char sig[8], want[64];
	snprintf(sig, sizeof sig, "%d", SIGUSR1);
	run(fx("raise", sig, "1000", "3"), NULL,
	    (char *[]){shim_preload(), "TRACK_DUMP_SIGNAL=SIGUSR1", NULL}, &r);
	ck_assert_int_eq(r.status, 3);
	want_text(r.out, "done", NULL);
	snprintf(want, sizeof want, "dump on signal %d", SIGUSR1);
	want_text(r.err, "libtrack: pid ", want, "waiting on condvar 0x", "waiting at",
		  "end of dump", NULL);
	run_free(&r);
	/* and a stall said on stderr as it is found, with TRACK_REPORT=stderr */
	run(fx("cond", "1000", NULL, NULL), NULL,
	    (char *[]){shim_preload(), "TRACK_STALL=200ms", "TRACK_REPORT=stderr", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	want_text(r.err, "libtrack: pid ", ": stall: thread ", "waiting on condvar", NULL);
	run_free(&r);
}
END_TEST

static const char *const bad_values[][2] = {
	{"--stall=5", "--stall needs a duration"},
	{"--stall=fast", "--stall needs a duration"},
	{"--stall=0s", "--stall needs a duration"},
	{"--stall=10us", "--stall needs a duration"},
	{"--timeout=0s", "--timeout needs a duration longer than 0"},
	{"--timeout=-1s", "--timeout needs a duration"},
	{"--timeout=1", "--timeout needs a duration"},
	{"--max-threads=0", "--max-threads needs a number"},
	{"--max-threads=many", "--max-threads needs a number"},
	{"--dump-signal=KILL", "--dump-signal needs a catchable signal"},
	{"--dump-signal=SEGV", "--dump-signal needs a catchable signal"},
	{"--dump-signal=99", "--dump-signal needs a catchable signal"},
	{"--dump-signal=QUITE", "--dump-signal needs a catchable signal"},
};

/* Each bad value: one line saying what to use, exit 2, and the program never runs. */
START_TEST(bad_values_one_line)
{
	struct run_result r;
	const char *marker = tmp_path("ran");
	char touch[512], *nl;
	snprintf(touch, sizeof touch, "touch %s", marker);
	run_track((char *[]){"run", (char *)bad_values[_i][0], "--", "sh", "-c", touch, NULL},
		  NULL, &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, bad_values[_i][1], NULL);
	nl = strchr(r.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", r.err);
	ck_assert_int_ne(access(marker, F_OK), 0);
	run_free(&r);
}
END_TEST

static const char *const bad_env[] = {
	"TRACK_STALL=5", "TRACK_STALL=1ms5", "TRACK_THREAD_LIMIT=0", "TRACK_DUMP_SIGNAL=STOP",
	"TRACK_DUMP_SIGNAL=32",
};

START_TEST(bad_env_one_line)
{
	struct run_result r;
	char *nl;
	run_track((char *[]){"run", "--", "true", NULL}, (char *[]){(char *)bad_env[_i], NULL},
		  &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "is not valid: use ", NULL);
	nl = strchr(r.err, '\n');
	ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", r.err);
	run_free(&r);
}
END_TEST

/* Good spellings are taken: a signal by name with or without SIG, by number. */
START_TEST(good_values_taken)
{
	static const char *const ok[] = {"--dump-signal=SIGQUIT", "--dump-signal=USR2",
					 "--dump-signal=3", "--stall=1h", "--timeout=500ms",
					 "--max-threads=1"};
	struct run_result r;
	size_t i;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		run_track((char *[]){"run", "-q", (char *)ok[i], "--", "true", NULL}, NULL, &r);
		ck_assert_msg(r.status == 0, "%s: status %d: %s", ok[i], r.status, r.err);
		run_free(&r);
	}
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("stall", stall_on_long_condvar_wait),
		TEST("stall", no_stall_on_short_condvar_wait),
		TEST("stall", stall_on_mutex_names_running_owner),
		TEST("stall", stall_on_mutex_shows_blocked_owners_wait),
		TEST("stall", stall_is_error_changes_status),
		TEST("stall", stall_never_a_deadlock),
		TEST("limit", thread_limit_above_n),
		TEST("limit", no_thread_limit_at_n),
		TEST("timeout", timeout_ends_hung_program),
		TEST("timeout", timeout_not_reached_changes_nothing),
		TEST("dump", dump_signal_under_track_run),
		TEST("dump", no_dump_signal_no_dump),
		TEST("dump", dump_signal_preloaded),
		LOOP_TEST("usage", bad_values_one_line, ARRAY_SIZE(bad_values)),
		LOOP_TEST("usage", bad_env_one_line, ARRAY_SIZE(bad_env)),
		TEST("usage", good_values_taken),
	};
	return run_tests("stall", 120, tests, ARRAY_SIZE(tests));
}

/*
 * test_run.c — `track run` on fixture programs with known thread lifecycles: the report's
 * totals and thread list must say what the program did, and the program's output and exit
 * status must be what they are without track.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Run fx_threads with args natively and under track (env added to both); outputs and
 * statuses must match. */
static json_t *traced_like_native(const char *a, const char *b, char *const env[],
				  struct run_result *t)
{
	char *argv[] = {(char *)fixture("fx_threads"), (char *)a, (char *)b, NULL};
	return run_like_native(argv, NULL, env, t);
}

static json_t *thread_named(json_t *root, const char *name)
{
	return jfind(root, "threads.list", "name", name);
}

START_TEST(lifecycle_totals)
{
	struct run_result r;
	json_t *root = traced_like_native("lifecycle", "6", NULL, &r);
	/* 6 workers + 2 detached at creation + 1 detached later + pthread_exit + cancelled */
	want_ints(root, "threads.created=11 threads.exited=11 threads.joined=8 "
			"threads.detached=3 threads.alive_at_exit=0 threads.peak>=2");
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(thread_list_details)
{
	struct run_result r;
	json_t *root = traced_like_native("lifecycle", "2", NULL, &r), *t;
	t = thread_named(root, "worker-1");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(jstr(t, "state"), "exited");
	ck_assert(has_flag(t, "joined"));
	ck_assert_int_gt(jint(t, "creator_tid"), 0);
	ck_assert_str_eq(jstr(t, "start_routine.function"), "self_named");
	ck_assert_str_eq(jstr(t, "created_at.function"), "start_named");
	t = thread_named(root, "cancelled");
	ck_assert_ptr_nonnull(t);
	ck_assert(has_flag(t, "cancelled"));
	ck_assert_str_eq(jstr(t, "state"), "exited");
	t = thread_named(root, "exiter");
	ck_assert(has_flag(t, "pthread_exit"));
	ck_assert(!has_flag(t, "cancelled"));
	ck_assert(has_flag(thread_named(root, "det-1"), "detached"));
	ck_assert(has_flag(thread_named(root, "det-3"), "detached"));
	ck_assert(!has_flag(thread_named(root, "worker-0"), "detached"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(leaked_threads_listed)
{
	struct run_result r;
	json_t *root = traced_like_native("leak", NULL, NULL, &r), *t;
	char *text;
	want_ints(root, "threads.created=2 threads.alive_at_exit=2");
	t = thread_named(root, "stuck");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(jstr(t, "state"), "condvar");
	ck_assert(json_is_true(json_object_get(t, "alive_at_exit")));
	ck_assert_str_eq(jstr(t, "state"), "condvar");
	ck_assert_str_eq(jstr(thread_named(root, "sleeper"), "state"), "running");
	/* the main thread called exit(): it did not outlive the process */
	ck_assert(!json_is_true(json_object_get(jfind(root, "threads.list", "name", "fx_threads"),
						"alive_at_exit")));
	json_decref(root);
	/* and the text report names them */
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	want_text(text, "threads still alive at exit:", "\"stuck\"", "waiting on condvar", NULL);
	free(text);
	run_free(&r);
}
END_TEST

START_TEST(no_leak_when_all_joined)
{
	struct run_result r;
	json_t *root = traced_like_native("exit", "0", NULL, &r);
	want_ints(root, "threads.alive_at_exit=0 threads.created=1 threads.joined=1");
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(exit_status_passed_through)
{
	struct run_result r;
	json_t *root = traced_like_native("exit", "37", NULL, &r);
	ck_assert_int_eq(r.status, 37);
	ck_assert_int_eq(jint(root, "process.exit_code"), 37);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(killed_by_signal)
{
	struct run_result r;
	json_t *root = traced_like_native("signal", "9", NULL, &r);
	ck_assert_int_eq(r.status, 128 + SIGKILL);
	ck_assert_int_eq(jint(root, "process.signal"), SIGKILL);
	ck_assert(json_is_false(json_object_get(json_object_get(root, "process"), "called_exit")));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(fork_gives_child_its_own_segment)
{
	struct run_result r;
	json_t *root = traced_like_native("fork", NULL, NULL, &r), *others, *child;
	ck_assert_int_eq(jint(root, "threads.created"), 1);
	others = json_object_get(root, "other_processes");
	ck_assert_int_eq(json_array_size(others), 1);
	child = json_array_get(others, 0);
	want_ints(child, "threads.created=3 threads.joined=3");
	ck_assert_int_eq(jint(child, "process.ppid"), jint(root, "process.pid"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(exec_keeps_the_shim)
{
	struct run_result r;
	json_t *root = traced_like_native("exec", NULL, NULL, &r), *first;
	/* the report is about the final image; the first one is among the others */
	want_ints(root, "process.exec_generation=1 threads.created=7");
	first = json_array_get(json_object_get(root, "other_processes"), 0);
	ck_assert_ptr_nonnull(first);
	want_ints(first, "process.exec_generation=0 threads.created=1");
	ck_assert_int_eq(jint(first, "process.pid"), jint(root, "process.pid"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(thread_table_overflow_is_counted)
{
	char *env[] = {"TRACK_MAX_THREADS=16", NULL};
	struct run_result r;
	json_t *root = traced_like_native("many", "40", env, &r);
	ck_assert_int_gt(jint(root, "overflow.threads_not_tracked"), 0);
	ck_assert_int_le(json_array_size(json_object_get(json_object_get(root, "threads"), "list")),
			 16);
	ck_assert_ptr_nonnull(strstr(r.out, "many 40 done"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(thread_table_no_overflow_by_default)
{
	struct run_result r;
	json_t *root = traced_like_native("many", "40", NULL, &r);
	want_ints(root, "overflow.threads_not_tracked=0 threads.created=40 threads.peak=41");
	json_decref(root);
	run_free(&r);
}
END_TEST

/* What could not be recorded is said in both reports: a "warning:" (or "note:") line of the
 * text report for every figure of the JSON "overflow" object that lost something. */
static void overflow_said_in_text(json_t *root, const char *text, int *nonzero)
{
	json_t *o = json_object_get(root, "overflow"), *v;
	const char *key, *line;
	int lines = 0, lossy = 0;
	char want[64];
	ck_assert_ptr_nonnull(o);
	for (line = text; line != NULL; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		lines += strncmp(line, "warning: ", 9) == 0 || strncmp(line, "note: ", 6) == 0;
	json_object_foreach(o, key, v) {
		long long n = json_integer_value(v);
		if (n == 0 || strstr(key, "_recycled") != NULL)
			continue;
		lossy++;
		snprintf(want, sizeof want, ": %lld ", n);
		ck_assert_msg(strstr(text, want) != NULL, "overflow.%s = %lld, but the text report "
			      "does not say so:\n%s", key, n, text);
	}
	ck_assert_msg(lines == lossy, "%d warning/note lines for %d lossy overflow figures:\n%s",
		      lines, lossy, text);
	*nonzero = lossy;
}

START_TEST(overflow_warned_in_text_as_counted_in_json)
{
	static const char script[] =
		"import threading, json, decimal, hashlib, sqlite3, ctypes\n"
		"ev = threading.Event()\n"
		"ts = [threading.Thread(target=ev.wait) for _ in range(40)]\n"
		"for t in ts: t.start()\n"
		"ev.set()\n"
		"for t in ts: t.join()\n"
		"print('ok')\n";
	char *argv[] = {"/usr/bin/python3", "-c", (char *)script, NULL};
	char *small[] = {"TRACK_MAX_THREADS=16", "TRACK_MAX_OBJECTS=16", "TRACK_MAX_MODULES=8",
			 NULL};
	struct run_result r;
	json_t *root = traced(NULL, argv, small, &r);
	char *text = slurp_file(tmp_path("report.txt"));
	int lossy;
	ck_assert_str_eq(r.out, "ok\n");
	ck_assert_ptr_nonnull(text);
	want_ints(root, "overflow.threads_not_tracked>=1 overflow.objects_not_tracked>=1 "
		  "overflow.modules_not_recorded>=1");
	overflow_said_in_text(root, text, &lossy);
	ck_assert_int_ge(lossy, 3);
	free(text);
	json_decref(root);
	run_free(&r);
	/* the negative: with room for everything, no warning and every figure 0 */
	root = traced(NULL, argv, NULL, &r);
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	overflow_said_in_text(root, text, &lossy);
	ck_assert_int_eq(lossy, 0);
	free(text);
	json_decref(root);
	run_free(&r);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("threads", lifecycle_totals),
		TEST("threads", thread_list_details),
		TEST("threads", leaked_threads_listed),
		TEST("threads", no_leak_when_all_joined),
		TEST("threads", exit_status_passed_through),
		TEST("threads", killed_by_signal),
		TEST("threads", fork_gives_child_its_own_segment),
		TEST("threads", exec_keeps_the_shim),
		TEST("threads", thread_table_overflow_is_counted),
		TEST("threads", thread_table_no_overflow_by_default),
		TEST("threads", overflow_warned_in_text_as_counted_in_json),
	};
	return run_tests("run", 120, tests, ARRAY_SIZE(tests));
}

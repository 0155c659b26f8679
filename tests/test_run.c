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

/* Run a fixture natively and under track; outputs and statuses must match. */
static json_t *traced_like_native(char *const argv[], char *const env[], struct run_result *t)
{
	return run_like_native(argv, NULL, env, t);
}

static json_t *thread_named(json_t *root, const char *name)
{
	return jfind(root, "threads.list", "name", name);
}

static int has_flag(json_t *thread, const char *flag)
{
	json_t *f = json_object_get(thread, "flags"), *e;
	size_t i;
	json_array_foreach(f, i, e)
		if (strcmp(json_string_value(e), flag) == 0)
			return 1;
	return 0;
}

START_TEST(lifecycle_totals)
{
	char *argv[] = {(char *)fixture("fx_threads"), "lifecycle", "6", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r);
	/* 6 workers + 2 detached at creation + 1 detached later + pthread_exit + cancelled */
	ck_assert_int_eq(jint(root, "threads.created"), 11);
	ck_assert_int_eq(jint(root, "threads.exited"), 11);
	ck_assert_int_eq(jint(root, "threads.joined"), 8);
	ck_assert_int_eq(jint(root, "threads.detached"), 3);
	ck_assert_int_eq(jint(root, "threads.alive_at_exit"), 0);
	ck_assert_int_ge(jint(root, "threads.peak"), 2);
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(thread_list_details)
{
	char *argv[] = {(char *)fixture("fx_threads"), "lifecycle", "2", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r), *t;
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
	char *argv[] = {(char *)fixture("fx_threads"), "leak", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r), *t;
	ck_assert_int_eq(jint(root, "threads.created"), 2);
	ck_assert_int_eq(jint(root, "threads.alive_at_exit"), 2);
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
	{
		FILE *f = fopen(tmp_path("report.txt"), "r");
		char buf[8192];
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = '\0';
		fclose(f);
		ck_assert_ptr_nonnull(strstr(buf, "threads still alive at exit:"));
		ck_assert_ptr_nonnull(strstr(buf, "\"stuck\""));
		ck_assert_ptr_nonnull(strstr(buf, "waiting on condvar"));
	}
	run_free(&r);
}
END_TEST

START_TEST(no_leak_when_all_joined)
{
	char *argv[] = {(char *)fixture("fx_threads"), "exit", "0", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r);
	ck_assert_int_eq(jint(root, "threads.alive_at_exit"), 0);
	ck_assert_int_eq(jint(root, "threads.created"), 1);
	ck_assert_int_eq(jint(root, "threads.joined"), 1);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(exit_status_passed_through)
{
	char *argv[] = {(char *)fixture("fx_threads"), "exit", "37", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r);
	ck_assert_int_eq(r.status, 37);
	ck_assert_int_eq(jint(root, "process.exit_code"), 37);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(killed_by_signal)
{
	char *argv[] = {(char *)fixture("fx_threads"), "signal", "9", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r);
	ck_assert_int_eq(r.status, 128 + SIGKILL);
	ck_assert_int_eq(jint(root, "process.signal"), SIGKILL);
	ck_assert(json_is_false(json_object_get(json_object_get(root, "process"), "called_exit")));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(fork_gives_child_its_own_segment)
{
	char *argv[] = {(char *)fixture("fx_threads"), "fork", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r), *others, *child;
	ck_assert_int_eq(jint(root, "threads.created"), 1);
	others = json_object_get(root, "other_processes");
	ck_assert_int_eq(json_array_size(others), 1);
	child = json_array_get(others, 0);
	ck_assert_int_eq(jint(child, "threads.created"), 3);
	ck_assert_int_eq(jint(child, "threads.joined"), 3);
	ck_assert_int_eq(jint(child, "process.ppid"), jint(root, "process.pid"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(exec_keeps_the_shim)
{
	char *argv[] = {(char *)fixture("fx_threads"), "exec", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r), *first;
	/* the report is about the final image; the first one is among the others */
	ck_assert_int_eq(jint(root, "process.exec_generation"), 1);
	ck_assert_int_eq(jint(root, "threads.created"), 7);
	first = json_array_get(json_object_get(root, "other_processes"), 0);
	ck_assert_ptr_nonnull(first);
	ck_assert_int_eq(jint(first, "process.exec_generation"), 0);
	ck_assert_int_eq(jint(first, "threads.created"), 1);
	ck_assert_int_eq(jint(first, "process.pid"), jint(root, "process.pid"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(thread_table_overflow_is_counted)
{
	char *argv[] = {(char *)fixture("fx_threads"), "many", "40", NULL};
	char *env[] = {"TRACK_MAX_THREADS=16", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, env, &r);
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
	char *argv[] = {(char *)fixture("fx_threads"), "many", "40", NULL};
	struct run_result r;
	json_t *root = traced_like_native(argv, NULL, &r);
	ck_assert_int_eq(jint(root, "overflow.threads_not_tracked"), 0);
	ck_assert_int_eq(jint(root, "threads.created"), 40);
	ck_assert_int_eq(jint(root, "threads.peak"), 41);
	json_decref(root);
	run_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("threads");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, lifecycle_totals);
	tcase_add_test(tc, thread_list_details);
	tcase_add_test(tc, leaked_threads_listed);
	tcase_add_test(tc, no_leak_when_all_joined);
	tcase_add_test(tc, exit_status_passed_through);
	tcase_add_test(tc, killed_by_signal);
	tcase_add_test(tc, fork_gives_child_its_own_segment);
	tcase_add_test(tc, exec_keeps_the_shim);
	tcase_add_test(tc, thread_table_overflow_is_counted);
	tcase_add_test(tc, thread_table_no_overflow_by_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite());
}

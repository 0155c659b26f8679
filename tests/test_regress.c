/*
 * test_regress.c — correct programs that once made the shim hang, end them with a false
 * deadlock or report false findings (tests/fixtures/fx_regress.c): each must now run under
 * track run exactly as it does natively, with no findings; and the one real deadlock among
 * them (two threads joining each other) must be found.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Run a scenario natively and traced (env applies to both): same output and status, no
 * findings. */
static void clean_run(const char *scenario, char *const env[])
{
	char *argv[] = {strdup(fixture("fx_regress")), (char *)scenario, NULL};
	struct run_result t;
	json_decref(run_clean(argv, NULL, env, &t));
	run_free(&t);
	free(argv[0]);
}

/* A thread joining itself gets EDEADLK at once: no deadlock (nothing ended, nothing hangs),
 * but a misuse of the thread handle, reported as join-invalid (issue 12). */
START_TEST(self_join_is_not_a_deadlock)
{
	char *argv[] = {strdup(fixture("fx_regress")), "selfjoin", NULL};
	struct run_result r;
	json_t *root = run_like_native(argv, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	want_findings(root, "deadlock=0 join-invalid=1");
	json_decref(root);
	run_free(&r);
	free(argv[0]);
}
END_TEST

START_TEST(reused_thread_slot_is_not_the_joined_thread)
{
	clean_run("recycle", (char *[]){"TRACK_MAX_THREADS=16", NULL});
}
END_TEST

START_TEST(mutex_released_in_cond_wait_is_not_recycled)
{
	clean_run("pinned", (char *[]){"TRACK_MAX_OBJECTS=16", NULL});
}
END_TEST

START_TEST(more_locks_held_than_listed)
{
	clean_run("stripes", NULL);
}
END_TEST

START_TEST(signal_handler_during_thread_start_does_not_hang)
{
	clean_run("signals", NULL);
}
END_TEST

START_TEST(threads_joining_each_other_deadlock)
{
	char *argv[] = {strdup(fixture("fx_regress")), "mutualjoin", NULL};
	struct run_result r;
	json_t *root = run_track_json((char *[]){"-q", NULL}, argv, NULL, &r), *f;
	ck_assert_int_eq(r.status, 7);
	f = jfind(root, "findings", "kind", "deadlock");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json_array_size(json_object_get(f, "threads")), 2);
	json_decref(root);
	run_free(&r);
	free(argv[0]);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("review", self_join_is_not_a_deadlock),
		TEST("review", reused_thread_slot_is_not_the_joined_thread),
		TEST("review", mutex_released_in_cond_wait_is_not_recycled),
		TEST("review", more_locks_held_than_listed),
		TEST("review", signal_handler_during_thread_start_does_not_hang),
		TEST("review", threads_joining_each_other_deadlock),
	};
	return run_tests("regress", 60, tests, ARRAY_SIZE(tests));
}

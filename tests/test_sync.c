/*
 * test_sync.c — locks, condvars, semaphores and barriers under the shim: the report counts
 * what the program did, waits are measured, cancellation inside waits leaves correct
 * bookkeeping, misuse is found (and correct use is not), and every wrapped call returns
 * exactly what it returns without the shim, errno included.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* fx_sync scenario [arg] under track run: it must have ended with status 0. */
static json_t *sync_run(const char *scenario, const char *arg, char *const env[],
			struct run_result *r)
{
	char *argv[] = {(char *)fixture("fx_sync"), (char *)scenario, (char *)arg, NULL};
	json_t *root = traced(NULL, argv, env, r);
	ck_assert_msg(r->status == 0, "fx_sync %s exited %d: %s", scenario, r->status, r->err);
	return root;
}

/* The first object of a kind in list (locks, condvars, ...). */
static json_t *first_of(json_t *root, const char *list, const char *kind)
{
	return jfind(root, list, "kind", kind);
}

START_TEST(contention_is_measured)
{
	struct run_result r;
	json_t *root = sync_run("contended", NULL, NULL, &r), *m;
	m = json_array_get(json_object_get(root, "locks"), 0);   /* most contended first */
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(jstr(m, "kind"), "mutex");
	ck_assert_int_eq(jint(m, "acquisitions"), 6);
	ck_assert_int_eq(jint(m, "contended"), 3);
	/* the holder keeps it 100 ms each time */
	ck_assert_int_ge(jint(m, "max_wait_ns"), 50000000);
	ck_assert_int_ge(jint(m, "wait_ns"), 150000000);
	ck_assert(json_is_true(json_object_get(m, "static_init")));
	ck_assert_int_eq(jint(m, "peak_waiters"), 1);
	ck_assert_str_eq(jstr(m, "first_use.function"), "holder");
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(uncontended_is_not_counted_as_contended)
{
	struct run_result r;
	json_t *root = sync_run("kinds", NULL, NULL, &r), *l;
	size_t i;
	json_array_foreach(json_object_get(root, "locks"), i, l)
		if (strcmp(jstr(l, "kind"), "spinlock") == 0 || strcmp(jstr(l, "kind"), "mutex") == 0)
			ck_assert_int_eq(jint(l, "contended"), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(every_kind_is_counted)
{
	struct run_result r;
	json_t *root = sync_run("kinds", NULL, NULL, &r), *o;
	o = first_of(root, "locks", "spinlock");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jint(o, "acquisitions"), 1000);
	o = first_of(root, "locks", "rwlock");
	ck_assert_ptr_nonnull(o);
	want_ints(o, "acquisitions=3 readers=0");   /* two readers at once, one writer */
	o = jfind(root, "locks", "type", "recursive");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jint(o, "acquisitions"), 3);
	ck_assert(json_is_false(json_object_get(o, "live")));   /* destroyed */
	o = jfind(root, "condvars", "kind", "condvar");
	ck_assert_ptr_nonnull(o);
	want_ints(o, "signals=5 broadcasts=2 waits=1 timeouts=1");
	o = first_of(root, "semaphores", "semaphore");
	ck_assert_ptr_nonnull(o);
	want_ints(o, "posts=7 waits=7 blocked_waits=0");
	o = first_of(root, "barriers", "barrier");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(jint(o, "waits"), 2);
	ck_assert(json_is_false(json_object_get(o, "live")));   /* destroyed */
	ck_assert(json_is_false(json_object_get(o, "static_init")));   /* seen at init */
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(return_values_and_errno_unchanged)
{
	char *argv[] = {(char *)fixture("fx_sync"), "errno", NULL};
	struct run_result n, t;
	json_t *root;
	run(argv, NULL, NULL, &n);
	root = traced(NULL, argv, NULL, &t);
	ck_assert_int_eq(t.status, n.status);
	ck_assert_msg(strcmp(t.out, n.out) == 0, "native:\n%s\ntraced:\n%s", n.out, t.out);
	ck_assert_int_gt(n.out_len, 1000);   /* it really printed every call */
	json_decref(root);
	run_free(&n);
	run_free(&t);
}
END_TEST

START_TEST(cancelled_waits_leave_correct_state)
{
	struct run_result r;
	json_t *root = sync_run("cancel", NULL, NULL, &r), *t, *m;
	size_t i, cancelled = 0;
	json_array_foreach(json_object_get(json_object_get(root, "threads"), "list"), i, t) {
		const char *state = jstr(t, "state");
		cancelled += has_flag(t, "cancelled");
		if (json_object_get(t, "waiting") != NULL)
			ck_abort_msg("thread %lld still shown %s", jint(t, "tid"), state);
		ck_assert_int_eq(json_array_size(json_object_get(t, "held_locks")), 0);
	}
	ck_assert_int_eq(cancelled, 3);
	ck_assert_int_eq(jint(root, "threads.alive_at_exit"), 0);
	m = jfind(root, "locks", "kind", "mutex");
	ck_assert_ptr_nonnull(m);
	ck_assert(json_is_null(json_object_get(m, "owner_tid")));
	json_array_foreach(json_object_get(root, "condvars"), i, t)
		ck_assert_int_eq(jint(t, "waiters"), 0);
	json_array_foreach(json_object_get(root, "semaphores"), i, t)
		ck_assert_int_eq(jint(t, "waiters"), 0);
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(misuse_is_found)
{
	struct run_result r;
	json_t *root = sync_run("misuse", NULL, NULL, &r), *f;
	ck_assert_int_eq(count_findings(root, "unlock-not-owner"), 1);
	ck_assert_int_eq(count_findings(root, "unlock-unlocked"), 1);
	f = jfind(root, "findings", "kind", "unlock-not-owner");
	ck_assert_str_eq(jstr(f, "location.function"), "unlock_other");
	ck_assert_int_gt(jint(f, "other_tid"), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* fx_sync scenario under track run --error-exitcode=42. */
static json_t *with_error_exitcode(const char *scenario, struct run_result *r)
{
	char *argv[] = {(char *)fixture("fx_sync"), (char *)scenario, NULL};
	return traced((char *[]){"--error-exitcode=42", NULL}, argv, NULL, r);
}

START_TEST(error_exitcode_on_findings)
{
	struct run_result r;
	json_t *root = with_error_exitcode("misuse", &r);
	ck_assert_int_eq(r.status, 42);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(no_error_exitcode_without_findings)
{
	struct run_result r;
	json_t *root = with_error_exitcode("kinds", &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(address_reuse_and_object_overflow)
{
	struct run_result r;
	char *env[] = {"TRACK_MAX_OBJECTS=64", NULL};
	json_t *root = sync_run("reuse", "5000", env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "reuse 5000 done"));
	ck_assert_int_gt(jint(root, "overflow.object_records_recycled"), 0);
	ck_assert_int_le(json_array_size(json_object_get(root, "locks")), 64);
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(address_reuse_default_capacity)
{
	struct run_result r;
	json_t *root = sync_run("reuse", "5000", NULL, &r), *l;
	size_t i, destroyed = 0, freed = 0;
	ck_assert_int_eq(jint(root, "overflow.object_records_recycled"), 0);
	ck_assert_int_eq(jint(root, "overflow.objects_not_tracked"), 0);
	json_array_foreach(json_object_get(root, "locks"), i, l) {
		int gone = json_is_false(json_object_get(l, "live"));
		int by_free = json_is_true(json_object_get(l, "freed"));
		destroyed += gone && !by_free;
		freed += by_free;
	}
	/* 1000 init/destroy cycles at one address: 1000 distinct objects, each with its
	 * own record, while there is room; the 5000 never destroyed end when their array is
	 * freed */
	ck_assert_int_ge(json_array_size(json_object_get(root, "locks")), 6000);
	ck_assert_int_eq(destroyed, 1000);
	ck_assert_int_eq(freed, 5000);
	json_decref(root);
	run_free(&r);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("objects", contention_is_measured),
		TEST("objects", uncontended_is_not_counted_as_contended),
		TEST("objects", every_kind_is_counted),
		TEST("objects", return_values_and_errno_unchanged),
		TEST("objects", cancelled_waits_leave_correct_state),
		TEST("objects", misuse_is_found),
		TEST("objects", error_exitcode_on_findings),
		TEST("objects", no_error_exitcode_without_findings),
		TEST("objects", address_reuse_and_object_overflow),
		TEST("objects", address_reuse_default_capacity),
	};
	return run_tests("sync", 120, tests, ARRAY_SIZE(tests));
}

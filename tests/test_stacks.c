/*
 * test_stacks.c — `track stacks` as a user runs it: 100 threads blocked in three known call
 * chains (tests/fixtures/blocked/fx_blocked.c, built -O2 without frame pointers), with and
 * without the shim; grouping counts, function names, the shim's annotations, --json,
 * --no-stop, bad input, a process that already has a tracer, and the target left running.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* No thread of the fixture is left stopped; then end it and check it exits 0. */
static void finish(struct blocked_fx *b)
{
	assert_threads(b->pid, "tT", 0, NULL);
	end_blocked(b, NULL, 0);
}

/* `track stacks [opt] PID` with env added. */
static void stacks_env(pid_t pid, const char *opt, char *const env[], struct run_result *r)
{
	char num[16];
	snprintf(num, sizeof num, "%d", (int)pid);
	run_track(opt ? (char *[]){"stacks", (char *)opt, num, NULL}
		      : (char *[]){"stacks", num, NULL}, env, r);
}

static void stacks(pid_t pid, const char *opt, struct run_result *r)
{
	stacks_env(pid, opt, NULL, r);
}

/* `track stacks --json PID` with env added: it must succeed; the parsed output. */
static json_t *stacks_json(pid_t pid, char *const env[], struct run_result *r)
{
	json_error_t e;
	json_t *root;
	stacks_env(pid, "--json", env, r);
	ck_assert_msg(r->status == 0, "%s", r->err);
	root = json_loads(r->out, 0, &e);
	ck_assert_msg(root != NULL, "%s: %s", e.text, r->out);
	return root;
}

/* `track stacks [opt]` of a fresh fx_blocked of n threads (how: start_blocked's), which is
 * then ended as finish() does. */
static void stacks_of(int n, int how, const char *opt, struct run_result *r)
{
	struct blocked_fx b;
	start_blocked(&b, n, NULL, how);
	stacks(b.pid, opt, r);
	finish(&b);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The three chains, grouped with the right counts (100 threads: 34, 33, 33) and named. */
static void assert_chains(const char *out)
{
	ck_assert_msg(strstr(out, "34 threads with this stack") != NULL, "%s", out);
	ck_assert_int_eq(count(out, "33 threads with this stack"), 2);
	want_text(out, "fx_a3", "fx_a2", "fx_chain_a", "fx_b2", "fx_chain_b", "fx_chain_c", NULL);
	/* callees before callers */
	ck_assert(strstr(out, "fx_a3") < strstr(out, "fx_a2"));
	ck_assert(strstr(out, "fx_a2") < strstr(out, "fx_chain_a"));
}

START_TEST(grouped_without_shim)
{
	struct run_result r;
	stacks_of(100, 0, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	/* blocked threads are read where they sleep: nothing needs stopping */
	want_text(r.out, ": 101 threads", "no track segment", "no thread was stopped", NULL);
	assert_chains(r.out);
	run_free(&r);
}
END_TEST

START_TEST(grouped_and_annotated_with_shim)
{
	struct run_result r;
	stacks_of(100, BLOCKED_SHIM, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_chains(r.out);
	/* chain c waits for the mutex main holds; chain a waits on a condvar; both are static
	 * variables, named so */
	ck_assert_int_eq(count(r.out, "blocked on mutex mu_c for"), 33);
	ck_assert_int_eq(count(r.out, "waiting on condvar cv_a for"), 34);
	want_text(r.out, "held by thread", "created by thread", "holds mutex mu_c", NULL);
	/* the shim's own frames are not shown */
	ck_assert_ptr_null(strstr(r.out, "trampoline"));
	ck_assert_ptr_null(strstr(r.out, "mutex_wait"));
	run_free(&r);
}
END_TEST

START_TEST(json_and_all)
{
	struct blocked_fx b;
	struct run_result r;
	json_t *root, *g;
	size_t i, total = 0, biggest = 0;
	start_blocked(&b, 100, NULL, 0);
	root = stacks_json(b.pid, NULL, &r);
	ck_assert_int_eq(jint(root, "threads"), 101);
	ck_assert(json_is_true(json_object_get(root, "stopped")));
	ck_assert_int_eq(jint(root, "threads_stopped"), 0);
	ck_assert_int_eq(jint(root, "max_thread_stop_ns"), 0);
	json_array_foreach(json_object_get(root, "groups"), i, g) {
		size_t c = (size_t)jint(g, "count");
		total += c;
		if (c > biggest)
			biggest = c;
	}
	ck_assert_int_eq(total, 101);
	ck_assert_int_eq(biggest, 34);
	json_decref(root);
	run_free(&r);
	stacks(b.pid, "--all", &r);
	ck_assert_ptr_null(strstr(r.out, "threads with this stack"));
	ck_assert_int_eq(count(r.out, "\nthread "), 101);
	run_free(&r);
	finish(&b);
}
END_TEST

START_TEST(no_stop_shows_recorded_stacks)
{
	struct run_result r;
	stacks_of(100, BLOCKED_SHIM, "--no-stop", &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	/* chain a, chain c, and one group for every thread without a recorded stack; chain b
	 * is in read(), not a wrapped wait: no recorded stack, and it says so */
	want_text(r.out, "nothing was stopped", ": 101 threads, 3 groups",
		  "34 threads with this stack", "33 threads with this stack", "fx_chain_a",
		  "fx_chain_c", "with no recorded stack", NULL);
	run_free(&r);
}
END_TEST

START_TEST(no_stop_needs_the_shim)
{
	struct run_result r;
	stacks_of(3, 0, "--no-stop", &r);
	ck_assert_int_eq(r.status, 5);
	ck_assert_ptr_nonnull(strstr(r.err, "no track segment"));
	run_free(&r);
}
END_TEST

START_TEST(stopping_every_thread)
{
	char *env[] = {"TRACK_STACKS_STOP_ALL=1", NULL};
	struct blocked_fx b;
	struct run_result r;
	json_t *root;
	start_blocked(&b, 100, NULL, 0);
	root = stacks_json(b.pid, env, &r);
	ck_assert_int_eq(jint(root, "threads_stopped"), 101);
	ck_assert_int_ge(jint(root, "max_thread_stop_ns"), 1);
	json_decref(root);
	run_free(&r);
	stacks_env(b.pid, NULL, env, &r);
	assert_chains(r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "101 of 101 threads were stopped, one at a time"));
	run_free(&r);
	finish(&b);
}
END_TEST

/* Another tracer (strace) is attached: refused at once, saying who traces it. */
START_TEST(already_traced)
{
	struct run_result r;
	if (system("command -v strace >/dev/null") != 0)
		return;
	stacks_of(3, BLOCKED_STRACE, NULL, &r);
	ck_assert_int_eq(r.status, 4);
	ck_assert_msg(strncmp(r.err, "track: ", 7) == 0 && strstr(r.err, "already traced by") &&
			      strstr(r.err, "strace"),
		      "%s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(bad_input)
{
	struct run_result r;
	run_track((char *[]){"stacks", "999999999", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 5);
	ck_assert_ptr_nonnull(strstr(r.err, "no process 999999999"));
	run_free(&r);
	run_track((char *[]){"stacks", "abc", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
	run_track((char *[]){"stacks", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("cli", grouped_without_shim),
		TEST("cli", grouped_and_annotated_with_shim),
		TEST("cli", json_and_all),
		TEST("cli", no_stop_shows_recorded_stacks),
		TEST("cli", no_stop_needs_the_shim),
		TEST("cli", stopping_every_thread),
		TEST("cli", already_traced),
		TEST("cli", bad_input),
	};
	return run_tests("stacks", 120, tests, ARRAY_SIZE(tests));
}

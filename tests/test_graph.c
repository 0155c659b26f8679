/*
 * test_graph.c — a lock-order graph that never silently stops learning, and cycles of any
 * length (issue 12, points 1 and 2), through tests/fixtures/fx_graph.c.
 *
 * Point 1: edges of destroyed locks leave the graph, so a program that makes and destroys
 * per-object locks under a global one by the million keeps finding a late inversion (and
 * finds nothing when there is none), with no edge dropped, in a table far smaller than the
 * edges it made over its life; what is still lost (a table full of live edges, a search cut
 * off by its budget) is a checking-incomplete finding, an error.
 *
 * Point 2: a lock-order cycle of 24 or 100 locks is reported with every edge, a chain of 100
 * without a cycle is not (nor counted as a cycle too long), and a deadlock of 24 threads is
 * reported with every thread, a queue of 24 waiting threads with no cycle not at all.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* argv of `fx_graph what a [b [c]]` (static: one at a time). */
static char **fx(const char *what, const char *a, const char *b, const char *c)
{
	static char path[512], args[4][32];
	static char *argv[6];
	const char *in[4] = {what, a, b, c};
	int i;
	snprintf(path, sizeof path, "%s", fixture("fx_graph"));
	argv[0] = path;
	for (i = 0; i < 4 && in[i] != NULL; i++) {
		snprintf(args[i], sizeof args[i], "%s", in[i]);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;
	return argv;
}

/* Run it traced with opts and env; it must end with status want. */
static json_t *graph_run(char **argv, char *const *opts, char *const *env, int want,
			 struct run_result *r)
{
	json_t *root = traced(opts, argv, env, r);
	ck_assert_msg(root != NULL, "no report; err: %s", r->err);
	ck_assert_msg(r->status == want, "%s %s: status %d, want %d; err: %s; findings: %s",
		      argv[0], argv[1], r->status, want, r->err, findings_text(root));
	return root;
}

/* A negative: argv runs to status 0 and reports nothing, with the figures ints says
 * (want_ints), and prints done. */
static void nothing_reported(char **argv, char *const *opts, char *const *env, const char *ints)
{
	struct run_result r;
	char done[64];
	json_t *root = graph_run(argv, opts, env, 0, &r);
	ck_assert_msg(count_findings(root, NULL) == 0, "want none: %s", findings_text(root));
	want_ints(root, ints);
	snprintf(done, sizeof done, "%s done", argv[1]);
	ck_assert_msg(strstr(r.out, done) != NULL, "not done: %s", r.out);
	json_decref(root);
	run_free(&r);
}

static int loc_is(json_t *loc, const char *fn)
{
	const char *f = jstr(loc, "function");
	return f != NULL && strcmp(f, fn) == 0;
}

/* The one lock-order-inversion: an error whose cycle has n edges, each taking its second
 * lock in fn (unless NULL), each starting at the lock the one before ended at, through n distinct locks. */
static json_t *check_ring(json_t *root, size_t n, const char *fn)
{
	json_t *f = jfind(root, "findings", "kind", "lock-order-inversion"), *cycle;
	size_t i, k;
	ck_assert_msg(count_findings(root, "lock-order-inversion") == 1 && f != NULL,
		      "want one inversion: %s", findings_text(root));
	ck_assert_msg(strcmp(jstr(f, "severity"), "error") == 0, "not an error: %s", dump(f));
	cycle = json_object_get(f, "cycle");
	ck_assert_msg(json_is_array(cycle) && json_array_size(cycle) == n,
		      "want a cycle of %zu edges, got %zu: %s", n, json_array_size(cycle),
		      dump(f));
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(cycle, i), *next = json_array_get(cycle, (i + 1) % n);
		ck_assert_msg(json_is_object(e), "edge %zu missing: %s", i, dump(f));
		ck_assert_msg(strcmp(jstr(e, "to"), jstr(next, "from")) == 0,
			      "edge %zu ends at %s, the next starts at %s", i, jstr(e, "to"),
			      jstr(next, "from"));
		ck_assert_msg(fn == NULL || loc_is(json_object_get(e, "to_location"), fn),
			      "edge %zu not taken in %s: %s", i, fn, dump(e));
		for (k = 0; k < i; k++)
			ck_assert_msg(strcmp(jstr(json_array_get(cycle, k), "from"),
					     jstr(e, "from")) != 0,
				      "lock %s twice in the cycle", jstr(e, "from"));
	}
	return f;
}

/* ---- point 1: reclaim, and what is lost counted ----------------------------------------- */

/* A table of 1,024 edges: without reclaim the churn would fill it a thousand times over. */
static char *const small_table[] = {"TRACK_MAX_EDGES=1024", "FX_WATCHDOG=280", NULL};

START_TEST(late_inversion_found_after_a_million_objects)
{
	struct run_result r;
	char line[64];
	json_t *root = graph_run(fx("churn", "1000000", "100", "late"), NULL, small_table, 0, &r);
	json_t *cycle = json_object_get(check_ring(root, 2, NULL), "cycle");
	json_t *e0 = json_object_get(json_array_get(cycle, 0), "to_location");
	json_t *e1 = json_object_get(json_array_get(cycle, 1), "to_location");
	ck_assert_msg((loc_is(e0, "object_update") && loc_is(e1, "object_then_global")) ||
			      (loc_is(e1, "object_update") && loc_is(e0, "object_then_global")),
		      "the edges of object_update and object_then_global: %s", dump(cycle));
	want_findings(root, "lock-order-inversion=1 checking-incomplete=0");
	want_ints(root, "overflow.edges_not_recorded=0 overflow.edge_records_recycled>=999900 "
			"overflow.searches_cut=0");
	snprintf(line, sizeof line, "objects %d", 1000000);
	ck_assert_msg(strstr(r.out, line) != NULL, "the churn did not finish: %s", r.out);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(churn_without_inversion_reports_nothing)
{
	nothing_reported(fx("churn", "200000", "100", NULL), NULL, small_table,
			 "overflow.edges_not_recorded=0 overflow.edge_records_recycled>=199900");
}
END_TEST

/* The text report's line for the checking-incomplete finding names the variable. */
static void check_incomplete(json_t *root, const char *variable)
{
	json_t *f = jfind(root, "findings", "kind", "checking-incomplete");
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_msg(count_findings(root, "checking-incomplete") == 1 && f != NULL,
		      "want one checking-incomplete: %s", findings_text(root));
	ck_assert_msg(strcmp(jstr(f, "severity"), "error") == 0, "not an error: %s", dump(f));
	ck_assert_msg(strstr(jstr(f, "message"), variable) != NULL, "%s not named: %s", variable,
		      dump(f));
	ck_assert_msg(text != NULL && strstr(text, "checking-incomplete") != NULL &&
			      strstr(text, variable) != NULL,
		      "the text report does not say it:\n%s", text);
	free(text);
}

/* 300 live locks under one: 300 live edges in a table of 64. */
START_TEST(dropped_edge_is_a_finding_and_fails_the_run)
{
	static char *const opts[] = {"--error-exitcode=9", NULL};
	static char *const env[] = {"TRACK_MAX_EDGES=64", NULL};
	struct run_result r;
	json_t *root = graph_run(fx("churn", "300", "300", NULL), opts, env, 9, &r);
	check_incomplete(root, "TRACK_MAX_EDGES");
	want_ints(root, "overflow.edges_not_recorded>=236");
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(search_cut_off_is_a_finding)
{
	static char *const env[] = {"TRACK_SEARCH_VISITS=64", NULL};
	struct run_result r;
	json_t *root = graph_run(fx("ring", "100", NULL, NULL), NULL, env, 0, &r);
	check_incomplete(root, "TRACK_SEARCH_VISITS");
	want_findings(root, "lock-order-inversion=0");
	want_ints(root, "overflow.searches_cut>=1");
	json_decref(root);
	run_free(&r);
}
END_TEST

/* The same graphs with the default limits lose nothing. */
START_TEST(default_limits_lose_nothing)
{
	static char *const opts[] = {"--error-exitcode=9", NULL};
	nothing_reported(fx("churn", "300", "300", NULL), opts, NULL,
			 "overflow.edges_not_recorded=0 overflow.searches_cut=0");
}
END_TEST

/* ---- point 2: cycles of any length -------------------------------------------------------- */

/* 1000: a search visits more locks than its first, small visited set holds
 * (lockorder.c, SMALL_VISITS) and starts again with room for its whole budget. */
static const char *const ring_sizes[] = {"24", "100", "1000"};

START_TEST(long_cycle_reported_with_every_edge)
{
	struct run_result r;
	char words[64];
	char *text;
	size_t n = (size_t)atoi(ring_sizes[_i]);
	json_t *root = graph_run(fx("ring", ring_sizes[_i], NULL, NULL), NULL, NULL, 0, &r);
	check_ring(root, n, "take_pair");
	want_findings(root, "checking-incomplete=0");
	want_ints(root, "overflow.cycles_too_long=0 overflow.searches_cut=0");
	text = slurp_file(tmp_path("report.txt"));
	snprintf(words, sizeof words, "cycle of %zu locks", n);
	ck_assert_msg(text != NULL && strstr(text, words) != NULL, "no \"%s\" in:\n%s", words,
		      text);
	free(text);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(long_chain_without_cycle_reports_nothing)
{
	nothing_reported(fx("chain", ring_sizes[_i], NULL, NULL), NULL, NULL,
			 "overflow.cycles_too_long=0 overflow.searches_cut=0");
}
END_TEST

/* 24 philosophers: the deadlock holds every one, each waiting on the fork the next holds. */
START_TEST(deadlock_of_24_threads_reported_whole)
{
	static char *const env[] = {"FX_WATCHDOG=20", NULL};
	struct run_result r;
	json_t *root = graph_run(fx("dine", "24", NULL, NULL), NULL, env, 7, &r), *f, *threads;
	size_t i, k, n = 24;
	f = jfind(root, "findings", "kind", "deadlock");
	ck_assert_msg(count_findings(root, "deadlock") == 1 && f != NULL, "want one deadlock: %s",
		      findings_text(root));
	threads = json_object_get(f, "threads");
	ck_assert_msg(json_is_array(threads) && json_array_size(threads) == n,
		      "want %zu threads: %s", n, dump(f));
	for (i = 0; i < n; i++) {
		json_t *t = json_array_get(threads, i), *next = json_array_get(threads, (i + 1) % n);
		ck_assert_msg(jint(t, "held_by") == jint(next, "tid"),
			      "thread %zu waits for %lld, the next is %lld", i, jint(t, "held_by"),
			      jint(next, "tid"));
		ck_assert_msg(jstr(t, "waits_on") != NULL, "waits on nothing: %s", dump(t));
		for (k = 0; k < i; k++)
			ck_assert_msg(jint(json_array_get(threads, k), "tid") != jint(t, "tid"),
				      "thread %lld twice", jint(t, "tid"));
	}
	ck_assert_msg(strstr(jstr(f, "message"), "24 threads") != NULL, "%s", dump(f));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(long_wait_chain_is_no_deadlock)
{
	nothing_reported(fx("queue", "24", NULL, NULL), NULL, NULL, "overflow.cycles_too_long=0");
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("reclaim", late_inversion_found_after_a_million_objects),
		TEST("reclaim", churn_without_inversion_reports_nothing),
		TEST("incomplete", dropped_edge_is_a_finding_and_fails_the_run),
		TEST("incomplete", search_cut_off_is_a_finding),
		TEST("incomplete", default_limits_lose_nothing),
		LOOP_TEST("long", long_cycle_reported_with_every_edge, ARRAY_SIZE(ring_sizes)),
		LOOP_TEST("long", long_chain_without_cycle_reports_nothing, ARRAY_SIZE(ring_sizes)),
		TEST("long", deadlock_of_24_threads_reported_whole),
		TEST("long", long_wait_chain_is_no_deadlock),
	};
	return run_tests("graph", 300, tests, ARRAY_SIZE(tests));
}

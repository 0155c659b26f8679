/*
 * test_views.c — where the time went, as the reports show it: locks ranked by total wait
 * with their acquisition counts, hold percentiles against sleeps of known length inside
 * critical sections, the holding site that made others wait, --sort, pools of threads,
 * registered queues (and the queue API without the shim), condvar signals that found no
 * waiter and semaphore values.  Bounds on times are generous: the machine is shared.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MS 1000000LL

/* One program under track run: its result, JSON report and text report. */
struct traced_run {
	struct run_result r;
	json_t *root;
	char *text;
};

/* Run argv under track run with opts and env; it must exit 0 and write both reports. */
static void trace(struct traced_run *t, char *const opts[], char *const argv[],
		  char *const env[])
{
	t->root = traced(opts, argv, env, &t->r);
	ck_assert_msg(t->r.status == 0, "%s exited %d: %s", argv[0], t->r.status, t->r.err);
	ck_assert_ptr_nonnull(t->root);
	t->text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(t->text);
}

static void trace_done(struct traced_run *t)
{
	free(t->text);
	json_decref(t->root);
	run_free(&t->r);
}

/* demo_hotcold under track run with opts and env. */
static json_t *hotcold(struct traced_run *t, char *const opts[], char *const env[])
{
	trace(t, opts, demo_argv("demo_hotcold", NULL), env);
	return t->root;
}

/* The position of the lock called name in root.locks, -1 if absent. */
static int lock_rank(json_t *root, const char *name)
{
	json_t *l;
	size_t i;
	json_array_foreach(json_object_get(root, "locks"), i, l)
		if (jstr(l, "name") != NULL && strcmp(jstr(l, "name"), name) == 0)
			return (int)i;
	return -1;
}

START_TEST(hot_lock_ranks_first)
{
	struct traced_run t;
	json_t *root = hotcold(&t, NULL, NULL), *hot, *cold;
	hot = jfind(root, "locks", "name", "g_hot");
	cold = jfind(root, "locks", "name", "g_cold");
	ck_assert_ptr_nonnull(hot);
	ck_assert_ptr_nonnull(cold);
	ck_assert_int_eq(lock_rank(root, "g_hot"), 0);
	ck_assert_int_gt(lock_rank(root, "g_cold"), 0);
	want_ints(hot, "acquisitions=30 contended>=1 wait.count>=1");
	/* a waiter waits at most about one 20 ms hold, plus scheduling */
	ck_assert_int_ge(jint(hot, "max_wait_ns"), 1 * MS);
	ck_assert_int_le(jint(hot, "max_wait_ns"), 2000 * MS);
	ck_assert_int_ge(jint(hot, "wait_ns"), jint(hot, "max_wait_ns"));
	ck_assert_int_le(jint(hot, "wait_ns"), jint(hot, "contended") * 2000 * MS);
	ck_assert_int_eq(jint(hot, "wait.total_ns"), jint(hot, "wait_ns"));
	/* never contended: no waits, no wait profile, no waiting or holding sites */
	want_ints(cold, "acquisitions=100 contended=0 wait_ns=0");
	ck_assert(json_is_null(json_object_get(cold, "wait")));
	ck_assert_int_eq(json_array_size(json_object_get(cold, "wait_sites")), 0);
	ck_assert_int_eq(json_array_size(json_object_get(cold, "hold_sites")), 0);
	/* the text table: the hot row above the cold one; the sampling said */
	want_text(t.text, "\n  g_hot ", "\n  g_cold ", "contended (1 lock)",
		  "hold times: every hold of a lock's first 1024 timed, then 1 in 64 "
		  "uncontended (TRACK_HOLD_SAMPLE)", NULL);
	ck_assert_msg(strstr(t.text, "\n  g_hot ") < strstr(t.text, "\n  g_cold "), "%s", t.text);
	ck_assert_int_eq(jint(root, "process.hold_sample"), 64);
	trace_done(&t);
}
END_TEST

/* The least lower bound of a bucket of hist (a JSON histogram) not above ns; 0 if none. */
static long long bucket_below(json_t *hist, long long ns)
{
	long long best = 0;
	json_t *bin;
	size_t i;
	json_array_foreach(hist, i, bin)
		if (jint(bin, "lower_ns") <= ns && jint(bin, "lower_ns") > best)
			best = jint(bin, "lower_ns");
	return best;
}

/* Every hold timed (TRACK_HOLD_SAMPLE=1): 10 holds of 20 ms and 20 of an instant. */
START_TEST(hold_percentiles_bound_known_sleeps)
{
	char *env[] = {"TRACK_HOLD_SAMPLE=1", NULL};
	struct traced_run t;
	json_t *root = hotcold(&t, NULL, env), *hot;
	long long p95, p99, max, lower;
	hot = jfind(root, "locks", "name", "g_hot");
	ck_assert_ptr_nonnull(hot);
	want_ints(hot, "hold.count=30 hold.samples=30");
	p95 = jint(hot, "hold.p95_ns");
	p99 = jint(hot, "hold.p99_ns");
	max = jint(hot, "hold.max_ns");
	/* a 20 ms sleep lasts at least 20 ms; percentiles are bucket upper bounds (<= max) */
	ck_assert_int_ge(max, 20 * MS);
	ck_assert_int_ge(p95, 20 * MS);
	ck_assert_int_le(p95, max);
	ck_assert_int_le(p95, 1000 * MS);
	ck_assert_int_ge(p99, p95);
	/* the p50 is an instant: 20 of the 30 holds are quick_taker's */
	ck_assert_int_lt(jint(hot, "hold.p50_ns"), 10 * MS);
	/* p95 is the upper bound of a bucket of the histogram, at most 25% above its lower bound */
	lower = bucket_below(json_object_get(json_object_get(hot, "hold"), "histogram"), p95);
	ck_assert_int_ge(lower, 16 * MS);
	ck_assert_msg(p95 <= lower + lower / 4 || p95 == max, "p95 %lld, bucket from %lld", p95,
		      lower);
	ck_assert_int_eq(jint(root, "process.hold_sample"), 1);
	trace_done(&t);
}
END_TEST

/* Locks held once need no profile of their own (the shim keeps that hold in the lock's
 * record): 202 such locks with room for 64 profiles lose no hold, and each shows its one
 * hold as a profile would; a lock held twice shows both holds, the first among them. */
START_TEST(locks_held_once_show_their_hold)
{
	char *argv[] = {(char *)fixture("fx_views"), "once", NULL};
	char *env[] = {"TRACK_MAX_PROFILES=64", NULL};
	struct traced_run t;
	json_t *l, *first, *twice;
	size_t i, once = 0;
	long long lives;
	trace(&t, NULL, argv, env);
	want_text(t.r.out, "once: done", NULL);
	json_array_foreach(json_object_get(t.root, "locks"), i, l)
		once += jint(l, "hold.count") == 1 && jint(l, "hold.samples") == 1;
	ck_assert_int_ge(once, 201);
	ck_assert_int_eq(jint(t.root, "overflow.profile_events_not_recorded"), 0);
	first = jfind(t.root, "locks", "name", "g_first");
	ck_assert_msg(first != NULL, "%s", dump(json_object_get(t.root, "locks")));
	want_ints(first, "hold.count=1 hold.samples=1");
	ck_assert_int_ge(jint(first, "hold.max_ns"), 20 * MS);
	ck_assert_int_eq(jint(first, "hold.total_ns"), jint(first, "hold.max_ns"));
	ck_assert_int_ge(jint(first, "hold.p50_ns"), 20 * MS);
	twice = jfind(t.root, "locks", "name", "g_twice");
	ck_assert_ptr_nonnull(twice);
	want_ints(twice, "hold.count=2 hold.samples=2");
	ck_assert_int_ge(jint(twice, "hold.max_ns"), 20 * MS);
	ck_assert_int_ge(jint(twice, "hold.total_ns"), 30 * MS);
	ck_assert_int_lt(jint(twice, "hold.total_ns"), 2 * jint(twice, "hold.max_ns"));
	want_text(t.text, "g_first (mutex)", "hold: 1 of 1 holds timed", NULL);
	/* two lives of one lock (one address and site), held twice and then once: a profile
	 * per address and site, so the three holds are counted, each once */
	lives = 0;
	json_array_foreach(json_object_get(t.root, "locks"), i, l)
		if (jstr(l, "name") != NULL && strcmp(jstr(l, "name"), "g_lives") == 0 &&
		    json_object_get(l, "hold") != NULL && !json_is_null(json_object_get(l, "hold")))
			lives += jint(l, "hold.count");
	ck_assert_int_eq(lives, 3);
	trace_done(&t);
}
END_TEST

/* A condvar wait gives its mutex back and takes it again: that is an acquisition and a
 * hold of its own, so a mutex taken 3 times and waited with once each time was acquired and
 * held 6 times (one more for each wait that woke early and waited again), and the report
 * says so (it said "6 of 3 holds timed"). */
START_TEST(condvar_retakes_are_acquisitions)
{
	char *argv[] = {(char *)fixture("fx_views"), "once", NULL};
	struct traced_run t;
	json_t *m, *cv;
	long long retakes;
	char line[64];
	trace(&t, NULL, argv, NULL);
	m = jfind(t.root, "locks", "name", "g_cv_m");
	ck_assert_msg(m != NULL, "%s", dump(json_object_get(t.root, "locks")));
	cv = jfind(t.root, "condvars", "name", "g_never");
	ck_assert_ptr_nonnull(cv);
	retakes = jint(cv, "waits");   /* 3, unless a wait woke early and waited again */
	ck_assert_int_ge(retakes, 3);
	ck_assert_int_eq(jint(m, "acquisitions"), 3 + retakes);
	ck_assert_int_eq(jint(m, "hold.count"), 3 + retakes);
	ck_assert_int_eq(jint(m, "hold.samples"), 3 + retakes);
	snprintf(line, sizeof line, "hold: %lld of %lld holds timed", 3 + retakes, 3 + retakes);
	want_text(t.text, "g_cv_m (mutex)", line, NULL);
	trace_done(&t);
}
END_TEST

/* The waits on g_hot are charged to the call that held it: slow_holder's, not quick_taker's. */
START_TEST(holding_site_is_named)
{
	struct traced_run t;
	json_t *root = hotcold(&t, NULL, NULL), *hot, *site;
	size_t i;
	hot = jfind(root, "locks", "name", "g_hot");
	ck_assert_ptr_nonnull(hot);
	site = json_array_get(json_object_get(hot, "hold_sites"), 0);
	ck_assert_msg(site != NULL, "%s", dump(hot));
	ck_assert_str_eq(jstr(site, "site.function"), "slow_holder");
	ck_assert(json_object_get(site, "stack") == NULL);
	json_array_foreach(json_object_get(hot, "hold_sites"), i, site)
		if (i > 0)
			ck_assert_str_ne(jstr(site, "site.function"), "slow_holder");
	/* the waiting sites are quick_taker's, with their stacks */
	site = json_array_get(json_object_get(hot, "wait_sites"), 0);
	ck_assert_ptr_nonnull(site);
	ck_assert_str_eq(jstr(site, "site.function"), "quick_taker");
	ck_assert_int_gt(json_array_size(json_object_get(site, "stack")), 0);
	want_text(t.text, "held meanwhile by", NULL);
	ck_assert_msg(strstr(strstr(t.text, "held meanwhile by"), "slow_holder") != NULL, "%s",
		      t.text);
	trace_done(&t);
}
END_TEST

START_TEST(sort_orders_locks)
{
	static char *const by_acq[] = {"--sort", "acquisitions", NULL};
	static char *const by_name[] = {"--sort=name", NULL};
	struct traced_run t;
	json_t *root = hotcold(&t, by_acq, NULL);
	ck_assert_int_lt(lock_rank(root, "g_cold"), lock_rank(root, "g_hot"));
	ck_assert_msg(strstr(t.text, "by acquisitions:") != NULL, "%s", t.text);
	trace_done(&t);
	root = hotcold(&t, by_name, NULL);
	ck_assert_int_eq(lock_rank(root, "g_cold"), 0);
	ck_assert_int_eq(lock_rank(root, "g_hot"), 1);
	trace_done(&t);
}
END_TEST

/* A bad --sort is a one-line error and status 2, for run and report alike. */
START_TEST(bad_sort_is_refused)
{
	char *run_args[] = {"run", "--sort", "fastest", "--", "/bin/true", NULL};
	char *report_args[] = {"report", "--sort=wiat", "1", NULL};
	char *const *args[] = {run_args, report_args};
	struct run_result r;
	size_t i;
	for (i = 0; i < 2; i++) {
		run_track(args[i], NULL, &r);
		ck_assert_int_eq(r.status, 2);
		want_text(r.err, "--sort needs one of wait, hold, contended, acquisitions or name",
			  NULL);
		ck_assert_msg(strchr(r.err, '\n') == r.err + r.err_len - 1, "%s", r.err);
		run_free(&r);
	}
}
END_TEST

START_TEST(pool_of_blocked_workers)
{
	char *argv[] = {(char *)fixture("fx_views"), "pool", "6", NULL};
	struct traced_run t;
	json_t *p;
	trace(&t, NULL, argv, NULL);
	p = jfind(t.root, "pools", "name_pattern", "worker-*");
	ck_assert_msg(p != NULL, "%s", dump(json_object_get(t.root, "pools")));
	ck_assert_str_eq(jstr(p, "start_routine.function"), "pool_worker");
	want_ints(p, "threads=6 alive=6 running=0 blocked=6 states.condvar=6");
	ck_assert_msg(json_real_value(json_object_get(p, "blocked_share")) > 0.5, "%s", dump(p));
	ck_assert_int_le(jint(p, "blocked_ns"), jint(p, "lifetime_ns"));
	/* the biggest pool first; the main thread is a pool of its own, of one */
	ck_assert_int_eq(jint(json_array_get(json_object_get(t.root, "pools"), 0), "threads"), 6);
	want_text(t.text, "pools (threads by start routine and name):",
		  "pool_worker \"worker-*\"", "6 condvar", NULL);
	trace_done(&t);
}
END_TEST

/* The pool whose threads ran routine, NULL if none. */
static json_t *pool_running(json_t *root, const char *routine)
{
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(root, "pools"), i, p) {
		const char *f = jstr(p, "start_routine.function");
		if (f != NULL && strcmp(f, routine) == 0)
			return p;
	}
	return NULL;
}

/* Every thread is in a pool, reused record or not: the pools add up to the threads made
 * (and main); the thread list holds those whose records were kept. */
static void pools_cover_every_thread(json_t *root)
{
	long long created = jint(root, "threads.created"), sum = 0;
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(root, "pools"), i, p)
		sum += jint(p, "threads");
	ck_assert_msg(sum == created + 1, "pools add up to %lld threads, %lld made and main: %s",
		      sum, created, dump(json_object_get(root, "pools")));
	ck_assert_int_eq((long long)json_array_size(json_object_get(json_object_get(root, "threads"), "list")),
			 created + 1 - jint(root, "overflow.thread_records_recycled"));
}

/* 400 named threads blocked 2 ms each, then 400 detached ones, with 16 thread records: the
 * pools count every thread and every blocked millisecond, not only the records kept. */
START_TEST(pools_count_reused_records)
{
	char *argv[] = {(char *)fixture("fx_views"), "reused", "400", NULL};
	char *env[] = {"TRACK_THREAD_RECORDS=16", NULL};
	struct traced_run t;
	json_t *batch, *quick;
	trace(&t, NULL, argv, env);
	want_text(t.r.out, "reused: 400 and 400 threads", NULL);
	want_ints(t.root, "threads.created=800");
	ck_assert_int_ge(jint(t.root, "overflow.thread_records_recycled"), 800 - 64);
	batch = jfind(t.root, "pools", "name_pattern", "batch-*");
	ck_assert_msg(batch != NULL, "%s", dump(json_object_get(t.root, "pools")));
	ck_assert_str_eq(jstr(batch, "start_routine.function"), "batch_worker");
	want_ints(batch, "threads=400 alive=0");
	ck_assert_int_ge(jint(batch, "blocked_ns"), 400 * 2 * MS);
	ck_assert_int_le(jint(batch, "blocked_ns"), jint(batch, "lifetime_ns"));
	quick = pool_running(t.root, "quick_worker");
	ck_assert_msg(quick != NULL, "%s", dump(json_object_get(t.root, "pools")));
	want_ints(quick, "threads=400");
	pools_cover_every_thread(t.root);
	{
		const char *row = strstr(t.text, "batch_worker \"batch-*\"");
		ck_assert_msg(row != NULL, "%s", t.text);
		ck_assert_msg(strncmp(row + 28, "     400 ", 9) == 0, "%.80s", row);
	}
	trace_done(&t);
}
END_TEST

/* 100 pools of one thread each with 16 records: the shim's table tallies 63 of them, and
 * the threads of the rest are summed in one "(other)" pool, not lost. */
START_TEST(pools_past_the_tally_table)
{
	char *argv[] = {(char *)fixture("fx_views"), "many-pools", "100", NULL};
	char *env[] = {"TRACK_THREAD_RECORDS=16", NULL};
	struct traced_run t;
	json_t *p, *other = NULL;
	size_t i, named = 0;
	trace(&t, NULL, argv, env);
	json_array_foreach(json_object_get(t.root, "pools"), i, p) {
		if (json_is_null(json_object_get(p, "name_pattern"))) {
			ck_assert_msg(other == NULL, "two other pools: %s", dump(t.root));
			other = p;
		} else if (strncmp(jstr(p, "name_pattern"), "p-", 2) == 0) {
			ck_assert_int_eq(jint(p, "threads"), 1);
			named++;
		}
	}
	ck_assert_msg(other != NULL, "%s", dump(json_object_get(t.root, "pools")));
	ck_assert(json_is_null(json_object_get(other, "start_routine")));
	ck_assert_int_gt(jint(other, "threads"), 0);
	ck_assert_int_eq((long long)named + jint(other, "threads"), 100);
	ck_assert_int_ge(named, 63 - 1);   /* the table's other entries ((main) may have one) */
	pools_cover_every_thread(t.root);
	want_text(t.text, "(other) \"\"", NULL);
	trace_done(&t);
}
END_TEST

/* Read while threads come and go and their records are reused: a pool's thread count never
 * goes down from one read to the next (a reused record is counted in its tally, not twice
 * and not lost however the read falls), and it grows past the records there are. */
START_TEST(pool_counts_only_grow_while_read_live)
{
	char *env[] = {shim_preload(), "TRACK_THREAD_RECORDS=16", NULL};
	FILE *out;
	pid_t pid = start_fixture("fx_views", (char *[]){"churn", "3", NULL}, env, &out);
	char spid[16], *rep = (char *)tmp_path("live.json");
	long long last = 0;
	int reads = 0, i;
	snprintf(spid, sizeof spid, "%d", (int)pid);
	for (i = 0; i < 200 && reads < 25; i++) {
		struct run_result r;
		json_t *root, *q;
		run_track((char *[]){"report", "--json", rep, spid, NULL}, NULL, &r);
		root = r.status == 0 ? json_load_file(rep, 0, NULL) : NULL;
		run_free(&r);
		if (root == NULL)
			break;   /* it ended */
		q = pool_running(root, "quick_worker");
		if (q != NULL) {
			ck_assert_msg(jint(q, "threads") >= last, "read %d: %lld threads, %lld before",
				      reads, jint(q, "threads"), last);
			last = jint(q, "threads");
			reads++;
		}
		json_decref(root);
	}
	ck_assert_int_ge(reads, 5);
	ck_assert_int_gt(last, 16);
	kill(pid, SIGKILL);
	wait_exit(pid, 10);
	fclose(out);
}
END_TEST

/* A program of one thread has no pool worth a block, and no queues block. */
START_TEST(no_pools_or_queues_when_none)
{
	char *argv[] = {"/bin/true", NULL};
	struct traced_run t;
	trace(&t, NULL, argv, NULL);
	ck_assert_msg(strstr(t.text, "pools (") == NULL && strstr(t.text, "queues (") == NULL,
		      "%s", t.text);
	ck_assert_int_eq(json_array_size(json_object_get(t.root, "queues")), 0);
	trace_done(&t);
}
END_TEST

START_TEST(registered_queue_counts)
{
	struct traced_run t;
	json_t *q;
	trace(&t, NULL, demo_argv("demo_queue", NULL), NULL);
	want_text(t.r.out, "queue: tracked, 2 refused, 2 left", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(t.root, "queues")), 1);
	q = jfind(t.root, "queues", "name", "jobs");
	ck_assert_ptr_nonnull(q);
	want_ints(q, "capacity=4 depth=2 high_water=4 enqueued=5 dequeued=3 rejected=2 waits=1");
	ck_assert_int_ge(jint(q, "wait_ns"), 10 * MS);
	ck_assert_int_le(jint(q, "wait_ns"), 2000 * MS);
	want_text(t.text, "queues (registered through track.h):", "\n  jobs ", NULL);
	trace_done(&t);
}
END_TEST

/* Without the shim the API is a no-op: track_queue_register returns NULL, the program runs. */
START_TEST(queue_api_without_shim)
{
	struct run_result r;
	run(demo_argv("demo_queue", NULL), NULL, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	want_text(r.out, "queue: not tracked, 2 refused, 2 left", NULL);
	run_free(&r);
}
END_TEST

START_TEST(idle_signals_counted_exactly)
{
	char *argv[] = {(char *)fixture("fx_views"), "idle", NULL};
	struct traced_run t;
	json_t *c, *s;
	trace(&t, NULL, argv, NULL);
	c = jfind(t.root, "condvars", "name", "g_idle");
	ck_assert_msg(c != NULL, "%s", dump(json_object_get(t.root, "condvars")));
	want_ints(c, "signals=6 broadcasts=2 idle_signals=7 waits=1 peak_waiters=1 waiters=0");
	s = jfind(t.root, "semaphores", "kind", "semaphore");
	ck_assert_ptr_nonnull(s);
	want_ints(s, "posts=3 waits=2 value=1");
	want_text(t.text, "7 found no waiter", "NO WAITER", "\n  g_idle ", NULL);
	trace_done(&t);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("locks", hot_lock_ranks_first),
		TEST("locks", hold_percentiles_bound_known_sleeps),
		TEST("locks", holding_site_is_named),
		TEST("locks", locks_held_once_show_their_hold),
		TEST("locks", condvar_retakes_are_acquisitions),
		TEST("locks", sort_orders_locks),
		TEST("locks", bad_sort_is_refused),
		TEST("pools", pool_of_blocked_workers),
		TEST("pools", no_pools_or_queues_when_none),
		TEST("pools", pools_count_reused_records),
		TEST("pools", pools_past_the_tally_table),
		TEST("pools", pool_counts_only_grow_while_read_live),
		TEST("queues", registered_queue_counts),
		TEST("queues", queue_api_without_shim),
		TEST("queues", idle_signals_counted_exactly),
	};
	return run_tests("views", 120, tests, ARRAY_SIZE(tests));
}

/*
 * test_stacks.c — `track stacks` as a user runs it: 100 threads blocked in three known call
 * chains (tests/fixtures/blocked/fx_blocked.c, built -O2 without frame pointers), with and
 * without the shim; grouping counts, function names, the shim's annotations, --json,
 * --no-stop, bad input, a process that already has a tracer, and the target left running.
 * Then a busy process (fx_sync busy), dumped again and again: what each thread is said to
 * do must agree with the stack printed for it, and with what the other threads are said to
 * do; who holds what, and how long a wait has lasted.  And where the stacks the shim
 * captures end.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* `track stacks --json [opt] PID` with env added: it must succeed; the parsed output. */
static json_t *stacks_json_opt(pid_t pid, const char *opt, char *const env[],
			       struct run_result *r)
{
	json_error_t e;
	json_t *root;
	char num[16];
	snprintf(num, sizeof num, "%d", (int)pid);
	run_track(opt ? (char *[]){"stacks", "--json", (char *)opt, num, NULL}
		      : (char *[]){"stacks", "--json", num, NULL}, env, r);
	ck_assert_msg(r->status == 0, "%s", r->err);
	root = json_loads(r->out, 0, &e);
	ck_assert_msg(root != NULL, "%s: %s", e.text, r->out);
	return root;
}

static json_t *stacks_json(pid_t pid, char *const env[], struct run_result *r)
{
	return stacks_json_opt(pid, NULL, env, r);
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

/* --- what the dump says against itself ------------------------------------------------- */

static const char *const in_lock[] = {"pthread_mutex_lock", "lll_lock_wait", NULL};
static const char *const in_cond[] = {"pthread_cond_wait", "pthread_cond_timedwait",
				      "pthread_cond_clockwait", NULL};

static int names_any(json_t *frame, const char *const words[])
{
	const char *fn = jstr(frame, "function");
	json_t *into;
	size_t i, k;
	for (k = 0; fn != NULL && words[k] != NULL; k++)
		if (strstr(fn, words[k]) != NULL)
			return 1;
	json_array_foreach(json_object_get(frame, "inlined_into"), i, into)
		if (names_any(into, words))
			return 1;
	return 0;
}

/* Whether a frame (or a function one was inlined into) names a function with one of words
 * in its name. */
static int frames_name(json_t *frames, const char *const words[])
{
	json_t *f;
	size_t i;
	json_array_foreach(frames, i, f)
		if (names_any(f, words))
			return 1;
	return 0;
}

/* Call fn(t, frames of its group, ctx) for every thread t of dump root. */
static void each_thread(json_t *root, void (*fn)(json_t *t, json_t *frames, void *ctx),
			void *ctx)
{
	json_t *g, *t;
	size_t i, k;
	json_array_foreach(json_object_get(root, "groups"), i, g)
		json_array_foreach(json_object_get(g, "threads"), k, t)
			fn(t, json_object_get(g, "frames"), ctx);
}

struct find {
	long long tid;
	const char *addr;
	json_t *found;
	long n;
};

static void find_tid(json_t *t, json_t *frames, void *ctx)
{
	struct find *f = ctx;
	(void)frames;
	if (jint(t, "tid") == f->tid)
		f->found = t;
}

/* Threads shown waiting on the object at f->addr. */
static void count_waiting(json_t *t, json_t *frames, void *ctx)
{
	struct find *f = ctx;
	const char *on = jstr(t, "waiting_on");
	(void)frames;
	f->n += on != NULL && strcmp(on, f->addr) == 0 && json_object_get(t, "waiters") != NULL;
}

static int holds(json_t *t, const char *addr)
{
	json_t *h;
	size_t i;
	json_array_foreach(json_object_get(t, "holds"), i, h)
		if (strcmp(jstr(h, "addr"), addr) == 0)
			return 1;
	return 0;
}

/* What dump root says about thread t (whose group has these frames) that contradicts its
 * stack or the other threads, or NULL. */
static const char *contradiction(json_t *root, json_t *frames, json_t *t)
{
	const char *state = jstr(t, "state"), *on = jstr(t, "waiting_on");
	json_t *by = json_object_get(t, "held_by");
	struct find f = {0, on, NULL, 0};
	if (state == NULL)
		return NULL;                 /* not known, and it says so */
	if (strcmp(state, "mutex") == 0 &&
	    (!frames_name(frames, in_lock) || frames_name(frames, in_cond)))
		return "blocked on a mutex over a stack not in pthread_mutex_lock";
	if (strcmp(state, "condvar") == 0 && !frames_name(frames, in_cond))
		return "waiting on a condvar over a stack not in pthread_cond_wait";
	if (strcmp(state, "running") == 0 &&
	    (frames_name(frames, in_lock) || frames_name(frames, in_cond)))
		return "running over a stack waiting in a lock or condvar";
	if (json_is_object(by) && json_is_string(json_object_get(by, "name"))) {
		f.tid = jint(by, "tid");
		each_thread(root, find_tid, &f);
		if (f.found == NULL || !holds(f.found, on))
			return "held by a thread not shown holding it";
	}
	if ((strstr(jstr(t, "doing"), "held by thread ") != NULL) != json_is_object(by))
		return "its text and held_by disagree";
	if (json_object_get(t, "waiters") != NULL) {
		each_thread(root, count_waiting, &f);
		if (jint(t, "waiters") != f.n)
			return "its waiter count is not the number of threads shown waiting";
	}
	return NULL;
}

/* Every thread of a dump checked, and the states seen counted. */
struct tally {
	int dump;
	long mutex, cond, running, unknown, all;
	json_t *root;
};

static void check_thread(json_t *t, json_t *frames, void *ctx)
{
	struct tally *y = ctx;
	const char *why = contradiction(y->root, frames, t), *state = jstr(t, "state");
	ck_assert_msg(why == NULL, "dump %d, thread %lld: %s:\n%s\nframes %s", y->dump,
		      jint(t, "tid"), why, dump(t), dump(frames));
	y->all++;
	y->unknown += state == NULL;
	y->mutex += state != NULL && strcmp(state, "mutex") == 0;
	y->cond += state != NULL && strcmp(state, "condvar") == 0;
	y->running += state != NULL && strcmp(state, "running") == 0;
}

/* fx_sync busy: 8 threads that take a mutex, wait on a condvar and run thousands of times a
 * second.  Read before the stack, a state is seen to disagree with it in most dumps. */
static pid_t start_busy(FILE **out)
{
	return start_fixture("fx_sync", (char *[]){"busy", "8", NULL},
			     (char *[]){shim_preload(), NULL}, out);
}

static void end_fixture(pid_t pid, FILE *out)
{
	kill(pid, SIGKILL);
	wait_exit(pid, 10);
	fclose(out);
}

#define BUSY_DUMPS 25

/* The function of the outermost frame of stack (a JSON array of locations). */
static const char *outermost(json_t *stack)
{
	size_t n = json_array_size(stack);
	return n > 0 ? jstr(json_array_get(stack, n - 1), "function") : NULL;
}

/* Stacks the shim captures in a thread it started end at glibc's start_thread, with no
 * __clone3 below (its frame tables are never read); the main thread's go down to _start. */
START_TEST(captured_thread_stacks_end_at_start_thread)
{
	struct run_result r;
	json_t *root = traced(NULL, demo_argv("demo_workqueue", NULL), NULL, &r), *t, *stack;
	ck_assert_ptr_nonnull(root);
	t = jfind(root, "threads.list", "name", "reaper");
	ck_assert_msg(t != NULL, "%s", dump(json_object_get(root, "threads")));
	stack = json_object_get(json_object_get(t, "waiting"), "stack");
	ck_assert_str_eq(jstr(json_array_get(stack, 0), "function"), "reaper");
	ck_assert_str_eq(outermost(stack), "start_thread");
	ck_assert_str_eq(outermost(json_object_get(t, "created_stack")), "_start");
	ck_assert_msg(strstr(dump(root), "__clone3") == NULL, "%s", dump(root));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(busy_states_agree_with_stacks)
{
	struct tally y = {0, 0, 0, 0, 0, 0, NULL};
	struct run_result r;
	FILE *out;
	pid_t pid = start_busy(&out);
	for (y.dump = 1; y.dump <= BUSY_DUMPS; y.dump++) {
		/* every other dump stops every thread, the rest read sleeping ones in place */
		y.root = stacks_json(pid, y.dump % 2 ? (char *[]){"TRACK_STACKS_STOP_ALL=1", NULL}
						     : NULL, &r);
		each_thread(y.root, check_thread, &y);
		json_decref(y.root);
		run_free(&r);
	}
	end_fixture(pid, out);
	/* the dumps saw every kind of moment, and said what each thread did nearly always */
	ck_assert_msg(y.mutex > 0 && y.cond > 0 && y.running > 0,
		      "mutex %ld condvar %ld running %ld", y.mutex, y.cond, y.running);
	ck_assert_msg(y.unknown * 20 <= y.all, "%ld of %ld states not known", y.unknown, y.all);
}
END_TEST

/* The check above finds what it looks for: a real dump, then each kind of lie told in it. */
START_TEST(contradictions_are_caught)
{
	struct blocked_fx b;
	struct run_result r;
	json_t *root, *g, *t, *frames = NULL, *mutex_t = NULL, *cond_t = NULL, *cond_frames = NULL;
	size_t i, k;
	start_blocked(&b, 6, NULL, BLOCKED_SHIM);
	root = stacks_json(b.pid, NULL, &r);
	finish(&b);
	json_array_foreach(json_object_get(root, "groups"), i, g)
		json_array_foreach(json_object_get(g, "threads"), k, t) {
			ck_assert_msg(contradiction(root, json_object_get(g, "frames"), t) == NULL,
				      "%s", dump(t));
			if (jstr(t, "state") && strcmp(jstr(t, "state"), "mutex") == 0) {
				mutex_t = t;
				frames = json_object_get(g, "frames");
			} else if (jstr(t, "state") && strcmp(jstr(t, "state"), "condvar") == 0) {
				cond_t = t;
				cond_frames = json_object_get(g, "frames");
			}
		}
	ck_assert_ptr_nonnull(mutex_t);
	ck_assert_ptr_nonnull(cond_t);
	ck_assert(json_is_object(json_object_get(mutex_t, "held_by")));
	json_object_set_new(mutex_t, "state", json_string("running"));
	ck_assert_ptr_nonnull(contradiction(root, frames, mutex_t));
	json_object_set_new(mutex_t, "state", json_string("condvar"));
	ck_assert_ptr_nonnull(contradiction(root, frames, mutex_t));
	json_object_set_new(mutex_t, "state", json_string("mutex"));
	ck_assert_ptr_null(contradiction(root, frames, mutex_t));
	json_object_set_new(mutex_t, "waiters", json_integer(jint(mutex_t, "waiters") + 1));
	ck_assert_ptr_nonnull(contradiction(root, frames, mutex_t));
	json_object_set_new(mutex_t, "waiters", json_integer(jint(mutex_t, "waiters") - 1));
	json_object_set_new(json_object_get(mutex_t, "held_by"), "tid",
			    json_integer(jint(cond_t, "tid")));
	ck_assert_ptr_nonnull(contradiction(root, frames, mutex_t));
	json_object_set_new(cond_t, "state", json_string("mutex"));
	ck_assert_ptr_nonnull(contradiction(root, cond_frames, cond_t));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* --- who holds what --------------------------------------------------------------------- */

/* The first thread of dump root with this name and state (NULL: any state). */
static json_t *thread_named(json_t *root, const char *name, const char *state)
{
	json_t *g, *t;
	size_t i, k;
	json_array_foreach(json_object_get(root, "groups"), i, g)
		json_array_foreach(json_object_get(g, "threads"), k, t)
			if (strcmp(jstr(t, "name"), name) == 0 &&
			    (state == NULL || (jstr(t, "state") && strcmp(jstr(t, "state"), state) == 0)))
				return t;
	return NULL;
}

/* fx_blocked: chain c waits for the mutex main holds, chain a on a condvar nobody holds,
 * chain b in read() holding nothing. */
START_TEST(json_held_by_and_holds)
{
	struct blocked_fx b;
	struct run_result r;
	json_t *root, *c, *a, *bt, *main_t, *h;
	start_blocked(&b, 6, NULL, BLOCKED_SHIM);
	root = stacks_json(b.pid, NULL, &r);
	c = thread_named(root, "blk_c", NULL);
	a = thread_named(root, "blk_a", NULL);
	bt = thread_named(root, "blk_b", NULL);
	main_t = thread_named(root, "fx_blocked", NULL);
	ck_assert_msg(c && a && bt && main_t, "%s", r.out);
	ck_assert_int_eq(jint(c, "held_by.tid"), b.pid);
	ck_assert_str_eq(jstr(c, "held_by.name"), "fx_blocked");
	ck_assert_int_eq(jint(c, "waiters"), 2);
	ck_assert_int_eq(json_array_size(json_object_get(main_t, "holds")), 1);
	h = json_array_get(json_object_get(main_t, "holds"), 0);
	ck_assert_str_eq(jstr(h, "addr"), jstr(c, "waiting_on"));
	ck_assert_str_eq(jstr(h, "kind"), "mutex");
	ck_assert_str_eq(jstr(h, "mode"), "write");
	ck_assert_str_eq(jstr(h, "taken_at.function"), "main");
	ck_assert_int_eq(jint(main_t, "holds_unlisted"), 0);
	/* nobody holds a condvar; chain b and the waiters hold nothing */
	ck_assert(json_is_null(json_object_get(a, "held_by")));
	ck_assert(json_is_null(json_object_get(bt, "held_by")));
	ck_assert(json_is_null(json_object_get(main_t, "held_by")));
	ck_assert_int_eq(json_array_size(json_object_get(bt, "holds")), 0);
	ck_assert_int_eq(json_array_size(json_object_get(c, "holds")), 0);
	json_decref(root);
	run_free(&r);
	finish(&b);
}
END_TEST

/* `track stacks --json` of a fresh `fx_sync scenario` under the shim, then ended; its pid in
 * *pid. */
static json_t *sync_dump(const char *scenario, pid_t *pid, struct run_result *r)
{
	FILE *out;
	json_t *root;
	*pid = start_fixture("fx_sync", (char *[]){(char *)scenario, NULL},
			     (char *[]){shim_preload(), NULL}, &out);
	root = stacks_json(*pid, NULL, r);
	end_fixture(*pid, out);
	return root;
}

/* fx_sync read-held: a writer waits while the main thread holds the rwlock for reading. */
START_TEST(held_for_reading)
{
	struct run_result r;
	pid_t pid;
	json_t *root = sync_dump("read-held", &pid, &r), *w, *m, *h;
	w = thread_named(root, "fx_sync", "rwlock-write");
	m = thread_named(root, "fx_sync", "running");
	ck_assert_msg(w && m, "%s", r.out);
	ck_assert(json_is_null(json_object_get(w, "held_by")));
	ck_assert_int_eq(json_array_size(json_object_get(w, "held_by_readers")), 1);
	ck_assert_int_eq(jint(json_array_get(json_object_get(w, "held_by_readers"), 0), "tid"), pid);
	ck_assert_ptr_nonnull(strstr(jstr(w, "doing"), "held for reading by 1 thread"));
	h = json_array_get(json_object_get(m, "holds"), 0);
	ck_assert_str_eq(jstr(h, "mode"), "read");
	ck_assert_str_eq(jstr(h, "kind"), "rwlock");
	ck_assert_str_eq(jstr(h, "addr"), jstr(w, "waiting_on"));
	/* the reader waits on nothing and has no readers list */
	ck_assert_ptr_null(json_object_get(m, "held_by_readers"));
	ck_assert_ptr_null(json_object_get(m, "waiting_on"));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* fx_sync self-lock: a thread waits for the mutex it holds itself. */
START_TEST(waiting_for_itself)
{
	struct run_result r;
	pid_t pid;
	json_t *root = sync_dump("self-lock", &pid, &r), *w, *m;
	w = thread_named(root, "fx_sync", "mutex");
	m = thread_named(root, "fx_sync", "running");
	ck_assert_msg(w && m, "%s", r.out);
	ck_assert_int_eq(jint(w, "held_by.tid"), jint(w, "tid"));
	ck_assert_str_eq(jstr(json_array_get(json_object_get(w, "holds"), 0), "addr"),
			 jstr(w, "waiting_on"));
	ck_assert(json_is_null(json_object_get(m, "held_by")));
	ck_assert_int_eq(json_array_size(json_object_get(m, "holds")), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* --- how long --------------------------------------------------------------------------- */

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct span {
	long long min, max;   /* what waiting_ns may be */
	int timed;
};

static void check_waited(json_t *t, json_t *frames, void *ctx)
{
	struct span *sp = ctx;
	const char *state = jstr(t, "state");
	(void)frames;
	if (state != NULL && strcmp(state, "running") == 0) {
		ck_assert_ptr_null(json_object_get(t, "waiting_ns"));
		return;
	}
	if (state == NULL)
		return;
	ck_assert_msg(jint(t, "waiting_ns") >= sp->min && jint(t, "waiting_ns") <= sp->max,
		      "waited %lld ns, not within [%lld, %lld]: %s", jint(t, "waiting_ns"),
		      sp->min, sp->max, dump(t));
	sp->timed++;
}

/* A wait that began between the fixture's start and its "ready" lasted, when its thread was
 * read, from at least (dump started - ready) to at most (dump ended - start); the same for
 * threads read in place, stopped, or recorded. */
START_TEST(waits_timed_to_when_read)
{
	static const struct {
		const char *opt;
		char *env;
	} ways[] = {{NULL, NULL}, {NULL, "TRACK_STACKS_STOP_ALL=1"}, {"--no-stop", NULL}};
	struct blocked_fx b;
	struct run_result r;
	long long t0 = mono_ns(), t1, ta;
	size_t i;
	start_blocked(&b, 6, NULL, BLOCKED_SHIM);
	t1 = mono_ns();
	usleep(200000);
	for (i = 0; i < ARRAY_SIZE(ways); i++) {
		struct span sp = {0, 0, 0};
		json_t *root;
		ta = mono_ns();
		root = stacks_json_opt(b.pid, ways[i].opt,
				       ways[i].env ? (char *[]){ways[i].env, NULL} : NULL, &r);
		sp.min = ta - t1;
		sp.max = mono_ns() - t0;
		each_thread(root, check_waited, &sp);
		ck_assert_int_eq(sp.timed, 4);   /* chains a and c */
		json_decref(root);
		run_free(&r);
	}
	finish(&b);
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
		TEST("captured", captured_thread_stacks_end_at_start_thread),
		TEST("busy", busy_states_agree_with_stacks),
		TEST("busy", contradictions_are_caught),
		TEST("held", json_held_by_and_holds),
		TEST("held", held_for_reading),
		TEST("held", waiting_for_itself),
		TEST("held", waits_timed_to_when_read),
	};
	return run_tests("stacks", 120, tests, ARRAY_SIZE(tests));
}

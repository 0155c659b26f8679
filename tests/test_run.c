/*
 * test_run.c — `track run` on fixture programs with known thread lifecycles: the report's
 * totals and thread list must say what the program did, and the program's output and exit
 * status must be what they are without track.  Also what a report calls places and objects:
 * a C++ program's sites are its own lines, not the standard library's, and locks that are
 * variables are named after them.
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
	ck_assert_int_gt(jint(thread_named(root, "sleeper"), "tid"), 0);
	/* what it waits on is named after its variable (a static condvar) */
	ck_assert_str_eq(jstr(t, "waiting.object_name"), "cv");
	/* the main thread called exit(): it did not outlive the process */
	ck_assert(!json_is_true(json_object_get(jfind(root, "threads.list", "name", "fx_threads"),
						"alive_at_exit")));
	json_decref(root);
	/* and the text report names them */
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	want_text(text, "threads still alive at exit:", "\"stuck\"", "waiting on condvar cv for",
		  "\"sleeper\" running sleeper", NULL);
	ck_assert_ptr_null(strstr(text, "not started"));
	free(text);
	run_free(&r);
}
END_TEST

/* A thread that had not started when the process ended (fx_threads unstarted: killed inside
 * pthread_create, the new thread held back by glibc) is said to be so: not "thread 0". */
START_TEST(unstarted_thread_said_so)
{
	struct run_result r;
	json_t *root = traced_like_native("unstarted", NULL, NULL, &r), *t, *e;
	char *text;
	size_t i;
	int n = 0;
	ck_assert_int_eq(r.status, 128 + SIGSYS);
	ck_assert_ptr_null(strstr(r.out, "pthread_create returned"));
	t = jfind(root, "threads.list", "state", "not-started");
	ck_assert_msg(t != NULL, "no thread not started: %s", dump(root));
	ck_assert(json_is_null(json_object_get(t, "tid")));
	ck_assert_str_eq(jstr(t, "start_routine.function"), "never_runs");
	ck_assert_str_eq(jstr(t, "created_at.function"), "unstarted");
	ck_assert_int_gt(jint(t, "creator_tid"), 0);
	ck_assert(json_is_true(json_object_get(t, "alive_at_exit")));
	/* the other thread, main, started: a tid and a state of its own */
	json_array_foreach(json_object_get(json_object_get(root, "threads"), "list"), i, e)
		n += json_is_integer(json_object_get(e, "tid"));
	ck_assert_int_eq(n, 1);
	want_ints(root, "threads.alive_at_exit=2");
	json_decref(root);
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	want_text(text, "killed by signal 31", "thread (had not started) running never_runs",
		  "created by thread", "unstarted+", NULL);
	ck_assert_msg(strstr(text, "thread 0 ") == NULL, "%s", text);
	free(text);
	run_free(&r);
}
END_TEST

/* ---- sites and names ------------------------------------------------------------------------ */

#ifndef FX_CXX_SRC
#define FX_CXX_SRC "tests/fixtures/cxx/fx_cxx.cc"
#endif

/* The line of fx_cxx.cc marked "SITE:name". */
static int site_line(const char *name)
{
	char *src = slurp_file(FX_CXX_SRC), want[64], *p, *q;
	int line = 1;
	ck_assert_msg(src != NULL, "cannot read %s", FX_CXX_SRC);
	snprintf(want, sizeof want, "// SITE:%s\n", name);
	p = strstr(src, want);
	ck_assert_msg(p != NULL, "no %s in %s", want, FX_CXX_SRC);
	for (q = src; q < p; q++)
		line += *q == '\n';
	free(src);
	return line;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = s != NULL ? strlen(s) : 0, lx = strlen(suffix);
	return s != NULL && ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Location loc is line SITE:site of fx_cxx.cc, in function fn. */
static void want_site(json_t *loc, const char *fn, const char *site, const char *what)
{
	const char *f = jstr(loc, "function");
	int line = site_line(site);
	ck_assert_msg(ends_with(jstr(loc, "file"), "/fx_cxx.cc") && jint(loc, "line") == line &&
			      f != NULL && strcmp(f, fn) == 0,
		      "%s: want %s (fx_cxx.cc:%d): %s", what, fn, line, dump(loc));
}

/* fx_cxx at -O2 (the standard library inlined into it) and at -O0 (out of line). */
static const char *const cxx_builds[] = {"fx_cxx_O2", "fx_cxx_O0"};

static json_t *run_cxx(const char *build, const char *scenario, struct run_result *r)
{
	char path[512], *argv[] = {path, (char *)scenario, NULL};
	snprintf(path, sizeof path, "%s", fixture(build));
	return run_like_native(argv, NULL, NULL, r);
}

static json_t *lock_named(json_t *root, const char *name)
{
	json_t *l = jfind(root, "locks", "name", name);
	ck_assert_msg(l != NULL, "no lock named %s: %s", name,
		      dump(json_object_get(root, "locks")));
	return l;
}

/* std::mutex members of deleted objects (never destroyed through pthreads), and new objects
 * in the same memory locked in the other order: other locks, no finding. */
START_TEST(cxx_deleted_objects_are_not_their_successors)
{
	struct run_result r;
	json_t *root = run_cxx(cxx_builds[_i], "deleted-objects", &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "reused yes") != NULL, "the memory was never reused: %s", r.out);
	ck_assert_msg(count_findings(root, NULL) == 0, "%s", findings_text(root));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Every site of a C++ program is its own line, not the standard library's: where a lock and
 * a condition variable were first used, where a thread was created.  The stacks stay whole. */
START_TEST(cxx_sites_are_the_programs_lines)
{
	const char *build = cxx_builds[_i];
	struct run_result r;
	json_t *root = run_cxx(build, "locks", &r), *l, *t, *fr;
	size_t i, k, unnamed = 0;
	int created = 0, emplaced = 0;
	char *text, want[64];
	ck_assert_int_eq(r.status, 0);
	want_site(json_object_get(lock_named(root, "g_stats"), "first_use"), "worker", "stats",
		  build);
	want_site(json_object_get(lock_named(root, "g_buckets[3]"), "first_use"), "worker",
		  "bucket", build);
	want_site(json_object_get(lock_named(root, "worker_local()::m"), "first_use"),
		  "worker_local", "local", build);
	/* the stack where it was first used still starts in the library */
	l = lock_named(root, "g_stats");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(l, "first_use_stack"), 0),
			      "function"), "__gthread_mutex_lock");
	/* the mutex made with new has an address and no name */
	json_array_foreach(json_object_get(root, "locks"), i, l) {
		if (json_object_get(l, "name") != NULL)
			continue;
		unnamed++;
		want_site(json_object_get(l, "first_use"), "locks", "heap", build);
	}
	ck_assert_int_eq(unnamed, 1);
	/* std::condition_variable::wait is in libstdc++.so */
	l = json_array_get(json_object_get(root, "condvars"), 0);
	ck_assert_str_eq(jstr(l, "name"), "the_cv()::cv");
	want_site(json_object_get(l, "first_use"), "waiter", "wait", build);
	/* std::thread's constructor, std::vector::emplace_back */
	json_array_foreach(json_object_get(json_object_get(root, "threads"), "list"), i, t) {
		json_t *at = json_object_get(t, "created_at");
		if (json_is_null(at))
			continue;
		if (jint(at, "line") == site_line("create"))
			created++, want_site(at, "locks", "create", build);
		else
			emplaced++, want_site(at, "locks", "emplace", build);
		/* _start (crt1.o) has no line: none borrowed from a neighbouring unit */
		json_array_foreach(json_object_get(t, "created_stack"), k, fr)
			if (jstr(fr, "function") != NULL &&
			    strcmp(jstr(fr, "function"), "_start") == 0)
				ck_assert_msg(json_object_get(fr, "file") == NULL, "%s: %s", build,
					      dump(fr));
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(emplaced, 4);
	json_decref(root);
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	snprintf(want, sizeof want, "(fx_cxx.cc:%d)", site_line("stats"));
	want_text(text, "g_stats ", "g_buckets[3] ", "worker_local()::m ", want, NULL);
	/* no stack in this report: nothing of the library's may show */
	ck_assert_msg(strstr(text, "std_mutex.h") == NULL && strstr(text, "gthr-") == NULL &&
		      strstr(text, "std_thread.h") == NULL && strstr(text, "stl_vector.h") == NULL,
		      "%s: %s", build, text);
	free(text);
	run_free(&r);
}
END_TEST

/* A lock-order inversion between two std::mutex globals: named, and each lock taken at the
 * program's line.  At -O0 the first lock's call was into std::lock_guard's constructor,
 * which had returned when the second was taken: its site is not guessed from the second's. */
START_TEST(cxx_inversion_named_at_its_lines)
{
	const char *build = cxx_builds[_i];
	struct run_result r;
	json_t *root = run_cxx(build, "inversion", &r), *f, *e;
	size_t i;
	char *text;
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(count_findings(root, "lock-order-inversion"), 1);
	f = jfind(root, "findings", "kind", "lock-order-inversion");
	json_array_foreach(json_object_get(f, "cycle"), i, e) {
		int a_first;
		ck_assert_msg(jstr(e, "from_name") != NULL && jstr(e, "to_name") != NULL,
			      "locks not named: %s", dump(e));
		a_first = strcmp(jstr(e, "from_name"), "g_a") == 0;
		ck_assert_str_eq(jstr(e, "to_name"), a_first ? "g_b" : "g_a");
		want_site(json_object_get(e, "to_location"), a_first ? "a_then_b" : "b_then_a",
			  a_first ? "a_then_b" : "b_then_a", build);
		want_site(json_object_get(e, "from_first_use"), "a_then_b",
			  a_first ? "take_a" : "a_then_b", build);
		if (_i == 0) {
			ck_assert(json_is_false(json_object_get(e, "from_stack_partial")));
			want_site(json_object_get(e, "from_location"),
				  a_first ? "a_then_b" : "b_then_a", a_first ? "take_a" : "take_b",
				  build);
		} else {
			ck_assert(json_is_true(json_object_get(e, "from_stack_partial")));
			ck_assert_msg(!ends_with(jstr(e, "from_location.file"), "/fx_cxx.cc"),
				      "%s", dump(e));
		}
	}
	json_decref(root);
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	want_text(text, "took mutex g_a (first used at a_then_b", "then mutex g_b at a_then_b",
		  "then mutex g_a at b_then_a", NULL);
	free(text);
	run_free(&r);
}
END_TEST

START_TEST(cxx_misuse_named_at_its_line)
{
	const char *build = cxx_builds[_i];
	struct run_result r;
	json_t *root = run_cxx(build, "unlock-unlocked", &r), *f;
	char *text;
	ck_assert_int_eq(count_findings(root, "unlock-unlocked"), 1);
	f = jfind(root, "findings", "kind", "unlock-unlocked");
	ck_assert_str_eq(jstr(f, "object_name"), "g_a");
	ck_assert_msg(strstr(jstr(f, "message"), "unlocked mutex g_a,") != NULL, "%s", dump(f));
	want_site(json_object_get(f, "location"), "unlock_unlocked", "unlock", build);
	json_decref(root);
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	want_text(text, "unlocked mutex g_a, which was not locked", NULL);
	free(text);
	run_free(&r);
}
END_TEST

/* The address fx_sync printed for one of its objects ("addr NAME 0x..."). */
static const char *printed_addr(const struct run_result *r, const char *name, char *buf,
				size_t len)
{
	char needle[64];
	const char *p;
	size_t n = (size_t)snprintf(needle, sizeof needle, "addr %s ", name);
	p = strstr(r->out, needle);
	ck_assert_msg(p != NULL, "fx_sync did not print %s: %s", name, r->out);
	snprintf(buf, len, "%.*s", (int)strcspn(p + n, "\n"), p + n);
	return buf;
}

/* A C program's locks: globals, statics, an array element and a struct member by name,
 * heap and stack ones by address; its sites are its own calls, as they always were. */
START_TEST(c_names_and_addresses)
{
	static const char *const named[] = {"hot", "g_table[2]", "g_counter.lock", "g_table[1]"};
	char *argv[] = {(char *)fixture("fx_sync"), "names", NULL}, addr[64];
	struct run_result r;
	json_t *root = traced(NULL, argv, NULL, &r), *l, *f, *st;   /* it prints addresses */
	size_t i;
	char *text;
	ck_assert_int_eq(r.status, 0);
	for (i = 0; i < ARRAY_SIZE(named); i++) {
		l = jfind(root, "locks", "address", printed_addr(&r, named[i], addr, sizeof addr));
		ck_assert_msg(l != NULL, "no lock at %s", addr);
		ck_assert_msg(jstr(l, "name") != NULL && strcmp(jstr(l, "name"), named[i]) == 0,
			      "want %s: %s", named[i], dump(l));
	}
	l = jfind(root, "condvars", "address", printed_addr(&r, "g_cond", addr, sizeof addr));
	ck_assert_str_eq(jstr(l, "name"), "g_cond");
	/* heap and stack: the address only */
	l = jfind(root, "locks", "address", printed_addr(&r, "heap", addr, sizeof addr));
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_null(json_object_get(l, "name"));
	l = jfind(root, "locks", "address", printed_addr(&r, "stack", addr, sizeof addr));
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_null(json_object_get(l, "name"));
	/* a C program's sites: the call itself, the first frame of its stack */
	json_array_foreach(json_object_get(root, "locks"), i, l) {
		st = json_array_get(json_object_get(l, "first_use_stack"), 0);
		ck_assert_str_eq(jstr(l, "first_use.pc"), jstr(st, "pc"));
		ck_assert_int_eq(jint(l, "first_use.line"), jint(st, "line"));
		ck_assert_str_eq(jstr(l, "first_use.function"), jstr(st, "function"));
	}
	f = jfind(root, "findings", "kind", "unlock-unlocked");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(jstr(f, "object_name"), "g_table[1]");
	ck_assert_msg(strstr(jstr(f, "message"), "mutex g_table[1],") != NULL, "%s", dump(f));
	json_decref(root);
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	want_text(text, "\n  g_table[2]  ", "\n  g_counter.lock  ", "\n  hot  ",
		  printed_addr(&r, "heap", addr, sizeof addr), "unlocked mutex g_table[1], which",
		  NULL);
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

/* python3 has 8 objects loaded at start (TRACK_MAX_MODULES' least); the thread it makes
 * through ctypes is created from libffi's code, a ninth the module table has no room for. */
START_TEST(overflow_warned_in_text_as_counted_in_json)
{
	static const char script[] =
		"import threading, json, decimal, hashlib, sqlite3, ctypes\n"
		"libc = ctypes.CDLL(None)\n"
		"start = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)(lambda arg: None)\n"
		"th = ctypes.c_ulong()\n"
		"assert libc.pthread_create(ctypes.byref(th), None, start, None) == 0\n"
		"assert libc.pthread_join(th, None) == 0\n"
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
		TEST("threads", unstarted_thread_said_so),
		TEST("threads", no_leak_when_all_joined),
		TEST("threads", exit_status_passed_through),
		TEST("threads", killed_by_signal),
		TEST("threads", fork_gives_child_its_own_segment),
		TEST("threads", exec_keeps_the_shim),
		TEST("threads", thread_table_overflow_is_counted),
		TEST("threads", thread_table_no_overflow_by_default),
		TEST("threads", overflow_warned_in_text_as_counted_in_json),
		LOOP_TEST("sites", cxx_sites_are_the_programs_lines, ARRAY_SIZE(cxx_builds)),
		LOOP_TEST("sites", cxx_deleted_objects_are_not_their_successors, ARRAY_SIZE(cxx_builds)),
		LOOP_TEST("sites", cxx_inversion_named_at_its_lines, ARRAY_SIZE(cxx_builds)),
		LOOP_TEST("sites", cxx_misuse_named_at_its_line, ARRAY_SIZE(cxx_builds)),
		TEST("names", c_names_and_addresses),
	};
	return run_tests("run", 120, tests, ARRAY_SIZE(tests));
}

/*
 * test_runleaks.c — leak checks from the command line.  `track run --leaks`, TRACK_LEAKS=1
 * and `track report --leaks`: what a program leaves behind at its end (threads still
 * running, joinable threads never joined, locks still held) reported as findings that
 * --error-exitcode counts, and nothing for a program that cleans up.  `track snapshot` and
 * `track leaks`: threads (and descriptors) started since a snapshot of a live process,
 * with a grace period, ignore rules, and a one-line error for every bad input.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char **facts(const char *what, const char *a, const char *b)
{
	static char *argv[5];
	argv[0] = strdup(fixture("fx_facts"));
	argv[1] = (char *)what;
	argv[2] = (char *)a;
	argv[3] = (char *)b;
	argv[4] = NULL;
	return argv;
}

/* Threads still running and a lock still held at exit. */
START_TEST(threads_and_locks_left_at_exit)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--leaks", "--error-exitcode=9", NULL},
			      facts("hang", "0", "return"), NULL, &r), *f;
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, 9);
	want_findings(root, "thread-leak=2 lock-held-at-exit=1");
	f = jfind(root, "findings", "kind", "lock-held-at-exit");
	ck_assert_str_eq(jstr(f, "object_name"), "held");
	want_text(text, "SUMMARY: thread-leak: thread ", "\"fx-condwait\" was still running",
		  "created at hang (fx_facts.c:", "SUMMARY: lock-held-at-exit: mutex held at hang",
		  NULL);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A joinable thread that ended and was never joined; a detached one is no leak. */
START_TEST(unjoined_thread)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--leaks", NULL}, facts("unjoined", NULL, NULL), NULL, &r);
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, 0);
	want_findings(root, "thread-leak=1 lock-held-at-exit=0");
	want_text(text, "ended and was never joined", "created at unjoined+", NULL);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Negative: a program that joins its threads and releases its locks; and without --leaks
 * the leaking one has no leak findings. */
START_TEST(nothing_left_nothing_said)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--leaks", "--error-exitcode=9", NULL},
			      facts("clean", NULL, NULL), NULL, &r);
	ck_assert_int_eq(r.status, 0);
	want_findings(root, "thread-leak=0 lock-held-at-exit=0");
	json_decref(root);
	run_free(&r);
	root = traced((char *[]){"--leaks", NULL}, facts("many", "8", NULL), NULL, &r);
	want_findings(root, "thread-leak=0 lock-held-at-exit=0");
	json_decref(root);
	run_free(&r);
	/* main returns holding a mutex a thread waits for: that misuse is said, leaks are not */
	root = traced((char *[]){"--error-exitcode=9", NULL}, facts("hang", "0", "return"), NULL,
		      &r);
	ck_assert_int_eq(r.status, 9);
	want_findings(root, "thread-leak=0 lock-held-at-exit=0 exit-holding-lock=1");
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Plain preloading with TRACK_LEAKS=1 (a test runner's way): the segment is kept because
 * of the leak, and track report shows it; track report --leaks asks for it afterwards. */
START_TEST(preloaded_with_track_leaks)
{
	struct run_result r, rep;
	char *seg;
	run(facts("unjoined", NULL, NULL), NULL,
	    (char *[]){shim_preload(), "TRACK_LEAKS=1", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	seg = only_segment();
	run_track((char *[]){"report", seg, NULL}, NULL, &rep);
	want_text(rep.out, "thread-leak: thread ", "ended and was never joined", NULL);
	run_free(&rep);
	run_free(&r);
	unlink(seg);
	/* without TRACK_LEAKS: the same segment kept by TRACK_KEEP, no leak unless asked */
	run(facts("unjoined", NULL, NULL), NULL,
	    (char *[]){shim_preload(), "TRACK_KEEP=1", NULL}, &r);
	seg = only_segment();
	run_track((char *[]){"report", seg, NULL}, NULL, &rep);
	ck_assert_msg(strstr(rep.out, "thread-leak") == NULL, "%s", rep.out);
	run_free(&rep);
	run_track((char *[]){"report", "--leaks", seg, NULL}, NULL, &rep);
	want_text(rep.out, "thread-leak: thread ", NULL);
	run_free(&rep);
	run_free(&r);
}
END_TEST

/* The demo: a pool that forgets its workers is four thread leaks; stopped, or stopped
 * slowly and joined, none. */
START_TEST(demo_pool)
{
	static const struct {
		const char *mode, *opt;
		int leaks, fds;
	} c[] = {{"leak", "--leaks", 4, 0}, {"clean", "--fds", 0, 0}, {"slow", "--leaks", 0, 0},
		 {"fd", "--fds", 0, 1}, {"fd", "--leaks", 0, 0}};
	struct run_result r;
	char want[96];
	json_t *root = traced((char *[]){"--leaks", (char *)c[_i].opt, NULL},
			      demo_argv("demo_pool", c[_i].mode), NULL, &r);
	ck_assert_int_eq(r.status, 0);
	snprintf(want, sizeof want, "thread-leak=%d lock-held-at-exit=0 fd-leak=%d", c[_i].leaks,
		 c[_i].fds);
	want_findings(root, want);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* --- track snapshot and track leaks ------------------------------------------------------- */

struct pool {
	pid_t pid;
	FILE *out, *in;
	char spid[16];
	char *snap;   /* the snapshot file */
};

/* fx_facts pool under the shim, and a snapshot of it (with descriptors). */
static void pool_start(struct pool *p)
{
	struct run_result r;
	p->pid = start_talking(facts("pool", NULL, NULL), (char *[]){shim_preload(), NULL},
			       &p->out, &p->in);
	snprintf(p->spid, sizeof p->spid, "%d", (int)p->pid);
	p->snap = (char *)tmp_path("snap.json");
	run_track((char *[]){"snapshot", "--fds", "-o", p->snap, p->spid, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "snapshot: %d: %s", r.status, r.err);
	run_free(&r);
}

/* Tell the pool a command and wait for its "ok". */
static void pool_say(struct pool *p, const char *cmd)
{
	char line[64];
	fprintf(p->in, "%s\n", cmd);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, p->out));
	ck_assert_str_eq(line, "ok\n");
}

static void pool_end(struct pool *p)
{
	fclose(p->in);
	ck_assert_int_eq(wait_exit(p->pid, 10), 0);
	fclose(p->out);
}

/* `track leaks PID --since SNAP extra...` into r. */
static void leaks(struct pool *p, char *const extra[], struct run_result *r)
{
	char *argv[16] = {"leaks", p->spid, "--since", p->snap};
	size_t i;
	for (i = 0; extra != NULL && extra[i] != NULL && i + 5 < ARRAY_SIZE(argv); i++)
		argv[4 + i] = extra[i];
	run_track(argv, NULL, r);
}

START_TEST(leaked_pool_reported)
{
	struct pool p;
	struct run_result r;
	pool_start(&p);
	pool_say(&p, "start");
	leaks(&p, (char *[]){"--timeout", "100ms", NULL}, &r);
	ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.err);
	want_text(r.out, "3 threads started since the snapshot are still alive after 100.0 ms",
		  "3 threads alike: running pool_worker", "\"pool-worker\", ",
		  "waiting on condvar pool_cv for",
		  "created by thread ", "pool (fx_facts.c:", NULL);
	run_free(&r);
	pool_say(&p, "stop");
	pool_end(&p);
}
END_TEST

/* --json: the same answer for a script, leaked and not. */
START_TEST(leaks_as_json)
{
	struct pool p;
	struct run_result r;
	json_t *root, *t;
	pool_start(&p);
	pool_say(&p, "start");
	leaks(&p, (char *[]){"--json", "--timeout", "50ms", "--fds", NULL}, &r);
	ck_assert_int_eq(r.status, 1);
	root = json_loads(r.out, 0, NULL);
	ck_assert_msg(root != NULL, "%s", r.out);
	ck_assert(json_is_true(json_object_get(root, "leaked")));
	ck_assert_int_eq(json_array_size(json_object_get(root, "threads")), 3);
	t = json_array_get(json_object_get(root, "threads"), 0);
	ck_assert_str_eq(jstr(t, "name"), "pool-worker");
	ck_assert_str_eq(jstr(t, "state"), "condvar");
	ck_assert_int_eq(json_array_size(json_object_get(root, "fds")), 0);
	json_decref(root);
	run_free(&r);
	pool_say(&p, "stop");
	leaks(&p, (char *[]){"--json", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	root = json_loads(r.out, 0, NULL);
	ck_assert_msg(root != NULL, "%s", r.out);
	ck_assert(json_is_false(json_object_get(root, "leaked")));
	ck_assert_int_eq(json_array_size(json_object_get(root, "threads")), 0);
	json_decref(root);
	run_free(&r);
	pool_end(&p);
}
END_TEST

/* Negative: the pool stopped and joined, nothing is left. */
START_TEST(joined_pool_passes)
{
	struct pool p;
	struct run_result r;
	pool_start(&p);
	pool_say(&p, "start");
	pool_say(&p, "stop");
	leaks(&p, NULL, &r);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	want_text(r.out, "nothing started since the snapshot is still alive", NULL);
	run_free(&r);
	pool_end(&p);
}
END_TEST

/* Workers that take 200 ms to end pass with a 1 s grace period, not with 50 ms. */
START_TEST(slow_shutdown_and_the_grace_period)
{
	struct pool p;
	struct run_result r;
	pool_start(&p);
	pool_say(&p, "start");
	pool_say(&p, "stop-slow");
	leaks(&p, (char *[]){"--timeout", "50ms", NULL}, &r);
	ck_assert_msg(r.status == 1, "50 ms: status %d: %s", r.status, r.out);
	run_free(&r);
	leaks(&p, (char *[]){"--timeout", "1s", NULL}, &r);
	ck_assert_msg(r.status == 0, "1 s: status %d: %s", r.status, r.out);
	run_free(&r);
	pool_say(&p, "stop");
	pool_end(&p);
}
END_TEST

/* Each kind of ignore rule leaves the workers out; one that matches nothing is said. */
START_TEST(ignore_rules)
{
	static char *const rules[] = {"fn=pool_worker", "name=pool-*", "created=pool"};
	struct pool p;
	struct run_result r;
	size_t i;
	pool_start(&p);
	pool_say(&p, "start");
	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		leaks(&p, (char *[]){"--timeout", "50ms", "--ignore", rules[i], NULL}, &r);
		ck_assert_msg(r.status == 0, "%s: status %d: %s", rules[i], r.status, r.out);
		ck_assert_msg(r.err_len == 0, "%s: %s", rules[i], r.err);
		run_free(&r);
	}
	leaks(&p, (char *[]){"--timeout", "50ms", "--ignore", "name=pol-*", NULL}, &r);
	ck_assert_int_eq(r.status, 1);
	want_text(r.err, "warning: --ignore name=pol-* matched no thread", NULL);
	run_free(&r);
	pool_say(&p, "stop");
	pool_end(&p);
}
END_TEST

/* --fds: a descriptor opened since the snapshot; none without one. */
START_TEST(descriptor_leak)
{
	struct pool p;
	struct run_result r;
	pool_start(&p);
	leaks(&p, (char *[]){"--fds", "--timeout", "50ms", NULL}, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.out);
	run_free(&r);
	pool_say(&p, "open");
	leaks(&p, (char *[]){"--fds", "--timeout", "50ms", NULL}, &r);
	ck_assert_int_eq(r.status, 1);
	want_text(r.out, "1 descriptor opened since the snapshot is still open", "-> /dev/null",
		  NULL);
	run_free(&r);
	pool_end(&p);
}
END_TEST

/* Every bad input: one line, status 2. */
START_TEST(bad_input)
{
	static const struct {
		const char *content, *says;
	} files[] = {
		{"not json", "not a track snapshot"},
		{"{\"format\": \"track-snapshot\", \"version\": 1, \"pid\": ", "not a track snapshot"},
		{"{\"format\": \"something\", \"version\": 1}", "not a track snapshot (make one"},
		{"{\"format\": \"track-snapshot\", \"version\": 9}", "snapshot version 9"},
		{"{\"format\": \"track-snapshot\", \"version\": 1, \"pid\": 1, \"starttime\": 1,"
		 " \"taken_mono_ns\": 1, \"threads\": [{\"tid\": -4}]}", "a damaged track snapshot"},
		{"{\"format\": \"track-snapshot\", \"version\": 1, \"pid\": 1, \"starttime\": 1,"
		 " \"taken_mono_ns\": 1, \"threads\": []}", "is a snapshot of process 1"},
	};
	struct pool p;
	struct run_result r;
	size_t i;
	pool_start(&p);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char name[32];
		snprintf(name, sizeof name, "bad%zu.json", i);
		run_track((char *[]){"leaks", p.spid, "--since", (char *)write_tmp(name, files[i].content),
				     NULL}, NULL, &r);
		ck_assert_msg(r.status == 2 && strstr(r.err, files[i].says) != NULL &&
				      strchr(r.err, '\n') == r.err + r.err_len - 1,
			      "file %zu: status %d: %s", i, r.status, r.err);
		run_free(&r);
	}
	/* a directory, and a file larger than any snapshot (sparse: nothing is written) */
	run_track((char *[]){"leaks", p.spid, "--since", (char *)tmp_dir(), NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "not a regular file", NULL);
	run_free(&r);
	ck_assert_int_eq(truncate(write_tmp("huge.json", "{"), 1ll << 30), 0);
	run_track((char *[]){"leaks", p.spid, "--since", (char *)tmp_path("huge.json"), NULL}, NULL,
		  &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "far too large", NULL);
	run_free(&r);
	run_track((char *[]){"leaks", p.spid, "--since", p.snap, "--timeout", "soon", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "--timeout needs a duration", NULL);
	run_free(&r);
	run_track((char *[]){"leaks", p.spid, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "--since FILE is needed", NULL);
	run_free(&r);
	run_track((char *[]){"leaks", "999999999", "--since", p.snap, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "no process 999999999", NULL);
	run_free(&r);
	run_track((char *[]){"leaks", p.spid, "--since", p.snap, "--ignore", "what=x", NULL}, NULL,
		  &r);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
	pool_end(&p);
	/* a process without the shim */
	run_track((char *[]){"snapshot", "1", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "process 1 has no track segment", NULL);
	run_free(&r);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("leaks", threads_and_locks_left_at_exit),
		TEST("leaks", unjoined_thread),
		TEST("leaks", nothing_left_nothing_said),
		TEST("leaks", preloaded_with_track_leaks),
		LOOP_TEST("leaks", demo_pool, 5),
		TEST("cli", leaked_pool_reported),
		TEST("cli", joined_pool_passes),
		TEST("cli", leaks_as_json),
		TEST("cli", slow_shutdown_and_the_grace_period),
		TEST("cli", ignore_rules),
		TEST("cli", descriptor_leak),
		TEST("cli", bad_input),
	};
	return run_tests("runleaks", 60, tests, ARRAY_SIZE(tests));
}

/*
 * test_runleaks.c — `track run --leaks`, TRACK_LEAKS=1 and `track report --leaks`: what a
 * program leaves behind at its end (threads still running, joinable threads never joined,
 * locks still held) reported as findings that --error-exitcode counts, and nothing for a
 * program that cleans up.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
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
	root = traced((char *[]){"--error-exitcode=9", NULL}, facts("hang", "0", "return"), NULL,
		      &r);
	ck_assert_int_eq(r.status, 0);
	want_findings(root, "thread-leak=0 lock-held-at-exit=0");
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

int main(void)
{
	const struct test_def tests[] = {
		TEST("leaks", threads_and_locks_left_at_exit),
		TEST("leaks", unjoined_thread),
		TEST("leaks", nothing_left_nothing_said),
		TEST("leaks", preloaded_with_track_leaks),
	};
	return run_tests("runleaks", 60, tests, ARRAY_SIZE(tests));
}

/*
 * test_suppress.c — suppression files: the parser and matcher as units (errors say file,
 * line and column; unknown keys and kinds are refused; function and file globs; kind
 * filtering), then end to end: findings a file matches leave the report and stop counting
 * for --error-exitcode, in track run and track report, and a bad file stops track run before
 * the program starts.  Also the other track run options of lock-order checking, which pass
 * their values to the shim: --lock-order and --on-deadlock.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "track/segment.h"

#include "core/suppress.h"

/* The kinds the unit tests name (the track command resolves every kind with model.c). */
static int kind_of(const char *name)
{
	if (strcmp(name, "unlock-not-owner") == 0)
		return TRACK_FK_UNLOCK_NOT_OWNER;
	if (strcmp(name, "lock-order-inversion") == 0)
		return TRACK_FK_LOCK_ORDER;
	return -1;
}

/* Parse text; returns the rules, or NULL with the message in err. */
static struct track_suppressions *parse(const char *text, char *err, size_t errlen)
{
	struct track_suppressions *sp = NULL;
	int rc = track_supp_parse(text, strlen(text), "s.json", kind_of, &sp, err, errlen);
	ck_assert_int_eq(rc == 0, sp != NULL);
	return sp;
}

static void assert_error(const char *text, const char *where, const char *what)
{
	char err[512] = "";
	struct track_suppressions *sp = parse(text, err, sizeof err);
	ck_assert_msg(sp == NULL, "accepted: %s", text);
	ck_assert_msg(strncmp(err, where, strlen(where)) == 0, "'%s' does not start with '%s'",
		      err, where);
	ck_assert_msg(strstr(err, what) != NULL, "'%s' not in '%s'", what, err);
	ck_assert_ptr_null(strchr(err, '\n'));
}

START_TEST(rules_are_parsed)
{
	char err[512];
	struct track_suppressions *sp = parse(
		"[\n"
		"  {\"function\": \"legacy_*\", \"comment\": \"known, fixed in 2.0\"},\n"
		"  {\"kind\": \"lock-order-inversion\", \"file\": \"vendor/*.c\"},\n"
		"  {\"kind\": \"*\", \"function\": \"f\", \"file\": \"g.c\"}\n"
		"]\n", err, sizeof err);
	ck_assert_msg(sp != NULL, "%s", err);
	ck_assert_uint_eq(sp->n, 3);
	ck_assert_int_eq(sp->rules[0].kind, -1);
	ck_assert_str_eq(sp->rules[0].function, "legacy_*");
	ck_assert_ptr_null(sp->rules[0].file);
	ck_assert_str_eq(sp->rules[0].comment, "known, fixed in 2.0");
	ck_assert_int_eq(sp->rules[1].kind, TRACK_FK_LOCK_ORDER);
	ck_assert_ptr_null(sp->rules[1].function);
	ck_assert_str_eq(sp->rules[1].file, "vendor/*.c");
	ck_assert_int_eq(sp->rules[2].kind, -1);
	track_supp_free(sp);
	sp = parse("[]", err, sizeof err);
	ck_assert_ptr_nonnull(sp);
	ck_assert_uint_eq(sp->n, 0);
	track_supp_free(sp);
}
END_TEST

START_TEST(syntax_errors_name_line_and_column)
{
	/* the missing comma is noticed at the second object, line 3 */
	assert_error("[\n  {\"function\": \"a\"}\n  {\"function\": \"b\"}\n]\n", "suppressions s.json:3:",
		     "expected");
	assert_error("[\n  {\"function\": \"a\",}\n]", "suppressions s.json:2:", "string");
	assert_error("", "suppressions s.json:", "");
	assert_error("{\"function\": \"a\"}", "suppressions s.json:1:1:", "array");
	/* a key twice is an error too: which one was meant? */
	assert_error("[{\"function\": \"a\", \"function\": \"b\"}]", "suppressions s.json:1:",
		     "duplicate");
}
END_TEST

START_TEST(bad_rules_name_their_line)
{
	/* bad entries, each the second of an array (on line 3), and what the error says */
	static const struct {
		const char *entry, *what;
	} bad[] = {
		{"{\"fucntion\": \"unlock_other\"}", "unknown key \"fucntion\""},
		{"{\"kind\": \"*\", \"comment\": \"no glob\"}", "\"function\" or \"file\""},
		{"{\"kind\": \"lock-order\", \"function\": \"f\"}",
		 "unknown finding kind \"lock-order\""},
		{"{\"function\": 7}", "non-empty strings"},
		{"{\"function\": \"\"}", "non-empty strings"},
		{"{\"kind\": 1, \"function\": \"f\"}", "\"kind\" must be a string"},
		{"\"unlock_other\"", "must be an object"},
	};
	char text[256];
	size_t i;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof text, "[\n  {\"function\": \"ok\"},\n  %s\n]", bad[i].entry);
		assert_error(text, "suppressions s.json:3:3: entry 2:", bad[i].what);
	}
	/* strings holding brackets, commas and quotes do not confuse the position */
	assert_error("[{\"function\": \"a[,]\\\"{\"}, {\"file\": \"x\"},\n {\"nope\": 1}]",
		     "suppressions s.json:2:2: entry 3:", "\"nope\"");
}
END_TEST

static int frame_suppressed(const char *rules, int kind, const char *function, const char *file)
{
	char err[512];
	struct track_suppressions *sp = parse(rules, err, sizeof err);
	struct track_supp_frame frames[2] = {{"start_thread", "pthread_create.c"},
					     {function, file}};
	int hit;
	ck_assert_msg(sp != NULL, "%s", err);
	hit = track_supp_match(sp, kind, frames, 2);
	track_supp_free(sp);
	return hit;
}

START_TEST(function_globs)
{
	const int k = TRACK_FK_UNLOCK_NOT_OWNER;
	ck_assert(frame_suppressed("[{\"function\": \"unlock_other\"}]", k, "unlock_other", NULL));
	ck_assert(frame_suppressed("[{\"function\": \"unlock_*\"}]", k, "unlock_other", "a.c"));
	ck_assert(frame_suppressed("[{\"function\": \"*_oth?r\"}]", k, "unlock_other", "a.c"));
	ck_assert(!frame_suppressed("[{\"function\": \"unlock\"}]", k, "unlock_other", "a.c"));
	ck_assert(!frame_suppressed("[{\"function\": \"unlock_other\"}]", k, NULL, "a.c"));
	/* any frame will do, not only the innermost */
	ck_assert(frame_suppressed("[{\"function\": \"start_*\"}]", k, "unlock_other", "a.c"));
}
END_TEST

START_TEST(file_globs_full_path_and_basename)
{
	const int k = TRACK_FK_UNLOCK_NOT_OWNER;
	const char *path = "/src/vendor/zlib/inflate.c";
	ck_assert(frame_suppressed("[{\"file\": \"inflate.c\"}]", k, "f", path));
	ck_assert(frame_suppressed("[{\"file\": \"infl*.c\"}]", k, "f", path));
	ck_assert(frame_suppressed("[{\"file\": \"*/vendor/*\"}]", k, "f", path));
	ck_assert(frame_suppressed("[{\"file\": \"/src/vendor/zlib/inflate.c\"}]", k, "f", path));
	ck_assert(!frame_suppressed("[{\"file\": \"deflate.c\"}]", k, "f", path));
	ck_assert(!frame_suppressed("[{\"file\": \"inflate.c\"}]", k, "f", NULL));
	/* function and file must match the same frame */
	ck_assert(frame_suppressed("[{\"function\": \"f\", \"file\": \"inflate.c\"}]", k, "f",
				   path));
	ck_assert(!frame_suppressed("[{\"function\": \"start_thread\", \"file\": \"inflate.c\"}]",
				    k, "f", path));
}
END_TEST

START_TEST(kinds_filter_rules)
{
	const char *lo = "[{\"kind\": \"lock-order-inversion\", \"function\": \"f\"}]";
	ck_assert(frame_suppressed(lo, TRACK_FK_LOCK_ORDER, "f", NULL));
	ck_assert(!frame_suppressed(lo, TRACK_FK_UNLOCK_NOT_OWNER, "f", NULL));
	ck_assert(frame_suppressed("[{\"kind\": \"*\", \"function\": \"f\"}]", TRACK_FK_DEADLOCK,
				   "f", NULL));
	ck_assert(frame_suppressed("[{\"function\": \"f\"}]", TRACK_FK_DEADLOCK, "f", NULL));
	ck_assert(!track_supp_match(NULL, TRACK_FK_DEADLOCK,
				    &(struct track_supp_frame){"f", NULL}, 1));
}
END_TEST

START_TEST(files_and_the_environment)
{
	struct track_suppressions *sp = NULL;
	const char *good = write_tmp("good.json", "[{\"function\": \"a\"}, {\"file\": \"b\"}]");
	const char *bad = write_tmp("bad.json", "[{\"function\": \"a\"},\n {\"function\"}]");
	char err[512];
	ck_assert_int_eq(track_supp_load(good, kind_of, &sp, err, sizeof err), 0);
	ck_assert_uint_eq(sp->n, 2);
	track_supp_free(sp);
	ck_assert_int_ne(track_supp_load(bad, kind_of, &sp, err, sizeof err), 0);
	ck_assert_msg(strstr(err, "bad.json:2:") != NULL, "%s", err);
	ck_assert_int_ne(track_supp_load(tmp_path("none.json"), kind_of, &sp, err, sizeof err), 0);
	ck_assert_msg(strstr(err, "none.json: No such file") != NULL, "%s", err);
	/* the option wins over TRACK_SUPPRESSIONS; neither: no suppressions */
	setenv("TRACK_SUPPRESSIONS", bad, 1);
	ck_assert_int_eq(track_supp_open(good, kind_of, &sp, err, sizeof err), 0);
	ck_assert_uint_eq(sp->n, 2);
	track_supp_free(sp);
	ck_assert_int_ne(track_supp_open(NULL, kind_of, &sp, err, sizeof err), 0);
	unsetenv("TRACK_SUPPRESSIONS");
	ck_assert_int_eq(track_supp_open(NULL, kind_of, &sp, err, sizeof err), 0);
	ck_assert_ptr_null(sp);
}
END_TEST

/* --- end to end: fx_sync misuse finds unlock-not-owner (in unlock_other) and unlock-unlocked
 * (in misuse(), inlined into main) ------------------------------------------------------------ */

static json_t *misuse_run(const char *supp_file, char *const env[], struct run_result *r)
{
	char *argv[] = {(char *)fixture("fx_sync"), "misuse", NULL};
	char *opts[] = {"--error-exitcode=42", supp_file ? "--suppressions" : NULL,
			(char *)supp_file, NULL};
	return traced(opts, argv, env, r);
}

START_TEST(matched_finding_leaves_the_report)
{
	const char *file = write_tmp("s.json", "[{\"function\": \"unlock_other\", "
						"\"comment\": \"the test's own misuse\"}]");
	struct run_result r;
	json_t *root = misuse_run(file, NULL, &r);
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_ptr_nonnull(text);
	want_findings(root, "unlock-not-owner=0 unlock-unlocked=1");
	want_ints(root, "suppressed=1");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(root, "findings"), 0), "severity"),
			 "error");
	ck_assert_msg(strstr(text, "findings: 1 (1 suppressed)") != NULL, "%s", text);
	ck_assert_ptr_null(strstr(text, "unlock-not-owner"));
	ck_assert_int_eq(r.status, 42);   /* the other finding still counts */
	free(text);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(all_suppressed_no_error_exitcode)
{
	/* misuse() is inlined into main: its inlined frame matches too */
	const char *file = write_tmp("s.json",
		"[{\"function\": \"unlock_other\"},\n"
		" {\"kind\": \"unlock-unlocked\", \"function\": \"misuse\", \"file\": \"fx_sync.c\"}]");
	struct run_result r;
	json_t *root = misuse_run(file, NULL, &r);
	ck_assert_int_eq(count_findings(root, NULL), 0);
	want_ints(root, "suppressed=2");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(unmatched_file_changes_nothing)
{
	/* right function, wrong kind; right kind, wrong file */
	const char *file = write_tmp("s.json",
		"[{\"kind\": \"lock-order-inversion\", \"function\": \"unlock_other\"},\n"
		" {\"kind\": \"unlock-not-owner\", \"function\": \"unlock_other\", \"file\": \"x.c\"}]");
	struct run_result r;
	json_t *root = misuse_run(file, NULL, &r);
	want_findings(root, "unlock-not-owner=1 unlock-unlocked=1");
	want_ints(root, "suppressed=0");
	ck_assert_int_eq(r.status, 42);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(environment_names_the_file)
{
	char *env[] = {NULL, NULL};
	const char *file = write_tmp("s.json", "[{\"function\": \"unlock_other\"}]");
	struct run_result r;
	json_t *root;
	ck_assert_int_ge(asprintf(&env[0], "TRACK_SUPPRESSIONS=%s", file), 0);
	root = misuse_run(NULL, env, &r);
	want_findings(root, "unlock-not-owner=0");
	want_ints(root, "suppressed=1");
	json_decref(root);
	run_free(&r);
	free(env[0]);
}
END_TEST

START_TEST(bad_file_stops_before_the_run)
{
	const char *file = write_tmp("s.json", "[{\"function\": \"unlock_other\"},\n"
						"  {\"functoin\": \"misuse\"}]");
	char *args[] = {"run", "--suppressions", (char *)file, "--", (char *)fixture("fx_sync"),
			"misuse", NULL};
	struct run_result r;
	run_track(args, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strncmp(r.err, "track: suppressions ", 20) == 0, "%s", r.err);
	ck_assert_msg(strstr(r.err, "s.json:2:3: entry 2: unknown key \"functoin\"") != NULL, "%s",
		      r.err);
	ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + r.err_len - 1);
	ck_assert_ptr_null(strstr(r.out, "misuse done"));   /* the program never ran */
	run_free(&r);
	args[2] = (char *)tmp_path("missing.json");
	run_track(args, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "missing.json: No such file") != NULL, "%s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(report_suppresses_too)
{
	const char *file = write_tmp("s.json", "[{\"function\": \"unlock_other\"}]");
	char *argv[] = {(char *)fixture("fx_sync"), "misuse", NULL};
	char *rep[] = {"report", "--suppressions", (char *)file, "--json",
		       (char *)tmp_path("again.json"), NULL, NULL};
	struct run_result r;
	json_error_t e;
	json_t *root = traced((char *[]){"--keep", NULL}, argv, NULL, &r), *again;
	ck_assert_ptr_nonnull(root);
	want_ints(root, "suppressed=0");
	rep[5] = (char *)jstr(root, "process.segment");
	ck_assert_ptr_nonnull(rep[5]);
	run_free(&r);
	run_track(rep, NULL, &r);
	ck_assert_msg(r.status == 0, "track report: %s", r.err);
	again = json_load_file(tmp_path("again.json"), 0, &e);
	ck_assert_ptr_nonnull(again);
	want_findings(again, "unlock-not-owner=0 unlock-unlocked=1");
	want_ints(again, "suppressed=1");
	json_decref(again);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* fx_order (test_order's fixture): ab_ba makes one lock-order inversion, in take_a_then_b and
 * take_b_then_a; deadlock2 one deadlock, in dl_a_then_b and dl_b_then_a. */
static json_t *order_run_opts(const char *scenario, char *const opts[], struct run_result *r)
{
	char *argv[] = {(char *)fixture("fx_order"), (char *)scenario, NULL};
	return traced(opts, argv, NULL, r);
}

/* The scenario with suppression rules, and --error-exitcode=42. */
static json_t *order_run(const char *scenario, const char *rules, struct run_result *r)
{
	char *opts[] = {"--error-exitcode=42", "--suppressions",
			(char *)write_tmp("order.json", rules), NULL};
	return order_run_opts(scenario, opts, r);
}

START_TEST(lock_order_suppressed_by_its_stacks)
{
	/* the rule of the inversion's kind takes it out of the report and the exit status; one
	 * of another kind leaves it */
	static const struct {
		const char *rules, *findings, *suppressed;
		int status;
	} runs[] = {
		{"[{\"kind\": \"lock-order-inversion\", \"function\": \"take_b_then_a\"}]",
		 "lock-order-inversion=0", "suppressed=1", 0},
		{"[{\"kind\": \"deadlock\", \"function\": \"take_b_then_a\"}]",
		 "lock-order-inversion=1", "suppressed=0", 42},
	};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(runs); i++) {
		struct run_result r;
		json_t *root = order_run("ab_ba", runs[i].rules, &r);
		want_findings(root, runs[i].findings);
		want_ints(root, runs[i].suppressed);
		ck_assert_msg(r.status == runs[i].status, "%s: status %d, want %d: %s",
			      runs[i].rules, r.status, runs[i].status, r.err);
		json_decref(root);
		run_free(&r);
	}
}
END_TEST

START_TEST(deadlock_suppressed_by_a_thread_stack)
{
	struct run_result r;
	json_t *root = order_run("deadlock2", "[{\"kind\": \"deadlock\", "
					      "\"function\": \"dl_b_then_a\"}]", &r);
	want_findings(root, "deadlock=0");
	ck_assert_int_ge(jint(root, "suppressed"), 1);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(lock_order_option)
{
	struct run_result r;
	json_t *root, *edge;
	run_track((char *[]){"run", "--lock-order=instances", "--", "true", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--lock-order needs one of instance, class or off") != NULL,
		      "%s", r.err);
	run_free(&r);
	root = order_run_opts("ab_ba", (char *[]){"--lock-order=off", NULL}, &r);
	want_findings(root, "lock-order-inversion=0");
	json_decref(root);
	run_free(&r);
	root = order_run_opts("class_order", (char *[]){"--lock-order", "class", NULL}, &r);
	want_findings(root, "lock-order-inversion=1");
	edge = json_array_get(json_object_get(jfind(root, "findings", "kind",
						    "lock-order-inversion"), "cycle"), 0);
	ck_assert(json_is_true(json_object_get(edge, "class")));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(on_deadlock_option)
{
	/* the default under track run: the program ends with 7, or --error-exitcode's N */
	static const struct {
		char *opt;
		int status;
	} ends[] = {{NULL, 7}, {"--error-exitcode=42", 42}, {"--on-deadlock=abort", 128 + 6}};
	struct run_result r;
	size_t i;
	run_track((char *[]){"run", "--on-deadlock=hang", "--", "true", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--on-deadlock needs one of report, exit or abort") != NULL,
		      "%s", r.err);
	run_free(&r);
	for (i = 0; i < ARRAY_SIZE(ends); i++) {
		json_t *root = order_run_opts("deadlock2", (char *[]){ends[i].opt, NULL}, &r);
		want_findings(root, "deadlock=1");
		ck_assert_msg(r.status == ends[i].status, "%s: status %d, want %d",
			      ends[i].opt ? ends[i].opt : "no option", r.status, ends[i].status);
		json_decref(root);
		run_free(&r);
	}
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("units", rules_are_parsed),
		TEST("units", syntax_errors_name_line_and_column),
		TEST("units", bad_rules_name_their_line),
		TEST("units", function_globs),
		TEST("units", file_globs_full_path_and_basename),
		TEST("units", kinds_filter_rules),
		TEST("units", files_and_the_environment),
		TEST("end_to_end", matched_finding_leaves_the_report),
		TEST("end_to_end", all_suppressed_no_error_exitcode),
		TEST("end_to_end", unmatched_file_changes_nothing),
		TEST("end_to_end", environment_names_the_file),
		TEST("end_to_end", bad_file_stops_before_the_run),
		TEST("end_to_end", report_suppresses_too),
		TEST("end_to_end", lock_order_suppressed_by_its_stacks),
		TEST("end_to_end", deadlock_suppressed_by_a_thread_stack),
		TEST("run_options", lock_order_option),
		TEST("run_options", on_deadlock_option),
	};
	return run_tests("suppress", 120, tests, ARRAY_SIZE(tests));
}

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
	const char *head = "[\n  {\"function\": \"ok\"},\n  ";
	char text[256];
	snprintf(text, sizeof text, "%s{\"fucntion\": \"unlock_other\"}\n]", head);
	assert_error(text, "suppressions s.json:3:3: entry 2:", "unknown key \"fucntion\"");
	snprintf(text, sizeof text, "%s{\"kind\": \"*\", \"comment\": \"no glob\"}\n]", head);
	assert_error(text, "suppressions s.json:3:3: entry 2:", "\"function\" or \"file\"");
	snprintf(text, sizeof text, "%s{\"kind\": \"lock-order\", \"function\": \"f\"}\n]", head);
	assert_error(text, "suppressions s.json:3:3: entry 2:", "unknown finding kind \"lock-order\"");
	snprintf(text, sizeof text, "%s{\"function\": 7}\n]", head);
	assert_error(text, "suppressions s.json:3:3: entry 2:", "non-empty strings");
	snprintf(text, sizeof text, "%s{\"function\": \"\"}\n]", head);
	assert_error(text, "suppressions s.json:3:3: entry 2:", "non-empty strings");
	snprintf(text, sizeof text, "%s{\"kind\": 1, \"function\": \"f\"}\n]", head);
	assert_error(text, "suppressions s.json:3:3: entry 2:", "\"kind\" must be a string");
	snprintf(text, sizeof text, "%s\"unlock_other\"\n]", head);
	assert_error(text, "suppressions s.json:3:3: entry 2:", "must be an object");
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

static const char *write_file(const char *name, const char *text)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(files_and_the_environment)
{
	struct track_suppressions *sp = NULL;
	const char *good = write_file("good.json", "[{\"function\": \"a\"}, {\"file\": \"b\"}]");
	const char *bad = write_file("bad.json", "[{\"function\": \"a\"},\n {\"function\"}]");
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
	char *opts[] = {"--error-exitcode=42", "-o", (char *)tmp_path("report.txt"),
			supp_file ? "--suppressions" : NULL, (char *)supp_file, NULL};
	json_t *root = track_run_json(opts, argv, env, r);
	ck_assert_msg(root != NULL, "no JSON report; track said: %s", r->err);
	return root;
}

static char *slurp_path(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_ge(fread(buf, 1, (1 << 16) - 1, f), 0);
	fclose(f);
	return buf;
}

START_TEST(matched_finding_leaves_the_report)
{
	const char *file = write_file("s.json", "[{\"function\": \"unlock_other\", "
						"\"comment\": \"the test's own misuse\"}]");
	struct run_result r;
	json_t *root = misuse_run(file, NULL, &r);
	char *text = slurp_path(tmp_path("report.txt"));
	ck_assert_int_eq(count_findings(root, "unlock-not-owner"), 0);
	ck_assert_int_eq(count_findings(root, "unlock-unlocked"), 1);
	ck_assert_int_eq(jint(root, "suppressed"), 1);
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
	const char *file = write_file("s.json",
		"[{\"function\": \"unlock_other\"},\n"
		" {\"kind\": \"unlock-unlocked\", \"function\": \"misuse\", \"file\": \"fx_sync.c\"}]");
	struct run_result r;
	json_t *root = misuse_run(file, NULL, &r);
	ck_assert_int_eq(count_findings(root, NULL), 0);
	ck_assert_int_eq(jint(root, "suppressed"), 2);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(unmatched_file_changes_nothing)
{
	/* right function, wrong kind; right kind, wrong file */
	const char *file = write_file("s.json",
		"[{\"kind\": \"lock-order-inversion\", \"function\": \"unlock_other\"},\n"
		" {\"kind\": \"unlock-not-owner\", \"function\": \"unlock_other\", \"file\": \"x.c\"}]");
	struct run_result r;
	json_t *root = misuse_run(file, NULL, &r);
	ck_assert_int_eq(count_findings(root, "unlock-not-owner"), 1);
	ck_assert_int_eq(count_findings(root, "unlock-unlocked"), 1);
	ck_assert_int_eq(jint(root, "suppressed"), 0);
	ck_assert_int_eq(r.status, 42);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(environment_names_the_file)
{
	char *env[] = {NULL, NULL};
	const char *file = write_file("s.json", "[{\"function\": \"unlock_other\"}]");
	struct run_result r;
	json_t *root;
	ck_assert_int_ge(asprintf(&env[0], "TRACK_SUPPRESSIONS=%s", file), 0);
	root = misuse_run(NULL, env, &r);
	ck_assert_int_eq(count_findings(root, "unlock-not-owner"), 0);
	ck_assert_int_eq(jint(root, "suppressed"), 1);
	json_decref(root);
	run_free(&r);
	free(env[0]);
}
END_TEST

START_TEST(bad_file_stops_before_the_run)
{
	const char *file = write_file("s.json", "[{\"function\": \"unlock_other\"},\n"
						"  {\"functoin\": \"misuse\"}]");
	char *argv[] = {(char *)track_bin(), "run", "--suppressions", (char *)file, "--",
			(char *)fixture("fx_sync"), "misuse", NULL};
	struct run_result r;
	run(argv, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strncmp(r.err, "track: suppressions ", 20) == 0, "%s", r.err);
	ck_assert_msg(strstr(r.err, "s.json:2:3: entry 2: unknown key \"functoin\"") != NULL, "%s",
		      r.err);
	ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + r.err_len - 1);
	ck_assert_ptr_null(strstr(r.out, "misuse done"));   /* the program never ran */
	run_free(&r);
	argv[3] = (char *)tmp_path("missing.json");
	run(argv, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "missing.json: No such file") != NULL, "%s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(track_report_suppresses_too)
{
	const char *file = write_file("s.json", "[{\"function\": \"unlock_other\"}]");
	char *argv[] = {(char *)fixture("fx_sync"), "misuse", NULL};
	char *opts[] = {"--keep", "-o", (char *)tmp_path("report.txt"), NULL};
	char *rep[] = {(char *)track_bin(), "report", "--suppressions", (char *)file, "--json",
		       (char *)tmp_path("again.json"), NULL, NULL};
	struct run_result r;
	json_error_t e;
	json_t *root = track_run_json(opts, argv, NULL, &r), *again;
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(jint(root, "suppressed"), 0);
	rep[6] = (char *)jstr(root, "process.segment");
	ck_assert_ptr_nonnull(rep[6]);
	run_free(&r);
	run(rep, NULL, NULL, &r);
	ck_assert_msg(r.status == 0, "track report: %s", r.err);
	again = json_load_file(tmp_path("again.json"), 0, &e);
	ck_assert_ptr_nonnull(again);
	ck_assert_int_eq(count_findings(again, "unlock-not-owner"), 0);
	ck_assert_int_eq(count_findings(again, "unlock-unlocked"), 1);
	ck_assert_int_eq(jint(again, "suppressed"), 1);
	json_decref(again);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* fx_order (test_order's fixture): ab_ba makes one lock-order inversion, in take_a_then_b and
 * take_b_then_a; deadlock2 one deadlock, in dl_a_then_b and dl_b_then_a. */
static json_t *order_run(const char *scenario, const char *rules, struct run_result *r)
{
	char *argv[] = {(char *)fixture("fx_order"), (char *)scenario, NULL};
	char *opts[] = {"--error-exitcode=42", "-o", (char *)tmp_path("report.txt"),
			"--suppressions", (char *)write_file("order.json", rules), NULL};
	json_t *root = track_run_json(opts, argv, NULL, r);
	ck_assert_msg(root != NULL, "no JSON report; track said: %s", r->err);
	return root;
}

START_TEST(lock_order_suppressed_by_its_stacks)
{
	struct run_result r;
	json_t *root = order_run("ab_ba", "[{\"kind\": \"lock-order-inversion\", "
					  "\"function\": \"take_b_then_a\"}]", &r);
	ck_assert_int_eq(count_findings(root, "lock-order-inversion"), 0);
	ck_assert_int_eq(jint(root, "suppressed"), 1);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	json_decref(root);
	run_free(&r);
	root = order_run("ab_ba", "[{\"kind\": \"deadlock\", \"function\": \"take_b_then_a\"}]",
			 &r);
	ck_assert_int_eq(count_findings(root, "lock-order-inversion"), 1);
	ck_assert_int_eq(jint(root, "suppressed"), 0);
	ck_assert_int_eq(r.status, 42);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(deadlock_suppressed_by_a_thread_stack)
{
	struct run_result r;
	json_t *root = order_run("deadlock2", "[{\"kind\": \"deadlock\", "
					      "\"function\": \"dl_b_then_a\"}]", &r);
	ck_assert_int_eq(count_findings(root, "deadlock"), 0);
	ck_assert_int_ge(jint(root, "suppressed"), 1);
	json_decref(root);
	run_free(&r);
}
END_TEST

static json_t *order_run_opts(const char *scenario, char *const opts[], struct run_result *r)
{
	char *argv[] = {(char *)fixture("fx_order"), (char *)scenario, NULL};
	json_t *root = track_run_json(opts, argv, NULL, r);
	ck_assert_msg(root != NULL, "no JSON report; track said: %s", r->err);
	return root;
}

START_TEST(lock_order_option)
{
	char *argv[] = {(char *)track_bin(), "run", "--lock-order=instances", "--", "true", NULL};
	struct run_result r;
	json_t *root, *edge;
	run(argv, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--lock-order needs one of instance, class or off") != NULL,
		      "%s", r.err);
	run_free(&r);
	root = order_run_opts("ab_ba", (char *[]){"--lock-order=off", NULL}, &r);
	ck_assert_int_eq(count_findings(root, "lock-order-inversion"), 0);
	json_decref(root);
	run_free(&r);
	root = order_run_opts("class_order", (char *[]){"--lock-order", "class", NULL}, &r);
	ck_assert_int_eq(count_findings(root, "lock-order-inversion"), 1);
	edge = json_array_get(json_object_get(jfind(root, "findings", "kind",
						    "lock-order-inversion"), "cycle"), 0);
	ck_assert(json_is_true(json_object_get(edge, "class")));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(on_deadlock_option)
{
	char *argv[] = {(char *)track_bin(), "run", "--on-deadlock=hang", "--", "true", NULL};
	struct run_result r;
	json_t *root;
	run(argv, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--on-deadlock needs one of report, exit or abort") != NULL,
		      "%s", r.err);
	run_free(&r);
	/* the default under track run: the program ends with 1, or --error-exitcode's N */
	root = order_run_opts("deadlock2", NULL, &r);
	ck_assert_int_eq(count_findings(root, "deadlock"), 1);
	ck_assert_int_eq(r.status, 1);
	json_decref(root);
	run_free(&r);
	root = order_run_opts("deadlock2", (char *[]){"--error-exitcode=42", NULL}, &r);
	ck_assert_int_eq(count_findings(root, "deadlock"), 1);
	ck_assert_int_eq(r.status, 42);
	json_decref(root);
	run_free(&r);
	root = order_run_opts("deadlock2", (char *[]){"--on-deadlock=abort", NULL}, &r);
	ck_assert_int_eq(count_findings(root, "deadlock"), 1);
	ck_assert_int_eq(r.status, 128 + 6);   /* SIGABRT */
	json_decref(root);
	run_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("suppress");
	TCase *units = tcase_create("units"), *e2e = tcase_create("end_to_end"),
	      *options = tcase_create("run_options");
	tcase_add_test(units, rules_are_parsed);
	tcase_add_test(units, syntax_errors_name_line_and_column);
	tcase_add_test(units, bad_rules_name_their_line);
	tcase_add_test(units, function_globs);
	tcase_add_test(units, file_globs_full_path_and_basename);
	tcase_add_test(units, kinds_filter_rules);
	tcase_add_test(units, files_and_the_environment);
	tcase_set_timeout(e2e, 120);
	tcase_add_test(e2e, matched_finding_leaves_the_report);
	tcase_add_test(e2e, all_suppressed_no_error_exitcode);
	tcase_add_test(e2e, unmatched_file_changes_nothing);
	tcase_add_test(e2e, environment_names_the_file);
	tcase_add_test(e2e, bad_file_stops_before_the_run);
	tcase_add_test(e2e, track_report_suppresses_too);
	tcase_add_test(e2e, lock_order_suppressed_by_its_stacks);
	tcase_add_test(e2e, deadlock_suppressed_by_a_thread_stack);
	tcase_set_timeout(options, 120);
	tcase_add_test(options, lock_order_option);
	tcase_add_test(options, on_deadlock_option);
	suite_add_tcase(s, units);
	suite_add_tcase(s, e2e);
	suite_add_tcase(s, options);
	return s;
}

int main(void)
{
	return run_suite(suite());
}

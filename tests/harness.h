/*
 * harness.h — what the Check tests share, so that no test file keeps its own copy: building
 * and running a suite from a table of tests; a private, self-cleaning temporary directory and
 * TRACK_DIR for every test; running track (or any program) as a user would, with its output
 * captured, natively and traced side by side; background fixtures; and reading the JSON
 * report track wrote.
 *
 * Paths come from the environment CTest sets (see tests/CMakeLists.txt): TRACK_BIN (the
 * track command), TRACK_FIXTURES (the directory of fixture programs).
 */
#ifndef TRACK_HARNESS_H
#define TRACK_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* --- suites ---------------------------------------------------------------------------------- */

/* One row of a test file's table: a test (START_TEST's name) in test case tcase.  loop > 0
 * makes it a loop test over _i = 0 .. loop - 1, every case run and counted on its own. */
struct test_def {
	const char *tcase;
	const TTest *test;
	int loop;
};

/* The name START_TEST gave a test is a variable, not a constant: a table of them is made in
 * main(), where an initialiser need not be constant. */
#define TEST(tcase, name) {(tcase), (name), 0}
#define LOOP_TEST(tcase, name, n) {(tcase), (name), (int)(n)}

/* Run the n tests of defs as suite `suite` (test cases made in the order the table first
 * names them, each with timeout seconds) and report as Check does; the exit status for
 * main.  Every test runs with the checked fixture described under "temporary files". */
int run_tests(const char *suite, double timeout, const struct test_def *defs, size_t n);

/* --- temporary files -------------------------------------------------------------------------
 *
 * Each test gets, in a checked fixture (run in the test's own process, Check's fork), a fresh
 * directory for tmp_path() and another for TRACK_DIR (on /dev/shm when it can be had: a
 * segment on a disk file system costs milliseconds a page).  Both are removed when the test
 * ends, whether it passes or fails: a failed assertion _exit()s the test's process without
 * the fixture's teardown, so the setup hands the directories to a small janitor process
 * (in a session of its own, out of reach of the kill Check sends to the test's process
 * group) that removes them when the test's process is gone, and the teardown has it do so
 * at once.  Background processes a test starts are in its process group: Check kills them
 * when the test ends.  A test that needs the default segment directory unsets TRACK_DIR
 * for its child ("TRACK_DIR" in extra_env). */

/* The test's own temporary directory, and a path in it (a new string each call; the test's
 * process is short-lived, so they are not freed). */
const char *tmp_dir(void);
const char *tmp_path(const char *name);
/* The one segment file in the test's TRACK_DIR (fails the test if there is none, or more
 * than one); a new string. */
char *only_segment(void);
/* A path in the run's directory, shared by all the tests of the run (for inputs made once
 * and reused), removed when the run ends. */
const char *run_path(const char *name);
/* Write text to tmp_path(name); the path. */
const char *write_tmp(const char *name, const char *text);
/* The whole file (malloc'd, NUL-terminated), or NULL if it cannot be opened. */
char *slurp_file(const char *path);

/* --- running programs ------------------------------------------------------------------------ */

struct run_result {
	int status;        /* exit status, or 128+N when killed by signal N */
	char *out;         /* captured stdout (NUL-terminated, malloc'd) */
	size_t out_len;
	char *err;         /* captured stderr */
	size_t err_len;
	long maxrss_kb;    /* the largest resident set of the process (and what it waited for) */
};

/* Run argv (argv[0] looked up in PATH) with stdin from in_path (or /dev/null), capturing
 * stdout and stderr.  extra_env: NULL-terminated "NAME=value" list added to the
 * environment ("NAME" alone removes it), or NULL.  Aborts the test if the program cannot be
 * started at all. */
void run(char *const argv[], const char *in_path, char *const extra_env[],
	 struct run_result *r);
void run_free(struct run_result *r);
/* The same as another user (uid, gid): the child drops its privileges before exec. */
void run_as(uid_t uid, gid_t gid, char *const argv[], const char *in_path,
	    char *const extra_env[], struct run_result *r);
/* `track args...` */
void run_track(char *const args[], char *const env[], struct run_result *r);

/* Run `track run --json <tmp> [opts...] -- argv...`; returns the parsed report (or NULL if
 * none was written) and fills r. */
json_t *run_track_json(char *const opts[], char *const argv[], char *const extra_env[],
		       struct run_result *r);
/* The same with the text report in tmp_path("report.txt") rather than on stderr, which is
 * then the program's own; the JSON report must have been written. */
json_t *traced(char *const opts[], char *const argv[], char *const env[],
	       struct run_result *r);

/* A program run natively and under `track run` (traced_vs_native). */
struct tvn {
	char *const *argv;
	char *const *traced_argv;  /* what runs under track when it must differ, else NULL */
	const char *in;            /* stdin of both runs (NULL: /dev/null) */
	char *const *opts;         /* more track run options, or NULL */
	char *const *env;          /* added to the environment of both runs, or NULL */
};

/* Run how->argv natively, then traced (the text report in tmp_path("report.txt")): exit
 * status, stdout and stderr must be the same byte for byte, and the JSON report must have
 * been written.  Returns it; fills nat and tr. */
json_t *traced_vs_native(const struct tvn *how, struct run_result *nat, struct run_result *tr);
/* traced_vs_native() of argv with opts and env, the native run freed; fills t with the
 * traced one. */
json_t *run_like_native(char *const argv[], char *const opts[], char *const env[],
			struct run_result *t);
/* run_like_native(), and the program exited 0 with no findings. */
json_t *run_clean(char *const argv[], char *const opts[], char *const env[],
		  struct run_result *t);

/* "LD_PRELOAD=<the shim beside the track command under test>" (a static string), and the
 * path of that shim alone. */
char *shim_preload(void);
const char *shim_path(void);
/* "TRACK_DIR=dir" (malloc'd). */
char *trackdir_env(const char *dir);
/* Debian's libjemalloc.so.2 (which .ci/setup installs); fails the test if there is none. */
const char *jemalloc_path(void);

const char *tool_path(void);
/* The argv of demo program name (build/bin/name, or $TRACK_DEMOS/name) with one argument
 * (or none: NULL); a static array, one at a time. */
char **demo_argv(const char *name, const char *arg);
/* Path of a fixture program: $TRACK_FIXTURES/name (static buffer, one at a time). */
const char *fixture(const char *name);

/* --- background processes ---------------------------------------------------------------- */

/* A child stopped (SIGSTOP) before it execs argv (argv[0] a path) with env added and its
 * stdout into out_path, so that its pid is known beforehand (to plant files under the
 * names it will use); SIGCONT lets it go on. */
pid_t stopped_child(char *const argv[], char *const env[], const char *out_path);
/* Start argv (argv[0] a path) in the background with env added; returns its pid once it
 * printed a line starting "ready" (its stdout is *out, past that line). */
pid_t start_ready(char *const argv[], char *const env[], FILE **out);
/* The same with its stdin a pipe too (*in, line-buffered), to tell it what to do next. */
pid_t start_talking(char *const argv[], char *const env[], FILE **out, FILE **in);
/* start_ready() of fixture `name args...` (args NULL-terminated, at most 14). */
pid_t start_fixture(const char *name, char *const args[], char *const env[], FILE **out);
/* start_fixture() of `fx_threads live SECONDS`: a thread waiting on a condvar that long. */
pid_t start_live(int seconds, char *const env[], FILE **out);

/* fx_blocked (tests/fixtures/blocked) in the background: threads blocked in three known
 * call chains until its stdin is closed. */
struct blocked_fx {
	pid_t pid;      /* the fixture */
	pid_t child;    /* what was started and is waited for: the fixture, or strace */
	int in;         /* its stdin: closing it ends the fixture */
	int out;        /* its stdout */
};

enum { BLOCKED_SHIM = 1, BLOCKED_STRACE = 2 };

/* Start `fx_blocked nthreads [mode]` (preloaded with the shim, or under strace -f, as how
 * says) and wait until it says "ready". */
void start_blocked(struct blocked_fx *b, int nthreads, const char *mode, int how);
/* Close its stdin and expect it to exit 0 within 30 s; the last line it printed into last
 * (unless NULL). */
void end_blocked(struct blocked_fx *b, char *last, size_t len);
/* Read one line from fd into buf within timeout_ms; 0 on success. */
int read_line(int fd, char *buf, size_t len, int timeout_ms);

/* Fails the test if a live thread of pid is in a state of forbidden (the letter of
 * /proc/PID/task/TID/stat: 't' traced stop, 'T' stopped...) or, with untraced, has a
 * tracer.  The number of live threads; the state last seen in *seen unless NULL. */
int assert_threads(pid_t pid, const char *forbidden, int untraced, char *seen);
/* Every live thread of pid is in state (e.g. 'T'). */
int all_threads_in(pid_t pid, char state);

/* Wait up to secs for pid; its status (128+N if killed by signal N), or -1 if it was still
 * running (then it is killed). */
int wait_exit(pid_t pid, int secs);

/* --- the JSON report ---------------------------------------------------------------------- */

/* The integer at a dotted path ("threads.created"), -1 if absent. */
long long jint(json_t *root, const char *path);
const char *jstr(json_t *root, const char *path);
/* The first element of array at path whose field equals value (string compare). */
json_t *jfind(json_t *root, const char *array_path, const char *field, const char *value);
/* The number of findings of kind (NULL: any) in root.findings and in other_processes. */
int count_findings(json_t *root, const char *kind);
/* Findings of every process that are errors or warnings (not informational). */
int count_serious(json_t *root);
/* Every finding (other processes' too) as compact JSON, for a failure message. */
const char *findings_text(json_t *root);
/* j as compact JSON, cut at 3000 characters, for a failure message. */
const char *dump(json_t *j);
/* thread.flags holds flag. */
int has_flag(json_t *thread, const char *flag);

/* Integers the report must hold, as "path=value path>=value path<=value ..."
 * ("threads.created=2 threads.peak>=2"): asserts each, in order, naming the path on
 * failure. */
void want_ints(json_t *root, const char *spec);
/* The same for the number of findings of each kind: "deadlock=1 double-lock=0". */
void want_findings(json_t *root, const char *spec);
/* text holds each of the strings after it (a NULL-terminated list). */
void want_text(const char *text, ...) __attribute__((sentinel));

#endif

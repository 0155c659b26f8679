/*
 * harness.h — what the Check tests share: running track (or a program) as a user would, with
 * its output captured, and reading the JSON report it wrote.
 *
 * Paths come from the environment CTest sets (see tests/CMakeLists.txt): TRACK_BIN (the
 * track command), TRACK_FIXTURES (the directory of fixture programs).
 */
#ifndef TRACK_HARNESS_H
#define TRACK_HARNESS_H

#include <jansson.h>
#include <stddef.h>

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
 * environment, or NULL.  Aborts the test if the program cannot be started at all. */
void run(char *const argv[], const char *in_path, char *const extra_env[],
	 struct run_result *r);
void run_free(struct run_result *r);
/* The same as another user (uid, gid): the child drops its privileges before exec. */
#include <sys/types.h>
void run_as(uid_t uid, gid_t gid, char *const argv[], const char *in_path,
	    char *const extra_env[], struct run_result *r);

/* Start `fx_threads live SECONDS` in the background with env added; returns its pid once
 * it printed "ready" (its stdout is *out). */
#include <stdio.h>
pid_t start_live(int seconds, char *const env[], FILE **out);

/* Run `track run --json <tmp> [opts...] -- argv...`; returns the parsed report (or NULL if
 * none was written) and fills r. */
json_t *track_run_json(char *const opts[], char *const argv[], char *const extra_env[],
		       struct run_result *r);

/* Run argv natively, then under `track run` with opts (the text report goes to a file):
 * exit status, stdout and stderr must be the same byte for byte.  Returns the JSON report
 * (asserted present) and fills t with the traced run. */
json_t *run_like_native(char *const argv[], char *const opts[], char *const env[],
			struct run_result *t);

/* The path of the preloadable shim beside the track command under test. */
const char *shim_path(void);

const char *track_bin(void);
/* Path of a fixture program: $TRACK_FIXTURES/name (static buffer, one at a time). */
const char *fixture(const char *name);
/* A fresh private temporary directory (removed at exit), and a path in it (a new string
 * each call). */
const char *tmp_dir(void);
const char *tmp_path(const char *name);

/* JSON helpers: integer at a dotted path ("threads.created"), -1 if absent. */
long long jint(json_t *root, const char *path);
const char *jstr(json_t *root, const char *path);
/* The first element of array at path whose field equals value (string compare). */
json_t *jfind(json_t *root, const char *array_path, const char *field, const char *value);
/* The number of findings of kind in root.findings (and in other_processes). */
int count_findings(json_t *root, const char *kind);

/* Run every test of s (Check's normal output); the process exit status. */
#include <check.h>
int run_suite(Suite *s);

#endif

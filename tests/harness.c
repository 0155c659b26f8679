/*
 * harness.c — running programs and reading reports for the tests (see harness.h).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

static char tmpdir[256];
static pid_t tmp_owner;

/* Only the process that made the directory removes it (Check forks a child per test). */
static void rm_tmp(void)
{
	char cmd[300];
	if (tmpdir[0] && getpid() == tmp_owner) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return;
	}
}

const char *tmp_dir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof tmpdir, "/tmp/track-test.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(tmpdir));
		tmp_owner = getpid();
		atexit(rm_tmp);
	}
	return tmpdir;
}

/* Each call returns its own string: callers keep several at once.  The test process is
 * short-lived, so they are not freed. */
const char *tmp_path(const char *name)
{
	char *p;
	ck_assert_int_ge(asprintf(&p, "%s/%s", tmp_dir(), name), 0);
	return p;
}

const char *track_bin(void)
{
	const char *b = getenv("TRACK_BIN");
	ck_assert_msg(b != NULL, "TRACK_BIN not set: run the tests through ctest");
	return b;
}

const char *fixture(const char *name)
{
	static char buf[512];
	const char *d = getenv("TRACK_FIXTURES");
	ck_assert_msg(d != NULL, "TRACK_FIXTURES not set: run the tests through ctest");
	snprintf(buf, sizeof buf, "%s/%s", d, name);
	return buf;
}

static char *slurp(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	ssize_t k;
	ck_assert_ptr_nonnull(b);
	lseek(fd, 0, SEEK_SET);
	while ((k = read(fd, b + n, cap - n - 1)) > 0) {
		n += (size_t)k;
		if (cap - n < 2) {
			cap *= 2;
			b = realloc(b, cap);
			ck_assert_ptr_nonnull(b);
		}
	}
	b[n] = '\0';
	*len = n;
	return b;
}

static int capture_fd(const char *name)
{
	int fd = open(tmp_path(name), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	return fd;
}

void run(char *const argv[], const char *in_path, char *const extra_env[], struct run_result *r)
{
	int out = capture_fd("stdout.cap"), err = capture_fd("stderr.cap"), status;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		size_t i;
		if (in < 0)
			_exit(121);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		for (i = 0; extra_env && extra_env[i]; i++)
			putenv(extra_env[i]);
		execvp(argv[0], argv);
		_exit(122);
	}
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	r->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	r->out = slurp(out, &r->out_len);
	r->err = slurp(err, &r->err_len);
	close(out);
	close(err);
	ck_assert_msg(r->status != 122, "cannot execute %s", argv[0]);
}

void run_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

json_t *track_run_json(char *const opts[], char *const argv[], char *const extra_env[],
		       struct run_result *r)
{
	char *args[128];
	const char *json = tmp_path("report.json");
	size_t n = 0, i;
	json_error_t e;
	unlink(json);
	args[n++] = (char *)track_bin();
	args[n++] = "run";
	args[n++] = "--json";
	args[n++] = (char *)json;
	for (i = 0; opts && opts[i] && n < 60; i++)
		args[n++] = opts[i];
	args[n++] = "--";
	for (i = 0; argv[i] && n < 126; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	run(args, NULL, extra_env, r);
	return json_load_file(json, 0, &e);
}

static json_t *jget(json_t *root, const char *path)
{
	char buf[256], *save = NULL, *tok;
	json_t *cur = root;
	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, tok);
	return cur;
}

long long jint(json_t *root, const char *path)
{
	json_t *v = jget(root, path);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

const char *jstr(json_t *root, const char *path)
{
	return json_string_value(jget(root, path));
}

json_t *jfind(json_t *root, const char *array_path, const char *field, const char *value)
{
	json_t *a = jget(root, array_path), *e;
	size_t i;
	json_array_foreach(a, i, e) {
		const char *s = json_string_value(json_object_get(e, field));
		if (s != NULL && strcmp(s, value) == 0)
			return e;
	}
	return NULL;
}

static int count_in(json_t *proc, const char *kind)
{
	json_t *f = json_object_get(proc, "findings"), *e;
	size_t i;
	int n = 0;
	json_array_foreach(f, i, e) {
		const char *k = json_string_value(json_object_get(e, "kind"));
		n += kind == NULL || (k != NULL && strcmp(k, kind) == 0);
	}
	return n;
}

int count_findings(json_t *root, const char *kind)
{
	json_t *others = json_object_get(root, "other_processes"), *p;
	size_t i;
	int n = count_in(root, kind);
	json_array_foreach(others, i, p)
		n += count_in(p, kind);
	return n;
}

int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

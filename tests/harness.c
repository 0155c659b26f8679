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
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

static char tmpdir[256], segdir[256];
static pid_t tmp_owner, seg_owner;

static void rm_dir(const char *dir, pid_t owner)
{
	char cmd[300];
	if (dir[0] && getpid() == owner) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return;
	}
}

/* Only the process that made a directory removes it (Check forks a child per test). */
static void rm_tmp(void)
{
	rm_dir(tmpdir, tmp_owner);
	rm_dir(segdir, seg_owner);
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

/* run(), as user uid and group gid when uid is not -1 (the child drops root first). */
void run_as(uid_t uid, gid_t gid, char *const argv[], const char *in_path,
	    char *const extra_env[], struct run_result *r)
{
	int out = capture_fd("stdout.cap"), err = capture_fd("stderr.cap"), status;
	struct rusage ru;
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
		if (uid != (uid_t)-1 &&
		    (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0))
			_exit(123);
		execvp(argv[0], argv);
		_exit(122);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		ck_assert_int_eq(errno, EINTR);
	r->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	r->maxrss_kb = ru.ru_maxrss;
	r->out = slurp(out, &r->out_len);
	r->err = slurp(err, &r->err_len);
	close(out);
	close(err);
	ck_assert_msg(r->status != 122, "cannot execute %s", argv[0]);
	ck_assert_msg(r->status != 123, "cannot become uid %d", (int)uid);
}

void run(char *const argv[], const char *in_path, char *const extra_env[], struct run_result *r)
{
	run_as((uid_t)-1, (gid_t)-1, argv, in_path, extra_env, r);
}

pid_t start_live(int seconds, char *const env[], FILE **out)
{
	int p[2];
	pid_t pid;
	char line[64];
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		char secs[16];
		size_t i;
		snprintf(secs, sizeof secs, "%d", seconds);
		dup2(p[1], 1);
		close(p[0]);
		for (i = 0; env && env[i]; i++)
			putenv(env[i]);
		execl(fixture("fx_threads"), "fx_threads", "live", secs, (char *)NULL);
		_exit(122);
	}
	close(p[1]);
	*out = fdopen(p[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof line, *out));
	ck_assert_int_eq(strncmp(line, "ready", 5), 0);
	return pid;
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

json_t *run_like_native(char *const argv[], char *const opts[], char *const env[],
			struct run_result *t)
{
	char *args[64];
	struct run_result n;
	json_t *root;
	size_t k = 0, i;
	args[k++] = "-o";
	args[k++] = (char *)tmp_path("report.txt");
	for (i = 0; opts && opts[i] && k < 62; i++)
		args[k++] = opts[i];
	args[k] = NULL;
	run(argv, NULL, env, &n);
	root = track_run_json(args, argv, env, t);
	ck_assert_msg(t->status == n.status, "%s: exit status %d natively, %d traced: %s",
		      argv[0], n.status, t->status, t->err);
	ck_assert_uint_eq(t->out_len, n.out_len);
	ck_assert_mem_eq(t->out, n.out, n.out_len);
	ck_assert_str_eq(t->err, n.err);
	run_free(&n);
	ck_assert_msg(root != NULL, "no JSON report; track said: %s", t->err);
	return root;
}

const char *shim_path(void)
{
	static char path[600];
	char dir[512];
	snprintf(dir, sizeof dir, "%s", track_bin());
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof path, "%s/../lib/libtrack.so", dir);
	return path;
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

/* Every test's segments go to a private directory of the run's, removed at the end: the
 * suites leave nothing behind, and never see segments of anything else.  It is on /dev/shm
 * (tmpfs), where the shim puts segments by default, when that can be had: on a disk file
 * system every page a segment populates costs milliseconds.  A test that needs the
 * default directory unsets TRACK_DIR for its child ("TRACK_DIR" in extra_env). */
static void private_track_dir(void)
{
	/* the run's temporary directory too, here in the runner: made in a test's child, it
	 * would never be removed (Check's children do not run atexit handlers) */
	snprintf(tmpdir, sizeof tmpdir, "/tmp/track-test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("the tests' temporary directory");
		exit(2);
	}
	tmp_owner = getpid();
	snprintf(segdir, sizeof segdir, "/dev/shm/track-test.XXXXXX");
	if (mkdtemp(segdir) == NULL) {
		snprintf(segdir, sizeof segdir, "/tmp/track-test-seg.XXXXXX");
		if (mkdtemp(segdir) == NULL) {
			perror("the tests' TRACK_DIR");
			exit(2);
		}
	}
	seg_owner = getpid();
	atexit(rm_tmp);
	if (setenv("TRACK_DIR", segdir, 1) != 0) {
		perror("the tests' TRACK_DIR");
		exit(2);
	}
}

int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;
	private_track_dir();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * harness.c — running suites, programs and fixtures, and reading reports, for the tests (see
 * harness.h).
 */
#define _GNU_SOURCE
#include <check.h>

#include "track/check.h"
#include <dirent.h>
#include <libgen.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
/* fx_read_file(), for /proc files: the fixtures read them the same way */
#include "fixtures/fx_common.h"

/* --- sanitizers ----------------------------------------------------------------------------- */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HARNESS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(HARNESS_ASAN)
/* Built with TRACK_SANITIZE: leaks are looked for in the tools the suites run, not in the
 * suites, whose processes (Check forks one per test, and its own library keeps what it
 * formats) end without freeing what a test allocated. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* --- directories ----------------------------------------------------------------------------- */

/* The run's directories, made by the runner process and removed when it exits; each test's
 * own are made inside them by the checked setup, in the test's process. */
static char run_tmp[256], run_seg[256];
static pid_t run_owner;
static char test_tmp[300], test_seg[300];
static pid_t janitor;
static int janitor_fd = -1;

/* Only the runner removes the run's directories: Check's children exit() after a test that
 * passed, running this too. */
static void remove_run_dirs(void)
{
	char cmd[600];
	if (getpid() != run_owner || !run_tmp[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", run_tmp, run_seg);
	if (system(cmd) != 0)
		fprintf(stderr, "harness: could not remove %s and %s\n", run_tmp, run_seg);
}

static void make_run_dirs(void)
{
	snprintf(run_tmp, sizeof run_tmp, "/tmp/track-test.XXXXXX");
	if (mkdtemp(run_tmp) == NULL) {
		perror("the tests' temporary directory");
		exit(2);
	}
	/* Other users may pass through to a test's directory that the test opened to them (a
	 * shared TRACK_DIR, a setuid program), not list the run's. */
	chmod(run_tmp, 0711);
	snprintf(run_seg, sizeof run_seg, "/dev/shm/track-test.XXXXXX");
	if (mkdtemp(run_seg) == NULL) {
		snprintf(run_seg, sizeof run_seg, "/tmp/track-test-seg.XXXXXX");
		if (mkdtemp(run_seg) == NULL) {
			perror("the tests' TRACK_DIR");
			exit(2);
		}
	}
	run_owner = getpid();
	atexit(remove_run_dirs);
}

/* A process of its own session (so that Check's kill of the test's process group spares
 * it) that removes the test's directories once asked to, or once the test's process is gone
 * and with it the last writer of the request pipe: a failed assertion _exit()s the test's
 * process without the teardown. */
static void start_janitor(void)
{
	int req[2], ready[2], fd;
	char c;
	ck_assert_int_eq(pipe2(req, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	janitor = fork();
	ck_assert_int_ge(janitor, 0);
	if (janitor == 0) {
		setsid();
		for (fd = 3; fd < 1024; fd++)
			if (fd != req[0] && fd != ready[1])
				close(fd);
		close(ready[1]);   /* out of the test's process group: the test may go on */
		while (read(req[0], &c, 1) < 0 && errno == EINTR)
			;
		execlp("rm", "rm", "-rf", "--", test_tmp, test_seg, (char *)NULL);
		_exit(127);
	}
	close(req[0]);
	close(ready[1]);
	while (read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	janitor_fd = req[1];
}

/* The checked fixture of every test. */
static void test_setup(void)
{
	snprintf(test_tmp, sizeof test_tmp, "%s/XXXXXX", run_tmp);
	ck_assert_msg(mkdtemp(test_tmp) != NULL, "%s: %s", test_tmp, strerror(errno));
	snprintf(test_seg, sizeof test_seg, "%s/XXXXXX", run_seg);
	ck_assert_msg(mkdtemp(test_seg) != NULL, "%s: %s", test_seg, strerror(errno));
	ck_assert_int_eq(setenv("TRACK_DIR", test_seg, 1), 0);
	start_janitor();
}

static void test_teardown(void)
{
	int st;
	if (janitor <= 0)
		return;
	signal(SIGPIPE, SIG_IGN);   /* a janitor gone already fails the write, not the test */
	ck_assert_int_eq(write(janitor_fd, "x", 1), 1);
	close(janitor_fd);
	while (waitpid(janitor, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	janitor = 0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the test's files in %s and %s could not all be removed", test_tmp, test_seg);
}

const char *tmp_dir(void)
{
	ck_assert_msg(test_tmp[0] != '\0', "tmp_dir() outside a test: run it with run_tests()");
	return test_tmp;
}

const char *tmp_path(const char *name)
{
	char *p;
	ck_assert_int_ge(asprintf(&p, "%s/%s", tmp_dir(), name), 0);
	return p;
}

const char *run_path(const char *name)
{
	char *p;
	ck_assert_msg(run_tmp[0] != '\0', "run_path() outside run_tests()");
	ck_assert_int_ge(asprintf(&p, "%s/%s", run_tmp, name), 0);
	return p;
}

const char *write_tmp(const char *name, const char *text)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* The rest of fd from its start (its offset is shared with the child that wrote it). */
static char *slurp_fd(int fd, size_t *len)
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

char *slurp_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;
	char *b;
	if (fd < 0)
		return NULL;
	b = slurp_fd(fd, &len);
	close(fd);
	return b;
}

/* --- suites ---------------------------------------------------------------------------------- */

int run_tests(const char *suite, double timeout, const struct test_def *defs, size_t n)
{
	Suite *s = suite_create(suite);
	TCase *tcs[32];
	const char *names[ARRAY_SIZE(tcs)];
	size_t ntc = 0, i, k;
	SRunner *sr;
	int failed;
	for (i = 0; i < n; i++) {
		for (k = 0; k < ntc && strcmp(names[k], defs[i].tcase) != 0; k++)
			;
		if (k == ntc) {
			if (ntc == ARRAY_SIZE(tcs)) {
				fprintf(stderr, "harness: more than %zu test cases\n", ntc);
				return EXIT_FAILURE;
			}
			names[ntc] = defs[i].tcase;
			tcs[ntc] = tcase_create(defs[i].tcase);
			tcase_set_timeout(tcs[ntc], timeout);
			tcase_add_checked_fixture(tcs[ntc], test_setup, test_teardown);
			/* The suites are linked with libtrack: no test may leave a thread
			 * of its own running (goleak's check, track/check.h). */
			track_tcase_add_leak_check(tcs[ntc]);
			suite_add_tcase(s, tcs[ntc]);
			ntc++;
		}
		if (defs[i].loop > 0)
			tcase_add_loop_test(tcs[k], defs[i].test, 0, defs[i].loop);
		else
			tcase_add_test(tcs[k], defs[i].test);
	}
	make_run_dirs();
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* --- running programs ------------------------------------------------------------------------ */

const char *tool_path(void)
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

static int capture_fd(const char *name)
{
	int fd = open(tmp_path(name), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	return fd;
}

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
	r->out = slurp_fd(out, &r->out_len);
	r->err = slurp_fd(err, &r->err_len);
	close(out);
	close(err);
	ck_assert_msg(r->status != 122, "cannot execute %s", argv[0]);
	ck_assert_msg(r->status != 123, "cannot become uid %d", (int)uid);
}

void run(char *const argv[], const char *in_path, char *const extra_env[], struct run_result *r)
{
	run_as((uid_t)-1, (gid_t)-1, argv, in_path, extra_env, r);
}

void run_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void run_track(char *const args[], char *const env[], struct run_result *r)
{
	char *argv[32];
	size_t i;
	argv[0] = (char *)tool_path();
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	run(argv, NULL, env, r);
}

static json_t *run_track_json_in(char *const opts[], char *const argv[], const char *in,
				 char *const extra_env[], struct run_result *r)
{
	char *args[128];
	const char *json = tmp_path("report.json");
	size_t n = 0, i;
	json_error_t e;
	unlink(json);
	args[n++] = (char *)tool_path();
	args[n++] = "run";
	args[n++] = "--json";
	args[n++] = (char *)json;
	for (i = 0; opts && opts[i] && n < 60; i++)
		args[n++] = opts[i];
	args[n++] = "--";
	for (i = 0; argv[i] && n < 126; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	run(args, in, extra_env, r);
	return json_load_file(json, 0, &e);
}

json_t *run_track_json(char *const opts[], char *const argv[], char *const extra_env[],
		       struct run_result *r)
{
	return run_track_json_in(opts, argv, NULL, extra_env, r);
}

/* "program first-argument", to say which run failed (leaked, as for a failure message). */
static const char *run_name(char *const argv[])
{
	const char *slash = strrchr(argv[0], '/');
	char *s;
	if (asprintf(&s, "%s %.40s", slash ? slash + 1 : argv[0], argv[1] ? argv[1] : "") < 0)
		return argv[0];
	return s;
}

/* "-o tmp_path("report.txt")" (none there yet: no earlier run's is taken for this one's) and
 * then opts, in all (room for max). */
static char **with_text_report(char *all[], size_t max, char *const opts[])
{
	size_t n = 0, i;
	all[n++] = "-o";
	all[n++] = (char *)tmp_path("report.txt");
	unlink(all[1]);
	for (i = 0; opts != NULL && opts[i] != NULL && n + 1 < max; i++)
		all[n++] = opts[i];
	all[n] = NULL;
	return all;
}

json_t *traced(char *const opts[], char *const argv[], char *const env[], struct run_result *r)
{
	char *all[64];
	json_t *root = run_track_json(with_text_report(all, ARRAY_SIZE(all), opts), argv, env, r);
	ck_assert_msg(root != NULL, "%s: no JSON report (status %d); track said: %s",
		      run_name(argv), r->status, r->err);
	return root;
}

/* Up to 40 bytes of p[from..len) for a message, non-printable bytes as \xNN. */
static const char *excerpt(const char *p, size_t len, size_t from, char *buf, size_t bufsz)
{
	size_t i, n = 0;
	buf[0] = '\0';
	for (i = from; i < len && i < from + 40 && n + 5 < bufsz; i++) {
		unsigned char c = (unsigned char)p[i];
		n += (size_t)snprintf(buf + n, bufsz - n, c >= 0x20 && c < 0x7f && c != '\\'
							  ? "%c" : "\\x%02x", c);
	}
	return buf;
}

/* The two outputs are the same bytes; else fail, showing where they part. */
static void same_bytes(const char *prog, const char *what, const char *nat, size_t nat_len,
		       const char *tr, size_t tr_len)
{
	char a[200], b[200];
	size_t d, n = nat_len < tr_len ? nat_len : tr_len;
	if (nat_len == tr_len && memcmp(nat, tr, nat_len) == 0)
		return;
	for (d = 0; d < n && nat[d] == tr[d]; d++)
		;
	ck_abort_msg("%s: %s differs under track: native %zu bytes, traced %zu bytes, first "
		     "difference at byte %zu (native: \"%s\", traced: \"%s\")", prog, what,
		     nat_len, tr_len, d, excerpt(nat, nat_len, d, a, sizeof a),
		     excerpt(tr, tr_len, d, b, sizeof b));
}

json_t *traced_vs_native(const struct tvn *how, struct run_result *nat, struct run_result *tr)
{
	char *all[64], *const *argv = how->argv;
	const char *name = run_name(argv);
	json_t *root;
	run(argv, how->in, how->env, nat);
	root = run_track_json_in(with_text_report(all, ARRAY_SIZE(all), how->opts),
				 how->traced_argv ? how->traced_argv : argv, how->in, how->env, tr);
	ck_assert_msg(tr->status == nat->status,
		      "%s: exit status %d natively, %d under track (traced stderr: %.500s)", name,
		      nat->status, tr->status, tr->err);
	same_bytes(name, "stdout", nat->out, nat->out_len, tr->out, tr->out_len);
	/* The report went to a file, so the traced stderr is the program's alone. */
	same_bytes(name, "stderr", nat->err, nat->err_len, tr->err, tr->err_len);
	ck_assert_msg(root != NULL, "%s: no JSON report; track said: %s", name, tr->err);
	return root;
}

json_t *run_like_native(char *const argv[], char *const opts[], char *const env[],
			struct run_result *t)
{
	struct run_result n;
	json_t *root = traced_vs_native(&(struct tvn){argv, NULL, NULL, opts, env}, &n, t);
	run_free(&n);
	return root;
}

json_t *run_clean(char *const argv[], char *const opts[], char *const env[],
		  struct run_result *t)
{
	json_t *root = run_like_native(argv, opts, env, t);
	const char *name = run_name(argv);
	ck_assert_msg(t->status == 0, "%s: exit status %d: %s", name, t->status, t->err);
	ck_assert_msg(count_findings(root, NULL) == 0, "%s: false findings: %s", name,
		      findings_text(root));
	return root;
}

const char *shim_path(void)
{
	static char path[600];
	char dir[512];
	snprintf(dir, sizeof dir, "%s", tool_path());
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof path, "%s/../lib/libtrack.so", dir);
	return path;
}

char *shim_preload(void)
{
	static char env[700];
	snprintf(env, sizeof env, "LD_PRELOAD=%s", shim_path());
	return env;
}

char *trackdir_env(const char *dir)
{
	char *e;
	ck_assert_int_ge(asprintf(&e, "TRACK_DIR=%s", dir), 0);
	return e;
}

const char *jemalloc_path(void)
{
	static const char *const where[] = {
		"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
		"/usr/lib/aarch64-linux-gnu/libjemalloc.so.2", "/usr/lib64/libjemalloc.so.2"};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(where); i++)
		if (access(where[i], R_OK) == 0)
			return where[i];
	ck_abort_msg("libjemalloc.so.2 not found: install Debian's libjemalloc2 (.ci/setup does)");
	return NULL;
}

/* --- background processes ---------------------------------------------------------------- */

char **demo_argv(const char *name, const char *arg)
{
	static char path[1024];
	static char *argv[3];
	const char *d = getenv("TRACK_DEMOS");
	char bin[1024];
	if (d == NULL) {
		snprintf(bin, sizeof bin, "%s", tool_path());
		d = dirname(bin);
	}
	snprintf(path, sizeof path, "%s/%s", d, name);
	argv[0] = path;
	argv[1] = (char *)arg;
	argv[2] = NULL;
	return argv;
}

char *only_segment(void)
{
	const char *dir = getenv("TRACK_DIR");
	DIR *d = opendir(dir);
	struct dirent *e;
	char *path = NULL;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "track.", 6) == 0) {
			ck_assert_msg(path == NULL, "two segments in %s", dir);
			ck_assert_int_ge(asprintf(&path, "%s/%s", dir, e->d_name), 0);
		}
	closedir(d);
	ck_assert_msg(path != NULL, "no segment in %s", dir);
	return path;
}

pid_t start_talking(char *const argv[], char *const env[], FILE **out, FILE **in)
{
	int p[2], q[2] = {-1, -1};
	pid_t pid;
	char line[64];
	ck_assert_int_eq(pipe(p), 0);
	if (in != NULL)
		ck_assert_int_eq(pipe(q), 0);
	pid = fork();
	if (pid == 0) {
		size_t i;
		dup2(p[1], 1);
		close(p[0]);
		if (in != NULL) {
			dup2(q[0], 0);
			close(q[1]);
		}
		for (i = 0; env && env[i]; i++)
			putenv(env[i]);
		execv(argv[0], argv);
		_exit(122);
	}
	close(p[1]);
	*out = fdopen(p[0], "r");
	if (in != NULL) {
		close(q[0]);
		*in = fdopen(q[1], "w");
		setvbuf(*in, NULL, _IOLBF, 0);
	}
	/* what it prints before (a fixture's addresses, say) is passed over */
	do
		ck_assert_msg(fgets(line, sizeof line, *out) != NULL, "%s never said ready",
			      argv[0]);
	while (strncmp(line, "ready", 5) != 0);
	return pid;
}

pid_t stopped_child(char *const argv[], char *const env[], const char *out_path)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		size_t i;
		dup2(fd, 1);
		for (i = 0; env[i]; i++)
			putenv(env[i]);
		raise(SIGSTOP);
		execv(argv[0], argv);
		_exit(122);
	}
	ck_assert_int_eq(waitpid(pid, NULL, WUNTRACED), pid);
	return pid;
}

pid_t start_ready(char *const argv[], char *const env[], FILE **out)
{
	return start_talking(argv, env, out, NULL);
}

pid_t start_fixture(const char *name, char *const args[], char *const env[], FILE **out)
{
	char *argv[16] = {strdup(fixture(name))};
	size_t i;
	for (i = 0; args[i] && i + 2 < ARRAY_SIZE(argv); i++)
		argv[i + 1] = args[i];
	return start_ready(argv, env, out);
}

pid_t start_live(int seconds, char *const env[], FILE **out)
{
	char secs[16];
	snprintf(secs, sizeof secs, "%d", seconds);
	return start_fixture("fx_threads", (char *[]){"live", secs, NULL}, env, out);
}

int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;
	while (n + 1 < len) {
		struct pollfd p = {fd, POLLIN, 0};
		char c;
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

/* The first child of pid (strace's: the program it traces). */
static pid_t first_child(pid_t pid)
{
	char path[64], buf[256];
	pid_t c;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
	ck_assert_msg(fx_read_file(path, buf, sizeof buf) > 0, "%d has no child", (int)pid);
	c = (pid_t)atoi(buf);
	ck_assert_int_gt(c, 0);
	return c;
}

void start_blocked(struct blocked_fx *b, int nthreads, const char *mode, int how)
{
	int in[2], out[2];
	char n[16], line[128], *pre = how & BLOCKED_SHIM ? shim_preload() : NULL;
	const char *path = fixture("fx_blocked");
	snprintf(n, sizeof n, "%d", nthreads);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	b->child = fork();
	ck_assert_int_ge(b->child, 0);
	if (b->child == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (pre != NULL)
			putenv(pre);
		if (how & BLOCKED_STRACE)
			execlp("strace", "strace", "-f", "-qq", "-o", "/dev/null", path, n, mode,
			       (char *)NULL);
		else
			execl(path, path, n, mode, (char *)NULL);
		_exit(122);
	}
	close(in[0]);
	close(out[1]);
	b->in = in[1];
	b->out = out[0];
	b->pid = b->child;
	ck_assert_msg(read_line(b->out, line, sizeof line, 60000) == 0,
		      "fx_blocked %d did not get ready", nthreads);
	ck_assert_msg(strcmp(line, "ready") == 0, "fx_blocked said %s", line);
	if (how & BLOCKED_STRACE)
		b->pid = first_child(b->child);
}

void end_blocked(struct blocked_fx *b, char *last, size_t len)
{
	int st;
	close(b->in);
	if (last != NULL)
		ck_assert_msg(read_line(b->out, last, len, 30000) == 0,
			      "fx_blocked printed nothing at exit");
	st = wait_exit(b->child, 30);
	ck_assert_msg(st != -1, "fx_blocked did not exit after its stdin was closed");
	close(b->out);
	ck_assert_msg(st == 0, "fx_blocked ended with status %d", st);
}

/* The state letter of thread tid of pid, or 0 if it is gone. */
static char thread_state(pid_t pid, const char *tid)
{
	char path[320], buf[512], *p;
	snprintf(path, sizeof path, "/proc/%d/task/%s/stat", (int)pid, tid);
	if (fx_read_file(path, buf, sizeof buf) < 0)
		return 0;
	p = strrchr(buf, ')');
	ck_assert_msg(p != NULL, "%s: %s", path, buf);
	return p[2];
}

/* The live threads of pid (those that ended meanwhile left out): their ids into tids and
 * state letters into states, up to max; how many. */
static int live_threads(pid_t pid, char tids[][16], char *states, int max)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	d = opendir(path);
	ck_assert_msg(d != NULL, "%s: %s", path, strerror(errno));
	while ((e = readdir(d)) != NULL && n < max) {
		char st;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		st = thread_state(pid, e->d_name);
		if (st == 0 || st == 'Z' || st == 'X')
			continue;
		snprintf(tids[n], sizeof tids[n], "%.15s", e->d_name);
		states[n++] = st;
	}
	closedir(d);
	return n;
}

#define MAX_THREADS 4096

int assert_threads(pid_t pid, const char *forbidden, int untraced, char *seen)
{
	static char tids[MAX_THREADS][16], states[MAX_THREADS];
	char path[320], buf[4096], *p;
	int n = live_threads(pid, tids, states, MAX_THREADS), i, live = 0;
	for (i = 0; i < n; i++) {
		ck_assert_msg(strchr(forbidden, states[i]) == NULL,
			      "thread %s of %d left in state %c", tids[i], (int)pid, states[i]);
		if (seen)
			*seen = states[i];
		snprintf(path, sizeof path, "/proc/%d/task/%s/status", (int)pid, tids[i]);
		if (untraced) {
			if (fx_read_file(path, buf, sizeof buf) < 0)
				continue;       /* ended meanwhile */
			p = strstr(buf, "TracerPid:");
			ck_assert_ptr_nonnull(p);
			ck_assert_msg(atoi(p + 10) == 0, "thread %s of %d still traced by %d",
				      tids[i], (int)pid, atoi(p + 10));
		}
		live++;
	}
	return live;
}

int all_threads_in(pid_t pid, char state)
{
	static char tids[MAX_THREADS][16], states[MAX_THREADS];
	int n = live_threads(pid, tids, states, MAX_THREADS), i;
	for (i = 0; i < n; i++)
		if (states[i] != state)
			return 0;
	return 1;
}

int wait_exit(pid_t pid, int secs)
{
	int st, i;
	for (i = 0; i < secs * 100; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		ck_assert_msg(w >= 0, "waitpid %d: %s", (int)pid, strerror(errno));
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* --- the JSON report ---------------------------------------------------------------------- */

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

/* Findings of proc of kind (NULL: any), and only those that are not informational if
 * serious. */
static int count_in(json_t *proc, const char *kind, int serious)
{
	json_t *f = json_object_get(proc, "findings"), *e;
	size_t i;
	int n = 0;
	json_array_foreach(f, i, e) {
		const char *k = json_string_value(json_object_get(e, "kind"));
		const char *sev = json_string_value(json_object_get(e, "severity"));
		n += (kind == NULL || (k != NULL && strcmp(k, kind) == 0)) &&
		     (!serious || sev == NULL || strcmp(sev, "info") != 0);
	}
	return n;
}

static int count_all(json_t *root, const char *kind, int serious)
{
	json_t *others = json_object_get(root, "other_processes"), *p;
	size_t i;
	int n = count_in(root, kind, serious);
	json_array_foreach(others, i, p)
		n += count_in(p, kind, serious);
	return n;
}

int count_findings(json_t *root, const char *kind)
{
	return count_all(root, kind, 0);
}

int count_serious(json_t *root)
{
	return count_all(root, NULL, 1);
}

/* Leaked: only ever made for a failure message, in a test's short-lived process. */
const char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (s == NULL)
		return "(null)";
	if (strlen(s) > 3000)
		strcpy(s + 2990, " ...");
	return s;
}

const char *findings_text(json_t *root)
{
	json_t *all = json_array(), *p, *e;
	size_t i, j;
	const char *s;
	json_array_foreach(json_object_get(root, "findings"), i, e)
		json_array_append(all, e);
	json_array_foreach(json_object_get(root, "other_processes"), i, p)
		json_array_foreach(json_object_get(p, "findings"), j, e)
			json_array_append(all, e);
	s = dump(all);
	json_decref(all);
	return s;
}

int has_flag(json_t *thread, const char *flag)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(thread, "flags"), i, e)
		if (strcmp(json_string_value(e), flag) == 0)
			return 1;
	return 0;
}

void want_text(const char *text, ...)
{
	va_list ap;
	const char *w;
	va_start(ap, text);
	while ((w = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(text, w) != NULL, "\"%s\" not in: %s", w, text);
	va_end(ap);
}

static long long findings_of(json_t *root, const char *kind)
{
	return count_findings(root, kind);
}

/* For each "key=value" (or key>=value, key<=value) of spec: get(root, key) compares so. */
static void want_each(json_t *root, const char *spec, long long (*get)(json_t *, const char *),
		      const char *what)
{
	char buf[1024], *save = NULL, *tok;
	ck_assert_uint_lt(strlen(spec), sizeof buf);
	strcpy(buf, spec);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *op = strpbrk(tok, "<>="), cmp;
		long long v, want;
		int ok;
		ck_assert_msg(op != NULL && (*op == '=' || op[1] == '='),
			      "no '=', '>=' or '<=' in %s", tok);
		cmp = *op;
		*op = '\0';
		want = strtoll(op + (cmp == '=' ? 1 : 2), NULL, 10);
		v = get(root, tok);
		ok = cmp == '=' ? v == want : cmp == '>' ? v >= want : v <= want;
		ck_assert_msg(ok, "%s%s is %lld, want %s%lld%s%s", tok, what, v,
			      cmp == '=' ? "" : cmp == '>' ? "at least " : "at most ", want,
			      get == findings_of ? ": " : "",
			      get == findings_of ? findings_text(root) : "");
	}
}

void want_ints(json_t *root, const char *spec)
{
	want_each(root, spec, jint, "");
}

void want_findings(json_t *root, const char *spec)
{
	want_each(root, spec, findings_of, " findings");
}

/*
 * test_cli.c — the track command as a user meets it: help and version, every kind of bad
 * input (one-line error, distinct exit status), reading a live process without stopping it,
 * reporting on and collecting segments, a program linked with -ltrack, and the segment's
 * ownership and permissions.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "track/segment.h"

static void track_cmd(char *const args[], char *const env[], struct run_result *r)
{
	char *argv[32];
	size_t i;
	argv[0] = (char *)track_bin();
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	run(argv, NULL, env, r);
}

/* One line on stderr that starts with "track: " and contains what. */
static void assert_one_line_error(const struct run_result *r, const char *what)
{
	ck_assert_msg(strncmp(r->err, "track: ", 7) == 0, "stderr: %s", r->err);
	ck_assert_msg(strchr(r->err, '\n') == r->err + r->err_len - 1, "not one line: %s", r->err);
	ck_assert_msg(strstr(r->err, what) != NULL, "'%s' not in: %s", what, r->err);
}

START_TEST(help_and_version)
{
	struct run_result r;
	track_cmd((char *[]){"--help", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "run"));
	run_free(&r);
	track_cmd((char *[]){"--version", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "track "));
	run_free(&r);
	const char *subs[] = {"run", "report", "ls", "clean"};
	for (size_t i = 0; i < 4; i++) {
		track_cmd((char *[]){(char *)subs[i], "--help", NULL}, NULL, &r);
		ck_assert_int_eq(r.status, 0);
		ck_assert_ptr_nonnull(strstr(r.out, "usage: track"));
		run_free(&r);
	}
}
END_TEST

START_TEST(bad_usage)
{
	struct run_result r;
	track_cmd((char *[]){"frobnicate", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "unknown command");
	run_free(&r);
	track_cmd((char *[]){"run", "--bogus", "--", "true", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "--bogus");
	run_free(&r);
	track_cmd((char *[]){"run", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "no program");
	run_free(&r);
	track_cmd((char *[]){"run", "--error-exitcode=0", "true", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "1 to 255");
	run_free(&r);
	track_cmd((char *[]){"report", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
	/* an option typed without its argument is named as typed */
	track_cmd((char *[]){"run", "--json", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "option --json needs an argument");
	run_free(&r);
	track_cmd((char *[]){"report", "--top", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "option --top needs an argument");
	run_free(&r);
	track_cmd((char *[]){"run", "-o", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	assert_one_line_error(&r, "option -o needs an argument");
	run_free(&r);
}
END_TEST

START_TEST(program_not_found_or_not_executable)
{
	struct run_result r;
	const char *plain = tmp_path("not-executable");
	FILE *f = fopen(plain, "w");
	fputs("hello\n", f);
	fclose(f);
	chmod(plain, 0644);
	track_cmd((char *[]){"run", "--", "/nonexistent/program", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 127);
	assert_one_line_error(&r, "/nonexistent/program");
	run_free(&r);
	track_cmd((char *[]){"run", "--", "no-such-program-anywhere", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 127);
	run_free(&r);
	track_cmd((char *[]){"run", "--", (char *)plain, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 126);
	assert_one_line_error(&r, "Permission denied");
	run_free(&r);
}
END_TEST

START_TEST(bad_report_destination)
{
	struct run_result r;
	track_cmd((char *[]){"run", "--json", "/nonexistent/dir/r.json", "--", "true", NULL}, NULL,
		  &r);
	ck_assert_int_eq(r.status, 1);
	assert_one_line_error(&r, "/nonexistent/dir/r.json");
	run_free(&r);
}
END_TEST

/* A report that cannot be written is a failure, said once, never a silent exit 0; the
 * program itself ran as usual. */
START_TEST(report_that_cannot_be_written_fails)
{
	struct run_result r;
	track_cmd((char *[]){"run", "-o", "/dev/full", "--", "/bin/echo", "ran", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "ran\n");
	assert_one_line_error(&r, "cannot write the report to /dev/full");
	run_free(&r);
	track_cmd((char *[]){"run", "--json", "/dev/full", "--", "/bin/true", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "/dev/full"));
	run_free(&r);
	/* the negative: a writable destination exits with the program's status */
	track_cmd((char *[]){"run", "-o", (char *)tmp_path("ok.txt"), "--", "/bin/true", NULL},
		  NULL, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
}
END_TEST

/* Arguments and thread names are bytes: one that is not UTF-8 keeps its place in the JSON,
 * its stray bytes written \xHH. */
START_TEST(json_keeps_bytes_that_are_not_utf8)
{
	char *argv[] = {(char *)fixture("fx_threads"), "name", "caf\xe9-\xff", "plain", NULL};
	struct run_result r;
	json_t *root = track_run_json((char *[]){"-q", NULL}, argv, NULL, &r), *a, *t;
	ck_assert_msg(root != NULL, "%s", r.err);
	a = json_object_get(json_object_get(root, "process"), "argv");
	ck_assert_int_eq(json_array_size(a), 4);
	ck_assert_str_eq(json_string_value(json_array_get(a, 2)), "caf\\xe9-\\xff");
	ck_assert_str_eq(json_string_value(json_array_get(a, 3)), "plain");
	t = jfind(root, "threads.list", "name", "caf\\xe9-\\xff");
	ck_assert_msg(t != NULL, "no thread named with the escaped bytes");
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Neither a link nor a damaged file is read as a segment: a one-line error, status 3. */
START_TEST(links_and_damaged_segments_are_refused)
{
	struct run_result r;
	struct track_seg_header h;
	const char *link = tmp_path("track.0.2.0"), *bad = tmp_path("track.0.3.0");
	int fd;
	ck_assert_int_eq(symlink("/etc/passwd", link), 0);
	track_cmd((char *[]){"report", (char *)link, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 3);
	assert_one_line_error(&r, "symbolic link");
	run_free(&r);
	/* a section offset not on a record boundary */
	memset(&h, 0, sizeof h);
	h.magic = TRACK_SEGMENT_MAGIC;
	h.version = TRACK_SEGMENT_VERSION;
	h.header_size = sizeof h;
	h.thread_rec_size = sizeof(struct track_thread_rec);
	h.obj_rec_size = sizeof(struct track_obj_rec);
	h.module_rec_size = sizeof(struct track_module_rec);
	h.finding_rec_size = sizeof(struct track_finding_rec);
	h.stack_rec_size = sizeof(struct track_stack_rec);
	h.edge_rec_size = sizeof(struct track_edge_rec);
	h.max_stacks = h.max_edges = h.max_threads = 1;
	h.total_size = 8192;
	h.threads_off = 4096 + 8;
	h.objects_off = h.modules_off = h.findings_off = h.stacks_off = h.edges_off = 4096;
	fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, &h, sizeof h), (ssize_t)sizeof h);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	close(fd);
	track_cmd((char *[]){"report", (char *)bad, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 3);
	assert_one_line_error(&r, "damaged");
	run_free(&r);
}
END_TEST

/* A program that never loads the shim: said plainly, and no undefined behaviour on the way. */
START_TEST(program_without_the_shim)
{
	struct run_result r;
	track_cmd((char *[]){"run", "--", "/bin/true", NULL}, (char *[]){"TRACK_LIB=/dev/null", NULL},
		  &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "the program left no segment"));
	run_free(&r);
}
END_TEST

START_TEST(stdin_passed_through)
{
	struct run_result r;
	const char *in = tmp_path("input.txt");
	FILE *f = fopen(in, "w");
	char *argv[] = {(char *)track_bin(), "run", "-q", "--", "sort", "-r", NULL};
	fputs("b\na\nc\n", f);
	fclose(f);
	run(argv, in, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "c\nb\na\n");
	ck_assert_str_eq(r.err, "");   /* -q: no findings, no report */
	run_free(&r);
}
END_TEST

static char preload_env[600];

static char *const *shim_env(void)
{
	static char *env[3];
	snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s", shim_path());
	env[0] = preload_env;
	env[1] = NULL;
	return env;
}

START_TEST(report_live_process)
{
	FILE *out;
	pid_t pid = start_live(3, shim_env(), &out);
	char pidstr[16], *json = (char *)tmp_path("live.json");
	struct run_result r;
	json_error_t e;
	json_t *root, *t;
	int st;
	usleep(100000);
	snprintf(pidstr, sizeof pidstr, "%d", (int)pid);
	track_cmd((char *[]){"report", "--json", json, pidstr, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	root = json_load_file(json, 0, &e);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_is_true(json_object_get(json_object_get(root, "process"), "running")));
	t = jfind(root, "threads.list", "name", "timed-waiter");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(jstr(t, "state"), "condvar");
	ck_assert_str_eq(jstr(jfind(root, "threads.list", "name", "fx_threads"), "state"), "join");
	/* the process was not stopped or disturbed: it finishes normally */
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fclose(out);
	json_decref(root);
	run_free(&r);
	/* its segment is still there for a report after exit; that report collects it */
	track_cmd((char *[]){"report", pidstr, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "threads: 1 created"));
	run_free(&r);
	track_cmd((char *[]){"report", pidstr, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 5);
	run_free(&r);
}
END_TEST

START_TEST(report_missing_process)
{
	struct run_result r;
	track_cmd((char *[]){"report", "999999999", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 5);
	assert_one_line_error(&r, "999999999");
	run_free(&r);
}
END_TEST

static void write_segment(const char *path, uint32_t version, uint64_t magic)
{
	struct track_seg_header h;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(&h, 0, sizeof h);
	h.magic = magic;
	h.version = version;
	ck_assert_int_eq(write(fd, &h, sizeof h), (ssize_t)sizeof h);
	close(fd);
}

START_TEST(segment_of_other_version)
{
	struct run_result r;
	const char *p = tmp_path("track.0.1.0");
	write_segment(p, TRACK_SEGMENT_VERSION + 1, TRACK_SEGMENT_MAGIC);
	track_cmd((char *[]){"report", (char *)p, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 3);
	assert_one_line_error(&r, "layout version");
	run_free(&r);
	write_segment(p, TRACK_SEGMENT_VERSION, 0x1234);
	track_cmd((char *[]){"report", (char *)p, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 3);
	assert_one_line_error(&r, "not a track segment");
	run_free(&r);
}
END_TEST

START_TEST(segment_of_other_user)
{
	struct run_result r;
	const char *p = tmp_path("track.65534.1.0");
	if (geteuid() != 0)
		return;   /* only root can make a file another user owns */
	write_segment(p, TRACK_SEGMENT_VERSION, TRACK_SEGMENT_MAGIC);
	ck_assert_int_eq(chown(p, 65534, 65534), 0);
	track_cmd((char *[]){"report", (char *)p, NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 4);
	assert_one_line_error(&r, "belongs to uid 65534");
	run_free(&r);
}
END_TEST

START_TEST(segment_is_private_and_collected)
{
	char direnv[600], *env[2];
	const char *dir = tmp_path("segs");
	struct run_result r;
	FILE *out;
	pid_t pid;
	char seg[700];
	struct stat st;
	int status;
	mkdir(dir, 0700);
	snprintf(direnv, sizeof direnv, "TRACK_DIR=%s", dir);
	env[0] = direnv;
	env[1] = NULL;
	putenv(preload_env[0] ? preload_env : (char *)shim_env()[0]);
	pid = start_live(1, env, &out);
	snprintf(seg, sizeof seg, "%s/track.%u.%d.0", dir, (unsigned)geteuid(), (int)pid);
	ck_assert_int_eq(lstat(seg, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_uid, geteuid());
	track_cmd((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "running"));
	run_free(&r);
	track_cmd((char *[]){"clean", NULL}, env, &r);   /* still running: kept */
	ck_assert_int_eq(access(seg, F_OK), 0);
	run_free(&r);
	waitpid(pid, &status, 0);
	fclose(out);
	track_cmd((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "ended"));
	run_free(&r);
	track_cmd((char *[]){"clean", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "removed"));
	ck_assert_int_eq(access(seg, F_OK), -1);
	run_free(&r);
}
END_TEST

START_TEST(run_leaves_no_segment_behind)
{
	char direnv[600], *env[2];
	const char *dir = tmp_path("segs2");
	struct run_result r;
	mkdir(dir, 0700);
	snprintf(direnv, sizeof direnv, "TRACK_DIR=%s", dir);
	env[0] = direnv;
	env[1] = NULL;
	track_cmd((char *[]){"run", "-q", "--", (char *)fixture("fx_threads"), "fork", NULL}, env,
		  &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	track_cmd((char *[]){"ls", NULL}, env, &r);
	ck_assert_str_eq(r.out, "no segments\n");
	run_free(&r);
	track_cmd((char *[]){"run", "-q", "--keep", "--", "true", NULL}, env, &r);
	run_free(&r);
	track_cmd((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "ended"));
	run_free(&r);
}
END_TEST

START_TEST(linked_program)
{
	char direnv[600], *env[2];
	const char *dir = tmp_path("segs3");
	char *argv[] = {(char *)fixture("fx_linked"), NULL};
	struct run_result r;
	char seg[700], *json = (char *)tmp_path("linked.json");
	json_error_t e;
	json_t *root;
	mkdir(dir, 0700);
	snprintf(direnv, sizeof direnv, "TRACK_DIR=%s", dir);
	env[0] = direnv;
	env[1] = NULL;
	run(argv, NULL, env, &r);   /* no LD_PRELOAD: the shim is linked in */
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "counter 3000\n");
	run_free(&r);
	track_cmd((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "fx_linked"));
	run_free(&r);
	snprintf(seg, sizeof seg, "%s", dir);
	track_cmd((char *[]){"ls", NULL}, env, &r);
	run_free(&r);
	{
		char cmd[800];
		FILE *p;
		snprintf(cmd, sizeof cmd, "ls %s/track.*", dir);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(fgets(seg, sizeof seg, p));
		pclose(p);
		seg[strcspn(seg, "\n")] = '\0';
	}
	track_cmd((char *[]){"report", "--json", json, seg, NULL}, env, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	root = json_load_file(json, 0, &e);
	ck_assert_int_eq(jint(root, "threads.created"), 3);
	ck_assert_int_eq(jint(root, "threads.joined"), 3);
	ck_assert_int_eq(jint(json_array_get(json_object_get(root, "locks"), 0), "acquisitions"),
			 3000);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(existing_preload_kept)
{
	/* A program run under track with another LD_PRELOAD keeps both. */
	char *env[] = {"LD_PRELOAD=libc.so.6", NULL};
	char *argv[] = {"sh", "-c", "echo \"$LD_PRELOAD\"", NULL};
	struct run_result r;
	json_t *root = track_run_json((char *[]){"-q", NULL}, argv, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "libtrack.so:libc.so.6"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(installed_track_finds_installed_shim)
{
	const char *prefix = tmp_path("prefix");
	char *cmd, *track, *json = (char *)tmp_path("inst.json");
	struct run_result r;
	json_error_t e;
	json_t *root;
	char *argv[] = {NULL, "run", "--json", json, "-q", "--", "true", NULL};
	/* The LD_PRELOAD the program saw is the installed library, not the build's. */
	char *argv2[] = {NULL, "run", "-q", "--", "sh", "-c", "echo $LD_PRELOAD", NULL};
	ck_assert_int_ge(asprintf(&cmd, "'%s' --install '%s' --prefix '%s' >/dev/null",
				  getenv("TRACK_CMAKE"), getenv("TRACK_BUILD_DIR"), prefix), 0);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_ge(asprintf(&track, "%s/bin/track", prefix), 0);
	argv[0] = track;
	run(argv, NULL, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	root = json_load_file(json, 0, &e);
	ck_assert_ptr_nonnull(root);
	json_decref(root);
	run_free(&r);
	argv2[0] = track;
	run(argv2, NULL, NULL, &r);
	ck_assert_msg(strstr(r.out, prefix) == r.out, "preloaded %s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "/lib/libtrack.so"));
	run_free(&r);
	free(cmd);
	free(track);
}
END_TEST

/* A library preloaded after the shim runs its constructor first: its thread, mutex,
 * condvar and semaphore calls arrive before the shim is set up and are served as glibc
 * serves them; and backtrace() stays glibc's: the shim exports no unwinder of its own. */
START_TEST(calls_before_the_shim_is_up)
{
	char *lib, *script;
	char *native[] = {"sh", "-c", NULL, NULL};
	struct run_result n, t;
	json_t *root;
	ck_assert_int_ge(asprintf(&lib, "%s", fixture("libfx_early.so")), 0);
	ck_assert_int_ge(asprintf(&script, "LD_PRELOAD=\"${LD_PRELOAD:+$LD_PRELOAD:}%s\" exec %s exit 0",
				  lib, fixture("fx_threads")), 0);
	native[2] = script;
	run(native, NULL, NULL, &n);
	ck_assert_str_eq(n.out, "early: rc=0 backtrace=1 from=libc\nexiting with 0\n");
	root = track_run_json((char *[]){"-q", NULL}, native, NULL, &t);
	ck_assert_int_eq(t.status, 0);
	ck_assert_str_eq(t.out, n.out);
	ck_assert_ptr_nonnull(root);
	/* the early thread came before the shim: only the program's own thread is counted */
	ck_assert_int_eq(jint(root, "threads.created"), 1);
	ck_assert_int_eq(count_findings(root, NULL), 0);
	json_decref(root);
	run_free(&n);
	run_free(&t);
	free(lib);
	free(script);
}
END_TEST

/* A lock first used in a library loaded with dlopen, reported after dlclose and exit: the
 * module map was taken again when its code appeared, so the site is still named. */
START_TEST(dlopened_code_is_named)
{
	char *argv[] = {strdup(fixture("fx_dlopen")), strdup(fixture("libfx_plugin.so")), NULL};
	struct run_result r;
	json_t *root, *l;
	root = track_run_json((char *[]){"-q", NULL}, argv, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	l = json_array_get(json_object_get(root, "locks"), 0);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(jint(l, "acquisitions"), 2);
	ck_assert_str_eq(jstr(l, "first_use.function"), "plugin_work");
	ck_assert_ptr_nonnull(strstr(jstr(l, "first_use.module"), "libfx_plugin.so"));
	json_decref(root);
	run_free(&r);
	free(argv[0]);
	free(argv[1]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, bad_usage);
	tcase_add_test(tc, program_not_found_or_not_executable);
	tcase_add_test(tc, bad_report_destination);
	tcase_add_test(tc, report_that_cannot_be_written_fails);
	tcase_add_test(tc, json_keeps_bytes_that_are_not_utf8);
	tcase_add_test(tc, links_and_damaged_segments_are_refused);
	tcase_add_test(tc, program_without_the_shim);
	tcase_add_test(tc, stdin_passed_through);
	tcase_add_test(tc, report_live_process);
	tcase_add_test(tc, report_missing_process);
	tcase_add_test(tc, segment_of_other_version);
	tcase_add_test(tc, segment_of_other_user);
	tcase_add_test(tc, segment_is_private_and_collected);
	tcase_add_test(tc, run_leaves_no_segment_behind);
	tcase_add_test(tc, linked_program);
	tcase_add_test(tc, existing_preload_kept);
	tcase_add_test(tc, installed_track_finds_installed_shim);
	tcase_add_test(tc, calls_before_the_shim_is_up);
	tcase_add_test(tc, dlopened_code_is_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite());
}

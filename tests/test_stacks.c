/*
 * test_stacks.c — `track stacks` as a user runs it: 100 threads blocked in three known call
 * chains (tests/fixtures/blocked/fx_blocked.c, built -O2 without frame pointers), with and
 * without the shim; grouping counts, function names, the shim's annotations, --json,
 * --no-stop, bad input, a process that already has a tracer, and the target left running.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

struct target {
	pid_t pid;      /* the fixture (or its tracer's child) */
	pid_t child;    /* what we wait for */
	int in;         /* its stdin: closing it ends the fixture */
};

/* Start fx_blocked N (optionally preloaded, optionally under strace) and wait for "ready". */
static struct target start_blocked(int n, int shim, int traced)
{
	struct target tg;
	int in[2], out[2];
	char line[64], num[16];
	FILE *f;
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	snprintf(num, sizeof num, "%d", n);
	tg.child = fork();
	ck_assert_int_ge(tg.child, 0);
	if (tg.child == 0) {
		char lib[600];
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (shim) {
			snprintf(lib, sizeof lib, "LD_PRELOAD=%s", track_bin());
			*strrchr(lib, '/') = '\0';
			strcat(lib, "/../lib/libtrack.so");
			putenv(lib);
		}
		if (traced)
			execlp("strace", "strace", "-f", "-qq", "-o", "/dev/null",
			       fixture("fx_blocked"), num, (char *)NULL);
		else
			execl(fixture("fx_blocked"), "fx_blocked", num, (char *)NULL);
		_exit(122);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	ck_assert_msg(strncmp(line, "ready", 5) == 0, "fixture said %s", line);
	fclose(f);
	tg.in = in[1];
	tg.pid = tg.child;
	if (traced) {
		/* the fixture is strace's child */
		char cmd[64];
		FILE *p;
		snprintf(cmd, sizeof cmd, "pgrep -P %d", (int)tg.child);
		p = popen(cmd, "r");
		ck_assert_int_eq(fscanf(p, "%d", &tg.pid), 1);
		pclose(p);
	}
	return tg;
}

/* No thread of pid is left stopped; then end it and check it exits 0. */
static void finish(struct target *tg)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int status;
	snprintf(path, sizeof path, "/proc/%d/task", (int)tg->pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char stat[384], buf[256], *p;
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(stat, sizeof stat, "%s/%s/stat", path, e->d_name);
		f = fopen(stat, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) != NULL)
			ck_assert_msg(p[2] != 't' && p[2] != 'T', "thread %s left stopped",
				      e->d_name);
		fclose(f);
	}
	closedir(d);
	close(tg->in);
	ck_assert_int_eq(waitpid(tg->child, &status, 0), tg->child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

static void stacks_env(pid_t pid, const char *opt, char *const env[], struct run_result *r)
{
	char num[16];
	char *argv[] = {(char *)track_bin(), "stacks", (char *)opt, num, NULL};
	snprintf(num, sizeof num, "%d", (int)pid);
	if (opt == NULL) {
		argv[2] = num;
		argv[3] = NULL;
	}
	run(argv, NULL, env, r);
}

static void stacks(pid_t pid, const char *opt, struct run_result *r)
{
	stacks_env(pid, opt, NULL, r);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The three chains, grouped with the right counts (100 threads: 34, 33, 33) and named. */
static void assert_chains(const char *out)
{
	ck_assert_msg(strstr(out, "34 threads with this stack") != NULL, "%s", out);
	ck_assert_int_eq(count(out, "33 threads with this stack"), 2);
	ck_assert_ptr_nonnull(strstr(out, "fx_a3"));
	ck_assert_ptr_nonnull(strstr(out, "fx_a2"));
	ck_assert_ptr_nonnull(strstr(out, "fx_chain_a"));
	ck_assert_ptr_nonnull(strstr(out, "fx_b2"));
	ck_assert_ptr_nonnull(strstr(out, "fx_chain_b"));
	ck_assert_ptr_nonnull(strstr(out, "fx_chain_c"));
	/* callees before callers */
	ck_assert(strstr(out, "fx_a3") < strstr(out, "fx_a2"));
	ck_assert(strstr(out, "fx_a2") < strstr(out, "fx_chain_a"));
}

START_TEST(grouped_without_shim)
{
	struct target tg = start_blocked(100, 0, 0);
	struct run_result r;
	stacks(tg.pid, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, ": 101 threads"));
	ck_assert_ptr_nonnull(strstr(r.out, "no track segment"));
	/* blocked threads are read where they sleep: nothing needs stopping */
	ck_assert_ptr_nonnull(strstr(r.out, "no thread was stopped"));
	assert_chains(r.out);
	run_free(&r);
	finish(&tg);
}
END_TEST

START_TEST(grouped_and_annotated_with_shim)
{
	struct target tg = start_blocked(100, 1, 0);
	struct run_result r;
	stacks(tg.pid, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	assert_chains(r.out);
	/* chain c waits for the mutex main holds; chain a waits on a condvar */
	ck_assert_int_eq(count(r.out, "blocked on mutex"), 33);
	ck_assert_int_eq(count(r.out, "waiting on condvar"), 34);
	ck_assert_ptr_nonnull(strstr(r.out, "held by thread"));
	ck_assert_ptr_nonnull(strstr(r.out, "created by thread"));
	/* the shim's own frames are not shown */
	ck_assert_ptr_null(strstr(r.out, "trampoline"));
	ck_assert_ptr_null(strstr(r.out, "mutex_wait"));
	run_free(&r);
	finish(&tg);
}
END_TEST

START_TEST(json_and_all)
{
	struct target tg = start_blocked(100, 0, 0);
	struct run_result r;
	json_error_t e;
	json_t *root, *g;
	size_t i, total = 0, biggest = 0;
	stacks(tg.pid, "--json", &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	root = json_loads(r.out, 0, &e);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(jint(root, "threads"), 101);
	ck_assert(json_is_true(json_object_get(root, "stopped")));
	ck_assert_int_eq(jint(root, "threads_stopped"), 0);
	ck_assert_int_eq(jint(root, "max_thread_stop_ns"), 0);
	json_array_foreach(json_object_get(root, "groups"), i, g) {
		size_t c = (size_t)jint(g, "count");
		total += c;
		if (c > biggest)
			biggest = c;
	}
	ck_assert_int_eq(total, 101);
	ck_assert_int_eq(biggest, 34);
	json_decref(root);
	run_free(&r);
	stacks(tg.pid, "--all", &r);
	ck_assert_ptr_null(strstr(r.out, "threads with this stack"));
	ck_assert_int_eq(count(r.out, "\nthread "), 101);
	run_free(&r);
	finish(&tg);
}
END_TEST

START_TEST(no_stop_shows_recorded_stacks)
{
	struct target tg = start_blocked(100, 1, 0);
	struct run_result r;
	stacks(tg.pid, "--no-stop", &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "nothing was stopped"));
	/* chain a, chain c, and one group for every thread without a recorded stack */
	ck_assert_msg(strstr(r.out, ": 101 threads, 3 groups") != NULL, "%s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "34 threads with this stack"));
	ck_assert_ptr_nonnull(strstr(r.out, "33 threads with this stack"));
	ck_assert_ptr_nonnull(strstr(r.out, "fx_chain_a"));
	ck_assert_ptr_nonnull(strstr(r.out, "fx_chain_c"));
	/* chain b is in read(), not a wrapped wait: no recorded stack, and it says so */
	ck_assert_ptr_nonnull(strstr(r.out, "with no recorded stack"));
	run_free(&r);
	finish(&tg);
}
END_TEST

START_TEST(no_stop_needs_the_shim)
{
	struct target tg = start_blocked(3, 0, 0);
	struct run_result r;
	stacks(tg.pid, "--no-stop", &r);
	ck_assert_int_eq(r.status, 5);
	ck_assert_ptr_nonnull(strstr(r.err, "no track segment"));
	run_free(&r);
	finish(&tg);
}
END_TEST

START_TEST(stopping_every_thread)
{
	char *env[] = {"TRACK_STACKS_STOP_ALL=1", NULL};
	struct target tg = start_blocked(100, 0, 0);
	struct run_result r;
	json_error_t e;
	json_t *root;
	stacks_env(tg.pid, "--json", env, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	root = json_loads(r.out, 0, &e);
	ck_assert_int_eq(jint(root, "threads_stopped"), 101);
	ck_assert_int_ge(jint(root, "max_thread_stop_ns"), 1);
	json_decref(root);
	run_free(&r);
	stacks_env(tg.pid, NULL, env, &r);
	assert_chains(r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "101 of 101 threads were stopped, one at a time"));
	run_free(&r);
	finish(&tg);
}
END_TEST

/* Another tracer (strace) is attached: refused at once, saying who traces it. */
START_TEST(already_traced)
{
	struct target tg;
	struct run_result r;
	if (system("command -v strace >/dev/null") != 0)
		return;
	tg = start_blocked(3, 0, 1);
	stacks(tg.pid, NULL, &r);
	ck_assert_int_eq(r.status, 4);
	ck_assert_msg(strncmp(r.err, "track: ", 7) == 0 && strstr(r.err, "already traced by") &&
			      strstr(r.err, "strace"),
		      "%s", r.err);
	run_free(&r);
	finish(&tg);
}
END_TEST

START_TEST(bad_input)
{
	struct run_result r;
	char *a1[] = {(char *)track_bin(), "stacks", "999999999", NULL};
	char *a2[] = {(char *)track_bin(), "stacks", "abc", NULL};
	char *a3[] = {(char *)track_bin(), "stacks", NULL};
	run(a1, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 5);
	ck_assert_ptr_nonnull(strstr(r.err, "no process 999999999"));
	run_free(&r);
	run(a2, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
	run(a3, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("stacks");
	TCase *tc = tcase_create("cli");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, grouped_without_shim);
	tcase_add_test(tc, grouped_and_annotated_with_shim);
	tcase_add_test(tc, json_and_all);
	tcase_add_test(tc, no_stop_shows_recorded_stacks);
	tcase_add_test(tc, no_stop_needs_the_shim);
	tcase_add_test(tc, stopping_every_thread);
	tcase_add_test(tc, already_traced);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite());
}

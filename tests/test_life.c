/*
 * test_life.c — what becomes of segments (README, "Segments"): the shim removes the segment
 * of a clean exit() and keeps one with evidence (findings, threads alive at exit, a reader,
 * TRACK_KEEP); track ls says how old each is, truly (a bound when the end was not recorded),
 * sorts them and prints JSON; track clean --older-than and the sweep of TRACK_SWEEP_AFTER
 * remove the segments of processes that ended long enough ago, never a running process's
 * nor one being read.
 *
 * Ages are made, not waited for: a segment is made old by moving the times in its header
 * back (start_realtime_ns, from which its end is counted, or the gone_realtime_ns a track
 * command wrote), as a process that ended days ago would have left them.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/segread.h"
#include "harness.h"
#include "track/segment.h"

#define DAY_NS (86400ull * 1000000000ull)

/* A new directory of the test's for segments. */
static const char *new_dir(const char *name)
{
	const char *dir = tmp_path(name);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	return dir;
}

/* The environment of a traced program (or, tools = 1, of a track command) using dir, with
 * up to two more variables (NULL: none). */
static char **env_for(const char *dir, int tools, char *a, char *b)
{
	char **env = calloc(5, sizeof *env);
	size_t n = 0;
	ck_assert_ptr_nonnull(env);
	if (!tools)
		env[n++] = shim_preload();
	env[n++] = trackdir_env(dir);
	if (a != NULL)
		env[n++] = a;
	if (a != NULL && b != NULL)
		env[n++] = b;
	return env;
}

/* Segment files (track.*) in dir. */
static int nsegs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "track.", 6) == 0;
	closedir(d);
	return n;
}

/* The path of the segment of pid's first image in dir, into path. */
static void pid_seg(const char *dir, pid_t pid, char *path, size_t len)
{
	snprintf(path, len, "%s/track.%u.%d.0", dir, (unsigned)geteuid(), (int)pid);
}

/* fx_threads SCENARIO ARG, traced with env; it must exit 0. */
static void run_fx(const char *scenario, const char *arg, char **env)
{
	char *argv[] = {(char *)fixture("fx_threads"), (char *)scenario, (char *)arg, NULL};
	struct run_result r;
	run(argv, NULL, env, &r);
	ck_assert_msg(r.status == 0, "fx_threads %s: status %d: %s", scenario, r.status, r.err);
	run_free(&r);
}

/* cat, traced with its segment in dir, reading a pipe: it ends with exit() once *in is
 * closed, having started no thread and met no lock.  Returns its pid once its segment
 * (path) can be read. */
static pid_t start_cat(const char *dir, int *in, char *path, size_t len)
{
	char **env = env_for(dir, 0, NULL, NULL);
	struct track_snap s;
	char err[512];
	int p[2], i;
	pid_t pid;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[0], 0);
		for (i = 0; env[i] != NULL; i++)
			putenv(env[i]);
		execlp("cat", "cat", (char *)NULL);
		_exit(122);
	}
	close(p[0]);
	*in = p[1];
	pid_seg(dir, pid, path, len);
	for (i = 0; i < 3000 && track_snap_load(path, &s, err, sizeof err) != 0; i++)
		usleep(10000);
	ck_assert_msg(i < 3000, "cat's segment never became readable: %s", err);
	track_snap_free(&s);
	return pid;
}

/* `track ls --json` with env: the array it printed. */
static json_t *ls_json(char **env)
{
	struct run_result r;
	json_error_t e;
	json_t *a;
	run_track((char *[]){"ls", "--json", NULL}, env, &r);
	ck_assert_msg(r.status == 0, "track ls --json: %s", r.err);
	a = json_loads(r.out, 0, &e);
	ck_assert_msg(json_is_array(a), "track ls --json printed: %s", r.out);
	run_free(&r);
	return a;
}

/* The entry of the listing whose argv[1] is arg (and, gen >= 0, of that generation). */
static json_t *entry(json_t *list, const char *arg, int gen)
{
	json_t *e;
	size_t i;
	json_array_foreach(list, i, e) {
		const char *a = json_string_value(json_array_get(json_object_get(e, "argv"), 1));
		if (a != NULL && strcmp(a, arg) == 0 && (gen < 0 || jint(e, "exec_generation") == gen))
			return e;
	}
	ck_abort_msg("no segment of '%s' (generation %d) in %s", arg, gen, dump(list));
	return NULL;
}

/* Move the time at offset off of the header of the segment at path back by ns. */
static void move_back(const char *path, size_t off, uint64_t ns)
{
	uint64_t t;
	int fd = open(path, O_RDWR);
	ck_assert_msg(fd >= 0, "%s", path);
	ck_assert_int_eq(pread(fd, &t, sizeof t, (off_t)off), (ssize_t)sizeof t);
	ck_assert_msg(t > ns, "%s: the time at %zu is %llu", path, off, (unsigned long long)t);
	t -= ns;
	ck_assert_int_eq(pwrite(fd, &t, sizeof t, (off_t)off), (ssize_t)sizeof t);
	close(fd);
}

/* Make the segment at path as if its process started (and so ended) days ago. */
static void age_days(const char *path, unsigned days)
{
	move_back(path, offsetof(struct track_seg_header, start_realtime_ns), days * DAY_NS);
}

/* fx_threads live 30, traced with env, its start moved back days: a process running for
 * that long.  Its pid; its segment into path. */
static pid_t start_old_live(const char *dir, char **env, unsigned days, FILE **out,
			    char *path, size_t len)
{
	pid_t pid = start_live(30, env, out);
	pid_seg(dir, pid, path, len);
	age_days(path, days);
	return pid;
}

static const char *seg_path(json_t *e)
{
	const char *p = jstr(e, "segment");
	ck_assert_ptr_nonnull(p);
	return p;
}

/* `track args...` with env exits 0; its output is in r. */
static void track_ok(char *const args[], char **env, struct run_result *r)
{
	run_track(args, env, r);
	ck_assert_msg(r->status == 0, "track %s: status %d: %s", args[0], r->status, r->err);
}

/* --- the shim at exit ------------------------------------------------------------------- */

START_TEST(a_clean_exit_leaves_nothing)
{
	const char *dir = new_dir("segs");
	json_t *l;
	run_fx("exit", "0", env_for(dir, 0, NULL, NULL));
	ck_assert_int_eq(nsegs(dir), 0);
	run_fx("exit", "0", env_for(dir, 0, "TRACK_KEEP=0", NULL));
	ck_assert_int_eq(nsegs(dir), 0);
	/* the negative: asked to keep it, it stays, and its end is known */
	run_fx("exit", "0", env_for(dir, 0, "TRACK_KEEP=1", NULL));
	ck_assert_int_eq(nsegs(dir), 1);
	l = ls_json(env_for(dir, 1, NULL, NULL));
	ck_assert_str_eq(jstr(entry(l, "exit", 0), "state"), "ended");
	ck_assert(json_is_integer(json_object_get(entry(l, "exit", 0), "end_unix_ns")));
	ck_assert(json_is_false(json_object_get(entry(l, "exit", 0), "age_at_least")));
	json_decref(l);
}
END_TEST

/* A process that execs: its earlier image's segment goes with the last one's, or stays with
 * it.  The earlier image's end is the later one's start, at the latest. */
START_TEST(exec_images_go_together)
{
	const char *dir = new_dir("segs");
	char *cmd, *argv[] = {"sh", "-c", NULL, NULL};
	struct run_result r;
	json_t *l, *first, *second;
	ck_assert_int_ge(asprintf(&cmd, "exec %s exit 0", fixture("fx_threads")), 0);
	argv[2] = cmd;
	run(argv, NULL, env_for(dir, 0, NULL, NULL), &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	ck_assert_int_eq(nsegs(dir), 0);
	run(argv, NULL, env_for(dir, 0, "TRACK_KEEP=1", NULL), &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	ck_assert_int_eq(nsegs(dir), 2);
	l = ls_json(env_for(dir, 1, NULL, NULL));
	first = entry(l, "-c", 0);
	second = entry(l, "exit", 1);
	ck_assert_int_eq(jint(first, "pid"), jint(second, "pid"));
	ck_assert_str_eq(jstr(first, "state"), "ended");
	ck_assert(json_is_null(json_object_get(first, "end_unix_ns")));
	ck_assert_int_eq(jint(first, "ended_by_unix_ns"), jint(second, "start_unix_ns"));
	ck_assert(json_is_true(json_object_get(first, "age_at_least")));
	json_decref(l);
	free(cmd);
}
END_TEST

START_TEST(evidence_is_kept)
{
	const char *dir = new_dir("segs");
	char *argv[] = {strdup(fixture("fx_sync")), "misuse", NULL};   /* fixture(): one at a time */
	struct run_result r;
	json_t *l;
	/* threads still alive at exit */
	run_fx("leak", NULL, env_for(dir, 0, NULL, NULL));
	ck_assert_int_eq(nsegs(dir), 1);
	/* findings */
	run(argv, NULL, env_for(dir, 0, NULL, NULL), &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	ck_assert_int_eq(nsegs(dir), 2);
	l = ls_json(env_for(dir, 1, NULL, NULL));
	ck_assert_int_eq(jint(entry(l, "leak", 0), "threads_alive"), 3);
	ck_assert_int_eq(jint(entry(l, "leak", 0), "findings"), 0);
	ck_assert_int_gt(jint(entry(l, "misuse", 0), "findings"), 0);
	json_decref(l);
	/* the negative, with the same fixture: every thread joined, no finding */
	run_fx("exit", "0", env_for(dir, 0, NULL, NULL));
	ck_assert_int_eq(nsegs(dir), 2);
}
END_TEST

/* A process that ends while a track command reads its segment leaves it: whoever watched
 * it wants its end too. */
START_TEST(a_segment_being_read_is_kept)
{
	const char *dir = new_dir("segs");
	char **tools = env_for(dir, 1, NULL, NULL);
	char err[512], path[TRACK_SEGFILE_PATH_MAX];
	struct track_snap s;
	struct run_result r;
	int in;
	pid_t pid = start_cat(dir, &in, path, sizeof path);
	ck_assert_msg(track_snap_load(path, &s, err, sizeof err) == 0, "%s", err);
	close(in);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* and while it is read, track clean leaves it too */
	track_ok((char *[]){"clean", NULL}, tools, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "a track command is reading it"));
	ck_assert_int_eq(access(path, F_OK), 0);
	run_free(&r);
	track_snap_free(&s);
	track_ok((char *[]){"clean", NULL}, tools, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "removed"));
	run_free(&r);
	ck_assert_int_eq(nsegs(dir), 0);
	/* the negative: nobody reading, the same exit leaves nothing */
	pid = start_cat(dir, &in, path, sizeof path);
	close(in);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	ck_assert_int_eq(nsegs(dir), 0);
}
END_TEST

/* --- ages, the sweep, clean --older-than --------------------------------------------------- */

/* Whether child pid, killed, becomes a zombie (ended, not reaped) within 30 s. */
static int becomes_zombie(pid_t pid)
{
	char path[64], buf[512];
	const char *p;
	int i;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (i = 0; i < 3000; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f != NULL)
			fclose(f);
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
			return 1;
		usleep(10000);
	}
	return 0;
}

/* A killed process recorded no end: track ls says it ended by the time a track command first
 * found it gone, and every later listing counts from that same moment. */
START_TEST(a_killed_process_has_a_bound_not_an_end)
{
	const char *dir = new_dir("segs");
	char **tools = env_for(dir, 1, NULL, NULL);
	FILE *out;
	pid_t pid = start_live(30, env_for(dir, 0, NULL, NULL), &out);
	json_t *l, *e;
	long long bound;
	l = ls_json(tools);
	e = entry(l, "live", 0);
	ck_assert_str_eq(jstr(e, "state"), "running");
	ck_assert(json_is_null(json_object_get(e, "ended_by_unix_ns")));
	json_decref(l);
	kill(pid, SIGKILL);
	ck_assert_msg(becomes_zombie(pid), "%d never ended", (int)pid);
	/* ended, though not reaped yet */
	l = ls_json(tools);
	e = entry(l, "live", 0);
	ck_assert_str_eq(jstr(e, "state"), "ended");
	ck_assert(json_is_null(json_object_get(e, "end_unix_ns")));
	ck_assert(json_is_true(json_object_get(e, "age_at_least")));
	bound = jint(e, "ended_by_unix_ns");
	ck_assert_int_gt(bound, jint(e, "start_unix_ns"));
	json_decref(l);
	ck_assert_int_eq(wait_exit(pid, 30), 128 + SIGKILL);
	fclose(out);
	l = ls_json(tools);
	ck_assert_int_eq(jint(entry(l, "live", 0), "ended_by_unix_ns"), bound);
	json_decref(l);
}
END_TEST

START_TEST(the_sweep_takes_only_old_ended_segments)
{
	const char *dir = new_dir("segs");
	char **keep = env_for(dir, 0, "TRACK_KEEP=1", NULL);
	char **tools = env_for(dir, 1, NULL, NULL);
	char path[TRACK_SEGFILE_PATH_MAX], old[TRACK_SEGFILE_PATH_MAX];
	struct run_result r;
	json_t *l;
	FILE *out;
	pid_t pid;
	run_fx("exit", "0", keep);
	run_fx("lifecycle", "2", keep);
	l = ls_json(env_for(dir, 1, "TRACK_SWEEP_AFTER=off", NULL));
	snprintf(old, sizeof old, "%s", seg_path(entry(l, "exit", 0)));
	json_decref(l);
	age_days(old, 5);
	pid = start_old_live(dir, keep, 5, &out, path, sizeof path);

	/* off: nothing swept; a bad value is said, and nothing swept either */
	track_ok((char *[]){"ls", NULL}, env_for(dir, 1, "TRACK_SWEEP_AFTER=off", NULL), &r);
	ck_assert_str_eq(r.err, "");
	run_free(&r);
	track_ok((char *[]){"ls", NULL}, env_for(dir, 1, "TRACK_SWEEP_AFTER=3", NULL), &r);
	ck_assert_msg(strncmp(r.err, "track: TRACK_SWEEP_AFTER='3' is not a duration", 46) == 0 &&
		      strchr(r.err, '\n') == r.err + r.err_len - 1, "%s", r.err);
	run_free(&r);
	ck_assert_int_eq(nsegs(dir), 3);
	/* the default, 3 days: the one that ended 5 days ago goes, and it is said */
	track_ok((char *[]){"ls", NULL}, tools, &r);
	ck_assert_msg(strstr(r.err, "removed 1 segment ") != NULL, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "more than 3d ago"));
	ck_assert_int_eq(access(old, F_OK), -1);
	ck_assert_ptr_nonnull(strstr(r.out, "running"));
	run_free(&r);
	ck_assert_int_eq(nsegs(dir), 2);   /* the fresh one and the running one */
	/* the running one is never swept, however old */
	track_ok((char *[]){"ls", NULL}, env_for(dir, 1, "TRACK_SWEEP_AFTER=0s", NULL), &r);
	ck_assert_int_eq(access(path, F_OK), 0);
	run_free(&r);
	ck_assert_int_eq(nsegs(dir), 1);
	/* killed, it ended by now: not old, however long ago it started */
	kill(pid, SIGKILL);
	ck_assert_int_eq(wait_exit(pid, 30), 128 + SIGKILL);
	fclose(out);
	track_ok((char *[]){"ls", NULL}, env_for(dir, 1, "TRACK_SWEEP_AFTER=1h", NULL), &r);
	ck_assert_ptr_nonnull(strstr(r.out, "ended"));
	run_free(&r);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* found gone 2 days ago: swept by track run and track report, but not the one reported */
	move_back(path, offsetof(struct track_seg_header, gone_realtime_ns), 2 * DAY_NS);
	track_ok((char *[]){"report", path, NULL}, env_for(dir, 1, "TRACK_SWEEP_AFTER=1d", NULL),
		 &r);
	ck_assert_int_eq(access(path, F_OK), 0);
	run_free(&r);
	track_ok((char *[]){"run", "-q", "--", "true", NULL},
		 env_for(dir, 1, "TRACK_SWEEP_AFTER=1d", NULL), &r);
	ck_assert_int_eq(access(path, F_OK), -1);
	run_free(&r);
}
END_TEST

START_TEST(clean_older_than)
{
	const char *dir = new_dir("segs");
	char **keep = env_for(dir, 0, "TRACK_KEEP=1", NULL);
	char **tools = env_for(dir, 1, "TRACK_SWEEP_AFTER=off", NULL);
	char fresh[TRACK_SEGFILE_PATH_MAX], old[TRACK_SEGFILE_PATH_MAX];
	char running[TRACK_SEGFILE_PATH_MAX];
	const char *bad[] = {"7", "x", "-1s", "1w", "2h30m", ""};
	struct run_result r;
	size_t i;
	json_t *l;
	FILE *out;
	pid_t pid;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		run_track((char *[]){"clean", "--older-than", (char *)bad[i], NULL}, tools, &r);
		ck_assert_msg(r.status == 2, "--older-than '%s': status %d", bad[i], r.status);
		ck_assert_msg(strncmp(r.err, "track: ", 7) == 0 &&
			      strstr(r.err, "--older-than needs a duration such as 500ms, 30s, 10m, "
				     "2h or 7d") != NULL &&
			      strchr(r.err, '\n') == r.err + r.err_len - 1, "%s", r.err);
		run_free(&r);
	}
	run_fx("exit", "0", keep);
	run_fx("leak", NULL, keep);
	l = ls_json(tools);
	snprintf(fresh, sizeof fresh, "%s", seg_path(entry(l, "exit", 0)));
	snprintf(old, sizeof old, "%s", seg_path(entry(l, "leak", 0)));
	json_decref(l);
	age_days(old, 3);
	pid = start_old_live(dir, keep, 3, &out, running, sizeof running);
	track_ok((char *[]){"clean", "-n", "--older-than", "2d", NULL}, tools, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "would remove"));
	ck_assert_int_eq(nsegs(dir), 3);
	run_free(&r);
	track_ok((char *[]){"clean", "--older-than", "2d", NULL}, tools, &r);
	ck_assert_msg(strstr(r.out, old) != NULL && strstr(r.out, fresh) == NULL, "%s", r.out);
	run_free(&r);
	ck_assert_int_eq(access(old, F_OK), -1);
	ck_assert_int_eq(access(fresh, F_OK), 0);
	ck_assert_int_eq(access(running, F_OK), 0);
	track_ok((char *[]){"clean", "--older-than", "1h", NULL}, tools, &r);
	ck_assert_str_eq(r.out, "nothing to remove\n");
	run_free(&r);
	track_ok((char *[]){"clean", "--older-than", "0s", NULL}, tools, &r);
	ck_assert_int_eq(access(fresh, F_OK), -1);
	ck_assert_int_eq(access(running, F_OK), 0);
	run_free(&r);
	kill(pid, SIGKILL);
	wait_exit(pid, 30);
	fclose(out);
}
END_TEST

/* --- track ls ---------------------------------------------------------------------------- */

/* The first data row of `track ls --sort key` ends with command. */
static void first_row_is(char **tools, const char *key, const char *command)
{
	struct run_result r;
	const char *row, *end;
	run_track((char *[]){"ls", "--sort", (char *)key, NULL}, tools, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	row = strchr(r.out, '\n');
	ck_assert_ptr_nonnull(row);
	end = strchr(row + 1, '\n');
	ck_assert_msg(end != NULL && end - row > (ptrdiff_t)strlen(command) &&
		      strncmp(end - strlen(command), command, strlen(command)) == 0,
		      "--sort %s: %s", key, r.out);
	run_free(&r);
}

/* `track ls --json --sort key` lists field largest first. */
static void sorted_by(char **tools, const char *key, const char *field)
{
	struct run_result r;
	json_error_t e;
	json_t *l, *x;
	long long last = -1;
	size_t i;
	run_track((char *[]){"ls", "--json", "--sort", (char *)key, NULL}, tools, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	l = json_loads(r.out, 0, &e);
	ck_assert_ptr_nonnull(l);
	json_array_foreach(l, i, x) {
		ck_assert_msg(i == 0 || jint(x, field) <= last, "--sort %s: %s", key, r.out);
		last = jint(x, field);
	}
	json_decref(l);
	run_free(&r);
}

START_TEST(ls_sorts_and_prints_json)
{
	const char *dir = new_dir("segs");
	char **keep = env_for(dir, 0, "TRACK_KEEP=1", NULL);
	char **tools = env_for(dir, 1, "TRACK_SWEEP_AFTER=off", NULL);
	char *argv[] = {strdup(fixture("fx_sync")), "misuse", NULL};   /* fixture(): one at a time */
	static const char *const fields[] = {
		"segment", "pid", "exec_generation", "state", "bytes", "exe", "argv",
		"start_unix_ns", "end_unix_ns", "ended_by_unix_ns", "age_ns", "age_at_least",
		"threads_alive", "objects_alive", "findings"};
	char garbage[700];
	struct run_result r;
	json_t *l, *e;
	size_t i;
	int fd;
	run_fx("leak", NULL, keep);
	run(argv, NULL, keep, &r);
	run_free(&r);
	run_fx("exit", "0", keep);
	l = ls_json(tools);
	age_days(seg_path(entry(l, "exit", 0)), 3);
	json_decref(l);
	first_row_is(tools, "threads", "leak");
	first_row_is(tools, "findings", "misuse");
	first_row_is(tools, "age", "exit 0");
	sorted_by(tools, "threads", "threads_alive");
	sorted_by(tools, "objects", "objects_alive");
	sorted_by(tools, "findings", "findings");
	sorted_by(tools, "size", "bytes");
	sorted_by(tools, "age", "age_ns");
	track_ok((char *[]){"ls", NULL}, tools, &r);
	want_text(r.out, "STATE", "AGE", "THREADS", "OBJECTS", "FINDINGS", "SIZE", " 3d ", NULL);
	ck_assert_ptr_null(strstr(r.out, "LOCKS"));
	run_free(&r);
	run_track((char *[]){"ls", "--sort", "locks", NULL}, tools, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "--sort needs one of pid, age, threads, objects, findings or "
				    "size, not 'locks'") != NULL, "%s", r.err);
	run_free(&r);
	/* JSON: every field documented, for every segment; an unreadable one says why */
	snprintf(garbage, sizeof garbage, "%s/track.%u.999999.0", dir, (unsigned)geteuid());
	fd = open(garbage, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(write(fd, "TRACKSEG", 8), 8);
	close(fd);
	l = ls_json(tools);
	ck_assert_int_eq(json_array_size(l), 4);
	json_array_foreach(l, i, e) {
		size_t k;
		if (jint(e, "pid") == 999999) {
			ck_assert_str_eq(jstr(e, "state"), "unreadable");
			ck_assert_ptr_nonnull(strstr(jstr(e, "error"), "not a track segment"));
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(fields); k++)
			ck_assert_msg(json_object_get(e, fields[k]) != NULL, "no %s in %s",
				      fields[k], dump(e));
		ck_assert_str_eq(jstr(e, "state"), "ended");
		ck_assert_int_gt(jint(e, "bytes"), 0);
	}
	ck_assert_int_eq(jint(entry(l, "exit", 0), "age_ns") / 1000000000 / 86400, 3);
	json_decref(l);
}
END_TEST

/* The exec'd image of a running process is said to be so, not to run. */
START_TEST(ls_tells_an_exec_d_image_from_a_running_one)
{
	const char *dir = new_dir("segs");
	char *cmd, line[64];
	json_t *l;
	int p[2];
	pid_t pid;
	ck_assert_int_ge(asprintf(&cmd, "exec %s live 30", fixture("fx_threads")), 0);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char **env = env_for(dir, 0, NULL, NULL);
		dup2(p[1], 1);
		putenv(env[0]);
		putenv(env[1]);
		execlp("sh", "sh", "-c", cmd, (char *)NULL);
		_exit(122);
	}
	close(p[1]);
	ck_assert_int_eq(read_line(p[0], line, sizeof line, 30000), 0);
	l = ls_json(env_for(dir, 1, NULL, NULL));
	ck_assert_str_eq(jstr(entry(l, "-c", 0), "state"), "exec'd");
	ck_assert_str_eq(jstr(entry(l, "live", 1), "state"), "running");
	json_decref(l);
	kill(pid, SIGKILL);
	wait_exit(pid, 30);
	close(p[0]);
	free(cmd);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("shim", a_clean_exit_leaves_nothing),
		TEST("shim", exec_images_go_together),
		TEST("shim", evidence_is_kept),
		TEST("shim", a_segment_being_read_is_kept),
		TEST("tools", a_killed_process_has_a_bound_not_an_end),
		TEST("tools", the_sweep_takes_only_old_ended_segments),
		TEST("tools", clean_older_than),
		TEST("tools", ls_sorts_and_prints_json),
		TEST("tools", ls_tells_an_exec_d_image_from_a_running_one),
	};
	return run_tests("life", 60, tests, ARRAY_SIZE(tests));
}

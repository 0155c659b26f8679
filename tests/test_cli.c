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

#include "core/segread.h"
#include "harness.h"
#include "track/segment.h"

/* One line on stderr that starts with "track: " and contains what. */
static void assert_one_line_error(const struct run_result *r, const char *what)
{
	ck_assert_msg(strncmp(r->err, "track: ", 7) == 0, "stderr: %s", r->err);
	ck_assert_msg(strchr(r->err, '\n') == r->err + r->err_len - 1, "not one line: %s", r->err);
	ck_assert_msg(strstr(r->err, what) != NULL, "'%s' not in: %s", what, r->err);
}

/* `track args...` ends with status, and (unless what is NULL) says why in one line of
 * stderr that contains what. */
static void fails(int status, const char *what, char *const args[])
{
	struct run_result r;
	run_track(args, NULL, &r);
	ck_assert_msg(r.status == status, "track %s: status %d, want %d: %s", args[0], r.status,
		      status, r.err);
	if (what != NULL)
		assert_one_line_error(&r, what);
	run_free(&r);
}

START_TEST(help_and_version)
{
	struct run_result r;
	run_track((char *[]){"--help", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "run"));
	run_free(&r);
	run_track((char *[]){"--version", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "track "));
	run_free(&r);
	const char *subs[] = {"run", "report", "ls", "clean", "stacks"};
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		char usage[64];
		snprintf(usage, sizeof usage, "usage: track %s", subs[i]);
		run_track((char *[]){(char *)subs[i], "--help", NULL}, NULL, &r);
		ck_assert_int_eq(r.status, 0);
		ck_assert_ptr_nonnull(strstr(r.out, usage));
		run_free(&r);
		/* `track help COMMAND` is the same */
		run_track((char *[]){"help", (char *)subs[i], NULL}, NULL, &r);
		ck_assert_int_eq(r.status, 0);
		ck_assert_msg(strstr(r.out, usage) != NULL, "%s", r.out);
		run_free(&r);
	}
	fails(2, "no command 'nope'", (char *[]){"help", "nope", NULL});
}
END_TEST

START_TEST(bad_usage)
{
	fails(2, "unknown command", (char *[]){"frobnicate", NULL});
	fails(2, "--bogus", (char *[]){"run", "--bogus", "--", "true", NULL});
	fails(2, "no program", (char *[]){"run", NULL});
	fails(2, "1 to 255", (char *[]){"run", "--error-exitcode=0", "true", NULL});
	fails(2, NULL, (char *[]){"report", NULL});
	/* an option typed without its argument is named as typed */
	fails(2, "option --json needs an argument", (char *[]){"run", "--json", NULL});
	fails(2, "option --top needs an argument", (char *[]){"report", "--top", NULL});
	fails(2, "option -o needs an argument", (char *[]){"run", "-o", NULL});
}
END_TEST

/* Every subcommand's help comes from its option table: it fits a terminal, lists --help
 * and says what the exit statuses are. */
START_TEST(every_help_fits_and_names_its_exit_statuses)
{
	const char *subs[] = {"run", "report", "stacks", "ls", "clean"};
	struct run_result r;
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		const char *line;
		run_track((char *[]){(char *)subs[i], "-h", NULL}, NULL, &r);
		ck_assert_int_eq(r.status, 0);
		want_text(r.out, "usage: track ", subs[i], "  -h, --help", "exit status", NULL);
		for (line = r.out; *line != '\0'; line += strcspn(line, "\n") + 1)
			ck_assert_msg(strcspn(line, "\n") <= 80, "track %s --help: a line of %zu "
				      "columns: %.*s", subs[i], strcspn(line, "\n"),
				      (int)strcspn(line, "\n"), line);
		ck_assert_str_eq(r.err, "");
		run_free(&r);
	}
}
END_TEST

/* Every subcommand refuses what it does not take in one line, exit 2; what it takes works. */
START_TEST(bad_usage_of_every_subcommand)
{
	struct run_result r;
	fails(2, "unexpected argument 'extra'", (char *[]){"ls", "extra", NULL});
	fails(2, "unknown option '--bogus'", (char *[]){"clean", "--bogus", NULL});
	fails(2, "unknown option '-x'", (char *[]){"clean", "-x", NULL});
	fails(2, "unknown option '-x'", (char *[]){"stacks", "-x", "1", NULL});
	fails(2, "1 to 4096", (char *[]){"stacks", "--max-frames", "0", "1", NULL});
	fails(2, "one process id", (char *[]){"stacks", NULL});
	fails(2, "non-negative number", (char *[]){"report", "--top", "-1", "1", NULL});
	fails(2, "one of instance, class or off",
	      (char *[]){"run", "--lock-order=x", "--", "true", NULL});
	fails(2, "one of report, exit or abort",
	      (char *[]){"run", "--on-deadlock", "x", "--", "true", NULL});
	fails(2, "option --max-frames needs an argument", (char *[]){"stacks", "--max-frames", NULL});
	/* a bad letter inside a cluster is named, not the option before it */
	fails(2, "unknown option '-x'", (char *[]){"report", "--keep", "-xq", "1", NULL});
	fails(2, "unknown option '-x'", (char *[]){"clean", "--dry-run", "-nx", NULL});
	fails(2, "option -o needs an argument", (char *[]){"run", "--keep", "-qo", NULL});
	fails(2, "option --keep takes no value", (char *[]){"run", "--keep=1", "--", "true", NULL});
	fails(2, "option --output needs an argument", (char *[]){"run", "--outp", NULL});
	/* the negatives: the same subcommands used right */
	run_track((char *[]){"clean", "-n", NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	run_track((char *[]){"ls", NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "no segments\n");
	run_free(&r);
	run_track((char *[]){"run", "--lock-order=class", "--on-deadlock", "report", "-q", "--",
			     "true", NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(program_not_found_or_not_executable)
{
	const char *plain = write_tmp("not-executable", "hello\n");
	chmod(plain, 0644);
	fails(127, "/nonexistent/program", (char *[]){"run", "--", "/nonexistent/program", NULL});
	fails(127, NULL, (char *[]){"run", "--", "no-such-program-anywhere", NULL});
	fails(126, "Permission denied", (char *[]){"run", "--", (char *)plain, NULL});
}
END_TEST

START_TEST(bad_report_destination)
{
	fails(1, "/nonexistent/dir/r.json",
	      (char *[]){"run", "--json", "/nonexistent/dir/r.json", "--", "true", NULL});
}
END_TEST

/* A report that cannot be written is a failure, said once, never a silent exit 0; the
 * program itself ran as usual. */
/* A report file is this run's or none: a program that never starts leaves no file, and -q
 * without findings empties the -o file rather than leaving an earlier run's report. */
START_TEST(report_files_are_never_stale)
{
	const char *json = tmp_path("r.json"), *text = write_tmp("r.txt", "an old report\n");
	struct run_result r;
	char *got;
	fails(127, NULL, (char *[]){"run", "--json", (char *)json, "--", "/nonexistent", NULL});
	ck_assert_msg(access(json, F_OK) != 0, "%s left behind by a run that never started", json);
	run_track((char *[]){"run", "-q", "-o", (char *)text, "--", "true", NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	got = slurp_file(text);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "");
	free(got);
	/* the negative: with findings, -q writes the report there */
	run_track((char *[]){"run", "-q", "-o", (char *)text, "--",
			     (char *)fixture("fx_order"), "ab_ba", NULL}, NULL, &r);
	got = slurp_file(text);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "lock-order inversion") != NULL, "%s", got);
	free(got);
	run_free(&r);
}
END_TEST

START_TEST(report_that_cannot_be_written_fails)
{
	struct run_result r;
	run_track((char *[]){"run", "-o", "/dev/full", "--", "/bin/echo", "ran", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "ran\n");
	assert_one_line_error(&r, "cannot write the report to /dev/full");
	run_free(&r);
	run_track((char *[]){"run", "--json", "/dev/full", "--", "/bin/true", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "/dev/full"));
	run_free(&r);
	/* the negative: a writable destination exits with the program's status */
	run_track((char *[]){"run", "-o", (char *)tmp_path("ok.txt"), "--", "/bin/true", NULL},
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
	json_t *root = run_track_json((char *[]){"-q", NULL}, argv, NULL, &r), *a, *t;
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
	struct track_seg_header h;
	const char *link = tmp_path("track.0.2.0"), *bad = tmp_path("track.0.3.0");
	int fd;
	ck_assert_int_eq(symlink("/etc/passwd", link), 0);
	fails(3, "symbolic link", (char *[]){"report", (char *)link, NULL});
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
	fails(3, "damaged", (char *[]){"report", (char *)bad, NULL});
}
END_TEST

/* A program that never loads the shim: said plainly, and no undefined behaviour on the way.
 * (TRACK_LIB names a library, but not the shim: one that is no library at all is refused
 * before the program runs, test_badinput.) */
START_TEST(program_without_the_shim)
{
	struct run_result r;
	char *lib;
	ck_assert_int_ge(asprintf(&lib, "TRACK_LIB=%s", fixture("libfx_plugin.so")), 0);
	run_track((char *[]){"run", "--", "/bin/true", NULL}, (char *[]){lib, NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, "ran without the shim") != NULL, "%s", r.err);
	run_free(&r);
}
END_TEST

START_TEST(stdin_passed_through)
{
	struct run_result r;
	const char *in = write_tmp("input.txt", "b\na\nc\n");
	char *argv[] = {(char *)tool_path(), "run", "-q", "--", "sort", "-r", NULL};
	run(argv, in, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "c\nb\na\n");
	ck_assert_str_eq(r.err, "");   /* -q: no findings, no report */
	run_free(&r);
}
END_TEST

START_TEST(report_live_process)
{
	FILE *out;
	/* TRACK_KEEP: its clean exit would take the segment with it (shim_collects_...) */
	pid_t pid = start_live(3, (char *[]){shim_preload(), "TRACK_KEEP=1", NULL}, &out);
	char pidstr[16], *json = (char *)tmp_path("live.json");
	struct run_result r;
	json_error_t e;
	json_t *root, *t;
	int st;
	usleep(100000);
	snprintf(pidstr, sizeof pidstr, "%d", (int)pid);
	run_track((char *[]){"report", "--json", json, pidstr, NULL}, NULL, &r);
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
	/* its segment is still there for a report after exit; reading it keeps it, --collect
	 * removes it */
	run_track((char *[]){"report", pidstr, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "threads: 1 created"));
	run_free(&r);
	run_track((char *[]){"report", "--collect", pidstr, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "threads: 1 created"));
	ck_assert_str_eq(r.err, "");
	run_free(&r);
	fails(5, NULL, (char *[]){"report", pidstr, NULL});
}
END_TEST

static int waiting_on_condvar(const struct track_snap *s)
{
	uint32_t i;
	for (i = 0; i < s->nthreads; i++)
		if (s->threads[i].state == TRACK_TS_COND)
			return 1;
	return 0;
}

/* A live view refreshed again and again (the dashboard's way) reads the segment into the
 * buffers it already has: the same tables, new figures, nothing reallocated. */
START_TEST(snapshot_reload_reuses_its_buffers)
{
	FILE *out;
	pid_t pid = start_live(3, (char *[]){shim_preload(), NULL}, &out);
	struct track_snap s;
	char path[TRACK_SEGFILE_PATH_MAX], err[512];
	void *threads, *objs;
	int st, i;
	ck_assert_msg(track_seg_find_pid(pid, path, sizeof path, err, sizeof err) == 0, "%s",
		      err);
	ck_assert_msg(track_snap_load(path, &s, err, sizeof err) == 0, "%s", err);
	ck_assert(s.alive);
	/* settled first: its waiter thread made its mutex and condvar and waits */
	for (i = 0; i < 200 && !waiting_on_condvar(&s); i++) {
		usleep(10000);
		ck_assert_msg(track_snap_reload(&s, err, sizeof err) == 0, "%s", err);
	}
	ck_assert_msg(waiting_on_condvar(&s), "the live fixture's waiter never waited");
	threads = s.threads;
	objs = s.objs;
	for (i = 0; i < 5; i++) {
		usleep(20000);
		ck_assert_msg(track_snap_reload(&s, err, sizeof err) == 0, "%s", err);
		ck_assert_ptr_eq(s.threads, threads);
		ck_assert_ptr_eq(s.objs, objs);
		ck_assert_ptr_nonnull(track_snap_thread(&s, pid));
	}
	/* the negative: once the process is gone, a reload says so */
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(track_snap_reload(&s, err, sizeof err) == 0, "%s", err);
	ck_assert(!s.alive);
	ck_assert_int_eq(s.hdr.proc_state, TRACK_PS_EXITED);
	track_snap_free(&s);
	fclose(out);
}
END_TEST

START_TEST(report_missing_process)
{
	fails(5, "999999999", (char *[]){"report", "999999999", NULL});
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
	const char *p = tmp_path("track.0.1.0");
	write_segment(p, TRACK_SEGMENT_VERSION + 1, TRACK_SEGMENT_MAGIC);
	fails(3, "layout version", (char *[]){"report", (char *)p, NULL});
	write_segment(p, TRACK_SEGMENT_VERSION, 0x1234);
	fails(3, "not a track segment", (char *[]){"report", (char *)p, NULL});
}
END_TEST

START_TEST(segment_of_other_user)
{
	/* named for one user, owned by another: planted, and refused even to root */
	const char *p = tmp_path("track.1000.1.0"), *q = tmp_path("track.65534.1.0");
	if (geteuid() != 0)
		return;   /* only root can make a file another user owns */
	write_segment(p, TRACK_SEGMENT_VERSION, TRACK_SEGMENT_MAGIC);
	ck_assert_int_eq(chown(p, 65534, 65534), 0);
	fails(4, "belongs to uid 65534", (char *[]){"report", (char *)p, NULL});
	/* owned by the user it names: root reads it (and finds this one damaged) */
	write_segment(q, TRACK_SEGMENT_VERSION, TRACK_SEGMENT_MAGIC);
	ck_assert_int_eq(chown(q, 65534, 65534), 0);
	fails(3, "is damaged", (char *[]){"report", (char *)q, NULL});
}
END_TEST

/* A directory of the test's for segments, name in tmp_dir(); env is set to "TRACK_DIR=" it
 * and TRACK_KEEP=1 (the shim keeps the segment of a clean exit). */
static const char *seg_dir(const char *name, char *env[3])
{
	const char *dir = tmp_path(name);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	env[0] = trackdir_env(dir);
	env[1] = "TRACK_KEEP=1";
	env[2] = NULL;
	return dir;
}

START_TEST(segment_is_private_and_collected)
{
	char *env[3];
	const char *dir = seg_dir("segs", env);
	struct run_result r;
	FILE *out;
	pid_t pid;
	char seg[700];
	struct stat st;
	int status;
	putenv(shim_preload());
	pid = start_live(1, env, &out);
	snprintf(seg, sizeof seg, "%s/track.%u.%d.0", dir, (unsigned)geteuid(), (int)pid);
	ck_assert_int_eq(lstat(seg, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_uid, geteuid());
	run_track((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "running"));
	run_free(&r);
	run_track((char *[]){"clean", NULL}, env, &r);   /* still running: kept */
	ck_assert_int_eq(access(seg, F_OK), 0);
	run_free(&r);
	waitpid(pid, &status, 0);
	fclose(out);
	run_track((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "ended"));
	run_free(&r);
	run_track((char *[]){"clean", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "removed"));
	ck_assert_int_eq(access(seg, F_OK), -1);
	run_free(&r);
}
END_TEST

START_TEST(run_leaves_no_segment_behind)
{
	char *env[3];
	seg_dir("segs2", env);
	struct run_result r;
	run_track((char *[]){"run", "-q", "--", (char *)fixture("fx_threads"), "fork", NULL}, env,
		  &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	run_track((char *[]){"ls", NULL}, env, &r);
	ck_assert_str_eq(r.out, "no segments\n");
	run_free(&r);
	run_track((char *[]){"run", "-q", "--keep", "--", "true", NULL}, env, &r);
	run_free(&r);
	run_track((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "ended"));
	run_free(&r);
}
END_TEST

START_TEST(linked_program)
{
	char *env[3];
	const char *dir = seg_dir("segs3", env);
	char *argv[] = {(char *)fixture("fx_linked"), NULL};
	struct run_result r;
	char seg[700], *json = (char *)tmp_path("linked.json");
	json_error_t e;
	json_t *root;
	run(argv, NULL, env, &r);   /* no LD_PRELOAD: the shim is linked in */
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "counter 3000\n");
	run_free(&r);
	run_track((char *[]){"ls", NULL}, env, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "fx_linked"));
	run_free(&r);
	snprintf(seg, sizeof seg, "%s", dir);
	run_track((char *[]){"ls", NULL}, env, &r);
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
	run_track((char *[]){"report", "--json", json, seg, NULL}, env, &r);
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
	json_t *root = run_track_json((char *[]){"-q", NULL}, argv, env, &r);
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
	root = run_track_json((char *[]){"-q", NULL}, native, NULL, &t);
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
	root = run_track_json((char *[]){"-q", NULL}, argv, NULL, &r);
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

int main(void)
{
	const struct test_def tests[] = {
		TEST("cli", help_and_version),
		TEST("cli", bad_usage),
		TEST("cli", every_help_fits_and_names_its_exit_statuses),
		TEST("cli", bad_usage_of_every_subcommand),
		TEST("cli", program_not_found_or_not_executable),
		TEST("cli", bad_report_destination),
		TEST("cli", report_that_cannot_be_written_fails),
		TEST("cli", report_files_are_never_stale),
		TEST("cli", json_keeps_bytes_that_are_not_utf8),
		TEST("cli", links_and_damaged_segments_are_refused),
		TEST("cli", program_without_the_shim),
		TEST("cli", stdin_passed_through),
		TEST("cli", report_live_process),
		TEST("cli", snapshot_reload_reuses_its_buffers),
		TEST("cli", report_missing_process),
		TEST("cli", segment_of_other_version),
		TEST("cli", segment_of_other_user),
		TEST("cli", segment_is_private_and_collected),
		TEST("cli", run_leaves_no_segment_behind),
		TEST("cli", linked_program),
		TEST("cli", existing_preload_kept),
		TEST("cli", installed_track_finds_installed_shim),
		TEST("cli", calls_before_the_shim_is_up),
		TEST("cli", dlopened_code_is_named),
	};
	return run_tests("cli", 60, tests, ARRAY_SIZE(tests));
}

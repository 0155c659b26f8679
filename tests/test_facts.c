/*
 * test_facts.c — every fact a report prints is true, however the process ended: durations
 * of the process and of its threads' waits live, after exit, _exit, exec, a kill under
 * track run and a kill nobody saw; the exit-time facts (who was alive, which locks were
 * contended); a TRACK_* value nobody can use refused loudly; a run with nothing
 * instrumented failing a check instead of passing it; the shim's own line on stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define SEC 1000000000LL

static char **facts_argv(const char *seconds, const char *how)
{
	static char *argv[5];
	argv[0] = strdup(fixture("fx_facts"));
	argv[1] = "hang";
	argv[2] = (char *)seconds;
	argv[3] = (char *)how;
	argv[4] = NULL;
	return argv;
}

/* The thread of the report named name. */
static json_t *thread_named(json_t *root, const char *name)
{
	json_t *t = jfind(root, "threads.list", "name", name);
	ck_assert_msg(t != NULL, "no thread %s: %s", name, dump(json_object_get(root, "threads")));
	return t;
}

/* The waits of the fixture's two waiting threads lasted at least lo ns, exactly known. */
static void waits_last(json_t *root, long long lo)
{
	static const char *const names[] = {"fx-condwait", "fx-blocked"};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		json_t *t = thread_named(root, names[i]);
		ck_assert_msg(jint(t, "waiting.for_ns") >= lo, "%s waited %lld ns, want >= %lld",
			      names[i], jint(t, "waiting.for_ns"), lo);
		ck_assert_msg(json_is_true(json_object_get(json_object_get(t, "waiting"),
							   "for_exact")), "%s: %s", names[i],
			      dump(t));
	}
}

/* A program killed under track run: track run reaped it, so its end is known. */
START_TEST(killed_under_track_run)
{
	char *const *fx = facts_argv("100", "return");
	char *argv[16] = {"timeout", "-s", "TERM", "1.5", (char *)tool_path(), "run",
			  "--json", (char *)tmp_path("r.json"), "-o", (char *)tmp_path("r.txt"),
			  "--", fx[0], fx[1], fx[2], fx[3], NULL};
	struct run_result r;
	json_t *root;
	char *text;
	run(argv, NULL, NULL, &r);
	ck_assert_msg(r.status == 124, "timeout: status %d: %s", r.status, r.err);
	root = json_load_file(tmp_path("r.json"), 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "reaped");
	ck_assert_int_eq(jint(root, "process.signal"), SIGTERM);
	ck_assert_msg(jint(root, "process.duration_ns") >= 14 * SEC / 10,
		      "ran %lld ns, killed after 1.5 s", jint(root, "process.duration_ns"));
	ck_assert(json_is_true(json_object_get(json_object_get(root, "process"), "duration_exact")));
	waits_last(root, 13 * SEC / 10);
	text = slurp_file(tmp_path("r.txt"));
	want_text(text, "killed by signal 15 (Terminated) after 1.", NULL);
	ck_assert_msg(strstr(text, " for 0 ns") == NULL, "%s", text);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Negative beside it: a normal exit is reported as one, with its own end. */
START_TEST(normal_exit)
{
	struct run_result r;
	json_t *root = traced(NULL, facts_argv("1", "return"), NULL, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "exit");
	ck_assert_int_eq(jint(root, "process.exit_code"), 0);
	waits_last(root, 9 * SEC / 10);
	/* main returned: it did not outlive the process; the two waiters did */
	ck_assert_int_eq(jint(root, "threads.alive_at_exit"), 2);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* _exit and _Exit: the shim sees them; the thread that called them ended the process. */
START_TEST(underscore_exit)
{
	static const struct {
		const char *how;
		int status;
	} c[] = {{"_exit", 3}, {"_Exit", 4}};
	struct run_result r;
	json_t *root = traced(NULL, facts_argv("0", c[_i].how), NULL, &r), *main_thread;
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, c[_i].status);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "_exit");
	ck_assert_int_eq(jint(root, "process.exit_code"), c[_i].status);
	main_thread = thread_named(root, "fx-main");
	ck_assert_msg(json_is_false(json_object_get(main_thread, "alive_at_exit")), "%s",
		      dump(main_thread));
	ck_assert_int_eq(jint(root, "threads.alive_at_exit"), 2);
	want_text(text, "exited through _exit() with status", NULL);
	ck_assert_msg(strstr(text, "fx-main") == NULL || strstr(text, "\"fx-main\" (main)") == NULL,
		      "%s", text);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A vfork child's _exit runs in its parent's memory: the parent's record must not end. */
START_TEST(vfork_child_exit_is_not_the_parents)
{
	struct run_result r;
	json_t *root = traced(NULL, facts_argv("0", "vfork"), NULL, &r);
	ck_assert_int_eq(r.status, 5);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "exit");
	json_decref(root);
	run_free(&r);
}
END_TEST

/* An image replaced by exec ended at the exec, not "without exit()". */
START_TEST(exec_ends_an_image)
{
	struct run_result r;
	json_t *root = traced(NULL, facts_argv("1", "exec"), NULL, &r), *others, *old;
	char *text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, 0);
	others = json_object_get(root, "other_processes");
	ck_assert_msg(json_array_size(others) == 1, "%s", dump(others));
	old = json_array_get(others, 0);
	ck_assert_str_eq(jstr(old, "process.ended_by"), "exec");
	ck_assert_msg(jint(old, "process.duration_ns") >= 9 * SEC / 10, "%s", dump(old));
	waits_last(old, 9 * SEC / 10);
	want_text(text, "replaced by exec", NULL);
	ck_assert_msg(strstr(text, "ended without exit()") == NULL, "%s", text);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Killed outside track run, nobody saw when: the report says so, and never "for 0 ns". */
START_TEST(killed_unseen)
{
	char *const *fx = facts_argv("100", "return");
	/* env sets the preload for the fixture alone, not for timeout */
	char *argv[] = {"timeout", "-s", "KILL", "1", "env", shim_preload(), fx[0], fx[1], fx[2],
			fx[3], NULL};
	struct run_result r, rep;
	const char *seg;
	json_t *root, *t;
	run(argv, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 128 + SIGKILL);
	seg = only_segment();
	run_track((char *[]){"report", "--keep", (char *)seg, NULL}, NULL, &rep);
	ck_assert_msg(rep.status == 0, "%s", rep.err);
	want_text(rep.out, "at a time not known", NULL);
	ck_assert_msg(strstr(rep.out, " for 0 ns") == NULL, "%s", rep.out);
	run_free(&rep);
	run_track((char *[]){"report", "--keep", "--json", (char *)tmp_path("r.json"), (char *)seg,
			     NULL}, NULL, &rep);
	root = json_load_file(tmp_path("r.json"), 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "unknown");
	ck_assert(json_is_false(json_object_get(json_object_get(root, "process"), "duration_exact")));
	t = thread_named(root, "fx-blocked");
	ck_assert(json_is_false(json_object_get(json_object_get(t, "waiting"), "for_exact")));
	json_decref(root);
	run_free(&r);
	run_free(&rep);
}
END_TEST

/* A live report: the waits run to now. */
START_TEST(live_waits_run_to_now)
{
	FILE *out;
	pid_t pid = start_ready(facts_argv("100", "return"), (char *[]){shim_preload(), NULL}, &out);
	char spid[16];
	struct run_result rep;
	json_t *root;
	usleep(1200000);
	snprintf(spid, sizeof spid, "%d", (int)pid);
	run_track((char *[]){"report", "--json", (char *)tmp_path("r.json"), spid, NULL}, NULL,
		  &rep);
	ck_assert_msg(rep.status == 0, "%s", rep.err);
	root = json_load_file(tmp_path("r.json"), 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "running");
	waits_last(root, 11 * SEC / 10);
	ck_assert_msg(strstr(rep.err, " for 0 ns") == NULL, "%s", rep.err);
	kill(pid, SIGKILL);
	wait_exit(pid, 5);
	json_decref(root);
	run_free(&rep);
}
END_TEST

/* Threads deadlocked at the end: every one of them listed as alive (the one that found the
 * deadlock too), and their locks contended, not "none contended". */
START_TEST(deadlock_exit_facts)
{
	struct run_result r;
	json_t *root = traced(NULL, (char *[]){strdup(fixture("fx_order")), "deadlock2", NULL},
			      (char *[]){"FX_WATCHDOG=10", NULL}, &r), *locks, *l;
	char *text = slurp_file(tmp_path("report.txt"));
	size_t i, contended = 0;
	ck_assert_int_eq(r.status, 7);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "deadlock");
	ck_assert_int_eq(jint(root, "process.exit_code"), 7);
	want_ints(root, "threads.alive_at_exit=3");
	locks = json_object_get(root, "locks");
	json_array_foreach(locks, i, l)
		contended += jint(l, "contended") > 0 && jint(l, "blocked_now") > 0;
	ck_assert_msg(contended == 2, "%s", dump(locks));
	ck_assert_msg(strstr(text, "none contended") == NULL, "%s", text);
	want_text(text, "ended by track on a deadlock", "still blocked at the end", NULL);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A join names the thread joined, not its pthread_t. */
START_TEST(join_names_the_thread)
{
	struct run_result r;
	json_t *root = traced(NULL, (char *[]){strdup(fixture("fx_order")), "deadlock_join", NULL},
			      (char *[]){"FX_WATCHDOG=10", NULL}, &r);
	char *text = slurp_file(tmp_path("report.txt"));
	want_text(text, "joining thread ", "\"dl-joined\"", NULL);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* More threads at once than records: each untracked thread counted once, as created and
 * not tracked, and in no other figure. */
START_TEST(untracked_threads_counted_once)
{
	struct run_result r;
	json_t *root = traced(NULL, (char *[]){strdup(fixture("fx_facts")), "many", "40", NULL},
			      (char *[]){"TRACK_MAX_THREADS=16", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	/* 16 records: main's and 15 threads' */
	want_ints(root, "threads.created=40 threads.not_tracked=25 threads.exited=15 "
			"threads.joined=15 overflow.threads_not_tracked=25");
	json_decref(root);
	run_free(&r);
	root = traced(NULL, (char *[]){strdup(fixture("fx_facts")), "many", "40", NULL}, NULL, &r);
	want_ints(root, "threads.created=40 threads.not_tracked=0 threads.joined=40");
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Every variable the shim reads, a bad value: track run refuses it before starting. */
static const struct {
	const char *env, *says;
} bad_env[] = {
	{"TRACK_ON_DEADLOCK=exti", "TRACK_ON_DEADLOCK=exti is not valid: use report, exit, abort"},
	{"TRACK_LOCK_ORDER=bogus", "TRACK_LOCK_ORDER=bogus is not valid: use instance, class, off"},
	{"TRACK_MAX_THREADS=abc", "TRACK_MAX_THREADS=abc is not valid: use a number from 16"},
	{"TRACK_MAX_OBJECTS=10", "TRACK_MAX_OBJECTS=10 is not valid"},
	{"TRACK_MAX_STACKS=1e6", "TRACK_MAX_STACKS=1e6 is not valid"},
	{"TRACK_STACKS=yes", "TRACK_STACKS=yes is not valid: use a number from 0 to 1"},
	{"TRACK_DEADLOCK_EXITCODE=256", "TRACK_DEADLOCK_EXITCODE=256 is not valid"},
	{"TRACK_REPORT=stdout", "TRACK_REPORT=stdout is not valid: use off, stderr"},
	{"TRACK_DIR=/nonexistent/dir", "TRACK_DIR=/nonexistent/dir: No such file or directory"},
};

START_TEST(bad_environment_refused)
{
	struct run_result r;
	run_track((char *[]){"run", "--", "/bin/true", NULL}, (char *[]){(char *)bad_env[_i].env,
		  NULL}, &r);
	ck_assert_msg(r.status == 2, "%s: status %d", bad_env[_i].env, r.status);
	want_text(r.err, bad_env[_i].says, NULL);
	run_free(&r);
}
END_TEST

/* ... and good values of the same variables pass. */
START_TEST(good_environment_passes)
{
	struct run_result r;
	run_track((char *[]){"run", "-q", "--", "/bin/true", NULL},
		  (char *[]){"TRACK_ON_DEADLOCK=report", "TRACK_LOCK_ORDER=class",
			     "TRACK_MAX_THREADS=0x100", "TRACK_STACKS=0", "TRACK_REPORT=stderr",
			     "TRACK_DEADLOCK_EXITCODE=99", NULL}, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(r.err_len == 0, "%s", r.err);
	run_free(&r);
}
END_TEST

/* The shim, preloaded without track run, uses the default, says so once and records it. */
START_TEST(shim_says_it_refused_a_value)
{
	struct run_result r, rep;
	run((char *[]){strdup(fixture("fx_facts")), "hang", "0", "return", NULL}, NULL,
	    (char *[]){shim_preload(), "TRACK_MAX_THREADS=abc", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	want_text(r.err, "libtrack: TRACK_MAX_THREADS=abc is not valid", NULL);
	ck_assert_msg(strstr(strstr(r.err, "TRACK_MAX_THREADS") + 1, "TRACK_MAX_THREADS") == NULL,
		      "said more than once: %s", r.err);
	run_track((char *[]){"report", (char *)only_segment(), NULL}, NULL, &rep);
	want_text(rep.out, "warning: TRACK_MAX_THREADS had a value the shim could not use", NULL);
	run_free(&r);
	run_free(&rep);
}
END_TEST

/* Nothing instrumented: named, and --error-exitcode fails the run (6) unless allowed. */
START_TEST(uninstrumented_run_fails_a_check)
{
	struct run_result r;
	run_track((char *[]){"run", "-q", "--error-exitcode=9", "--", "/bin/true", NULL},
		  (char *[]){"TRACK_DISABLE=1", NULL}, &r);
	ck_assert_int_eq(r.status, 6);
	want_text(r.err, "ran without the shim", "TRACK_DISABLE is set", NULL);
	run_free(&r);
	run_track((char *[]){"run", "-q", "--error-exitcode=9", "--allow-uninstrumented", "--",
			     "/bin/true", NULL}, (char *[]){"TRACK_DISABLE=1", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	/* without --error-exitcode nothing is checked: the program's status */
	run_track((char *[]){"run", "-q", "--", "/bin/false", NULL},
		  (char *[]){"TRACK_DISABLE=1", NULL}, &r);
	ck_assert_int_eq(r.status, 1);
	run_free(&r);
}
END_TEST

START_TEST(static_program_named)
{
	struct run_result r;
	run_track((char *[]){"run", "-q", "--error-exitcode=9", "--",
			     strdup(fixture("fx_static")), NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 6);
	want_text(r.err, "is statically linked: LD_PRELOAD cannot reach it", NULL);
	run_free(&r);
}
END_TEST

/* TRACK_REPORT=stderr: one line for a finding of severity error; nothing without it. */
START_TEST(shim_reports_on_stderr)
{
	struct run_result r;
	char *fx = strdup(fixture("fx_facts"));
	run((char *[]){fx, "misuse", NULL}, NULL,
	    (char *[]){shim_preload(), "TRACK_REPORT=stderr", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	want_text(r.err, "libtrack: pid ", ": unlock-not-owner: ", "track report ", NULL);
	run_free(&r);
	run((char *[]){fx, "misuse", NULL}, NULL, (char *[]){shim_preload(), NULL}, &r);
	ck_assert_msg(r.err_len == 0, "%s", r.err);
	run_free(&r);
}
END_TEST

/* Reading a segment allocates none of its holes: its allocated size (du) is the same after
 * every reading command, for a live process and an ended one. */
START_TEST(reading_costs_the_segment_nothing)
{
	FILE *out;
	pid_t pid = start_ready(facts_argv("100", "return"), (char *[]){shim_preload(), NULL}, &out);
	char spid[16];
	const char *seg = only_segment();
	struct stat before, after;
	struct run_result r;
	size_t i;
	char *const cmds[][5] = {
		{"ls", NULL}, {"report", spid, NULL}, {"report", "--json", "/dev/null", spid, NULL},
		{"stacks", spid, NULL}, {"report", "--keep", (char *)seg, NULL},
	};
	snprintf(spid, sizeof spid, "%d", (int)pid);
	usleep(100000);
	ck_assert_int_eq(stat(seg, &before), 0);
	ck_assert_msg(before.st_blocks * 512LL < before.st_size / 16,
		      "the segment is not sparse to start with: %lld of %lld bytes",
		      (long long)before.st_blocks * 512, (long long)before.st_size);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (i == ARRAY_SIZE(cmds) - 1) {   /* the last, after the process ended */
			kill(pid, SIGKILL);
			wait_exit(pid, 5);
		}
		run_track(cmds[i], NULL, &r);
		ck_assert_msg(r.status == 0, "track %s: %d: %s", cmds[i][0], r.status, r.err);
		run_free(&r);
		ck_assert_int_eq(stat(seg, &after), 0);
		ck_assert_msg(after.st_blocks == before.st_blocks,
			      "track %s %s: the segment grew from %lld to %lld bytes allocated",
			      cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
			      (long long)before.st_blocks * 512, (long long)after.st_blocks * 512);
	}
}
END_TEST

/* --- other users ---------------------------------------------------------------------------- */

#define NOBODY 65534
#define NOBODY_DIR "/dev/shm/track-65534"

/* Remove nobody's segment directory after the test if it did not exist before it. */
static int nobody_dir_existed;

static void nobody_dir_note(void)
{
	nobody_dir_existed = access(NOBODY_DIR, F_OK) == 0;
}

static void nobody_dir_clean(void)
{
	char cmd[256];
	if (!nobody_dir_existed) {
		snprintf(cmd, sizeof cmd, "rm -rf %s", NOBODY_DIR);
		ck_assert_int_eq(system(cmd), 0);
	}
}

/* A process of a root run that drops to another user: reported, with where it ran, and its
 * segment collected (root may read and remove it). */
START_TEST(run_that_changes_user)
{
	char *const *fx = facts_argv("0", "return");
	char pattern[128];
	struct run_result r;
	json_t *root;
	char *text;
	if (geteuid() != 0)
		return;   /* only root can change user */
	nobody_dir_note();
	root = traced(NULL, (char *[]){"setpriv", "--reuid=65534", "--regid=65534",
				       "--clear-groups", fx[0], fx[1], fx[2], fx[3], NULL},
		      (char *[]){"TRACK_DIR", NULL}, &r);
	text = slurp_file(tmp_path("report.txt"));
	ck_assert_int_eq(r.status, 0);
	/* the program is the image that ran last, as nobody */
	ck_assert_int_eq(jint(root, "process.uid"), NOBODY);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "exit");
	want_ints(root, "threads.created=2");
	want_text(text, "ran as uid 65534", NULL);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(root, "other_processes"), 0),
			      "process.ended_by"), "exec");
	snprintf(pattern, sizeof pattern, "%s/track.%d.%lld.0", NOBODY_DIR, NOBODY,
		 jint(root, "process.pid"));
	ck_assert_msg(access(pattern, F_OK) != 0, "%s was left behind", pattern);
	nobody_dir_clean();
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A run's process as another user, seen by that user's own shim: it says where its segment
 * is (its run cannot see it); not a word when it runs as the run's user. */
START_TEST(shim_says_where_another_users_segment_is)
{
	struct run_result r;
	char *dir = (char *)tmp_path("nobody"), *fx = strdup(fixture("fx_facts"));
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chown(dir, NOBODY, NOBODY), 0);
	ck_assert_int_eq(chmod(tmp_dir(), 0711), 0);
	run_as(NOBODY, NOBODY, (char *[]){fx, "hang", "0", "return", NULL}, NULL,
	       (char *[]){shim_preload(), trackdir_env(dir), "TRACK_RUN_UID=1000", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	want_text(r.err, "runs as uid 65534, not as uid 1000 who started track run",
		  "track report ", dir, NULL);
	run_free(&r);
	run_as(NOBODY, NOBODY, (char *[]){fx, "hang", "0", "return", NULL}, NULL,
	       (char *[]){shim_preload(), trackdir_env(dir), "TRACK_RUN_UID=65534", NULL}, &r);
	ck_assert_msg(r.err_len == 0, "%s", r.err);
	run_free(&r);
}
END_TEST

/* Root reports on another user's live process by pid; a third user is told whose it is. */
START_TEST(root_reads_another_users_process)
{
	char *const *fx = facts_argv("100", "return");
	char spid[16], seg[128];
	struct run_result r;
	FILE *out;
	pid_t pid;
	if (geteuid() != 0)
		return;
	nobody_dir_note();
	pid = start_ready((char *[]){"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
				     "--clear-groups", "/usr/bin/env", "-u", "TRACK_DIR",
				     shim_preload(), fx[0], fx[1], fx[2], fx[3], NULL}, NULL, &out);
	snprintf(spid, sizeof spid, "%d", (int)pid);
	run_track((char *[]){"report", spid, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	want_text(r.out, "running for", "ran as uid 65534", "fx-blocked", NULL);
	run_free(&r);
	run_as(NOBODY - 1, NOBODY - 1, (char *[]){(char *)tool_path(), "report", spid, NULL},
	       NULL, NULL, &r);
	ck_assert_int_eq(r.status, 4);
	want_text(r.err, "belongs to nobody (uid 65534)", NULL);
	run_free(&r);
	kill(pid, SIGKILL);
	wait_exit(pid, 5);
	/* an ended process of another user: root reads its segment by path, and removes it */
	snprintf(seg, sizeof seg, "%s/track.%d.%d.0", NOBODY_DIR, NOBODY, (int)pid);
	run_track((char *[]){"report", seg, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	want_text(r.out, "ran as uid 65534", NULL);
	run_free(&r);
	unlink(seg);
	nobody_dir_clean();
}
END_TEST

/* The report written into a pipe nobody reads: a write error (status 1), the segments kept
 * for `track report`, and the program's own SIGPIPE left as it was. */
START_TEST(closed_pipe_loses_nothing)
{
	char *const *fx = facts_argv("0", "return");
	int p[2], status;
	pid_t pid;
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);   /* nobody reads: every write gets EPIPE (or SIGPIPE) */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 2);
		execl(tool_path(), "track", "run", "--", fx[0], fx[1], fx[2], fx[3], (char *)NULL);
		_exit(122);
	}
	close(p[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		      "status %#x: want exit 1, a write error, not death by SIGPIPE", status);
	only_segment();   /* kept */
}
END_TEST

/* The text report reads well in a CI log: findings by severity, a SUMMARY line each, one
 * bug's cycles folded into one entry, the locks threads hold, like threads grouped, and
 * stacks cut at --num-callers. */
START_TEST(findings_read_well)
{
	struct run_result r;
	json_t *root = traced((char *[]){"--num-callers", "3", NULL},
			      (char *[]){strdup(fixture("fx_facts")), "findings", NULL}, NULL, &r);
	json_t *fs = json_object_get(root, "findings"), *f;
	char *text = slurp_file(tmp_path("report.txt"));
	const char *dl, *inv, *gated, *p;
	size_t i, summaries = 0, same = 0;
	ck_assert_int_eq(r.status, 7);
	/* JSON: all eight (the relock is a double-lock too), deadlock first, then the errors,
	 * then the gated inversion */
	ck_assert_msg(json_array_size(fs) == 8, "%s", findings_text(root));
	ck_assert_str_eq(jstr(json_array_get(fs, 0), "kind"), "deadlock");
	ck_assert_str_eq(jstr(json_array_get(fs, 7), "severity"), "info");
	json_array_foreach(fs, i, f) {
		ck_assert_msg(jstr(f, "summary") != NULL, "%s", dump(f));
		same += json_is_integer(json_object_get(f, "same_sites_as"));
	}
	ck_assert_msg(same == 4, "4 cycles through the same sites as a fifth: %s", dump(fs));
	/* text: four entries, in that order, each under its SUMMARY */
	for (p = text; (p = strstr(p, "SUMMARY: ")) != NULL; p++)
		summaries++;
	ck_assert_msg(summaries == 4, "%zu summaries: %s", summaries, text);
	dl = strstr(text, "SUMMARY: deadlock of 1 thread");
	inv = strstr(text, "SUMMARY: lock-order-inversion: ");
	gated = strstr(text, "SUMMARY: lock-order-inversion (gated, info)");
	ck_assert_msg(dl && inv && gated && dl < inv && inv < gated, "%s", text);
	want_text(text, "pair_", "and 4 more cycles through the same code sites",
		  "3 threads alike: running idle", "holds mutex kept, taken at hold_kept",
		  "SUMMARY: deadlock of 1 thread: thread ", " waits for mutex self at findings",
		  "... ", NULL);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* --json - would interleave the report with the program's stdout. */
START_TEST(json_to_stdout_refused)
{
	struct run_result r;
	run_track((char *[]){"run", "--json", "-", "--", "/bin/true", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 2);
	want_text(r.err, "--json -: the program writes to stdout too", NULL);
	run_free(&r);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("durations", killed_under_track_run),
		TEST("durations", normal_exit),
		LOOP_TEST("durations", underscore_exit, 2),
		TEST("durations", vfork_child_exit_is_not_the_parents),
		TEST("durations", exec_ends_an_image),
		TEST("durations", killed_unseen),
		TEST("durations", live_waits_run_to_now),
		TEST("exit_facts", deadlock_exit_facts),
		TEST("exit_facts", join_names_the_thread),
		TEST("exit_facts", untracked_threads_counted_once),
		LOOP_TEST("environment", bad_environment_refused, ARRAY_SIZE(bad_env)),
		TEST("environment", good_environment_passes),
		TEST("environment", shim_says_it_refused_a_value),
		TEST("uninstrumented", uninstrumented_run_fails_a_check),
		TEST("uninstrumented", static_program_named),
		TEST("reading", reading_costs_the_segment_nothing),
		TEST("users", run_that_changes_user),
		TEST("users", shim_says_where_another_users_segment_is),
		TEST("users", root_reads_another_users_process),
		TEST("report", shim_reports_on_stderr),
		TEST("report", json_to_stdout_refused),
		TEST("report", findings_read_well),
		TEST("report", closed_pipe_loses_nothing),
	};
	return run_tests("facts", 60, tests, ARRAY_SIZE(tests));
}

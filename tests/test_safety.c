/*
 * test_safety.c — the shim inside other people's processes: every reproduction of the
 * shim-safety probe (a review of an earlier shim, kept outside this repository; README, "The
 * shim inside your process"), each a test that failed on the shim it was written against.
 * Correct programs must run under the shim as they do natively (same output, same exit
 * status) with no findings; a program never hangs, crashes, opens descriptors, or is
 * cancelled where it would not be; a hostile file in the segment directory, a full file
 * system, a setuid bit or a long TRACK_DIR never turns the shim or the tools against the
 * user.  Fixture: tests/fixtures/fx_safety.c.
 *
 * Tests that need root (a private mount namespace with a small tmpfs, another user, a
 * setuid file) are left out, and said to be, when the suite does not run as root.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "core/segread.h"
#include "track/segment.h"

#define NOBODY 65534

static char **fx(const char *a, const char *b, const char *c)
{
	static char *argv[5];
	argv[0] = strdup(fixture("fx_safety"));
	argv[1] = (char *)a;
	argv[2] = (char *)b;
	argv[3] = (char *)c;
	argv[4] = NULL;
	return argv;
}

/* A scenario under track run (env added to both runs), compared with its native run: same
 * output and status 0, no findings, even with --error-exitcode.  Returns the report. */
static json_t *clean_env(const char *a, const char *b, const char *c, char *const env[],
			 struct run_result *t)
{
	char **argv = fx(a, b, c);
	json_t *root = run_clean(argv, (char *[]){"--error-exitcode=9", NULL}, env, t);
	free(argv[0]);
	return root;
}

static json_t *clean(const char *a, const char *b, const char *c, struct run_result *t)
{
	return clean_env(a, b, c, NULL, t);
}

static void clean_only(const char *a, const char *b, const char *c)
{
	struct run_result t;
	json_decref(clean(a, b, c, &t));
	run_free(&t);
}

/* clean(), and the program said what it says natively when nothing disturbs it. */
static void clean_says(const char *a, const char *b, const char *c, const char *says)
{
	struct run_result t;
	json_decref(clean(a, b, c, &t));
	ck_assert_str_eq(t.out, says);
	run_free(&t);
}

/* --- crashes and hangs ------------------------------------------------------------------ */

/* D1: the deadlock walk read other threads' records field by field and dereferenced a wait
 * object that had just been cleared or freed: SIGSEGV in programs that only join threads. */
START_TEST(deadlock_walk_survives_waits_ending_under_it)
{
	clean_only("chain", "2", NULL);
	clean_only("joinwalk", "3", NULL);
}
END_TEST

/* D4: a thread suspended in a signal handler while it held the shim's internal lock left
 * every other thread spinning (a stop-the-world collector hung at once). */
START_TEST(thread_suspended_in_a_handler_blocks_nobody)
{
	clean_says("stopworld", "20000", NULL, "stopworld 20000 cycles done\n");
}
END_TEST

/* D6: the shim's thread-local state and the unwinder took about 10 KB of each thread's
 * stack: threads with small stacks overflowed. */
START_TEST(threads_with_small_stacks)
{
	clean_only("smallstack", "4096", "16384");     /* PTHREAD_STACK_MIN */
	clean_only("smallstack", "20480", "32768");
}
END_TEST

/* D7: the unwinder's read/write on a pipe are cancellation points: a pending cancel acted
 * inside pthread_mutex_lock (the critical section never ran) and pthread_barrier_wait (the
 * other party hung). */
START_TEST(no_cancellation_point_where_the_call_has_none)
{
	clean_says("cancelmx", NULL, NULL, "worker entered the critical section\n");
	clean_says("cancelbarrier", "2000", NULL,
		   "cancelbarrier 2000 rounds, worker cancelled at its testcancel\n");
}
END_TEST

/* The shim linked libgcc_s (for its cleanups' _Unwind_Resume), mapping it into every
 * traced process, about 90 KB resident, though only an unwind through the shim needs it:
 * at start the program maps it as natively (not at all, but under a sanitizer), and a
 * cancellation through the shim's condvar wait still unwinds and runs the cleanup. */
START_TEST(libgcc_is_mapped_only_as_natively)
{
	struct run_result t;
	json_decref(clean("libgcc", NULL, NULL, &t));
	ck_assert_msg(strstr(t.out, "cancelled: yes, cleanup ran: yes, mutex free: yes\n") != NULL,
		      "%s", t.out);
	run_free(&t);
}
END_TEST

/* D15: the unwinder opened a pipe in the target, after the program had closed everything. */
START_TEST(no_descriptor_opened_in_the_program)
{
	clean_says("fds", NULL, NULL, "descriptors before 3, after 3\n");
}
END_TEST

/* --- cost that changed what fits ---------------------------------------------------------- */

/* The resident set of argv run natively and with the shim preloaded. */
static void rss_pair(char **argv, long *native_kb, long *traced_kb)
{
	struct run_result n, t;
	run(argv, NULL, NULL, &n);
	run(argv, NULL, (char *[]){shim_preload(), NULL}, &t);
	ck_assert_int_eq(n.status, 0);
	ck_assert_int_eq(t.status, 0);
	ck_assert_str_eq(t.out, n.out);
	*native_kb = n.maxrss_kb;
	*traced_kb = t.maxrss_kb;
	run_free(&n);
	run_free(&t);
}

/* D8: a 256 KB unwinder cache per thread, and captures that kept short threads alive: 30,000
 * short threads took 4.3 GB.  Now a few KB per thread: the storm's peak resident set stays
 * within a few MB of native (the bound is loose on purpose; bench/ measures it). */
START_TEST(thread_storm_memory_is_bounded)
{
	struct run_result t;
	long nat, tr;
	json_t *root = clean("storm", "30000", NULL, &t);
	char **argv;
	ck_assert_int_eq(jint(root, "threads.created"), 30000);
	/* the last threads may still be between their sem_post and their return when main
	 * exits: every thread either ended or is reported alive at exit */
	ck_assert_int_eq(jint(root, "threads.exited") + jint(root, "threads.alive_at_exit"),
			 30000);
	ck_assert_int_le(jint(root, "threads.alive_at_exit"), 2);
	json_decref(root);
	run_free(&t);
	argv = fx("storm", "30000", NULL);
	rss_pair(argv, &nat, &tr);
	ck_assert_msg(tr < 2 * nat + 16384, "storm: %ld KB natively, %ld KB with the shim", nat, tr);
	free(argv[0]);
}
END_TEST

/* Bytes of [off, off + len) of the file at path that hold data (not holes). */
static long long allocated_in(const char *path, off_t off, off_t len)
{
	int fd = open(path, O_RDONLY);
	off_t at = off, end = off + len, data, hole;
	long long n = 0;
	ck_assert_int_ge(fd, 0);
	while (at < end && (data = lseek(fd, at, SEEK_DATA)) >= 0 && data < end) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		n += hole - data;
		at = hole;
	}
	close(fd);
	return n;
}

/* The indexes grow with what they hold: a program with a few hundred locks (or lock-order
 * edges) touches a few pages of them, not all 512 KB (D8's memory, mostly the indexes); one
 * with many grows them, and every lock is still found: each is one record with both its
 * acquisitions. */
START_TEST(object_index_grows_with_the_objects)
{
	static const struct {
		const char *n, *mode;
		long long at_most, at_least;   /* of the object index, or with mode 3 the edges' */
	} c[] = {{"300", "1", 32 * 1024, 0}, {"20000", "1", 512 * 1024, 64 * 1024},
		 {"300", "3", 32 * 1024, 0}, {"12000", "3", 256 * 1024, 128 * 1024}};
	char **argv = fx("mchurn", c[_i].n, c[_i].mode);
	int edges = strcmp(c[_i].mode, "3") == 0;
	struct run_result r;
	struct track_seg_header h;
	char err[512], seg[512];
	json_t *root = traced((char *[]){"--keep", NULL}, argv, NULL, &r), *locks, *l;
	long long acq = 0, idx;
	size_t i;
	ck_assert_int_eq(r.status, 0);
	want_ints(root, "overflow.objects_not_tracked=0");
	locks = json_object_get(root, "locks");
	ck_assert_int_eq(json_array_size(locks), atol(c[_i].n) + edges);
	json_array_foreach(locks, i, l)
		acq += jint(l, "acquisitions");
	ck_assert_int_eq(acq, 2 * atol(c[_i].n) * (1 + edges));
	snprintf(seg, sizeof seg, "%s", jstr(root, "process.segment"));
	ck_assert_int_eq(track_seg_header(seg, &h, NULL, err, sizeof err), 0);
	if (edges)
		want_ints(root, "overflow.edges_not_recorded=0");
	idx = edges ? allocated_in(seg, (off_t)h.edge_index_off, (off_t)h.edge_index_slots * 4)
		    : allocated_in(seg, (off_t)h.hash_off, (off_t)h.hash_slots * 4);
	ck_assert_msg(idx <= c[_i].at_most && idx >= c[_i].at_least,
		      "%s objects, mode %s: %lld bytes of the %u-slot index allocated", c[_i].n,
		      c[_i].mode, idx, edges ? h.edge_index_slots : h.hash_slots);
	unlink(seg);
	json_decref(root);
	run_free(&r);
	free(argv[0]);
}
END_TEST

/* D16: beyond the object table's capacity every new lock cost a stack capture and the shim
 * lock.  Now the excess goes untracked cheaply, and is counted. */
START_TEST(more_live_locks_than_the_table_holds)
{
	struct run_result t;
	json_t *root = clean("mchurn", "200000", "2", &t);
	ck_assert_int_gt(jint(root, "overflow.objects_not_tracked"), 0);
	json_decref(root);
	run_free(&t);
}
END_TEST

/* --- false reports ------------------------------------------------------------------------ */

/* D9: a signal handler's sem_post refilled the cache entry the interrupted lock path was
 * reading: false unlock-unlocked and exit-holding-lock, and --error-exitcode failed. */
START_TEST(handler_calls_do_not_corrupt_the_interrupted_lock_path)
{
	clean_only("sigreal", "30000000", "256");
}
END_TEST

/* D10: a signal as a thread started registered it twice: 2,000 joined threads, 1,126 of them
 * "alive at exit". */
START_TEST(signal_at_thread_start_makes_no_ghost)
{
	struct run_result t;
	json_t *root = clean("sigghost", "2000", NULL, &t);
	want_ints(root, "threads.created=2000 threads.joined=2000 threads.alive_at_exit=0 "
			"threads.foreign=0 threads.peak<=2");
	json_decref(root);
	run_free(&t);
}
END_TEST

/* D11: more than 16 read-held rwlocks released oldest first: false unlock-unlocked. */
START_TEST(more_read_locks_held_than_listed)
{
	clean_only("rw17", NULL, NULL);
	clean_only("nest", "100", "7");
	clean_only("nest", "200", "11");
}
END_TEST

/* D12: a longjmp out of a blocked lock left the wait standing: a false deadlock ended the
 * program.  The wait is closed when the thread is next seen taking a lock. */
START_TEST(longjmp_out_of_a_wait_is_no_deadlock)
{
	struct run_result t;
	json_t *root = clean("longjmp", NULL, NULL, &t);
	ck_assert_str_eq(t.out, "no deadlock: done\n");
	ck_assert_int_eq(jint(root, "threads.stale_waits"), 1);
	json_decref(root);
	run_free(&t);
}
END_TEST

/* The other side of D12: a handler that interrupts a wait and takes a lock does not end the
 * wait (it goes on after the handler). */
START_TEST(handler_inside_a_wait_leaves_it_standing)
{
	struct run_result t;
	json_t *root = clean("sighandler", NULL, NULL, &t);
	ck_assert_int_eq(jint(root, "threads.stale_waits"), 0);
	json_decref(root);
	run_free(&t);
}
END_TEST

/* --- found by review of the fixed shim ------------------------------------------------- */

/* Blocking every signal around pthread_create (to keep signal handlers off a thread not yet
 * registered) deadlocked: glibc's set*id broadcast, and a collector suspending threads,
 * each wait for a creator that waits for glibc's stack-cache lock with signals blocked. */
START_TEST(thread_creation_takes_signals)
{
	clean_says("setxid", "3", NULL, "setxid done\n");
	clean_says("stwcreate", "20000", NULL, "stwcreate 20000 cycles done\n");
}
END_TEST

/* A thread on a stack of its own (a coroutine's) made the unwinder walk off that stack into
 * other mappings; odd call-frame info made it follow an offset as a pointer: SIGSEGV. */
START_TEST(foreign_stacks_and_odd_frame_info)
{
	clean_says("coro", NULL, NULL, "coroutine ran\n");
	clean_says("weirdcfi", NULL, NULL, "weird call-frame info survived\n");
}
END_TEST

/* Threads made with an attribute signal mask could take a signal before registration. */
START_TEST(attribute_signal_mask_makes_no_ghost)
{
	struct run_result t;
	json_t *root = clean("sigmaskattr", "2000", NULL, &t);
	want_ints(root, "threads.created=2000 threads.alive_at_exit=0 threads.foreign=0");
	json_decref(root);
	run_free(&t);
}
END_TEST

/* Fork handlers of libraries loaded before the shim (jemalloc's) ran in the child while the
 * shim still held the parent's state: the child hung on a lock another thread had held. */
START_TEST(fork_handlers_of_other_libraries)
{
	char *env;
	struct run_result t;
	json_t *root;
	ck_assert_int_ge(asprintf(&env, "LD_PRELOAD=%s", jemalloc_path()), 0);
	root = clean_env("forks", "300", NULL, (char *[]){env, NULL}, &t);
	ck_assert_str_eq(t.out, "300 forks done\n");
	json_decref(root);
	run_free(&t);
	free(env);
}
END_TEST

/* Recycling idle records under threads that had just looked them up: false exit-holding-lock
 * and lock-order cycles in a program that always locks in address order. */
START_TEST(records_recycled_under_busy_threads)
{
	struct run_result t;
	json_t *root = clean_env("recycle", NULL, NULL, (char *[]){"TRACK_MAX_OBJECTS=16", NULL},
				 &t);
	ck_assert_int_gt(jint(root, "overflow.object_records_recycled") +
				 jint(root, "overflow.objects_not_tracked"), 0);
	json_decref(root);
	run_free(&t);
}
END_TEST

/* --- hostile files ------------------------------------------------------------------------ */

/* A directory anyone may write to (mode 1777), as a shared TRACK_DIR is. */
static const char *shared_dir(const char *name)
{
	const char *d = tmp_path(name);
	ck_assert_int_eq(mkdir(d, 01777), 0);
	ck_assert_int_eq(chmod(d, 01777), 0);
	ck_assert_int_eq(chmod(tmp_dir(), 0711), 0);   /* other users may reach it */
	return d;
}

/* D2, the shim: another user plants a FIFO under the very name the program's segment is to
 * have.  The shim opened it to look, and blocked before main for ever. */
START_TEST(planted_fifo_does_not_hang_the_program)
{
	const char *dir = shared_dir("shared"), *out = tmp_path("fifo.out");
	char fifo[700], seg[700], buf[64] = "";
	char **argv = fx("rw17", NULL, NULL);
	pid_t pid;
	FILE *f;
	pid = stopped_child(argv, (char *[]){shim_preload(), trackdir_env(dir), "TRACK_KEEP=1", NULL},
			    out);
	snprintf(fifo, sizeof fifo, "%s/track.%u.%d.0", dir, (unsigned)getuid(), (int)pid);
	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	ck_assert_int_eq(chown(fifo, NOBODY, NOBODY), 0);
	kill(pid, SIGCONT);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	ck_assert_str_eq(buf, "rw17 ok\n");
	/* stepped over, untouched; the segment took the next generation */
	snprintf(seg, sizeof seg, "%s/track.%u.%d.1", dir, (unsigned)getuid(), (int)pid);
	ck_assert_int_eq(access(seg, F_OK), 0);
	ck_assert_int_eq(access(fifo, F_OK), 0);
	unlink(seg);
	unlink(fifo);
	free(argv[0]);
}
END_TEST

/* A command of track under a hard time limit, so that a hang fails the test. */
static void run_track_limited(char *const args[], char *const env[], struct run_result *r)
{
	char *argv[32] = {"timeout", "-s", "KILL", "30", (char *)tool_path()};
	size_t i;
	for (i = 0; args[i] && i < 26; i++)
		argv[5 + i] = args[i];
	argv[5 + i] = NULL;
	run(argv, NULL, env, r);
	ck_assert_msg(r->status != 137, "track %s hung (killed after 30 s)", args[0]);
}

/* D2, the tools: a FIFO, a link and garbage under segment names hung every command. */
START_TEST(planted_files_do_not_hang_or_mislead_the_tools)
{
	const char *dir = shared_dir("planted");
	char path[700], garbage[700], *env[] = {trackdir_env(dir), NULL};
	struct run_result r;
	unsigned uid = getuid();
	int fd;
	snprintf(path, sizeof path, "%s/track.%u.2.0", dir, uid);
	ck_assert_int_eq(mkfifo(path, 0666), 0);
	snprintf(path, sizeof path, "%s/track.%u.3.0", dir, uid);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof path, "%s/track.%u.4.0", dir, uid);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(garbage, sizeof garbage, "%s/track.%u.999999.0", dir, uid);
	fd = open(garbage, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_eq(write(fd, "TRACKSEG garbage", 16), 16);
	close(fd);

	run_track_limited((char *[]){"ls", NULL}, env, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	run_track_limited((char *[]){"report", "2", NULL}, env, &r);
	ck_assert_int_eq(r.status, 5);   /* no segment of pid 2: the FIFO is not one */
	run_free(&r);
	snprintf(path, sizeof path, "%s/track.%u.2.0", dir, uid);
	run_track_limited((char *[]){"report", path, NULL}, env, &r);
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "not a regular file"));
	run_free(&r);
	snprintf(path, sizeof path, "%s/track.%u.3.0", dir, uid);
	run_track_limited((char *[]){"report", path, NULL}, env, &r);
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "symbolic link"));
	run_free(&r);
	run_track_limited((char *[]){"run", "--", "/bin/echo", "x", NULL}, env, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "x\n");
	run_free(&r);
	run_track_limited((char *[]){"clean", NULL}, env, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	ck_assert_int_eq(access("/etc/passwd", F_OK), 0);   /* a link is never followed */
}
END_TEST

/* D14: a file another user planted with a higher generation and a forged header made
 * `track report PID` refuse the user's own process. */
START_TEST(forged_higher_generation_is_ignored)
{
	const char *dir = shared_dir("forged");
	char real[700], forged[700], pidstr[16];
	struct track_seg_header h;
	struct run_result r;
	FILE *out;
	int fd, st;
	pid_t pid;
	pid = start_live(2, (char *[]){shim_preload(), trackdir_env(dir), NULL}, &out);
	snprintf(real, sizeof real, "%s/track.%u.%d.0", dir, (unsigned)getuid(), (int)pid);
	snprintf(forged, sizeof forged, "%s/track.%u.%d.7", dir, (unsigned)getuid(), (int)pid);
	fd = open(real, O_RDONLY);
	ck_assert_int_eq(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
	close(fd);
	h.exec_gen = 7;
	fd = open(forged, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_eq(write(fd, &h, sizeof h), (ssize_t)sizeof h);
	close(fd);
	ck_assert_int_eq(chown(forged, NOBODY, NOBODY), 0);
	snprintf(pidstr, sizeof pidstr, "%d", (int)pid);
	run_track_limited((char *[]){"report", "--keep", pidstr, NULL},
		      (char *[]){trackdir_env(dir), NULL}, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "fx_threads live"));
	run_free(&r);
	waitpid(pid, &st, 0);
	fclose(out);
	unlink(forged);
}
END_TEST

/* D13: a TRACK_DIR too long for a segment's name was cut silently, and the shim replaced the
 * file the cut name happened to name; so did `track clean`. */
START_TEST(long_track_dir_is_refused_not_cut)
{
	const char *dir = tmp_path("envdir");
	char longdir[700], sub[700], victim[700], seg[700], *env[3];
	const char *precious;
	char buf[64] = "";
	struct run_result r;
	size_t n;
	FILE *f;
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	precious = write_tmp("envdir/precious.txt", "my precious notes\n");
	/* dir/././...precious.txt, 511 characters: with "/track..." after it, too long */
	n = (size_t)snprintf(longdir, sizeof longdir, "%s/", dir);
	while (n + 2 + strlen("precious.txt") <= 511)
		n += (size_t)snprintf(longdir + n, sizeof longdir - n, "./");
	snprintf(longdir + n, sizeof longdir - n, "precious.txt");
	env[0] = shim_preload();
	env[1] = trackdir_env(longdir);
	env[2] = NULL;
	run((char *[]){"/bin/true", NULL}, NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "libtrack: TRACK_DIR is too long"));
	run_free(&r);
	f = fopen(precious, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	ck_assert_str_eq(buf, "my precious notes\n");

	/* track clean with a TRACK_DIR whose entries' names do not fit: removes nothing */
	n = (size_t)snprintf(sub, sizeof sub, "%s/", dir);
	while (n + 2 + strlen("subx") <= 505)
		n += (size_t)snprintf(sub + n, sizeof sub - n, "./");
	snprintf(sub + n, sizeof sub - n, "subx");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(victim, sizeof victim, "%s/subx/track", dir);
	snprintf(seg, sizeof seg, "%s/subx/track.%u.999999.0", dir, (unsigned)getuid());
	fclose(fopen(victim, "w"));
	fclose(fopen(seg, "w"));
	run_track_limited((char *[]){"clean", NULL}, (char *[]){trackdir_env(sub), NULL}, &r);
	ck_assert_int_eq(access(victim, F_OK), 0);
	ck_assert_int_eq(access(seg, F_OK), 0);
	ck_assert_ptr_null(strstr(r.out, "removed"));
	run_free(&r);
}
END_TEST

/* --- needs root -------------------------------------------------------------------------- */

/* A tmpfs of size bytes on dir, private to this test's mount namespace (the test's process
 * and what it starts from now on). */
static void private_tmpfs(const char *dir, const char *size)
{
	char opts[64];
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(opts, sizeof opts, "size=%s", size);
	ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", 0, opts), 0);
}

/* A small private tmpfs on a new directory of the test's. */
static const char *small_tmpfs(const char *name, const char *size)
{
	const char *d = tmp_path(name);
	ck_assert_int_eq(mkdir(d, 0700), 0);
	private_tmpfs(d, size);
	return d;
}

/* By default segments go to a directory of the user's own, closed to others, made by the
 * first process that needs it.  The test's /dev/shm is a tmpfs of its own: the directory is
 * made from nothing, and nothing the test makes can be left in the user's real one. */
START_TEST(default_directory_is_private)
{
	char dir[300], marker[64], *line;
	char *env[] = {shim_preload(), "TRACK_DIR", "TRACK_KEEP=1", NULL};
	struct run_result r;
	struct stat st;
	int pid;
	private_tmpfs("/dev/shm", "64m");
	snprintf(dir, sizeof dir, "/dev/shm/track-%u", (unsigned)getuid());
	snprintf(marker, sizeof marker, "marker-%d", (int)getpid());
	ck_assert_int_ne(lstat(dir, &st), 0);
	run(fx("fds", marker, NULL), NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	ck_assert_int_eq(lstat(dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(st.st_uid, getuid());
	/* and the tools find it there */
	run_track_limited((char *[]){"ls", NULL}, (char *[]){"TRACK_DIR", NULL}, &r);
	line = strstr(r.out, marker);
	ck_assert_msg(line != NULL, "track ls does not list it: %s", r.out);
	while (line > r.out && line[-1] != '\n')
		line--;
	ck_assert_int_eq(sscanf(line, "%d", &pid), 1);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	/* without TRACK_KEEP, the same clean exit leaves nothing there */
	run_track_limited((char *[]){"clean", NULL}, (char *[]){"TRACK_DIR", NULL}, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "removed"));
	run_free(&r);
	env[2] = NULL;
	run(fx("fds", marker, NULL), NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	run_track_limited((char *[]){"ls", NULL}, (char *[]){"TRACK_DIR", NULL}, &r);
	ck_assert_str_eq(r.out, "no segments\n");
	run_free(&r);
}
END_TEST

/* D3: a full TRACK_DIR file system killed programs (and the tools) with SIGBUS at their
 * first write to a new page of the segment. */
START_TEST(full_file_system_kills_nothing)
{
	const char *dir = small_tmpfs("small", "4m");
	char fill[700], *env[4];
	struct run_result r;
	json_t *root;
	int fd;
	env[0] = shim_preload();
	env[1] = trackdir_env(dir);
	env[2] = "TRACK_KEEP=1";   /* the segment of its clean exit is read below */
	env[3] = NULL;
	/* a segment that outgrows the 4 MB: tables stop growing, the program goes on */
	run(fx("mchurn", "100000", "1"), NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "mchurn 100000 mode 1 done\n");
	run_free(&r);
	/* reading it while the file system is full */
	snprintf(fill, sizeof fill, "%s/fill", dir);
	fd = open(fill, O_WRONLY | O_CREAT, 0600);
	while (write(fd, fill, sizeof fill) > 0)
		;
	close(fd);
	run_track_limited((char *[]){"ls", NULL}, env + 1, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "fx_safety mchurn"));
	run_free(&r);
	root = run_track_json(NULL, (char *[]){"/bin/echo", "hello", NULL}, env + 1, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "hello\n");
	ck_assert_ptr_nonnull(strstr(r.err, "this process is not traced"));
	json_decref(root);
	run_free(&r);
	run_track_limited((char *[]){"clean", NULL}, env + 1, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "removed"));
	run_free(&r);
	/* what the segment could not hold is said */
	unlink(fill);
	root = run_track_json(NULL, fx("mchurn", "100000", "1"), env + 1, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_gt(jint(root, "overflow.storage_failures"), 0);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Found by review: with the file system full, making threads swept the thread table past
 * the records in use, onto pages never populated: SIGBUS. */
START_TEST(threads_made_on_a_full_file_system)
{
	const char *dir = small_tmpfs("tiny", "1m");
	char fill[700];
	struct run_result r;
	snprintf(fill, sizeof fill, "%s/fill", dir);
	run(fx("fillfs", fill, NULL), NULL, (char *[]){shim_preload(), trackdir_env(dir), NULL},
	    &r);
	ck_assert_msg(r.status == 0, "exit status %d: %s", r.status, r.err);
	ck_assert_str_eq(r.out, "200 threads made on a full file system\n");
	run_free(&r);
}
END_TEST

/* D3 at Docker's default /dev/shm size: five processes of one run side by side. */
START_TEST(five_processes_in_64_mb)
{
	const char *dir = small_tmpfs("docker", "64m");
	char cmd[900];
	struct run_result r;
	json_t *root;
	snprintf(cmd, sizeof cmd,
		 "for i in 1 2 3 4 5; do %s mchurn 100000 1 & done; wait", fixture("fx_safety"));
	root = run_track_json(NULL, (char *[]){"sh", "-c", cmd, NULL},
			      (char *[]){trackdir_env(dir), NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(r.out, "mchurn 100000 mode 1 done\nmchurn 100000 mode 1 done\n"
				"mchurn 100000 mode 1 done\nmchurn 100000 mode 1 done\n"
				"mchurn 100000 mode 1 done\n");
	ck_assert_int_ge(json_array_size(json_object_get(root, "other_processes")), 5);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* D5: a setuid program linked with -ltrack obeyed its caller's TRACK_* variables: an
 * unprivileged user had root create files of chosen name and size.  Such a program now
 * runs with a passive shim: it creates nothing, anywhere. */
START_TEST(setuid_program_gets_a_passive_shim)
{
	const char *base = tmp_path("suid");
	char prog[600], sgid[600], rootonly[600], cmd[2000];
	char mine[64], *env[5];
	struct run_result r;
	struct stat st;
	int mine_existed;
	ck_assert_int_eq(mkdir(base, 0755), 0);
	ck_assert_int_eq(chmod(base, 0755), 0);
	ck_assert_int_eq(chmod(tmp_dir(), 0711), 0);   /* nobody runs the programs in it */
	snprintf(prog, sizeof prog, "%s/suid", base);
	snprintf(sgid, sizeof sgid, "%s/sgid", base);
	snprintf(rootonly, sizeof rootonly, "%s/rootonly", base);
	ck_assert_int_eq(mkdir(rootonly, 0700), 0);
	snprintf(cmd, sizeof cmd, "cp %s %s && cp %s %s", fixture("fx_linked"), prog,
		 fixture("fx_linked"), sgid);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(chown(prog, 0, 0), 0);
	ck_assert_int_eq(chmod(prog, 04755), 0);
	ck_assert_int_eq(chown(sgid, 0, 0), 0);
	ck_assert_int_eq(chmod(sgid, 02755), 0);
	snprintf(mine, sizeof mine, "/dev/shm/track-%d", NOBODY);
	mine_existed = lstat(mine, &st) == 0;
	env[0] = trackdir_env(rootonly);
	env[1] = "TRACK_MAX_THREADS=4194304";
	env[2] = "TRACK_MAX_OBJECTS=16777216";
	env[3] = "TRACK_STACKS=1";
	env[4] = NULL;
	run_as(NOBODY, NOBODY, (char *[]){prog, NULL}, NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "counter 3000\n");
	run_free(&r);
	run_as(NOBODY, NOBODY, (char *[]){sgid, NULL}, NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", rootonly);
	ck_assert_msg(system(cmd) == 0, "the setuid program created files in %s", rootonly);
	ck_assert_msg(mine_existed || lstat(mine, &st) != 0, "%s was created", mine);
	/* the same program without the bit is traced, as its user */
	ck_assert_int_eq(chmod(prog, 0755), 0);
	snprintf(cmd, sizeof cmd, "%s/open", base);
	ck_assert_int_eq(mkdir(cmd, 0777), 0);
	ck_assert_int_eq(chmod(cmd, 0777), 0);
	env[0] = trackdir_env(cmd);
	env[3] = "TRACK_KEEP=1";   /* its clean exit would take the segment looked for below */
	run_as(NOBODY, NOBODY, (char *[]){prog, NULL}, NULL, env, &r);
	run_free(&r);
	snprintf(cmd, sizeof cmd, "ls %s/open | grep -q '^track\\.%d\\.'", base, NOBODY);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", base);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	/* the tests of case "root" (other users, setuid, mount namespaces) last */
	const struct test_def tests[] = {
		TEST("shim", deadlock_walk_survives_waits_ending_under_it),
		TEST("shim", thread_suspended_in_a_handler_blocks_nobody),
		TEST("shim", threads_with_small_stacks),
		TEST("shim", no_cancellation_point_where_the_call_has_none),
		TEST("shim", libgcc_is_mapped_only_as_natively),
		TEST("shim", no_descriptor_opened_in_the_program),
		TEST("shim", thread_storm_memory_is_bounded),
		TEST("shim", more_live_locks_than_the_table_holds),
		LOOP_TEST("shim", object_index_grows_with_the_objects, 4),
		TEST("shim", handler_calls_do_not_corrupt_the_interrupted_lock_path),
		TEST("shim", signal_at_thread_start_makes_no_ghost),
		TEST("shim", more_read_locks_held_than_listed),
		TEST("shim", longjmp_out_of_a_wait_is_no_deadlock),
		TEST("shim", handler_inside_a_wait_leaves_it_standing),
		TEST("shim", long_track_dir_is_refused_not_cut),
		TEST("shim", thread_creation_takes_signals),
		TEST("shim", foreign_stacks_and_odd_frame_info),
		TEST("shim", attribute_signal_mask_makes_no_ghost),
		TEST("shim", fork_handlers_of_other_libraries),
		TEST("shim", records_recycled_under_busy_threads),
		TEST("root", planted_fifo_does_not_hang_the_program),
		TEST("root", planted_files_do_not_hang_or_mislead_the_tools),
		TEST("root", forged_higher_generation_is_ignored),
		TEST("root", full_file_system_kills_nothing),
		TEST("root", five_processes_in_64_mb),
		TEST("root", threads_made_on_a_full_file_system),
		TEST("root", setuid_program_gets_a_passive_shim),
		TEST("root", default_directory_is_private),
	};
	size_t n = ARRAY_SIZE(tests), shim = n;
	while (shim > 0 && strcmp(tests[shim - 1].tcase, "root") == 0)
		shim--;
	if (geteuid() != 0) {
		fprintf(stderr, "test_safety: not root: the %zu tests of case \"root\" (other "
				"users, setuid, mount namespaces) are left out, not passed\n",
			n - shim);
		n = shim;
	}
	return run_tests("safety", 120, tests, n);
}

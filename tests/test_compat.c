/*
 * test_compat.c — more real programs nobody here wrote, natively and under `track run`
 * (issue 14): a threaded server under its own benchmark client on loopback (memcached and
 * memcslap), a JVM running a multi-threaded program, node's libuv thread pool, a C++ program
 * built on std::thread, std::mutex and std::condition_variable (pzstd), git with threads
 * (grep, index-pack), sysbench and stress-ng mutex and thread workloads, a program that forks
 * and execs threaded children (make -j2), and one that dlopens a library that creates
 * threads and dlcloses it (python3 with libzstd).  test_real.c has the first ones (sqlite3,
 * CPython, xz, sort, zstd, pigz, dig, redis); realprog.h what both share.
 *
 * Each program must behave the same under the shim: exit status, stdout and stderr (byte
 * for byte; where a program prints timings or process ids, those and only those are masked:
 * same_normalised), no finding of severity error or warning (informational ones are
 * printed), and a report that shows the threads the program really made (else the test
 * proves nothing).  A program that is not installed is not run: the suite says which and
 * exits 77, which CTest reports as skipped, never as passed (.ci/setup installs them all).
 */
#define _GNU_SOURCE
#include <check.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "realprog.h"

#define SKIPPED 77   /* CTest's SKIP_RETURN_CODE for this suite (tests/CMakeLists.txt) */

static const char *compat_file(const char *name)
{
	static char path[600];
	snprintf(path, sizeof path, "%s/%s", COMPAT_DIR, name);
	return path;
}

/* 200,000 lines of the generated text (~4 MB): enough for two blocks of xz -T2 -1. */
static void write_small(FILE *f)
{
	write_text_lines(f, 200000);
}

static const char *small_text(void)
{
	return input_file("small.txt", write_small);
}

/* Informational findings are true statements about a correct program: shown, not failed. */
static void print_info(const char *prog, json_t *root)
{
	if (count_findings(root, NULL) > 0)
		fprintf(stderr, "%s: informational findings: %s\n", prog, findings_text(root));
}

/* The threads of the report's list whose name is name (exactly). */
static int threads_named(json_t *root, const char *name)
{
	json_t *t;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(json_object_get(root, "threads"), "list"), i, t)
		n += jstr(t, "name") != NULL && strcmp(jstr(t, "name"), name) == 0;
	return n;
}

/* The program's locks were taken more than acquisitions times, and its threads waited on
   condvars. */
static void locked_and_waited(json_t *root, long long acquisitions)
{
	ck_assert_int_gt(sum_field(root, "locks", "acquisitions"), acquisitions);
	ck_assert_int_gt(sum_field(root, "condvars", "waits"), 0);
}

/* --- outputs with timings ------------------------------------------------------------------ */

/* s with what changes from run to run masked: every decimal fraction ("0.569", "2.04s")
   becomes "#.#" (the spaces before it, which align it by its width, one space) and every
   bracketed number ("[6291]", a process id) "[#]".  Whole numbers
   elsewhere (counts of keys, threads, events) stay as they are. */
static char *normalised(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	ck_assert_ptr_nonnull(out);
	while (*s) {
		size_t d = strspn(s, "0123456789");
		if (d > 0 && s[d] == '.' && s[d + 1] >= '0' && s[d + 1] <= '9') {
			s += d + 1;
			s += strspn(s, "0123456789");
			if (o > out && o[-1] == ' ') {   /* the padding of a right-aligned figure */
				while (o > out && o[-1] == ' ')
					o--;
				*o++ = ' ';
			}
			o = stpcpy(o, "#.#");
		} else if (*s == '[' && (d = strspn(s + 1, "0123456789")) > 0 && s[d + 1] == ']') {
			s += d + 2;
			o = stpcpy(o, "[#]");
		} else if (d > 0) {
			memcpy(o, s, d);
			o += d;
			s += d;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static void same_normalised(const char *prog, const char *what, const char *nat, const char *tr)
{
	char *a = normalised(nat), *b = normalised(tr);
	ck_assert_msg(strcmp(a, b) == 0, "%s: %s differs under track (timings and pids masked):\n"
		      "native:\n%s\ntraced:\n%s", prog, what, a, b);
	free(a);
	free(b);
}

/* argv natively and traced (stdin /dev/null, env added), outputs compared with timings and
   pids masked; asserts what run_both() does for every correct program otherwise. */
static void run_both_masked(char *const argv[], char *const env[], struct both *b)
{
	run(argv, NULL, env, &b->nat);
	b->root = traced(NULL, argv, env, &b->tr);
	ck_assert_msg(b->tr.status == b->nat.status, "%s: exit status %d natively, %d traced: %s",
		      argv[0], b->nat.status, b->tr.status, b->tr.err);
	same_normalised(argv[0], "stdout", b->nat.out, b->tr.out);
	same_normalised(argv[0], "stderr", b->nat.err, b->tr.err);
	ck_assert_int_eq(jint(b->root, "process.exit_code"), b->nat.status);
	ck_assert_int_eq(jint(b->root, "threads.not_tracked"), 0);
	ck_assert_msg(count_serious(b->root) == 0, "%s: findings in a correct program: %s",
		      argv[0], findings_text(b->root));
	print_info(argv[0], b->root);
}

START_TEST(normalised_masks_only_timings)
{
	char *s = normalised("stress-ng: info:  [6291] completed in 2.04s, 20000 keys by 4 "
			     "threads: 0.569 seconds [x] [12 3] v1.2\n  max:     12.25\n  id:    7");
	ck_assert_str_eq(s, "stress-ng: info:  [#] completed in #.#s, 20000 keys by 4 "
			 "threads: #.# seconds [x] [12 3] v#.#\n  max: #.#\n  id:    7");
	free(s);
}
END_TEST

/* --- memcached under memcslap on loopback ---------------------------------------------------- */

static void stop_by_sigterm(const char *port, pid_t pid)
{
	(void)port;
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
}

/* memcached with 4 worker threads (libevent), listening on loopback only; -u when root,
   which memcached otherwise refuses. */
static const char *const memcached_srv[] = {
	"memcached", "-l", "127.0.0.1", "-p", "{port}", "-U", "0", "-t", "4", NULL};
static const char *const memcached_srv_root[] = {
	"memcached", "-l", "127.0.0.1", "-p", "{port}", "-U", "0", "-t", "4", "-u", "nobody",
	NULL};

START_TEST(memcached_under_memcslap)
{
	/* memcslap (libmemcached-tools) is C++: 4 std::threads each setting then getting 5,000
	   keys, over the binary protocol. */
	static const char *const tests[] = {"set", "get"};
	char *srv_json = (char *)tmp_path("memcached.json"), *cli_json = (char *)tmp_path("slap.json");
	struct server_bench mc = {"memcached", geteuid() == 0 ? memcached_srv_root : memcached_srv,
				  NULL, stop_by_sigterm};
	struct run_result nat, tr;
	json_error_t e;
	json_t *srv, *cli;
	size_t i;
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		const char *slap[] = {"memcslap", "-s", "127.0.0.1:{port}", "-b", "-c", "4", "-e",
				      "5000", "-t", tests[i], NULL};
		mc.client = slap;
		ck_assert_int_eq(server_round(&mc, 0, NULL, NULL, &nat), 0);
		ck_assert_int_eq(server_round(&mc, 1, srv_json, cli_json, &tr), 0);
		ck_assert_msg(nat.status == 0, "memcslap: %d: %s", nat.status, nat.err);
		ck_assert_msg(tr.status == 0, "memcslap under track: %d: %s", tr.status, tr.err);
		want_text(nat.out, "20000 keys by    4 threads", NULL);
		same_normalised("memcslap", "stdout", nat.out, tr.out);
		same_normalised("memcslap", "stderr", nat.err, tr.err);
		srv = json_load_file(srv_json, 0, &e);
		ck_assert_msg(srv != NULL, "no report from the traced memcached: %s", e.text);
		cli = json_load_file(cli_json, 0, &e);
		ck_assert_msg(cli != NULL, "no report from the traced memcslap: %s", e.text);
		ck_assert_int_eq(jint(srv, "process.exit_code"), 0);
		ck_assert_msg(count_serious(srv) == 0, "memcached: %s", findings_text(srv));
		ck_assert_msg(count_serious(cli) == 0, "memcslap: %s", findings_text(cli));
		print_info("memcached", srv);
		/* memcached 1.6: the 4 workers of -t 4 ("mc-worker"), and its own threads
		   (logger, hash table, item crawler, LRU and slab maintainers), all left
		   running when SIGTERM ends it */
		ck_assert_int_eq(threads_named(srv, "mc-worker"), 4);
		ck_assert_int_ge(jint(srv, "threads.created"), 5);
		ck_assert_int_eq(jint(srv, "threads.not_tracked"), 0);
		thread_list_consistent(srv);
		ck_assert_int_gt(sum_field(srv, "locks", "acquisitions"), 20000);
		/* the client's 4 std::threads, each joined */
		ck_assert_int_eq(jint(cli, "threads.created"), 4);
		all_joined(cli);
		json_decref(srv);
		json_decref(cli);
		run_free(&nat);
		run_free(&tr);
	}
}
END_TEST

/* --- a JVM ----------------------------------------------------------------------------------- */

START_TEST(jvm_workers)
{
	/* A bounded heap and the serial collector (no collector threads), C1 only: quick to
	   start.  The options of the environment that would make java print "Picked up ..."
	   are removed. */
	char *argv[] = {"java", "-Xmx64m", "-Xss512k", "-XX:+UseSerialGC",
			"-XX:TieredStopAtLevel=1", (char *)compat_file("Workers.java"), NULL};
	char *env[] = {"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", NULL};
	struct both b;
	char name[32];
	int i;
	run_both_env(argv, NULL, NULL, env, &b);
	ck_assert_msg(b.nat.status == 0, "java: %d: %s", b.nat.status, b.nat.err);
	want_text(b.nat.out, "threads 4 tasks 16 ", " monitor 8000 lock 8000 map 10/8000\n", NULL);
	print_info("java", b.root);
	/* The JVM's own threads (VM thread, compiler, reference handler, finalizer...), and
	   the program's 4 pool threads, which the JVM names after their Java names. */
	for (i = 1; i <= 4; i++) {
		snprintf(name, sizeof name, "worker-%d", i);
		ck_assert_msg(threads_named(b.root, name) == 1, "no thread %s: %s", name,
			      dump(json_object_get(b.root, "threads")));
	}
	ck_assert_int_ge(jint(b.root, "threads.created"), 4 + 5);
	ck_assert_int_ge(jint(b.root, "threads.peak"), 5);
	thread_list_consistent(b.root);
	/* Java monitors and j.u.c locks park on the JVM's pthread mutexes and condvars. */
	locked_and_waited(b.root, 10000);
	both_free(&b);
}
END_TEST

/* --- node ------------------------------------------------------------------------------------ */

/* A thread the libuv pool started: its start routine is libuv's `worker` (libuv built into
   node), or lies in libuv.so (Debian's node, whose libuv is a stripped shared library). */
static int libuv_worker(json_t *t)
{
	json_t *sr = json_object_get(t, "start_routine");
	const char *fn = jstr(sr, "function"), *mod = jstr(sr, "module");
	return (fn != NULL && strcmp(fn, "worker") == 0) || (mod != NULL && strstr(mod, "/libuv.so"));
}

START_TEST(node_libuv_pool)
{
	/* 3 pool threads: neither libuv's default (4) nor node's platform workers' count (4). */
	char *argv[] = {"node", (char *)compat_file("pool.js"), NULL};
	char *env[] = {"UV_THREADPOOL_SIZE=3", "NODE_OPTIONS", NULL};
	json_t *t;
	struct both b;
	size_t i;
	int pool = 0;
	run_both_env(argv, NULL, NULL, env, &b);
	ck_assert_msg(b.nat.status == 0, "node: %d: %s", b.nat.status, b.nat.err);
	want_text(b.nat.out, "0 ", "\n11 ", " 524288\n", NULL);
	print_info("node", b.root);
	json_array_foreach(json_object_get(json_object_get(b.root, "threads"), "list"), i, t) {
		if (!libuv_worker(t))
			continue;
		pool++;
		/* libuv's destructor (uv_library_shutdown) stops and joins its pool at exit */
		ck_assert_msg(has_flag(t, "joined"), "pool thread not joined: %s", dump(t));
	}
	ck_assert_msg(pool == 3, "%d libuv pool threads in %s", pool,
		      dump(json_object_get(b.root, "threads")));
	ck_assert_int_ge(jint(b.root, "threads.created"), 3 + 1);
	thread_list_consistent(b.root);
	locked_and_waited(b.root, 0);
	both_free(&b);
}
END_TEST

/* --- a C++ program on std::thread, std::mutex, std::condition_variable ---------------------- */

/*
 * pzstd (Debian's zstd package) is the parallel zstd written in C++: a ThreadPool of
 * std::threads taking jobs from a WorkQueue (std::mutex, std::condition_variable wait and
 * notify), with a writer on the main thread; `nm -D` shows it imports std::thread's
 * _M_start_thread and join and std::condition_variable's wait, notify_one and notify_all.
 * The threads are joined when the pools go out of scope.
 */
START_TEST(pzstd_round_trip)
{
	char *comp[] = {"pzstd", "-q", "-p", "2", "-c", NULL};
	char *decomp[] = {"pzstd", "-q", "-d", "-p", "2", "-c", NULL};
	char *packed = (char *)tmp_path("input.txt.zst");
	const char *text = input_text();
	struct stat st;
	struct both b;
	int round;
	for (round = 0; round < 2; round++) {
		run_both(round == 0 ? comp : decomp, NULL, round == 0 ? text : packed, &b);
		ck_assert_msg(b.nat.status == 0, "pzstd: %d: %s", b.nat.status, b.nat.err);
		if (round == 0)
			write_bytes(packed, b.nat.out, b.nat.out_len);
		else
			ck_assert_uint_eq(b.nat.out_len, stat(text, &st) == 0 ? (size_t)st.st_size : 0);
		ck_assert_int_ge(jint(b.root, "threads.created"), 2);
		all_joined(b.root);
		locked_and_waited(b.root, 0);
		both_free(&b);
	}
}
END_TEST

/* --- git with threads ------------------------------------------------------------------------ */

/* The environment of every git run: no user or system configuration, fixed identities and
   dates (the same commit, pack and index every run). */
static char **git_env(void)
{
	static char home[600], *env[] = {home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
					 "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
					 "GIT_AUTHOR_DATE=1700000000 +0000", "GIT_COMMITTER_NAME=t",
					 "GIT_COMMITTER_EMAIL=t@example.org",
					 "GIT_COMMITTER_DATE=1700000000 +0000", "LC_ALL=C", NULL};
	snprintf(home, sizeof home, "HOME=%s", tmp_dir());
	return env;
}

/* `git -C dir args...` natively, which must succeed. */
static void git_ok(const char *dir, const char *const args[])
{
	char *argv[16] = {"git", "-C", (char *)dir};
	struct run_result r;
	size_t n = 3, i;
	for (i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	run(argv, NULL, git_env(), &r);
	ck_assert_msg(r.status == 0, "git %s: %d: %s", args[0], r.status, r.err);
	run_free(&r);
}

/* A repository of 200 generated files, committed and packed; its directory.  The files
   share most of their lines, so that the pack holds deltas (index-pack starts its threads
   only to resolve deltas). */
static const char *git_repo(void)
{
	const char *dir = tmp_path("repo");
	char path[700];
	uint64_t s;
	int f, l;
	git_ok(tmp_dir(), (const char *[]){"init", "-q", "repo", NULL});
	for (f = 0; f < 200; f++) {
		FILE *out;
		snprintf(path, sizeof path, "%s/file%03d.txt", dir, f);
		out = fopen(path, "w");
		ck_assert_ptr_nonnull(out);
		s = 7;
		for (l = 0; l < 400; l++)
			fprintf(out, "%s %016llx %d\n", lcg_next(&s) % 7 == 0 ? "needle" : "hay",
				(unsigned long long)lcg_next(&s), l == f ? -f : l);
		ck_assert_int_eq(fclose(out), 0);
	}
	git_ok(dir, (const char *[]){"add", "-A", NULL});
	git_ok(dir, (const char *[]){"commit", "-q", "-m", "files", NULL});
	git_ok(dir, (const char *[]){"repack", "-a", "-d", "-q", NULL});
	return dir;
}

/* git ran 2 threads of its own and joined them. */
static void git_threads(struct both *b)
{
	ck_assert_msg(b->nat.status == 0, "git: %d: %s", b->nat.status, b->nat.err);
	ck_assert_int_eq(jint(b->root, "threads.created"), 2);
	all_joined(b->root);
	ck_assert_int_gt(sum_field(b->root, "locks", "acquisitions"), 0);
	both_free(b);
}

START_TEST(git_grep_and_index_pack)
{
	const char *dir = git_repo();
	char pattern[700], *idx_nat = (char *)tmp_path("nat.idx"), *idx_tr = (char *)tmp_path("tr.idx");
	char *grep_tree[] = {"git", "-C", (char *)dir, "grep", "--threads=2", "-c", "needle", NULL};
	char *grep_head[] = {"git", "-C", (char *)dir, "grep", "--threads=2", "-n", "needle", "HEAD",
			     NULL};
	char *idx[] = {"git", "index-pack", "--threads=2", "-o", idx_nat, NULL, NULL};
	char *idx_t[] = {"git", "index-pack", "--threads=2", "-o", idx_tr, NULL, NULL};
	char *a, *b2;
	glob_t g;
	struct both b;
	/* grep in the work tree and in the commit's tree: 2 worker threads each */
	run_both_env(grep_tree, NULL, NULL, git_env(), &b);
	want_text(b.nat.out, "file000.txt:", "file199.txt:", NULL);
	git_threads(&b);
	run_both_env(grep_head, NULL, NULL, git_env(), &b);
	want_text(b.nat.out, "HEAD:file123.txt:", NULL);
	git_threads(&b);
	/* index-pack of the pack: 2 threads resolving deltas; the same index both ways */
	snprintf(pattern, sizeof pattern, "%s/.git/objects/pack/pack-*.pack", dir);
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 1);
	idx[5] = idx_t[5] = g.gl_pathv[0];
	run_both_env(idx, idx_t, NULL, git_env(), &b);
	a = slurp_file(idx_nat);
	b2 = slurp_file(idx_tr);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b2);
	ck_assert_msg(memcmp(a, b2, 8) == 0 && strcmp(b.nat.out, b.tr.out) == 0,
		      "index-pack made another index under track");
	free(a);
	free(b2);
	git_threads(&b);
	globfree(&g);
}
END_TEST

/* --- sysbench, stress-ng ----------------------------------------------------------------------- */

START_TEST(sysbench_mutex_and_threads)
{
	/* mutex: 2 threads each taking one of 64 mutexes 20,000 times; threads: 2,000 events
	   of 50 lock-yield-unlock rounds over 4 mutexes, shared by 2 threads. */
	char *mutex[] = {"sysbench", "mutex", "--threads=2", "--mutex-num=64",
			 "--mutex-locks=20000", "--mutex-loops=100", "run", NULL};
	char *threads[] = {"sysbench", "threads", "--threads=2", "--thread-yields=50",
			   "--thread-locks=4", "--events=2000", "--time=0", "run", NULL};
	struct both b;
	run_both_masked(mutex, NULL, &b);
	ck_assert_int_eq(b.nat.status, 0);
	want_text(b.nat.out, "Number of threads: 2", "total number of events:              2", NULL);
	ck_assert_int_eq(jint(b.root, "threads.created"), 2);
	all_joined(b.root);
	ck_assert_int_ge(sum_field(b.root, "locks", "acquisitions"), 2 * 20000);
	both_free(&b);
	run_both_masked(threads, NULL, &b);
	ck_assert_int_eq(b.nat.status, 0);
	want_text(b.nat.out, "total number of events:              2000", NULL);
	ck_assert_int_eq(jint(b.root, "threads.created"), 2);
	all_joined(b.root);
	ck_assert_int_ge(sum_field(b.root, "locks", "acquisitions"), 2000 * 50);
	both_free(&b);
}
END_TEST

/*
 * stress-ng forks a process per stressor: the mutex stressor (2 threads locking one mutex,
 * changing their own SCHED_FIFO priority between locks when allowed) and the pthread
 * stressor (threads made and ended over and over, at most 8 at once).  Bounded by time (-t
 * 2), not by operations: with --mutex-ops the first thread can finish all of them before
 * its creator checks stress-ng's stop flag, and stress-ng then reports "could not create
 * any pthreads" (a race of stress-ng's own, seen natively too with the same scheduling:
 * the shim makes pthread_create a little longer and so widens the window).
 */
START_TEST(stress_ng_mutex_pthread)
{
	char *argv[] = {"stress-ng", "--mutex", "1", "--pthread", "1", "--pthread-max", "8",
			"-t", "2", NULL};
	json_t *p;
	struct both b;
	size_t i;
	long long made = 0;
	run_both_masked(argv, NULL, &b);
	ck_assert_msg(b.nat.status == 0, "stress-ng: %d: %s", b.nat.status, b.nat.err);
	want_text(b.nat.err, "dispatching hogs: 1 mutex, 1 pthread", "successful run completed",
		  NULL);
	ck_assert_int_ge(json_array_size(json_object_get(b.root, "other_processes")), 2);
	json_array_foreach(json_object_get(b.root, "other_processes"), i, p) {
		ck_assert_int_eq(jint(p, "threads.not_tracked"), 0);
		made += jint(p, "threads.created");
	}
	ck_assert_int_ge(made, 2 + 8);
	both_free(&b);
}
END_TEST

/* --- fork and exec: make -j2 ------------------------------------------------------------------- */

START_TEST(make_forks_threaded_children)
{
	char in[700], out[700];
	char *argv[] = {"make", "-s", "-j2", "-f", (char *)compat_file("Makefile"), in, out, NULL};
	const char *const threaded[] = {"xz", "zstd", "pzstd"};
	json_t *p;
	struct both b;
	size_t i, j;
	int with_threads = 0;
	snprintf(in, sizeof in, "IN=%s", small_text());
	snprintf(out, sizeof out, "OUT=%s", tmp_dir());
	run_both(argv, NULL, NULL, &b);
	ck_assert_msg(b.nat.status == 0, "make: %d: %s", b.nat.status, b.nat.err);
	ck_assert_int_eq((int)strlen(b.nat.out) > 0, 1);
	/* make itself makes no thread; each recipe is a shell (forked, exec'd) running a
	   pipeline of programs, each a process with its own report */
	ck_assert_int_eq(jint(b.root, "threads.created"), 0);
	ck_assert_int_ge(json_array_size(json_object_get(b.root, "other_processes")), 4 * 3);
	json_array_foreach(json_object_get(b.root, "other_processes"), i, p) {
		const char *prog = json_string_value(json_array_get(
			json_object_get(json_object_get(p, "process"), "argv"), 0));
		/* known for _exit() only (the shim does not wrap exit(); a shell that exec'd has
		   none): a failed recipe fails make, whose status is compared */
		ck_assert_msg(jint(p, "process.exit_code") <= 0, "%s", dump(p));
		ck_assert_int_eq(jint(p, "threads.not_tracked"), 0);
		for (j = 0; prog && j < ARRAY_SIZE(threaded); j++)
			with_threads += strcmp(prog, threaded[j]) == 0 &&
					jint(p, "threads.created") > 0;
	}
	/* xz -T2, zstd -T2 both ways, pzstd both ways */
	ck_assert_msg(with_threads >= 4, "%d children made threads", with_threads);
	both_free(&b);
}
END_TEST

/* --- dlopen and dlclose of a library that makes threads -------------------------------------- */

START_TEST(dlopen_dlclose_thread_library)
{
	char *argv[] = {"/usr/bin/python3", "-I", (char *)compat_file("dlzstd.py"), NULL};
	json_t *t;
	struct both b;
	size_t i;
	run_both(argv, NULL, NULL, &b);
	ck_assert_msg(b.nat.status == 0, "python3: %d: %s", b.nat.status, b.nat.err);
	want_text(b.nat.out, "round 0 ", "round 1 ", NULL);
	ck_assert_msg(strstr(b.nat.out, "mapped after dlclose 1") == NULL &&
		      strstr(b.nat.out, "mapped after dlclose 0\nround 1") != NULL,
		      "libzstd stayed mapped: %s", b.nat.out);
	/* 2 workers a round, all joined, all started in libzstd (unmapped by the end) */
	ck_assert_int_eq(jint(b.root, "threads.created"), 4);
	all_joined(b.root);
	json_array_foreach(json_object_get(json_object_get(b.root, "threads"), "list"), i, t) {
		const char *mod;
		if (has_flag(t, "main"))
			continue;
		mod = jstr(t, "start_routine.module");
		ck_assert_msg(mod != NULL && strstr(mod, "/libzstd.so") != NULL,
			      "a thread not started in libzstd: %s", dump(t));
	}
	both_free(&b);
}
END_TEST

/* --- the suite --------------------------------------------------------------------------------- */

/* Whether every program of the space-separated list is on PATH. */
static int have_all(const char *programs)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "for p in %s; do command -v $p >/dev/null 2>&1 || exit 1; done",
		 programs);
	return system(cmd) == 0;
}

int main(void)
{
	/* each test and the programs it needs (NULL: none) */
	const struct {
		const char *needs;
		struct test_def def;
	} all[] = {
		{NULL, TEST("masking", normalised_masks_only_timings)},
		{"memcached memcslap", TEST("memcached", memcached_under_memcslap)},
		{"java", TEST("jvm", jvm_workers)},
		{"node", TEST("node", node_libuv_pool)},
		{"pzstd", TEST("cxx", pzstd_round_trip)},
		{"git", TEST("git", git_grep_and_index_pack)},
		{"sysbench", TEST("sysbench", sysbench_mutex_and_threads)},
		{"stress-ng", TEST("stress-ng", stress_ng_mutex_pthread)},
		{"make xz zstd pzstd sort cksum", TEST("fork-exec", make_forks_threaded_children)},
		{"python3", TEST("dlopen", dlopen_dlclose_thread_library)},
	};
	struct test_def tests[ARRAY_SIZE(all)];
	size_t i, n = 0;
	int rc;
	for (i = 0; i < ARRAY_SIZE(all); i++) {
		if (all[i].needs == NULL || have_all(all[i].needs))
			tests[n++] = all[i].def;
		else
			fprintf(stderr, "NOT RUN: %s needs %s, which is not installed (.ci/setup "
				"installs it)\n", all[i].def.tcase, all[i].needs);
	}
	rc = run_tests("compat", 300, tests, n);
	return rc == 0 && n < ARRAY_SIZE(all) ? SKIPPED : rc;
}

/*
 * test_real.c — `track run` on real programs nobody here wrote (sqlite3, CPython, xz, sort,
 * zstd, pigz, dig, redis-server with redis-benchmark on loopback; and each of the first
 * six again with jemalloc preloaded).  Each is run natively and under track with the same input; the shim must not
 * change what the program does (stdout and stderr byte for byte, exit status), and the
 * report must say what the program really did with its threads, without findings: these are
 * correct programs.  realprog.h has what this suite shares with test_compat.c.
 *
 * The thread totals asserted below were checked against an independent counter (a tiny
 * LD_PRELOAD interposer counting pthread_create/join/detach) and against the programs'
 * sources; the comments say why each program does what it does.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "realprog.h"

/* --- inputs ------------------------------------------------------------------------------- */

/* 100,000 INSERTs in one transaction, then a query whose answer depends on all of them. */
static void write_sql(FILE *f)
{
	long i;
	fprintf(f, "CREATE TABLE t(x INTEGER, s TEXT);\nBEGIN;\n");
	for (i = 0; i < 100000; i++)
		fprintf(f, "INSERT INTO t VALUES(%ld, 'row %ld');\n", (i * 7919) % 100003, i);
	fprintf(f, "COMMIT;\nSELECT count(*), sum(x) FROM t;\n");
}

static const char *sql_script(void)
{
	return input_file("script.sql", write_sql);
}

/* 4 KB from the LCG: no file format at all. */
static void write_garbage(FILE *f)
{
	uint64_t s = 99;
	int i;
	for (i = 0; i < 4096; i++)
		fputc((int)(lcg_next(&s) >> 56), f);
}

static const char *garbage_file(void)
{
	return input_file("garbage.bin", write_garbage);
}

/* --- sqlite3 ------------------------------------------------------------------------------ */

START_TEST(sqlite_inserts)
{
	char *nat_db = (char *)tmp_path("native.db"), *tr_db = (char *)tmp_path("traced.db");
	/* -init /dev/null: no ~/.sqliterc.  A fresh database for each run, so both do the
	   same work. */
	char *argv[] = {"sqlite3", "-batch", "-init", "/dev/null", nat_db, NULL};
	char *targv[] = {"sqlite3", "-batch", "-init", "/dev/null", tr_db, NULL};
	const char *sql = sql_script();
	struct both b;
	unlink(nat_db);
	unlink(tr_db);
	run_both(argv, targv, sql, &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_str_eq(b.nat.out, "100000|4999997508\n");
	/* The sqlite3 shell does all its work on the main thread. */
	ck_assert_int_eq(jint(b.root, "threads.created"), 0);
	ck_assert_int_eq(jint(b.root, "threads.peak"), 1);
	all_joined(b.root);
	/* Debian builds SQLite serialized (SQLITE_THREADSAFE=1): every allocation and every
	   statement step takes a pthread mutex, millions of times for 100,000 INSERTs. */
	ck_assert_int_gt(json_array_size(json_object_get(b.root, "locks")), 0);
	ck_assert_int_gt(sum_field(b.root, "locks", "acquisitions"), 100000);
	ck_assert_int_eq(sum_field(b.root, "locks", "contended"), 0);
	both_free(&b);
	free(nat_db);
	free(tr_db);
}
END_TEST

/* --- CPython ------------------------------------------------------------------------------ */

/* 4 workers take 20,000 items from a bounded queue.Queue and report partial sums.  After the
   joins the script waits until the kernel shows the main thread alone: Thread.join() returns
   when a worker releases its "tstate lock" in CPython's thread teardown, a few instructions
   before the OS thread really ends, so without the wait a worker preempted there is truly
   still alive at exit (seen in 5 runs of 60 with the CPUs busy) and the totals would race. */
static const char py_script[] =
	"import os, queue, threading, time\n"
	"N, W = 20000, 4\n"
	"q, out = queue.Queue(maxsize=64), queue.Queue()\n"
	"def work():\n"
	"    s = 0\n"
	"    while True:\n"
	"        x = q.get()\n"
	"        if x is None:\n"
	"            break\n"
	"        s += x * x % 1000003\n"
	"    out.put(s)\n"
	"ts = [threading.Thread(target=work) for _ in range(W)]\n"
	"for t in ts: t.start()\n"
	"for i in range(N): q.put(i)\n"
	"for _ in ts: q.put(None)\n"
	"for t in ts: t.join()\n"
	"deadline = time.monotonic() + 60\n"
	"while len(os.listdir('/proc/self/task')) > 1 and time.monotonic() < deadline:\n"
	"    time.sleep(0.001)\n"
	"print('items', N, 'workers', W, 'checksum', sum(out.get() for _ in ts),\n"
	"      'tasks', len(os.listdir('/proc/self/task')))\n";

START_TEST(python_queue_workers)
{
	/* The Debian interpreter explicitly (not a pyenv one first in PATH); -I: no user site,
	   no PYTHON* variables. */
	char *argv[] = {"/usr/bin/python3", "-I", "-c", (char *)py_script, NULL};
	struct both b;
	run_both(argv, NULL, NULL, &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_str_eq(b.nat.out, "items 20000 workers 4 checksum 9801700029 tasks 1\n");
	/* CPython 3.11 starts each threading.Thread with pthread_create and at once
	   pthread_detach()es it (PyThread_start_new_thread); Thread.join() waits on a lock
	   (a sem_t), never in pthread_join.  So: all detached, all exited, none joined. */
	ck_assert_int_ge(jint(b.root, "threads.created"), 4);
	ck_assert_int_eq(jint(b.root, "threads.exited"), jint(b.root, "threads.created"));
	ck_assert_int_eq(jint(b.root, "threads.detached"), jint(b.root, "threads.created"));
	ck_assert_int_eq(jint(b.root, "threads.joined"), 0);
	ck_assert_int_eq(jint(b.root, "threads.alive_at_exit"), 0);
	ck_assert_int_ge(jint(b.root, "threads.peak"), 2);
	ck_assert_int_eq(json_array_size(json_object_get(b.root, "other_processes")), 0);
	thread_list_consistent(b.root);
	/* CPython's locks (the GIL aside) are POSIX semaphores. */
	ck_assert_int_gt(json_array_size(json_object_get(b.root, "semaphores")), 0);
	ck_assert_int_gt(sum_field(b.root, "semaphores", "waits"), 0);
	ck_assert_int_gt(sum_field(b.root, "semaphores", "posts"), 0);
	both_free(&b);
}
END_TEST

/* --- a server under load on loopback ------------------------------------------------------ */

/* CPython's ThreadingHTTPServer (a thread per connection) on 127.0.0.1, port chosen by the
   kernel, and 8 client threads making 50 requests each with urllib; every body is checked.
   Bounded in count and time, loopback only; server_close() joins the handler threads. */
static const char http_script[] =
	"import http.server, os, threading, time, urllib.request\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(self):\n"
	"        n = int(self.path[1:])\n"
	"        body = (('%d ' % n) * (1 + n % 97)).encode()\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Length', str(len(body)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(body)\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
	"port = srv.server_address[1]\n"
	"st = threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.05})\n"
	"st.start()\n"
	"ok, nbytes, lock = [0], [0], threading.Lock()\n"
	"def client(c):\n"
	"    for i in range(50):\n"
	"        n = c * 50 + i\n"
	"        with urllib.request.urlopen('http://127.0.0.1:%d/%d' % (port, n), timeout=30) as r:\n"
	"            b = r.read()\n"
	"        with lock:\n"
	"            ok[0] += b == (('%d ' % n) * (1 + n % 97)).encode()\n"
	"            nbytes[0] += len(b)\n"
	"cs = [threading.Thread(target=client, args=(c,)) for c in range(8)]\n"
	"for t in cs: t.start()\n"
	"for t in cs: t.join()\n"
	"srv.shutdown(); srv.server_close(); st.join()\n"
	"deadline = time.monotonic() + 60\n"
	"while len(os.listdir('/proc/self/task')) > 1 and time.monotonic() < deadline:\n"
	"    time.sleep(0.001)\n"
	"print('requests', 400, 'ok', ok[0], 'bytes', nbytes[0])\n";

START_TEST(http_server_under_load)
{
	char *argv[] = {"/usr/bin/python3", "-I", "-c", (char *)http_script, NULL};
	struct both b;
	run_both(argv, NULL, NULL, &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_msg(strncmp(b.nat.out, "requests 400 ok 400 bytes ", 26) == 0, "%s", b.nat.out);
	/* one server thread, 8 clients, and a handler thread per request */
	ck_assert_int_ge(jint(b.root, "threads.created"), 409);
	ck_assert_int_eq(jint(b.root, "threads.exited"), jint(b.root, "threads.created"));
	ck_assert_int_eq(jint(b.root, "threads.alive_at_exit"), 0);
	ck_assert_int_ge(jint(b.root, "threads.peak"), 3);
	thread_list_consistent(b.root);
	both_free(&b);
}
END_TEST

/* --- xz ----------------------------------------------------------------------------------- */

/* -1: 3 MiB blocks, so the 21 MB input makes 7 blocks for the two threads (with the default
   -6 the block is 24 MiB and the job mostly serial, and ten times slower). */
START_TEST(xz_compress_threads)
{
	char *argv[] = {"xz", "-T2", "-1", "-c", NULL};
	char *xzfile = (char *)run_path("input.txt.xz");
	struct both b;
	run_both(argv, NULL, input_text(), &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_uint_gt(b.nat.out_len, 1000000);
	write_bytes(xzfile, b.nat.out, b.nat.out_len);
	/* liblzma's threaded encoder starts its 2 workers on demand and stops and joins them
	   only in lzma_end(); xz calls lzma_end() only in debug builds (coder_free() is under
	   #ifndef NDEBUG), so in the distribution's xz both workers are still waiting on their
	   condvars when xz exits: 2 created, none exited, joined or detached, 2 alive at exit
	   (an independent pthread_join counter agrees).  Not a finding. */
	ck_assert_int_eq(jint(b.root, "threads.created"), 2);
	ck_assert_int_eq(jint(b.root, "threads.exited"), 0);
	ck_assert_int_eq(jint(b.root, "threads.joined"), 0);
	ck_assert_int_eq(jint(b.root, "threads.detached"), 0);
	ck_assert_int_eq(jint(b.root, "threads.alive_at_exit"), 2);
	ck_assert_int_eq(jint(b.root, "threads.peak"), 3);
	thread_list_consistent(b.root);
	ck_assert_int_gt(json_array_size(json_object_get(b.root, "locks")), 0);
	ck_assert_int_gt(json_array_size(json_object_get(b.root, "condvars")), 0);
	both_free(&b);
	free(xzfile);
}
END_TEST

START_TEST(xz_decompress)
{
	char *argv[] = {"xz", "-d", "-c", NULL};
	char *xzfile = (char *)run_path("input.txt.xz");
	const char *text = input_text();
	struct stat st;
	struct both b;
	if (stat(xzfile, &st) != 0) { /* this test run alone */
		char *cargv[] = {"xz", "-T2", "-1", "-c", NULL};
		struct run_result c;
		run(cargv, text, NULL, &c);
		ck_assert_int_eq(c.status, 0);
		write_bytes(xzfile, c.out, c.out_len);
		run_free(&c);
	}
	run_both(argv, NULL, xzfile, &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_int_eq(stat(text, &st), 0);
	ck_assert_uint_eq(b.nat.out_len, (size_t)st.st_size);
	/* xz 5.4 decompresses single-threaded unless given -T. */
	ck_assert_int_eq(jint(b.root, "threads.created"), 0);
	all_joined(b.root);
	both_free(&b);
	free(xzfile);
}
END_TEST

/* A real failure: not an .xz file, exit status 1 and a message on stderr under both. */
START_TEST(xz_garbage_fails)
{
	char *argv[] = {"xz", "-d", "-c", NULL};
	struct both b;
	run_both(argv, NULL, garbage_file(), &b);
	ck_assert_int_eq(b.nat.status, 1);
	ck_assert_ptr_nonnull(strstr(b.nat.err, "File format not recognized"));
	ck_assert_uint_eq(b.nat.out_len, 0);
	ck_assert_int_eq(jint(b.root, "threads.created"), 0);
	all_joined(b.root);
	both_free(&b);
}
END_TEST

/* --- sort --------------------------------------------------------------------------------- */

START_TEST(sort_parallel)
{
	const char *in = input_text();
	char *argv[] = {"sort", "--parallel=2", "-S", "50M", (char *)in, NULL};
	struct both b;
	run_both(argv, NULL, NULL, &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_uint_gt(b.nat.out_len, 1000000);
	/* GNU sort sorts each buffer with one helper thread for half of it (sortlines) and
	   joins it; with -S 50M this input takes 2 buffers: 2 threads, both joined. */
	ck_assert_int_ge(jint(b.root, "threads.created"), 1);
	all_joined(b.root);
	ck_assert_int_gt(json_array_size(json_object_get(b.root, "locks")), 0);
	both_free(&b);
}
END_TEST

/* A real failure: exit status 2 and sort's message, the same under track. */
START_TEST(sort_missing_file)
{
	char *argv[] = {"sort", "/nonexistent/track-test-real", NULL};
	struct both b;
	run_both(argv, NULL, NULL, &b);
	ck_assert_int_eq(b.nat.status, 2);
	ck_assert_ptr_nonnull(strstr(b.nat.err, "/nonexistent/track-test-real"));
	ck_assert_int_eq(jint(b.root, "threads.created"), 0);
	all_joined(b.root);
	both_free(&b);
}
END_TEST

/* --- zstd, pigz --------------------------------------------------------------------------- */

/* A compressor with 2 threads of work on the text: at least 2 threads created, all joined;
 * with_locks: its pthread locks are seen too. */
static void compresses_in_threads(char *const argv[], int with_locks)
{
	struct both b;
	run_both(argv, NULL, input_text(), &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_uint_gt(b.nat.out_len, 1000000);
	ck_assert_int_ge(jint(b.root, "threads.created"), 2);
	all_joined(b.root);
	if (with_locks)
		ck_assert_int_gt(json_array_size(json_object_get(b.root, "locks")), 0);
	both_free(&b);
}

/* zstd 1.5 starts a pool of 2 compression workers, plus its asynchronous I/O threads, and
   joins them all before exit (4 on Debian 12). */
START_TEST(zstd_threads)
{
	compresses_in_threads((char *[]){"zstd", "-q", "-T2", "-c", NULL}, 0);
}
END_TEST

/* pigz: 2 compression threads and a writer thread, all joined (join_all) at the end. */
START_TEST(pigz_threads)
{
	compresses_in_threads((char *[]){"pigz", "-p", "2", "-c", NULL}, 1);
}
END_TEST

/* --- with jemalloc preloaded ---------------------------------------------------------------- */

/* jemalloc's own locks are pthread mutexes: the shim's first sighting of one happens while
 * jemalloc holds it, so anything the shim did there that allocates (the old unwinder's first
 * thread-local access did) re-entered the allocator: hangs and crashes in every program that
 * used it.  Each program runs natively and traced, both with jemalloc preloaded (Debian's
 * libjemalloc2, which .ci/setup installs). */
static char *jemalloc_env(void)
{
	static char env[128];
	snprintf(env, sizeof env, "LD_PRELOAD=%s", jemalloc_path());
	return env;
}

struct jemalloc_case {
	const char *argv[8];
	int input;   /* stdin is the generated text */
};

static const struct jemalloc_case jemalloc_cases[] = {
	{{"xz", "-T2", "-1", "-c", NULL}, 1},
	{{"pigz", "-p", "2", "-c", NULL}, 1},
	{{"zstd", "-q", "-T2", "-c", NULL}, 1},
	{{"sort", "--parallel=2", "-S", "50M", NULL}, 1},
	{{"sqlite3", "-batch", "-init", "/dev/null", ":memory:", NULL}, 0},
	{{"/usr/bin/python3", "-I", "-c", "import threading; ts = [threading.Thread(target=sum, "
	  "args=(range(100000),)) for _ in range(4)]; [t.start() for t in ts]; "
	  "[t.join() for t in ts]; print('ok')", NULL}, 0},
};

START_TEST(with_jemalloc)
{
	const struct jemalloc_case *c = &jemalloc_cases[_i];
	char *env[] = {jemalloc_env(), NULL};
	struct both b;
	const char *in = c->input ? input_text() : (c->argv[0][0] == 's' && c->argv[0][1] == 'q'
						     ? sql_script() : NULL);
	run_both_env((char *const *)c->argv, NULL, in, env, &b);
	ck_assert_msg(b.nat.status == 0, "%s: exit status %d: %s", c->argv[0], b.nat.status,
		      b.nat.err);
	ck_assert_int_eq(jint(b.root, "threads.not_tracked"), 0);
	both_free(&b);
}
END_TEST

/* --- bind9's dig (jemalloc inside, a thread pool from the start) -------------------------- */

START_TEST(dig_version_and_refused_query)
{
	char *version[] = {"dig", "-v", NULL};
	/* port 9 (discard) on loopback: nothing listens, the query is refused at once */
	char *query[] = {"dig", "@127.0.0.1", "-p", "9", "+tries=1", "+time=1", "example.com",
			 NULL};
	struct both b;
	run_both(version, NULL, NULL, &b);
	ck_assert_int_eq(b.nat.status, 0);
	ck_assert_ptr_nonnull(strstr(b.nat.err, "DiG 9."));
	ck_assert_int_ge(jint(b.root, "threads.created"), 1);
	both_free(&b);
	run_both(query, NULL, NULL, &b);
	ck_assert_int_eq(b.nat.status, 9);
	ck_assert_ptr_nonnull(strstr(b.nat.out, "no servers could be reached"));
	both_free(&b);
}
END_TEST

/* --- redis-server under redis-benchmark on loopback -------------------------------------- */

/* redis-cli shutdown nosave: the server ends, saving nothing. */
static void redis_stop(const char *port, pid_t pid)
{
	char *argv[] = {"redis-cli", "-h", "127.0.0.1", "-p", (char *)port, "shutdown", "nosave",
			NULL};
	struct run_result r;
	(void)pid;
	run(argv, NULL, NULL, &r);
	run_free(&r);
}

static const char *const redis_srv[] = {
	"redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly",
	"no", "--daemonize", "no", "--loglevel", "warning", NULL};
static const char *const redis_cli[] = {
	"redis-benchmark", "-h", "127.0.0.1", "-p", "{port}", "-q", "-n", "20000", "-c", "8",
	"--threads", "2", "-t", "set,get,incr,lpush,lpop", NULL};
static const struct server_bench redis = {"redis", redis_srv, redis_cli, redis_stop};

START_TEST(redis_server_under_benchmark)
{
	const char *tests[] = {"SET:", "GET:", "INCR:", "LPUSH:", "LPOP:"};
	char *json = (char *)tmp_path("redis.json");
	struct run_result nat, tr;
	json_error_t e;
	json_t *root;
	size_t i;
	ck_assert_int_eq(server_round(&redis, 0, NULL, NULL, &nat), 0);
	ck_assert_int_eq(server_round(&redis, 1, json, NULL, &tr), 0);
	ck_assert_int_eq(nat.status, 0);
	ck_assert_msg(tr.status == 0, "redis-benchmark under track: %d: %s", tr.status, tr.err);
	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		ck_assert_msg(strstr(nat.out, tests[i]) != NULL, "native: no %s", tests[i]);
		ck_assert_msg(strstr(tr.out, tests[i]) != NULL, "traced: no %s in %s", tests[i],
			      tr.out);
	}
	root = json_load_file(json, 0, &e);
	ck_assert_msg(root != NULL, "no report from the traced redis-server: %s", e.text);
	ck_assert_int_eq(jint(root, "process.exit_code"), 0);
	/* redis-server exits holding a mutex it keeps for its whole life: informational */
	ck_assert_msg(count_serious(root) == 0, "findings: %s", findings_text(root));
	/* Redis 7 starts three background I/O threads (bio.c) and never joins them */
	ck_assert_int_ge(jint(root, "threads.created"), 3);
	ck_assert_int_gt(json_array_size(json_object_get(root, "condvars")), 0);
	json_decref(root);
	run_free(&nat);
	run_free(&tr);
	free(json);
}
END_TEST

int main(void)
{
	/* a test case a program, so that ctest -R / CK_RUN_CASE can pick one */
	const struct test_def tests[] = {
		TEST("sqlite3", sqlite_inserts),
		TEST("python3", python_queue_workers),
		TEST("http", http_server_under_load),
		TEST("xz", xz_compress_threads),
		TEST("xz", xz_decompress),
		TEST("xz", xz_garbage_fails),
		TEST("sort", sort_parallel),
		TEST("sort", sort_missing_file),
		TEST("zstd", zstd_threads),
		TEST("pigz", pigz_threads),
		LOOP_TEST("jemalloc", with_jemalloc, ARRAY_SIZE(jemalloc_cases)),
		TEST("dig", dig_version_and_refused_query),
		TEST("redis", redis_server_under_benchmark),
	};
	return run_tests("real", 300, tests, ARRAY_SIZE(tests));
}

/*
 * test_top.c — track top as a user meets it: batch frames (text and JSON) against a running
 * demo_pipeline say what the screen would (the hot lock first, the queues' depth, capacity,
 * rejections and producers' waits, the pools' sizes, a deadlock lit), rates computed between
 * frames, the replay of an ended process, picking the one traced process, the curses screen at 80x24
 * driven in tmux (panels, Tab, q, a resize, NO_COLOR), and bad input with its one-line
 * errors and exit statuses.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* demo_pipeline with args (NULL-terminated), preloaded, in the test's TRACK_DIR; its stdin
 * is *in: closing it ends the demo. */
/* The pipeline demo, started as the program at path (the demo itself when NULL). */
static pid_t start_pipeline_as(const char *path, char *const args[], FILE **in)
{
	char *argv[16];
	FILE *out;
	size_t i;
	argv[0] = strdup(path != NULL ? path : demo_argv("demo_pipeline", NULL)[0]);
	for (i = 0; args[i] != NULL && i + 2 < ARRAY_SIZE(argv); i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid_t pid = start_talking(argv, (char *[]){shim_preload(), NULL}, &out, in);
	/* no other program the test starts (tmux's server) may hold the demo's stdin open */
	fcntl(fileno(*in), F_SETFD, FD_CLOEXEC);
	return pid;
}

static pid_t start_pipeline(char *const args[], FILE **in)
{
	return start_pipeline_as(NULL, args, in);
}

static void stop_pipeline(pid_t pid, FILE *in)
{
	fclose(in);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
}

static char *pid_str(pid_t pid)
{
	char *s;
	ck_assert_int_ge(asprintf(&s, "%d", (int)pid), 0);
	return s;
}

/* `track top --batch --json ...`: its frames, parsed, one a line, into frames (at most max);
 * how many.  The command must succeed. */
static size_t json_frames(char *const args[], json_t **frames, size_t max)
{
	char *argv[24] = {"top", "--batch", "--json"};
	struct run_result r;
	size_t i, n = 0;
	char *line, *save = NULL;
	for (i = 0; args[i] != NULL && i + 4 < ARRAY_SIZE(argv); i++)
		argv[i + 3] = args[i];
	argv[i + 3] = NULL;
	run_track(argv, NULL, &r);
	ck_assert_msg(r.status == 0, "track top: status %d: %s", r.status, r.err);
	for (line = strtok_r(r.out, "\n", &save); line != NULL && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		frames[n] = json_loads(line, 0, &e);
		ck_assert_msg(frames[n] != NULL, "frame %zu is not JSON (%s): %s", n, e.text, line);
		n++;
	}
	run_free(&r);
	return n;
}

static double jnum(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_number(v), "%s is not a number in %s", key, dump(o));
	return json_number_value(v);
}

/* The hot lock ranks first by wait per second; acquisitions per second is the difference
 * of the two frames' totals over the time between them, and plausible for the demo. */
START_TEST(hot_lock_first_and_rates)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--hot", "--enrich", "3", NULL}, &in);
	json_t *f[4], *l1, *l2, *pool;
	double per_s, expect;
	usleep(300000);
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "2", "--delay", "1", pid_str(pid), NULL}, f, 4), 2);
	l2 = json_array_get(json_object_get(f[1], "locks"), 0);
	ck_assert_msg(l2 != NULL && strcmp(json_string_value(json_object_get(l2, "name")), "cache_lock") == 0,
		      "first lock: %s", dump(json_object_get(f[1], "locks")));
	ck_assert_int_eq(jint(f[1], "pid"), pid);
	/* the first frame has no rate yet: null, not a guess */
	l1 = jfind(f[0], "locks", "name", "cache_lock");
	ck_assert_ptr_nonnull(l1);
	ck_assert(json_is_null(json_object_get(l1, "acquisitions_per_s")));
	per_s = jnum(l2, "acquisitions_per_s");
	expect = (jnum(l2, "acquisitions") - jnum(l1, "acquisitions")) / jnum(f[1], "interval_s");
	ck_assert_msg(per_s > expect * 0.99 - 1 && per_s < expect * 1.01 + 1, "%f vs %f", per_s, expect);
	/* 500 us held a job: at most 2000 a second; generous below, the machine is loaded */
	ck_assert_msg(per_s > 10 && per_s <= 2100, "cache_lock %f acquisitions/s", per_s);
	ck_assert_msg(jnum(f[1], "interval_s") >= 0.9 && jnum(f[1], "interval_s") < 10, "%s", dump(f[1]));
	ck_assert_msg(jnum(l2, "waiters") <= 2 && jnum(l2, "contended_pct") > 0, "%s", dump(l2));
	/* every hold sleeps 500 us: the interval's p95 (a bucket's upper bound) is at least that */
	ck_assert_msg(jnum(l2, "hold_p95_ns") >= 500000 && jnum(l2, "hold_p95_ns") < 100e6, "%s", dump(l2));
	ck_assert_msg(jnum(l2, "wait_p95_ns") > 0 && jnum(l2, "wait_p95_ns") <= jnum(l2, "wait_max_ns"),
		      "%s", dump(l2));
	/* each stage's pool at its size: --enrich 3, the defaults 2, 2 and 3; one ingress */
	pool = jfind(f[1], "pools", "pattern", "enrich-*");
	ck_assert_msg(pool != NULL && jnum(pool, "threads") == 3, "%s", dump(json_object_get(f[1], "pools")));
	ck_assert_int_eq(jnum(jfind(f[1], "pools", "pattern", "parse-*"), "threads"), 2);
	ck_assert_int_eq(jnum(jfind(f[1], "pools", "pattern", "verify-*"), "threads"), 2);
	ck_assert_int_eq(jnum(jfind(f[1], "pools", "pattern", "store-*"), "threads"), 3);
	ck_assert_int_eq(jnum(jfind(f[1], "pools", "name", "ingress"), "threads"), 1);
	stop_pipeline(pid, in);
}
END_TEST

/* The text frame says the same: the locks panel's first row is the hot lock; the pool line. */
START_TEST(text_frame_hot_lock)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--hot", NULL}, &in);
	struct run_result r;
	char *second, *locks, *row, pool[64];
	usleep(300000);
	run_track((char *[]){"top", "--batch", "--iterations", "2", "--delay", "0.5", pid_str(pid), NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	second = strstr(r.out, "frame 2 ");
	ck_assert_msg(second != NULL, "%s", r.out);
	locks = strstr(second, "LOCKS by WAIT/S\n");
	ck_assert_msg(locks != NULL, "%s", second);
	row = strchr(strchr(locks, '\n') + 1, '\n') + 1;   /* past the title and the headings */
	ck_assert_msg(strncmp(row, "  cache_lock ", 13) == 0, "first lock row: %.200s", row);
	snprintf(pool, sizeof pool, "\n  %-24s %7d ", "stage_worker \"enrich-*\"", 4);   /* the pool's row */
	want_text(second, "threads: ", "POOLS", pool, "QUEUES", "  to_parse ", "WAIT-FOR", NULL);
	ck_assert_ptr_null(strstr(second, "(-/s)"));   /* rates are known in the second frame */
	ck_assert_ptr_nonnull(strstr(r.out, "(-/s)"));   /* and not in the first */
	run_free(&r);
	stop_pipeline(pid, in);
}
END_TEST

/* A slow stage backs up to the ingress: the stage before it waits for room (producer waits
 * counted, nothing rejected there), the first queue fills to its capacity, and the ingress,
 * which never waits, rejects (counted, with a rate).  Without the fault, the stages keep
 * up: the queue between them never fills and nobody waits for room. */
START_TEST(queue_rejections)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--slow", "enrich", "--capacity", "8", NULL}, &in);
	json_t *f[3], *q;
	struct run_result r;
	usleep(500000);
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "2", "--delay", "1", pid_str(pid), NULL}, f, 3), 2);
	q = jfind(f[1], "queues", "name", "to_parse");
	ck_assert_msg(q != NULL, "%s", dump(json_object_get(f[1], "queues")));
	ck_assert_int_eq(jnum(q, "capacity"), 8);
	ck_assert_msg(jnum(q, "depth") <= 8 && jnum(q, "high_water") == 8, "%s", dump(q));
	ck_assert_msg(jnum(q, "rejected") > 0 && jnum(q, "rejected_per_s") > 0, "%s", dump(q));
	/* parse's workers wait for room in front of the slow stage, and reject nothing */
	q = jfind(f[1], "queues", "name", "to_enrich");
	ck_assert_msg(q != NULL && jnum(q, "rejected") == 0 && jnum(q, "producer_waits") > 0 &&
		      jnum(q, "high_water") == 8, "%s", dump(q));
	run_track((char *[]){"top", "--batch", "--iterations", "1", pid_str(pid), NULL}, NULL, &r);
	ck_assert_msg(strstr(r.out, "/8 ") != NULL && strstr(r.out, "  to_parse ") != NULL, "%s", r.out);
	run_free(&r);
	stop_pipeline(pid, in);
	/* nothing slow, queues of the default 64 (a burst is at most 24): enrich keeps up */
	pid = start_pipeline((char *[]){NULL}, &in);
	usleep(500000);
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "1", pid_str(pid), NULL}, f + 2, 1), 1);
	q = jfind(f[2], "queues", "name", "to_enrich");
	ck_assert_msg(q != NULL && jnum(q, "rejected") == 0 && jnum(q, "producer_waits") == 0, "%s", dump(q));
	stop_pipeline(pid, in);
}
END_TEST

/* A deadlock lights up, and the wait-for view shows its cycle; none without. */
START_TEST(deadlock_lights_up)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--deadlock", NULL}, &in);
	json_t *f[1], *c;
	struct run_result r;
	size_t i;
	int cycle = 0;
	usleep(1500000);   /* the transfers deadlock 0.5 s after the start */
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "1", pid_str(pid), NULL}, f, 1), 1);
	ck_assert_msg(jint(f[0], "findings.deadlock") >= 1, "%s", dump(f[0]));
	json_array_foreach(json_object_get(f[0], "wait_for"), i, c)
		cycle += json_is_true(json_object_get(c, "cycle"));
	ck_assert_msg(cycle >= 1, "%s", dump(json_object_get(f[0], "wait_for")));
	run_track((char *[]){"top", "--batch", "--iterations", "1", pid_str(pid), NULL}, NULL, &r);
	want_text(r.out, "[deadlock] 1", "DEADLOCK ", "account_", NULL);
	run_free(&r);
	stop_pipeline(pid, in);
	pid = start_pipeline((char *[]){NULL}, &in);
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "1", pid_str(pid), NULL}, f, 1), 1);
	ck_assert_int_eq(jint(f[0], "findings.deadlock"), 0);
	stop_pipeline(pid, in);
}
END_TEST

/* A wait-for cycle through a timed wait (it ends when the timeout does) is shown as a cycle
 * that may end, never as a deadlock: "CYCLE (timed waits: may end)", timed true in JSON, no
 * deadlock finding.  The untimed one is deadlock_lights_up's. */
START_TEST(timed_cycle_may_end)
{
	FILE *out;
	pid_t pid = start_fixture("fx_order", (char *[]){"timed-cycle", NULL},
				  (char *[]){shim_preload(), NULL}, &out);
	json_t *f[1], *c, *seen = NULL;
	struct run_result r;
	size_t i;
	int tries;
	/* both threads block within moments of "ready"; the cycle lasts 6 s */
	for (tries = 0; tries < 20 && seen == NULL; tries++) {
		ck_assert_uint_eq(json_frames((char *[]){"--iterations", "1", pid_str(pid), NULL}, f, 1), 1);
		json_array_foreach(json_object_get(f[0], "wait_for"), i, c)
			if (json_is_true(json_object_get(c, "cycle")))
				seen = c;
		if (seen == NULL)
			usleep(100000);
	}
	ck_assert_msg(seen != NULL, "no cycle: %s", dump(json_object_get(f[0], "wait_for")));
	ck_assert_msg(json_is_true(json_object_get(seen, "timed")), "%s", dump(seen));
	ck_assert_int_eq(jint(f[0], "findings.deadlock"), 0);
	run_track((char *[]){"top", "--batch", "--iterations", "1", pid_str(pid), NULL}, NULL, &r);
	want_text(r.out, "CYCLE (timed waits: may end)", NULL);
	ck_assert_msg(strstr(r.out, "DEADLOCK ") == NULL, "%s", r.out);
	run_free(&r);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	fclose(out);
}
END_TEST

/* Threads started and never ended: leak growth lights up once alive rises steadily. */
START_TEST(leak_growth)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--leak", NULL}, &in);
	json_t *f[12];
	size_t n = json_frames((char *[]){"--iterations", "11", "--delay", "0.3", pid_str(pid), NULL}, f, 12);
	ck_assert_uint_eq(n, 11);
	ck_assert_int_eq(jint(f[0], "findings.leak-growth"), 0);
	ck_assert_msg(jint(f[10], "findings.leak-growth") == 1, "%s", dump(json_object_get(f[10], "threads")));
	ck_assert_msg(jint(f[10], "threads.alive") > jint(f[0], "threads.alive"), "%s", dump(f[10]));
	stop_pipeline(pid, in);
}
END_TEST

/* A process that ends while watched: said, its last frame kept, status 0; its segment
 * replays that state. */
START_TEST(end_and_replay)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--parse", "3", NULL}, &in);
	struct run_result r;
	json_t *f[2], *q;
	char *seg;
	/* the demo ends when its stdin closes: after the first frames */
	pid_t closer = fork();
	if (closer == 0) {
		usleep(1200000);
		fclose(in);
		_exit(0);
	}
	fclose(in);
	run_track((char *[]){"top", "--batch", "--iterations", "40", "--delay", "0.25", pid_str(pid), NULL}, NULL, &r);
	ck_assert_int_eq(wait_exit(closer, 10), 0);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.out, "has ended: that was its last state") != NULL, "%s", r.out);
	ck_assert_ptr_null(strstr(r.out, "frame 40 "));   /* it stopped at the end */
	run_free(&r);
	seg = only_segment();
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "3", seg, NULL}, f, 2), 1);
	ck_assert(json_is_false(json_object_get(f[0], "alive")));
	ck_assert_int_eq(jint(f[0], "pid"), pid);
	q = jfind(f[0], "queues", "name", "to_parse");
	ck_assert_msg(q != NULL && jnum(q, "capacity") == 64, "%s", dump(f[0]));
}
END_TEST

/* SIGTERM: the demo stops intake, drains every queue and joins every stage's workers
 * before it exits 0: its segment's last state has main alone alive and each queue empty. */
START_TEST(sigterm_drains)
{
	FILE *in;
	pid_t pid;
	json_t *f[1], *q;
	size_t i;
	int registered = 0;
	/* a clean exit removes the segment: keep it, to read the end state */
	setenv("TRACK_KEEP", "1", 1);
	pid = start_pipeline((char *[]){"--burst", "--slow", "store", "--capacity", "16", NULL}, &in);
	unsetenv("TRACK_KEEP");
	usleep(1500000);   /* the store's queue is full by now */
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	fclose(in);
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "1", only_segment(), NULL}, f, 1), 1);
	ck_assert_msg(jint(f[0], "threads.alive") == 1, "%s", dump(json_object_get(f[0], "threads")));
	json_array_foreach(json_object_get(f[0], "queues"), i, q)
		if (json_object_get(q, "capacity") != NULL) {
			ck_assert_msg(jnum(q, "depth") == 0 && jnum(q, "high_water") > 0, "%s", dump(q));
			registered++;
		}
	ck_assert_int_eq(registered, 4);
	q = jfind(f[0], "queues", "name", "to_store");
	ck_assert_msg(q != NULL && jnum(q, "high_water") == 16, "%s", dump(f[0]));
}
END_TEST

/* Without a PID, the one traced process running is picked; with none, status 5; with two,
 * status 2. */
START_TEST(pick_the_only_one)
{
	FILE *in, *in2;
	pid_t pid, other;
	json_t *f[1];
	struct run_result r;
	run_track((char *[]){"top", "--batch", "--iterations", "1", NULL}, NULL, &r);
	ck_assert_msg(r.status == 5 && strstr(r.err, "no traced process") != NULL, "%d %s", r.status, r.err);
	run_free(&r);
	pid = start_pipeline((char *[]){NULL}, &in);
	ck_assert_uint_eq(json_frames((char *[]){"--iterations", "1", NULL}, f, 1), 1);
	ck_assert_int_eq(jint(f[0], "pid"), pid);
	/* two: which one is for the user to say */
	other = start_pipeline((char *[]){NULL}, &in2);
	run_track((char *[]){"top", "--batch", "--iterations", "1", NULL}, NULL, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "2 traced processes are running") != NULL,
		      "%d %s", r.status, r.err);
	run_free(&r);
	stop_pipeline(other, in2);
	stop_pipeline(pid, in);
}
END_TEST

/* One line on stderr starting "track: " with what in it, and the status. */
static void fails(int status, const char *what, char *const args[])
{
	struct run_result r;
	run_track(args, NULL, &r);
	ck_assert_msg(r.status == status, "status %d, want %d: %s", r.status, status, r.err);
	ck_assert_msg(strncmp(r.err, "track: ", 7) == 0 && strchr(r.err, '\n') == r.err + r.err_len - 1,
		      "not one line: %s", r.err);
	ck_assert_msg(strstr(r.err, what) != NULL, "'%s' not in %s", what, r.err);
	run_free(&r);
}

START_TEST(bad_input)
{
	pid_t untraced = fork();
	struct run_result r;
	if (untraced == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	fails(2, "--delay needs seconds", (char *[]){"top", "--batch", "--delay", "0", "1", NULL});
	fails(2, "--delay needs seconds", (char *[]){"top", "--batch", "--delay", "abc", "1", NULL});
	fails(2, "--json and --iterations go with --batch", (char *[]){"top", "--json", "1", NULL});
	fails(2, "--sort", (char *[]){"top", "--batch", "--sort", "nope", "1", NULL});
	fails(5, "999999999", (char *[]){"top", "--batch", "999999999", NULL});
	fails(5, pid_str(untraced), (char *[]){"top", "--batch", pid_str(untraced), NULL});
	fails(3, "not a track segment", (char *[]){"top", "--batch", (char *)write_tmp("junk", "not a segment, not at all, no"), NULL});
	/* no terminal, no --batch */
	fails(1, "needs a terminal", (char *[]){"top", (char *)write_tmp("junk2", "x"), NULL});
	kill(untraced, SIGKILL);
	waitpid(untraced, NULL, 0);
	run_track((char *[]){"top", "--help", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	want_text(r.out, "usage: track top", "--batch", "exit status", NULL);
	run_free(&r);
	run_track((char *[]){"help", "top", NULL}, NULL, &r);
	ck_assert_msg(r.status == 0 && strstr(r.out, "usage: track top") != NULL, "%s", r.out);
	run_free(&r);
}
END_TEST

/* --- the screen, in tmux ------------------------------------------------------------------ */


/* A shell command run with the tmux server of this test. */
static char *tmux_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tmux_out(const char *fmt, ...)
{
	char *cmd, *full, *out;
	va_list ap;
	struct run_result r;
	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	/* the server's socket in the test's directory: removed with it whatever happens */
	ck_assert_int_ge(asprintf(&full, "tmux -S %s -f /dev/null %s", tmp_path("tmux.sock"), cmd), 0);
	run((char *[]){"/bin/sh", "-c", full, NULL}, NULL, NULL, &r);
	out = strdup(r.out);
	run_free(&r);
	return out;
}

static char *capture(int escapes)
{
	return tmux_out("capture-pane -t top -p %s", escapes ? "-e" : "");
}

/* Wait up to 10 s for the screen to show what. */
static char *screen_with(const char *what)
{
	int i;
	char *s = NULL;
	for (i = 0; i < 100; i++) {
		s = capture(0);
		if (strstr(s, what) != NULL)
			return s;
		usleep(100000);
	}
	ck_abort_msg("the screen never showed '%s':\n%s", what, s);
	return s;
}

/* Whether some line of screen s is wider than width columns. */
static int has_line_wider_than(const char *s, int width)
{
	const char *nl;
	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
		if (nl - s > width)
			return 1;
	return 0;
}

/* The screen once a line of it is wider than width columns (redrawn after a resize): not
 * its first, the header, whose length is its content's (a short command path fits in 80
 * columns).  Looked for for up to 10 s: a loaded machine redraws late. */
static char *screen_wider_than(int width)
{
	int i;
	char *s = NULL;
	for (i = 0; i < 100; i++) {
		s = capture(0);
		if (has_line_wider_than(s, width))
			return s;
		usleep(100000);
	}
	ck_abort_msg("the screen was not drawn wider than %d:\n%s", width, s);
	return s;
}

/* Every panel's title once, the header on top, height lines none wider than width, the
 * footer last. */
static void clean_screen(const char *s, int width, int height)
{
	const char *titles[] = {"Threads (", "Pools (", "Locks (", "Queues (", "Wait-for ("};
	const char *p = s, *nl;
	size_t i;
	int lines = 0;
	for (i = 0; i < ARRAY_SIZE(titles); i++) {
		const char *a = strstr(s, titles[i]);
		ck_assert_msg(a != NULL && strstr(a + 1, titles[i]) == NULL, "%s:\n%s", titles[i], s);
	}
	ck_assert_msg(strncmp(s, "track top  pid ", 15) == 0, "%s", s);
	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1, lines++) {
		/* the sparkline's cells are three bytes each */
		size_t bytes = (size_t)(nl - p), cells = 0;
		for (i = 0; i < bytes; i++)
			cells += (p[i] & 0xc0) != 0x80;
		ck_assert_msg(cells <= (size_t)width, "line %d wider than %d: %.*s", lines, width, (int)bytes, p);
	}
	ck_assert_msg(lines == height, "%d lines, not %d:\n%s", lines, height, s);
	ck_assert_msg(strstr(s, "q:quit\n") != NULL, "no footer:\n%s", s);
}

/* Whether s has an SGR escape that sets a colour (30-38, 40-48, 90-107; not 39 and 49, the
 * default colours, which tmux writes whatever the program drew). */
static int has_colour(const char *s)
{
	const char *p = s;
	while ((p = strstr(p, "\033[")) != NULL) {
		char *end;
		p += 2;
		for (;;) {
			long v = strtol(p, &end, 10);
			if (end != p && v != 39 && v != 49 && ((v >= 30 && v <= 48) || (v >= 90 && v <= 107)))
				return 1;
			if (*end != ';')
				break;
			p = end + 1;
		}
	}
	return 0;
}

/* track top PID (0: none, to pick) in tmux, at 80x24, with env; its status goes to the
 * test's file "status". */
static void start_screen(pid_t pid, const char *env)
{
	char *status = (char *)tmp_path("status"), target[16] = "";
	struct run_result r;
	run((char *[]){"/bin/sh", "-c", "command -v tmux", NULL}, NULL, NULL, &r);
	ck_assert_msg(r.status == 0, "the screen tests need tmux (.ci/setup installs it)");
	run_free(&r);
	if (pid > 0)
		snprintf(target, sizeof target, "%d", (int)pid);
	/* bounded: a test that fails leaves no screen running behind it */
	free(tmux_out("new-session -d -s top -x 80 -y 24 'env %s TRACK_DIR=%s timeout --foreground 60 %s top %s; "
		      "echo $? > %s; sleep 5'", env, getenv("TRACK_DIR"), tool_path(), target, status));
}

/* The status track top ended with, once it has. */
static char *screen_status(void)
{
	char *st = NULL;
	int i;
	for (i = 0; i < 100; i++) {   /* the file may be made before it is written */
		if ((st = slurp_file(tmp_path("status"))) != NULL && strchr(st, '\n') != NULL)
			break;
		usleep(100000);
	}
	ck_assert_msg(st != NULL && strchr(st, '\n') != NULL, "track top did not end");
	return st;
}

static void end_screen(void)
{
	free(tmux_out("kill-server"));
}

START_TEST(screen_80x24)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--hot", NULL}, &in);
	char *s, *st;
	start_screen(pid, "NO_COLOR=");
	s = screen_with("Wait-for (");
	clean_screen(s, 80, 24);
	ck_assert_msg(strstr(s, "> Threads (") != NULL, "%s", s);
	/* colours on a colour terminal (the negative of NO_COLOR below) */
	ck_assert_msg(has_colour(capture(1)), "no colour escapes:\n%s", capture(1));
	free(tmux_out("send-keys -t top Tab"));
	s = screen_with("> Pools (");
	ck_assert_ptr_null(strstr(s, "> Threads ("));
	free(tmux_out("send-keys -t top Tab"));
	s = screen_with("> Locks (");
	ck_assert_msg(strstr(s, "cache_lock") != NULL, "%s", s);
	/* bigger, then back to 80x24: drawn again whole, nothing left over */
	free(tmux_out("resize-window -t top -x 120 -y 40"));
	s = screen_wider_than(80);
	usleep(300000);   /* the rest of that frame */
	s = capture(0);
	clean_screen(s, 120, 40);
	free(tmux_out("resize-window -t top -x 80 -y 24"));
	usleep(1500000);
	s = screen_with("> Locks (");
	clean_screen(s, 80, 24);
	ck_assert_msg(strstr(s, "> Locks (") != NULL, "%s", s);
	free(tmux_out("send-keys -t top q"));
	st = screen_status();
	ck_assert_msg(strcmp(st, "0\n") == 0, "status: %s", st);
	end_screen();
	stop_pipeline(pid, in);
}
END_TEST

/* Wait up to 10 s for the screen to stop showing what. */
static char *screen_without(const char *what)
{
	int i;
	char *s = NULL;
	for (i = 0; i < 100; i++) {
		s = capture(0);
		if (strstr(s, what) == NULL)
			return s;
		usleep(100000);
	}
	ck_abort_msg("the screen kept showing '%s':\n%s", what, s);
	return s;
}

static void keys(const char *k)
{
	free(tmux_out("send-keys -t top %s", k));
}

/* Pause, the sort column by > and by F6's list, the filter, Enter's recorded stack and s's
 * live stacks. */
START_TEST(screen_keys)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){"--hot", NULL}, &in);
	char *s;
	start_screen(pid, "");
	screen_with("Wait-for (");
	keys("p");
	screen_with("PAUSED");
	keys("p");
	screen_without("PAUSED");
	/* four queues' locks, four dependencies' (their reply condvars'), cache_lock */
	screen_with("Locks (9) by WAIT/S");
	keys("'>'");
	screen_with("Locks (9) by ACQ/S");
	keys("F6 Down Enter");
	screen_with("Locks (9) by CONT%");
	keys("-l /ingress");
	keys("Enter");
	s = screen_with("[filter]");
	ck_assert_msg(strstr(s, "enrich") == NULL && strstr(s, "ingress") != NULL, "%s", s);
	keys("/ Escape");
	screen_without("[filter]");
	keys("Enter");   /* the first thread: main */
	s = screen_with("recorded stack");
	ck_assert_msg(strstr(s, "created at:") != NULL, "%s", s);
	keys("q");
	screen_with("Wait-for (");
	keys("s");
	s = screen_with("live stacks");
	/* the dump's own header, and a pool's thread (the header's thread count may be cut at
	 * 80 columns when the program's path is long) */
	ck_assert_msg(strstr(s, "track stacks: pid ") != NULL && strstr(s, "\"parse-1\"") != NULL,
		      "%s", s);
	keys("q");
	screen_with("Wait-for (");
	keys("q");
	end_screen();
	stop_pipeline(pid, in);
}
END_TEST

/* Without a PID: the picker lists the traced process; Enter watches it.  The program runs
 * from a path longer than the screen is wide: its name must still show. */
START_TEST(screen_picker)
{
	FILE *in;
	const char *dir = tmp_path("a-directory-whose-name-is-long-enough-to-push-the-program-off-an-80-column-screen");
	char *prog, *s, spid[32];
	pid_t pid;
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_ge(asprintf(&prog, "%s/demo_pipeline", dir), 0);
	ck_assert_int_eq(symlink(demo_argv("demo_pipeline", NULL)[0], prog), 0);
	pid = start_pipeline_as(prog, (char *[]){NULL}, &in);
	snprintf(spid, sizeof spid, "%d ", (int)pid);
	start_screen(0, "");
	s = screen_with("pick a traced process");
	ck_assert_msg(strstr(s, spid) != NULL && strstr(s, ".../demo_pipeline") != NULL, "%s", s);
	keys("Enter");
	s = screen_with("Wait-for (");
	ck_assert_msg(strstr(s, spid) != NULL, "%s", s);
	keys("q");
	ck_assert_str_eq(screen_status(), "0\n");
	end_screen();
	stop_pipeline(pid, in);
}
END_TEST

/* The watched process ends: the screen says so, keeps its last picture, and q still
 * answers 0. */
START_TEST(screen_end)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){NULL}, &in);
	char *s;
	start_screen(pid, "");
	screen_with("Wait-for (");
	fclose(in);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	s = screen_with("has ended: its last state");
	ck_assert_msg(strstr(s, "ENDED") != NULL && strstr(s, "Locks (") != NULL, "%s", s);
	keys("q");
	ck_assert_str_eq(screen_status(), "0\n");
	end_screen();
}
END_TEST

START_TEST(screen_no_color)
{
	FILE *in;
	pid_t pid = start_pipeline((char *[]){NULL}, &in);
	char *s;
	start_screen(pid, "NO_COLOR=1");
	screen_with("Wait-for (");
	usleep(1200000);   /* a refresh too */
	s = capture(1);
	ck_assert_msg(strstr(s, "\033[") != NULL, "no escapes at all: the check would prove nothing");
	ck_assert_msg(!has_colour(s), "colour escapes with NO_COLOR=1:\n%s", s);
	end_screen();
	stop_pipeline(pid, in);
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("batch", hot_lock_first_and_rates),
		TEST("batch", text_frame_hot_lock),
		TEST("batch", queue_rejections),
		TEST("batch", deadlock_lights_up),
		TEST("batch", timed_cycle_may_end),
		TEST("batch", leak_growth),
		TEST("batch", end_and_replay),
		TEST("batch", sigterm_drains),
		TEST("batch", pick_the_only_one),
		TEST("usage", bad_input),
		TEST("screen", screen_80x24),
		TEST("screen", screen_keys),
		TEST("screen", screen_picker),
		TEST("screen", screen_end),
		TEST("screen", screen_no_color),
	};
	return run_tests("top", 120, tests, ARRAY_SIZE(tests));
}

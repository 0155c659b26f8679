/*
 * test_export.c — the export formats and the exporter, checked by readers that are not
 * ours where there are any: folded stacks parsed back; pprof read by `go tool pprof`;
 * Prometheus output checked by `promtool check metrics` and its figures compared with the
 * JSON report of the same run; the exporter scraped over loopback while a traced program
 * runs and after it ended; and every refusal in one line.  A test whose outside reader is
 * missing is not run: the suite says which, runs the rest, and exits 77, which CTest
 * reports as skipped (SKIP_RETURN_CODE), never as passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define SKIPPED 77   /* CTest's SKIP_RETURN_CODE for this suite (tests/CMakeLists.txt) */

/* Whether program is on PATH. */
static int have(const char *program)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", program);
	return system(cmd) == 0;
}

/* `track run --json J --format F [--view V] --output O -- demo_hotlock`: the JSON report. */
static json_t *hotlock(const char *format, const char *view, const char *value, const char *out)
{
	struct run_result r;
	char *opts[12];
	json_t *root;
	int n = 0;
	opts[n++] = "--format";
	opts[n++] = (char *)format;
	opts[n++] = "--output";
	opts[n++] = (char *)out;
	if (view != NULL) {
		opts[n++] = "--view";
		opts[n++] = (char *)view;
	}
	if (value != NULL) {
		opts[n++] = "--value";
		opts[n++] = (char *)value;
	}
	opts[n] = NULL;
	root = run_track_json(opts, demo_argv("demo_hotlock", NULL), NULL, &r);
	ck_assert_msg(r.status == 0, "track run failed (%d): %s", r.status, r.err);
	ck_assert_ptr_nonnull(root);
	run_free(&r);
	return root;
}

/* The figure at path ("wait.total_ns") of the lock called name in the JSON report. */
static long long lock_figure(json_t *root, const char *name, const char *path)
{
	json_t *lock = jfind(root, "locks", "name", name);
	ck_assert_msg(lock != NULL, "no lock %s in %s", name, dump(root));
	return jint(lock, path);
}

/* --- folded ---------------------------------------------------------------------------- */

/* Each line of a folded file checked ("frame;frame VALUE", no empty frame, no frame ending
 * in a space); the sum of the values of the lines whose stack starts with prefix, and
 * whether one of them holds want. */
static unsigned long long folded_sum(const char *path, const char *prefix, const char *want,
				     int *found)
{
	char *text = slurp_file(path), *line, *save = NULL;
	unsigned long long sum = 0;
	*found = 0;
	ck_assert_msg(text != NULL, "no folded output at %s", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *end;
		unsigned long long v;
		ck_assert_msg(sp != NULL && sp > line, "no value: '%s'", line);
		errno = 0;
		v = strtoull(sp + 1, &end, 10);
		ck_assert_msg(*end == '\0' && errno == 0 && v > 0, "bad value: '%s'", line);
		*sp = '\0';
		ck_assert_msg(strstr(line, ";;") == NULL && line[0] != ';' && sp[-1] != ';',
			      "empty frame: '%s'", line);
		ck_assert_msg(strstr(line, " ;") == NULL && sp[-1] != ' ',
			      "frame ending in a space: '%s'", line);
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			sum += v;
			*found |= want == NULL || strstr(line, want) != NULL;
		}
	}
	free(text);
	return sum;
}

START_TEST(folded_contention)
{
	const char *out = tmp_path("wait.folded");
	json_t *root = hotlock("folded", NULL, NULL, out);
	long long total = lock_figure(root, "g_hot", "wait.total_ns");
	int found;
	unsigned long long sum = folded_sum(out, "mutex g_hot;", "read_stats", &found);
	ck_assert_msg(found, "the waiting function read_stats is not under mutex g_hot: %s",
		      slurp_file(out));
	/* the per-stack profiles add up to the lock's own (each wait is counted in both) */
	ck_assert_msg(total > 0 && sum <= (unsigned long long)total + total / 100 &&
			      sum >= (unsigned long long)total * 9 / 10,
		      "folded g_hot %llu ns, JSON wait total %lld ns", sum, total);
	json_decref(root);
}
END_TEST

START_TEST(folded_counts)
{
	const char *out = tmp_path("count.folded");
	json_t *root = hotlock("folded", "contention", "count", out);
	long long count = lock_figure(root, "g_hot", "wait.count");
	int found;
	unsigned long long sum = folded_sum(out, "mutex g_hot;", "read_stats", &found);
	ck_assert_msg(found && count > 0 && sum <= (unsigned long long)count &&
			      sum >= (unsigned long long)count * 9 / 10,
		      "folded g_hot %llu waits, JSON %lld", sum, count);
	json_decref(root);
}
END_TEST

START_TEST(folded_holding)
{
	const char *out = tmp_path("hold.folded");
	json_t *root = hotlock("folded", "holding", NULL, out);
	long long total = lock_figure(root, "g_hot", "wait.total_ns");
	int found;
	unsigned long long sum = folded_sum(out, "mutex g_hot;", "slow_updater", &found);
	/* the readers wait for the updater nearly always: most of the waiting is its */
	ck_assert_msg(found && sum >= (unsigned long long)total / 2 &&
			      sum <= (unsigned long long)total + total / 100,
		      "holding view: slow_updater charged %llu of %lld ns: %s", sum, total,
		      slurp_file(out));
	json_decref(root);
}
END_TEST

/* --- pprof ----------------------------------------------------------------------------- */

/* `go tool pprof ARGS FILE` with a private HOME and cache, no network; its stdout. */
static char *go_pprof(const char *arg, const char *file)
{
	struct run_result r;
	char home[512], cache[512], *out;
	snprintf(home, sizeof home, "HOME=%s", tmp_path("gohome"));
	snprintf(cache, sizeof cache, "GOCACHE=%s", tmp_path("gocache"));
	run((char *[]){"go", "tool", "pprof", (char *)arg, (char *)file, NULL}, NULL,
	    (char *[]){home, cache, "GOFLAGS=", "GOPROXY=off", "GOTOOLCHAIN=local",
		       "PPROF_BINARY_PATH=/nonexistent", NULL},
	    &r);
	ck_assert_msg(r.status == 0, "go tool pprof %s failed (%d): %s", arg, r.status, r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

START_TEST(pprof_read_by_go)
{
	const char *out = tmp_path("hot.pb.gz");
	json_t *root, *lock;
	char *raw, *top, *p;
	unsigned long long count = 0, delay = 0, c, d;
	long long want_count = 0, want_delay = 0;
	size_t i;
	root = hotlock("pprof", NULL, NULL, out);
	raw = go_pprof("-raw", out);
	ck_assert_msg(strstr(raw, "contentions/count delay/nanoseconds") != NULL, "%s", raw);
	/* the samples: "   COUNT   DELAY: LOCATION IDS" up to "Locations" */
	p = strstr(raw, "Samples:");
	ck_assert_ptr_nonnull(p);
	for (p = strchr(p, '\n') + 1; *p && strncmp(p, "Locations", 9) != 0; p = strchr(p, '\n') + 1) {
		if (sscanf(p, " %llu %llu:", &c, &d) == 2) {
			count += c;
			delay += d;
		}
	}
	json_array_foreach(json_object_get(root, "locks"), i, lock) {
		if (jint(lock, "wait.count") > 0) {
			want_count += jint(lock, "wait.count");
			want_delay += jint(lock, "wait.total_ns");
		}
	}
	ck_assert_msg(count > 0 && count <= (unsigned long long)want_count &&
			      count >= (unsigned long long)want_count * 9 / 10,
		      "pprof %llu contentions, JSON %lld:\n%s", count, want_count, raw);
	ck_assert_msg(delay <= (unsigned long long)want_delay + want_delay / 100 &&
			      delay >= (unsigned long long)want_delay * 9 / 10,
		      "pprof %llu ns, JSON %lld", delay, want_delay);
	top = go_pprof("-top", out);
	want_text(top, "Type: delay", "read_stats", "mutex g_hot", NULL);
	free(raw);
	free(top);
	json_decref(root);
}
END_TEST

/* --- prometheus ------------------------------------------------------------------------ */

/* promtool check metrics on text: it must find no problem, not even a lint warning. */
static void promtool_ok(const char *text)
{
	struct run_result r;
	const char *in = write_tmp("metrics.txt", text);
	run((char *[]){"promtool", "check", "metrics", NULL}, in, NULL, &r);
	ck_assert_msg(r.status == 0 && r.out_len == 0 && r.err_len == 0,
		      "promtool check metrics (%d): %s%s", r.status, r.out, r.err);
	run_free(&r);
}

/* The value of the series of family name whose labels hold every one of want (a list of
 * 'k="v"', NULL-terminated), as text; NULL if there is none. */
static const char *series(const char *text, const char *name, ...)
{
	static char value[64];
	const char *p = text;
	size_t n = strlen(name);
	while ((p = strstr(p, name)) != NULL) {
		const char *end = strchr(p, '\n'), *w;
		int all = (p == text || p[-1] == '\n') && p[n] == '{';
		va_list ap;
		va_start(ap, name);
		while (all && (w = va_arg(ap, const char *)) != NULL) {
			const char *hit = strstr(p, w);
			all = hit != NULL && (end == NULL || hit < end);
		}
		va_end(ap);
		if (all) {
			const char *sp = strrchr(p, ' ');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			for (sp = p + len; sp > p && sp[-1] != ' '; sp--)
				;
			snprintf(value, sizeof value, "%.*s", (int)(p + len - sp), sp);
			return value;
		}
		p += n;
	}
	return NULL;
}

/* "12.000345678" seconds as nanoseconds, exactly. */
static long long exact_ns(const char *s)
{
	unsigned long long sec = 0, frac = 0;
	int digits = 0;
	const char *dot = strchr(s, '.');
	sec = strtoull(s, NULL, 10);
	if (dot != NULL)
		for (dot++; *dot >= '0' && *dot <= '9' && digits < 9; dot++, digits++)
			frac = frac * 10 + (unsigned long long)(*dot - '0');
	for (; digits < 9; digits++)
		frac *= 10;
	return (long long)(sec * 1000000000ull + frac);
}

START_TEST(prometheus_checked)
{
	const char *out = tmp_path("metrics.prom");
	json_t *root;
	char *text;
	const char *v;
	char pid[32];
	root = hotlock("prometheus", NULL, NULL, out);
	text = slurp_file(out);
	ck_assert_ptr_nonnull(text);
	promtool_ok(text);
	snprintf(pid, sizeof pid, "pid=\"%lld\"", jint(root, "process.pid"));
	want_text(text, "# TYPE track_lock_wait_seconds histogram",
		  "# TYPE track_lock_hold_seconds histogram",
		  "# TYPE track_lock_contentions_total counter",
		  "# TYPE track_threads_created_total counter",
		  "# TYPE track_process_start_time_seconds gauge", "command=\"demo_hotlock\"",
		  "le=\"+Inf\"", NULL);
	v = series(text, "track_threads_created_total", pid, NULL);
	ck_assert_msg(v && atoll(v) == jint(root, "threads.created"), "threads created %s", v);
	v = series(text, "track_lock_acquisitions_total", pid, "lock=\"g_hot\"", NULL);
	ck_assert_msg(v && atoll(v) == lock_figure(root, "g_hot", "acquisitions"), "%s", v);
	v = series(text, "track_lock_contentions_total", pid, "lock=\"g_hot\"", NULL);
	ck_assert_msg(v && atoll(v) == lock_figure(root, "g_hot", "contended"), "%s", v);
	v = series(text, "track_lock_wait_seconds_count", pid, "lock=\"g_hot\"", NULL);
	ck_assert_msg(v && atoll(v) == lock_figure(root, "g_hot", "wait.count"), "%s", v);
	v = series(text, "track_lock_wait_seconds_sum", pid, "lock=\"g_hot\"", NULL);
	ck_assert_msg(v && exact_ns(v) == lock_figure(root, "g_hot", "wait.total_ns"), "%s", v);
	v = series(text, "track_lock_wait_seconds_bucket", pid, "lock=\"g_hot\"", "le=\"+Inf\"",
		   NULL);
	ck_assert_msg(v && atoll(v) == lock_figure(root, "g_hot", "wait.count"), "%s", v);
	v = series(text, "track_lock_hold_seconds_count", pid, "lock=\"g_cold\"", NULL);
	ck_assert_msg(v && atoll(v) == lock_figure(root, "g_cold", "hold.count") +
					       (lock_figure(root, "g_cold", "hold.count") < 0),
		      "g_cold holds %s", v);
	/* pools: the three readers are one pool, and had three threads */
	v = series(text, "track_pool_threads_created_total", pid, "pool=\"reader\"", NULL);
	ck_assert_msg(v && atoll(v) == 3, "reader pool: %s", v ? v : "(none)");
	ck_assert_ptr_null(series(text, "track_pool_threads_created_total", pid,
				  "pool=\"read_stats\"", NULL));
	free(text);
	json_decref(root);
}
END_TEST

START_TEST(prometheus_top_bounds_series)
{
	const char *out = tmp_path("top1.prom");
	struct run_result r;
	json_t *root;
	char *text;
	const char *v;
	long long others;
	root = run_track_json((char *[]){"--format", "prometheus", "--top", "1", "--output",
					 (char *)out, NULL},
			      demo_argv("demo_hotlock", NULL), NULL, &r);
	ck_assert_int_eq(r.status, 0);
	text = slurp_file(out);
	/* g_hot waits most: it keeps its series; the two others are summed */
	ck_assert_ptr_nonnull(series(text, "track_lock_acquisitions_total", "lock=\"g_hot\"", NULL));
	ck_assert_ptr_null(series(text, "track_lock_acquisitions_total", "lock=\"g_cold\"", NULL));
	v = series(text, "track_lock_acquisitions_total", "lock=\"other\"", NULL);
	others = lock_figure(root, "g_cold", "acquisitions") +
		 lock_figure(root, "turn.0", "acquisitions");
	ck_assert_msg(v && atoll(v) == others, "other: %s, want %lld", v, others);
	promtool_ok(text);
	free(text);
	run_free(&r);
	json_decref(root);
}
END_TEST

/* --- the exporter ---------------------------------------------------------------------- */

/* `track exporter ARGS` in the background; its pid, and the port it says it serves on. */
static pid_t start_exporter(int *port)
{
	int p[2];
	char line[256], *colon;
	FILE *out;
	pid_t pid;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(tool_path(), "track", "exporter", "--listen", "127.0.0.1:0", (char *)NULL);
		_exit(122);
	}
	close(p[1]);
	out = fdopen(p[0], "r");
	ck_assert_msg(fgets(line, sizeof line, out) != NULL, "the exporter said nothing");
	colon = strrchr(line, ':');
	ck_assert_msg(strstr(line, "serving http://127.0.0.1:") && colon, "%s", line);
	*port = atoi(colon + 1);
	ck_assert_int_gt(*port, 0);
	return pid;
}

/* GET path from 127.0.0.1:port over a plain socket: the whole response (malloc'd). */
static char *http_get(int port, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	do {
		if (len + 4096 > cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = read(fd, buf + len, cap - len);
		len += n > 0 ? (size_t)n : 0;
	} while (n > 0 || (n < 0 && errno == EINTR));
	close(fd);
	buf[len] = '\0';
	return buf;
}

START_TEST(exporter_scraped)
{
	FILE *out, *in;
	char label[32], *resp, *body;
	int port, status;
	pid_t exporter = start_exporter(&port), demo;
	demo = start_talking(demo_argv("demo_hotlock", "stay"), (char *[]){shim_preload(), NULL},
			     &out, &in);
	snprintf(label, sizeof label, "pid=\"%d\"", (int)demo);
	resp = http_get(port, "/metrics");
	ck_assert_msg(strncmp(resp, "HTTP/1.", 7) == 0 && strstr(resp, " 200 ") != NULL, "%s",
		      resp);
	want_text(resp, "text/plain; version=0.0.4", NULL);
	body = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(series(body + 4, "track_lock_acquisitions_total", label,
				     "lock=\"g_hot\"", NULL));
	promtool_ok(body + 4);
	free(resp);
	resp = http_get(port, "/nothing-here");
	ck_assert_msg(strstr(resp, " 404 ") != NULL, "%s", resp);
	free(resp);
	resp = http_get(port, "/");
	want_text(resp, " 200 ", "/metrics", NULL);
	free(resp);
	/* the program ends: the next scrape no longer has it */
	fclose(in);
	ck_assert_int_eq(wait_exit(demo, 30), 0);
	resp = http_get(port, "/metrics");
	ck_assert_msg(strstr(resp, " 200 ") != NULL && strstr(resp, label) == NULL,
		      "an ended process is still served: %s", resp);
	free(resp);
	fclose(out);
	kill(exporter, SIGTERM);
	status = wait_exit(exporter, 30);
	ck_assert_msg(status == 0, "the exporter ended with %d on SIGTERM", status);
}
END_TEST

/* track ARGS fails with status, saying one line holding want. */
static void refused(int status, const char *want, char *const args[])
{
	struct run_result r;
	run_track(args, NULL, &r);
	ck_assert_msg(r.status == status, "status %d, not %d: %s", r.status, status, r.err);
	ck_assert_msg(r.err_len > 0 && strchr(r.err, '\n') == r.err + r.err_len - 1,
		      "not one line: '%s'", r.err);
	want_text(r.err, want, NULL);
	run_free(&r);
}

START_TEST(refusals)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	char listen_at[64], port[16];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	refused(2, "text, json, folded, pprof or prometheus",
		(char *[]){"run", "--format", "svg", "--", "true", NULL});
	refused(2, "text, json, folded, pprof or prometheus",
		(char *[]){"report", "--format", "svg", "1", NULL});
	refused(2, "contention, blocking or holding",
		(char *[]){"report", "--view", "locks", "1", NULL});
	refused(2, "name a file", (char *[]){"run", "--output", "-", "--", "true", NULL});
	refused(2, "--output FILE", (char *[]){"run", "--format", "pprof", "--", "true", NULL});
	refused(2, "not a loopback address",
		(char *[]){"exporter", "--listen", "10.1.2.3:9476", NULL});
	refused(2, "IPv4 address and a port", (char *[]){"exporter", "--listen", "nowhere", NULL});
	/* a port in use: this test holds it */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, sizeof port, "%u", (unsigned)ntohs(sa.sin_port));
	snprintf(listen_at, sizeof listen_at, "127.0.0.1:%s", port);
	refused(1, port, (char *[]){"exporter", "--listen", listen_at, NULL});
	close(fd);
}
END_TEST

START_TEST(help)
{
	struct run_result r;
	run_track((char *[]){"help", "exporter", NULL}, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	want_text(r.out, "--listen", "--top", "--allow-remote", "/metrics", NULL);
	run_free(&r);
	run_track((char *[]){"report", "--help", NULL}, NULL, &r);
	want_text(r.out, "--format", "--view", "--value", "--output", "prometheus", NULL);
	run_free(&r);
}
END_TEST

int main(void)
{
	/* each test and the outside program it needs (NULL: none) */
	const struct {
		const char *needs;
		struct test_def def;
	} all[] = {
		{NULL, TEST("folded", folded_contention)},
		{NULL, TEST("folded", folded_counts)},
		{NULL, TEST("folded", folded_holding)},
		{"go", TEST("pprof", pprof_read_by_go)},
		{"promtool", TEST("prometheus", prometheus_checked)},
		{"promtool", TEST("prometheus", prometheus_top_bounds_series)},
		{"promtool", TEST("exporter", exporter_scraped)},
		{NULL, TEST("cli", refusals)},
		{NULL, TEST("cli", help)},
	};
	struct test_def tests[ARRAY_SIZE(all)];
	size_t i, n = 0;
	int rc;
	for (i = 0; i < ARRAY_SIZE(all); i++) {
		if (all[i].needs == NULL || have(all[i].needs))
			tests[n++] = all[i].def;
		else
			fprintf(stderr, "NOT RUN: %s needs %s, which is not installed (.ci/setup "
				"installs it)\n", all[i].def.tcase, all[i].needs);
	}
	rc = run_tests("export", 120, tests, n);
	return rc == 0 && n < ARRAY_SIZE(all) ? SKIPPED : rc;
}

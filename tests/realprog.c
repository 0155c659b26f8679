/*
 * realprog.c — the helpers of the suites of real programs (realprog.h): inputs, native
 * against traced runs with the checks every correct program passes, and servers driven by
 * their own benchmark clients on loopback.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "realprog.h"

#define INPUT_LINES 1000000L /* ~21 MB of text */

/* --- inputs ------------------------------------------------------------------------------- */

uint64_t lcg_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s;
}

static FILE *start_file(const char *path, char *part, size_t partsz)
{
	FILE *f;
	snprintf(part, partsz, "%s.part", path);
	f = fopen(part, "w");
	ck_assert_msg(f != NULL, "cannot write %s: %s", part, strerror(errno));
	return f;
}

static void finish_file(FILE *f, const char *part, const char *path)
{
	ck_assert_msg(ferror(f) == 0 && fclose(f) == 0, "cannot write %s", part);
	ck_assert_int_eq(rename(part, path), 0);
}

const char *input_file(const char *name, void (*write)(FILE *))
{
	const char *path = run_path(name);
	char part[600];
	struct stat st;
	FILE *f;
	if (stat(path, &st) == 0)
		return path;
	f = start_file(path, part, sizeof part);
	write(f);
	finish_file(f, part, path);
	return path;
}

void write_text_lines(FILE *f, long lines)
{
	static const char *const words[] = {
		"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
		"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
		"quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
		"yankee", "zulu"};
	uint64_t s = 12345;
	long i;
	for (i = 0; i < lines; i++) {
		unsigned a = (unsigned)(lcg_next(&s) >> 33);
		fprintf(f, "%08x %s %u\n", a, words[(a >> 3) % 26], (unsigned)(s >> 20) % 100000);
	}
}

static void write_text(FILE *f)
{
	write_text_lines(f, INPUT_LINES);
}

const char *input_text(void)
{
	return input_file("input.txt", write_text);
}

void write_bytes(const char *path, const char *data, size_t len)
{
	char part[600];
	FILE *f = start_file(path, part, sizeof part);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	finish_file(f, part, path);
}

/* --- native against traced ---------------------------------------------------------------- */

void run_both_env(char *const argv[], char *const trace_argv[], const char *in_path,
		  char *const env[], struct both *b)
{
	char *rep, *text = (char *)tmp_path("report.txt");
	b->root = traced_vs_native(&(struct tvn){argv, trace_argv, in_path, NULL, env}, &b->nat,
				   &b->tr);
	ck_assert_msg(jint(b->root, "process.exit_code") == b->nat.status,
		      "report says exit code %lld, the program exited with %d",
		      jint(b->root, "process.exit_code"), b->nat.status);
	ck_assert_int_eq(jint(b->root, "threads.not_tracked"), 0);
	ck_assert_msg(count_serious(b->root) == 0, "%s: findings in a correct program: %s",
		      argv[0], findings_text(b->root));
	rep = slurp_file(text);
	ck_assert_msg(rep != NULL, "no text report at %s", text);
	ck_assert_msg(strstr(rep, "threads:") != NULL, "text report without \"threads:\": %s",
		      rep);
	free(rep);
	free(text);
}

void run_both(char *const argv[], char *const trace_argv[], const char *in_path,
	      struct both *b)
{
	run_both_env(argv, trace_argv, in_path, NULL, b);
}

void both_free(struct both *b)
{
	json_decref(b->root);
	run_free(&b->nat);
	run_free(&b->tr);
}

void thread_list_consistent(json_t *root)
{
	json_t *list = json_object_get(root, "threads"), *t;
	size_t i, mains = 0, alive = 0;
	list = json_object_get(list, "list");
	ck_assert_int_eq(jint(root, "threads.foreign"), 0);
	/* the records of reused ones are gone from the list, but their threads are not from
	 * the pools */
	ck_assert_int_eq((long long)json_array_size(list),
			 jint(root, "threads.created") + 1 -
				 jint(root, "overflow.thread_records_recycled"));
	ck_assert_int_eq(sum_field(root, "pools", "threads"), jint(root, "threads.created") + 1);
	json_array_foreach(list, i, t) {
		json_t *f = json_object_get(t, "flags"), *x;
		size_t j;
		json_array_foreach(f, j, x)
			mains += strcmp(json_string_value(x), "main") == 0;
		alive += json_is_true(json_object_get(t, "alive_at_exit"));
	}
	ck_assert_int_eq(mains, 1);
	ck_assert_int_eq((long long)alive, jint(root, "threads.alive_at_exit"));
}

void all_joined(json_t *root)
{
	long long created = jint(root, "threads.created");
	ck_assert_int_eq(jint(root, "threads.exited"), created);
	ck_assert_int_eq(jint(root, "threads.joined"), created);
	ck_assert_int_eq(jint(root, "threads.detached"), 0);
	ck_assert_int_eq(jint(root, "threads.alive_at_exit"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(root, "other_processes")), 0);
	thread_list_consistent(root);
}

long long sum_field(json_t *root, const char *array, const char *field)
{
	json_t *a = json_object_get(root, array), *e;
	long long sum = 0;
	size_t i;
	json_array_foreach(a, i, e)
		sum += json_integer_value(json_object_get(e, field));
	return sum;
}

/* --- a server and its benchmark on loopback ----------------------------------------------- */

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	return a;
}

int free_port(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Whether something accepts connections on 127.0.0.1:port. */
static int accepting(int port)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
	ck_assert_int_ge(fd, 0);
	ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/* Start argv in the background with its output to a file; returns its pid. */
static pid_t start_bg(char *const argv[], const char *out)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(122);
	}
	return pid;
}

/* argv with "{port}" replaced by port, after the `track run` options pre (NULL-terminated,
   or NULL); the strings made are the test's (its process is short-lived). */
static void with_port(char *out[], size_t max, char *const pre[], const char *const argv[],
		      const char *port)
{
	size_t n = 0, i;
	for (i = 0; pre && pre[i] && n + 1 < max; i++)
		out[n++] = pre[i];
	for (i = 0; argv[i] && n + 1 < max; i++) {
		const char *p = strstr(argv[i], "{port}");
		char *s = (char *)argv[i];
		if (p != NULL)
			ck_assert_int_ge(asprintf(&s, "%.*s%s%s", (int)(p - argv[i]), argv[i], port,
						  p + 6), 0);
		out[n++] = s;
	}
	out[n] = NULL;
}

int server_round(const struct server_bench *s, int traced, const char *server_json,
		 const char *client_json, struct run_result *bench)
{
	char port[16], name[64], *server[48], *client[48];
	char *srv_pre[] = {(char *)tool_path(), "run", "--json", (char *)server_json, "-o",
			   NULL, "--", NULL};
	char *cli_pre[] = {(char *)tool_path(), "run", "-q", "--error-exitcode=9", "--", NULL,
			   NULL, NULL};
	int st, tries, portnum = free_port();
	pid_t pid;
	snprintf(port, sizeof port, "%d", portnum);
	snprintf(name, sizeof name, "%s-report.txt", s->name);
	srv_pre[5] = (char *)tmp_path(name);
	if (client_json != NULL) {
		cli_pre[4] = "--json";
		cli_pre[5] = (char *)client_json;
		cli_pre[6] = "--";
	}
	with_port(server, ARRAY_SIZE(server), traced ? srv_pre : NULL, s->server, port);
	with_port(client, ARRAY_SIZE(client), traced ? cli_pre : NULL, s->client, port);
	snprintf(name, sizeof name, "%s-%s.out", s->name, traced ? "tr" : "nat");
	pid = start_bg(server, tmp_path(name));
	for (tries = 0; tries < 200 && !accepting(portnum); tries++) {
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "%s ended before it listened: %s",
			      s->name, slurp_file(tmp_path(name)));
		usleep(50000);
	}
	ck_assert_msg(tries < 200, "%s did not listen on port %s", s->name, port);
	run(client, NULL, NULL, bench);
	s->stop(port, pid);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

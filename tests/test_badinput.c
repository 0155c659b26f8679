/*
 * test_badinput.c — bad input everywhere: every subcommand of track given missing, malformed
 * and hostile arguments, files and environment values, from tables.  Each case must end
 * with its documented exit status, within a deadline (a FIFO or /dev/zero must not hang a
 * command), without a signal; say why in exactly one line of stderr that starts "track: ",
 * is valid UTF-8 with no control character, and is short even when the value was 64 KB;
 * print nothing on stdout; and leave nothing behind: no file in the output directory,
 * TRACK_DIR, TMPDIR or the default segment directories that was not there before.  Beside
 * the refusals are the same commands used right (the negatives), so a case cannot pass
 * for a command that fails at everything.
 *
 * The shim's side: every TRACK_* variable of include/track/env.h with a malformed value,
 * under a plain LD_PRELOAD (the program runs exactly as natively, one "libtrack:" line
 * says what was refused, the segment records it for the report and the defaults are the
 * ones used) and under track run (refused before the program starts, exit 2).
 *
 * A suite of its own rather than more of test_cli.c: its cases are rows of tables run by
 * one checker with a deadline and a before/after listing of directories, which test_cli's
 * one-assertion-per-call style does not have.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/segread.h"
#include "harness.h"
#include "track/env.h"
#include "track/text.h"

#define DEADLINE_MS 10000     /* no case may take longer: a hang is a failure of its own */
#define ERR_MAX 1024          /* an error line longer than this echoed a value uncut */
#define NOBODY 65534

/* --- running one case ------------------------------------------------------------------- */

enum {
	B_WORKS = 1,          /* a negative: the command works (status as given), says anything */
	B_STDOUT = 2,      /* stdout may hold something (the program's, a listing) */
	B_USAGE = 4,       /* stderr is the usage text, not one line */
	B_SELF = 8,        /* the command's own pid is appended as its last argument */
	B_NOBODY = 16,     /* run as uid 65534 (only when the suite runs as root) */
	B_FSIZE = 32,      /* files may grow to 64 bytes only, SIGXFSZ at its default */
	B_PTY = 64,        /* stdin and stdout a terminal */
	B_LINES = 128,     /* stderr may have more lines (the shim's, then track's) */
};

struct outcome {
	int status;        /* 128+N for signal N */
	int hung;
	char *out, *err;
};

/* Values the tables name by token: the word @NAME, alone or after "=". */
struct token {
	const char *name;
	char *value;
};
static struct token tokens[48];
static size_t ntokens;

static void token_set(const char *name, const char *value)
{
	ck_assert(ntokens < ARRAY_SIZE(tokens));
	tokens[ntokens].name = name;
	tokens[ntokens].value = strdup(value);
	ntokens++;
}

static const char *token_get(const char *name)
{
	size_t i;
	for (i = 0; i < ntokens; i++)
		if (strcmp(tokens[i].name, name) == 0)
			return tokens[i].value;
	ck_abort_msg("no token %s", name);
	return NULL;
}

/* word with its token replaced (a new string). */
static char *expand(const char *word)
{
	const char *at = strchr(word, '@');
	char *s;
	if (at == NULL || (at != word && at[-1] != '='))
		return strdup(word);
	ck_assert_int_ge(asprintf(&s, "%.*s%s", (int)(at - word), word, token_get(at)), 0);
	return s;
}

/* "a b\\ c" into a NULL-terminated vector of expanded words ("a", "b c"). */
static size_t split(const char *line, char **v, size_t max)
{
	char *copy = strdup(line), *save = NULL, *w, *p;
	size_t n = 0;
	for (p = copy; (p = strstr(p, "\\ ")) != NULL; p++) {
		memmove(p, p + 1, strlen(p));
		*p = '\001';   /* a space inside a word, for now */
	}
	for (w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		ck_assert(n + 1 < max);
		for (p = w; (p = strchr(p, '\001')) != NULL;)
			*p = ' ';
		v[n++] = expand(w);
	}
	v[n] = NULL;
	free(copy);
	return n;
}

/* The directories a command must leave as they were, one path a line. */
static const char *watched[6];

/* "dir/name\n" for every entry of the watched directories (and of their subdirectories), sorted. */
static void list_dir(const char *dir, char **acc, size_t *len, int depth)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), i;
	for (i = 0; i < n; i++) {
		char *path;
		FILE *f;
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
			ck_assert_int_ge(asprintf(&path, "%s/%s", dir, names[i]->d_name), 0);
			f = open_memstream(acc, len);
			fseek(f, 0, SEEK_END);
			fprintf(f, "%s\n", path);
			fclose(f);
			if (depth < 1 && names[i]->d_type == DT_DIR)
				list_dir(path, acc, len, depth + 1);
			free(path);
		}
		free(names[i]);
	}
	free(n >= 0 ? names : NULL);
}

static char *listing(void)
{
	char *acc = strdup("");
	size_t i;
	for (i = 0; i < ARRAY_SIZE(watched) && watched[i] != NULL; i++) {
		char *part = NULL;
		size_t plen = 0;
		list_dir(watched[i], &part, &plen, 0);
		if (part != NULL) {
			acc = realloc(acc, strlen(acc) + plen + 1);
			strcat(acc, part);
			free(part);
		}
	}
	return acc;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: the environment and limits of a case, then exec argv. */
static void child(char **argv, char **env, unsigned flags, int out, int err, int pty_slave)
{
	size_t i;
	int in = pty_slave >= 0 ? pty_slave : open("/dev/null", O_RDONLY);
	if (pty_slave < 0) {
		setpgid(0, 0);
	} else {
		setsid();
		ioctl(pty_slave, TIOCSCTTY, 0);
		out = pty_slave;
	}
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	setenv("TMPDIR", watched[2], 1);
	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strchr(env[i], '=') != NULL)
			putenv(env[i]);
		else
			unsetenv(env[i]);
	}
	if (flags & B_FSIZE) {
		struct rlimit r = {64, 64};
		signal(SIGXFSZ, SIG_DFL);
		setrlimit(RLIMIT_FSIZE, &r);
	}
	if ((flags & B_NOBODY) && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
				   setuid(NOBODY) != 0))
		_exit(123);
	execv(argv[0], argv);
	_exit(122);
}

/* Read what is there on the open ones of n descriptors (a poll of up to 5 ms) into the
 * matching streams; a descriptor at its end is closed and set to -1. */
static void drain(int *fds, FILE **into, int n)
{
	struct pollfd p[3];
	char buf[4096];
	int i;
	for (i = 0; i < n; i++)
		p[i] = (struct pollfd){fds[i], POLLIN, 0};
	if (poll(p, (nfds_t)n, 5) <= 0)
		return;
	for (i = 0; i < n; i++) {
		ssize_t k;
		if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		k = read(fds[i], buf, sizeof buf);
		if (k > 0 && into[i] != NULL) {
			fwrite(buf, 1, (size_t)k, into[i]);
		} else if (k <= 0) {   /* its end (a terminal's side says EIO) */
			close(fds[i]);
			fds[i] = -1;
		}
	}
}

/* Run argv as flags say, within the deadline, its output read through pipes (a file would
 * fall under the file size limit of B_FSIZE) or a terminal. */
static void execute(char **argv, char **env, unsigned flags, struct outcome *o)
{
	int out[2], err[2], master = -1, slave = -1, st = 0, fds[3];
	long long deadline = now_ms() + DEADLINE_MS;
	size_t out_len, err_len;
	FILE *into[3];
	pid_t pid, w = 0;
	ck_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
	if (flags & B_PTY) {
		struct winsize ws = {24, 80, 0, 0};
		ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, &ws), 0);
		fcntl(master, F_SETFD, FD_CLOEXEC);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child(argv, env, flags, out[1], err[1], slave);
	close(out[1]);
	close(err[1]);
	if (slave >= 0)
		close(slave);
	into[0] = open_memstream(&o->out, &out_len);
	into[1] = open_memstream(&o->err, &err_len);
	into[2] = NULL;   /* what the screen got: not looked at */
	fds[0] = out[0];
	fds[1] = err[0];
	fds[2] = master;
	o->hung = 0;
	while (w == 0 || fds[0] >= 0 || fds[1] >= 0) {
		if (now_ms() > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			o->hung = 1;
			break;
		}
		drain(fds, into, fds[2] >= 0 ? 3 : 2);
		if (w == 0 && (w = waitpid(pid, &st, WNOHANG)) != 0 && fds[2] >= 0) {
			close(fds[2]);   /* the screen's output is not waited for */
			fds[2] = -1;
		}
	}
	if (w == 0)
		waitpid(pid, &st, 0);
	kill(-pid, SIGKILL);   /* anything it left running in its group */
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	fclose(into[0]);
	fclose(into[1]);
	o->status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	ck_assert_msg(o->hung || o->status != 122, "cannot execute %s", argv[0]);
}

static void outcome_free(struct outcome *o)
{
	free(o->out);
	free(o->err);
}

/* --- what every refusal must look like ----------------------------------------------------- */

/* s is valid UTF-8 without control characters but its last newline: NULL, or what is wrong. */
static const char *not_clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
			  : (*p & 0xf8) == 0xf0 ? 3 : -1;
		if (extra < 0)
			return "a byte that is not UTF-8";
		if (*p < 0x20 && !(*p == '\n' && p[1] == '\0'))
			return "a control character";
		if (*p == 0x7f)
			return "a DEL character";
		for (p++; extra > 0; extra--, p++)
			if ((*p & 0xc0) != 0x80)
				return "a byte that is not UTF-8";
	}
	return NULL;
}

/* What a case is. */
struct bad_case {
	unsigned flags;
	int status;
	const char *says;  /* in the one line of stderr (NULL: anything) */
	const char *args;  /* track's arguments, words separated by one space, with @tokens */
	const char *env;   /* NAME=VALUE words (NAME alone: unset), or NULL */
};

/* Run one case and check it; NULL, or a description of what was wrong (malloc'd). */
static char *check_case(const struct bad_case *c)
{
	char *argv[64], *env[16], *before, *after, *why = NULL;
	size_t n = 0;
	struct outcome o;
	const char *dirt;
	if ((c->flags & B_NOBODY) && geteuid() != 0)
		return NULL;   /* only root can be another user */
	if (c->flags & B_SELF) {
		argv[n++] = strdup("/bin/sh");
		argv[n++] = strdup("-c");
		argv[n++] = strdup("exec \"$@\" $$");
		argv[n++] = strdup("sh");
	}
	argv[n++] = strdup(tool_path());
	split(c->args, argv + n, ARRAY_SIZE(argv) - n);
	if (c->env != NULL)
		split(c->env, env, ARRAY_SIZE(env));
	else
		env[0] = NULL;
	before = listing();
	execute(argv, env, c->flags, &o);
	after = listing();
	dirt = strcmp(before, after) != 0 ? "files changed" : NULL;
	if (o.hung)
		ck_assert_int_ge(asprintf(&why, "hung (killed after %d ms)", DEADLINE_MS), 0);
	else if (o.status != c->status)
		ck_assert_int_ge(asprintf(&why, "status %d, want %d", o.status, c->status), 0);
	else if (c->flags & B_WORKS)
		why = NULL;
	else if (!(c->flags & B_STDOUT) && o.out[0] != '\0')
		ck_assert_int_ge(asprintf(&why, "stdout not empty: %.200s", o.out), 0);
	else if (c->flags & B_USAGE)
		why = strncmp(o.err, "usage: track", 12) == 0 ? NULL : strdup("not the usage text");
	else if (!(c->flags & B_LINES) && strncmp(o.err, "track: ", 7) != 0)
		why = strdup("stderr does not start with 'track: '");
	else if (!(c->flags & B_LINES) && strchr(o.err, '\n') != o.err + strlen(o.err) - 1)
		why = strdup("stderr is not exactly one line");
	else if (not_clean_text(o.err) != NULL && !(c->flags & B_LINES))
		ck_assert_int_ge(asprintf(&why, "stderr has %s", not_clean_text(o.err)), 0);
	else if (strlen(o.err) > ERR_MAX)
		ck_assert_int_ge(asprintf(&why, "stderr is %zu bytes long", strlen(o.err)), 0);
	else if (c->says != NULL && strstr(o.err, c->says) == NULL)
		ck_assert_int_ge(asprintf(&why, "'%s' not said", c->says), 0);
	if (why == NULL && dirt != NULL && !(c->flags & B_WORKS))
		ck_assert_int_ge(asprintf(&why, "left behind: before\n%s\nafter\n%s", before, after),
				 0);
	if (why != NULL) {
		char *full;
		ck_assert_int_ge(asprintf(&full, "track %.200s%s%s: %s\n    stderr: %.300s",
					  c->args, c->env ? " with " : "", c->env ? c->env : "",
					  why, o.err), 0);
		free(why);
		why = full;
	}
	free(before);
	free(after);
	outcome_free(&o);
	return why;
}

/* Every case of the table; the test fails naming each one that went wrong (all of them on
 * stderr; the first in the failure message, which Check bounds). */
static void check_table(const struct bad_case *cases, size_t n)
{
	char first[3000] = "";
	size_t i, bad = 0;
	for (i = 0; i < n; i++) {
		char *why = check_case(&cases[i]);
		if (why == NULL)
			continue;
		fprintf(stderr, "%s\n", why);
		if (strlen(first) + strlen(why) + 2 < sizeof first)
			snprintf(first + strlen(first), sizeof first - strlen(first), "%s\n", why);
		bad++;
		free(why);
	}
	ck_assert_msg(bad == 0, "%zu of %zu cases failed (all on stderr):\n%s", bad, n, first);
}

/* --- the inputs ---------------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

/* A process that ran and ended: its pid is free (for now). */
static pid_t gone_pid(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

/* A copy of segment src cut to len bytes at dst. */
static void cut_copy(const char *src, const char *dst, size_t len)
{
	char *data = malloc(len);
	int fd = open(src, O_RDONLY);
	ck_assert(data != NULL && fd >= 0);
	ck_assert_int_eq(pread(fd, data, len, 0), (ssize_t)len);
	close(fd);
	write_file(dst, data, len);
	free(data);
}

/* A long string of c. */
static char *filled(size_t n, char c)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* The inputs every table uses, made in the test's own directories: files of every kind, a
 * segment (whole and cut), pids (gone, 1), long and hostile strings; and the directories a
 * case must leave alone. */
static void make_inputs(void)
{
	const char *work = tmp_path("work"), *segs = tmp_path("segs");
	char pid[32], *seg = NULL, *cmd;
	char *long_value = filled(65536, 'a');
	struct run_result r;
	struct dirent *e;
	DIR *d;
	ck_assert_int_eq(mkdir(work, 0755), 0);
	ck_assert_int_eq(mkdir(segs, 0700), 0);
	ck_assert_int_eq(mkdir(tmp_path("tmpdir"), 0700), 0);
	watched[0] = work;
	watched[1] = getenv("TRACK_DIR");
	watched[2] = tmp_path("tmpdir");
	ck_assert_int_ge(asprintf((char **)&watched[3], "/dev/shm/track-%u", (unsigned)geteuid()), 0);
	ck_assert_int_ge(asprintf((char **)&watched[4], "/tmp/track-%u", (unsigned)geteuid()), 0);
	token_set("@WORK", work);
	token_set("@OUT", tmp_path("work/out"));
	token_set("@MISSING", tmp_path("work/no/such/file"));
	token_set("@DIR", tmp_path("dir"));
	ck_assert_int_eq(mkdir(token_get("@DIR"), 0755), 0);
	token_set("@FIFO", tmp_path("fifo"));
	ck_assert_int_eq(mkfifo(token_get("@FIFO"), 0600), 0);
	token_set("@EMPTY", tmp_path("empty"));
	write_file(token_get("@EMPTY"), "", 0);
	token_set("@GARBAGE", tmp_path("garbage"));
	write_text(token_get("@GARBAGE"), "\x7f\xff\xfe garbage \x01\x02 [{\"");
	token_set("@NOREAD", tmp_path("noread"));
	write_text(token_get("@NOREAD"), "[]");
	chmod(token_get("@NOREAD"), 0);
	token_set("@LONG", long_value);
	token_set("@BYTES", "\xff\xfe\x80");
	token_set("@NL", "wait\nhold");
	token_set("@ESC", "\x1b[31mred");
	token_set("@SP5", " 5");
	token_set("@PLUS5", "+5");
	token_set("@NOTHING", "");
	snprintf(pid, sizeof pid, "%d", (int)gone_pid());
	token_set("@GONE", pid);
	/* a segment, as a program leaves it */
	ck_assert_int_ge(asprintf(&cmd, "TRACK_DIR=%s", segs), 0);
	run((char *[]){(char *)fixture("fx_threads"), "exit", "0", NULL}, NULL,
	    (char *[]){shim_preload(), cmd, "TRACK_KEEP=1", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
	d = opendir(segs);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "track.", 6) == 0)
			ck_assert_int_ge(asprintf(&seg, "%s/%s", segs, e->d_name), 0);
	closedir(d);
	ck_assert_ptr_nonnull(seg);
	token_set("@SEG", seg);
	token_set("@SEG100", tmp_path("track.0.100.0"));
	cut_copy(seg, token_get("@SEG100"), 100);
	token_set("@SEGHDR", tmp_path("track.0.101.0"));
	cut_copy(seg, token_get("@SEGHDR"), sizeof(struct track_seg_header));
	token_set("@SEG4K", tmp_path("track.0.102.0"));
	cut_copy(seg, token_get("@SEG4K"), 4096);
	/* suppressions and snapshots that are not */
	token_set("@SUPPCUT", tmp_path("supp-cut.json"));
	write_text(token_get("@SUPPCUT"), "[{\"kind\": \"deadlock\", \"func");
	token_set("@SUPPKEY", tmp_path("supp-key.json"));
	write_text(token_get("@SUPPKEY"), "[{\"fucntion\": \"f\"}]");
	token_set("@SNAPCUT", tmp_path("snap-cut.json"));
	write_text(token_get("@SNAPCUT"), "{\"format\": \"track-snapshot\", \"vers");
	token_set("@SNAPTYPE", tmp_path("snap-type.json"));
	write_text(token_get("@SNAPTYPE"),
		   "{\"format\": \"track-snapshot\", \"version\": 1, \"pid\": \"x\"}");
	free(cmd);
}

/* "127.0.0.1:PORT" of a port this test listens on (for the test's life). */
static const char *busy_port(void)
{
	static char where[32];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 1) == 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(where, sizeof where, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	return where;
}

/* A traced process that lives for the test (@LIVE), its snapshot (@SNAP), an untraced one
 * (@PLAIN) and one of another user (@OTHER). */
static void start_processes(void)
{
	FILE *out;
	char pid[32];
	struct run_result r;
	pid_t p = start_live(300, (char *[]){shim_preload(), NULL}, &out), q;
	snprintf(pid, sizeof pid, "%d", (int)p);
	token_set("@LIVE", pid);
	token_set("@SNAP", tmp_path("snap.json"));
	run_track((char *[]){"snapshot", "-o", (char *)token_get("@SNAP"), pid, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	run_free(&r);
	q = fork();
	if (q == 0) {
		execlp("sleep", "sleep", "300", (char *)NULL);
		_exit(127);
	}
	snprintf(pid, sizeof pid, "%d", (int)q);
	token_set("@PLAIN", pid);
	q = fork();
	if (q == 0) {
		if (setgid(NOBODY) == 0 && setuid(NOBODY) == 0)
			execlp("sleep", "sleep", "300", (char *)NULL);
		_exit(127);
	}
	snprintf(pid, sizeof pid, "%d", (int)q);
	token_set("@OTHER", pid);
	token_set("@BUSY", busy_port());
}

/* --- the tables ------------------------------------------------------------------------------ */

/* Arguments of every subcommand: missing, extra, unknown, without their value, empty, of the
 * wrong type, out of range, overflowing, very long, not UTF-8, with control characters. */
static const struct bad_case argument_cases[] = {
	/* track itself */
	{B_USAGE, 2, NULL, "", NULL},
	{0, 2, "try 'track --help'", "frobnicate", NULL},
	{0, 2, "try 'track --help'", "@NOTHING", NULL},
	{0, 2, "try 'track --help'", "--bogus", NULL},
	{0, 2, "try 'track --help'", "@LONG", NULL},
	{0, 2, "try 'track --help'", "@BYTES", NULL},
	{0, 2, "try 'track --help'", "@NL", NULL},
	{0, 2, "'track help'", "help nope", NULL},
	{0, 2, "'track help'", "help @LONG", NULL},
	{0, 2, "try 'track --help'", "help run extra", NULL},
	{0, 2, "try 'track --help'", "--version extra", NULL},
	{B_WORKS, 0, NULL, "help", NULL},
	{B_WORKS, 0, NULL, "help top", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "help help", NULL},
	{B_WORKS, 0, NULL, "--version", NULL},
	/* run */
	{0, 2, "no program to run", "run", NULL},
	{0, 2, "no program to run", "run --", NULL},
	{0, 2, "try 'track run --help'", "run --bogus -- true", NULL},
	{0, 2, "try 'track run --help'", "run --bogus=@LONG -- true", NULL},
	{0, 2, "try 'track run --help'", "run --@BYTES -- true", NULL},
	{0, 2, "option --output needs an argument", "run --output", NULL},
	{0, 2, "--output needs a file", "run --output @NOTHING -- true", NULL},
	{0, 2, "--json needs a file", "run --json @NOTHING -- true", NULL},
	{0, 2, "--suppressions needs a file", "run --suppressions @NOTHING -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode 0 -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode 256 -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode -1 -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode 99999999999999999999 -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode @SP5 -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode @PLUS5 -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode 0x5 -- true", NULL},
	{0, 2, "1 to 255", "run --error-exitcode @LONG -- true", NULL},
	{0, 2, "non-negative number", "run --top nan -- true", NULL},
	{0, 2, "non-negative number", "run --top 1e3 -- true", NULL},
	{0, 2, "1 to 32", "run --num-callers 0 -- true", NULL},
	{0, 2, "one of wait, hold", "run --sort @NL -- true", NULL},
	{0, 2, "one of wait, hold", "run --sort @ESC -- true", NULL},
	{0, 2, "one of text, json", "run --format @BYTES -- true", NULL},
	{0, 2, "one of text, json", "run --format @LONG -- true", NULL},
	{0, 2, "one of contention", "run --view all -- true", NULL},
	{0, 2, "one of ns or count", "run --value bytes -- true", NULL},
	{0, 2, "name it with --output", "run --format pprof -- true", NULL},
	{0, 2, "instance, class or off", "run --lock-order @NOTHING -- true", NULL},
	{0, 2, "report, exit or abort", "run --on-deadlock exti -- true", NULL},
	{0, 2, "duration", "run --stall 1x -- true", NULL},
	{0, 2, "duration", "run --stall -1s -- true", NULL},
	{0, 2, "duration", "run --stall 0ms -- true", NULL},
	{0, 2, "duration", "run --stall nan -- true", NULL},
	{0, 2, "duration", "run --stall inf -- true", NULL},
	{0, 2, "duration", "run --stall 1e999 -- true", NULL},
	{0, 2, "duration", "run --stall 99999999999999999999s -- true", NULL},
	{0, 2, "duration", "run --timeout 1x -- true", NULL},
	{0, 2, "longer than 0", "run --timeout 0s -- true", NULL},
	{0, 2, "1 to 4194304", "run --max-threads 0 -- true", NULL},
	{0, 2, "1 to 4194304", "run --max-threads 4194305 -- true", NULL},
	{0, 2, "catchable signal", "run --dump-signal KILL -- true", NULL},
	{0, 2, "catchable signal", "run --dump-signal SEGV -- true", NULL},
	{0, 2, "catchable signal", "run --dump-signal 99999999999999999999 -- true", NULL},
	{0, 2, "catchable signal", "run --dump-signal @NOTHING -- true", NULL},
	{0, 2, "the program writes to stdout", "run -o - -- true", NULL},
	{0, 2, "the program writes to stdout", "run --json - -- true", NULL},
	{0, 127, "cannot run", "run -- @NOTHING", NULL},
	{0, 127, "cannot run", "run -- @MISSING", NULL},
	{0, 126, "cannot run", "run -- @DIR", NULL},
	{0, 126, "cannot run", "run -- @FIFO", NULL},
	{0, 126, "cannot run", "run -- @GARBAGE", NULL},
	{0, 126, "cannot run", "run -- /dev/null", NULL},
	{B_WORKS, 0, NULL, "run -q -- true", NULL},
	{B_WORKS, 3, NULL, "run -q --error-exitcode 5 -- sh -c exit\\ 3", NULL},
	/* report */
	{0, 2, "name one PID or segment file", "report", NULL},
	{0, 2, "name one PID or segment file", "report @SEG @SEG", NULL},
	{0, 2, "name one PID or segment file", "report @NOTHING", NULL},
	{0, 2, "try 'track report --help'", "report -x @SEG", NULL},
	{0, 2, "option --top needs an argument", "report --top", NULL},
	{0, 2, "non-negative number", "report --top -1 @SEG", NULL},
	{0, 2, "non-negative number", "report --top @SP5 @SEG", NULL},
	{0, 2, "non-negative number", "report --top 99999999999999999999 @SEG", NULL},
	{0, 2, "one of wait, hold", "report --sort @LONG @SEG", NULL},
	{0, 2, "--json FILE is --format json", "report --json @OUT -o @OUT @SEG", NULL},
	{0, 2, "--json FILE is --format json", "report --json @OUT --format text @SEG", NULL},
	{0, 2, "--output needs a file", "report -o @NOTHING @SEG", NULL},
	{0, 2, "one of text, json", "report --format xml @SEG", NULL},
	{0, 2, "one of contention", "report --format folded --view @NL @SEG", NULL},
	{0, 2, "one of ns or count", "report --format folded --value @ESC @SEG", NULL},
	{0, 2, "name it with --output", "report --format pprof @SEG", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "report --format pprof --output - @SEG", NULL},
	{0, 2, "not a process id", "report 0", NULL},
	{0, 2, "not a process id", "report 99999999999999999999", NULL},
	{0, 5, "no track segment", "report 1", NULL},
	{0, 5, "no process", "report @GONE", NULL},
	{0, 5, "no track segment", "report @PLAIN", NULL},
	{B_SELF, 5, "no track segment", "report", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "report @SEG", NULL},
	/* ls and clean */
	{0, 2, "try 'track ls --help'", "ls extra", NULL},
	{0, 2, "option --sort needs an argument", "ls --sort", NULL},
	{0, 2, "one of pid, age", "ls --sort @BYTES", NULL},
	{0, 2, "takes no value", "ls --json=1", NULL},
	{0, 2, "try 'track clean --help'", "clean extra", NULL},
	{0, 2, "duration", "clean --older-than 1x", NULL},
	{0, 2, "duration", "clean --older-than -1s", NULL},
	{0, 2, "duration", "clean --older-than nan", NULL},
	{0, 2, "duration", "clean --older-than inf", NULL},
	{0, 2, "duration", "clean --older-than 1e999", NULL},
	{0, 2, "duration", "clean --older-than 18446744073709551615d", NULL},
	{0, 2, "duration", "clean --older-than @NOTHING", NULL},
	{0, 2, "duration", "clean --older-than @LONG", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "ls", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "clean -n --older-than 1d", NULL},
	/* stacks */
	{0, 2, "name one process id", "stacks", NULL},
	{0, 2, "name one process id", "stacks 1 2", NULL},
	{0, 2, "not a process id", "stacks 0", NULL},
	{0, 2, "not a process id", "stacks -- -1", NULL},
	{0, 2, "not a process id", "stacks abc", NULL},
	{0, 2, "not a process id", "stacks @NOTHING", NULL},
	{0, 2, "not a process id", "stacks 99999999999999999999", NULL},
	{0, 2, "not a process id", "stacks @LONG", NULL},
	{0, 2, "1 to 4096", "stacks --max-frames 0 1", NULL},
	{0, 2, "1 to 4096", "stacks --max-frames 4097 1", NULL},
	{0, 5, "no process", "stacks @GONE", NULL},
	{0, 5, "no process", "stacks 4194304", NULL},
	{0, 5, "no track segment", "stacks --no-stop @PLAIN", NULL},
	{B_SELF, 1, "this process", "stacks", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "stacks @PLAIN", NULL},
	/* snapshot and leaks */
	{0, 2, "name one process id", "snapshot", NULL},
	{0, 2, "not a process id", "snapshot 0", NULL},
	{0, 2, "--output needs a file", "snapshot -o @NOTHING @LIVE", NULL},
	{0, 2, "no process", "snapshot @GONE", NULL},
	{0, 2, "no track segment", "snapshot @PLAIN", NULL},
	{B_SELF, 2, "no track segment", "snapshot", NULL},
	{0, 2, "--since FILE is needed", "leaks @LIVE", NULL},
	{0, 2, "name one process id", "leaks --since @SNAP", NULL},
	{0, 2, "--since needs a file", "leaks @LIVE --since @NOTHING", NULL},
	{0, 2, "duration", "leaks @LIVE --since @SNAP --timeout 1x", NULL},
	{0, 2, "duration", "leaks @LIVE --since @SNAP --timeout -1s", NULL},
	{0, 2, "fn=GLOB", "leaks @LIVE --since @SNAP --ignore x", NULL},
	{0, 2, "fn=GLOB", "leaks @LIVE --since @SNAP --ignore fn=", NULL},
	{0, 2, "fn=GLOB", "leaks @LIVE --since @SNAP --ignore @LONG", NULL},
	{0, 2, "1 to 32", "leaks @LIVE --since @SNAP --num-callers 33", NULL},
	{0, 2, "snapshot --fds", "leaks @LIVE --since @SNAP --fds", NULL},
	{0, 2, "no track segment", "leaks @PLAIN --since @SNAP", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "leaks @LIVE --since @SNAP --timeout 0s", NULL},
	/* top */
	{0, 2, "name one PID or segment file", "top --batch 1 2", NULL},
	{0, 2, "go with --batch", "top --json @LIVE", NULL},
	{0, 2, "go with --batch", "top --iterations 1 @LIVE", NULL},
	{0, 2, "--rows goes with --batch", "top --rows 5 @LIVE", NULL},
	{0, 2, "1 to 1000000000", "top --batch --iterations 0 @LIVE", NULL},
	{0, 2, "1 to 100000", "top --batch --rows 0 @LIVE", NULL},
	{0, 2, "0.1 to 3600", "top --batch --delay 0 @LIVE", NULL},
	{0, 2, "0.1 to 3600", "top --batch --delay nan @LIVE", NULL},
	{0, 2, "0.1 to 3600", "top --batch --delay inf @LIVE", NULL},
	{0, 2, "0.1 to 3600", "top --batch --delay 1e999 @LIVE", NULL},
	{0, 2, "0.1 to 3600", "top --batch --delay -1 @LIVE", NULL},
	{0, 2, "0.1 to 3600", "top --batch --delay 0x1 @LIVE", NULL},
	{0, 2, "0.1 to 3600", "top --batch --delay @SP5 @LIVE", NULL},
	{0, 2, "one of wait-rate", "top --batch --sort @NL @LIVE", NULL},
	{0, 2, "not a process id", "top --batch 0", NULL},
	{0, 2, "name one PID or segment file", "top --batch @NOTHING", NULL},
	{0, 5, "no process", "top --batch @GONE", NULL},
	{0, 5, "no track segment", "top --batch @PLAIN", NULL},
	{B_WORKS | B_STDOUT, 0, NULL, "top --batch --iterations 1 @LIVE", NULL},
	/* exporter */
	{0, 2, "takes no operands", "exporter x", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen @NOTHING", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen 127.0.0.1:", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen 127.0.0.1:65536", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen 127.0.0.1:-1", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen 127.0.0.1:+1", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen 127.0.0.1:@SP5", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen 127.0.0.1:99999999999999999999", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen [::1]:0", NULL},
	{0, 2, "IPv4 address and a port", "exporter --listen @LONG", NULL},
	{0, 2, "--allow-remote", "exporter --listen 10.1.2.3:0", NULL},
	{0, 2, "non-negative number", "exporter --top -1", NULL},
	{0, 1, "cannot listen", "exporter --allow-remote --listen 192.0.2.1:0", NULL},
	{0, 1, "the port is in use", "exporter --listen @BUSY", NULL},
	/* another user's processes: root's, read as uid 65534; and one of uid 65534's */
	{B_NOBODY, 4, "belongs to root", "report @LIVE", NULL},
	{B_NOBODY, 4, "CAP_SYS_PTRACE", "stacks @LIVE", NULL},
	{B_NOBODY, 4, "belongs to root", "stacks --no-stop @LIVE", NULL},
	{B_NOBODY, 2, "belongs to root", "snapshot @LIVE", NULL},
	{B_NOBODY, 2, "belongs to root", "leaks @LIVE --since @SNAP", NULL},
	{B_NOBODY, 4, "belongs to root", "top --batch @LIVE", NULL},
	{0, 5, "no track segment", "report @OTHER", NULL},
	{0, 2, "no track segment", "snapshot @OTHER", NULL},
	{0, 5, "no track segment", "stacks --no-stop @OTHER", NULL},
};

START_TEST(arguments_of_every_subcommand)
{
	make_inputs();
	start_processes();
	check_table(argument_cases, ARRAY_SIZE(argument_cases));
}
END_TEST

/* Files: missing, a directory, a FIFO (no reader: must not block), endless devices, empty,
 * cut short, garbage, unreadable; outputs where they cannot be written. */
static const struct bad_case file_cases[] = {
	/* segments read by report and top */
	{0, 5, "No such file", "report @MISSING", NULL},
	{0, 3, "not a regular file", "report @DIR", NULL},
	{0, 3, "not a regular file", "report @FIFO", NULL},
	{0, 3, "not a regular file", "report /dev/zero", NULL},
	{0, 3, "not a regular file", "report /dev/urandom", NULL},
	{0, 3, "not a track segment", "report @EMPTY", NULL},
	{0, 3, "not a track segment", "report @GARBAGE", NULL},
	{0, 3, "not a track segment", "report @SEG100", NULL},
	{0, 3, NULL, "report @SEGHDR", NULL},
	{0, 3, NULL, "report @SEG4K", NULL},
	{0, 3, "not a regular file", "top --batch @FIFO", NULL},
	{0, 3, "not a regular file", "top --batch /dev/zero", NULL},
	{0, 3, "not a track segment", "top --batch @SEG100", NULL},
	{0, 3, NULL, "top --batch @SEG4K", NULL},
	/* suppressions */
	{0, 2, "No such file", "run --suppressions @MISSING -- true", NULL},
	{0, 2, "suppressions", "run --suppressions @DIR -- true", NULL},
	{0, 2, "not a regular file", "run --suppressions @FIFO -- true", NULL},
	{0, 2, "not a regular file", "run --suppressions /dev/zero -- true", NULL},
	{0, 2, "not a regular file", "run --suppressions /dev/urandom -- true", NULL},
	{0, 2, "expected", "run --suppressions @EMPTY -- true", NULL},
	{0, 2, "expected", "run --suppressions @GARBAGE -- true", NULL},
	{0, 2, "premature end", "run --suppressions @SUPPCUT -- true", NULL},
	{0, 2, "unknown key", "run --suppressions @SUPPKEY -- true", NULL},
	{0, 2, "not a regular file", "report --suppressions @FIFO @SEG", NULL},
	{0, 2, "not a regular file", "report --suppressions /dev/zero @SEG", NULL},
	{0, 2, "not a regular file", "report @SEG", "TRACK_SUPPRESSIONS=@FIFO"},
	{0, 2, "not a regular file", "run -- true", "TRACK_SUPPRESSIONS=/dev/urandom"},
	{B_NOBODY, 2, "Permission denied", "run --suppressions @NOREAD -- true",
	 "TRACK_DIR=@WORK"},
	/* snapshots read by leaks */
	{0, 2, "No such file", "leaks @LIVE --since @MISSING", NULL},
	{0, 2, "not a regular file", "leaks @LIVE --since @DIR", NULL},
	{0, 2, "not a regular file", "leaks @LIVE --since @FIFO", NULL},
	{0, 2, "not a regular file", "leaks @LIVE --since /dev/zero", NULL},
	{0, 2, "not a track snapshot", "leaks @LIVE --since @EMPTY", NULL},
	{0, 2, "not a track snapshot", "leaks @LIVE --since @GARBAGE", NULL},
	{0, 2, "not a track snapshot", "leaks @LIVE --since @SNAPCUT", NULL},
	{0, 2, "damaged", "leaks @LIVE --since @SNAPTYPE", NULL},
	{0, 2, "not a track snapshot", "leaks @LIVE --since @SEG", NULL},
	/* outputs that cannot be written: nothing may be left behind */
	{0, 1, "No such file", "run -o @MISSING -- true", NULL},
	{0, 1, "Is a directory", "run -o @DIR -- true", NULL},
	{0, 1, "No such device", "run -o @FIFO -- true", NULL},
	{0, 1, "No such file", "run --json @MISSING -- true", NULL},
	{0, 1, "Is a directory", "run --json @DIR -- true", NULL},
	{0, 1, "No such device", "run --json @FIFO -- true", NULL},
	{B_NOBODY, 1, "Permission denied", "run -o /proc/version -- true", "TRACK_DIR=@WORK"},
	{0, 1, "No such file", "report -o @MISSING @SEG", NULL},
	{0, 1, "Is a directory", "report --json @DIR @SEG", NULL},
	{0, 1, "No such device", "report -o @FIFO @SEG", NULL},
	{0, 1, "No space left", "report -o /dev/full @SEG", NULL},
	{0, 1, "File too large", "report -o @OUT @SEG", NULL},   /* B_FSIZE below */
	{0, 1, "No such file", "snapshot -o @MISSING @LIVE", NULL},
	{0, 1, "Is a directory", "snapshot -o @DIR @LIVE", NULL},
	{0, 1, "No such device", "snapshot -o @FIFO @LIVE", NULL},
	{0, 1, "No space left", "snapshot -o /dev/full @LIVE", NULL},
	{0, 1, "File too large", "snapshot -o @OUT @LIVE", NULL},   /* B_FSIZE below */
};

START_TEST(files_of_every_kind)
{
	struct bad_case cases[ARRAY_SIZE(file_cases)];
	size_t i;
	make_inputs();
	start_processes();
	memcpy(cases, file_cases, sizeof cases);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (cases[i].says != NULL && strstr(cases[i].says, "too large") != NULL)
			cases[i].flags |= B_FSIZE;
	chmod(tmp_dir(), 0711);   /* another user may pass through to ... */
	chmod(tmp_path("work"), 0777);   /* ... a TRACK_DIR they may use */
	check_table(cases, ARRAY_SIZE(cases));
}
END_TEST

/* An existing file named as the output: documented to be replaced by the report; when the
 * report cannot be written whole it is left empty, never holding a part of it. */
START_TEST(existing_output_is_replaced_or_emptied)
{
	const char *out;
	struct bad_case ok = {B_WORKS | B_STDOUT, 0, NULL, "report -o @OUT @SEG", NULL};
	struct bad_case full = {B_FSIZE | B_WORKS, 1, NULL, "report -o @OUT @SEG", NULL};
	char *text, *why;
	make_inputs();
	out = token_get("@OUT");
	write_text(out, "an old report\n");
	why = check_case(&ok);
	ck_assert_msg(why == NULL, "%s", why);
	text = slurp_file(out);
	ck_assert_msg(strstr(text, "threads:") != NULL, "%s", text);
	free(text);
	write_text(out, "an old report\n");
	why = check_case(&full);
	ck_assert_msg(why == NULL, "%s", why);
	text = slurp_file(out);
	ck_assert_msg(text != NULL && text[0] == '\0', "a part of a report left in %s: %s", out,
		      text);
	free(text);
}
END_TEST

/* The variables the tools read: TRACK_DIR, TRACK_SWEEP_AFTER, TRACK_LIB, TRACK_SUPPRESSIONS
 * (above), and TERM and NO_COLOR for top. */
static const struct bad_case tool_env_cases[] = {
	{0, 2, "TRACK_DIR=", "run -q -- true", "TRACK_DIR=@MISSING"},
	{0, 2, "not a directory", "run -q -- true", "TRACK_DIR=@GARBAGE"},
	{0, 2, "not a directory", "run -q -- true", "TRACK_DIR=@FIFO"},
	{0, 2, "TRACK_DIR is longer", "run -q -- true", "TRACK_DIR=@LONG"},
	{0, 2, "TRACK_DIR=", "run -q -- true", "TRACK_DIR=@NL"},
	{B_WORKS | B_STDOUT, 0, NULL, "ls", "TRACK_DIR=@MISSING"},
	{B_WORKS | B_STDOUT, 0, NULL, "clean", "TRACK_DIR=@FIFO"},
	{B_STDOUT, 0, "TRACK_SWEEP_AFTER='1x'", "ls", "TRACK_SWEEP_AFTER=1x"},
	{B_STDOUT, 0, "TRACK_SWEEP_AFTER=", "ls", "TRACK_SWEEP_AFTER=@NL"},
	{B_STDOUT, 0, "TRACK_SWEEP_AFTER=", "ls", "TRACK_SWEEP_AFTER=@LONG"},
	{B_STDOUT, 0, "TRACK_SWEEP_AFTER=", "report @SEG", "TRACK_SWEEP_AFTER=-1s"},
	{0, 1, "TRACK_LIB", "run -q -- true", "TRACK_LIB=@MISSING"},
	{0, 1, "TRACK_LIB", "run -q -- true", "TRACK_LIB=@DIR"},
	{0, 1, "TRACK_LIB", "run -q -- true", "TRACK_LIB=@FIFO"},
	{0, 1, "TRACK_LIB", "run -q -- true", "TRACK_LIB=/dev/zero"},
	{0, 1, "TRACK_LIB", "run -q -- true", "TRACK_LIB=@GARBAGE"},
	{0, 1, "TRACK_LIB", "run -q -- true", "TRACK_LIB=@EMPTY"},
	/* what track run sets itself is not the user's to get wrong */
	{B_WORKS, 0, NULL, "run -q -- true", "TRACK_RUN_ID=abc TRACK_RUN_UID=-1"},
	{B_WORKS, 0, NULL, "run -q --on-deadlock exit -- true", "TRACK_ON_DEADLOCK=exti"},
	{B_WORKS, 0, NULL, "run -q --stall 1s -- true", "TRACK_STALL=1x"},
	/* top without a terminal it can use */
	{0, 1, "needs a terminal", "top @LIVE", "TERM=dumb"},
	{0, 1, "needs a terminal", "top @LIVE", "TERM"},
	{0, 1, "needs a terminal", "top", "TERM=xyzzy"},
	{B_PTY, 1, "cannot use this terminal", "top @LIVE", "TERM=dumb"},
	{B_PTY, 1, "cannot use this terminal", "top @LIVE", "TERM"},
	{B_PTY, 1, "cannot use this terminal", "top @LIVE", "TERM=xyzzy"},
	{B_PTY, 1, "cannot use this terminal", "top @LIVE", "TERM=@LONG"},
	{B_PTY, 1, "cannot use this terminal", "top", "TERM=dumb"},
	{B_WORKS | B_STDOUT, 0, NULL, "top --batch --iterations 1 @LIVE", "TERM=dumb NO_COLOR=1"},
	{B_WORKS | B_STDOUT, 0, NULL, "top --batch --iterations 1 @LIVE", "TERM NO_COLOR=@LONG"},
	{B_WORKS | B_STDOUT, 0, NULL, "top --batch --iterations 1 --json @LIVE", "TERM=xyzzy"},
};

START_TEST(tool_environment)
{
	make_inputs();
	start_processes();
	check_table(tool_env_cases, ARRAY_SIZE(tool_env_cases));
}
END_TEST

/* --- the shim's variables ---------------------------------------------------------------- */

/* Values no variable of the shim takes (text variables take anything and are left out). */
static const char *const bad_values[] = {
	"garbage", "-1", "99999999999999999999", "10x", " 16", "16 ", "1\n2", "\xff\xfe", NULL,
};

/* The settings a segment's header records; a refused value leaves the default's there. */
static void settings(const struct track_seg_header *h, uint64_t v[18])
{
	uint64_t s[18] = {h->max_threads, h->max_objects, h->max_modules, h->max_findings,
			  h->max_stacks, h->max_edges, h->stacks_enabled, h->lock_order_mode,
			  h->on_deadlock, (uint64_t)h->deadlock_exit, h->run_id, h->leak_check,
			  h->max_profs, h->hold_sample, h->stall_ns, h->thread_limit, h->dump_signal,
			  h->search_visits};
	memcpy(v, s, sizeof s);
}

/* Run the probe program (output on both streams, status 3) under the shim with env, in a
 * directory of segments of its own; its result, its segment's settings and env_bad, and
 * the segment's path (the caller removes it). */
static char *probe(char *const env[], const char *dir, struct run_result *r, uint64_t set[18],
		  uint64_t *env_bad)
{
	char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	char *full[24], *seg = NULL, err[256];
	struct track_seg_header h;
	struct dirent *e;
	size_t n = 0, i;
	DIR *d;
	full[n++] = trackdir_env(dir);
	full[n++] = "TRACK_KEEP=1";
	for (i = 0; env != NULL && env[i] != NULL; i++)
		full[n++] = env[i];
	full[n] = NULL;
	mkdir(dir, 0700);
	run(argv, NULL, full, r);
	d = opendir(dir);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "track.", 6) == 0)
			ck_assert_int_ge(asprintf(&seg, "%s/%s", dir, e->d_name), 0);
	closedir(d);
	ck_assert_msg(seg != NULL, "no segment: %s", r->err);
	ck_assert_msg(track_seg_header(seg, &h, NULL, err, sizeof err) == 0, "%s", err);
	settings(&h, set);
	*env_bad = h.env_bad;
	return seg;
}

/* Each variable the shim reads, with each bad value: the program runs as natively (stdout,
 * status; stderr gains one clean "libtrack:" line naming the variable), the segment records
 * the refusal (track report says it) and holds the defaults. */
START_TEST(shim_refuses_bad_values_and_runs_on)
{
	char *pre = shim_preload(), *native_argv[] = {"/bin/sh", "-c",
						       "echo out; echo err >&2; exit 3", NULL};
	struct run_result nat, r;
	uint64_t base[18], got[18], bad;
	int v, k, failures = 0;
	char msg[3000] = "";
	run(native_argv, NULL, NULL, &nat);
	unlink(probe((char *[]){pre, NULL}, tmp_path("base"), &r, base, &bad));
	ck_assert_int_eq(bad, 0);
	run_free(&r);
	for (v = 0; v < TRACK_ENV_COUNT; v++) {
		const struct track_env_spec *sp = track_env_spec((enum track_env_var)v);
		if (sp->type == TRACK_ENV_TEXT || v == TRACK_ENV_RUN_UID)
			continue;   /* anything goes; RUN_UID is read only in another user's run */
		for (k = 0; bad_values[k] != NULL; k++) {
			char *setting, *line, dir[64];
			const char *wrong = NULL;
			ck_assert_int_ge(asprintf(&setting, "%s=%s", sp->name, bad_values[k]), 0);
			snprintf(dir, sizeof dir, "v%d-%d", v, k);
			unlink(probe((char *[]){pre, setting, NULL}, tmp_path(dir), &r, got, &bad));
			line = strstr(r.err, "libtrack: ");
			if (r.status != nat.status || strcmp(r.out, nat.out) != 0)
				wrong = "the program did not run as natively";
			else if (line != r.err || strcmp(strchr(r.err, '\n') + 1, nat.err) != 0)
				wrong = "stderr is not one libtrack: line, then the program's";
			else if (strstr(line, sp->name) == NULL || strstr(line, "using the default") == NULL)
				wrong = "the libtrack: line does not name the variable and the default";
			else if (not_clean_text(strndup(line, strcspn(line, "\n") + 1)) != NULL)
				wrong = "the libtrack: line is not clean text";
			else if (!(bad & (1ull << v)))
				wrong = "the segment does not record the refusal (env_bad)";
			else if (memcmp(got, base, sizeof got) != 0)
				wrong = "the segment's settings are not the defaults";
			if (wrong != NULL)
				fprintf(stderr, "%s='%s': %s\n", sp->name, bad_values[k], wrong);
			if (wrong != NULL && failures++ < 8)
				snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s='%s': %s: %.120s\n",
					 sp->name, bad_values[k], wrong, r.err);
			run_free(&r);
			free(setting);
		}
	}
	run_free(&nat);
	ck_assert_msg(failures == 0, "%d failures:\n%s", failures, msg);
}
END_TEST

/* A very long value: cut in the shim's line, which still ends with its newline, so the
 * program's own next line is a line of its own; and the report says it was refused. */
START_TEST(shim_cuts_a_long_value)
{
	char *setting, *err_line, *seg;
	struct run_result r, rep;
	uint64_t got[18], bad;
	ck_assert_int_ge(asprintf(&setting, "TRACK_MAX_THREADS=%s", filled(65536, '9')), 0);
	seg = probe((char *[]){shim_preload(), setting, NULL}, tmp_path("long"), &r, got, &bad);
	run_track((char *[]){"report", seg, NULL}, NULL, &rep);
	ck_assert_msg(rep.status == 0, "%s", rep.err);
	want_text(rep.out, "warning: TRACK_MAX_THREADS had a value the shim could not use", NULL);
	run_free(&rep);
	ck_assert_int_eq(r.status, 3);
	ck_assert_str_eq(r.out, "out\n");
	err_line = strchr(r.err, '\n');
	ck_assert_ptr_nonnull(err_line);
	ck_assert_msg(strcmp(err_line + 1, "err\n") == 0, "the program's line glued on: %.300s",
		      r.err);
	ck_assert_msg(err_line - r.err < ERR_MAX, "a line of %zu bytes", (size_t)(err_line - r.err));
	ck_assert(bad & (1ull << TRACK_ENV_MAX_THREADS));
	run_free(&r);
	free(setting);
}
END_TEST

/* A TRACK_DIR the shim cannot use, under a plain preload: the program runs as natively,
 * untraced, and one clean "libtrack:" line says why. */
START_TEST(shim_with_a_bad_track_dir)
{
	char *native_argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	const char *dirs[] = {"@MISSING", "@GARBAGE", "@FIFO", "@NL", "@LONG", "@BYTES"};
	struct run_result nat, r;
	size_t i;
	make_inputs();
	run(native_argv, NULL, NULL, &nat);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *dir, *line;
		ck_assert_int_ge(asprintf(&dir, "TRACK_DIR=%s", token_get(dirs[i])), 0);
		run(native_argv, NULL, (char *[]){shim_preload(), dir, NULL}, &r);
		ck_assert_msg(r.status == nat.status && strcmp(r.out, nat.out) == 0,
			      "TRACK_DIR=%s: status %d, stdout %s", dirs[i], r.status, r.out);
		line = strndup(r.err, strcspn(r.err, "\n") + 1);
		ck_assert_msg(strncmp(line, "libtrack: ", 10) == 0 && not_clean_text(line) == NULL &&
			      strlen(line) < ERR_MAX && strstr(line, "not traced") != NULL &&
			      strcmp(r.err + strlen(line), nat.err) == 0,
			      "TRACK_DIR=%s: stderr %.300s", dirs[i], r.err);
		free(line);
		free(dir);
		run_free(&r);
	}
	run_free(&nat);
}
END_TEST

/* The same values under track run: refused before the program starts (status 2, nothing
 * run, nothing left), in one clean line naming the variable. */
START_TEST(track_run_refuses_bad_values)
{
	struct bad_case cases[TRACK_ENV_COUNT * 9];
	size_t n = 0, k;
	int v;
	make_inputs();
	token_set("@BADNL", "1\n2");
	token_set("@BADSP", " 16");
	token_set("@BADTAIL", "16 ");
	for (v = 0; v < TRACK_ENV_COUNT; v++) {
		const struct track_env_spec *sp = track_env_spec((enum track_env_var)v);
		static const char *const values[] = {"garbage", "-1", "99999999999999999999", "10x",
						     "@BADSP", "@BADTAIL", "@BADNL", "@BYTES",
						     "@LONG"};
		if (sp->type == TRACK_ENV_TEXT || v == TRACK_ENV_RUN_ID || v == TRACK_ENV_RUN_UID)
			continue;   /* anything goes; track run sets the run's own */
		for (k = 0; k < ARRAY_SIZE(values); k++) {
			char *env;
			ck_assert_int_ge(asprintf(&env, "%s=%s", sp->name, values[k]), 0);
			cases[n++] = (struct bad_case){0, 2, sp->name, "run -q -- sh -c echo\\ ran",
						       env};
		}
	}
	check_table(cases, n);
}
END_TEST

/* track/text.h, which both sides use to echo outside bytes: escaped, kept, cut. */
START_TEST(text_is_cleaned_and_cut)
{
	char out[16];
	ck_assert_uint_eq(track_text_clean(out, sizeof out, "a\nb\t\xff\xe2\x82\xac"), 13);
	ck_assert_str_eq(out, "a\\nb\\t\\xff\xe2\x82\xac");   /* the euro sign kept */
	track_text_clean(out, sizeof out, "\x1b[31m\xc0\xaf\xed\xa0\x80");   /* overlong, surrogate */
	ck_assert_str_eq(out, "\\x1b[31m\\xc0...");
	track_text_clean(out, sizeof out, "0123456789\xe2\x82\xac\xe2\x82\xac");
	ck_assert_str_eq(out, "0123456789...");   /* not cut inside a character */
	ck_assert_uint_eq(track_text_clean(out, 8, "abcdefg"), 7);   /* it all fits: no "..." */
	ck_assert_str_eq(out, "abcdefg");
	track_text_clean(out, 8, "abcdefgh");
	ck_assert_str_eq(out, "abcd...");
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		TEST("arguments", text_is_cleaned_and_cut),
		TEST("arguments", arguments_of_every_subcommand),
		TEST("files", files_of_every_kind),
		TEST("files", existing_output_is_replaced_or_emptied),
		TEST("environment", tool_environment),
		TEST("environment", shim_refuses_bad_values_and_runs_on),
		TEST("environment", shim_cuts_a_long_value),
		TEST("environment", shim_with_a_bad_track_dir),
		TEST("environment", track_run_refuses_bad_values),
	};
	return run_tests("badinput", 120, tests, ARRAY_SIZE(tests));
}

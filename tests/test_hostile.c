/*
 * test_hostile.c — hostile local users, proven (issue 14, points 1 and 2).
 *
 * /dev/shm and any shared TRACK_DIR are writable by every local user.  This suite plants,
 * under every name a traced process or a track command may touch, one kind of hostile
 * object at a time (a FIFO, links to another user's secret, to a root-only file, to a
 * directory, a dangling link, a hard link, a directory, garbage, an empty file, a truncated
 * segment, another user's segment, forged headers: huge counts, offsets past the end,
 * offsets that overflow, another layout version, another generation, a pid of another live
 * process, of pid 1, of a process gone), then runs every command that reads segments and a
 * traced program against the directory, each under a hard time limit, and asserts: nothing
 * hangs or dies of a signal, each command exits with its documented status, the planted
 * object and what it points to are untouched (only `track clean` may remove a file, and only
 * a file of the user's own), no byte of a planted secret appears in any output, and the
 * traced program behaves as natively and still gets a readable segment of its own.
 *
 * The names (see include/track/segfile.h, libtrack/segment.c, tools/core/segread.c and
 * seglist.c): the next exec generation of a live traced process (what a reader looks at to
 * tell whether it exec'd), a dead pid's segment (what clean and the sweep remove), pid 1's
 * (a live process that is not traced), the very name a traced program's segment is about to
 * have (a plain preload, its pid known in advance), and, as root, the name of a `track run`
 * program's segment (pid 2 of a new pid namespace).  The segment directory itself (TRACK_DIR,
 * and the default /dev/shm/track-<uid> before its user first makes it) and the report files
 * a command writes (--output, --json, snapshot -o) are planted by tests of their own.
 *
 * Root (CI runs as root) plants as another user (nobody) and runs the tests that need other
 * users: a temporary user is created for the setuid and ptrace tests and removed afterwards
 * even when a test fails.  Not run as root, those are left out and said to be, never passed.
 *
 * Runtime: each kind is one loop test running its commands two at a time (the cross product
 * of kinds x names x commands, about 1,700 command runs, is cut by planting one kind under
 * all names at once: every command meets every name in one run).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "track/segfile.h"
#include "track/segment.h"

#define NOBODY 65534
#define LIMIT "30"   /* seconds any one command may take: beyond, it hung */

static int is_root(void)
{
	return geteuid() == 0;
}

/* --- the secrets a planted link points to ------------------------------------------------- */

struct secrets {
	char secret[600];    /* another user's file (nobody's, 0600 when root) */
	char shadow[600];    /* a root-only file, as /etc/shadow is */
	char dirtarget[600]; /* a directory with a file in it */
	char dangling[600];  /* a path that does not exist (and must not be created) */
	char marker[3][64];  /* what the secret, the shadow file and a foreign segment hold */
};

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void make_secrets(struct secrets *s, const char *base)
{
	char path[700];
	snprintf(s->marker[0], sizeof s->marker[0], "hostile-secret-%d", (int)getpid());
	snprintf(s->marker[1], sizeof s->marker[1], "hostile-shadow-%d", (int)getpid());
	snprintf(s->marker[2], sizeof s->marker[2], "hostile-foreign-%d", (int)getpid());
	snprintf(s->secret, sizeof s->secret, "%s/secret", base);
	snprintf(s->shadow, sizeof s->shadow, "%s/shadow", base);
	snprintf(s->dirtarget, sizeof s->dirtarget, "%s/dirtarget", base);
	snprintf(s->dangling, sizeof s->dangling, "%s/dangling-target", base);
	write_file(s->secret, s->marker[0], 0600);
	write_file(s->shadow, s->marker[1], 0600);
	ck_assert_int_eq(mkdir(s->dirtarget, 0755), 0);
	snprintf(path, sizeof path, "%s/inside", s->dirtarget);
	write_file(path, s->marker[0], 0644);
	if (is_root())
		ck_assert_int_eq(chown(s->secret, NOBODY, NOBODY), 0);
}

/* No marker of s in text. */
static void no_secret(const struct secrets *s, const char *what, const char *text)
{
	int i;
	for (i = 0; i < 3; i++)
		ck_assert_msg(strstr(text, s->marker[i]) == NULL, "%s printed a planted secret (%s)",
			      what, s->marker[i]);
}

/* --- the kinds of hostile object ---------------------------------------------------------- */

enum kind {
	K_FIFO, K_LINK_SECRET, K_LINK_SHADOW, K_LINK_DIR, K_LINK_DANGLING, K_HARDLINK, K_DIR,
	K_GARBAGE, K_EMPTY, K_TRUNCATED, K_FOREIGN, K_HUGE_COUNTS, K_OFF_PAST_END, K_OFF_OVERFLOW,
	K_OTHER_VERSION, K_OTHER_GEN, K_PID_LIVE, K_PID_1, K_PID_GONE, NKINDS
};

static const struct kind_def {
	const char *name;
	int root_only;    /* needs another user's file: only root can plant it */
	int ours;         /* a regular file of the user's own: clean may remove it at a dead
			     pid's name, a shim may replace it at its own name as stale */
	int report;       /* the status of `track report PATH` */
	int find_dead;    /* of `track report DEADPID` with it at that pid's name */
} kinds[NKINDS] = {
	[K_FIFO] = {"FIFO", 0, 0, 3, 5},
	[K_LINK_SECRET] = {"link to another user's file", 0, 0, 3, 5},
	[K_LINK_SHADOW] = {"link to a root-only file", 0, 0, 3, 5},
	[K_LINK_DIR] = {"link to a directory", 0, 0, 3, 5},
	[K_LINK_DANGLING] = {"dangling link", 0, 0, 3, 5},
	[K_HARDLINK] = {"hard link to another user's file", 1, 0, 4, 5},
	[K_DIR] = {"directory", 0, 0, 3, 5},
	[K_GARBAGE] = {"garbage", 0, 1, 3, 5},
	[K_EMPTY] = {"empty file", 0, 1, 3, 5},
	[K_TRUNCATED] = {"truncated segment", 0, 1, 3, 3},
	[K_FOREIGN] = {"another user's segment", 1, 0, 4, 5},
	[K_HUGE_COUNTS] = {"forged: huge counts", 0, 1, 3, 3},
	[K_OFF_PAST_END] = {"forged: offsets past the end", 0, 1, 3, 3},
	[K_OFF_OVERFLOW] = {"forged: offsets that overflow", 0, 1, 3, 3},
	[K_OTHER_VERSION] = {"forged: another layout version", 0, 1, 3, 3},
	[K_OTHER_GEN] = {"forged: another generation", 0, 1, 3, 5},
	[K_PID_LIVE] = {"forged: another live process's pid", 0, 1, 3, 5},
	[K_PID_1] = {"forged: pid 1", 0, 1, 3, 5},
	[K_PID_GONE] = {"forged: a pid not running", 0, 1, 3, 5},
};

/* What the forging starts from: a real segment's header, and who pid 1 and the live
 * process are. */
struct forge {
	struct track_seg_header h;   /* the live traced process's */
	pid_t live, gone;
	uint64_t live_start, init_start;
};

static uint64_t starttime_of(pid_t pid)
{
	char path[64];
	char *text;
	uint64_t v;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	text = slurp_file(path);
	ck_assert_ptr_nonnull(text);
	v = track_stat_starttime(text);
	free(text);
	return v;
}

/* Write header h at the start of a new file at path, sized size (sparse). */
static void write_segment(const char *path, const struct track_seg_header *h, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(pwrite(fd, h, sizeof *h, 0), (ssize_t)sizeof *h);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* A forged header for the file named (uid, pid, gen): 0, or -1 when the kind would make a
 * consistent segment of the user's own there (nothing forged: not planted). */
static int forge_header(enum kind k, const struct forge *f, unsigned uid, pid_t pid, unsigned gen,
			struct track_seg_header *h, uint64_t *size)
{
	*h = f->h;
	h->uid = uid;
	h->pid = pid;
	h->exec_gen = gen;
	/* left by an earlier process that had this pid: a damaged leftover of the user's own
	 * (one that claimed to be the live process's next image would be that image) */
	h->proc_starttime = 12345;
	*size = h->total_size;
	switch (k) {
	case K_TRUNCATED: *size = 4096; break;
	case K_HUGE_COUNTS:
		/* capacities far beyond any the shim makes, in a (sparse) file large enough for
		 * them, and every count at its capacity */
		h->max_threads = h->max_objects = 0x80000001u;
		h->threads_used = h->objects_used = UINT64_MAX;
		h->threads_off = 1u << 20;
		h->objects_off = h->threads_off + (uint64_t)h->max_threads * h->thread_rec_size;
		h->total_size = *size = h->objects_off + (uint64_t)h->max_objects * h->obj_rec_size;
		break;
	case K_OFF_PAST_END: h->threads_off = h->findings_off = h->total_size + 64; break;
	case K_OFF_OVERFLOW:
		/* offset + count * size wraps around to a small number */
		h->stacks_off = UINT64_MAX - 63;
		h->objects_off = (UINT64_MAX / h->obj_rec_size + 1) & ~(uint64_t)63;
		break;
	case K_OTHER_VERSION: h->version = TRACK_SEGMENT_VERSION + 1; break;
	case K_OTHER_GEN: h->exec_gen = gen + 7; break;
	case K_PID_LIVE: h->pid = f->live; h->proc_starttime = f->live_start; break;
	case K_PID_1: h->pid = 1; h->proc_starttime = f->init_start; break;
	case K_PID_GONE: h->pid = f->gone; h->proc_starttime = 12345; break;
	case K_FOREIGN: break;
	default: ck_abort_msg("not a forged kind");
	}
	return h->pid == pid && k >= K_PID_LIVE ? -1 : 0;
}

/* Plant kind k at path (the name of (uid, pid, gen)); 0, or -1 if not planted there. */
static int plant(enum kind k, const char *path, const struct secrets *s, const struct forge *f,
		 unsigned uid, pid_t pid, unsigned gen)
{
	struct track_seg_header h;
	uint64_t size;
	int fd;
	switch (k) {
	case K_FIFO: ck_assert_int_eq(mkfifo(path, 0666), 0); break;
	case K_LINK_SECRET: ck_assert_int_eq(symlink(s->secret, path), 0); break;
	case K_LINK_SHADOW: ck_assert_int_eq(symlink(s->shadow, path), 0); break;
	case K_LINK_DIR: ck_assert_int_eq(symlink(s->dirtarget, path), 0); break;
	case K_LINK_DANGLING: ck_assert_int_eq(symlink(s->dangling, path), 0); break;
	case K_HARDLINK: ck_assert_int_eq(link(s->secret, path), 0); return 0;
	case K_DIR:
		ck_assert_int_eq(mkdir(path, 0777), 0);
		ck_assert_int_eq(chmod(path, 0777), 0);
		break;
	case K_GARBAGE:
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "TRACKSEG\xff\xff\xff\xff garbage", 21), 21);
		close(fd);
		return 0;
	case K_EMPTY:
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
		return 0;
	default:
		if (forge_header(k, f, uid, pid, gen, &h, &size) != 0)
			return -1;
		if (k == K_FOREIGN) {
			memset(h.cmdline, 0, sizeof h.cmdline);
			snprintf(h.cmdline, sizeof h.cmdline, "%s", s->marker[2]);
			h.cmdline_len = (uint32_t)strlen(h.cmdline);
			snprintf(h.exe, sizeof h.exe, "/%s", s->marker[2]);
		}
		write_segment(path, &h, size);
		if (k == K_FOREIGN) {
			ck_assert_int_eq(chmod(path, 0644), 0);
			ck_assert_int_eq(chown(path, NOBODY, NOBODY), 0);
		}
		return 0;
	}
	/* planted by another user, when there is one to be */
	if (is_root())
		ck_assert_int_eq(lchown(path, NOBODY, NOBODY), 0);
	return 0;
}

/* --- what a planted object is, to tell that it was left alone ---------------------------- */

struct state {
	struct stat st;
	char link[600];
	char *content;   /* a regular file's bytes (its first 4 KB) */
};

static void take_state(const char *path, struct state *s)
{
	ssize_t n;
	memset(s, 0, sizeof *s);
	ck_assert_msg(lstat(path, &s->st) == 0, "%s is gone", path);
	if (S_ISLNK(s->st.st_mode)) {
		n = readlink(path, s->link, sizeof s->link - 1);
		ck_assert_int_gt(n, 0);
		s->link[n] = '\0';
	} else if (S_ISREG(s->st.st_mode)) {
		char buf[4097];
		int fd = open(path, O_RDONLY | O_NONBLOCK);
		ck_assert_int_ge(fd, 0);
		n = pread(fd, buf, sizeof buf - 1, 0);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		s->content = malloc((size_t)(n > 0 ? n : 0) + 1);
		memcpy(s->content, buf, (size_t)(n > 0 ? n : 0) + 1);
	}
}

static void same_state(const char *path, const struct state *was, const char *after)
{
	struct state now;
	take_state(path, &now);
	ck_assert_msg(now.st.st_ino == was->st.st_ino && now.st.st_mode == was->st.st_mode &&
			      now.st.st_uid == was->st.st_uid && now.st.st_size == was->st.st_size &&
			      now.st.st_mtim.tv_sec == was->st.st_mtim.tv_sec &&
			      now.st.st_mtim.tv_nsec == was->st.st_mtim.tv_nsec &&
			      strcmp(now.link, was->link) == 0,
		      "%s was changed by %s", path, after);
	if (was->content != NULL)
		ck_assert_msg(memcmp(now.content, was->content, strlen(was->content) + 1) == 0,
			      "%s was written by %s", path, after);
	free(now.content);
}

/* The secrets are as they were made, and the dangling link's target was not created. */
static void secrets_intact(const struct secrets *s)
{
	char *t = slurp_file(s->secret), path[700];
	struct stat st;
	ck_assert_str_eq(t, s->marker[0]);
	free(t);
	t = slurp_file(s->shadow);
	ck_assert_str_eq(t, s->marker[1]);
	free(t);
	ck_assert_msg(lstat(s->dangling, &st) != 0, "a dangling link was followed: %s made",
		      s->dangling);
	snprintf(path, sizeof path, "%s/inside", s->dirtarget);
	t = slurp_file(path);
	ck_assert_str_eq(t, s->marker[0]);
	free(t);
	ck_assert_int_eq(lstat(s->dirtarget, &st), 0);
}

/* --- commands, two at a time -------------------------------------------------------------- */

struct job {
	char *argv[24];    /* track's arguments */
	int want;          /* the exit status it must have */
	const char *says;  /* its stdout must hold this (or NULL) */
	pid_t pid;
	struct run_result r;
	char out[700], err[700];
};

/* A job: `track args...` expected to exit with want, saying says. */
static void job(struct job *j, int want, const char *says, ...)
{
	va_list ap;
	const char *a;
	int n = 0;
	memset(j, 0, sizeof *j);
	j->want = want;
	j->says = says;
	va_start(ap, says);
	while ((a = va_arg(ap, const char *)) != NULL && n < 23)
		j->argv[n++] = (char *)a;
	va_end(ap);
}

static void job_start(struct job *j, char *const env[], int idx)
{
	static int serial;
	char *argv[32] = {"timeout", "-s", "KILL", LIMIT, (char *)tool_path()};
	size_t i;
	snprintf(j->out, sizeof j->out, "%s", tmp_path(""));
	snprintf(j->out, sizeof j->out, "%s/job%d-%d.out", tmp_dir(), idx, serial);
	snprintf(j->err, sizeof j->err, "%s/job%d-%d.err", tmp_dir(), idx, serial++);
	for (i = 0; j->argv[i]; i++)
		argv[5 + i] = j->argv[i];
	argv[5 + i] = NULL;
	j->pid = fork();
	ck_assert_int_ge(j->pid, 0);
	if (j->pid == 0) {
		int o = open(j->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(j->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		for (i = 0; env[i]; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		_exit(122);
	}
}

static void job_end(struct job *j, const char *kind, const struct secrets *s)
{
	int st;
	char what[300];
	ck_assert_int_eq(waitpid(j->pid, &st, 0), j->pid);
	j->r.status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	j->r.out = slurp_file(j->out);
	j->r.err = slurp_file(j->err);
	snprintf(what, sizeof what, "track %s %s %s %s (planted: %s)", j->argv[0],
		 j->argv[1] ? j->argv[1] : "", j->argv[1] && j->argv[2] ? j->argv[2] : "",
		 j->argv[1] && j->argv[2] && j->argv[3] ? j->argv[3] : "", kind);
	ck_assert_msg(j->r.status != 137, "%s hung (killed after %s s)", what, LIMIT);
	ck_assert_msg(j->r.status < 124, "%s died: status %d: %s", what, j->r.status, j->r.err);
	ck_assert_msg(j->r.status == j->want, "%s: status %d, not %d: %s", what, j->r.status,
		      j->want, j->r.err);
	if (j->says != NULL)
		ck_assert_msg(strstr(j->r.out, j->says) != NULL, "%s does not say '%s': %s", what,
			      j->says, j->r.out);
	no_secret(s, what, j->r.out);
	no_secret(s, what, j->r.err);
}

/* Run the n jobs, two at a time, and check each. */
static void run_jobs(struct job *jobs, size_t n, char *const env[], const char *kind,
		     const struct secrets *s)
{
	size_t i;
	for (i = 0; i < n; i += 2) {
		job_start(&jobs[i], env, (int)i);
		if (i + 1 < n)
			job_start(&jobs[i + 1], env, (int)i + 1);
		job_end(&jobs[i], kind, s);
		if (i + 1 < n)
			job_end(&jobs[i + 1], kind, s);
	}
}

/* --- the processes ------------------------------------------------------------------------ */

/* A directory anyone may write to (mode 1777), as a shared TRACK_DIR is; on the test's
 * TRACK_DIR's file system (tmpfs), opened to other users on the way. */
static const char *shared_dir(const char *name)
{
	char *d, *p;
	const char *base = getenv("TRACK_DIR");
	ck_assert_int_ge(asprintf(&d, "%s/%s", base, name), 0);
	ck_assert_int_eq(mkdir(d, 01777), 0);
	ck_assert_int_eq(chmod(d, 01777), 0);
	for (p = strrchr(d, '/'); p != NULL && p != d; p = strrchr(d, '/')) {
		*p = '\0';
		if (strcmp(d, "/dev/shm") == 0 || strcmp(d, "/tmp") == 0)
			break;
		chmod(d, 0711);
	}
	ck_assert_int_ge(asprintf(&d, "%s/%s", base, name), 0);
	ck_assert_int_eq(chmod(tmp_dir(), 0711), 0);
	return d;
}

/* A pid no process has (one just reaped). */
static pid_t gone_pid(void)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* The segment of pid in dir, its generation in *gen. */
static void segment_of(const char *dir, pid_t pid, char *out, size_t len, unsigned *gen)
{
	unsigned g;
	for (g = 0; g < 16; g++) {
		struct stat st;
		ck_assert_int_eq(track_segfile_path(out, len, dir, (unsigned)getuid(), (int)pid, g), 0);
		if (lstat(out, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid()) {
			*gen = g;
			return;
		}
	}
	ck_abort_msg("no segment of %d in %s", (int)pid, dir);
}

/* `track exporter` on a free port with env, scraped once (the body into *body), then ended by
 * SIGTERM: it must answer and end with status 0. */
static void scrape_exporter(char *const env[], const struct secrets *s, const char *kind,
			    char **body)
{
	int p[2], port, st;
	char line[256], url[96], *colon;
	struct run_result r;
	FILE *out;
	pid_t pid;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		size_t i;
		dup2(p[1], 1);
		close(p[0]);
		for (i = 0; env[i]; i++)
			putenv(env[i]);
		execl(tool_path(), "track", "exporter", "--listen", "127.0.0.1:0", (char *)NULL);
		_exit(122);
	}
	close(p[1]);
	out = fdopen(p[0], "r");
	ck_assert_msg(fgets(line, sizeof line, out) != NULL, "the exporter said nothing (%s)",
		      kind);
	colon = strrchr(line, ':');
	ck_assert_ptr_nonnull(colon);
	port = atoi(colon + 1);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
	run((char *[]){"curl", "-sS", "--max-time", LIMIT, url, NULL}, NULL, NULL, &r);
	ck_assert_msg(r.status == 0, "the exporter did not answer (%s): %s", kind, r.err);
	no_secret(s, "track exporter", r.out);
	*body = r.out;
	free(r.err);
	kill(pid, SIGTERM);
	st = wait_exit(pid, 30);
	ck_assert_msg(st == 0, "the exporter ended with %d (%s)", st, kind);
	fclose(out);
}

/* How many lines of text start with prefix and hold needle. */
static int lines_with(const char *text, const char *prefix, const char *needle)
{
	int n = 0;
	const char *l;
	for (l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		char buf[1024];
		snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), l);
		if (strncmp(buf, prefix, strlen(prefix)) == 0 && strstr(buf, needle))
			n++;
	}
	return n;
}

/* --- the matrix --------------------------------------------------------------------------- */

enum name { N_NEXT_GEN, N_DEAD, N_PID1, N_NS_CHILD, N_CHILD, NNAMES };

static const char *const name_words[NNAMES] = {
	"the next generation of a live process", "a dead pid's", "pid 1's",
	"a track run program's", "a preloaded program's",
};

struct planted {
	char path[NNAMES][700];
	int made[NNAMES];
	struct state was[NNAMES];
};

/* Whether the shim may replace what was planted at name n: a file of the user's own that
 * holds a segment header, at the name its new segment is to have, is a stale segment of the
 * user's (libtrack/segment.c); anything else it steps over. */
static int replaceable(enum kind k, enum name n)
{
	return (n == N_CHILD || n == N_NS_CHILD) && kinds[k].ours && k != K_GARBAGE && k != K_EMPTY;
}

static void plant_at(struct planted *p, enum name n, enum kind k, const char *dir,
		     const struct secrets *s, const struct forge *f, pid_t pid, unsigned gen)
{
	unsigned uid = (unsigned)getuid();
	ck_assert_int_eq(track_segfile_path(p->path[n], sizeof p->path[n], dir, uid, (int)pid, gen),
			 0);
	p->made[n] = plant(k, p->path[n], s, f, uid, pid, gen) == 0;
	if (p->made[n])
		take_state(p->path[n], &p->was[n]);
}

/* A program under a plain preload whose segment's name was planted first: it runs as
 * natively, and its own segment is made (under the next free generation) and readable. */
static void preloaded_program(struct planted *p, enum kind k, const char *dir,
			      const struct secrets *s, const struct forge *f, const char *native)
{
	char **argv = (char *[]){strdup(fixture("fx_safety")), "rw17", NULL};
	const char *out = tmp_path("preloaded.out");
	char pidstr[16], *text;
	struct run_result r;
	pid_t pid = stopped_child(argv, (char *[]){shim_preload(), trackdir_env(dir), "TRACK_KEEP=1",
						   NULL}, out);
	plant_at(p, N_CHILD, k, dir, s, f, pid, 0);
	kill(pid, SIGCONT);
	ck_assert_int_eq(wait_exit(pid, 30), 0);
	text = slurp_file(out);
	ck_assert_str_eq(text, native);
	free(text);
	snprintf(pidstr, sizeof pidstr, "%d", (int)pid);
	run((char *[]){"timeout", "-s", "KILL", LIMIT, (char *)tool_path(), "report", "--collect",
		       pidstr, NULL}, NULL, (char *[]){trackdir_env(dir), NULL}, &r);
	ck_assert_msg(r.status == 0, "the preloaded program's own segment (planted: %s): %d: %s",
		      kinds[k].name, r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "fx_safety rw17"));
	no_secret(s, "track report of the preloaded program", r.out);
	run_free(&r);
}

/* `track run` of a program whose segment's name was planted first: pid 2 of a new pid
 * namespace (root only).  It runs as natively and is reported. */
static void run_in_pid_namespace(struct planted *p, enum kind k, const char *dir,
				 const struct secrets *s, const struct forge *f, const char *native)
{
	const char *json = tmp_path("ns-report.json");
	struct run_result r;
	char *text;
	plant_at(p, N_NS_CHILD, k, dir, s, f, 2, 0);
	run((char *[]){"timeout", "-s", "KILL", LIMIT, "unshare", "--pid", "--fork", "--mount-proc",
		       (char *)tool_path(), "run", "--json", (char *)json, "--",
		       (char *)fixture("fx_safety"), "rw17", NULL},
	    NULL, (char *[]){trackdir_env(dir), NULL}, &r);
	ck_assert_msg(r.status == 0, "track run (planted: %s): status %d: %s", kinds[k].name,
		      r.status, r.err);
	ck_assert_str_eq(r.out, native);
	no_secret(s, "track run", r.err);
	text = slurp_file(json);
	ck_assert_msg(text != NULL && strstr(text, "\"pid\": 2") && strstr(text, "rw17"),
		      "track run's report (planted: %s): %s", kinds[k].name, text);
	no_secret(s, "track run's JSON", text);
	free(text);
	run_free(&r);
}

START_TEST(planted_under_every_name)
{
	enum kind k = (enum kind)_i;
	const char *dir = shared_dir("shared"), *snap = tmp_path("snap.json");
	char live_seg[700], livestr[16], deadstr[16], *env[] = {trackdir_env(dir), NULL};
	char label[64], *metrics, *native;
	struct secrets s;
	struct forge f;
	struct planted p;
	struct job jobs[40];
	struct run_result r;
	unsigned gen;
	size_t nj = 0, n;
	FILE *out;
	int fd;

	if (kinds[k].root_only && !is_root()) {
		fprintf(stderr, "test_hostile: not root: \"%s\" is not planted (it needs another "
				"user's file): left out, not passed\n", kinds[k].name);
		return;
	}
	memset(&p, 0, sizeof p);
	make_secrets(&s, getenv("TRACK_DIR"));   /* the shared directory's file system: linkable */
	run((char *[]){(char *)fixture("fx_safety"), "rw17", NULL}, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 0);
	native = r.out;
	free(r.err);

	/* a live traced process, whose header the forgeries start from */
	f.live = start_live(20, (char *[]){shim_preload(), env[0], NULL}, &out);
	segment_of(dir, f.live, live_seg, sizeof live_seg, &gen);
	fd = open(live_seg, O_RDONLY);
	ck_assert_int_eq(pread(fd, &f.h, sizeof f.h, 0), (ssize_t)sizeof f.h);
	close(fd);
	f.live_start = starttime_of(f.live);
	f.init_start = starttime_of(1);
	f.gone = gone_pid();

	plant_at(&p, N_NEXT_GEN, k, dir, &s, &f, f.live, gen + 1);
	plant_at(&p, N_DEAD, k, dir, &s, &f, gone_pid(), 0);
	plant_at(&p, N_PID1, k, dir, &s, &f, 1, 0);
	if (is_root())
		run_in_pid_namespace(&p, k, dir, &s, &f, native);
	preloaded_program(&p, k, dir, &s, &f, native);

	snprintf(livestr, sizeof livestr, "%d", (int)f.live);
	snprintf(deadstr, sizeof deadstr, "%d", (int)f.gone);
	{
		unsigned u;
		int dead;
		ck_assert_int_eq(track_segfile_parse(strrchr(p.path[N_DEAD], '/') + 1, &u, &dead,
						     &gen), 0);
		snprintf(deadstr, sizeof deadstr, "%d", dead);
	}
	job(&jobs[nj++], 0, NULL, "ls", NULL);
	job(&jobs[nj++], 0, "[", "ls", "--json", NULL);
	job(&jobs[nj++], 0, "fx_threads live", "report", livestr, NULL);
	job(&jobs[nj++], 0, "fx_threads", "report", "--format", "json", livestr, NULL);
	job(&jobs[nj++], 0, NULL, "report", "--format", "folded", "--view", "blocking", livestr,
	    NULL);
	job(&jobs[nj++], 0, "track_", "report", "--format", "prometheus", livestr, NULL);
	job(&jobs[nj++], 0, NULL, "report", "--format", "pprof", "--output",
	    (char *)tmp_path("report.pprof"), livestr, NULL);
	job(&jobs[nj++], kinds[k].find_dead, NULL, "report", deadstr, NULL);
	for (n = 0; n < NNAMES; n++)
		if (p.made[n] && n != N_CHILD && n != N_NS_CHILD)
			job(&jobs[nj++], kinds[k].report, NULL, "report", p.path[n], NULL);
	job(&jobs[nj++], 0, "timed-waiter", "top", "--batch", "--iterations", "1", livestr, NULL);
	/* the only traced process running is the live one */
	job(&jobs[nj++], 0, "timed-waiter", "top", "--batch", "--iterations", "1", NULL);
	job(&jobs[nj++], 0, "timed-waiter", "stacks", livestr, NULL);
	job(&jobs[nj++], 0, "timed-waiter", "stacks", "--no-stop", livestr, NULL);
	job(&jobs[nj++], 0, NULL, "snapshot", "-o", (char *)snap, livestr, NULL);
	run_jobs(jobs, nj, env, kinds[k].name, &s);
	nj = 0;
	job(&jobs[nj++], 0, NULL, "leaks", livestr, "--since", (char *)snap, NULL);
	run_jobs(jobs, nj, env, kinds[k].name, &s);
	scrape_exporter(env, &s, kinds[k].name, &metrics);
	snprintf(label, sizeof label, "pid=\"%d\"", (int)f.live);
	ck_assert_msg(lines_with(metrics, "track_threads_alive{", label) == 1,
		      "the exporter serves the live process %d times (planted: %s): %s",
		      lines_with(metrics, "track_threads_alive{", label), kinds[k].name, metrics);
	ck_assert_msg(lines_with(metrics, "track_threads_alive{", "pid=") == 1,
		      "the exporter serves a process that is not traced (planted: %s): %s",
		      kinds[k].name, metrics);
	free(metrics);

	for (n = 0; n < NNAMES; n++)
		if (p.made[n] && !replaceable(k, n))
			same_state(p.path[n], &p.was[n], "the commands");
	secrets_intact(&s);

	/* clean: it may remove a file of the user's own at a dead pid's name, nothing else */
	nj = 0;
	job(&jobs[nj++], 0, NULL, "clean", NULL);
	run_jobs(jobs, nj, env, kinds[k].name, &s);
	for (n = 0; n < NNAMES; n++) {
		struct stat st;
		if (!p.made[n] || replaceable(k, n))
			continue;
		if ((n == N_DEAD || n == N_CHILD) && kinds[k].ours && lstat(p.path[n], &st) != 0)
			continue;
		ck_assert_msg(lstat(p.path[n], &st) == 0, "track clean removed %s (%s at %s name)",
			      p.path[n], kinds[k].name, name_words[n]);
		same_state(p.path[n], &p.was[n], "track clean");
	}
	secrets_intact(&s);
	kill(f.live, SIGKILL);
	waitpid(f.live, NULL, 0);
	fclose(out);
	free(native);
}
END_TEST

/* --- the segment directory itself -------------------------------------------------------- */

/* What TRACK_DIR names is not a directory the user can write: a FIFO (opening it to look
 * would block), a file, a dangling link (following it must not create its target), nothing,
 * and, as root, a directory only root may write run by another user.  The program runs as
 * natively and its shim says so in one line; track run refuses before starting (status 2,
 * one line); track ls lists nothing.  Nothing planted is touched. */
START_TEST(track_dir_is_not_a_directory_of_yours)
{
	static const char *const what[] = {"FIFO", "file", "dangling link", "nothing",
					   "root's directory"};
	const char *base = shared_dir("dirs");
	char dir[700], target[700], *env[3];
	struct state was;
	struct run_result r;
	uid_t as = (uid_t)-1;
	if (_i == 4 && !is_root()) {
		fprintf(stderr, "test_hostile: not root: TRACK_DIR of another user's is left out, "
				"not passed\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/dir", base);
	snprintf(target, sizeof target, "%s/target", base);
	if (_i == 0)
		ck_assert_int_eq(mkfifo(dir, 0666), 0);
	else if (_i == 1)
		write_file(dir, "not a directory\n", 0644);
	else if (_i == 2)
		ck_assert_int_eq(symlink(target, dir), 0);
	else if (_i == 4) {
		ck_assert_int_eq(mkdir(dir, 0755), 0);
		as = NOBODY;
	}
	if (_i != 3)
		take_state(dir, &was);
	env[0] = shim_preload();
	env[1] = trackdir_env(dir);
	env[2] = NULL;
	run_as(as, as, (char *[]){strdup(fixture("fx_safety")), "rw17", NULL}, NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "rw17 ok\n");
	ck_assert_msg(strncmp(r.err, "libtrack: ", 10) == 0 && strchr(r.err, '\n') ==
			      r.err + r.err_len - 1 && strstr(r.err, "this process is not traced"),
		      "TRACK_DIR a %s: not one line saying so: '%s'", what[_i], r.err);
	run_free(&r);
	run_as(as, as, (char *[]){(char *)tool_path(), "run", "--", "/bin/true", NULL}, NULL,
	       env + 1, &r);
	ck_assert_msg(r.status == 2 && strncmp(r.err, "track: TRACK_DIR=", 17) == 0 &&
			      strchr(r.err, '\n') == r.err + r.err_len - 1,
		      "track run, TRACK_DIR a %s: %d: %s", what[_i], r.status, r.err);
	run_free(&r);
	run_as(as, as, (char *[]){"timeout", "-s", "KILL", LIMIT, (char *)tool_path(), "ls", NULL},
	       NULL, env + 1, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "no segments\n");
	run_free(&r);
	if (_i != 3)
		same_state(dir, &was, "a program and track");
	if (_i == 4) {
		char cmd[800];
		snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_int_ne(access(target, F_OK), 0);
}
END_TEST

/* A tmpfs of its own on path, in this test's own mount namespace. */
static void private_tmpfs(const char *path, const char *mode)
{
	char opts[64];
	snprintf(opts, sizeof opts, "size=64m,%s", mode);
	ck_assert_int_eq(mount("tmpfs", path, "tmpfs", 0, opts), 0);
}

/* The default directory, /dev/shm/track-<uid>, planted by another user before its user first
 * needs it: another user's directory open to all, a link to one, a FIFO, a file.  The shim
 * uses /tmp/track-<uid> instead, the tools read it there and say in one line that they
 * ignore the planted one; nothing is written into it.  With /tmp/track-<uid> planted too,
 * the program runs untraced, saying so in one line.  /dev/shm and /tmp/track-<uid> are
 * private tmpfs of the test, so nothing real is touched. */
START_TEST(default_directory_planted)
{
	static const char *const what[] = {"another user's directory", "link to one", "FIFO",
					   "file"};
	char shm[64], tmp[64], other[64], marker[64], *line;
	char *env[] = {shim_preload(), "TRACK_DIR", NULL};
	struct state was;
	struct stat st;
	int tmp_existed;
	struct run_result r;
	int pid;
	/* a mount namespace of the test's own: /dev/shm afresh, and a tmpfs over
	 * /tmp/track-<uid> (made for the time of the test if it is not there) */
	snprintf(tmp, sizeof tmp, "/tmp/track-%u", (unsigned)getuid());
	tmp_existed = lstat(tmp, &st) == 0;
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	private_tmpfs("/dev/shm", "mode=1777");
	if (!tmp_existed)
		ck_assert_int_eq(mkdir(tmp, 0700), 0);
	private_tmpfs(tmp, "mode=0700");

	snprintf(shm, sizeof shm, "/dev/shm/track-%u", (unsigned)getuid());
	snprintf(other, sizeof other, "/dev/shm/theirs");
	snprintf(marker, sizeof marker, "marker-%d", (int)getpid());
	ck_assert_int_eq(mkdir(other, 0777), 0);
	ck_assert_int_eq(chmod(other, 0777), 0);
	ck_assert_int_eq(chown(other, NOBODY, NOBODY), 0);
	if (_i == 0) {
		ck_assert_int_eq(mkdir(shm, 0777), 0);
		ck_assert_int_eq(chmod(shm, 0777), 0);
	} else if (_i == 1) {
		ck_assert_int_eq(symlink(other, shm), 0);
	} else if (_i == 2) {
		ck_assert_int_eq(mkfifo(shm, 0666), 0);
	} else {
		write_file(shm, "theirs\n", 0666);
	}
	ck_assert_int_eq(lchown(shm, NOBODY, NOBODY), 0);
	take_state(shm, &was);
	env[2] = NULL;
	run((char *[]){strdup(fixture("fx_safety")), "fds", marker, NULL}, NULL,
	    (char *[]){shim_preload(), "TRACK_DIR", "TRACK_KEEP=1", NULL}, &r);
	ck_assert_msg(r.status == 0 && r.err_len == 0, "%s planted: %d: %s", what[_i], r.status,
		      r.err);
	run_free(&r);
	same_state(shm, &was, "a traced program");
	{
		char cmd[800];
		snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", other);
		ck_assert_msg(system(cmd) == 0, "a segment went into another user's directory");
		snprintf(cmd, sizeof cmd, "ls %s | grep -q '^track\\.'", tmp);
		ck_assert_msg(system(cmd) == 0, "no segment in %s", tmp);
	}
	/* the tools find it there, and say in one line that they ignore the planted one */
	run((char *[]){"timeout", "-s", "KILL", LIMIT, (char *)tool_path(), "ls", NULL}, NULL,
	    (char *[]){"TRACK_DIR", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	line = strstr(r.out, marker);
	ck_assert_msg(line != NULL, "track ls does not list it: %s", r.out);
	ck_assert_msg(strstr(r.err, "ignoring /dev/shm/track-") && strchr(r.err, '\n') ==
			      r.err + r.err_len - 1, "%s", r.err);
	while (line > r.out && line[-1] != '\n')
		line--;
	ck_assert_int_eq(sscanf(line, "%d", &pid), 1);
	run_free(&r);
	run((char *[]){"timeout", "-s", "KILL", LIMIT, (char *)tool_path(), "clean", NULL}, NULL,
	    (char *[]){"TRACK_DIR", NULL}, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "removed /tmp/track-"));
	run_free(&r);
	same_state(shm, &was, "track ls and clean");
	/* both planted (the second open to all, another user's): untraced, said in one line */
	ck_assert_int_eq(chmod(tmp, 0777), 0);
	ck_assert_int_eq(chown(tmp, NOBODY, NOBODY), 0);
	run((char *[]){strdup(fixture("fx_safety")), "rw17", NULL}, NULL, env, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "rw17 ok\n");
	ck_assert_msg(strncmp(r.err, "libtrack: ", 10) == 0 && strchr(r.err, '\n') ==
			      r.err + r.err_len - 1, "not one line: '%s'", r.err);
	run_free(&r);
	same_state(shm, &was, "a traced program");
	ck_assert_int_eq(umount(tmp), 0);
	if (!tmp_existed)
		rmdir(tmp);
}
END_TEST

/* --- report files ------------------------------------------------------------------------ */

/* Another user plants, in a shared directory (sticky, world-writable: /tmp), the file a
 * command is told to write: a FIFO (the open blocked for ever), a link to a root-only file
 * (the report overwrote it), a file of theirs (the report went into it).  Linux refuses
 * these itself when fs.protected_fifos, protected_symlinks and protected_regular are set;
 * track refuses them whatever those say.  Root only: the planter is another user. */
START_TEST(report_file_planted_by_another_user)
{
	static const char *const what[] = {"FIFO", "link to a root-only file", "file"};
	const char *dir = shared_dir("out");
	char path[700], livestr[16], *env[] = {trackdir_env(dir), NULL};
	struct secrets s;
	struct state was;
	struct job jobs[8];
	size_t nj = 0;
	FILE *out;
	pid_t live;
	make_secrets(&s, getenv("TRACK_DIR"));
	snprintf(path, sizeof path, "%s/report.txt", dir);
	if (_i == 0)
		ck_assert_int_eq(mkfifo(path, 0666), 0);
	else if (_i == 1)
		ck_assert_int_eq(symlink(s.shadow, path), 0);
	else
		write_file(path, "theirs\n", 0666);
	ck_assert_int_eq(lchown(path, NOBODY, NOBODY), 0);
	take_state(path, &was);
	live = start_live(20, (char *[]){shim_preload(), env[0], NULL}, &out);
	snprintf(livestr, sizeof livestr, "%d", (int)live);
	job(&jobs[nj++], 1, NULL, "report", "--output", path, livestr, NULL);
	job(&jobs[nj++], 1, NULL, "report", "--json", path, livestr, NULL);
	job(&jobs[nj++], 1, NULL, "snapshot", "-o", path, livestr, NULL);
	job(&jobs[nj++], 1, NULL, "run", "--output", path, "--", "/bin/true", NULL);
	job(&jobs[nj++], 1, NULL, "run", "--json", path, "--", "/bin/true", NULL);
	run_jobs(jobs, nj, env, what[_i], &s);
	for (nj = 0; nj < 5; nj++) {
		ck_assert_msg(strstr(jobs[nj].r.err, "another user's") != NULL &&
				      strchr(jobs[nj].r.err, '\n') == jobs[nj].r.err +
									  strlen(jobs[nj].r.err) - 1,
			      "track %s: not one line saying why: %s", jobs[nj].argv[0],
			      jobs[nj].r.err);
	}
	same_state(path, &was, "a command told to write there");
	secrets_intact(&s);
	/* the user's own file there is written, as asked */
	ck_assert_int_eq(unlink(path), 0);
	nj = 0;
	job(&jobs[nj++], 0, NULL, "report", "--output", path, livestr, NULL);
	run_jobs(jobs, nj, env, what[_i], &s);
	want_text(slurp_file(path), "fx_threads live", NULL);
	kill(live, SIGKILL);
	waitpid(live, NULL, 0);
	fclose(out);
}
END_TEST

/* --- other users ------------------------------------------------------------------------- */

struct temp_user {
	char name[32];
	uid_t uid;
	gid_t gid;
};

/* A user made for this test, removed (with whatever its processes left in its default segment
 * directories) when the test's process ends, however it ends: a process of its own session,
 * out of reach of the kill Check sends the test's process group, waits for the end of a pipe
 * only the test's process holds. */
static void temp_user(struct temp_user *u)
{
	char cmd[300];
	struct passwd *pw;
	int p[2];
	pid_t pid;
	snprintf(u->name, sizeof u->name, "trkh%d", (int)getpid());
	snprintf(cmd, sizeof cmd, "useradd -M -U -d /nonexistent -s /usr/sbin/nologin %s",
		 u->name);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	pw = getpwnam(u->name);
	ck_assert_ptr_nonnull(pw);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	/* a user of an earlier test that had this uid may not be all gone yet: nothing in
	 * these directories is this new user's */
	snprintf(cmd, sizeof cmd, "rm -rf /dev/shm/track-%u /tmp/track-%u", (unsigned)u->uid,
		 (unsigned)u->uid);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char c;
		int fd;
		setsid();
		for (fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		while (read(p[0], &c, 1) != 0)
			;
		/* the directories first: once the user is gone, its uid may be a new one's */
		snprintf(cmd, sizeof cmd, "rm -rf /dev/shm/track-%u /tmp/track-%u; userdel -f %s",
			 (unsigned)u->uid, (unsigned)u->uid, u->name);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);   /* held by the test's process alone */
}

/* argv run as u through setpriv, with caps ("+sys_ptrace", or NULL) kept. */
static char **as_user(const struct temp_user *u, const char *caps, char *const argv[])
{
	static char uid[32], gid[32], inh[64], amb[64];
	char **v = calloc(40, sizeof *v);
	size_t n = 0, i;
	snprintf(uid, sizeof uid, "--reuid=%u", (unsigned)u->uid);
	snprintf(gid, sizeof gid, "--regid=%u", (unsigned)u->gid);
	v[n++] = "/usr/bin/setpriv";
	v[n++] = uid;
	v[n++] = gid;
	v[n++] = "--clear-groups";
	if (caps != NULL) {
		snprintf(inh, sizeof inh, "--inh-caps=%s", caps);
		snprintf(amb, sizeof amb, "--ambient-caps=%s", caps);
		v[n++] = inh;
		v[n++] = amb;
	}
	for (i = 0; argv[i] && n < 39; i++)
		v[n++] = argv[i];
	return v;
}

/* track args as u (with caps), under the time limit. */
static void track_as(const struct temp_user *u, const char *caps, char *const args[],
		     char *const env[], struct run_result *r)
{
	char *argv[32] = {"timeout", "-s", "KILL", LIMIT, (char *)tool_path()};
	size_t i;
	for (i = 0; args[i] && i < 26; i++)
		argv[5 + i] = args[i];
	argv[5 + i] = NULL;
	run(u ? as_user(u, caps, argv) : argv, NULL, env, r);
	ck_assert_msg(r->status != 137, "track %s hung", args[0]);
}

/* README, `track report` and `track stacks`: root may read another user's process (its
 * segment found through the TRACK_DIR of the process's own environment) and take its
 * stacks, and never follows what that user planted for it (a link or a hard link to a
 * root-only file, a FIFO: in the process's TRACK_DIR and in the user's default directory,
 * which root's track run looks through); another user is told whose it is, status 4;
 * CAP_SYS_PTRACE lets a user take any process's stacks, not read a segment the file's mode
 * closes to them. */
START_TEST(root_and_ptrace_read_other_users)
{
	const char *dir = shared_dir("users");
	char *env[] = {shim_preload(), trackdir_env(dir), NULL};
	char pidstr[16], rootpid[16], theirdir[64], path[6][700];
	struct secrets s;
	struct state was[6];
	size_t i;
	struct temp_user u;
	struct run_result r;
	FILE *out, *out2;
	pid_t theirs, mine;
	temp_user(&u);
	theirs = start_ready(as_user(&u, NULL, (char *[]){(char *)strdup(fixture("fx_threads")),
							    "live", "20", NULL}), env, &out);
	mine = start_live(20, env, &out2);
	snprintf(pidstr, sizeof pidstr, "%d", (int)theirs);
	snprintf(rootpid, sizeof rootpid, "%d", (int)mine);
	/* what they plant for root to read, under their own process's next names and in their
	 * default directory: a link to a root-only file, a hard link to it (as a user may make
	 * where fs.protected_hardlinks is 0), a FIFO */
	make_secrets(&s, getenv("TRACK_DIR"));
	snprintf(theirdir, sizeof theirdir, "/dev/shm/track-%u", (unsigned)u.uid);
	ck_assert_int_eq(mkdir(theirdir, 0700), 0);
	ck_assert_int_eq(chown(theirdir, u.uid, u.gid), 0);
	for (i = 0; i < 6; i++) {
		const char *d = i < 3 ? dir : theirdir;
		ck_assert_int_eq(track_segfile_path(path[i], sizeof path[i], d, (unsigned)u.uid,
						    (int)theirs, 1 + i % 3), 0);
		if (i % 3 == 0)
			ck_assert_int_eq(symlink(s.shadow, path[i]), 0);
		else if (i % 3 == 1)
			ck_assert_int_eq(link(s.shadow, path[i]), 0);
		else
			ck_assert_int_eq(mkfifo(path[i], 0600), 0);
		if (i % 3 != 1)
			ck_assert_int_eq(lchown(path[i], u.uid, u.gid), 0);
		take_state(path[i], &was[i]);
	}
	/* root reads theirs: the segment from the TRACK_DIR in its environment, its stacks */
	track_as(NULL, NULL, (char *[]){"report", pidstr, NULL}, (char *[]){"TRACK_DIR", NULL}, &r);
	ck_assert_msg(r.status == 0 && strstr(r.out, "fx_threads live"), "%d: %s", r.status, r.err);
	no_secret(&s, "root's track report of their process", r.out);
	no_secret(&s, "root's track report of their process", r.err);
	run_free(&r);
	/* root's track run looks at every user's directory for processes of its run */
	track_as(NULL, NULL, (char *[]){"run", "--", "/bin/echo", "ran", NULL},
		 (char *[]){"TRACK_DIR", NULL}, &r);
	ck_assert_msg(r.status == 0 && strcmp(r.out, "ran\n") == 0, "%d: %s", r.status, r.err);
	no_secret(&s, "root's track run", r.err);
	run_free(&r);
	for (i = 0; i < 6; i++)
		same_state(path[i], &was[i], "root's track report and run");
	secrets_intact(&s);
	track_as(NULL, NULL, (char *[]){"stacks", pidstr, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0 && strstr(r.out, "timed-waiter"), "%d: %s", r.status, r.err);
	run_free(&r);
	/* they cannot read root's */
	track_as(&u, NULL, (char *[]){"report", rootpid, NULL}, NULL, &r);
	ck_assert_msg(r.status == 4 && strstr(r.err, "belongs to root"), "%d: %s", r.status, r.err);
	run_free(&r);
	track_as(&u, NULL, (char *[]){"stacks", rootpid, NULL}, NULL, &r);
	ck_assert_msg(r.status == 4, "%d: %s", r.status, r.err);
	no_secret(&(struct secrets){.marker = {"timed-waiter", "timed-waiter", "timed-waiter"}},
		  "track stacks of root's process, as another user", r.out);
	run_free(&r);
	/* with CAP_SYS_PTRACE they may take its stacks; its segment stays closed (mode 0600) */
	track_as(&u, "+sys_ptrace", (char *[]){"stacks", rootpid, NULL}, NULL, &r);
	ck_assert_msg(r.status == 0 && strstr(r.out, "timed-waiter"), "%d: %s", r.status, r.err);
	run_free(&r);
	track_as(&u, "+sys_ptrace", (char *[]){"report", rootpid, NULL}, NULL, &r);
	ck_assert_msg(r.status == 4 && strchr(r.err, '\n') == r.err + r.err_len - 1,
		      "%d: %s", r.status, r.err);
	run_free(&r);
	kill(theirs, SIGKILL);
	kill(mine, SIGKILL);
	waitpid(theirs, NULL, 0);
	waitpid(mine, NULL, 0);
	fclose(out);
	fclose(out2);
}
END_TEST

/* Point 2: a setuid or setgid program, linked with -ltrack or given the shim by LD_PRELOAD,
 * run by an ordinary user (a temporary one) with TRACK_* variables that would otherwise
 * make files and output: it runs as natively, says nothing (a bad TRACK_MAX_THREADS would be
 * said on stderr: the variables were not read), and creates nothing anywhere.  The same
 * programs without the bit are traced as their user: the negative. */
START_TEST(setuid_programs_get_a_passive_shim)
{
	static const struct {
		const char *fixture, *arg, *says;
		mode_t bits;
		int preload;
	} progs[] = {
		{"fx_linked", NULL, "counter 3000\n", 04755, 0},
		{"fx_linked", NULL, "counter 3000\n", 02755, 0},
		{"fx_safety", "rw17", "rw17 ok\n", 04755, 1},
		{"fx_safety", "rw17", "rw17 ok\n", 02755, 1},
	};
	const char *base = shared_dir("suid");
	char prog[700], rootonly[700], open_dir[700], cmd[1600], mine[2][64];
	struct temp_user u;
	struct run_result r;
	struct stat st;
	size_t i;
	temp_user(&u);
	snprintf(rootonly, sizeof rootonly, "%s/rootonly", base);
	ck_assert_int_eq(mkdir(rootonly, 0700), 0);
	snprintf(open_dir, sizeof open_dir, "%s/open", base);
	ck_assert_int_eq(mkdir(open_dir, 0777), 0);
	ck_assert_int_eq(chmod(open_dir, 0777), 0);
	snprintf(mine[0], sizeof mine[0], "/dev/shm/track-%u", (unsigned)u.uid);
	snprintf(mine[1], sizeof mine[1], "/tmp/track-%u", (unsigned)u.uid);
	for (i = 0; i < ARRAY_SIZE(progs); i++) {
		char *env[] = {progs[i].preload ? shim_preload() : "LD_PRELOAD",
			       trackdir_env(rootonly), "TRACK_KEEP=1", "TRACK_REPORT=stderr",
			       "TRACK_LEAKS=2", "TRACK_MAX_THREADS=abc", NULL};
		char *argv[] = {prog, (char *)progs[i].arg, NULL};
		snprintf(prog, sizeof prog, "%s/prog%zu", base, i);
		snprintf(cmd, sizeof cmd, "cp %s %s", fixture(progs[i].fixture), prog);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert_int_eq(chown(prog, 0, 0), 0);
		ck_assert_int_eq(chmod(prog, progs[i].bits), 0);
		run_as(u.uid, u.gid, argv, NULL, env, &r);
		ck_assert_msg(r.status == 0, "%s %o: status %d: %s", progs[i].fixture,
			      progs[i].bits, r.status, r.err);
		ck_assert_str_eq(r.out, progs[i].says);
		ck_assert_msg(r.err_len == 0, "%s %o said: %s", progs[i].fixture, progs[i].bits,
			      r.err);
		run_free(&r);
		snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", rootonly);
		ck_assert_msg(system(cmd) == 0, "%s %o created files in %s", progs[i].fixture,
			      progs[i].bits, rootonly);
		ck_assert_msg(lstat(mine[0], &st) != 0 && lstat(mine[1], &st) != 0,
			      "%s %o made the user's segment directory", progs[i].fixture,
			      progs[i].bits);
		/* the negative: without the bit it is traced, as the user, and reads them */
		ck_assert_int_eq(chmod(prog, 0755), 0);
		env[1] = trackdir_env(open_dir);
		run_as(u.uid, u.gid, argv, NULL, env, &r);
		ck_assert_int_eq(r.status, 0);
		ck_assert_str_eq(r.out, progs[i].says);
		ck_assert_msg(strstr(r.err, "libtrack: TRACK_MAX_THREADS=abc"), "%s", r.err);
		run_free(&r);
		snprintf(cmd, sizeof cmd, "ls %s | grep -q '^track\\.%u\\.' && rm -f %s/*", open_dir,
			 (unsigned)u.uid, open_dir);
		ck_assert_msg(system(cmd) == 0, "%s without its bit made no segment",
			      progs[i].fixture);
		unlink(prog);
	}
}
END_TEST

int main(void)
{
	const struct test_def tests[] = {
		LOOP_TEST("matrix", planted_under_every_name, NKINDS),
		LOOP_TEST("dirs", track_dir_is_not_a_directory_of_yours, 5),
		LOOP_TEST("root", default_directory_planted, 4),
		LOOP_TEST("root", report_file_planted_by_another_user, 3),
		TEST("root", root_and_ptrace_read_other_users),
		TEST("root", setuid_programs_get_a_passive_shim),
	};
	size_t n = ARRAY_SIZE(tests), plain = n;
	while (plain > 0 && strcmp(tests[plain - 1].tcase, "root") == 0)
		plain--;
	if (!is_root()) {
		fprintf(stderr, "test_hostile: not root: the %zu tests of case \"root\" (other "
				"users, setuid programs, ptrace) are left out, not passed\n",
			n - plain);
		n = plain;
	}
	return run_tests("hostile", 120, tests, n);
}

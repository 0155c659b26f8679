/*
 * cmd_run.c — `track run [options] -- PROGRAM [ARGS]`: run a program with the shim
 * preloaded, leave its input, output and exit status alone, and report afterwards.
 *
 * The program inherits track's stdin, stdout and stderr untouched.  track waits for it like
 * a shell: terminal signals (SIGINT, SIGQUIT) reach the program directly and track survives
 * them to report; SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to track are passed on.  Every
 * process of the run (the program, what it forks and execs) leaves a segment tagged with
 * this run's id; after the program ends they are collected, reported and removed, and
 * then the segments of processes that ended long ago are swept (cmd_ls.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/seglist.h"
#include "core/stackdump.h"
#include "render/dump.h"

struct run_opts {
	const char *output;
	const char *format;   /* --format: NULL for text */
	int view, value_count;   /* --view, --value */
	const char *json;
	int error_exitcode;   /* 0: not set */
	int top;
	int sort;     /* --sort: enum track_lock_sort */
	int frames;   /* --num-callers */
	int quiet;
	int keep;
	int leaks;            /* --leaks: TRACK_LEAKS=1 for the program; --fds: 2 */
	int allow_untraced;   /* --allow-uninstrumented */
	const char *lock_order;     /* TRACK_LOCK_ORDER for the program, NULL: leave as is */
	const char *on_deadlock;    /* TRACK_ON_DEADLOCK for the program, NULL: default */
	const char *suppressions;   /* file, NULL: $TRACK_SUPPRESSIONS */
	const char *stall;          /* TRACK_STALL for the program, NULL: leave as is */
	const char *max_threads;    /* TRACK_THREAD_LIMIT */
	const char *dump_signal;    /* TRACK_DUMP_SIGNAL */
	int stall_is_error;         /* warnings (stall, thread-limit) count for --error-exitcode */
	uint64_t timeout_ns;        /* --timeout: 0 none */
};


static volatile sig_atomic_t child_pid;

/* Options with no short form. */
enum {
	OPT_JSON = TRACK_LONG_ONLY(0),
	OPT_ERROR_EXITCODE,
	OPT_LOCK_ORDER,
	OPT_ON_DEADLOCK,
	OPT_SUPPRESSIONS,
	OPT_TOP,
	OPT_KEEP,
	OPT_LEAKS,
	OPT_FDS,
	OPT_ALLOW_UNTRACED,
	OPT_NUM_CALLERS,
	OPT_STALL,
	OPT_STALL_IS_ERROR,
	OPT_MAX_THREADS,
	OPT_TIMEOUT,
	OPT_DUMP_SIGNAL,
	OPT_SORT,
};

static const struct track_opt run_opts_table[] = {
	{'o', "output", "FILE", "write the report to FILE instead of stderr"},
	TRACK_FORMAT_OPTIONS,
	{OPT_JSON, "json", "FILE", "also write the report as JSON to FILE (not stdout,\n"
	 "which is the program's: /dev/fd/N for a descriptor)"},
	{OPT_ERROR_EXITCODE, "error-exitcode", "N",
	 "exit with N (1-255) if the report has findings\n"
	 "(of severity error, not suppressed); a program that\n"
	 "ran without the shim then fails with status 6"},
	{OPT_ALLOW_UNTRACED, "allow-uninstrumented", NULL,
	 "with --error-exitcode: let a program that ran\n"
	 "without the shim pass"},
	{OPT_LOCK_ORDER, "lock-order", "MODE",
	 "check the order locks are taken in: instance (each\n"
	 "lock on its own, the default), class (locks first\n"
	 "used at the same place together) or off"},
	{OPT_ON_DEADLOCK, "on-deadlock", "WHAT",
	 "when threads deadlock: exit (the default: report and\n"
	 "exit with --error-exitcode's N, or 7), abort, or\n"
	 "report (record it and let the program hang)"},
	{OPT_SUPPRESSIONS, "suppressions", "FILE",
	 "leave out the findings FILE's rules match (JSON; see\n"
	 "README, Suppressions)"},
	{OPT_TOP, "top", "N", "list the first N locks (default 10)"},
	{OPT_SORT, "sort", "KEY", "order locks by wait (total wait, the default), hold\n"
	 "(total hold time), contended, acquisitions or name"},
	{OPT_NUM_CALLERS, "num-callers", "N", "frames per stack in the text report (default 12)"},
	{'q', "quiet", NULL, "print the report only if it has findings"},
	{OPT_KEEP, "keep", NULL, "keep the segments instead of removing them"},
	{OPT_LEAKS, "leaks", NULL, "report what the program left at its end: threads\n"
	 "still running or never joined, locks still held\n"
	 "(findings thread-leak, lock-held-at-exit)"},
	{OPT_FDS, "fds", NULL, "with --leaks: also descriptors opened and still\n"
	 "open at the end (finding fd-leak)"},
	{OPT_STALL, "stall", "DURATION", "report a thread blocked longer than DURATION (500ms,\n"
	 "5s, 2m) on a lock, condvar, join, semaphore or\n"
	 "barrier: finding stall, severity warning"},
	{OPT_MAX_THREADS, "max-threads", "N", "report more than N threads alive at once, with the\n"
	 "sites that created most: finding thread-limit"},
	{OPT_STALL_IS_ERROR, "stall-is-error", NULL, "stall and thread-limit findings count for\n"
	 "--error-exitcode too"},
	{OPT_TIMEOUT, "timeout", "DURATION", "if the program still runs after DURATION: print\n"
	 "every thread's stack, kill it, report, exit 124"},
	{OPT_DUMP_SIGNAL, "dump-signal", "SIG", "when the program gets SIG (QUIT, USR1, ...), print\n"
	 "every thread's stack and let it go on"},
	{0},
};

static const struct track_subcmd run_cmd = {
	"run", "[OPTIONS] [--] PROGRAM [ARGS...]",
	"Run PROGRAM with libtrack.so preloaded.  Its input, output and exit status are\n"
	"left alone; when it ends, a report on its threads and locks goes to stderr.",
	run_opts_table,
	"exit status: the program's (128+N if killed by signal N), or --error-exitcode's\n"
	"N when there are findings; 124 --timeout ended the program; 7 a deadlock ended\n"
	"the program (without\n"
	"--error-exitcode); 6 with --error-exitcode, the program ran without the shim;\n"
	"2 bad usage (a bad option, or a TRACK_* variable the shim could not use);\n"
	"126 program not executable; 127 program not found; 1 track itself failed.\n\n"
	"environment: TRACK_LIB (the shim to preload), TRACK_DIR (where segments go),\n"
	"TRACK_MAX_THREADS, TRACK_MAX_OBJECTS, TRACK_MAX_FINDINGS (table sizes),\n"
	"TRACK_SUPPRESSIONS (suppressions file when --suppressions is not given),\n"
	"TRACK_LOCK_ORDER, TRACK_ON_DEADLOCK, TRACK_STALL, TRACK_THREAD_LIMIT and\n"
	"TRACK_DUMP_SIGNAL (when the options are not given); every\n"
	"TRACK_* variable the shim reads is checked before the program starts.",
	1,
};

/* An option whose value becomes a TRACK_* variable of the program's environment, checked
 * as the shim would: into *dst; 0, or TRACK_EXIT_USAGE (said). */
static int take_env_opt(const char *opt, const char *var, const char **dst)
{
	if (track_opt_env(opt, var, optarg) != 0)
		return TRACK_EXIT_USAGE;
	*dst = optarg;
	return 0;
}

/* One option into o; 0, or TRACK_EXIT_USAGE (said). */
static int take_opt(struct run_opts *o, int key)
{
	struct track_render_opts ro = {0};
	long v;
	switch (key) {
	case OPT_STALL: return take_env_opt("--stall", "TRACK_STALL", &o->stall);
	case OPT_MAX_THREADS:
		return take_env_opt("--max-threads", "TRACK_THREAD_LIMIT", &o->max_threads);
	case OPT_DUMP_SIGNAL:
		return take_env_opt("--dump-signal", "TRACK_DUMP_SIGNAL", &o->dump_signal);
	case OPT_STALL_IS_ERROR: o->stall_is_error = 1; return 0;
	case OPT_TIMEOUT:
		if (track_opt_duration("--timeout", optarg, &o->timeout_ns) != 0)
			return TRACK_EXIT_USAGE;
		if (o->timeout_ns == 0) {
			track_error("--timeout needs a duration longer than 0, not '%s'", optarg);
			return TRACK_EXIT_USAGE;
		}
		return 0;
	case 'o':
		if (strcmp(optarg, "-") == 0) {
			track_error("--output -: the program writes to stdout too; name a file, or "
				    "a descriptor you opened: --output /dev/fd/3 3>report");
			return TRACK_EXIT_USAGE;
		}
		o->output = optarg;
		return 0;
	case TRACK_OPT_FORMAT:
	case TRACK_OPT_VIEW:
	case TRACK_OPT_VALUE:
		ro.view = o->view;
		ro.value_count = o->value_count;
		if (track_format_opt(key, optarg, &o->format, &ro) < 0)
			return TRACK_EXIT_USAGE;
		o->view = ro.view;
		o->value_count = ro.value_count;
		return 0;
	case OPT_JSON:
		if (strcmp(optarg, "-") == 0) {
			/* the program's own output goes there too: the two would interleave */
			track_error("--json -: the program writes to stdout too; name a file, or a "
				    "descriptor you opened: --json /dev/fd/3 3>report.json");
			return TRACK_EXIT_USAGE;
		}
		o->json = optarg;
		return 0;
	case OPT_SUPPRESSIONS: o->suppressions = optarg; return 0;
	case 'q': o->quiet = 1; return 0;
	case OPT_KEEP: o->keep = 1; return 0;
	case OPT_LEAKS: o->leaks = o->leaks > 1 ? o->leaks : 1; return 0;
	case OPT_FDS: o->leaks = 2; return 0;
	case OPT_ALLOW_UNTRACED: o->allow_untraced = 1; return 0;
	case OPT_ERROR_EXITCODE:
		if (track_opt_number("--error-exitcode", optarg, 1, 255, &v) != 0)
			return TRACK_EXIT_USAGE;
		o->error_exitcode = (int)v;
		return 0;
	case OPT_NUM_CALLERS:
		if (track_opt_number("--num-callers", optarg, 1, TRACK_STACK_DEPTH + 2, &v) != 0)
			return TRACK_EXIT_USAGE;
		o->frames = (int)v;
		return 0;
	case OPT_TOP:
		if (track_opt_number("--top", optarg, 0, 1000000, &v) != 0)
			return TRACK_EXIT_USAGE;
		o->top = (int)v;
		return 0;
	case OPT_SORT:
		if (track_opt_choice("--sort", optarg, track_lock_sort_names) != 0)
			return TRACK_EXIT_USAGE;
		o->sort = track_lock_sort_of(optarg);
		return 0;
	case OPT_LOCK_ORDER:
		if (track_opt_choice("--lock-order", optarg, track_lock_order_names) != 0)
			return TRACK_EXIT_USAGE;
		o->lock_order = optarg;
		return 0;
	case OPT_ON_DEADLOCK:
		if (track_opt_choice("--on-deadlock", optarg, track_deadlock_action_names) != 0)
			return TRACK_EXIT_USAGE;
		o->on_deadlock = optarg;
		return 0;
	}
	return TRACK_EXIT_USAGE;
}

/* 0 ok; -1 help printed; else an exit status (said). */
static int parse_opts(int argc, char **argv, struct run_opts *o, int *first_arg)
{
	int key, rc;
	o->top = 10;
	while ((key = track_opt_next(&run_cmd, argc, argv)) != TRACK_OPT_END) {
		if (key == TRACK_OPT_HELP)
			return -1;
		if (key == TRACK_OPT_BAD)
			return TRACK_EXIT_USAGE;
		if ((rc = take_opt(o, key)) != 0)
			return rc;
	}
	if (o->format != NULL && strcmp(o->format, "pprof") == 0 && o->output == NULL) {
		track_error("--format pprof writes a binary file: name it with --output FILE");
		return TRACK_EXIT_USAGE;
	}
	if (optind >= argc) {
		track_error("no program to run; usage: track run [OPTIONS] -- PROGRAM [ARGS]");
		return TRACK_EXIT_USAGE;
	}
	*first_arg = optind;
	return 0;
}

/* LD_PRELOAD for the child: the shim first, then whatever was preloaded already. */
static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;
	int rc;
	if (old == NULL || *old == '\0')
		return setenv("LD_PRELOAD", shim, 1);
	if (asprintf(&v, "%s:%s", shim, old) < 0)
		return -1;
	rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	return rc;
}

/* What the shim checks and does on a deadlock.  Under track run a deadlock ends the program
 * (with --error-exitcode's N, or the shim's own default, 7) unless the option or the
 * environment says otherwise. */
static int set_check_env(const struct run_opts *o)
{
	char code[16];
	snprintf(code, sizeof code, "%d", o->error_exitcode);
	if (o->lock_order != NULL && setenv("TRACK_LOCK_ORDER", o->lock_order, 1) != 0)
		return -1;
	if (setenv("TRACK_ON_DEADLOCK", o->on_deadlock ? o->on_deadlock : "exit",
		   o->on_deadlock != NULL) != 0)
		return -1;
	if (o->leaks && setenv("TRACK_LEAKS", o->leaks > 1 ? "2" : "1", 1) != 0)
		return -1;
	if ((o->stall && setenv("TRACK_STALL", o->stall, 1) != 0) ||
	    (o->max_threads && setenv("TRACK_THREAD_LIMIT", o->max_threads, 1) != 0) ||
	    (o->dump_signal && setenv("TRACK_DUMP_SIGNAL", o->dump_signal, 1) != 0))
		return -1;
	return o->error_exitcode ? setenv("TRACK_DEADLOCK_EXITCODE", code, 1) : 0;
}

static uint64_t new_run_id(void)
{
	uint64_t id = 0;
	while (id == 0)
		if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
			id = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	return id;
}

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* Run argv in a child; on exec failure the child reports errno through a pipe. */
static pid_t spawn(char **argv, struct sigaction *old_int, struct sigaction *old_quit,
		   int *exec_errno)
{
	int p[2];
	pid_t pid;
	ssize_t n;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int e;
		sigaction(SIGINT, old_int, NULL);
		sigaction(SIGQUIT, old_quit, NULL);
		sigaction(SIGPIPE, &track_sigpipe_inherited, NULL);
		sigaction(SIGXFSZ, &track_sigxfsz_inherited, NULL);
		close(p[0]);
		execvp(argv[0], argv);
		e = errno;
		if (write(p[1], &e, sizeof e) < 0)
			_exit(TRACK_EXIT_NOTFOUND);
		_exit(TRACK_EXIT_NOTFOUND);
	}
	close(p[1]);
	*exec_errno = 0;
	if (pid > 0) {
		do
			n = read(p[0], exec_errno, sizeof *exec_errno);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof *exec_errno)
			*exec_errno = 0;
	}
	close(p[0]);
	return pid;
}

static int wait_child(pid_t pid, struct track_exit *ex)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	ex->end_mono_ns = track_mono_ns();   /* woken as it ended: its end, to scheduling */
	ex->known = 1;
	if (WIFSIGNALED(status)) {
		ex->signal = WTERMSIG(status);
		return 128 + ex->signal;
	}
	ex->code = WEXITSTATUS(status);
	return ex->code;
}

/* --- watching the program while it runs: --timeout and --dump-signal ---------------------- */

/* Every thread's stack of process pid, grouped, on stderr (what `track stacks` prints). */
static void dump_stacks(pid_t pid, const char *why)
{
	struct track_stackdump d;
	char err[512];
	int rc;
	fflush(stdout);
	fprintf(stderr, "track: %s; the stacks of process %d:\n", why, (int)pid);
	rc = track_stackdump_take(&d, pid, 0, 64, 0, err, sizeof err);
	if (rc != TRACK_EXIT_OK)
		track_error("no stacks: %s", err);
	else
		track_dump_write(stderr, &d, 0);
	track_stackdump_free(&d);
	fflush(stderr);
}

/* Whether process pid asked for a dump since *seen: its segment's count of dump signals
 * (the shim's handler bumps it), per exec image (*path: the one last read). */
static int dump_asked(pid_t pid, char *path, size_t len, uint64_t *seen)
{
	struct track_seg_header h;
	char now[TRACK_SEGFILE_PATH_MAX], err[512];
	if (track_seg_find_pid(pid, now, sizeof now, err, sizeof err) != TRACK_EXIT_OK ||
	    track_seg_header(now, &h, NULL, err, sizeof err) != TRACK_EXIT_OK)
		return 0;
	if (strcmp(now, path) != 0) {   /* a new image: its count starts again */
		snprintf(path, len, "%s", now);
		*seen = 0;
	}
	if (h.dump_requests == *seen)
		return 0;
	*seen = h.dump_requests;
	return 1;
}

#define WATCH_TICK_MS 100   /* how often the segment is read for dump requests */

/* Wait until process pid ends, the timeout passes (then: its stacks, SIGKILL; *timed_out
 * set) or it asks for a dump (its stacks, and on).  Returns when it has ended, not reaped. */
static void watch_child(pid_t pid, const struct run_opts *o, int *timed_out)
{
	uint64_t start = track_mono_ns(), seen = 0;
	char path[TRACK_SEGFILE_PATH_MAX] = "", why[128];
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		uint64_t now = track_mono_ns();
		int ms = o->dump_signal ? WATCH_TICK_MS : 1000;
		siginfo_t si;
		if (o->timeout_ns && now - start >= o->timeout_ns) {
			snprintf(why, sizeof why, "--timeout: the program still runs after %.3g s",
				 (double)o->timeout_ns / 1e9);
			dump_stacks(pid, why);
			kill(pid, SIGKILL);
			*timed_out = 1;
			break;
		}
		if (o->timeout_ns && o->timeout_ns - (now - start) < (uint64_t)ms * 1000000u)
			ms = (int)((o->timeout_ns - (now - start)) / 1000000u) + 1;
		if (pidfd >= 0) {
			struct pollfd p = {pidfd, POLLIN, 0};
			if (poll(&p, 1, ms) > 0)
				break;
		} else {   /* no pidfd (a kernel before 5.3): look every tick */
			memset(&si, 0, sizeof si);
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == pid)
				break;
			usleep((useconds_t)(ms < WATCH_TICK_MS ? ms : WATCH_TICK_MS) * 1000u);
		}
		if (o->dump_signal && dump_asked(pid, path, sizeof path, &seen))
			dump_stacks(pid, "the program got its dump signal");
	}
	if (pidfd >= 0)
		close(pidfd);
}

/* --- collecting the run's segments ------------------------------------------------------- */

/* A segment of this run, found by its run id: loaded only when its turn comes, so that a run
 * of a thousand processes holds one snapshot at a time, not a thousand. */
struct seg_ref {
	char path[TRACK_SEGFILE_PATH_MAX];
	pid_t pid;
	uint64_t start_ns;   /* when its image started: images of one pid follow each other */
	int ended;   /* its process had ended when it was reported */
};

struct collect {
	uint64_t run_id;
	pid_t primary;
	struct seg_ref *refs;
	size_t n, cap;
};

static void collect_visit(const char *path, pid_t pid, unsigned gen, void *vctx)
{
	struct collect *c = vctx;
	uint64_t id, start;
	pid_t p;
	(void)pid, (void)gen;
	if (track_seg_run_id(path, &id, &p, &start) != 0 || id != c->run_id)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct seg_ref *v = realloc(c->refs, cap * sizeof *v);
		if (v == NULL)
			return;
		c->refs = v;
		c->cap = cap;
	}
	snprintf(c->refs[c->n].path, sizeof c->refs[c->n].path, "%s", path);
	c->refs[c->n].pid = p;
	c->refs[c->n].start_ns = start;
	c->n++;
}

/* The primary process (the program's pid, latest exec image) first, the rest by pid; the
 * images of one pid newest first.  By start time, not exec generation: an image that
 * changed user numbers its generations afresh in its new user's directory. */
static int ref_order(const void *a, const void *b, void *vprimary)
{
	const struct seg_ref *x = a, *y = b;
	pid_t primary = *(pid_t *)vprimary;
	int xp = x->pid == primary, yp = y->pid == primary;
	if (xp != yp)
		return yp - xp;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start_ns < y->start_ns ? 1 : x->start_ns > y->start_ns ? -1 : 0;
}

/* When exec replaced image i: the start of the next image of its pid (refs sorted), or 0.
 * The segment says so itself when both are in one directory; not when the process changed
 * user in between. */
static uint64_t replaced_at(const struct collect *c, size_t i)
{
	return i > 0 && c->refs[i - 1].pid == c->refs[i].pid ? c->refs[i - 1].start_ns : 0;
}

/* Load segment i of the run; 0, or -1 (said) if it cannot be read. */
static int load(const struct collect *c, size_t i, struct track_snap *s)
{
	char err[TRACK_SEGFILE_PATH_MAX + 256];
	if (track_snap_load(c->refs[i].path, s, err, sizeof err) == TRACK_EXIT_OK)
		return 0;
	track_error("%s", err);
	return -1;
}

/* What --error-exitcode and --quiet go by: the findings of severity error that no
 * suppression hides, in every process of the run. */
static uint64_t total_findings(const struct collect *c, const struct track_suppressions *sp,
			       int stall_is_error)
{
	uint64_t n = 0;
	size_t i;
	for (i = 0; i < c->n; i++) {
		struct track_snap s;
		struct track_view v;
		if (load(c, i, &s) != 0)
			continue;
		track_view_init(&v, &s, sp, NULL);
		v.stall_is_error = stall_is_error;
		n += track_findings_count(&v);
		track_view_fini(&v);
		track_snap_free(&s);
	}
	return n;
}

/* Check now that the report files can be written, so a bad path fails before the run;
 * without creating or changing anything: a run that fails to start leaves no file. */
static int check_writable(const char *path)
{
	char dir[PATH_MAX];
	const char *slash;
	int fd;
	struct stat st;
	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	if (lstat(path, &st) == 0 && track_output_planted(path, &st)) {
		track_error("cannot write %s: it is another user's (uid %u) in a shared directory, "
			    "not yours to write through; remove it, or name another file", path,
			    (unsigned)st.st_uid);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT) {   /* a new file: its directory must let us create it */
		slash = strrchr(path, '/');
		if (slash == NULL)
			snprintf(dir, sizeof dir, ".");
		else if (slash == path)
			snprintf(dir, sizeof dir, "/");
		else
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
		if (access(dir, W_OK | X_OK) == 0)
			return 0;
	}
	track_error("cannot write %s: %s", path, strerror(errno));
	return -1;
}

static int report(struct collect *c, const struct run_opts *o, const char *prog,
		  const struct track_exit *ex, const struct track_suppressions *sp, int *untraced)
{
	struct track_render_opts ro = {o->top, o->frames, "run", o->view, o->value_count,
				       o->sort};
	const char *format = o->format != NULL ? o->format : "text";
	struct track_dest text = {0}, json = {0};
	uint64_t findings;
	size_t i;
	int rc = 0, show;
	if (c->n > 1)
		qsort_r(c->refs, c->n, sizeof *c->refs, ref_order, &c->primary);
	/* -q must know before it writes anything; otherwise the findings are counted as the
	 * segments are read for the report, each read once */
	findings = o->quiet ? total_findings(c, sp, o->stall_is_error) : 0;
	*untraced = c->n == 0 || c->refs[0].pid != c->primary;
	if (*untraced)
		track_error("%s ran without the shim, so nothing about it is known: %s", prog,
			    track_untraced_cause(prog));
	/* -q: no text report without findings; but a file named with -o is still written
	 * (empty), so that it never holds the report of an earlier run */
	show = !o->quiet || findings > 0;
	if ((show || o->output != NULL) &&
	    track_dest_open(&text, format, o->output, stderr, "stderr", &ro) != 0)
		rc = -1;
	if (o->json != NULL && track_dest_open(&json, "json", o->json, NULL, NULL, &ro) != 0)
		rc = -1;
	for (i = 0; i < c->n; i++) {
		struct track_snap s;
		struct track_view v;
		if (load(c, i, &s) != 0)
			continue;
		if (s.replaced_mono_ns == 0 && replaced_at(c, i) != 0) {
			s.replaced_mono_ns = replaced_at(c, i);
			s.alive = 0;
		}
		/* the exit status belongs to the program: the first process */
		track_view_init(&v, &s, sp, i == 0 ? ex : NULL);
		v.stall_is_error = o->stall_is_error;
		if (show)
			track_dest_add(&text, &v);
		track_dest_add(&json, &v);
		if (!o->quiet)
			findings += track_findings_count(&v);
		track_view_fini(&v);
		c->refs[i].ended = !s.alive;
		track_snap_free(&s);   /* a snapshot held is a reader, whose segment stays */
	}
	if (track_dest_close(&text) != 0)
		rc = -1;
	if (track_dest_close(&json) != 0)
		rc = -1;
	/* segments are kept when a report could not be written whole (a full disk, a closed
	 * pipe): nothing is lost; and only removed once all are read (an image's end is read
	 * from the next image's segment) */
	for (i = 0; i < c->n && !o->keep && rc == 0; i++)
		if (c->refs[i].ended)
			track_seg_remove(c->refs[i].path, c->refs[i].pid);
	free(c->refs);
	return rc != 0 ? -1 : findings > 0;
}

/* Start the program with the shim, wait for it, report; returns track run's exit status. */
static int run_and_report(const struct run_opts *o, char **argv,
			  const struct track_suppressions *supp)
{
	struct sigaction ign = {0}, fwd = {0}, old_int, old_quit;
	struct track_exit ex = {0};
	struct collect c = {0};
	char shim[PATH_MAX], idbuf[32], uidbuf[16];
	int rc, status, exec_errno, untraced, timed_out = 0;
	pid_t pid;

	if ((rc = track_find_shim(shim, sizeof shim)) != 0) {
		if (rc == -1)
			track_error("cannot find libtrack.so (looked for %s); set TRACK_LIB to its "
				    "path", shim);
		return TRACK_EXIT_FAIL;
	}
	c.run_id = new_run_id();
	snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)c.run_id);
	snprintf(uidbuf, sizeof uidbuf, "%u", (unsigned)getuid());
	if (set_preload(shim) != 0 || setenv("TRACK_RUN_ID", idbuf, 1) != 0 ||
	    setenv("TRACK_RUN_UID", uidbuf, 1) != 0 ||
	    set_check_env(o) != 0) {
		track_error("cannot set up the environment: %s", strerror(errno));
		return TRACK_EXIT_FAIL;
	}
	/* checked as the program gets them: what an option or the run sets is not refused */
	if ((rc = track_check_env()) != 0)
		return rc;
	if (check_writable(o->output) != 0 || check_writable(o->json) != 0)
		return TRACK_EXIT_FAIL;
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = spawn(argv, &old_int, &old_quit, &exec_errno);
	if (pid < 0) {
		track_error("cannot start %s: %s", argv[0], strerror(errno));
		return TRACK_EXIT_FAIL;
	}
	child_pid = pid;
	fwd.sa_handler = forward;
	sigaction(SIGTERM, &fwd, NULL);
	sigaction(SIGHUP, &fwd, NULL);
	sigaction(SIGUSR1, &fwd, NULL);
	sigaction(SIGUSR2, &fwd, NULL);
	if (o->timeout_ns || o->dump_signal)
		watch_child(pid, o, &timed_out);
	status = wait_child(pid, &ex);
	if (exec_errno != 0) {
		track_error("cannot run %s: %s", argv[0], strerror(exec_errno));
		return exec_errno == ENOENT ? TRACK_EXIT_NOTFOUND : TRACK_EXIT_NOEXEC;
	}
	if (status < 0) {
		track_error("lost track of process %d: %s", (int)pid, strerror(errno));
		return TRACK_EXIT_FAIL;
	}
	c.primary = pid;
	track_seg_each(collect_visit, &c);
	track_seg_each_other_user(collect_visit, &c);   /* root: processes that changed user */
	rc = report(&c, o, argv[0], &ex, supp, &untraced);
	track_sweep_old(NULL, NULL, NULL);
	if (rc < 0)
		return TRACK_EXIT_FAIL;
	if (timed_out)
		return TRACK_EXIT_TIMEOUT;
	if (rc > 0 && o->error_exitcode)
		return o->error_exitcode;
	/* a run that checked nothing must not pass a check */
	return untraced && o->error_exitcode && !o->allow_untraced ? TRACK_EXIT_UNTRACED : status;
}

int track_cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	struct track_suppressions *supp = NULL;
	char err[512];
	int first = 0, rc;

	rc = parse_opts(argc, argv, &o, &first);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	/* a bad suppressions file is found before the program runs, not after */
	if (track_supp_open(o.suppressions, track_finding_kind, &supp, err, sizeof err) != 0) {
		track_error("%s", err);
		return TRACK_EXIT_USAGE;
	}
	rc = run_and_report(&o, argv + first, supp);
	track_supp_free(supp);
	return rc;
}

/*
 * remote_unwind.c — stacks of all threads of a live process (see remote_unwind.h).
 *
 * How it goes, and why:
 *
 * 1. The module list is reported once (dwfl_linux_proc_report) and libdwfl is attached with
 *    our own Dwfl_Thread_Callbacks, so that libdwfl never stops anything itself: elfutils'
 *    own attach (dwfl_linux_proc_attach) uses PTRACE_ATTACH, which costs a SIGSTOP round
 *    trip per thread, and reads memory one word per PTRACE_PEEKDATA.
 *
 * 2. Threads are taken one at a time.  A sleeping thread (blocked in a system call, or
 *    stopped) is first read where it sleeps, without stopping it (x86_64): the kernel gives
 *    its user sp and pc in /proc/PID/task/TID/syscall, the top of its stack is copied with
 *    process_vm_readv, and its /proc/PID/task/TID/schedstat, unchanged from before to
 *    after, proves it did not run meanwhile.  The other registers are unknown then, so the
 *    walk is kept only if it reaches a frame that the CFI marks as the outermost (_start,
 *    clone3); otherwise, as for a running thread, the thread is stopped:
 *
 * 3. PTRACE_SEIZE (does not stop it), PTRACE_INTERRUPT, wait for the stop, copy the
 *    registers and the top of the stack (from just below the stack pointer to the end of
 *    its mapping, at most STACK_COPY bytes), the caller's hook (struct track_rhook: what it
 *    must read at the same instant), PTRACE_DETACH.  The thread is stopped only for that
 *    copy, never while we unwind; it is stopped again if the hook asks (it read something
 *    the thread was in the middle of changing).  A signal that arrived meanwhile
 *    (signal-delivery-stop) is handed back at detach; a thread that was in a group-stop
 *    (SIGSTOP) goes back to it.  A thread read in place (2.) has the hook called between
 *    its copy and the second schedstat reading.
 *
 * 4. The copy is unwound with libdwfl (CFI first, libdwfl's own fallbacks after) while the
 *    thread runs on.  libdwfl loads the CFI of each module once for all threads.  Reads
 *    outside the copy (a stack deeper than STACK_COPY, or CFI expressions reading other
 *    memory) go to the live process with process_vm_readv and may see memory that changed
 *    since.
 *
 * 5. /proc/PID/task is read again after the walk, and threads not seen before are taken
 *    the same way, until a pass finds nothing new (at most MAX_ROUNDS passes).
 *
 * What a stop costs is measured per thread, from the interrupt request to the return of
 * the detach, so it is an upper bound; a thread read without a stop has stopped_ns 0.
 * TRACK_STACKS_STOP_ALL (set, any value) makes every thread go the stop way: for tests,
 * and as a way out should reading in place ever misbehave.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/remote_unwind.h"
#include "core/symbolize.h"

#define STACK_COPY   (128 * 1024)  /* most of a stack copied while its thread is stopped */
#define RED_ZONE     128           /* x86_64 leaf functions may keep data below the sp */
#define MAX_ROUNDS   4             /* re-reads of the task list for new threads */
#define DEFAULT_FRAMES 256
#define STOP_TIMEOUT_NS  (1000ull * 1000 * 1000)  /* a thread that does not stop in 1 s */
#define DSLEEP_WAIT_NS   (100ull * 1000 * 1000)   /* wait for a thread to leave 'D' */
#define LET_RUN_NS       (2ull * 1000 * 1000)     /* wait for a thread let go to run */

#if defined(__x86_64__)
#define RU_NREGS 17        /* DWARF 0-16: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
#define RU_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define RU_NREGS 32        /* DWARF 0-31: x0-x30, sp; the pc is passed separately */
#define RU_MACHINE EM_AARCH64
#else
#define RU_NREGS 0
#endif

/* The callbacks' state, the dwfl_arg: lives as long as the Dwfl (freed by cb_detach). */
struct ru_ctx {
	pid_t pid;
	pid_t tid;                 /* thread whose copy is loaded; 0 when none */
	bool sp_pc_only;           /* only the sp and pc are known (read without a stop) */
	Dwarf_Word regs[RU_NREGS > 0 ? RU_NREGS : 1];
	Dwarf_Word pc;
	uint64_t (*maps)[2];       /* readable mappings [start, end), sorted, from the start */
	size_t nmaps;
	uint64_t stk_lo;           /* target address of stk[0] */
	size_t stk_len;            /* bytes of stk that hold the copy */
	unsigned char *stk;        /* STACK_COPY bytes */
	long pagesize;
	const struct track_rhook *hook;  /* the caller's, or NULL */
	size_t hook_i;             /* index of the thread being taken, for the hook */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { 0, ns };
	nanosleep(&ts, NULL);
}

/* The caller's hook, at the instant the thread whose copy is in c is held still (see
   struct track_rhook); settled when there is none. */
static bool hook_settled(const struct ru_ctx *c, pid_t tid)
{
	return c->hook == NULL || c->hook->at_stop(c->hook->arg, c->hook_i, tid, c->pc) != 0;
}

/* ---- libdwfl callbacks ---------------------------------------------------------------- */

/* The Dwfl handed back is for symbolizing: it lists no threads of its own. */
static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	(void)arg;
	(void)thread_argp;
	return 0;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct ru_ctx *c = arg;
	(void)dwfl;
	if (c->tid == 0 || tid != c->tid)
		return false;
	*thread_argp = c;
	return true;
}

static bool read_live(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct ru_ctx *c = arg;
	(void)dwfl;
	if (c->tid != 0 && addr >= c->stk_lo && addr - c->stk_lo <= c->stk_len &&
	    c->stk_len - (addr - c->stk_lo) >= sizeof *result) {
		memcpy(result, c->stk + (addr - c->stk_lo), sizeof *result);
		return true;
	}
	return read_live(c->pid, addr, result, sizeof *result);
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct ru_ctx *c = thread_arg;
#if defined(__x86_64__)
	if (c->sp_pc_only)
		return dwfl_thread_state_registers(thread, 7, 1, &c->regs[7]) &&
		       dwfl_thread_state_registers(thread, 16, 1, &c->regs[16]);
	return dwfl_thread_state_registers(thread, 0, RU_NREGS, c->regs);
#elif defined(__aarch64__)
	if (!dwfl_thread_state_registers(thread, 0, RU_NREGS, c->regs))
		return false;
	dwfl_thread_state_register_pc(thread, c->pc);
	return true;
#else
	(void)thread;
	(void)c;
	return false;
#endif
}

static void cb_detach(Dwfl *dwfl, void *arg)
{
	struct ru_ctx *c = arg;
	(void)dwfl;
	free(c->maps);
	free(c->stk);
	free(c);
}

static const Dwfl_Thread_Callbacks ru_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
	.detach = cb_detach,
	.thread_detach = NULL,
};

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* ---- /proc ------------------------------------------------------------------------------ */

/* Read a small /proc file into buf (NUL-terminated); bytes read, or -1 with errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	buf[n] = '\0';
	close(fd);
	return n;
}

struct proc_status {
	pid_t tgid, ppid, tracer;
	unsigned uid[3], gid[3];   /* real, effective, saved */
	int have_uid;
	unsigned long long capeff;
	int seccomp;
};

/* path: /proc/PID/status or /proc/PID/task/TID/status.  0, or errno. */
static int read_status(const char *path, struct proc_status *ps)
{
	char buf[4096], *l;
	memset(ps, 0, sizeof *ps);
	if (read_small(path, buf, sizeof buf) < 0)
		return errno;
	for (l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, "Tgid:", 5))
			ps->tgid = (pid_t)strtol(l + 5, NULL, 10);
		else if (!strncmp(l, "PPid:", 5))
			ps->ppid = (pid_t)strtol(l + 5, NULL, 10);
		else if (!strncmp(l, "TracerPid:", 10))
			ps->tracer = (pid_t)strtol(l + 10, NULL, 10);
		else if (!strncmp(l, "Uid:", 4))
			ps->have_uid = sscanf(l + 4, "%u %u %u", &ps->uid[0], &ps->uid[1],
					      &ps->uid[2]) == 3;
		else if (!strncmp(l, "Gid:", 4))
			(void)!sscanf(l + 4, "%u %u %u", &ps->gid[0], &ps->gid[1], &ps->gid[2]);
		else if (!strncmp(l, "CapEff:", 7))
			ps->capeff = strtoull(l + 7, NULL, 16);
		else if (!strncmp(l, "Seccomp:", 8))
			ps->seccomp = (int)strtol(l + 8, NULL, 10);
	}
	return 0;
}

/* Name and scheduler state of a thread from /proc/PID/task/TID/stat ("tid (comm) S ...";
   the name may itself hold ") ", hence the last one).  0, or errno. */
static int read_thread_stat(pid_t pid, pid_t tid, char name[16], char *state)
{
	char path[64], buf[512], *open_p, *close_p;
	size_t n;
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_small(path, buf, sizeof buf) < 0)
		return errno;
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p || close_p[1] != ' ')
		return EIO;
	n = (size_t)(close_p - open_p - 1);
	if (n > 15)
		n = 15;
	memcpy(name, open_p + 1, n);
	name[n] = '\0';
	*state = close_p[2];
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* The thread ids in /proc/PID/task, in directory order.  0, or errno. */
static int read_tids(pid_t pid, pid_t **tids, size_t *n)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	size_t cap = 64;
	pid_t *v;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	*tids = NULL;
	*n = 0;
	d = opendir(path);
	if (!d)
		return errno;
	v = malloc(cap * sizeof *v);
	if (!v) {
		closedir(d);
		return ENOMEM;
	}
	while ((e = readdir(d)) != NULL) {
		long t;
		char *end;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		t = strtol(e->d_name, &end, 10);
		if (*end || t <= 0)
			continue;
		if (*n == cap) {
			pid_t *nv = realloc(v, 2 * cap * sizeof *v);
			if (!nv) {
				free(v);
				closedir(d);
				return ENOMEM;
			}
			v = nv;
			cap *= 2;
		}
		v[(*n)++] = (pid_t)t;
	}
	closedir(d);
	*tids = v;
	return 0;
}

/* The readable mappings of pid from /proc/PID/maps (sorted there), into c->maps: they bound
   each stack copy at the end of the stack's mapping.  Failure only leaves c->maps empty. */
static void read_maps(struct ru_ctx *c)
{
	char path[64], *buf = NULL, *l, *nl;
	size_t len = 0, cap = 0, n = 0, mcap = 0;
	int fd;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)c->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		ssize_t r;
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + 262144);
			if (!nb)
				goto out;
			buf = nb;
			cap += 262144;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	for (l = buf; l < buf + len; l = nl + 1) {
		unsigned long long lo, hi;
		char perm[5];
		nl = strchr(l, '\n');
		if (!nl)
			nl = buf + len;
		if (sscanf(l, "%llx-%llx %4s", &lo, &hi, perm) != 3 || perm[0] != 'r')
			continue;
		if (n == mcap) {
			size_t nc = mcap ? 2 * mcap : 256;
			uint64_t (*v)[2] = realloc(c->maps, nc * sizeof *v);
			if (!v)
				break;
			c->maps = v;
			mcap = nc;
		}
		c->maps[n][0] = lo;
		c->maps[n][1] = hi;
		n++;
	}
	c->nmaps = n;
out:
	free(buf);
	close(fd);
}

/* The readable mapping holding addr: 1 with [*lo, *hi), or 0 if unknown. */
static int find_map(const struct ru_ctx *c, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	size_t a = 0, b = c->nmaps;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (addr < c->maps[m][0])
			b = m;
		else if (addr >= c->maps[m][1])
			a = m + 1;
		else {
			*lo = c->maps[m][0];
			*hi = c->maps[m][1];
			return 1;
		}
	}
	return 0;
}

/* ---- why ptrace said no ---------------------------------------------------------------- */

static bool is_descendant(pid_t pid)
{
	pid_t me = getpid();
	int depth;
	for (depth = 0; pid > 1 && depth < 4096; depth++) {
		char path[64];
		struct proc_status ps;
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
		if (read_status(path, &ps) != 0)
			return false;
		if (ps.ppid == me)
			return true;
		pid = ps.ppid;
	}
	return false;
}

static void thread_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	n = read_small(path, buf, len);
	if (n <= 0) {
		snprintf(buf, len, "?");
		return;
	}
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

/* One line in err saying why ptrace of pid (thread tid) was refused. */
static void explain_eperm(pid_t pid, pid_t tid, char *err, size_t len)
{
	char path[64], buf[64];
	struct proc_status ps, me;
	struct stat st;
	int scope = -1;
	bool cap, same_ids;
	uid_t uid = getuid();
	gid_t gid = getgid();

	snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (read_status(path, &ps) != 0) {
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
		(void)read_status(path, &ps);
	}
	read_status("/proc/self/status", &me);
	cap = (me.capeff >> 19) & 1;   /* CAP_SYS_PTRACE */
	if (read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof buf) > 0)
		scope = atoi(buf);

	if (ps.tracer > 0) {
		thread_comm(ps.tracer, buf, sizeof buf);
		snprintf(err, len, "process %d is already traced by process %d (%s) "
			 "(TracerPid in /proc/%d/status): only one tracer at a time",
			 (int)pid, (int)ps.tracer, buf, (int)tid);
		return;
	}
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	if (readlink(path, buf, sizeof buf) < 0 && errno == ENOENT) {
		snprintf(err, len, "process %d is a kernel thread: there is no user stack to "
			 "unwind", (int)pid);
		return;
	}
	if (scope == 3) {
		snprintf(err, len, "kernel.yama.ptrace_scope is 3 (/proc/sys/kernel/yama/"
			 "ptrace_scope): ptrace is disabled on this system until reboot");
		return;
	}
	same_ids = ps.have_uid && ps.uid[0] == uid && ps.uid[1] == uid && ps.uid[2] == uid &&
		   ps.gid[0] == gid && ps.gid[1] == gid && ps.gid[2] == gid;
	if (!cap && ps.have_uid && !same_ids) {
		snprintf(err, len, "process %d belongs to uid %u (you are uid %u) and you lack "
			 "CAP_SYS_PTRACE: run as that user or as root", (int)pid, ps.uid[0],
			 (unsigned)uid);
		return;
	}
	if (!cap && scope == 2) {
		snprintf(err, len, "kernel.yama.ptrace_scope is 2 (/proc/sys/kernel/yama/"
			 "ptrace_scope): only processes with CAP_SYS_PTRACE may ptrace; run as "
			 "root");
		return;
	}
	if (!cap && scope == 1 && !is_descendant(pid)) {
		snprintf(err, len, "kernel.yama.ptrace_scope is 1 (/proc/sys/kernel/yama/"
			 "ptrace_scope): only ancestors may ptrace a process; run as root, give "
			 "CAP_SYS_PTRACE, or set it to 0");
		return;
	}
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if (!cap && ps.have_uid && ps.uid[0] != 0 && stat(path, &st) == 0 && st.st_uid == 0) {
		snprintf(err, len, "process %d is not dumpable (set-user-ID, file capabilities "
			 "or PR_SET_DUMPABLE 0): tracing it needs CAP_SYS_PTRACE", (int)pid);
		return;
	}
	if (me.seccomp) {
		snprintf(err, len, "ptrace of process %d refused, and this process runs under "
			 "a seccomp filter (Seccomp: %d in /proc/self/status): a container "
			 "profile may forbid ptrace (docker: --cap-add=SYS_PTRACE)", (int)pid,
			 me.seccomp);
		return;
	}
	snprintf(err, len, "ptrace of process %d refused although owner and capabilities "
		 "allow it: a container or security policy (seccomp, AppArmor, SELinux) forbids "
		 "ptrace here", (int)pid);
}

/* ---- stopping one thread --------------------------------------------------------------- */

static void copy_stack(struct ru_ctx *c, uint64_t sp);

/* Registers and stack of a stopped thread into c.  0, or errno. */
static int copy_thread(struct ru_ctx *c, pid_t tid)
{
	uint64_t sp;
	c->sp_pc_only = false;
#if defined(__x86_64__)
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &r) != 0)
		return errno;
	c->regs[0] = r.rax;
	c->regs[1] = r.rdx;
	c->regs[2] = r.rcx;
	c->regs[3] = r.rbx;
	c->regs[4] = r.rsi;
	c->regs[5] = r.rdi;
	c->regs[6] = r.rbp;
	c->regs[7] = r.rsp;
	c->regs[8] = r.r8;
	c->regs[9] = r.r9;
	c->regs[10] = r.r10;
	c->regs[11] = r.r11;
	c->regs[12] = r.r12;
	c->regs[13] = r.r13;
	c->regs[14] = r.r14;
	c->regs[15] = r.r15;
	c->regs[16] = r.rip;
	c->pc = r.rip;
	sp = r.rsp;
#elif defined(__aarch64__)
	struct user_regs_struct r;
	struct iovec io = { &r, sizeof r };
	int i;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)(uintptr_t)NT_PRSTATUS, &io) != 0)
		return errno;
	for (i = 0; i < 31; i++)
		c->regs[i] = r.regs[i];
	c->regs[31] = r.sp;
	c->pc = r.pc;
	sp = r.sp;
#else
	(void)tid;
	return ENOTSUP;
#endif
	copy_stack(c, sp);
	return 0;
}

/* The top of the stack whose pointer is sp into c->stk. */
static void copy_stack(struct ru_ctx *c, uint64_t sp)
{
	uint64_t lo, a, end, mlo, mhi;
	struct iovec local, remote[STACK_COPY / 4096 + 2];
	int nr = 0;
	ssize_t got;

	/* From just below the sp (the red zone) to the end of the stack's mapping, at most
	   STACK_COPY bytes.  A stack not in the map read at the start (a thread started since)
	   is copied page by page, one remote iovec per page, so that the copy ends cleanly at
	   the first unreadable page (the guard page above a thread stack, the end of [stack]). */
	lo = sp > RED_ZONE ? sp - RED_ZONE : 0;
	end = lo + STACK_COPY;
	if (find_map(c, sp, &mlo, &mhi)) {
		if (lo < mlo)
			lo = mlo;
		if (end > mhi)
			end = mhi;
		remote[0].iov_base = (void *)(uintptr_t)lo;
		remote[0].iov_len = (size_t)(end - lo);
		nr = 1;
	} else {
		uint64_t mask = ~(uint64_t)(c->pagesize - 1);
		if ((lo & mask) != (sp & mask))
			lo = sp & mask;          /* the page below may be a guard page */
		for (a = lo; a < end && nr < (int)(sizeof remote / sizeof remote[0]); nr++) {
			uint64_t next = (a & mask) + (uint64_t)c->pagesize;
			if (next > end)
				next = end;
			remote[nr].iov_base = (void *)(uintptr_t)a;
			remote[nr].iov_len = (size_t)(next - a);
			a = next;
		}
		end = a;
	}
	local.iov_base = c->stk;
	local.iov_len = (size_t)(end - lo);
	got = process_vm_readv(c->pid, &local, 1, remote, (unsigned long)nr, 0);
	c->stk_lo = lo;
	c->stk_len = got > 0 ? (size_t)got : 0;
}

/* The scheduler's counters of a thread (/proc/PID/task/TID/schedstat: time run, time
   waited, times switched in): if they are unchanged, it has not run in between. */
static bool read_schedstat(const char *path, char *buf, size_t len)
{
	ssize_t n = read_small(path, buf, len);
	return n > 0 && buf[n - 1] == '\n';
}

/* The times switched in, the last field of a schedstat line; 0 if not counted. */
static unsigned long long switches_in(const char *line)
{
	const char *p = strrchr(line, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* The same of thread tid now, 0 if it cannot be read. */
static unsigned long long thread_switches_in(pid_t pid, pid_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	return read_schedstat(path, line, sizeof line) ? switches_in(line) : 0;
}

/* Copy a sleeping thread without stopping it: its user sp and pc as saved when it entered
   the kernel (/proc/PID/task/TID/syscall, which the kernel reads only while the thread is
   off the CPU) and its stack, with the thread's schedstat read before and after: unchanged,
   the thread did not run at all meanwhile, so the copy is as consistent as a stop would
   make it; the hook is called between the copy and the second reading, and is just as
   consistent with it.  Only x86_64, where return addresses are on the stack: on aarch64
   the link register, not exposed there, holds the innermost one.  0, or -1 (the thread
   runs, or moved during the copy, or the files are not there, or the hook's reading was
   not settled: stop it instead). */
static int peek_thread(struct ru_ctx *c, pid_t tid)
{
#if defined(__x86_64__)
	char path[64], before[128], after[128], sc[256], *p, *end;
	unsigned long long sp, pc;
	bool settled;
	int i;

	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)c->pid, (int)tid);
	if (!read_schedstat(path, before, sizeof before))
		return -1;
	/* Times switched in: 0 means the kernel does not count (no sched_info), and then an
	   unchanged line proves nothing. */
	if (switches_in(before) == 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)c->pid, (int)tid);
	if (read_small(path, sc, sizeof sc) <= 0)
		return -1;
	/* "NR ARG1..ARG6 SP PC" in a system call, "-1 SP PC" blocked elsewhere (a page fault,
	   a group stop), "running" otherwise. */
	p = sc;
	if (strtol(p, &end, 10) == -1 && end != p) {
		p = end;
	} else if (end != p) {
		p = end;
		for (i = 0; i < 6; i++) {
			strtoull(p, &end, 16);
			if (end == p)
				return -1;
			p = end;
		}
	} else {
		return -1;                  /* "running" */
	}
	sp = strtoull(p, &end, 16);
	if (end == p)
		return -1;
	p = end;
	pc = strtoull(p, &end, 16);
	if (end == p || sp == 0 || pc == 0)
		return -1;
	c->regs[7] = sp;
	c->regs[16] = pc;
	c->pc = pc;
	c->sp_pc_only = true;
	copy_stack(c, sp);
	settled = hook_settled(c, tid);
	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)c->pid, (int)tid);
	if (!read_schedstat(path, after, sizeof after) || strcmp(before, after) != 0 || !settled)
		return -1;
	return 0;
#else
	(void)c;
	(void)tid;
	return -1;
#endif
}

/* Wait until tid reports a stop.  0 (stopped, *status set), ESRCH (it exited, and is
   reaped), or ETIMEDOUT.  Polls (WNOHANG) rather than blocking, so that a thread that never
   stops cannot hang us; the first microseconds yield instead of sleeping, as a blocked
   thread usually reaches the stop within them. */
static int wait_stop(pid_t tid, int *status, uint64_t t0)
{
	for (;;) {
		uint64_t t;
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);
		if (r == tid) {
			if (WIFSTOPPED(*status))
				return 0;
			if (WIFEXITED(*status) || WIFSIGNALED(*status))
				return ESRCH;
			continue;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ESRCH;        /* ECHILD: no longer ours to wait for */
		}
		t = now_ns() - t0;
		if (t > STOP_TIMEOUT_NS)
			return ETIMEDOUT;
		if (t < 200 * 1000)
			sched_yield();
		else
			sleep_ns(t < 5000000 ? 20000 : 1000000);
	}
}

/* Stop tid, copy it, call the hook, resume it.  0, or errno: ESRCH (gone), EPERM
   (refused), ETIMEDOUT (did not stop: left attached with the stop pending, see the
   header).  *t0, *ts, *t1: when the stop was requested, seen, and when the thread was
   resumed (*ts stays 0 if it was never seen stopped); *settled: what the hook said, and
   if it was not, *ran the times the thread had been switched in (see stop_until_settled). */
static int stop_copy_resume(struct ru_ctx *c, pid_t tid, uint64_t *t0, uint64_t *ts,
			    uint64_t *t1, bool *settled, unsigned long long *ran)
{
	int status = 0, sig, e, r;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
		return errno;
	*t0 = now_ns();
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
		/* Only fails if the thread is already gone: collect its exit. */
		(void)wait_stop(tid, &status, *t0);
		*t1 = now_ns();
		return ESRCH;
	}
	r = wait_stop(tid, &status, *t0);
	if (r != 0) {
		*t1 = now_ns();
		return r;
	}
	/* A signal-delivery-stop (event 0) came before our interrupt: give the signal back at
	   detach.  Interrupt and group stops (PTRACE_EVENT_STOP) carry nothing to give. */
	sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
	*ts = now_ns();
	e = copy_thread(c, tid);
	if (e == 0)
		*settled = hook_settled(c, tid);
	if (!*settled)
		*ran = thread_switches_in(c->pid, tid);
	if (ptrace(PTRACE_DETACH, tid, NULL, (void *)(uintptr_t)sig) != 0 && e == 0)
		e = errno;   /* ESRCH: killed while stopped (SIGKILL needs no resume) */
	*t1 = now_ns();
	return e;
}

/* ---- unwinding -------------------------------------------------------------------------- */

struct frame_acc {
	Dwfl *dwfl;
	uint64_t *pcs;
	int n, max;
	bool truncated, bad_pc, last_activation;
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct frame_acc *a = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation)) {
		a->bad_pc = true;
		return DWARF_CB_ABORT;
	}
	/* A return address lies in a module.  One that does not comes from libdwfl's last
	   resort when there is no CFI (following rbp as if it were a frame pointer), which in
	   code built without frame pointers yields garbage: stop there. */
	if (a->n > 0 && !activation && dwfl_addrmodule(a->dwfl, pc - 1) == NULL) {
		a->bad_pc = true;
		return DWARF_CB_ABORT;
	}
	if (a->n >= a->max) {
		a->truncated = true;
		return DWARF_CB_ABORT;
	}
	a->pcs[a->n++] = pc;
	a->last_activation = activation;
	return DWARF_CB_OK;
}

/* Does the CFI say that pc (of a frame; activation: not a return address) is the
   outermost frame: its return address column undefined, as at _start and clone3? */
static bool is_outermost(Dwfl *dwfl, Dwarf_Addr pc, bool activation)
{
	Dwarf_Addr at = activation ? pc : pc - 1, bias;
	Dwfl_Module *m = dwfl_addrmodule(dwfl, at);
	int k;
	for (k = 0; m && k < 2; k++) {
		Dwarf_CFI *cfi = k == 0 ? dwfl_module_eh_cfi(m, &bias) :
					  dwfl_module_dwarf_cfi(m, &bias);
		Dwarf_Frame *fr;
		Dwarf_Op mem[3], *ops;
		size_t nops;
		int ra;
		bool undefined;
		if (!cfi || dwarf_cfi_addrframe(cfi, at - bias, &fr) != 0)
			continue;
		ra = dwarf_frame_info(fr, NULL, NULL, NULL);
		undefined = ra >= 0 && dwarf_frame_register(fr, ra, mem, &ops, &nops) == 0 &&
			    nops == 0 && ops == mem;
		free(fr);
		return undefined;
	}
	return false;
}

/* Unwind the thread whose copy is in c into a (a->pcs, a->n).  With only sp and pc known
   (sp_pc_only), a frame whose rule needs another register ends the walk as if it were the
   outermost frame (libdwfl takes an uncomputable return address for the end of the
   stack), so such a walk counts only if it ended where the CFI says the stack ends.
   Returns true if the walk is to be believed. */
static bool unwind_copy(Dwfl *dwfl, struct ru_ctx *c, pid_t tid, struct frame_acc *a,
			int *r)
{
	a->n = 0;
	a->truncated = a->bad_pc = a->last_activation = false;
	c->tid = tid;
	*r = dwfl_getthread_frames(dwfl, tid, frame_cb, a);
	c->tid = 0;
	if (!c->sp_pc_only)
		return true;
	if (a->n == 0 || a->bad_pc)
		return false;
	return a->truncated ||
	       (*r == 0 && is_outermost(dwfl, a->pcs[a->n - 1], a->last_activation));
}

/* Keep the frames in a for th. */
static void keep_frames(struct track_rthread *th, const struct frame_acc *a, int r)
{
	if (a->truncated)
		th->error = E2BIG;
	else if (r != 0 || a->bad_pc || a->n == 0)
		th->error = EIO;
	if (a->n > 0) {
		th->pcs = malloc((size_t)a->n * sizeof *th->pcs);
		if (th->pcs) {
			memcpy(th->pcs, a->pcs, (size_t)a->n * sizeof *th->pcs);
			th->npcs = a->n;
		} else {
			th->error = ENOMEM;
		}
	}
}

/* ---- the whole walk --------------------------------------------------------------------- */

struct walk {
	pid_t pid;
	Dwfl *dwfl;
	struct ru_ctx *c;
	int max_frames;
	uint64_t *scratch;
	struct track_rstacks *out;
	size_t cap;
	int captured;            /* threads read so far, stopped or not */
	bool no_peek;            /* stop every thread (TRACK_STACKS_STOP_ALL set) */
	uint64_t first_stop, last_resume;
};

static struct track_rthread *new_thread(struct walk *w, pid_t tid)
{
	struct track_rstacks *o = w->out;
	if (o->nthreads == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 64;
		struct track_rthread *v = realloc(o->threads, nc * sizeof *v);
		if (!v)
			return NULL;
		o->threads = v;
		w->cap = nc;
	}
	memset(&o->threads[o->nthreads], 0, sizeof o->threads[0]);
	o->threads[o->nthreads].tid = tid;
	return &o->threads[o->nthreads++];
}

/* Wait, a little, until thread tid has been switched in more than ran times: it has run
   since it was let go (on a busy machine a thread let go may wait for a CPU, and stopping
   it again at once would find it where it was). */
static void let_run(pid_t pid, pid_t tid, unsigned long long ran)
{
	uint64_t t0 = now_ns();
	while (ran != 0 && thread_switches_in(pid, tid) <= ran && now_ns() - t0 < LET_RUN_NS)
		sched_yield();
}

/* Stop th, copy it and let it go, again while the hook says that what it read was not
   settled (TRACK_RHOOK_TRIES stops at most), letting it run in between to finish what it
   was doing.  0, or stop_copy_resume's error. */
static int stop_until_settled(struct walk *w, struct track_rthread *th)
{
	int e;
	bool settled;
	unsigned long long ran = 0;
	do {
		uint64_t t0 = 0, ts = 0, t1 = 0;
		if (th->stops > 0)
			let_run(w->pid, th->tid, ran);
		settled = true;
		e = stop_copy_resume(w->c, th->tid, &t0, &ts, &t1, &settled, &ran);
		if (t0 == 0)
			break;
		th->stops++;
		th->stopped_ns += t1 - t0;
		th->held_ns += ts ? t1 - ts : 0;
		if (w->first_stop == 0)
			w->first_stop = t0;
		w->last_resume = t1;
		if (t1 - t0 > w->out->max_stopped_ns)
			w->out->max_stopped_ns = t1 - t0;
	} while (e == 0 && !settled && th->stops < TRACK_RHOOK_TRIES);
	return e;
}

/* Take one thread.  Returns 0, or EPERM when ptrace is refused before any thread could be
   taken (the caller then gives up with a reason), or ENOMEM. */
static int take_thread(struct walk *w, pid_t tid)
{
	struct track_rthread *th = new_thread(w, tid);
	struct frame_acc a = { w->dwfl, w->scratch, 0, w->max_frames, false, false, false };
	char state = '?';
	uint64_t waited = 0;
	int e, r;

	if (!th)
		return ENOMEM;
	w->c->hook_i = (size_t)(th - w->out->threads);
	if (read_thread_stat(w->pid, tid, th->name, &state) != 0 || state == 'Z' ||
	    state == 'X' || state == 'x') {
		th->error = ESRCH;
		return 0;
	}
	/* Asleep: read it where it sleeps, without stopping it, if that gives a whole stack. */
	if (state != 'R' && !w->no_peek && peek_thread(w->c, tid) == 0 &&
	    unwind_copy(w->dwfl, w->c, tid, &a, &r)) {
		w->captured++;
		keep_frames(th, &a, r);
		return 0;
	}

	/* Uninterruptible sleep: the stop would wait for its end.  Wait for that here,
	   unattached, a little while. */
	while (state == 'D' && waited < DSLEEP_WAIT_NS) {
		sleep_ns(1000000);
		waited += 1000000;
		if (read_thread_stat(w->pid, tid, th->name, &state) != 0) {
			th->error = ESRCH;
			return 0;
		}
	}
	if (state == 'D') {
		th->error = ETIMEDOUT;
		return 0;
	}

	e = stop_until_settled(w, th);
	if (e == EPERM) {
		/* A thread that exited just now (a zombie) refuses too. */
		if (read_thread_stat(w->pid, tid, th->name, &state) != 0 || state == 'Z' ||
		    state == 'X' || state == 'x') {
			th->error = ESRCH;
			return 0;
		}
		th->error = EPERM;
		return w->captured == 0 ? EPERM : 0;
	}
	if (e != 0) {
		th->error = e;
		return 0;
	}
	w->captured++;
	unwind_copy(w->dwfl, w->c, tid, &a, &r);
	keep_frames(th, &a, r);
	return 0;
}

static bool seen_has(const pid_t *seen, size_t n, pid_t tid)
{
	return bsearch(&tid, seen, n, sizeof *seen, cmp_pid) != NULL;
}

/* Checks that need no ptrace: does the process exist, is it ours, can we unwind it. */
static int precheck(pid_t *pid, char *err, size_t errlen)
{
	char path[64];
	struct proc_status ps;
	unsigned char eh[EI_NIDENT + 4];
	int fd, e;

	snprintf(path, sizeof path, "/proc/%d/status", (int)*pid);
	e = read_status(path, &ps);
	if (e == ENOENT || e == ESRCH) {
		snprintf(err, errlen, "no such process: %d", (int)*pid);
		return ESRCH;
	}
	if (e != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		return e;
	}
	if (ps.tgid > 0 && ps.tgid != *pid)
		*pid = ps.tgid;          /* a thread id: take its process */
	/* Another tracer: threads read in place would not need ptrace, but those to stop
	   would be refused one by one; say it once, up front. */
	if (ps.tracer > 0) {
		explain_eperm(*pid, *pid, err, errlen);
		return EPERM;
	}
	if (*pid == getpid()) {
		snprintf(err, errlen, "process %d is this process: cannot stop its own threads",
			 (int)*pid);
		return EINVAL;
	}
	if (RU_NREGS == 0) {
		snprintf(err, errlen, "remote unwinding is not supported on this architecture");
		return ENOTSUP;
	}
	/* The executable's class and machine: libdwfl would pick an unwinder for it that
	   does not match the registers we read (a 32-bit process under a 64-bit kernel). */
	snprintf(path, sizeof path, "/proc/%d/exe", (int)*pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, eh, sizeof eh);
		close(fd);
		if (n == (ssize_t)sizeof eh && memcmp(eh, ELFMAG, SELFMAG) == 0) {
			uint16_t machine;
			memcpy(&machine, eh + EI_NIDENT + 2, sizeof machine);
			if (eh[EI_CLASS] != ELFCLASS64 || machine != RU_MACHINE) {
				snprintf(err, errlen, "process %d is not a 64-bit %s process: not "
					 "supported", (int)*pid,
					 RU_MACHINE == EM_X86_64 ? "x86_64" : "aarch64");
				return ENOTSUP;
			}
		}
	}
	return 0;
}

int track_remote_stacks(pid_t pid, int max_frames, struct track_rstacks *out, char *err,
			size_t errlen)
{
	return track_remote_stacks_hooked(pid, max_frames, NULL, out, err, errlen);
}

int track_remote_stacks_hooked(pid_t pid, int max_frames, const struct track_rhook *hook,
			       struct track_rstacks *out, char *err, size_t errlen)
{
	uint64_t start = now_ns();
	struct walk w;
	pid_t *list = NULL, *seen = NULL, *cur = NULL;
	size_t nlist = 0, nseen = 0, ncur, i;
	int e, round, dr;
	char dummy[1];

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	memset(out, 0, sizeof *out);
	if (pid <= 0) {
		snprintf(err, errlen, "no such process: %d", (int)pid);
		return ESRCH;
	}
	e = precheck(&pid, err, errlen);
	if (e)
		return e;

	memset(&w, 0, sizeof w);
	w.pid = pid;
	w.out = out;
	w.max_frames = max_frames <= 0 ? DEFAULT_FRAMES : max_frames > 65536 ? 65536 : max_frames;
	w.no_peek = getenv("TRACK_STACKS_STOP_ALL") != NULL;
	out->pid = pid;

	e = read_tids(pid, &list, &nlist);
	if (e || nlist == 0) {
		free(list);
		snprintf(err, errlen, "no such process: %d", (int)pid);
		return ESRCH;
	}

	/* Modules first, once for all threads. */
	w.scratch = malloc((size_t)w.max_frames * sizeof *w.scratch);
	w.c = calloc(1, sizeof *w.c);
	if (w.c)
		w.c->stk = malloc(STACK_COPY);
	if (!w.scratch || !w.c || !w.c->stk) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail_ctx;
	}
	w.c->pid = pid;
	w.c->hook = hook;
	w.c->pagesize = sysconf(_SC_PAGESIZE);
	read_maps(w.c);
	w.dwfl = dwfl_begin(&proc_callbacks);
	if (!w.dwfl) {
		e = EIO;
		snprintf(err, errlen, "libdwfl: %s", dwfl_errmsg(-1));
		goto fail_ctx;
	}
	dwfl_report_begin(w.dwfl);
	dr = track_dwfl_report_proc(w.dwfl, pid);
	dwfl_report_end(w.dwfl, NULL, NULL);
	if (dr != 0) {
		if (dr > 0 && (dr == ENOENT || dr == ESRCH)) {
			e = ESRCH;
			snprintf(err, errlen, "no such process: %d", (int)pid);
		} else if (dr > 0 && (dr == EACCES || dr == EPERM)) {
			e = EPERM;
			explain_eperm(pid, pid, err, errlen);
		} else {
			e = EIO;
			snprintf(err, errlen, "cannot read the modules of process %d: %s",
				 (int)pid, dr > 0 ? strerror(dr) : dwfl_errmsg(-1));
		}
		goto fail_ctx;
	}
	if (!dwfl_attach_state(w.dwfl, NULL, pid, &ru_callbacks, w.c)) {
		e = EIO;
		snprintf(err, errlen, "libdwfl cannot unwind process %d: %s", (int)pid,
			 dwfl_errmsg(-1));
		goto fail_ctx;
	}
	/* From here the Dwfl owns w.c (freed by cb_detach in dwfl_end). */

	cur = list;
	ncur = nlist;
	for (round = 0; round < MAX_ROUNDS && ncur > 0; round++) {
		pid_t *nseen_v;
		size_t nnew = 0;

		for (i = 0; i < ncur; i++) {
			e = take_thread(&w, cur[i]);
			if (e == EPERM) {
				explain_eperm(pid, cur[i], err, errlen);
				goto fail;
			}
			if (e) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
		}
		/* Remember what was taken; look for threads started meanwhile. */
		nseen_v = realloc(seen, (nseen + ncur) * sizeof *seen);
		if (!nseen_v) {
			e = ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		seen = nseen_v;
		memcpy(seen + nseen, cur, ncur * sizeof *cur);
		nseen += ncur;
		qsort(seen, nseen, sizeof *seen, cmp_pid);
		free(list);
		list = NULL;
		if (read_tids(pid, &list, &nlist) != 0)
			break;                       /* the process is gone */
		for (i = 0; i < nlist; i++)
			if (!seen_has(seen, nseen, list[i]))
				list[nnew++] = list[i];
		cur = list;
		ncur = nnew;
	}
	free(list);
	free(seen);
	free(w.scratch);

	out->dwfl = w.dwfl;
	for (i = 0; i < out->nthreads && out->threads[i].error == ESRCH; i++)
		;
	if (w.captured == 0 && i == out->nthreads) {
		/* Every thread vanished: the process exited under us. */
		track_rstacks_free(out);
		snprintf(err, errlen, "process %d exited before any thread could be read",
			 (int)pid);
		return ESRCH;
	}
	out->total_stopped_ns = w.last_resume - w.first_stop;
	out->wall_ns = now_ns() - start;
	return 0;

fail:
	free(list);
	free(seen);
	free(w.scratch);
	out->dwfl = w.dwfl;
	track_rstacks_free(out);
	return e;

fail_ctx:
	free(list);
	free(w.scratch);
	if (w.dwfl)
		dwfl_end(w.dwfl);
	if (w.c) {
		free(w.c->maps);
		free(w.c->stk);
		free(w.c);
	}
	memset(out, 0, sizeof *out);
	return e;
}

void track_rstacks_free(struct track_rstacks *s)
{
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->nthreads; i++)
		free(s->threads[i].pcs);
	free(s->threads);
	if (s->dwfl)
		dwfl_end(s->dwfl);
	memset(s, 0, sizeof *s);
}

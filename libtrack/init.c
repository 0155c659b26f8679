/*
 * init.c — bringing the shim up and down: resolving the real pthread functions, reading the
 * configuration from the environment, creating the segment, and the fork and exit hooks.
 *
 * Calls can arrive before the constructor has run (other libraries' constructors) or while
 * dlsym is resolving a symbol.  Mutex and rwlock calls never need resolving (they go to
 * glibc's exported __pthread_* aliases); the others resolve lazily through track__resolve().
 * Until the segment exists, every wrapper passes straight through.
 *
 * In a process that runs with privileges its caller does not have (setuid or setgid, file
 * capabilities: the kernel's AT_SECURE), the shim stays passive: it creates nothing and reads
 * no TRACK_* variable, since they come from the caller.  ld.so already ignores LD_PRELOAD
 * there; this covers programs linked with -ltrack.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "track/text.h"

struct track__global track__g;
struct track__real track__real;
__thread struct track__tls track__tls __attribute__((tls_model("initial-exec")));

static void *next_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The condvar functions exist in two versions; the current one is GLIBC_2.3.2. */
static void *next_cond_sym(const char *name)
{
	void *p = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
	return p ? p : dlsym(RTLD_NEXT, name);
}

void track__resolve(void)
{
	static int done;
	struct track__real r;
	if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		return;
	memset(&r, 0, sizeof r);
#define R(field, name) r.field = next_sym(name)
	R(create, "pthread_create");
	R(join, "pthread_join");
	R(tryjoin_np, "pthread_tryjoin_np");
	R(timedjoin_np, "pthread_timedjoin_np");
	R(clockjoin_np, "pthread_clockjoin_np");
	R(detach, "pthread_detach");
	R(cancel, "pthread_cancel");
	R(exit, "pthread_exit");
	R(setname_np, "pthread_setname_np");
	R(mutex_timedlock, "pthread_mutex_timedlock");
	R(mutex_clocklock, "pthread_mutex_clocklock");
	R(rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
	R(rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
	R(rwlock_clockrdlock, "pthread_rwlock_clockrdlock");
	R(rwlock_clockwrlock, "pthread_rwlock_clockwrlock");
	R(cond_clockwait, "pthread_cond_clockwait");
	R(spin_init, "pthread_spin_init");
	R(spin_destroy, "pthread_spin_destroy");
	R(spin_lock, "pthread_spin_lock");
	R(spin_trylock, "pthread_spin_trylock");
	R(spin_unlock, "pthread_spin_unlock");
	R(sem_init, "sem_init");
	R(sem_destroy, "sem_destroy");
	R(sem_wait, "sem_wait");
	R(sem_trywait, "sem_trywait");
	R(sem_timedwait, "sem_timedwait");
	R(sem_clockwait, "sem_clockwait");
	R(sem_post, "sem_post");
	R(barrier_wait, "pthread_barrier_wait");
	R(barrier_init, "pthread_barrier_init");
	R(barrier_destroy, "pthread_barrier_destroy");
#undef R
	r.cond_init = next_cond_sym("pthread_cond_init");
	r.cond_destroy = next_cond_sym("pthread_cond_destroy");
	r.cond_wait = next_cond_sym("pthread_cond_wait");
	r.cond_timedwait = next_cond_sym("pthread_cond_timedwait");
	r.cond_signal = next_cond_sym("pthread_cond_signal");
	r.cond_broadcast = next_cond_sym("pthread_cond_broadcast");
	/* Several threads may race here before the constructor: each computes the same table. */
	track__real = r;
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}

/* A TRACK_* variable, or NULL.  secure_getenv: never in a privileged process (see above). */
const char *track__env(const char *name)
{
	return secure_getenv(name);
}

/* Say once, on stderr and in the segment's env_bad, that variable v's value was not used. */
static void env_refused(enum track_env_var v, const char *value)
{
	const char *const *names = track_env_choices(v);
	const struct track_env_spec *sp = track_env_spec(v);
	char line[512], allowed[160], shown[72];
	size_t n, k = 0;
	int i;
	if (track__g.env_bad & (1ull << v))
		return;
	track__g.env_bad |= 1ull << v;
	/* a variable read after the segment was made (TRACK_STALL, by the watchdog's set-up)
	 * is recorded in its header too, for the report to say */
	if (track__g.hdr != NULL)
		__atomic_or_fetch(&track__g.hdr->env_bad, 1ull << v, __ATOMIC_RELAXED);
	/* the value as it can be shown in one line: cut, escaped (a newline, an escape
	 * sequence, bytes not UTF-8 must not reach the program's stderr raw) */
	track_text_clean(shown, sizeof shown, value);
	if (names != NULL) {
		for (i = 0; names[i] != NULL; i++)
			k += track__format(allowed + k, sizeof allowed - k, "%s%s", i ? ", " : "",
					   names[i]);
	} else if (track_env_type_words(sp->type) != NULL) {
		track__format(allowed, sizeof allowed, "%s", track_env_type_words(sp->type));
	} else {
		track__format(allowed, sizeof allowed, "a number from %llu to %llu",
			      (unsigned long long)sp->lo, (unsigned long long)sp->hi);
	}
	n = track__format(line, sizeof line, "libtrack: %s=%s is not valid (%s); using the "
			  "default\n", sp->name, shown, allowed);
	line[n - 1] = '\n';   /* cut short or not, one whole line */
	if (write(2, line, n) < 0)
		return;
}

/* Variable v's number (a duration in ns, a signal's number), or its default when it is unset
 * or not valid (said). */
uint64_t track__env_num(enum track_env_var v)
{
	const struct track_env_spec *sp = track_env_spec(v);
	const char *s = track__env(sp->name);
	uint64_t n;
	if (s == NULL || *s == '\0')
		return sp->dflt;
	if (track_env_parse(v, s, &n) == 0)
		return n;
	env_refused(v, s);
	return sp->dflt;
}

/* The index of variable v's value among track_env_choices(v), or -1 when it is unset or not
 * valid (said). */
int track__env_pick(enum track_env_var v)
{
	const char *s = track__env(track_env_spec(v)->name);
	int i;
	if (s == NULL || *s == '\0')
		return -1;
	i = track_env_choice_index(s, track_env_choices(v));
	if (i < 0)
		env_refused(v, s);
	return i;
}

/* One line on stderr when the shim cannot do what it was asked ("libtrack: what: detail"),
 * written with one write(2): no stdio, whose locks and buffers are the program's. */
void track__warn(const char *what, const char *detail)
{
	char line[TRACK_SEGFILE_PATH_MAX + 256], shown[TRACK_SEGFILE_PATH_MAX];
	size_t n;
	track_text_clean(shown, sizeof shown, what);   /* a path from TRACK_DIR: any bytes */
	n = track__format(line, sizeof line, "libtrack: %s%s%s; this process is not traced\n",
			  shown, detail ? ": " : "", detail ? detail : "");
	line[n - 1] = '\n';   /* cut short or not, one whole line */
	if (write(2, line, n) < 0)
		return;
}

/*
 * fork.  Other libraries' fork handlers run between ours and fork itself (prepare handlers
 * in the reverse order of registration, so ours first; child and parent handlers in order,
 * so those of libraries loaded before the shim, jemalloc's say, before ours).  While they
 * run, the forking thread passes through the shim: it holds no state (the hot paths see no
 * thread) and is busy (the slow paths pass), so in the child nothing touches the parent's
 * segment or waits for a shim lock another parent thread held at fork.
 */
static void track__atfork_prepare(void)
{
	struct track__tls *t = &track__tls;
	t->busy++;
	t->forking = t->self;
	t->self = NULL;
}

static void track__atfork_parent(void)
{
	struct track__tls *t = &track__tls;
	t->self = t->forking;
	t->forking = NULL;
	t->busy--;
}

/* The child's new segment is made with open() and friends, which are cancellation points:
 * a cancel pending in the forking thread must not act inside the shim. */
static void track__atfork_child(void)
{
	struct track__tls *t = &track__tls;
	int saved = errno, state;
	t->self = t->forking;
	t->forking = NULL;
	if (track__g.on) {   /* it lowers busy itself, once the child's state is ready */
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
		track__threads_after_fork();
		if (track__g.on)
			track__watchdog_after_fork();
		pthread_setcancelstate(state, NULL);
	} else {
		t->busy--;
	}
	errno = saved;
}

static void track__shutdown(void)
{
	if (track__g.on) {
		struct track__thread *t = track__tls.self;
		if (t != NULL)   /* exit(), or a return from main, with locks held */
			track__note_exit_holding(t, "called exit()");
		track__exit_holding_review(track__now_ns());
		track__segment_mark_exit(TRACK_PS_EXITED, 0);
		track__fds_at_end();
		track__segment_collect_self();
	}
}

/* End the process now, as _exit does, without going through the wrapper below. */
void track__exit_now(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}

/*
 * _exit and _Exit end the process without exit()'s destructors: without these wrappers the
 * segment would say the process was killed, and its main thread outlived it.  A vfork child
 * calls _exit in its parent's memory, mapping included: only the segment's own process
 * marks it (getpid() is the caller's real pid; glibc caches none).  A segment with nothing
 * in it worth keeping goes, as at exit(): shells (dash) end with _exit.
 */
static void quick_exit_mark(int status)
{
	if (__atomic_load_n(&track__g.on, __ATOMIC_ACQUIRE) && track__g.hdr != NULL &&
	    track__g.hdr->pid == getpid()) {
		TRACK__KEEP_ERRNO(track__exit_holding_review(track__now_ns()));
		TRACK__KEEP_ERRNO(track__segment_mark_exit(TRACK_PS_QUICK_EXIT, status));
		TRACK__KEEP_ERRNO(track__fds_at_end());
		TRACK__KEEP_ERRNO(track__segment_collect_self());
	}
}

TRACK_EXPORT void _exit(int status)
{
	quick_exit_mark(status);
	track__exit_now(status);
}

TRACK_EXPORT void _Exit(int status)
{
	quick_exit_mark(status);
	track__exit_now(status);
}

__attribute__((constructor(101))) static void track__init(void)
{
	int saved = errno;
	const char *off;
	int report;
	track__resolve();
	if (getauxval(AT_SECURE))
		goto out;   /* privileged: stay passive (see the top of this file) */
	off = track__env("TRACK_DISABLE");
	if (off != NULL && *off != '\0' && *off != '0')
		goto out;
	report = track__env_pick(TRACK_ENV_REPORT);
	track__g.report = report >= 0 ? (uint32_t)report : TRACK_RM_OFF;
	track__stacks_init();
	track__profile_init();
	track__order_init();
	track__deadlock_init();
	track__freed_init();
	if (track__segment_create() != 0 || track__threads_init() != 0)
		goto out;
	track__modules_scan();
	pthread_atfork(track__atfork_prepare, track__atfork_parent, track__atfork_child);
	__atomic_store_n(&track__g.on, 1, __ATOMIC_RELEASE);
	track__watchdog_init();
out:
	errno = saved;
}

/* A destructor, not atexit: it runs at exit() and never changes what exit paths do. */
__attribute__((destructor)) static void track__fini(void)
{
	TRACK__KEEP_ERRNO(track__shutdown());
}

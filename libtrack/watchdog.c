/*
 * watchdog.c — stall alerts, the thread limit and the dump signal: the shim's answers to "it
 * is stuck somewhere, say where" that no deadlock detector gives (a condvar nobody signals,
 * a semaphore nobody posts, a lock held by a thread that sleeps).
 *
 * TRACK_STALL=D: a thread blocked longer than D on a lock, condvar, join, semaphore or
 * barrier is a stall.  Nothing on a pthread path can see that (the thread is asleep in the
 * kernel), so when, and only when, TRACK_STALL or TRACK_DUMP_SIGNAL asks for it, the shim
 * starts one thread of its own, the watchdog: made with the real pthread_create, a small
 * stack, every signal blocked, named "track-watchdog", never registered (it is in no thread
 * record and no count; its tid is in the header so that tools can leave it out).  It wakes
 * every min(D/4, 1 s), reads the thread records as a tool does (sequence counters, no lock)
 * and records a stall finding once per wait (same record generation and wait start); stalls
 * of one wait stack on one object are one finding with a count, so an idle pool stays one
 * line.  It adds nothing to any wrapper: the waits are found from what the records already
 * hold (state, since_ns, wait_stack, the lock's owner, the owner's held_pc).
 *
 * TRACK_THREAD_LIMIT=N: the pthread_create that makes the live threads more than N records
 * one thread-limit finding with the creation sites of the most live threads; a compare on
 * the create path, the scan once.
 *
 * TRACK_DUMP_SIGNAL=SIG: a handler for SIG whose only work is async-signal-safe: a counter in
 * the header (dump_requests) and a futex wake.  `track run` watches the counter and dumps
 * the stacks itself (it may ptrace its child); without it (no run id), the watchdog writes
 * what the shim knows to stderr with write(2): each thread, its state, what it waits on and
 * for how long, its wait stack symbolized with dladdr (in the watchdog, never the handler).
 *
 * After fork the child has no watchdog (threads do not survive fork): one is started again.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define WATCHDOG_STACK (128u << 10)
#define SITES_MAX 64u          /* distinct creation sites the thread-limit scan keeps apart */

static struct {
	uint64_t stall_ns, period_ns;
	int signal;
	uint32_t wake;             /* futex word: the signal handler bumps it */
	uint64_t dumps_done;       /* dump_requests answered */
	struct seen { uint64_t gen, since; } *seen;  /* per thread slot: the wait last reported */
	uint32_t seen_len;
	int limit_fired;
} wd;

static int32_t sys_gettid(void)
{
	return (int32_t)syscall(SYS_gettid);
}

/* A consistent copy of a thread record, read as the tools read it; 0 if it kept changing. */
static int read_thread(const struct track_thread_rec *r, struct track_thread_rec *out)
{
	int tries;
	for (tries = 0; tries < 8; tries++) {
		uint32_t s = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (TRACK_SEQ_WRITING(s))
			continue;
		memcpy(out, r, sizeof *out);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) == s)
			return 1;
	}
	return 0;
}

static int state_blocked(uint32_t state)
{
	return state >= TRACK_TS_MUTEX && state <= TRACK_TS_BARRIER;
}

/* The tid of the live thread whose pthread_t is th, 0 if none is known: a join records the
 * joined thread's tid only if it had started by then. */
static int32_t tid_of_pthread(uint64_t th)
{
	uint64_t i, n = TRACK_LOAD(&track__g.hdr->threads_used);
	for (i = 0; i < n; i++) {
		const struct track_thread_rec *r = &track__g.threads[i];
		uint32_t st = TRACK_LOAD(&r->state);
		if (TRACK_LOAD(&r->pthread_self) == th && st != TRACK_TS_EXITED &&
		    st != TRACK_TS_UNUSED)
			return TRACK_LOAD(&r->tid);
	}
	return 0;
}

/* --- stalls --------------------------------------------------------------------------------- */

/* What the thread a stalled thread waits for was doing: the lock's owner or the thread
 * joined, its state, its own wait, where it took the lock. */
static void stall_other(const struct track_thread_rec *c, struct track_finding_rec *f)
{
	const struct track_obj_rec *o = NULL;
	const struct track_thread_rec *live;
	struct track_thread_rec other;
	uint32_t idx = c->wait_obj_idx, i, n;
	int32_t tid = 0;
	if (idx >= 1 && idx <= track__g.hdr->max_objects &&
	    TRACK_LOAD(&track__g.objs[idx - 1].addr) == c->wait_obj)
		o = &track__g.objs[idx - 1];
	if (c->state == TRACK_TS_JOIN)
		tid = c->wait_tid != 0 ? c->wait_tid : tid_of_pthread(c->wait_obj);
	else if (o != NULL &&
		 (c->state == TRACK_TS_MUTEX || c->state == TRACK_TS_SPIN ||
		  c->state == TRACK_TS_RWLOCK_RD || c->state == TRACK_TS_RWLOCK_WR))
		tid = TRACK_LOAD(&o->owner_tid);
	if (tid <= 0 || (live = track__thread_by_tid(tid)) == NULL || !read_thread(live, &other) ||
	    other.tid != tid)
		return;
	f->other_tid = tid;
	f->edges[TRACK_STALL_OTHER_STATE] = other.state;
	if (state_blocked(other.state)) {
		f->other_stack = other.wait_stack;
		f->objs[TRACK_STALL_OTHER_OBJ] = other.wait_obj;
	}
	n = other.nheld < TRACK_HELD_MAX ? other.nheld : TRACK_HELD_MAX;
	for (i = 0; o != NULL && i < n; i++)
		if ((other.held[i] & ~TRACK_HELD_READ) == idx)
			f->objs[TRACK_STALL_OTHER_PC] = other.held_pc[i];
}

static uint32_t obj_kind_of(const struct track_thread_rec *c)
{
	static const uint8_t kinds[TRACK_TS_COUNT] = {
		[TRACK_TS_MUTEX] = TRACK_OBJ_MUTEX, [TRACK_TS_RWLOCK_RD] = TRACK_OBJ_RWLOCK,
		[TRACK_TS_RWLOCK_WR] = TRACK_OBJ_RWLOCK, [TRACK_TS_SPIN] = TRACK_OBJ_SPIN,
		[TRACK_TS_COND] = TRACK_OBJ_COND, [TRACK_TS_SEM] = TRACK_OBJ_SEM,
		[TRACK_TS_BARRIER] = TRACK_OBJ_BARRIER,
	};
	return c->state < TRACK_TS_COUNT ? kinds[c->state] : TRACK_OBJ_NONE;
}

static void stall_record(const struct track_thread_rec *c, uint64_t now)
{
	static const char *const verbs[] = {TRACK_THREAD_STATES(TRACK__X_VERB)};
	struct track_finding_rec f;
	size_t n;
	memset(&f, 0, sizeof f);
	f.kind = TRACK_FK_STALL;
	f.severity = TRACK_SEV_WARNING;
	f.tid = c->tid;
	f.stack = c->wait_stack;
	if (c->wait_stack >= 1 && c->wait_stack <= track__g.hdr->max_stacks)
		f.pc = TRACK_LOAD(&track__g.stacks[c->wait_stack - 1].frames[0]);
	f.obj = c->wait_obj;
	f.obj_kind = obj_kind_of(c);
	f.edges[TRACK_STALL_WAITER_STATE] = c->state;
	f.objs[TRACK_STALL_SINCE] = c->since_ns;
	f.objs[TRACK_STALL_THRESHOLD] = wd.stall_ns;
	stall_other(c, &f);
	/* one finding per wait stack and object: the same stall again only counts */
	f.signature = track_hash_bits(c->wait_obj * 31u + c->wait_stack + TRACK_FK_STALL, 64);
	if (c->state == TRACK_TS_JOIN)
		track__format(f.text, sizeof f.text, "thread %d joining thread %d", c->tid,
			      f.other_tid);
	else
		track__format(f.text, sizeof f.text, "thread %d %s %p", c->tid,
			      verbs[c->state < TRACK_TS_COUNT ? c->state : 0],
			      (void *)(uintptr_t)c->wait_obj);
	n = strlen(f.text);
	track__format(f.text + n, sizeof f.text - n, " for %llu ms (longer than %llu ms)",
		      (unsigned long long)((now - c->since_ns) / TRACK_NS_MS),
		      (unsigned long long)(wd.stall_ns / TRACK_NS_MS));
	track__finding_put(&f);
}

/* Every thread blocked longer than the threshold, each wait once. */
static void stall_scan(void)
{
	uint64_t now = track__now_ns(), i, n = TRACK_LOAD(&track__g.hdr->threads_used);
	struct track_thread_rec c;
	for (i = 0; i < n && i < wd.seen_len; i++) {
		const struct track_thread_rec *r = &track__g.threads[i];
		uint64_t since = TRACK_LOAD(&r->since_ns);
		if (!state_blocked(TRACK_LOAD(&r->state)) || now - since < wd.stall_ns ||
		    (wd.seen[i].since == since && wd.seen[i].gen == TRACK_LOAD(&r->gen)))
			continue;
		if (!read_thread(r, &c) || !state_blocked(c.state) || now - c.since_ns < wd.stall_ns)
			continue;
		wd.seen[i].since = c.since_ns;
		wd.seen[i].gen = c.gen;
		stall_record(&c, now);
	}
}

/* --- the dump without track run --------------------------------------------------------------- */

struct out {
	char buf[4096];
	size_t n;
};

static void out_flush(struct out *o)
{
	size_t done = 0;
	while (done < o->n) {
		long w = syscall(SYS_write, 2, o->buf + done, o->n - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	o->n = 0;
}

static void out_line(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (sizeof o->buf - o->n < 512)
		out_flush(o);
	va_start(ap, fmt);
	o->n += track__vformat(o->buf + o->n, sizeof o->buf - o->n, fmt, ap);
	va_end(ap);
}

/* One frame as dladdr knows it: "fn+0x1a (/lib/x.so)", or the module and offset. */
static void out_frame(struct out *o, int i, uint64_t pc)
{
	Dl_info info;
	if (dladdr((void *)(uintptr_t)(pc - 1), &info) != 0 && info.dli_fname != NULL) {
		if (info.dli_sname != NULL)
			out_line(o, "    #%d 0x%llx %s+0x%llx (%s)\n", i, (unsigned long long)pc,
				 info.dli_sname,
				 (unsigned long long)(pc - (uintptr_t)info.dli_saddr), info.dli_fname);
		else
			out_line(o, "    #%d 0x%llx (%s+0x%llx)\n", i, (unsigned long long)pc,
				 info.dli_fname, (unsigned long long)(pc - (uintptr_t)info.dli_fbase));
		return;
	}
	out_line(o, "    #%d 0x%llx\n", i, (unsigned long long)pc);
}

static void dump_thread(struct out *o, const struct track_thread_rec *c, uint64_t now)
{
	static const char *const verbs[] = {TRACK_THREAD_STATES(TRACK__X_VERB)};
	static const char *const kinds[] = {TRACK_OBJ_KINDS(TRACK__X_NAME)};
	char name[TRACK_NAME_MAX + 1];
	uint32_t i, n;
	memcpy(name, c->name, TRACK_NAME_MAX);
	name[TRACK_NAME_MAX] = '\0';
	out_line(o, "thread %d \"%s\": %s", c->tid, name, verbs[c->state]);
	if (c->state == TRACK_TS_JOIN)
		out_line(o, " %d", c->wait_tid);
	else if (state_blocked(c->state))
		out_line(o, " %p", (void *)(uintptr_t)c->wait_obj);
	out_line(o, " for %llu ms%s\n", (unsigned long long)((now - c->since_ns) / TRACK_NS_MS),
		 c->wait_flags & TRACK_WF_TIMED ? " (with a timeout)" : "");
	n = c->nheld < TRACK_HELD_MAX ? c->nheld : TRACK_HELD_MAX;
	for (i = 0; i < n; i++) {
		uint32_t idx = c->held[i] & ~TRACK_HELD_READ;
		const struct track_obj_rec *r = idx >= 1 && idx <= track__g.hdr->max_objects
							? &track__g.objs[idx - 1] : NULL;
		out_line(o, "  holds %s %p%s, taken at\n", r ? kinds[r->kind % TRACK_OBJ_KIND_COUNT]
							    : "lock",
			 (void *)(uintptr_t)(r ? r->addr : 0),
			 c->held[i] & TRACK_HELD_READ ? " (read)" : "");
		out_frame(o, 0, c->held_pc[i]);
	}
	if (state_blocked(c->state) && c->wait_stack >= 1 &&
	    c->wait_stack <= track__g.hdr->max_stacks) {
		const struct track_stack_rec *s = &track__g.stacks[c->wait_stack - 1];
		uint32_t k, nf = TRACK_LOAD(&s->nframes);
		out_line(o, "  waiting at\n");
		for (k = 0; k < nf && k < TRACK_STACK_DEPTH; k++)
			out_frame(o, (int)k, s->frames[k]);
	} else if (c->state == TRACK_TS_RUNNING) {
		out_line(o, "  (running: the shim records a stack only where a thread blocks)\n");
	}
}

/* What the shim knows of every live thread, to stderr: for a signal with no `track run`. */
static void dump_write(void)
{
	static struct out o;   /* the watchdog's own: its stack stays small */
	struct track_thread_rec c;
	uint64_t now = track__now_ns(), i, n = TRACK_LOAD(&track__g.hdr->threads_used);
	uint64_t alive = TRACK_LOAD(&track__g.hdr->threads_alive);
	o.n = 0;
	out_line(&o, "libtrack: pid %d: dump on signal %d: %llu threads alive (what the shim "
		 "recorded; `track stacks %d` stops each thread for its whole stack)\n",
		 track__g.hdr->pid, wd.signal, (unsigned long long)alive, track__g.hdr->pid);
	for (i = 0; i < n; i++) {
		if (!read_thread(&track__g.threads[i], &c) || c.state == TRACK_TS_UNUSED ||
		    c.state == TRACK_TS_EXITED || c.tid == 0)
			continue;
		dump_thread(&o, &c, now);
	}
	out_line(&o, "libtrack: pid %d: end of dump\n", track__g.hdr->pid);
	out_flush(&o);
}

/* --- the watchdog thread ------------------------------------------------------------------- */

static void *watchdog(void *arg)
{
	(void)arg;
	track__tls.gone = 1;   /* never registered: every wrapper passes it through */
	track__tls.busy = 1;
	prctl(PR_SET_NAME, "track-watchdog", 0, 0, 0);
	TRACK_STORE(&track__g.hdr->watchdog_tid, sys_gettid());
	for (;;) {
		uint32_t w = __atomic_load_n(&wd.wake, __ATOMIC_ACQUIRE);
		uint64_t asked = TRACK_LOAD(&track__g.hdr->dump_requests);
		struct timespec ts = {(time_t)(wd.period_ns / TRACK_NS_S),
				      (long)(wd.period_ns % TRACK_NS_S)};
		if (asked != wd.dumps_done) {
			wd.dumps_done = asked;
			if (track__g.hdr->run_id == 0)   /* else `track run` dumps it (cmd_run.c) */
				dump_write();
		}
		if (wd.stall_ns != 0)
			stall_scan();
		syscall(SYS_futex, &wd.wake, FUTEX_WAIT_PRIVATE, w, &ts, NULL, 0);
	}
	return NULL;
}

/* Async-signal-safe, and all it does: count the request, wake the watchdog. */
static void on_dump_signal(int sig)
{
	int saved = errno;
	struct track_seg_header *h = track__g.hdr;
	(void)sig;
	if (h != NULL)
		TRACK_ADD(&h->dump_requests, 1);
	__atomic_add_fetch(&wd.wake, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &wd.wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	errno = saved;
}

static void watchdog_start(void)
{
	pthread_attr_t a;
	pthread_t th;
	sigset_t all;
	wd.seen_len = track__g.hdr->max_threads;
	if (wd.seen == NULL)
		wd.seen = track__map_private((size_t)wd.seen_len * sizeof *wd.seen);
	else
		memset(wd.seen, 0, (size_t)wd.seen_len * sizeof *wd.seen);
	if (wd.seen == NULL || pthread_attr_init(&a) != 0)
		return;
	sigfillset(&all);
	pthread_attr_setstacksize(&a, WATCHDOG_STACK);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setsigmask_np(&a, &all);
	if (track__real.create(&th, &a, watchdog, NULL) != 0)
		track__warn("cannot start the watchdog thread", "no stall alerts or dumps");
	pthread_attr_destroy(&a);
}

/* The header's copy of the settings, in a new segment (at start, and after fork). */
static void header_settings(void)
{
	struct track_seg_header *h = track__g.hdr;
	h->stall_ns = wd.stall_ns;
	h->thread_limit = track__g.thread_limit;
	h->dump_signal = (uint32_t)wd.signal;
}

void track__watchdog_init(void)
{
	wd.stall_ns = track__env_num(TRACK_ENV_STALL);
	wd.signal = (int)track__env_num(TRACK_ENV_DUMP_SIGNAL);
	track__g.thread_limit = (uint32_t)track__env_num(TRACK_ENV_THREAD_LIMIT);
	wd.period_ns = wd.stall_ns != 0 && wd.stall_ns / 4 < TRACK_NS_S ? wd.stall_ns / 4
									 : TRACK_NS_S;
	header_settings();
	if (wd.signal > 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_dump_signal;
		sa.sa_flags = SA_RESTART;
		sigfillset(&sa.sa_mask);
		sigaction(wd.signal, &sa, NULL);
	}
	if (wd.stall_ns != 0 || (wd.signal > 0 && track__g.hdr->run_id == 0))
		watchdog_start();
}

/* In the child of fork, once its segment is ready: the settings in the new header, and a
 * watchdog of its own (the handler is inherited). */
void track__watchdog_after_fork(void)
{
	header_settings();
	wd.dumps_done = 0;
	wd.limit_fired = 0;
	if (wd.stall_ns != 0 || (wd.signal > 0 && track__g.hdr->run_id == 0))
		watchdog_start();
}

/* --- the thread limit ----------------------------------------------------------------------- */

struct site {
	uint32_t stack;
	uint64_t n;
};

/* The live threads by creation site, most first, into sites; returns how many sites and the
 * threads of the sites that did not fit in *other. */
static uint32_t sites_count(struct site *sites, uint64_t *other)
{
	uint64_t i, n = TRACK_LOAD(&track__g.hdr->threads_used);
	uint32_t ns = 0, k, j;
	*other = 0;
	for (i = 0; i < n; i++) {
		const struct track_thread_rec *r = &track__g.threads[i];
		uint32_t st = TRACK_LOAD(&r->state), stack = TRACK_LOAD(&r->create_stack);
		if (st == TRACK_TS_UNUSED || st == TRACK_TS_EXITED)
			continue;
		for (k = 0; k < ns && sites[k].stack != stack; k++)
			;
		if (k == ns && ns == SITES_MAX) {
			(*other)++;
			continue;
		}
		if (k == ns)
			sites[ns++] = (struct site){stack, 0};
		sites[k].n++;
	}
	for (k = 1; k < ns; k++)   /* insertion sort, most first: a few dozen at most */
		for (j = k; j > 0 && sites[j].n > sites[j - 1].n; j--) {
			struct site s = sites[j];
			sites[j] = sites[j - 1];
			sites[j - 1] = s;
		}
	return ns;
}

void track__thread_limit_crossed(struct track__thread *t, const struct track_thread_rec *thr)
{
	struct site sites[SITES_MAX];
	struct track_finding_rec f;
	uint64_t alive = TRACK_LOAD(&track__g.hdr->threads_alive), other;
	uint32_t ns, i;
	int zero = 0;
	if (alive <= track__g.thread_limit ||
	    !__atomic_compare_exchange_n(&wd.limit_fired, &zero, 1, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return;
	memset(&f, 0, sizeof f);
	f.kind = TRACK_FK_THREAD_LIMIT;
	f.severity = TRACK_SEV_WARNING;
	f.tid = t->tid;
	f.pc = thr->create_pc;
	f.stack = thr->create_stack;
	f.signature = TRACK_FK_THREAD_LIMIT;
	ns = sites_count(sites, &other);
	f.nitems = ns < TRACK_CYCLE_MAX ? ns : TRACK_CYCLE_MAX;
	for (i = 0; i < ns; i++) {
		if (i < f.nitems) {
			f.stacks[i] = sites[i].stack;
			f.objs[i] = sites[i].n;
		} else {
			other += sites[i].n;
		}
	}
	f.tids[TRACK_LIMIT_ALIVE] = (int32_t)alive;
	f.tids[TRACK_LIMIT_LIMIT] = (int32_t)track__g.thread_limit;
	f.tids[TRACK_LIMIT_OTHER] = (int32_t)other;
	track__format(f.text, sizeof f.text, "%llu threads alive, more than the limit of %u",
		      (unsigned long long)alive, track__g.thread_limit);
	track__finding_put(&f);
}

/*
 * leaks.c — the in-process leak API of include/track.h: snapshots of the threads alive, and
 * the check that the threads alive now were alive then, retried until a deadline so that
 * threads still winding down may end (goleak's loop).
 *
 * It reads the thread records the wrappers keep anyway, from the thread that asks: nothing
 * is added to any lock or thread path.  It is reached only through the one exported entry
 * point, track_api_get, which track.h finds at run time (so a program needs no -ltrack).
 * This is no pthread path, so it may allocate and sleep; which threads it reports, and how,
 * is in leakinfo.c.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "track.h"

#define DEFAULT_DEADLINE_MS 1000
#define DEFAULT_MAX_RETRY_MS 100

/* A thread as the snapshot knows it: a recycled record has a new generation. */
struct snap_ent {
	uint32_t slot;
	uint64_t gen;
};

struct track_snapshot {
	pid_t pid;          /* taken in this process: after fork, the records are another's */
	uint32_t n;
	struct track__fd_list fds;   /* descriptors open at the snapshot */
	int fds_taken;
	struct snap_ent ent[]; /* by slot, ascending */
};

/* Whether the shim records: its segment exists and TRACK_DISABLE is not set. */
static int shim_on(void)
{
	return __atomic_load_n(&track__g.on, __ATOMIC_ACQUIRE) && track__g.hdr != NULL;
}

/* Whether record slot is a live thread's, and its generation in *gen; re-read while its
 * writer is changing it. */
static int alive(uint32_t slot, uint64_t *gen)
{
	const struct track_thread_rec *r = &track__g.threads[slot];
	int tries;
	for (tries = 0; tries < 1000; tries++) {
		uint32_t seq = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE), state;
		state = TRACK_LOAD(&r->state);
		*gen = TRACK_LOAD(&r->gen);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!TRACK_SEQ_WRITING(seq) && TRACK_LOAD(&r->seq) == seq)
			return state != TRACK_TS_UNUSED && state != TRACK_TS_EXITED;
	}
	return 1;   /* written all the while: it is alive */
}

static uint32_t slots_used(void)
{
	uint64_t used = TRACK_LOAD(&track__g.hdr->threads_used);
	return used < track__g.hdr->max_threads ? (uint32_t)used : track__g.hdr->max_threads;
}

static int snapshot(track_snapshot_t **out)
{
	uint32_t used, i;
	struct track_snapshot *s;
	uint64_t gen;
	*out = NULL;
	if (!shim_on())
		return TRACK_ABSENT;
	used = slots_used();
	s = malloc(sizeof *s + (size_t)used * sizeof s->ent[0]);
	if (s == NULL)
		return TRACK_ERROR;
	s->pid = getpid();
	s->n = 0;
	s->fds = (struct track__fd_list){NULL, 0, 0, 0};
	s->fds_taken = track__fd_list_take(&s->fds) == 0;
	for (i = 0; i < used; i++)
		if (alive(i, &gen))
			s->ent[s->n++] = (struct snap_ent){i, gen};
	*out = s;
	return TRACK_OK;
}

static void snapshot_free(track_snapshot_t *s)
{
	if (s != NULL)
		free(s->fds.ent);
	free(s);
}

/* Whether the snapshot holds this thread (slot and generation). */
static int in_snapshot(const struct track_snapshot *s, uint32_t slot, uint64_t gen)
{
	uint32_t lo = 0, hi = s != NULL && s->pid == getpid() ? s->n : 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->ent[mid].slot == slot)
			return s->ent[mid].gen == gen;
		if (s->ent[mid].slot < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The slots of the threads alive now and not in snap, but self and those opts ignores,
 * into leaked[]; how many. */
static uint32_t new_threads(const struct track_snapshot *snap, const struct track_leak_opts *o,
			    int64_t self, uint32_t *leaked)
{
	uint32_t used = slots_used(), i, n = 0;
	uint64_t gen;
	for (i = 0; i < used; i++)
		if ((int64_t)i != self && alive(i, &gen) && !in_snapshot(snap, i, gen) &&
		    !track__leak_ignored(i, o))
			leaked[n++] = i;
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* goleak's loop: look() until it finds nothing or opts' deadline passes, pausing from 1 ms
 * doubling up to the retry cap; what the last look found. */
static uint32_t look_until_deadline(const struct track_leak_opts *o,
				    uint32_t (*look)(void *ctx), void *ctx)
{
	long deadline = o->deadline_ms > 0 ? o->deadline_ms : DEFAULT_DEADLINE_MS;
	long cap = o->max_retry_ms > 0 ? o->max_retry_ms : DEFAULT_MAX_RETRY_MS, pause = 1;
	uint64_t end = track__now_ns() + (uint64_t)deadline * 1000000u;
	uint32_t n;
	while ((n = look(ctx)) != 0) {
		uint64_t now = track__now_ns();
		long left = now < end ? (long)((end - now) / 1000000u) + 1 : 0;
		if (left == 0)
			break;
		sleep_ms(pause < left ? pause : left);
		pause = pause * 2 < cap ? pause * 2 : cap;
	}
	return n;
}

static const struct track_leak_opts no_opts;

struct thread_look {
	const struct track_snapshot *snap;
	const struct track_leak_opts *o;
	int64_t self;
	uint32_t *leaked;
};

static uint32_t look_threads(void *ctx)
{
	struct thread_look *l = ctx;
	return new_threads(l->snap, l->o, l->self, l->leaked);
}

static int check_leaks(const track_snapshot_t *snap, const struct track_leak_opts *opts,
		       char **report)
{
	struct thread_look l = {snap, opts != NULL ? opts : &no_opts, -1, NULL};
	uint64_t t0 = track__now_ns();
	struct track__thread *me;
	uint32_t n;
	if (!shim_on())
		return TRACK_ABSENT;
	me = track__self();   /* registers the caller if it never called into the shim */
	l.self = me != NULL ? (int64_t)me->slot : -1;
	l.leaked = malloc((size_t)track__g.hdr->max_threads * sizeof *l.leaked);
	if (l.leaked == NULL)
		return TRACK_ERROR;
	n = look_until_deadline(l.o, look_threads, &l);
	if (n != 0 && report != NULL)
		*report = track__leak_report(l.leaked, n, track__now_ns() - t0);
	free(l.leaked);
	return n == 0 ? TRACK_OK : TRACK_LEAKS;
}

struct fd_look {
	const struct track_snapshot *snap;
	struct track__fd_list now;
	uint32_t leaked;
};

static uint32_t look_fds(void *ctx)
{
	struct fd_look *l = ctx;
	if (track__fd_list_take(&l->now) != 0)
		return 0;
	l->leaked = track__fd_list_new_since(&l->now, &l->snap->fds);
	return l->leaked;
}

static int check_fd_leaks(const track_snapshot_t *snap, const struct track_leak_opts *opts,
			  char **report)
{
	struct fd_look l = {snap, {NULL, 0, 0, 0}, 0};
	uint64_t t0 = track__now_ns();
	if (!shim_on())
		return TRACK_ABSENT;
	if (snap == NULL || snap->pid != getpid() || !snap->fds_taken)
		return TRACK_ERROR;   /* no descriptors to compare with */
	look_until_deadline(opts != NULL ? opts : &no_opts, look_fds, &l);
	if (l.now.n == 0 && l.leaked == 0 && l.now.ent == NULL) {
		free(l.now.ent);
		return TRACK_ERROR;   /* could not list them */
	}
	if (l.leaked != 0 && report != NULL)
		*report = track__fd_list_report(&l.now, l.leaked, track__now_ns() - t0);
	free(l.now.ent);
	return l.leaked == 0 ? TRACK_OK : TRACK_LEAKS;
}

static const struct track_api api = {
	.version = TRACK_API_VERSION,
	.snapshot = snapshot,
	.check_leaks = check_leaks,
	.snapshot_free = snapshot_free,
	.queue_register = track__queue_register,
	.check_fd_leaks = check_fd_leaks,
};

/* The one exported name of the API: its table, for a caller of this version or an earlier
 * one (each version only adds members at the end). */
TRACK_EXPORT const struct track_api *track_api_get(unsigned version)
{
	return version >= 1 && version <= TRACK_API_VERSION ? &api : NULL;
}

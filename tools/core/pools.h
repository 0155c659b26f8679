/*
 * pools.h — threads grouped into pools, as the reports and the dashboard show them: threads
 * that run the same start routine and whose names follow one pattern ("worker-1" ..
 * "worker-8" are the pool "worker-*") are one pool.  For each: how many threads it has had,
 * how many are alive, running and blocked (on what kind of object), and the share of its
 * threads' lifetime spent blocked in wrapped calls (worker utilization is the rest).
 *
 * Lifetimes and waits run to the end of the view (track_view_end): a thread still alive, or
 * a wait still under way, counts up to then.  Threads whose records the shim reused are
 * counted through its tallies (track_pool_tally), so a pool's totals cover all its threads.
 */
#ifndef TRACK_POOLS_H
#define TRACK_POOLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

struct track_pool {
	uint64_t start_routine;             /* 0: threads the shim did not create (main);
					       TRACK_POOL_OTHER: the reused threads of pools
					       past the shim's tally table, summed */
	char pattern[TRACK_NAME_MAX + 1];   /* name with each run of digits as '*' */
	uint32_t order;                     /* when it was first met: tallies, then records */
	uint64_t threads;                   /* threads it has had: its records (exited ones
					       included) and those reused (its tally) */
	uint32_t alive, running;
	uint32_t in_state[TRACK_TS_COUNT];  /* alive threads in each state */
	uint64_t life_ns;                   /* its threads' lifetimes added up */
	uint64_t blocked_ns;                /* their time blocked in wrapped calls */
};

/* The pools of v, most threads first (then most blocked time); *out is malloc'd. */
size_t track_pools(const struct track_view *v, struct track_pool **out);

/* The share (0..1) of the pool's lifetime spent blocked; 0 for a pool with no lifetime. */
double track_pool_blocked_share(const struct track_pool *p);

/* The pool's start routine as a name: its function, "(main)" for threads the shim did not
 * start, "(other)" for the sum of pools past the shim's tally table, or its address when it
 * has no symbol. */
const char *track_pool_routine(struct track_view *v, const struct track_pool *p, char *buf,
			       size_t len);

/* Alive threads blocked (not running, not exited). */
uint32_t track_pool_blocked(const struct track_pool *p);

#endif /* TRACK_POOLS_H */

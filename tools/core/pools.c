/*
 * pools.c — threads grouped into pools by start routine and name pattern, with how much of
 * their lifetime they spent blocked (see pools.h).  One pass over the shim's tallies of
 * threads whose records it reused, one over the thread records; a small linear search over
 * the pools found so far (programs have few pools).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pools.h"

/* The pool of threads running routine under names of the pattern of name, added to pools
 * (room for one more) if new. */
static struct track_pool *pool_of(struct track_pool *pools, size_t *n, uint64_t routine,
				  const char *name)
{
	char pat[TRACK_NAME_MAX + 1];
	size_t i;
	track_name_pattern(name, TRACK_NAME_MAX, pat, sizeof pat);
	for (i = 0; i < *n; i++)
		if (pools[i].start_routine == routine && strcmp(pools[i].pattern, pat) == 0)
			return &pools[i];
	memset(&pools[*n], 0, sizeof pools[*n]);
	pools[*n].start_routine = routine;
	memcpy(pools[*n].pattern, pat, sizeof pat);
	pools[*n].order = (uint32_t)*n;
	return &pools[(*n)++];
}

static int pool_cmp(const void *a, const void *b)
{
	const struct track_pool *x = a, *y = b;
	if (x->threads != y->threads)
		return x->threads < y->threads ? 1 : -1;
	if (x->blocked_ns != y->blocked_ns)
		return x->blocked_ns < y->blocked_ns ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

size_t track_pools(const struct track_view *v, struct track_pool **out)
{
	const struct track_snap *s = v->snap;
	struct track_pool *pools = calloc((size_t)s->nthreads + s->ntallies + 1, sizeof *pools);
	struct track_end end;
	size_t n = 0;
	uint32_t i;
	*out = pools;
	if (pools == NULL)
		return 0;
	track_view_end(v, &end);
	for (i = 0; i < s->ntallies; i++) {   /* threads whose records were reused */
		const struct track_pool_tally *t = &s->tallies[i];
		struct track_pool *p = pool_of(pools, &n, t->start_routine,
					       t->start_routine == TRACK_POOL_OTHER ? "" : t->pattern);
		p->threads += t->threads;
		p->life_ns += t->life_ns;
		p->blocked_ns += t->blocked_ns;
	}
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *t = &s->threads[i];
		struct track_pool *p;
		uint64_t life, blocked;
		if (t->state == TRACK_TS_UNUSED || t->state >= TRACK_TS_COUNT ||
		    (t->state == TRACK_TS_EXITED && t->tid == 0))   /* never ran: its creation failed */
			continue;
		p = pool_of(pools, &n, t->start_routine, t->name);
		p->threads++;
		track_thread_times(t, end.mono_ns, &life, &blocked);
		p->life_ns += life;
		p->blocked_ns += blocked;
		if (t->state == TRACK_TS_EXITED || !track_thread_outlived(s, t))
			continue;
		p->alive++;
		p->running += t->state == TRACK_TS_RUNNING;
		p->in_state[t->state]++;
	}
	qsort(pools, n, sizeof *pools, pool_cmp);
	return n;
}

double track_pool_blocked_share(const struct track_pool *p)
{
	return p->life_ns > 0 ? (double)p->blocked_ns / (double)p->life_ns : 0.0;
}

uint32_t track_pool_blocked(const struct track_pool *p)
{
	return p->alive - p->running;
}

const char *track_pool_routine(struct track_view *v, const struct track_pool *p, char *buf,
			       size_t len)
{
	struct track_frame f[8];
	int n = p->start_routine && p->start_routine != TRACK_POOL_OTHER &&
			track_view_sym(v) != NULL
			? track_sym_lookup(track_view_sym(v), p->start_routine, 0, f, 8) : 0;
	if (p->start_routine == 0)
		snprintf(buf, len, "(main)");
	else if (p->start_routine == TRACK_POOL_OTHER)
		snprintf(buf, len, "(other)");
	else if (n > 0 && f[0].function != NULL)
		snprintf(buf, len, "%s", f[0].function);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)p->start_routine);
	return buf;
}

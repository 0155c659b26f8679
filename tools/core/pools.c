/*
 * pools.c — threads grouped into pools by start routine and name pattern, with how much of
 * their lifetime they spent blocked (see pools.h).  One pass over the thread records; a
 * small linear search over the pools found so far (programs have few pools).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pools.h"

const char *track_name_pattern(const char *name, size_t n, char *out, size_t len)
{
	size_t i, o = 0;
	int digits = 0;   /* inside a run of digits, already written as '*' */
	for (i = 0; i < n && name[i] != '\0' && o + 1 < len; i++) {
		int d = name[i] >= '0' && name[i] <= '9';
		if (!d || !digits)
			out[o++] = d ? '*' : name[i];
		digits = d;
	}
	out[o] = '\0';
	return out;
}

/* How long thread t lived by end, and how long it was blocked. */
static void thread_times(const struct track_thread_rec *t, uint64_t end, uint64_t *life,
			 uint64_t *blocked)
{
	uint64_t until = t->exited_ns ? t->exited_ns : end;
	*life = until > t->created_ns ? until - t->created_ns : 0;
	*blocked = t->wait_ns;
	if (t->state != TRACK_TS_RUNNING && t->state != TRACK_TS_EXITED && end > t->since_ns)
		*blocked += end - t->since_ns;   /* the wait under way, to the end */
	if (*blocked > *life)
		*blocked = *life;
}

static struct track_pool *pool_of(struct track_pool *pools, size_t *n,
				  const struct track_thread_rec *t, uint32_t idx)
{
	char pat[TRACK_NAME_MAX + 1];
	size_t i;
	track_name_pattern(t->name, TRACK_NAME_MAX, pat, sizeof pat);
	for (i = 0; i < *n; i++)
		if (pools[i].start_routine == t->start_routine && strcmp(pools[i].pattern, pat) == 0)
			return &pools[i];
	memset(&pools[*n], 0, sizeof pools[*n]);
	pools[*n].start_routine = t->start_routine;
	memcpy(pools[*n].pattern, pat, sizeof pat);
	pools[*n].first = idx;
	return &pools[(*n)++];
}

static int pool_cmp(const void *a, const void *b)
{
	const struct track_pool *x = a, *y = b;
	if (x->threads != y->threads)
		return x->threads < y->threads ? 1 : -1;
	if (x->blocked_ns != y->blocked_ns)
		return x->blocked_ns < y->blocked_ns ? 1 : -1;
	return x->first < y->first ? -1 : x->first > y->first;
}

size_t track_pools(const struct track_view *v, struct track_pool **out)
{
	const struct track_snap *s = v->snap;
	struct track_pool *pools = calloc(s->nthreads ? s->nthreads : 1, sizeof *pools);
	struct track_end end;
	size_t n = 0;
	uint32_t i;
	*out = pools;
	if (pools == NULL)
		return 0;
	track_view_end(v, &end);
	for (i = 0; i < s->nthreads; i++) {
		const struct track_thread_rec *t = &s->threads[i];
		struct track_pool *p;
		uint64_t life, blocked;
		if (t->state == TRACK_TS_UNUSED || t->state >= TRACK_TS_COUNT)
			continue;
		p = pool_of(pools, &n, t, i);
		p->threads++;
		thread_times(t, end.mono_ns, &life, &blocked);
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
	int n = p->start_routine && track_view_sym(v) != NULL
			? track_sym_lookup(track_view_sym(v), p->start_routine, 0, f, 8) : 0;
	if (p->start_routine == 0)
		snprintf(buf, len, "(main)");
	else if (n > 0 && f[0].function != NULL)
		snprintf(buf, len, "%s", f[0].function);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)p->start_routine);
	return buf;
}

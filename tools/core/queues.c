/*
 * queues.c — registered queues and the waiting queues of condvars, semaphores and barriers
 * (see queues.h).
 */
#include <stdlib.h>

#include "core/profile.h"
#include "core/queues.h"

size_t track_queue_rows(const struct track_snap *s, struct track_queue_row **out)
{
	size_t n = 0;
	uint32_t i;
	*out = NULL;
	if (s->nqueues == 0 || (*out = calloc(s->nqueues, sizeof **out)) == NULL)
		return 0;
	for (i = 0; i < s->nqueues; i++) {
		const struct track_queue_rec *q = &s->queues[i];
		struct track_queue_row *r = &(*out)[n];
		if (!q->valid)
			continue;
		r->rec = q;
		r->capacity = q->capacity;
		r->enqueued = q->enqueued;
		r->dequeued = q->dequeued;
		/* read apart, a dequeue may be seen before its enqueue */
		r->depth = r->enqueued > r->dequeued ? r->enqueued - r->dequeued : 0;
		r->high_water = q->high_water > r->depth ? q->high_water : r->depth;
		r->rejected = q->rejected;
		r->waits = q->waits;
		r->wait_ns = q->wait_ns;
		n++;
	}
	if (n == 0) {   /* callers free only rows they were given */
		free(*out);
		*out = NULL;
	}
	return n;
}

static int waitq_cmp(const void *a, const void *b)
{
	const struct track_waitq_row *x = a, *y = b;
	uint64_t tx = x->wait ? x->wait->total_ns : 0, ty = y->wait ? y->wait->total_ns : 0;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	if (x->rec->acquisitions != y->rec->acquisitions)
		return x->rec->acquisitions < y->rec->acquisitions ? 1 : -1;
	return x->rec->addr < y->rec->addr ? -1 : x->rec->addr > y->rec->addr;
}

size_t track_waitq_rows(const struct track_snap *s, uint32_t kind, struct track_waitq_row **out)
{
	struct track_prof_index ix;
	size_t n = 0;
	uint32_t i;
	*out = calloc(s->nobjs ? s->nobjs : 1, sizeof **out);
	if (*out == NULL)
		return 0;
	track_prof_index_init(&ix, s);
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *r = &s->objs[i];
		const struct track_prof_rec *const *sites;
		if (r->kind != kind || !track_obj_used(r))
			continue;
		(*out)[n].rec = r;
		(*out)[n].wait = track_prof_own(&ix, r, TRACK_PR_WAIT);
		if (track_prof_find(&ix, r, TRACK_PR_WAIT_SITE, &sites) > 0)
			(*out)[n].top_waiter = sites[0];
		n++;
	}
	track_prof_index_fini(&ix);
	qsort(*out, n, sizeof **out, waitq_cmp);
	if (n == 0) {
		free(*out);
		*out = NULL;
	}
	return n;
}

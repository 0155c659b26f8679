/*
 * order.c — the facts behind lock-order and deadlock findings, for every renderer: which
 * locks an edge of the lock-order graph joins, where its first lock was taken (reconstructed:
 * the shim does not capture that stack), and what each thread of a deadlock waits on and
 * for whom.  Declared in model.h.
 */
#define _GNU_SOURCE
#include <string.h>

#include "core/model.h"

uint32_t track_finding_items(const struct track_finding_rec *f)
{
	return f->nitems;   /* more than TRACK_CYCLE_MAX only with its entries read (segread.c) */
}

struct track_cycle_item track_finding_item(const struct track_snap *s,
					   const struct track_finding_rec *f, uint32_t i)
{
	struct track_cycle_item it = {0, 0, 0, 0, 0};
	if (f->nitems > TRACK_CYCLE_MAX && i < f->nitems)
		return s->cycle_items[f->items - 1 + i];
	if (i < TRACK_CYCLE_MAX) {
		it.edge = f->edges[i];
		it.tid = f->tids[i];
		it.stack = f->stacks[i];
		it.obj = f->objs[i];
	}
	return it;
}

uint32_t track_finding_edge(const struct track_snap *s, const struct track_finding_rec *f,
			    uint32_t i)
{
	return track_finding_item(s, f, i).edge;
}

int track_edge_by_class(const struct track_snap *s, const struct track_edge_rec *e)
{
	return e->flags & TRACK_EF_CLASS || s->hdr.lock_order_mode == TRACK_LO_CLASS;
}

const struct track_obj_rec *track_edge_lock(const struct track_snap *s,
					    const struct track_edge_rec *e, int to)
{
	const struct track_obj_rec *o = track_snap_obj(s, to ? e->to_idx : e->from_idx);
	uint32_t id = to ? e->to_id : e->from_id;
	if (o == NULL)
		return NULL;
	return (e->flags & TRACK_EF_CLASS ? o->class_id : o->lock_id) == id ? o : NULL;
}

/* The function that has the stack frame of pc (the last, out-of-line entry of its inline
 * chain), into *out; 0 if it is not known. */
static int real_function(struct track_symbolizer *sym, uint64_t pc, struct track_frame *out)
{
	struct track_frame f[8];
	int n = track_sym_lookup(sym, pc, 1, f, 8);
	if (n <= 0 || f[n - 1].function == NULL)
		return 0;
	*out = f[n - 1];
	return 1;
}

static int same_function(const struct track_frame *a, const struct track_frame *b)
{
	if (strcmp(a->function, b->function) != 0)
		return 0;
	return a->module == NULL || b->module == NULL || strcmp(a->module, b->module) == 0;
}

/* The index of the first frame of st in the function fn, or -1. */
static int frame_in(struct track_symbolizer *sym, const struct track_stack_rec *st,
		    const struct track_frame *fn)
{
	struct track_frame f;
	uint32_t i;
	for (i = 0; i < st->nframes; i++)
		if (real_function(sym, st->frames[i], &f) && same_function(&f, fn))
			return (int)i;
	return -1;
}

size_t track_edge_from_stack(struct track_view *v, const struct track_edge_rec *e, uint64_t *out,
			     size_t max, int *partial)
{
	const struct track_stack_rec *st = track_snap_stack(v->snap, e->to_stack);
	struct track_symbolizer *sym;
	struct track_frame fn;
	size_t n = 0;
	uint32_t i;
	int at = -1;
	if (max == 0 || e->from_pc == 0) {
		*partial = 1;
		return 0;
	}
	out[n++] = e->from_pc;
	/* A function of the C or C++ runtime that took the first lock (std::lock_guard's
	 * constructor, __gthread_mutex_lock out of line at -O0) returned before the second was
	 * taken: the same function on the second lock's stack is another call of it, and its
	 * callers need not be the first call's. */
	if (st != NULL && (sym = track_view_sym(v)) != NULL &&
	    real_function(sym, e->from_pc, &fn) && !track_frame_in_runtime(&fn))
		at = frame_in(sym, st, &fn);
	*partial = at < 0;
	if (at >= 0)
		for (i = (uint32_t)at + 1; i < st->nframes && n < max; i++)
			out[n++] = st->frames[i];
	return n;
}

/* What w's thread waits on: the thread it joins (the next of the cycle, whose pthread_t the
 * finding holds), or a kind of lock. */
static void waited_kind(const struct track_snap *s, struct track_wait *w)
{
	const struct track_thread_rec *next = track_snap_thread(s, w->held_by);
	const struct track_obj_rec *o;
	w->join = next != NULL && next->pthread_self == w->object;
	if (w->join) {
		w->kind = "thread";
		return;
	}
	o = track_snap_obj_at(s, w->object);
	w->kind = o != NULL ? track_kind_name(o->kind) : "lock";
}

void track_deadlock_wait(const struct track_snap *s, const struct track_finding_rec *f,
			 uint32_t i, struct track_wait *w)
{
	uint32_t n = track_finding_items(f);
	struct track_cycle_item it = track_finding_item(s, f, i);
	w->tid = it.tid;
	w->thread = track_snap_thread(s, w->tid);
	w->object = it.obj;
	struct track_cycle_item next = n > 0 ? track_finding_item(s, f, (i + 1) % n) : it;
	w->held_by = n > 0 ? next.tid : 0;
	waited_kind(s, w);
	w->stack = it.stack;
	/* A reader waits on the same rwlock as the next thread only when that one is a writer
	 * queued on it (the shim follows a read request nowhere else but to its writer). */
	w->queued_writer = !w->join && n > 1 && next.obj == it.obj && w->thread != NULL &&
			   w->thread->state == TRACK_TS_RWLOCK_RD;
}

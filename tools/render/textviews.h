/*
 * textviews.h — the blocks of the text report that show where time went (textviews.c):
 * locks with their wait and hold profiles and sites, condvars, semaphores, barriers and
 * joins, pools of threads, registered queues.  Private to the text renderer.
 */
#ifndef TRACK_TEXTVIEWS_H
#define TRACK_TEXTVIEWS_H

#include <stdio.h>

#include "render/render.h"

/* The lock table (top rows, in o->sort order), then a block for each listed lock. */
void track_text_locks(FILE *out, struct track_view *v, int top, const struct track_render_opts *o);
/* Condvars, semaphores, barriers and blocked joins: a summary line each, a table when used. */
void track_text_waits(FILE *out, struct track_view *v, int top);
/* Pools of threads (when a pool has more than one thread) and registered queues (if any). */
void track_text_pools(FILE *out, struct track_view *v, int top);
void track_text_queues(FILE *out, struct track_view *v);

#endif /* TRACK_TEXTVIEWS_H */

/*
 * render.h — the one interface every report format implements, and the table of them.
 *
 * A report is a sequence of processes, each given as a view (core/view.h): the first is the
 * primary (the program track run started, or the process track report names), the others
 * its children and exec images.  A renderer writes them to one stream.  Text and JSON now;
 * folded stacks, Prometheus and pprof plug in the same way: a struct track_renderer in a file
 * of their own and a line in render.c's table.
 */
#ifndef TRACK_RENDER_H
#define TRACK_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "core/model.h"

struct track_render_opts {
	int top;              /* locks to list for the primary process */
	int frames;           /* frames per stack in text (--num-callers); 0: the default */
	const char *command;  /* the subcommand writing it ("run", "report"), for hints */
	int view;             /* folded, pprof: enum track_prof_view (contention, ...) */
	int value_count;      /* folded: weigh stacks by events, not nanoseconds */
	int sort;             /* enum track_lock_sort: the order of lock tables (--sort) */
};

#define TRACK_RENDER_FRAMES 12   /* frames per stack in text by default */

struct track_renderer {
	const char *name;   /* "text", "json": what --format and the front ends call it */
	/* State for one report written to out (NULL: out of memory). */
	void *(*begin)(FILE *out, const struct track_render_opts *o);
	/* One process; index 0 is the primary.  The view may be freed once this returns. */
	void (*process)(void *state, struct track_view *v, size_t index);
	/* Write what was kept for the end and free the state; 0, or -1 if it could not be
	 * written.  out is left open: the caller flushes, closes and reports write errors. */
	int (*end)(void *state);
};

extern const struct track_renderer track_text_renderer;
extern const struct track_renderer track_json_renderer;
extern const struct track_renderer track_folded_renderer;
extern const struct track_renderer track_pprof_renderer;
extern const struct track_renderer track_prometheus_renderer;

/* The names of the renderers, NULL-terminated, in the table's order: what --format takes. */
extern const char *const track_format_names[];

/* The threads list[0..n) of the view's snapshot (indexes) as the text report shows threads
 * alive at the end, like ones grouped: who, running what, what it waits on and for how
 * long, held by whom, what it holds, where it was created (frames per stack; 0: the
 * default).  For front ends that list threads of their own choosing (track leaks). */
void track_text_threads(FILE *out, struct track_view *v, const uint32_t *list, size_t n,
			int frames);

/* The renderer called name, or NULL. */
const struct track_renderer *track_renderer_find(const char *name);

/* One report being written: a renderer, its state and how many processes it has had. */
struct track_output {
	const struct track_renderer *renderer;
	void *state;
	size_t done;
};

/* Begin a report in the format called name, written to out; -1 if there is no such format
 * or no memory. */
int track_output_begin(struct track_output *o, const char *name, FILE *out,
		       const struct track_render_opts *opts);
/* Add a process: the first added is the primary. */
void track_output_add(struct track_output *o, struct track_view *v);
/* Finish (a report never begun is fine); 0, or -1 if it could not be written. */
int track_output_end(struct track_output *o);

#endif /* TRACK_RENDER_H */

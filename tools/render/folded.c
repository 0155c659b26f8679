/*
 * folded.c — the folded-stacks format of flame graphs (FlameGraph's flamegraph.pl, inferno,
 * speedscope): one line per distinct stack, "frame;frame;frame VALUE", outermost frame first,
 * VALUE the nanoseconds waited there (or, with value_count, the number of waits).
 *
 * The stacks are a view of the wait and hold profiles (core/profstack.h: contention,
 * blocking or holding).  The outermost frame of every stack names the object waited on
 * ("mutex g_hot", "thread join"), so a flame graph splits by object at its base; below it
 * come the frames from the thread's start to the waiting call, inline frames included as
 * frames of their own.  A process after the first (a child of track run's program) adds
 * "pid N COMMAND" above that.  Frame names never hold ';' or a line break, and never end in
 * a space: they are replaced by '_' and trimmed.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/profstack.h"
#include "render/render.h"

#define INLINE_MAX 16

struct folded_line {
	char *stack;
	uint64_t value;
};

struct folded {
	FILE *out;
	struct track_render_opts o;
	struct folded_line *lines;
	size_t n, cap;
	int failed;
	/* the process being added */
	struct track_view *v;
	char proc[64];   /* its root frame, or "" for the primary */
};

static void *folded_begin(FILE *out, const struct track_render_opts *o)
{
	struct folded *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	f->out = out;
	f->o = *o;
	return f;
}

/* One frame's name written to m: no ';' or line break in it, no space at its end. */
static void put_frame(FILE *m, const char *name, int first)
{
	size_t len = strlen(name), i;
	while (len > 0 && name[len - 1] == ' ')
		len--;
	if (!first)
		fputc(';', m);
	for (i = 0; i < len; i++)
		fputc(name[i] == ';' || name[i] == '\n' || name[i] == '\r' ? '_' : name[i], m);
}

/* The frames of return address pc, outermost (the real function) first. */
static void put_pc(FILE *m, struct track_symbolizer *sym, uint64_t pc)
{
	struct track_frame fr[INLINE_MAX];
	char buf[512];
	int n = 1, k;
	if (sym != NULL)
		n = track_sym_lookup(sym, pc, 1, fr, INLINE_MAX);
	else
		fr[0] = (struct track_frame){.pc = pc};
	for (k = n - 1; k >= 0; k--) {
		if (fr[k].function != NULL)
			put_frame(m, fr[k].function, 0);
		else
			put_frame(m, track_sym_format(&fr[k], buf, sizeof buf), 0);
	}
}

static int add_line(struct folded *f, char *stack, uint64_t value)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct folded_line *l = realloc(f->lines, cap * sizeof *l);
		if (l == NULL)
			return -1;
		f->lines = l;
		f->cap = cap;
	}
	f->lines[f->n++] = (struct folded_line){stack, value};
	return 0;
}

static void folded_stack(const struct track_prof_stack *st, void *ctx)
{
	struct folded *f = ctx;
	struct track_symbolizer *sym = track_view_sym(f->v);
	char *text = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&text, &len);
	if (m == NULL) {
		f->failed = 1;
		return;
	}
	if (f->proc[0] != '\0')
		put_frame(m, f->proc, 1);
	put_frame(m, st->object, f->proc[0] == '\0');
	for (i = st->npcs; i-- > 0;)
		put_pc(m, sym, st->pcs[i]);
	if (fclose(m) != 0 || add_line(f, text, f->o.value_count ? st->count : st->total_ns) != 0) {
		free(text);
		f->failed = 1;
	}
}

static void folded_process(void *state, struct track_view *v, size_t index)
{
	struct folded *f = state;
	f->v = v;
	track_proc_frame(&v->snap->hdr, index, f->proc, sizeof f->proc);
	track_prof_stacks(v, (enum track_prof_view)f->o.view, folded_stack, f);
	f->v = NULL;
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->stack,
		      ((const struct folded_line *)b)->stack);
}

/* Every distinct stack once, its values summed (two call sites in one function symbolize
 * alike), in the order of the stacks' text. */
static int folded_end(void *state)
{
	struct folded *f = state;
	size_t i, j;
	int rc = f->failed ? -1 : 0;
	if (f->n > 0)   /* lines is NULL until the first stack: qsort must not get NULL */
		qsort(f->lines, f->n, sizeof *f->lines, by_stack);
	for (i = 0; i < f->n; i = j) {
		uint64_t sum = 0;
		for (j = i; j < f->n && strcmp(f->lines[j].stack, f->lines[i].stack) == 0; j++)
			sum += f->lines[j].value;
		if (sum > 0)
			fprintf(f->out, "%s %llu\n", f->lines[i].stack, (unsigned long long)sum);
	}
	for (i = 0; i < f->n; i++)
		free(f->lines[i].stack);
	free(f->lines);
	free(f);
	return rc;
}

const struct track_renderer track_folded_renderer = {"folded", folded_begin, folded_process,
						     folded_end};

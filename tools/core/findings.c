/*
 * findings.c — the findings of a view as a report lists them: in severity order (deadlocks,
 * then errors, then info), inversions that are one bug (the same code sites, other lock
 * objects: per-object locks nested in one function) folded into one entry with a count, and
 * each with a one-line summary a CI log can be grepped for.  Text and JSON both take the
 * order and the groups from here.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/findings.h"

/* Deadlocks first: they happened; then by severity (errors, what --error-exitcode counts,
 * then warnings, then the rest). */
static int rank(const struct track_finding_rec *f)
{
	if (f->kind == TRACK_FK_DEADLOCK)
		return 0;
	return f->severity < TRACK_SEV_COUNT ? 1 + (int)f->severity : 1;
}

/* The code sites of a lock-order cycle: each edge's (from_pc, to_pc), sorted, so that the
 * same nesting through other lock objects compares equal.  How many pairs; 0 if an edge is
 * gone (such a cycle is never folded). */
static uint32_t cycle_sites(const struct track_snap *s, const struct track_finding_rec *f,
			    uint64_t sites[][2])
{
	uint32_t i, j, n = track_finding_items(f);
	for (i = 0; i < n; i++) {
		const struct track_edge_rec *e = track_snap_edge(s, track_finding_edge(s, f, i));
		if (e == NULL)
			return 0;
		sites[i][0] = e->from_pc;
		sites[i][1] = e->to_pc;
		for (j = i; j > 0 && (sites[j - 1][0] > sites[j][0] ||
				      (sites[j - 1][0] == sites[j][0] &&
				       sites[j - 1][1] > sites[j][1])); j--) {
			uint64_t t0 = sites[j][0], t1 = sites[j][1];
			sites[j][0] = sites[j - 1][0];
			sites[j][1] = sites[j - 1][1];
			sites[j - 1][0] = t0;
			sites[j - 1][1] = t1;
		}
	}
	return n;
}

static int same_bug(const struct track_snap *s, const struct track_finding_rec *a,
		    const struct track_finding_rec *b)
{
	uint32_t n = track_finding_items(a), na;
	uint64_t (*sa)[2], (*sb)[2];
	int same;
	if (a->kind != TRACK_FK_LOCK_ORDER || b->kind != TRACK_FK_LOCK_ORDER ||
	    a->severity != b->severity || n == 0 || n != track_finding_items(b))
		return 0;
	sa = calloc(n, sizeof *sa);   /* a cycle may have any length */
	sb = calloc(n, sizeof *sb);
	same = sa != NULL && sb != NULL && (na = cycle_sites(s, a, sa)) > 0 &&
	       na == cycle_sites(s, b, sb) && memcmp(sa, sb, na * sizeof sa[0]) == 0;
	free(sa);
	free(sb);
	return same;
}

/* By rank, each group together after its first, then in the order found. */
static int entry_cmp(const void *x, const void *y)
{
	const struct track_finding_entry *a = x, *b = y;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

size_t track_findings_list(struct track_view *v, struct track_finding_entry **out)
{
	const struct track_snap *s = v->snap;
	struct track_finding_entry *e = calloc(s->nfindings ? s->nfindings : 1, sizeof *e);
	size_t n = 0, i, j;
	*out = e;
	if (e == NULL)
		return 0;
	for (i = 0; i < s->nfindings; i++) {
		const struct track_finding_rec *f = &s->findings[i];
		if (!track_finding_shown(v, f))
			continue;
		e[n].f = f;
		e[n].index = e[n].group = (uint32_t)i;
		e[n].rank = rank(f);
		for (j = 0; j < n; j++)
			if (e[j].group == e[j].index && same_bug(s, e[j].f, f)) {
				e[n].group = e[j].index;   /* another cycle of a bug listed */
				e[j].also++;
				break;
			}
		n++;
	}
	qsort(e, n, sizeof *e, entry_cmp);
	return n;
}

/* "mutex g_stats", "mutex 0x55d0c0ffee00": an object as the summary names it. */
static const char *object_words(struct track_view *v, uint32_t kind, uint64_t addr, char *buf,
				size_t len)
{
	char name[256];
	snprintf(buf, len, "%s %s", track_kind_name(kind),
		 track_obj_label(v->snap, track_view_sym(v), addr, kind, name, sizeof name));
	return buf;
}

/* Append ", " (after the first) and text to buf of len, as far as it fits. */
static void append(char *buf, size_t len, int *first, const char *text)
{
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "%s%s", *first ? "" : ", ", text);
	*first = 0;
}

static void summary_cycle(struct track_view *v, const struct track_finding_rec *f, char *buf,
			  size_t len)
{
	struct track_symbolizer *sym = track_view_sym(v);
	char locks[512] = "", sites[1024] = "", one[256];
	uint32_t i, n = track_finding_items(f);
	int lf = 1, sf = 1;
	for (i = 0; i < n; i++) {
		const struct track_edge_rec *e = track_snap_edge(v->snap, track_finding_edge(v->snap, f, i));
		const struct track_obj_rec *o = e != NULL ? track_edge_lock(v->snap, e, 0) : NULL;
		if (o != NULL)
			append(locks, sizeof locks, &lf, object_words(v, o->kind, o->addr, one,
								       sizeof one));
		if (e != NULL)
			append(sites, sizeof sites, &sf, track_fmt_site(v->snap, sym, e->to_pc,
									e->to_stack, one, sizeof one));
	}
	snprintf(buf, len, "lock-order-inversion%s: %s taken in a cycle (%u locks) at %s",
		 f->gate ? " (gated, info)" : "", locks, n, sites);
}

static void summary_deadlock(struct track_view *v, const struct track_finding_rec *f,
			     char *buf, size_t len)
{
	char sites[1024] = "", one[640], pc[256];
	uint32_t i, n = track_finding_items(f);
	int first = 1;
	for (i = 0; i < n; i++) {
		struct track_wait w;
		const struct track_stack_rec *st;
		track_deadlock_wait(v->snap, f, i, &w);
		st = track_snap_stack(v->snap, w.stack);
		if (w.join)
			snprintf(one, sizeof one, "thread %d joins thread %d", w.tid, w.held_by);
		else
			snprintf(one, sizeof one, "thread %d waits for %s %s", w.tid, w.kind,
				 track_obj_label(v->snap, track_view_sym(v), w.object,
						 TRACK_OBJ_NONE, pc, sizeof pc));
		if (st != NULL && st->nframes > 0) {
			size_t k = strlen(one);
			snprintf(one + k, sizeof one - k, " at %s",
				 track_fmt_site(v->snap, track_view_sym(v), st->frames[0], w.stack, pc,
						sizeof pc));
		}
		append(sites, sizeof sites, &first, one);
	}
	snprintf(buf, len, "deadlock of %u thread%s: %s", n, n == 1 ? "" : "s", sites);
}

/* Where finding f was made: its call site, or its stack's first frame. */
static uint64_t finding_pc(const struct track_snap *s, const struct track_finding_rec *f)
{
	const struct track_stack_rec *st = track_snap_stack(s, f->stack);
	return f->pc ? f->pc : st != NULL && st->nframes ? st->frames[0] : 0;
}

const char *track_finding_summary(struct track_view *v, const struct track_finding_rec *f,
				  char *buf, size_t len)
{
	char obj[128], at[256];
	if (f->kind == TRACK_FK_LOCK_ORDER) {
		summary_cycle(v, f, buf, len);
	} else if (f->kind == TRACK_FK_DEADLOCK) {
		summary_deadlock(v, f, buf, len);
	} else if (f->kind == TRACK_FK_FD_LEAK) {
		snprintf(buf, len, "fd-leak: %.*s", TRACK_FINDING_TEXT, f->text);
	} else if (f->kind == TRACK_FK_API_CALL_FAILED ||   /* the text names the call */
		   f->kind == TRACK_FK_CHECKING_INCOMPLETE) {   /* ... what was lost */
		snprintf(buf, len, "%s: %.*s, at %s", track_finding_name(f->kind),
			 TRACK_FINDING_TEXT, f->text,
			 track_fmt_site(v->snap, track_view_sym(v), f->pc, f->stack, at, sizeof at));
	} else if (f->kind == TRACK_FK_STALL || f->kind == TRACK_FK_THREAD_LIMIT) {
		char text[TRACK_FINDING_TEXT + 256];
		snprintf(buf, len, "%s: %s, at %s", track_finding_name(f->kind),
			 track_finding_text(v->snap, track_view_sym(v), f, text, sizeof text),
			 track_fmt_site(v->snap, track_view_sym(v), finding_pc(v->snap, f), f->stack,
					at, sizeof at));
	} else if (f->kind == TRACK_FK_THREAD_LEAK) {
		snprintf(buf, len, "thread-leak: %.*s, created at %s", TRACK_FINDING_TEXT, f->text,
			 track_fmt_site(v->snap, track_view_sym(v), f->pc, f->stack, at, sizeof at));
	} else {
		uint64_t pc = finding_pc(v->snap, f);
		/* a join's or detach's object is a pthread_t, no object to name */
		int named = f->obj != 0 && f->obj_kind != TRACK_OBJ_NONE;
		snprintf(buf, len, "%s: %s%sat %s", track_finding_name(f->kind),
			 named ? object_words(v, f->obj_kind, f->obj, obj, sizeof obj) : "",
			 named ? " " : "",
			 track_fmt_site(v->snap, track_view_sym(v), pc, f->stack, at, sizeof at));
	}
	return buf;
}

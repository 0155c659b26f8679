/*
 * profstack.c — the profiles of a view as weighted call stacks (see profstack.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/profile.h"
#include "core/profstack.h"

#define TRACK_X_PV_NAME(e, name) name,
const char *const track_prof_view_names[] = {TRACK_PROF_VIEWS(TRACK_X_PV_NAME) NULL};
#undef TRACK_X_PV_NAME

/* The roles a view draws from, and whether a profile of that role belongs to it. */
static int in_view(const struct track_prof_rec *p, enum track_prof_view view)
{
	switch (view) {
	case TRACK_PV_CONTENTION:
		return p->role == TRACK_PR_WAIT_SITE && track_kind_is_lock(p->obj_kind);
	case TRACK_PV_BLOCKING:
		return (p->role == TRACK_PR_WAIT_SITE && !track_kind_is_lock(p->obj_kind)) ||
		       p->role == TRACK_PR_JOIN_SITE;
	case TRACK_PV_HOLDING:
		return p->role == TRACK_PR_HOLD_SITE;
	default:
		return 0;
	}
}

/* Whether pc lies in libtrack itself (a frame of the shim's own, should a capture start
 * inside it). */
static int in_shim(const struct track_snap *s, uint64_t pc)
{
	uint32_t i;
	for (i = 0; i < s->nmods; i++) {
		const struct track_module_rec *m = &s->mods[i];
		const char *base;
		if (!(m->flags & TRACK_MF_VALID) || pc < m->lo || pc >= m->hi)
			continue;
		base = strrchr(m->path, '/');
		base = base != NULL ? base + 1 : m->path;
		return strncmp(base, "libtrack.so", 11) == 0;
	}
	return 0;
}

/* The stack of profile p: its waiter's stack, else its call site alone. */
static void stack_of(const struct track_snap *s, const struct track_prof_rec *p,
		     struct track_prof_stack *st)
{
	const struct track_stack_rec *r = p->stack ? track_snap_stack(s, p->stack) : NULL;
	uint32_t i;
	st->npcs = 0;
	if (r != NULL) {
		for (i = 0; i < r->nframes && i < TRACK_STACK_DEPTH; i++)
			if (r->frames[i] != 0 && !in_shim(s, r->frames[i]))
				st->pcs[st->npcs++] = r->frames[i];
	}
	if (st->npcs == 0 && p->pc != 0)
		st->pcs[st->npcs++] = p->pc;
}

static void object_of(struct track_view *v, const struct track_prof_rec *p, char *buf,
		      size_t len)
{
	char name[128];
	if (p->role == TRACK_PR_JOIN_SITE) {
		snprintf(buf, len, "thread join");
		return;
	}
	snprintf(buf, len, "%s %s", track_kind_name(p->obj_kind),
		 track_obj_label(v->snap, track_view_sym(v), p->addr, p->obj_kind, name,
				 sizeof name));
}

size_t track_prof_stacks(struct track_view *v, enum track_prof_view view, track_prof_stack_fn fn,
			 void *ctx)
{
	static const uint32_t roles[] = {TRACK_PR_WAIT_SITE, TRACK_PR_JOIN_SITE,
					 TRACK_PR_HOLD_SITE};
	struct track_prof_stack st;
	char object[160];
	size_t r, i, n, done = 0;
	for (r = 0; r < sizeof roles / sizeof roles[0]; r++) {
		const struct track_prof_rec **list;
		n = track_profs(v->snap, roles[r], 0, &list);
		for (i = 0; i < n; i++) {
			if (!in_view(list[i], view))
				continue;
			memset(&st, 0, sizeof st);
			st.prof = list[i];
			stack_of(v->snap, list[i], &st);
			object_of(v, list[i], object, sizeof object);
			st.object = object;
			st.count = list[i]->count;
			st.total_ns = list[i]->total_ns;
			fn(&st, ctx);
			done++;
		}
		free(list);
	}
	return done;
}

const char *track_proc_command(const struct track_seg_header *h, char *buf, size_t len)
{
	const char *exe = strrchr(h->exe, '/');
	exe = exe != NULL ? exe + 1 : h->exe;
	snprintf(buf, len, "%.*s", TRACK_NAME_MAX - 1, exe);
	return buf;
}

const char *track_proc_frame(const struct track_seg_header *h, size_t index, char *buf,
			     size_t len)
{
	char comm[TRACK_NAME_MAX];
	if (index == 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "pid %d %s", (int)h->pid, track_proc_command(h, comm, sizeof comm));
	return buf;
}

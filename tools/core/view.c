/*
 * view.c — a snapshot with the symbolizer and suppressions that go with it (see view.h).
 */
#include <string.h>

#include "core/leaks.h"
#include "core/view.h"

void track_view_init(struct track_view *v, struct track_snap *s,
		     const struct track_suppressions *supp, const struct track_exit *ex)
{
	memset(v, 0, sizeof *v);
	if (s->hdr.leak_check)
		track_leaks_derive(s);   /* asked for by TRACK_LEAKS: findings like any other */
	v->snap = s;
	v->supp = supp;
	v->exit = ex;
	if (!s->alive) {
		struct track_end end;
		track_view_end(v, &end);
		track_killed_derive(s, &end);
	}
}

struct track_symbolizer *track_view_sym(struct track_view *v)
{
	if (!v->sym_made) {
		v->sym = track_sym_new(v->snap->mods, v->snap->nmods);
		v->sym_made = 1;
	}
	return v->sym;
}

void track_view_set_sym(struct track_view *v, struct track_symbolizer *sym)
{
	track_sym_free(v->sym);
	v->sym = sym;
	v->sym_made = 1;
}

void track_view_fini(struct track_view *v)
{
	track_sym_free(v->sym);
	v->sym = NULL;
	v->sym_made = 0;
}

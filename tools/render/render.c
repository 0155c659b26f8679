/*
 * render.c — the table of renderers and the few lines that drive one (see render.h).
 */
#include <string.h>

#include "render/render.h"

static const struct track_renderer *const renderers[] = {
	&track_text_renderer,
	&track_json_renderer,
	&track_folded_renderer,
	&track_pprof_renderer,
	&track_prometheus_renderer,
};

const char *const track_format_names[] = {"text", "json", "folded", "pprof", "prometheus", NULL};
_Static_assert(sizeof track_format_names / sizeof track_format_names[0] ==
		       sizeof renderers / sizeof renderers[0] + 1,
	       "a name for every renderer");

const struct track_renderer *track_renderer_find(const char *name)
{
	size_t i;
	for (i = 0; i < sizeof renderers / sizeof renderers[0]; i++)
		if (strcmp(renderers[i]->name, name) == 0)
			return renderers[i];
	return NULL;
}

int track_output_begin(struct track_output *o, const char *name, FILE *out,
		       const struct track_render_opts *opts)
{
	memset(o, 0, sizeof *o);
	o->renderer = track_renderer_find(name);
	if (o->renderer == NULL)
		return -1;
	o->state = o->renderer->begin(out, opts);
	if (o->state == NULL) {
		o->renderer = NULL;
		return -1;
	}
	return 0;
}

void track_output_add(struct track_output *o, struct track_view *v)
{
	if (o->renderer != NULL)
		o->renderer->process(o->state, v, o->done++);
}

int track_output_end(struct track_output *o)
{
	int rc = 0;
	if (o->renderer != NULL)
		rc = o->renderer->end(o->state);
	o->renderer = NULL;
	o->state = NULL;
	return rc;
}

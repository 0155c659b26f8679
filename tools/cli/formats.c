/*
 * formats.c — the options that choose a report's format, shared by track run and track
 * report: --format (a renderer of render.c's table), --view (which profiles folded stacks
 * and pprof show: core/profstack.h) and --value (what weighs a folded stack).
 */
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/profstack.h"

static const char *const value_names[] = {"ns", "count", NULL};

static int choice_index(const char *const *choices, const char *value)
{
	int i;
	for (i = 0; choices[i] != NULL && strcmp(choices[i], value) != 0; i++)
		;
	return i;
}

int track_format_opt(int key, const char *arg, const char **format, struct track_render_opts *o)
{
	switch (key) {
	case TRACK_OPT_FORMAT:
		if (track_opt_choice("--format", arg, track_format_names) != 0)
			return -1;
		*format = arg;
		return 1;
	case TRACK_OPT_VIEW:
		if (track_opt_choice("--view", arg, track_prof_view_names) != 0)
			return -1;
		o->view = choice_index(track_prof_view_names, arg);
		return 1;
	case TRACK_OPT_VALUE:
		if (track_opt_choice("--value", arg, value_names) != 0)
			return -1;
		o->value_count = choice_index(value_names, arg) == 1;
		return 1;
	}
	return 0;
}

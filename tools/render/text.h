/*
 * report_text.h — the human-readable report of one traced process.
 */
#ifndef TRACK_REPORT_TEXT_H
#define TRACK_REPORT_TEXT_H

#include <stdio.h>

#include "core/model.h"

struct track_text_opts {
	int top;           /* locks to list */
	int is_primary;    /* the process track run started (others get a shorter section) */
	const struct track_suppressions *supp;   /* findings to leave out, or NULL */
};

void track_report_text(FILE *out, const struct track_snap *s, struct track_symbolizer *sym,
		       const struct track_exit *ex, const struct track_text_opts *o);

#endif

/*
 * listing.h — rendering a list of segments (core/seglist.h), as track ls prints it: a table
 * of text, or a JSON array (schema in README, "track ls --json").
 */
#ifndef TRACK_RENDER_LISTING_H
#define TRACK_RENDER_LISTING_H

#include <stdio.h>

#include "core/seglist.h"

/* The list as text or JSON to out, with ages as of now_ns (CLOCK_REALTIME).  Like a thread
 * dump, a listing is one document, not a report of processes: no struct track_renderer. */
void track_listing_write(FILE *out, const struct track_seg_list *l, uint64_t now_ns, int json);

#endif /* TRACK_RENDER_LISTING_H */

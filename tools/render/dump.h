/*
 * dump.h — rendering a thread dump (core/stackdump.h): text or JSON.
 */
#ifndef TRACK_RENDER_DUMP_H
#define TRACK_RENDER_DUMP_H

#include <stdio.h>

#include "core/model.h"
#include "core/stackdump.h"

/* The dump as text (grouped like a Go goroutine dump) or as JSON, to out.  A thread dump
 * is one document about one moment, not a report of processes: it does not go through
 * struct track_renderer (render.h). */
void track_dump_write(FILE *out, const struct track_stackdump *d, int json);

#endif /* TRACK_RENDER_DUMP_H */

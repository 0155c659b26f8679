/*
 * stacks.h — rendering a thread dump (core/stackdump.h): text or JSON.
 */
#ifndef TRACK_RENDER_STACKS_H
#define TRACK_RENDER_STACKS_H

#include <stdio.h>

#include <jansson.h>

#include "core/model.h"
#include "core/stackdump.h"

void track_stacks_text(FILE *out, const struct track_stackdump *d);
json_t *track_stacks_json(const struct track_stackdump *d);

#endif /* TRACK_RENDER_STACKS_H */

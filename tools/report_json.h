/*
 * report_json.h — the machine-readable report of one traced process (schema in README).
 */
#ifndef TRACK_REPORT_JSON_H
#define TRACK_REPORT_JSON_H

#include <jansson.h>

#include "model.h"

#define TRACK_JSON_SCHEMA 1   /* bumped on incompatible changes to the report's shape */

json_t *track_report_json(const struct track_snap *s, struct track_symbolizer *sym,
			  const struct track_exit *ex);

/* A location object {"pc", "function", "offset", "file", "line", "module", "inlined_into"}. */
json_t *track_json_location(struct track_symbolizer *sym, uint64_t pc, int is_return);

/* The stack with this id as an array of locations (inline frames flattened in), or null. */
json_t *track_json_stack(const struct track_snap *s, struct track_symbolizer *sym, uint32_t id);

#endif

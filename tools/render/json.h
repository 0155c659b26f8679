/*
 * json.h — the JSON report of one traced process (schema in README, "JSON report"), and the
 * pieces other JSON front ends (track stacks) build theirs from.
 */
#ifndef TRACK_JSON_H
#define TRACK_JSON_H

#include <jansson.h>

#include "core/model.h"
#include "core/profile.h"

#define TRACK_JSON_SCHEMA 3   /* bumped on incompatible changes to the report's shape: 2, a thread's tid may be null (not started); 3, locks ordered by --sort (total wait by default, was most contended) */

/* The report of the view's process; findings its suppressions hide are counted in
 * "suppressed" instead of listed. */
json_t *track_report_json(struct track_view *v);
/* The same with its locks in the order by (enum track_lock_sort) asks for. */
json_t *track_report_json_by(struct track_view *v, int by);

/* Thread record t of the view's snapshot as the report's threads.list has it. */
json_t *track_json_thread(struct track_view *v, const struct track_thread_rec *t);

/* n bytes from the target (names, arguments, paths) as a JSON string: as they are when they
 * are UTF-8, else with each byte that is not written as the four characters \xHH. */
json_t *track_json_text(const char *p, size_t n);

/* The command line a segment's header holds, as an array of its arguments. */
json_t *track_json_argv(const struct track_seg_header *h);

/* A location object {"pc", "function", "offset", "file", "line", "module", "inlined_into"}. */
json_t *track_json_location(struct track_symbolizer *sym, uint64_t pc, int is_return);

/* The location object of a call's site (model.h, track_site): the first frame of its stack
 * outside the C and C++ runtime; null for pc 0. */
json_t *track_json_site(const struct track_snap *s, struct track_symbolizer *sym, uint64_t pc,
			uint32_t stack);
json_t *track_json_site_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n);

/* The name of the variable the object of kind (TRACK_OBJ_NONE: not known) at addr lies in,
 * as a JSON string, or NULL (no key should be written) for a heap or stack object. */
json_t *track_json_obj_name(const struct track_snap *s, struct track_symbolizer *sym,
			    uint64_t addr, uint32_t kind);

/* n return addresses as an array of locations. */
json_t *track_json_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n);

/* The stack with this id as an array of locations, or null. */
json_t *track_json_stack(const struct track_snap *s, struct track_symbolizer *sym, uint32_t id);

/* --- where time went (jsonviews.c) --- */

/* A profile: {"count", "total_ns", "max_ns", "p50_ns", "p95_ns", "p99_ns", "samples",
 * "histogram": [{"lower_ns", "count"}..]}, or null for NULL. */
json_t *track_json_dist(const struct track_prof_rec *p);
/* The site profiles of role about object r (NULL for join sites), most total time first:
 * each a profile with "site" (LOC) and, but for holding sites, "stack". */
json_t *track_json_sites(struct track_view *v, const struct track_prof_index *ix,
			 const struct track_obj_rec *r, uint32_t role);
/* {"blocked", "wait_ns", "max_wait_ns", "sites"}: joins that blocked. */
json_t *track_json_joins(struct track_view *v, const struct track_prof_index *ix);
/* The view's pools (core/pools.h) and registered queues (core/queues.h). */
json_t *track_json_pools(struct track_view *v);
json_t *track_json_queues(const struct track_snap *s);

#endif

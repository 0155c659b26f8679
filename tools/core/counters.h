/*
 * counters.h — the figures of a snapshot that every format reports: the thread totals, and
 * what track could not record (every table that filled, every read that raced the writer,
 * every stack it could not walk).  Each is named here once, with what it counts; the text
 * report (its threads line, its warnings and notes), the JSON report (its "threads" and
 * "overflow" objects) and later the Prometheus exporter all take them from this one table,
 * so no renderer keeps its own list.
 */
#ifndef TRACK_COUNTERS_H
#define TRACK_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/segread.h"

/* Which object of the JSON report a figure belongs to (and which part of the text). */
enum track_counter_group {
	TRACK_CG_THREADS,   /* "threads": totals over the process's life */
	TRACK_CG_OVERFLOW,  /* "overflow": what could not be recorded */
};

/* How the text report treats a non-zero overflow figure. */
enum track_counter_level {
	TRACK_CL_QUIET,     /* nothing was lost (records reused): counted, not reported */
	TRACK_CL_NOTE,      /* something was not seen, by design */
	TRACK_CL_WARNING,   /* something was lost: a limit to raise */
};

struct track_counter {
	const char *name;   /* its field in its group's JSON object (and later its metric) */
	enum track_counter_group group;
	enum track_counter_level level;   /* overflow figures */
	const char *help;   /* what it counts, in one sentence */
	/* The text report's words for it, NULL for none.  Threads: a phrase of the threads
	 * line, printf'd with the value (unsigned long long) and "now" or "at exit".  Overflow:
	 * the warning after the count; its one %u, if any, is limit's value. */
	const char *text;
	uint64_t (*value)(const struct track_snap *s);
	uint32_t (*limit)(const struct track_snap *s);   /* NULL: the text has no %u */
};

extern const struct track_counter track_counters[];
extern const size_t track_ncounters;

#endif /* TRACK_COUNTERS_H */

/*
 * findings.h — a view's findings in the order and grouping a report lists them, and the
 * one-line summary of each (findings.c).
 */
#ifndef TRACK_FINDINGS_H
#define TRACK_FINDINGS_H

#include "core/model.h"

struct track_finding_entry {
	const struct track_finding_rec *f;
	uint32_t index;   /* in the snapshot's findings */
	uint32_t group;   /* index of the first finding of its bug: itself, or for a lock-order
			     cycle through the same code sites as an earlier one, that one */
	uint32_t also;    /* for the first of a group: how many more it has */
	int rank;         /* 0 deadlock, 1 error, 2 warning, 3 info */
};

/* The shown findings, deadlocks first, then errors, warnings, info (each in the order found),
 * the cycles of one group following its first.  *out is malloc'd; returns how many. */
size_t track_findings_list(struct track_view *v, struct track_finding_entry **out);

/* "deadlock of 2 threads: thread 7 waits for mutex 0x.. at f (a.c:3), ...": kind, objects
 * and code sites of f on one line, into buf. */
const char *track_finding_summary(struct track_view *v, const struct track_finding_rec *f,
				  char *buf, size_t len);

#endif /* TRACK_FINDINGS_H */

/*
 * view.h — one traced process as every front end reads it: its snapshot, the symbolizer for
 * its modules, the suppressions that apply and, when the caller knows it, how the process
 * ended.  The model's finding functions and every renderer take a view, so a new front end
 * (the dashboard, an exporter) builds one view and hands it on.
 */
#ifndef TRACK_VIEW_H
#define TRACK_VIEW_H

#include "core/segread.h"
#include "core/suppress.h"
#include "core/symbolize.h"

/* How the traced program ended, when the caller knows (track run does). */
struct track_exit {
	int known;
	int code;      /* exit code, when !signal */
	int signal;    /* terminating signal, or 0 */
	uint64_t end_mono_ns;   /* CLOCK_MONOTONIC when it was reaped: just after it ended */
};

struct track_view {
	struct track_snap *snap;
	const struct track_suppressions *supp;   /* findings to leave out, or NULL */
	const struct track_exit *exit;           /* NULL: not known */
	struct track_symbolizer *sym;            /* made on first use: see track_view_sym */
	int sym_made;
	int stall_is_error;                      /* findings of severity warning (stall,
						    thread-limit) count as errors
						    (--stall-is-error) */
};

/* A view of s; nothing is symbolized until something asks (track_view_sym).  If the
 * segment asked for leak checking (TRACK_LEAKS), the leak findings of an ended process are
 * added to s first (core/leaks.h). */
void track_view_init(struct track_view *v, struct track_snap *s,
		     const struct track_suppressions *supp, const struct track_exit *ex);

/* The symbolizer for the snapshot's modules, made the first time it is asked for (opening
 * every module costs milliseconds: a count of findings without suppressions never needs
 * it).  NULL only if it cannot be made: callers then print addresses. */
struct track_symbolizer *track_view_sym(struct track_view *v);

/* Use sym (made another way: from a live process's maps) as the view's symbolizer; the view
 * frees it. */
void track_view_set_sym(struct track_view *v, struct track_symbolizer *sym);

/* Free what the view made (not the snapshot). */
void track_view_fini(struct track_view *v);

#endif /* TRACK_VIEW_H */

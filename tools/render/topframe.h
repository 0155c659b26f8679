/*
 * topframe.h — track top's batch frames (--batch): one frame of the dashboard's model
 * (core/top_model.h) as plain text for logs and tests, or as one line of JSON for scripts.
 * The curses screen (tools/top/) draws the same model; neither owns it.
 */
#ifndef TRACK_RENDER_TOPFRAME_H
#define TRACK_RENDER_TOPFRAME_H

#include <stdio.h>

#include "core/top_model.h"

struct track_top_opts {
	int rows;                        /* rows per panel (locks, queues, ...) */
	enum track_top_lock_sort sort;   /* the locks' order */
};

/* One frame as text: a header, then the pools, locks, queues and wait-for panels, and a
 * blank line. */
void track_top_write_text(FILE *out, const struct track_top *t, const struct track_top_opts *o);

/* One frame as a JSON object on one line (README, "track top --json"). */
void track_top_write_json(FILE *out, const struct track_top *t, const struct track_top_opts *o);

/* The header's lines, shared with the curses screen: "pid 12  running  up 3.0 s  cmd",
 * the threads line with its rates, the counts by state, the findings lit. */
const char *track_top_title(const struct track_top *t, char *buf, size_t len);
const char *track_top_threads_line(const struct track_top *t, char *buf, size_t len);
const char *track_top_states_line(const struct track_top *t, char *buf, size_t len);
const char *track_top_alerts_line(const struct track_top *t, char *buf, size_t len);

/* Cells of the panels' rows, shared with the curses screen: a rate ("-" when not known
 * yet), a queue's depth against its capacity as a bar ("[####    ] 8/16"), and the rows
 * themselves, formatted to the column headings the *_HEAD macros give. */
const char *track_top_fmt_rate(double r, char *buf, size_t len);
const char *track_top_fmt_bar(uint64_t depth, uint64_t cap, int width, char *buf, size_t len);

#define TRACK_TOP_POOL_HEAD "POOL                     THREADS BUSY%  BLOCKED ON"
const char *track_top_pool_row(const struct track_top_pool *p, char *buf, size_t len);
#define TRACK_TOP_LOCK_HEAD \
	"LOCK                 ACQ/S CONT%   WAIT/S WAIT-P95 WAIT-MAX HOLD-P95  OWNER WAIT FIRST USED AT"
const char *track_top_lock_row(const struct track_top_lock *l, char *buf, size_t len);
/* WAITERS: threads waiting now (condvar, semaphore); producers that waited for room per
 * second (a registered queue). */
#define TRACK_TOP_QUEUE_HEAD "QUEUE                KIND       DEPTH/CAPACITY        HIGH  REJ/S   IN/S WAITERS"
const char *track_top_queue_row(const struct track_top_queue *q, char *buf, size_t len);
#define TRACK_TOP_THREAD_HEAD "TID     NAME            STATE          FOR       POOL / DOING"
const char *track_top_thread_row(const struct track_top_thread *th, char *buf, size_t len);
const char *track_top_chain_row(const struct track_top_chain *c, char *buf, size_t len);

#endif /* TRACK_RENDER_TOPFRAME_H */

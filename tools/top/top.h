/*
 * top.h — the dashboard's curses front end (track top without --batch): a screen manager
 * that refreshes a session (core/top_model.h) every interval and panels that only read its
 * model.  The command (cli/cmd_top.c) calls these two; the rest is private to tools/top/.
 */
#ifndef TRACK_TOP_H
#define TRACK_TOP_H

#include <stddef.h>
#include <stdint.h>

#include "core/seglist.h"
#include "core/top_model.h"

struct track_top_ui_opts {
	double delay;                    /* seconds between refreshes */
	enum track_top_lock_sort sort;   /* the locks' first order */
};

/* Whether stdin and stdout are a terminal the screen can use; if not, says so (use --batch). */
int track_top_terminal_ok(void);

/* Run the screen on ss until the user quits: the exit status (0; 1 if the terminal could
 * not be used, said). */
int track_top_ui(struct track_top_session *ss, const struct track_top_ui_opts *o);

/* Let the user pick one of the running processes l->v[idx[0..n)] (as of now_ns, CLOCK_REALTIME):
 * its index into l->v, -1 if the user quit, -2 if the terminal could not be used (said). */
long track_top_pick(const struct track_seg_list *l, const size_t *idx, size_t n, uint64_t now_ns);

#endif /* TRACK_TOP_H */

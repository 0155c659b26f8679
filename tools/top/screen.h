/*
 * screen.h — what the files of the curses front end share: the terminal (begun once, for the
 * picker and the dashboard both), the colours (none with NO_COLOR or on a monochrome
 * terminal: attributes only), the panels' state and their drawing, and the full-screen
 * text viewer (stacks, help).
 */
#ifndef TRACK_TOP_SCREEN_H
#define TRACK_TOP_SCREEN_H

#include <curses.h>

#include "core/top_model.h"

/* Attributes by role: colour pairs when the terminal has colours and NO_COLOR is not set,
 * else bold and reverse alone. */
enum top_role { ROLE_TITLE, ROLE_HEAD, ROLE_SELECT, ROLE_ALERT, ROLE_FOCUS, ROLE_DIM, ROLE_COUNT };
extern attr_t top_attr[ROLE_COUNT];
extern int top_ascii;   /* the terminal's encoding is not UTF-8: ASCII sparkline */

/* Begin curses on the terminal (once); 0, or -1 if there is none (said). */
int top_term_begin(void);
/* Why curses cannot drive the terminal TERM names (unknown, or no cursor motion), or NULL
 * (termcheck.c). */
const char *top_term_unusable(void);
void top_term_end(void);

/* The panels, in Tab order: X(NAME, title). */
#define TOP_PANELS(X) X(THREADS, "Threads") X(POOLS, "Pools") X(LOCKS, "Locks") \
	X(QUEUES, "Queues") X(WAITFOR, "Wait-for")
#define X_P(e, title) PANEL_##e,
enum top_panel { TOP_PANELS(X_P) PANEL_COUNT };
#undef X_P
extern const char *const top_panel_titles[PANEL_COUNT];

struct top_panel_state {
	size_t sel, first;   /* selected row, first row shown (of the rows that pass the filter) */
	size_t nrows;        /* rows that passed the filter at the last draw */
	int64_t sel_key;     /* what the selection is (a tid, a lock's address), kept across
				refreshes; 0 none */
};

struct top_screen {
	struct track_top *t;
	enum top_panel focus;
	struct top_panel_state p[PANEL_COUNT];
	enum track_top_lock_sort sort;
	char filter[64];
	int hscroll;          /* columns the rows are scrolled left */
};

/* Draw the panels into win (the body: below the header, above the footer). */
void top_draw_panels(WINDOW *win, struct top_screen *sc);

/* The row text of panel p's i-th row (before filtering), into buf; how many rows there are. */
size_t top_panel_rows(const struct top_screen *sc, enum top_panel p);
const char *top_panel_row(const struct top_screen *sc, enum top_panel p, size_t i, char *buf,
			  size_t len);
/* The selection's key for panel p's row i (tid or lock address; 0 none). */
int64_t top_row_key(const struct top_screen *sc, enum top_panel p, size_t i);
/* The row index (before filtering) of the selected row of the focused panel, or -1. */
long top_selected(const struct top_screen *sc);

/* Show text (lines) full screen until q, Esc or Enter; scrolls with the arrows and pages. */
void top_view_text(const char *title, const char *text);

#endif /* TRACK_TOP_SCREEN_H */

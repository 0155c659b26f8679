/*
 * panels.c — the dashboard's panels (threads, pools, locks, queues, wait-for) drawn from the
 * model: each panel a title line and its rows, the focused one with its column headings and
 * the most room.  Rows are the batch frames' rows (render/topframe.c), so the screen and the
 * logs say the same thing in the same words.
 */
#define _GNU_SOURCE
#include <string.h>

#include "render/topframe.h"
#include "top/screen.h"

#define X_T(e, title) title,
const char *const top_panel_titles[PANEL_COUNT] = {TOP_PANELS(X_T)};
#undef X_T

size_t top_panel_rows(const struct top_screen *sc, enum top_panel p)
{
	const struct track_top *t = sc->t;
	switch (p) {
	case PANEL_THREADS: return t->nthreads;
	case PANEL_POOLS: return t->npools;
	case PANEL_LOCKS: return t->nlocks;
	case PANEL_QUEUES: return t->nqueues;
	default: return t->nchains;
	}
}

const char *top_panel_row(const struct top_screen *sc, enum top_panel p, size_t i, char *buf,
			  size_t len)
{
	const struct track_top *t = sc->t;
	switch (p) {
	case PANEL_THREADS: return track_top_thread_row(&t->threads[i], buf, len);
	case PANEL_POOLS: return track_top_pool_row(&t->pools[i], buf, len);
	case PANEL_LOCKS: return track_top_lock_row(&t->locks[i], buf, len);
	case PANEL_QUEUES: return track_top_queue_row(&t->queues[i], buf, len);
	default: return track_top_chain_row(&t->chains[i], buf, len);
	}
}

static const char *panel_head(enum top_panel p)
{
	switch (p) {
	case PANEL_THREADS: return TRACK_TOP_THREAD_HEAD;
	case PANEL_POOLS: return TRACK_TOP_POOL_HEAD;
	case PANEL_LOCKS: return TRACK_TOP_LOCK_HEAD;
	case PANEL_QUEUES: return TRACK_TOP_QUEUE_HEAD;
	default: return "WAITED    WAITER -> HOLDER (what each waits on)";
	}
}

int64_t top_row_key(const struct top_screen *sc, enum top_panel p, size_t i)
{
	const struct track_top *t = sc->t;
	if (p == PANEL_THREADS && i < t->nthreads)
		return t->threads[i].rec->tid;
	if (p == PANEL_LOCKS && i < t->nlocks)
		return (int64_t)t->locks[i].rec->addr;
	if (p == PANEL_WAITFOR && i < t->nchains)
		return t->chains[i].tid[0];
	return 0;
}

/* Whether row text passes the filter. */
static int passes(const struct top_screen *sc, const char *text)
{
	return sc->filter[0] == '\0' || strcasestr(text, sc->filter) != NULL;
}

/* The rows of p that pass the filter, as indexes into idx (at most max): how many. */
static size_t visible(const struct top_screen *sc, enum top_panel p, size_t *idx, size_t max)
{
	char line[1024];
	size_t i, n = 0, all = top_panel_rows(sc, p);
	for (i = 0; i < all && n < max; i++)
		if (passes(sc, top_panel_row(sc, p, i, line, sizeof line)))
			idx[n++] = i;
	return n;
}

long top_selected(const struct top_screen *sc)
{
	static size_t idx[65536];
	const struct top_panel_state *ps = &sc->p[sc->focus];
	size_t n = visible(sc, sc->focus, idx, sizeof idx / sizeof idx[0]);
	return ps->sel < n ? (long)idx[ps->sel] : -1;
}

/* One row, cut to the window's width after the horizontal scroll, padded when selected. */
static void put_row(WINDOW *win, int y, int width, const char *text, int hscroll, attr_t a)
{
	size_t len = strlen(text);
	const char *p = (size_t)hscroll < len ? text + hscroll : "";
	wattr_on(win, a, NULL);
	mvwaddnstr(win, y, 0, p, width);
	if (a != 0) {
		int x = (int)strlen(p) < width ? (int)strlen(p) : width;
		for (; x < width; x++)
			mvwaddch(win, y, x, ' ');
	}
	wattr_off(win, a, NULL);
}

/* Keep the selection on the same thread or lock across refreshes, and in range. */
static void settle(struct top_screen *sc, enum top_panel p, const size_t *idx, size_t n,
		   int rows)
{
	struct top_panel_state *ps = &sc->p[p];
	size_t i;
	if (ps->sel_key != 0)
		for (i = 0; i < n; i++)
			if (top_row_key(sc, p, idx[i]) == ps->sel_key) {
				ps->sel = i;
				break;
			}
	if (ps->sel >= n)
		ps->sel = n ? n - 1 : 0;
	if (ps->sel < ps->first)
		ps->first = ps->sel;
	if (rows > 0 && ps->sel >= ps->first + (size_t)rows)
		ps->first = ps->sel - (size_t)rows + 1;
	ps->sel_key = n ? top_row_key(sc, p, idx[ps->sel]) : 0;
	ps->nrows = n;
}

static void title_line(WINDOW *win, int y, int width, const struct top_screen *sc,
		       enum top_panel p, size_t n)
{
	char title[160];
	int focused = p == sc->focus;
	snprintf(title, sizeof title, "%s %s (%zu)%s%s%s", focused ? ">" : " ", top_panel_titles[p],
		 n, p == PANEL_LOCKS ? " by " : "", p == PANEL_LOCKS ? track_top_sort_names[sc->sort] : "",
		 focused && sc->filter[0] ? "  [filter]" : "");
	put_row(win, y, width, title, 0, top_attr[focused ? ROLE_FOCUS : ROLE_HEAD]);
}

/* Draw panel p from line y with h lines; returns the lines used. */
static int draw_panel(WINDOW *win, struct top_screen *sc, enum top_panel p, int y, int h,
		      int width)
{
	static size_t idx[65536];
	struct top_panel_state *ps = &sc->p[p];
	int focused = p == sc->focus, rows, r;
	char line[1024];
	size_t n = visible(sc, p, idx, sizeof idx / sizeof idx[0]);
	if (h <= 0)
		return 0;
	title_line(win, y, width, sc, p, n);
	if (focused && h > 1) {
		put_row(win, y + 1, width, panel_head(p), sc->hscroll, top_attr[ROLE_HEAD]);
		rows = h - 2;
	} else {
		rows = h - 1;
	}
	settle(sc, p, idx, n, focused ? rows : 0);
	for (r = 0; r < rows; r++) {
		size_t i = (focused ? ps->first : 0) + (size_t)r;
		attr_t a = focused && i == ps->sel ? top_attr[ROLE_SELECT] : 0;
		if (i >= n)
			break;
		put_row(win, y + h - rows + r, width, top_panel_row(sc, p, idx[i], line, sizeof line),
			focused ? sc->hscroll : 0, a);
	}
	return h;
}

void top_draw_panels(WINDOW *win, struct top_screen *sc)
{
	int h, w, y = 0, other, each, p;
	getmaxyx(win, h, w);
	werase(win);
	/* Each other panel: its title and a row or three; the focused one the rest. */
	each = h >= 40 ? 4 : 2;
	other = each * (PANEL_COUNT - 1);
	if (h - other < 4)
		each = 1, other = PANEL_COUNT - 1;
	for (p = 0; p < PANEL_COUNT; p++) {
		int ph = p == (int)sc->focus ? h - other : each;
		if (y + ph > h)
			ph = h - y;
		y += draw_panel(win, sc, (enum top_panel)p, y, ph, w);
	}
	wnoutrefresh(win);
}

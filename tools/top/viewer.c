/*
 * viewer.c — a full-screen text viewer over the dashboard (a thread's or a lock's stack, the
 * live stacks, the help): lines scrolled with the arrows and pages, left with q, Esc or
 * Enter.  The dashboard is drawn again, whole, when it closes.
 */
#define _GNU_SOURCE
#include <string.h>

#include "top/screen.h"

/* The start of line i of text (lines end with '\n'), or NULL past the last. */
static const char *line_at(const char *text, long i)
{
	const char *p = text;
	while (i-- > 0 && p != NULL) {
		p = strchr(p, '\n');
		p = p != NULL && p[1] != '\0' ? p + 1 : NULL;
	}
	return p;
}

static long count_lines(const char *text)
{
	long n = 0;
	const char *p;
	for (p = text; *p; p++)
		n += *p == '\n';
	return n + (p > text && p[-1] != '\n');
}

static void draw(WINDOW *w, const char *title, const char *text, long first)
{
	int h, width, y;
	getmaxyx(w, h, width);
	werase(w);
	wattr_on(w, top_attr[ROLE_TITLE], NULL);
	mvwaddnstr(w, 0, 0, title, width);
	wattr_off(w, top_attr[ROLE_TITLE], NULL);
	for (y = 1; y < h - 1; y++) {
		const char *p = line_at(text, first + y - 1), *end;
		if (p == NULL)
			break;
		end = strchr(p, '\n');
		mvwaddnstr(w, y, 0, p, (int)(end != NULL && end - p < width ? end - p : width));
	}
	wattr_on(w, top_attr[ROLE_SELECT], NULL);
	mvwaddnstr(w, h - 1, 0, "Up/Down PgUp/PgDn scroll   q, Esc or Enter: back", width);
	wattr_off(w, top_attr[ROLE_SELECT], NULL);
	wnoutrefresh(w);
	doupdate();
}

void top_view_text(const char *title, const char *text)
{
	WINDOW *w = newwin(LINES, COLS, 0, 0);
	long first = 0, n = count_lines(text);
	int ch;
	if (w == NULL)
		return;
	keypad(w, TRUE);
	for (;;) {
		long page = LINES > 3 ? LINES - 2 : 1;
		draw(w, title, text, first);
		ch = wgetch(w);
		if (ch == 'q' || ch == 27 || ch == '\n' || ch == KEY_ENTER)
			break;
		if (ch == KEY_RESIZE) {
			wresize(w, LINES, COLS);
			continue;
		}
		first += ch == KEY_DOWN ? 1 : ch == KEY_UP ? -1 : ch == KEY_NPAGE ? page
		       : ch == KEY_PPAGE ? -page : ch == KEY_END ? n : ch == KEY_HOME ? -n : 0;
		if (first > n - page)
			first = n - page;
		if (first < 0)
			first = 0;
	}
	delwin(w);
	touchwin(stdscr);
	wnoutrefresh(stdscr);
	clearok(curscr, FALSE);
}

/*
 * picker.c — `track top` without a PID: the user's running traced processes (from their
 * segments' headers, as track ls reads them: nothing is loaded) to choose from, with
 * command, pid, threads, uptime and findings.
 */
#define _GNU_SOURCE
#include <string.h>

#include "core/model.h"
#include "top/screen.h"
#include "top/top.h"

static void row(const struct track_seg_entry *e, uint64_t now_ns, char *buf, size_t len)
{
	struct track_seg_age a;
	char cmd[160], fit[160], up[32];
	/* the columns before COMMAND take 38 */
	size_t width = COLS > 38 + 8 ? (size_t)COLS - 38 : 8;
	track_seg_age(e, now_ns, &a);
	snprintf(buf, len, "%-8d %7llu %10s %8llu  %s", (int)e->pid,
		 (unsigned long long)e->hdr.threads_alive,
		 a.known ? track_fmt_ns(a.ns, up, sizeof up) : "?",
		 (unsigned long long)track_seg_findings(e),
		 track_fit_command(track_cmdline(&e->hdr, cmd, sizeof cmd), width, fit, sizeof fit));
}

static void draw(const struct track_seg_list *l, const size_t *idx, size_t n, size_t sel,
		 uint64_t now_ns)
{
	char line[256];
	size_t i, first = sel >= (size_t)(LINES - 3) ? sel - (size_t)(LINES - 4) : 0;
	int y = 2;
	erase();
	attr_set(top_attr[ROLE_TITLE], 0, NULL);
	mvaddnstr(0, 0, "track top: pick a traced process (Enter), q quit", COLS);
	attr_set(top_attr[ROLE_HEAD], 0, NULL);
	mvaddnstr(1, 0, "PID      THREADS     UPTIME FINDINGS  COMMAND", COLS);
	attr_set(A_NORMAL, 0, NULL);
	for (i = first; i < n && y < LINES; i++, y++) {
		row(&l->v[idx[i]], now_ns, line, sizeof line);
		if (i == sel)
			attr_set(top_attr[ROLE_SELECT], 0, NULL);
		mvaddnstr(y, 0, line, COLS);
		attr_set(A_NORMAL, 0, NULL);
	}
	refresh();
}

long track_top_pick(const struct track_seg_list *l, const size_t *idx, size_t n, uint64_t now_ns)
{
	size_t sel = 0;
	if (top_term_begin() != 0)
		return -2;
	for (;;) {
		int ch;
		draw(l, idx, n, sel, now_ns);
		ch = getch();
		if (ch == 'q' || ch == 27) {
			top_term_end();
			return -1;
		}
		if (ch == '\n' || ch == KEY_ENTER)
			return (long)idx[sel];
		if ((ch == KEY_DOWN || ch == 'j') && sel + 1 < n)
			sel++;
		else if ((ch == KEY_UP || ch == 'k') && sel > 0)
			sel--;
		else if (ch == KEY_HOME)
			sel = 0;
		else if (ch == KEY_END)
			sel = n - 1;
	}
}

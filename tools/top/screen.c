/*
 * screen.c — the dashboard's screen manager: the terminal and its colours, the header
 * (threads with their sparkline, states, findings), the body of panels (panels.c) and a
 * footer of keys; the loop that refreshes the session every interval and answers keys.
 * Only what changed reaches the terminal: windows are erased and drawn into, then
 * wnoutrefresh and one doupdate (curses sends the difference), never a clear, so nothing
 * flickers; a resize remakes the windows.
 */
#define _GNU_SOURCE
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/stackdump.h"
#include "render/dump.h"
#include "render/topframe.h"
#include "top/screen.h"
#include "top/top.h"

#define HEADER_LINES 4
#define KEY_TAB '\t'
#define KEY_ESC 27

attr_t top_attr[ROLE_COUNT];
int top_ascii;
static int term_begun;

/* Colour pairs, or attributes alone (monochrome terminals, NO_COLOR). */
static void colours(void)
{
	const char *nc = getenv("NO_COLOR");
	top_attr[ROLE_TITLE] = A_BOLD;
	top_attr[ROLE_HEAD] = A_BOLD;
	top_attr[ROLE_SELECT] = A_REVERSE;
	top_attr[ROLE_ALERT] = A_BOLD | A_REVERSE;
	top_attr[ROLE_FOCUS] = A_BOLD | A_UNDERLINE;
	top_attr[ROLE_DIM] = A_NORMAL;
	if ((nc != NULL && *nc != '\0') || !has_colors() || start_color() != OK)
		return;
	use_default_colors();
	init_pair(1, COLOR_CYAN, -1);
	init_pair(2, COLOR_WHITE, COLOR_RED);
	init_pair(3, COLOR_BLACK, COLOR_CYAN);
	init_pair(4, COLOR_GREEN, -1);
	top_attr[ROLE_TITLE] = A_BOLD | COLOR_PAIR(1);
	top_attr[ROLE_HEAD] = A_BOLD | COLOR_PAIR(4);
	top_attr[ROLE_ALERT] = A_BOLD | COLOR_PAIR(2);
	top_attr[ROLE_SELECT] = COLOR_PAIR(3);
	top_attr[ROLE_FOCUS] = A_BOLD | A_REVERSE | COLOR_PAIR(1);
}

int track_top_terminal_ok(void)
{
	if (isatty(0) && isatty(1))
		return 1;
	track_error("track top needs a terminal; use --batch for frames as text");
	return 0;
}

int top_term_begin(void)
{
	const char *cs, *why;
	if (term_begun)
		return 0;
	if (!track_top_terminal_ok())
		return -1;
	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	top_ascii = cs == NULL || strcmp(cs, "UTF-8") != 0;
	if (getenv("TERM") == NULL || *getenv("TERM") == '\0') {
		track_error("track top cannot use this terminal (TERM is not set); set TERM, or "
			    "use --batch");
		return -1;
	}
	if ((why = top_term_unusable()) != NULL || newterm(NULL, stdout, stdin) == NULL) {
		track_error("track top cannot use this terminal (TERM=%s: %s); use --batch",
			    getenv("TERM"), why != NULL ? why : "curses refused it");
		return -1;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	colours();
	term_begun = 1;
	return 0;
}

void top_term_end(void)
{
	if (term_begun)
		endwin();
	term_begun = 0;
}

/* --- the header and footer --------------------------------------------------------------- */

static void put_line(WINDOW *w, int y, const char *s, attr_t a)
{
	wattr_on(w, a, NULL);
	mvwaddnstr(w, y, 0, s, getmaxx(w));
	wattr_off(w, a, NULL);
}

/* The findings line: each lit one stands out. */
static void alerts(WINDOW *w, int y, const struct track_top *t)
{
	int a;
	mvwaddstr(w, y, 0, "findings:");
	for (a = 0; a < TRACK_TOP_ALERT_COUNT; a++) {
		char cell[48];
		snprintf(cell, sizeof cell, " %s %u", track_top_alert_names[a], t->alerts[a]);
		wattr_on(w, t->alerts[a] ? top_attr[ROLE_ALERT] : A_NORMAL, NULL);
		waddnstr(w, cell, getmaxx(w) - getcurx(w));
		wattr_off(w, t->alerts[a] ? top_attr[ROLE_ALERT] : A_NORMAL, NULL);
	}
}

struct loop {
	struct track_top_session *ss;
	struct top_screen sc;
	WINDOW *head, *body, *foot;
	double delay;
	int paused;
	char status[160];   /* a message for the footer, until the next key */
	char failure[160];  /* why the segment cannot be read any more: for good */
};

static void draw_header(struct loop *L)
{
	const struct track_top *t = &L->ss->model;
	char line[512], title[400], spark[TRACK_TOP_HISTORY * 4], c[16], e[16];
	int w = getmaxx(L->head);
	werase(L->head);
	snprintf(line, sizeof line, "track top %s %s", L->paused ? "PAUSED" : "",
		 track_top_title(t, title, sizeof title));
	put_line(L->head, 0, line, top_attr[ROLE_TITLE]);
	snprintf(line, sizeof line, "threads %zu, peak %llu, new %s/s, ended %s/s ", t->nthreads,
		 (unsigned long long)t->peak, track_top_fmt_rate(t->created_per_s, c, sizeof c),
		 track_top_fmt_rate(t->exited_per_s, e, sizeof e));
	put_line(L->head, 1, line, A_NORMAL);
	track_top_sparkline(t, w - (int)strlen(line) - 1, top_ascii, spark, sizeof spark);
	waddstr(L->head, spark);
	put_line(L->head, 2, track_top_states_line(t, line, sizeof line), A_NORMAL);
	alerts(L->head, 3, t);
	wnoutrefresh(L->head);
}

static void draw_footer(struct loop *L)
{
	char line[256];
	werase(L->foot);
	if (L->failure[0])
		snprintf(line, sizeof line, "%s", L->failure);
	else if (L->status[0])
		snprintf(line, sizeof line, "%s", L->status);
	else if (!L->ss->model.alive)
		snprintf(line, sizeof line, "process %d has ended: its last state.  h:help q:quit",
			 (int)L->ss->model.pid);
	else
		snprintf(line, sizeof line, "Tab:panel Enter:stack s:live >:sort /:filter p:pause "
			 "+-:%.1fs h:help q:quit", L->delay);
	put_line(L->foot, 0, line, top_attr[ROLE_SELECT]);
	wnoutrefresh(L->foot);
}

static void draw(struct loop *L)
{
	if (L->head == NULL || L->body == NULL || L->foot == NULL) {   /* smaller than 7 lines */
		erase();
		mvaddnstr(0, 0, "track top: the terminal is too small", COLS);
		refresh();
		return;
	}
	draw_header(L);
	top_draw_panels(L->body, &L->sc);
	draw_footer(L);
	doupdate();
}

/* (Re)make the windows for the terminal's size. */
static void layout(struct loop *L)
{
	int h = LINES, w = COLS;
	if (L->head)
		delwin(L->head);
	if (L->body)
		delwin(L->body);
	if (L->foot)
		delwin(L->foot);
	L->head = L->body = L->foot = NULL;
	if (h < HEADER_LINES + 3)
		return;
	L->head = newwin(HEADER_LINES, w, 0, 0);
	L->body = newwin(h - HEADER_LINES - 1, w, HEADER_LINES, 0);
	L->foot = newwin(1, w, h - 1, 0);
	wnoutrefresh(stdscr);
}

/* F6: the locks' sort column, chosen from a list. */
static void sort_menu(struct loop *L)
{
	int i, ch, sel = (int)L->sc.sort;
	WINDOW *m = newwin(TRACK_TOP_SORT_COUNT + 2, 22, 1, 1);
	if (m == NULL)
		return;
	keypad(m, TRUE);
	for (;;) {
		werase(m);
		box(m, 0, 0);
		mvwaddstr(m, 0, 2, "sort locks by");
		for (i = 0; i < TRACK_TOP_SORT_COUNT; i++) {
			attr_t a = i == sel ? top_attr[ROLE_SELECT] : A_NORMAL;
			wattr_on(m, a, NULL);
			mvwprintw(m, i + 1, 2, "%-18s", track_top_sort_names[i]);
			wattr_off(m, a, NULL);
		}
		wrefresh(m);
		ch = wgetch(m);
		if (ch == KEY_UP && sel > 0)
			sel--;
		else if (ch == KEY_DOWN && sel + 1 < TRACK_TOP_SORT_COUNT)
			sel++;
		else if (ch == '\n' || ch == KEY_ENTER)
			L->sc.sort = (enum track_top_lock_sort)sel;
		if (ch == '\n' || ch == KEY_ENTER || ch == KEY_ESC || ch == 'q' || ch == KEY_F(6))
			break;
	}
	delwin(m);
}

/* --- keys ----------------------------------------------------------------------------------- */

static void move_sel(struct loop *L, long by, int to_end)
{
	struct top_panel_state *ps = &L->sc.p[L->sc.focus];
	long n = (long)ps->nrows, s = (long)ps->sel + by;
	if (to_end)
		s = by < 0 ? 0 : n - 1;
	if (s >= n)
		s = n - 1;
	if (s < 0)
		s = 0;
	ps->sel = (size_t)s;
	ps->sel_key = 0;   /* settle() takes the new row's key */
}

/* Read a line in the footer (the filter). */
static void prompt(struct loop *L, const char *what, char *buf, size_t len)
{
	size_t n = strlen(buf);
	int ch;
	for (;;) {
		char line[256];
		snprintf(line, sizeof line, "%s%s_", what, buf);
		werase(L->foot);
		put_line(L->foot, 0, line, top_attr[ROLE_SELECT]);
		wrefresh(L->foot);
		ch = wgetch(L->foot);
		if (ch == '\n' || ch == KEY_ENTER)
			return;
		if (ch == KEY_ESC) {
			buf[0] = '\0';
			return;
		}
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0)
			buf[--n] = '\0';
		else if (ch >= ' ' && ch < 127 && n + 1 < len) {
			buf[n++] = (char)ch;
			buf[n] = '\0';
		}
	}
}

/* Enter: what the segment recorded of the selected thread or lock. */
static void show_stack(struct loop *L)
{
	static char text[65536];
	long i = top_selected(&L->sc);
	const struct track_top *t = &L->ss->model;
	if (i < 0)
		return;
	if (L->sc.focus == PANEL_LOCKS) {
		const struct track_top_lock *l = &t->locks[i];
		int n = snprintf(text, sizeof text, "held longest while others waited, at: %s\n",
				 l->top_holder[0] ? l->top_holder : "(no wait yet)");
		track_top_lock_stack(&L->ss->view, l->rec->addr, text + n, sizeof text - (size_t)n);
	}
	else if (L->sc.focus == PANEL_THREADS)
		track_top_thread_stack(&L->ss->view, t->threads[i].rec->tid, text, sizeof text);
	else if (L->sc.focus == PANEL_WAITFOR)
		track_top_thread_stack(&L->ss->view, t->chains[i].tid[0], text, sizeof text);
	else
		return;
	top_view_text("recorded stack (from the segment; s: live stacks, stopping threads)", text);
}

/* s: every thread's live stack, taken with ptrace as track stacks takes it. */
static void live_stacks(struct loop *L)
{
	struct track_stackdump d;
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;
	if (f == NULL)
		return;
	if (!L->ss->model.alive) {
		fprintf(f, "process %d has ended: no live stacks\n", (int)L->ss->model.pid);
	} else {
		rc = track_stackdump_take(&d, L->ss->model.pid, 0, 32, 0, err, sizeof err);
		if (rc == TRACK_EXIT_OK)
			track_dump_write(f, &d, 0);
		else
			fprintf(f, "no stacks: %s\n", err);
		track_stackdump_free(&d);
	}
	fclose(f);
	top_view_text("live stacks (each thread was stopped briefly)", text);
	free(text);
}

static const char help_text[] =
	"track top: keys\n\n"
	"  Up/Down, PgUp/PgDn, Home/End   move in the focused panel\n"
	"  Left/Right                     scroll the rows sideways\n"
	"  Tab, Shift-Tab                 next, previous panel\n"
	"  F6                             choose the locks' sort column\n"
	"  >, <                           next, previous sort column of the locks\n"
	"  Enter                          the selected thread's or lock's recorded stack\n"
	"  s                              every thread's live stack (stops each briefly)\n"
	"  p                              pause, resume\n"
	"  + / -                          refresh less / more often\n"
	"  /                              filter the rows (Enter keeps, Esc clears)\n"
	"  h or F1                        this help\n"
	"  q                              quit\n\n"
	"Panels: Threads (each alive), Pools (threads by start routine: busy is the\n"
	"share of time not blocked in a pthread call), Locks (rates since the last\n"
	"refresh; percentiles since the start), Queues (registered queues: depth and\n"
	"capacity; condvars with waiters; semaphores), Wait-for (a thread blocked on a\n"
	"lock or a join, who holds it, what that one waits for).\n";

static void set_delay(struct loop *L, double d)
{
	L->delay = d < 0.1 ? 0.1 : d > 3600 ? 3600 : d;
	snprintf(L->status, sizeof L->status, "refresh every %.1f s", L->delay);
}

/* Answer one key: 1 to quit. */
static int key(struct loop *L, int ch)
{
	struct top_panel_state *ps = &L->sc.p[L->sc.focus];
	long page = getmaxy(L->body) / 2;
	L->status[0] = '\0';
	switch (ch) {
	case 'q': case 'Q': return 1;
	case KEY_UP: case 'k': move_sel(L, -1, 0); break;
	case KEY_DOWN: case 'j': move_sel(L, 1, 0); break;
	case KEY_PPAGE: move_sel(L, -page, 0); break;
	case KEY_NPAGE: move_sel(L, page, 0); break;
	case KEY_HOME: move_sel(L, -1, 1); break;
	case KEY_END: move_sel(L, 1, 1); break;
	case KEY_LEFT: L->sc.hscroll = L->sc.hscroll > 8 ? L->sc.hscroll - 8 : 0; break;
	case KEY_RIGHT: L->sc.hscroll += L->sc.hscroll < 200 ? 8 : 0; break;
	case KEY_TAB: L->sc.focus = (L->sc.focus + 1) % PANEL_COUNT; L->sc.hscroll = 0; break;
	case KEY_BTAB: L->sc.focus = (L->sc.focus + PANEL_COUNT - 1) % PANEL_COUNT; break;
	case KEY_F(6): sort_menu(L); break;
	case '>': L->sc.sort = (L->sc.sort + 1) % TRACK_TOP_SORT_COUNT; break;
	case '<': L->sc.sort = (L->sc.sort + TRACK_TOP_SORT_COUNT - 1) % TRACK_TOP_SORT_COUNT; break;
	case '\n': case KEY_ENTER: show_stack(L); break;
	case 's': live_stacks(L); break;
	case 'p': case ' ': L->paused = !L->paused; break;
	case '+': set_delay(L, L->delay < 1 ? L->delay * 2 : L->delay + 1); break;
	case '-': set_delay(L, L->delay <= 1 ? L->delay / 2 : L->delay - 1); break;
	case '/': prompt(L, "filter: ", L->sc.filter, sizeof L->sc.filter); ps->sel = 0; break;
	case 'h': case '?': case KEY_F(1): top_view_text("help", help_text); break;
	case KEY_RESIZE: layout(L); break;
	}
	track_top_sort_locks(L->sc.t, L->sc.sort);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Refresh the session; a failure to read is said in the footer, for good. */
static void tick(struct loop *L)
{
	char err[512];
	if (L->paused || !L->ss->model.alive || L->ss->broken)
		return;
	if (track_top_refresh(L->ss, err, sizeof err) != TRACK_EXIT_OK)
		snprintf(L->failure, sizeof L->failure, "cannot read the segment: %.120s  q:quit", err);
	track_top_sort_locks(L->sc.t, L->sc.sort);
}

int track_top_ui(struct track_top_session *ss, const struct track_top_ui_opts *o)
{
	struct loop L;
	uint64_t next;
	if (top_term_begin() != 0)
		return TRACK_EXIT_FAIL;
	memset(&L, 0, sizeof L);
	L.ss = ss;
	L.sc.t = &ss->model;
	L.sc.sort = o->sort;
	L.delay = o->delay;
	layout(&L);
	track_top_sort_locks(L.sc.t, L.sc.sort);
	next = now_ms() + (uint64_t)(L.delay * 1000);
	for (;;) {
		uint64_t now = now_ms();
		int ch;
		draw(&L);
		timeout(now < next ? (int)(next - now) : 0);
		ch = getch();
		if (ch != ERR && key(&L, ch))
			break;
		if (now_ms() >= next) {
			tick(&L);
			next = now_ms() + (uint64_t)(L.delay * 1000);
		}
	}
	delwin(L.head);
	delwin(L.body);
	delwin(L.foot);
	top_term_end();
	return TRACK_EXIT_OK;
}

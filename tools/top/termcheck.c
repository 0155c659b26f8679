/*
 * termcheck.c — whether curses can drive the terminal track top is given, found before the
 * screen is made: an unknown TERM makes newterm fail after it has allocated what it never
 * frees (LeakSanitizer sees it), and a terminal that cannot move the cursor (TERM=dumb)
 * would get the screen as a scroll.  setupterm answers both and lets go of what it took.
 * A file of its own: <term.h> defines macros that collide with other headers (libdw's).
 */
#include <curses.h>
#include <term.h>

#include "top/screen.h"

const char *top_term_unusable(void)
{
	const char *why = NULL;
	char *cup;
	int err = 0;
	if (setupterm(NULL, 1, &err) != OK)
		return "unknown to terminfo";
	cup = tigetstr("cup");
	if (cup == NULL || cup == (char *)-1)
		why = "it cannot move the cursor";
	del_curterm(cur_term);
	return why;
}

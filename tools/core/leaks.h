/*
 * leaks.h — what an ended process left behind, as findings (leaks.c).
 */
#ifndef TRACK_LEAKS_H
#define TRACK_LEAKS_H

#include "core/model.h"

/* Add to s, once, a thread-leak finding for each thread the program started that was still
 * alive at the end or ended without being joined or detached, and a lock-held-at-exit
 * finding for each lock still held.  Nothing for a live process. */
void track_leaks_derive(struct track_snap *s);

#endif /* TRACK_LEAKS_H */

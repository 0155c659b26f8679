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

/* Add to s, once, a killed-holding-lock finding for each lock held by a thread that was
 * still alive when the process ended other than by exit() or _exit(): end says how (a
 * signal, when the caller reaped it; else not known).  Nothing for a live process, or when
 * leak checking already reports held locks (lock-held-at-exit), nor for a robust mutex
 * (its next locker is told).  An error for a
 * process-shared mutex that is not robust (the other processes that use it wait for ever);
 * informational otherwise (the locks ended with the process). */
void track_killed_derive(struct track_snap *s, const struct track_end *end);

#endif /* TRACK_LEAKS_H */

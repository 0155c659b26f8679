/*
 * status.h — the exit statuses of the track command.  The core returns them too (loading a
 * segment fails with TRACK_EXIT_VERSION, TRACK_EXIT_PERM, ...), so that every front end
 * turns the same failure into the same status.  Each subcommand's --help and README section
 * list the ones it uses.
 */
#ifndef TRACK_STATUS_H
#define TRACK_STATUS_H

#include "track/segment.h"

enum track_status {
	TRACK_EXIT_OK = 0,
	TRACK_EXIT_FAIL = 1,       /* an operation failed (I/O, out of memory) */
	TRACK_EXIT_USAGE = 2,      /* bad option or argument */
	TRACK_EXIT_VERSION = 3,    /* segment from another layout version, or not a segment */
	TRACK_EXIT_PERM = 4,       /* segment or process owned by another user, ptrace refused */
	TRACK_EXIT_NOENT = 5,      /* no such process, or it has no segment */
	TRACK_EXIT_UNTRACED = 6,   /* track run --error-exitcode: the program ran without the shim */
	TRACK_EXIT_DEADLOCK = TRACK_DEFAULT_DEADLOCK_EXIT,  /* 7: the shim ended a deadlock */
	TRACK_EXIT_TIMEOUT = 124,  /* track run --timeout ended the program (as GNU timeout) */
	TRACK_EXIT_NOEXEC = 126,   /* track run: program found but cannot be executed */
	TRACK_EXIT_NOTFOUND = 127, /* track run: program not found */
};

#endif /* TRACK_STATUS_H */

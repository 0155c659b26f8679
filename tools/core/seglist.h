/*
 * seglist.h — the segments of the calling user, listed: what each one's header says, whether
 * its process runs, when it started and when it ended (or the latest it can have ended), the
 * storage it takes; sorted by what a listing asks; and the removal of the segments of ended
 * processes, which never touches one whose process runs or one a track command is reading.
 * track ls, track clean and the sweep of old segments are built on it.
 */
#ifndef TRACK_SEGLIST_H
#define TRACK_SEGLIST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/segread.h"

/* What became of a segment's process: X(NAME, name).  EXECD: the process runs, but this
 * image of it was replaced by exec (a segment of a later image of it is listed). */
#define TRACK_SEG_STATES(X)                                                     \
	X(RUNNING, "running") X(EXECD, "exec'd") X(ENDED, "ended") X(UNREADABLE, "unreadable")

#define TRACK_X_SS(e, name) TRACK_SEG_##e,
enum track_seg_state { TRACK_SEG_STATES(TRACK_X_SS) TRACK_SEG_STATE_COUNT };
#undef TRACK_X_SS

extern const char *const track_seg_state_names[];

struct track_seg_entry {
	char path[TRACK_SEGFILE_PATH_MAX];
	pid_t pid;                 /* from the file's name */
	unsigned gen;
	enum track_seg_state state;
	char err[TRACK_SEGFILE_PATH_MAX + 256];   /* why it cannot be read (UNREADABLE) */
	struct track_seg_header hdr;   /* unless UNREADABLE */
	uint64_t bytes;            /* storage the file takes (its allocated blocks) */
	dev_t dev;
	ino_t ino;
	uint64_t start_ns;         /* CLOCK_REALTIME ns: when its process (this image) started */
	uint64_t end_ns;           /* when it ended, if its exit was recorded; else 0 */
	uint64_t end_before_ns;    /* without end_ns: a time it had ended by (a later image's
				      start, or when a track command first found it gone); 0 if
				      none is known */
};

struct track_seg_list {
	struct track_seg_entry *v;
	size_t n, cap;
	int incomplete;            /* memory ran out: not every segment is listed */
};

/* Every segment of the user's (track_seg_dirs), by pid and generation, as of now_ns
 * (CLOCK_REALTIME).  An ended segment with no recorded end gets now_ns written into its
 * header (gone_realtime_ns, segment.h) the first time: the bound on its end that later ages
 * count from.  0; -1 if memory ran out (those that fitted are listed; free it either way). */
int track_seg_list(struct track_seg_list *l, uint64_t now_ns);
void track_seg_list_free(struct track_seg_list *l);

/* How long ago a segment's process started (running) or ended (its image, for exec'd). */
struct track_seg_age {
	int known;        /* 0: unknown (unreadable, or ended at no known time) */
	int at_least;     /* only a lower bound is known: it ended ns ago or earlier */
	uint64_t ns;
};
void track_seg_age(const struct track_seg_entry *e, uint64_t now_ns, struct track_seg_age *a);

/* Findings the shim recorded in it (before any suppression). */
uint64_t track_seg_findings(const struct track_seg_entry *e);

/* Orders of a listing: X(NAME, name).  PID ascending; the others largest first. */
#define TRACK_SEG_SORTS(X)                                                      \
	X(PID, "pid") X(AGE, "age") X(THREADS, "threads") X(OBJECTS, "objects")    \
	X(FINDINGS, "findings") X(SIZE, "size")

#define TRACK_X_SK(e, name) TRACK_SORT_##e,
enum track_seg_sort { TRACK_SEG_SORTS(TRACK_X_SK) TRACK_SORT_COUNT };
#undef TRACK_X_SK

extern const char *const track_seg_sort_names[];   /* NULL-terminated */

/* Sort l by key (unreadable segments last, but by pid); ages as of now_ns. */
void track_seg_list_sort(struct track_seg_list *l, enum track_seg_sort key, uint64_t now_ns);

/* Why a segment was not removed: X(NAME, in words). */
#define TRACK_REMOVE_RESULTS(X)                                                 \
	X(REMOVED, "removed")                                                       \
	X(RUNNING, "its process is running")                                        \
	X(READING, "a track command is reading it")                                 \
	X(NOT_OURS, "not a file of yours")                                          \
	X(FAILED, "could not be removed")

#define TRACK_X_RMV(e, words) TRACK_REMOVE_##e,
enum track_remove_result { TRACK_REMOVE_RESULTS(TRACK_X_RMV) TRACK_REMOVE_COUNT };
#undef TRACK_X_RMV

extern const char *const track_remove_words[];

/* Remove the segment at path (named for process name_pid) if its process has ended and no
 * track command is reading it (readers hold a shared flock: track_snap_load): under an
 * exclusive flock taken without waiting, its process is checked again and the name checked
 * to still be the file examined, then unlinked. */
enum track_remove_result track_seg_remove(const char *path, pid_t name_pid);

/* Remove the segments of processes that ended older_ns ago or more (by a known time, or a
 * bound: never one whose end is unknown), but the one at except (NULL: none).  How many;
 * their storage added to *bytes. */
size_t track_seg_sweep(uint64_t older_ns, const char *except, uint64_t *bytes);

/* CLOCK_REALTIME now, in ns. */
uint64_t track_realtime_ns(void);

#endif /* TRACK_SEGLIST_H */

/*
 * segread.h — reading a segment from the tools' side: finding it (by pid, path, or run id),
 * validating it against this build's layout, and copying a consistent snapshot of it without
 * stopping or slowing the process that writes it.
 */
#ifndef TRACK_SEGREAD_H
#define TRACK_SEGREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "track/segfile.h"
#include "track/segment.h"

#include "core/status.h"

struct track_snap {
	char path[TRACK_SEGFILE_PATH_MAX];
	struct track_seg_header hdr;
	struct track_thread_rec *threads;
	uint32_t nthreads;
	struct track_obj_rec *objs;
	uint32_t nobjs;
	struct track_module_rec *mods;
	uint32_t nmods;
	struct track_finding_rec *findings;
	uint32_t nfindings;
	struct track_fd_rec *fds;   /* descriptors left open at the end (TRACK_LEAKS=2) */
	uint32_t nfds;
	struct track_prof_rec *profs;   /* wait and hold profiles (core/profile.h reads them) */
	uint32_t nprofs;                /* records handed out: check ready before use */
	struct track_queue_rec *queues; /* queues the program registered (check valid) */
	uint32_t nqueues;
	struct track_pool_tally *tallies;  /* threads of reused records, by pool (core/pools.c);
					      consistent with threads: none counted twice */
	uint32_t ntallies;
	struct track_cycle_item *cycle_items;   /* entries of long cycles: a finding with more
						   than TRACK_CYCLE_MAX items names its first
						   (core/order.c reads them) */
	uint32_t ncycle_items;
	uint32_t nstacks;     /* table size: ids run from 1 to nstacks */
	uint32_t nedges;      /* table size: edge ids run from 1 to nedges */
	struct track_lazy *lazy;  /* stack and edge records, read from the file when first asked
				     for (most are never needed, and the tables are megabytes);
				     the file; the buffers kept for reloads */
	uint32_t *obj_index, obj_mask;   /* objects by address (segread.c) */
	uint32_t *thr_index, thr_mask;   /* threads by tid */
	uint32_t torn;        /* thread records that kept changing while being copied (and 1
				 if records kept being reused while the table was copied) */
	uint64_t read_mono_ns;      /* CLOCK_MONOTONIC when the records were read */
	uint64_t replaced_mono_ns;  /* when exec replaced this image (the next one's start), or 0 */
	int leaks_derived;    /* the leak findings were added (core/leaks.c) */
	int killed_derived;   /* the killed-holding-lock findings were added (core/leaks.c) */
	int alive;            /* the image that wrote it is still running */
};

/* Load a snapshot of the segment at path.  Returns TRACK_EXIT_OK or another track_status,
 * with a one-line reason in err.  The segment's file stays open (for the records read on
 * demand), with a shared flock that keeps it from being collected, until track_snap_free. */
int track_snap_load(const char *path, struct track_snap *s, char *err, size_t errlen);
void track_snap_free(struct track_snap *s);

/* Read the segment again into the same snapshot, reusing its buffers: a live view refreshed
 * every second allocates nothing once warm, and copies only the records in use (the
 * stack and lock-order tables, megabytes, are read again only as they are asked for).  On
 * failure the snapshot must be freed. */
int track_snap_reload(struct track_snap *s, char *err, size_t errlen);

/* A new, zeroed and valid finding record appended to the snapshot's findings, for facts
 * the tools derive (core/leaks.c); NULL without memory.  A reload drops them. */
struct track_finding_rec *track_snap_add_finding(struct track_snap *s);

/* CLOCK_MONOTONIC now, in ns: the clock of every time in a segment. */
uint64_t track_mono_ns(void);

/* Whether a segment file at path owned by uid is one track may read and remove: the
 * caller's (or the user's whose process it was pointed at), or, for root, a segment owned
 * by the user its name gives (only that user or root can make one in that user's private
 * directory). */
int track_seg_owner_ok(const char *path, uid_t uid);

/* Only the header of the segment at path, checked: for listing segments without reading
 * them; the file's status into *st unless st is NULL (set once the file opened as a
 * segment).  Returns TRACK_EXIT_OK or another track_status, with a reason in err. */
int track_seg_header(const char *path, struct track_seg_header *h, struct stat *st, char *err,
		     size_t errlen);

/* The stack with this id, or NULL (id 0, out of range, or never completed). */
const struct track_stack_rec *track_snap_stack(const struct track_snap *s, uint32_t id);

/* The lock-order edge with this id (index + 1), or NULL. */
const struct track_edge_rec *track_snap_edge(const struct track_snap *s, uint32_t id);

/* The object record with this index + 1, or NULL. */
const struct track_obj_rec *track_snap_obj(const struct track_snap *s, uint32_t idx);

/* The record of the object at addr (a live one if there is one), or NULL. */
const struct track_obj_rec *track_snap_obj_at(const struct track_snap *s, uint64_t addr);

/* The thread record of tid (the newest, if the tid was reused), or NULL. */
const struct track_thread_rec *track_snap_thread(const struct track_snap *s, int32_t tid);

/* Records as they are in the file now, not as the snapshot holds them: for a reader that
 * must see one at a moment of its choosing (track stacks, while the thread it describes is
 * stopped).  The thread record of tid is looked for where the snapshot has it, then among
 * the records handed out since.  Returns 1 (copied, and its sequence counter was even and
 * the same before and after the copy), 0 (copied while being written: not consistent), or
 * -1 (no such record, or it cannot be read). */
int track_snap_thread_now(const struct track_snap *s, int32_t tid, struct track_thread_rec *out);
/* The object record with this index + 1 now: 0, or -1 (out of the table, or unreadable). */
int track_snap_obj_now(const struct track_snap *s, uint32_t idx, struct track_obj_rec *out);

/* Where the reader's warnings go (a directory it ignores, and why): a line on stderr unless
 * a front end that owns the terminal (the dashboard) sets another function. */
extern void (*track_seg_warn)(const char *msg);

/* The directories segments live in: TRACK_DIR if set, else the user's private directories
 * (track/segfile.h) that exist; returns how many, or -1 if TRACK_DIR is too long. */
int track_seg_dirs(char dirs[][TRACK_SEGFILE_PATH_MAX], int max);

/* The path of the newest segment of process pid (the current exec image while it runs). */
int track_seg_find_pid(pid_t pid, char *out, size_t len, char *err, size_t errlen);

/* Call fn for every segment file of the calling user (or of the user whose process
 * track_seg_find_pid was pointed at): path, pid, exec generation. */
typedef void (*track_seg_visit)(const char *path, pid_t pid, unsigned gen, void *ctx);
void track_seg_each(track_seg_visit fn, void *ctx);

/* The same for every other user's segments in their private directories, for root (nothing
 * for anyone else): the processes of a run that changed user (setpriv, gosu, su-exec). */
void track_seg_each_other_user(track_seg_visit fn, void *ctx);

/* Whether process pid is running (not a zombie) and is the same process (start time) the
 * segment names; starttime 0: any process of that pid. */
int track_proc_alive(pid_t pid, uint64_t starttime);

/* The run id, pid and start (CLOCK_MONOTONIC) of the segment at path (cheap: reads the
 * header only); 0, or -1 if it is not a readable segment of this version. */
int track_seg_run_id(const char *path, uint64_t *run_id, pid_t *pid, uint64_t *start_ns);

#endif /* TRACK_SEGREAD_H */

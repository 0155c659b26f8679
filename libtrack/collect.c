/*
 * collect.c — a process that ends with exit() and leaves no evidence removes its own
 * segment, so that a build or a test run under LD_PRELOAD does not fill /dev/shm with one
 * segment per compiler or test process.  The rules (README, "Segments"):
 *
 *   kept when  - the process runs under `track run` (run_id set): track run reads and
 *                collects the segments of its run itself;
 *              - TRACK_KEEP is set to anything but "" or "0";
 *              - the shim recorded a finding (or had to drop one);
 *              - a thread other than the one calling exit() is still alive: the "threads
 *                still alive at exit" a leak check is about;
 *              - with TRACK_LEAKS=1, a thread ended that was never joined or detached, or a
 *                lock is still held: what the tools report as leaks (tools/core/leaks.c);
 *              - a track command is reading the segment (the tools hold a shared flock on a
 *                segment while they read it): whoever watches the process wants its end.
 *   removed    otherwise; and with it the segments of this process's earlier exec images
 *              that hold no finding and had no other thread alive at exec.
 *
 * A process that is killed, crashes or ends by _exit() runs none of this: its segment stays,
 * as the evidence of how it ended, until the tools sweep it (tools/cli/cmd_ls.c).
 *
 * This runs from the exit destructor, never on a path a pthread call reaches, but still
 * inside someone else's process: no stdio, no allocation, errno left alone (the caller), and
 * the system calls made with cancellation disabled, as they are cancellation points.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

/* Whether a thread other than the one that called exit() (exit_tid; 0: unknown) is alive. */
static int others_alive(const struct track_seg_header *h)
{
	uint64_t used = TRACK_LOAD(&h->threads_used), i;
	uint64_t n = used < h->max_threads ? used : h->max_threads;
	for (i = 0; i < n; i++) {
		const struct track_thread_rec *t = &track__g.threads[i];
		uint32_t state = TRACK_LOAD(&t->state);
		if (state != TRACK_TS_EXITED && state != TRACK_TS_UNUSED &&
		    TRACK_LOAD(&t->tid) != h->exit_tid)
			return 1;
	}
	/* threads the table had no room for may be alive still */
	return TRACK_LOAD(&h->threads_dropped) != 0;
}

/* With leak checking on: whether an ended thread was never joined nor detached, or a lock
 * is still held (the leaks the tools derive besides threads still alive). */
static int leaves_leaks(const struct track_seg_header *h)
{
	uint64_t used = TRACK_LOAD(&h->threads_used), i;
	uint64_t n = used < h->max_threads ? used : h->max_threads;
	uint64_t m = TRACK_LOAD(&h->objects_used);
	for (i = 0; i < n; i++) {
		const struct track_thread_rec *t = &track__g.threads[i];
		if (TRACK_LOAD(&t->state) == TRACK_TS_EXITED && TRACK_LOAD(&t->creator_tid) != 0 &&
		    !(TRACK_LOAD(&t->flags) & (TRACK_TF_DETACHED | TRACK_TF_JOINED | TRACK_TF_FOREIGN)))
			return 1;
	}
	for (i = 0; i < m && i < h->max_objects; i++) {
		const struct track_obj_rec *o = &track__g.objs[i];
		if ((TRACK_LOAD(&o->flags) & TRACK_OF_LIVE) &&
		    (TRACK_LOAD(&o->owner_tid) != 0 || TRACK_LOAD(&o->readers) != 0))
			return 1;
	}
	return 0;
}

static int has_findings(const struct track_seg_header *h)
{
	return TRACK_LOAD(&h->findings_used) != 0 || TRACK_LOAD(&h->findings_dropped) != 0;
}

/* Whether this process's segment holds something a user may come back for. */
static int worth_keeping(const struct track_seg_header *h)
{
	const char *keep = track__env("TRACK_KEEP");
	if (h->run_id != 0 || (keep != NULL && *keep != '\0' && strcmp(keep, "0") != 0))
		return 1;
	return has_findings(h) || others_alive(h) || (h->leak_check && leaves_leaks(h)) ||
	       TRACK_LOAD(&h->fds_used) != 0 || TRACK_LOAD(&h->fds_dropped) != 0;
}

/* Open the file at path if it is the segment of image gen of this process (me), a regular
 * file of ours, and read its header into h; the descriptor, or -1 if it is not. */
static int open_image(const char *path, const struct track_seg_header *me, uint32_t gen,
		      struct track_seg_header *h)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() &&
	    pread(fd, h, sizeof *h, 0) == (ssize_t)sizeof *h && h->magic == TRACK_SEGMENT_MAGIC &&
	    h->version == TRACK_SEGMENT_VERSION && h->pid == me->pid &&
	    h->proc_starttime == me->proc_starttime && h->exec_gen == gen)
		return fd;
	close(fd);
	return -1;
}

/* Remove the file at path, open as fd, unless a reader holds it: 0 if removed. */
static int remove_unread(const char *path, int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		return -1;
	return unlink(path);
}

/* The segments of this process's earlier images (the same pid and start time, an earlier
 * exec generation, in the same directory) that hold nothing: no finding, no thread but the
 * one that called exec, not of a track run. */
static void collect_earlier_images(const char *dir, const struct track_seg_header *me)
{
	char path[TRACK_SEGFILE_PATH_MAX];
	struct track_seg_header h;
	uint32_t gen;
	for (gen = 0; gen < me->exec_gen; gen++) {
		int fd;
		if (track_segfile_path(path, sizeof path, dir, me->uid, me->pid, gen) != 0)
			return;
		if ((fd = open_image(path, me, gen, &h)) < 0)
			continue;
		if (h.run_id == 0 && !has_findings(&h) && h.threads_alive <= 1)
			remove_unread(path, fd);
		close(fd);
	}
}

/* This image's own segment, if no reader holds it; 0 if it was removed. */
static int collect_own(const struct track_seg_header *me)
{
	struct track_seg_header h;
	int fd = open_image(track__g.path, me, me->exec_gen, &h), rc = -1;
	if (fd < 0)
		return -1;
	if (h.start_mono_ns == me->start_mono_ns)   /* this very image, not a namesake */
		rc = remove_unread(track__g.path, fd);
	close(fd);
	return rc;
}

void track__segment_collect_self(void)
{
	const struct track_seg_header *me = track__g.hdr;
	char dir[TRACK_SEGFILE_PATH_MAX];
	char *slash;
	int state;
	/* a vfork child shares the parent's memory, and with it the parent's segment */
	if (me == NULL || me->pid != getpid() || worth_keeping(me))
		return;
	memcpy(dir, track__g.path, sizeof dir);
	dir[sizeof dir - 1] = '\0';
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	if (collect_own(me) == 0)
		collect_earlier_images(dir, me);
	pthread_setcancelstate(state, NULL);
}

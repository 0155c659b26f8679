/*
 * seglist.c — the user's segments listed, aged, sorted and removed (see seglist.h).
 *
 * When a segment's process ended is known exactly only when its exit was recorded
 * (exit_mono_ns, counted from the image's own start).  Otherwise what is true is a bound: it
 * had ended by the time a later exec image of the same process started, or by the time a
 * track command first found it gone, which that command writes into the header
 * (gone_realtime_ns) so that every later one counts from the same moment.  Ages built on a
 * bound are lower bounds, and a sweep by age never removes a segment whose end is unknown.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/seglist.h"

#define X_NAME(e, name) name,
const char *const track_seg_state_names[] = {TRACK_SEG_STATES(X_NAME)};
const char *const track_seg_sort_names[] = {TRACK_SEG_SORTS(X_NAME) NULL};
const char *const track_remove_words[] = {TRACK_REMOVE_RESULTS(X_NAME)};
#undef X_NAME

uint64_t track_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- listing --------------------------------------------------------------------------------- */

static void add_entry(const char *path, pid_t pid, unsigned gen, void *vl)
{
	struct track_seg_list *l = vl;
	struct track_seg_entry *e;
	struct stat st;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		if ((e = realloc(l->v, cap * sizeof *e)) == NULL) {
			l->incomplete = 1;
			return;
		}
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->path, sizeof e->path, "%s", path);
	e->pid = pid;
	e->gen = gen;
	memset(&st, 0, sizeof st);
	if (track_seg_header(path, &e->hdr, &st, e->err, sizeof e->err) != TRACK_EXIT_OK)
		e->state = TRACK_SEG_UNREADABLE;
	e->bytes = (uint64_t)st.st_blocks * 512;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
}

static int by_pid(const void *a, const void *b)
{
	const struct track_seg_entry *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->gen < y->gen ? -1 : x->gen > y->gen;
}

/* Whether b is a later image of a's process (both read; the same pid and start time). */
static int later_image(const struct track_seg_entry *a, const struct track_seg_entry *b)
{
	return b->state != TRACK_SEG_UNREADABLE && b->pid == a->pid && b->gen > a->gen &&
	       b->hdr.proc_starttime == a->hdr.proc_starttime;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* Write now into the header of e, ended with no end recorded: the file examined, still. */
static void stamp_gone(struct track_seg_entry *e, uint64_t now)
{
	struct stat st;
	int fd = open(e->path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    st.st_dev == e->dev && st.st_ino == e->ino &&
	    pwrite(fd, &now, sizeof now, offsetof(struct track_seg_header, gone_realtime_ns)) ==
		    (ssize_t)sizeof now)
		e->hdr.gone_realtime_ns = now;
	close(fd);
}

/* State and times of e, whose later image (or NULL) is next. */
static void settle(struct track_seg_entry *e, const struct track_seg_entry *next, uint64_t now)
{
	const struct track_seg_header *h = &e->hdr;
	e->start_ns = h->start_realtime_ns;
	if (h->exit_mono_ns != 0 && h->exit_mono_ns >= h->start_mono_ns)
		e->end_ns = h->start_realtime_ns + (h->exit_mono_ns - h->start_mono_ns);
	if (track_proc_alive(h->pid, h->proc_starttime)) {
		e->state = next != NULL ? TRACK_SEG_EXECD : TRACK_SEG_RUNNING;
	} else {
		e->state = TRACK_SEG_ENDED;
		if (e->end_ns == 0 && h->gone_realtime_ns == 0)
			stamp_gone(e, now);
	}
	if (e->state != TRACK_SEG_RUNNING && e->end_ns == 0)
		e->end_before_ns = earliest(h->gone_realtime_ns, next ? next->start_ns : 0);
}

int track_seg_list(struct track_seg_list *l, uint64_t now_ns)
{
	size_t i, k;
	memset(l, 0, sizeof *l);
	track_seg_each(add_entry, l);
	if (l->n > 0)   /* v is NULL when there is no segment: qsort must not get NULL */
		qsort(l->v, l->n, sizeof *l->v, by_pid);
	for (i = l->n; i-- > 0;) {   /* from the end: a later image is settled first */
		struct track_seg_entry *e = &l->v[i];
		const struct track_seg_entry *next = NULL;
		if (e->state == TRACK_SEG_UNREADABLE)
			continue;
		for (k = i + 1; k < l->n && next == NULL && l->v[k].pid == e->pid; k++)
			if (later_image(e, &l->v[k]))
				next = &l->v[k];
		settle(e, next, now_ns);
	}
	return l->incomplete ? -1 : 0;
}

void track_seg_list_free(struct track_seg_list *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* --- ages, figures, order -------------------------------------------------------------------- */

static uint64_t since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

void track_seg_age(const struct track_seg_entry *e, uint64_t now_ns, struct track_seg_age *a)
{
	memset(a, 0, sizeof *a);
	if (e->state == TRACK_SEG_UNREADABLE)
		return;
	a->known = 1;
	if (e->state == TRACK_SEG_RUNNING)
		a->ns = since(now_ns, e->start_ns);
	else if (e->end_ns != 0)
		a->ns = since(now_ns, e->end_ns);
	else if (e->end_before_ns != 0)
		a->at_least = 1, a->ns = since(now_ns, e->end_before_ns);
	else
		a->known = 0;
}

uint64_t track_seg_findings(const struct track_seg_entry *e)
{
	const struct track_seg_header *h = &e->hdr;
	return h->findings_used < h->max_findings ? h->findings_used : h->max_findings;
}

struct sort_ctx {
	enum track_seg_sort key;
	uint64_t now;
};

/* The figure of e that key orders by. */
static uint64_t sort_value(const struct track_seg_entry *e, const struct sort_ctx *c)
{
	struct track_seg_age a;
	switch (c->key) {
	case TRACK_SORT_AGE:
		track_seg_age(e, c->now, &a);
		return a.ns;
	case TRACK_SORT_THREADS: return e->hdr.threads_alive;
	case TRACK_SORT_OBJECTS: return e->hdr.objects_live;
	case TRACK_SORT_FINDINGS: return track_seg_findings(e);
	case TRACK_SORT_SIZE: return e->bytes;
	default: return 0;
	}
}

static int entry_order(const void *a, const void *b, void *vc)
{
	const struct track_seg_entry *x = a, *y = b;
	const struct sort_ctx *c = vc;
	int xu = x->state == TRACK_SEG_UNREADABLE, yu = y->state == TRACK_SEG_UNREADABLE;
	uint64_t vx, vy;
	if (c->key != TRACK_SORT_PID && xu != yu)
		return xu - yu;
	if (c->key != TRACK_SORT_PID && !xu &&
	    (vx = sort_value(x, c)) != (vy = sort_value(y, c)))
		return vx < vy ? 1 : -1;
	return by_pid(x, y);
}

void track_seg_list_sort(struct track_seg_list *l, enum track_seg_sort key, uint64_t now_ns)
{
	struct sort_ctx c = {key, now_ns};
	if (l->n > 0)   /* as in track_seg_list: v may be NULL */
		qsort_r(l->v, l->n, sizeof *l->v, entry_order, &c);
}

/* --- removing -------------------------------------------------------------------------------- */

/* Whether the process of the segment open as fd runs: by its header when this track reads
 * its layout, else (another version, damaged) by the pid of its name. */
static int process_runs(int fd, pid_t name_pid)
{
	struct track_seg_header h;
	if (pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h && h.magic == TRACK_SEGMENT_MAGIC &&
	    h.version == TRACK_SEGMENT_VERSION)
		return track_proc_alive(h.pid, h.proc_starttime);
	return track_proc_alive(name_pid, 0);
}

enum track_remove_result track_seg_remove(const char *path, pid_t name_pid)
{
	enum track_remove_result rc;
	struct stat st, again;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return TRACK_REMOVE_FAILED;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !track_seg_owner_ok(path, st.st_uid))
		rc = TRACK_REMOVE_NOT_OURS;
	else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		rc = TRACK_REMOVE_READING;
	else if (process_runs(fd, name_pid))
		rc = TRACK_REMOVE_RUNNING;
	else if (lstat(path, &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino)
		rc = TRACK_REMOVE_FAILED;   /* the name was given to another file meanwhile */
	else
		rc = unlink(path) == 0 ? TRACK_REMOVE_REMOVED : TRACK_REMOVE_FAILED;
	close(fd);
	return rc;
}

size_t track_seg_sweep(uint64_t older_ns, const char *except, uint64_t *bytes)
{
	struct track_seg_list l;
	struct stat kept;
	uint64_t now = track_realtime_ns();
	size_t i, n = 0;
	int keep_one = except != NULL && stat(except, &kept) == 0;
	if (track_seg_list(&l, now) != 0) {
		track_seg_list_free(&l);
		return 0;
	}
	for (i = 0; i < l.n; i++) {
		const struct track_seg_entry *e = &l.v[i];
		struct track_seg_age a;
		track_seg_age(e, now, &a);
		if (e->state != TRACK_SEG_ENDED || !a.known || a.ns < older_ns ||
		    (keep_one && e->dev == kept.st_dev && e->ino == kept.st_ino))
			continue;
		if (track_seg_remove(e->path, e->pid) == TRACK_REMOVE_REMOVED) {
			n++;
			*bytes += e->bytes;
		}
	}
	track_seg_list_free(&l);
	return n;
}

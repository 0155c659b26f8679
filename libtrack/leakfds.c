/*
 * leakfds.c — descriptors for the in-process leak API (include/track.h): the list of those
 * open at a snapshot, those open now that were not, and the report naming what each one
 * refers to.
 *
 * A descriptor is known by its number and what it refers to (device and inode), so one
 * closed and reopened on another file since the snapshot counts as new.  One exception: the
 * unit-test framework Check, run with CK_FORK=no, replaces its message file (a deleted
 * TEMP/check_XXXXXX) after each checked setup, so between the setup that took a snapshot
 * (track/check.h) and the teardown that checks, that number holds a new file: a deleted
 * check_XXXXXX where one was is the same descriptor.  (Where freed inode numbers are reused,
 * ext4 say, the new file mostly had the old one's; on tmpfs never.)
 * This runs in the thread that asks, never on a pthread path: it may allocate.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

/* What descriptor fd refers to, as /proc/self/fd shows it. */
static void fd_target(int fd, char *buf, size_t len)
{
	char link[32];
	ssize_t n;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* Whether target is "DIR/check_XXXXXX (deleted)": a message file of Check (mkstemp's six
 * letters or digits). */
static int is_check_msg(const char *target)
{
	static const char tail[] = " (deleted)";
	const char *base = strrchr(target, '/');
	size_t i;
	if (base == NULL || strncmp(++base, "check_", 6) != 0)
		return 0;
	for (i = 6; i < 12; i++)
		if (!((base[i] >= 'a' && base[i] <= 'z') || (base[i] >= 'A' && base[i] <= 'Z') ||
		      (base[i] >= '0' && base[i] <= '9')))
			return 0;
	return strcmp(base + 12, tail) == 0;
}

static void add_fd(int fd, void *ctx)
{
	struct track__fd_list *l = ctx;
	char target[TRACK_SEGFILE_PATH_MAX];
	struct stat st;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 64;
		struct track__fd_ent *p = realloc(l->ent, cap * sizeof *p);
		if (p == NULL) {
			l->failed = 1;
			return;
		}
		l->ent = p;
		l->cap = cap;
	}
	memset(&l->ent[l->n], 0, sizeof l->ent[0]);
	l->ent[l->n].fd = fd;
	if (fstat(fd, &st) == 0) {
		l->ent[l->n].dev = (uint64_t)st.st_dev;
		l->ent[l->n].ino = (uint64_t)st.st_ino;
		if (S_ISREG(st.st_mode) && st.st_nlink == 0) {
			fd_target(fd, target, sizeof target);
			l->ent[l->n].check_msg = is_check_msg(target);
		}
	}
	l->n++;
}

static int by_fd(const void *a, const void *b)
{
	const struct track__fd_ent *x = a, *y = b;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

int track__fd_list_take(struct track__fd_list *l)
{
	l->n = 0;
	l->failed = 0;
	track__each_fd(add_fd, l);
	if (l->failed || l->ent == NULL)
		return -1;
	qsort(l->ent, l->n, sizeof l->ent[0], by_fd);
	return 0;
}

static int in_list(const struct track__fd_list *l, const struct track__fd_ent *e)
{
	uint32_t lo = 0, hi = l->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (l->ent[mid].fd == e->fd)
			return (l->ent[mid].dev == e->dev && l->ent[mid].ino == e->ino) ||
			       (l->ent[mid].check_msg && e->check_msg);
		if (l->ent[mid].fd < e->fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

uint32_t track__fd_list_new_since(struct track__fd_list *now, const struct track__fd_list *then)
{
	uint32_t i, n = 0;
	char target[TRACK_SEGFILE_PATH_MAX];
	for (i = 0; i < now->n; i++) {
		struct track__fd_ent *e = &now->ent[i];
		e->is_new = !in_list(then, e);
		if (e->is_new) {   /* the shim's own (a segment after fork) never count */
			fd_target(e->fd, target, sizeof target);
			e->is_new = strcmp(target, track__g.path) != 0;
		}
		n += e->is_new;
	}
	return n;
}

char *track__fd_list_report(const struct track__fd_list *now, uint32_t n, uint64_t waited_ns)
{
	char *out = NULL, target[512];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	uint32_t i;
	if (f == NULL)
		return NULL;
	fprintf(f, "%u descriptor%s opened since the snapshot %s still open after %.3f s:\n", n,
		n == 1 ? "" : "s", n == 1 ? "is" : "are", (double)waited_ns / 1e9);
	for (i = 0; i < now->n; i++) {
		if (!now->ent[i].is_new)
			continue;
		fd_target(now->ent[i].fd, target, sizeof target);
		fprintf(f, "  fd %d -> %s\n", now->ent[i].fd, target[0] ? target : "(unknown)");
	}
	fclose(f);
	return out;
}

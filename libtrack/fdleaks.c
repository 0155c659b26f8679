/*
 * fdleaks.c — descriptors a process opened and never closed (TRACK_LEAKS=2): which were
 * open when the shim started, and at the end, which are open that were not, written into
 * the segment for the tools to report as fd-leak findings (tools/core/leaks.c).
 *
 * Both run outside any pthread call (the constructor, and exit or _exit), but inside
 * someone else's process: no stdio, no allocation (the directory is read with getdents64
 * into a buffer on the stack), the descriptor used for reading closed again and never
 * counted, errno left to the caller.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define FD_BITS 65536   /* descriptors above this are not followed */

static uint64_t open_at_start[FD_BITS / 64];

struct dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Call fn for every descriptor of this process but the one reading the list. */
void track__each_fd(void (*fn)(int fd, void *ctx), void *ctx)
{
	char buf[2048];
	long n;
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
		long at = 0;
		while (at < n) {
			struct dirent64 *d = (struct dirent64 *)(buf + at);
			int fd = 0;
			const char *p;
			for (p = d->name; *p >= '0' && *p <= '9' && fd < FD_BITS; p++)
				fd = fd * 10 + (*p - '0');
			if (p != d->name && *p == '\0' && fd != dir)
				fn(fd, ctx);
			at += d->reclen;
		}
	}
	close(dir);
}

static void note_open(int fd, void *ctx)
{
	(void)ctx;
	if (fd < FD_BITS)
		open_at_start[fd / 64] |= 1ull << (fd % 64);
}

static void record_new(int fd, void *ctx)
{
	struct track_seg_header *h = track__g.hdr;
	struct track_fd_rec *r;
	char link[32];
	struct stat st;
	ssize_t n;
	(void)ctx;
	if (fd < FD_BITS && (open_at_start[fd / 64] & (1ull << (fd % 64))))
		return;
	if (h->fds_used >= h->max_fds) {
		TRACK_ADD(&h->fds_dropped, 1);
		return;
	}
	r = &track__g.fds[h->fds_used];
	if (track__seg_reserve(r, sizeof *r) != 0)
		return;
	memset(r, 0, sizeof *r);
	r->fd = fd;
	if (fstat(fd, &st) == 0) {
		r->dev = (uint64_t)st.st_dev;
		r->ino = (uint64_t)st.st_ino;
	}
	track__format(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, r->target, sizeof r->target - 1);
	r->target[n > 0 ? n : 0] = '\0';
	TRACK_STORE(&h->fds_used, h->fds_used + 1);
}

/* open, getdents64, readlink and close are cancellation points: a cancel pending in the
 * exiting thread must not act inside the shim. */
static void each_fd_uncancelled(void (*fn)(int fd, void *ctx))
{
	int state;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	track__each_fd(fn, NULL);
	pthread_setcancelstate(state, NULL);
}

void track__fds_at_start(void)
{
	memset(open_at_start, 0, sizeof open_at_start);   /* a fork child starts afresh */
	if (track__g.hdr != NULL && track__g.hdr->leak_check >= 2)
		each_fd_uncancelled(note_open);
}

void track__fds_at_end(void)
{
	if (track__g.hdr != NULL && track__g.hdr->leak_check >= 2 && track__g.hdr->fds_used == 0)
		each_fd_uncancelled(record_new);
}

/*
 * dest.c — where a subcommand's reports go: a renderer (render/render.h) writing to a file
 * or a standard stream, opened when there is something to write and closed with every
 * write error said (see cli.h, struct track_dest); and the output files of reports and
 * snapshots, which never block on a FIFO nobody reads, never keep a part of what could not
 * be written whole, and never write through what another user planted at their name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

/* The directory path is in, into dir. */
static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int track_output_planted(const char *path, const struct stat *st)
{
	char dir[4096];
	struct stat d;
	dir_of(path, dir, sizeof dir);
	return stat(dir, &d) == 0 && (d.st_mode & S_ISVTX) && (d.st_mode & S_IWOTH) &&
	       st->st_uid != geteuid() && st->st_uid != d.st_uid;
}

/* An existing file at path, opened to be written (O_NONBLOCK: a FIFO without a reader is
 * ENXIO, not a wait), unless it is planted (said: errno 0); -1 with errno. */
static int open_existing(const char *path, const char *what)
{
	struct stat st, now;
	int fd;
	if (lstat(path, &st) != 0)
		return -1;
	if (track_output_planted(path, &st)) {
		track_error("cannot write %s to %s: it is another user's (uid %u) in a shared "
			    "directory, not yours to write through; remove it, or name another file",
			    what, path, (unsigned)st.st_uid);
		errno = 0;
		return -1;
	}
	/* a link of the user's (or of the directory's owner) is followed as asked; any other
	 * file must still be the one just looked at */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | (S_ISLNK(st.st_mode) ? 0 : O_NOFOLLOW));
	if (fd >= 0 && !S_ISLNK(st.st_mode) &&
	    (fstat(fd, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino)) {
		close(fd);
		track_error("cannot write %s to %s: it was replaced while being opened", what, path);
		errno = 0;
		return -1;
	}
	return fd;
}

FILE *track_open_output(const char *path, const char *what, int *created)
{
	struct stat st;
	FILE *f = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0666), e;
	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open_existing(path, what);
	if (fd >= 0 &&
	    (fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) ||
	     fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
	     (f = fdopen(fd, "w")) == NULL)) {
		e = errno;
		close(fd);
		track_out_discard(path, *created);
		errno = e;
		fd = -1;
	}
	if (fd < 0) {
		if (errno != 0)   /* 0: said already */
			track_error("cannot write %s to %s: %s", what, path, strerror(errno));
		return NULL;
	}
	return f;
}

void track_out_discard(const char *path, int created)
{
	struct stat st;
	int e = errno;
	if (created)
		unlink(path);
	else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && truncate(path, 0) != 0)
		e = errno;   /* nothing more to be done: the write error is said already */
	errno = e;
}

int track_dest_open(struct track_dest *d, const char *format, const char *path, FILE *dflt,
		    const char *dflt_name, const struct track_render_opts *o)
{
	memset(d, 0, sizeof *d);
	if (path == NULL) {
		d->f = dflt;
		d->name = dflt_name;
	} else if (strcmp(path, "-") == 0) {
		d->f = stdout;
		d->name = "stdout";
	} else if ((d->f = track_open_output(path, "the report", &d->created)) == NULL) {
		return -1;
	} else {
		d->name = d->path = path;
	}
	if (track_output_begin(&d->out, format, d->f, o) != 0) {
		track_error("cannot begin the %s report: out of memory", format);
		if (d->path != NULL) {
			fclose(d->f);
			track_out_discard(d->path, d->created);   /* leave no empty report */
		}
		d->f = NULL;
		return -1;
	}
	return 0;
}

void track_dest_add(struct track_dest *d, struct track_view *v)
{
	if (d->f != NULL)
		track_output_add(&d->out, v);
}

int track_flush(FILE *f, const char *name)
{
	int bad = fflush(f) != 0 || ferror(f);
	int e = errno;
	if (f != stdout && f != stderr && fclose(f) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (bad)
		track_error("cannot write the report to %s: %s", name, strerror(e));
	return bad ? -1 : 0;
}

int track_dest_close(struct track_dest *d)
{
	int ended, rc;
	if (d->f == NULL)
		return 0;
	ended = track_output_end(&d->out);
	rc = track_flush(d->f, d->name);
	if (ended != 0 && rc == 0) {
		/* the renderer failed with the stream still good: it ran out of memory */
		track_error("cannot write the report to %s: out of memory", d->name);
		rc = -1;
	}
	if (rc != 0 && d->path != NULL)
		track_out_discard(d->path, d->created);   /* no part of a report */
	d->f = NULL;
	return rc;
}

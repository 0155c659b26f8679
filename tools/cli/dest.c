/*
 * dest.c — where a subcommand's reports go: a renderer (render/render.h) writing to a file
 * or a standard stream, opened when there is something to write and closed with every
 * write error said (see cli.h, struct track_dest); and the output files of reports and
 * snapshots, which never block on a FIFO nobody reads and never keep a part of what could
 * not be written whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

FILE *track_out_open(const char *path, int *created)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0666), e;
	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)   /* O_NONBLOCK: a FIFO without a reader is ENXIO */
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		track_out_discard(path, *created);
		errno = e;
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
	} else if ((d->f = track_out_open(path, &d->created)) == NULL) {
		track_error("cannot write the report to %s: %s", path, strerror(errno));
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

/*
 * dest.c — where a subcommand's reports go: a renderer (render/render.h) writing to a file
 * or a standard stream, opened when there is something to write and closed with every
 * write error said (see cli.h, struct track_dest).
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

/* Refuse path when it is planted (see cli.h): said; 0 if it is not. */
static int refuse_planted(const char *path, const struct stat *st)
{
	if (!track_output_planted(path, st))
		return 0;
	track_error("cannot write the report to %s: it is another user's (uid %u) in a shared "
		    "directory, not yours to write through; remove it, or name another file", path,
		    (unsigned)st->st_uid);
	return -1;
}

FILE *track_open_output(const char *path)
{
	struct stat st, now;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	FILE *f;
	if (fd < 0 && errno == EEXIST) {
		if (lstat(path, &st) != 0 || refuse_planted(path, &st) != 0)
			return NULL;
		/* a link of the user's (or of the directory's owner) is followed as asked; any
		 * other file must still be the one just looked at */
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | (S_ISLNK(st.st_mode) ? 0 : O_NOFOLLOW));
		if (fd >= 0 && !S_ISLNK(st.st_mode) &&
		    (fstat(fd, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino)) {
			close(fd);
			track_error("cannot write the report to %s: it was replaced while being "
				    "opened", path);
			return NULL;
		}
	}
	if (fd < 0) {
		track_error("cannot write the report to %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		track_error("cannot write the report to %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
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
	} else if ((d->f = track_open_output(path)) == NULL) {
		return -1;
	} else {
		d->name = path;
	}
	if (track_output_begin(&d->out, format, d->f, o) != 0) {
		track_error("cannot begin the %s report: out of memory", format);
		if (d->f != stdout && d->f != stderr) {
			fclose(d->f);
			unlink(path);   /* nothing was written: leave no empty report */
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
	d->f = NULL;
	return rc;
}

/*
 * dest.c — where a subcommand's reports go: a renderer (render/render.h) writing to a file
 * or a standard stream, opened when there is something to write and closed with every
 * write error said (see cli.h, struct track_dest).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

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
	} else if ((d->f = fopen(path, "we")) == NULL) {
		track_error("cannot write the report to %s: %s", path, strerror(errno));
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

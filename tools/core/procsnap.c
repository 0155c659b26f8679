/*
 * procsnap.c — a snapshot of a live traced process for leak checks: which threads are alive
 * (and, optionally, which descriptors are open) at one moment, written as a small versioned
 * JSON document (`track snapshot`), read back, and compared with the process later
 * (`track leaks`): what is alive now that was not then.
 *
 * A thread is known by when it was created (CLOCK_MONOTONIC, from its record) and its tid:
 * tids are reused, creation times are not.  A thread created but not yet running has no
 * tid yet; it is alive all the same (it will run), and known by its creation time alone.  A descriptor is known by its number and the
 * device and inode it refers to, so a number closed and opened again on something else is
 * new.  The snapshot is untrusted input when read back: every field is checked, and a
 * snapshot of another process (pid and start time) is refused.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/procsnap.h"

#define SNAP_FORMAT "track-snapshot"
#define SNAP_VERSION 1
#define SNAP_MAX_ITEMS 4000000   /* more threads or descriptors than any process has */
#define SNAP_MAX_BYTES (512ull << 20)   /* a snapshot of SNAP_MAX_ITEMS threads fits */

static int thread_alive(const struct track_thread_rec *t)
{
	return t->state != TRACK_TS_UNUSED && t->state != TRACK_TS_EXITED;
}

/* s made valid UTF-8 in place, as a JSON string must be: a byte that does not begin a whole,
 * well-formed character becomes '?'.  A descriptor's target may be any bytes (a file name),
 * and one cut to the size of the field may end inside a character: written as it was, the
 * snapshot lost the target and track leaks refused it as damaged. */
static void utf8_repair(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (*p != '\0') {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
			(*p & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t c = (uint32_t)*p & (n == 2 ? 0x1fu : n == 3 ? 0x0fu : 0x07u);
		int i;
		for (i = 1; i < n && (p[i] & 0xc0) == 0x80; i++)
			c = c << 6 | (p[i] & 0x3fu);
		if (n == 0 || i < n || (n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
		    (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff)) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

/* Descriptors of pid: number, device, inode and what /proc says it points to. */
static int read_fds(pid_t pid, struct track_procsnap *ps)
{
	char dir[64], path[96];
	struct dirent *e;
	DIR *d;
	size_t cap = 0;
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		struct track_procsnap_fd *f;
		struct stat st;
		ssize_t n;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (ps->nfds == cap) {
			void *p = realloc(ps->fds, (cap = cap ? 2 * cap : 64) * sizeof *ps->fds);
			if (p == NULL)
				break;
			ps->fds = p;
		}
		f = &ps->fds[ps->nfds];
		memset(f, 0, sizeof *f);
		f->fd = atoi(e->d_name);
		snprintf(path, sizeof path, "%s/%d", dir, f->fd);
		if (stat(path, &st) == 0) {
			f->dev = (uint64_t)st.st_dev;
			f->ino = (uint64_t)st.st_ino;
		}
		n = readlink(path, f->target, sizeof f->target - 1);
		f->target[n > 0 ? n : 0] = '\0';
		utf8_repair(f->target);
		ps->nfds++;
	}
	closedir(d);
	return 0;
}

int track_procsnap_take(const struct track_snap *s, int fds, struct track_procsnap *ps,
			char *err, size_t errlen)
{
	uint32_t i;
	memset(ps, 0, sizeof *ps);
	ps->pid = s->hdr.pid;
	ps->starttime = s->hdr.proc_starttime;
	ps->taken_mono_ns = s->read_mono_ns;
	ps->threads = calloc(s->nthreads ? s->nthreads : 1, sizeof *ps->threads);
	if (ps->threads == NULL) {
		snprintf(err, errlen, "out of memory");
		return TRACK_EXIT_FAIL;
	}
	for (i = 0; i < s->nthreads; i++)
		if (thread_alive(&s->threads[i])) {
			ps->threads[ps->nthreads].tid = s->threads[i].tid;
			ps->threads[ps->nthreads].created_ns = s->threads[i].created_ns;
			ps->nthreads++;
		}
	ps->has_fds = fds;
	if (fds && read_fds(ps->pid, ps) != 0) {
		snprintf(err, errlen, "cannot read the descriptors of process %d: %s", (int)ps->pid,
			 strerror(errno));
		return errno == EACCES ? TRACK_EXIT_PERM : TRACK_EXIT_FAIL;
	}
	return TRACK_EXIT_OK;
}

void track_procsnap_free(struct track_procsnap *ps)
{
	free(ps->threads);
	free(ps->fds);
	memset(ps, 0, sizeof *ps);
}

/* --- JSON ------------------------------------------------------------------------------------ */

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

json_t *track_procsnap_json(const struct track_procsnap *ps)
{
	json_t *o = json_object(), *ts = json_array();
	size_t i;
	json_object_set_new(o, "format", json_string(SNAP_FORMAT));
	json_object_set_new(o, "version", json_integer(SNAP_VERSION));
	json_object_set_new(o, "pid", json_integer(ps->pid));
	json_object_set_new(o, "starttime", u64(ps->starttime));
	json_object_set_new(o, "taken_mono_ns", u64(ps->taken_mono_ns));
	for (i = 0; i < ps->nthreads; i++) {
		json_t *t = json_object();
		json_object_set_new(t, "tid", json_integer(ps->threads[i].tid));
		json_object_set_new(t, "created_ns", u64(ps->threads[i].created_ns));
		json_array_append_new(ts, t);
	}
	json_object_set_new(o, "threads", ts);
	if (ps->has_fds) {
		json_t *fs = json_array();
		for (i = 0; i < ps->nfds; i++) {
			json_t *f = json_object();
			json_object_set_new(f, "fd", json_integer(ps->fds[i].fd));
			json_object_set_new(f, "dev", u64(ps->fds[i].dev));
			json_object_set_new(f, "ino", u64(ps->fds[i].ino));
			json_object_set_new(f, "target", json_string(ps->fds[i].target));
			json_array_append_new(fs, f);
		}
		json_object_set_new(o, "fds", fs);
	}
	return o;
}

/* The non-negative integer o.key into *v; -1 if it is missing or not one. */
static int get_u64(json_t *o, const char *key, uint64_t *v)
{
	json_t *j = json_object_get(o, key);
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static int parse_threads(json_t *a, struct track_procsnap *ps)
{
	size_t i;
	json_t *t;
	if (!json_is_array(a) || json_array_size(a) > SNAP_MAX_ITEMS)
		return -1;
	ps->threads = calloc(json_array_size(a) + 1, sizeof *ps->threads);
	if (ps->threads == NULL)
		return -1;
	json_array_foreach(a, i, t) {
		uint64_t tid, created;
		if (get_u64(t, "tid", &tid) != 0 || tid > INT32_MAX ||
		    get_u64(t, "created_ns", &created) != 0)
			return -1;
		ps->threads[i].tid = (int32_t)tid;
		ps->threads[i].created_ns = created;
		ps->nthreads++;
	}
	return 0;
}

static int parse_fds(json_t *a, struct track_procsnap *ps)
{
	size_t i;
	json_t *f;
	ps->has_fds = a != NULL;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > SNAP_MAX_ITEMS)
		return -1;
	ps->fds = calloc(json_array_size(a) + 1, sizeof *ps->fds);
	if (ps->fds == NULL)
		return -1;
	json_array_foreach(a, i, f) {
		uint64_t fd;
		const char *target = json_string_value(json_object_get(f, "target"));
		if (get_u64(f, "fd", &fd) != 0 || fd > INT32_MAX || target == NULL ||
		    get_u64(f, "dev", &ps->fds[i].dev) != 0 || get_u64(f, "ino", &ps->fds[i].ino) != 0)
			return -1;
		ps->fds[i].fd = (int)fd;
		snprintf(ps->fds[i].target, sizeof ps->fds[i].target, "%s", target);
		utf8_repair(ps->fds[i].target);   /* the cut may end inside a character */
		ps->nfds++;
	}
	return 0;
}

int track_procsnap_read(const char *path, struct track_procsnap *ps, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;
	uint64_t version, pid;
	const char *format;
	int rc = TRACK_EXIT_USAGE;
	struct stat st;
	memset(ps, 0, sizeof *ps);
	if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SNAP_MAX_BYTES)) {
		snprintf(err, errlen, "%s: not a track snapshot (%s)", path,
			 S_ISREG(st.st_mode) ? "far too large" : "not a regular file");
		return TRACK_EXIT_USAGE;
	}
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		snprintf(err, errlen, "%s: not a track snapshot: %s (line %d)", path, je.text,
			 je.line);
		return TRACK_EXIT_USAGE;
	}
	format = json_string_value(json_object_get(o, "format"));
	if (format == NULL || strcmp(format, SNAP_FORMAT) != 0 ||
	    get_u64(o, "version", &version) != 0) {
		snprintf(err, errlen, "%s: not a track snapshot (make one with track snapshot PID)",
			 path);
	} else if (version != SNAP_VERSION) {
		snprintf(err, errlen, "%s: snapshot version %llu, but this track reads version %d",
			 path, (unsigned long long)version, SNAP_VERSION);
	} else if (get_u64(o, "pid", &pid) != 0 || pid > INT32_MAX ||
		   get_u64(o, "starttime", &ps->starttime) != 0 ||
		   get_u64(o, "taken_mono_ns", &ps->taken_mono_ns) != 0 ||
		   parse_threads(json_object_get(o, "threads"), ps) != 0 ||
		   parse_fds(json_object_get(o, "fds"), ps) != 0) {
		snprintf(err, errlen, "%s: a damaged track snapshot (a field is missing or wrong)",
			 path);
	} else {
		ps->pid = (pid_t)pid;
		rc = TRACK_EXIT_OK;
	}
	json_decref(o);
	if (rc != TRACK_EXIT_OK)
		track_procsnap_free(ps);
	return rc;
}

/* --- comparing ------------------------------------------------------------------------------- */

int track_procsnap_had_thread(const struct track_procsnap *ps, const struct track_thread_rec *t)
{
	size_t i;
	for (i = 0; i < ps->nthreads; i++)
		if (ps->threads[i].created_ns == t->created_ns &&
		    (ps->threads[i].tid == t->tid || ps->threads[i].tid == 0 || t->tid == 0))
			return 1;
	return 0;
}

size_t track_procsnap_new_threads(const struct track_snap *s, const struct track_procsnap *since,
				  uint32_t *out)
{
	size_t n = 0;
	uint32_t i;
	for (i = 0; i < s->nthreads; i++)
		if (thread_alive(&s->threads[i]) && !track_procsnap_had_thread(since, &s->threads[i]))
			out[n++] = i;
	return n;
}

size_t track_procsnap_new_fds(const struct track_procsnap *now, const struct track_procsnap *since,
			      size_t *out)
{
	size_t n = 0, i, j;
	for (i = 0; i < now->nfds; i++) {
		const struct track_procsnap_fd *f = &now->fds[i];
		for (j = 0; j < since->nfds; j++)
			if (since->fds[j].fd == f->fd && since->fds[j].dev == f->dev &&
			    since->fds[j].ino == f->ino)
				break;
		if (j == since->nfds)
			out[n++] = i;
	}
	return n;
}

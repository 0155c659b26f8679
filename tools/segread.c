/*
 * segread.c — finding, validating and snapshotting segments (see segread.h).
 *
 * A segment is untrusted input: another process wrote it, it may be from another version of
 * track, truncated, or still being written.  Every size and offset is checked against the
 * file before anything is read through it.  Thread records carry a sequence counter; a copy
 * taken while the counter was odd or moved is retried, and counted as torn if it never
 * settles.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "segread.h"

#define SEQ_RETRIES 200

int track_seg_dirs(const char *dirs[], int max)
{
	const char *d = getenv("TRACK_DIR");
	if (max < 2)
		return 0;
	if (d != NULL && *d != '\0') {
		dirs[0] = d;
		return 1;
	}
	dirs[0] = "/dev/shm";
	dirs[1] = "/tmp";
	return 2;
}

static uint64_t read_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	int fd, field;
	ssize_t n;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

int track_proc_alive(pid_t pid, uint64_t starttime)
{
	if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
		return 0;
	return starttime == 0 || read_starttime(pid) == starttime;
}

/* Parse "track.<uid>.<pid>.<gen>"; 1 if it is one of ours. */
static int parse_name(const char *name, pid_t *pid, unsigned *gen)
{
	unsigned uid;
	int p, used = 0;
	if (sscanf(name, "track.%u.%d.%u%n", &uid, &p, gen, &used) != 3 || name[used] != '\0')
		return 0;
	if (uid != (unsigned)geteuid())
		return 0;
	*pid = p;
	return 1;
}

void track_seg_each(track_seg_visit fn, void *ctx)
{
	const char *dirs[2];
	int nd = track_seg_dirs(dirs, 2), i;
	for (i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char path[512];
			pid_t pid;
			unsigned gen;
			if (!parse_name(e->d_name, &pid, &gen))
				continue;
			snprintf(path, sizeof path, "%s/%s", dirs[i], e->d_name);
			fn(path, pid, gen, ctx);
		}
		closedir(d);
	}
}

int track_seg_run_id(const char *path, uint64_t *run_id, pid_t *pid, unsigned *gen)
{
	struct track_seg_header h;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = pread(fd, &h, sizeof h, 0);
	close(fd);
	if (n != (ssize_t)sizeof h || h.magic != TRACK_SEGMENT_MAGIC ||
	    h.version != TRACK_SEGMENT_VERSION)
		return -1;
	*run_id = h.run_id;
	*pid = h.pid;
	*gen = h.exec_gen;
	return 0;
}

struct find_ctx {
	pid_t pid;
	uint64_t live_start;   /* start time of the running process with that pid, 0 if none */
	unsigned best_gen;
	int found;
	char best[512];
};

static uint64_t header_starttime(const char *path)
{
	struct track_seg_header h;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return 0;
	n = pread(fd, &h, sizeof h, 0);
	close(fd);
	return n == (ssize_t)sizeof h ? h.proc_starttime : 0;
}

static void find_visit(const char *path, pid_t pid, unsigned gen, void *vctx)
{
	struct find_ctx *c = vctx;
	if (pid != c->pid || (c->found && gen < c->best_gen))
		return;
	/* While the process runs, only its own segments count, not a stale one of an earlier
	 * process that had the same pid. */
	if (c->live_start != 0 && header_starttime(path) != c->live_start)
		return;
	c->found = 1;
	c->best_gen = gen;
	snprintf(c->best, sizeof c->best, "%s", path);
}

int track_seg_find_pid(pid_t pid, char *out, size_t len, char *err, size_t errlen)
{
	struct find_ctx c = {pid, read_starttime(pid), 0, 0, ""};
	track_seg_each(find_visit, &c);
	if (!c.found) {
		if (kill(pid, 0) != 0 && errno == ESRCH)
			snprintf(err, errlen, "no process %d, and no segment left by one", (int)pid);
		else
			snprintf(err, errlen,
				 "process %d has no track segment (was it started under track run "
				 "or with LD_PRELOAD=libtrack.so, and by you?)", (int)pid);
		return TRACK_EXIT_NOENT;
	}
	snprintf(out, len, "%s", c.best);
	return TRACK_EXIT_OK;
}

/* Check that [off, off + count * size) lies inside a file of total bytes. */
static int section_ok(uint64_t off, uint64_t count, uint64_t size, uint64_t total)
{
	return off <= total && size != 0 && count <= (total - off) / size;
}

static int header_ok(const struct track_seg_header *h, uint64_t fsize, char *err, size_t errlen,
		     const char *path)
{
	if (h->magic != TRACK_SEGMENT_MAGIC) {
		snprintf(err, errlen, "%s is not a track segment", path);
		return TRACK_EXIT_VERSION;
	}
	if (h->version != TRACK_SEGMENT_VERSION) {
		snprintf(err, errlen,
			 "%s has segment layout version %u, but this track reads version %u: use "
			 "the track that matches the libtrack.so the program ran with",
			 path, h->version, TRACK_SEGMENT_VERSION);
		return TRACK_EXIT_VERSION;
	}
	if (h->header_size != sizeof *h || h->thread_rec_size != sizeof(struct track_thread_rec) ||
	    h->obj_rec_size != sizeof(struct track_obj_rec) ||
	    h->module_rec_size != sizeof(struct track_module_rec) ||
	    h->finding_rec_size != sizeof(struct track_finding_rec) ||
	    h->stack_rec_size != sizeof(struct track_stack_rec) ||
	    h->edge_rec_size != sizeof(struct track_edge_rec) || h->total_size > fsize ||
	    !section_ok(h->edges_off, h->max_edges, h->edge_rec_size, h->total_size) ||
	    !section_ok(h->stacks_off, h->max_stacks, h->stack_rec_size, h->total_size) ||
	    !section_ok(h->threads_off, h->max_threads, h->thread_rec_size, h->total_size) ||
	    !section_ok(h->objects_off, h->max_objects, h->obj_rec_size, h->total_size) ||
	    !section_ok(h->modules_off, h->max_modules, h->module_rec_size, h->total_size) ||
	    !section_ok(h->findings_off, h->max_findings, h->finding_rec_size, h->total_size)) {
		snprintf(err, errlen, "%s is damaged: its sections do not fit the file", path);
		return TRACK_EXIT_VERSION;
	}
	return TRACK_EXIT_OK;
}

static uint32_t clamp_count(uint64_t used, uint32_t cap)
{
	return used < cap ? (uint32_t)used : cap;
}

static void *copy_section(const char *base, uint64_t off, uint32_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (p != NULL)
		memcpy(p, base + off, (size_t)n * size);
	return p;
}

/* Copy thread records one by one, each consistent by its sequence counter. */
static uint32_t copy_threads(const char *base, const struct track_seg_header *h,
			     struct track_thread_rec *out, uint32_t n)
{
	const struct track_thread_rec *src = (const void *)(base + h->threads_off);
	uint32_t i, torn = 0;
	for (i = 0; i < n; i++) {
		int tries;
		for (tries = 0; tries < SEQ_RETRIES; tries++) {
			uint32_t s1 = __atomic_load_n(&src[i].seq, __ATOMIC_ACQUIRE);
			memcpy(&out[i], &src[i], sizeof out[i]);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (!(s1 & 1) && __atomic_load_n(&src[i].seq, __ATOMIC_RELAXED) == s1)
				break;
		}
		if (tries == SEQ_RETRIES)
			torn++;
	}
	return torn;
}

static int open_checked(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open segment %s: %s", path, strerror(errno));
		return errno == EACCES || errno == EPERM ? -TRACK_EXIT_PERM : -TRACK_EXIT_NOENT;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		close(fd);
		return -TRACK_EXIT_VERSION;
	}
	if (st->st_uid != geteuid()) {
		snprintf(err, errlen,
			 "segment %s belongs to uid %u, not to you (uid %u): run track as its owner",
			 path, (unsigned)st->st_uid, (unsigned)geteuid());
		close(fd);
		return -TRACK_EXIT_PERM;
	}
	if ((uint64_t)st->st_size < sizeof(struct track_seg_header)) {
		snprintf(err, errlen, "%s is not a track segment (too short)", path);
		close(fd);
		return -TRACK_EXIT_VERSION;
	}
	return fd;
}

int track_snap_load(const char *path, struct track_snap *s, char *err, size_t errlen)
{
	struct stat st;
	const char *base;
	const struct track_seg_header *h;
	int fd, rc;

	memset(s, 0, sizeof *s);
	snprintf(s->path, sizeof s->path, "%s", path);
	fd = open_checked(path, &st, err, errlen);
	if (fd < 0)
		return -fd;
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		snprintf(err, errlen, "cannot map segment %s: %s", path, strerror(errno));
		return TRACK_EXIT_FAIL;
	}
	h = (const struct track_seg_header *)base;
	memcpy(&s->hdr, h, sizeof s->hdr);
	rc = header_ok(&s->hdr, (uint64_t)st.st_size, err, errlen, path);
	if (rc == TRACK_EXIT_OK) {
		s->nthreads = clamp_count(s->hdr.threads_used, s->hdr.max_threads);
		s->nobjs = clamp_count(s->hdr.objects_used, s->hdr.max_objects);
		s->nmods = clamp_count(s->hdr.modules_used, s->hdr.max_modules);
		s->nfindings = clamp_count(s->hdr.findings_used, s->hdr.max_findings);
		s->threads = calloc(s->nthreads ? s->nthreads : 1, sizeof *s->threads);
		s->objs = copy_section(base, s->hdr.objects_off, s->nobjs, sizeof *s->objs);
		s->mods = copy_section(base, s->hdr.modules_off, s->nmods, sizeof *s->mods);
		s->findings = copy_section(base, s->hdr.findings_off, s->nfindings,
					   sizeof *s->findings);
		s->nstacks = s->hdr.max_stacks;
		s->stacks = copy_section(base, s->hdr.stacks_off, s->nstacks, sizeof *s->stacks);
		s->nedges = s->hdr.max_edges;
		s->edges = copy_section(base, s->hdr.edges_off, s->nedges, sizeof *s->edges);
		if (!s->threads || !s->objs || !s->mods || !s->findings || !s->stacks ||
		    !s->edges) {
			snprintf(err, errlen, "out of memory reading %s", path);
			rc = TRACK_EXIT_FAIL;
		} else {
			s->torn = copy_threads(base, &s->hdr, s->threads, s->nthreads);
			s->alive = track_proc_alive(s->hdr.pid, s->hdr.proc_starttime);
		}
	}
	munmap((void *)base, (size_t)st.st_size);
	if (rc != TRACK_EXIT_OK)
		track_snap_free(s);
	return rc;
}

const struct track_stack_rec *track_snap_stack(const struct track_snap *s, uint32_t id)
{
	const struct track_stack_rec *st;
	if (id == 0 || id > s->nstacks)
		return NULL;
	st = &s->stacks[id - 1];
	return st->nframes > 0 && st->nframes <= TRACK_STACK_DEPTH ? st : NULL;
}

const struct track_edge_rec *track_snap_edge(const struct track_snap *s, uint32_t id)
{
	const struct track_edge_rec *e;
	if (id == 0 || id > s->nedges)
		return NULL;
	e = &s->edges[id - 1];
	return e->ready ? e : NULL;
}

const struct track_obj_rec *track_snap_obj(const struct track_snap *s, uint32_t idx)
{
	return idx >= 1 && idx <= s->nobjs ? &s->objs[idx - 1] : NULL;
}

const struct track_thread_rec *track_snap_thread(const struct track_snap *s, int32_t tid)
{
	const struct track_thread_rec *best = NULL;
	uint32_t i;
	for (i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid && (best == NULL || s->threads[i].created_ns >
								  best->created_ns))
			best = &s->threads[i];
	return best;
}

void track_snap_free(struct track_snap *s)
{
	free(s->threads);
	free(s->objs);
	free(s->mods);
	free(s->findings);
	free(s->stacks);
	free(s->edges);
	s->stacks = NULL;
	s->edges = NULL;
	s->threads = NULL;
	s->objs = NULL;
	s->mods = NULL;
	s->findings = NULL;
}

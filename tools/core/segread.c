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
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/segread.h"
#include "track/env.h"
#include "track/hash.h"

#define SEQ_RETRIES 200
#define TABLE_RETRIES 16   /* copies of the thread table and tallies (read_threads_tallies) */

/* Whose segments are looked for: the caller's own (its effective uid), unless it may read
 * another user's process and asked for one (track_seg_find_pid). */
static uid_t seg_owner = (uid_t)-1;
/* That user's process's own TRACK_DIR when it had one ("": it did not), in place of ours. */
static char owner_dir[TRACK_SEGFILE_PATH_MAX];

static uid_t owner(void)
{
	return seg_owner == (uid_t)-1 ? geteuid() : seg_owner;
}

/* What a segment file's name says ("track.<uid>.<pid>.<gen>"); 0, or -1 if the name is
 * not one (a segment copied to a name of the user's choosing). */
static int name_says(const char *path, unsigned *uid, int *pid, unsigned *gen)
{
	const char *base = strrchr(path, '/');
	return track_segfile_parse(base ? base + 1 : path, uid, pid, gen);
}

/* The uid a segment file's name gives, or -1. */
static long name_uid(const char *path)
{
	unsigned uid, gen;
	int pid;
	return name_says(path, &uid, &pid, &gen) == 0 ? (long)uid : -1;
}

/* Whether header h may be the segment its file's name says: the shim names every segment
 * after the uid, pid and exec generation it records, so a header that disagrees with its
 * name was forged (or copied there), and is not the process the name says. */
static int header_fits_name(const struct track_seg_header *h, const char *path)
{
	unsigned uid, gen;
	int pid;
	return name_says(path, &uid, &pid, &gen) != 0 ||
	       (h->uid == uid && h->pid == pid && h->exec_gen == gen);
}

/* Whether a segment file owned by uid may be read: the caller's (or the user it reads for),
 * or, for root, a segment whose owner is the user its name gives: only that user or root
 * can make such a file in that user's private directory, and root may read any user's
 * process (as gdb and eu-stack do). */
int track_seg_owner_ok(const char *path, uid_t uid)
{
	return uid == owner() || (geteuid() == 0 && name_uid(path) == (long)uid);
}

/* Open a file that may be a segment without ever blocking (a FIFO planted under a segment's
 * name), following a link, or trusting the name: it must be a regular file of the caller's,
 * large enough for a header.  Returns the descriptor, or -(exit status) with err set. */
static int open_seg(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP) {
			snprintf(err, errlen, "%s is a symbolic link, not a track segment", path);
			return -TRACK_EXIT_VERSION;
		}
		snprintf(err, errlen, "cannot open segment %s: %s", path, strerror(e));
		return e == EACCES || e == EPERM ? -TRACK_EXIT_PERM : -TRACK_EXIT_NOENT;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s is not a regular file, so not a track segment", path);
		close(fd);
		return -TRACK_EXIT_VERSION;
	}
	if (!track_seg_owner_ok(path, st->st_uid)) {
		snprintf(err, errlen,
			 "segment %s belongs to uid %u, not to you (uid %u): run track as its owner, "
			 "or as root", path, (unsigned)st->st_uid, (unsigned)geteuid());
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

/* Read exactly n bytes at off; 0, or -1 (short file, I/O error). */
static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* The header of the segment at path, read without blocking; 0, or -(exit status). */
static int read_header(const char *path, struct track_seg_header *h, char *err, size_t errlen)
{
	struct stat st;
	int fd = open_seg(path, &st, err, errlen), rc = 0;
	if (fd < 0)
		return fd;
	if (pread_all(fd, h, sizeof *h, 0) != 0) {
		snprintf(err, errlen, "cannot read %s", path);
		rc = -TRACK_EXIT_VERSION;
	}
	close(fd);
	return rc;
}

static void warn_stderr(const char *msg)
{
	fprintf(stderr, "track: %s\n", msg);
}

void (*track_seg_warn)(const char *msg) = warn_stderr;

int track_seg_dirs(char dirs[][TRACK_SEGFILE_PATH_MAX], int max)
{
	static const char *const bases[] = TRACK_SEGDIR_BASES;
	static int warned[TRACK_SEGDIR_NBASES];   /* a command looks many times: said once */
	const char *d = seg_owner == (uid_t)-1 ? getenv("TRACK_DIR") : owner_dir;
	int i, n = 0;
	if (d != NULL && *d != '\0') {
		if (max < 1 || strlen(d) >= TRACK_SEGFILE_PATH_MAX)
			return -1;
		strcpy(dirs[0], d);
		return 1;
	}
	for (i = 0; i < TRACK_SEGDIR_NBASES && n < max; i++) {
		struct stat st;
		if (track_segdir_private(dirs[n], TRACK_SEGFILE_PATH_MAX, bases[i],
					 (unsigned)owner()) != 0 || lstat(dirs[n], &st) != 0)
			continue;
		if (!track_segdir_is_private(&st, (unsigned)owner())) {
			char msg[TRACK_SEGFILE_PATH_MAX + 96];
			snprintf(msg, sizeof msg, "ignoring %s: not a directory of yours closed to "
				 "others (remove it, or set TRACK_DIR)", dirs[n]);
			if (!warned[i]++)
				track_seg_warn(msg);
			continue;
		}
		n++;
	}
	return n;
}

/* The start time of process pid (0 if it cannot be read), and whether it has ended but
 * not been reaped yet (a zombie: its segment has no writer any more). */
static uint64_t read_starttime_state(pid_t pid, int *zombie)
{
	char path[64], buf[1024];
	const char *paren;
	int fd;
	ssize_t n;
	*zombie = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	paren = strrchr(buf, ')');   /* then " S ...": the state after the command name */
	*zombie = paren != NULL && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
	return track_stat_starttime(buf);
}

static uint64_t read_starttime(pid_t pid)
{
	int zombie;
	return read_starttime_state(pid, &zombie);
}

int track_proc_alive(pid_t pid, uint64_t starttime)
{
	uint64_t start;
	int zombie;
	if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
		return 0;
	start = read_starttime_state(pid, &zombie);
	return !zombie && (starttime == 0 || start == starttime);
}

/* Whether name is a segment file of uid's: "track.<uid>.<pid>.<gen>". */
static int parse_name(const char *name, unsigned want_uid, pid_t *pid, unsigned *gen)
{
	unsigned uid;
	int p;
	if (track_segfile_parse(name, &uid, &p, gen) != 0 || uid != want_uid)
		return 0;
	*pid = p;
	return 1;
}

/* fn for every segment file of uid in dir. */
static void each_in(const char *dir, unsigned uid, track_seg_visit fn, void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[TRACK_SEGFILE_PATH_MAX];
		pid_t pid;
		unsigned gen;
		int n;
		if (!parse_name(e->d_name, uid, &pid, &gen))
			continue;
		n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof path)
			continue;   /* cannot be named whole: never act on a cut name */
		fn(path, pid, gen, ctx);
	}
	closedir(d);
}

void track_seg_each(track_seg_visit fn, void *ctx)
{
	char dirs[TRACK_SEGDIR_NBASES][TRACK_SEGFILE_PATH_MAX];
	int nd = track_seg_dirs(dirs, TRACK_SEGDIR_NBASES), i;
	for (i = 0; i < nd; i++)
		each_in(dirs[i], (unsigned)owner(), fn, ctx);
}

void track_seg_each_other_user(track_seg_visit fn, void *ctx)
{
	static const char *const bases[] = TRACK_SEGDIR_BASES;
	int i;
	if (geteuid() != 0)
		return;   /* other users' directories are closed to anyone else */
	for (i = 0; i < TRACK_SEGDIR_NBASES; i++) {
		DIR *d = opendir(bases[i]);
		struct dirent *e;
		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char dir[TRACK_SEGFILE_PATH_MAX], *end;
			unsigned long uid;
			struct stat st;
			if (strncmp(e->d_name, "track-", 6) != 0)
				continue;
			uid = strtoul(e->d_name + 6, &end, 10);
			if (*end != '\0' || end == e->d_name + 6 || uid == (unsigned long)geteuid() ||
			    track_segdir_private(dir, sizeof dir, bases[i], (unsigned)uid) != 0 ||
			    lstat(dir, &st) != 0 || !track_segdir_is_private(&st, (unsigned)uid))
				continue;
			each_in(dir, (unsigned)uid, fn, ctx);
		}
		closedir(d);
	}
}

int track_seg_run_id(const char *path, uint64_t *run_id, pid_t *pid, uint64_t *start_ns)
{
	struct track_seg_header h;
	char err[TRACK_SEGFILE_PATH_MAX + 128];
	if (read_header(path, &h, err, sizeof err) != 0 || h.magic != TRACK_SEGMENT_MAGIC ||
	    h.version != TRACK_SEGMENT_VERSION)
		return -1;
	*run_id = h.run_id;
	*pid = h.pid;
	*start_ns = h.start_mono_ns;
	return 0;
}

struct find_ctx {
	pid_t pid;
	uint64_t live_start;   /* start time of the running process with that pid, 0 if none */
	unsigned best_gen;
	int found;
	char best[TRACK_SEGFILE_PATH_MAX];
};

static void find_visit(const char *path, pid_t pid, unsigned gen, void *vctx)
{
	struct find_ctx *c = vctx;
	struct track_seg_header h;
	char err[TRACK_SEGFILE_PATH_MAX + 128];
	if (pid != c->pid || (c->found && gen < c->best_gen))
		return;
	/* Only a readable segment of the caller's counts (a file another user planted in a
	 * shared TRACK_DIR is not one), and while the process runs only its own, not a stale
	 * one of an earlier process that had the same pid. */
	if (read_header(path, &h, err, sizeof err) != 0 || h.magic != TRACK_SEGMENT_MAGIC ||
	    !header_fits_name(&h, path) ||
	    (c->live_start != 0 && h.proc_starttime != c->live_start))
		return;
	c->found = 1;
	c->best_gen = gen;
	snprintf(c->best, sizeof c->best, "%s", path);
}

/* The user who owns process pid, by its /proc directory; 0 if it can be read, else -1. */
static int proc_owner(pid_t pid, uid_t *uid)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if (stat(path, &st) != 0)
		return -1;
	*uid = st.st_uid;
	return 0;
}

/* Whether ptrace would let the caller read process pid: the kernel's own check, made by
 * opening a file that needs it. */
static int may_read_process(pid_t pid)
{
	char path[64];
	int fd;
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* The TRACK_DIR in process pid's environment into out ("" if none). */
static void proc_track_dir(pid_t pid, char *out, size_t len)
{
	char path[64], *buf = NULL, *p;
	size_t cap = 0, n = 0;
	ssize_t k;
	int fd;
	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = n + 65536);
			if (nb == NULL)
				break;
			buf = nb;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	for (p = buf; buf != NULL && p < buf + n; p += strlen(p) + 1) {
		buf[n] = '\0';
		if (strncmp(p, "TRACK_DIR=", 10) == 0 && strlen(p + 10) < len)
			snprintf(out, len, "%s", p + 10);
	}
	free(buf);
}

/* Process pid is another user's: read that user's segments if the caller may read the
 * process (root, CAP_SYS_PTRACE), else say whose it is.  TRACK_EXIT_OK or a status. */
static int other_users_process(pid_t pid, uid_t uid, char *err, size_t errlen)
{
	struct passwd *pw = getpwuid(uid);
	char who[64];
	snprintf(who, sizeof who, "%s%s(uid %u)", pw ? pw->pw_name : "", pw ? " " : "",
		 (unsigned)uid);
	if (!may_read_process(pid)) {
		snprintf(err, errlen, "process %d belongs to %s: run track as that user, or as root",
			 (int)pid, who);
		return TRACK_EXIT_PERM;
	}
	seg_owner = uid;
	proc_track_dir(pid, owner_dir, sizeof owner_dir);
	return TRACK_EXIT_OK;
}

int track_seg_find_pid(pid_t pid, char *out, size_t len, char *err, size_t errlen)
{
	struct find_ctx c = {pid, read_starttime(pid), 0, 0, ""};
	uid_t uid;
	int rc;
	track_seg_each(find_visit, &c);
	if (!c.found && proc_owner(pid, &uid) == 0 && uid != owner()) {
		rc = other_users_process(pid, uid, err, errlen);
		if (rc != TRACK_EXIT_OK)
			return rc;
		track_seg_each(find_visit, &c);
	}
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

/* Check that [off, off + count * size) lies inside a file of total bytes, on a record
 * boundary (sections are 64-byte aligned, as the records they hold require). */
static int section_ok(uint64_t off, uint64_t count, uint64_t size, uint64_t total)
{
	return off % 64 == 0 && off <= total && size != 0 && count <= (total - off) / size;
}

/* The largest capacity the shim gives table v, a power of two when pow2 (it rounds up). */
static uint64_t cap_max(enum track_env_var v, int pow2)
{
	uint64_t hi = track_env_spec(v)->hi, p = 1;
	if (!pow2)
		return hi;
	while (p < hi)
		p <<= 1;
	return p;
}

/* Whether every table is no larger than the shim ever makes it (track/env.h's ranges): a
 * forged header with capacities in the billions, in a sparse file large enough for them,
 * would otherwise have a reader allocate and read terabytes before anything is shown. */
static int capacities_ok(const struct track_seg_header *h)
{
	return h->max_threads <= cap_max(TRACK_ENV_MAX_THREADS, 0) &&
	       h->max_objects <= cap_max(TRACK_ENV_MAX_OBJECTS, 0) &&
	       h->max_modules <= cap_max(TRACK_ENV_MAX_MODULES, 0) &&
	       h->max_findings <= cap_max(TRACK_ENV_MAX_FINDINGS, 0) &&
	       h->max_stacks <= cap_max(TRACK_ENV_MAX_STACKS, 1) &&
	       h->max_edges <= cap_max(TRACK_ENV_MAX_EDGES, 1) &&
	       h->max_profs <= cap_max(TRACK_ENV_MAX_PROFILES, 1) &&
	       h->max_fds <= TRACK_MAX_FDS && h->max_queues <= TRACK_MAX_QUEUES &&
	       h->max_pool_tallies <= TRACK_MAX_POOL_TALLIES &&
	       h->max_cycle_items <= (uint64_t)h->max_findings * TRACK_CYCLE_ITEMS_PER_FINDING;
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
	if (!header_fits_name(h, path)) {
		snprintf(err, errlen, "%s is damaged or forged: its header names process %d, "
			 "image %u of uid %u, not the one its file name says", path, (int)h->pid,
			 h->exec_gen, h->uid);
		return TRACK_EXIT_VERSION;
	}
	if (!capacities_ok(h) ||
	    h->header_size != sizeof *h || h->thread_rec_size != sizeof(struct track_thread_rec) ||
	    h->obj_rec_size != sizeof(struct track_obj_rec) ||
	    h->module_rec_size != sizeof(struct track_module_rec) ||
	    h->finding_rec_size != sizeof(struct track_finding_rec) ||
	    h->stack_rec_size != sizeof(struct track_stack_rec) ||
	    h->edge_rec_size != sizeof(struct track_edge_rec) || h->total_size > fsize ||
	    h->max_stacks == 0 || (h->max_stacks & (h->max_stacks - 1)) != 0 ||
	    h->max_edges == 0 || (h->max_edges & (h->max_edges - 1)) != 0 ||
	    !section_ok(h->edges_off, h->max_edges, h->edge_rec_size, h->total_size) ||
	    !section_ok(h->edge_index_off, h->edge_index_slots, sizeof(uint32_t), h->total_size) ||
	    !section_ok(h->fds_off, h->max_fds, sizeof(struct track_fd_rec), h->total_size) ||
	    !section_ok(h->profs_off, h->max_profs, sizeof(struct track_prof_rec), h->total_size) ||
	    !section_ok(h->queues_off, h->max_queues, sizeof(struct track_queue_rec),
			h->total_size) ||
	    !section_ok(h->pool_tallies_off, h->max_pool_tallies, sizeof(struct track_pool_tally),
			h->total_size) ||
	    !section_ok(h->cycle_items_off, h->max_cycle_items, sizeof(struct track_cycle_item),
			h->total_size) ||
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

/* Records read on demand: a table the size of the segment's, allocated untouched (so only
 * what is read takes memory), and a byte per record saying whether it has been. */
struct track_lazy {
	int fd;
	uint32_t max_stacks, max_edges;
	struct track_stack_rec *stacks;
	struct track_edge_rec *edges;
	uint8_t *stack_read, *edge_read;
	/* buffers kept across reloads, and their capacities */
	uint32_t cap_threads, cap_objs, cap_mods, cap_findings, cap_obj_index, cap_thr_index;
	uint32_t cap_fds, cap_profs, cap_queues, cap_items, cap_tallies;
	uint32_t *seq, cap_seq;   /* the thread records' counters, read a second time */
};

/* n records of size bytes at off into *buf, grown if it holds fewer than n (capacity in
 * *cap, kept across reloads); 0, or -1 (out of memory, or the file shrank).  pread, not a
 * mapping: a hole of a tmpfs segment reads as zeros without being allocated (reading must
 * not cost the target memory), and a full file system cannot raise SIGBUS in the reader. */
static int read_into(int fd, void **buf, uint32_t *cap, uint32_t n, size_t size, uint64_t off)
{
	if (n > *cap || *buf == NULL) {
		/* twice what was there, or at first a quarter and 64 more than there is: a
		 * table that grows between reloads (a live process making objects and threads)
		 * is not reallocated on every one */
		uint32_t want = *cap == 0 ? n + n / 4 + 64 : n > 2 * *cap ? n : 2 * *cap;
		void *p = realloc(*buf, (size_t)(want ? want : 1) * size);
		if (p == NULL)
			return -1;
		*buf = p;
		*cap = want;
	}
	return n > 0 ? pread_all(fd, *buf, (size_t)n * size, off) : 0;
}

/* Thread records, each consistent by its sequence counter: the section is read twice, and a
 * record whose counter was even and the same both times was not being written in between
 * (the counter comes first in the record, and the second read starts after the first ends).
 * Others are read again, alone, up to SEQ_RETRIES times; those that never settle are torn. */
static uint32_t read_threads(int fd, const struct track_seg_header *h,
			     struct track_thread_rec *out, uint32_t n, struct track_lazy *z)
{
	uint32_t i, torn = 0, *seq = NULL;
	if (n <= z->cap_seq || (seq = realloc(z->seq, (size_t)n * sizeof *seq)) != NULL) {
		if (seq != NULL) {
			z->seq = seq;
			z->cap_seq = n;
		}
		seq = z->seq;
	}
	for (i = 0; i < n && seq != NULL; i++)   /* the counters again, after the first read */
		if (pread_all(fd, &seq[i], sizeof seq[i], h->threads_off + (uint64_t)i * sizeof *out))
			seq[i] = 1;
	for (i = 0; i < n; i++) {
		uint64_t off = h->threads_off + (uint64_t)i * sizeof *out;
		uint32_t again = seq != NULL ? seq[i] : 1;
		int tries = 0;
		while (TRACK_SEQ_WRITING(out[i].seq) || out[i].seq != again) {
			if (++tries > SEQ_RETRIES || pread_all(fd, &out[i], sizeof out[i], off) != 0 ||
			    pread_all(fd, &again, sizeof again, off) != 0)
				break;
		}
		if (tries > SEQ_RETRIES)
			torn++;
	}
	return torn;
}

/* The thread records and the pool tallies as of one moment.  A record the shim reuses moves
 * its thread into a tally, with the header's pool_seq odd meanwhile: a copy taken across
 * such a move would count the thread twice or not at all, so the two are copied again until
 * pool_seq was even and unchanged around the copy, each record's own check included (a
 * record read again alone there may have been reused meanwhile).  A writer that never lets
 * it settle (a storm; a process killed in the middle of a move, odd for good) costs
 * TABLE_RETRIES copies, and the snapshot then counts one torn read.  0, or -1. */
static int read_threads_tallies(struct track_snap *s)
{
	struct track_lazy *z = s->lazy;
	const uint64_t seq_off = offsetof(struct track_seg_header, pool_seq);
	const uint64_t used_off = offsetof(struct track_seg_header, pool_tallies_used);
	uint64_t before = s->hdr.pool_seq, after;
	uint32_t used = s->hdr.pool_tallies_used, torn;
	int tries;
	for (tries = 0;; tries++) {
		s->ntallies = clamp_count(used, s->hdr.max_pool_tallies);
		if (read_into(z->fd, (void **)&s->threads, &z->cap_threads, s->nthreads,
			      sizeof *s->threads, s->hdr.threads_off) != 0 ||
		    read_into(z->fd, (void **)&s->tallies, &z->cap_tallies, s->ntallies,
			      sizeof *s->tallies, s->hdr.pool_tallies_off) != 0)
			return -1;
		torn = read_threads(z->fd, &s->hdr, s->threads, s->nthreads, z);
		if (pread_all(z->fd, &after, sizeof after, seq_off) != 0)
			return -1;
		if (!TRACK_SEQ_WRITING(before) && after == before)
			break;
		if (tries == TABLE_RETRIES) {
			torn++;
			break;
		}
		before = after;
		if (pread_all(z->fd, &used, sizeof used, used_off) != 0)
			return -1;
	}
	s->torn += torn;
	return 0;
}

/* A lock held once (timed) has no hold profile: the shim keeps that hold in the lock's
 * record (first_hold) and makes the profile only at a second.  Such a hold is made a
 * profile of one here, appended to the profiles read, so that every reader sees it as the
 * shim would have recorded it.  0, or -1 without memory. */
static int add_first_holds(struct track_snap *s)
{
	struct track_lazy *z = s->lazy;
	uint32_t i, n = 0;
	for (i = 0; i < s->nobjs; i++)
		n += s->objs[i].first_hold != 0 && s->objs[i].first_hold != TRACK_FIRST_HOLD_TAKEN;
	if (n == 0)
		return 0;
	if (s->nprofs + n > z->cap_profs) {
		void *p = realloc(s->profs, ((size_t)s->nprofs + n) * sizeof *s->profs);
		if (p == NULL)
			return -1;
		s->profs = p;
		z->cap_profs = s->nprofs + n;
	}
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *o = &s->objs[i];
		struct track_prof_rec *p;
		uint64_t ns = o->first_hold - 1;
		if (o->first_hold == 0 || o->first_hold == TRACK_FIRST_HOLD_TAKEN)
			continue;
		p = &s->profs[s->nprofs++];
		memset(p, 0, sizeof *p);
		p->key = 1;
		p->ready = 1;
		p->role = TRACK_PR_HOLD;
		p->obj_kind = o->kind;
		p->lock_id = o->lock_id;
		p->addr = o->addr;
		p->pc = o->first_pc;
		p->stack = o->first_stack;
		p->count = p->samples = 1;
		p->total_ns = p->max_ns = ns;
		p->hist[track_hist_bucket(ns)] = 1;
	}
	return 0;
}

static void lazy_free(struct track_lazy *z)
{
	free(z->stacks);
	free(z->edges);
	free(z->stack_read);
	free(z->edge_read);
	free(z->seq);
	free(z);
}

static struct track_lazy *lazy_new(int fd, uint32_t nstacks, uint32_t nedges)
{
	struct track_lazy *z = calloc(1, sizeof *z);
	if (z == NULL)
		return NULL;
	z->fd = fd;
	z->max_stacks = nstacks;
	z->max_edges = nedges;
	z->stacks = calloc(nstacks, sizeof *z->stacks);
	z->edges = calloc(nedges, sizeof *z->edges);
	z->stack_read = calloc(nstacks, 1);
	z->edge_read = calloc(nedges, 1);
	if (z->stacks && z->edges && z->stack_read && z->edge_read)
		return z;
	lazy_free(z);
	return NULL;
}

/* Record i of a table at off, read the first time it is asked for; a record that cannot be
 * read stays zeros (empty). */
static const void *lazy_get(int fd, void *table, uint8_t *read, uint32_t i, size_t size,
			    uint64_t off)
{
	char *rec = (char *)table + (size_t)i * size;
	if (!read[i]) {
		if (pread_all(fd, rec, size, off + (uint64_t)i * size) != 0)
			memset(rec, 0, size);
		read[i] = 1;
	}
	return rec;
}

/* --- indexes -------------------------------------------------------------------------------- */

static uint32_t mix(uint64_t k)
{
	return track_hash_bits(k, 32);
}

/* An open-addressed table of n entries (index + 1) for a snapshot, twice as many slots. */
static int index_alloc(uint32_t **tab, uint32_t *cap, uint32_t *mask, uint32_t n)
{
	uint32_t slots = 4;
	while (slots < 2 * n)
		slots <<= 1;
	if (slots > *cap || *tab == NULL) {
		uint32_t *p = realloc(*tab, slots * sizeof *p);
		if (p == NULL)
			return -1;
		*tab = p;
		*cap = slots;
	}
	memset(*tab, 0, slots * sizeof **tab);
	*mask = slots - 1;
	return 0;
}

static void index_put(uint32_t *tab, uint32_t mask, uint64_t key, uint32_t i)
{
	uint32_t h = mix(key) & mask;
	while (tab[h] != 0)
		h = (h + 1) & mask;
	tab[h] = i + 1;
}

/* Objects by address, threads by tid: look-ups without scanning the tables. */
static int build_indexes(struct track_snap *s)
{
	uint32_t i;
	if (index_alloc(&s->obj_index, &s->lazy->cap_obj_index, &s->obj_mask, s->nobjs) != 0 ||
	    index_alloc(&s->thr_index, &s->lazy->cap_thr_index, &s->thr_mask, s->nthreads) != 0)
		return -1;
	for (i = 0; i < s->nobjs; i++)
		if (s->objs[i].kind != TRACK_OBJ_NONE)
			index_put(s->obj_index, s->obj_mask, s->objs[i].addr, i);
	for (i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid != 0)
			index_put(s->thr_index, s->thr_mask, (uint64_t)(uint32_t)s->threads[i].tid, i);
	return 0;
}

/* --- loading ------------------------------------------------------------------------------- */

uint64_t track_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* When the image s describes was replaced by exec: the start of the next exec generation
 * of the same process, in the same directory (the shim of the new image starts moments
 * after the exec).  0 if it was not. */
static uint64_t replaced_at(const struct track_snap *s)
{
	char next[TRACK_SEGFILE_PATH_MAX], dir[TRACK_SEGFILE_PATH_MAX], err[16];
	const char *slash = strrchr(s->path, '/');
	struct track_seg_header h;
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - s->path), s->path);
	if (track_segfile_path(next, sizeof next, dir, s->hdr.uid, s->hdr.pid,
			       s->hdr.exec_gen + 1) != 0 ||
	    track_seg_header(next, &h, NULL, err, sizeof err) != TRACK_EXIT_OK ||
	    h.proc_starttime != s->hdr.proc_starttime)
		return 0;
	return h.start_mono_ns;
}

/* A finding whose list is longer than its record holds must name entries that were read: if
 * not (a damaged or planted file, or entries appended after the count was read), it keeps
 * the entries of its record only. */
static void long_lists_ok(struct track_snap *s)
{
	uint32_t i;
	for (i = 0; i < s->nfindings; i++) {
		struct track_finding_rec *f = &s->findings[i];
		if (f->nitems > TRACK_CYCLE_MAX &&
		    (f->items == 0 || f->items - 1 > s->ncycle_items ||
		     f->nitems > s->ncycle_items - (f->items - 1)))
			f->nitems = TRACK_CYCLE_MAX;
	}
}

/* Read (again) all of the segment but the records read on demand, into s's buffers. */
static int fill(struct track_snap *s, char *err, size_t errlen)
{
	struct track_lazy *z = s->lazy;
	struct stat st;
	int rc;
	if (fstat(z->fd, &st) != 0 || pread_all(z->fd, &s->hdr, sizeof s->hdr, 0) != 0) {
		snprintf(err, errlen, "cannot read %s", s->path);
		return TRACK_EXIT_FAIL;
	}
	rc = header_ok(&s->hdr, (uint64_t)st.st_size, err, errlen, s->path);
	if (rc != TRACK_EXIT_OK)
		return rc;
	if (s->hdr.max_stacks != z->max_stacks || s->hdr.max_edges != z->max_edges) {
		snprintf(err, errlen, "%s changed its layout while being read", s->path);
		return TRACK_EXIT_VERSION;
	}
	s->nthreads = clamp_count(s->hdr.threads_used, s->hdr.max_threads);
	s->nobjs = clamp_count(s->hdr.objects_used, s->hdr.max_objects);
	s->nmods = clamp_count(s->hdr.modules_used, s->hdr.max_modules);
	s->nfindings = clamp_count(s->hdr.findings_used, s->hdr.max_findings);
	s->nfds = clamp_count(s->hdr.fds_used, s->hdr.max_fds);
	s->nprofs = clamp_count(s->hdr.profs_used, s->hdr.max_profs);
	s->nqueues = clamp_count(s->hdr.queues_used, s->hdr.max_queues);
	s->nstacks = s->hdr.max_stacks;
	s->nedges = clamp_count(s->hdr.edges_used, s->hdr.max_edges);
	s->ncycle_items = clamp_count(s->hdr.cycle_items_used, s->hdr.max_cycle_items);
	s->torn = 0;
	/* the profiles before the objects: a lock's first hold moves from its record into its
	 * profile, so read the other way round it could be seen in both (add_first_holds) */
	if (read_threads_tallies(s) != 0 ||
	    read_into(z->fd, (void **)&s->profs, &z->cap_profs, s->nprofs, sizeof *s->profs,
		      s->hdr.profs_off) != 0 ||
	    read_into(z->fd, (void **)&s->objs, &z->cap_objs, s->nobjs, sizeof *s->objs,
		      s->hdr.objects_off) != 0 ||
	    read_into(z->fd, (void **)&s->mods, &z->cap_mods, s->nmods, sizeof *s->mods,
		      s->hdr.modules_off) != 0 ||
	    read_into(z->fd, (void **)&s->findings, &z->cap_findings, s->nfindings,
		      sizeof *s->findings, s->hdr.findings_off) != 0 ||
	    read_into(z->fd, (void **)&s->fds, &z->cap_fds, s->nfds, sizeof *s->fds,
		      s->hdr.fds_off) != 0 ||
	    read_into(z->fd, (void **)&s->queues, &z->cap_queues, s->nqueues,
		      sizeof *s->queues, s->hdr.queues_off) != 0 ||
	    read_into(z->fd, (void **)&s->cycle_items, &z->cap_items, s->ncycle_items,
		      sizeof *s->cycle_items, s->hdr.cycle_items_off) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", s->path,
			 errno == ENOMEM ? "out of memory" : "the file is shorter than it says");
		return TRACK_EXIT_FAIL;
	}
	if (add_first_holds(s) != 0) {
		snprintf(err, errlen, "out of memory reading %s", s->path);
		return TRACK_EXIT_FAIL;
	}
	memset(z->stack_read, 0, z->max_stacks);   /* read on demand again, as they are now */
	memset(z->edge_read, 0, z->max_edges);
	long_lists_ok(s);
	if (build_indexes(s) != 0) {
		snprintf(err, errlen, "out of memory reading %s", s->path);
		return TRACK_EXIT_FAIL;
	}
	s->read_mono_ns = track_mono_ns();   /* the records are at least this fresh */
	s->leaks_derived = 0;                /* the findings were read afresh */
	s->killed_derived = 0;
	s->replaced_mono_ns = replaced_at(s);
	s->alive = s->replaced_mono_ns == 0 && track_proc_alive(s->hdr.pid, s->hdr.proc_starttime);
	return TRACK_EXIT_OK;
}

int track_snap_load(const char *path, struct track_snap *s, char *err, size_t errlen)
{
	struct track_seg_header h;
	struct stat st;
	int fd, rc;

	memset(s, 0, sizeof *s);
	snprintf(s->path, sizeof s->path, "%s", path);
	fd = open_seg(path, &st, err, errlen);
	if (fd < 0)
		return -fd;
	if (pread_all(fd, &h, sizeof h, 0) != 0) {
		snprintf(err, errlen, "%s is not a track segment (too short)", path);
		close(fd);
		return TRACK_EXIT_VERSION;
	}
	rc = header_ok(&h, (uint64_t)st.st_size, err, errlen, path);
	if (rc != TRACK_EXIT_OK) {
		close(fd);
		return rc;
	}
	/* A shared lock for as long as the snapshot is held: a segment being read is never
	 * removed, neither by its process's exit (libtrack/collect.c) nor by a sweep
	 * (track_seg_remove).  Not waited for: a remover that holds it is about to unlink a
	 * file this descriptor keeps readable anyway. */
	flock(fd, LOCK_SH | LOCK_NB);
	s->lazy = lazy_new(fd, h.max_stacks, h.max_edges);
	if (s->lazy == NULL) {
		snprintf(err, errlen, "out of memory reading %s", path);
		close(fd);
		return TRACK_EXIT_FAIL;
	}
	rc = fill(s, err, errlen);
	if (rc != TRACK_EXIT_OK)
		track_snap_free(s);
	return rc;
}

struct track_finding_rec *track_snap_add_finding(struct track_snap *s)
{
	struct track_lazy *z = s->lazy;
	struct track_finding_rec *f;
	if (s->nfindings == z->cap_findings) {
		uint32_t want = z->cap_findings ? 2 * z->cap_findings : 16;
		void *p = realloc(s->findings, (size_t)want * sizeof *s->findings);
		if (p == NULL)
			return NULL;
		s->findings = p;
		z->cap_findings = want;
	}
	f = &s->findings[s->nfindings++];
	memset(f, 0, sizeof *f);
	f->valid = 1;
	return f;
}

int track_snap_reload(struct track_snap *s, char *err, size_t errlen)
{
	return fill(s, err, errlen);
}

int track_seg_header(const char *path, struct track_seg_header *h, struct stat *stp, char *err,
		     size_t errlen)
{
	struct stat st;
	int fd = open_seg(path, &st, err, errlen), rc;
	if (fd < 0)
		return -fd;
	if (stp != NULL)
		*stp = st;
	if (pread_all(fd, h, sizeof *h, 0) != 0) {
		snprintf(err, errlen, "%s is not a track segment (shorter than a header)", path);
		rc = TRACK_EXIT_VERSION;
	} else {
		rc = header_ok(h, (uint64_t)st.st_size, err, errlen, path);
		if (rc == TRACK_EXIT_VERSION && h->magic != TRACK_SEGMENT_MAGIC)
			snprintf(err, errlen, "%s is not a track segment", path);
	}
	close(fd);
	return rc;
}

const struct track_stack_rec *track_snap_stack(const struct track_snap *s, uint32_t id)
{
	const struct track_stack_rec *st;
	if (id == 0 || id > s->nstacks || s->lazy == NULL)
		return NULL;
	st = lazy_get(s->lazy->fd, s->lazy->stacks, s->lazy->stack_read, id - 1, sizeof *st,
		      s->hdr.stacks_off);
	return st->nframes > 0 && st->nframes <= TRACK_STACK_DEPTH ? st : NULL;
}

const struct track_edge_rec *track_snap_edge(const struct track_snap *s, uint32_t id)
{
	const struct track_edge_rec *e;
	if (id == 0 || id > s->nedges || s->lazy == NULL)
		return NULL;
	e = lazy_get(s->lazy->fd, s->lazy->edges, s->lazy->edge_read, id - 1, sizeof *e,
		     s->hdr.edges_off);
	return e->ready ? e : NULL;
}

const struct track_obj_rec *track_snap_obj(const struct track_snap *s, uint32_t idx)
{
	return idx >= 1 && idx <= s->nobjs ? &s->objs[idx - 1] : NULL;
}

const struct track_thread_rec *track_snap_thread(const struct track_snap *s, int32_t tid)
{
	const struct track_thread_rec *best = NULL;
	uint32_t h, v;
	if (s->thr_index == NULL)
		return NULL;
	for (h = mix((uint64_t)(uint32_t)tid) & s->thr_mask; (v = s->thr_index[h]) != 0;
	     h = (h + 1) & s->thr_mask) {
		const struct track_thread_rec *t = &s->threads[v - 1];
		if (t->tid == tid && (best == NULL || t->created_ns > best->created_ns))
			best = t;
	}
	return best;
}

/* Thread record slot i now, checked by its counter; see track_snap_thread_now. */
static int thread_slot_now(const struct track_snap *s, uint32_t i, int32_t tid,
			   struct track_thread_rec *out)
{
	uint64_t off = s->hdr.threads_off + (uint64_t)i * sizeof *out;
	uint32_t again;
	if (pread_all(s->lazy->fd, out, sizeof *out, off) != 0 || out->tid != tid ||
	    out->state == TRACK_TS_UNUSED || out->state == TRACK_TS_EXITED)
		return -1;
	if (pread_all(s->lazy->fd, &again, sizeof again, off) != 0)
		return -1;
	return !TRACK_SEQ_WRITING(out->seq) && again == out->seq;
}

int track_snap_thread_now(const struct track_snap *s, int32_t tid, struct track_thread_rec *out)
{
	const struct track_thread_rec *known = track_snap_thread(s, tid);
	uint64_t used;
	uint32_t i, n;
	int32_t t;
	if (s->lazy == NULL)
		return -1;
	if (known != NULL)
		return thread_slot_now(s, (uint32_t)(known - s->threads), tid, out);
	/* A thread registered since the snapshot: in a slot handed out since (a recycled one,
	 * when the table is full, is not looked for) */
	if (pread_all(s->lazy->fd, &used, sizeof used,
		      offsetof(struct track_seg_header, threads_used)) != 0)
		return -1;
	n = clamp_count(used, s->hdr.max_threads);
	for (i = s->nthreads; i < n; i++)
		if (pread_all(s->lazy->fd, &t, sizeof t, s->hdr.threads_off + (uint64_t)i * sizeof *out +
			      offsetof(struct track_thread_rec, tid)) == 0 && t == tid)
			return thread_slot_now(s, i, tid, out);
	return -1;
}

int track_snap_obj_now(const struct track_snap *s, uint32_t idx, struct track_obj_rec *out)
{
	if (s->lazy == NULL || idx < 1 || idx > s->hdr.max_objects)
		return -1;
	return pread_all(s->lazy->fd, out, sizeof *out,
			 s->hdr.objects_off + (uint64_t)(idx - 1) * sizeof *out);
}

const struct track_obj_rec *track_snap_obj_at(const struct track_snap *s, uint64_t addr)
{
	const struct track_obj_rec *found = NULL;
	uint32_t h, v;
	if (s->obj_index == NULL)
		return NULL;
	for (h = mix(addr) & s->obj_mask; (v = s->obj_index[h]) != 0; h = (h + 1) & s->obj_mask) {
		const struct track_obj_rec *o = &s->objs[v - 1];
		if (o->addr == addr && (found == NULL || (o->flags & TRACK_OF_LIVE)))
			found = o;
	}
	return found;
}

void track_snap_free(struct track_snap *s)
{
	struct track_lazy *z = s->lazy;
	free(s->obj_index);
	free(s->thr_index);
	s->obj_index = s->thr_index = NULL;
	free(s->threads);
	free(s->objs);
	free(s->mods);
	free(s->findings);
	free(s->fds);
	free(s->profs);
	free(s->queues);
	free(s->tallies);
	free(s->cycle_items);
	s->cycle_items = NULL;
	if (z != NULL) {
		close(z->fd);
		lazy_free(z);
	}
	s->lazy = NULL;
	s->threads = NULL;
	s->objs = NULL;
	s->mods = NULL;
	s->findings = NULL;
	s->fds = NULL;
	s->tallies = NULL;
}

/*
 * segment.c — creating and mapping this process's shared-memory segment.
 *
 * Where: track/segfile.h.  By default a directory of the user's own (mode 0700), so nobody
 * else can plant anything under the names the shim uses; in a shared TRACK_DIR every
 * existing file is opened without blocking (a FIFO must not hang the program) and without
 * following links, and checked on its descriptor before anything is read or removed.
 *
 * One file per process image: track.<uid>.<pid>.<gen>, created owner-only (0600) with
 * O_EXCL and O_NOFOLLOW.  <gen> tells successive exec images of one pid apart: an existing
 * file for this pid whose recorded process start time equals ours was left by an earlier
 * image of this very process, so we take the next generation; an existing segment of ours
 * from a process long gone (the pid was reused) is replaced; anything else is stepped over.
 *
 * The file is sparse, and its pages are only ever touched after they have been populated
 * (madvise MADV_POPULATE_WRITE, page by page, as the tables grow): on a full file system a
 * write to a hole would kill the program with SIGBUS, while a population that fails just
 * returns an error, and the table concerned stops growing (storage_failures counts it).
 * Readers of the tables skip pages never populated: they hold nothing yet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define ROUND64(x) (((x) + 63u) & ~(uint64_t)63u)

static uint64_t *present;        /* one bit per page of the segment: populated */
static size_t present_bytes;
static uintptr_t page_size;

/* Read a small file whole into buf (NUL-terminated); returns bytes read or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

static uint64_t proc_starttime(void)
{
	char buf[1024];
	return read_small("/proc/self/stat", buf, sizeof buf) > 0 ? track_stat_starttime(buf) : 0;
}

/* The user's private directory under base, made if missing; 0, or -1 if it cannot be had
 * (then why says so). */
static int private_dir(const char *base, char *out, size_t len, const char **why)
{
	struct stat st;
	unsigned uid = (unsigned)getuid();
	if (track_segdir_private(out, len, base, uid) != 0) {
		*why = "directory name too long";
		return -1;
	}
	if (mkdir(out, 0700) != 0 && errno != EEXIST) {
		*why = strerror(errno);
		return -1;
	}
	if (lstat(out, &st) != 0 || !track_segdir_is_private(&st, uid)) {
		*why = "it exists but is not a directory of this user's, closed to others";
		return -1;
	}
	return 0;
}

/* Where the segment goes: TRACK_DIR, else the first private directory that can be had.  A
 * child of fork keeps its parent's directory (its segment is next to the parent's, where
 * whoever reads the parent's looks), whatever the environment says by then. */
static int segment_dir(char *out, size_t len)
{
	static const char *const bases[] = TRACK_SEGDIR_BASES;
	const char *d = track__env("TRACK_DIR"), *why = NULL, *slash = strrchr(track__g.path, '/');
	int i;
	if (slash != NULL && (size_t)(slash - track__g.path) < len) {
		memcpy(out, track__g.path, (size_t)(slash - track__g.path));
		out[slash - track__g.path] = '\0';
		return 0;
	}
	if (d != NULL && *d != '\0') {
		size_t n = strlen(d);
		if (n >= len) {
			track__warn("TRACK_DIR is too long", NULL);
			return -1;
		}
		memcpy(out, d, n + 1);
		return 0;
	}
	for (i = 0; i < TRACK_SEGDIR_NBASES; i++)
		if (private_dir(bases[i], out, len, &why) == 0)
			return 0;
	track__warn(out, why);
	return -1;
}

/* What an existing file at path is to us: 1 an earlier image of this process, 0 a segment
 * of ours left by a process that has gone, -1 anything else (step over it, touch nothing). */
static int classify_existing(const char *path, uint64_t starttime)
{
	struct track_seg_header h;
	struct stat st;
	int rc = -1;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() &&
	    pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h && h.magic == TRACK_SEGMENT_MAGIC)
		rc = h.pid == getpid() && h.proc_starttime == starttime;
	close(fd);
	return rc;
}

/* Create the file for the first free generation; returns an fd or -1. */
static int open_segment_file(uint64_t starttime, uint32_t *gen_out)
{
	char dir[TRACK_SEGFILE_PATH_MAX];
	uint32_t gen = 0;
	int tries;
	if (segment_dir(dir, sizeof dir) != 0)
		return -1;
	for (tries = 0; tries < 256; tries++) {
		int fd;
		if (track_segfile_path(track__g.path, sizeof track__g.path, dir, (unsigned)getuid(),
				       (int)getpid(), gen) != 0) {
			track__warn("TRACK_DIR is too long", NULL);
			return -1;
		}
		fd = open(track__g.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*gen_out = gen;
			return fd;
		}
		if (errno != EEXIST) {
			track__warn(dir, strerror(errno));
			return -1;
		}
		/* A stale segment of ours is replaced; anything else is stepped over. */
		if (classify_existing(track__g.path, starttime) == 0 && unlink(track__g.path) == 0)
			continue;
		gen++;
	}
	return -1;
}

static void fill_identity(struct track_seg_header *h, uint64_t starttime, uint32_t gen)
{
	struct timespec ts;
	ssize_t n;
	h->pid = getpid();
	h->ppid = getppid();
	h->uid = getuid();
	h->exec_gen = gen;
	h->proc_starttime = starttime;
	h->run_id = track__env_num(TRACK_ENV_RUN_ID);
	clock_gettime(CLOCK_REALTIME, &ts);
	h->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	h->start_mono_ns = track__now_ns();
	h->proc_state = TRACK_PS_RUNNING;
	n = readlink("/proc/self/exe", h->exe, sizeof h->exe - 1);
	h->exe[n > 0 ? n : 0] = '\0';
	n = read_small("/proc/self/cmdline", h->cmdline, sizeof h->cmdline);
	h->cmdline_len = n > 0 ? (uint32_t)n : 0;
}

/* Place a section of n records of size bytes at *off, moving *off past it; returns where
 * it starts. */
static uint64_t section(uint64_t *off, uint64_t n, uint64_t size)
{
	uint64_t at = *off;
	*off = ROUND64(at + n * size);
	return at;
}

/* Whether this kernel populates pages on request (MADV_POPULATE_WRITE, Linux 5.14). */
static int populate_works(void)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	void *p = track__map_private(len);
	int ok = p != NULL && madvise(p, len, MADV_POPULATE_WRITE) == 0;
	if (p != NULL)
		munmap(p, len);
	return ok;
}

/* The edge table's size.  Its default is large because only the edges in use take pages;
 * but a kernel without MADV_POPULATE_WRITE makes pages_init allocate the whole segment at
 * start, so there, unless TRACK_MAX_EDGES says otherwise, it keeps its old size. */
static uint32_t edges_wanted(void)
{
	const char *set = track__env(track_env_spec(TRACK_ENV_MAX_EDGES)->name);
	if ((set == NULL || *set == '\0') && !populate_works())
		return TRACK_FALLBACK_MAX_EDGES;
	return track__pow2_at_least(track__env_num(TRACK_ENV_MAX_EDGES));
}

/* Lay out the sections from the capacities in the environment. */
static uint64_t lay_out(struct track_seg_header *h)
{
	uint64_t off = ROUND64(sizeof *h);
	h->max_threads = (uint32_t)track__env_num(TRACK_ENV_MAX_THREADS);
	h->max_objects = (uint32_t)track__env_num(TRACK_ENV_MAX_OBJECTS);
	h->max_modules = (uint32_t)track__env_num(TRACK_ENV_MAX_MODULES);
	h->max_findings = (uint32_t)track__env_num(TRACK_ENV_MAX_FINDINGS);
	h->hash_slots = track__index_slots(track__pow2_at_least(2 * h->max_objects));
	h->max_stacks = track__pow2_at_least(track__env_num(TRACK_ENV_MAX_STACKS));
	h->thread_rec_size = sizeof(struct track_thread_rec);
	h->obj_rec_size = sizeof(struct track_obj_rec);
	h->hash_slot_size = sizeof(uint32_t);
	h->module_rec_size = sizeof(struct track_module_rec);
	h->finding_rec_size = sizeof(struct track_finding_rec);
	h->stack_rec_size = sizeof(struct track_stack_rec);
	h->edge_rec_size = sizeof(struct track_edge_rec);
	h->max_edges = edges_wanted();
	h->threads_off = section(&off, h->max_threads, h->thread_rec_size);
	h->objects_off = section(&off, h->max_objects, h->obj_rec_size);
	h->hash_off = section(&off, h->hash_slots, h->hash_slot_size);
	h->modules_off = section(&off, h->max_modules, h->module_rec_size);
	h->findings_off = section(&off, h->max_findings, h->finding_rec_size);
	h->stacks_off = section(&off, h->max_stacks, h->stack_rec_size);
	h->edges_off = section(&off, h->max_edges, h->edge_rec_size);
	h->edge_index_slots = track__index_slots(2 * h->max_edges);
	h->edge_index_off = section(&off, h->edge_index_slots, sizeof(uint32_t));
	h->max_fds = TRACK_MAX_FDS;
	h->fds_off = section(&off, h->max_fds, sizeof(struct track_fd_rec));
	h->max_profs = track__pow2_at_least(track__env_num(TRACK_ENV_MAX_PROFILES));
	h->profs_off = section(&off, h->max_profs, sizeof(struct track_prof_rec));
	h->prof_index_slots = track__index_slots(2 * h->max_profs);
	h->prof_index_off = section(&off, h->prof_index_slots, sizeof(uint32_t));
	h->max_queues = TRACK_MAX_QUEUES;
	h->queues_off = section(&off, h->max_queues, sizeof(struct track_queue_rec));
	h->max_pool_tallies = TRACK_MAX_POOL_TALLIES;
	h->pool_tallies_off = section(&off, h->max_pool_tallies, sizeof(struct track_pool_tally));
	h->max_cycle_items = h->max_findings * TRACK_CYCLE_ITEMS_PER_FINDING;
	h->cycle_items_off = section(&off, h->max_cycle_items, sizeof(struct track_cycle_item));
	h->search_visits = (uint32_t)track__env_num(TRACK_ENV_SEARCH_VISITS);
	h->header_size = sizeof *h;
	h->version = TRACK_SEGMENT_VERSION;
	return off;
}

/* --- pages ---------------------------------------------------------------------------- */

static inline uint64_t page_of(const void *p)
{
	return ((uintptr_t)p - (uintptr_t)track__g.hdr) / page_size;
}

/* Whether the page holding p has been populated: if not, nothing was ever written there
 * and it reads as zeros, so a reader skips it instead of faulting a page in. */
int track__seg_present(const void *p)
{
	uint64_t pg = page_of(p);
	return (__atomic_load_n(&present[pg / 64], __ATOMIC_ACQUIRE) >> (pg % 64)) & 1;
}

/* Populate the pages of [p, p + len) before anything is written there; -1 if the file
 * system cannot supply one (nothing is written then). */
int track__seg_reserve(const void *p, size_t len)
{
	uint64_t pg, last = page_of((const char *)p + len - 1);
	for (pg = page_of(p); pg <= last; pg++) {
		uint64_t bit = 1ull << (pg % 64);
		char *page = (char *)track__g.hdr + pg * page_size;
		int rc;
		if (__atomic_load_n(&present[pg / 64], __ATOMIC_ACQUIRE) & bit)
			continue;
		TRACK__KEEP_ERRNO(rc = madvise(page, page_size, MADV_POPULATE_WRITE));
		if (rc != 0) {
			TRACK_ADD(&track__g.hdr->storage_failures, 1);
			return -1;
		}
		__atomic_or_fetch(&present[pg / 64], bit, __ATOMIC_RELEASE);
	}
	return 0;
}

/* The bitmap for a segment of size bytes, and its first page.  Kernels before 5.14 have no
 * MADV_POPULATE_WRITE: there the whole file is allocated now (fallocate), or not at all. */
static int pages_init(int fd, char *base, uint64_t size)
{
	uint64_t pages;
	page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
	pages = (size + page_size - 1) / page_size;
	if (present != NULL)
		munmap(present, present_bytes);
	present_bytes = (size_t)((pages + 63) / 64 * 8);
	present = track__map_private(present_bytes);
	if (present == NULL)
		return -1;
	if (madvise(base, page_size, MADV_POPULATE_WRITE) == 0) {
		present[0] = 1;
		return 0;
	}
	if (errno == EINVAL && posix_fallocate(fd, 0, (off_t)size) == 0) {
		memset(present, 0xff, present_bytes);
		return 0;
	}
	return -1;
}

/* A process of a track run that changed user (setpriv, gosu, su-exec) has its segment in
 * its new user's directory, where the run's user cannot see it (root's track run does):
 * say where it is, once, rather than vanish from the report. */
static void say_if_other_user(void)
{
	const char *s = track__env("TRACK_RUN_UID");
	char line[TRACK_SEGFILE_PATH_MAX + 200];
	uint64_t run_uid;
	size_t n;
	if (s == NULL || *s == '\0' || getuid() == 0)
		return;
	run_uid = track__env_num(TRACK_ENV_RUN_UID);
	if (run_uid == (uint64_t)getuid() || run_uid == 0)
		return;   /* its own run, or root's, which reads every user's segments */
	n = track__format(line, sizeof line, "libtrack: pid %d runs as uid %u, not as uid %llu "
			  "who started track run: its report is not in the run's; read it with "
			  "`track report %s` as uid %u or root\n", (int)getpid(), (unsigned)getuid(),
			  (unsigned long long)run_uid, track__g.path, (unsigned)getuid());
	if (write(2, line, n) < 0)
		return;
}

int track__segment_create(void)
{
	struct track_seg_header proto;
	uint64_t starttime = proc_starttime();
	uint64_t size;
	uint32_t gen = 0;
	char *base;
	int fd;

	memset(&proto, 0, sizeof proto);
	size = lay_out(&proto);
	fd = open_segment_file(starttime, &gen);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)size) != 0)
		goto fail;
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		goto fail;
	track__g.hdr = (struct track_seg_header *)base;
	if (pages_init(fd, base, size) != 0) {
		munmap(base, size);
		goto fail;
	}
	close(fd);
	proto.total_size = size;
	proto.stacks_enabled = (uint32_t)track__g.stacks_on;
	proto.lock_order_mode = track__g.lock_order;
	proto.hold_sample = track__g.hold_sample;
	proto.on_deadlock = track__g.on_deadlock;
	proto.deadlock_exit = track__g.deadlock_exit;
	fill_identity(&proto, starttime, gen);
	proto.leak_check = (uint32_t)track__env_num(TRACK_ENV_LEAKS);
	proto.env_bad = track__g.env_bad;   /* after every variable has been read */
	proto.magic = 0;
	memcpy(base, &proto, sizeof proto);

	track__g.threads = (struct track_thread_rec *)(base + proto.threads_off);
	track__g.objs = (struct track_obj_rec *)(base + proto.objects_off);
	track__g.hash = (uint32_t *)(base + proto.hash_off);
	track__g.modules = (struct track_module_rec *)(base + proto.modules_off);
	track__g.findings = (struct track_finding_rec *)(base + proto.findings_off);
	track__g.stacks = (struct track_stack_rec *)(base + proto.stacks_off);
	track__g.edges = (struct track_edge_rec *)(base + proto.edges_off);
	track__g.edge_index = (uint32_t *)(base + proto.edge_index_off);
	track__g.fds = (struct track_fd_rec *)(base + proto.fds_off);
	track__g.profs = (struct track_prof_rec *)(base + proto.profs_off);
	track__g.queues = (struct track_queue_rec *)(base + proto.queues_off);
	track__g.tallies = (struct track_pool_tally *)(base + proto.pool_tallies_off);
	track__g.cycle_items = (struct track_cycle_item *)(base + proto.cycle_items_off);
	track__index_init(&track__g.prof_ix, (uint32_t *)(base + proto.prof_index_off),
			  2 * proto.max_profs);
	track__index_init(&track__g.obj_index, track__g.hash,
			  track__pow2_at_least(2 * proto.max_objects));
	track__index_init(&track__g.edge_ix, track__g.edge_index, 2 * proto.max_edges);
	/* The magic goes in last: a reader that sees it sees a complete header. */
	__atomic_store_n(&track__g.hdr->magic, TRACK_SEGMENT_MAGIC, __ATOMIC_RELEASE);
	say_if_other_user();
	track__fds_at_start();
	return 0;
fail:
	track__warn(track__g.path, strerror(errno));
	track__g.hdr = NULL;
	close(fd);
	unlink(track__g.path);
	return -1;
}

/* Record how and when the process ended: state is TRACK_PS_EXITED, QUICK_EXIT (with code)
 * or DEADLOCK (with code; no thread ended it by choice, so every thread outlived it).  The
 * first end recorded stands (an atexit handler calling _exit, say). */
void track__segment_mark_exit(uint32_t state, int code)
{
	struct track_seg_header *h = track__g.hdr;
	struct track__thread *t = track__tls.self;
	if (__atomic_load_n(&h->proc_state, __ATOMIC_ACQUIRE) != TRACK_PS_RUNNING)
		return;
	TRACK_STORE(&h->exit_tid, t != NULL && state != TRACK_PS_DEADLOCK ? t->tid : 0);
	TRACK_STORE(&h->exit_code, code);
	TRACK_STORE(&h->exit_mono_ns, track__now_ns());
	__atomic_store_n(&h->proc_state, state, __ATOMIC_RELEASE);
}

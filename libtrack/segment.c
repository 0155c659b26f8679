/*
 * segment.c — creating and mapping this process's shared-memory segment.
 *
 * One file per process image: TRACK_DIR/track.<uid>.<pid>.<gen>, created owner-only (0600)
 * with O_EXCL and O_NOFOLLOW so that nothing another user planted is ever written through.
 * <gen> tells successive exec images of one pid apart: an existing file for this pid whose
 * recorded process start time equals ours was left by an earlier image of this very process,
 * so we take the next generation; any other existing file is stale (the pid was reused) and
 * is replaced.  The file is never removed by the shim: it outlives the process so that the
 * tools can report after exit, and the tools collect it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define ROUND64(x) (((x) + 63u) & ~(uint64_t)63u)

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

/* Field 22 of /proc/self/stat: the process start time, which exec does not change. */
static uint64_t proc_starttime(void)
{
	char buf[1024];
	char *p;
	int field;
	if (read_small("/proc/self/stat", buf, sizeof buf) <= 0)
		return 0;
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	/* after ") " comes field 3 */
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

static const char *segment_dir(void)
{
	const char *d = getenv("TRACK_DIR");
	if (d != NULL && *d != '\0')
		return d;
	return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

/* What an existing file at path is to us: 1 earlier image of this process, 0 stale, -1 not
 * ours (another user's, or not a regular file). */
static int classify_existing(const char *path, uint64_t starttime)
{
	struct track_seg_header h;
	struct stat st;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid())
		rc = -1;
	else if (pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h && h.magic == TRACK_SEGMENT_MAGIC &&
		 h.pid == getpid() && h.proc_starttime == starttime)
		rc = 1;
	close(fd);
	return rc;
}

/* Create the file for the first free generation; returns an fd or -1. */
static int open_segment_file(uint64_t starttime, uint32_t *gen_out)
{
	const char *dir = segment_dir();
	uint32_t gen = 0;
	int tries;
	for (tries = 0; tries < 256; tries++) {
		int fd;
		snprintf(track_g.path, sizeof track_g.path, "%s/track.%u.%d.%u", dir,
			 (unsigned)getuid(), (int)getpid(), gen);
		fd = open(track_g.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*gen_out = gen;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		/* A stale file is replaced; an earlier image's, or one we cannot remove, is
		 * stepped over. */
		if (classify_existing(track_g.path, starttime) == 0 && unlink(track_g.path) == 0)
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
	h->run_id = track_env_u64("TRACK_RUN_ID", 0, 0, UINT64_MAX);
	clock_gettime(CLOCK_REALTIME, &ts);
	h->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	h->start_mono_ns = track_now_ns();
	h->proc_state = TRACK_PS_RUNNING;
	n = readlink("/proc/self/exe", h->exe, sizeof h->exe - 1);
	h->exe[n > 0 ? n : 0] = '\0';
	n = read_small("/proc/self/cmdline", h->cmdline, sizeof h->cmdline);
	h->cmdline_len = n > 0 ? (uint32_t)n : 0;
}

/* Lay out the sections from the capacities in the environment. */
static uint64_t lay_out(struct track_seg_header *h)
{
	uint64_t off = ROUND64(sizeof *h);
	uint32_t slots = 1;
	h->max_threads = (uint32_t)track_env_u64("TRACK_MAX_THREADS", TRACK_DEFAULT_MAX_THREADS,
						 16, 1u << 22);
	h->max_objects = (uint32_t)track_env_u64("TRACK_MAX_OBJECTS", TRACK_DEFAULT_MAX_OBJECTS,
						 16, 1u << 24);
	h->max_modules = (uint32_t)track_env_u64("TRACK_MAX_MODULES", TRACK_DEFAULT_MAX_MODULES,
						 8, 1u << 16);
	h->max_findings = (uint32_t)track_env_u64("TRACK_MAX_FINDINGS", TRACK_DEFAULT_MAX_FINDINGS,
						  1, 1u << 16);
	while (slots < 2 * h->max_objects)
		slots <<= 1;
	h->hash_slots = slots;
	h->max_stacks = 1;
	while (h->max_stacks < track_env_u64("TRACK_MAX_STACKS", TRACK_DEFAULT_MAX_STACKS, 64,
					      1u << 22))
		h->max_stacks <<= 1;
	h->thread_rec_size = sizeof(struct track_thread_rec);
	h->obj_rec_size = sizeof(struct track_obj_rec);
	h->hash_slot_size = sizeof(struct track_hash_slot);
	h->module_rec_size = sizeof(struct track_module_rec);
	h->finding_rec_size = sizeof(struct track_finding_rec);
	h->stack_rec_size = sizeof(struct track_stack_rec);
	h->edge_rec_size = sizeof(struct track_edge_rec);
	h->max_edges = 1;
	while (h->max_edges < track_env_u64("TRACK_MAX_EDGES", TRACK_DEFAULT_MAX_EDGES, 64,
					     1u << 22))
		h->max_edges <<= 1;
	h->threads_off = off;
	off = ROUND64(off + (uint64_t)h->max_threads * h->thread_rec_size);
	h->objects_off = off;
	off = ROUND64(off + (uint64_t)h->max_objects * h->obj_rec_size);
	h->hash_off = off;
	off = ROUND64(off + (uint64_t)h->hash_slots * h->hash_slot_size);
	h->modules_off = off;
	off = ROUND64(off + (uint64_t)h->max_modules * h->module_rec_size);
	h->findings_off = off;
	off = ROUND64(off + (uint64_t)h->max_findings * h->finding_rec_size);
	h->stacks_off = off;
	off = ROUND64(off + (uint64_t)h->max_stacks * h->stack_rec_size);
	h->edges_off = off;
	off = ROUND64(off + (uint64_t)h->max_edges * h->edge_rec_size);
	h->header_size = sizeof *h;
	h->version = TRACK_SEGMENT_VERSION;
	return off;
}

int track_segment_create(void)
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
	close(fd);
	proto.total_size = size;
	proto.stacks_enabled = (uint32_t)track_g.stacks_on;
	proto.lock_order_mode = track_g.lock_order;
	proto.on_deadlock = track_g.on_deadlock;
	proto.deadlock_exit = track_g.deadlock_exit;
	fill_identity(&proto, starttime, gen);
	proto.magic = 0;
	memcpy(base, &proto, sizeof proto);

	track_g.hdr = (struct track_seg_header *)base;
	track_g.threads = (struct track_thread_rec *)(base + proto.threads_off);
	track_g.objs = (struct track_obj_rec *)(base + proto.objects_off);
	track_g.hash = (struct track_hash_slot *)(base + proto.hash_off);
	track_g.modules = (struct track_module_rec *)(base + proto.modules_off);
	track_g.findings = (struct track_finding_rec *)(base + proto.findings_off);
	track_g.stacks = (struct track_stack_rec *)(base + proto.stacks_off);
	track_g.edges = (struct track_edge_rec *)(base + proto.edges_off);
	track_g.hash_mask = proto.hash_slots - 1;
	/* The magic goes in last: a reader that sees it sees a complete header. */
	__atomic_store_n(&track_g.hdr->magic, TRACK_SEGMENT_MAGIC, __ATOMIC_RELEASE);
	return 0;
fail:
	close(fd);
	unlink(track_g.path);
	return -1;
}

void track_segment_mark_exit(void)
{
	struct track_seg_header *h = track_g.hdr;
	TRACK_STORE(&h->exit_tid, track_tls.tid);
	TRACK_STORE(&h->exit_mono_ns, track_now_ns());
	__atomic_store_n(&h->proc_state, TRACK_PS_EXITED, __ATOMIC_RELEASE);
}

/*
 * stacks.c — capturing call stacks inside the target, on slow paths only, into the
 * segment's deduplicated stack table.
 *
 * Only raw return addresses are stored; names are the tools' business.  The frames come
 * from the shim's own unwinder (unwind.c), which allocates nothing, takes no lock, makes no
 * system call and reads only the thread's own stack, so a capture is safe wherever a pthread
 * call can come from.  A stack is interned by the hash of its frames into an open-addressed
 * table without locks: a writer claims an empty slot by compare-and-swap on its hash, fills
 * the frames, then publishes the frame count; readers of a slot whose count is still 0 wait
 * a moment or move on.  Slots on pages of the segment never populated are empty by
 * definition (segment.c): they are claimed only after their page is populated.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "shim.h"

#define MAX_PROBE 64u
#define RAW_FRAMES 48

static uintptr_t self_lo, self_hi;   /* libtrack's own text: frames to leave out */

static uint64_t hash_frames(const uint64_t *f, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;
	uint32_t i;
	for (i = 0; i < n; i++) {
		h ^= f[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

/* The id (index + 1) of this stack in the table, adding it if new; 0 if the table is full. */
static uint32_t intern(const uint64_t *frames, uint32_t n)
{
	struct track_seg_header *h = track__g.hdr;
	uint32_t mask = h->max_stacks - 1, i, probe;
	uint64_t hash = hash_frames(frames, n);
	for (probe = 0, i = (uint32_t)hash & mask; probe < MAX_PROBE; probe++, i = (i + 1) & mask) {
		struct track_stack_rec *s = &track__g.stacks[i];
		uint64_t cur = track__seg_present(s) ? __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE) : 0;
		uint32_t spins;
		if (cur == 0) {
			uint64_t zero = 0;
			if (track__seg_reserve(s, sizeof *s) != 0)
				break;
			if (__atomic_compare_exchange_n(&s->hash, &zero, hash, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				memcpy(s->frames, frames, n * sizeof *frames);
				s->hits = 1;
				__atomic_store_n(&s->nframes, n, __ATOMIC_RELEASE);
				TRACK_ADD(&h->stacks_used, 1);
				return i + 1;
			}
			cur = zero;
		}
		if (cur != hash)
			continue;
		for (spins = 0; __atomic_load_n(&s->nframes, __ATOMIC_ACQUIRE) == 0 && spins < 1000;
		     spins++)
			;
		if (s->nframes == n && memcmp(s->frames, frames, n * sizeof *frames) == 0) {
			TRACK_ADD(&s->hits, 1);
			return i + 1;
		}
	}
	TRACK_ADD(&h->stacks_dropped, 1);
	return 0;
}

uint32_t track__stack_capture(struct track__thread *t)
{
	uint64_t raw[RAW_FRAMES];
	int n, i;
	uint32_t k = 0;
	if (!track__g.stacks_on || t == NULL || track__busy())
		return 0;
	n = track__unwind(raw, RAW_FRAMES, t->stack_lo, t->stack_hi, t->stop_sp);
	/* Leave out the shim's own frames (the wrapper on top, the thread trampoline below):
	 * stacks show the program's code only.  Compacted in place: little stack. */
	for (i = 0; i < n && k < TRACK_STACK_DEPTH; i++)
		if (raw[i] < self_lo || raw[i] >= self_hi)
			raw[k++] = raw[i];
	if (k == 0) {
		if (n == 0)
			TRACK_ADD(&track__g.hdr->stacks_unknown, 1);
		return 0;
	}
	TRACK_ADD(&track__g.hdr->stack_captures, 1);
	return intern(raw, k);
}

/* Find libtrack's own address range. */
static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	int i;
	(void)size;
	if (info->dlpi_addr != (uintptr_t)data)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (self_lo == 0 || lo < self_lo)
			self_lo = lo;
		if (hi > self_hi)
			self_hi = hi;
	}
	return 1;
}

/* Whether capture is on (TRACK_STACKS, default 1), and the shim's own text. */
void track__stacks_init(void)
{
	Dl_info info;
	track__g.stacks_on = track__env_num(TRACK_ENV_STACKS) != 0;
	if (track__g.stacks_on && dladdr((void *)track__stacks_init, &info) != 0)
		dl_iterate_phdr(find_self, (void *)info.dli_fbase);
}

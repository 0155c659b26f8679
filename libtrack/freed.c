/*
 * freed.c — locks whose memory is freed without a destroy call.
 *
 * A std::mutex inside a deleted C++ object, or a pthread mutex in a freed struct, is never
 * destroyed: its record would stay live, and the next lock made in that memory would
 * inherit its lock-order edges (a false inversion between two unrelated objects).  So the
 * shim wraps free(): a lock record whose address falls in the block being freed is retired,
 * as a destroy would; and one still held is a finding of its own (freed-locked).
 *
 * free is the hottest call of many programs, so the check costs almost nothing when it can
 * find nothing.  Records of locks that may live in freed memory (neither in a loaded
 * object's data nor in the calling thread's stack, told when the record is made) are
 * chained by the 1 KB line of their address into a private table of buckets.  A free when no
 * such record exists costs one load; otherwise it asks the allocator for the block's size
 * and looks at one bucket per line of the block, walking a chain only where a bucket has
 * records.  The walk reads records lock-free (they live in the segment and are never
 * unmapped); only a match takes the shim's lock, to check again and retire it.
 *
 * The block's size comes from malloc_usable_size, which only the allocator that made the
 * block can answer: it is used only when the malloc_usable_size that follows the shim is in
 * the same object as the free that does (glibc with glibc, jemalloc with jemalloc).
 * Otherwise, or with TRACK_FREE=0, free passes straight through.  realloc moving a block
 * and C++ deletes that an allocator serves without free (jemalloc's own operator delete)
 * are not seen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "shim.h"

#define LINE_SHIFT   10      /* records are chained by the 1 KB line of their address: short
				chains, and a typical block spans one or two lines */
#define BUCKET_BITS  16
#define NBUCKETS     (1u << BUCKET_BITS)
#define WALK_MAX     4096u   /* records looked at in one chain: a chain changing under the
				walk cannot keep it going */

typedef void (*free_fn)(void *);
typedef size_t (*usable_fn)(void *);

static free_fn next_free;
static usable_fn next_usable;      /* NULL: the block's size cannot be asked */
static uint32_t heads[NBUCKETS];   /* record index + 1 of the first in each bucket */
static uint64_t occupied[NBUCKETS / 64];   /* bit b: heads[b] != 0 (8 KB: it stays in cache,
					      where the heads would not) */
static uint32_t linked;            /* records in the buckets */

static uint32_t bucket_of(uint64_t addr)
{
	return track_hash_bits(addr >> LINE_SHIFT, BUCKET_BITS);
}

/* The shared object that holds code address p, or NULL. */
static const void *object_of(void *p)
{
	Dl_info info;
	return p != NULL && dladdr(p, &info) != 0 ? info.dli_fbase : NULL;
}

/* The free and malloc_usable_size that the shim's own stand in front of.  A free that comes
 * from inside dlsym here (it may free what it allocated) finds none yet: that block is left
 * unfreed.  Threads that race here compute the same. */
static free_fn resolve(void)
{
	free_fn f;
	usable_fn u;
	if (track__tls.resolving_free)
		return NULL;
	track__tls.resolving_free = 1;
	f = (free_fn)dlsym(RTLD_NEXT, "free");
	u = (usable_fn)dlsym(RTLD_NEXT, "malloc_usable_size");
	if (u != NULL && object_of((void *)u) != object_of((void *)f))
		u = NULL;
	__atomic_store_n(&next_usable, u, __ATOMIC_RELEASE);
	__atomic_store_n(&next_free, f, __ATOMIC_RELEASE);
	track__tls.resolving_free = 0;
	return f;
}

void track__freed_init(void)
{
	if (__atomic_load_n(&next_free, __ATOMIC_ACQUIRE) == NULL)
		resolve();
	if (!track__env_num(TRACK_ENV_FREE))
		__atomic_store_n(&next_usable, NULL, __ATOMIC_RELEASE);
}

/* Whether a lock at a may be in memory that free() will release: not in a loaded object
 * (its static data) nor in the calling thread's stack.  Asked before the record is made. */
int track__freed_may_be_heap(const struct track__thread *t, uintptr_t a)
{
	struct dl_find_object fo;
	if (__atomic_load_n(&next_usable, __ATOMIC_RELAXED) == NULL)
		return 0;
	if (t != NULL && t->stack_hi != 0 && a >= t->stack_lo && a < t->stack_hi)
		return 0;
	return _dl_find_object((void *)a, &fo) != 0;
}

/* Chain record r (flagged TRACK_OF_HEAP) into its line's bucket.  Under the shim lock. */
void track__freed_link(struct track_obj_rec *r)
{
	uint32_t b = bucket_of(r->addr);
	r->heap_next = heads[b];
	__atomic_store_n(&heads[b], track__obj_index(r), __ATOMIC_RELEASE);
	__atomic_or_fetch(&occupied[b / 64], 1ull << (b % 64), __ATOMIC_RELEASE);
	__atomic_add_fetch(&linked, 1, __ATOMIC_RELAXED);
}

/* Take record r out of its bucket (it is being retired).  Under the shim lock. */
void track__freed_unlink(struct track_obj_rec *r)
{
	uint32_t b = bucket_of(r->addr), idx = track__obj_index(r), *p = &heads[b], n;
	for (n = 0; *p != 0 && n < track__g.hdr->max_objects; n++) {
		if (*p == idx) {
			__atomic_store_n(p, r->heap_next, __ATOMIC_RELEASE);
			__atomic_sub_fetch(&linked, 1, __ATOMIC_RELAXED);
			if (heads[b] == 0)
				__atomic_and_fetch(&occupied[b / 64], ~(1ull << (b % 64)),
						   __ATOMIC_RELEASE);
			return;
		}
		p = &track__g.objs[*p - 1].heap_next;
	}
}

/* After fork: the child's segment starts with no records. */
void track__freed_reset(void)
{
	uint32_t i;
	if (__atomic_load_n(&linked, __ATOMIC_RELAXED) == 0)
		return;
	for (i = 0; i < NBUCKETS; i++)
		heads[i] = 0;
	for (i = 0; i < NBUCKETS / 64; i++)
		occupied[i] = 0;
	linked = 0;
}

/* The first live heap record of bucket b whose lock lies in [lo, hi), or NULL. */
static struct track_obj_rec *in_bucket(uint32_t b, uintptr_t lo, uintptr_t hi)
{
	uint32_t idx = __atomic_load_n(&heads[b], __ATOMIC_ACQUIRE), n;
	for (n = 0; idx != 0 && idx <= track__g.hdr->max_objects && n < WALK_MAX; n++) {
		struct track_obj_rec *r = &track__g.objs[idx - 1];
		uint64_t a = TRACK_LOAD(&r->addr);
		if (a >= lo && a < hi && (TRACK_LOAD(&r->flags) & (TRACK_OF_LIVE | TRACK_OF_HEAP)) ==
						 (TRACK_OF_LIVE | TRACK_OF_HEAP))
			return r;
		idx = TRACK_LOAD(&r->heap_next);
	}
	return NULL;
}

/* Retire the heap records of bucket b in [lo, hi); pc: free's caller. */
static void sweep_bucket(uint32_t b, uintptr_t lo, uintptr_t hi, uint64_t pc)
{
	struct track_obj_rec *r;
	uint32_t n;
	for (n = 0; n < WALK_MAX && __atomic_load_n(&heads[b], __ATOMIC_RELAXED) != 0 &&
		    (r = in_bucket(b, lo, hi)) != NULL; n++)
		if (!track__obj_freed(r, pc))
			break;
}

static int occupied_bucket(uint32_t b)
{
	return (__atomic_load_n(&occupied[b / 64], __ATOMIC_RELAXED) >> (b % 64)) & 1;
}

/* Retire every heap record in [lo, hi): the buckets of its lines, or of a huge block every
 * bucket once.  Most blocks span one or two lines: those take two probes and no loop (a
 * loop whose length changes from one free to the next costs a mispredicted branch). */
static void sweep(uintptr_t lo, uintptr_t hi, uint64_t pc)
{
	uint64_t ln, first = lo >> LINE_SHIFT, last = (hi - 1) >> LINE_SHIFT;
	uint32_t b;
	if (last - first <= 1) {
		uint32_t b1 = bucket_of(lo), b2 = bucket_of(hi - 1);
		if (occupied_bucket(b1))
			sweep_bucket(b1, lo, hi, pc);
		if (b2 != b1 && occupied_bucket(b2))
			sweep_bucket(b2, lo, hi, pc);
		return;
	}
	if (last - first + 1 >= NBUCKETS) {
		for (b = 0; b < NBUCKETS; b++)
			sweep_bucket(b, lo, hi, pc);
		return;
	}
	for (ln = first; ln <= last; ln++) {
		b = bucket_of(ln << LINE_SHIFT);
		if (occupied_bucket(b))
			sweep_bucket(b, lo, hi, pc);
	}
}

/* p is about to be freed (by a call at pc): retire the records of locks in its block.  Out
 * of line: free itself stays a load, a test and a tail call when no lock is in the heap. */
static __attribute__((noinline)) void freeing(void *p, uint64_t pc)
{
	usable_fn usable = __atomic_load_n(&next_usable, __ATOMIC_RELAXED);
	uintptr_t lo = (uintptr_t)p, hi;
	size_t size;
	/* a pointer malloc never returned (not 16-aligned) is the allocator's to refuse */
	if (usable == NULL || (lo & 15) != 0 || !track__g.on || track__busy())
		return;
	size = usable(p);
	hi = lo + size;
	if (size != 0 && hi > lo)
		sweep(lo, hi, pc);
}

TRACK_EXPORT void free(void *p)
{
	free_fn f = __atomic_load_n(&next_free, __ATOMIC_ACQUIRE);
	if (unlikely(f == NULL) && (f = resolve()) == NULL)
		return;
	if (p != NULL && __atomic_load_n(&linked, __ATOMIC_RELAXED) != 0)
		freeing(p, TRACK_RA());
	f(p);
}

/*
 * index.c — the open-addressing indexes of the segment (objects by address, lock-order
 * edges by pair of locks), grown in levels so that a program with few entries touches few
 * of their pages.
 *
 * A hash spreads even a handful of entries over every page of a large table: 300 objects
 * made all 512 KB of a 131,072-slot index resident, most of the shim's memory in a thread
 * storm.  So an index is a row of tables, each twice the one before (TRACK__INDEX_LEVEL0
 * slots first, up to its full size), laid out smallest first.  New entries go into the
 * current level, which goes up when the live entries would fill half of it: no table is
 * ever more than half full.  Entries never move, so look-ups stay lock-free; they try the
 * levels from the first, where most entries of most programs are.  Slots hold an entry's
 * index + 1, TRACK_SLOT_EMPTY or TRACK_SLOT_TOMB; a slot on a page never populated reads as
 * empty (segment.c).
 */
#define _GNU_SOURCE

#include "shim.h"

#define MAX_PROBE 1024u

/* One level: slots [base, base + mask] of the array. */
struct level {
	uint32_t base, mask;
};

static inline uint32_t level0_slots(const struct track__index *ix)
{
	return ix->top < TRACK__INDEX_LEVEL0 ? ix->top : TRACK__INDEX_LEVEL0;
}

static inline struct level level_at(const struct track__index *ix, uint32_t k)
{
	uint32_t l0 = level0_slots(ix);
	struct level l = {l0 * ((1u << k) - 1), (l0 << k) - 1};
	return l;
}

static inline int level_is_last(const struct track__index *ix, uint32_t k)
{
	return (level0_slots(ix) << k) >= ix->top;
}

/* The level slot i lies in. */
static struct level level_of(const struct track__index *ix, uint32_t i)
{
	uint32_t k = 0;
	while (!level_is_last(ix, k) && i >= level_at(ix, k + 1).base)
		k++;
	return level_at(ix, k);
}

static inline uint32_t next_slot(struct level l, uint32_t i)
{
	return l.base + ((i - l.base + 1) & l.mask);
}

static inline uint32_t prev_slot(struct level l, uint32_t i)
{
	return l.base + ((i - l.base - 1) & l.mask);
}

void track__index_init(struct track__index *ix, uint32_t *slots, uint32_t top)
{
	ix->slots = slots;
	ix->top = top;
	ix->level = 0;
}

uint32_t track__index_value(const uint32_t *s)
{
	return track__seg_present(s) ? __atomic_load_n(s, __ATOMIC_ACQUIRE) : TRACK_SLOT_EMPTY;
}

uint32_t *track__index_find(const struct track__index *ix, uint32_t hash,
			    int (*match)(uint32_t v, void *ctx), void *ctx)
{
	uint32_t top = __atomic_load_n(&ix->level, __ATOMIC_ACQUIRE), k, i, n;
	for (k = 0; k <= top; k++) {
		struct level l = level_at(ix, k);
		i = l.base + (hash & l.mask);
		for (n = 0; n < MAX_PROBE && n <= l.mask; n++, i = next_slot(l, i)) {
			uint32_t *s = &ix->slots[i], v = track__index_value(s);
			if (v == TRACK_SLOT_EMPTY)
				break;
			if (v != TRACK_SLOT_TOMB && match(v, ctx))
				return s;
		}
	}
	return NULL;
}

uint32_t *track__index_claim(struct track__index *ix, uint32_t hash, uint64_t live)
{
	struct level l;
	uint32_t n, i;
	/* published before the slot is written: a look-up that sees the slot sees its level */
	while (!level_is_last(ix, ix->level) && live + 1 > (level_at(ix, ix->level).mask + 1ull) / 2)
		__atomic_store_n(&ix->level, ix->level + 1, __ATOMIC_RELEASE);
	l = level_at(ix, ix->level);
	i = l.base + (hash & l.mask);
	for (n = 0; n < MAX_PROBE && n <= l.mask; n++, i = next_slot(l, i)) {
		uint32_t *s = &ix->slots[i];
		uint32_t v = track__seg_present(s) ? *s : TRACK_SLOT_EMPTY;
		if (v == TRACK_SLOT_TOMB)
			return s;
		if (v == TRACK_SLOT_EMPTY)
			return track__seg_reserve(s, sizeof *s) == 0 ? s : NULL;
	}
	return NULL;   /* chain too long */
}

/*
 * A slot that ends its probe chain (the next is empty) becomes empty, and so do the
 * tombstones just before it: no look-up goes past an empty slot, and nothing was beyond
 * these.  Elsewhere it becomes a tombstone, which look-ups pass.  Without this, a program
 * that makes locks at ever new addresses fills the index with tombstones, and every miss
 * walks the whole probe limit.
 */
void track__index_free(const struct track__index *ix, uint32_t *s)
{
	uint32_t i = (uint32_t)(s - ix->slots), n;
	struct level l = level_of(ix, i);
	if (track__index_value(&ix->slots[next_slot(l, i)]) != TRACK_SLOT_EMPTY) {
		__atomic_store_n(s, TRACK_SLOT_TOMB, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(s, TRACK_SLOT_EMPTY, __ATOMIC_RELEASE);
	for (n = 0; n < MAX_PROBE; n++) {
		i = prev_slot(l, i);
		if (track__index_value(&ix->slots[i]) != TRACK_SLOT_TOMB)
			break;
		__atomic_store_n(&ix->slots[i], TRACK_SLOT_EMPTY, __ATOMIC_RELEASE);
	}
}

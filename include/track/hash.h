/*
 * track/hash.h — the one hash function the shim and the tools use for their open-addressed
 * tables, caches and signatures: Fibonacci (multiplicative) hashing, a multiply by 2^64
 * divided by the golden ratio.  One multiply, no memory, no state: it costs nothing on the
 * shim's paths.  Its high bits are the well-mixed ones, so a table of 2^b slots takes the top
 * b bits (track_hash_bits), never the low ones.
 *
 * Values computed with it are stored in the segment (the object and edge indexes are probed
 * by it, finding signatures are sums of it): changing it changes the segment.
 */
#ifndef TRACK_HASH_H
#define TRACK_HASH_H

#include <stdint.h>

#define TRACK_HASH_MUL 0x9e3779b97f4a7c15ull   /* 2^64 / golden ratio, odd */

/* k scrambled over all 64 bits. */
static inline uint64_t track_hash_mix(uint64_t k)
{
	return k * TRACK_HASH_MUL;
}

/* The top `bits` bits of track_hash_mix(k) (1 to 32): a slot in a table of 2^bits. */
static inline uint32_t track_hash_bits(uint64_t k, unsigned bits)
{
	return (uint32_t)(track_hash_mix(k) >> (64 - bits));
}

#endif /* TRACK_HASH_H */

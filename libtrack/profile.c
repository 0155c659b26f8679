/*
 * profile.c — wait and hold profiles: for each object its blocking waits and its hold times,
 * for each waiting call stack and each holding call site the waits they account for, and
 * for each join site the joins that blocked; each a count, a total, a maximum and a
 * log-linear histogram (segment.h, struct track_prof_rec).
 *
 * A profile is made the first time it has an event, under the profile lock (signals
 * blocked, nothing blocking under it), and found again through a levelled index by its
 * identity; an object caches its own two in its record.  Figures are added with relaxed
 * atomics by whichever thread has the event, with no lock: only slow paths (a wait that
 * blocked, a hold that was timed) come here.
 *
 * Hold times cost two clock reads, more than an uncontended lock and unlock together, so
 * most are sampled.  A lock's first TRACK_HOLD_FIRST (1024) holds are all timed, each counted
 * once: a lock taken rarely (often the one held long) is measured exactly.  After that,
 * each thread counts down a random interval of mean TRACK_HOLD_SAMPLE (64) between timed
 * holds, so that no periodic pattern in the program hides a lock from the sample, and a
 * timed hold counts for TRACK_HOLD_SAMPLE.  A hold that began with a wait has its clock
 * read already and is always timed, counted once.  TRACK_HOLD_SAMPLE=0 times none.
 *
 * A lock's first timed hold is kept in its record (first_hold), and its hold profile made
 * at the second, which takes the first into it: programs that make locks by the thousand
 * and hold each once (a thread's local, a request's) would otherwise pay 1 KB of profile
 * for each.  The first is taken out of the record before the profile is made, so a reader
 * never counts it twice (only, for a moment, not at all).
 */
#define _GNU_SOURCE

#include "shim.h"

static int plock;   /* making profiles */

/* What a profile is about. */
struct ident {
	uint32_t role, kind;
	uint64_t addr, pc;
	uint32_t stack;
};

static uint32_t ident_hash(const struct ident *id)
{
	uint64_t k = track_hash_mix(id->addr ^ ((uint64_t)id->role << 56) ^ ((uint64_t)id->kind << 48));
	k = track_hash_mix(k ^ id->pc);
	return (uint32_t)track_hash_mix(k ^ id->stack);
}

static struct track_prof_rec *prof_at(uint32_t v)
{
	return v >= 1 && v <= track__g.hdr->max_profs ? &track__g.profs[v - 1] : NULL;
}

static int ident_is(const struct track_prof_rec *p, const struct ident *id)
{
	return p != NULL && __atomic_load_n(&p->ready, __ATOMIC_ACQUIRE) && p->role == id->role &&
	       p->obj_kind == id->kind && p->addr == id->addr && p->pc == id->pc &&
	       p->stack == id->stack;
}

static int prof_match(uint32_t v, void *ctx)
{
	return ident_is(prof_at(v), ctx);
}

/* A fresh record for id, the next in order; NULL if the table or its file system is full.
 * Under the profile lock. */
static struct track_prof_rec *prof_new(const struct ident *id, uint32_t hash, uint32_t lock_id)
{
	struct track_seg_header *h = track__g.hdr;
	uint64_t used = h->profs_used;
	struct track_prof_rec *p;
	if (used >= h->max_profs || track__seg_reserve(&track__g.profs[used], sizeof *p) != 0)
		return NULL;
	p = &track__g.profs[used];
	p->key = (uint64_t)hash | 1u;
	p->role = id->role;
	p->obj_kind = id->kind;
	p->lock_id = lock_id;
	p->addr = id->addr;
	p->pc = id->pc;
	p->stack = id->stack;
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	TRACK_STORE(&h->profs_used, used + 1);
	return p;
}

/* The profile for id if there is one: a look-up without a lock. */
static struct track_prof_rec *prof_find(const struct ident *id)
{
	uint32_t *slot = track__index_find(&track__g.prof_ix, ident_hash(id), prof_match,
					   (void *)id);
	return slot != NULL ? prof_at(track__index_value(slot)) : NULL;
}

/* The profile for id, made if there is none yet; NULL (the event counted as dropped) when
 * there is no room, or when the thread is inside the shim already. */
static struct track_prof_rec *prof_get(const struct ident *id, uint32_t lock_id)
{
	uint32_t hash = ident_hash(id), *slot;
	struct track_prof_rec *p = prof_find(id);
	if (p != NULL)
		return p;
	if (track__busy())
		goto dropped;
	track__spin_take(&plock);
	slot = track__index_find(&track__g.prof_ix, hash, prof_match, (void *)id);
	if (slot != NULL) {
		p = prof_at(track__index_value(slot));
	} else {
		slot = track__index_claim(&track__g.prof_ix, hash, track__g.hdr->profs_used);
		if (slot != NULL && (p = prof_new(id, hash, lock_id)) != NULL)
			__atomic_store_n(slot, (uint32_t)(p - track__g.profs) + 1, __ATOMIC_RELEASE);
	}
	track__spin_drop(&plock);
	if (p != NULL)
		return p;
dropped:
	TRACK_ADD(&track__g.hdr->profs_dropped, 1);
	return NULL;
}

/* One event of ns, counted weight times. */
static void prof_add(struct track_prof_rec *p, uint64_t ns, uint64_t weight)
{
	uint64_t max = TRACK_LOAD(&p->max_ns);
	TRACK_ADD(&p->count, weight);
	TRACK_ADD(&p->samples, 1);
	TRACK_ADD(&p->total_ns, ns * weight);
	TRACK_ADD(&p->hist[track_hist_bucket(ns)], weight);
	while (ns > max && !__atomic_compare_exchange_n(&p->max_ns, &max, ns, 1, __ATOMIC_RELAXED,
							 __ATOMIC_RELAXED))
		;
}

/* Whether a hold of ns (counted weight times) was kept in the record r of a lock whose hold
 * profile does not exist: its first. */
static int first_hold_keep(struct track_obj_rec *r, uint64_t ns, uint64_t weight)
{
	uint64_t none = 0;
	return weight == 1 && ns < TRACK_FIRST_HOLD_TAKEN - 1 &&
	       __atomic_compare_exchange_n(&r->first_hold, &none, ns + 1, 0, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

/* The first hold kept in r (ns + 1), taken out for its profile for good; 0 if none. */
static uint64_t first_hold_take(struct track_obj_rec *r)
{
	uint64_t first;
	if (TRACK_LOAD(&r->first_hold) == TRACK_FIRST_HOLD_TAKEN)
		return 0;
	first = __atomic_exchange_n(&r->first_hold, TRACK_FIRST_HOLD_TAKEN, __ATOMIC_RELAXED);
	return first == TRACK_FIRST_HOLD_TAKEN ? 0 : first;
}

void track__prof_obj(struct track_obj_rec *r, uint32_t role, uint64_t ns, uint64_t weight)
{
	uint32_t *cache = role == TRACK_PR_HOLD ? &r->prof_hold : &r->prof_wait;
	struct ident id = {role, TRACK_LOAD(&r->kind), TRACK_LOAD(&r->addr),
			   TRACK_LOAD(&r->first_pc), TRACK_LOAD(&r->first_stack)};
	struct track_prof_rec *p = prof_at(TRACK_LOAD(cache));
	uint64_t first = 0;
	if (!ident_is(p, &id)) {
		/* an earlier life of the lock (same address, site and stack) may have one */
		p = prof_find(&id);
		if (role == TRACK_PR_HOLD) {
			if (p == NULL && first_hold_keep(r, ns, weight))
				return;
			first = first_hold_take(r);
		}
		if (p == NULL)
			p = prof_get(&id, TRACK_LOAD(&r->lock_id));
		if (p == NULL) {
			if (first != 0)   /* the first hold, dropped with this one */
				TRACK_ADD(&track__g.hdr->profs_dropped, 1);
			return;
		}
		TRACK_STORE(cache, (uint32_t)(p - track__g.profs) + 1);
	}
	if (first != 0)
		prof_add(p, first - 1, 1);
	prof_add(p, ns, weight);
}

void track__prof_site(uint32_t role, const struct track_obj_rec *r, uint64_t pc, uint32_t stack,
		      uint64_t ns)
{
	struct ident id = {role, r ? TRACK_LOAD(&r->kind) : TRACK_OBJ_NONE,
			   r ? TRACK_LOAD(&r->addr) : 0, pc, stack};
	struct track_prof_rec *p = prof_get(&id, r ? TRACK_LOAD(&r->lock_id) : 0);
	if (p != NULL)
		prof_add(p, ns, 1);
}

/* --- hold sampling ------------------------------------------------------------------------ */

/* The holds to let pass before the next timed one: uniform in [0, 2N - 2], mean N - 1. */
static uint32_t next_gap(struct track__thread *t)
{
	uint32_t x = t->rng ? t->rng : (uint32_t)t->tid * 2654435761u | 1u, n = track__g.hold_sample;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	t->rng = x;
	return n <= 1 ? 0 : x % (2 * n - 1);
}

void track__hold_begin(struct track__thread *t, uint32_t n, int every)
{
	if (track__g.hold_sample == 0) {   /* hold timing off */
		t->hold_left = UINT32_MAX;
		return;
	}
	if (!every)
		t->hold_left = next_gap(t);
	t->held_t0[n] = every ? track__now_ns() | 1u : track__now_ns() & ~1ull;
}

void track__hold_end(struct track__thread *t, uint32_t i)
{
	uint64_t t0 = t->held_t0[i], now;
	uint32_t idx = TRACK_LOAD(&t->thr->held[i]) & ~TRACK_HELD_READ;
	t->held_t0[i] = 0;
	if (idx == 0 || idx > track__g.hdr->max_objects)
		return;
	now = track__now_ns();
	track__prof_obj(&track__g.objs[idx - 1], TRACK_PR_HOLD, now - (t0 & ~1ull),
			(t0 & 1) ? 1 : track__g.hold_sample);
}

void track__profile_init(void)
{
	track__g.hold_sample = (uint32_t)track__env_num(TRACK_ENV_HOLD_SAMPLE);
}

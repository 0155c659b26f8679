/*
 * lockorder.c — the lock-order graph: potential deadlocks found before they happen.
 *
 * Nodes are locks: each lock object gets an id unique for its lifetime (instance mode, the
 * default), or each lock class does (class mode: locks first used or initialised at the same
 * call site, as Linux lockdep groups them).  An edge A -> B means some thread acquired B,
 * by a call that could block, while holding A.  A cycle means the locks can be taken in
 * opposite orders by threads that could then wait for each other for ever.
 *
 * What the best detectors know, and this one encodes:
 *  - a trylock cannot block: acquiring by trylock adds no edge towards the lock, but the
 *    lock, once held, orders the blocking acquisitions made while holding it;
 *  - readers do not block readers: at a node L of a cycle, if L is requested for reading by
 *    the edge into it and held for reading by the edge out of it, nobody waits at L, so the
 *    cycle cannot deadlock there (edge flags record both modes);
 *  - a destroyed lock's address may be reused by an unrelated lock: ids are per lifetime, so
 *    the new lock starts with no edges;
 *  - recursive re-acquisition is not an edge;
 *  - a gate lock G held around every edge of the cycle serialises the paths: the cycle is
 *    reported with severity "info" (and the gate named), not as an error.  Each edge keeps
 *    the set of other locks held every time it was seen (intersected over sightings).
 *
 * Cost: edges are checked only for acquisitions made while holding other locks; a thread
 * remembers the edges it has already reported (shim.h, track__ecache_*), so the steady state
 * is a cache hit.  Only a new edge, or one seen in a new mode or with fewer gate locks,
 * takes the graph lock and searches for a cycle through that edge.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lockpath.h"

#define SEARCH_VISITS 4096u    /* nodes a cycle search may visit */
#define VISIT_SLOTS   8192u    /* private visited set: a power of two, twice the visits */

static int glock;              /* the graph lock: edge links and cycle search */
static uint32_t next_lock_id;  /* instance ids, under the shim lock (objects.c creates) */

/* Class table (class mode, and class ids in every mode): first-use pc -> class id. */
struct class_ent {
	uint64_t pc;
	uint32_t id;
	uint32_t out_head;
};
static struct class_ent *classes;
static uint32_t class_mask;

static void graph_lock(void)
{
	track__spin_take(&glock);
}

static void graph_unlock(void)
{
	track__spin_drop(&glock);
}

/* --- node ids ------------------------------------------------------------------------------ */

static uint32_t class_of(uint64_t pc)
{
	uint32_t i, n;
	if (classes == NULL)
		return 0;
	i = track_hash_bits(pc, 24) & class_mask;
	for (n = 0; n <= class_mask; n++, i = (i + 1) & class_mask) {
		if (classes[i].pc == pc && classes[i].id != 0)
			return classes[i].id;
		if (classes[i].id == 0) {
			classes[i].pc = pc;
			classes[i].id = i + 1;
			return i + 1;
		}
	}
	return 0;
}

uint32_t track__order_serial(void)
{
	return __atomic_load_n(&next_lock_id, __ATOMIC_RELAXED);
}

/* Give a new object record its ids (called by objects.c under the shim lock). */
void track__order_assign(struct track_obj_rec *r)
{
	r->class_id = class_of(r->first_pc);
	if (++next_lock_id == 0)
		next_lock_id = 1;
	r->lock_id = track__g.lock_order == TRACK_LO_CLASS && r->class_id ? r->class_id
									   : next_lock_id;
}

/* The head of the list of edges out of node id; rec is the object it was reached through. */
static uint32_t *out_head(uint32_t id, struct track_obj_rec *rec)
{
	if (track__g.lock_order == TRACK_LO_CLASS)
		return id >= 1 && id <= class_mask + 1 && classes[id - 1].id == id
			       ? &classes[id - 1].out_head
			       : NULL;
	return rec != NULL && TRACK_LOAD(&rec->lock_id) == id ? &rec->out_head : NULL;
}

static struct track_obj_rec *obj_at(uint32_t idx1)
{
	return idx1 >= 1 && idx1 <= track__g.hdr->max_objects ? &track__g.objs[idx1 - 1] : NULL;
}

/* --- edges --------------------------------------------------------------------------------- */

static struct track_edge_rec *edge_at(uint32_t id1)
{
	return id1 >= 1 && id1 <= track__g.hdr->max_edges ? &track__g.edges[id1 - 1] : NULL;
}

/* The edge for key, or a fresh slot claimed for it (*added set); NULL if the table is full.
 * Under the graph lock. */
/* A fresh edge record for key, the next in order; NULL if the table (or its file system)
 * is full.  Under the graph lock. */
static struct track_edge_rec *edge_new(uint64_t key)
{
	struct track_seg_header *h = track__g.hdr;
	uint64_t used = h->edges_used;
	struct track_edge_rec *e;
	if (used >= h->max_edges || track__seg_reserve(&track__g.edges[used], sizeof *e) != 0)
		return NULL;
	e = &track__g.edges[used];
	e->key = key;
	TRACK_STORE(&h->edges_used, used + 1);
	return e;
}

static int edge_is(uint32_t id, void *key)
{
	const struct track_edge_rec *e = edge_at(id);
	return e != NULL && e->key == *(const uint64_t *)key;
}

/* The edge for key, or a fresh one made for it (*added set); NULL if there is no room.
 * Edges are kept in the order they were first seen; a levelled index of 4-byte slots finds
 * them (index.c: a few hundred edges touch few pages).  Under the graph lock. */
static struct track_edge_rec *edge_get(uint64_t key, int *added)
{
	uint32_t hash = track_hash_bits(key, 32), *slot;
	struct track_edge_rec *e;
	*added = 0;
	slot = track__index_find(&track__g.edge_ix, hash, edge_is, &key);
	if (slot != NULL)
		return edge_at(track__index_value(slot));
	slot = track__index_claim(&track__g.edge_ix, hash, track__g.hdr->edges_used);
	if (slot == NULL || (e = edge_new(key)) == NULL) {
		TRACK_ADD(&track__g.hdr->edges_dropped, 1);
		return NULL;
	}
	__atomic_store_n(slot, (uint32_t)(e - track__g.edges) + 1, __ATOMIC_RELEASE);
	*added = 1;
	return e;
}

/* What a thread knows about one new acquisition, for making edges towards it. */
struct sighting {
	struct track__thread *t;
	uint32_t before;     /* held-list position of the new lock */
	uint32_t to_flags;
	uint32_t stack;
};

/* The other locks held around edge (held[i] -> new): the gate candidates. */
static uint32_t others(const struct sighting *s, uint32_t i, uint32_t *out)
{
	uint32_t j, n = 0;
	for (j = 0; j < s->before && j < TRACK_HELD_MAX && n < TRACK_GATE_MAX; j++)
		if (j != i && s->t->held_id[j] != 0 && s->t->held_id[j] != s->t->held_id[i])
			out[n++] = s->t->held_id[j];
	return n;
}

static int in_set(uint32_t v, const uint32_t *set, uint32_t n)
{
	uint32_t k;
	for (k = 0; k < n; k++)
		if (set[k] == v)
			return 1;
	return 0;
}

/* Fill a new edge.  Under the graph lock. */
static void edge_fill(struct track_edge_rec *e, const struct sighting *s, uint32_t i,
		      uint32_t flags, const uint32_t *gate, uint32_t ngate)
{
	struct track_thread_rec *thr = s->t->thr;
	uint32_t from_idx = thr->held[i] & ~TRACK_HELD_READ;
	uint32_t *head = out_head(s->t->held_id[i], obj_at(from_idx));
	e->flags = flags;
	e->from_id = s->t->held_id[i];
	e->to_id = s->t->held_id[s->before];
	e->from_idx = from_idx;
	e->to_idx = thr->held[s->before] & ~TRACK_HELD_READ;
	e->tid = s->t->tid;
	e->to_stack = s->stack;
	e->from_pc = thr->held_pc[i];
	e->to_pc = thr->held_pc[s->before];
	e->count = 1;
	e->ngate = ngate;
	memcpy(e->gate, gate, ngate * sizeof *gate);
	if (head != NULL) {
		e->next_out = *head;
		*head = (uint32_t)(e - track__g.edges) + 1;
	}
	__atomic_store_n(&e->ready, 1, __ATOMIC_RELEASE);
}

/* Merge a new sighting into a known edge; returns whether it can close new cycles. */
static int edge_merge(struct track_edge_rec *e, uint32_t flags, const uint32_t *gate,
		      uint32_t ngate)
{
	uint32_t k, n = 0, kept[TRACK_GATE_MAX];
	int changed = (e->flags | flags) != e->flags;
	TRACK_ADD(&e->count, 1);
	__atomic_or_fetch(&e->flags, flags, __ATOMIC_RELAXED);
	for (k = 0; k < e->ngate; k++)
		if (in_set(e->gate[k], gate, ngate))
			kept[n++] = e->gate[k];
	if (n != e->ngate) {
		memcpy(e->gate, kept, n * sizeof *kept);
		TRACK_STORE(&e->ngate, n);
		changed = 1;
	}
	return changed;
}

/* --- cycle search -------------------------------------------------------------------------- */

struct search {
	const struct track_edge_rec *start;   /* the edge A -> B the cycle must contain */
	uint32_t path[TRACK_CYCLE_MAX];      /* edge ids, start first */
	uint32_t depth;
	uint32_t visits;
	uint32_t stamp;
	uint32_t gated[TRACK_CYCLE_MAX];     /* first gated cycle found, kept as a fallback */
	uint32_t ngated;
	uint32_t gate;                       /* its gate lock id */
	int too_long;
};

static uint32_t visited_key[VISIT_SLOTS];
static uint32_t visited_stamp[VISIT_SLOTS];
static uint32_t search_stamp;

/* Mark node id visited in this search; 0 if it already was. */
static int visit(struct search *s, uint32_t id)
{
	uint32_t i = (id * 2654435761u) & (VISIT_SLOTS - 1), n;
	for (n = 0; n < VISIT_SLOTS; n++, i = (i + 1) & (VISIT_SLOTS - 1)) {
		if (visited_stamp[i] != s->stamp) {
			visited_stamp[i] = s->stamp;
			visited_key[i] = id;
			return 1;
		}
		if (visited_key[i] == id)
			return 0;
	}
	return 0;
}

/* Whether a thread can wait at the node between edge in and edge out. */
static int blocks_at(const struct track_edge_rec *in, const struct track_edge_rec *out)
{
	return (in->flags & TRACK_EF_TO_WRITE) || (out->flags & TRACK_EF_FROM_WRITE);
}

/* A lock id held around every edge of the current path (and not in the cycle), or 0. */
static uint32_t common_gate(const struct search *s)
{
	const struct track_edge_rec *first = edge_at(s->path[0]);
	uint32_t k, d;
	for (k = 0; k < first->ngate; k++) {
		uint32_t g = first->gate[k];
		int everywhere = 1;
		for (d = 1; d < s->depth && everywhere; d++) {
			const struct track_edge_rec *e = edge_at(s->path[d]);
			everywhere = in_set(g, e->gate, e->ngate) && e->from_id != g;
		}
		if (everywhere && first->from_id != g)
			return g;
	}
	return 0;
}

/* Depth-first search from the end of the path back to start->from_id.  Returns 1 when an
 * ungated blocking cycle is in s->path[0..depth). */
static int search_from(struct search *s, const struct track_edge_rec *in)
{
	uint32_t *head = out_head(in->to_id, obj_at(in->to_idx));
	uint32_t id = head ? __atomic_load_n(head, __ATOMIC_ACQUIRE) : 0;
	for (; id != 0 && s->visits < SEARCH_VISITS; id = edge_at(id)->next_out) {
		const struct track_edge_rec *e = edge_at(id);
		if (e == NULL || !e->ready || e->from_id != in->to_id || !blocks_at(in, e))
			continue;
		if (s->depth >= TRACK_CYCLE_MAX) {
			s->too_long = 1;
			return 0;
		}
		s->path[s->depth++] = id;
		if (e->to_id == s->start->from_id && blocks_at(e, s->start)) {
			uint32_t g = common_gate(s);
			if (g == 0)
				return 1;
			if (s->ngated == 0) {
				memcpy(s->gated, s->path, s->depth * sizeof *s->path);
				s->ngated = s->depth;
				s->gate = g;
			}
		} else if (e->to_id != s->start->from_id && visit(s, e->to_id)) {
			s->visits++;
			if (search_from(s, e))
				return 1;
		}
		s->depth--;
	}
	return 0;
}

/* The address of a live lock whose node id is id (for naming a gate), or 0. */
static uint64_t addr_of_node(uint32_t id)
{
	uint64_t i, n = TRACK_LOAD(&track__g.hdr->objects_used);
	for (i = 0; i < n; i++)
		if (track__g.objs[i].lock_id == id && (track__g.objs[i].flags & TRACK_OF_LIVE))
			return track__g.objs[i].addr;
	return 0;
}

static uint64_t cycle_signature(const uint32_t *edges, uint32_t n)
{
	uint64_t sum = 0, x = 0;
	uint32_t k;
	for (k = 0; k < n; k++) {
		uint64_t v = track_hash_mix(edges[k]);
		sum += v;
		x ^= v >> 7;
	}
	return (sum ^ x ^ n) | 1;
}

/* Look for a cycle through edge e and report it.  Under the graph lock. */
static void find_cycle(struct track_edge_rec *e, uint64_t pc, uint32_t stack)
{
	struct search s;
	memset(&s, 0, sizeof s);
	s.start = e;
	s.path[0] = (uint32_t)(e - track__g.edges) + 1;
	s.depth = 1;
	s.stamp = ++search_stamp ? search_stamp : ++search_stamp;
	if (e->to_id == e->from_id)
		return;
	visit(&s, e->to_id);
	if (search_from(&s, e)) {
		track__finding_cycle(TRACK_FK_LOCK_ORDER, TRACK_SEV_ERROR, s.path, s.depth,
				    cycle_signature(s.path, s.depth), 0, pc, stack);
	} else if (s.ngated > 0) {
		track__finding_cycle(TRACK_FK_LOCK_ORDER, TRACK_SEV_INFO, s.gated, s.ngated,
				    cycle_signature(s.gated, s.ngated), addr_of_node(s.gate), pc,
				    stack);
	} else if (s.too_long) {
		TRACK_ADD(&track__g.hdr->cycles_too_long, 1);
	}
}

/* --- the slow path ------------------------------------------------------------------------- */

static void ecache_fill(struct track__thread *t, uint32_t from, uint32_t to, uint32_t gate_hash,
			uint32_t flags)
{
	uint64_t key = (uint64_t)from << 32 | to;
	struct track__ecache_ent *c = &t->ecache[track__ecache_at(key)];
	if (c->key != key || c->gate_hash != gate_hash)
		c->flags = 0;
	c->key = key;
	c->gate_hash = gate_hash;
	c->flags |= flags;
}

/* Edge held[i] -> new, seen now: add or merge it, and search for cycles if it changed. */
static void note_edge(const struct sighting *s, uint32_t i, uint32_t flags)
{
	uint32_t gate[TRACK_GATE_MAX], ngate = others(s, i, gate), from = s->t->held_id[i];
	uint64_t key = (uint64_t)from << 32 | s->t->held_id[s->before];
	struct track_edge_rec *e;
	int added, changed;
	graph_lock();
	e = edge_get(key, &added);
	if (e != NULL) {
		if (added)
			edge_fill(e, s, i, flags, gate, ngate);
		changed = added || edge_merge(e, flags, gate, ngate);
		if (changed)
			find_cycle(e, s->t->thr->held_pc[s->before], s->stack);
	}
	graph_unlock();
}

int track__order_slow(struct track__thread *t, uint32_t before, uint32_t flags)
{
	struct sighting s = {t, before, flags, 0};
	struct track_thread_rec *thr = t->thr;
	uint32_t i, to;
	int captured = 0;
	if (track__g.lock_order == TRACK_LO_OFF || track__busy() || before >= TRACK_HELD_MAX)
		return 0;
	to = t->held_id[before];
	for (i = 0; i < before; i++) {
		uint32_t from = t->held_id[i], gate_hash = t->held_xor ^ from ^ to;
		uint32_t f = flags | (thr->held[i] & TRACK_HELD_READ ? 0 : TRACK_EF_FROM_WRITE);
		if (from == 0 || from == to || track__ecache_hit(t, from, to, gate_hash, f))
			continue;   /* unknown, recursive (or same class), or already reported */
		if (!captured) {
			s.stack = track__stack_capture(t);   /* before any lock: it may take some */
			captured = 1;
		}
		note_edge(&s, i, f);
		ecache_fill(t, from, to, gate_hash, f);
	}
	return 0;
}

/* Read the mode and set up the class table (before the segment exists). */
void track__order_init(void)
{
	/* the modes by their position in the X-list, which is the order of the names */
#define BY_POSITION(e, v, name) v,
	static const uint32_t modes[] = {TRACK_LOCK_ORDER_MODES(BY_POSITION)};
#undef BY_POSITION
	int mode = track__env_pick(TRACK_ENV_LOCK_ORDER);
	uint32_t cap;
	track__g.lock_order = mode >= 0 ? modes[mode] : TRACK_LO_INSTANCE;
	cap = track__pow2_at_least(2 * track__env_num(TRACK_ENV_MAX_OBJECTS));
	classes = track__map_private((size_t)cap * sizeof *classes);
	class_mask = cap - 1;
}

/* After fork: the child's new segment starts an empty graph. */
void track__order_reset(void)
{
	glock = 0;
	if (classes != NULL) {
		/* fresh pages, not a memset that would copy every inherited page */
		munmap(classes, (size_t)(class_mask + 1) * sizeof *classes);
		classes = track__map_private((size_t)(class_mask + 1) * sizeof *classes);
	}
}

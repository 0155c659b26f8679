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

enum { OUT, IN };              /* a node's list heads: out_head, in_head, adjacent */
enum { LOST_EDGE = 1, LOST_SEARCH = 2 };   /* what made lock-order checking incomplete */

static int glock;              /* the graph lock: edge links and cycle search; taken inside
				  the shim lock, which retiring a lock record holds */
static uint32_t next_lock_id;  /* instance ids, under the shim lock (objects.c creates) */
static uint32_t free_edges;    /* edges of destroyed locks, to reuse: index + 1, linked by
				  next_out; under the graph lock */
static uint32_t lost_said;     /* LOST_* already recorded as a checking-incomplete finding */

/* Class table (class mode, and class ids in every mode): first-use pc -> class id. */
struct class_ent {
	uint64_t pc;
	uint32_t id;
	uint32_t heads[2];     /* OUT, IN */
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

/* The list heads (OUT, IN) of node id; rec is the object it was reached through.  NULL if
 * id is not rec's (any more). */
static uint32_t *heads_of(uint32_t id, struct track_obj_rec *rec)
{
	if (track__g.lock_order == TRACK_LO_CLASS)
		return id >= 1 && id <= class_mask + 1 && classes[id - 1].id == id
			       ? classes[id - 1].heads
			       : NULL;
	return rec != NULL && TRACK_LOAD(&rec->lock_id) == id ? &rec->out_head : NULL;
}

/* The same, for a lock not destroyed: a dead lock id can close no new cycle (nobody can take
 * that lock again), so no edge is made to or from it.  Its record's flags are stable: the
 * shim lock is held. */
static uint32_t *live_heads(uint32_t id, struct track_obj_rec *rec)
{
	uint32_t *h = heads_of(id, rec);
	if (h != NULL && track__g.lock_order != TRACK_LO_CLASS && !(rec->flags & TRACK_OF_LIVE))
		return NULL;
	return h;
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

static uint32_t edge_id(const struct track_edge_rec *e)
{
	return (uint32_t)(e - track__g.edges) + 1;
}

/* A record for a new edge: one a destroyed lock's edge left, else the next never used; NULL
 * if the table (or its file system) is full.  Under the graph lock. */
static struct track_edge_rec *edge_new(uint64_t key)
{
	struct track_seg_header *h = track__g.hdr;
	uint64_t used = h->edges_used;
	struct track_edge_rec *e = edge_at(free_edges);
	if (e != NULL) {
		free_edges = e->next_out;
	} else {
		if (used >= h->max_edges ||
		    track__seg_reserve(&track__g.edges[used], sizeof *e) != 0)
			return NULL;
		e = &track__g.edges[used];
		TRACK_STORE(&h->edges_used, used + 1);
	}
	e->key = key;
	TRACK_ADD(&h->edges_live, 1);
	return e;
}

static int edge_is(uint32_t id, void *key)
{
	const struct track_edge_rec *e = edge_at(id);
	return e != NULL && e->key == *(const uint64_t *)key;
}

static uint32_t *edge_slot(uint64_t key)
{
	return track__index_find(&track__g.edge_ix, track_hash_bits(key, 32), edge_is, &key);
}

/* The edge for key, or a fresh one made for it (*added set); NULL if there is no room.
 * A levelled index of 4-byte slots finds them (index.c: a few hundred edges touch few
 * pages).  Under the graph lock. */
static struct track_edge_rec *edge_get(uint64_t key, int *added)
{
	uint32_t *slot = edge_slot(key);
	struct track_edge_rec *e;
	*added = 0;
	if (slot != NULL)
		return edge_at(track__index_value(slot));
	slot = track__index_claim(&track__g.edge_ix, track_hash_bits(key, 32),
				  track__g.hdr->edges_live);
	if (slot == NULL || (e = edge_new(key)) == NULL) {
		TRACK_ADD(&track__g.hdr->edges_dropped, 1);
		return NULL;
	}
	__atomic_store_n(slot, edge_id(e), __ATOMIC_RELEASE);
	*added = 1;
	return e;
}

/* Put e at the front of its first lock's out list and its second lock's in list. */
static void edge_link(struct track_edge_rec *e, uint32_t *from, uint32_t *to)
{
	struct track_edge_rec *n;
	e->prev_out = 0;
	e->next_out = from[OUT];
	if ((n = edge_at(from[OUT])) != NULL)
		n->prev_out = edge_id(e);
	TRACK_STORE(&from[OUT], edge_id(e));
	e->prev_in = 0;
	e->next_in = to[IN];
	if ((n = edge_at(to[IN])) != NULL)
		n->prev_in = edge_id(e);
	TRACK_STORE(&to[IN], edge_id(e));
}

/* Take e off both lists, in constant time (they are doubly linked). */
static void edge_unlink(struct track_edge_rec *e)
{
	uint32_t *from = heads_of(e->from_id, obj_at(e->from_idx));
	uint32_t *to = heads_of(e->to_id, obj_at(e->to_idx));
	struct track_edge_rec *n;
	if ((n = edge_at(e->prev_out)) != NULL)
		n->next_out = e->next_out;
	else if (from != NULL && from[OUT] == edge_id(e))
		TRACK_STORE(&from[OUT], e->next_out);
	if ((n = edge_at(e->next_out)) != NULL)
		n->prev_out = e->prev_out;
	if ((n = edge_at(e->prev_in)) != NULL)
		n->next_in = e->next_in;
	else if (to != NULL && to[IN] == edge_id(e))
		TRACK_STORE(&to[IN], e->next_in);
	if ((n = edge_at(e->next_in)) != NULL)
		n->prev_in = e->prev_in;
}

/* Take an edge of a destroyed lock out of the graph: off its lists and the index, and onto
 * the free list, unless a finding names it (pinned: it stays as the finding saw it, for the
 * tools).  Under the graph lock. */
static void edge_drop(struct track_edge_rec *e)
{
	uint32_t *slot = edge_slot(e->key);
	edge_unlink(e);
	if (slot != NULL)
		track__index_free(&track__g.edge_ix, slot);
	TRACK_SUB(&track__g.hdr->edges_live, 1);
	TRACK_ADD(&track__g.hdr->edges_reclaimed, 1);
	if (e->flags & TRACK_EF_PINNED)
		return;
	__atomic_store_n(&e->ready, 0, __ATOMIC_RELEASE);
	e->key = 0;
	e->next_out = free_edges;
	free_edges = edge_id(e);
}

/* Drop every edge of the list at *head (a node's out or in list). */
static void drop_list(uint32_t *head)
{
	struct track_edge_rec *e;
	while ((e = edge_at(*head)) != NULL)
		edge_drop(e);
	*head = 0;
}

void track__order_forget(struct track_obj_rec *r)
{
	uint32_t *h;
	if (track__g.lock_order != TRACK_LO_INSTANCE || track__g.edges == NULL ||
	    (r->out_head == 0 && r->in_head == 0))
		return;   /* most locks never nest: nothing to take the graph lock for */
	graph_lock();
	h = heads_of(r->lock_id, r);
	if (h != NULL) {
		drop_list(&h[OUT]);
		drop_list(&h[IN]);
	}
	graph_unlock();
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

/* Fill a new edge and link it between its locks' heads.  Under the graph lock. */
static void edge_fill(struct track_edge_rec *e, const struct sighting *s, uint32_t i,
		      uint32_t flags, const uint32_t *gate, uint32_t ngate, uint32_t *from,
		      uint32_t *to)
{
	struct track_thread_rec *thr = s->t->thr;
	e->flags = flags;
	e->from_id = s->t->held_id[i];
	e->to_id = s->t->held_id[s->before];
	e->from_idx = thr->held[i] & ~TRACK_HELD_READ;
	e->to_idx = thr->held[s->before] & ~TRACK_HELD_READ;
	e->tid = s->t->tid;
	e->to_stack = s->stack;
	e->from_pc = thr->held_pc[i];
	e->to_pc = thr->held_pc[s->before];
	e->count = 1;
	e->ngate = ngate;
	memcpy(e->gate, gate, ngate * sizeof *gate);
	edge_link(e, from, to);
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

/* One search's state.  There is one, static, used under the graph lock: the path of a long
 * cycle would not fit the small stacks some threads run on.  The buffers are mapped at start
 * (budget + 2 entries: a path visits each lock once, plus the edge that closes it). */
struct search {
	const struct track_edge_rec *start;   /* the edge A -> B the cycle must contain */
	uint32_t *path;                      /* edge ids, start first */
	uint32_t depth;
	uint32_t visits, budget;             /* locks visited; TRACK_SEARCH_VISITS */
	uint32_t stamp;
	uint32_t *gated;                     /* first gated cycle found, kept as a fallback */
	uint32_t ngated;
	uint32_t gate;                       /* its gate lock id */
	uint32_t *visited_key, *visited_stamp, visit_mask;   /* the locks visited */
	uint32_t full_mask;                  /* visit_mask with room for the whole budget */
};

/* A search starts in the first SMALL_VISITS slots of the visited set, and starts again with
 * all of them (room for its budget) only if it visits more than half as many locks: most
 * searches visit a few, and a hash would spread even those over all 64 KB of the two
 * arrays, every page of it resident for good. */
#define SMALL_VISITS 1024u

static struct search srch;
static uint32_t search_stamp;

/* Mark node id visited in this search; 0 if it already was. */
static int visit(struct search *s, uint32_t id)
{
	uint32_t i = (id * 2654435761u) & s->visit_mask, n;
	for (n = 0; n <= s->visit_mask; n++, i = (i + 1) & s->visit_mask) {
		if (s->visited_stamp[i] != s->stamp) {
			s->visited_stamp[i] = s->stamp;
			s->visited_key[i] = id;
			return 1;
		}
		if (s->visited_key[i] == id)
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

/* The first edge out of the lock edge e leads to. */
static uint32_t first_out(const struct track_edge_rec *e)
{
	uint32_t *h = heads_of(e->to_id, obj_at(e->to_idx));
	return h != NULL ? h[OUT] : 0;
}

/* Edge id, taken after the path, closes the cycle back to the start's first lock: 1 if the
 * cycle is ungated (then it is in path[0..depth)); a gated one is kept as the fallback. */
static int closes(struct search *s, uint32_t id)
{
	uint32_t g;
	s->path[s->depth++] = id;
	g = common_gate(s);
	if (g == 0)
		return 1;
	if (s->ngated == 0) {
		memcpy(s->gated, s->path, s->depth * sizeof *s->path);
		s->ngated = s->depth;
		s->gate = g;
	}
	s->depth--;
	return 0;
}

/* Depth-first search from the end of the path back to start->from_id, iterative: the path is
 * the stack (each entry's next_out is where to go on after it), so a cycle of any length is
 * found, limited only by the visit budget.  1: an ungated blocking cycle is in
 * s->path[0..depth); 0: none (a gated one may be kept); -1: the budget ran out first. */
static int search(struct search *s)
{
	uint32_t id = first_out(s->start);
	for (;;) {
		const struct track_edge_rec *in = edge_at(s->path[s->depth - 1]), *e;
		while (id != 0 && (e = edge_at(id)) != NULL) {
			uint32_t next = e->next_out;
			if (e->ready && e->from_id == in->to_id && blocks_at(in, e)) {
				if (e->to_id == s->start->from_id) {
					if (blocks_at(e, s->start) && closes(s, id))
						return 1;
				} else if (visit(s, e->to_id)) {
					if (++s->visits > s->budget)
						return -1;
					if (s->visits > (s->visit_mask + 1) / 2)
						return -2;   /* the visited set is half full */
					s->path[s->depth++] = id;   /* descend */
					in = e;
					next = first_out(e);
				}
			}
			id = next;
		}
		if (s->depth <= 1)
			return 0;
		id = edge_at(s->path[--s->depth])->next_out;   /* back up: the next sibling */
	}
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

/* Record a cycle; a new finding pins its edges, which the tools will read by id. */
static void report(const uint32_t *edges, uint32_t n, uint32_t severity, uint64_t gate,
		   uint64_t pc, uint32_t stack, struct track__announce *an)
{
	uint32_t k;
	if (track__finding_cycle_locked(TRACK_FK_LOCK_ORDER, severity, edges, n,
					cycle_signature(edges, n), gate, pc, stack, an))
		for (k = 0; k < n; k++)
			__atomic_or_fetch(&edge_at(edges[k])->flags, TRACK_EF_PINNED,
					  __ATOMIC_RELAXED);
}

/* Look for a cycle through edge e and report it.  Returns LOST_SEARCH if the search was cut
 * off by its budget (a cycle may have been missed), else 0.  Under the graph lock. */
static uint32_t find_cycle(struct track_edge_rec *e, uint64_t pc, uint32_t stack,
			   struct track__announce *an)
{
	struct search *s = &srch;
	int found;
	if (e->to_id == e->from_id || s->path == NULL)
		return 0;
	s->visit_mask = s->full_mask < SMALL_VISITS - 1 ? s->full_mask : SMALL_VISITS - 1;
	for (;;) {
		s->start = e;
		s->path[0] = edge_id(e);
		s->depth = 1;
		s->visits = s->ngated = s->gate = 0;
		s->stamp = ++search_stamp ? search_stamp : ++search_stamp;
		visit(s, e->to_id);
		found = search(s);
		if (found != -2)
			break;
		s->visit_mask = s->full_mask;   /* a big search: again, with room for its budget */
	}
	if (found == 1)
		report(s->path, s->depth, TRACK_SEV_ERROR, 0, pc, stack, an);
	else if (s->ngated > 0)
		report(s->gated, s->ngated, TRACK_SEV_INFO, addr_of_node(s->gate), pc, stack, an);
	if (found >= 0)
		return 0;
	TRACK_ADD(&track__g.hdr->searches_cut, 1);
	return LOST_SEARCH;
}

/* The first loss of each kind becomes a checking-incomplete finding (an error: a run whose
 * checking stopped short must not pass), saying what was lost and what raises the limit.
 * After every lock is let go: recording a finding captures a stack. */
static void say_lost(uint32_t lost, uint64_t pc)
{
	if (lost == 0 || (__atomic_fetch_or(&lost_said, lost, __ATOMIC_RELAXED) & lost) == lost)
		return;
	if (lost & LOST_EDGE)
		track__finding(TRACK_FK_CHECKING_INCOMPLETE, NULL, TRACK_OBJ_NONE, pc, 0,
			      "lock-order edge dropped: %u edges among live locks fill the table, "
			      "new inversions go unseen (raise TRACK_MAX_EDGES)",
			      track__g.hdr->max_edges);
	else
		track__finding(TRACK_FK_CHECKING_INCOMPLETE, NULL, TRACK_OBJ_NONE, pc, 0,
			      "lock-order search cut off after %u locks: a cycle through them may "
			      "go unseen (raise TRACK_SEARCH_VISITS)", srch.budget);
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

/* Edge held[i] -> new, seen now: add or merge it, and search for cycles if it changed.
 * Under the shim lock, then the graph lock: a lock record retired under the shim lock takes
 * its edges out under the graph lock (track__order_forget), and a cycle found is recorded
 * under the shim lock. */
static void note_edge(const struct sighting *s, uint32_t i, uint32_t flags)
{
	uint32_t gate[TRACK_GATE_MAX], ngate = others(s, i, gate), from = s->t->held_id[i];
	uint32_t to = s->t->held_id[s->before], lost = 0, *hf, *ht;
	struct track_thread_rec *thr = s->t->thr;
	uint64_t key = (uint64_t)from << 32 | to, pc = thr->held_pc[s->before];
	struct track__announce an = {.len = 0};
	struct track_edge_rec *e;
	int added;
	track__ilock();
	graph_lock();
	hf = live_heads(from, obj_at(thr->held[i] & ~TRACK_HELD_READ));
	ht = live_heads(to, obj_at(thr->held[s->before] & ~TRACK_HELD_READ));
	e = hf != NULL && ht != NULL ? edge_get(key, &added) : NULL;
	if (hf != NULL && ht != NULL && e == NULL)
		lost = LOST_EDGE;
	if (e != NULL && added)
		edge_fill(e, s, i, flags, gate, ngate, hf, ht);
	if (e != NULL && (added || edge_merge(e, flags, gate, ngate)))
		lost = find_cycle(e, pc, s->stack, &an);
	graph_unlock();
	track__iunlock();
	track__announce_write(&an);
	say_lost(lost, pc);
}

/* Whether the graph has the edge key already with every flag of f and no gate: then a
 * sighting would change nothing, and is only counted, with no stack captured and no lock
 * taken (a new thread's first pass over edges other threads made, a thread that sees more
 * edges than its cache holds).  Lock-free: the edge is read, then its key checked again, in
 * case it was dropped and its record reused meanwhile.  An edge's gate only ever shrinks, so
 * one read empty stays empty. */
static int edge_known(uint64_t key, uint32_t f)
{
	uint32_t *slot = edge_slot(key);
	struct track_edge_rec *e = slot != NULL ? edge_at(track__index_value(slot)) : NULL;
	if (e == NULL || !__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE) ||
	    TRACK_LOAD(&e->ngate) != 0 || (TRACK_LOAD(&e->flags) & f) != f ||
	    __atomic_load_n(&e->key, __ATOMIC_ACQUIRE) != key)
		return 0;
	TRACK_ADD(&e->count, 1);
	return 1;
}

/* The stack of the acquisition just listed at before, if it is its lock's first use, whose
 * record was made by this very call with that stack: taken exclusively by the thread and at
 * the call site that first used it, never acquired, waited for or timed out before.  0 if
 * not (then it is captured). */
static uint32_t first_use_stack(const struct track__thread *t, uint32_t before)
{
	const struct track_thread_rec *thr = t->thr;
	const struct track_obj_rec *r = obj_at(thr->held[before] & ~TRACK_HELD_READ);
	if (r == NULL || (thr->held[before] & TRACK_HELD_READ) || r->first_tid != t->tid ||
	    r->first_pc != thr->held_pc[before] || TRACK_LOAD(&r->acquisitions) != 0 ||
	    TRACK_LOAD(&r->contended) != 0 || TRACK_LOAD(&r->timeouts) != 0)
		return 0;
	return TRACK_LOAD(&r->first_stack);
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
		if (edge_known((uint64_t)from << 32 | to, f)) {
			ecache_fill(t, from, to, gate_hash, f);
			continue;
		}
		if (!captured) {   /* before any lock: a capture may take some */
			s.stack = first_use_stack(t, before);
			if (s.stack == 0)
				s.stack = track__stack_capture(t);
			captured = 1;
		}
		note_edge(&s, i, f);
		ecache_fill(t, from, to, gate_hash, f);
	}
	return 0;
}

/* The search's buffers, mapped once (untouched pages cost nothing until a search needs
 * them). */
static void search_init(void)
{
	struct search *s = &srch;
	uint32_t slots = track__pow2_at_least(2ull * track__env_num(TRACK_ENV_SEARCH_VISITS));
	s->budget = (uint32_t)track__env_num(TRACK_ENV_SEARCH_VISITS);
	s->visit_mask = s->full_mask = slots - 1;
	s->visited_key = track__map_private((size_t)slots * sizeof(uint32_t));
	s->visited_stamp = track__map_private((size_t)slots * sizeof(uint32_t));
	s->path = track__map_private(((size_t)s->budget + 2) * sizeof(uint32_t));
	s->gated = track__map_private(((size_t)s->budget + 2) * sizeof(uint32_t));
	if (s->visited_key == NULL || s->visited_stamp == NULL || s->gated == NULL)
		s->path = NULL;   /* no search, rather than a crash */
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
	if (track__g.lock_order != TRACK_LO_OFF)
		search_init();
}

/* After fork: the child's new segment starts an empty graph. */
void track__order_reset(void)
{
	glock = 0;
	free_edges = 0;
	lost_said = 0;
	if (classes != NULL) {
		/* fresh pages, not a memset that would copy every inherited page */
		munmap(classes, (size_t)(class_mask + 1) * sizeof *classes);
		classes = track__map_private((size_t)(class_mask + 1) * sizeof *classes);
	}
}

/*
 * objects.c — the table of synchronisation objects and the index from address to record.
 *
 * Lookups are lock-free: each thread caches (address, record, generation) for the objects it
 * touched recently (shim.h), and a miss probes the open-addressing index in the segment.
 * Creating, retiring and recycling records happens under the shim's own lock.
 *
 * An address is not an identity: a destroyed mutex's memory can hold an unrelated lock
 * later.  Every record therefore carries a generation that changes whenever the record is
 * retired (destroy, or re-initialisation at the same address) or recycled, and every cached
 * pointer is checked against it.  The generation is even while the record is stable and odd
 * while it is being rewritten for a new object: a reader that sees it odd, or changed
 * between two reads, does not use what it read.
 *
 * When the table is full, a new object goes untracked: its calls pass straight through,
 * after one failed look-up, with no lock taken and no stack captured, so a program with more
 * live locks than the table holds pays little for the excess.  Every 64th such miss in a
 * thread tries, under the lock, to recycle an idle record (not held, nobody waiting) for
 * the object, so that long-running programs keep tracking what they use now.
 *
 * Index slots and records are only touched on pages of the segment already populated
 * (segment.c): a slot on a page never populated is empty.
 *
 * The index is levelled (index.c): a program with few objects touches few of its pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "shim.h"

#define RECYCLE_SCAN  256u
#define RETRY_EVERY   64u     /* misses on a full table between two recycling attempts */
#define LIMBO_SLOTS   256u    /* recycled records waiting out their grace period */
#define GRACE_NS      100000000ull

/* An idle record taken for recycling may still be in use for a moment: a thread that found
 * it just before can be between its look-up and writing the owner.  So it is retired first
 * and reused only after GRACE_NS; a late write lands on a record nobody reads, and the
 * write's thread drops the lock from its held list at unlock (lockpath.c). */
static struct {
	uint32_t idx[LIMBO_SLOTS];     /* record index + 1 */
	uint64_t since[LIMBO_SLOTS];
	uint32_t head, len;
} limbo;

static uint32_t free_head;    /* index + 1 of the first retired record, 0 if none */
static uint32_t recycle_hand;

static inline uint32_t hash_addr(uintptr_t a)
{
	return track_hash_bits(a, 32);
}

static struct track_obj_rec *rec_at(uint32_t v)
{
	return v != TRACK_SLOT_EMPTY && v <= track__g.hdr->max_objects ? &track__g.objs[v - 1] : NULL;
}

/* What a slot of the index must hold to be the one looked for: record index + 1 idx, or,
 * with idx 0, a record whose address is a. */
struct wanted {
	uintptr_t a;
	uint32_t idx;
};

static int is_wanted(uint32_t v, void *ctx)
{
	const struct wanted *w = ctx;
	struct track_obj_rec *r;
	return w->idx != 0 ? v == w->idx
			   : (r = rec_at(v)) != NULL && TRACK_LOAD(&r->addr) == (uint64_t)w->a;
}

/* The slot of the index that holds record index + 1 idx, or with idx 0 the first that holds
 * a record whose address is a; NULL if none.  Lock-free: used on the miss path. */
static uint32_t *slot_of(uintptr_t a, uint32_t idx)
{
	struct wanted w = {a, idx};
	return track__index_find(&track__g.obj_index, hash_addr(a), is_wanted, &w);
}

/* A slot to put a new record for address a in (NULL: chain too long).  Under the lock. */
static uint32_t *slot_claim(uintptr_t a)
{
	return track__index_claim(&track__g.obj_index, hash_addr(a),
				  TRACK_LOAD(&track__g.hdr->objects_live));
}

static void slot_free(uint32_t *s)
{
	track__index_free(&track__g.obj_index, s);
}

/* Take a record out of service: caches see the new generation, the slot becomes a tombstone,
 * and the record goes on the free list.  Under the shim lock. */
static void retire(struct track_obj_rec *r, int to_free_list)
{
	uint32_t idx = track__obj_index(r), *s = slot_of((uintptr_t)r->addr, idx);
	track__order_forget(r);   /* its lock id dies: its lock-order edges go */
	if (r->flags & TRACK_OF_HEAP)
		track__freed_unlink(r);
	TRACK_ADD(&r->gen, 2);   /* stays even: stable, but another generation */
	r->flags &= ~TRACK_OF_LIVE;
	if (s != NULL)
		slot_free(s);
	TRACK_SUB(&track__g.hdr->objects_live, 1);
	if (to_free_list) {
		r->next_free = free_head;
		free_head = idx;
	}
}

/* A recycled record whose grace period is over, or NULL; when the limbo has room, idle
 * live records (not held, nobody waiting) are retired into it for later.  Under the lock. */
static struct track_obj_rec *recycle_idle(void)
{
	uint32_t cap = track__g.hdr->max_objects, n;
	uint64_t now = track__now_ns();
	struct track_obj_rec *r = NULL;
	if (limbo.len > 0 && now - limbo.since[limbo.head] >= GRACE_NS) {
		r = rec_at(limbo.idx[limbo.head]);
		limbo.head = (limbo.head + 1) % LIMBO_SLOTS;
		limbo.len--;
	}
	for (n = 0; n < RECYCLE_SCAN && limbo.len < LIMBO_SLOTS; n++) {
		struct track_obj_rec *o = &track__g.objs[recycle_hand];
		recycle_hand = (recycle_hand + 1) % cap;
		if ((o->flags & TRACK_OF_LIVE) && TRACK_LOAD(&o->owner_tid) == 0 &&
		    TRACK_LOAD(&o->readers) == 0 && TRACK_LOAD(&o->waiters) == 0 &&
		    TRACK_LOAD(&o->pins) == 0) {
			uint32_t k = (limbo.head + limbo.len++) % LIMBO_SLOTS;
			retire(o, 0);
			limbo.idx[k] = track__obj_index(o);
			limbo.since[k] = now;
			TRACK_ADD(&track__g.hdr->objects_recycled, 1);
			break;
		}
	}
	return r;
}

/* Fresh records first, so that destroyed objects keep their history in the report for as
 * long as there is room; then retired records; then idle live ones. */
static struct track_obj_rec *alloc_rec(void)
{
	struct track_seg_header *h = track__g.hdr;
	struct track_obj_rec *r;
	if (h->objects_used < h->max_objects) {
		r = &track__g.objs[h->objects_used];
		if (track__seg_reserve(r, sizeof *r) != 0)
			return NULL;
		TRACK_ADD(&h->objects_used, 1);
		return r;
	}
	if (free_head != 0) {
		r = rec_at(free_head);
		free_head = r->next_free;
		return r;
	}
	return recycle_idle();
}

/* Create the record for a new object at a, in record r if given (one just retired), else
 * in a new one.  Under the shim lock. */
static struct track_obj_rec *create(uintptr_t a, uint32_t kind, uint64_t pc, uint32_t flags,
				    int32_t tid, uint32_t stack, struct track_obj_rec *r)
{
	uint32_t *s = slot_claim(a);
	if (s == NULL || (r == NULL && (r = alloc_rec()) == NULL)) {
		TRACK_ADD(&track__g.hdr->objects_dropped, 1);
		return NULL;
	}
	/* Odd while rewritten: a cache entry or a look-up that still names this record misses. */
	TRACK_ADD(&r->gen, 1);
	memset((char *)r + offsetof(struct track_obj_rec, kind), 0,
	       sizeof *r - offsetof(struct track_obj_rec, kind));
	TRACK_STORE(&r->addr, (uint64_t)a);
	r->kind = kind;
	r->flags = TRACK_OF_LIVE | flags;
	r->first_pc = pc;
	r->first_tid = tid;
	r->first_stack = stack;
	track__order_assign(r);
	if (flags & TRACK_OF_HEAP)
		track__freed_link(r);
	__atomic_add_fetch(&r->gen, 1, __ATOMIC_RELEASE);   /* even: stable again */
	TRACK_ADD(&track__g.hdr->objects_live, 1);
	__atomic_store_n(s, track__obj_index(r), __ATOMIC_RELEASE);
	return r;
}

/* The live record at a, if any, without locking, and the generation it was found live in
 * (read before the checks, so that a record recycled meanwhile is not cached as current). */
static struct track_obj_rec *find_live_gen(uintptr_t a, uint64_t *gen)
{
	uint32_t *s = slot_of(a, 0);
	struct track_obj_rec *r;
	if (s == NULL || (r = rec_at(__atomic_load_n(s, __ATOMIC_ACQUIRE))) == NULL)
		return NULL;
	*gen = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
	if (!(*gen & 1) && TRACK_LOAD(&r->addr) == a && (TRACK_LOAD(&r->flags) & TRACK_OF_LIVE) &&
	    __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE) == *gen)
		return r;
	return NULL;
}

static struct track_obj_rec *find_live(uintptr_t a)
{
	uint64_t gen;
	return find_live_gen(a, &gen);
}

struct track_obj_rec *track__obj_find(const void *addr)
{
	return find_live((uintptr_t)addr);
}

static void cache_fill(struct track__thread *t, uintptr_t a, struct track_obj_rec *r,
		       uint64_t gen)
{
	struct track__cache_ent *e = track__cache_ent(t, a);
	/* A signal handler's fill nested inside this one would leave fields of two objects
	 * behind it: a handler interrupting a fill does not fill at all. */
	if (t->filling)
		return;
	t->filling = 1;
	/* The count tells a look-up this fill interrupted that what it read may be torn
	 * (shim.h, track__obj_cached); the entry matches no address until it is whole. */
	t->fills++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	e->addr = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	e->rec = r;
	e->gen = (uint32_t)gen;
	e->idx = track__obj_index(r);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	e->addr = a;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->filling = 0;
}

/* Whether a new object can have a record without recycling (racy: a hint). */
static int room(void)
{
	struct track_seg_header *h = track__g.hdr;
	return TRACK_LOAD(&h->objects_used) < h->max_objects || TRACK_LOAD(&free_head) != 0;
}

/* The table is full: whether this miss may try to recycle a record (one in RETRY_EVERY per
 * thread), counting it in the header in batches. */
static int may_recycle(struct track__thread *t)
{
	if (++t->drops < RETRY_EVERY)
		return 0;
	TRACK_ADD(&track__g.hdr->objects_dropped, t->drops);
	t->drops = 0;
	return 1;
}

/* How make() comes to an object: first seen in use; by an init call; first seen in use, but
 * known to be a new object where an old one's record still is (from_an_earlier_stack). */
enum { MAKE_IN_USE, MAKE_INIT, MAKE_NEW_LIFE };

/* glibc's encoding of a mutex's attributes in its (public) __kind field, which the mutex's
 * init wrote (a static initializer: 0, a normal private mutex): the PTHREAD_MUTEX_* type in
 * the low bits, and these (nptl's pthreadP.h). */
#define GLIBC_MUTEX_ROBUST  16
#define GLIBC_MUTEX_PSHARED 128

/* A mutex record's subtype, from the mutex itself: read by the thread that initialises or
 * uses it (so it is the program's live memory), whichever process initialised it. */
static uint16_t mutex_subtype(const pthread_mutex_t *m)
{
	int k = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
	return (uint16_t)((k & TRACK_MUTEX_TYPE_MASK) | (k & GLIBC_MUTEX_ROBUST ? TRACK_MUTEX_ROBUST : 0) |
			  (k & GLIBC_MUTEX_PSHARED ? TRACK_MUTEX_PSHARED : 0));
}

/* Find or create the record for the object at a, under the lock.  init (MAKE_*): by an init
 * call, or a new life, an existing record at a is retired; else the object is one first
 * seen in use.  NULL when the table is full and this miss may not recycle: then the object
 * goes untracked, but a record left at its address describes another object now and goes
 * too. */
static struct track_obj_rec *make(struct track__thread *t, uintptr_t a, uint32_t kind,
				  uint64_t pc, int init)
{
	struct track_obj_rec *r, *old = init == MAKE_NEW_LIFE ? find_live(a) : NULL;
	uint64_t gen;
	int saved;
	uint32_t stack, heap;
	if (old == NULL && !room() && !may_recycle(t)) {
		if (init)
			track__obj_destroy((const void *)a);
		return NULL;
	}
	saved = errno;
	/* The stack first (it is the slow part, and needs no lock), unless the record would
	 * come from recycling: a full table must stay cheap.  A new life first used where the
	 * old one was has its stack already. */
	if (old != NULL && TRACK_LOAD(&old->first_pc) == pc)
		stack = TRACK_LOAD(&old->first_stack);
	else
		stack = room() ? track__stack_capture(t) : 0;
	heap = track__freed_may_be_heap(t, a) ? TRACK_OF_HEAP : 0;
	track__ilock();
	r = find_live(a);
	if (r != NULL && init == MAKE_NEW_LIFE) {
		/* an earlier stack's lock: its record is of no use to anyone now, the new
		 * lock has it (a thread storm's locals must not fill the table) */
		retire(r, 0);
		r = create(a, kind, pc, TRACK_OF_STATIC | heap, t->tid, stack, r);
	} else {
		if (r != NULL && (init || r->kind != kind)) {
			/* initialised again, or reused for another kind without a destroy call:
			 * a new object */
			retire(r, 1);
			r = NULL;
		}
		if (r == NULL)
			r = create(a, kind, pc, (init == MAKE_INIT ? 0 : TRACK_OF_STATIC) | heap,
				   t->tid, stack, NULL);
	}
	if (r != NULL && kind == TRACK_OBJ_MUTEX)
		r->subtype = mutex_subtype((const pthread_mutex_t *)a);
	gen = r != NULL ? TRACK_LOAD(&r->gen) : 0;   /* under the lock: current */
	track__iunlock();
	if (r != NULL) {
		cache_fill(t, a, r, gen);
		track__modules_note_pc(pc);
	}
	errno = saved;
	return r;
}

/*
 * Whether record r, of a lock at address a in the calling thread's own stack, is of a lock
 * of an earlier thread whose stack this memory was: glibc gives the stack of an ended thread
 * to the next, and a local PTHREAD_MUTEX_INITIALIZER there is a new lock with no destroy or
 * init call to say so.  Told by its record: first used by another thread, and made before
 * this thread was born (a lock of this stack that this thread handed to another, which used
 * it first, was made after).  Instance mode only: in class mode the two are one class.
 */
static int from_an_earlier_stack(const struct track__thread *t, const struct track_obj_rec *r,
				 uintptr_t a)
{
	return t->stack_hi != 0 && a >= t->stack_lo && a < t->stack_hi &&
	       (r->flags & TRACK_OF_STATIC) && r->first_tid != t->tid &&
	       track__g.lock_order == TRACK_LO_INSTANCE && r->lock_id <= t->born_lock_id;
}

struct track_obj_rec *track__obj_slow(struct track__thread *t, uintptr_t a, uint32_t kind,
				     uint64_t pc, int create_it)
{
	struct track_obj_rec *r;
	uint64_t gen;
	if (t == NULL || track__busy())
		return NULL;
	r = find_live_gen(a, &gen);
	if (r != NULL && create_it && from_an_earlier_stack(t, r, a))
		return make(t, a, kind, pc, MAKE_NEW_LIFE);
	if (r != NULL && (r->kind == kind || !create_it)) {
		cache_fill(t, a, r, gen);
		return r;
	}
	if (!create_it)
		return NULL;
	return make(t, a, kind, pc, MAKE_IN_USE);
}

/* An init over an object still in use: held (its owner or readers would release a lock
 * that is no longer theirs) or waited on.  An unused one initialised again without a destroy
 * is undefined too, but common and harmless in glibc: not reported. */
static void reinit_check(struct track__thread *t, const void *addr, uint64_t pc)
{
	static const char *const kinds[] = {TRACK_OBJ_KINDS(TRACK__X_NAME)};
	struct track_obj_rec *old = find_live((uintptr_t)addr);
	int32_t owner;
	uint32_t readers, waiters;
	if (old == NULL)
		return;
	owner = TRACK_LOAD(&old->owner_tid);
	readers = TRACK_LOAD(&old->readers);
	waiters = TRACK_LOAD(&old->waiters);
	if (owner != 0)
		track__finding(TRACK_FK_REINIT_LIVE, addr, old->kind, pc, owner,
			      "%s %p initialised again while thread %d holds it", kinds[old->kind],
			      addr, owner);
	if (owner == t->tid)   /* the init unlocked it: the caller holds it no more */
		track__held_remove_slow(t, track__obj_index(old));
	else if (readers != 0 || waiters != 0)
		track__finding(TRACK_FK_REINIT_LIVE, addr, old->kind, pc, 0,
			      "%s %p initialised again while %u thread(s) %s it", kinds[old->kind],
			      addr, readers ? readers : waiters, readers ? "read-hold" : "wait on");
}

struct track_obj_rec *track__obj_init(const void *addr, uint32_t kind, uint64_t pc)
{
	struct track__thread *t = track__self();
	if (t == NULL || track__busy())
		return NULL;
	reinit_check(t, addr, pc);
	return make(t, (uintptr_t)addr, kind, pc, MAKE_INIT);
}

void track__obj_destroy(const void *addr)
{
	struct track__thread *t = track__self();
	struct track_obj_rec *r;
	if (t == NULL || track__busy() || find_live((uintptr_t)addr) == NULL)
		return;
	track__ilock();
	r = find_live((uintptr_t)addr);
	if (r != NULL) {
		r->flags |= TRACK_OF_DESTROYED;
		retire(r, 1);
	}
	track__iunlock();
}

#define KIND_WORD(e, name) name,
static const char *const kind_words[] = {TRACK_OBJ_KINDS(KIND_WORD)};
#undef KIND_WORD

int track__obj_freed(struct track_obj_rec *seen, uint64_t pc)
{
	int saved = errno;   /* free() leaves errno alone */
	struct track__thread *t = track__self();
	uint64_t a = TRACK_LOAD(&seen->addr);
	struct track_obj_rec *r;
	int32_t owner = 0;
	uint32_t kind = 0, readers = 0;
	if (t == NULL || track__busy()) {
		errno = saved;
		return 0;
	}
	track__ilock();
	r = find_live((uintptr_t)a);
	if (r == seen && (r->flags & TRACK_OF_HEAP)) {
		owner = TRACK_LOAD(&r->owner_tid);
		readers = TRACK_LOAD(&r->readers);
		kind = r->kind;
		r->flags |= TRACK_OF_FREED;
		retire(r, 1);
	} else {
		r = NULL;
	}
	track__iunlock();
	if (r != NULL && owner != 0)
		track__finding(TRACK_FK_FREED_LOCKED, (void *)(uintptr_t)a, kind, pc, owner,
			      "%s %p freed while thread %d holds it", kind_words[kind],
			      (void *)(uintptr_t)a, owner);
	else if (r != NULL && readers != 0)
		track__finding(TRACK_FK_FREED_LOCKED, (void *)(uintptr_t)a, kind, pc, 0,
			      "rwlock %p freed while %u reader(s) hold it", (void *)(uintptr_t)a,
			      readers);
	errno = saved;
	return r != NULL;
}

/* After fork: the child's fresh segment starts with no objects. */
void track__objects_reset(void)
{
	track__freed_reset();
	free_head = 0;
	recycle_hand = 0;
	limbo.head = limbo.len = 0;
}

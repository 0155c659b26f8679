/*
 * unwind.c — the shim's own stack unwinder: the return addresses of the calling thread,
 * found with the DWARF call-frame information (.eh_frame) that every object carries.
 *
 * The shim captures stacks from inside pthread calls, and those calls come from anywhere:
 * from a program's allocator while it holds its own lock (jemalloc's mutexes are pthread
 * mutexes), from a signal handler, from a thread about to be cancelled, from a thread with
 * a 16 KB stack.  So this unwinder
 *  - allocates nothing and takes no lock: objects are found with glibc's _dl_find_object
 *    (lock-free, async-signal-safe, glibc 2.35), their frame tables read where ld.so mapped
 *    them;
 *  - makes no system call, so it is never a cancellation point and opens no descriptor;
 *  - reads the stack only inside [the caller's stack pointer, the top of this thread's
 *    stack): whatever the frame tables say, it never reads memory that may not exist;
 *  - keeps its state small (about a kilobyte of stack).
 * libunwind, which the shim used before, does each of these wrong for this purpose: its
 * first unwind in a thread allocates thread-local storage with malloc (and so re-enters an
 * allocator that holds its own lock), maps a 256 KB cache per thread, validates addresses
 * through a pipe (two descriptors, and read/write cancellation points) and takes a mutex.
 *
 * What it understands: .eh_frame_hdr's sorted table, CIE and FDE records with the usual
 * augmentations (z, R, P, L, S), the call-frame instructions, and DWARF expressions of the
 * kinds compilers and glibc's signal trampoline use.  Anything else ends the walk early;
 * it never guesses.  x86_64 only for now: elsewhere it returns no frames.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "shim.h"

#if defined(__x86_64__)

#define NREGS  17      /* DWARF registers 0-16: rax..r15, and the return address */
#define REG_FP 6       /* rbp */
#define REG_SP 7       /* rsp */
#define REG_RA 16      /* return address column */
#define REMEMBER_DEPTH 3
#define MAX_EXPR_OPS   64

enum rule { R_SAME, R_UNDEF, R_OFFSET, R_VAL_OFFSET, R_REG, R_EXPR, R_VAL_EXPR };
enum cfa_rule { CFA_REG_OFF, CFA_EXPR };

/* How to find each register of the caller, and the CFA (the caller's stack pointer). */
struct rules {
	uint8_t how[NREGS];
	uint8_t cfa_how, cfa_reg;
	int64_t val[NREGS];     /* offset from the CFA, register number, or expression address */
	int64_t cfa_off;
	const uint8_t *cfa_expr; /* the CFA expression (its length first), for CFA_EXPR */
};

/* Bytes that may be read: a record of the frame tables inside its object's mapping. */
struct rdr {
	const uint8_t *p, *end;
	int bad;
};

struct cie {
	const uint8_t *insns, *insns_end;
	uint64_t code_align;
	int64_t data_align;
	uint32_t ra_reg;
	uint8_t fde_enc;
	int has_z;               /* FDEs carry augmentation data (its length first) */
	int signal_frame;
};

/* The thread's stack: where reads are safe. */
struct stack {
	uintptr_t lo, hi;
};

/* --- reading the tables ---------------------------------------------------------------- */

static int take(struct rdr *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(out, 0, n);
		return -1;
	}
	memcpy(out, r->p, n);
	r->p += n;
	return 0;
}

static uint8_t u8(struct rdr *r)
{
	uint8_t v;
	take(r, &v, 1);
	return v;
}

/* A LEB128 number's bits, how many there were, and its last byte. */
static uint64_t leb(struct rdr *r, unsigned *shift, uint8_t *last)
{
	uint64_t v = 0;
	uint8_t b;
	*shift = 0;
	do {
		b = u8(r);
		if (*shift < 64)
			v |= (uint64_t)(b & 0x7f) << *shift;
		*shift += 7;
	} while ((b & 0x80) && !r->bad);
	*last = b;
	return v;
}

static uint64_t uleb(struct rdr *r)
{
	unsigned shift;
	uint8_t last;
	return leb(r, &shift, &last);
}

static int64_t sleb(struct rdr *r)
{
	unsigned shift;
	uint8_t last;
	uint64_t v = leb(r, &shift, &last);
	if (shift < 64 && (last & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* A pointer in one of the DW_EH_PE_* encodings; datarel is relative to dbase.  Indirect
 * pointers (personality routines) are left unresolved: nothing here needs their value. */
static uint64_t encoded(struct rdr *r, uint8_t enc, uintptr_t dbase)
{
	uintptr_t field = (uintptr_t)r->p;
	uint64_t v = 0, base = 0;
	if (enc == 0xff)
		return 0;
	switch (enc & 0x0f) {
	case 0x00: { uint64_t x; take(r, &x, 8); v = x; break; }
	case 0x01: v = uleb(r); break;
	case 0x02: { uint16_t x; take(r, &x, 2); v = x; break; }
	case 0x03: { uint32_t x; take(r, &x, 4); v = x; break; }
	case 0x04: { uint64_t x; take(r, &x, 8); v = x; break; }
	case 0x09: v = (uint64_t)sleb(r); break;
	case 0x0a: { int16_t x; take(r, &x, 2); v = (uint64_t)(int64_t)x; break; }
	case 0x0b: { int32_t x; take(r, &x, 4); v = (uint64_t)(int64_t)x; break; }
	case 0x0c: { int64_t x; take(r, &x, 8); v = (uint64_t)x; break; }
	default: r->bad = 1; return 0;
	}
	switch (enc & 0x70) {
	case 0x00: break;
	case 0x10: base = field; break;
	case 0x30: base = dbase; break;
	default: r->bad = 1; return 0;
	}
	return base + v;
}

/* The length field that starts a CIE or FDE; the record's end goes to *end. */
static int record(struct rdr *r, const uint8_t **end)
{
	uint32_t len32;
	uint64_t len;
	if (take(r, &len32, 4) != 0 || len32 == 0)
		return -1;
	len = len32;
	if (len32 == 0xffffffffu && take(r, &len, 8) != 0)
		return -1;
	if (len > (uint64_t)(r->end - r->p))
		return -1;
	*end = r->p + len;
	return 0;
}

static int parse_cie(const uint8_t *at, const uint8_t *lo, const uint8_t *hi, uintptr_t dbase,
		     struct cie *c)
{
	struct rdr r = {at, hi, 0};
	const uint8_t *end, *aug_end = NULL;
	char aug[8];
	uint32_t id;
	int n = 0;
	if (at < lo || at >= hi || record(&r, &end) != 0)
		return -1;
	r.end = end;
	if (take(&r, &id, 4) != 0 || id != 0 || u8(&r) != 1)   /* CIE id 0, version 1 */
		return -1;
	while (n < (int)sizeof aug - 1 && (aug[n] = (char)u8(&r)) != '\0' && !r.bad)
		n++;
	if (r.bad || aug[n] != '\0')
		return -1;
	memset(c, 0, sizeof *c);
	c->code_align = uleb(&r);
	c->data_align = sleb(&r);
	c->ra_reg = (uint32_t)uleb(&r);
	c->fde_enc = 0;   /* absptr unless R says otherwise */
	for (n = 0; aug[n] && !r.bad; n++) {
		switch (aug[n]) {
		case 'z': {
			uint64_t alen = uleb(&r);
			if (n != 0 || alen > (uint64_t)(r.end - r.p))
				return -1;
			aug_end = r.p + alen;
			c->has_z = 1;
			continue;
		}
		case 'R': c->fde_enc = u8(&r); continue;
		case 'P': { uint8_t e = u8(&r); encoded(&r, (uint8_t)(e & 0x7f), dbase); continue; }
		case 'L': u8(&r); continue;
		case 'S': c->signal_frame = 1; continue;
		}
		if (aug_end == NULL)
			return -1;   /* an augmentation it does not know, and no length to skip it */
		break;
	}
	if (aug_end != NULL)
		r.p = aug_end;
	if (r.bad || c->ra_reg >= NREGS)
		return -1;
	c->insns = r.p;
	c->insns_end = end;
	return 0;
}

/* Word i of .eh_frame_hdr's table (relative to the header). */
static int32_t table_word(const uint8_t *table, uint64_t i)
{
	int32_t v;
	memcpy(&v, table + 4 * i, 4);
	return v;
}

/* The FDE covering pc in an object whose .eh_frame_hdr is at hdr: its instructions and CIE,
 * and where its code starts. */
static int find_fde(uintptr_t pc, const uint8_t *hdr, const uint8_t *lo, const uint8_t *hi,
		    struct cie *c, const uint8_t **insns, const uint8_t **insns_end,
		    uintptr_t *start)
{
	struct rdr r = {hdr, hi, 0};
	uintptr_t dbase = (uintptr_t)hdr;
	uint8_t version, ptr_enc, count_enc, table_enc;
	uint64_t count, a = 0, b;
	const uint8_t *table;
	const uint8_t *fde, *end, *cie_at;
	uint32_t cie_off;
	uint64_t pc_begin, pc_range;
	if (hdr < lo || hdr >= hi)
		return -1;
	version = u8(&r);
	ptr_enc = u8(&r);
	count_enc = u8(&r);
	table_enc = u8(&r);
	if (version != 1 || table_enc != 0x3b)   /* datarel sdata4: what every linker writes */
		return -1;
	encoded(&r, ptr_enc, dbase);
	count = encoded(&r, count_enc, dbase);
	table = r.p;
	if (r.bad || count == 0 || (uint64_t)(hi - r.p) / 8 < count)
		return -1;
	/* the last entry whose initial location is at or below pc */
	b = count;
	while (b - a > 1) {
		uint64_t mid = a + (b - a) / 2;
		if (dbase + (uintptr_t)(intptr_t)table_word(table, 2 * mid) <= pc)
			a = mid;
		else
			b = mid;
	}
	fde = (const uint8_t *)(dbase + (uintptr_t)(intptr_t)table_word(table, 2 * a + 1));
	if (fde < lo || fde >= hi)
		return -1;
	r = (struct rdr){fde, hi, 0};
	if (record(&r, &end) != 0)
		return -1;
	r.end = end;
	cie_at = r.p;
	if (take(&r, &cie_off, 4) != 0 || cie_off == 0)
		return -1;
	if (parse_cie(cie_at - cie_off, lo, hi, dbase, c) != 0)
		return -1;
	pc_begin = encoded(&r, c->fde_enc, dbase);
	pc_range = encoded(&r, (uint8_t)(c->fde_enc & 0x0f), dbase);
	if (r.bad || pc < pc_begin || pc - pc_begin >= pc_range)
		return -1;
	if (c->has_z) {   /* the FDE's augmentation data (an LSDA pointer): skip it */
		uint64_t alen = uleb(&r);
		if (r.bad || alen > (uint64_t)(r.end - r.p))
			return -1;
		r.p += alen;
	}
	*start = (uintptr_t)pc_begin;
	*insns = r.p;
	*insns_end = end;
	return 0;
}

/* --- running the call-frame instructions ------------------------------------------------ */

struct machine {
	struct rules cur, init;
	struct rules saved[REMEMBER_DEPTH];
	int nsaved;
};

static void set_rule(struct rules *rs, uint64_t reg, uint8_t how, int64_t val)
{
	if (reg < NREGS) {
		rs->how[reg] = how;
		rs->val[reg] = val;
	}
}

/* Run instructions [p, end) until the location passes pc (for the CIE's initial ones, pc is
 * UINTPTR_MAX: run them all).  Returns -1 on anything it does not understand. */
static int run(struct machine *m, const struct cie *c, const uint8_t *p, const uint8_t *end,
	       uintptr_t loc, uintptr_t pc, uintptr_t dbase)
{
	struct rdr r = {p, end, 0};
	struct rules *rs = &m->cur;
	while (r.p < r.end && !r.bad) {
		uint8_t op = u8(&r), low = op & 0x3f;
		uint64_t reg, delta = 0;
		switch (op >> 6) {
		case 1:   /* advance_loc */
			delta = low;
			goto advance;
		case 2:   /* offset */
			set_rule(rs, low, R_OFFSET, (int64_t)uleb(&r) * c->data_align);
			continue;
		case 3:   /* restore */
			set_rule(rs, low, m->init.how[low < NREGS ? low : 0],
				 m->init.val[low < NREGS ? low : 0]);
			continue;
		}
		switch (op) {
		case 0x00: break;                                        /* nop */
		case 0x01: loc = encoded(&r, c->fde_enc, dbase);         /* set_loc */
			if (loc > pc)
				return 0;
			break;
		case 0x02: { uint8_t d = u8(&r); delta = d; goto advance; }
		case 0x03: { uint16_t d; take(&r, &d, 2); delta = d; goto advance; }
		case 0x04: { uint32_t d; take(&r, &d, 4); delta = d; goto advance; }
		case 0x05: reg = uleb(&r);                               /* offset_extended */
			set_rule(rs, reg, R_OFFSET, (int64_t)uleb(&r) * c->data_align);
			break;
		case 0x06: reg = uleb(&r);                               /* restore_extended */
			if (reg < NREGS)
				set_rule(rs, reg, m->init.how[reg], m->init.val[reg]);
			break;
		case 0x07: set_rule(rs, uleb(&r), R_UNDEF, 0); break;     /* undefined */
		case 0x08: set_rule(rs, uleb(&r), R_SAME, 0); break;      /* same_value */
		case 0x09: reg = uleb(&r);                               /* register */
			set_rule(rs, reg, R_REG, (int64_t)uleb(&r));
			break;
		case 0x0a:                                               /* remember_state */
			if (m->nsaved == REMEMBER_DEPTH)
				return -1;
			m->saved[m->nsaved++] = *rs;
			break;
		case 0x0b:                                               /* restore_state */
			if (m->nsaved == 0)
				return -1;
			/* the CFA rule too: GCC's epilogues rely on it, and so does libgcc */
			*rs = m->saved[--m->nsaved];
			break;
		case 0x0c: rs->cfa_how = CFA_REG_OFF;                    /* def_cfa */
			rs->cfa_reg = (uint8_t)uleb(&r);
			rs->cfa_off = (int64_t)uleb(&r);
			break;
		case 0x0d: rs->cfa_how = CFA_REG_OFF;                    /* def_cfa_register */
			rs->cfa_reg = (uint8_t)uleb(&r);
			break;
		case 0x0e: rs->cfa_off = (int64_t)uleb(&r);              /* def_cfa_offset */
			if (rs->cfa_how != CFA_REG_OFF)
				return -1;   /* an offset for an expression: nonsense */
			break;
		case 0x0f: rs->cfa_how = CFA_EXPR;                       /* def_cfa_expression */
			rs->cfa_expr = r.p;
			goto skip_block;
		case 0x10: reg = uleb(&r);                               /* expression */
			set_rule(rs, reg, R_EXPR, (int64_t)(uintptr_t)r.p);
			goto skip_block;
		case 0x11: reg = uleb(&r);                               /* offset_extended_sf */
			set_rule(rs, reg, R_OFFSET, sleb(&r) * c->data_align);
			break;
		case 0x12: rs->cfa_how = CFA_REG_OFF;                    /* def_cfa_sf */
			rs->cfa_reg = (uint8_t)uleb(&r);
			rs->cfa_off = sleb(&r) * c->data_align;
			break;
		case 0x13: rs->cfa_off = sleb(&r) * c->data_align;       /* def_cfa_offset_sf */
			if (rs->cfa_how != CFA_REG_OFF)
				return -1;
			break;
		case 0x14: reg = uleb(&r);                               /* val_offset */
			set_rule(rs, reg, R_VAL_OFFSET, (int64_t)uleb(&r) * c->data_align);
			break;
		case 0x15: reg = uleb(&r);                               /* val_offset_sf */
			set_rule(rs, reg, R_VAL_OFFSET, sleb(&r) * c->data_align);
			break;
		case 0x16: reg = uleb(&r);                               /* val_expression */
			set_rule(rs, reg, R_VAL_EXPR, (int64_t)(uintptr_t)r.p);
			goto skip_block;
		case 0x2e: uleb(&r); break;                              /* GNU_args_size */
		case 0x2f: reg = uleb(&r);                               /* GNU_negative_offset_ext */
			set_rule(rs, reg, R_OFFSET, -(int64_t)uleb(&r) * c->data_align);
			break;
		default:
			return -1;
		}
		if (rs->cfa_reg >= NREGS)
			return -1;
		continue;
	skip_block: {   /* an expression: its length, then its bytes */
			uint64_t n = uleb(&r);
			if (r.bad || n > (uint64_t)(r.end - r.p))
				return -1;
			r.p += n;
		}
		continue;
	advance:
		loc += delta * c->code_align;
		if (loc > pc)
			return 0;
	}
	return r.bad ? -1 : 0;
}

/* --- the walk ---------------------------------------------------------------------------- */

struct regs {
	uint64_t v[NREGS];
	uint32_t known;          /* bit per register */
};

static int read_word(const struct stack *st, uint64_t addr, uint64_t *out)
{
	if (addr < st->lo || addr > st->hi - 8 || (addr & 7) != 0)
		return -1;
	*out = *(const uint64_t *)(uintptr_t)addr;
	return 0;
}

/* Evaluate the DWARF expression at at (its length first), with first pushed when has_first.
 * Only the operations compilers and glibc use for frames; memory reads stay on the stack. */
static int eval(const uint8_t *at, const uint8_t *lo, const uint8_t *hi, const struct regs *rg,
		const struct stack *st, uint64_t first, int has_first, uint64_t *out)
{
	struct rdr r = {at, hi, 0};
	if (at < lo || at >= hi)
		return -1;
	uint64_t stk[8], len;
	int sp = 0, ops = 0;
	len = uleb(&r);
	if (r.bad || len > (uint64_t)(r.end - r.p))
		return -1;
	r.end = r.p + len;
	if (has_first)
		stk[sp++] = first;
	while (r.p < r.end && !r.bad && ops++ < MAX_EXPR_OPS) {
		uint8_t op = u8(&r);
		uint64_t a;
		if (op >= 0x30 && op <= 0x4f) {                 /* lit0..lit31 */
			a = op - 0x30u;
			goto push;
		}
		if (op >= 0x70 && op <= 0x8f) {                 /* breg0..breg31 */
			uint32_t reg = op - 0x70u;
			int64_t off = sleb(&r);
			if (reg >= NREGS || !(rg->known & (1u << reg)))
				return -1;
			a = rg->v[reg] + (uint64_t)off;
			goto push;
		}
		switch (op) {
		case 0x08: a = u8(&r); goto push;                                 /* const1u */
		case 0x09: a = (uint64_t)(int64_t)(int8_t)u8(&r); goto push;        /* const1s */
		case 0x0a: { uint16_t x; take(&r, &x, 2); a = x; goto push; }       /* const2u */
		case 0x0b: { int16_t x; take(&r, &x, 2); a = (uint64_t)(int64_t)x; goto push; }
		case 0x0c: { uint32_t x; take(&r, &x, 4); a = x; goto push; }       /* const4u */
		case 0x0d: { int32_t x; take(&r, &x, 4); a = (uint64_t)(int64_t)x; goto push; }
		case 0x0e: case 0x0f: take(&r, &a, 8); goto push;                 /* const8u/s */
		case 0x10: a = uleb(&r); goto push;                               /* constu */
		case 0x11: a = (uint64_t)sleb(&r); goto push;                     /* consts */
		case 0x12: if (sp < 1) return -1; a = stk[sp - 1]; goto push;     /* dup */
		case 0x13: if (sp < 1) return -1; sp--; continue;                 /* drop */
		case 0x14: if (sp < 2) return -1; a = stk[sp - 2]; goto push;     /* over */
		case 0x16: if (sp < 2) return -1;                                 /* swap */
			a = stk[sp - 1]; stk[sp - 1] = stk[sp - 2]; stk[sp - 2] = a;
			continue;
		case 0x06:                                                        /* deref */
			if (sp < 1 || read_word(st, stk[sp - 1], &stk[sp - 1]) != 0)
				return -1;
			continue;
		case 0x23: if (sp < 1) return -1; stk[sp - 1] += uleb(&r); continue; /* plus_uconst */
		case 0x1a: case 0x1c: case 0x1e: case 0x21: case 0x22: case 0x24: case 0x25:
		case 0x27: {
			uint64_t y, x;
			if (sp < 2)
				return -1;
			y = stk[--sp];
			x = stk[sp - 1];
			switch (op) {
			case 0x1a: x &= y; break;
			case 0x1c: x -= y; break;
			case 0x1e: x *= y; break;
			case 0x21: x |= y; break;
			case 0x22: x += y; break;
			case 0x24: x = y < 64 ? x << y : 0; break;
			case 0x25: x = y < 64 ? x >> y : 0; break;
			default: x ^= y; break;
			}
			stk[sp - 1] = x;
			continue;
		}
		case 0x1f: if (sp < 1) return -1; stk[sp - 1] = -stk[sp - 1]; continue;  /* neg */
		case 0x20: if (sp < 1) return -1; stk[sp - 1] = ~stk[sp - 1]; continue;  /* not */
		case 0x96: continue;                                              /* nop */
		default:
			return -1;
		}
	push:
		if (sp == (int)(sizeof stk / sizeof stk[0]))
			return -1;
		stk[sp++] = a;
	}
	if (r.bad || sp < 1)
		return -1;
	*out = stk[sp - 1];
	return 0;
}

/* --- the step cache ----------------------------------------------------------------------- */

/*
 * At a call site most frames' rules are simple: the CFA is rsp or rbp plus a constant, and
 * the return address and the callee-saved registers that were saved lie at constant offsets
 * from it.  Such a step, once worked out, is kept in a process-wide direct-mapped table
 * keyed by the address looked up, and the next capture through the same call site parses no
 * table.  A writer claims a slot by compare-and-swap and publishes the key last; a reader
 * checks the key before and after copying, so a torn entry is a miss.  Each entry names the
 * object it was made for, checked against _dl_find_object on every hit, so code loaded
 * where unloaded code was never inherits its rules.
 */
#define CACHE_BITS  9          /* 512 slots, 20 KB: a hash puts each call site on a page of
				  its own, so a bigger table costs a page per site cached */
#define CACHE_SLOTS (1u << CACHE_BITS)
#define KEY_BUSY    1u         /* a slot being written (no address looked up is 1) */
#define NSAVED      7

static const uint8_t saved_reg[NSAVED] = {3, REG_FP, 12, 13, 14, 15, REG_RA};

struct cstep {
	uint64_t key;              /* the address looked up; 0 empty */
	uint64_t map_start;        /* the object it was made for (dlfo_map_start) */
	int32_t cfa_off;
	uint8_t cfa_reg;           /* REG_SP or REG_FP */
	uint8_t saved;             /* bit k: saved_reg[k] is at CFA + off[k] */
	uint8_t outermost;         /* the return address is undefined: the walk ends here */
	uint8_t pad;
	int16_t off[NSAVED];
};

static struct cstep cache[CACHE_SLOTS];

static struct cstep *cache_slot(uintptr_t look)
{
	return &cache[track_hash_bits(look, CACHE_BITS)];
}

/* A consistent copy of the entry for look, or 0. */
static int cache_get(uintptr_t look, struct cstep *out)
{
	struct cstep *e = cache_slot(look);
	if (__atomic_load_n(&e->key, __ATOMIC_ACQUIRE) != look)
		return 0;
	memcpy(out, e, sizeof *out);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->key, __ATOMIC_RELAXED) == look && out->key == look;
}

/* Keep the rules just worked out for look, if they are simple enough. */
static void cache_put(uintptr_t look, const struct rules *rs, uint32_t ra_reg,
		      uintptr_t map_start)
{
	struct cstep c, *e;
	uint64_t old;
	int i, k;
	if (rs->cfa_how != CFA_REG_OFF || (rs->cfa_reg != REG_SP && rs->cfa_reg != REG_FP) ||
	    ra_reg != REG_RA || rs->cfa_off != (int32_t)rs->cfa_off)
		return;
	memset(&c, 0, sizeof c);
	c.map_start = map_start;
	c.cfa_off = (int32_t)rs->cfa_off;
	c.cfa_reg = rs->cfa_reg;
	c.outermost = rs->how[REG_RA] == R_UNDEF;
	for (i = 0; i < NREGS; i++) {
		for (k = 0; k < NSAVED && saved_reg[k] != i; k++)
			;
		if (rs->how[i] == R_SAME || (i == REG_RA && c.outermost))
			continue;
		if (k == NSAVED || rs->how[i] != R_OFFSET || rs->val[i] != (int16_t)rs->val[i])
			return;   /* a rule the cache does not keep */
		c.saved |= 1u << k;
		c.off[k] = (int16_t)rs->val[i];
	}
	e = cache_slot(look);
	old = __atomic_load_n(&e->key, __ATOMIC_RELAXED);
	if (old == KEY_BUSY || !__atomic_compare_exchange_n(&e->key, &old, KEY_BUSY, 0,
							      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;   /* another writer: let it */
	c.key = KEY_BUSY;
	memcpy((char *)e + sizeof e->key, (char *)&c + sizeof c.key, sizeof c - sizeof c.key);
	__atomic_store_n(&e->key, look, __ATOMIC_RELEASE);
}

/* One frame up with a cached step: as step() below.  Returns 2 if the cache cannot say. */
static int step_cached(struct regs *rg, uintptr_t look, const struct stack *st)
{
	struct dl_find_object fo;
	struct cstep c;
	struct regs out;
	uint64_t cfa;
	int k;
	if (!cache_get(look, &c))
		return 2;
	if (_dl_find_object((void *)look, &fo) != 0 || (uintptr_t)fo.dlfo_map_start != c.map_start)
		return 2;
	if (c.outermost)
		return 1;
	if (!(rg->known & (1u << c.cfa_reg)))
		return -1;
	cfa = rg->v[c.cfa_reg] + (uint64_t)(int64_t)c.cfa_off;
	if (cfa <= st->lo || cfa > st->hi)
		return -1;
	out = *rg;
	for (k = 0; k < NSAVED; k++) {
		uint8_t reg = saved_reg[k];
		if (!(c.saved & (1u << k)))
			continue;
		if (read_word(st, cfa + (uint64_t)(int64_t)c.off[k], &out.v[reg]) != 0)
			return -1;
		out.known |= 1u << reg;
	}
	if (!(out.known & (1u << REG_RA)))
		return -1;
	out.v[REG_SP] = cfa;
	out.known |= 1u << REG_SP;
	*rg = out;
	return 0;
}

/* One frame up: from the registers at pc to the caller's.  Returns 1 at the outermost frame
 * (return address undefined), 0 on success, -1 when the walk cannot go on. */
static int step(struct machine *m, struct regs *rg, uintptr_t pc, int exact,
		const struct stack *st, int *signal_frame)
{
	struct dl_find_object fo;
	const uint8_t *lo, *hi, *insns, *insns_end;
	uintptr_t start, look = exact ? pc : pc - 1;
	struct cie c;
	struct regs out;
	uint64_t cfa;
	int i = step_cached(rg, look, st);
	if (i != 2) {
		*signal_frame = 0;
		return i;
	}
	if (_dl_find_object((void *)look, &fo) != 0 || fo.dlfo_eh_frame == NULL)
		return -1;
	lo = (const uint8_t *)fo.dlfo_map_start;
	hi = (const uint8_t *)fo.dlfo_map_end;
	if (find_fde(look, (const uint8_t *)fo.dlfo_eh_frame, lo, hi, &c, &insns, &insns_end, &start) != 0)
		return -1;
	memset(&m->cur, 0, sizeof m->cur);
	memset(&m->init, 0, sizeof m->init);   /* a restore in the CIE's own rules finds these */
	m->nsaved = 0;
	if (run(m, &c, c.insns, c.insns_end, 0, UINTPTR_MAX, (uintptr_t)fo.dlfo_eh_frame) != 0)
		return -1;
	m->init = m->cur;
	if (run(m, &c, insns, insns_end, start, look, (uintptr_t)fo.dlfo_eh_frame) != 0)
		return -1;
	if (!c.signal_frame)
		cache_put(look, &m->cur, c.ra_reg, (uintptr_t)fo.dlfo_map_start);
	if (m->cur.cfa_how == CFA_REG_OFF) {
		if (!(rg->known & (1u << m->cur.cfa_reg)))
			return -1;
		cfa = rg->v[m->cur.cfa_reg] + (uint64_t)m->cur.cfa_off;
	} else if (eval(m->cur.cfa_expr, lo, hi, rg, st, 0, 0, &cfa) != 0) {
		return -1;
	}
	if (cfa <= st->lo || cfa > st->hi)
		return -1;
	out = *rg;
	for (i = 0; i < NREGS; i++) {
		int64_t v = m->cur.val[i];
		uint64_t x;
		switch (m->cur.how[i]) {
		case R_SAME:
			continue;
		case R_UNDEF:
			out.known &= ~(1u << i);
			continue;
		case R_OFFSET:
			if (read_word(st, cfa + (uint64_t)v, &x) != 0)
				return -1;
			break;
		case R_VAL_OFFSET:
			x = cfa + (uint64_t)v;
			break;
		case R_REG:
			if (v < 0 || v >= NREGS || !(rg->known & (1u << v)))
				return -1;
			x = rg->v[v];
			break;
		case R_EXPR:
			if (eval((const uint8_t *)(uintptr_t)v, lo, hi, rg, st, cfa, 1, &x) != 0 ||
			    read_word(st, x, &x) != 0)
				return -1;
			break;
		default:   /* R_VAL_EXPR */
			if (eval((const uint8_t *)(uintptr_t)v, lo, hi, rg, st, cfa, 1, &x) != 0)
				return -1;
			break;
		}
		out.v[i] = x;
		out.known |= 1u << i;
	}
	if (m->cur.how[c.ra_reg] == R_UNDEF)
		return 1;
	if (!(out.known & (1u << c.ra_reg)))
		return -1;
	out.v[REG_RA] = out.v[c.ra_reg];
	out.v[REG_SP] = cfa;   /* the caller's stack pointer is the CFA, whatever else was said */
	out.known |= 1u << REG_SP | 1u << REG_RA;
	*rg = out;
	*signal_frame = c.signal_frame;
	return 0;
}

/*
 * The walk itself, from the registers of the function this is inlined into.  Records up to
 * max return addresses in pcs (if not NULL), innermost first, and stops early once a frame's
 * CFA is above limit; *sig tells whether a signal frame was passed on the way.  Returns how
 * many frames it saw, or -1 if it could not reach limit when one was given.
 */
static __attribute__((always_inline)) inline int walk(uint64_t *pcs, int max, uintptr_t stack_lo,
						      uintptr_t stack_hi, uintptr_t stop,
						      uintptr_t limit, int *sig)
{
	struct machine m;
	struct regs rg;
	struct stack st;
	int n = 0, exact = 1, signal_frame = 0;
	memset(&rg, 0, sizeof rg);
	__asm__ volatile("leaq 0(%%rip), %%rax\n\t"
			 "movq %%rax, 128(%1)\n\t"
			 "movq %%rsp, 56(%1)\n\t"
			 "movq %%rbp, 48(%1)\n\t"
			 "movq %%rbx, 24(%1)\n\t"
			 "movq %%r12, 96(%1)\n\t"
			 "movq %%r13, 104(%1)\n\t"
			 "movq %%r14, 112(%1)\n\t"
			 "movq %%r15, 120(%1)\n\t"
			 : "=m"(rg.v)
			 : "r"(rg.v)
			 : "rax");
	rg.known = 1u << REG_RA | 1u << REG_SP | 1u << REG_FP | 1u << 3 | 0xfu << 12;
	st.lo = rg.v[REG_SP];
	st.hi = stack_hi;
	*sig = 0;
	/* On another stack (a coroutine's, a signal handler's alternate one) the walk would find
	 * no end it knows: nothing is read then. */
	if (stack_hi == 0 || st.lo < stack_lo || st.lo >= st.hi)
		return -1;
	while (n < max) {
		uintptr_t pc = rg.v[REG_RA];
		if (pc == 0)
			break;
		if (pcs != NULL)
			pcs[n] = pc;
		n++;
		if (stop != 0 && st.lo >= stop)
			break;   /* the frame that called the thread's trampoline: the end */
		if (step(&m, &rg, pc, exact, &st, &signal_frame) != 0)
			break;
		st.lo = rg.v[REG_SP];    /* frames only ever go up the stack */
		*sig |= signal_frame;
		if (limit != 0 && st.lo > limit)
			return n;
		/* Below a signal frame the address is the interrupted instruction's itself. */
		exact = signal_frame;
	}
	return limit != 0 ? -1 : n;
}

/*
 * Up to max return addresses of the calling thread, innermost first (the first are the
 * shim's own: the caller skips them).  [stack_lo, stack_hi) is this thread's stack: every
 * frame lies in it, and all of it is mapped.  With a stack pointer outside it (or stack_hi
 * 0: unknown), no frames.  stop, if not 0, is the CFA of the shim's thread trampoline: the
 * frame of its caller (glibc's start_thread) is the last one taken, so that the walk never
 * reads libc's frame tables for start_thread and clone3.  Those are the same in every
 * thread's stack, and reading them would make 100 KB or more of libc's pages resident (the
 * kernel maps 64 KB around each first touch of a file page) in every traced process.
 */
__attribute__((noinline)) int track__unwind(uint64_t *pcs, int max, uintptr_t stack_lo,
					   uintptr_t stack_hi, uintptr_t stop)
{
	int sig, n = walk(pcs, max, stack_lo, stack_hi, stop, 0, &sig);
	return n < 0 ? 0 : n;
}

/*
 * Whether the calling thread runs in a signal handler that interrupted the code whose frame
 * holds the address limit: 1 if a signal frame lies between here and there, 0 if the walk
 * got there without one (the code at limit is no longer running: it was jumped out of),
 * -1 if it cannot tell.
 */
__attribute__((noinline)) int track__unwind_in_handler(uintptr_t stack_lo, uintptr_t stack_hi,
						      uintptr_t limit)
{
	int sig, n = walk(NULL, 256, stack_lo, stack_hi, 0, limit, &sig);
	return n < 0 ? -1 : sig;
}

#else /* not x86_64 */

int track__unwind(uint64_t *pcs, int max, uintptr_t stack_lo, uintptr_t stack_hi,
		  uintptr_t stop)
{
	(void)pcs, (void)max, (void)stack_lo, (void)stack_hi, (void)stop;
	return 0;
}

int track__unwind_in_handler(uintptr_t stack_lo, uintptr_t stack_hi, uintptr_t limit)
{
	(void)stack_lo, (void)stack_hi, (void)limit;
	return -1;
}

#endif

/*
 * symbolize.c — address to function/file:line/module, on elfutils libdwfl and libdw.
 *
 * The traced process may be gone by the time a tool looks at its segment, so nothing here
 * reads the process: every module of the recorded map is opened from disk with
 * dwfl_report_elf at its recorded load bias.  Each module gets its own Dwfl, created on the
 * first address that falls into it: a map may hold modules that were dlclose'd and whose
 * address ranges were reused later, and one Dwfl cannot hold overlapping modules; being lazy
 * also means a report touching three libraries opens three files, not all of them.
 *
 * Where a name comes from, best first:
 *   DWARF (in the file, or a separate debug file found by build-id or .gnu_debuglink under
 *   /usr/lib/debug via dwfl_standard_find_debuginfo): source line, inline chain;
 *   the ELF symbol tables (.symtab, else .dynsym): function name and offset;
 *   nothing: module path and the offset inside the file.
 *
 * A file on disk whose build-id differs from the recorded one was rebuilt or upgraded since
 * the run; its symbols would be plausible-looking lies, so it is not used (the debug file
 * named by the recorded build-id is tried instead).
 *
 * C++ names are demangled with __cxa_demangle from libstdc++, looked up at run time with
 * dlopen so that this C program does not link libstdc++; without it names stay mangled.
 *
 * Every answer is cached per (pc, is_return) and every string handed out is interned in a
 * table owned by the symbolizer, so callers may keep the pointers until track_sym_free.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <dwarf.h>
#include <errno.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/symbolize.h"
#include "track/hash.h"

#define DEBUG_ROOT "/usr/lib/debug"

enum mod_state { MOD_UNTRIED, MOD_READY, MOD_FAILED };

struct sym_mod {
	uint64_t base;          /* load bias; in pid mode known once the ELF is found */
	uint64_t lo, hi;        /* [lo, hi): addresses that belong to this module */
	const char *path;       /* interned: what the frames show as module */
	uint8_t build_id[TRACK_BUILD_ID_MAX];
	uint32_t build_id_len;
	int state;              /* enum mod_state */
	Dwfl *dwfl;             /* owned (table mode); NULL in pid mode, where all share one */
	Dwfl_Module *dm;        /* valid when state == MOD_READY */
	struct var_ent *vars;   /* the module's variables from DWARF, by address (track_sym_data) */
	size_t nvars;
	bool vars_read;
};

/* A variable DWARF places at a fixed address, and its type: names its array elements and
   members. */
struct var_ent {
	uint64_t addr;          /* in the process */
	Dwarf_Die type;
};

struct cache_ent {
	uint64_t pc;
	int is_ret;
	int n;                  /* entries in f; f == NULL marks an empty slot */
	struct track_frame *f;
};

struct track_symbolizer {
	struct sym_mod *mods;
	size_t nmods;
	Dwfl *proc_dwfl;        /* pid mode: the Dwfl all modules belong to */
	bool pid_mode;

	struct cache_ent *cache; /* open addressing, power-of-two capacity */
	size_t cache_cap, cache_used;

	char **strs;            /* interned strings, open addressing */
	size_t str_cap, str_used;
};

/* ---- interned strings ---------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static bool strs_grow(struct track_symbolizer *S)
{
	size_t ncap = S->str_cap ? S->str_cap * 2 : 256, i;
	char **n = calloc(ncap, sizeof *n);
	if (n == NULL)
		return false;
	for (i = 0; i < S->str_cap; i++) {
		size_t j;
		if (S->strs[i] == NULL)
			continue;
		for (j = hash_str(S->strs[i]) & (ncap - 1); n[j] != NULL; j = (j + 1) & (ncap - 1))
			;
		n[j] = S->strs[i];
	}
	free(S->strs);
	S->strs = n;
	S->str_cap = ncap;
	return true;
}

/* The symbolizer's own copy of s (one per distinct string); NULL for NULL or out of memory,
   which callers treat as "unknown". */
static const char *intern(struct track_symbolizer *S, const char *s)
{
	size_t j;
	if (s == NULL)
		return NULL;
	if ((S->str_used + 1) * 2 > S->str_cap && !strs_grow(S))
		return NULL;
	for (j = hash_str(s) & (S->str_cap - 1); S->strs[j] != NULL; j = (j + 1) & (S->str_cap - 1))
		if (strcmp(S->strs[j], s) == 0)
			return S->strs[j];
	S->strs[j] = strdup(s);
	if (S->strs[j] == NULL)
		return NULL;
	S->str_used++;
	return S->strs[j];
}

/* ---- demangling ---------------------------------------------------------------------- */

typedef char *(*cxa_demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);
static cxa_demangle_fn cxa_demangle;
static pthread_once_t demangle_once = PTHREAD_ONCE_INIT;

static void demangle_init(void)
{
	/* Never dlclose'd: demangled names are produced for the life of the program.  Loaded
	   only when a mangled name shows up, so C-only reports never pull libstdc++ in. */
	void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
	if (h != NULL)
		cxa_demangle = (cxa_demangle_fn)dlsym(h, "__cxa_demangle");
}

/* A function name for display: demangled when possible, interned, NULL for nothing. */
static const char *fn_name(struct track_symbolizer *S, const char *raw)
{
	if (raw == NULL || raw[0] == '\0')
		return NULL;
	if (raw[0] == '_' && raw[1] == 'Z') {
		pthread_once(&demangle_once, demangle_init);
		if (cxa_demangle != NULL) {
			int status = -1;
			char *d = cxa_demangle(raw, NULL, NULL, &status);
			const char *r = status == 0 && d != NULL ? intern(S, d) : NULL;
			free(d);
			if (r != NULL)
				return r;
		}
	}
	return intern(S, raw);
}

/* ---- modules ------------------------------------------------------------------------- */

static const Dwfl_Callbacks offline_callbacks = {
	/* Not consulted for modules given to dwfl_report_elf (their ELF is preinstalled);
	   present because libdwfl expects a find_elf. */
	.find_elf = dwfl_build_id_find_elf,
	/* build-id and .gnu_debuglink lookups under the default path, which includes
	   /usr/lib/debug and the file's own directory. */
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* Report one file as the module at bias base, in a Dwfl of its own. */
static Dwfl_Module *report_file(Dwfl **dwflp, const char *file, const char *name, uint64_t base)
{
	struct stat st;
	Dwfl *d;
	Dwfl_Module *dm;
	/* Only regular files: a path that now names a FIFO or device would block or lie. */
	if (file[0] == '\0' || stat(file, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	d = dwfl_begin(&offline_callbacks);
	if (d == NULL)
		return NULL;
	dwfl_report_begin(d);
	/* add_p_vaddr: base is the bias (dlpi_addr), added to the file's p_vaddr.  ET_EXEC
	   files ignore it, as their addresses are absolute. */
	dm = dwfl_report_elf(d, name, file, -1, base, true);
	if (dwfl_report_end(d, NULL, NULL) != 0 || dm == NULL) {
		dwfl_end(d);
		return NULL;
	}
	*dwflp = d;
	return dm;
}

/* Is the file libdwfl opened the one the process had loaded?  Without a recorded build-id
   there is nothing to compare and the path is trusted. */
static bool build_id_matches(Dwfl_Module *dm, const struct sym_mod *m)
{
	const unsigned char *bits = NULL;
	GElf_Addr vaddr;
	int len;
	if (m->build_id_len == 0)
		return true;
	len = dwfl_module_build_id(dm, &bits, &vaddr);
	if (len <= 0 || bits == NULL)
		return false;
	/* The segment keeps at most TRACK_BUILD_ID_MAX bytes: a longer id matches by prefix. */
	if ((uint32_t)len != m->build_id_len &&
	    !(m->build_id_len == TRACK_BUILD_ID_MAX && (uint32_t)len > m->build_id_len))
		return false;
	return memcmp(bits, m->build_id, m->build_id_len) == 0;
}

static Dwfl_Module *try_file(struct sym_mod *m, const char *file)
{
	Dwfl_Module *dm = report_file(&m->dwfl, file, m->path, m->base);
	if (dm != NULL && !build_id_matches(dm, m)) {
		dwfl_end(m->dwfl);
		m->dwfl = NULL;
		dm = NULL;
	}
	return dm;
}

/* Open the module's file on first use.  Failure is remembered: the module then only gives
   module+offset. */
static void load_module(struct track_symbolizer *S, struct sym_mod *m)
{
	m->state = MOD_FAILED;
	if (S->pid_mode) {
		Dwarf_Addr bias;
		/* Finds the ELF through /proc/PID (so deleted files still work); the bias is
		   only known once it is found, and libdwfl remembers a failure itself. */
		if (dwfl_module_getelf(m->dm, &bias) != NULL)
			m->base = bias;
		m->state = MOD_READY;
		return;
	}
	m->dm = try_file(m, m->path);
	if (m->dm == NULL && m->build_id_len >= 2) {
		/* The file is gone, unreadable or rebuilt: a debug file named by the recorded
		   build-id has the same addresses, the symbols and the DWARF. */
		char dbg[sizeof DEBUG_ROOT + 16 + 2 * TRACK_BUILD_ID_MAX + 8];
		size_t o = (size_t)snprintf(dbg, sizeof dbg, DEBUG_ROOT "/.build-id/%02x/",
					    m->build_id[0]);
		uint32_t i;
		for (i = 1; i < m->build_id_len; i++)
			o += (size_t)snprintf(dbg + o, sizeof dbg - o, "%02x", m->build_id[i]);
		snprintf(dbg + o, sizeof dbg - o, ".debug");
		m->dm = try_file(m, dbg);
	}
	if (m->dm != NULL)
		m->state = MOD_READY;
}

/* The module addr belongs to.  Later records win: when a dlclose'd library's range was
   reused, the newer module is the likelier owner (the map is appended in load order). */
static struct sym_mod *find_module(struct track_symbolizer *S, uint64_t addr)
{
	size_t i;
	for (i = S->nmods; i-- > 0;)
		if (addr >= S->mods[i].lo && addr < S->mods[i].hi)
			return &S->mods[i];
	return NULL;
}

/* ---- DWARF --------------------------------------------------------------------------- */

/* The raw (possibly mangled) name of a subprogram or inlined subroutine: the linkage name
   when there is one (it demangles to the qualified C++ name), else DW_AT_name.  The
   _integrate lookups follow DW_AT_abstract_origin and DW_AT_specification, which is where
   inlined instances and out-of-class definitions keep their names. */
static const char *die_linkage_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (n == NULL)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	return n;
}

static const char *die_plain_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
}

static const char *die_raw_name(Dwarf_Die *die)
{
	const char *n = die_linkage_name(die);
	return n != NULL ? n : die_plain_name(die);
}

/* Where an inlined subroutine was called from: DW_AT_call_file indexes the file table of
   the unit the DIE is in. */
static void call_site(Dwarf_Die *die, const char **file, int *line)
{
	Dwarf_Attribute a;
	Dwarf_Word v;
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;
	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &a), &v) == 0 && v <= INT32_MAX)
		*line = (int)v;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &v) == 0 &&
	    dwarf_diecu(die, &cu, NULL, NULL) != NULL &&
	    dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && v < nfiles)
		*file = dwarf_filesrc(files, v, NULL, NULL);
}

/* Start (module address) of the part of subprogram die that holds addr: the entry point
   when addr is past it, else the start of the range holding addr (a .cold part placed
   below the entry). */
static bool die_start(Dwarf_Die *die, Dwarf_Addr addr, Dwarf_Addr bias, Dwarf_Addr *start)
{
	Dwarf_Addr entry, base, lo, hi;
	ptrdiff_t off = 0;
	if (dwarf_entrypc(die, &entry) == 0 && addr >= entry + bias) {
		*start = entry + bias;
		return true;
	}
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (addr >= lo + bias && addr < hi + bias) {
			*start = lo + bias;
			return true;
		}
	}
	return false;
}

/* Does symbol name sym name the function die, possibly as a compiler clone (foo.isra.0,
   foo.cold, foo.part.1)?  Then the symbol, which says exactly which copy, is preferred. */
static bool sym_names_die(const char *sym, Dwarf_Die *die)
{
	const char *names[2] = {die_linkage_name(die), die_plain_name(die)};
	int i;
	for (i = 0; i < 2; i++) {
		size_t n;
		if (names[i] == NULL)
			continue;
		n = strlen(names[i]);
		if (strncmp(sym, names[i], n) == 0 && (sym[n] == '\0' || sym[n] == '.'))
			return true;
	}
	return false;
}
/* The compile unit whose code contains addr.  libdw finds it through .debug_aranges, which
 * clang does not emit and which elfutils 0.188 (Debian 12) does not rebuild from the units:
 * without this fallback, clang-built programs get no file, line or inline frames. */
static Dwarf_Die *cu_containing(Dwfl_Module *dm, Dwarf_Addr addr, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(dm, addr, bias);
	/* libdwfl gives an address between two units' ranges to the unit below it: the code of
	 * crt1.o (_start), which has no DWARF, would borrow a line of whatever unit precedes it
	 * (a header's, in C++).  A unit that states its ranges must hold the address. */
	if (cu != NULL && (dwarf_haspc(cu, addr - *bias) > 0 ||
			   (!dwarf_hasattr(cu, DW_AT_low_pc) && !dwarf_hasattr(cu, DW_AT_ranges))))
		return cu;
	cu = NULL;
	while ((cu = dwfl_module_nextcu(dm, cu, bias)) != NULL)
		if (dwarf_haspc(cu, addr - *bias) > 0)
			return cu;
	return NULL;
}


/* ---- resolution ---------------------------------------------------------------------- */

/* Symbolize pc inside module m (ready) into a new array; returns its length, 0 on OOM. */
static int resolve_in_module(struct track_symbolizer *S, struct sym_mod *m, uint64_t pc,
			     uint64_t addr, struct track_frame **outp)
{
	Dwfl_Module *dm = m->dm;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu, *scopes = NULL, *chain = NULL, *sub = NULL;
	int nchain = 0, ninl = 0, i, k;
	const char *file = NULL, *sname, *function = NULL;
	int line = 0;
	uint64_t offset = 0;
	GElf_Off soff = 0;
	GElf_Sym sym;
	Dwfl_Line *dl;
	struct track_frame *f;

	/* The chain of scopes around addr, purely by DIE nesting: dwarf_getscopes alone
	   continues an inlined instance through its abstract origin's scopes (right for
	   variable lookup, wrong for "who was this inlined into"), so it is only used to find
	   the innermost scope, and dwarf_getscopes_die walks outwards from there. */
	cu = cu_containing(dm, addr, &bias);
	if (cu != NULL) {
		int nsc = dwarf_getscopes(cu, addr - bias, &scopes);
		if (nsc > 0)
			nchain = dwarf_getscopes_die(&scopes[0], &chain);
		free(scopes);
		if (nchain < 0)
			nchain = 0;
	}
	for (i = 0; i < nchain; i++) {
		int tag = dwarf_tag(&chain[i]);
		if (tag == DW_TAG_inlined_subroutine) {
			ninl++;
		} else if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point) {
			sub = &chain[i];
			break;
		}
	}

	f = calloc((size_t)ninl + 1, sizeof *f);
	if (f == NULL) {
		free(chain);
		return 0;
	}

	/* Innermost location: the line table row for addr, in the unit that holds addr (code
	   outside every unit, such as _start, has no line: the nearest row below it would be
	   another function's). */
	dl = cu != NULL ? dwfl_module_getsrc(dm, addr) : NULL;
	if (dl != NULL && dwarf_dieoffset(dwfl_linecu(dl)) == dwarf_dieoffset(cu)) {
		int ln = 0;
		file = dwfl_lineinfo(dl, NULL, &ln, NULL, NULL, NULL);
		line = file != NULL ? ln : 0;
	} else if (cu != NULL) {
		Dwarf_Line *l = dwarf_getsrc_die(cu, addr - bias);
		if (l != NULL) {
			file = dwarf_linesrc(l, NULL, NULL);
			if (file == NULL || dwarf_lineno(l, &line) != 0)
				line = 0;
		}
	}

	/* Inlined functions, innermost first; each one's call site is the location in the
	   next entry out. */
	for (i = 0, k = 0; i < nchain && k < ninl; i++) {
		if (dwarf_tag(&chain[i]) != DW_TAG_inlined_subroutine)
			continue;
		f[k].pc = pc;
		f[k].function = fn_name(S, die_raw_name(&chain[i]));
		f[k].file = intern(S, file);
		f[k].line = line;
		f[k].module = m->path;
		f[k].inlined = 1;
		call_site(&chain[i], &file, &line);
		k++;
	}

	/* The real function.  Offsets are from the pc asked about, not from addr: for a return
	   address "caller+0x1a" is what every backtrace prints. */
	sname = dwfl_module_addrinfo(dm, addr, &soff, &sym, NULL, NULL, NULL);
	if (sname != NULL && sname[0] == '\0')
		sname = NULL;
	if (sname != NULL && (sub == NULL || sym_names_die(sname, sub))) {
		function = fn_name(S, sname);
		offset = soff + (pc - addr);
	}
	if (function == NULL && sub != NULL) {
		Dwarf_Addr start;
		function = fn_name(S, die_raw_name(sub));
		if (die_start(sub, addr, bias, &start))
			offset = pc - start;
	}
	if (function == NULL && sname != NULL) {
		function = fn_name(S, sname);
		offset = soff + (pc - addr);
	}
	f[ninl].pc = pc;
	f[ninl].function = function;
	f[ninl].offset = function != NULL ? offset : pc - m->base;
	f[ninl].file = intern(S, file);
	f[ninl].line = f[ninl].file != NULL ? line : 0;
	f[ninl].module = m->path;
	f[ninl].inlined = 0;
	free(chain);
	*outp = f;
	return ninl + 1;
}

static int resolve(struct track_symbolizer *S, uint64_t pc, int is_ret, struct track_frame **outp)
{
	/* A return address points after the call; pc-1 is inside it. */
	uint64_t addr = is_ret && pc > 0 ? pc - 1 : pc;
	struct sym_mod *m = pc != 0 ? find_module(S, addr) : NULL;
	struct track_frame *f;
	if (m != NULL && m->state == MOD_UNTRIED)
		load_module(S, m);
	if (m != NULL && m->state == MOD_READY)
		return resolve_in_module(S, m, pc, addr, outp);
	f = calloc(1, sizeof *f);
	if (f == NULL)
		return 0;
	f->pc = pc;
	if (m != NULL) {
		f->module = m->path;
		f->offset = pc - m->base;
	}
	*outp = f;
	return 1;
}

/* ---- data ---------------------------------------------------------------------------- */

/* The address of a variable DIE with a fixed location (DW_OP_addr, or DW_OP_addrx through
   .debug_addr), module-relative; false for anything else (a register, the stack, TLS). */
static bool var_addr(Dwarf_Die *die, Dwarf_Addr *addr)
{
	Dwarf_Attribute a, res;
	Dwarf_Op *expr;
	size_t len;
	if (dwarf_attr(die, DW_AT_location, &a) == NULL ||
	    dwarf_getlocation(&a, &expr, &len) != 0 || len != 1)
		return false;
	if (expr[0].atom == DW_OP_addr) {
		*addr = expr[0].number;
		return true;
	}
	if ((expr[0].atom == DW_OP_addrx || expr[0].atom == DW_OP_GNU_addr_index) &&
	    dwarf_getlocation_attr(&a, &expr[0], &res) == 0 && dwarf_formaddr(&res, addr) == 0)
		return true;
	return false;
}

static int var_cmp(const void *a, const void *b)
{
	const struct var_ent *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Collect the variables among die's children: a unit's, a namespace's (C++), recursively
   for namespaces only, so that the walk stays near the top of the tree (function statics
   are left out: they keep their symbol's offset). */
static void vars_walk(struct sym_mod *m, Dwarf_Die *parent, Dwarf_Addr bias, size_t *cap,
		      int depth)
{
	Dwarf_Die child, type;
	Dwarf_Attribute a;
	Dwarf_Addr addr;
	if (depth > 8 || dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_namespace) {
			vars_walk(m, &child, bias, cap, depth + 1);
			continue;
		}
		if (tag != DW_TAG_variable || !var_addr(&child, &addr) ||
		    dwarf_formref_die(dwarf_attr_integrate(&child, DW_AT_type, &a), &type) == NULL)
			continue;
		if (m->nvars == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct var_ent *n = realloc(m->vars, ncap * sizeof *n);
			if (n == NULL)
				return;
			m->vars = n;
			*cap = ncap;
		}
		m->vars[m->nvars].addr = addr + bias;
		m->vars[m->nvars].type = type;
		m->nvars++;
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* The module's variables, read once, on the first data address that falls into it. */
static void vars_read(struct sym_mod *m)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	size_t cap = 0;
	m->vars_read = true;
	while ((cu = dwfl_module_nextcu(m->dm, cu, &bias)) != NULL)
		vars_walk(m, cu, bias, &cap, 0);
	if (m->nvars > 1)
		qsort(m->vars, m->nvars, sizeof *m->vars, var_cmp);
}

/* The type of the variable at addr, from DWARF; NULL if unknown. */
static Dwarf_Die *var_type(struct sym_mod *m, uint64_t addr)
{
	struct var_ent key, *e;
	if (!m->vars_read)
		vars_read(m);
	key.addr = addr;
	e = m->nvars ? bsearch(&key, m->vars, m->nvars, sizeof *m->vars, var_cmp) : NULL;
	return e != NULL ? &e->type : NULL;
}

/* A typedef or a qualifier: a name for another type. */
static bool type_alias(Dwarf_Die *t)
{
	int tag = dwarf_tag(t);
	return tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	       tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type;
}

/* Peel typedefs and qualifiers off *t in place; false if what they name is unknown. */
static bool type_strip(Dwarf_Die *t)
{
	Dwarf_Attribute a;
	int i;
	for (i = 0; i < 16 && type_alias(t); i++)
		if (dwarf_formref_die(dwarf_attr_integrate(t, DW_AT_type, &a), t) == NULL)
			return false;
	return !type_alias(t);
}

/* The type die refers to (DW_AT_type), without typedefs and qualifiers. */
static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	return dwarf_formref_die(dwarf_attr_integrate(die, DW_AT_type, &a), out) != NULL &&
	       type_strip(out);
}

static void put(char *buf, size_t len, size_t *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t len, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (*o >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, len - *o, fmt, ap);
	va_end(ap);
	*o = n < 0 ? len : *o + (size_t)n;
}

/* Array indices: "[3]" or "[1][2]" for byte *off of array type t; *t becomes the element's
   type and *off the offset within the element.  False if a size is unknown. */
static bool index_array(Dwarf_Die *t, uint64_t *off, char *buf, size_t len, size_t *o)
{
	Dwarf_Die elem, sub;
	Dwarf_Word esize, counts[8];
	int ndim = 0, i;
	if (!type_of(t, &elem) || dwarf_aggregate_size(&elem, &esize) != 0 || esize == 0)
		return false;
	if (dwarf_child(t, &sub) == 0) {
		do {
			Dwarf_Attribute a;
			Dwarf_Word v;
			if (dwarf_tag(&sub) != DW_TAG_subrange_type)
				continue;
			if (ndim == 8)
				return false;
			counts[ndim] = 0;
			if (dwarf_formudata(dwarf_attr(&sub, DW_AT_count, &a), &v) == 0)
				counts[ndim] = v;
			else if (dwarf_formudata(dwarf_attr(&sub, DW_AT_upper_bound, &a), &v) == 0)
				counts[ndim] = v + 1;
			ndim++;
		} while (dwarf_siblingof(&sub, &sub) == 0);
	}
	if (ndim == 0)
		ndim = 1, counts[0] = 0;
	for (i = 1; i < ndim; i++)
		if (counts[i] == 0)
			return false;   /* only the first bound may be unknown (int a[][4]) */
	for (i = 0; i < ndim; i++) {
		uint64_t stride = esize;
		int k;
		for (k = i + 1; k < ndim; k++)
			stride *= counts[k];
		put(buf, len, o, "[%llu]", (unsigned long long)(*off / stride));
		*off %= stride;
	}
	*t = elem;
	return true;
}

/* The member of struct, class or union t that holds byte *off: ".name" (nothing for an
   anonymous member or a base class); *t becomes its type, *off the offset within it. */
static bool into_member(Dwarf_Die *t, uint64_t *off, char *buf, size_t len, size_t *o)
{
	Dwarf_Die m, mt;
	if (dwarf_child(t, &m) != 0)
		return false;
	do {
		Dwarf_Attribute a;
		Dwarf_Word loc, size;
		int tag = dwarf_tag(&m);
		const char *name;
		if ((tag != DW_TAG_member && tag != DW_TAG_inheritance) ||
		    dwarf_formudata(dwarf_attr(&m, DW_AT_data_member_location, &a), &loc) != 0 ||
		    !type_of(&m, &mt) || dwarf_aggregate_size(&mt, &size) != 0 || *off < loc ||
		    *off - loc >= size)
			continue;
		name = tag == DW_TAG_member ? dwarf_diename(&m) : NULL;
		if (name != NULL)
			put(buf, len, o, ".%s", name);
		*off -= loc;
		*t = mt;
		return true;
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

/* What the object of size bytes (0: unknown) at byte off of a variable of type t is: array
   elements and members, then any bytes left over ("[3]", "[2].lock", "+0x8").  It goes down
   while what it names is bigger than the object: a mutex at the start of a struct is its
   member ("q.lock"), a mutex is not its own first member ("g_stats", not "g_stats.__data");
   without a size, into arrays always and into members only past their start. */
static void describe(Dwarf_Die *type, uint64_t off, uint64_t size, char *buf, size_t len,
		     size_t *o)
{
	Dwarf_Die t;
	int depth;
	if (type != NULL) {
		t = *type;
		for (depth = 0; depth < 16 && type_strip(&t); depth++) {
			int tag = dwarf_tag(&t);
			Dwarf_Word tsize;
			int bigger = size == 0 || (dwarf_aggregate_size(&t, &tsize) == 0 &&
						    tsize > size);
			if (tag == DW_TAG_array_type && bigger) {
				if (!index_array(&t, &off, buf, len, o))
					break;
			} else if ((size != 0 ? bigger : off > 0) &&
				   (tag == DW_TAG_structure_type || tag == DW_TAG_class_type ||
				    tag == DW_TAG_union_type)) {
				if (!into_member(&t, &off, buf, len, o))
					break;
			} else {
				break;
			}
		}
	}
	if (off > 0)
		put(buf, len, o, "+0x%llx", (unsigned long long)off);
}

/* The module whose data addr is in.  A module table from the shim covers every PT_LOAD
   segment, .bss included; /proc/PID/maps (pid mode) gives only the file's mappings, and the
   part of .bss past the file's last page is an anonymous mapping after them: there, the
   nearest module below addr is asked for its segments' extent. */
static struct sym_mod *data_module(struct track_symbolizer *S, uint64_t addr)
{
	struct sym_mod *m = find_module(S, addr), *below = NULL;
	Dwarf_Addr bias;
	GElf_Ehdr eh;
	Elf *elf;
	size_t i, n;
	uint64_t end = 0;
	if (m != NULL || !S->pid_mode)
		return m;
	for (i = 0; i < S->nmods; i++)
		if (S->mods[i].lo <= addr && (below == NULL || S->mods[i].lo > below->lo))
			below = &S->mods[i];
	if (below == NULL || below->dm == NULL ||
	    (elf = dwfl_module_getelf(below->dm, &bias)) == NULL ||
	    gelf_getehdr(elf, &eh) == NULL || elf_getphdrnum(elf, &n) != 0)
		return NULL;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) != NULL && ph.p_type == PT_LOAD &&
		    bias + ph.p_vaddr + ph.p_memsz > end)
			end = bias + ph.p_vaddr + ph.p_memsz;
	}
	return addr < end ? below : NULL;
}

/* The name of the variable addr lies in, interned; NULL if no data symbol holds it. */
static const char *resolve_data(struct track_symbolizer *S, uint64_t addr, uint64_t size)
{
	struct sym_mod *m = addr != 0 ? data_module(S, addr) : NULL;
	const char *name;
	GElf_Off off = 0;
	GElf_Sym sym;
	char buf[512];
	size_t o = 0;
	if (m != NULL && m->state == MOD_UNTRIED)
		load_module(S, m);
	if (m == NULL || m->state != MOD_READY || m->dm == NULL)
		return NULL;
	name = dwfl_module_addrinfo(m->dm, addr, &off, &sym, NULL, NULL, NULL);
	/* Only a variable that holds addr: a sizeless or neighbouring symbol would be a guess. */
	if (name == NULL || name[0] == '\0' || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
	    sym.st_size == 0 || off >= sym.st_size)
		return NULL;
	name = fn_name(S, name);
	if (name == NULL)
		return NULL;
	/* A copy-relocated variable of a library (stdout in the executable's .bss) keeps its
	   version in the executable's .symtab: "stdout@GLIBC_2.2.5". */
	put(buf, sizeof buf, &o, "%.*s", (int)strcspn(name, "@"), name);
	describe(var_type(m, addr - off), off, size, buf, sizeof buf, &o);
	return intern(S, buf);
}

/* ---- cache --------------------------------------------------------------------------- */

/* What a cache entry answers, beside its address: a code location (is_ret 0 or 1) or the
   variable holding a data address, for an object of some size (KEY_DATA + the size). */
#define KEY_DATA 2

static size_t cache_slot(uint64_t pc, int is_ret, size_t cap)
{
	uint64_t h = track_hash_mix(pc ^ ((uint64_t)is_ret << 62));
	return (size_t)(h ^ (h >> 31)) & (cap - 1);
}

static bool cache_grow(struct track_symbolizer *S)
{
	size_t ncap = S->cache_cap ? S->cache_cap * 2 : 256, i;
	struct cache_ent *n = calloc(ncap, sizeof *n);
	if (n == NULL)
		return false;
	for (i = 0; i < S->cache_cap; i++) {
		struct cache_ent *e = &S->cache[i];
		size_t j;
		if (e->f == NULL)
			continue;
		for (j = cache_slot(e->pc, e->is_ret, ncap); n[j].f != NULL; j = (j + 1) & (ncap - 1))
			;
		n[j] = *e;
	}
	free(S->cache);
	S->cache = n;
	S->cache_cap = ncap;
	return true;
}

/* The modules of process pid into dwfl: dwfl_linux_proc_report, which starts with
 * /proc/PID/auxv (for the vDSO).  That file is its owner's, mode 0400: a user who may ptrace
 * the process by CAP_SYS_PTRACE alone, not being root, cannot open it, while maps is open to
 * any reader ptrace allows.  Then the modules come from maps alone, the vDSO left out (a
 * frame in it is rare in a thread that sleeps).  0, or an errno (or -1, libdwfl's error). */
int track_dwfl_report_proc(Dwfl *dwfl, pid_t pid)
{
	char path[64];
	FILE *f;
	int dr = dwfl_linux_proc_report(dwfl, pid);
	if (dr != EACCES)
		return dr;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return EACCES;
	dr = dwfl_linux_proc_maps_report(dwfl, f);
	fclose(f);
	return dr;
}

/* ---- public -------------------------------------------------------------------------- */

struct track_symbolizer *track_sym_new(const struct track_module_rec *mods, size_t n)
{
	struct track_symbolizer *S = calloc(1, sizeof *S);
	size_t i;
	if (S == NULL)
		return NULL;
	if (mods == NULL)
		n = 0;
	if (n > 0) {
		S->mods = calloc(n, sizeof *S->mods);
		if (S->mods == NULL) {
			free(S);
			return NULL;
		}
	}
	for (i = 0; i < n; i++) {
		const struct track_module_rec *r = &mods[i];
		struct sym_mod *m = &S->mods[S->nmods];
		/* The record may be unterminated or half-written (a live segment): copy at most
		   the field, and skip records the shim has not marked complete. */
		char path[TRACK_PATH_MAX + 1];
		uint32_t flags = __atomic_load_n(&r->flags, __ATOMIC_ACQUIRE);
		if (!(flags & TRACK_MF_VALID) || r->lo >= r->hi)
			continue;
		memcpy(path, r->path, TRACK_PATH_MAX);
		path[TRACK_PATH_MAX] = '\0';
		m->path = intern(S, path[0] != '\0' ? path : "[unnamed]");
		if (m->path == NULL)
			continue;
		m->base = r->base;
		m->lo = r->lo;
		m->hi = r->hi;
		m->build_id_len = r->build_id_len <= TRACK_BUILD_ID_MAX ? r->build_id_len : 0;
		memcpy(m->build_id, r->build_id, m->build_id_len);
		m->state = MOD_UNTRIED;
		S->nmods++;
	}
	return S;
}

static int add_proc_module(Dwfl_Module *dm, void **userdata, const char *name, Dwarf_Addr start,
			   void *arg)
{
	struct track_symbolizer *S = arg;
	struct sym_mod *m = &S->mods[S->nmods];
	Dwarf_Addr lo = start, hi = 0;
	(void)userdata;
	dwfl_module_info(dm, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	if (hi <= lo)
		return DWARF_CB_OK;
	m->path = intern(S, name != NULL && name[0] != '\0' ? name : "[unnamed]");
	m->lo = lo;
	m->hi = hi;
	m->base = lo; /* until the ELF, and so the real bias, is found */
	m->dm = dm;
	m->state = MOD_UNTRIED;
	S->nmods++;
	return DWARF_CB_OK;
}

static int count_module(Dwfl_Module *dm, void **userdata, const char *name, Dwarf_Addr start,
			void *arg)
{
	(void)dm, (void)userdata, (void)name, (void)start;
	++*(size_t *)arg;
	return DWARF_CB_OK;
}

struct track_symbolizer *track_sym_new_pid(pid_t pid)
{
	struct track_symbolizer *S;
	size_t n = 0;
	if (pid <= 0)
		return NULL;
	S = calloc(1, sizeof *S);
	if (S == NULL)
		return NULL;
	S->pid_mode = true;
	S->proc_dwfl = dwfl_begin(&proc_callbacks);
	if (S->proc_dwfl == NULL)
		goto fail;
	dwfl_report_begin(S->proc_dwfl);
	if (track_dwfl_report_proc(S->proc_dwfl, pid) != 0 ||
	    dwfl_report_end(S->proc_dwfl, NULL, NULL) != 0)
		goto fail;
	dwfl_getmodules(S->proc_dwfl, count_module, &n, 0);
	if (n > 0) {
		S->mods = calloc(n, sizeof *S->mods);
		if (S->mods == NULL)
			goto fail;
		dwfl_getmodules(S->proc_dwfl, add_proc_module, S, 0);
	}
	return S;
fail:
	track_sym_free(S);
	return NULL;
}

void track_sym_free(struct track_symbolizer *S)
{
	size_t i;
	if (S == NULL)
		return;
	for (i = 0; i < S->nmods; i++) {
		if (S->mods[i].dwfl != NULL)
			dwfl_end(S->mods[i].dwfl);
		free(S->mods[i].vars);
	}
	if (S->proc_dwfl != NULL)
		dwfl_end(S->proc_dwfl);
	for (i = 0; i < S->cache_cap; i++)
		free(S->cache[i].f);
	for (i = 0; i < S->str_cap; i++)
		free(S->strs[i]);
	free(S->cache);
	free(S->strs);
	free(S->mods);
	free(S);
}

/* The cache entry for (pc, key): filled if known, else the empty slot to fill; NULL if the
   cache cannot take one. */
static struct cache_ent *cache_entry(struct track_symbolizer *S, uint64_t pc, int key)
{
	size_t j;
	if (S == NULL)
		return NULL;
	if ((S->cache_used + 1) * 2 > S->cache_cap)
		cache_grow(S); /* on failure the table, if any, still has room: kept half empty */
	if (S->cache_cap == 0 || (S->cache_used + 1) * 2 > S->cache_cap)
		return NULL;
	for (j = cache_slot(pc, key, S->cache_cap); S->cache[j].f != NULL;
	     j = (j + 1) & (S->cache_cap - 1))
		if (S->cache[j].pc == pc && S->cache[j].is_ret == key)
			break;
	return &S->cache[j];
}

static void cache_fill(struct track_symbolizer *S, struct cache_ent *e, uint64_t pc, int key,
		       struct track_frame *f, int n)
{
	e->pc = pc;
	e->is_ret = key;
	e->n = n;
	e->f = f;
	S->cache_used++;
}

int track_sym_lookup(struct track_symbolizer *S, uint64_t pc, int is_return,
		     struct track_frame *out, int max)
{
	struct track_frame *f = NULL;
	struct cache_ent *e;
	int n, k;
	is_return = is_return != 0;
	if (out == NULL || max < 1)
		return 0;
	e = cache_entry(S, pc, is_return);
	if (e != NULL && e->f != NULL) {
		f = e->f;
		n = e->n;
	} else {
		n = S != NULL ? resolve(S, pc, is_return, &f) : 0;
		if (n == 0) {
			/* No symbolizer or out of memory: the bare address, uncached. */
			memset(out, 0, sizeof *out);
			out->pc = pc;
			return 1;
		}
		if (e != NULL)
			cache_fill(S, e, pc, is_return, f, n);
	}
	/* Keep the outermost entries: the last one is always the real function. */
	k = n < max ? n : max;
	memcpy(out, f + (n - k), (size_t)k * sizeof *out);
	if (e == NULL)
		free(f);
	return k;
}

const char *track_sym_data(struct track_symbolizer *S, uint64_t addr, uint64_t size)
{
	struct cache_ent *e;
	struct track_frame *f;
	const char *name;
	int key = KEY_DATA + (int)(size < 0x10000 ? size : 0xffff);
	if (S == NULL || addr == 0)
		return NULL;
	e = cache_entry(S, addr, key);
	if (e != NULL && e->f != NULL)
		return e->f->function;
	name = resolve_data(S, addr, size);
	if (e != NULL && (f = calloc(1, sizeof *f)) != NULL) {
		f->pc = addr;
		f->function = name;   /* interned, or NULL: no variable */
		cache_fill(S, e, addr, key, f, 1);
	}
	return name;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s != NULL && s[1] != '\0' ? s + 1 : p;
}

const char *track_sym_format(const struct track_frame *f, char *buf, size_t len)
{
	char where[TRACK_PATH_MAX + 32];
	if (buf == NULL || len == 0)
		return "";
	if (f == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	where[0] = '\0';
	if (f->file != NULL && f->line > 0)
		snprintf(where, sizeof where, "%s:%d", base_name(f->file), f->line);
	else if (f->file != NULL)
		snprintf(where, sizeof where, "%s", base_name(f->file));

	if (f->function != NULL) {
		/* No offset for an inline entry or at a function's first instruction. */
		char name[320];
		if (f->inlined || f->offset == 0)
			snprintf(name, sizeof name, "%s", f->function);
		else
			snprintf(name, sizeof name, "%s+0x%llx", f->function,
				 (unsigned long long)f->offset);
		if (where[0] || f->module != NULL)
			snprintf(buf, len, "%s (%s)", name,
				 where[0] ? where : base_name(f->module));
		else
			snprintf(buf, len, "%s", name);
	}
	else if (f->module != NULL && where[0])
		snprintf(buf, len, "0x%llx (%s+0x%llx, %s)", (unsigned long long)f->pc,
			 base_name(f->module), (unsigned long long)f->offset, where);
	else if (f->module != NULL)
		snprintf(buf, len, "0x%llx (%s+0x%llx)", (unsigned long long)f->pc,
			 base_name(f->module), (unsigned long long)f->offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)f->pc);
	return buf;
}

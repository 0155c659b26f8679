/*
 * modules.c — the module map: which file is loaded where, with its build-id, so that the
 * tools can turn the raw addresses in the segment into names even after the process is gone.
 *
 * The map is taken at start (dl_iterate_phdr, in the constructor), then grows by one module
 * whenever a slow path meets an address in an object it does not know yet (code loaded by
 * dlopen since): glibc's _dl_find_object names that object without taking any lock, and its
 * program headers are read from its own mapping.  A module that takes the addresses of one
 * known before (dlclose, then another object loaded there) marks the old one unloaded: older
 * addresses in the segment still point into it.  The shim does not wrap dlopen: glibc finds
 * the caller's RUNPATH from the return address, and a wrapper would change whose it is.
 *
 * Known objects are remembered in a small private hash by their mapping's start, so the
 * common case, an address in a known object, costs one lookup and no lock.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include "phdrs.h"
#include "shim.h"

static int mod_lock;         /* appends to the module table */

struct known {
	uintptr_t start;         /* dlfo_map_start; 0: empty */
	const void *map;         /* dlfo_link_map: the same start with another map is another object */
};
static struct known *known;
static uint32_t known_mask;

static uint32_t known_hash(uintptr_t start)
{
	return track_hash_bits(start, 24) & known_mask;
}

static int is_known(uintptr_t start, const void *map)
{
	uint32_t i = known_hash(start), n;
	for (n = 0; n <= known_mask; n++, i = (i + 1) & known_mask) {
		uintptr_t s = __atomic_load_n(&known[i].start, __ATOMIC_ACQUIRE);
		if (s == 0)
			return 0;
		if (s == start && __atomic_load_n(&known[i].map, __ATOMIC_RELAXED) == map)
			return 1;
	}
	return 0;
}

/* Under mod_lock.  A slot with the same start but another map is the old object's. */
static void remember(uintptr_t start, const void *map)
{
	uint32_t i = known_hash(start), n;
	for (n = 0; n <= known_mask; n++, i = (i + 1) & known_mask) {
		uintptr_t s = known[i].start;
		if (s == 0 || s == start) {
			__atomic_store_n(&known[i].map, map, __ATOMIC_RELAXED);
			__atomic_store_n(&known[i].start, start, __ATOMIC_RELEASE);
			return;
		}
	}
}

/* Program headers of the object mapped at [start, end): read from its ELF header, which
 * its first loaded segment maps at start; NULL if it does not look like one. */
static const ElfW(Phdr) *phdrs_of(uintptr_t start, uintptr_t end, int *phnum)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)start;
	if (end - start < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_phentsize != sizeof(ElfW(Phdr)) || eh->e_phoff > end - start ||
	    (uintptr_t)eh->e_phnum * sizeof(ElfW(Phdr)) > end - start - eh->e_phoff)
		return NULL;
	*phnum = eh->e_phnum;
	return (const ElfW(Phdr) *)(start + eh->e_phoff);
}

/* Append a record for a newly met object; under mod_lock. */
static void add_module(const struct dl_find_object *fo)
{
	struct track_seg_header *h = track__g.hdr;
	const struct link_map *lm = fo->dlfo_link_map;
	uintptr_t start = (uintptr_t)fo->dlfo_map_start, end = (uintptr_t)fo->dlfo_map_end;
	const char *path = lm != NULL ? lm->l_name : NULL;
	const ElfW(Phdr) *ph;
	struct track_module_rec *m;
	uint64_t i, used = h->modules_used;
	int phnum = 0, main_exe = path == NULL || path[0] == '\0';
	remember(start, lm);
	if (used >= h->max_modules) {
		TRACK_ADD(&h->modules_dropped, 1);
		return;
	}
	m = &track__g.modules[used];
	if (track__seg_reserve(m, sizeof *m) != 0) {
		TRACK_ADD(&h->modules_dropped, 1);
		return;
	}
	memset(m, 0, sizeof *m);
	ph = phdrs_of(start, end, &phnum);
	if (ph != NULL) {
		track__module_from_phdrs(m, lm != NULL ? lm->l_addr : 0, ph, phnum);
	} else {
		m->base = lm != NULL ? lm->l_addr : 0;
		m->lo = start;
		m->hi = end;
	}
	track__format(m->path, sizeof m->path, "%s", main_exe ? h->exe : path);
	/* An older module where this one now is has been unloaded. */
	for (i = 0; i < used; i++) {
		struct track_module_rec *o = &track__g.modules[i];
		if (!(o->flags & TRACK_MF_UNLOADED) && o->lo < m->hi && m->lo < o->hi)
			__atomic_or_fetch(&o->flags, TRACK_MF_UNLOADED, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&m->flags, TRACK_MF_VALID | (main_exe ? TRACK_MF_MAIN : 0),
			 __ATOMIC_RELEASE);
	TRACK_STORE(&h->modules_used, used + 1);
}

/* Make sure the object fo describes is in the map. */
static void note_object(const struct dl_find_object *fo)
{
	uintptr_t start = (uintptr_t)fo->dlfo_map_start;
	if (known == NULL || is_known(start, fo->dlfo_link_map))
		return;
	track__spin_take(&mod_lock);
	if (!is_known(start, fo->dlfo_link_map))
		add_module(fo);
	track__spin_drop(&mod_lock);
}

/* Make sure the module holding pc (a return address, or a code address) is in the map. */
void track__modules_note_pc(uint64_t pc)
{
	struct dl_find_object fo;
	if (pc == 0 || track__g.hdr == NULL)
		return;
	if (_dl_find_object((void *)(uintptr_t)(pc - 1), &fo) == 0)
		note_object(&fo);
}

/* Every loaded object, through the address of its first loaded segment. */
static int scan_one(struct dl_phdr_info *info, size_t size, void *data)
{
	int i;
	(void)size, (void)data;
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD) {
			track__modules_note_pc(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + 1);
			break;
		}
	return 0;
}

/* The map at start (in the constructor). */
void track__modules_scan(void)
{
	if (track__g.hdr == NULL)
		return;
	if (known == NULL) {
		uint32_t n = track__pow2_at_least(2 * track__g.hdr->max_modules);
		known = track__map_private((size_t)n * sizeof *known);
		if (known == NULL)
			return;
		known_mask = n - 1;
	}
	dl_iterate_phdr(scan_one, NULL);
}

/* After fork: the child's new segment starts with the parent's map (same address space,
 * so the private set of known objects still holds). */
void track__modules_copy(const struct track_seg_header *old)
{
	const struct track_module_rec *src =
		(const struct track_module_rec *)((const char *)old + old->modules_off);
	uint64_t n = old->modules_used;
	mod_lock = 0;
	if (n > track__g.hdr->max_modules)
		n = track__g.hdr->max_modules;
	if (n == 0 || track__seg_reserve(track__g.modules, n * sizeof *src) != 0)
		return;
	memcpy(track__g.modules, src, n * sizeof *src);
	track__g.hdr->modules_used = n;
}

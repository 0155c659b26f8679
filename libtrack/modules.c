/*
 * modules.c — the module map: which file is loaded where, with its build-id, so that the
 * tools can turn the raw addresses in the segment into names even after the process is gone.
 *
 * The map is taken at start and taken again whenever a slow path meets an address outside
 * every known module (code loaded by dlopen since); modules that have disappeared are kept,
 * marked unloaded, because older addresses in the segment may still point into them.  The
 * shim does not wrap dlopen: glibc finds the caller's RUNPATH from the return address, and
 * a wrapper would change whose RUNPATH that is.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "shim.h"

static int mod_lock;       /* its own lock: dl_iterate_phdr must not run under the shim lock */
static uint64_t scan_epoch;

static uint8_t *seen_map;   /* per module: scan epoch parity it was last seen in */

static void mod_lock_take(void)
{
	track_spin_take(&mod_lock);
}

static void mod_lock_drop(void)
{
	track_spin_drop(&mod_lock);
}

/* Copy the GNU build-id note of a loaded object, if it has one. */
static void find_build_id(struct dl_phdr_info *info, struct track_module_rec *m)
{
	int i;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p, *end;
		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof *n;
			const char *desc = name + ((n->n_namesz + 3) & ~3u);
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0) {
				uint32_t len = n->n_descsz < TRACK_BUILD_ID_MAX ? n->n_descsz
									: TRACK_BUILD_ID_MAX;
				memcpy(m->build_id, desc, len);
				m->build_id_len = len;
				return;
			}
			p = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
}

static struct track_module_rec *find_module(uint64_t base, const char *path)
{
	uint64_t i, n = TRACK_LOAD(&track_g.hdr->modules_used);
	for (i = 0; i < n; i++) {
		struct track_module_rec *m = &track_g.modules[i];
		if (m->base == base && strcmp(m->path, path) == 0 && !(m->flags & TRACK_MF_UNLOADED))
			return m;
	}
	return NULL;
}

static int scan_one(struct dl_phdr_info *info, size_t size, void *data)
{
	struct track_seg_header *h = track_g.hdr;
	const char *path = info->dlpi_name;
	struct track_module_rec *m;
	uint64_t lo = UINT64_MAX, hi = 0;
	int i, main_exe = 0;
	(void)size, (void)data;
	if (path == NULL || path[0] == '\0') {
		path = h->exe;
		main_exe = 1;
	}
	m = find_module(info->dlpi_addr, path);
	if (m != NULL) {
		seen_map[m - track_g.modules] = (uint8_t)scan_epoch;
		return 0;
	}
	if (h->modules_used >= h->max_modules) {
		TRACK_ADD(&h->modules_dropped, 1);
		return 0;
	}
	m = &track_g.modules[h->modules_used];
	memset(m, 0, sizeof *m);
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	m->base = info->dlpi_addr;
	m->lo = lo == UINT64_MAX ? 0 : lo;
	m->hi = hi;
	snprintf(m->path, sizeof m->path, "%s", path);
	find_build_id(info, m);
	seen_map[h->modules_used] = (uint8_t)scan_epoch;
	__atomic_store_n(&m->flags, TRACK_MF_VALID | (main_exe ? TRACK_MF_MAIN : 0),
			 __ATOMIC_RELEASE);
	TRACK_ADD(&h->modules_used, 1);
	return 0;
}

void track_modules_scan(void)
{
	static uint8_t seen_static[1u << 16];
	uint64_t i, n;
	if (track_g.hdr == NULL)
		return;
	mod_lock_take();
	seen_map = seen_static;
	scan_epoch++;
	dl_iterate_phdr(scan_one, NULL);
	n = TRACK_LOAD(&track_g.hdr->modules_used);
	for (i = 0; i < n; i++)
		if (seen_map[i] != (uint8_t)scan_epoch)
			__atomic_or_fetch(&track_g.modules[i].flags, TRACK_MF_UNLOADED,
					  __ATOMIC_RELEASE);
	mod_lock_drop();
}

/* Scan again if pc lies outside every module we know: something was loaded since. */
void track_modules_note_pc(uint64_t pc)
{
	uint64_t i, n;
	if (pc == 0 || track_g.hdr == NULL)
		return;
	n = TRACK_LOAD(&track_g.hdr->modules_used);
	for (i = 0; i < n; i++) {
		const struct track_module_rec *m = &track_g.modules[i];
		if (pc >= m->lo && pc < m->hi && !(m->flags & TRACK_MF_UNLOADED))
			return;
	}
	track_modules_scan();
}

/* After fork: the child's new segment starts with the parent's map (same address space). */
void track_modules_copy(const struct track_seg_header *old)
{
	const struct track_module_rec *src =
		(const struct track_module_rec *)((const char *)old + old->modules_off);
	uint64_t n = old->modules_used;
	if (n > track_g.hdr->max_modules)
		n = track_g.hdr->max_modules;
	memcpy(track_g.modules, src, n * sizeof *src);
	track_g.hdr->modules_used = n;
	mod_lock = 0;
}

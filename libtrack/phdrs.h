/*
 * phdrs.h — what a loaded object's program headers say for its module record: the address
 * range of its loaded segments and its GNU build-id.  modules.c fills the segment's module
 * table with it; tests/symbolize_test.c builds its module tables with the same code, so that
 * what the symbolizer is tested on is what the shim records.
 *
 * Inline and allocation-free: the shim uses it inside other programs.
 */
#ifndef TRACK_PHDRS_H
#define TRACK_PHDRS_H

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "track/segment.h"

/* Copy the GNU build-id of a PT_NOTE segment at [p, end), if it has one. */
static inline void track__find_build_id(const char *p, const char *end,
				       struct track_module_rec *m)
{
	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
		const char *name = p + sizeof *n;
		const char *desc = name + ((n->n_namesz + 3) & ~3u);
		if (desc > end || n->n_descsz > (size_t)(end - desc))
			return;
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

/* Fill m's base, range and build-id from an object's program headers (load bias base). */
static inline void track__module_from_phdrs(struct track_module_rec *m, uintptr_t base,
					    const ElfW(Phdr) *ph, int phnum)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	int i;
	for (i = 0; i < phnum; i++) {
		uintptr_t a = base + ph[i].p_vaddr;
		if (ph[i].p_type == PT_NOTE && m->build_id_len == 0)
			track__find_build_id((const char *)a, (const char *)a + ph[i].p_memsz, m);
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (a < lo)
			lo = a;
		if (a + ph[i].p_memsz > hi)
			hi = a + ph[i].p_memsz;
	}
	m->base = base;
	m->lo = lo == UINT64_MAX ? 0 : lo;
	m->hi = hi;
}

#endif /* TRACK_PHDRS_H */

/*
 * fuzz_symbolize.c — libFuzzer target: a module file as the symbolizer meets it on disk (ELF
 * and DWARF it did not write: a library rebuilt, damaged or hostile), asked for code
 * addresses (as call sites and as return addresses) and data addresses over the ranges a
 * small library and an object file use, as a segment's module map would name them.
 */
#include <string.h>

#include "fuzz.h"

#include "core/symbolize.h"

/* The addresses asked about, from the module's load bias: code and data of a small
 * library or object file lie in the first pages. */
#define FUZZ_SPAN 0x5000

/* A leak of elfutils' own (0.188, Debian 12), not of ours: dwarf_getscopes returns -1
 * without freeing the scopes it allocated when an inlined subroutine's
 * DW_AT_abstract_origin does not resolve, and its caller never gets the pointer.  Suppressed
 * by name only, which needs the slow unwinder through libdw (built without frame pointers). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:dwarf_getscopes\n";
}
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";   /* not after every input that leaked it */
}
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct track_module_rec m;
	struct track_symbolizer *sym;
	struct track_frame f[8];
	char path[256], buf[512];
	uint64_t pc;
	int fd = fuzz_file(data, size, "symbolize", path, sizeof path);
	memset(&m, 0, sizeof m);
	m.flags = TRACK_MF_VALID;
	m.base = 0;
	m.lo = 0;
	m.hi = 1u << 20;
	snprintf(m.path, sizeof m.path, "%s", path);
	sym = track_sym_new(&m, 1);
	if (sym == NULL)
		abort();
	for (pc = 0; pc < FUZZ_SPAN; pc += 29) {
		int n = track_sym_lookup(sym, pc, (int)(pc & 1), f, 8), i;
		if (n < 1 || n > 8)
			abort();
		for (i = 0; i < n; i++)
			track_sym_format(&f[i], buf, sizeof buf);
	}
	for (pc = 0; pc < FUZZ_SPAN; pc += 24)
		track_sym_data(sym, pc, pc & 0x18);
	track_sym_free(sym);
	fuzz_file_done(fd, path);
	return 0;
}

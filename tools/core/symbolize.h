/*
 * symbolize.h — turn the raw code addresses the shim records (return addresses, thread start
 * routines) into function names, source locations and module names for the track tools.
 *
 * The segment only holds addresses and a module map (path, load bias, address range,
 * build-id), so symbolization happens in the tool, possibly long after the traced process
 * has exited: each module is opened from disk (and checked against the recorded build-id),
 * DWARF is used when present (also from separate debug files under /usr/lib/debug), the
 * ELF symbol tables otherwise, and module+offset when nothing else is known.
 *
 * A symbolizer is not thread-safe: one thread at a time per symbolizer.
 */
#ifndef TRACK_SYMBOLIZE_H
#define TRACK_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "track/segment.h"

/* dwfl_linux_proc_report, also for a caller that may ptrace process pid by CAP_SYS_PTRACE
 * alone (symbolize.c); for the tools that report a live process's modules themselves. */
struct Dwfl;
int track_dwfl_report_proc(struct Dwfl *dwfl, pid_t pid);

/*
 * One symbolized location.  An address inside code inlined from other functions yields
 * several entries: the innermost inlined function first, the real (out-of-line) function
 * last.  All strings are owned by the symbolizer and stay valid until track_sym_free.
 */
struct track_frame {
	uint64_t pc;            /* the address asked about (not pc-1 for return addresses) */
	const char *function;   /* demangled if C++ and libstdc++ is available; NULL if unknown */
	uint64_t offset;        /* function known: pc - function start (0 for inlined entries,
				   whose start is not a meaningful address);
				   function unknown, module known: pc - module load bias, i.e. the
				   address inside the file as `addr2line -e FILE` takes it */
	const char *file;       /* source file as named in DWARF (usually absolute), NULL if
				   unknown; for all but the innermost entry this is the location
				   of the call to the entry before it */
	int line;               /* 0 if unknown */
	const char *module;     /* module path, NULL if pc lies outside all modules */
	int inlined;            /* 1: this function was inlined into the next entry */
};

struct track_symbolizer;

/* Build from a module table (e.g. the segment's); only records with TRACK_MF_VALID are used.
   Files are opened lazily, on the first address that falls into them.  Never returns NULL
   unless out of memory (mods may be NULL when n is 0). */
struct track_symbolizer *track_sym_new(const struct track_module_rec *mods, size_t n);

/* Build for a live process by pid, from /proc/PID/maps (dwfl_linux_proc_report): for
   processes without the shim.  NULL if the process cannot be inspected. */
struct track_symbolizer *track_sym_new_pid(pid_t pid);

/* Release the symbolizer and every string it handed out.  NULL is fine. */
void track_sym_free(struct track_symbolizer *sym);

/* Symbolize pc.  For return addresses (callers' pcs from a stack, recorded call sites) pass
   is_return=1: the lookup then uses pc-1, which lies inside the call instruction, so that a
   call that ends a function or an inlined block is attributed to it.  Fills up to max
   entries, innermost first, real function last, and returns how many (>= 1 whenever
   out != NULL and max >= 1; an address nobody knows gives one entry with only pc set).
   When the chain is longer than max, the innermost entries are dropped so that the last
   entry is still the real function.  Results are cached per (pc, is_return). */
int track_sym_lookup(struct track_symbolizer *sym, uint64_t pc, int is_return,
		     struct track_frame *out, int max);

/* The variable that the object of size bytes at data address addr lies in, named as a
   report names that object:
     "g_stats"            the variable itself (demangled: "worker()::m", "ns::g_lock")
     "g_buckets[3]"       an element of an array, when DWARF gives the element's type
     "q.lock"             a member (also at the start of the variable, when it is bigger
                          than the object), likewise
     "g_buckets+0x78"     a byte offset into it, without DWARF
   from the module's symbol tables (.symtab, else .dynsym: STT_OBJECT symbols, with a size
   that covers addr) and its DWARF.  size 0: not known (members are then named only past
   the variable's start).  NULL when no variable holds addr: the heap, a stack, an anonymous
   mapping, a stripped module.  The string is the symbolizer's; answers are cached. */
const char *track_sym_data(struct track_symbolizer *sym, uint64_t addr, uint64_t size);

/* Format one entry into buf and return buf:
     "function+0x1a (file.c:88)"         function and line known
     "function (file.c:88)"              inlined entry
     "function+0x1a (libfoo.so)"         function known, no line
     "0x7f0012345678 (libfoo.so+0x1234)" only the module known
     "0x7f0012345678"                    nothing known
   File and module are shown by basename. */
const char *track_sym_format(const struct track_frame *f, char *buf, size_t len);

#endif /* TRACK_SYMBOLIZE_H */

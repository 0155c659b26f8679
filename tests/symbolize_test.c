/*
 * symbolize_test.c — tests for tools/core/symbolize.c, the address-to-name layer of the tools.
 *
 * The symbolizer is fed module tables built the way the shim builds them (dl_iterate_phdr:
 * bias, PT_LOAD range, path, build-id), so that what passes here is what the tools see.
 * Covered: functions and lines in this test binary (compiled -g), inline frames from an
 * -O2 fixture library (tests/fixtures/symfix.c, compiled here at run time with the C
 * compiler), stripped, debuglinked and build-id-mismatched copies of that library, C++
 * demangling, a live process by pid, the variables data addresses lie in (track_sym_data),
 * and bad input that must not crash.
 *
 * Tools can be overridden at build time: TEST_CC, TEST_OBJCOPY, TEST_STRIP, SYMFIX_SRC.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/symbolize.h"
#include "phdrs.h"   /* libtrack: the shim's own module-record code */

#ifdef __clang__
#define OPAQUE __attribute__((noinline))
#else
/* noipa: no cloning, no interprocedural shortcuts: the calls stay real calls. */
#define OPAQUE __attribute__((noinline, noipa))
#endif

#ifndef TEST_CC
#define TEST_CC "cc"
#endif
#ifndef TEST_OBJCOPY
#define TEST_OBJCOPY "objcopy"
#endif
#ifndef TEST_STRIP
#define TEST_STRIP "strip"
#endif

static char fixture_src[4096];  /* tests/fixtures/symfix.c */
static char tmpdir[64];         /* where the fixture and its copies are built */
static int fixture_ok;          /* all copies built */

/* ---- module table, as the shim's modules.c builds it -------------------------------- */

struct modtab {
	struct track_module_rec v[512];
	size_t n;
	char exe[TRACK_PATH_MAX];
};

static int collect_one(struct dl_phdr_info *info, size_t size, void *data)
{
	struct modtab *t = data;
	struct track_module_rec *m;
	const char *path = info->dlpi_name;
	int main_exe = 0;
	(void)size;
	if (t->n >= sizeof t->v / sizeof t->v[0])
		return 1;
	if (path == NULL || path[0] == '\0') {
		path = t->exe;
		main_exe = 1;
	}
	m = &t->v[t->n];
	memset(m, 0, sizeof *m);
	track__module_from_phdrs(m, info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum);
	snprintf(m->path, sizeof m->path, "%s", path);
	m->flags = TRACK_MF_VALID | (main_exe ? TRACK_MF_MAIN : 0);
	t->n++;
	return 0;
}

static struct modtab *modtab_self(void)
{
	struct modtab *t = calloc(1, sizeof *t);
	ssize_t n;
	ck_assert_ptr_nonnull(t);
	n = readlink("/proc/self/exe", t->exe, sizeof t->exe - 1);
	t->exe[n > 0 ? n : 0] = '\0';
	dl_iterate_phdr(collect_one, t);
	return t;
}

/* The record whose path ends in suffix. */
static const struct track_module_rec *modtab_find(const struct modtab *t, const char *suffix)
{
	size_t i, ls = strlen(suffix);
	for (i = 0; i < t->n; i++) {
		size_t lp = strlen(t->v[i].path);
		if (lp >= ls && strcmp(t->v[i].path + lp - ls, suffix) == 0)
			return &t->v[i];
	}
	return NULL;
}

/* ---- helpers ------------------------------------------------------------------------- */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ends_with(const char *s, const char *suffix)
{
	size_t ls, lx;
	if (s == NULL)
		return 0;
	ls = strlen(s);
	lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Line number of the line in the fixture source holding "MARK:<name> ". */
static int mark_line(const char *name)
{
	char want[64], line[512];
	FILE *f = fopen(fixture_src, "r");
	int n = 0;
	snprintf(want, sizeof want, "/* MARK:%s */", name);
	ck_assert_msg(f != NULL, "cannot read %s", fixture_src);
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		if (strstr(line, want) != NULL) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	ck_abort_msg("no %s in %s", want, fixture_src);
	return 0;
}

static void fixture_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void *open_fixture(void)
{
	char p[128];
	void *h;
	ck_assert_msg(fixture_ok, "fixture was not built (see messages before the tests)");
	fixture_path(p, sizeof p, "libsymfix.so");
	h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(h != NULL, "dlopen %s: %s", p, dlerror());
	return h;
}

static uintptr_t call_fixture(void *h, const char *fn)
{
	uintptr_t (*f)(int);
	*(void **)&f = dlsym(h, fn);
	ck_assert_msg(f != NULL, "dlsym %s", fn);
	return f(7);
}

/* A symbolizer over just the fixture's record, with its path replaced by another file
   (a stripped copy of the same library: same layout, same build-id). */
static struct track_symbolizer *sym_for_copy(const struct modtab *t, const char *file,
					     int break_build_id)
{
	const struct track_module_rec *r = modtab_find(t, "/libsymfix.so");
	struct track_module_rec copy;
	ck_assert_ptr_nonnull(r);
	copy = *r;
	ck_assert_uint_gt(copy.build_id_len, 0);
	fixture_path(copy.path, sizeof copy.path, file);
	if (break_build_id)
		copy.build_id[copy.build_id_len - 1] ^= 0xff;
	return track_sym_new(&copy, 1);
}

/* ---- functions of this binary that the tests look up --------------------------------- */

volatile int test_sink;

OPAQUE static uint64_t return_address_here(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static int caller_line;
enum { KNOWN_CALLER_LINE = __LINE__ + 1 };
OPAQUE uint64_t sym_known_caller(void)
{
	uint64_t ra;
	caller_line = __LINE__ + 1;
	ra = return_address_here();
	test_sink = 1; /* not a tail call: the return address stays in this function */
	return ra;
}

enum { KNOWN_LEAF_LINE = __LINE__ + 1 };
OPAQUE int sym_known_leaf(int x)
{
	test_sink = x;
	return x + 1;
}

/* ---- (1) this binary ----------------------------------------------------------------- */

START_TEST(test_self_function_entry)
{
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	struct track_frame f[8];
	char buf[512];
	uint64_t pc = (uint64_t)(uintptr_t)&sym_known_leaf;
	int n;
	ck_assert_ptr_nonnull(s);
	n = track_sym_lookup(s, pc, 0, f, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(f[0].pc, pc);
	ck_assert_str_eq(f[0].function, "sym_known_leaf");
	ck_assert_uint_eq(f[0].offset, 0);
	ck_assert_int_eq(f[0].inlined, 0);
	ck_assert_msg(ends_with(f[0].file, "/symbolize_test.c"), "file %s", f[0].file);
	/* The entry address belongs to the line of the function's name or its brace. */
	ck_assert_int_ge(f[0].line, KNOWN_LEAF_LINE);
	ck_assert_int_le(f[0].line, KNOWN_LEAF_LINE + 2);
	ck_assert_str_eq(f[0].module, t->exe);
	track_sym_format(&f[0], buf, sizeof buf);
	/* at a function's first instruction the offset is left out */
	ck_assert_msg(strncmp(buf, "sym_known_leaf (symbolize_test.c:", 33) == 0, "%s", buf);

	/* A pc in the middle of the function: same name, positive offset. */
	n = track_sym_lookup(s, pc + 4, 0, f, 8);
	ck_assert_int_ge(n, 1);
	ck_assert_str_eq(f[n - 1].function, "sym_known_leaf");
	ck_assert_uint_eq(f[n - 1].offset, 4);
	track_sym_free(s);
	free(t);
}
END_TEST

START_TEST(test_self_return_address)
{
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	struct track_frame f[8], g[8];
	char buf[512];
	uint64_t ra = sym_known_caller();
	int n;
	n = track_sym_lookup(s, ra, 1, f, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(f[0].pc, ra);
	ck_assert_str_eq(f[0].function, "sym_known_caller");
	ck_assert_uint_gt(f[0].offset, 0);
	ck_assert_msg(ends_with(f[0].file, "/symbolize_test.c"), "file %s", f[0].file);
	ck_assert_msg(f[0].line >= caller_line - 1 && f[0].line <= caller_line + 1,
		      "line %d, call on %d", f[0].line, caller_line);
	ck_assert_int_gt(caller_line, KNOWN_CALLER_LINE);
	track_sym_format(&f[0], buf, sizeof buf);
	ck_assert_msg(strncmp(buf, "sym_known_caller+0x", 19) == 0 &&
		      strstr(buf, " (symbolize_test.c:") != NULL, "%s", buf);

	/* Cached: the same strings come back. */
	n = track_sym_lookup(s, ra, 1, g, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_eq(g[0].function, f[0].function);
	ck_assert_ptr_eq(g[0].file, f[0].file);
	ck_assert_int_eq(g[0].line, f[0].line);
	track_sym_free(s);
	free(t);
}
END_TEST

START_TEST(test_self_libc)
{
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	struct track_frame f[8];
	int n = track_sym_lookup(s, (uint64_t)(uintptr_t)&getpid, 0, f, 8);
	ck_assert_int_ge(n, 1);
	ck_assert_ptr_nonnull(f[n - 1].module);
	ck_assert_msg(strncmp(base_of(f[n - 1].module), "libc.so", 7) == 0, "module %s",
		      f[n - 1].module);
	/* Debian's libc keeps only .dynsym: the name comes from there (or from its debug file
	   if installed), getpid or an alias such as __getpid. */
	ck_assert_ptr_nonnull(f[n - 1].function);
	ck_assert_msg(strstr(f[n - 1].function, "getpid") != NULL, "%s", f[n - 1].function);
	ck_assert_uint_eq(f[n - 1].offset, 0);
	track_sym_free(s);
	free(t);
}
END_TEST

START_TEST(test_pid_mode)
{
	void *h = open_fixture();
	uintptr_t ra = call_fixture(h, "symfix_outer");
	struct track_symbolizer *s = track_sym_new_pid(getpid());
	struct track_frame f[8];
	int n;
	ck_assert_ptr_nonnull(s);
	n = track_sym_lookup(s, (uint64_t)(uintptr_t)&sym_known_leaf, 0, f, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(f[0].function, "sym_known_leaf");
	ck_assert_int_ge(f[0].line, KNOWN_LEAF_LINE);
	n = track_sym_lookup(s, ra, 1, f, 8);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(f[0].function, "symfix_inner");
	ck_assert_str_eq(f[1].function, "symfix_outer");
	ck_assert_int_eq(f[1].line, mark_line("outer_call"));
	track_sym_free(s);
	ck_assert_ptr_null(track_sym_new_pid(-1));
	ck_assert_ptr_null(track_sym_new_pid(0));
	dlclose(h);
}
END_TEST

START_TEST(test_pid_gone)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_ptr_null(track_sym_new_pid(pid));
}
END_TEST

/* ---- (2) inline frames --------------------------------------------------------------- */

START_TEST(test_inline_frames)
{
	void *h = open_fixture();
	uintptr_t ra = call_fixture(h, "symfix_outer");
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	const struct track_module_rec *r = modtab_find(t, "/libsymfix.so");
	struct track_frame f[8], one;
	char buf[512];
	int n;
	ck_assert_ptr_nonnull(r);
	n = track_sym_lookup(s, ra, 1, f, 8);
	ck_assert_int_eq(n, 2);
	/* Innermost: the inlined function, at the line of the call inside it. */
	ck_assert_str_eq(f[0].function, "symfix_inner");
	ck_assert_int_eq(f[0].inlined, 1);
	ck_assert_msg(ends_with(f[0].file, "/symfix.c"), "file %s", f[0].file);
	ck_assert_int_eq(f[0].line, mark_line("inner_call"));
	ck_assert_str_eq(f[0].module, r->path);
	/* Next: the function it was inlined into, at the line that calls the inlined one. */
	ck_assert_str_eq(f[1].function, "symfix_outer");
	ck_assert_int_eq(f[1].inlined, 0);
	ck_assert_msg(ends_with(f[1].file, "/symfix.c"), "file %s", f[1].file);
	ck_assert_int_eq(f[1].line, mark_line("outer_call"));
	ck_assert_uint_eq(f[1].offset, ra - (uintptr_t)dlsym(h, "symfix_outer"));
	ck_assert_uint_eq(f[0].pc, ra);
	ck_assert_uint_eq(f[1].pc, ra);

	snprintf(buf, sizeof buf, "symfix_inner (symfix.c:%d)", mark_line("inner_call"));
	ck_assert_str_eq(track_sym_format(&f[0], buf + 256, 256), buf);

	/* Room for one: the real function survives. */
	n = track_sym_lookup(s, ra, 1, &one, 1);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(one.function, "symfix_outer");
	ck_assert_int_eq(one.inlined, 0);

	/* The static function has DWARF too. */
	ra = call_fixture(h, "symfix_call_hidden");
	n = track_sym_lookup(s, ra, 1, f, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(f[0].function, "symfix_hidden");
	ck_assert_int_eq(f[0].line, mark_line("hidden_call"));
	track_sym_free(s);
	free(t);
	dlclose(h);
}
END_TEST

/* ---- (3) stripped and separate-debug copies ------------------------------------------ */

START_TEST(test_strip_debug)
{
	void *h = open_fixture();
	uintptr_t ra = call_fixture(h, "symfix_outer");
	uintptr_t ra_m = call_fixture(h, "_ZN3foo3barEi");
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = sym_for_copy(t, "libsymfix-nodebug.so", 0);
	struct track_frame f[8];
	char buf[512];
	int n = track_sym_lookup(s, ra, 1, f, 8);
	/* No DWARF: no inline frame, no line, but the name from .symtab. */
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(f[0].function, "symfix_outer");
	ck_assert_ptr_null(f[0].file);
	ck_assert_int_eq(f[0].line, 0);
	ck_assert_uint_eq(f[0].offset, ra - (uintptr_t)dlsym(h, "symfix_outer"));
	ck_assert(ends_with(f[0].module, "/libsymfix-nodebug.so"));
	snprintf(buf, sizeof buf, "symfix_outer+0x%llx (libsymfix-nodebug.so)",
		 (unsigned long long)f[0].offset);
	ck_assert_str_eq(track_sym_format(&f[0], buf + 256, 256), buf);

	/* .symtab keeps static functions. */
	n = track_sym_lookup(s, call_fixture(h, "symfix_call_hidden"), 1, f, 8);
	ck_assert_str_eq(f[n - 1].function, "symfix_hidden");

	/* A C++ mangled symbol is demangled when libstdc++ can be loaded. */
	n = track_sym_lookup(s, ra_m, 1, f, 8);
	ck_assert_int_eq(n, 1);
	{
		void *cxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		ck_assert_str_eq(f[0].function, cxx != NULL ? "foo::bar(int)" : "_ZN3foo3barEi");
	}
	track_sym_free(s);
	free(t);
	dlclose(h);
}
END_TEST

START_TEST(test_strip_all)
{
	void *h = open_fixture();
	uintptr_t ra = call_fixture(h, "symfix_outer");
	uintptr_t ra_hidden = call_fixture(h, "symfix_call_hidden");
	struct modtab *t = modtab_self();
	const struct track_module_rec *r = modtab_find(t, "/libsymfix.so");
	struct track_symbolizer *s = sym_for_copy(t, "libsymfix-stripped.so", 0);
	struct track_frame f[8];
	char buf[512];
	int n;
	/* Exported: .dynsym still names it. */
	n = track_sym_lookup(s, ra, 1, f, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(f[0].function, "symfix_outer");
	ck_assert_ptr_null(f[0].file);
	/* Static: nothing names it, module+offset it is. */
	n = track_sym_lookup(s, ra_hidden, 1, f, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_null(f[0].function);
	ck_assert(ends_with(f[0].module, "/libsymfix-stripped.so"));
	ck_assert_uint_eq(f[0].offset, ra_hidden - r->base);
	snprintf(buf, sizeof buf, "0x%llx (libsymfix-stripped.so+0x%llx)",
		 (unsigned long long)ra_hidden, (unsigned long long)(ra_hidden - r->base));
	ck_assert_str_eq(track_sym_format(&f[0], buf + 256, 256), buf);
	track_sym_free(s);
	free(t);
	dlclose(h);
}
END_TEST

/* Symbolize the fixture's inlined call through the copy named file: the inner function at
 * its call line, inlined into the outer one at its own; optionally check the file name. */
static void assert_inline_pair(const char *file, int check_file)
{
	void *h = open_fixture();
	uintptr_t ra = call_fixture(h, "symfix_outer");
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = sym_for_copy(t, file, 0);
	struct track_frame f[8];
	int n = track_sym_lookup(s, ra, 1, f, 8);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(f[0].function, "symfix_inner");
	ck_assert_int_eq(f[0].line, mark_line("inner_call"));
	if (check_file)
		ck_assert_msg(ends_with(f[0].file, "/symfix.c"), "file %s", f[0].file);
	ck_assert_str_eq(f[1].function, "symfix_outer");
	ck_assert_int_eq(f[1].line, mark_line("outer_call"));
	track_sym_free(s);
	free(t);
	dlclose(h);
}

/* The DWARF lives in libsymfix-dl.so.debug next to it, found by .gnu_debuglink. */
START_TEST(test_debuglink)
{
	assert_inline_pair("libsymfix-dl.so", 0);
}
END_TEST

/* Without .debug_aranges (clang emits none), file, line and inline frames must still be
 * found: elfutils 0.188 does not rebuild the address ranges from the units itself. */
START_TEST(test_no_aranges)
{
	assert_inline_pair("libsymfix-noaranges.so", 1);
}
END_TEST

START_TEST(test_build_id_mismatch)
{
	void *h = open_fixture();
	uintptr_t ra = call_fixture(h, "symfix_outer");
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = sym_for_copy(t, "libsymfix.so", 1);
	struct track_frame f[8];
	/* The file is not the one that was loaded: its names would be guesses. */
	int n = track_sym_lookup(s, ra, 1, f, 8);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_null(f[0].function);
	ck_assert_ptr_null(f[0].file);
	ck_assert(ends_with(f[0].module, "/libsymfix.so"));
	track_sym_free(s);
	free(t);
	dlclose(h);
}
END_TEST

/* ---- (4) bad input ------------------------------------------------------------------- */

static void assert_bare(struct track_symbolizer *s, uint64_t pc, int is_return)
{
	struct track_frame f[4];
	char buf[64];
	int n = track_sym_lookup(s, pc, is_return, f, 4);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(f[0].pc, pc);
	ck_assert_ptr_null(f[0].function);
	ck_assert_ptr_null(f[0].file);
	ck_assert_ptr_null(f[0].module);
	ck_assert_int_eq(f[0].line, 0);
	track_sym_format(&f[0], buf, sizeof buf);
	ck_assert_ptr_nonnull(buf);
	snprintf(buf + 32, 32, "0x%llx", (unsigned long long)pc);
	ck_assert_str_eq(buf, buf + 32);
}

START_TEST(test_bad_pcs)
{
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	struct track_frame f[2];
	assert_bare(s, 0, 0);
	assert_bare(s, 0, 1);
	assert_bare(s, 1, 1);
	assert_bare(s, 16, 0);
	assert_bare(s, UINT64_MAX, 0);
	assert_bare(s, UINT64_MAX, 1);
	assert_bare(s, 0xffffffffff600000ULL, 0); /* the kernel's vsyscall page */
	/* Degenerate calls. */
	ck_assert_int_eq(track_sym_lookup(s, 0x1234, 0, NULL, 4), 0);
	ck_assert_int_eq(track_sym_lookup(s, 0x1234, 0, f, 0), 0);
	ck_assert_int_eq(track_sym_lookup(s, 0x1234, 0, f, -1), 0);
	ck_assert_int_eq(track_sym_lookup(NULL, 0x1234, 0, f, 2), 1);
	ck_assert_uint_eq(f[0].pc, 0x1234);
	ck_assert_str_eq(track_sym_format(NULL, (char[8]){0}, 8), "?");
	ck_assert_str_eq(track_sym_format(&f[0], NULL, 0), "");
	{
		char tiny[4];
		track_sym_format(&f[0], tiny, sizeof tiny);
		ck_assert_str_eq(tiny, "0x1");
	}
	track_sym_free(s);
	track_sym_free(NULL);
	/* Empty tables. */
	s = track_sym_new(NULL, 0);
	ck_assert_ptr_nonnull(s);
	assert_bare(s, (uint64_t)(uintptr_t)&sym_known_leaf, 0);
	track_sym_free(s);
	s = track_sym_new(NULL, 7);
	ck_assert_ptr_nonnull(s);
	assert_bare(s, 0x400000, 0);
	track_sym_free(s);
	free(t);
}
END_TEST

START_TEST(test_bad_modules)
{
	/* Records that point at things that are not (or no longer) the loaded ELF file.  Each
	   covers [lo, lo+0x10000) with lo = 0x10000000 * (i+1). */
	static const char *paths[] = {
		"/nonexistent/libgone.so", "/dev/null", "/", "", NULL /* fixture source */,
		NULL /* truncated ELF */, NULL /* unreadable copy */, "/bin/sh", "linux-vdso.so.1",
	};
	enum { NP = sizeof paths / sizeof paths[0] };
	struct track_module_rec recs[NP + 4];
	char trunc[128], unread[128];
	struct track_symbolizer *s;
	struct track_frame f[4];
	char buf[512];
	size_t i;
	int n;

	memset(recs, 0, sizeof recs);
	if (fixture_ok) {
		fixture_path(trunc, sizeof trunc, "truncated.so");
		fixture_path(unread, sizeof unread, "unreadable.so");
		ck_assert(run("head -c 200 %s/libsymfix.so > %s && cp %s/libsymfix.so %s"
			      " && chmod 000 %s", tmpdir, trunc, tmpdir, unread, unread));
		paths[5] = trunc;
		paths[6] = unread;
	}
	paths[4] = fixture_src;
	for (i = 0; i < NP; i++) {
		recs[i].base = 0x10000000ULL * (i + 1);
		recs[i].lo = recs[i].base;
		recs[i].hi = recs[i].base + 0x10000;
		recs[i].flags = TRACK_MF_VALID;
		snprintf(recs[i].path, sizeof recs[i].path, "%s", paths[i] ? paths[i] : "/nonexistent");
		if (i % 2) {
			/* Half of them claim a build-id: also try the /usr/lib/debug fallback. */
			recs[i].build_id_len = 20;
			memset(recs[i].build_id, 0xa5, 20);
		}
	}
	/* An unterminated path, a record not marked valid, an empty range, a silly build-id
	   length. */
	recs[NP].base = recs[NP].lo = 0xa0000000ULL;
	recs[NP].hi = recs[NP].lo + 0x1000;
	recs[NP].flags = TRACK_MF_VALID | TRACK_MF_UNLOADED;
	memset(recs[NP].path, 'A', sizeof recs[NP].path);
	recs[NP + 1].lo = 0xb0000000ULL;
	recs[NP + 1].hi = recs[NP + 1].lo + 0x1000;
	snprintf(recs[NP + 1].path, sizeof recs[NP + 1].path, "/bin/sh");
	recs[NP + 2].lo = recs[NP + 2].hi = 0xc0000000ULL;
	recs[NP + 2].flags = TRACK_MF_VALID;
	recs[NP + 3].lo = 0xd0000000ULL;
	recs[NP + 3].hi = recs[NP + 3].lo + 0x1000;
	recs[NP + 3].flags = TRACK_MF_VALID;
	recs[NP + 3].build_id_len = 0xffffffffu;
	snprintf(recs[NP + 3].path, sizeof recs[NP + 3].path, "/nonexistent");

	s = track_sym_new(recs, NP + 4);
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < NP; i++) {
		uint64_t pc = recs[i].lo + 0x1234;
		n = track_sym_lookup(s, pc, (int)(i & 1), f, 4);
		ck_assert_int_ge(n, 1);
		ck_assert_ptr_nonnull(f[n - 1].module);
		ck_assert_uint_eq(f[n - 1].pc, pc);
		/* All but /bin/sh (a real ELF, though not the right one: the build-id it is
		   checked against is made up) and the unreadable copy (readable to root). */
		if (i != 6 && i != 7)
			ck_assert_msg(f[n - 1].function == NULL, "%s gave %s", paths[i],
				      f[n - 1].function);
		if (f[n - 1].function == NULL)
			ck_assert_uint_eq(f[n - 1].offset, 0x1234);
		track_sym_format(&f[n - 1], buf, sizeof buf);
	}
	n = track_sym_lookup(s, 0xa0000010ULL, 0, f, 4);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(strlen(f[0].module), TRACK_PATH_MAX);
	assert_bare(s, 0xb0000010ULL, 0);
	assert_bare(s, 0xc0000000ULL, 0);
	n = track_sym_lookup(s, 0xd0000010ULL, 0, f, 4);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(f[0].module, "/nonexistent");
	/* Asked again: the failure is remembered, the answer the same. */
	n = track_sym_lookup(s, recs[0].lo + 0x1234, 0, f, 4);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(f[0].module, "/nonexistent/libgone.so");
	track_sym_free(s);
}
END_TEST

START_TEST(test_many_lookups)
{
	/* Enough distinct pcs to grow the cache several times; all answers stay valid. */
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	const char *first = NULL;
	struct track_frame f[4];
	uint64_t pc0 = (uint64_t)(uintptr_t)&sym_known_leaf, i;
	int n;
	n = track_sym_lookup(s, pc0, 0, f, 4);
	first = f[n - 1].function;
	for (i = 0; i < 5000; i++)
		track_sym_lookup(s, pc0 + i * 7, (int)(i & 1), f, 4);
	n = track_sym_lookup(s, pc0, 0, f, 4);
	ck_assert_ptr_eq(f[n - 1].function, first);
	ck_assert_str_eq(first, "sym_known_leaf");
	track_sym_free(s);
	free(t);
}
END_TEST

/* ---- (5) data: the variable an address lies in ----------------------------------------- */

pthread_mutex_t symtest_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t symtest_locks[5];
static struct {
	int n;
	pthread_mutex_t lock;
} symtest_guarded;
static int symtest_grid[3][4];
/* More .bss than a page: its end is past the file's mappings in /proc/PID/maps. */
static pthread_mutex_t symtest_many[30000];

static const char *data_name(struct track_symbolizer *s, const volatile void *p)
{
	return track_sym_data(s, (uint64_t)(uintptr_t)p, 0);
}

START_TEST(test_data_self)
{
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	int on_stack = 0;
	void *heap = malloc(64);
	const char *first;
	ck_assert_str_eq(data_name(s, &symtest_lock), "symtest_lock");
	first = data_name(s, &symtest_locks[3]);
	ck_assert_str_eq(first, "symtest_locks[3]");
	ck_assert_ptr_eq(data_name(s, &symtest_locks[3]), first);   /* cached */
	ck_assert_str_eq(data_name(s, &symtest_locks[0]), "symtest_locks[0]");
	ck_assert_str_eq(data_name(s, &symtest_guarded.lock), "symtest_guarded.lock");
	ck_assert_str_eq(data_name(s, &symtest_grid[2][1]), "symtest_grid[2][1]");
	ck_assert_str_eq(data_name(s, (char *)&symtest_grid[1][3] + 2), "symtest_grid[1][3]+0x2");
	/* a libc variable, from its symbol tables */
	ck_assert_str_eq(data_name(s, &stdout), "stdout");
	/* none: the heap, the stack, code, nothing */
	ck_assert_ptr_null(data_name(s, heap));
	ck_assert_ptr_null(data_name(s, &on_stack));
	ck_assert_ptr_null(data_name(s, (void *)(uintptr_t)sym_known_leaf));
	ck_assert_ptr_null(track_sym_data(s, 0, 0));
	ck_assert_ptr_null(track_sym_data(NULL, (uint64_t)(uintptr_t)&symtest_lock, 0));
	test_sink = on_stack;
	free(heap);
	track_sym_free(s);
	free(t);
}
END_TEST

/* From a live process's maps (track stacks without a segment's module table), the .bss
 * beyond the file's last page too, which the maps give as an anonymous mapping. */
START_TEST(test_data_pid)
{
	struct track_symbolizer *s = track_sym_new_pid(getpid());
	void *heap = malloc(64);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(data_name(s, &symtest_lock), "symtest_lock");
	ck_assert_str_eq(data_name(s, &symtest_many[29999]), "symtest_many[29999]");
	ck_assert_str_eq(data_name(s, &symtest_guarded.lock), "symtest_guarded.lock");
	ck_assert_ptr_null(data_name(s, heap));
	free(heap);
	track_sym_free(s);
}
END_TEST

/* With DWARF: elements and members; without: the symbol and an offset; stripped: only what
 * .dynsym exports. */
START_TEST(test_data_fixture)
{
	void *h = open_fixture();
	uintptr_t (*data)(int), member, priv;
	struct modtab *t = modtab_self();
	struct track_symbolizer *s = track_sym_new(t->v, t->n);
	*(void **)&data = dlsym(h, "symfix_data");
	ck_assert_ptr_nonnull(data);
	member = data(0);
	priv = data(1);
	ck_assert_str_eq(track_sym_data(s, member, 0), "symfix_table[2].lock");
	ck_assert_str_eq(track_sym_data(s, priv, 0), "symfix_private[5]");
	track_sym_free(s);
	s = sym_for_copy(t, "libsymfix-nodebug.so", 0);
	ck_assert_str_eq(track_sym_data(s, member, 0), "symfix_table+0x68");
	ck_assert_str_eq(track_sym_data(s, priv, 0), "symfix_private+0x28");
	track_sym_free(s);
	s = sym_for_copy(t, "libsymfix-stripped.so", 0);
	ck_assert_str_eq(track_sym_data(s, member, 0), "symfix_table+0x68");
	ck_assert_ptr_null(track_sym_data(s, priv, 0));
	track_sym_free(s);
	free(t);
	dlclose(h);
}
END_TEST

/* ---- fixture build and main ---------------------------------------------------------- */

/* Run a shell command; 1 if it succeeded. */
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "symbolize_test: failed (%d): %s\n", rc, cmd);
	return rc == 0;
}

static void build_fixture(void)
{
	const char *d = tmpdir;
#ifdef SYMFIX_SRC
	snprintf(fixture_src, sizeof fixture_src, "%s", SYMFIX_SRC);
#else
	/* Next to this file: fine when built from the source tree's top (the manual recipe). */
	const char *slash = strrchr(__FILE__, '/');
	snprintf(fixture_src, sizeof fixture_src, "%.*sfixtures/symfix.c",
		 slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
#endif
	fixture_ok =
		run(TEST_CC " -O2 -g -fPIC -shared -Wl,--build-id=sha1 -o %s/libsymfix.so %s", d,
		    fixture_src) &&
		run(TEST_OBJCOPY " --strip-debug %s/libsymfix.so %s/libsymfix-nodebug.so", d, d) &&
		run(TEST_STRIP " --strip-all -o %s/libsymfix-stripped.so %s/libsymfix.so", d, d) &&
		run(TEST_OBJCOPY " --only-keep-debug %s/libsymfix.so %s/libsymfix-dl.so.debug", d,
		    d) &&
		run("cd %s && " TEST_OBJCOPY " --strip-debug --add-gnu-debuglink=libsymfix-dl.so.debug"
		    " libsymfix.so libsymfix-dl.so", d) &&
		run(TEST_OBJCOPY " --remove-section=.debug_aranges %s/libsymfix.so "
		    "%s/libsymfix-noaranges.so", d, d);
}

static Suite *symbolize_suite(void)
{
	Suite *s = suite_create("symbolize");
	TCase *tc = tcase_create("self");
	tcase_add_test(tc, test_self_function_entry);
	tcase_add_test(tc, test_self_return_address);
	tcase_add_test(tc, test_self_libc);
	tcase_add_test(tc, test_pid_mode);
	tcase_add_test(tc, test_pid_gone);
	tcase_add_test(tc, test_many_lookups);
	tcase_add_test(tc, test_data_self);
	tcase_add_test(tc, test_data_pid);
	suite_add_tcase(s, tc);
	tc = tcase_create("fixture");
	tcase_add_test(tc, test_inline_frames);
	tcase_add_test(tc, test_strip_debug);
	tcase_add_test(tc, test_strip_all);
	tcase_add_test(tc, test_debuglink);
	tcase_add_test(tc, test_no_aranges);
	tcase_add_test(tc, test_build_id_mismatch);
	tcase_add_test(tc, test_data_fixture);
	suite_add_tcase(s, tc);
	tc = tcase_create("bad_input");
	tcase_add_test(tc, test_bad_pcs);
	tcase_add_test(tc, test_bad_modules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/symtest.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	build_fixture();
	sr = srunner_create(symbolize_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	run("rm -rf '%s'", tmpdir);
	return failed == 0 ? 0 : 1;
}

/*
 * names.c — what a report calls a place and an object (see model.h, "sites and names").
 *
 * A site is the one line a report gives for a call: where a lock was first used, where a
 * thread was created, where a finding happened, where each lock of an edge was taken.  The
 * shim records the return address of the pthread call, and for a C++ program that is inside
 * the standard library: std::lock_guard and std::mutex::lock in bits/std_mutex.h, inlined
 * or not, __gthread_mutex_lock in gthr-posix.h, std::thread's constructor in libstdc++.so.
 * The site is the first frame of the call's stack, inline frames included, that is none of
 * these: the program's own line.  Stack listings stay whole.
 *
 * An object is named after the variable it lies in when it is a global or static one
 * ("g_stats", "g_buckets[3]"), as Helgrind does; a heap or stack object keeps its address.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"

/* Modules of the C and C++ runtimes, by the start of their file name, which must then go on
 * with ".so" or "-" and a version ("libc.so.6", "libc-2.31.so"; not "libcrypto.so" nor
 * "libc-client.so"); the dynamic loader by its name's start alone. */
static const char *const runtime_modules[] = {
	"libc", "libstdc++", "libgcc_s", "libpthread", "libc++", "libc++abi", "ld",
};

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s != NULL && s[1] != '\0' ? s + 1 : p;
}

static int runtime_module(const char *path)
{
	const char *b = base_name(path);
	size_t i;
	if (strncmp(b, "ld-linux", 8) == 0 || strncmp(b, "ld-musl", 7) == 0)
		return 1;
	for (i = 0; i < sizeof runtime_modules / sizeof runtime_modules[0]; i++) {
		size_t n = strlen(runtime_modules[i]);
		const char *r = b + n;
		if (strncmp(b, runtime_modules[i], n) == 0 &&
		    (strncmp(r, ".so", 3) == 0 || (r[0] == '-' && r[1] >= '0' && r[1] <= '9')))
			return 1;
	}
	return 0;
}

/* A header of the system's C library or of a C++ standard library: /usr/include/..., the
 * compiler's own (/usr/lib/gcc/...), or a C++ library's wherever it is installed
 * (.../include/c++/12/bits/std_mutex.h, .../c++/12/bits/gthr-posix.h, LLVM's c++/v1). */
static int system_header(const char *file)
{
	return strncmp(file, "/usr/include/", 13) == 0 || strncmp(file, "/usr/lib/gcc/", 13) == 0 ||
	       strstr(file, "/include/c++/") != NULL;
}

int track_frame_in_runtime(const struct track_frame *f)
{
	return (f->module != NULL && runtime_module(f->module)) ||
	       (f->file != NULL && system_header(f->file));
}

#define SITE_CHAIN 16   /* inline entries looked at per address */

int track_site_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n,
		   struct track_frame *out, int max)
{
	struct track_frame f[SITE_CHAIN];
	size_t i;
	if (n == 0 || pcs[0] == 0 || out == NULL || max < 1)
		return 0;
	for (i = 0; i < n && sym != NULL; i++) {
		int nf = track_sym_lookup(sym, pcs[i], 1, f, SITE_CHAIN), k;
		for (k = 0; k < nf; k++) {
			if (!track_frame_in_runtime(&f[k])) {
				int m = nf - k < max ? nf - k : max;
				memcpy(out, f + k, (size_t)m * sizeof *out);
				return m;
			}
		}
	}
	/* Nothing of the program's own (a lock libstdc++ takes for itself): where the call was. */
	return track_sym_lookup(sym, pcs[0], 1, out, max);
}

/* The call at pc with stack id: its frames when the stack is that call's (the shim captures
 * it in the same call, so its first frame is pc), else pc alone.  Returns the count. */
static size_t call_pcs(const struct track_snap *s, uint64_t pc, uint32_t stack,
		       const uint64_t **pcs, const uint64_t *one)
{
	const struct track_stack_rec *st = s != NULL ? track_snap_stack(s, stack) : NULL;
	if (st != NULL && st->nframes > 0 && st->frames[0] == pc) {
		*pcs = st->frames;
		return st->nframes;
	}
	*pcs = one;
	return 1;
}

int track_site(const struct track_snap *s, struct track_symbolizer *sym, uint64_t pc,
	       uint32_t stack, struct track_frame *out, int max)
{
	const uint64_t *pcs;
	size_t n = call_pcs(s, pc, stack, &pcs, &pc);
	return track_site_pcs(sym, pcs, n, out, max);
}

static const char *fmt_frames(struct track_symbolizer *sym, uint64_t pc,
			      const struct track_frame *f, int n, char *buf, size_t len)
{
	if (n <= 0 || pc == 0) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (sym == NULL) {
		snprintf(buf, len, "0x%llx", (unsigned long long)pc);
		return buf;
	}
	return track_sym_format(&f[0], buf, len);
}

const char *track_fmt_site(const struct track_snap *s, struct track_symbolizer *sym, uint64_t pc,
			   uint32_t stack, char *buf, size_t len)
{
	struct track_frame f[8];
	int n = pc != 0 ? track_site(s, sym, pc, stack, f, 8) : 0;
	return fmt_frames(sym, pc, f, n, buf, len);
}

const char *track_fmt_site_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n,
			       char *buf, size_t len)
{
	struct track_frame f[8];
	int k = track_site_pcs(sym, pcs, n, f, 8);
	return fmt_frames(sym, n > 0 ? pcs[0] : 0, f, k, buf, len);
}

/* --- object names --------------------------------------------------------------------------- */

/* The size of an object of kind in the traced process (the tools run on its platform). */
static uint64_t kind_size(uint32_t kind)
{
	switch (kind) {
	case TRACK_OBJ_MUTEX:
		return sizeof(pthread_mutex_t);
	case TRACK_OBJ_RWLOCK:
		return sizeof(pthread_rwlock_t);
	case TRACK_OBJ_SPIN:
		return sizeof(pthread_spinlock_t);
	case TRACK_OBJ_COND:
		return sizeof(pthread_cond_t);
	case TRACK_OBJ_SEM:
		return sizeof(sem_t);
	case TRACK_OBJ_BARRIER:
		return sizeof(pthread_barrier_t);
	default:
		return 0;
	}
}

const char *track_obj_name(const struct track_snap *s, struct track_symbolizer *sym,
			   uint64_t addr, uint32_t kind)
{
	const struct track_obj_rec *o;
	/* Most objects are on the heap or a stack: no variable, whatever their size.  Only then
	 * is the record looked up (an address can have thousands: a stack slot reused). */
	if (sym == NULL || addr == 0 || track_sym_data(sym, addr, 0) == NULL)
		return NULL;
	if (kind == TRACK_OBJ_NONE && s != NULL && (o = track_snap_obj_at(s, addr)) != NULL)
		kind = o->kind;
	return track_sym_data(sym, addr, kind_size(kind));
}

const char *track_obj_label(const struct track_snap *s, struct track_symbolizer *sym,
			    uint64_t addr, uint32_t kind, char *buf, size_t len)
{
	const char *name = track_obj_name(s, sym, addr, kind);
	if (name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	return buf;
}

static int word_char(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

const char *track_finding_text(const struct track_snap *s, struct track_symbolizer *sym,
			       const struct track_finding_rec *f, char *buf, size_t len)
{
	const char *p = f->text, *end = f->text + strnlen(f->text, TRACK_FINDING_TEXT);
	size_t o = 0;
	if (len == 0)
		return buf;
	if (f->kind == TRACK_FK_JOIN_INVALID)   /* its address is a pthread_t: no object */
		sym = NULL;
	while (p < end && o + 1 < len) {
		/* "0x" and hex digits, not inside a word: an address the shim wrote */
		if (p[0] == '0' && p + 1 < end && p[1] == 'x' && (p == f->text || !word_char(p[-1]))) {
			const char *q = p + 2, *name;
			uint64_t v = 0;
			while (q < end && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')) &&
			       q - p < 18) {
				v = v * 16 + (uint64_t)(*q <= '9' ? *q - '0' : *q - 'a' + 10);
				q++;
			}
			if (q > p + 2 && (name = track_obj_name(s, sym, v, TRACK_OBJ_NONE)) != NULL) {
				int w = snprintf(buf + o, len - o, "%s", name);
				o = w < 0 || (size_t)w >= len - o ? len - 1 : o + (size_t)w;
				p = q;
				continue;
			}
		}
		buf[o++] = *p++;
	}
	buf[o] = '\0';
	return buf;
}

/* --- threads -------------------------------------------------------------------------------- */

int track_thread_started(const struct track_thread_rec *t)
{
	/* The creator claims the record (creator, start routine, creation stack) before the
	 * thread exists; the thread itself writes its tid when it first runs the shim's code. */
	return t->tid != 0;
}

/*
 * pprof.c — the pprof format: a gzipped profile.proto (tools/render/pprof.proto, encoded by
 * protobuf-c) with the two sample types of Go's mutex and block profiles,
 * contentions/count and delay/nanoseconds, so that `go tool pprof`, pprof and speedscope
 * read track's wait profiles as they read Go's.
 *
 * The samples are a view of the profiles (core/profstack.h: contention, blocking or
 * holding), one per stack.  Mappings are the snapshot's modules (build ids in hex, file
 * offset 0: the first loadable segment of an ELF file starts it); a location is one return
 * address of a stack (its address pc - 1, inside the call instruction) with its function,
 * file and line, inline frames as further lines of the same location, innermost first.
 * Above the outermost frame every sample has a location of no mapping whose function names
 * the object ("mutex g_hot"), and a process after the first (a child of track run's
 * program) one naming it ("pid N COMMAND"): flame graphs then split by object.  Every string
 * is in the string table once.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/profstack.h"
#include "render/pprof.pb-c.h"
#include "render/render.h"

#define INLINE_MAX 16

/* A map from a pair of numbers to an id (1-based), open-addressed; keys never removed. */
struct idmap {
	struct idslot {
		uint64_t a, b, id;
	} *v;
	size_t mask, n;
};

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull + (a << 6));
	h ^= h >> 29;
	return h * 0xbf58476d1ce4e5b9ull;
}

/* The id of (a, b), or 0; with id non-zero, set it if absent.  -1 without memory. */
static int64_t idmap_get(struct idmap *m, uint64_t a, uint64_t b, uint64_t id)
{
	size_t i;
	if (m->v == NULL || 2 * (m->n + 1) > m->mask) {
		size_t cap = m->v ? 2 * (m->mask + 1) : 256, k;
		struct idslot *v = calloc(cap, sizeof *v), *old = m->v;
		size_t oldcap = m->v ? m->mask + 1 : 0;
		if (v == NULL)
			return -1;
		m->v = v;
		m->mask = cap - 1;
		for (k = 0; k < oldcap; k++)
			if (old[k].id != 0) {
				for (i = mix(old[k].a, old[k].b) & m->mask; v[i].id; i = (i + 1) & m->mask)
					;
				v[i] = old[k];
			}
		free(old);
	}
	for (i = mix(a, b) & m->mask; m->v[i].id != 0; i = (i + 1) & m->mask)
		if (m->v[i].a == a && m->v[i].b == b)
			return (int64_t)m->v[i].id;
	if (id != 0) {
		m->v[i] = (struct idslot){a, b, id};
		m->n++;
	}
	return 0;
}

/* Room for element n of the growable array *v (capacity *cap, elements of size bytes);
 * 0, or -1 without memory (*v left as it was). */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *q;
	if (n < *cap)
		return 0;
	q = realloc(*v, (*cap ? 2 * *cap : 64) * size);
	if (q == NULL)
		return -1;
	*v = q;
	*cap = *cap ? 2 * *cap : 64;
	return 0;
}
/* The same for the array x of struct pprof p, with its n##x and cap##x. */
#define GROW(p, x) grow((void **)&(p)->x, &(p)->cap##x, (p)->n##x, sizeof *(p)->x)

struct pprof {
	FILE *out;
	struct track_render_opts o;
	int failed;
	char **strs;
	size_t nstrs, capstrs;
	struct idmap strmap, funcmap, locmap;
	TrackPprof__Function *funcs;
	size_t nfuncs, capfuncs;
	TrackPprof__Location *locs;
	size_t nlocs, caplocs;
	TrackPprof__Mapping *maps;
	size_t nmaps, capmaps;
	TrackPprof__Sample *samples;
	size_t nsamples, capsamples;
	int64_t time_nanos, duration_nanos;
	/* the process being added */
	struct track_view *v;
	size_t index;
	uint64_t map_base;   /* mapping id of its module 0, minus 1 */
	uint64_t proc_loc;   /* location naming it (processes after the first), or 0 */
};

/* A lookup's id; -1 (no memory) marks the profile failed and counts as found (id 1), so
 * that nothing is added after memory ran out. */
static int64_t found(struct pprof *p, int64_t id)
{
	if (id >= 0)
		return id;
	p->failed = 1;
	return 1;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* The string table index of s, added if new. */
static int64_t str_id(struct pprof *p, const char *s)
{
	uint64_t h = hash_str(s), salt;
	int64_t id;
	if (s[0] == '\0')
		return 0;
	/* strings of equal hash are told apart by a salt: (hash, 0), (hash, 1), ... */
	for (salt = 0;; salt++) {
		id = idmap_get(&p->strmap, h, salt, 0);
		if (id < 0)
			goto fail;
		if (id == 0)
			break;
		if (strcmp(p->strs[id], s) == 0)
			return id;
	}
	if (GROW(p, strs) != 0 ||
	    (p->strs[p->nstrs] = strdup(s)) == NULL ||
	    idmap_get(&p->strmap, h, salt, p->nstrs) < 0)
		goto fail;
	return (int64_t)p->nstrs++;
fail:
	p->failed = 1;
	return 0;
}

/* The function of this name in this file, added if new; its id. */
static uint64_t func_id(struct pprof *p, const char *name, const char *file)
{
	int64_t n = str_id(p, name), f = str_id(p, file ? file : ""), id;
	TrackPprof__Function init = TRACK_PPROF__FUNCTION__INIT;
	id = found(p, idmap_get(&p->funcmap, (uint64_t)n, (uint64_t)f, 0));
	if (id != 0)
		return (uint64_t)id;
	if (GROW(p, funcs) != 0) {
		p->failed = 1;
		return 0;
	}
	init.id = p->nfuncs + 1;
	init.name = init.system_name = n;
	init.filename = f;
	p->funcs[p->nfuncs++] = init;
	if (idmap_get(&p->funcmap, (uint64_t)n, (uint64_t)f, init.id) < 0)
		p->failed = 1;
	return init.id;
}

/* A new location with its lines (innermost first) taken from fr[0..n); its id. */
static uint64_t new_loc(struct pprof *p, uint64_t mapping, uint64_t address,
			const struct track_frame *fr, int n)
{
	TrackPprof__Location init = TRACK_PPROF__LOCATION__INIT;
	char buf[512];
	int k;
	if (GROW(p, locs) != 0 ||
	    (init.line = calloc((size_t)n, sizeof *init.line)) == NULL)
		goto fail;
	init.id = p->nlocs + 1;
	init.mapping_id = mapping;
	init.address = address;
	for (k = 0; k < n; k++) {
		TrackPprof__Line line = TRACK_PPROF__LINE__INIT;
		const char *name = fr[k].function ? fr[k].function
						  : track_sym_format(&fr[k], buf, sizeof buf);
		if ((init.line[k] = malloc(sizeof line)) == NULL)
			goto fail;
		init.n_line++;
		line.function_id = func_id(p, name, fr[k].file);
		line.line = fr[k].line;
		*init.line[k] = line;
	}
	p->locs[p->nlocs++] = init;
	return init.id;
fail:
	p->failed = 1;
	return 0;
}

/* The location of a frame that only names something (an object, a process). */
static uint64_t name_loc(struct pprof *p, const char *name)
{
	struct track_frame fr = {.function = name};
	uint64_t f = func_id(p, name, NULL);
	int64_t id = found(p, idmap_get(&p->locmap, UINT64_MAX, f, 0));
	if (id != 0)
		return (uint64_t)id;
	id = (int64_t)new_loc(p, 0, 0, &fr, 1);
	if (idmap_get(&p->locmap, UINT64_MAX, f, (uint64_t)id) < 0)
		p->failed = 1;
	return (uint64_t)id;
}

/* The mapping id of the module holding pc in the process being added, or 0. */
static uint64_t mapping_of(const struct pprof *p, uint64_t pc)
{
	const struct track_snap *s = p->v->snap;
	uint32_t i;
	for (i = 0; i < s->nmods; i++)
		if ((s->mods[i].flags & TRACK_MF_VALID) && pc >= s->mods[i].lo && pc < s->mods[i].hi)
			return p->map_base + i + 1;
	return 0;
}

/* The location of return address pc in the process being added. */
static uint64_t pc_loc(struct pprof *p, uint64_t pc)
{
	struct track_symbolizer *sym = track_view_sym(p->v);
	struct track_frame fr[INLINE_MAX];
	int64_t id = found(p, idmap_get(&p->locmap, p->index, pc, 0));
	int n = 1;
	if (id != 0)
		return (uint64_t)id;
	if (sym != NULL)
		n = track_sym_lookup(sym, pc, 1, fr, INLINE_MAX);
	else
		fr[0] = (struct track_frame){.pc = pc};
	id = (int64_t)new_loc(p, mapping_of(p, pc), pc - 1, fr, n);
	if (idmap_get(&p->locmap, p->index, pc, (uint64_t)id) < 0)
		p->failed = 1;
	return (uint64_t)id;
}

static void pprof_stack(const struct track_prof_stack *st, void *ctx)
{
	struct pprof *p = ctx;
	TrackPprof__Sample init = TRACK_PPROF__SAMPLE__INIT;
	size_t i, n = st->npcs + 2;
	if (GROW(p, samples) != 0 ||
	    (init.location_id = calloc(n, sizeof *init.location_id)) == NULL ||
	    (init.value = calloc(2, sizeof *init.value)) == NULL) {
		free(init.location_id);
		p->failed = 1;
		return;
	}
	for (i = 0; i < st->npcs; i++)
		init.location_id[init.n_location_id++] = pc_loc(p, st->pcs[i]);
	init.location_id[init.n_location_id++] = name_loc(p, st->object);
	if (p->proc_loc != 0)
		init.location_id[init.n_location_id++] = p->proc_loc;
	init.n_value = 2;
	init.value[0] = (int64_t)st->count;
	init.value[1] = (int64_t)st->total_ns;
	p->samples[p->nsamples++] = init;
}

/* The snapshot's modules as mappings, numbered from p->map_base + 1. */
static void add_mappings(struct pprof *p, const struct track_snap *s)
{
	uint32_t i, k;
	p->map_base = p->nmaps;
	for (i = 0; i < s->nmods; i++) {
		TrackPprof__Mapping m = TRACK_PPROF__MAPPING__INIT;
		const struct track_module_rec *r = &s->mods[i];
		char id[2 * TRACK_BUILD_ID_MAX + 1] = "";
		if (GROW(p, maps) != 0) {
			p->failed = 1;
			return;
		}
		for (k = 0; k < r->build_id_len && k < TRACK_BUILD_ID_MAX; k++)
			snprintf(id + 2 * k, 3, "%02x", r->build_id[k]);
		m.id = p->nmaps + 1;
		if (r->flags & TRACK_MF_VALID) {
			m.memory_start = r->lo;
			m.memory_limit = r->hi;
			m.filename = str_id(p, r->path);
			m.build_id = str_id(p, id);
			m.has_functions = m.has_filenames = m.has_line_numbers = 1;
			m.has_inline_frames = 1;
		}
		p->maps[p->nmaps++] = m;
	}
}

static void *pprof_begin(FILE *out, const struct track_render_opts *o)
{
	struct pprof *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->out = out;
	p->o = *o;
	p->nstrs = 1;   /* entry 0, "" */
	p->strs = calloc(64, sizeof *p->strs);
	p->capstrs = 64;
	if (p->strs == NULL || (p->strs[0] = strdup("")) == NULL) {
		free(p->strs);
		free(p);
		return NULL;
	}
	return p;
}

static void pprof_process(void *state, struct track_view *v, size_t index)
{
	struct pprof *p = state;
	char name[64];
	int exact;
	p->v = v;
	p->index = index;
	p->proc_loc = 0;
	if (index == 0) {
		p->time_nanos = (int64_t)v->snap->hdr.start_realtime_ns;
		p->duration_nanos = (int64_t)track_duration_ns(v, &exact);
	} else {
		p->proc_loc = name_loc(p, track_proc_frame(&v->snap->hdr, index, name, sizeof name));
	}
	add_mappings(p, v->snap);
	track_prof_stacks(v, (enum track_prof_view)p->o.view, pprof_stack, p);
	p->v = NULL;
}

/* Pointers to each element of the array v of n elements of size bytes (malloc'd). */
static void **pointers(void *v, size_t n, size_t size)
{
	void **ptrs = malloc((n ? n : 1) * sizeof *ptrs);
	size_t i;
	for (i = 0; ptrs != NULL && i < n; i++)
		ptrs[i] = (char *)v + i * size;
	return ptrs;
}

/* buf[0..len) gzipped to out; 0, or -1. */
static int write_gzip(FILE *out, const uint8_t *buf, size_t len)
{
	z_stream z = {0};
	uLong cap;
	uint8_t *gz;
	int rc = -1;
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	cap = deflateBound(&z, (uLong)len);
	if ((gz = malloc(cap)) != NULL) {
		z.next_in = (Bytef *)buf;
		z.avail_in = (uInt)len;
		z.next_out = gz;
		z.avail_out = (uInt)cap;
		if (deflate(&z, Z_FINISH) == Z_STREAM_END)
			rc = fwrite(gz, 1, z.total_out, out) == z.total_out ? 0 : -1;
		free(gz);
	}
	deflateEnd(&z);
	return rc;
}

/* The profile packed and written; 0, or -1. */
static int pprof_write(struct pprof *p)
{
	TrackPprof__Profile prof = TRACK_PPROF__PROFILE__INIT;
	TrackPprof__ValueType types[2] = {TRACK_PPROF__VALUE_TYPE__INIT,
					  TRACK_PPROF__VALUE_TYPE__INIT};
	TrackPprof__ValueType period = TRACK_PPROF__VALUE_TYPE__INIT;
	TrackPprof__ValueType *type_ptrs[2] = {&types[0], &types[1]};
	uint8_t *buf;
	size_t len;
	int rc = -1;
	types[0].type = period.type = str_id(p, "contentions");
	types[0].unit = period.unit = str_id(p, "count");
	types[1].type = str_id(p, "delay");
	types[1].unit = str_id(p, "nanoseconds");
	prof.n_sample_type = 2;
	prof.sample_type = type_ptrs;
	prof.period_type = &period;
	prof.period = 1;
	prof.time_nanos = p->time_nanos;
	prof.duration_nanos = p->duration_nanos;
	prof.n_sample = p->nsamples;
	prof.sample = (TrackPprof__Sample **)pointers(p->samples, p->nsamples, sizeof *p->samples);
	prof.n_mapping = p->nmaps;
	prof.mapping = (TrackPprof__Mapping **)pointers(p->maps, p->nmaps, sizeof *p->maps);
	prof.n_location = p->nlocs;
	prof.location = (TrackPprof__Location **)pointers(p->locs, p->nlocs, sizeof *p->locs);
	prof.n_function = p->nfuncs;
	prof.function = (TrackPprof__Function **)pointers(p->funcs, p->nfuncs, sizeof *p->funcs);
	prof.n_string_table = p->nstrs;
	prof.string_table = p->strs;
	if (!p->failed && prof.sample && prof.mapping && prof.location && prof.function) {
		len = track_pprof__profile__get_packed_size(&prof);
		if ((buf = malloc(len ? len : 1)) != NULL) {
			track_pprof__profile__pack(&prof, buf);
			rc = write_gzip(p->out, buf, len);
			free(buf);
		}
	}
	free(prof.sample);
	free(prof.mapping);
	free(prof.location);
	free(prof.function);
	return rc;
}

static void pprof_free(struct pprof *p)
{
	size_t i, k;
	for (i = 0; i < p->nsamples; i++) {
		free(p->samples[i].location_id);
		free(p->samples[i].value);
	}
	for (i = 0; i < p->nlocs; i++) {
		for (k = 0; k < p->locs[i].n_line; k++)
			free(p->locs[i].line[k]);
		free(p->locs[i].line);
	}
	for (i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p->samples);
	free(p->locs);
	free(p->funcs);
	free(p->maps);
	free(p->strmap.v);
	free(p->funcmap.v);
	free(p->locmap.v);
	free(p);
}

static int pprof_end(void *state)
{
	struct pprof *p = state;
	int rc = pprof_write(p);
	pprof_free(p);
	return rc;
}

const struct track_renderer track_pprof_renderer = {"pprof", pprof_begin, pprof_process,
						    pprof_end};

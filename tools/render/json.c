/*
 * json.c — the JSON renderer: one object per process with "process", "threads" (totals and
 * a list), "locks", "condvars", "semaphores", "barriers", "findings" and "overflow"; the
 * processes after the first are the first's "other_processes".  Field names and
 * meanings are a documented, stable interface (README, "JSON report"); new fields may be
 * added, existing ones keep their meaning.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/findings.h"
#include "core/profile.h"
#include "render/json.h"
#include "track/env.h"
#include "render/render.h"

static json_t *hex(uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 if there is none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||   /* overlong, */
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))    /* surrogate, */
		return 0;                                                        /* > U+10FFFF */
	return len;
}

json_t *track_json_text(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	json_t *j = json_stringn(p, n);
	char *buf;
	size_t i = 0, k = 0;
	if (j != NULL)
		return j;
	/* Not UTF-8 (names and arguments are bytes): each byte that is not part of a valid
	 * sequence becomes the four characters \xHH. */
	buf = malloc(4 * n + 1);
	if (buf == NULL)
		return json_null();
	while (i < n) {
		size_t len = utf8_len(u + i, n - i);
		if (len == 0) {
			k += (size_t)sprintf(buf + k, "\\x%02x", u[i]);
			i++;
		} else {
			memcpy(buf + k, u + i, len);
			k += len;
			i += len;
		}
	}
	j = json_stringn(buf, k);
	free(buf);
	return j != NULL ? j : json_null();
}

/* Copy a fixed-size, possibly unterminated, field into a JSON string. */
static json_t *fixed_str(const char *p, size_t max)
{
	return track_json_text(p, strnlen(p, max));
}

/* A NUL-terminated string from the target or the file system, into JSON whole. */
static json_t *text(const char *p)
{
	return track_json_text(p, strlen(p));
}

static void set_frame(json_t *o, const struct track_frame *f)
{
	if (f->function) {
		json_object_set_new(o, "function", text(f->function));
		json_object_set_new(o, "offset", u64(f->offset));
	}
	if (f->file) {
		json_object_set_new(o, "file", text(f->file));
		json_object_set_new(o, "line", json_integer(f->line));
	}
	if (f->module)
		json_object_set_new(o, "module", text(f->module));
}

/* A location from its symbolized entries f[0..n) (innermost first). */
static json_t *frames_json(struct track_symbolizer *sym, uint64_t pc, const struct track_frame *f,
			   int n)
{
	json_t *o;
	int i;
	if (pc == 0)
		return json_null();
	o = json_object();
	json_object_set_new(o, "pc", hex(n > 0 && f[0].pc != 0 ? f[0].pc : pc));
	if (sym == NULL || n <= 0)
		return o;
	set_frame(o, &f[0]);
	if (n > 1) {
		/* Functions the location was inlined into, innermost first. */
		json_t *into = json_array();
		for (i = 1; i < n; i++) {
			json_t *e = json_object();
			set_frame(e, &f[i]);
			json_array_append_new(into, e);
		}
		json_object_set_new(o, "inlined_into", into);
	}
	return o;
}

json_t *track_json_location(struct track_symbolizer *sym, uint64_t pc, int is_return)
{
	struct track_frame f[8];
	int n = sym != NULL && pc != 0 ? track_sym_lookup(sym, pc, is_return, f, 8) : 0;
	return frames_json(sym, pc, f, n);
}

json_t *track_json_site(const struct track_snap *s, struct track_symbolizer *sym, uint64_t pc,
			uint32_t stack)
{
	struct track_frame f[8];
	int n = sym != NULL && pc != 0 ? track_site(s, sym, pc, stack, f, 8) : 0;
	return frames_json(sym, pc, f, n);
}

json_t *track_json_site_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n)
{
	struct track_frame f[8];
	int k = sym != NULL ? track_site_pcs(sym, pcs, n, f, 8) : 0;
	return frames_json(sym, n > 0 ? pcs[0] : 0, f, k);
}

json_t *track_json_obj_name(const struct track_snap *s, struct track_symbolizer *sym,
			    uint64_t addr, uint32_t kind)
{
	const char *name = track_obj_name(s, sym, addr, kind);
	return name != NULL ? text(name) : NULL;
}

/* o[key] = the name of the object at addr, when it has one. */
static void set_obj_name(json_t *o, const char *key, const struct track_snap *s,
			 struct track_symbolizer *sym, uint64_t addr, uint32_t kind)
{
	json_t *name = track_json_obj_name(s, sym, addr, kind);
	if (name != NULL)
		json_object_set_new(o, key, name);
}

json_t *track_json_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n)
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < n; i++)
		json_array_append_new(a, track_json_location(sym, pcs[i], 1));
	return a;
}

json_t *track_json_stack(const struct track_snap *s, struct track_symbolizer *sym, uint32_t id)
{
	const struct track_stack_rec *st = track_snap_stack(s, id);
	return st != NULL ? track_json_pcs(sym, st->frames, st->nframes) : json_null();
}

/* The figures of one group of the counter table (core/counters.h), by name. */
static json_t *counters_json(const struct track_snap *s, enum track_counter_group group)
{
	json_t *o = json_object();
	size_t i;
	for (i = 0; i < track_ncounters; i++)
		if (track_counters[i].group == group)
			json_object_set_new(o, track_counters[i].name,
					    u64(track_counters[i].value(s)));
	return o;
}

json_t *track_json_argv(const struct track_seg_header *h)
{
	json_t *a = json_array();
	size_t n = h->cmdline_len < sizeof h->cmdline ? h->cmdline_len : sizeof h->cmdline;
	size_t i = 0;
	while (i < n) {
		size_t len = strnlen(h->cmdline + i, n - i);
		json_array_append_new(a, track_json_text(h->cmdline + i, len));
		i += len + 1;
	}
	return a;
}

static const char *const end_names[] = {
	[TRACK_END_RUNNING] = "running",   [TRACK_END_EXIT] = "exit",
	[TRACK_END_QUICK_EXIT] = "_exit",  [TRACK_END_DEADLOCK] = "deadlock",
	[TRACK_END_EXEC] = "exec",         [TRACK_END_REAPED] = "reaped",
	[TRACK_END_UNKNOWN] = "unknown",
};

static json_t *env_refused_json(const struct track_seg_header *h)
{
	const char *names[TRACK_ENV_COUNT];
	int n = track_env_refused(h, names, TRACK_ENV_COUNT), i;
	json_t *a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *process_json(struct track_view *v)
{
	const struct track_snap *s = v->snap;
	const struct track_seg_header *h = &s->hdr;
	json_t *p = json_object();
	struct track_end e;
	int exact;
	track_view_end(v, &e);
	json_object_set_new(p, "pid", json_integer(h->pid));
	json_object_set_new(p, "ppid", json_integer(h->ppid));
	json_object_set_new(p, "uid", json_integer(h->uid));
	json_object_set_new(p, "exe", fixed_str(h->exe, sizeof h->exe));
	json_object_set_new(p, "argv", track_json_argv(h));
	json_object_set_new(p, "exec_generation", json_integer(h->exec_gen));
	json_object_set_new(p, "start_unix_ns", u64(h->start_realtime_ns));
	json_object_set_new(p, "duration_ns", u64(track_duration_ns(v, &exact)));
	json_object_set_new(p, "duration_exact", json_boolean(exact));
	json_object_set_new(p, "running", json_boolean(s->alive));
	json_object_set_new(p, "ended_by", json_string(end_names[e.kind]));
	json_object_set_new(p, "called_exit", json_boolean(h->proc_state == TRACK_PS_EXITED));
	json_object_set_new(p, "exit_code", e.code_known ? json_integer(e.code) : json_null());
	json_object_set_new(p, "signal", e.signal ? json_integer(e.signal) : json_null());
	json_object_set_new(p, "env_refused", env_refused_json(h));
	json_object_set_new(p, "segment", text(s->path));
	json_object_set_new(p, "hold_sample", json_integer(h->hold_sample));
	return p;
}

static json_t *thread_json(struct track_view *v, const struct track_thread_rec *t,
			   struct track_symbolizer *sym)
{
	const struct track_snap *s = v->snap;
	json_t *o = json_object(), *flags = json_array(), *held = json_array(),
	       *held_names = json_array();
	uint32_t i, n = t->nheld < TRACK_HELD_MAX ? t->nheld : TRACK_HELD_MAX;
	const char *fnames[32];
	int k, nf = track_thread_flag_names(t->flags, fnames, 32);
	int started = track_thread_started(t);
	/* A thread that had not started yet has no tid and is in no state of its own. */
	json_object_set_new(o, "tid", started ? json_integer(t->tid) : json_null());
	json_object_set_new(o, "name", fixed_str(t->name, TRACK_NAME_MAX));
	json_object_set_new(o, "state", json_string(started || t->state == TRACK_TS_EXITED
							    ? track_state_name(t->state)
							    : "not-started"));
	json_object_set_new(o, "alive_at_exit", json_boolean(track_thread_outlived(s, t)));
	for (k = 0; k < nf; k++)
		json_array_append_new(flags, json_string(fnames[k]));
	json_object_set_new(o, "flags", flags);
	json_object_set_new(o, "creator_tid", json_integer(t->creator_tid));
	json_object_set_new(o, "start_routine", track_json_location(sym, t->start_routine, 0));
	json_object_set_new(o, "created_at",
			    track_json_site(s, sym, t->create_pc, t->create_stack));
	json_object_set_new(o, "created_stack", track_json_stack(s, sym, t->create_stack));
	json_object_set_new(o, "created_ns", u64(t->created_ns > s->hdr.start_mono_ns
						       ? t->created_ns - s->hdr.start_mono_ns : 0));
	json_object_set_new(o, "exited_ns", t->exited_ns ? u64(t->exited_ns - s->hdr.start_mono_ns)
							 : json_null());
	json_object_set_new(o, "contended", u64(t->contended));
	json_object_set_new(o, "wait_ns", u64(t->wait_ns));
	if (t->state != TRACK_TS_RUNNING && t->state != TRACK_TS_EXITED) {
		json_t *w = json_object();
		json_object_set_new(w, "object", hex(t->wait_obj));
		uint64_t for_ns;
		int exact;
		if (t->state != TRACK_TS_JOIN)
			set_obj_name(w, "object_name", s, sym, t->wait_obj, TRACK_OBJ_NONE);
		json_object_set_new(w, "since_ns", u64(t->since_ns - s->hdr.start_mono_ns));
		for_ns = track_state_ns(v, t->since_ns, &exact);
		json_object_set_new(w, "for_ns", u64(for_ns));
		json_object_set_new(w, "for_exact", json_boolean(exact));
		if (track_join_target(s, t) != 0)
			json_object_set_new(w, "tid", json_integer(track_join_target(s, t)));
		json_object_set_new(w, "stack", track_json_stack(s, sym, t->wait_stack));
		json_object_set_new(o, "waiting", w);
	}
	for (i = 0; i < n; i++) {
		uint32_t idx = (t->held[i] & ~TRACK_HELD_READ);
		json_t *name;
		if (idx < 1 || idx > s->nobjs)
			continue;
		json_array_append_new(held, hex(s->objs[idx - 1].addr));
		name = track_json_obj_name(s, sym, s->objs[idx - 1].addr, s->objs[idx - 1].kind);
		json_array_append_new(held_names, name != NULL ? name : json_null());
	}
	json_object_set_new(o, "held_locks", held);
	json_object_set_new(o, "held_lock_names", held_names);
	return o;
}

json_t *track_json_thread(struct track_view *v, const struct track_thread_rec *t)
{
	return thread_json(v, t, track_view_sym(v));
}

static json_t *threads_json(struct track_view *v, struct track_symbolizer *sym)
{
	const struct track_snap *s = v->snap;
	json_t *o = counters_json(s, TRACK_CG_THREADS), *list = json_array();
	uint32_t i;
	for (i = 0; i < s->nthreads; i++)
		if (s->threads[i].state != TRACK_TS_UNUSED)
			json_array_append_new(list, thread_json(v, &s->threads[i], sym));
	json_object_set_new(o, "list", list);
	return o;
}

/* An object's record; for a lock, row has its figures with unfinished waits counted. */
static json_t *object_json(struct track_view *v, const struct track_prof_index *ix,
			   const struct track_obj_rec *r, const struct track_lock_row *row)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	json_t *o = json_object();
	json_object_set_new(o, "address", hex(r->addr));
	set_obj_name(o, "name", s, sym, r->addr, r->kind);
	json_object_set_new(o, "kind", json_string(track_kind_name(r->kind)));
	if (r->kind == TRACK_OBJ_MUTEX) {   /* read from the mutex at its init or first use */
		json_object_set_new(o, "type", json_string(track_mutex_type_name(r->subtype)));
		json_object_set_new(o, "process_shared",
				    json_boolean(r->subtype & TRACK_MUTEX_PSHARED));
	}
	json_object_set_new(o, "live", json_boolean(r->flags & TRACK_OF_LIVE));
	json_object_set_new(o, "freed", json_boolean(r->flags & TRACK_OF_FREED));
	json_object_set_new(o, "static_init", json_boolean(r->flags & TRACK_OF_STATIC));
	json_object_set_new(o, "first_use", track_json_site(s, sym, r->first_pc, r->first_stack));
	json_object_set_new(o, "first_use_stack", track_json_stack(s, sym, r->first_stack));
	json_object_set_new(o, "first_tid", json_integer(r->first_tid));
	switch (r->kind) {
	case TRACK_OBJ_COND:
		json_object_set_new(o, "waits", u64(r->acquisitions));
		json_object_set_new(o, "signals", u64(r->signals));
		json_object_set_new(o, "broadcasts", u64(r->broadcasts));
		json_object_set_new(o, "idle_signals", u64(r->idle_wakes));
		break;
	case TRACK_OBJ_SEM:
		json_object_set_new(o, "waits", u64(r->acquisitions));
		json_object_set_new(o, "blocked_waits", u64(r->contended));
		json_object_set_new(o, "posts", u64(r->signals));
		json_object_set_new(o, "value", json_integer(r->sem_value));
		break;
	case TRACK_OBJ_BARRIER:
		json_object_set_new(o, "waits", u64(r->acquisitions));
		break;
	default:
		json_object_set_new(o, "acquisitions", u64(r->acquisitions));
		json_object_set_new(o, "contended", u64(row ? row->contended : r->contended));
		json_object_set_new(o, "max_wait_ns", u64(row ? row->max_wait_ns : r->max_wait_ns));
		json_object_set_new(o, "blocked_now", u64(row ? row->waiting : 0));
		json_object_set_new(o, "owner_tid", r->owner_tid ? json_integer(r->owner_tid)
								: json_null());
		if (r->kind == TRACK_OBJ_RWLOCK)
			json_object_set_new(o, "readers", u64(r->readers));
	}
	json_object_set_new(o, "wait_ns", u64(row ? row->wait_ns : r->wait_ns));
	json_object_set_new(o, "timeouts", u64(r->timeouts));
	json_object_set_new(o, "waiters", u64(r->waiters));
	json_object_set_new(o, "peak_waiters", u64(r->peak_waiters));
	json_object_set_new(o, "wait", track_json_dist(track_prof_own(ix, r, TRACK_PR_WAIT)));
	json_object_set_new(o, "wait_sites", track_json_sites(v, ix, r, TRACK_PR_WAIT_SITE));
	if (track_kind_is_lock(r->kind)) {
		json_object_set_new(o, "hold", track_json_dist(track_prof_own(ix, r, TRACK_PR_HOLD)));
		json_object_set_new(o, "hold_sites", track_json_sites(v, ix, r, TRACK_PR_HOLD_SITE));
	}
	return o;
}

static void objects_json(json_t *root, struct track_view *view, int by)
{
	const struct track_snap *s = view->snap;
	json_t *locks = json_array(), *conds = json_array(), *sems = json_array(),
	       *barriers = json_array();
	struct track_lock_row *v;
	struct track_prof_index ix;
	size_t n = track_lock_rows_by(view, (enum track_lock_sort)by, &v), i;
	track_prof_index_init(&ix, s);
	for (i = 0; i < n; i++)
		json_array_append_new(locks, object_json(view, &ix, v[i].rec, &v[i]));
	free(v);
	for (i = 0; i < s->nobjs; i++) {
		const struct track_obj_rec *r = &s->objs[i];
		json_t *dst = r->kind == TRACK_OBJ_COND ? conds
			      : r->kind == TRACK_OBJ_SEM ? sems
			      : r->kind == TRACK_OBJ_BARRIER ? barriers : NULL;
		if (dst != NULL && track_obj_used(r))
			json_array_append_new(dst, object_json(view, &ix, r, NULL));
	}
	json_object_set_new(root, "joins", track_json_joins(view, &ix));
	track_prof_index_fini(&ix);
	json_object_set_new(root, "locks", locks);
	json_object_set_new(root, "condvars", conds);
	json_object_set_new(root, "semaphores", sems);
	json_object_set_new(root, "barriers", barriers);
}

/* One end of an edge: "from"/"to" (address, or null if its record now describes another
 * object), "from_name"/"to_name" (when it has one), "from_kind"/"to_kind" and
 * "from_first_use"/"to_first_use". */
static void set_edge_lock(json_t *o, const struct track_snap *s, struct track_symbolizer *sym,
			  const struct track_edge_rec *e, int to)
{
	const struct track_obj_rec *r = track_edge_lock(s, e, to);
	char key[32];
	const char *end = to ? "to" : "from";
	json_object_set_new(o, end, r != NULL ? hex(r->addr) : json_null());
	snprintf(key, sizeof key, "%s_name", end);
	if (r != NULL)
		set_obj_name(o, key, s, sym, r->addr, r->kind);
	snprintf(key, sizeof key, "%s_kind", end);
	json_object_set_new(o, key, r != NULL ? json_string(track_kind_name(r->kind)) : json_null());
	snprintf(key, sizeof key, "%s_first_use", end);
	json_object_set_new(o, key, r != NULL ? track_json_site(s, sym, r->first_pc, r->first_stack)
					      : json_null());
}

static json_t *edge_json(struct track_view *v, const struct track_edge_rec *e)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	json_t *o = json_object();
	uint64_t from[TRACK_FROM_STACK_MAX];
	int partial;
	size_t n = track_edge_from_stack(v, e, from, TRACK_FROM_STACK_MAX, &partial);
	set_edge_lock(o, s, sym, e, 0);
	set_edge_lock(o, s, sym, e, 1);
	json_object_set_new(o, "class", json_boolean(track_edge_by_class(s, e)));
	json_object_set_new(o, "tid", json_integer(e->tid));
	json_object_set_new(o, "from_location", track_json_site_pcs(sym, from, n));
	json_object_set_new(o, "to_location", track_json_site(s, sym, e->to_pc, e->to_stack));
	json_object_set_new(o, "to_stack", track_json_stack(s, sym, e->to_stack));
	json_object_set_new(o, "from_stack", track_json_pcs(sym, from, n));
	json_object_set_new(o, "from_stack_partial", json_boolean(partial));
	return o;
}

static void set_cycle(json_t *o, struct track_view *v, const struct track_finding_rec *f)
{
	json_t *cycle = json_array();
	uint32_t i, n = track_finding_items(f);
	for (i = 0; i < n; i++) {
		const struct track_edge_rec *e = track_snap_edge(v->snap, track_finding_edge(v->snap, f, i));
		json_array_append_new(cycle, e != NULL ? edge_json(v, e) : json_null());
	}
	json_object_set_new(o, "cycle", cycle);
	json_object_set_new(o, "gated_by", f->gate ? hex(f->gate) : json_null());
	if (f->gate)
		set_obj_name(o, "gated_by_name", v->snap, track_view_sym(v), f->gate,
			     TRACK_OBJ_NONE);
}

static void set_deadlock(json_t *o, const struct track_snap *s, struct track_symbolizer *sym,
			 const struct track_finding_rec *f)
{
	json_t *threads = json_array();
	uint32_t i, n = track_finding_items(f);
	for (i = 0; i < n; i++) {
		json_t *t = json_object();
		struct track_wait w;
		track_deadlock_wait(s, f, i, &w);
		json_object_set_new(t, "tid", json_integer(w.tid));
		json_object_set_new(t, "name", w.thread != NULL ? fixed_str(w.thread->name,
									    TRACK_NAME_MAX)
							       : json_null());
		json_object_set_new(t, "waits_on", hex(w.object));
		if (!w.join)
			set_obj_name(t, "waits_on_name", s, sym, w.object, TRACK_OBJ_NONE);
		json_object_set_new(t, "object_kind", json_string(w.kind));
		json_object_set_new(t, "held_by", json_integer(w.held_by));
		json_object_set_new(t, "behind_queued_writer", json_boolean(w.queued_writer));
		json_object_set_new(t, "stack", track_json_stack(s, sym, w.stack));
		json_array_append_new(threads, t);
	}
	json_object_set_new(o, "threads", threads);
}

/* A stall's details: the waiter's state and wait, the threshold, and the thread it waits for
 * ("other": the lock's owner or the thread joined, or null). */
static void set_stall(json_t *o, struct track_view *v, const struct track_finding_rec *f)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	json_t *st = json_object(), *other = json_null();
	json_object_set_new(st, "state",
			    json_string(track_state_name(f->edges[TRACK_STALL_WAITER_STATE])));
	json_object_set_new(st, "threshold_ns", u64(f->objs[TRACK_STALL_THRESHOLD]));
	json_object_set_new(st, "seen_after_ns", u64(f->when_ns - f->objs[TRACK_STALL_SINCE]));
	if (f->other_tid) {
		other = json_object();
		json_object_set_new(other, "tid", json_integer(f->other_tid));
		json_object_set_new(other, "role", json_string(
			f->edges[TRACK_STALL_WAITER_STATE] == TRACK_TS_JOIN ? "joined" : "owner"));
		json_object_set_new(other, "state",
				    json_string(track_state_name(f->edges[TRACK_STALL_OTHER_STATE])));
		json_object_set_new(other, "waits_on", f->objs[TRACK_STALL_OTHER_OBJ]
				    ? hex(f->objs[TRACK_STALL_OTHER_OBJ]) : json_null());
		json_object_set_new(other, "stack", track_json_stack(s, sym, f->other_stack));
		json_object_set_new(other, "took_lock_at", f->objs[TRACK_STALL_OTHER_PC]
				    ? track_json_location(sym, f->objs[TRACK_STALL_OTHER_PC], 1)
				    : json_null());
	}
	json_object_set_new(st, "other", other);
	json_object_set_new(o, "stall", st);
}

/* A thread limit's figures and the creation sites with the most live threads. */
static void set_thread_limit(json_t *o, struct track_view *v, const struct track_finding_rec *f)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	json_t *tl = json_object(), *sites = json_array();
	uint32_t i, n = track_finding_items(f);
	json_object_set_new(tl, "alive", json_integer(f->tids[TRACK_LIMIT_ALIVE]));
	json_object_set_new(tl, "limit", json_integer(f->tids[TRACK_LIMIT_LIMIT]));
	for (i = 0; i < n; i++) {
		json_t *site = json_object();
		json_object_set_new(site, "threads", u64(f->objs[i]));
		const struct track_stack_rec *st = track_snap_stack(s, f->stacks[i]);
		json_object_set_new(site, "location", st != NULL
				    ? track_json_site_pcs(sym, st->frames, st->nframes) : json_null());
		json_object_set_new(site, "stack", track_json_stack(s, sym, f->stacks[i]));
		json_array_append_new(sites, site);
	}
	json_object_set_new(tl, "sites", sites);
	json_object_set_new(tl, "other_threads", json_integer(f->tids[TRACK_LIMIT_OTHER]));
	json_object_set_new(o, "thread_limit", tl);
}

static json_t *finding_json(struct track_view *v, const struct track_finding_rec *f)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	json_t *o = json_object();
	char msg[TRACK_FINDING_TEXT + 256];
	json_object_set_new(o, "kind", json_string(track_finding_name(f->kind)));
	json_object_set_new(o, "severity", json_string(track_severity_name(f->severity)));
	json_object_set_new(o, "message", text(track_finding_text(s, sym, f, msg, sizeof msg)));
	json_object_set_new(o, "tid", json_integer(f->tid));
	json_object_set_new(o, "count", u64(f->count));
	if (f->obj) {
		json_object_set_new(o, "object", hex(f->obj));
		if (f->kind != TRACK_FK_JOIN_INVALID)   /* its object is a pthread_t */
			set_obj_name(o, "object_name", s, sym, f->obj, f->obj_kind);
	}
	if (f->other_tid)
		json_object_set_new(o, "other_tid", json_integer(f->other_tid));
	json_object_set_new(o, "location", track_json_site(s, sym, f->pc, f->stack));
	json_object_set_new(o, "stack", track_json_stack(s, sym, f->stack));
	if (f->kind == TRACK_FK_LOCK_ORDER)
		set_cycle(o, v, f);
	else if (f->kind == TRACK_FK_DEADLOCK)
		set_deadlock(o, s, sym, f);
	else if (f->kind == TRACK_FK_STALL)
		set_stall(o, v, f);
	else if (f->kind == TRACK_FK_THREAD_LIMIT)
		set_thread_limit(o, v, f);
	return o;
}

/* "findings" (those shown) and "suppressed" (how many suppressions hid). */
/* In the report's order (core/findings.h), each with its summary and, for a cycle through
 * the same code sites as an earlier one, "same_sites_as": that one's position. */
static void findings_json(json_t *root, struct track_view *v)
{
	json_t *a = json_array();
	struct track_finding_entry *e;
	struct track_tally t;
	size_t n = track_findings_list(v, &e), i, k;
	char line[2048];
	track_findings_tally(v, &t);
	for (i = 0; i < n; i++) {
		json_t *o = finding_json(v, e[i].f);
		json_object_set_new(o, "summary",
				    json_string(track_finding_summary(v, e[i].f, line, sizeof line)));
		for (k = 0; k < i && e[k].index != e[i].group; k++)
			;
		json_object_set_new(o, "same_sites_as", k < i ? json_integer((json_int_t)k)
							      : json_null());
		json_array_append_new(a, o);
	}
	free(e);
	json_object_set_new(root, "findings", a);
	json_object_set_new(root, "suppressed", json_integer(t.suppressed));
}


json_t *track_report_json(struct track_view *v)
{
	return track_report_json_by(v, TRACK_LS_WAIT);
}

json_t *track_report_json_by(struct track_view *v, int by)
{
	const struct track_snap *s = v->snap;
	struct track_symbolizer *sym = track_view_sym(v);
	json_t *root = json_object();
	json_object_set_new(root, "schema", json_integer(TRACK_JSON_SCHEMA));
	json_object_set_new(root, "segment_version", json_integer(s->hdr.version));
	json_object_set_new(root, "process", process_json(v));
	json_object_set_new(root, "threads", threads_json(v, sym));
	objects_json(root, v, by >= 0 && by < TRACK_LS_COUNT ? by : TRACK_LS_WAIT);
	json_object_set_new(root, "pools", track_json_pools(v));
	json_object_set_new(root, "queues", track_json_queues(s));
	findings_json(root, v);
	json_object_set_new(root, "overflow", counters_json(s, TRACK_CG_OVERFLOW));
	return root;
}

/* --- the renderer --------------------------------------------------------------------------- */

/* The whole report is one JSON document: the primary process is its root, the others go
 * into its "other_processes"; it is written when the last has been added. */
struct json_state {
	FILE *out;
	json_t *root, *others;
	int sort;
};

static void *json_begin(FILE *out, const struct track_render_opts *o)
{
	struct json_state *st = calloc(1, sizeof *st);
	if (st != NULL) {
		st->out = out;
		st->sort = o->sort;
	}
	return st;
}

static void json_process(void *vst, struct track_view *v, size_t index)
{
	struct json_state *st = vst;
	json_t *j = track_report_json_by(v, st->sort);
	if (index == 0) {
		st->root = j;
		st->others = json_array();
	} else {
		json_array_append_new(st->others, j);
	}
}

static int json_end(void *vst)
{
	struct json_state *st = vst;
	int rc = 0;
	if (st->root != NULL) {
		json_object_set_new(st->root, "other_processes", st->others);
		rc = json_dumpf(st->root, st->out, JSON_INDENT(2));
		json_decref(st->root);
	}
	free(st);
	return rc;
}

const struct track_renderer track_json_renderer = {"json", json_begin, json_process, json_end};

/*
 * dump.c — a thread dump (core/stackdump.h) as track stacks prints it: text grouped like a
 * Go goroutine dump, or JSON (schema in README, "track stacks --json").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "render/json.h"
#include "render/dump.h"

/* A thread whose state could not be read consistently with its stack. */
#define STATE_CHANGING "state not known: the shim was changing it at every stop"

/* --- text ------------------------------------------------------------------------------- */

static void print_held(FILE *out, const struct track_stackdump *d,
		       const struct track_dump_thread *t)
{
	uint32_t i;
	char where[256], name[256];
	for (i = 0; i < t->nholds; i++) {
		const struct track_dump_lock *l = &t->holds[i];
		fprintf(out, "    holds %s %s%s (first used at %s)\n", track_kind_name(l->kind),
			track_obj_label(&d->snap, d->view.sym, l->addr, l->kind, name, sizeof name),
			l->read ? " for reading" : "",
			track_fmt_site(&d->snap, d->view.sym, l->first_pc, 0, where, sizeof where));
	}
	if (t->holds_unlisted > 0)
		fprintf(out, "    ... and %u more lock%s\n", t->holds_unlisted,
			t->holds_unlisted == 1 ? "" : "s");
}

static void print_frames(FILE *out, const struct track_stackdump *d,
			 const struct track_dump_thread *t)
{
	struct track_frame f[8];
	char buf[512];
	int i, k, n;
	for (i = 0; i < t->npcs; i++) {
		n = track_sym_lookup(d->view.sym, t->pcs[i], !(t->first_is_pc && i == 0), f, 8);
		for (k = 0; k < n; k++)
			fprintf(out, "  %s%s\n", track_sym_format(&f[k], buf, sizeof buf),
				f[k].inlined ? " [inlined]" : "");
	}
	if (t->error == E2BIG)
		fprintf(out, "  ... (more frames: --max-frames)\n");
	else if (t->error == EIO)
		fprintf(out, "  ... (unwinding stopped here)\n");
}

static void print_thread_line(FILE *out, const struct track_stackdump *d,
			      const struct track_dump_thread *t)
{
	char what[768];
	fprintf(out, "thread %d \"%s\"", t->tid, t->name);
	if (t->rec != NULL) {
		track_stackdump_doing(d, t, what, sizeof what);
		fprintf(out, ": [%s]", what);
	} else if (t->state_changing) {
		fprintf(out, ": [%s]", STATE_CHANGING);
	} else if (t->error == ESRCH) {
		fprintf(out, ": [exited while being read]");
	} else if (t->error == ETIMEDOUT) {
		fprintf(out, ": [in uninterruptible sleep: not stopped]");
	}
	fputc('\n', out);
	if (t->rec != NULL) {
		char where[256];
		print_held(out, d, t);
		if (t->rec->create_pc)
			fprintf(out, "    created by thread %d at %s\n", t->rec->creator_tid,
				track_fmt_site(&d->snap, d->view.sym, t->rec->create_pc,
					       t->rec->create_stack, where, sizeof where));
	}
}

/* The first lines: whose dump, and how much it disturbed the process. */
static void print_heading(FILE *out, const struct track_stackdump *d)
{
	char cmd[256], a[32], b[32];
	size_t stopped = track_stackdump_stopped(d);
	fprintf(out, "track stacks: pid %d", (int)d->pid);
	if (d->have_snap)
		fprintf(out, " (%s)", track_cmdline(&d->snap.hdr, cmd, sizeof cmd));
	fprintf(out, ": %zu thread%s, %d group%s\n", d->n, d->n == 1 ? "" : "s", d->groups,
		d->groups == 1 ? "" : "s");
	if (d->recorded)
		fprintf(out, "nothing was stopped (--no-stop): stacks recorded by the shim when each "
			     "thread began to wait\n");
	else if (stopped == 0)
		fprintf(out, "no thread was stopped: each was read where it sleeps\n");
	else
		fprintf(out, "%zu of %zu threads were stopped, one at a time, each for at most %s; "
			     "%s from the first stop to the last resume\n",
			stopped, d->rs.nthreads, track_fmt_ns(d->rs.max_stopped_ns, a, sizeof a),
			track_fmt_ns(d->rs.total_stopped_ns, b, sizeof b));
	if (!d->have_snap)
		fprintf(out, "no track segment: stacks only (run it under track for what each "
			     "thread waits on)\n");
}

static void dump_text(FILE *out, const struct track_stackdump *d)
{
	int g;
	size_t i;
	print_heading(out, d);
	for (g = 0; g < d->groups; g++) {
		const struct track_dump_thread *first = NULL;
		size_t count = 0;
		for (i = 0; i < d->n; i++)
			if (d->t[i].group == g) {
				count++;
				if (first == NULL)
					first = &d->t[i];
			}
		if (first->npcs == 0)
			continue;   /* listed at the end */
		fputc('\n', out);
		if (count > 1)
			fprintf(out, "%zu threads with this stack:\n", count);
		for (i = 0; i < d->n; i++)
			if (d->t[i].group == g)
				print_thread_line(out, d, &d->t[i]);
		print_frames(out, d, first);
	}
	if (d->no_stack > 0) {
		fprintf(out, "\n%d thread%s with no %s stack:\n", d->no_stack,
			d->no_stack == 1 ? "" : "s", d->recorded ? "recorded" : "readable");
		for (i = 0; i < d->n; i++)
			if (d->t[i].npcs == 0)
				print_thread_line(out, d, &d->t[i]);
	}
}

/* --- JSON ------------------------------------------------------------------------------- */

static json_t *hex_json(uint64_t v)
{
	char hex[32];
	snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)v);
	return json_string(hex);
}

/* {tid, name} of a thread, name null when it is not among the threads shown. */
static json_t *who_json(pid_t tid, const char *name)
{
	json_t *o = json_object();
	json_object_set_new(o, "tid", json_integer(tid));
	json_object_set_new(o, "name", name ? track_json_text(name, strlen(name)) : json_null());
	return o;
}

/* Who holds what t waits on, as the text says it: the owner, or null. */
static json_t *held_by_json(const struct track_dump_thread *t)
{
	if (t->held_by != NULL)
		return who_json(t->held_by->tid, t->held_by->name);
	if (t->held_by_absent != 0)
		return who_json(t->held_by_absent, NULL);
	return json_null();
}

/* The threads shown holding for reading the rwlock t waits on. */
static json_t *readers_json(const struct track_stackdump *d, const struct track_dump_thread *t)
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < d->n; i++) {
		const struct track_dump_lock *l;
		if (d->t[i].rec == NULL)
			continue;
		l = track_stackdump_holding(&d->t[i], t->rec->wait_obj);
		if (l != NULL && l->read)
			json_array_append_new(a, who_json(d->t[i].tid, d->t[i].name));
	}
	return a;
}

static json_t *holds_json(const struct track_stackdump *d, const struct track_dump_thread *t)
{
	json_t *a = json_array();
	uint32_t i;
	for (i = 0; i < t->nholds; i++) {
		const struct track_dump_lock *l = &t->holds[i];
		json_t *o = json_object();
		json_t *name = track_json_obj_name(&d->snap, d->view.sym, l->addr, l->kind);
		json_object_set_new(o, "addr", hex_json(l->addr));
		if (name != NULL)
			json_object_set_new(o, "name", name);
		json_object_set_new(o, "kind", json_string(track_kind_name(l->kind)));
		json_object_set_new(o, "mode", json_string(l->read ? "read" : "write"));
		json_object_set_new(o, "taken_at", track_json_site(&d->snap, d->view.sym, l->taken_pc,
								     0));
		json_object_set_new(o, "first_used_at",
				    track_json_site(&d->snap, d->view.sym, l->first_pc, 0));
		json_array_append_new(a, o);
	}
	return a;
}

/* What the shim says of t, read with its stack. */
static void state_json(json_t *o, const struct track_stackdump *d,
		       const struct track_dump_thread *t)
{
	char what[768];
	json_object_set_new(o, "state", json_string(track_state_name(t->rec->state)));
	track_stackdump_doing(d, t, what, sizeof what);
	json_object_set_new(o, "doing", json_string(what));
	if (t->rec->state != TRACK_TS_RUNNING) {
		json_object_set_new(o, "waiting_on", hex_json(t->rec->wait_obj));
		if (t->rec->state != TRACK_TS_JOIN) {   /* a join waits on a pthread_t */
			json_t *name = track_json_obj_name(&d->snap, d->view.sym, t->rec->wait_obj,
							   TRACK_OBJ_NONE);
			if (name != NULL)
				json_object_set_new(o, "waiting_on_name", name);
		}
		json_object_set_new(o, "waiting_ns",
				    json_integer((json_int_t)track_stackdump_waited(t)));
	}
	if (t->rec->state != TRACK_TS_RUNNING && t->rec->state != TRACK_TS_JOIN)
		json_object_set_new(o, "waiters", json_integer(t->waiters));
	json_object_set_new(o, "held_by", held_by_json(t));
	if (t->readers_shown > 0)
		json_object_set_new(o, "held_by_readers", readers_json(d, t));
	json_object_set_new(o, "holds", holds_json(d, t));
	json_object_set_new(o, "holds_unlisted", json_integer(t->holds_unlisted));
	json_object_set_new(o, "creator_tid", json_integer(t->rec->creator_tid));
	json_object_set_new(o, "created_at", track_json_site(&d->snap, d->view.sym,
							     t->rec->create_pc, t->rec->create_stack));
}

static json_t *thread_json(const struct track_stackdump *d, const struct track_dump_thread *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "tid", json_integer(t->tid));
	json_object_set_new(o, "name", track_json_text(t->name, strlen(t->name)));
	if (t->rec != NULL) {
		state_json(o, d, t);
	} else if (t->state_changing) {
		json_object_set_new(o, "state", json_null());
		json_object_set_new(o, "doing", json_string(STATE_CHANGING));
	}
	if (t->error)
		json_object_set_new(o, "error", json_string(strerror(t->error)));
	if (!d->recorded) {
		json_object_set_new(o, "stopped_ns", json_integer((json_int_t)t->stopped_ns));
		json_object_set_new(o, "stops", json_integer(t->stops));
	}
	return o;
}

static json_t *group_json(const struct track_stackdump *d, int g)
{
	json_t *grp = json_object(), *ts = json_array(), *frames = json_array();
	const struct track_dump_thread *first = NULL;
	size_t i;
	for (i = 0; i < d->n; i++)
		if (d->t[i].group == g) {
			if (first == NULL)
				first = &d->t[i];
			json_array_append_new(ts, thread_json(d, &d->t[i]));
		}
	for (i = 0; i < (size_t)first->npcs; i++)
		json_array_append_new(frames, track_json_location(d->view.sym, first->pcs[i],
								  !(first->first_is_pc && i == 0)));
	json_object_set_new(grp, "count", json_integer((json_int_t)json_array_size(ts)));
	json_object_set_new(grp, "frames", frames);
	json_object_set_new(grp, "threads", ts);
	return grp;
}

static json_t *dump_json(const struct track_stackdump *d)
{
	json_t *root = json_object(), *ga = json_array();
	int g;
	json_object_set_new(root, "pid", json_integer(d->pid));
	json_object_set_new(root, "threads", json_integer((json_int_t)d->n));
	json_object_set_new(root, "shim", json_boolean(d->have_snap));
	json_object_set_new(root, "stopped", json_boolean(!d->recorded));
	if (!d->recorded) {
		json_object_set_new(root, "threads_stopped",
				    json_integer((json_int_t)track_stackdump_stopped(d)));
		json_object_set_new(root, "max_thread_stop_ns",
				    json_integer((json_int_t)d->rs.max_stopped_ns));
		json_object_set_new(root, "first_stop_to_last_resume_ns",
				    json_integer((json_int_t)d->rs.total_stopped_ns));
		json_object_set_new(root, "wall_ns", json_integer((json_int_t)d->rs.wall_ns));
	}
	for (g = 0; g < d->groups; g++)
		json_array_append_new(ga, group_json(d, g));
	json_object_set_new(root, "groups", ga);
	return root;
}

void track_dump_write(FILE *out, const struct track_stackdump *d, int json)
{
	json_t *root;
	if (!json) {
		dump_text(out, d);
		return;
	}
	root = dump_json(d);
	json_dumpf(root, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(root);
}

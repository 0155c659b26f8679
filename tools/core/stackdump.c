/*
 * stackdump.c — taking a grouped, annotated dump of every thread's stack (see stackdump.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dumpstate.h"
#include "core/model.h"

/* The shim's record of a thread that is still running, or NULL. */
static const struct track_thread_rec *rec_of(const struct track_stackdump *d, pid_t tid)
{
	const struct track_thread_rec *r = d->have_snap ? track_snap_thread(&d->snap, tid) : NULL;
	return r != NULL && r->state != TRACK_TS_EXITED && r->state != TRACK_TS_UNUSED ? r : NULL;
}

const char *track_stackdump_name(const struct track_stackdump *d, pid_t tid)
{
	const struct track_thread_rec *r = rec_of(d, tid);
	return r ? r->name : "";
}

/* The process's segment, if it runs under the shim; the dump works without one.  Why there
 * is none: TRACK_EXIT_NOENT, or another status (another user's) with err said. */
static int load_segment(struct track_stackdump *d, char *err, size_t errlen)
{
	char path[TRACK_SEGFILE_PATH_MAX];
	struct timespec ts;
	int rc = track_seg_find_pid(d->pid, path, sizeof path, err, errlen);
	if (rc == TRACK_EXIT_OK)
		rc = track_snap_load(path, &d->snap, err, errlen);
	if (rc == TRACK_EXIT_OK && d->snap.alive)
		d->have_snap = 1;
	else if (d->snap.threads != NULL)
		track_snap_free(&d->snap);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return d->have_snap ? TRACK_EXIT_OK : rc == TRACK_EXIT_OK ? TRACK_EXIT_NOENT : rc;
}

static int gather_remote(struct track_stackdump *d, int max_frames, char *err, size_t errlen)
{
	struct track_dump_stop x;
	struct track_rhook hook = {track_dump_at_stop, &x};
	size_t i;
	int rc, taken;
	track_dump_stop_init(&x, d);
	rc = track_remote_stacks_hooked(d->pid, max_frames, d->have_snap ? &hook : NULL, &d->rs,
					err, errlen);
	if (rc != 0)
		return rc == ESRCH ? TRACK_EXIT_NOENT : rc == EPERM ? TRACK_EXIT_PERM
								  : TRACK_EXIT_FAIL;
	if (track_dump_reserve(d, d->rs.nthreads) != 0) {
		snprintf(err, errlen, "out of memory");
		return TRACK_EXIT_FAIL;
	}
	for (i = 0; i < d->rs.nthreads; i++) {
		struct track_rthread *r = &d->rs.threads[i];
		struct track_dump_thread *t = &d->t[d->n++];
		t->tid = r->tid;
		snprintf(t->name, sizeof t->name, "%s", r->name);
		t->pcs = r->pcs;
		t->npcs = r->npcs;
		t->first_is_pc = 1;
		t->error = r->error;
		t->stopped_ns = r->stopped_ns;
		t->stops = r->stops;
		/* The state goes with the stack taken at the same stop, if there is one (d->t
		 * may have moved since the hook: rec is set again). */
		taken = r->error == 0 || r->error == E2BIG || r->error == EIO;
		t->rec = taken && t->state.tid == r->tid ? &t->state : NULL;
		t->state_changing = taken && t->state_changing;
	}
	return TRACK_EXIT_OK;
}

static int gather_recorded(struct track_stackdump *d, char *err, size_t errlen)
{
	uint32_t i;
	if (!d->have_snap) {
		snprintf(err, errlen, "process %d has no track segment: --no-stop shows what the "
			 "shim recorded, so the process must run under it", (int)d->pid);
		return TRACK_EXIT_NOENT;
	}
	if (track_dump_reserve(d, d->snap.nthreads) != 0) {
		snprintf(err, errlen, "out of memory");
		return TRACK_EXIT_FAIL;
	}
	for (i = 0; i < d->snap.nthreads; i++) {
		const struct track_thread_rec *r = &d->snap.threads[i];
		const struct track_stack_rec *st;
		struct track_dump_thread *t;
		if (r->state == TRACK_TS_EXITED || r->state == TRACK_TS_UNUSED)
			continue;
		t = &d->t[d->n++];
		t->tid = r->tid;
		snprintf(t->name, sizeof t->name, "%.*s", TRACK_NAME_MAX, r->name);
		track_dump_state_recorded(d, t, r);
		st = r->state != TRACK_TS_RUNNING ? track_snap_stack(&d->snap, r->wait_stack) : NULL;
		if (st != NULL) {
			t->pcs = st->frames;
			t->npcs = (int)st->nframes;
		}
	}
	return TRACK_EXIT_OK;
}

/* Whether pc lies in libtrack.so itself: its frames are left out, the shim is invisible. */
static int in_shim(struct track_symbolizer *sym, uint64_t pc, int is_return)
{
	struct track_frame f[8];
	const char *base;
	int n = track_sym_lookup(sym, pc, is_return, f, 8);
	if (n < 1 || f[n - 1].module == NULL)
		return 0;
	base = strrchr(f[n - 1].module, '/');
	base = base ? base + 1 : f[n - 1].module;
	return strncmp(base, "libtrack.so", 11) == 0;
}

/* Drop the shim's frames from the unwound stacks (they live in memory the unwinder owns). */
static void hide_shim_frames(struct track_stackdump *d)
{
	size_t i;
	for (i = 0; i < d->rs.nthreads && i < d->n; i++) {
		struct track_rthread *r = &d->rs.threads[i];
		int k, out = 0, kept_top = 0;
		for (k = 0; k < r->npcs; k++)
			if (!in_shim(d->view.sym, r->pcs[k], k > 0)) {
				kept_top |= k == 0;
				r->pcs[out++] = r->pcs[k];
			}
		/* without the original top frame, every frame left is a return address */
		d->t[i].first_is_pc = kept_top;
		r->npcs = out;
		d->t[i].npcs = out;
	}
}

static int same_group(const struct track_dump_thread *a, const struct track_dump_thread *b)
{
	uint32_t sa = a->rec ? a->rec->state : TRACK_TS_RUNNING;
	uint32_t sb = b->rec ? b->rec->state : TRACK_TS_RUNNING;
	uint64_t oa = a->rec ? a->rec->wait_obj : 0, ob = b->rec ? b->rec->wait_obj : 0;
	if (a->npcs == 0 || b->npcs == 0)
		return a->npcs == b->npcs;   /* threads with no stack to show: one group */
	return a->npcs == b->npcs && sa == sb && oa == ob &&
	       memcmp(a->pcs, b->pcs, (size_t)a->npcs * sizeof *a->pcs) == 0;
}

/* Number the groups in order of first appearance. */
static void group(struct track_stackdump *d, int each_alone)
{
	size_t i, j;
	for (i = 0; i < d->n; i++)
		d->t[i].group = -1;
	for (i = 0; i < d->n; i++) {
		d->no_stack += d->t[i].npcs == 0;
		if (d->t[i].group >= 0)
			continue;
		d->t[i].group = d->groups;
		for (j = i + 1; j < d->n && !each_alone; j++)
			if (d->t[j].group < 0 && same_group(&d->t[i], &d->t[j]))
				d->t[j].group = d->groups;
		d->groups++;
	}
}

int track_stackdump_take(struct track_stackdump *d, pid_t pid, int recorded, int max_frames,
			 int each_alone, char *err, size_t errlen)
{
	int rc;
	memset(d, 0, sizeof *d);
	d->pid = pid;
	d->recorded = recorded;
	if (kill(pid, 0) != 0 && errno == ESRCH) {
		snprintf(err, errlen, "no process %d", (int)pid);
		return TRACK_EXIT_NOENT;
	}
	rc = load_segment(d, err, errlen);
	if (recorded && rc != TRACK_EXIT_OK && rc != TRACK_EXIT_NOENT)
		return rc;   /* a segment not ours to read is not "no segment" */
	rc = recorded ? gather_recorded(d, err, errlen) : gather_remote(d, max_frames, err, errlen);
	if (rc != TRACK_EXIT_OK)
		return rc;
	track_view_init(&d->view, &d->snap, NULL, NULL);
	/* symbols from the live process's maps, unless only the segment is read */
	track_view_set_sym(&d->view, d->have_snap && recorded
					     ? track_sym_new(d->snap.mods, d->snap.nmods)
					     : track_sym_new_pid(pid));
	if (!recorded && d->view.sym != NULL)
		hide_shim_frames(d);
	track_dump_relate(d);
	group(d, each_alone);
	return TRACK_EXIT_OK;
}

void track_stackdump_free(struct track_stackdump *d)
{
	track_view_fini(&d->view);
	free(d->t);
	track_rstacks_free(&d->rs);
	if (d->have_snap)
		track_snap_free(&d->snap);
	memset(d, 0, sizeof *d);
}

size_t track_stackdump_stopped(const struct track_stackdump *d)
{
	size_t i, n = 0;
	for (i = 0; i < d->rs.nthreads; i++)
		n += d->rs.threads[i].stopped_ns > 0;
	return n;
}

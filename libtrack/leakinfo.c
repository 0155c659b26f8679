/*
 * leakinfo.c — what the leak check (leaks.c) says about a thread: whether the caller's
 * rules ignore it (start routine, name, creation site), and the report of the leaked ones:
 * tid, name, start routine, what it waits on and since when, the stack it was created from.
 *
 * The shim stores raw addresses; the tools symbolize them with elfutils, after the fact.
 * Here the question comes from inside the process, from a test, so dladdr names them on the
 * spot: functions of shared libraries, and of the executable when it exports its symbols
 * (-rdynamic).  This runs in the asking thread, never on a pthread path: it may allocate.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "track.h"

static const char *const state_words[] = {
#define X(e, name, words) words,
	TRACK_THREAD_STATES(X)
#undef X
};

/* A consistent copy of thread record slot (re-read while its thread changes it). */
static void rec_copy(uint32_t slot, struct track_thread_rec *out)
{
	const struct track_thread_rec *r = &track__g.threads[slot];
	int tries;
	for (tries = 0; tries < 1000; tries++) {
		uint32_t seq = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		memcpy(out, r, sizeof *out);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!TRACK_SEQ_WRITING(seq) && TRACK_LOAD(&r->seq) == seq)
			break;
	}
	out->name[TRACK_NAME_MAX - 1] = '\0';
}

/* The function containing pc as dladdr knows it, or NULL. */
static const char *func_name(uint64_t pc, Dl_info *info)
{
	if (pc == 0 || dladdr((void *)(uintptr_t)pc, info) == 0)
		return NULL;
	return info->dli_sname;
}

/* The frames of stack id (index + 1), or 0 of them. */
static uint32_t stack_frames(uint32_t id, const uint64_t **frames)
{
	const struct track_stack_rec *s;
	if (id == 0 || id > track__g.hdr->max_stacks)
		return 0;
	s = &track__g.stacks[id - 1];
	*frames = s->frames;
	return TRACK_LOAD(&s->nframes);
}

/* Whether name matches one of the NULL-terminated list of fnmatch patterns. */
static int matches(const char *name, const char *const *pats)
{
	for (; name != NULL && pats != NULL && *pats != NULL; pats++)
		if (fnmatch(*pats, name, 0) == 0)
			return 1;
	return 0;
}

/* Whether a function named by one of pats made the call at pc. */
static int pc_matches(uint64_t pc, const char *const *pats)
{
	Dl_info info;
	return matches(func_name(pc, &info), pats);
}

/* Whether a function of the creation stack (or the call to pthread_create) matches. */
static int creator_matches(const struct track_thread_rec *r, const char *const *pats)
{
	const uint64_t *frames = NULL;
	uint32_t i, n = stack_frames(r->create_stack, &frames);
	if (pats == NULL)
		return 0;
	if (pc_matches(r->create_pc, pats))
		return 1;
	for (i = 0; i < n; i++)
		if (pc_matches(frames[i], pats))
			return 1;
	return 0;
}

static int routine_listed(uint64_t fn, void *(*const *list)(void *))
{
	for (; list != NULL && *list != NULL; list++)
		if ((uint64_t)(uintptr_t)*list == fn)
			return 1;
	return 0;
}

int track__leak_ignored(uint32_t slot, const struct track_leak_opts *o)
{
	struct track_thread_rec r;
	if (o->ignore_routines == NULL && o->ignore_symbols == NULL && o->ignore_names == NULL &&
	    o->ignore_creators == NULL)
		return 0;
	rec_copy(slot, &r);
	return routine_listed(r.start_routine, o->ignore_routines) ||
	       pc_matches(r.start_routine, o->ignore_symbols) || matches(r.name, o->ignore_names) ||
	       creator_matches(&r, o->ignore_creators);
}

/* "name+0xoff (module)", or the bare address when dladdr knows nothing. */
static void put_place(FILE *f, uint64_t pc)
{
	Dl_info info;
	const char *fn = func_name(pc, &info);
	if (fn != NULL && pc == (uintptr_t)info.dli_saddr)
		fprintf(f, "%s", fn);   /* a function, not a call in it: the start routine */
	else if (fn != NULL)
		fprintf(f, "%s+0x%lx", fn, (unsigned long)(pc - (uintptr_t)info.dli_saddr));
	else
		fprintf(f, "0x%lx", (unsigned long)pc);
	if (pc != 0 && dladdr((void *)(uintptr_t)pc, &info) != 0 && info.dli_fname != NULL)
		fprintf(f, " (%s)", info.dli_fname);
}

static void put_wait(FILE *f, const struct track_thread_rec *r, uint64_t now)
{
	uint32_t st = r->state < TRACK_TS_COUNT ? r->state : TRACK_TS_RUNNING;
	double secs = r->since_ns != 0 && now > r->since_ns ? (now - r->since_ns) / 1e9 : 0;
	Dl_info info;
	fprintf(f, "  %s", state_words[st]);
	if (st == TRACK_TS_JOIN && r->wait_tid != 0)
		fprintf(f, " %d", r->wait_tid);
	else if (st != TRACK_TS_RUNNING && r->wait_obj != 0) {
		fprintf(f, " 0x%lx", (unsigned long)r->wait_obj);
		if (dladdr((void *)(uintptr_t)r->wait_obj, &info) != 0 && info.dli_sname != NULL &&
		    info.dli_saddr == (void *)(uintptr_t)r->wait_obj)
			fprintf(f, " (%s)", info.dli_sname);
	}
	fprintf(f, " for %.3f s\n", secs);
}

static void put_thread(FILE *f, uint32_t slot, uint64_t now)
{
	struct track_thread_rec r;
	const uint64_t *frames = NULL;
	uint32_t i, n;
	rec_copy(slot, &r);
	fprintf(f, "thread %d \"%s\" started at ", r.tid, r.name);
	put_place(f, r.start_routine);
	fputc('\n', f);
	put_wait(f, &r, now);
	fprintf(f, "  created at:\n");
	n = stack_frames(r.create_stack, &frames);
	if (n == 0) {   /* stacks off (TRACK_STACKS=0) or not walked: the call at least */
		fprintf(f, "    #0 ");
		put_place(f, r.create_pc);
		fputc('\n', f);
	}
	for (i = 0; i < n && i < TRACK_STACK_DEPTH; i++) {
		fprintf(f, "    #%u ", i);
		put_place(f, frames[i]);
		fputc('\n', f);
	}
}

char *track__leak_report(const uint32_t *slots, uint32_t n, uint64_t waited_ns)
{
	char *text = NULL;
	size_t len = 0;
	uint64_t now = track__now_ns();
	uint32_t i;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		return NULL;
	fprintf(f, "%u thread%s leaked (still alive after %.3f s):\n", n, n == 1 ? "" : "s",
		waited_ns / 1e9);
	for (i = 0; i < n; i++)
		put_thread(f, slots[i], now);
	fclose(f);
	return text;
}

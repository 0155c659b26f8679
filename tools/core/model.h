/*
 * model.h — what the renderers share: names for the segment's enumerations, the facts
 * derived from a snapshot (which threads outlived the process, which locks matter most,
 * which findings are shown), and number formatting.  Text, JSON and later renderers draw
 * from this; none of them owns it.  Printing is the renderers' (render/).
 */
#ifndef TRACK_MODEL_H
#define TRACK_MODEL_H

#include <stdint.h>

#include "core/view.h"

const char *track_state_name(uint32_t state);
const char *track_state_verb(uint32_t state);   /* "blocked on mutex", "waiting on condvar" */
const char *track_kind_name(uint32_t kind);
const char *track_finding_name(uint32_t kind);
const char *track_mutex_type_name(uint32_t subtype);
/* The finding kind called name (as track_finding_name gives it), or -1. */
int track_finding_kind(const char *name);
const char *track_severity_name(uint32_t severity);   /* "error", "info" */
/* The report names of the flags set in flags, in report order; how many (at most max). */
int track_thread_flag_names(uint32_t flags, const char **out, int max);
/* The values of TRACK_LOCK_ORDER and TRACK_ON_DEADLOCK, NULL-terminated. */
extern const char *const track_lock_order_names[];
extern const char *const track_deadlock_action_names[];

/* Whether kind is a lock (mutex, rwlock, spinlock), and whether state is a wait for one. */
int track_kind_is_lock(uint32_t kind);
int track_state_is_lock_wait(uint32_t state);

/* Whether an object is worth reporting: live, or used at least once.  The text counts and
 * the JSON lists of locks, condvars, semaphores and barriers both use it. */
int track_obj_used(const struct track_obj_rec *r);

/* Whether thread record t was still running when the process ended (or now, if alive). */
int track_thread_outlived(const struct track_snap *s, const struct track_thread_rec *t);
uint64_t track_alive_at_exit(const struct track_snap *s);

/* --- when the facts end -----------------------------------------------------------------
 *
 * Every duration in a report runs to the end of what the view describes: now for a live
 * process (when the snapshot was read), the moment it ended for one that ended.  The end is
 * known when the shim saw it (exit, _exit, a deadlock it ended), when exec replaced the
 * image (the next image's start), or when the caller reaped the process (track run).
 * Otherwise (a process killed outside track run) it is not known: the last thing the shim
 * recorded is then a lower bound, and reports say "at least". */
enum track_end_kind {
	TRACK_END_RUNNING,     /* alive: the end is the snapshot's time */
	TRACK_END_EXIT,        /* exit() */
	TRACK_END_QUICK_EXIT,  /* _exit() or _Exit(): code */
	TRACK_END_DEADLOCK,    /* the shim ended it on a deadlock: code */
	TRACK_END_EXEC,        /* replaced by exec */
	TRACK_END_REAPED,      /* ended some other way; the caller reaped it (killed, say) */
	TRACK_END_UNKNOWN,     /* ended, when and how not known */
};

struct track_end {
	enum track_end_kind kind;
	uint64_t mono_ns;      /* the end; for TRACK_END_UNKNOWN the last event recorded */
	int exact;             /* 0: mono_ns is only a lower bound */
	int code_known, code;  /* exit status, when known */
	int signal;            /* killing signal, when known (else 0) */
};
void track_view_end(const struct track_view *v, struct track_end *e);

/* How long the process ran, to its end (a lower bound when *exact is 0). */
uint64_t track_duration_ns(const struct track_view *v, int *exact);

/* How long a state that began at since (CLOCK_MONOTONIC) lasted by the end; *exact 0: at
 * least that long (0: not even that is known). */
uint64_t track_state_ns(const struct track_view *v, uint64_t since, int *exact);

/* "for 2.13 s", "for at least 12.0 ms", or "since 1.20 s after start, for how long is not
 * known": the duration of a state that began at since, as true as the view allows. */
const char *track_fmt_state_for(const struct track_view *v, uint64_t since, char *buf,
				size_t len);

/* A lock's figures with the waits still under way at the end counted in: a wait that never
 * completed (threads deadlocked, or killed while blocked) was contended, for its time so
 * far.  Without them a deadlocked lock would read "none contended". */
struct track_lock_row {
	const struct track_obj_rec *rec;
	uint64_t contended, wait_ns, max_wait_ns;
	uint32_t waiting;      /* threads blocked on it at the end */
	/* Its profiles (core/profile.h; NULL: none yet): completed waits, hold times (sampled),
	 * and the holding site that made others wait longest (hold-site, most total time). */
	const struct track_prof_rec *wait, *hold, *top_holder;
};

/* Lock-like objects (mutex, rwlock, spinlock), most contended first; returns the count.
 * *out is malloc'd. */
size_t track_lock_rows(const struct track_view *v, struct track_lock_row **out);

/* How lock tables are ordered (--sort): X(NAME, its name), the default first.  WAIT: total
 * wait (unfinished waits counted); HOLD: estimated total hold time; CONTENDED: contended
 * acquisitions; ACQUISITIONS; NAME: what reports call the lock, A to Z.  Ties go to the
 * longer wait, then the more contended, the more acquired, the lower address. */
#define TRACK_LOCK_SORTS(X)                                                     \
	X(WAIT, "wait") X(HOLD, "hold") X(CONTENDED, "contended")                   \
	X(ACQUISITIONS, "acquisitions") X(NAME, "name")
#define TRACK_X_LS(e, name) TRACK_LS_##e,
enum track_lock_sort { TRACK_LOCK_SORTS(TRACK_X_LS) TRACK_LS_COUNT };
#undef TRACK_X_LS
extern const char *const track_lock_sort_names[];   /* NULL-terminated */
/* The sort called name, or -1. */
int track_lock_sort_of(const char *name);

/* The same rows in the order by asks for. */
size_t track_lock_rows_by(struct track_view *v, enum track_lock_sort by,
			  struct track_lock_row **out);

/* The thread that t, joining, waits for (0: not known).  The shim records its tid at the
 * join, unless the thread had not run yet: then it is found by its pthread_t. */
int32_t track_join_target(const struct track_snap *s, const struct track_thread_rec *t);

/* What thread t waits on, as a phrase: "blocked on mutex 0x5610c0", "joining thread 4242
 * \"worker\"" (a join names the thread, not its pthread_t, when the shim knew it). */
const char *track_fmt_wait_target(struct track_view *v, const struct track_thread_rec *t,
				  char *buf, size_t len);

/* The TRACK_* variables whose values the shim refused (and replaced by defaults), from the
 * header's env_bad: their names into names, how many (at most max). */
int track_env_refused(const struct track_seg_header *h, const char **names, int max);

/* The command line, arguments joined by spaces, into buf. */
const char *track_cmdline(const struct track_seg_header *h, char *buf, size_t len);

/* A command line fitted to width columns for a screen: when it is too long, the program's
 * directory goes first (".../name args", then "name args"), so the program's name survives
 * a long build path; what still does not fit is cut at the end. */
const char *track_fit_command(const char *cmd, size_t width, char *buf, size_t len);

/* "12.3 ms", "1.20 s", "840 ns" */
const char *track_fmt_ns(uint64_t ns, char *buf, size_t len);
/* "1,234,567" */
const char *track_fmt_count(uint64_t n, char *buf, size_t len);

/* Which findings a report shows: the complete ones that none of the view's suppressions
 * hides.  errors: the shown findings of severity error (and warning, when the view's
 * stall_is_error says so), what --error-exitcode counts. */
struct track_tally {
	uint32_t shown, suppressed;
	uint64_t errors;
};
void track_findings_tally(struct track_view *v, struct track_tally *t);
uint64_t track_findings_count(struct track_view *v);
int track_finding_shown(struct track_view *v, const struct track_finding_rec *f);
int track_finding_suppressed(struct track_view *v, const struct track_finding_rec *f);

/* Call fn for every return address in the stacks of finding f: both stacks of each edge of a
 * lock-order cycle, each deadlocked thread's stack, else its stack(s) or, without one, its
 * call site.  Stops at, and returns, the first non-zero value fn returns. */
typedef int (*track_pc_fn)(uint64_t pc, void *ctx);
int track_finding_each_pc(struct track_view *v, const struct track_finding_rec *f,
			  track_pc_fn fn, void *ctx);

/* --- lock-order cycles and deadlocks (order.c) ---------------------------------------------- */

/* Whether edge e joins lock classes (locks first used at the same place), not single locks. */
int track_edge_by_class(const struct track_snap *s, const struct track_edge_rec *e);

/* The lock at the first (to = 0) or second (to = 1) end of edge e, or NULL if its record now
 * describes another object. */
const struct track_obj_rec *track_edge_lock(const struct track_snap *s,
					    const struct track_edge_rec *e, int to);

/* The stack where edge e's first lock was taken.  The shim keeps only the return address of
 * that call (from_pc); the function that made it is usually still on the stack when it takes
 * the second lock, so the stack is from_pc followed by the frames of to_stack below the first
 * frame in from_pc's function.  Without such a frame, or when from_pc's function is the
 * runtime's (track_frame_in_runtime: a helper such as std::lock_guard's constructor, which
 * returned in between), it is from_pc alone and *partial = 1.
 * Fills out with at most max return addresses and returns how many. */
size_t track_edge_from_stack(struct track_view *v, const struct track_edge_rec *e, uint64_t *out,
			     size_t max, int *partial);
#define TRACK_FROM_STACK_MAX (TRACK_STACK_DEPTH + 1)

/* Thread i of a deadlock finding: who it is, what it waits on, and for whom. */
struct track_wait {
	int32_t tid;
	const struct track_thread_rec *thread;  /* NULL if its record is gone */
	uint64_t object;       /* the lock, or for a join the pthread_t of the thread joined */
	int join;              /* it joins held_by */
	const char *kind;      /* "mutex", "rwlock", ... or "thread" for a join */
	int32_t held_by;       /* the next thread of the cycle: holds the lock, or is joined,
				  or (queued_writer) is a writer queued on the rwlock it reads */
	int queued_writer;
	uint32_t stack;        /* where it waits */
};
void track_deadlock_wait(const struct track_snap *s, const struct track_finding_rec *f,
			 uint32_t i, struct track_wait *w);

/* Entries in a finding's list (nitems): a lock-order cycle's edges, a deadlock's threads; more
 * than TRACK_CYCLE_MAX for a long cycle, whose entries are in the segment's cycle-item
 * section.  Entry i of either kind, wherever it is kept, and a cycle's edge i: */
uint32_t track_finding_items(const struct track_finding_rec *f);
struct track_cycle_item track_finding_item(const struct track_snap *s,
					   const struct track_finding_rec *f, uint32_t i);
uint32_t track_finding_edge(const struct track_snap *s, const struct track_finding_rec *f,
			    uint32_t i);

/* One location, symbolized if possible ("fn+0x1a (file.c:88)"), into buf. */
const char *track_fmt_pc(struct track_symbolizer *sym, uint64_t pc, int is_return, char *buf,
			 size_t len);

/* --- sites and names (names.c) -------------------------------------------------------------- */

/* Whether a symbolized entry belongs to the C or C++ runtime rather than to the program: its
 * module is libc, libstdc++, libgcc_s, libpthread, ld.so (or LLVM's libc++), or its source
 * file is a system header (/usr/include/..., a C++ standard library header such as
 * bits/std_mutex.h or gthr-posix.h), where an inline function of the runtime was compiled
 * into the program. */
int track_frame_in_runtime(const struct track_frame *f);

/* The site of a call: the one location a report gives for it ("first used at", "created by
 * thread N at", "took A at", a finding's location).  It is the first entry, innermost first
 * and inline entries included, of the call's stack pcs[0..n) (return addresses) that is not
 * in the runtime: for a lock taken through std::lock_guard, the line of the program that
 * made the guard, not std_mutex.h.  When every frame is the runtime's, pcs[0]'s innermost
 * entry, as before.  Fills out like track_sym_lookup (the chosen entry first, then the
 * functions it was inlined into) and returns how many; 0 when n is 0 or pcs[0] is 0.
 * Stack listings show every frame: only the one-line site skips the runtime. */
int track_site_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n,
		   struct track_frame *out, int max);
/* The same for the call at return address pc whose stack has id stack (0: none): the stack
 * is used when it is that call's (its first frame is pc). */
int track_site(const struct track_snap *s, struct track_symbolizer *sym, uint64_t pc,
	       uint32_t stack, struct track_frame *out, int max);
/* Either, formatted as track_fmt_pc formats a location ("?" for pc 0). */
const char *track_fmt_site(const struct track_snap *s, struct track_symbolizer *sym, uint64_t pc,
			   uint32_t stack, char *buf, size_t len);
const char *track_fmt_site_pcs(struct track_symbolizer *sym, const uint64_t *pcs, size_t n,
			       char *buf, size_t len);

/* The name of the global or static variable that the object of kind (TRACK_OBJ_NONE: not
 * known, then looked up in s) at addr lies in ("g_stats", "g_buckets[3]", "q.lock",
 * "g_buckets+0x50": track_sym_data, told the object's size by its kind), or NULL: a heap or
 * stack object, or no symbolizer. */
const char *track_obj_name(const struct track_snap *s, struct track_symbolizer *sym,
			   uint64_t addr, uint32_t kind);
/* What a report calls the object at addr: its variable's name, else its address "0x...". */
const char *track_obj_label(const struct track_snap *s, struct track_symbolizer *sym,
			    uint64_t addr, uint32_t kind, char *buf, size_t len);
/* Finding f's message with each object address in it replaced by its variable's name. */
const char *track_finding_text(const struct track_snap *s, struct track_symbolizer *sym,
			       const struct track_finding_rec *f, char *buf, size_t len);

/* Whether the thread of record t has started: the creator fills a record (start routine,
 * creator, creation stack) before the new thread runs, and the thread gives its tid when it
 * first runs.  A thread that had not started when the process ended, or when a live process
 * was read, has no tid and no name yet. */
int track_thread_started(const struct track_thread_rec *t);

#endif /* TRACK_MODEL_H */

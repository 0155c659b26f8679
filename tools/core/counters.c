/*
 * counters.c — the table of what a snapshot says track could not record (see counters.h).
 */
#include "core/counters.h"
#include "core/model.h"

#define HEADER_FIELD(field)                                                 \
	static uint64_t get_##field(const struct track_snap *s)             \
	{                                                                   \
		return s->hdr.field;                                        \
	}
#define HEADER_LIMIT(field)                                                 \
	static uint32_t limit_##field(const struct track_snap *s)          \
	{                                                                   \
		return s->hdr.field;                                        \
	}

HEADER_FIELD(threads_created)
HEADER_FIELD(threads_exited)
HEADER_FIELD(threads_joined)
HEADER_FIELD(threads_detached)
HEADER_FIELD(threads_peak)
HEADER_FIELD(threads_foreign)
HEADER_FIELD(threads_dropped)
HEADER_FIELD(threads_recycled)
HEADER_FIELD(objects_dropped)
HEADER_FIELD(objects_recycled)
HEADER_FIELD(findings_dropped)
HEADER_FIELD(fds_dropped)
HEADER_FIELD(modules_dropped)
HEADER_FIELD(stacks_dropped)
HEADER_FIELD(edges_dropped)
HEADER_FIELD(profs_dropped)
HEADER_FIELD(queues_dropped)
HEADER_FIELD(cycles_too_long)
HEADER_FIELD(edges_reclaimed)
HEADER_FIELD(searches_cut)
HEADER_FIELD(storage_failures)
HEADER_FIELD(stacks_unknown)
HEADER_FIELD(stale_waits)
HEADER_LIMIT(max_threads)
HEADER_LIMIT(max_objects)
HEADER_LIMIT(max_findings)
HEADER_LIMIT(max_modules)
HEADER_LIMIT(max_stacks)
HEADER_LIMIT(max_edges)
HEADER_LIMIT(max_profs)
HEADER_LIMIT(search_visits)

static uint64_t get_alive_at_exit(const struct track_snap *s)
{
	return track_alive_at_exit(s);
}

static uint64_t get_torn(const struct track_snap *s)
{
	return s->torn;
}

static uint32_t cycle_max(const struct track_snap *s)
{
	(void)s;
	return TRACK_CYCLE_MAX;
}

const struct track_counter track_counters[] = {
	/* the threads line of the text report, in this order; the rest in JSON only */
	{"created", TRACK_CG_THREADS, TRACK_CL_QUIET,
	 "Threads created through pthread_create.", "%llu created", get_threads_created, NULL},
	{"exited", TRACK_CG_THREADS, TRACK_CL_QUIET, "Threads that ended.", "%llu exited",
	 get_threads_exited, NULL},
	{"joined", TRACK_CG_THREADS, TRACK_CL_QUIET, "Threads reaped by a join.", "%llu joined",
	 get_threads_joined, NULL},
	{"detached", TRACK_CG_THREADS, TRACK_CL_QUIET,
	 "Threads detached, at creation or by pthread_detach.", "%llu detached",
	 get_threads_detached, NULL},
	{"peak", TRACK_CG_THREADS, TRACK_CL_QUIET, "The most threads alive at once.",
	 "peak %llu alive", get_threads_peak, NULL},
	{"alive_at_exit", TRACK_CG_THREADS, TRACK_CL_QUIET,
	 "Threads alive when the process ended (or now, if it runs), the main thread included.",
	 "%llu alive %s", get_alive_at_exit, NULL},
	{"foreign", TRACK_CG_THREADS, TRACK_CL_QUIET,
	 "Threads seen that were not created through the shim's pthread_create.", NULL,
	 get_threads_foreign, NULL},
	{"not_tracked", TRACK_CG_THREADS, TRACK_CL_QUIET,
	 "Threads not recorded: the thread table was full of live threads.", NULL,
	 get_threads_dropped, NULL},
	{"stale_waits", TRACK_CG_THREADS, TRACK_CL_QUIET,
	 "Waits left without returning, closed when the thread went on.", NULL,
	 get_stale_waits, NULL},

	{"threads_not_tracked", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Threads not recorded: the thread table was full of live threads.",
	 "threads not tracked (in no figure but \"created\"): raise TRACK_MAX_THREADS (now %u)",
	 get_threads_dropped, limit_max_threads},
	{"thread_records_recycled", TRACK_CG_OVERFLOW, TRACK_CL_QUIET,
	 "Records of ended threads reused for new threads.", NULL, get_threads_recycled, NULL},
	{"objects_not_tracked", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Locks, condvars, semaphores and barriers not recorded: the object table was full.",
	 "objects not tracked: raise TRACK_MAX_OBJECTS (now %u)",
	 get_objects_dropped, limit_max_objects},
	{"object_records_recycled", TRACK_CG_OVERFLOW, TRACK_CL_QUIET,
	 "Records of destroyed or idle objects reused for new objects.", NULL,
	 get_objects_recycled, NULL},
	{"findings_not_recorded", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Findings not recorded: the finding table was full.",
	 "findings not recorded: raise TRACK_MAX_FINDINGS (now %u)",
	 get_findings_dropped, limit_max_findings},
	{"fds_not_recorded", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Descriptors left open at the end beyond the 64 the segment records (TRACK_LEAKS=2).",
	 "more descriptors left open, not recorded (64 are)", get_fds_dropped, NULL},
	{"modules_not_recorded", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Loaded modules not recorded: their code shows as bare addresses.",
	 "modules not recorded, their code shown as addresses: raise TRACK_MAX_MODULES (now %u)",
	 get_modules_dropped, limit_max_modules},
	{"stacks_not_recorded", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Call stacks not recorded: the stack table was full.",
	 "stacks not recorded: raise TRACK_MAX_STACKS (now %u)",
	 get_stacks_dropped, limit_max_stacks},
	{"edges_not_recorded", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Lock-order edges not recorded: the edge table was full; cycles through them go unseen.",
	 "lock-order edges not recorded: raise TRACK_MAX_EDGES (now %u)",
	 get_edges_dropped, limit_max_edges},
	{"profile_events_not_recorded", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Waits and timed holds not added to a profile: the profile table was full; the "
	 "objects' own counts still have them.",
	 "waits or holds not profiled (the profile table was full): raise TRACK_MAX_PROFILES "
	 "(now %u)", get_profs_dropped, limit_max_profs},
	{"queues_not_registered", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Queue registrations refused: the program registered more than 64 queues.",
	 "queue registrations refused: more than 64 queues", get_queues_dropped, NULL},
	{"edge_records_recycled", TRACK_CG_OVERFLOW, TRACK_CL_QUIET,
	 "Lock-order edges of destroyed locks taken out of the graph, their records reused "
	 "(unless a finding names them).",
	 NULL, get_edges_reclaimed, NULL},
	{"searches_cut", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Lock-order cycle searches stopped by their visit budget: cycles through the locks not "
	 "visited go unseen.",
	 "lock-order cycle searches cut off: raise TRACK_SEARCH_VISITS (now %u)",
	 get_searches_cut, limit_search_visits},
	{"cycles_too_long", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Long cycles (lock-order, deadlock) reported with their first entries only: the "
	 "segment's section for long cycles was full.",
	 "long cycles reported with their first %u entries only: raise TRACK_MAX_FINDINGS (its "
	 "section for long cycles grows with it)", get_cycles_too_long, cycle_max},
	{"torn_reads", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Thread records that kept changing while this snapshot copied them.",
	 "thread records changed while being read", get_torn, NULL},
	{"storage_failures", TRACK_CG_OVERFLOW, TRACK_CL_WARNING,
	 "Pages of the segment its file system could not supply: tables stopped growing there.",
	 "pages the segment's file system could not supply: tables stopped growing (give "
	 "TRACK_DIR more room)", get_storage_failures, NULL},
	{"stacks_unknown", TRACK_CG_OVERFLOW, TRACK_CL_NOTE,
	 "Stacks not captured: the thread ran on a stack of its own (a coroutine's or a signal "
	 "handler's).",
	 "stacks not captured: the thread ran on a stack of its own (a coroutine's or a signal "
	 "handler's)", get_stacks_unknown, NULL},
	{"stale_waits", TRACK_CG_OVERFLOW, TRACK_CL_NOTE,
	 "Waits left without returning (a longjmp out of a signal handler), closed when the "
	 "thread went on.",
	 "waits were left without returning (longjmp out of a signal handler) and closed when "
	 "the thread went on", get_stale_waits, NULL},
};

const size_t track_ncounters = sizeof track_counters / sizeof track_counters[0];

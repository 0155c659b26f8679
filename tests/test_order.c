/*
 * test_order.c — lock-order checking, deadlock detection and misuse, end to end: the
 * scenarios of fixtures/fx_order.c run under `track run`, and the JSON report must hold
 * exactly the findings each one should produce (positives) and none at all where there is
 * nothing wrong (negatives: consistent orders, trylock back-off, read-read on an rwlock,
 * recursive relocking, a reused address, slow but finite waits, correct use of everything).
 *
 * The fixture prints the address of each lock ("addr A 0x...") and the id of each thread that
 * matters ("tid dl-ab 1234"), so the report's cycles and wait-for lists are checked against
 * the real objects, and its locations against the fixture's function names.
 *
 * Deadlocking scenarios hang for ever unless track ends them; the fixture's own watchdog
 * (FX_WATCHDOG, SIGALRM: status 142) ends them first if it does not.
 */
#define _GNU_SOURCE
#include <check.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/* Seconds a deadlocked run may take in all: start, detection (promised within a second),
 * report.  Generous, for loaded CI machines. */
#define DEADLOCK_RUN_MAX 5.0

/* ---- helpers ------------------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The value after "KEY NAME " on a line of the fixture's output, or NULL. */
static const char *out_field(const struct run_result *r, const char *key, const char *name)
{
	char needle[64];
	const char *p = r->out;
	size_t n = (size_t)snprintf(needle, sizeof needle, "%s %s ", key, name);
	while (p != NULL && *p) {
		if (strncmp(p, needle, n) == 0)
			return p + n;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

static unsigned long long out_addr(const struct run_result *r, const char *name)
{
	const char *v = out_field(r, "addr", name);
	ck_assert_msg(v != NULL, "fixture did not print the address of %s:\n%s", name, r->out);
	return strtoull(v, NULL, 0);
}

static long long out_tid(const struct run_result *r, const char *name)
{
	const char *v = out_field(r, "tid", name);
	ck_assert_msg(v != NULL, "fixture did not print the tid of %s:\n%s", name, r->out);
	return strtoll(v, NULL, 10);
}

/* An address in the report: "0x..." (an integer would do too), 0 if absent. */
static unsigned long long jaddr(json_t *o, const char *field)
{
	json_t *v = json_object_get(o, field);
	if (json_is_integer(v))
		return (unsigned long long)json_integer_value(v);
	return json_is_string(v) ? strtoull(json_string_value(v), NULL, 0) : 0;
}

/* A location is in function fn (or fn was inlined there). */
static int loc_is(json_t *loc, const char *fn)
{
	const char *f = json_string_value(json_object_get(loc, "function"));
	json_t *e;
	size_t i;
	if (f != NULL && strcmp(f, fn) == 0)
		return 1;
	json_array_foreach(json_object_get(loc, "inlined_into"), i, e)
		if (loc_is(e, fn))
			return 1;
	return 0;
}

static int stack_has(json_t *stack, const char *fn)
{
	json_t *e;
	size_t i;
	json_array_foreach(stack, i, e)
		if (loc_is(e, fn))
			return 1;
	return 0;
}

/* argv for a fixture scenario (static: one at a time). */
static char **fx(const char *scenario)
{
	static char path[512], name[64];
	static char *argv[3];
	snprintf(path, sizeof path, "%s", fixture("fx_order"));
	snprintf(name, sizeof name, "%s", scenario);
	argv[0] = path;
	argv[1] = name;
	argv[2] = NULL;
	return argv;
}

/* traced(), and how long it took in *elapsed. */
static json_t *timed(char **argv, char *const *opts, char *const *env, struct run_result *r,
		     double *elapsed)
{
	double t0 = now_s();
	json_t *root = traced(opts, argv, env, r);
	*elapsed = now_s() - t0;
	return root;
}

/* A scenario that must run to completion, with status 0. */
static json_t *scenario(const char *name, char *const *opts, struct run_result *r)
{
	json_t *root = traced(opts, fx(name), NULL, r);
	ck_assert_msg(r->status == 0, "fx_order %s exited %d (out: %s; err: %s); findings: %s",
		      name, r->status, r->out, r->err, findings_text(root));
	return root;
}

/* The one finding of a kind; fails unless there is exactly one. */
static json_t *the_finding(json_t *root, const char *kind)
{
	json_t *f;
	ck_assert_msg(count_findings(root, kind) == 1, "want exactly one %s finding, got %d: %s",
		      kind, count_findings(root, kind), findings_text(root));
	f = jfind(root, "findings", "kind", kind);
	ck_assert_msg(f != NULL, "the %s finding is not in the main process: %s", kind,
		      findings_text(root));
	ck_assert_msg(jstr(f, "message") != NULL && *jstr(f, "message"), "no message: %s",
		      dump(f));
	ck_assert_msg(jint(f, "count") >= 1, "no count: %s", dump(f));
	ck_assert_msg(jint(f, "tid") > 0, "no tid: %s", dump(f));
	ck_assert_msg(json_object_get(f, "location") != NULL, "no location: %s", dump(f));
	ck_assert_msg(json_object_get(f, "stack") != NULL, "no stack: %s", dump(f));
	return f;
}

static void no_findings(json_t *root)
{
	ck_assert_msg(count_findings(root, NULL) == 0, "want no findings, got: %s",
		      findings_text(root));
}

/* ---- lock-order cycles ----------------------------------------------------------------- */

/* The variable of the fixture's lock printed as label: "A" is lock_a, "fork2" forks[2]. */
static const char *lock_var(const char *label, char *buf, size_t len)
{
	static const char *const vars[][2] = {{"A", "lock_a"}, {"B", "lock_b"}, {"C", "lock_c"},
					      {"G", "lock_g"}, {"M", "lock_m"}, {"L", "rw_l"}};
	size_t i;
	for (i = 0; i < ARRAY_SIZE(vars); i++)
		if (strcmp(label, vars[i][0]) == 0)
			return vars[i][1];
	ck_assert_msg(strncmp(label, "fork", 4) == 0, "no variable for lock %s", label);
	snprintf(buf, len, "forks[%s]", label + 4);
	return buf;
}


/* One edge of a cycle: lock `from` was held (taken in fn) when lock `to` was taken (in fn),
 * by thread `thread` (a name the fixture printed a tid for), or any thread if NULL. */
struct edge_want {
	const char *from, *to, *fn, *thread;
};

static void check_cycle(json_t *f, const struct run_result *r, const struct edge_want *want,
			size_t n)
{
	json_t *cycle = json_object_get(f, "cycle"), *e;
	size_t i, k;
	ck_assert_msg(json_is_array(cycle) && json_array_size(cycle) == n,
		      "want a cycle of %zu edges: %s", n, dump(f));
	for (i = 0; i < n; i++) {
		json_t *a = json_array_get(cycle, i), *b = json_array_get(cycle, (i + 1) % n);
		ck_assert_msg(jaddr(a, "to") != 0 && jaddr(a, "to") == jaddr(b, "from"),
			      "edges not in cycle order: %s", dump(f));
	}
	for (k = 0; k < n; k++) {
		const struct edge_want *w = &want[k];
		unsigned long long from = out_addr(r, w->from), to = out_addr(r, w->to);
		json_t *edge = NULL;
		json_array_foreach(cycle, i, e)
			if (jaddr(e, "from") == from && jaddr(e, "to") == to)
				edge = e;
		ck_assert_msg(edge != NULL, "no edge %s -> %s (0x%llx -> 0x%llx): %s", w->from,
			      w->to, from, to, dump(f));
		/* static locks: named after their variables */
		{
			char b1[32], b2[32];
			const char *vf = lock_var(w->from, b1, sizeof b1),
				   *vt = lock_var(w->to, b2, sizeof b2);
			const char *nf = jstr(edge, "from_name"), *nt = jstr(edge, "to_name");
			ck_assert_msg(nf != NULL && nt != NULL && strcmp(nf, vf) == 0 &&
					      strcmp(nt, vt) == 0,
				      "edge %s -> %s: want names %s -> %s: %s", w->from, w->to, vf,
				      vt, dump(edge));
		}
		ck_assert_msg(loc_is(json_object_get(edge, "to_location"), w->fn),
			      "edge %s -> %s: to_location is not in %s: %s", w->from, w->to, w->fn,
			      dump(edge));
		ck_assert_msg(loc_is(json_object_get(edge, "from_location"), w->fn),
			      "edge %s -> %s: from_location is not in %s: %s", w->from, w->to,
			      w->fn, dump(edge));
		ck_assert_msg(stack_has(json_object_get(edge, "to_stack"), w->fn),
			      "edge %s -> %s: to_stack has no %s: %s", w->from, w->to, w->fn,
			      dump(edge));
		ck_assert_msg(stack_has(json_object_get(edge, "from_stack"), w->fn),
			      "edge %s -> %s: from_stack has no %s: %s", w->from, w->to, w->fn,
			      dump(edge));
		if (w->thread != NULL)
			ck_assert_msg(jint(edge, "tid") == out_tid(r, w->thread),
				      "edge %s -> %s: tid %lld, want %s's %lld", w->from, w->to,
				      jint(edge, "tid"), w->thread, out_tid(r, w->thread));
		else
			ck_assert_msg(jint(edge, "tid") > 0, "edge without tid: %s", dump(edge));
	}
}

/* Exactly one inversion and nothing else; returns it. */
static json_t *the_inversion(json_t *root, const char *severity)
{
	json_t *f = the_finding(root, "lock-order-inversion");
	ck_assert_msg(count_findings(root, NULL) == 1, "want only the inversion: %s",
		      findings_text(root));
	ck_assert_msg(jstr(f, "severity") && strcmp(jstr(f, "severity"), severity) == 0,
		      "want severity %s: %s", severity, dump(f));
	return f;
}

/* The inversion scenarios: each makes one cycle, whose edges must be these.  gate: the
 * name of the lock that must be reported as gating it ("-": it must be reported not gated;
 * NULL: not checked). */
struct inversion_case {
	const char *scenario;
	const char *severity;
	const char *gate;
	size_t n;
	struct edge_want edges[3];
};

static const struct inversion_case inversions[] = {
	{"ab_ba", "error", "-", 2,                       /* two threads, opposite orders */
	 {{"A", "B", "take_a_then_b", "ab"}, {"B", "A", "take_b_then_a", "ba"}}},
	{"ab_ba_same_thread", "error", NULL, 2,         /* one thread makes the cycle alone */
	 {{"A", "B", "take_a_then_b", "solo"}, {"B", "A", "take_b_then_a", "solo"}}},
	{"cycle3", "error", NULL, 3,                    /* a cycle of three locks */
	 {{"A", "B", "take_a_then_b", "ab"}, {"B", "C", "take_b_then_c", "bc"},
	  {"C", "A", "take_c_then_a", "ca"}}},
	{"ab_ba_many", "error", NULL, 2,                /* the same cycle, seen many times: once */
	 {{"A", "B", "take_a_then_b", NULL}, {"B", "A", "take_b_then_a", NULL}}},
	{"trylock_then_lock", "error", NULL, 2,         /* a lock held by trylock orders later ones */
	 {{"A", "B", "trylock_a_then_lock_b", "try-a-b"}, {"B", "A", "take_b_then_a", "ba"}}},
	{"rwlock_writer", "error", NULL, 2,             /* an rwlock's writer makes a cycle */
	 {{"L", "M", "rdlock_l_then_m", "rd-l-m"}, {"M", "L", "lock_m_then_wrlock_l", "m-wr-l"}}},
	{"rwlock_readers_wpref", "error", NULL, 2,      /* readers wait behind a queued writer */
	 {{"L", "M", "rdlock_l_then_m", "rd-l-m"}, {"M", "L", "lock_m_then_rdlock_l", "m-rd-l"}}},
	{"gate", "info", "G", 2,                        /* gated: info only, --error-exitcode 0 */
	 {{"A", "B", "take_a_then_b", NULL}, {"B", "A", "take_b_then_a", NULL}}},
	{"ab_known_ba", "error", "-", 2,               /* A -> B known to the graph before most */
	 {{"A", "B", "take_a_then_b", "ab"}, {"B", "A", "take_b_then_a", "ba"}}},
	{"gate_dropped", "error", "-", 2,              /* the gate of A -> B dropped by a thread */
	 {{"A", "B", "take_a_then_b", "gated"}, {"B", "A", "take_b_then_a", NULL}}},
};

START_TEST(inversion_is_reported_with_its_edges)
{
	const struct inversion_case *c = &inversions[_i];
	char *opts[] = {"--error-exitcode=42", NULL};
	struct run_result r;
	/* --error-exitcode: scenario() wants status 0, so an info finding must not count */
	json_t *root = scenario(c->scenario, strcmp(c->severity, "info") == 0 ? opts : NULL, &r), *f;
	f = the_inversion(root, c->severity);
	check_cycle(f, &r, c->edges, c->n);
	if (c->gate != NULL && strcmp(c->gate, "-") == 0)
		ck_assert_msg(!json_is_string(json_object_get(f, "gated_by")), "not gated: %s",
			      dump(f));
	if (c->gate != NULL && strcmp(c->gate, "-") != 0) {
		json_t *first = json_array_get(json_object_get(f, "cycle"), 0);
		char buf[32], *text = slurp_file(tmp_path("report.txt")), line[64];
		ck_assert_msg(jaddr(f, "gated_by") == out_addr(&r, c->gate),
			      "gated_by is not %s (%s): %s", c->gate,
			      out_field(&r, "addr", c->gate), dump(f));
		ck_assert_str_eq(jstr(f, "gated_by_name"), lock_var(c->gate, buf, sizeof buf));
		snprintf(line, sizeof line, "gated by mutex %s:",
			 lock_var(c->gate, buf, sizeof buf));
		ck_assert_msg(text != NULL && strstr(text, line) != NULL, "no \"%s\" in:\n%s", line,
			      text);
		free(text);
		ck_assert(stack_has(json_object_get(first, "to_stack"), "gate_then_a_then_b") ||
			  stack_has(json_object_get(first, "to_stack"), "gate_then_b_then_a"));
	}
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(inversion_counts_for_error_exitcode)
{
	char *opts[] = {"--error-exitcode=42", NULL};
	struct run_result r;
	json_t *root = traced(opts, fx("ab_ba"), NULL, &r);
	ck_assert_msg(r.status == 42, "status %d, want 42: %s", r.status, findings_text(root));
	ck_assert_int_eq(count_findings(root, "lock-order-inversion"), 1);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A scenario with opts that must run to completion with no findings. */
static void nothing_found(const char *name, char *const *opts)
{
	struct run_result r;
	json_t *root = scenario(name, opts, &r);
	no_findings(root);
	json_decref(root);
	run_free(&r);
}

START_TEST(lock_order_off)
{
	nothing_found("ab_ba", (char *[]){"--lock-order=off", "--error-exitcode=42", NULL});
}
END_TEST

/* Locks made at the same sites, used in opposite orders on different instances: a cycle
 * between classes, none between instances (that half is in the negatives below). */
START_TEST(class_mode_finds_class_cycle)
{
	char *opts[] = {"--lock-order=class", NULL};
	struct run_result r;
	json_t *root = scenario("class_order", opts, &r), *f, *cycle, *e;
	int seen_pc = 0, seen_cp = 0;
	size_t i;
	f = the_inversion(root, "error");
	cycle = json_object_get(f, "cycle");
	ck_assert_msg(json_array_size(cycle) == 2, "want 2 edges: %s", dump(f));
	json_array_foreach(cycle, i, e) {
		seen_pc |= loc_is(json_object_get(e, "to_location"), "lock_parent_then_child");
		seen_cp |= loc_is(json_object_get(e, "to_location"), "lock_child_then_parent");
	}
	ck_assert_msg(seen_pc && seen_cp, "edges not where the locks were taken: %s", dump(f));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Negatives: nothing at all may be reported. */
static const char *const negatives[] = {
	"consistent_order",   /* A, B, C always in that order, two threads at once */
	"trylock_backoff",    /* B then trylock A, backing off */
	"address_reuse",      /* old -> B; old destroyed; new at the same address; B -> new */
	"recursive",          /* recursive relock while a later lock is held */
	"rwlock_readers",     /* L(read) -> M, M -> L(read) */
	"cancel-live",        /* a live thread cancelled, then joined */
	"class_order",        /* opposite orders, different instances (instance mode) */
	"destroy_cond_after_broadcast",   /* the waiter is woken, only the mutex is awaited */
	"clean",              /* every primitive used correctly */
};

/* Locals of two threads at one stack address (the stack passed on by glibc) are two locks;
 * a local handed to another thread that used it first is still one lock. */
START_TEST(stack_locals_are_new_locks)
{
	struct run_result r;
	json_t *root = scenario("stack_reuse", NULL, &r);
	const char *first = strstr(r.out, "local at "), *second;
	ck_assert_ptr_nonnull(first);
	second = strstr(first + 1, "local at ");
	ck_assert_ptr_nonnull(second);
	ck_assert_msg(strncmp(first, second, strcspn(first, "\n")) == 0,
		      "the stack was not reused, nothing tested: %s", r.out);
	no_findings(root);
	json_decref(root);
	run_free(&r);
	root = scenario("stack_handed", NULL, &r);
	the_finding(root, "lock-order-inversion");
	json_decref(root);
	run_free(&r);
	/* 500 threads' locals on one reused stack: the record is renewed, the table not filled */
	root = scenario("stack_storm", NULL, &r);
	ck_assert_msg(json_array_size(json_object_get(root, "locks")) <= 4, "%zu locks",
		      json_array_size(json_object_get(root, "locks")));
	no_findings(root);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(negatives_report_nothing)
{
	struct run_result r;
	json_t *root = scenario(negatives[_i], NULL, &r);
	ck_assert_msg(strstr(r.out, " done") != NULL, "%s did not finish: %s", negatives[_i],
		      r.out);
	no_findings(root);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* ---- deadlocks ------------------------------------------------------------------------- */

/* A thread of the wait-for cycle: the fixture's thread `name` waits for lock `waits_on` (a
 * printed lock name, or NULL not to check, e.g. for a join), held by thread `held_by`, in fn. */
struct waiter_want {
	const char *name, *waits_on, *held_by, *fn;
	int queued;   /* held_by is a writer queued on the rwlock, not its holder */
};

/* The one deadlock finding of case what (named in failure messages) holds the n threads of
 * want, as the fixture's output (r) names them; each lock waited on is named after its
 * variable, in JSON and in the text report. */
static void check_deadlock(const char *what, json_t *root, const struct run_result *r,
			   const struct waiter_want *want, size_t n)
{
	json_t *f = the_finding(root, "deadlock"), *threads, *th, *e;
	size_t i, k;
	ck_assert_msg(jstr(f, "severity") && strcmp(jstr(f, "severity"), "error") == 0,
		      "%s: a deadlock is an error: %s", what, dump(f));
	threads = json_object_get(f, "threads");
	ck_assert_msg(json_is_array(threads) && json_array_size(threads) == n,
		      "%s: want %zu threads in the deadlock: %s", what, n, dump(f));
	for (k = 0; k < n; k++) {
		const struct waiter_want *w = &want[k];
		long long tid = out_tid(r, w->name);
		th = NULL;
		json_array_foreach(threads, i, e)
			if (jint(e, "tid") == tid)
				th = e;
		ck_assert_msg(th != NULL, "%s: thread %s (%lld) not in the deadlock: %s", what,
			      w->name, tid, dump(f));
		ck_assert_msg(jstr(th, "name") && strcmp(jstr(th, "name"), w->name) == 0,
			      "%s: thread %lld should be named %s: %s", what, tid, w->name,
			      dump(th));
		if (w->waits_on != NULL) {
			char buf[32], line[128], *text = slurp_file(tmp_path("report.txt"));
			const char *var = lock_var(w->waits_on, buf, sizeof buf);
			ck_assert_msg(jaddr(th, "waits_on") == out_addr(r, w->waits_on),
				      "%s: %s should wait on %s (%s): %s", what, w->name,
				      w->waits_on, out_field(r, "addr", w->waits_on), dump(th));
			ck_assert_msg(jstr(th, "waits_on_name") != NULL &&
					      strcmp(jstr(th, "waits_on_name"), var) == 0,
				      "%s: %s should wait on %s: %s", what, w->name, var, dump(th));
			snprintf(line, sizeof line,
				 w->queued ? "\"%s\" waits for %s %s behind thread %lld, a writer queued"
					   : "\"%s\" waits for %s %s held by thread %lld",
				 w->name, jstr(th, "object_kind"), var, out_tid(r, w->held_by));
			ck_assert_msg(text != NULL && strstr(text, line) != NULL,
				      "%s: no \"%s\" in the text report:\n%s", what, line, text);
			free(text);
		} else {
			ck_assert_msg(jaddr(th, "waits_on") != 0, "%s: %s waits on nothing: %s",
				      what, w->name, dump(th));
			/* a pthread_t: no name */
			ck_assert_ptr_null(json_object_get(th, "waits_on_name"));
		}
		ck_assert_msg(json_is_true(json_object_get(th, "behind_queued_writer")) == w->queued,
			      "%s: %s: behind_queued_writer should be %d: %s", what, w->name,
			      w->queued, dump(th));
		ck_assert_msg(jint(th, "held_by") == out_tid(r, w->held_by),
			      "%s: %s: held_by should be %s (%lld): %s", what, w->name, w->held_by,
			      out_tid(r, w->held_by), dump(th));
		ck_assert_msg(stack_has(json_object_get(th, "stack"), w->fn),
			      "%s: %s: stack has no %s: %s", what, w->name, w->fn, dump(th));
	}
}

/* Run a deadlocking scenario; it must be ended with want_status, soon.  Unless env says
 * otherwise, the fixture's watchdog fires after 10 s, inside the test's 30 s timeout. */
static json_t *deadlocked(char **argv, char *const *opts, char *const *env, int want_status,
			  struct run_result *r)
{
	static char *const short_watchdog[] = {"FX_WATCHDOG=10", NULL};
	double t;
	json_t *root = timed(argv, opts, env != NULL ? env : short_watchdog, r, &t);
	ck_assert_msg(r->status == want_status,
		      "%s %s: status %d, want %d (142: still deadlocked when the fixture's "
		      "watchdog fired); err: %s; findings: %s", argv[0], argv[1], r->status,
		      want_status, r->err, findings_text(root));
	if (want_status != 142)
		ck_assert_msg(t < DEADLOCK_RUN_MAX, "took %.1f s to end the deadlock", t);
	return root;
}

/* deadlock2: two threads, each holding the mutex the other waits for */
#define DL2_WAITERS                                      \
	{{"dl-ab", "B", "dl-ba", "dl_a_then_b", 0},      \
	 {"dl-ba", "A", "dl-ab", "dl_b_then_a", 0}}

/* The deadlocking scenarios, each run with at most one track run option and one variable:
 * ended with status (142: left to the fixture's watchdog), its deadlock holding the n
 * threads of want, and the program never done. */
static const struct deadlock_case {
	const char *name, *scenario;
	char *opt, *env;
	int status;
	size_t n;
	struct waiter_want want[5];
} deadlocks[] = {
	{"by default the program ends with status 7", "deadlock2", NULL, NULL, 7, 2, DL2_WAITERS},
	{"the status is --error-exitcode's", "deadlock2", "--error-exitcode=42", NULL, 42, 2,
	 DL2_WAITERS},
	{"--on-deadlock=abort", "deadlock2", "--on-deadlock=abort", NULL, 134, 2, DL2_WAITERS},
	/* report: recorded, and the program left hanging (until the fixture's watchdog) */
	{"--on-deadlock=report", "deadlock2", "--on-deadlock=report", "FX_WATCHDOG=3", 142, 2,
	 DL2_WAITERS},
	{"through a join", "deadlock_join", NULL, NULL, 7, 2,
	 {{"dl-joiner", NULL, "dl-joined", "hold_a_and_join", 0},
	  {"dl-joined", "A", "dl-joiner", "lock_a_blocked", 0}}},
	{"with an rwlock", "deadlock_rwlock", NULL, NULL, 7, 2,
	 {{"dl-lm", "M", "dl-ml", "dl_wrlock_l_then_m", 0},
	  {"dl-ml", "L", "dl-lm", "dl_m_then_wrlock_l", 0}}},
	/* writer-preferring: a reader waits behind a queued writer, who waits for the readers */
	{"a read behind a queued writer", "deadlock_rwlock_wpref", NULL, NULL, 7, 3,
	 {{"wp-reader", "M", "wp-m", "wp_read_l_then_m", 0},
	  {"wp-m", "L", "wp-writer", "wp_m_then_read_l", 1},
	  {"wp-writer", "L", "wp-reader", "wp_write_l", 0}}},
	{"five philosophers", "philosophers", NULL, NULL, 7, 5,
	 {{"phil-0", "fork1", "phil-1", "take_left_then_right", 0},
	  {"phil-1", "fork2", "phil-2", "take_left_then_right", 0},
	  {"phil-2", "fork3", "phil-3", "take_left_then_right", 0},
	  {"phil-3", "fork4", "phil-4", "take_left_then_right", 0},
	  {"phil-4", "fork0", "phil-0", "take_left_then_right", 0}}},
};

/* A condvar destroyed while a thread waits in it for ever: glibc's destroy would wait for
 * ever too; it is found, and ended like a deadlock.  Negative: the waiter with a timeout
 * (destroy-cond-with-waiters) is reported but left to end by itself. */
START_TEST(destroy_hang_is_ended)
{
	struct run_result r;
	json_t *root = deadlocked(fx("destroy-cond-untimed"), NULL, NULL, 7, &r);
	ck_assert_str_eq(jstr(root, "process.ended_by"), "deadlock");
	want_findings(root, "destroy-cond-with-waiters=1");
	ck_assert_msg(strstr(r.out, "destroy returned") == NULL, "%s", r.out);
	want_text(r.err, "track: condvar ", "destroyed with 1 thread waiting on it that nobody "
		  "will release", NULL);
	json_decref(root);
	run_free(&r);
	root = deadlocked(fx("destroy-cond-with-waiters"), NULL, NULL, 0, &r);
	want_findings(root, "destroy-cond-with-waiters=1");
	ck_assert_str_eq(jstr(root, "process.ended_by"), "exit");
	json_decref(root);
	run_free(&r);
	/* a barrier: one of two waits, then it is destroyed; and, allowed, after the round */
	root = deadlocked(fx("destroy-barrier-untimed"), NULL, NULL, 7, &r);
	want_findings(root, "destroy-barrier-with-waiters=1");
	want_text(r.err, "track: barrier ", "destroyed with 1 thread waiting at it", NULL);
	json_decref(root);
	run_free(&r);
	root = deadlocked(fx("destroy-barrier-after-round"), NULL, NULL, 0, &r);
	want_findings(root, "destroy-barrier-with-waiters=0");
	want_text(r.out, "destroy returned", NULL);
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(deadlock_is_found_and_ended)
{
	const struct deadlock_case *c = &deadlocks[_i];
	char *opts[] = {c->opt, NULL}, *env[] = {c->env, NULL}, done[64];
	struct run_result r;
	json_t *root = deadlocked(fx(c->scenario), opts, c->env ? env : NULL, c->status, &r);
	check_deadlock(c->name, root, &r, c->want, c->n);
	snprintf(done, sizeof done, "%s done", c->scenario);
	ck_assert_msg(strstr(r.out, done) == NULL, "%s: the program went on: %s", c->name, r.out);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A normal mutex relocked by its holder waits for itself: double-lock, and ended. */
START_TEST(self_deadlock_on_normal_mutex)
{
	struct run_result r;
	json_t *root = deadlocked(fx("double-lock-normal"), NULL, NULL, 7, &r), *f;
	f = the_finding(root, "double-lock");
	ck_assert_msg(loc_is(json_object_get(f, "location"), "relock_normal"), "%s", dump(f));
	ck_assert_msg(count_findings(root, NULL) ==
		      1 + count_findings(root, "deadlock"), "unexpected findings: %s",
		      findings_text(root));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Long but finite waits are not deadlocks. */
START_TEST(slow_is_not_a_deadlock)
{
	char *opts[] = {"--error-exitcode=42", NULL};
	struct run_result r;
	double t;
	json_t *root = timed(fx("slow"), opts, NULL, &r, &t);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, findings_text(root));
	ck_assert_msg(t >= 1.4, "the wait did not happen (%.2f s)", t);
	ck_assert_ptr_nonnull(strstr(r.out, "slow done"));
	no_findings(root);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* The writer-preferring cycle with a timed writer ends when the writer gives up: the
 * lock-order inversion is reported, no deadlock. */
START_TEST(timed_writer_is_not_a_deadlock)
{
	struct run_result r;
	json_t *root = scenario("rwlock_wpref_timed_writer", NULL, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "rwlock_wpref_timed_writer done"));
	ck_assert_msg(count_findings(root, "deadlock") == 0 &&
			      count_findings(root, "lock-order-inversion") == 1 &&
			      count_findings(root, NULL) == 1,
		      "want one lock-order-inversion, no deadlock: %s", findings_text(root));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* ---- misuse ------------------------------------------------------------------------------ */

static const struct {
	const char *scenario, *kind, *fn;
} misuses[] = {
	{"unlock-not-owner", "unlock-not-owner", "unlock_from_other_thread"},
	{"unlock-unlocked", "unlock-unlocked", "unlock_never_locked"},
	{"unlock-unlocked-rwlock", "unlock-unlocked", "unlock_rwlock_not_held"},
	{"double-lock", "double-lock", "relock_errorcheck"},
	{"destroy-locked", "destroy-locked", "destroy_while_locked"},
	{"destroy-cond-with-waiters", "destroy-cond-with-waiters", "destroy_cond_in_use"},
	{"cond-wait-without-mutex", "cond-wait-without-mutex", "wait_without_mutex"},
	{"cond-two-mutexes", "cond-two-mutexes", "wait_with_second_mutex"},
	{"exit-holding-lock", "exit-holding-lock", "return_holding_lock"},
	{"join-invalid", "join-invalid", "join_detached_thread"},
	{"self-join", "join-invalid", "join_self"},
	{"detach-twice", "detach-invalid", "detach_again"},
	{"rwlock-relock", "double-lock", "rdlock_while_writing"},
	{"barrier-count-0", "api-call-failed", "barrier_of_none"},
	{"bad-timeout", "api-call-failed", "wait_until_nonsense"},
	{"reinit-locked", "reinit-in-use", "init_while_locked"},
	{"exit-called-holding", "exit-holding-lock", "exit_called_holding"},
	{"cancel-after-join", "cancel-invalid", "cancel_joined"},
	{"lock-after-destroy", "use-after-destroy", "lock_destroyed"},
};

START_TEST(misuse_is_found_once)
{
	struct run_result r;
	json_t *root = scenario(misuses[_i].scenario, NULL, &r), *f;
	f = the_finding(root, misuses[_i].kind);
	ck_assert_msg(count_findings(root, NULL) == 1, "%s: want only %s: %s",
		      misuses[_i].scenario, misuses[_i].kind, findings_text(root));
	ck_assert_msg(jstr(f, "severity") && strcmp(jstr(f, "severity"), "error") == 0,
		      "severity: %s", dump(f));
	ck_assert_msg(jint(f, "count") == 1, "done once: %s", dump(f));
	ck_assert_msg(loc_is(json_object_get(f, "location"), misuses[_i].fn),
		      "%s: location should be in %s: %s", misuses[_i].scenario, misuses[_i].fn,
		      dump(f));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A thread that ends holding a lock as the process ends, nobody asking for it (the JVM's VM
 * thread on every run), is informational: it does not fail --error-exitcode. */
START_TEST(exit_holding_at_the_end_is_info)
{
	struct run_result r;
	json_t *root = scenario("exit-holding-at-end", (char *[]){"--error-exitcode=9", NULL}, &r);
	json_t *f = the_finding(root, "exit-holding-lock");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, findings_text(root));
	ck_assert_msg(strcmp(jstr(f, "severity"), "info") == 0, "%s", dump(f));
	ck_assert_msg(strstr(jstr(f, "message"), "nobody waited for it") != NULL, "%s", dump(f));
	ck_assert_msg(loc_is(json_object_get(f, "location"), "return_holding_lock"), "%s", dump(f));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(exit_holding_alone_is_info)
{
	struct run_result r;
	json_t *root = scenario("exit-called-holding-alone", (char *[]){"--error-exitcode=9", NULL},
				&r);
	json_t *f = the_finding(root, "exit-holding-lock");
	ck_assert_msg(strcmp(jstr(f, "severity"), "info") == 0, "%s", dump(f));
	ck_assert_msg(strstr(jstr(f, "message"), "called exit()") != NULL, "%s", dump(f));
	ck_assert_msg(loc_is(json_object_get(f, "location"), "exit_called_holding_alone"), "%s",
		      dump(f));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(robust_owner_death_is_not_misuse)
{
	struct run_result r;
	json_t *root = scenario("exit-holding-robust", NULL, &r);
	ck_assert_ptr_nonnull(strstr(r.out, "robust: EOWNERDEAD"));
	no_findings(root);
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Heap mutexes freed without a destroy, and new ones made in the same memory and taken in
 * the other order, are other locks: nothing.  The same run with free() left alone
 * (TRACK_FREE=0) shows what the interception prevents: a false inversion. */
START_TEST(freed_memory_holds_new_locks)
{
	struct run_result r;
	json_t *root = scenario("freed-reused", NULL, &r);
	ck_assert_msg(strstr(r.out, "reused yes") != NULL, "the memory was never reused: %s", r.out);
	no_findings(root);
	json_decref(root);
	run_free(&r);
	root = traced(NULL, fx("freed-reused"), (char *[]){"TRACK_FREE=0", NULL}, &r);
	ck_assert_msg(count_findings(root, "lock-order-inversion") == 1, "%s", findings_text(root));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A heap mutex freed while its owner holds it: freed-locked, where free was called. */
START_TEST(freed_while_locked)
{
	struct run_result r;
	json_t *root = scenario("freed-locked", NULL, &r);
	json_t *f = the_finding(root, "freed-locked");
	ck_assert_msg(count_findings(root, NULL) == 1, "%s", findings_text(root));
	ck_assert_msg(jaddr(f, "object") == out_addr(&r, "H"), "%s", dump(f));
	ck_assert_msg(loc_is(json_object_get(f, "location"), "freed_locked") ||
		      stack_has(json_object_get(f, "stack"), "free_while_locked"), "%s", dump(f));
	ck_assert_msg(strstr(jstr(f, "message"), "freed while thread") != NULL, "%s", dump(f));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* A function returns with its local mutex locked, and the next local mutex at that address
 * is locked: the old lock was lost while held (freed-locked, where the new one is taken);
 * the thread then ends holding nothing. */
START_TEST(frame_left_while_locked)
{
	struct run_result r;
	json_t *root = scenario("frame-left-locked", NULL, &r);
	json_t *f;
	ck_assert_msg(strstr(r.out, "same address yes") != NULL, "not the same address: %s", r.out);
	f = the_finding(root, "freed-locked");
	ck_assert_msg(count_findings(root, NULL) == 1, "%s", findings_text(root));
	ck_assert_msg(jaddr(f, "object") == out_addr(&r, "F"), "%s", dump(f));
	ck_assert_msg(loc_is(json_object_get(f, "location"), "lock_fresh_local"), "%s", dump(f));
	ck_assert_msg(strstr(jstr(f, "message"), "returned with it locked") != NULL, "%s", dump(f));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* Killed by SIGTERM while a thread holds mutex K: what each case reports. */
static const struct {
	const char *scenario, *severity, *words;   /* severity NULL: no finding */
} killed[] = {
	{"killed-holding", "info", "killed by SIGTERM"},
	{"killed-holding-pshared", "error", "process-shared, not robust"},
	{"killed-holding-robust", NULL, NULL},   /* what robust is for: not reported */
	{"killed-holding-nothing", NULL, NULL},
};

START_TEST(killed_holding_lock)
{
	struct run_result r;
	json_t *root = traced(NULL, fx(killed[_i].scenario), NULL, &r), *f;
	ck_assert_msg(r.status == 128 + SIGTERM, "status %d: %s", r.status, r.err);
	if (killed[_i].severity == NULL) {
		no_findings(root);
	} else {
		f = the_finding(root, "killed-holding-lock");
		ck_assert_msg(count_findings(root, NULL) == 1, "%s", findings_text(root));
		ck_assert_str_eq(jstr(f, "severity"), killed[_i].severity);
		ck_assert_msg(strstr(jstr(f, "message"), killed[_i].words) != NULL, "%s", dump(f));
		ck_assert_int_eq(jint(f, "tid"), out_tid(&r, "holder"));
		ck_assert_msg(jaddr(f, "object") == out_addr(&r, "K"), "%s", dump(f));
		ck_assert_msg(loc_is(json_object_get(f, "location"), "hold_until_killed"), "%s",
			      dump(f));
	}
	json_decref(root);
	run_free(&r);
}
END_TEST

/* With leak checking, the held lock is lock-held-at-exit (an error), said once; and a later
 * report of the segment, which did not see the signal, says the end is not known. */
START_TEST(killed_holding_lock_other_views)
{
	struct run_result r, rep;
	char *argv[] = {"env", shim_preload(), fx("killed-holding")[0], "killed-holding", NULL};
	json_t *root = traced((char *[]){"--leaks", NULL}, fx("killed-holding"), NULL, &r), *f;
	ck_assert_int_eq(count_findings(root, "killed-holding-lock"), 0);
	ck_assert_int_eq(count_findings(root, "lock-held-at-exit"), 1);
	json_decref(root);
	run_free(&r);
	run(argv, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 128 + SIGTERM);
	run_track((char *[]){"report", "--format", "json", only_segment(), NULL}, NULL, &rep);
	ck_assert_msg(rep.status == 0, "%s", rep.err);
	root = json_loads(rep.out, 0, NULL);
	ck_assert_ptr_nonnull(root);
	f = the_finding(root, "killed-holding-lock");
	ck_assert_msg(strstr(jstr(f, "message"), "ended other than by exit() or _exit()") != NULL,
		      "%s", dump(f));
	json_decref(root);
	run_free(&r);
	run_free(&rep);
}
END_TEST

/* ---- demos ------------------------------------------------------------------------------- */

/* build/bin/NAME: the demos sit beside track (or in $TRACK_DEMOS). */

START_TEST(demo_inversion)
{
	struct run_result r;
	json_t *root = traced(NULL, demo_argv("demo_inversion", NULL), NULL, &r), *f, *e;
	size_t i;
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "balances: alice 80, bob 70"));
	f = the_inversion(root, "error");
	ck_assert_int_eq(json_array_size(json_object_get(f, "cycle")), 2);
	json_array_foreach(json_object_get(f, "cycle"), i, e)
		ck_assert_msg(loc_is(json_object_get(e, "to_location"), "transfer"), "%s", dump(e));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(demo_philosophers)
{
	struct run_result r;
	json_t *root = deadlocked(demo_argv("demo_philosophers", NULL), NULL, NULL, 7, &r), *f, *th;
	size_t i;
	f = the_finding(root, "deadlock");
	ck_assert_msg(json_array_size(json_object_get(f, "threads")) == 5, "%s", dump(f));
	json_array_foreach(json_object_get(f, "threads"), i, th) {
		ck_assert_msg(jstr(th, "name") && strncmp(jstr(th, "name"), "philosopher-", 12) == 0,
			      "%s", dump(th));
		ck_assert_msg(jint(th, "held_by") > 0 && jaddr(th, "waits_on") != 0, "%s",
			      dump(th));
		ck_assert_msg(stack_has(json_object_get(th, "stack"), "philosopher"), "%s",
			      dump(th));
	}
	ck_assert_ptr_null(strstr(r.out, "everyone ate"));
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(demo_misuse)
{
	static const char *const kinds[] = {
		"unlock-not-owner", "unlock-unlocked", "double-lock", "destroy-locked",
		"cond-wait-without-mutex", "exit-holding-lock", "join-invalid",
	};
	struct run_result r;
	json_t *root = traced(NULL, demo_argv("demo_misuse", NULL), NULL, &r);
	size_t i;
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		ck_assert_msg(count_findings(root, kinds[i]) == 1, "want one %s: %s", kinds[i],
			      findings_text(root));
	ck_assert_msg(count_findings(root, NULL) == (int)(sizeof kinds / sizeof kinds[0]),
		      "unexpected findings: %s", findings_text(root));
	json_decref(root);
	run_free(&r);
}
END_TEST

/* ---- suppressions --------------------------------------------------------------------------- */

static char *suppressions(const char *json)
{
	return (char *)write_tmp("suppressions.json", json);
}

START_TEST(suppressed_inversion_is_left_out)
{
	char *opts[] = {"--suppressions", suppressions(
		"[{\"kind\": \"lock-order-inversion\", \"function\": \"take_*\"}]"),
		"--error-exitcode=42", NULL};
	nothing_found("ab_ba", opts);
}
END_TEST

START_TEST(unmatched_suppressions_leave_findings)
{
	char *opts[] = {"--suppressions", suppressions(
		"[{\"kind\": \"lock-order-inversion\", \"function\": \"no_such_function*\"},"
		" {\"kind\": \"deadlock\", \"function\": \"take_*\"},"
		" {\"kind\": \"*\", \"file\": \"*no_such_file.c\"}]"),
		NULL};
	struct run_result r;
	json_t *root = scenario("ab_ba", opts, &r);
	the_inversion(root, "error");
	json_decref(root);
	run_free(&r);
}
END_TEST

START_TEST(suppression_by_file_and_any_kind)
{
	char *opts[] = {"--suppressions", suppressions(
		"[{\"kind\": \"*\", \"file\": \"*fx_order.c\"}]"), NULL};
	nothing_found("unlock-unlocked", opts);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */

int main(void)
{
	const struct test_def tests[] = {
		LOOP_TEST("inversions", inversion_is_reported_with_its_edges,
			  ARRAY_SIZE(inversions)),
		TEST("inversions", inversion_counts_for_error_exitcode),
		TEST("inversions", lock_order_off),
		TEST("inversions", class_mode_finds_class_cycle),
		LOOP_TEST("inversions", negatives_report_nothing, ARRAY_SIZE(negatives)),
		LOOP_TEST("deadlocks", deadlock_is_found_and_ended, ARRAY_SIZE(deadlocks)),
		TEST("deadlocks", destroy_hang_is_ended),
		TEST("deadlocks", self_deadlock_on_normal_mutex),
		TEST("deadlocks", slow_is_not_a_deadlock),
		TEST("deadlocks", timed_writer_is_not_a_deadlock),
		LOOP_TEST("misuse", killed_holding_lock, ARRAY_SIZE(killed)),
		TEST("misuse", killed_holding_lock_other_views),
		TEST("misuse", freed_memory_holds_new_locks),
		TEST("misuse", freed_while_locked),
		TEST("misuse", frame_left_while_locked),
		LOOP_TEST("misuse", misuse_is_found_once, ARRAY_SIZE(misuses)),
		TEST("order", stack_locals_are_new_locks),
		TEST("misuse", exit_holding_at_the_end_is_info),
		TEST("misuse", exit_holding_alone_is_info),
		TEST("misuse", robust_owner_death_is_not_misuse),
		TEST("demos", demo_inversion),
		TEST("demos", demo_philosophers),
		TEST("demos", demo_misuse),
		TEST("suppressions", suppressed_inversion_is_left_out),
		TEST("suppressions", unmatched_suppressions_leave_findings),
		TEST("suppressions", suppression_by_file_and_any_kind),
	};
	return run_tests("order", 30, tests, ARRAY_SIZE(tests));
}

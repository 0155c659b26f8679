/*
 * track/env.h — the TRACK_* environment variables the shim reads, with their types, defaults
 * and ranges, and the one parser both sides use.  The shim parses its configuration with it
 * and records which variables had values it could not use; `track run` checks every
 * variable it passes on with it before the program starts, so that a typo is refused at
 * once instead of silently becoming a default (TRACK_ON_DEADLOCK=exti turning a deadlock
 * that should end a CI job into a hang).
 *
 * Everything here is inline and allocation-free: the shim uses it inside other programs.
 */
#ifndef TRACK_ENV_H
#define TRACK_ENV_H

#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "track/segment.h"

/* What a variable holds. */
enum track_env_type {
	TRACK_ENV_NUMBER,   /* an unsigned integer in [lo, hi] (decimal, or 0x hex) */
	TRACK_ENV_CHOICE,   /* one of the names track_env_choices() lists */
	TRACK_ENV_TEXT,     /* anything (a path, a switch): not checked here */
	TRACK_ENV_DURATION, /* a duration with its unit (track_env_duration), in ns in [lo, hi] */
	TRACK_ENV_SIGNAL,   /* a signal the shim may catch, by name or number (track_env_signal) */
};

#define TRACK_NS_MS 1000000ull
#define TRACK_NS_S  1000000000ull
#define TRACK_NS_D  (86400ull * TRACK_NS_S)

/* X(NAME, type, default, lo, hi): the variables the shim reads.  The order is the order of
 * the bits of the segment header's env_bad, so entries are only ever added at the end. */
#define TRACK_ENV_VARS(X)                                                          \
	X(DIR, TEXT, 0, 0, 0)                                                      \
	X(DISABLE, TEXT, 0, 0, 0)                                                  \
	X(MAX_THREADS, NUMBER, TRACK_DEFAULT_MAX_THREADS, 16, 1u << 20)            \
	X(MAX_OBJECTS, NUMBER, TRACK_DEFAULT_MAX_OBJECTS, 16, 1u << 22)            \
	X(MAX_MODULES, NUMBER, TRACK_DEFAULT_MAX_MODULES, 8, 1u << 14)             \
	X(MAX_FINDINGS, NUMBER, TRACK_DEFAULT_MAX_FINDINGS, 1, 1u << 16)           \
	X(MAX_STACKS, NUMBER, TRACK_DEFAULT_MAX_STACKS, 64, 1u << 20)              \
	X(MAX_EDGES, NUMBER, TRACK_DEFAULT_MAX_EDGES, 64, 1u << 23)                \
	X(STACKS, NUMBER, 1, 0, 1)                                                 \
	X(LOCK_ORDER, CHOICE, 0, 0, 0)                                             \
	X(ON_DEADLOCK, CHOICE, 0, 0, 0)                                            \
	X(DEADLOCK_EXITCODE, NUMBER, TRACK_DEFAULT_DEADLOCK_EXIT, 1, 255)          \
	X(RUN_ID, NUMBER, 0, 0, UINT64_MAX)                                        \
	X(REPORT, CHOICE, 0, 0, 0)                                                 \
	X(RUN_UID, NUMBER, 0, 0, UINT32_MAX)                                       \
	X(KEEP, TEXT, 0, 0, 0)                                                     \
	X(LEAKS, NUMBER, 0, 0, 2)                                                  \
	X(MAX_PROFILES, NUMBER, TRACK_DEFAULT_MAX_PROFILES, 64, 1u << 20)          \
	X(HOLD_SAMPLE, NUMBER, TRACK_DEFAULT_HOLD_SAMPLE, 0, 1u << 20)            \
	X(STALL, DURATION, 0, TRACK_NS_MS, 365 * TRACK_NS_D)                       \
	X(THREAD_LIMIT, NUMBER, 0, 1, 1u << 22)                                    \
	X(DUMP_SIGNAL, SIGNAL, 0, 0, 0)                                            \
	X(SEARCH_VISITS, NUMBER, TRACK_DEFAULT_SEARCH_VISITS, 64, 1u << 22)        \
	X(FREE, NUMBER, 1, 0, 1)                                                   \
	X(THREAD_RECORDS, NUMBER, TRACK_DEFAULT_THREAD_RECORDS, 16, 1u << 20)

#define TRACK_X_ENV(e, ...) TRACK_ENV_##e,
enum track_env_var { TRACK_ENV_VARS(TRACK_X_ENV) TRACK_ENV_COUNT };
#undef TRACK_X_ENV

/* TRACK_REPORT: where the shim itself says that it found something (off: nowhere). */
#define TRACK_REPORT_MODES(X) X(OFF, "off") X(STDERR, "stderr")
#define TRACK_X_RM(e, name) TRACK_RM_##e,
enum track_report_mode { TRACK_REPORT_MODES(TRACK_X_RM) TRACK_RM_COUNT };
#undef TRACK_X_RM

struct track_env_spec {
	const char *name;          /* "TRACK_MAX_THREADS" */
	enum track_env_type type;
	uint64_t dflt, lo, hi;
};

static inline const struct track_env_spec *track_env_spec(enum track_env_var v)
{
#define TRACK_X_SPEC(e, type, dflt, lo, hi) {"TRACK_" #e, TRACK_ENV_##type, dflt, lo, hi},
	static const struct track_env_spec specs[] = {TRACK_ENV_VARS(TRACK_X_SPEC)};
#undef TRACK_X_SPEC
	return &specs[v];
}

/* The names a CHOICE variable takes, NULL-terminated, in the order of its X-list in
 * segment.h (so the index is the enumerator, or for TRACK_LOCK_ORDER the list position). */
static inline const char *const *track_env_choices(enum track_env_var v)
{
#define TRACK_X_CHOICE(e, name, ...) name,
#define TRACK_X_LO_CHOICE(e, value, name) name,
	static const char *const lock_order[] = {TRACK_LOCK_ORDER_MODES(TRACK_X_LO_CHOICE) NULL};
	static const char *const on_deadlock[] = {TRACK_DEADLOCK_ACTIONS(TRACK_X_CHOICE) NULL};
	static const char *const report[] = {TRACK_REPORT_MODES(TRACK_X_CHOICE) NULL};
#undef TRACK_X_CHOICE
#undef TRACK_X_LO_CHOICE
	switch (v) {
	case TRACK_ENV_LOCK_ORDER:
		return lock_order;
	case TRACK_ENV_ON_DEADLOCK:
		return on_deadlock;
	case TRACK_ENV_REPORT:
		return report;
	default:
		return NULL;
	}
}

/* The index of s among names (NULL-terminated), or -1. */
static inline int track_env_choice_index(const char *s, const char *const *names)
{
	int i;
	for (i = 0; names != NULL && names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* s as a number in [lo, hi] (decimal, or hex after 0x): 0 and *out, or -1 (not a number,
 * or out of range: *out is then untouched).  No strtoull: no locale, no errno. */
static inline int track_env_number(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0, base = 10;
	int digits = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s != '\0'; s++, digits++) {
		uint64_t d;
		if (*s >= '0' && *s <= '9')
			d = (uint64_t)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (uint64_t)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (uint64_t)(*s - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;   /* overflows: out of any range */
		v = v * base + d;
	}
	if (digits == 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* s as a duration, a whole number and its unit: ms, s, m, h or d ("500ms", "5s", "2m"), into
 * *ns: 0, or -1 (a bare number is not one: seconds or days?).  The tools' options and the
 * shim's variables take durations with this one parser. */
static inline int track_env_duration(const char *s, uint64_t *ns)
{
	static const struct {
		char unit[3];
		uint64_t ns;
	} units[] = {{"ms", TRACK_NS_MS}, {"s", TRACK_NS_S}, {"m", 60 * TRACK_NS_S},
		     {"h", 3600 * TRACK_NS_S}, {"d", TRACK_NS_D}};
	char digits[24];
	size_t n = 0, i;
	uint64_t v;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof digits)
		return -1;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (track_env_number(digits, 0, UINT64_MAX, &v) != 0)
		return -1;
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(s + n, units[i].unit) == 0 && v <= UINT64_MAX / units[i].ns) {
			*ns = v * units[i].ns;
			return 0;
		}
	return -1;
}

/* The signals a TRACK_SIGNAL variable may name: none the kernel or glibc keeps for itself
 * (KILL, STOP, glibc's 32 and 33) or sends for a fault the program made (SEGV, BUS, FPE, ILL,
 * TRAP, SYS, ABRT), nor CHLD, which is for waiting. */
#define TRACK_ENV_SIGNALS(X) X(HUP) X(INT) X(QUIT) X(USR1) X(USR2) X(TERM) X(WINCH) X(PWR) \
	X(URG) X(XCPU) X(PROF) X(VTALRM) X(ALRM) X(IO) X(TTIN) X(TTOU) X(TSTP) X(CONT)

/* s as such a signal: a name ("SIGQUIT" or "QUIT") or a number (3, or from SIGRTMIN to
 * SIGRTMAX); the number, or -1. */
static inline int track_env_signal(const char *s)
{
#define TRACK_X_SIG(name) {#name, SIG##name},
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {TRACK_ENV_SIGNALS(TRACK_X_SIG)};
#undef TRACK_X_SIG
	uint64_t n;
	size_t i;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (track_env_number(s, 1, 64, &n) == 0) {
		if ((int)n >= SIGRTMIN && (int)n <= SIGRTMAX)
			return (int)n;
		for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			if (sigs[i].sig == (int)n)
				return (int)n;
		return -1;
	}
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (strcmp(s, sigs[i].name) == 0)
			return sigs[i].sig;
	return -1;
}

/* What a variable of type t takes, in words, for the types that a range or a list of names
 * does not say; NULL for the others. */
static inline const char *track_env_type_words(enum track_env_type t)
{
	switch (t) {
	case TRACK_ENV_DURATION:
		return "a duration such as 500ms, 5s, 2m or 1h";
	case TRACK_ENV_SIGNAL:
		return "a catchable signal such as SIGQUIT, USR1 or 10 (not KILL, STOP, CHLD or "
		       "a fault signal)";
	default:
		return NULL;
	}
}

/* value (set, non-empty) of variable v as a number (a NUMBER, a DURATION in ns, a SIGNAL's
 * number, a CHOICE's index), into *out: 0, or -1 if the shim cannot use it. */
static inline int track_env_parse(enum track_env_var v, const char *value, uint64_t *out)
{
	const struct track_env_spec *sp = track_env_spec(v);
	uint64_t n;
	int i;
	switch (sp->type) {
	case TRACK_ENV_NUMBER:
		return track_env_number(value, sp->lo, sp->hi, out);
	case TRACK_ENV_DURATION:
		if (track_env_duration(value, &n) != 0 || n < sp->lo || n > sp->hi)
			return -1;
		*out = n;
		return 0;
	case TRACK_ENV_SIGNAL:
		i = track_env_signal(value);
		break;
	case TRACK_ENV_CHOICE:
		i = track_env_choice_index(value, track_env_choices(v));
		break;
	default:
		*out = 0;
		return 0;
	}
	if (i < 0)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

/* Check value (set, non-empty) for variable v: 0 if the shim can use it, else -1. */
static inline int track_env_valid(enum track_env_var v, const char *value)
{
	uint64_t n;
	return track_env_parse(v, value, &n);
}

#endif /* TRACK_ENV_H */

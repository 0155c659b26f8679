/*
 * options.h — the one way the subcommands take their options.  A subcommand describes itself
 * in a table (its options with their help, what it is about, its exit statuses); from that
 * table come its --help, the parsing (getopt_long underneath) and every message about a bad
 * option, worded the same way for every subcommand.
 */
#ifndef TRACK_OPTIONS_H
#define TRACK_OPTIONS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct track_opt {
	int key;                 /* what track_opt_next returns for it: a character if it has
				    that short form too, else TRACK_LONG_ONLY(a character) */
	const char *name;        /* the long form, without "--" */
	const char *arg;         /* its argument in the help ("FILE"), NULL for a flag */
	const char *help;        /* "\n" starts another line of it */
};

#define TRACK_LONG_ONLY(c) (256 + (c))

struct track_subcmd {
	const char *name;        /* "run" */
	const char *synopsis;    /* "[OPTIONS] [--] PROGRAM [ARGS...]" */
	const char *about;       /* the paragraph(s) between the usage line and the options */
	const struct track_opt *opts;   /* ends with a {0} entry; --help is added */
	const char *after;       /* after the options: exit statuses, environment */
	int operands_end_options;   /* options stop at the first operand (track run's program) */
};

enum {
	TRACK_OPT_END = -1,      /* no more options: optind is the first operand */
	TRACK_OPT_HELP = -2,     /* --help: printed, exit 0 */
	TRACK_OPT_BAD = -3,      /* a bad option: said in one line, exit TRACK_EXIT_USAGE */
};

/* The next option of argv: its key (its argument in optarg), or one of the TRACK_OPT_*. */
int track_opt_next(const struct track_subcmd *c, int argc, char **argv);

/* The help of c, as --help prints it. */
void track_cmd_help(const struct track_subcmd *c, FILE *out);

/* A non-negative decimal number no larger than max (an option's value, a pid); -1 if s is
 * not one. */
long track_parse_count(const char *s, long max);

/* s as a process id, 1 to INT32_MAX; -1 with "'s' is not a process id" said. */
long track_parse_pid(const char *s);

/* The one operand left after the options, a process id, into *pid: 0, or -1 with "name one
 * process id; try 'track CMD --help'" (or what is wrong with the one given) said. */
int track_opt_pid(const struct track_subcmd *c, int argc, char **argv, pid_t *pid);

/* An option's value as a number from min to max; -1 with a one-line message if it is not. */
int track_opt_number(const char *opt, const char *value, long min, long max, long *out);

/* A duration: a whole number and a unit, ms, s, m, h or d ("500ms", "30s", "2h", "7d"), into
 * *ns; -1 if s is not one (a bare number is not: seconds or days?).  track/env.h's parser,
 * which the shim's TRACK_STALL uses too. */
int track_parse_duration(const char *s, uint64_t *ns);

/* An option's value as a duration; -1 with a one-line message if it is not one. */
int track_opt_duration(const char *opt, const char *value, uint64_t *ns);

/* Whether value is one of choices (NULL-terminated); -1 with a one-line message if not. */
int track_opt_choice(const char *opt, const char *value, const char *const *choices);

#endif /* TRACK_OPTIONS_H */

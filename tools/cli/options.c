/*
 * options.c — subcommand options from one table: help, parsing, messages (see options.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "track/env.h"

#define MAX_OPTS 64   /* options of one subcommand, --help included */
#define HELP_COLUMN 26   /* where option help starts; longer spellings get a line of their own */

static const struct track_opt help_opt = {'h', "help", NULL, "show this help"};

static size_t count_opts(const struct track_subcmd *c)
{
	size_t n = 0;
	while (c->opts[n].name != NULL)
		n++;
	return n;
}

/* The getopt_long tables for c: long options and the short-option string. */
static void build(const struct track_subcmd *c, struct option *lo, char *shorts)
{
	size_t i, n = count_opts(c), k = 0;
	if (n + 1 > MAX_OPTS) {   /* a subcommand's table outgrew this file: never silently */
		fprintf(stderr, "track %s: %zu options, more than MAX_OPTS\n", c->name, n);
		abort();
	}
	if (c->operands_end_options)
		shorts[k++] = '+';
	shorts[k++] = ':';   /* a missing argument is ':', not '?' */
	for (i = 0; i <= n && i < MAX_OPTS; i++) {
		const struct track_opt *o = i < n ? &c->opts[i] : &help_opt;
		lo[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					o->key};
		if (o->key > 0 && o->key < 128) {
			shorts[k++] = (char)o->key;
			if (o->arg)
				shorts[k++] = ':';
		}
	}
	lo[i] = (struct option){NULL, 0, NULL, 0};
	shorts[k] = '\0';
}

/* The long option of c that typed ("--name" or "--name=value", abbreviated as getopt allows)
 * names, if its key is key; NULL when typed is not that long option. */
static const struct track_opt *typed_long(const struct track_subcmd *c, const char *typed, int key)
{
	size_t i, n = count_opts(c), len;
	if (strncmp(typed, "--", 2) != 0)
		return NULL;
	typed += 2;
	len = strcspn(typed, "=");
	for (i = 0; i <= n; i++) {
		const struct track_opt *o = i < n ? &c->opts[i] : &help_opt;
		if (o->key == key && strncmp(o->name, typed, len) == 0)
			return o;
	}
	return NULL;
}

/* Say what was wrong with the option getopt just refused.  optopt is the key of a known
 * option (or the letter of a short one), 0 for an unknown long one; argv[optind - 1] is the
 * element getopt last finished, which is the bad one when it is a long option (a bad letter
 * in a cluster such as -xq leaves optind where it was). */
static void bad_option(const struct track_subcmd *c, int opt, char **argv)
{
	const char *typed = argv[optind - 1];
	const struct track_opt *o = optopt != 0 ? typed_long(c, typed, optopt) : NULL;
	if (opt == ':' && o != NULL)
		track_error("option --%s needs an argument; try 'track %s --help'", o->name,
			    c->name);
	else if (opt == ':')
		track_error("option -%c needs an argument; try 'track %s --help'", optopt, c->name);
	else if (o != NULL)
		track_error("option --%s takes no value; try 'track %s --help'", o->name, c->name);
	else if (optopt != 0)
		track_error("unknown option '-%c'; try 'track %s --help'", optopt, c->name);
	else
		track_error("unknown option '%s'; try 'track %s --help'", typed, c->name);
}

/* The entry of c whose key is key, or NULL. */
static const struct track_opt *by_key(const struct track_subcmd *c, int key)
{
	size_t i, n = count_opts(c);
	for (i = 0; i < n; i++)
		if (c->opts[i].key == key)
			return &c->opts[i];
	return NULL;
}

int track_opt_next(const struct track_subcmd *c, int argc, char **argv)
{
	struct option lo[MAX_OPTS + 1];
	char shorts[2 * MAX_OPTS + 3];
	const struct track_opt *o;
	int opt;
	build(c, lo, shorts);
	opterr = 0;
	opt = getopt_long(argc, argv, shorts, lo, NULL);
	if (opt == -1)
		return TRACK_OPT_END;
	if (opt == 'h') {
		track_cmd_help(c, stdout);
		return TRACK_OPT_HELP;
	}
	if (opt == '?' || opt == ':') {
		bad_option(c, opt, argv);
		return TRACK_OPT_BAD;
	}
	/* an empty file name would be found by nothing, or made as "" after the work is done */
	if ((o = by_key(c, opt)) != NULL && o->arg != NULL && strcmp(o->arg, "FILE") == 0 &&
	    optarg[0] == '\0') {
		track_error("--%s needs a file name, not ''; try 'track %s --help'", o->name,
			    c->name);
		return TRACK_OPT_BAD;
	}
	return opt;
}

/* One option's lines of help: its spelling, then its help from HELP_COLUMN. */
static void help_option(FILE *out, const struct track_opt *o)
{
	char spelled[64];
	const char *h = o->help;
	int n;
	if (o->key > 0 && o->key < 128)
		n = snprintf(spelled, sizeof spelled, "  -%c, --%s", o->key, o->name);
	else
		n = snprintf(spelled, sizeof spelled, "      --%s", o->name);
	if (o->arg && n < (int)sizeof spelled)
		n += snprintf(spelled + n, sizeof spelled - (size_t)n, " %s", o->arg);
	fputs(spelled, out);
	if (n > HELP_COLUMN - 2) {   /* at least two spaces before the help */
		fputc('\n', out);
		n = 0;
	}
	for (;;) {
		size_t len = strcspn(h, "\n");
		fprintf(out, "%*s%.*s\n", HELP_COLUMN - n, "", (int)len, h);
		if (h[len] == '\0')
			break;
		h += len + 1;
		n = 0;
	}
}

void track_cmd_help(const struct track_subcmd *c, FILE *out)
{
	size_t i, n = count_opts(c);
	fprintf(out, "usage: track %s%s%s\n\n%s\n\noptions:\n", c->name,
		c->synopsis[0] != '\0' ? " " : "", c->synopsis, c->about);
	for (i = 0; i < n; i++)
		help_option(out, &c->opts[i]);
	help_option(out, &help_opt);
	if (c->after != NULL)
		fprintf(out, "\n%s\n", c->after);
}

long track_parse_count(const char *s, long max)
{
	char *end;
	long v;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;   /* strtol would take " 5" and "+5" too */
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

int track_opt_number(const char *opt, const char *value, long min, long max, long *out)
{
	long v = track_parse_count(value, max);
	if (v >= min) {
		*out = v;
		return 0;
	}
	if (min == 0)
		track_error("%s needs a non-negative number, not '%s'", opt, value);
	else
		track_error("%s needs a number from %ld to %ld, not '%s'", opt, min, max, value);
	return -1;
}

long track_parse_pid(const char *s)
{
	long v = track_parse_count(s, INT32_MAX);
	if (v >= 1)
		return v;
	track_error("'%s' is not a process id (a number from 1 to %d)", s, INT32_MAX);
	return -1;
}

int track_opt_pid(const struct track_subcmd *c, int argc, char **argv, pid_t *pid)
{
	long v;
	if (optind != argc - 1) {
		track_error("name one process id; try 'track %s --help'", c->name);
		return -1;
	}
	if ((v = track_parse_pid(argv[optind])) < 0)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

int track_parse_duration(const char *s, uint64_t *ns)
{
	return s != NULL ? track_env_duration(s, ns) : -1;
}

int track_opt_duration(const char *opt, const char *value, uint64_t *ns)
{
	if (track_parse_duration(value, ns) == 0)
		return 0;
	track_error("%s needs a duration such as 500ms, 30s, 10m, 2h or 7d, not '%s'", opt, value);
	return -1;
}

int track_opt_choice(const char *opt, const char *value, const char *const *choices)
{
	char list[256];
	size_t i, k = 0;
	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(value, choices[i]) == 0)
			return 0;
	for (i = 0; choices[i] != NULL && k < sizeof list; i++)
		k += (size_t)snprintf(list + k, sizeof list - k, "%s%s",
				      i == 0 ? "" : choices[i + 1] == NULL ? " or " : ", ",
				      choices[i]);
	track_error("%s needs one of %s, not '%s'", opt, list, value);
	return -1;
}

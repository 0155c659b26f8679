/*
 * suppress.h — suppression files: known findings a user has decided to accept, so that they
 * leave the report and stop counting for --error-exitcode.
 *
 * A suppressions file is a JSON array of rules:
 *
 *   [ { "kind": "lock-order-inversion", "function": "legacy_*", "file": "vendor*.c",
 *       "comment": "why this is accepted" } ]
 *
 * "kind" is a finding kind or "*" (the default); "function" and "file" are fnmatch globs, at
 * least one of them is required; "file" is matched against a file's full path and its
 * basename.  A rule matches a finding of its kind if one frame of the finding's stacks matches
 * every glob the rule has.  Any other key is an error: a misspelt key must not silently
 * suppress nothing.
 *
 * This file knows rules and frames only: which frames a finding has is the model's business
 * (model.c), so the parser and matcher can be tested on their own.
 */
#ifndef TRACK_SUPPRESS_H
#define TRACK_SUPPRESS_H

#include <stddef.h>

/* The finding kind called name (> 0), or -1 if there is none. */
typedef int (*track_supp_kind_fn)(const char *name);

struct track_supp_rule {
	int kind;              /* finding kind, or -1 for any */
	char *function;        /* glob, or NULL */
	char *file;            /* glob, or NULL */
	char *comment;         /* or NULL */
};

struct track_suppressions {
	struct track_supp_rule *rules;
	size_t n;
};

/* One symbolized frame (an inlined function is a frame of its own); either may be NULL. */
struct track_supp_frame {
	const char *function;
	const char *file;
};

/* Parse the rules in text (len bytes); name is the file name used in messages.  Returns 0, or
 * -1 with a one-line message in err: "NAME:LINE:COLUMN: what is wrong". */
int track_supp_parse(const char *text, size_t len, const char *name, track_supp_kind_fn kind_of,
		     struct track_suppressions **out, char *err, size_t errlen);

/* Read and parse the file at path (as track_supp_parse). */
int track_supp_load(const char *path, track_supp_kind_fn kind_of,
		    struct track_suppressions **out, char *err, size_t errlen);

/* The suppressions a command uses: from the file named by option if not NULL, else by
 * $TRACK_SUPPRESSIONS if set and not empty, else none (*out = NULL).  Returns as
 * track_supp_load. */
int track_supp_open(const char *option, track_supp_kind_fn kind_of,
		    struct track_suppressions **out, char *err, size_t errlen);

void track_supp_free(struct track_suppressions *sp);

/* Whether rule r matches the frame f. */
int track_supp_rule_matches(const struct track_supp_rule *r, const struct track_supp_frame *f);

/* Whether some rule of sp for findings of kind matches one of the n frames.  sp may be NULL. */
int track_supp_match(const struct track_suppressions *sp, int kind,
		     const struct track_supp_frame *frames, size_t n);

#endif

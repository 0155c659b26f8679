/*
 * suppress.c — reading suppression files and matching their rules against symbolized frames
 * (format and semantics in suppress.h; documented for users in README, "Suppressions").
 *
 * Errors name the file, line and column: jansson gives them for syntax errors; for a rule
 * that parses but is wrong (unknown key, missing glob) the position of the rule itself is
 * found by scanning the text, since jansson keeps no positions for values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/suppress.h"

/* Which rule of which file is being read, for messages. */
struct supp_pos {
	const char *name;
	const char *text;
	size_t len;
	size_t entry;           /* 1-based */
};

/* The offset just past a JSON string starting at text[i] (a '"'). */
static size_t skip_string(const char *text, size_t len, size_t i)
{
	for (i++; i < len && text[i] != '"'; i++)
		if (text[i] == '\\')
			i++;
	return i + 1;
}

/* The offset where element `index` (0-based) of the top-level array begins, in text known
 * to be a valid JSON array; len if there is no such element. */
static size_t element_offset(const char *text, size_t len, size_t index)
{
	size_t i = 0, seen = 0;
	int depth = 0, want = 0;   /* want: the next non-blank at depth 1 starts an element */
	while (i < len) {
		char c = text[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
			continue;
		}
		if (want && depth == 1 && c != ']') {
			if (seen++ == index)
				return i;
			want = 0;
		}
		if (c == '"') {
			i = skip_string(text, len, i);
			continue;
		}
		if (c == '[' || c == '{')
			want = ++depth == 1;
		else if (c == ']' || c == '}')
			depth--;
		else if (c == ',' && depth == 1)
			want = 1;
		i++;
	}
	return len;
}

/* Line and column (from 1) where the rule p names begins. */
static void locate(const struct supp_pos *p, int *line, int *column)
{
	size_t off = element_offset(p->text, p->len, p->entry - 1), i;
	*line = 1;
	*column = 1;
	for (i = 0; i < off; i++) {
		if (p->text[i] == '\n') {
			++*line;
			*column = 1;
		} else {
			++*column;
		}
	}
}

static int fail_at(char *err, size_t errlen, const struct supp_pos *p, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Write "suppressions NAME:LINE:COLUMN: entry N: <message>" to err; returns -1. */
static int fail_at(char *err, size_t errlen, const struct supp_pos *p, const char *fmt, ...)
{
	va_list ap;
	int line, column, n;
	locate(p, &line, &column);
	n = snprintf(err, errlen, "suppressions %s:%d:%d: entry %zu: ", p->name, line, column,
		     p->entry);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const rule_keys[] = {"kind", "function", "file", "comment"};

/* A copy of the string member key of o (NULL if absent); -1 if present but not a string or
 * empty. */
static int string_member(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return -1;
	*out = strdup(json_string_value(v));
	return *out == NULL ? -1 : 0;
}

static int check_keys(json_t *o, const struct supp_pos *p, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i;
	json_object_foreach(o, key, v) {
		for (i = 0; i < sizeof rule_keys / sizeof rule_keys[0]; i++)
			if (strcmp(key, rule_keys[i]) == 0)
				break;
		if (i == sizeof rule_keys / sizeof rule_keys[0])
			return fail_at(err, errlen, p,
				       "unknown key \"%s\" (allowed: kind, function, file, comment)",
				       key);
	}
	return 0;
}

static int parse_kind(json_t *o, track_supp_kind_fn kind_of, struct track_supp_rule *r,
		      const struct supp_pos *p, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "kind");
	const char *name = json_string_value(v);
	r->kind = -1;
	if (v == NULL || (name != NULL && strcmp(name, "*") == 0))
		return 0;
	if (name == NULL)
		return fail_at(err, errlen, p, "\"kind\" must be a string");
	r->kind = kind_of(name);
	if (r->kind <= 0)
		return fail_at(err, errlen, p, "unknown finding kind \"%s\"", name);
	return 0;
}

static int parse_rule(json_t *o, track_supp_kind_fn kind_of, struct track_supp_rule *r,
		      const struct supp_pos *p, char *err, size_t errlen)
{
	if (!json_is_object(o))
		return fail_at(err, errlen, p, "a rule must be an object");
	if (check_keys(o, p, err, errlen) != 0 || parse_kind(o, kind_of, r, p, err, errlen) != 0)
		return -1;
	if (string_member(o, "function", &r->function) != 0 ||
	    string_member(o, "file", &r->file) != 0 ||
	    string_member(o, "comment", &r->comment) != 0)
		return fail_at(err, errlen, p,
			       "\"function\", \"file\" and \"comment\" must be non-empty strings");
	if (r->function == NULL && r->file == NULL)
		return fail_at(err, errlen, p, "a rule needs \"function\" or \"file\" (or both)");
	return 0;
}

static int parse_rules(json_t *root, const char *text, size_t len, const char *name,
		       track_supp_kind_fn kind_of, struct track_suppressions *sp, char *err,
		       size_t errlen)
{
	size_t i;
	json_t *o;
	sp->rules = calloc(json_array_size(root) + 1, sizeof *sp->rules);
	if (sp->rules == NULL) {
		snprintf(err, errlen, "suppressions %s: out of memory", name);
		return -1;
	}
	json_array_foreach(root, i, o) {
		struct supp_pos p = {name, text, len, i + 1};
		sp->n = i + 1;   /* so that track_supp_free frees what this rule got */
		if (parse_rule(o, kind_of, &sp->rules[i], &p, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int track_supp_parse(const char *text, size_t len, const char *name, track_supp_kind_fn kind_of,
		     struct track_suppressions **out, char *err, size_t errlen)
{
	struct track_suppressions *sp;
	json_error_t e;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	int rc;
	*out = NULL;
	if (root == NULL) {
		snprintf(err, errlen, "suppressions %s:%d:%d: %s", name, e.line, e.column, e.text);
		return -1;
	}
	if (!json_is_array(root)) {
		snprintf(err, errlen, "suppressions %s:1:1: must be a JSON array of rules", name);
		json_decref(root);
		return -1;
	}
	sp = calloc(1, sizeof *sp);
	rc = sp == NULL ? -1 : parse_rules(root, text, len, name, kind_of, sp, err, errlen);
	json_decref(root);
	if (rc != 0) {
		if (sp == NULL)
			snprintf(err, errlen, "suppressions %s: out of memory", name);
		track_supp_free(sp);
		return -1;
	}
	*out = sp;
	return 0;
}

/* A suppressions file is written by hand: a few kilobytes.  Far more is not one. */
#define SUPP_MAX_BYTES (16u << 20)

/* path opened for reading if it is a regular file of a sensible size: never blocking on a
 * FIFO nobody writes, never reading /dev/zero for ever.  NULL with *why said otherwise. */
static FILE *open_file(const char *path, const char **why)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	*why = NULL;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		*why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_size > SUPP_MAX_BYTES)
		*why = "far too large for a suppressions file";
	if (*why != NULL) {
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL)
		close(fd);
	return f;
}

/* The whole file, NUL-terminated, malloc'd; NULL with errno set, or *why said, on failure. */
static char *read_file(const char *path, size_t *len, const char **why)
{
	FILE *f = open_file(path, why);
	char *buf = NULL;
	size_t cap = 0, n = 0, k;
	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *b = realloc(buf, cap += 65536);
			if (b == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
	} while (k > 0);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	fclose(f);
	return buf;
}

int track_supp_load(const char *path, track_supp_kind_fn kind_of,
		    struct track_suppressions **out, char *err, size_t errlen)
{
	size_t len = 0;
	const char *why = NULL;
	char *text;
	int rc;
	errno = 0;
	text = read_file(path, &len, &why);
	*out = NULL;
	if (text == NULL) {
		snprintf(err, errlen, "cannot read suppressions file %s: %s", path,
			 why != NULL ? why : strerror(errno ? errno : EIO));
		return -1;
	}
	rc = track_supp_parse(text, len, path, kind_of, out, err, errlen);
	free(text);
	return rc;
}

int track_supp_open(const char *option, track_supp_kind_fn kind_of,
		    struct track_suppressions **out, char *err, size_t errlen)
{
	const char *path = option != NULL ? option : getenv("TRACK_SUPPRESSIONS");
	*out = NULL;
	if (path == NULL || *path == '\0')
		return 0;
	return track_supp_load(path, kind_of, out, err, errlen);
}

void track_supp_free(struct track_suppressions *sp)
{
	size_t i;
	if (sp == NULL)
		return;
	for (i = 0; i < sp->n; i++) {
		free(sp->rules[i].function);
		free(sp->rules[i].file);
		free(sp->rules[i].comment);
	}
	free(sp->rules);
	free(sp);
}

static int file_matches(const char *glob, const char *file)
{
	const char *base = strrchr(file, '/');
	return fnmatch(glob, file, 0) == 0 || (base != NULL && fnmatch(glob, base + 1, 0) == 0);
}

int track_supp_rule_matches(const struct track_supp_rule *r, const struct track_supp_frame *f)
{
	if (r->function != NULL &&
	    (f->function == NULL || fnmatch(r->function, f->function, 0) != 0))
		return 0;
	if (r->file != NULL && (f->file == NULL || !file_matches(r->file, f->file)))
		return 0;
	return 1;
}

int track_supp_match(const struct track_suppressions *sp, int kind,
		     const struct track_supp_frame *frames, size_t n)
{
	size_t i, k;
	if (sp == NULL)
		return 0;
	for (i = 0; i < sp->n; i++) {
		const struct track_supp_rule *r = &sp->rules[i];
		if (r->kind != -1 && r->kind != kind)
			continue;
		for (k = 0; k < n; k++)
			if (track_supp_rule_matches(r, &frames[k]))
				return 1;
	}
	return 0;
}

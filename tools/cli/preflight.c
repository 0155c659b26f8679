/*
 * preflight.c — what `track run` checks before it starts a program, and what it says when
 * the program ran without the shim.
 *
 * The shim cannot refuse a bad TRACK_* value: it lives in the program, which must run as it
 * would without it.  It uses the default and says so once.  track run can refuse, before
 * anything starts, so a typo such as TRACK_ON_DEADLOCK=exti never turns a deadlock that
 * should end a CI job into a hang.  And when nothing was instrumented, the reason is found
 * and named, rather than a list of guesses.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli/cli.h"
#include "track/env.h"
#include "track/segfile.h"

/* "report, exit, abort", "a number from 16 to 1048576", "a duration such as 500ms, ...":
 * what variable v takes, in words. */
static const char *allowed(enum track_env_var v, char *buf, size_t len)
{
	const char *const *names = track_env_choices(v);
	const struct track_env_spec *sp = track_env_spec(v);
	size_t k = 0;
	int i;
	buf[0] = '\0';
	if (track_env_type_words(sp->type) != NULL)
		return track_env_type_words(sp->type);
	if (names == NULL) {
		snprintf(buf, len, "a number from %llu to %llu", (unsigned long long)sp->lo,
			 (unsigned long long)sp->hi);
		return buf;
	}
	for (i = 0; names[i] != NULL && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", names[i]);
	return buf;
}

/* TRACK_DIR must be a directory this user can create files in, and short enough. */
static int check_dir(const char *d)
{
	struct stat st;
	const char *why = NULL;
	if (strlen(d) + 64 > TRACK_SEGFILE_PATH_MAX) {
		track_error("TRACK_DIR is longer than %d characters; use a shorter path",
			    TRACK_SEGFILE_PATH_MAX - 64);
		return -1;
	}
	if (stat(d, &st) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (access(d, W_OK | X_OK) != 0)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	track_error("TRACK_DIR=%s: %s; create it, or unset TRACK_DIR to use the default", d, why);
	return -1;
}

int track_opt_env(const char *opt, const char *var, const char *value)
{
	char buf[256];
	int v;
	for (v = 0; v < TRACK_ENV_COUNT; v++) {
		if (strcmp(track_env_spec((enum track_env_var)v)->name, var) != 0)
			continue;
		if (track_env_valid((enum track_env_var)v, value) == 0)
			return 0;
		track_error("%s needs %s, not '%s'", opt,
			    allowed((enum track_env_var)v, buf, sizeof buf), value);
		return -1;
	}
	return -1;
}

int track_check_env(void)
{
	char buf[256];
	int v;
	for (v = 0; v < TRACK_ENV_COUNT; v++) {
		const struct track_env_spec *sp = track_env_spec((enum track_env_var)v);
		const char *val = getenv(sp->name);
		if (val == NULL || *val == '\0')
			continue;
		if (v == TRACK_ENV_DIR && check_dir(val) != 0)
			return TRACK_EXIT_USAGE;
		if (track_env_valid((enum track_env_var)v, val) != 0) {
			track_error("%s=%s is not valid: use %s", sp->name, val,
				    allowed((enum track_env_var)v, buf, sizeof buf));
			return TRACK_EXIT_USAGE;
		}
	}
	return 0;
}

/* The file execvp would run for name: itself if it has a slash, else the first match in
 * PATH.  0, or -1 if none is found. */
static int find_program(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *colon;
	if (strchr(name, '/') != NULL) {
		snprintf(out, len, "%s", name);
		return 0;
	}
	for (p = path ? path : "/bin:/usr/bin"; *p != '\0'; p = colon + 1) {
		colon = strchrnul(p, ':');
		snprintf(out, len, "%.*s/%s", (int)(colon - p), colon == p ? "." : p, name);
		if (access(out, X_OK) == 0)
			return 0;
		if (*colon == '\0')
			break;
	}
	return -1;
}

/* Whether the ELF file fd has no program interpreter: statically linked, which LD_PRELOAD
 * cannot reach.  -1 if it is not a 64-bit ELF file (a script, say). */
static int is_static_elf(int fd)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int i;
	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof ph)
			return -1;
		if (ph.p_type == PT_INTERP)
			return 0;
	}
	return 1;
}

/* The interpreter a "#!" script names, into out; -1 if fd is not such a script. */
static int script_interpreter(int fd, char *out, size_t len)
{
	char line[256];
	ssize_t n = pread(fd, line, sizeof line - 1, 0);
	size_t k;
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return -1;
	line[n] = '\0';
	k = 2 + strspn(line + 2, " \t");
	line[k + strcspn(line + k, " \t\n")] = '\0';
	snprintf(out, len, "%s", line + k);
	return 0;
}

/* Why the program at path would not load the shim, or NULL if nothing about the file
 * says so.  depth bounds the interpreters followed. */
static const char *file_cause(const char *path, int depth)
{
	static char why[PATH_MAX + 128];
	char interp[PATH_MAX];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), st_static;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID))) {
		close(fd);
		snprintf(why, sizeof why, "%s is set%sid: the dynamic loader ignores LD_PRELOAD "
			 "for it", path, st.st_mode & S_ISUID ? "u" : "g");
		return why;
	}
	if (fgetxattr(fd, "security.capability", NULL, 0) > 0) {
		close(fd);
		snprintf(why, sizeof why, "%s has file capabilities: the dynamic loader ignores "
			 "LD_PRELOAD for it", path);
		return why;
	}
	st_static = is_static_elf(fd);
	if (st_static < 0 && depth > 0 && script_interpreter(fd, interp, sizeof interp) == 0) {
		close(fd);
		return file_cause(interp, depth - 1);
	}
	close(fd);
	if (st_static == 1) {
		snprintf(why, sizeof why, "%s is statically linked: LD_PRELOAD cannot reach it",
			 path);
		return why;
	}
	return NULL;
}

const char *track_untraced_cause(const char *prog)
{
	static char why[PATH_MAX + 64];
	const char *off = getenv("TRACK_DISABLE"), *c;
	if (off != NULL && *off != '\0' && strcmp(off, "0") != 0)
		return "TRACK_DISABLE is set in the environment";
	if (find_program(prog, why, sizeof why) == 0 && (c = file_cause(why, 2)) != NULL)
		return c;
	return "it, or what it ran, cleared LD_PRELOAD or TRACK_* from its environment, or its "
	       "shim could not create a segment (a \"libtrack:\" line on its stderr says why)";
}

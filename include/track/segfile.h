/*
 * track/segfile.h — where segment files live and what they are called.  The shim creates
 * them and the tools find them; both take the rules from here so that they always agree.
 *
 * A segment is DIR/track.<uid>.<pid>.<gen>.  DIR is $TRACK_DIR when it is set; otherwise a
 * directory of the user's own, /dev/shm/track-<uid> (or /tmp/track-<uid> where /dev/shm
 * cannot be used), made mode 0700 by whichever of shim or tools comes first.  In a private
 * directory no other user can plant, replace or read anything; in a shared TRACK_DIR every
 * file is still checked on its open descriptor (regular file, right owner, opened without
 * blocking or following links) before a byte of it is read.
 *
 * Everything here is inline and allocation-free: the shim uses it inside other programs.
 * A name that does not fit its buffer is an error, never silently cut short.
 */
#ifndef TRACK_SEGFILE_H
#define TRACK_SEGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#define TRACK_SEGFILE_PATH_MAX 512   /* longest segment path, NUL included */

/* The bases tried, in order, for the private directory when TRACK_DIR is not set. */
#define TRACK_SEGDIR_BASES {"/dev/shm", "/tmp"}
#define TRACK_SEGDIR_NBASES 2

/* "<base>/track-<uid>" into out; -1 if it does not fit. */
static inline int track_segdir_private(char *out, size_t len, const char *base, unsigned uid)
{
	int n = snprintf(out, len, "%s/track-%u", base, uid);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Whether st (from lstat) is a private directory of uid: a real directory, owned by uid,
 * that nobody else may enter or write. */
static inline int track_segdir_is_private(const struct stat *st, unsigned uid)
{
	return S_ISDIR(st->st_mode) && st->st_uid == uid && (st->st_mode & 077) == 0;
}

/* "<dir>/track.<uid>.<pid>.<gen>" into out; -1 if it does not fit. */
static inline int track_segfile_path(char *out, size_t len, const char *dir, unsigned uid,
				     int pid, unsigned gen)
{
	int n = snprintf(out, len, "%s/track.%u.%d.%u", dir, uid, pid, gen);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* A decimal number at *p (advanced past it); -1 if there is none or it overflows. */
static inline int track_segfile_u32(const char **p, unsigned *out)
{
	uint64_t v = 0;
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > 0xffffffffu)
			return -1;
	*out = (unsigned)v;
	*p = s;
	return 0;
}

/* Parse a segment file name "track.<uid>.<pid>.<gen>"; 0 if it is one, else -1. */
static inline int track_segfile_parse(const char *name, unsigned *uid, int *pid, unsigned *gen)
{
	const char *p = name;
	unsigned v;
	if (p[0] != 't' || p[1] != 'r' || p[2] != 'a' || p[3] != 'c' || p[4] != 'k' || p[5] != '.')
		return -1;
	p += 6;
	if (track_segfile_u32(&p, uid) != 0 || *p++ != '.' || track_segfile_u32(&p, &v) != 0 ||
	    v == 0 || v > 0x7fffffffu || *p++ != '.' || track_segfile_u32(&p, gen) != 0 || *p)
		return -1;
	*pid = (int)v;
	return 0;
}

/* Field 22 of a /proc/PID/stat text (the process start time, which exec does not change);
 * 0 if the text is not one. */
static inline uint64_t track_stat_starttime(const char *text)
{
	const char *p = NULL, *s;
	uint64_t v = 0;
	int field;
	for (s = text; *s; s++)   /* after the last ')': the command name may hold any byte */
		if (*s == ')')
			p = s;
	if (p == NULL)
		return 0;
	for (field = 2, p++; *p && field < 22; p++)   /* after ") " comes field 3 */
		if (*p == ' ')
			field++;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

#endif /* TRACK_SEGFILE_H */

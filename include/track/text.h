/*
 * track/text.h — bytes that came from outside (an argument, an environment value, a path)
 * made fit to be echoed in a one-line message, by the shim and the tools alike: a newline or
 * an escape sequence in a value must not break a message into two lines or drive the
 * terminal, and a byte that is not UTF-8 must not reach it raw.  Such bytes are written
 * \n, \t or \xHH; everything else is kept as it is.
 *
 * Inline and allocation-free: the shim uses it inside other programs.
 */
#ifndef TRACK_TEXT_H
#define TRACK_TEXT_H

#include <stddef.h>

/* The length of the valid UTF-8 character at s (1 to 4 bytes), or 0 if s does not start one
 * (a stray continuation byte, a sequence cut short, an overlong or surrogate form). */
static inline size_t track_text_utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1fu;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0fu;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* What one character (or stray byte) at p becomes: its length in *k, and its bytes at
 * *piece (p itself, or esc when it is escaped).  The bytes of p it takes. */
static inline size_t track_text_piece(const unsigned char *p, char esc[4], const char **piece,
				      size_t *k)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = track_text_utf8_len(p);
	*piece = (const char *)p;
	*k = n;
	if (n == 0 || *p < 0x20 || *p == 0x7f) {   /* not UTF-8, or a control character */
		esc[0] = '\\';
		esc[1] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'x';
		esc[2] = hex[*p >> 4];
		esc[3] = hex[*p & 15];
		*k = esc[1] == 'x' ? 4 : 2;
		*piece = esc;
	}
	return n ? n : 1;
}

/* The length in made printable (as track_text_clean, uncut). */
static inline size_t track_text_clean_len(const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	const char *piece;
	char esc[4];
	size_t n = 0, k;
	while (*p != '\0') {
		p += track_text_piece(p, esc, &piece, &k);
		n += k;
	}
	return n;
}

/* in made printable into out (len bytes, always terminated, if len > 0): control characters
 * and bytes that are not UTF-8 escaped.  When it does not all fit, it ends with "..." at a
 * character's boundary.  The length written. */
static inline size_t track_text_clean(char *out, size_t len, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	const char *piece;
	char esc[4];
	size_t n = 0, k, i, step;
	if (len == 0)
		return 0;
	while (*p != '\0') {
		step = track_text_piece(p, esc, &piece, &k);
		/* no room for it and a "..." after it, unless the rest fits whole */
		if (n + k + 3 >= len && n + track_text_clean_len((const char *)p) >= len) {
			for (i = 0; i < 3 && n + 1 < len; i++)
				out[n++] = '.';
			break;
		}
		for (i = 0; i < k; i++)
			out[n++] = piece[i];
		p += step;
	}
	out[n] = '\0';
	return n;
}

#endif /* TRACK_TEXT_H */

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

/* in made printable into out (len bytes, always terminated, if len > 0): control characters
 * and bytes that are not UTF-8 escaped.  When it does not all fit, it ends with "..." at a
 * character's boundary.  The length written. */
static inline size_t track_text_clean(char *out, size_t len, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;
	if (len == 0)
		return 0;
	while (*p != '\0') {
		char esc[4];
		const char *piece = (const char *)p;
		size_t k = track_text_utf8_len(p), step = k;
		size_t i;
		if (k == 1 && (*p < 0x20 || *p == 0x7f)) {
			esc[0] = '\\';
			esc[1] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 15];
			k = esc[1] == 'x' ? 4 : 2;
			piece = esc;
		} else if (k == 0) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 15];
			k = 4;
			step = 1;
			piece = esc;
		}
		if (n + k + 3 >= len && p[step] != '\0') {   /* no room for it and the "..." */
			for (i = 0; i < 3 && n + 1 < len; i++)
				out[n++] = '.';
			break;
		}
		if (n + k >= len)
			break;
		for (i = 0; i < k; i++)
			out[n++] = piece[i];
		p += step;
	}
	out[n] = '\0';
	return n;
}

#endif /* TRACK_TEXT_H */

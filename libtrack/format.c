/*
 * format.c — text for findings and warnings without stdio.
 *
 * The shim writes a line of text into a finding, or onto stderr, from inside pthread calls
 * that may run on small thread stacks and in signal handlers.  glibc's vsnprintf takes a
 * kilobyte or more of stack, may consult the locale, and for some conversions allocates;
 * this knows only what the shim's own messages use: %s %d %u %x %p %% (with l or ll before
 * d, u and x).  It never writes past len and always terminates the text.
 */
#define _GNU_SOURCE
#include <stdarg.h>

#include "shim.h"

struct out {
	char *buf;
	size_t len, n;
};

static void put(struct out *o, char c)
{
	if (o->n + 1 < o->len)
		o->buf[o->n++] = c;
}

static void put_str(struct out *o, const char *s)
{
	if (s == NULL)
		s = "(null)";
	while (*s)
		put(o, *s++);
}

static void put_num(struct out *o, unsigned long long v, unsigned base, int negative)
{
	char digits[24];
	int k = 0;
	if (negative)
		put(o, '-');
	do {
		digits[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	while (k > 0)
		put(o, digits[--k]);
}

static size_t vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = {buf, len, 0};
	const char *p;
	if (len == 0)
		return 0;
	for (p = fmt; *p; p++) {
		int longs = 0;
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		while (*++p == 'l')
			longs++;
		switch (*p) {
		case 's':
			put_str(&o, va_arg(ap, const char *));
			break;
		case 'd': {
			long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);
			put_num(&o, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10,
				v < 0);
			break;
		}
		case 'u':
		case 'x':
			put_num(&o, longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned),
				*p == 'u' ? 10 : 16, 0);
			break;
		case 'p':
			put_str(&o, "0x");
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0);
			break;
		case '%':
			put(&o, '%');
			break;
		default:   /* not a conversion this knows: end here rather than misread va_args */
			o.buf[o.n] = '\0';
			return o.n;
		}
	}
	o.buf[o.n] = '\0';
	return o.n;
}

/* Format into buf (at most len bytes, terminated); returns the length written. */
size_t track__format(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	va_start(ap, fmt);
	n = vformat(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

/* The same with a va_list, for findings.c. */
size_t track__vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	return vformat(buf, len, fmt, ap);
}

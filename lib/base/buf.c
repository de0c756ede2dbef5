/*
 * The growable buffer.  Growing moves the contents to a new block and wipes
 * the old one, because buffers carry tokens and request bodies with
 * secrets in them; explicit_bzero (glibc) rather than OPENSSL_cleanse,
 * because the front binary must not link libcrypto.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"

static int
buf_reserve(struct kmfa_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap != 0 ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* Grow by copy so that no secret is left behind in freed memory. */
	if ((p = malloc(cap)) == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		kmfa_freezero(b->data, b->cap);
	} else {
		p[0] = '\0';
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
kmfa_buf_append(struct kmfa_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
kmfa_buf_printf(struct kmfa_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	b->len += (size_t)n;
	return 0;
}

int
kmfa_buf_json_string(struct kmfa_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (kmfa_buf_append(b, "\"", 1) != 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		size_t n = 0, run = 0;

		/* Copy runs that need no escaping at once: tokens are all run. */
		while (p[run] != '\0' && p[run] >= 0x20 && p[run] != '"' &&
		    p[run] != '\\')
			run++;
		if (run > 0) {
			if (kmfa_buf_append(b, p, run) != 0)
				return -1;
			p += run - 1;
			continue;
		}
		if (*p == '"' || *p == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)*p;
		} else if (*p < 0x20) {
			esc[n++] = '\\';
			esc[n++] = 'u';
			esc[n++] = '0';
			esc[n++] = '0';
			esc[n++] = hex[*p >> 4];
			esc[n++] = hex[*p & 0xf];
		} else {
			esc[n++] = (char)*p;
		}
		if (kmfa_buf_append(b, esc, n) != 0)
			return -1;
	}
	return kmfa_buf_append(b, "\"", 1);
}

void
kmfa_buf_wipe(struct kmfa_buf *b)
{
	kmfa_freezero(b->data, b->cap);
	b->data = NULL;
	b->len = b->cap = 0;
}

/*
 * Small helpers every module needs: wiping and freeing secrets, formatted
 * allocation, a growable byte buffer, hex.  libc only: the front binary
 * links this, so nothing here may pull in a heavy library.
 */
#ifndef KMFA_UTIL_H
#define KMFA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/report.h"

/* Wipe len bytes of p (never optimised away), then free it. */
void kmfa_freezero(void *p, size_t len);
/* Wipe and free a NUL-terminated string; NULL is fine. */
void kmfa_freezero_str(char *s);

int kmfa_asprintf(char **out, const char *fmt, ...) KMFA_PRINTF(2, 3);

/* A growable buffer; data is always NUL-terminated when non-NULL. */
struct kmfa_buf {
	char *data;
	size_t len;
	size_t cap;
};

int kmfa_buf_append(struct kmfa_buf *b, const void *p, size_t n);
int kmfa_buf_printf(struct kmfa_buf *b, const char *fmt, ...) KMFA_PRINTF(2, 3);
/* Append s as a JSON string literal, quotes included. */
int kmfa_buf_json_string(struct kmfa_buf *b, const char *s);
/* Wipe and free the contents; the buffer is reusable afterwards. */
void kmfa_buf_wipe(struct kmfa_buf *b);

void kmfa_hex(const uint8_t *p, size_t n, char *out /* 2n+1 */);

/*
 * Untrusted text (an IdP's answer, a token header, a URL) made safe for a
 * one-line message: printable ASCII only, quotes and backslashes included
 * as '?', so that no terminal escape, forged line or closing quote gets
 * through; cut with "..." when longer than dstlen - 1.  NULL reads as "".
 * Returns dst.
 */
const char *kmfa_printable(char *dst, size_t dstlen, const char *src);

/* Seconds since the epoch, from the real-time clock. */
int64_t kmfa_now(void);

/* Format t as RFC 3339 UTC ("2026-11-28T11:46:56Z") into out[21]. */
int kmfa_rfc3339(int64_t t, char out[21]);

#endif

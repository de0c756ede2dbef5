/*
 * Small helpers every module needs: wiping and freeing secrets, formatted
 * allocation, untrusted text made printable, hex, the clock.  libc only:
 * the front binary links this, so nothing here may pull in a heavy
 * library.
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

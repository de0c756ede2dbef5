/*
 * A growable byte buffer for building requests, answers and records.  Its
 * contents may be secret: growing wipes the old block, and
 * kmfa_buf_wipe() wipes before it frees.  libc only (the front links it).
 */
#ifndef KMFA_BUF_H
#define KMFA_BUF_H

#include <stddef.h>

#include "base/report.h"

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

#endif

/*
 * CBOR helpers over libcbor.  Reading is lenient (any integer width, keys in
 * any order), as a key should be towards platforms.  Writing is strict: every
 * map is sorted into CTAP2 canonical order (CTAP 2.0 §6, "CTAP2 canonical
 * CBOR encoding form") right before it is serialised, because libfido2
 * rejects a reply whose map keys are out of order.
 */
#ifndef SOFTKEY_CBORUTIL_H
#define SOFTKEY_CBORUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

/* Map look-ups; NULL when absent or when map is not a map. */
cbor_item_t *cb_get_int(const cbor_item_t *map, int64_t key);
cbor_item_t *cb_get_str(const cbor_item_t *map, const char *key);

/* Typed reads; false when the item is absent or of another type. */
bool cb_read_bytes(const cbor_item_t *it, const uint8_t **p, size_t *len);
bool cb_read_int(const cbor_item_t *it, int64_t *v);
bool cb_read_bool(const cbor_item_t *it, bool *v);
/* True when it is a definite text string equal to s. */
bool cb_text_eq(const cbor_item_t *it, const char *s);
/* Copy a definite text string into out (NUL-terminated); false if too long. */
bool cb_read_text(const cbor_item_t *it, char *out, size_t cap);

/* Builders returning a new reference, or NULL. */
cbor_item_t *cb_int(int64_t v);
cbor_item_t *cb_bytes(const uint8_t *p, size_t len);
cbor_item_t *cb_text(const char *s);
cbor_item_t *cb_bool(bool v);

/*
 * Add key => value to a definite map (created with room for it).  Consumes
 * both references, also on failure, so calls can be chained without
 * temporaries; NULL arguments (a failed builder) make it fail.
 */
int cb_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);
/* Hand over the reference in *p and clear it: cb_put(m, k, cb_take(&v)). */
cbor_item_t *cb_take(cbor_item_t **p);
/* Append to a definite array; consumes the reference. */
int cb_push(cbor_item_t *array, cbor_item_t *item);

/*
 * Sort every map inside item into canonical order and serialise it.  On
 * success *out is malloc'ed and owned by the caller.
 */
int cb_encode(cbor_item_t *item, uint8_t **out, size_t *len);

/* The COSE_Key of a P-256 public key (RFC 8152 §13.1.1), for alg. */
cbor_item_t *cb_cose_p256(const uint8_t x[32], const uint8_t y[32],
    int64_t alg);
/* Read x and y out of a COSE_Key for P-256; false if it is not one. */
bool cb_read_cose_p256(const cbor_item_t *key, uint8_t x[32], uint8_t y[32]);

#endif

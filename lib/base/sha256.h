/*
 * SHA-256 (FIPS 180-4), small and self-contained.  It exists so that the
 * front binary can derive a cache file name without loading libcrypto
 * (docs/DESIGN.md §4: loading libcrypto alone costs more than the
 * whole hot path).
 * Everything cryptographic beyond naming files uses OpenSSL.
 */
#ifndef KMFA_SHA256_H
#define KMFA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define KMFA_SHA256_LEN 32

void kmfa_sha256(const void *data, size_t len, uint8_t out[KMFA_SHA256_LEN]);

#endif

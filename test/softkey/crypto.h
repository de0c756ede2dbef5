/*
 * The key's cryptography, over OpenSSL 3 EVP interfaces: randomness,
 * SHA-256 and HMAC-SHA-256, AES-256 in CBC (PIN protocol 1, CTAP 2.0
 * §5.5.2) and GCM (credential wrapping), and P-256 keys held as 32-byte
 * private scalars (ECDSA signatures, ECDH).  Every function returns 0 on
 * success and -1 on failure.
 */
#ifndef SOFTKEY_CRYPTO_H
#define SOFTKEY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_ECDSA_SIG_MAX 72	/* DER ECDSA-P256 signature, at most */

int crypto_random(void *buf, size_t len);
void crypto_wipe(void *buf, size_t len);
int crypto_sha256(const void *data, size_t len, uint8_t out[32]);
int crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
    size_t len, uint8_t out[32]);

/* AES-256-CBC with a zero IV and no padding; len a multiple of 16. */
int crypto_aes256_cbc(const uint8_t key[32], bool encrypt, const uint8_t *in,
    size_t len, uint8_t *out);

/* AES-256-GCM with a 12-byte IV and a 16-byte tag. */
int crypto_gcm_seal(const uint8_t key[32], const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[16]);
int crypto_gcm_open(const uint8_t key[32], const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    const uint8_t tag[16], uint8_t *out);

/* A fresh P-256 private scalar, uniformly in [1, n-1]. */
int crypto_p256_generate(uint8_t priv[32]);
/* The public point of priv. */
int crypto_p256_public(const uint8_t priv[32], uint8_t x[32], uint8_t y[32]);
/* ECDSA with SHA-256 over msg; DER into sig (SK_ECDSA_SIG_MAX bytes). */
int crypto_p256_sign(const uint8_t priv[32], const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *sig_len);
/* ECDH: the x coordinate of priv * (x, y); fails if the point is invalid. */
int crypto_p256_ecdh(const uint8_t priv[32], const uint8_t x[32],
    const uint8_t y[32], uint8_t z[32]);

#endif

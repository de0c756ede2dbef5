/*
 * Signing keys and the algorithms they serve.  This module owns the JWS
 * algorithm allow-list (RFC 7518 §3.1 minus "none" and the HMAC family:
 * the verifier only ever holds the issuer's public keys, RFC 8725 §3.1)
 * and the choice of a key from the issuer's JWKS (RFC 7517 §5) for a
 * token's kid and alg: the key's kty and, for EC, its curve must suit the
 * alg, its "use" and "alg" members, when present, must allow it, and RSA
 * moduli must have at least 2048 bits.  Keys become OpenSSL 3 EVP_PKEYs
 * through EVP_PKEY_fromdata.  It never fetches anything: the caller brings
 * the JWKS document.
 */
#ifndef KMFA_JWK_H
#define KMFA_JWK_H

#include <stddef.h>

#include <openssl/types.h>

/* Larger JWKS documents are refused before parsing. */
#define KMFA_JWKS_MAX (512 * 1024)
#define KMFA_RSA_MIN_BITS 2048
/* Moduli beyond this make verification a denial of service. */
#define KMFA_RSA_MAX_BITS 16384

enum kmfa_jws_kind {
	KMFA_JWS_RSA_PKCS1,	/* RS*: RSASSA-PKCS1-v1_5, RFC 7518 §3.3 */
	KMFA_JWS_RSA_PSS,	/* PS*: RSASSA-PSS, RFC 7518 §3.5 */
	KMFA_JWS_ECDSA,		/* ES*: RFC 7518 §3.4 */
};

struct kmfa_jws_alg {
	const char *name;	/* "RS256", as in the JOSE header */
	enum kmfa_jws_kind kind;
	const char *digest;	/* OpenSSL digest name, "SHA256" */
	const char *crv;	/* ECDSA: the JWK curve, "P-256"; else NULL */
	const char *group;	/* ECDSA: the OpenSSL group name; else NULL */
	size_t field_len;	/* ECDSA: bytes in a coordinate, in r, in s */
};

/* The allow-listed algorithm called name, or NULL for anything else. */
const struct kmfa_jws_alg *kmfa_jwk_alg_lookup(const char *name);

/*
 * Find the key in the JWKS document jwks (len bytes, no NUL needed) that
 * should verify a token with header alg and kid.  kid NULL means the token
 * named no key: that is accepted only when exactly one key in the set suits
 * alg.  On success *out is a new public key for EVP_PKEY_free().
 *
 * Returns KMFA_OK, KMFA_ERR_NOMEM, or KMFA_ERR_TOKEN with the reason
 * recorded by kmfa_fail() ("JWKS: ..." or "ID token: no key ...").
 */
int kmfa_jwk_find(const char *jwks, size_t len, const char *kid,
    const struct kmfa_jws_alg *alg, EVP_PKEY **out);

/*
 * Untrusted text (a kid, an iss) made fit for a message: at most bufsz - 1
 * bytes, anything but printable ASCII and any quote replaced by '?', "..."
 * at the end when cut short.  NULL becomes "(none)".  Returns buf.
 */
const char *kmfa_jwk_printable(const char *s, char *buf, size_t bufsz);

#endif

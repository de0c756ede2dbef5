/*
 * Proof Key for Code Exchange (RFC 7636), S256 only: a fresh verifier per
 * grant, its challenge for the authorization request (device or
 * authorization code), the verifier for the token request.  The verifier is
 * a secret until the grant is over: whoever has it and the code (or device
 * code) can redeem them, so it is wiped, never logged, never stored.
 * kmfa_pkce_challenge is the pure half, for the RFC's test vector.
 */
#ifndef KMFA_PKCE_H
#define KMFA_PKCE_H

#include <stddef.h>

#define KMFA_PKCE_VERIFIER_BYTES 32	/* §7.1: 256 bits of entropy */
/* base64url of 32 bytes is 43 characters (§4.1: 43..128). */
#define KMFA_PKCE_VERIFIER_LEN 43
#define KMFA_PKCE_CHALLENGE_LEN 43	/* base64url of a SHA-256 */

struct kmfa_pkce {
	char verifier[KMFA_PKCE_VERIFIER_LEN + 1];	/* secret */
	char challenge[KMFA_PKCE_CHALLENGE_LEN + 1];
};

/*
 * A fresh verifier from KMFA_PKCE_VERIFIER_BYTES random bytes, base64url
 * (§4.1), and its S256 challenge (§4.2).  KMFA_ERR_INTERNAL when the
 * kernel gives no randomness.  Wipe with kmfa_pkce_wipe.
 */
int kmfa_pkce_new(struct kmfa_pkce *p);

/*
 * challenge = BASE64URL(SHA256(ASCII(verifier))) (§4.2), no padding.
 * KMFA_ERR_INTERNAL for a verifier outside §4.1's 43..128 unreserved
 * characters.
 */
int kmfa_pkce_challenge(const char *verifier,
    char challenge[KMFA_PKCE_CHALLENGE_LEN + 1]);

void kmfa_pkce_wipe(struct kmfa_pkce *p);

#endif

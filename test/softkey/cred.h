/*
 * Credential ids.  The key keeps no per-credential storage: a credential id
 * is the credential's private key and its credProtect level sealed with
 * AES-256-GCM under a key derived from the master key, with the rp id hash
 * as associated data.  An id therefore opens only for the relying party it
 * was made for, and only on this key; it stays valid across restarts
 * because the master key lives in the state file.
 */
#ifndef SOFTKEY_CRED_H
#define SOFTKEY_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* version(1) | iv(12) | sealed priv(32) + protect(1) | tag(16) */
#define CRED_ID_LEN 62

struct cred {
	uint8_t priv[32];
	uint8_t protect;	/* credProtect level 1..3 (CTAP 2.1 §12.1) */
};

int cred_wrap(const struct sk_state *st, const uint8_t rp_hash[32],
    const struct cred *c, uint8_t id[CRED_ID_LEN]);
/* -1 when the id is not one of ours for this relying party. */
int cred_unwrap(const struct sk_state *st, const uint8_t rp_hash[32],
    const uint8_t *id, size_t len, struct cred *c);
/*
 * CredRandom for hmac-secret: a per-credential secret, different with and
 * without user verification (CTAP 2.1 §12.5 CredRandomWithUV and
 * CredRandomWithoutUV), derived so that nothing needs storing.
 */
int cred_random(const struct sk_state *st, const struct cred *c, bool uv,
    uint8_t out[32]);

#endif

/*
 * Sealing: the cryptography that makes a cached refresh token useless
 * without an enrolled security key, arranged like LUKS key slots.  One
 * random 32-byte master key (MK) per user seals every refresh token
 * (AES-256-GCM under HKDF-SHA256(MK, "kubectl-mfa refresh v1"), the
 * caller's header as associated data).  MK itself is stored once per
 * enrolled credential that has hmac-secret, wrapped (AES-256-GCM) under a
 * key that only that credential's hmac-secret output recreates, so that
 * any enrolled key opens every sealed token and adding a backup key
 * re-seals nothing; each slot also names a public key, so that a new
 * master key can be wrapped for keys that are not at hand (the re-key).  This module owns the formats of the slot and of the
 * sealed text; it holds no keys beyond the call and wipes what it derives.
 */
#ifndef KMFA_SEAL_H
#define KMFA_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define KMFA_MK_LEN		32	/* master key */
#define KMFA_HMAC_SALT_LEN	32	/* hmac-secret salt (CTAP2 §12.5: 32 or 64) */
#define KMFA_HMAC_OUT_LEN	32	/* hmac-secret output for one salt */
#define KMFA_MAC_LEN		32	/* HMAC-SHA256 of a credential */

/* A sealed refresh token starts with this; an unsealed one normally not. */
#define KMFA_SEAL_PREFIX	"kmfa1."

/* Fill mk with a fresh random master key.  KMFA_ERR_INTERNAL on RNG failure. */
int kmfa_seal_new_mk(uint8_t mk[KMFA_MK_LEN]);

/* Fill p with n random bytes (salts, challenges).  KMFA_ERR_INTERNAL on failure. */
int kmfa_seal_random(uint8_t *p, size_t n);

/*
 * Wrap mk for one credential.  The credential's slot key pair is X25519,
 * its private half HKDF-SHA256(ikm = hmac output, salt = salt, info =
 * "kubectl-mfa slot x25519 v2"); mk is sealed (AES-256-GCM, random nonce,
 * the credential id as associated data, so a slot copied onto another
 * credential does not open) under HKDF-SHA256 of an X25519 agreement
 * between a fresh ephemeral key and the slot's public key.  *slot is a new
 * buffer of *slot_len bytes (version 2, the slot public key, the
 * ephemeral public key, nonce, ciphertext, tag); it holds no secret in the
 * clear, and its public key lets kmfa_seal_slot_rewrap wrap a new master
 * key for this credential without the security key at hand.
 */
int kmfa_seal_slot_wrap(const uint8_t hmac[KMFA_HMAC_OUT_LEN],
    const uint8_t salt[KMFA_HMAC_SALT_LEN], const uint8_t *cred_id,
    size_t cred_id_len, const uint8_t mk[KMFA_MK_LEN], uint8_t **slot,
    size_t *slot_len);

/*
 * A new slot holding mk for the same credential as old, a version-2 slot,
 * made with the public key old holds (the re-key: no touch of that key is
 * needed).  Whoever calls this must have authenticated old (the
 * credential's MAC) first, or mk goes to a public key someone planted.
 * KMFA_ERR_NOTFOUND when old is a version-1 slot, which holds no public
 * key: only a touch of its key can make it a version-2 slot.
 */
int kmfa_seal_slot_rewrap(const uint8_t *old, size_t old_len,
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t mk[KMFA_MK_LEN],
    uint8_t **slot, size_t *slot_len);

/* The format version of a slot: 1 (no public key), 2, or 0 if neither. */
int kmfa_seal_slot_version(const uint8_t *slot, size_t slot_len);

/*
 * Unwrap a slot (version 1: the master key under HKDF-SHA256(hmac output,
 * salt, "kubectl-mfa slot v1") directly; version 2) into mk.  KMFA_ERR_FIDO2 when it does not open (another
 * key, another UV setting, a damaged slot), with no cause recorded: the
 * caller knows which key it was and says so.  mk is zero on failure.
 */
int kmfa_seal_slot_unwrap(const uint8_t hmac[KMFA_HMAC_OUT_LEN],
    const uint8_t salt[KMFA_HMAC_SALT_LEN], const uint8_t *cred_id,
    size_t cred_id_len, const uint8_t *slot, size_t slot_len,
    uint8_t mk[KMFA_MK_LEN]);

/*
 * Seal a refresh token: *out is a new string
 * "kmfa1.<base64url nonce>.<base64url ciphertext and tag>".  header (the
 * cache record's configuration identity) is authenticated, not stored: the
 * sealed text opens only under the same header.
 */
int kmfa_seal_refresh(const uint8_t mk[KMFA_MK_LEN], const char *header,
    const char *token, char **out);

/*
 * Open a sealed refresh token into a new string *token (a secret: free it
 * with kmfa_freezero_str).  KMFA_ERR_FIDO2 with a cause when the text is
 * not a sealed token or does not open with mk under header.
 */
int kmfa_seal_open_refresh(const uint8_t mk[KMFA_MK_LEN], const char *header,
    const char *sealed, char **token);

/*
 * Authenticate msg under the master key: HMAC-SHA256 keyed with
 * HKDF-SHA256(ikm = mk, no salt, info = "kubectl-mfa credential mac v1"),
 * a key of its own so that a MAC never doubles as a sealing key.  Used
 * for the security fields of each credential in the credentials file.
 */
int kmfa_seal_mac(const uint8_t mk[KMFA_MK_LEN], const uint8_t *msg,
    size_t len, uint8_t mac[KMFA_MAC_LEN]);

/* 1 if s has the form of a sealed token (the prefix), else 0. */
int kmfa_seal_is_sealed(const char *s);

#endif

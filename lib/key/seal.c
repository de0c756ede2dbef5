/*
 * Key slots and sealed refresh tokens with OpenSSL 3: HKDF through
 * EVP_KDF (RFC 5869), AES-256-GCM through EVP_CIPHER with 12-byte random
 * nonces and 16-byte tags (NIST SP 800-38D).  Every key is derived into a
 * stack buffer and wiped on every path out.  A nonce is random rather than
 * a counter because nothing here can keep a counter safely across
 * processes; with at most a few thousand seals per key the collision
 * chance is negligible.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/seal.h"

#define KEY_LEN		32
#define NONCE_LEN	12
#define TAG_LEN		16
#define SLOT_VERSION	1
#define SLOT_LEN	(1 + NONCE_LEN + KMFA_MK_LEN + TAG_LEN)
/*
 * Version 2: version, the slot's X25519 public key, an ephemeral X25519
 * public key, nonce, the wrapped master key, tag.
 */
#define X25519_LEN	32
#define SLOT2_VERSION	2
#define SLOT2_NONCE	(1 + 2 * X25519_LEN)
#define SLOT2_LEN	(SLOT2_NONCE + NONCE_LEN + KMFA_MK_LEN + TAG_LEN)

/* Bounds a sealed token: refresh tokens are a few kilobytes at most. */
#define MAX_TOKEN	(64 * 1024)

static const char slot_info[] = "kubectl-mfa slot v1";
static const char slot_v2_info[] = "kubectl-mfa slot v2";
static const char slot_x25519_info[] = "kubectl-mfa slot x25519 v2";
static const char refresh_info[] = "kubectl-mfa refresh v1";
static const char mac_info[] = "kubectl-mfa credential mac v1";

int
kmfa_seal_random(uint8_t *p, size_t n)
{
	if (n > (size_t)INT32_MAX || RAND_bytes(p, (int)n) != 1)
		return kmfa_fail(KMFA_ERR_INTERNAL,
		    "the random number generator failed");
	return KMFA_OK;
}

int
kmfa_seal_new_mk(uint8_t mk[KMFA_MK_LEN])
{
	return kmfa_seal_random(mk, KMFA_MK_LEN);
}

/* HKDF-SHA256 (RFC 5869), extract and expand, into out[KEY_LEN]. */
static int
hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
    size_t salt_len, const char *info, uint8_t out[KEY_LEN])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5], *p = params;
	int r = KMFA_ERR_INTERNAL;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikm_len);
	if (salt != NULL)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, KEY_LEN, params) != 1)
		goto out;
	r = KMFA_OK;
out:
	if (r != KMFA_OK) {
		OPENSSL_cleanse(out, KEY_LEN);
		r = kmfa_fail(r, "HKDF-SHA256 failed in OpenSSL");
	}
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return r;
}

static int
gcm_seal(const uint8_t key[KEY_LEN], const uint8_t nonce[NONCE_LEN],
    const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
    uint8_t *ct /* pt_len */, uint8_t tag[TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, r = KMFA_ERR_INTERNAL;

	if (aad_len > INT32_MAX || pt_len > INT32_MAX)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n, pt, (int)pt_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
		goto out;
	r = KMFA_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (r != KMFA_OK)
		r = kmfa_fail(r, "AES-256-GCM encryption failed in OpenSSL");
	return r;
}

/* KMFA_ERR_FIDO2, no cause, when the tag does not verify. */
static int
gcm_open(const uint8_t key[KEY_LEN], const uint8_t nonce[NONCE_LEN],
    const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
    const uint8_t tag[TAG_LEN], uint8_t *pt /* ct_len */)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, r = KMFA_ERR_INTERNAL;

	if (aad_len > INT32_MAX || ct_len > INT32_MAX)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    (void *)tag) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &n, ct, (int)ct_len) != 1)
		goto out;
	/* Final checks the tag; before it the plaintext is not to be trusted. */
	if (EVP_DecryptFinal_ex(ctx, pt + n, &n) != 1) {
		OPENSSL_cleanse(pt, ct_len);
		r = KMFA_ERR_FIDO2;
		goto out;
	}
	r = KMFA_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (r == KMFA_ERR_INTERNAL)
		r = kmfa_fail(r, "AES-256-GCM decryption failed in OpenSSL");
	return r;
}

/*
 * The slot's X25519 key pair, derived from the credential's hmac-secret
 * output: only a touch of that key recreates the private half, and the
 * public half, kept in the slot, lets a new master key be wrapped for the
 * key while it is not plugged in (a re-key, docs/DESIGN.md).
 */
static int
slot_keypair(const uint8_t hmac[KMFA_HMAC_OUT_LEN],
    const uint8_t salt[KMFA_HMAC_SALT_LEN], EVP_PKEY **key,
    uint8_t pub[X25519_LEN])
{
	uint8_t priv[KEY_LEN];
	size_t n = X25519_LEN;
	int r;

	*key = NULL;
	if ((r = hkdf(hmac, KMFA_HMAC_OUT_LEN, salt, KMFA_HMAC_SALT_LEN,
	    slot_x25519_info, priv)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_INTERNAL;
	if ((*key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
	    sizeof(priv))) == NULL ||
	    EVP_PKEY_get_raw_public_key(*key, pub, &n) != 1 ||
	    n != X25519_LEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "X25519 failed in OpenSSL");
		goto out;
	}
	r = KMFA_OK;
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	if (r != KMFA_OK) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return r;
}

/*
 * KEK = HKDF-SHA256(ikm = X25519(mine, peer), salt = ephemeral public ||
 * slot public, info = slot_v2_info).  OpenSSL refuses a peer of small
 * order (an all-zero shared secret), so a planted public key cannot force
 * a known KEK.  KMFA_ERR_FIDO2, no cause, when the peer is not usable.
 */
static int
slot_kek(EVP_PKEY *mine, const uint8_t peer[X25519_LEN],
    const uint8_t eph_pub[X25519_LEN], const uint8_t slot_pub[X25519_LEN],
    uint8_t kek[KEY_LEN])
{
	EVP_PKEY *p = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t shared[X25519_LEN], salt[2 * X25519_LEN];
	size_t n = sizeof(shared);
	int r = KMFA_ERR_FIDO2;

	memcpy(salt, eph_pub, X25519_LEN);
	memcpy(salt + X25519_LEN, slot_pub, X25519_LEN);
	if ((p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
	    X25519_LEN)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, p) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &n) != 1 || n != sizeof(shared))
		goto out;
	r = hkdf(shared, sizeof(shared), salt, sizeof(salt), slot_v2_info,
	    kek);
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(p);
	return r;
}

/*
 * A version-2 slot for the key whose slot public key is slot_pub: an
 * ephemeral X25519 key agrees a KEK with it, and mk is sealed under that
 * KEK with the credential id as associated data.
 */
static int
slot_wrap_to(const uint8_t slot_pub[X25519_LEN], const uint8_t *cred_id,
    size_t cred_id_len, const uint8_t mk[KMFA_MK_LEN], uint8_t **slot,
    size_t *slot_len)
{
	EVP_PKEY *eph = NULL;
	uint8_t kek[KEY_LEN];
	uint8_t *s = NULL, *eph_pub;
	size_t n = X25519_LEN;
	int r = KMFA_ERR_INTERNAL;

	*slot = NULL;
	*slot_len = 0;
	if ((s = calloc(1, SLOT2_LEN)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	s[0] = SLOT2_VERSION;
	memcpy(s + 1, slot_pub, X25519_LEN);
	eph_pub = s + 1 + X25519_LEN;
	if ((eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL ||
	    EVP_PKEY_get_raw_public_key(eph, eph_pub, &n) != 1 ||
	    n != X25519_LEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "X25519 failed in OpenSSL");
		goto out;
	}
	if ((r = slot_kek(eph, slot_pub, eph_pub, slot_pub, kek)) != KMFA_OK) {
		if (r == KMFA_ERR_FIDO2)
			r = kmfa_fail(KMFA_ERR_FIDO2, "a key slot holds an "
			    "unusable public key");
		goto out;
	}
	if ((r = kmfa_seal_random(s + SLOT2_NONCE, NONCE_LEN)) != KMFA_OK ||
	    (r = gcm_seal(kek, s + SLOT2_NONCE, cred_id, cred_id_len, mk,
	    KMFA_MK_LEN, s + SLOT2_NONCE + NONCE_LEN,
	    s + SLOT2_NONCE + NONCE_LEN + KMFA_MK_LEN)) != KMFA_OK)
		goto out;
	*slot = s;
	*slot_len = SLOT2_LEN;
	s = NULL;	/* transferred */
	r = KMFA_OK;
out:
	OPENSSL_cleanse(kek, sizeof(kek));
	EVP_PKEY_free(eph);
	free(s);
	return r;
}

int
kmfa_seal_slot_wrap(const uint8_t hmac[KMFA_HMAC_OUT_LEN],
    const uint8_t salt[KMFA_HMAC_SALT_LEN], const uint8_t *cred_id,
    size_t cred_id_len, const uint8_t mk[KMFA_MK_LEN], uint8_t **slot,
    size_t *slot_len)
{
	EVP_PKEY *key = NULL;
	uint8_t pub[X25519_LEN];
	int r;

	*slot = NULL;
	*slot_len = 0;
	if ((r = slot_keypair(hmac, salt, &key, pub)) != KMFA_OK)
		goto out;
	r = slot_wrap_to(pub, cred_id, cred_id_len, mk, slot, slot_len);
out:
	EVP_PKEY_free(key);
	return r;
}

int
kmfa_seal_slot_rewrap(const uint8_t *old, size_t old_len,
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t mk[KMFA_MK_LEN],
    uint8_t **slot, size_t *slot_len)
{
	*slot = NULL;
	*slot_len = 0;
	if (kmfa_seal_slot_version(old, old_len) != SLOT2_VERSION)
		return KMFA_ERR_NOTFOUND;
	return slot_wrap_to(old + 1, cred_id, cred_id_len, mk, slot, slot_len);
}

int
kmfa_seal_slot_version(const uint8_t *slot, size_t slot_len)
{
	if (slot != NULL && slot_len == SLOT_LEN && slot[0] == SLOT_VERSION)
		return SLOT_VERSION;
	if (slot != NULL && slot_len == SLOT2_LEN && slot[0] == SLOT2_VERSION)
		return SLOT2_VERSION;
	return 0;
}

int
kmfa_seal_slot_unwrap(const uint8_t hmac[KMFA_HMAC_OUT_LEN],
    const uint8_t salt[KMFA_HMAC_SALT_LEN], const uint8_t *cred_id,
    size_t cred_id_len, const uint8_t *slot, size_t slot_len,
    uint8_t mk[KMFA_MK_LEN])
{
	EVP_PKEY *key = NULL;
	uint8_t kek[KEY_LEN], pub[X25519_LEN];
	int r = KMFA_ERR_FIDO2;

	OPENSSL_cleanse(mk, KMFA_MK_LEN);
	switch (kmfa_seal_slot_version(slot, slot_len)) {
	case SLOT_VERSION:
		if ((r = hkdf(hmac, KMFA_HMAC_OUT_LEN, salt,
		    KMFA_HMAC_SALT_LEN, slot_info, kek)) != KMFA_OK)
			goto out;
		r = gcm_open(kek, slot + 1, cred_id, cred_id_len,
		    slot + 1 + NONCE_LEN, KMFA_MK_LEN,
		    slot + 1 + NONCE_LEN + KMFA_MK_LEN, mk);
		break;
	case SLOT2_VERSION:
		if ((r = slot_keypair(hmac, salt, &key, pub)) != KMFA_OK)
			goto out;
		/* Another key's output, or a public key swapped in the slot. */
		if (CRYPTO_memcmp(pub, slot + 1, X25519_LEN) != 0) {
			r = KMFA_ERR_FIDO2;
			goto out;
		}
		if ((r = slot_kek(key, slot + 1 + X25519_LEN,
		    slot + 1 + X25519_LEN, pub, kek)) != KMFA_OK)
			goto out;
		r = gcm_open(kek, slot + SLOT2_NONCE, cred_id, cred_id_len,
		    slot + SLOT2_NONCE + NONCE_LEN, KMFA_MK_LEN,
		    slot + SLOT2_NONCE + NONCE_LEN + KMFA_MK_LEN, mk);
		break;
	default:
		r = KMFA_ERR_FIDO2;
		break;
	}
out:
	OPENSSL_cleanse(kek, sizeof(kek));
	EVP_PKEY_free(key);
	if (r != KMFA_OK)
		OPENSSL_cleanse(mk, KMFA_MK_LEN);
	return r;
}

int
kmfa_seal_is_sealed(const char *s)
{
	return s != NULL &&
	    strncmp(s, KMFA_SEAL_PREFIX, strlen(KMFA_SEAL_PREFIX)) == 0;
}

int
kmfa_seal_refresh(const uint8_t mk[KMFA_MK_LEN], const char *header,
    const char *token, char **out)
{
	uint8_t key[KEY_LEN], nonce[NONCE_LEN];
	uint8_t *ct = NULL;
	char *nonce64 = NULL, *ct64 = NULL;
	size_t len = strlen(token);
	int r = KMFA_ERR_INTERNAL;

	*out = NULL;
	if (len > MAX_TOKEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "the refresh token is "
		    "larger than %d bytes; not sealing it", MAX_TOKEN);
		goto out;
	}
	if ((ct = malloc(len + TAG_LEN)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = hkdf(mk, KMFA_MK_LEN, NULL, 0, refresh_info, key)) !=
	    KMFA_OK ||
	    (r = kmfa_seal_random(nonce, sizeof(nonce))) != KMFA_OK ||
	    (r = gcm_seal(key, nonce, (const uint8_t *)header, strlen(header),
	    (const uint8_t *)token, len, ct, ct + len)) != KMFA_OK)
		goto out;
	if ((r = kmfa_b64url_encode(nonce, sizeof(nonce), &nonce64)) !=
	    KMFA_OK ||
	    (r = kmfa_b64url_encode(ct, len + TAG_LEN, &ct64)) != KMFA_OK)
		goto out;
	if (kmfa_asprintf(out, "%s%s.%s", KMFA_SEAL_PREFIX, nonce64,
	    ct64) < 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	r = KMFA_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(ct);
	free(nonce64);
	free(ct64);
	return r;
}

int
kmfa_seal_open_refresh(const uint8_t mk[KMFA_MK_LEN], const char *header,
    const char *sealed, char **token)
{
	uint8_t key[KEY_LEN];
	uint8_t *nonce = NULL, *ct = NULL, *pt = NULL;
	size_t nonce_len = 0, ct_len = 0;
	const char *p, *dot;
	int r = KMFA_ERR_FIDO2;

	*token = NULL;
	if (!kmfa_seal_is_sealed(sealed) || strlen(sealed) > 2 * MAX_TOKEN)
		goto malformed;
	p = sealed + strlen(KMFA_SEAL_PREFIX);
	if ((dot = strchr(p, '.')) == NULL)
		goto malformed;
	if (kmfa_b64url_decode(p, (size_t)(dot - p), &nonce, &nonce_len) !=
	    KMFA_OK || nonce_len != NONCE_LEN)
		goto malformed;
	p = dot + 1;
	if (kmfa_b64url_decode(p, strlen(p), &ct, &ct_len) != KMFA_OK ||
	    ct_len < TAG_LEN)
		goto malformed;
	if ((pt = malloc(ct_len - TAG_LEN + 1)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = hkdf(mk, KMFA_MK_LEN, NULL, 0, refresh_info, key)) != KMFA_OK)
		goto out;
	r = gcm_open(key, nonce, (const uint8_t *)header, strlen(header), ct,
	    ct_len - TAG_LEN, ct + ct_len - TAG_LEN, pt);
	if (r == KMFA_ERR_FIDO2) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the sealed refresh token does "
		    "not open with this key");
		goto out;
	}
	if (r != KMFA_OK)
		goto out;
	pt[ct_len - TAG_LEN] = '\0';
	/* A token with a NUL inside would be cut short silently later. */
	if (strlen((char *)pt) != ct_len - TAG_LEN) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the sealed refresh token holds "
		    "a NUL byte");
		goto out;
	}
	*token = (char *)pt;
	pt = NULL;	/* transferred */
	r = KMFA_OK;
	goto out;
malformed:
	r = kmfa_fail(KMFA_ERR_FIDO2, "the sealed refresh token is malformed");
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (pt != NULL)
		kmfa_freezero(pt, ct_len - TAG_LEN + 1);
	free(nonce);
	free(ct);
	return r;
}

int
kmfa_seal_mac(const uint8_t mk[KMFA_MK_LEN], const uint8_t *msg,
    size_t len, uint8_t mac[KMFA_MAC_LEN])
{
	uint8_t key[KEY_LEN];
	unsigned int n = 0;
	int r;

	if ((r = hkdf(mk, KMFA_MK_LEN, NULL, 0, mac_info, key)) != KMFA_OK)
		return r;
	r = KMFA_OK;
	if (HMAC(EVP_sha256(), key, KEY_LEN, msg, len, mac, &n) == NULL ||
	    n != KMFA_MAC_LEN) {
		OPENSSL_cleanse(mac, KMFA_MAC_LEN);
		r = kmfa_fail(KMFA_ERR_INTERNAL, "HMAC-SHA256 failed in "
		    "OpenSSL");
	}
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

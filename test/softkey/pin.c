/*
 * authenticatorClientPIN with PIN protocol 1 (CTAP 2.0 §5.5).  Parameters:
 * 1 pinProtocol, 2 subCommand, 3 keyAgreement, 4 pinAuth, 5 newPinEnc,
 * 6 pinHashEnc.  Replies: 1 keyAgreement, 2 pinToken, 3 retries.
 */
#include <openssl/crypto.h>
#include <string.h>

#include "cborutil.h"
#include "crypto.h"
#include "pin.h"
#include "softkey.h"

enum {
	SUB_GET_RETRIES = 1,
	SUB_GET_KEY_AGREEMENT = 2,
	SUB_SET_PIN = 3,
	SUB_CHANGE_PIN = 4,
	SUB_GET_PIN_TOKEN = 5,
};

/* §5.5.5: three wrong PINs in a row need a power cycle */
#define MAX_CONSECUTIVE_FAILS 3
#define COSE_ECDH_ES_HKDF_256 (-25)

int
pin_session_reset(struct softkey *sk)
{
	struct sk_session *s = &sk->session;

	s->pin_fails = 0;
	s->ka_valid = crypto_p256_generate(s->ka_priv) == 0;
	s->token_valid = false;
	if (crypto_random(s->pin_token, sizeof(s->pin_token)) < 0 ||
	    !s->ka_valid)
		return -1;
	return 0;
}

uint8_t
pin_shared_secret(struct softkey *sk, const cbor_item_t *platform_key,
    uint8_t secret[32])
{
	uint8_t x[32], y[32], z[32];
	uint8_t r = CTAP1_ERR_INVALID_PARAMETER;

	if (!sk->session.ka_valid)
		goto out;
	if (!cb_read_cose_p256(platform_key, x, y) ||
	    crypto_p256_ecdh(sk->session.ka_priv, x, y, z) < 0 ||
	    crypto_sha256(z, sizeof(z), secret) < 0)
		goto out;
	r = CTAP2_OK;
out:
	crypto_wipe(z, sizeof(z));
	return r;
}

uint8_t
pin_check_auth(struct softkey *sk, const uint8_t *auth, size_t len,
    const cbor_item_t *protocol, const uint8_t cdh[32])
{
	uint8_t mac[32];
	int64_t prot;
	uint8_t r = CTAP2_ERR_PIN_AUTH_INVALID;

	if (!cb_read_int(protocol, &prot) || prot != 1)
		goto out;
	if (!sk->session.token_valid || len != 16)
		goto out;
	if (crypto_hmac_sha256(sk->session.pin_token,
	    sizeof(sk->session.pin_token), cdh, 32, mac) < 0)
		goto out;
	if (CRYPTO_memcmp(mac, auth, 16) != 0)
		goto out;
	r = CTAP2_OK;
out:
	crypto_wipe(mac, sizeof(mac));
	return r;
}

/* LEFT(HMAC-SHA-256(secret, a || b), 16) == auth */
static bool
auth_ok(const uint8_t secret[32], const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, const uint8_t *auth, size_t auth_len)
{
	uint8_t buf[256 + 16], mac[32];
	bool ok = false;

	if (auth_len != 16 || alen + blen > sizeof(buf))
		goto out;
	memcpy(buf, a, alen);
	if (blen > 0)
		memcpy(buf + alen, b, blen);
	if (crypto_hmac_sha256(secret, 32, buf, alen + blen, mac) < 0)
		goto out;
	ok = CRYPTO_memcmp(mac, auth, 16) == 0;
out:
	crypto_wipe(mac, sizeof(mac));
	return ok;
}

static uint8_t
get_retries(struct softkey *sk, cbor_item_t **resp)
{
	cbor_item_t *m = cbor_new_definite_map(1);

	if (cb_put(m, cb_int(3), cb_int(sk->state.pin_retries)) < 0)
		goto fail;
	*resp = m;
	return CTAP2_OK;
fail:
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

static uint8_t
get_key_agreement(struct softkey *sk, cbor_item_t **resp)
{
	uint8_t x[32], y[32];
	cbor_item_t *m = cbor_new_definite_map(1);

	if (!sk->session.ka_valid ||
	    crypto_p256_public(sk->session.ka_priv, x, y) < 0 ||
	    cb_put(m, cb_int(1), cb_cose_p256(x, y,
	    COSE_ECDH_ES_HKDF_256)) < 0)
		goto fail;
	*resp = m;
	return CTAP2_OK;
fail:
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

/*
 * A wrong PIN (§5.5.5): a new key agreement key, so that a platform cannot
 * replay, then the error that says how bad things are.
 */
static uint8_t
pin_mismatch(struct softkey *sk)
{
	sk->session.ka_valid =
	    crypto_p256_generate(sk->session.ka_priv) == 0;
	sk->session.pin_fails++;
	if (sk->state.pin_retries == 0)
		return CTAP2_ERR_PIN_BLOCKED;
	if (sk->session.pin_fails >= MAX_CONSECUTIVE_FAILS)
		return CTAP2_ERR_PIN_AUTH_BLOCKED;
	return CTAP2_ERR_PIN_INVALID;
}

/*
 * Check pinHashEnc against the stored PIN, spending one retry first as the
 * spec orders, so that pulling the plug mid-check saves no attempt.
 */
static uint8_t
check_pin_hash(struct softkey *sk, const uint8_t secret[32],
    const cbor_item_t *phe)
{
	const uint8_t *enc;
	size_t len;
	uint8_t hash[16];
	uint8_t r;

	if (!cb_read_bytes(phe, &enc, &len) || len != 16)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (sk->state.pin_retries <= 0)
		return CTAP2_ERR_PIN_BLOCKED;
	if (sk->session.pin_fails >= MAX_CONSECUTIVE_FAILS)
		return CTAP2_ERR_PIN_AUTH_BLOCKED;
	sk->state.pin_retries--;
	if (state_save(sk->state_path, &sk->state) < 0)
		return CTAP1_ERR_OTHER;
	if (crypto_aes256_cbc(secret, false, enc, 16, hash) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	if (CRYPTO_memcmp(hash, sk->state.pin_hash, 16) != 0) {
		sk_log("wrong PIN, %d retries left", sk->state.pin_retries);
		r = pin_mismatch(sk);
		goto out;
	}
	sk->state.pin_retries = SK_PIN_RETRIES;
	sk->session.pin_fails = 0;
	r = state_save(sk->state_path, &sk->state) < 0 ? CTAP1_ERR_OTHER :
	    CTAP2_OK;
out:
	crypto_wipe(hash, sizeof(hash));
	return r;
}

/* Decrypt newPinEnc and store the new PIN (§5.5.5 setPIN step 5). */
static uint8_t
store_new_pin(struct softkey *sk, const uint8_t secret[32],
    const uint8_t *enc, size_t len)
{
	uint8_t plain[256];
	size_t n;
	uint8_t r = CTAP2_ERR_PIN_POLICY_VIOLATION;

	/* the PIN is padded with zeros to at least 64 bytes */
	if (len < 64 || len > sizeof(plain) || len % 16 != 0)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (crypto_aes256_cbc(secret, false, enc, len, plain) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	for (n = 0; n < len && plain[n] != 0; n++)
		;
	if (n < 4 || n > 63)
		goto out;
	if (state_set_pin(&sk->state, plain, n) < 0 ||
	    state_save(sk->state_path, &sk->state) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	/* a new PIN invalidates any token handed out under the old one */
	sk->session.token_valid = false;
	if (crypto_random(sk->session.pin_token,
	    sizeof(sk->session.pin_token)) < 0) {
		r = CTAP1_ERR_OTHER;
		goto out;
	}
	sk_log("PIN set");
	r = CTAP2_OK;
out:
	crypto_wipe(plain, sizeof(plain));
	return r;
}

static uint8_t
set_pin(struct softkey *sk, const cbor_item_t *req)
{
	const uint8_t *enc, *auth;
	size_t enc_len, auth_len;
	uint8_t secret[32];
	uint8_t r;

	if (!cb_read_bytes(cb_get_int(req, 5), &enc, &enc_len) ||
	    !cb_read_bytes(cb_get_int(req, 4), &auth, &auth_len) ||
	    cb_get_int(req, 3) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (sk->state.pin_set)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if ((r = pin_shared_secret(sk, cb_get_int(req, 3), secret)) !=
	    CTAP2_OK)
		goto out;
	if (!auth_ok(secret, enc, enc_len, NULL, 0, auth, auth_len)) {
		r = CTAP2_ERR_PIN_AUTH_INVALID;
		goto out;
	}
	r = store_new_pin(sk, secret, enc, enc_len);
out:
	crypto_wipe(secret, sizeof(secret));
	return r;
}

static uint8_t
change_pin(struct softkey *sk, const cbor_item_t *req)
{
	const uint8_t *enc, *auth, *phe;
	size_t enc_len, auth_len, phe_len;
	uint8_t secret[32];
	uint8_t r;

	if (!cb_read_bytes(cb_get_int(req, 5), &enc, &enc_len) ||
	    !cb_read_bytes(cb_get_int(req, 4), &auth, &auth_len) ||
	    !cb_read_bytes(cb_get_int(req, 6), &phe, &phe_len) ||
	    cb_get_int(req, 3) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!sk->state.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if ((r = pin_shared_secret(sk, cb_get_int(req, 3), secret)) !=
	    CTAP2_OK)
		goto out;
	if (!auth_ok(secret, enc, enc_len, phe, phe_len, auth, auth_len)) {
		r = CTAP2_ERR_PIN_AUTH_INVALID;
		goto out;
	}
	if ((r = check_pin_hash(sk, secret, cb_get_int(req, 6))) != CTAP2_OK)
		goto out;
	r = store_new_pin(sk, secret, enc, enc_len);
out:
	crypto_wipe(secret, sizeof(secret));
	return r;
}

static uint8_t
get_pin_token(struct softkey *sk, const cbor_item_t *req, cbor_item_t **resp)
{
	uint8_t secret[32], enc[32];
	cbor_item_t *m = NULL;
	uint8_t r;

	if (cb_get_int(req, 3) == NULL || cb_get_int(req, 6) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!sk->state.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if ((r = pin_shared_secret(sk, cb_get_int(req, 3), secret)) !=
	    CTAP2_OK)
		goto out;
	if ((r = check_pin_hash(sk, secret, cb_get_int(req, 6))) != CTAP2_OK)
		goto out;
	r = CTAP1_ERR_OTHER;
	if (crypto_aes256_cbc(secret, true, sk->session.pin_token,
	    sizeof(sk->session.pin_token), enc) < 0 ||
	    (m = cbor_new_definite_map(1)) == NULL ||
	    cb_put(m, cb_int(2), cb_bytes(enc, sizeof(enc))) < 0)
		goto out;
	sk->session.token_valid = true;
	*resp = m;
	m = NULL;	/* transferred */
	r = CTAP2_OK;
out:
	if (m != NULL)
		cbor_decref(&m);
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(enc, sizeof(enc));
	return r;
}

uint8_t
pin_command(struct softkey *sk, const cbor_item_t *req, cbor_item_t **resp)
{
	int64_t prot, sub;

	*resp = NULL;
	if (!cb_read_int(cb_get_int(req, 1), &prot) ||
	    !cb_read_int(cb_get_int(req, 2), &sub))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (prot != 1)
		return CTAP1_ERR_INVALID_PARAMETER;
	switch (sub) {
	case SUB_GET_RETRIES:
		return get_retries(sk, resp);
	case SUB_GET_KEY_AGREEMENT:
		return get_key_agreement(sk, resp);
	case SUB_SET_PIN:
		return set_pin(sk, req);
	case SUB_CHANGE_PIN:
		return change_pin(sk, req);
	case SUB_GET_PIN_TOKEN:
		return get_pin_token(sk, req, resp);
	default:
		return CTAP1_ERR_INVALID_PARAMETER;
	}
}

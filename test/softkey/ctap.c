/*
 * CTAP 2.0 commands (§5).  Every reply map is sorted canonically by
 * cb_encode; authenticator data (WebAuthn §6.1) is built by hand:
 *
 *     rpIdHash(32) | flags(1) | signCount(4, big-endian)
 *     [ aaguid(16) | idLen(2) | credentialId | COSE_Key ]   (flag AT)
 *     [ extensions map ]                                     (flag ED)
 *
 * The extensions map carries exactly the extensions the platform asked
 * for: libfido2 compares it with its request and fails verification on any
 * difference.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cborutil.h"
#include "cred.h"
#include "crypto.h"
#include "ctap.h"
#include "pin.h"
#include "presence.h"
#include "softkey.h"

enum {
	CMD_MAKE_CREDENTIAL = 0x01,
	CMD_GET_ASSERTION = 0x02,
	CMD_GET_INFO = 0x04,
	CMD_CLIENT_PIN = 0x06,
	CMD_RESET = 0x07,
	CMD_GET_NEXT_ASSERTION = 0x08,
};

#define CTAP2_ERR_NOT_ALLOWED 0x30

#define FLAG_UP 0x01
#define FLAG_UV 0x04
#define FLAG_AT 0x40
#define FLAG_ED 0x80

#define COSE_ES256 (-7)
#define MAX_MSG_SIZE 1200
#define RP_ID_MAX 256

/* "kmfa-softkey" 0.1: identifies the model, as an AAGUID does */
static const uint8_t aaguid[16] = {
	0x6b, 0x6d, 0x66, 0x61, 0x2d, 0x73, 0x6f, 0x66,
	0x74, 0x6b, 0x65, 0x79, 0x00, 0x00, 0x00, 0x01,
};

/* Authenticator data under construction. */
struct authdata {
	uint8_t p[1024];
	size_t len;
	bool overflow;
};

static void
ad_put(struct authdata *ad, const void *p, size_t n)
{
	if (ad->overflow || n > sizeof(ad->p) - ad->len) {
		ad->overflow = true;
		return;
	}
	memcpy(ad->p + ad->len, p, n);
	ad->len += n;
}

static void
ad_put_u32(struct authdata *ad, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	ad_put(ad, b, sizeof(b));
}

/* Append the canonical encoding of item, which is consumed. */
static void
ad_put_cbor(struct authdata *ad, cbor_item_t *item)
{
	uint8_t *enc = NULL;
	size_t n = 0;

	if (cb_encode(item, &enc, &n) < 0)
		ad->overflow = true;
	else
		ad_put(ad, enc, n);
	free(enc);
	if (item != NULL)
		cbor_decref(&item);
}

static bool
hmac_supported(const struct softkey *sk)
{
	return (sk->faults & SK_FAULT_NOHMAC) == 0;
}

/* §5.4 authenticatorGetInfo */
static uint8_t
get_info(struct softkey *sk, cbor_item_t **resp)
{
	cbor_item_t *m = cbor_new_definite_map(6);
	cbor_item_t *versions = cbor_new_definite_array(1);
	cbor_item_t *ext = cbor_new_definite_array(2);
	cbor_item_t *opts = cbor_new_definite_map(3);
	cbor_item_t *prots = cbor_new_definite_array(1);

	if (cb_push(versions, cb_text("FIDO_2_0")) < 0 ||
	    (hmac_supported(sk) && cb_push(ext, cb_text("hmac-secret")) < 0) ||
	    cb_push(ext, cb_text("credProtect")) < 0 ||
	    cb_put(opts, cb_text("rk"), cb_bool(false)) < 0 ||
	    cb_put(opts, cb_text("up"), cb_bool(true)) < 0 ||
	    cb_put(opts, cb_text("clientPin"),
	    cb_bool(sk->state.pin_set)) < 0 ||
	    cb_push(prots, cb_int(1)) < 0)
		goto fail;
	if (cb_put(m, cb_int(1), cb_take(&versions)) < 0 ||
	    cb_put(m, cb_int(2), cb_take(&ext)) < 0 ||
	    cb_put(m, cb_int(3), cb_bytes(aaguid, sizeof(aaguid))) < 0 ||
	    cb_put(m, cb_int(4), cb_take(&opts)) < 0 ||
	    cb_put(m, cb_int(5), cb_int(MAX_MSG_SIZE)) < 0 ||
	    cb_put(m, cb_int(6), cb_take(&prots)) < 0)
		goto fail;
	*resp = m;
	return CTAP2_OK;
fail:
	if (versions != NULL)
		cbor_decref(&versions);
	if (ext != NULL)
		cbor_decref(&ext);
	if (opts != NULL)
		cbor_decref(&opts);
	if (prots != NULL)
		cbor_decref(&prots);
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

/*
 * The "touch to select" probe (§5.1 step 7 / §5.2 step 4 of CTAP 2.0): a
 * zero-length pinAuth asks for a touch and gets PIN_NOT_SET or PIN_INVALID;
 * libfido2's fido_dev_get_touch_begin relies on it.
 */
static uint8_t
touch_probe(struct softkey *sk)
{
	uint8_t r;

	if ((r = presence_wait(sk)) != CTAP2_OK)
		return r;
	return sk->state.pin_set ? CTAP2_ERR_PIN_INVALID :
	    CTAP2_ERR_PIN_NOT_SET;
}

/* pinAuth handling shared by makeCredential and getAssertion. */
static uint8_t
user_verification(struct softkey *sk, const cbor_item_t *pin_auth,
    const cbor_item_t *protocol, const uint8_t cdh[32], bool *uv)
{
	const uint8_t *auth;
	size_t len;

	*uv = false;
	if (pin_auth == NULL)
		return CTAP2_OK;
	if (!cb_read_bytes(pin_auth, &auth, &len))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (len == 0)
		return touch_probe(sk);
	if (pin_check_auth(sk, auth, len, protocol, cdh) != CTAP2_OK)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	*uv = true;
	return CTAP2_OK;
}

static bool
read_rp_hash(const cbor_item_t *rp_id, uint8_t hash[32])
{
	char id[RP_ID_MAX + 1];

	return cb_read_text(rp_id, id, sizeof(id)) &&
	    crypto_sha256(id, strlen(id), hash) == 0;
}

static bool
read_cdh(const cbor_item_t *it, const uint8_t **cdh)
{
	size_t len;

	return cb_read_bytes(it, cdh, &len) && len == 32;
}

/* Is one of the credential descriptors in list ours for rp_hash? */
static bool
find_cred(struct softkey *sk, const cbor_item_t *list,
    const uint8_t rp_hash[32], bool uv, struct cred *c, const uint8_t **id)
{
	cbor_item_t **items;
	const uint8_t *p;
	size_t n, len;

	if (list == NULL || !cbor_isa_array(list))
		return false;
	items = cbor_array_handle(list);
	n = cbor_array_size(list);
	for (size_t i = 0; i < n; i++) {
		if (!cb_read_bytes(cb_get_str(items[i], "id"), &p, &len))
			continue;
		if (cb_get_str(items[i], "type") != NULL &&
		    !cb_text_eq(cb_get_str(items[i], "type"), "public-key"))
			continue;
		if (cred_unwrap(&sk->state, rp_hash, p, len, c) < 0)
			continue;
		/* credProtect 3: invisible without user verification */
		if (c->protect >= 3 && !uv)
			continue;
		*id = p;
		return true;
	}
	return false;
}

static bool
alg_supported(const cbor_item_t *params)
{
	cbor_item_t **items;
	int64_t alg;

	if (params == NULL || !cbor_isa_array(params))
		return false;
	items = cbor_array_handle(params);
	for (size_t i = 0; i < cbor_array_size(params); i++)
		if (cb_read_int(cb_get_str(items[i], "alg"), &alg) &&
		    alg == COSE_ES256 &&
		    cb_text_eq(cb_get_str(items[i], "type"), "public-key"))
			return true;
	return false;
}

/* The next signature counter value, saved before it is used. */
static uint8_t
next_counter(struct softkey *sk, uint32_t *counter)
{
	sk->state.counter++;
	if (state_save(sk->state_path, &sk->state) < 0)
		return CTAP1_ERR_OTHER;
	*counter = sk->state.counter;
	return CTAP2_OK;
}

static uint8_t
sign(const uint8_t priv[32], const struct authdata *ad, const uint8_t cdh[32],
    bool corrupt, uint8_t sig[SK_ECDSA_SIG_MAX], size_t *sig_len)
{
	uint8_t msg[sizeof(ad->p) + 32];

	memcpy(msg, ad->p, ad->len);
	memcpy(msg + ad->len, cdh, 32);
	/* badsig: a well-formed signature, over something else */
	if (corrupt)
		msg[ad->len + 31] ^= 0x01;
	if (crypto_p256_sign(priv, msg, ad->len + 32, sig, sig_len) < 0)
		return CTAP1_ERR_OTHER;
	return CTAP2_OK;
}

/* §5.1 authenticatorMakeCredential */
static uint8_t
make_credential(struct softkey *sk, const cbor_item_t *req,
    cbor_item_t **resp)
{
	const cbor_item_t *ext = cb_get_int(req, 6);
	const cbor_item_t *opts = cb_get_int(req, 7);
	const uint8_t *cdh, *excluded_id;
	uint8_t rp_hash[32], id[CRED_ID_LEN], x[32], y[32];
	uint8_t sig[SK_ECDSA_SIG_MAX];
	size_t sig_len = 0;
	struct authdata ad = { .len = 0 };
	struct cred c, excluded;
	cbor_item_t *m = NULL, *att = NULL, *ext_out = NULL;
	bool uv = false, want_hmac = false, flag;
	int64_t protect = 0;
	uint32_t counter;
	uint8_t flags, r;

	if (!read_cdh(cb_get_int(req, 1), &cdh) ||
	    !read_rp_hash(cb_get_str(cb_get_int(req, 2), "id"), rp_hash) ||
	    cb_get_int(req, 3) == NULL || cb_get_int(req, 4) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!alg_supported(cb_get_int(req, 4)))
		return CTAP2_ERR_UNSUPPORTED_ALGORITHM;
	/* no resident keys, no built-in user verification */
	if ((cb_read_bool(cb_get_str(opts, "rk"), &flag) && flag) ||
	    (cb_read_bool(cb_get_str(opts, "uv"), &flag) && flag))
		return CTAP2_ERR_UNSUPPORTED_OPTION;
	if (cb_read_bool(cb_get_str(opts, "up"), &flag) && !flag)
		return CTAP2_ERR_INVALID_OPTION;
	if (hmac_supported(sk))
		(void)cb_read_bool(cb_get_str(ext, "hmac-secret"), &want_hmac);
	if (cb_get_str(ext, "credProtect") != NULL &&
	    (!cb_read_int(cb_get_str(ext, "credProtect"), &protect) ||
	    protect < 1 || protect > 3))
		return CTAP1_ERR_INVALID_PARAMETER;

	if ((r = user_verification(sk, cb_get_int(req, 8), cb_get_int(req, 9),
	    cdh, &uv)) != CTAP2_OK)
		return r;
	if (cb_get_int(req, 8) == NULL && sk->state.pin_set)
		return CTAP2_ERR_PIN_REQUIRED;
	/* §5.1 step 1: an excluded credential still costs a touch */
	if (find_cred(sk, cb_get_int(req, 5), rp_hash, true, &excluded,
	    &excluded_id)) {
		crypto_wipe(&excluded, sizeof(excluded));
		if ((r = presence_wait(sk)) != CTAP2_OK)
			return r;
		return CTAP2_ERR_CREDENTIAL_EXCLUDED;
	}
	if ((r = presence_wait(sk)) != CTAP2_OK)
		return r;

	r = CTAP1_ERR_OTHER;
	c.protect = (uint8_t)(protect > 0 ? protect : 1);
	if (crypto_p256_generate(c.priv) < 0 ||
	    crypto_p256_public(c.priv, x, y) < 0 ||
	    cred_wrap(&sk->state, rp_hash, &c, id) < 0)
		goto out;
	if ((r = next_counter(sk, &counter)) != CTAP2_OK)
		goto out;
	r = CTAP1_ERR_OTHER;
	if (want_hmac || protect > 0) {
		if ((ext_out = cbor_new_definite_map(2)) == NULL ||
		    (want_hmac && cb_put(ext_out, cb_text("hmac-secret"),
		    cb_bool(true)) < 0) ||
		    (protect > 0 && cb_put(ext_out, cb_text("credProtect"),
		    cb_int(protect)) < 0))
			goto out;
	}
	flags = FLAG_UP | FLAG_AT | (uv ? FLAG_UV : 0) |
	    (ext_out != NULL ? FLAG_ED : 0);
	ad_put(&ad, rp_hash, 32);
	ad_put(&ad, &flags, 1);
	ad_put_u32(&ad, counter);
	ad_put(&ad, aaguid, sizeof(aaguid));
	ad_put(&ad, (const uint8_t[]){ 0, CRED_ID_LEN }, 2);
	ad_put(&ad, id, sizeof(id));
	ad_put_cbor(&ad, cb_cose_p256(x, y, COSE_ES256));
	if (ext_out != NULL)
		ad_put_cbor(&ad, cb_take(&ext_out));
	if (ad.overflow)
		goto out;
	/* packed self attestation (WebAuthn §8.2): no x5c */
	if ((r = sign(c.priv, &ad, cdh, false, sig, &sig_len)) != CTAP2_OK)
		goto out;
	r = CTAP1_ERR_OTHER;
	if ((att = cbor_new_definite_map(2)) == NULL ||
	    cb_put(att, cb_text("alg"), cb_int(COSE_ES256)) < 0 ||
	    cb_put(att, cb_text("sig"), cb_bytes(sig, sig_len)) < 0)
		goto out;
	if ((m = cbor_new_definite_map(3)) == NULL ||
	    cb_put(m, cb_int(1), cb_text("packed")) < 0 ||
	    cb_put(m, cb_int(2), cb_bytes(ad.p, ad.len)) < 0 ||
	    cb_put(m, cb_int(3), cb_take(&att)) < 0)
		goto out;
	sk_log("makeCredential: new credential, counter %lu%s%s",
	    (unsigned long)counter, want_hmac ? ", hmac-secret" : "",
	    uv ? ", uv" : "");
	*resp = m;
	m = NULL;	/* transferred */
	r = CTAP2_OK;
out:
	crypto_wipe(&c, sizeof(c));
	if (ext_out != NULL)
		cbor_decref(&ext_out);
	if (att != NULL)
		cbor_decref(&att);
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

/*
 * The hmac-secret extension (CTAP 2.0 §10.5 / 2.1 §12.5) with PIN protocol
 * 1: input {1: keyAgreement, 2: saltEnc, 3: saltAuth}; output
 * AES-256-CBC(sharedSecret, HMAC(CredRandom, salt1) [|| HMAC(CredRandom,
 * salt2)]).
 */
static uint8_t
hmac_secret(struct softkey *sk, const cbor_item_t *in, const struct cred *c,
    bool uv, uint8_t out[64], size_t *out_len)
{
	const uint8_t *salt_enc, *salt_auth;
	size_t enc_len, auth_len;
	uint8_t secret[32], salts[64], mac[32], plain[64], rnd[32];
	int64_t prot;
	uint8_t r;

	if (!cb_read_bytes(cb_get_int(in, 2), &salt_enc, &enc_len) ||
	    !cb_read_bytes(cb_get_int(in, 3), &salt_auth, &auth_len) ||
	    cb_get_int(in, 1) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	/* a CTAP 2.1 platform may name the protocol; only 1 is offered */
	if (cb_get_int(in, 4) != NULL &&
	    (!cb_read_int(cb_get_int(in, 4), &prot) || prot != 1))
		return CTAP1_ERR_INVALID_PARAMETER;
	if ((enc_len != 32 && enc_len != 64) || auth_len != 16)
		return CTAP1_ERR_INVALID_LENGTH;
	if ((r = pin_shared_secret(sk, cb_get_int(in, 1), secret)) !=
	    CTAP2_OK)
		goto out;
	r = CTAP1_ERR_OTHER;
	if (crypto_hmac_sha256(secret, sizeof(secret), salt_enc, enc_len,
	    mac) < 0)
		goto out;
	if (CRYPTO_memcmp(mac, salt_auth, 16) != 0) {
		r = CTAP2_ERR_PIN_AUTH_INVALID;
		goto out;
	}
	if (crypto_aes256_cbc(secret, false, salt_enc, enc_len, salts) < 0 ||
	    cred_random(&sk->state, c, uv, rnd) < 0)
		goto out;
	for (size_t i = 0; i < enc_len; i += 32)
		if (crypto_hmac_sha256(rnd, sizeof(rnd),
		    salts + i, 32, plain + i) < 0)
			goto out;
	if (crypto_aes256_cbc(secret, true, plain, enc_len, out) < 0)
		goto out;
	*out_len = enc_len;
	r = CTAP2_OK;
out:
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(salts, sizeof(salts));
	crypto_wipe(plain, sizeof(plain));
	crypto_wipe(rnd, sizeof(rnd));
	return r;
}

/* §5.2 authenticatorGetAssertion */
static uint8_t
get_assertion(struct softkey *sk, const cbor_item_t *req, cbor_item_t **resp)
{
	const cbor_item_t *ext = cb_get_int(req, 4);
	const cbor_item_t *opts = cb_get_int(req, 5);
	const cbor_item_t *hmac_in = NULL;
	const uint8_t *cdh, *id = NULL;
	uint8_t rp_hash[32], sig[SK_ECDSA_SIG_MAX], hmac_out[64];
	size_t sig_len = 0, hmac_len = 0;
	struct authdata ad = { .len = 0 };
	struct cred c;
	cbor_item_t *m = NULL, *desc = NULL, *ext_out = NULL;
	bool up = true, uv = false, flag;
	uint32_t counter;
	uint8_t flags, r;

	memset(&c, 0, sizeof(c));
	if (!read_rp_hash(cb_get_int(req, 1), rp_hash) ||
	    !read_cdh(cb_get_int(req, 2), &cdh))
		return CTAP2_ERR_MISSING_PARAMETER;
	if (cb_read_bool(cb_get_str(opts, "uv"), &flag) && flag)
		return CTAP2_ERR_UNSUPPORTED_OPTION;
	if (cb_get_str(opts, "rk") != NULL)
		return CTAP2_ERR_INVALID_OPTION;
	(void)cb_read_bool(cb_get_str(opts, "up"), &up);
	if (hmac_supported(sk))
		hmac_in = cb_get_str(ext, "hmac-secret");

	if ((r = user_verification(sk, cb_get_int(req, 6), cb_get_int(req, 7),
	    cdh, &uv)) != CTAP2_OK)
		return r;
	/* no resident credentials: without an allow list there are none */
	if (!find_cred(sk, cb_get_int(req, 3), rp_hash, uv, &c, &id))
		return CTAP2_ERR_NO_CREDENTIALS;
	if (hmac_in != NULL && (r = hmac_secret(sk, hmac_in, &c, uv, hmac_out,
	    &hmac_len)) != CTAP2_OK)
		goto out;
	if (up && (r = presence_wait(sk)) != CTAP2_OK)
		goto out;
	if ((r = next_counter(sk, &counter)) != CTAP2_OK)
		goto out;
	/* rollback: what a cloned key that fell behind would report */
	if (sk->faults & SK_FAULT_ROLLBACK)
		counter = 1;

	r = CTAP1_ERR_OTHER;
	if (hmac_in != NULL &&
	    ((ext_out = cbor_new_definite_map(1)) == NULL ||
	    cb_put(ext_out, cb_text("hmac-secret"), cb_bytes(hmac_out,
	    hmac_len)) < 0))
		goto out;
	/* nouv: a key that verified the user but says it did not (or lies) */
	flags = (uint8_t)((up ? FLAG_UP : 0) |
	    (uv && !(sk->faults & SK_FAULT_NOUV) ? FLAG_UV : 0) |
	    (ext_out != NULL ? FLAG_ED : 0));
	ad_put(&ad, rp_hash, 32);
	ad_put(&ad, &flags, 1);
	ad_put_u32(&ad, counter);
	if (ext_out != NULL)
		ad_put_cbor(&ad, cb_take(&ext_out));
	if (ad.overflow)
		goto out;
	if ((r = sign(c.priv, &ad, cdh, (sk->faults & SK_FAULT_BADSIG) != 0,
	    sig, &sig_len)) != CTAP2_OK)
		goto out;
	r = CTAP1_ERR_OTHER;
	if ((desc = cbor_new_definite_map(2)) == NULL ||
	    cb_put(desc, cb_text("id"), cb_bytes(id, CRED_ID_LEN)) < 0 ||
	    cb_put(desc, cb_text("type"), cb_text("public-key")) < 0)
		goto out;
	if ((m = cbor_new_definite_map(3)) == NULL ||
	    cb_put(m, cb_int(1), cb_take(&desc)) < 0 ||
	    cb_put(m, cb_int(2), cb_bytes(ad.p, ad.len)) < 0 ||
	    cb_put(m, cb_int(3), cb_bytes(sig, sig_len)) < 0)
		goto out;
	sk_log("getAssertion: counter %lu%s%s%s%s", (unsigned long)counter,
	    up ? ", up" : "", uv ? ", uv" : "",
	    hmac_in != NULL ? ", hmac-secret" : "",
	    sk->faults & SK_FAULT_BADSIG ? ", bad signature" : "");
	*resp = m;
	m = NULL;	/* transferred */
	r = CTAP2_OK;
out:
	crypto_wipe(&c, sizeof(c));
	crypto_wipe(hmac_out, sizeof(hmac_out));
	if (ext_out != NULL)
		cbor_decref(&ext_out);
	if (desc != NULL)
		cbor_decref(&desc);
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

/*
 * §5.6 authenticatorReset: forget every credential (a new master key) and
 * the PIN.  A real key also insists on power-up within 10 s; not here.
 */
static uint8_t
reset(struct softkey *sk)
{
	struct sk_state fresh;
	uint8_t r;

	if ((r = presence_wait(sk)) != CTAP2_OK)
		return r;
	memset(&fresh, 0, sizeof(fresh));
	fresh.pin_retries = SK_PIN_RETRIES;
	if (crypto_random(fresh.master, sizeof(fresh.master)) < 0 ||
	    state_save(sk->state_path, &fresh) < 0) {
		crypto_wipe(&fresh, sizeof(fresh));
		return CTAP1_ERR_OTHER;
	}
	sk->state = fresh;
	crypto_wipe(&fresh, sizeof(fresh));
	sk_log("reset: all credentials and the PIN are gone");
	return CTAP2_OK;
}

void
ctap_dispatch(struct softkey *sk, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct cbor_load_result res;
	cbor_item_t *params = NULL, *out = NULL;
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	uint8_t r = CTAP2_ERR_INVALID_CBOR;

	if (len > 1) {
		if ((params = cbor_load(req + 1, len - 1, &res)) == NULL)
			goto out;
		if (!cbor_isa_map(params)) {
			r = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
	}
	switch (req[0]) {
	case CMD_GET_INFO:
		r = get_info(sk, &out);
		break;
	case CMD_MAKE_CREDENTIAL:
		r = params == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    make_credential(sk, params, &out);
		break;
	case CMD_GET_ASSERTION:
		r = params == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    get_assertion(sk, params, &out);
		break;
	case CMD_CLIENT_PIN:
		r = params == NULL ? CTAP2_ERR_MISSING_PARAMETER :
		    pin_command(sk, params, &out);
		break;
	case CMD_RESET:
		r = reset(sk);
		break;
	case CMD_GET_NEXT_ASSERTION:
		/* never more than one credential per assertion */
		r = CTAP2_ERR_NOT_ALLOWED;
		break;
	default:
		r = CTAP1_ERR_INVALID_COMMAND;
		break;
	}
	if (r == CTAP2_OK && out != NULL) {
		if (cb_encode(out, &enc, &enc_len) < 0 || enc_len + 1 > cap)
			r = CTAP1_ERR_OTHER;
		else
			memcpy(resp + 1, enc, enc_len);
	}
out:
	if (r != CTAP2_OK)
		enc_len = 0;
	if (r != CTAP2_OK)
		sk_log("command 0x%02x: status 0x%02x", req[0], r);
	resp[0] = r;
	*resp_len = 1 + enc_len;
	if (enc != NULL) {
		crypto_wipe(enc, enc_len);
		free(enc);
	}
	if (out != NULL)
		cbor_decref(&out);
	if (params != NULL)
		cbor_decref(&params);
}

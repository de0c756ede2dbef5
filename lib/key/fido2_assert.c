/*
 * The assertion in three steps: build the request, get it answered, verify
 * the answer.  Every attempt gets a new request with a new challenge, so
 * no answer to an earlier attempt can pass for a later one.  libfido2
 * checks the UV flag only when the uv option was sent, not when a PIN was
 * used, so the flags are checked here whatever was sent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <fido/es256.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "base/report.h"
#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fido2_assert.h"
#include "key/seal.h"

#define FLAG_UP		0x01	/* authenticator data flags, WebAuthn §6.1 */
#define FLAG_UV		0x04

/* clientDataHash = SHA-256(random 32 bytes || context): fresh and bound. */
static int
challenge(const char *context, uint8_t cdh[KMFA_FIDO2_CDH_LEN],
    uint8_t nonce[32])
{
	EVP_MD_CTX *md = NULL;
	unsigned len = 0;
	int r = KMFA_ERR_INTERNAL;

	if ((r = kmfa_seal_random(nonce, 32)) != KMFA_OK)
		return r;
	r = KMFA_ERR_INTERNAL;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, nonce, 32) != 1 ||
	    EVP_DigestUpdate(md, context, strlen(context)) != 1 ||
	    EVP_DigestFinal_ex(md, cdh, &len) != 1 ||
	    len != KMFA_FIDO2_CDH_LEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "SHA-256 failed in OpenSSL");
		goto out;
	}
	r = KMFA_OK;
out:
	EVP_MD_CTX_free(md);
	return r;
}

/*
 * The request for one attempt: rp id, a fresh challenge, UP always, the
 * uv option only for built-in verification (a PIN goes with the call),
 * every allowed credential, and the hmac-secret salt when asked for.
 */
static int
assert_build(const struct kmfa_fido2_assert_req *req, enum kmfa_fido2_uv m,
    fido_assert_t **out)
{
	fido_assert_t *a = NULL;
	uint8_t cdh[KMFA_FIDO2_CDH_LEN], nonce[32];
	int r = KMFA_ERR_INTERNAL;

	*out = NULL;
	if ((r = challenge(req->context, cdh, nonce)) != KMFA_OK)
		goto out;
	if (req->evidence != NULL)
		memcpy(req->evidence->nonce, nonce, sizeof(nonce));
	r = KMFA_ERR_NOMEM;
	if ((a = fido_assert_new()) == NULL)
		goto out;
	r = KMFA_ERR_INTERNAL;
	if (fido_assert_set_rp(a, KMFA_FIDO2_RP_ID) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(a, m == KMFA_FIDO2_UV_BUILTIN ? FIDO_OPT_TRUE :
	    FIDO_OPT_OMIT) != FIDO_OK)
		goto out;
	for (size_t i = 0; i < req->ncreds; i++)
		if (fido_assert_allow_cred(a, req->creds[i].id,
		    req->creds[i].id_len) != FIDO_OK)
			goto out;
	if (req->salt != NULL && (fido_assert_set_extensions(a,
	    FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
	    fido_assert_set_hmac_salt(a, req->salt, KMFA_HMAC_SALT_LEN) !=
	    FIDO_OK))
		goto out;
	*out = a;
	a = NULL;	/* transferred */
	r = KMFA_OK;
out:
	OPENSSL_cleanse(cdh, sizeof(cdh));
	fido_assert_free(&a);
	return r;
}

/*
 * Send a request until the key answers.  A wrong PIN is asked again while
 * tries remain; blocked built-in verification falls back to the PIN;
 * everything else ends the attempt.
 */
static int
assert_get(struct kmfa_fido2_assert_req *req, fido_assert_t **out)
{
	struct kmfa_fido2_session *s = req->s;
	fido_assert_t *a = NULL;
	enum kmfa_fido2_uv m;
	int fr, r = KMFA_ERR_FIDO2;

	*out = NULL;
	if ((r = kmfa_fido2_session_uv(s, req->uv_required, &m)) != KMFA_OK)
		goto out;
	for (int attempt = 0;; attempt++) {
		fido_assert_free(&a);
		r = KMFA_ERR_FIDO2;
		if (m == KMFA_FIDO2_UV_PIN &&
		    (r = kmfa_fido2_session_pin(s, &req->event)) != KMFA_OK)
			goto out;
		if ((r = assert_build(req, m, &a)) != KMFA_OK)
			goto out;
		if (kmfa_fido2_session_left_ms(s) == 0) {
			r = kmfa_fido2_session_fail(s, FIDO_ERR_RX,
			    req->prompt);
			goto out;
		}
		(void)fido_dev_set_timeout(s->d.dev,
		    kmfa_fido2_session_left_ms(s));
		kmfa_info("%s", req->prompt);
		fr = fido_dev_get_assert(s->d.dev, a, m == KMFA_FIDO2_UV_PIN ?
		    s->pin : NULL);
		if (fr == FIDO_OK)
			break;
		if (fr == FIDO_ERR_PIN_INVALID && m == KMFA_FIDO2_UV_PIN &&
		    attempt + 1 < KMFA_FIDO2_PIN_ATTEMPTS) {
			kmfa_fido2_session_wrong_pin(s);
			continue;
		}
		/* Built-in verification blocked: CTAP2.1 falls back to the PIN. */
		if (fr == FIDO_ERR_UV_BLOCKED && m == KMFA_FIDO2_UV_BUILTIN &&
		    s->has_pin) {
			kmfa_info("Built-in verification is blocked; using the "
			    "PIN instead.");
			m = KMFA_FIDO2_UV_PIN;
			continue;
		}
		req->event = kmfa_fido2_event(fr);
		r = kmfa_fido2_session_fail(s, fr, "the security key step "
		    "failed");
		goto out;
	}
	*out = a;
	a = NULL;	/* transferred */
	r = KMFA_OK;
out:
	fido_assert_free(&a);
	return r;
}

void
kmfa_fido2_assert_evidence_clear(struct kmfa_fido2_evidence *e)
{
	if (e == NULL)
		return;
	free(e->cred_id);
	free(e->authdata);
	free(e->sig);
	memset(e, 0, sizeof(*e));
}

static int
dup_bytes(const unsigned char *p, size_t n, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (p == NULL || n == 0)
		return KMFA_ERR_FIDO2;
	if ((*out = malloc(n)) == NULL)
		return KMFA_ERR_NOMEM;
	memcpy(*out, p, n);
	*outlen = n;
	return KMFA_OK;
}

int
kmfa_fido2_assert_evidence_keep(const fido_assert_t *a,
    struct kmfa_fido2_evidence *e)
{
	int r;

	free(e->cred_id);
	free(e->authdata);
	free(e->sig);
	e->cred_id = e->authdata = e->sig = NULL;
	if ((r = dup_bytes(fido_assert_id_ptr(a, 0), fido_assert_id_len(a, 0),
	    &e->cred_id, &e->cred_id_len)) != KMFA_OK ||
	    (r = dup_bytes(fido_assert_authdata_ptr(a, 0),
	    fido_assert_authdata_len(a, 0), &e->authdata,
	    &e->authdata_len)) != KMFA_OK ||
	    (r = dup_bytes(fido_assert_sig_ptr(a, 0), fido_assert_sig_len(a, 0),
	    &e->sig, &e->sig_len)) != KMFA_OK)
		return r == KMFA_ERR_NOMEM ? r : kmfa_fail(KMFA_ERR_FIDO2,
		    "the security key's assertion lacks a part");
	return KMFA_OK;
}

/* Trust nothing in the answer until it is checked against the enrolment. */
static int
assert_verify(struct kmfa_fido2_assert_req *req, const fido_assert_t *a,
    struct kmfa_fido2_answer *ans)
{
	es256_pk_t *pk = NULL;
	const struct kmfa_cred *c = NULL;
	const unsigned char *id;
	uint8_t flags;
	int fr, r = KMFA_ERR_FIDO2;

	req->event = KMFA_EV_VERIFY_FAILED;
	if (fido_assert_count(a) < 1 || (id = fido_assert_id_ptr(a, 0)) ==
	    NULL) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the security key answered "
		    "without a credential");
		goto out;
	}
	for (size_t i = 0; i < req->ncreds && c == NULL; i++)
		if (req->creds[i].id_len == fido_assert_id_len(a, 0) &&
		    memcmp(req->creds[i].id, id, req->creds[i].id_len) == 0) {
			c = &req->creds[i];
			ans->idx = i;
		}
	if (c == NULL) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the security key answered with "
		    "a credential that is not enrolled");
		goto out;
	}
	if ((pk = es256_pk_new()) == NULL ||
	    es256_pk_from_ptr(pk, c->pubkey, c->pubkey_len) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the enrolled public key of '%s' "
		    "is not a valid P-256 point", c->name);
		goto out;
	}
	/* Checks the signature over authData || clientDataHash and rpIdHash. */
	if ((fr = fido_assert_verify(a, 0, COSE_ES256, pk)) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the assertion of security key "
		    "'%s' does not verify against its enrolled public key: %s",
		    c->name, kmfa_fido2_strerr(fr));
		goto out;
	}
	flags = fido_assert_flags(a, 0);
	if ((flags & FLAG_UP) == 0 ||
	    (req->uv_required && (flags & FLAG_UV) == 0)) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' did not "
		    "confirm user %s", c->name, (flags & FLAG_UP) == 0 ?
		    "presence" : "verification");
		goto out;
	}
	ans->sign_count = fido_assert_sigcount(a, 0);
	/* The verified answer, for the server proof. */
	if (req->evidence != NULL && (r = kmfa_fido2_assert_evidence_keep(a,
	    req->evidence)) != KMFA_OK)
		goto out;
	if (req->salt != NULL && c->hmac_secret) {
		if (fido_assert_hmac_secret_len(a, 0) != KMFA_HMAC_OUT_LEN) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' gave "
			    "no hmac-secret output", c->name);
			goto out;
		}
		memcpy(ans->hmac, fido_assert_hmac_secret_ptr(a, 0),
		    KMFA_HMAC_OUT_LEN);
		ans->have_hmac = 1;
	}
	req->event = KMFA_EV_TOUCH_OK;
	r = KMFA_OK;
out:
	es256_pk_free(&pk);
	return r;
}

int
kmfa_fido2_assert(struct kmfa_fido2_assert_req *req,
    struct kmfa_fido2_answer *ans)
{
	fido_assert_t *a = NULL;
	int r = KMFA_ERR_FIDO2;

	memset(ans, 0, sizeof(*ans));
	req->event = KMFA_EV_TOUCH_FAILED;
	if ((r = assert_get(req, &a)) != KMFA_OK)
		goto out;
	r = assert_verify(req, a, ans);
out:
	if (r != KMFA_OK)
		OPENSSL_cleanse(ans, sizeof(*ans));
	/* libfido2 wipes the hmac-secret output it holds (freezero) here. */
	fido_assert_free(&a);
	return r;
}

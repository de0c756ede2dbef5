/*
 * The server proof.  The parser is the webhook's first contact with what a
 * client sends, so it is strict and bounded before it decodes anything:
 * the bearer's length, each part's alphabet (the base64url decoder), the
 * JSON gate (lib/base/json.h), the exact set of members and each one's
 * decoded size.  It verifies nothing: kmfa_proof_verify_sig and the
 * webhook's checks do, against the registry, never against the proof.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <fido.h>
#include <fido/es256.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/sha256.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fido2_assert.h"
#include "key/fido2_touch.h"
#include "key/fidodev.h"
#include "key/proof.h"

/* The members of the proof JSON, all base64url strings but "v". */
static const char *const members[] = {
	"v", "cred", "nonce", "ctx", "up_ad", "up_sig", "tok_ad", "tok_sig",
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))
/* An epoch time in the context: at most 15 digits (KMFA_RECORD_TIME_MAX). */
#define CTX_TIME_DIGITS 15

static int
bad_text(const char *s)
{
	return s == NULL || *s == '\0' || strchr(s, '\n') != NULL;
}

int
kmfa_proof_context(const char *issuer, const char *client_id, int64_t t,
    char **out)
{
	*out = NULL;
	if (bad_text(issuer) || bad_text(client_id))
		return kmfa_fail(KMFA_ERR_USAGE, "--server-proof: the issuer "
		    "and client id must be one line each");
	if (t < 0)
		return kmfa_fail(KMFA_ERR_INTERNAL, "negative time");
	if (kmfa_asprintf(out, "%s\n%s\n%s\n%lld", KMFA_PROOF_CTX_TAG, issuer,
	    client_id, (long long)t) < 0)
		return KMFA_ERR_NOMEM;
	return KMFA_OK;
}

void
kmfa_proof_up_cdh(const uint8_t nonce[32], const char *ctx, uint8_t out[32])
{
	struct kmfa_buf b = { 0 };

	/* Two parts hashed as one: the same bytes fido2_assert.c hashes. */
	if (kmfa_buf_append(&b, nonce, 32) != 0 ||
	    kmfa_buf_append(&b, ctx, strlen(ctx)) != 0) {
		memset(out, 0, 32);
		kmfa_buf_wipe(&b);
		return;
	}
	kmfa_sha256(b.data, b.len, out);
	kmfa_buf_wipe(&b);
}

void
kmfa_proof_token_cdh(const char *token, size_t len, const uint8_t up_cdh[32],
    uint8_t out[32])
{
	uint8_t m[sizeof(KMFA_PROOF_TOKEN_TAG) + 2 * KMFA_SHA256_LEN];
	size_t n = sizeof(KMFA_PROOF_TOKEN_TAG);	/* the tag and its NUL */

	memcpy(m, KMFA_PROOF_TOKEN_TAG, n);
	kmfa_sha256(token, len, m + n);
	memcpy(m + n + KMFA_SHA256_LEN, up_cdh, KMFA_SHA256_LEN);
	kmfa_sha256(m, sizeof(m), out);
}

/* One try on one device; KMFA_ERR_NOTFOUND when it is not the key. */
static int
assert_on(const char *path, const char *rp_id, const uint8_t *cred_id,
    size_t cred_id_len, const uint8_t cdh[32], int up, int timeout_ms,
    struct kmfa_fido2_evidence *out)
{
	struct kmfa_fidodev d = { 0 };
	fido_assert_t *a = NULL;
	int fr, r = KMFA_ERR_NOTFOUND;

	if (kmfa_fidodev_open(path, &d) != KMFA_OK)
		goto out;
	r = KMFA_ERR_NOMEM;
	if ((a = fido_assert_new()) == NULL)
		goto out;
	r = KMFA_ERR_INTERNAL;
	if (fido_assert_set_rp(a, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, 32) != FIDO_OK ||
	    fido_assert_set_up(a, up ? FIDO_OPT_TRUE : FIDO_OPT_FALSE) !=
	    FIDO_OK || fido_assert_allow_cred(a, cred_id, cred_id_len) !=
	    FIDO_OK)
		goto out;
	(void)fido_dev_set_timeout(d.dev, timeout_ms);
	if ((fr = fido_dev_get_assert(d.dev, a, NULL)) != FIDO_OK) {
		r = fr == FIDO_ERR_NO_CREDENTIALS ? KMFA_ERR_NOTFOUND :
		    kmfa_fail(KMFA_ERR_FIDO2, "the security key did not sign "
		    "the token proof: %s", kmfa_fido2_strerr(fr));
		goto out;
	}
	/* Not the nonce: the caller's, for the touch's evidence. */
	if ((r = kmfa_fido2_assert_evidence_keep(a, out)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	fido_assert_free(&a);
	kmfa_fidodev_close(&d);
	return r;
}

/*
 * Every candidate in turn: an assertion without presence needs no touch,
 * and a key that does not hold the credential says so at once.
 */
int
kmfa_proof_assert(const char *device, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t cdh[32],
    int up, int timeout_ms, struct kmfa_fido2_evidence *out)
{
	char **paths = NULL;
	size_t n = 0;
	int r;

	kmfa_fidodev_init();
	if ((r = kmfa_fidodev_candidates(device, &paths, &n)) != KMFA_OK)
		return r;
	r = KMFA_ERR_NOTFOUND;
	for (size_t i = 0; i < n && r == KMFA_ERR_NOTFOUND; i++)
		r = assert_on(paths[i], rp_id, cred_id, cred_id_len, cdh, up,
		    timeout_ms, out);
	kmfa_fidodev_paths_free(&paths, n);
	if (r == KMFA_ERR_NOTFOUND)
		r = kmfa_fail(KMFA_ERR_FIDO2, "no security key answered for the "
		    "credential just touched, so the token proof could not be "
		    "signed (was the key unplugged? a key enrolled with user "
		    "verification does not answer without it, and --server-proof "
		    "does not support that yet)");
	return r;
}

static int
put_b64(struct kmfa_buf *b, const char *name, const uint8_t *p, size_t n,
    int last)
{
	char *s = NULL;
	int r;

	if ((r = kmfa_b64url_encode(p, n, &s)) != KMFA_OK)
		return r;
	r = kmfa_buf_printf(b, "\"%s\":\"%s\"%s", name, s, last ? "}" : ",") ==
	    0 ? KMFA_OK : KMFA_ERR_NOMEM;
	free(s);
	return r;
}

int
kmfa_proof_encode(const char *id_token, const char *ctx,
    const struct kmfa_fido2_evidence *up,
    const struct kmfa_fido2_evidence *tok, char **bearer)
{
	struct kmfa_buf j = { 0 };
	char *t64 = NULL, *j64 = NULL;
	int r = KMFA_ERR_NOMEM;

	*bearer = NULL;
	if (kmfa_buf_printf(&j, "{\"v\":1,") != 0 ||
	    (r = put_b64(&j, "cred", up->cred_id, up->cred_id_len, 0)) !=
	    KMFA_OK ||
	    (r = put_b64(&j, "nonce", up->nonce, sizeof(up->nonce), 0)) !=
	    KMFA_OK ||
	    (r = put_b64(&j, "ctx", (const uint8_t *)ctx, strlen(ctx), 0)) !=
	    KMFA_OK ||
	    (r = put_b64(&j, "up_ad", up->authdata, up->authdata_len, 0)) !=
	    KMFA_OK ||
	    (r = put_b64(&j, "up_sig", up->sig, up->sig_len, 0)) != KMFA_OK ||
	    (r = put_b64(&j, "tok_ad", tok->authdata, tok->authdata_len, 0)) !=
	    KMFA_OK ||
	    (r = put_b64(&j, "tok_sig", tok->sig, tok->sig_len, 1)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_NOMEM;
	if (kmfa_b64url_encode((const uint8_t *)id_token, strlen(id_token),
	    &t64) != KMFA_OK ||
	    kmfa_b64url_encode((const uint8_t *)j.data, j.len, &j64) != KMFA_OK)
		goto out;
	if (kmfa_asprintf(bearer, "%s%s.%s", KMFA_PROOF_PREFIX, t64, j64) < 0)
		goto out;
	r = KMFA_OK;
out:
	kmfa_freezero_str(t64);
	free(j64);
	kmfa_buf_wipe(&j);
	return r;
}

void
kmfa_proof_free(struct kmfa_proof **pp)
{
	struct kmfa_proof *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	kmfa_freezero_str(p->id_token);
	free(p->cred_id);
	free(p->ctx);
	free(p->up.authdata);
	free(p->up.sig);
	free(p->tok.authdata);
	free(p->tok.sig);
	free(p->ctx_issuer);
	free(p->ctx_client_id);
	free(p);
	*pp = NULL;
}

/* A member's base64url value, decoded, of 1..max bytes. */
static int
get_bytes(const cJSON *o, const char *name, size_t max, uint8_t **out,
    size_t *outlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	int r;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return kmfa_fail(KMFA_ERR_TOKEN, "proof: %s is missing or not "
		    "a string", name);
	/* base64url: 4 characters for 3 bytes; refuse before decoding. */
	if (strlen(v->valuestring) > (max / 3 + 1) * 4)
		return kmfa_fail(KMFA_ERR_TOKEN, "proof: %s is too long", name);
	if ((r = kmfa_b64url_decode(v->valuestring, strlen(v->valuestring), out,
	    outlen)) != KMFA_OK)
		return r == KMFA_ERR_NOMEM ? r : kmfa_fail(KMFA_ERR_TOKEN,
		    "proof: %s is not base64url", name);
	if (*outlen == 0 || *outlen > max) {
		free(*out);
		*out = NULL;
		return kmfa_fail(KMFA_ERR_TOKEN, "proof: %s has %zu bytes, "
		    "not 1..%zu", name, *outlen, max);
	}
	return KMFA_OK;
}

/* tag \n issuer \n client \n time: each field non-empty. */
static int
parse_ctx(struct kmfa_proof *p)
{
	char *f[4] = { NULL }, *s, *nl;
	size_t i;
	int64_t t = 0;

	if ((s = strdup(p->ctx)) == NULL)
		return KMFA_ERR_NOMEM;
	f[0] = s;
	for (i = 1; i < 4; i++) {
		if ((nl = strchr(f[i - 1], '\n')) == NULL)
			break;
		*nl = '\0';
		f[i] = nl + 1;
	}
	if (i < 4 || strchr(f[3], '\n') != NULL ||
	    strcmp(f[0], KMFA_PROOF_CTX_TAG) != 0 || *f[1] == '\0' ||
	    *f[2] == '\0' || *f[3] == '\0' || strlen(f[3]) > CTX_TIME_DIGITS ||
	    (f[3][0] == '0' && f[3][1] != '\0')) {
		free(s);
		return kmfa_fail(KMFA_ERR_TOKEN, "proof: the context is not "
		    "of the kmfa-proof1 form");
	}
	for (const char *c = f[3]; *c != '\0'; c++) {
		if (*c < '0' || *c > '9') {
			free(s);
			return kmfa_fail(KMFA_ERR_TOKEN, "proof: the context's "
			    "time is not a number");
		}
		t = t * 10 + (*c - '0');
	}
	p->ctx_time = t;
	if ((p->ctx_issuer = strdup(f[1])) == NULL ||
	    (p->ctx_client_id = strdup(f[2])) == NULL) {
		free(s);
		return KMFA_ERR_NOMEM;
	}
	free(s);
	return KMFA_OK;
}

static int
parse_json(struct kmfa_proof *p, const char *json, size_t len)
{
	cJSON *doc = NULL;
	const cJSON *v, *it;
	char why[KMFA_JSON_WHY_MAX];
	uint8_t *b = NULL;
	size_t n = 0;
	int r;

	if ((r = kmfa_json_parse_object(json, len, KMFA_PROOF_JSON_MAX, &doc,
	    why, sizeof(why))) != KMFA_OK) {
		if (r == KMFA_ERR_DAMAGED)
			r = kmfa_fail(KMFA_ERR_TOKEN, "proof %s", why);
		goto out;
	}
	r = KMFA_ERR_TOKEN;
	cJSON_ArrayForEach(it, doc) {
		size_t k;

		for (k = 0; k < NMEMBERS; k++)
			if (it->string != NULL &&
			    strcmp(it->string, members[k]) == 0)
				break;
		if (k == NMEMBERS) {
			r = kmfa_fail(KMFA_ERR_TOKEN, "proof: unknown member");
			goto out;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "v");
	if (!cJSON_IsNumber(v) || v->valuedouble != 1.0) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "proof: version is not 1");
		goto out;
	}
	if ((r = get_bytes(doc, "cred", KMFA_CRED_ID_MAX, &p->cred_id,
	    &p->cred_id_len)) != KMFA_OK ||
	    (r = get_bytes(doc, "nonce", 32, &b, &n)) != KMFA_OK)
		goto out;
	if (n != 32) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "proof: the nonce is not 32 "
		    "bytes");
		goto out;
	}
	memcpy(p->nonce, b, 32);
	free(b);
	b = NULL;
	if ((r = get_bytes(doc, "ctx", KMFA_PROOF_CTX_MAX, &b, &n)) != KMFA_OK)
		goto out;
	if (memchr(b, '\0', n) != NULL) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "proof: the context holds a NUL");
		goto out;
	}
	p->ctx = (char *)b;	/* the decoder NUL-terminates */
	b = NULL;
	if ((r = parse_ctx(p)) != KMFA_OK ||
	    (r = get_bytes(doc, "up_ad", KMFA_PROOF_AUTHDATA_MAX,
	    &p->up.authdata, &p->up.authdata_len)) != KMFA_OK ||
	    (r = get_bytes(doc, "up_sig", KMFA_PROOF_SIG_MAX, &p->up.sig,
	    &p->up.sig_len)) != KMFA_OK ||
	    (r = get_bytes(doc, "tok_ad", KMFA_PROOF_AUTHDATA_MAX,
	    &p->tok.authdata, &p->tok.authdata_len)) != KMFA_OK ||
	    (r = get_bytes(doc, "tok_sig", KMFA_PROOF_SIG_MAX, &p->tok.sig,
	    &p->tok.sig_len)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	free(b);
	cJSON_Delete(doc);
	return r;
}

int
kmfa_proof_parse(const char *bearer, size_t len, struct kmfa_proof **out)
{
	struct kmfa_proof *p = NULL;
	const char *a, *dot, *end = bearer + len;
	uint8_t *tok = NULL, *json = NULL;
	size_t toklen = 0, jsonlen = 0, plen = strlen(KMFA_PROOF_PREFIX);
	int r = KMFA_ERR_NOTFOUND;

	*out = NULL;
	if (len < plen || memcmp(bearer, KMFA_PROOF_PREFIX, plen) != 0)
		return KMFA_ERR_NOTFOUND;
	if (len > KMFA_PROOF_BEARER_MAX)
		return kmfa_fail(KMFA_ERR_TOKEN, "the bearer has %zu bytes, "
		    "more than %d", len, KMFA_PROOF_BEARER_MAX);
	a = bearer + plen;
	if ((dot = memchr(a, '.', (size_t)(end - a))) == NULL ||
	    memchr(dot + 1, '.', (size_t)(end - dot - 1)) != NULL) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the bearer is not kmfa-proof1.TOKEN."
		    "PROOF");
		goto out;
	}
	r = KMFA_ERR_NOMEM;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	if ((r = kmfa_b64url_decode(a, (size_t)(dot - a), &tok, &toklen)) !=
	    KMFA_OK || (r = kmfa_b64url_decode(dot + 1, (size_t)(end - dot - 1),
	    &json, &jsonlen)) != KMFA_OK) {
		if (r != KMFA_ERR_NOMEM)
			r = kmfa_fail(KMFA_ERR_TOKEN, "the bearer's parts are "
			    "not base64url");
		goto out;
	}
	r = KMFA_ERR_TOKEN;
	if (toklen == 0 || memchr(tok, '\0', toklen) != NULL) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the bearer's ID token is empty "
		    "or holds a NUL");
		goto out;
	}
	p->id_token = (char *)tok;	/* NUL-terminated by the decoder */
	tok = NULL;
	if ((r = parse_json(p, (const char *)json, jsonlen)) != KMFA_OK)
		goto out;
	*out = p;
	p = NULL;	/* transferred */
	r = KMFA_OK;
out:
	if (tok != NULL)
		kmfa_freezero(tok, toklen);
	free(json);
	kmfa_proof_free(&p);
	return r;
}

/*
 * The authenticator data inside its CBOR byte string (as libfido2 takes
 * it): rpIdHash (32), flags (1), counter (4), then what the flags say.
 */
static int
raw_authdata(const struct kmfa_proof_sig *s, const uint8_t **p, size_t *n)
{
	const uint8_t *b = s->authdata;
	size_t len = s->authdata_len, off, want;

	if (len < 1)
		return -1;
	if (b[0] >= 0x40 && b[0] <= 0x57) {
		off = 1;
		want = (size_t)(b[0] - 0x40);
	} else if (b[0] == 0x58 && len >= 2) {
		off = 2;
		want = b[1];
	} else if (b[0] == 0x59 && len >= 3) {
		off = 3;
		want = (size_t)b[1] << 8 | b[2];
	} else {
		return -1;
	}
	if (want != len - off || want < 37)
		return -1;
	*p = b + off;
	*n = want;
	return 0;
}

#define FLAG_ED	0x80	/* extension data follows (WebAuthn §6.1) */

int
kmfa_proof_verify_sig(const uint8_t *pk, size_t pk_len, const char *rp_id,
    const uint8_t cdh[32], const struct kmfa_proof_sig *s, uint8_t *flags,
    uint32_t *count)
{
	fido_assert_t *a = NULL;
	es256_pk_t *k = NULL;
	const uint8_t *raw = NULL;
	uint8_t rp_hash[KMFA_SHA256_LEN];
	size_t rawlen = 0;
	int fr, r = KMFA_ERR_NOMEM;

	*flags = 0;
	*count = 0;
	if ((a = fido_assert_new()) == NULL || (k = es256_pk_new()) == NULL)
		goto out;
	r = KMFA_ERR_TOKEN;
	if (es256_pk_from_ptr(k, pk, pk_len) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the registered public key is not "
		    "a P-256 point");
		goto out;
	}
	if (raw_authdata(s, &raw, &rawlen) != 0) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the authenticator data does not "
		    "parse");
		goto out;
	}
	kmfa_sha256(rp_id, strlen(rp_id), rp_hash);
	if (memcmp(raw, rp_hash, sizeof(rp_hash)) != 0) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the rp id hash is not that of "
		    "'%s'", rp_id);
		goto out;
	}
	/*
	 * libfido2 wants the extensions asked for to match those in the
	 * authenticator data; the touch asks for hmac-secret only, whose
	 * output is the signed, opaque data that ED announces.
	 */
	if ((raw[32] & FLAG_ED) != 0 &&
	    fido_assert_set_extensions(a, FIDO_EXT_HMAC_SECRET) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "libfido2 refused the extension");
		goto out;
	}
	if (fido_assert_set_count(a, 1) != FIDO_OK ||
	    fido_assert_set_rp(a, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, 32) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "libfido2 refused the rp id");
		goto out;
	}
	if (fido_assert_set_authdata(a, 0, s->authdata, s->authdata_len) !=
	    FIDO_OK || fido_assert_set_sig(a, 0, s->sig, s->sig_len) !=
	    FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the authenticator data does not "
		    "parse");
		goto out;
	}
	/* The signature over authData || clientDataHash, and the rpIdHash. */
	if ((fr = fido_assert_verify(a, 0, COSE_ES256, k)) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the signature does not verify "
		    "(%s)", fido_strerr(fr));
		goto out;
	}
	*flags = fido_assert_flags(a, 0);
	*count = fido_assert_sigcount(a, 0);
	r = KMFA_OK;
out:
	es256_pk_free(&k);
	fido_assert_free(&a);
	return r;
}

int
kmfa_proof_make(const struct kmfa_config *cfg, const struct kmfa_touch *t,
    const char *ctx, const char *id_token, char **bearer)
{
	struct kmfa_fido2_evidence tok;
	uint8_t up_cdh[32], cdh[32];
	int r = KMFA_ERR_FIDO2;

	*bearer = NULL;
	memset(&tok, 0, sizeof(tok));
	if (t->evidence.cred_id == NULL || t->evidence.authdata == NULL)
		return kmfa_fail(KMFA_ERR_INTERNAL, "--server-proof: no touch "
		    "to prove");
	kmfa_proof_up_cdh(t->evidence.nonce, ctx, up_cdh);
	kmfa_proof_token_cdh(id_token, strlen(id_token), up_cdh, cdh);
	kmfa_debug("signing the token proof with the key just touched");
	if ((r = kmfa_proof_assert(cfg->fido2_device, KMFA_FIDO2_RP_ID,
	    t->evidence.cred_id, t->evidence.cred_id_len, cdh, 0,
	    (int)(cfg->timeout * 1000), &tok)) != KMFA_OK)
		goto out;
	r = kmfa_proof_encode(id_token, ctx, &t->evidence, &tok, bearer);
out:
	kmfa_fido2_assert_evidence_clear(&tok);
	return r;
}

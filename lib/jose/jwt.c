/*
 * Compact JWS ID tokens, checked in the order of RFC 7515 §5.2 and RFC 7519
 * §7.2: shape and size first (cheap, and before anything is decoded), then
 * the JOSE header (alg from the allow-list, no crit, typ JWT), then the
 * signature with the key jwk.c picks, and only then the claims, so that
 * nothing an attacker wrote is believed before the signature holds.  The
 * header and the payload are read through base/json.h, so that no parser
 * elsewhere can read a claim differently: no member twice (RFC 7515 §5.2
 * step 4 and RFC 7519 §4 allow refusing them, and cJSON would take the
 * first where another verifier takes the last), no trailing bytes, no NUL.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "jose/jwk.h"
#include "jose/jwt.h"

/* 9999-12-31T23:59:59Z: later times cannot be shown in RFC 3339. */
#define NUMERIC_DATE_MAX 253402300799.0

/* The three parts of a compact JWS, as spans of the caller's token. */
struct jws {
	const char *token;
	size_t signing_len;	/* header '.' payload: what is signed */
	const char *header;
	size_t header_len;
	const char *payload;
	size_t payload_len;
	const char *sig;
	size_t sig_len;
};

static int
split(const char *token, struct jws *j)
{
	const char *dot[4];
	size_t len, ndots = 0;

	memset(j, 0, sizeof(*j));
	if (token == NULL)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: missing");
	if ((len = strnlen(token, KMFA_JWT_MAX + 1)) > KMFA_JWT_MAX)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: longer than %d "
		    "bytes", KMFA_JWT_MAX);
	for (const char *p = token; *p != '\0'; p++)
		if (*p == '.' && ndots++ < 4)
			dot[ndots - 1] = p;
	/* RFC 7516 §9: five parts make an encrypted token (never asked for). */
	if (ndots == 4)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: is encrypted "
		    "(JWE); only signed tokens are accepted");
	if (ndots != 2)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: has %zu parts; a "
		    "compact JWS has 3", ndots + 1);
	j->token = token;
	j->header = token;
	j->header_len = (size_t)(dot[0] - token);
	j->payload = dot[0] + 1;
	j->payload_len = (size_t)(dot[1] - j->payload);
	j->signing_len = (size_t)(dot[1] - token);
	j->sig = dot[1] + 1;
	j->sig_len = len - j->signing_len - 1;
	if (j->header_len == 0 || j->payload_len == 0)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: has an empty "
		    "header or payload");
	if (j->header_len > KMFA_JWT_HEADER_MAX)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: header is longer "
		    "than %d bytes", KMFA_JWT_HEADER_MAX);
	return KMFA_OK;
}

/* Exactly len bytes of buf as one JSON object, through the strict gate. */
static int
parse_object(const uint8_t *buf, size_t len, const char *what, cJSON **out)
{
	char why[KMFA_JSON_WHY_MAX];
	int r;

	r = kmfa_json_parse_object((const char *)buf, len, KMFA_JWT_MAX, out,
	    why, sizeof(why));
	if (r == KMFA_ERR_DAMAGED)
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: %s %s", what, why);
	return r;
}

static int
decode_part(const char *s, size_t len, const char *what, uint8_t **out,
    size_t *outlen)
{
	int r = kmfa_b64url_decode(s, len, out, outlen);

	if (r == KMFA_ERR_NOMEM)
		return r;
	if (r != KMFA_OK)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: %s is not "
		    "base64url", what);
	return KMFA_OK;
}

static void
wipe_free(uint8_t *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

/* RFC 7515 §4.1: the JOSE header, judged before any key is looked at. */
static int
check_header(const struct jws *j, const struct kmfa_jws_alg **alg,
    char **kid)
{
	int r = KMFA_ERR_TOKEN;
	uint8_t *buf = NULL;
	size_t len = 0;
	cJSON *h = NULL;
	const cJSON *m;
	char tmp[72];

	*alg = NULL;
	*kid = NULL;
	if ((r = decode_part(j->header, j->header_len, "header", &buf,
	    &len)) != KMFA_OK ||
	    (r = parse_object(buf, len, "header", &h)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_TOKEN;
	m = cJSON_GetObjectItemCaseSensitive(h, "alg");
	if (!cJSON_IsString(m)) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: header has no alg");
		goto out;
	}
	if ((*alg = kmfa_jwk_alg_lookup(m->valuestring)) == NULL) {
		/* RFC 8725 §2.1, §3.1: the classic downgrades, named. */
		if (strcasecmp(m->valuestring, "none") == 0)
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: alg none is "
			    "not allowed");
		else if (strncmp(m->valuestring, "HS", 2) == 0)
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: alg %s (HMAC) "
			    "is not allowed; the issuer must sign with a "
			    "public key", kmfa_jwk_printable(m->valuestring,
			    tmp, sizeof(tmp)));
		else
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: alg '%s' is "
			    "not allowed", kmfa_jwk_printable(m->valuestring,
			    tmp, sizeof(tmp)));
		goto out;
	}
	/* RFC 7515 §4.1.11: no extension is understood, so none is critical. */
	if (cJSON_GetObjectItemCaseSensitive(h, "crit") != NULL) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: header has crit; no "
		    "critical extensions are supported");
		goto out;
	}
	/*
	 * RFC 7519 §5.1, RFC 8725 §3.11: typ tells token kinds apart, so an
	 * access or logout token (at+jwt, logout+jwt) is not taken for an ID
	 * token.  RFC 7515 §4.1.9 lets "application/" be left out.
	 */
	m = cJSON_GetObjectItemCaseSensitive(h, "typ");
	if (m != NULL && !(cJSON_IsString(m) &&
	    (strcasecmp(m->valuestring, "JWT") == 0 ||
	    strcasecmp(m->valuestring, "application/jwt") == 0))) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: typ '%s' is not JWT",
		    kmfa_jwk_printable(cJSON_IsString(m) ? m->valuestring :
		    "?", tmp, sizeof(tmp)));
		goto out;
	}
	/* jku, jwk, x5u, x5c are ignored: keys come only from the issuer. */
	m = cJSON_GetObjectItemCaseSensitive(h, "kid");
	if (m != NULL) {
		if (!cJSON_IsString(m)) {
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: kid is not a "
			    "string");
			goto out;
		}
		if ((*kid = strdup(m->valuestring)) == NULL) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
	}
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		*alg = NULL;
	cJSON_Delete(h);
	wipe_free(buf, len);
	return r;
}

/*
 * RFC 7518 §3.4: JOSE carries r || s, each exactly the field size, where
 * OpenSSL wants the DER ECDSA-Sig-Value of RFC 3279 §2.2.3.
 */
static int
ecdsa_raw_to_der(const uint8_t *sig, size_t len, size_t field_len,
    uint8_t **der, size_t *derlen)
{
	int r = KMFA_ERR_NOMEM;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	uint8_t *p = NULL;
	int n;

	*der = NULL;
	*derlen = 0;
	if (len != 2 * field_len)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: ECDSA signature is "
		    "%zu bytes; r || s on this curve is %zu", len,
		    2 * field_len);
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(sig, (int)field_len, NULL)) == NULL ||
	    (bs = BN_bin2bn(sig + field_len, (int)field_len, NULL)) == NULL ||
	    ECDSA_SIG_set0(es, br, bs) != 1)
		goto out;
	br = bs = NULL; /* transferred to es */
	if ((n = i2d_ECDSA_SIG(es, &p)) <= 0)
		goto out;
	*der = p;
	p = NULL; /* transferred */
	*derlen = (size_t)n;
	r = KMFA_OK;
out:
	OPENSSL_free(p);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	return r;
}

static int
check_signature(const struct jws *j, const struct kmfa_jws_alg *alg,
    EVP_PKEY *pkey)
{
	int r = KMFA_ERR_TOKEN;
	uint8_t *sig = NULL, *der = NULL;
	size_t siglen = 0, derlen = 0;
	const uint8_t *s;
	size_t slen;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;

	if ((r = decode_part(j->sig, j->sig_len, "signature", &sig,
	    &siglen)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_TOKEN;
	if (alg->kind == KMFA_JWS_ECDSA) {
		char group[32];

		/* jwk.c matched the curve; make sure of it where it matters. */
		if (!EVP_PKEY_is_a(pkey, "EC") ||
		    EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    NULL) != 1 || strcmp(group, alg->group) != 0) {
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: key does not "
			    "suit %s", alg->name);
			goto out;
		}
		if ((r = ecdsa_raw_to_der(sig, siglen, alg->field_len, &der,
		    &derlen)) != KMFA_OK)
			goto out;
		r = KMFA_ERR_TOKEN;
		s = der;
		slen = derlen;
	} else {
		if (!EVP_PKEY_is_a(pkey, "RSA")) {
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: key does not "
			    "suit %s", alg->name);
			goto out;
		}
		/* RFC 8017 §8.2.2 step 1, §8.1.2 step 1: exactly k octets. */
		if (siglen != (size_t)EVP_PKEY_get_size(pkey)) {
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: RSA signature "
			    "is %zu bytes; the key needs %d", siglen,
			    EVP_PKEY_get_size(pkey));
			goto out;
		}
		s = sig;
		slen = siglen;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit_ex(md, &pctx, alg->digest, NULL, NULL, pkey,
	    NULL) != 1) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "ID token: cannot set up %s "
		    "verification", alg->name);
		goto out;
	}
	/*
	 * RFC 7518 §3.5: PSS with MGF1 over the same hash and a salt as long
	 * as the hash; RSA_PSS_SALTLEN_DIGEST demands exactly that length.
	 */
	if ((alg->kind == KMFA_JWS_RSA_PKCS1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) ||
	    (alg->kind == KMFA_JWS_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, alg->digest, NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
	    RSA_PSS_SALTLEN_DIGEST) != 1))) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "ID token: cannot set up %s "
		    "verification", alg->name);
		goto out;
	}
	if (EVP_DigestVerify(md, s, slen, (const unsigned char *)j->token,
	    j->signing_len) != 1) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: signature does not "
		    "verify");
		goto out;
	}
	r = KMFA_OK;
out:
	EVP_MD_CTX_free(md);	/* frees pctx too */
	OPENSSL_free(der);
	free(sig);
	return r;
}

/* RFC 7519 §2 NumericDate; fractions are dropped, which only shortens exp. */
static int
numeric_date(const cJSON *m, int64_t *out)
{
	if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) ||
	    m->valuedouble < 0 || m->valuedouble > NUMERIC_DATE_MAX)
		return -1;
	*out = (int64_t)m->valuedouble;
	return 0;
}

static int
copy_str(const cJSON *m, char **out)
{
	if ((*out = strdup(m->valuestring)) == NULL)
		return KMFA_ERR_NOMEM;
	return KMFA_OK;
}

/* A string, or an array of strings (aud, RFC 7519 §4.1.3; amr). */
static int
copy_strings(const cJSON *m, int allow_single, char ***out, size_t *n)
{
	const cJSON *e;
	size_t count = 0, i = 0;
	char **v;

	*out = NULL;
	*n = 0;
	if (allow_single && cJSON_IsString(m)) {
		if ((v = calloc(1, sizeof(*v))) == NULL ||
		    (v[0] = strdup(m->valuestring)) == NULL) {
			free(v);
			return KMFA_ERR_NOMEM;
		}
		*out = v;
		*n = 1;
		return KMFA_OK;
	}
	if (!cJSON_IsArray(m))
		return KMFA_ERR_TOKEN;
	cJSON_ArrayForEach(e, m) {
		if (!cJSON_IsString(e))
			return KMFA_ERR_TOKEN;
		count++;
	}
	if (count == 0)
		return KMFA_OK;
	if ((v = calloc(count, sizeof(*v))) == NULL)
		return KMFA_ERR_NOMEM;
	/* Published as we go, so the caller's free covers a failure midway. */
	*out = v;
	cJSON_ArrayForEach(e, m) {
		if ((v[i] = strdup(e->valuestring)) == NULL)
			return KMFA_ERR_NOMEM;
		*n = ++i;
	}
	return KMFA_OK;
}

/*
 * Copy the claims out of payload p.  strict: claims of the wrong type,
 * and a missing exp or sub, are failures; otherwise they are left unset.
 */
static int
extract_claims(const cJSON *p, int strict, struct kmfa_jwt_claims *c)
{
	static const char *const names[] = {
		"iss", "sub", "aud", "exp", "iat", "nbf", "amr", "acr",
		"email", "name",
	};
	enum { ISS, SUB, AUD, EXP, IAT, NBF, AMR, ACR, EMAIL, NAME, N };
	const cJSON *m[N];
	int r;

	for (size_t i = 0; i < N; i++)
		m[i] = cJSON_GetObjectItemCaseSensitive(p, names[i]);
	if (cJSON_IsString(m[ISS]) &&
	    (r = copy_str(m[ISS], &c->iss)) != KMFA_OK)
		return r;
	if (cJSON_IsString(m[SUB]) && m[SUB]->valuestring[0] != '\0') {
		if ((r = copy_str(m[SUB], &c->sub)) != KMFA_OK)
			return r;
	} else if (strict) {
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: sub is missing or "
		    "not a non-empty string");
	}
	if (m[AUD] != NULL &&
	    (r = copy_strings(m[AUD], 1, &c->aud, &c->naud)) != KMFA_OK) {
		if (r == KMFA_ERR_NOMEM)
			return r;
		if (strict)
			return kmfa_fail(KMFA_ERR_TOKEN, "ID token: aud is not "
			    "a string or an array of strings");
	}
	if (m[EXP] == NULL || numeric_date(m[EXP], &c->exp) != 0) {
		if (strict)
			return kmfa_fail(KMFA_ERR_TOKEN, m[EXP] == NULL ?
			    "ID token: has no exp" : "ID token: exp is not a "
			    "valid time");
		c->exp = 0;
	}
	if (m[IAT] != NULL && numeric_date(m[IAT], &c->iat) != 0 && strict)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: iat is not a "
		    "valid time");
	if (m[NBF] != NULL && numeric_date(m[NBF], &c->nbf) != 0 && strict)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: nbf is not a "
		    "valid time");
	/* amr and acr may drive policy (--require-amr), so a bad type fails. */
	if (m[AMR] != NULL &&
	    (r = copy_strings(m[AMR], 0, &c->amr, &c->namr)) != KMFA_OK) {
		if (r == KMFA_ERR_NOMEM)
			return r;
		if (strict)
			return kmfa_fail(KMFA_ERR_TOKEN, "ID token: amr is not "
			    "an array of strings");
	}
	if (m[ACR] != NULL) {
		if (cJSON_IsString(m[ACR])) {
			if ((r = copy_str(m[ACR], &c->acr)) != KMFA_OK)
				return r;
		} else if (strict) {
			return kmfa_fail(KMFA_ERR_TOKEN, "ID token: acr is not "
			    "a string");
		}
	}
	/* Shown to people only: a wrong type costs nothing but the display. */
	if (cJSON_IsString(m[EMAIL]) &&
	    (r = copy_str(m[EMAIL], &c->email)) != KMFA_OK)
		return r;
	if (cJSON_IsString(m[NAME]) &&
	    (r = copy_str(m[NAME], &c->name)) != KMFA_OK)
		return r;
	return KMFA_OK;
}

/* RFC 7519 §4.1, OpenID Connect Core 1.0 §3.1.3.7 steps 2-3, 9-10. */
static int
check_claims(const cJSON *p, const struct kmfa_jwt_claims *c,
    const struct kmfa_jwt_expect *want)
{
	const cJSON *azp;
	char tmp[72], when[21];
	int found = 0;

	if (c->iss == NULL || strcmp(c->iss, want->issuer) != 0)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: iss '%s' is not "
		    "the issuer '%s'", kmfa_jwk_printable(c->iss, tmp,
		    sizeof(tmp)), want->issuer);
	for (size_t i = 0; i < c->naud; i++)
		if (strcmp(c->aud[i], want->client_id) == 0)
			found = 1;
	if (!found)
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: aud does not "
		    "contain the client id '%s'", want->client_id);
	/* Core §3.1.3.7 step 5: azp, when present, names the client. */
	azp = cJSON_GetObjectItemCaseSensitive(p, "azp");
	if (azp != NULL && !(cJSON_IsString(azp) &&
	    strcmp(azp->valuestring, want->client_id) == 0))
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: azp '%s' is not "
		    "the client id '%s'", kmfa_jwk_printable(
		    cJSON_IsString(azp) ? azp->valuestring : "?", tmp,
		    sizeof(tmp)), want->client_id);
	/* No leeway: a token handed to kubectl must not be expired already. */
	if (c->exp <= want->now) {
		if (kmfa_rfc3339(c->exp, when) != 0)
			when[0] = '\0';
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: expired at %s",
		    when);
	}
	if (c->nbf > want->now + want->leeway) {
		if (kmfa_rfc3339(c->nbf, when) != 0)
			when[0] = '\0';
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: not valid before "
		    "%s (nbf); check the clock", when);
	}
	if (c->iat > want->now + want->leeway) {
		if (kmfa_rfc3339(c->iat, when) != 0)
			when[0] = '\0';
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: issued in the "
		    "future (iat %s); check the clock", when);
	}
	return KMFA_OK;
}

/* Parse the decoded payload into claims; the JSON goes in *doc if asked. */
static int
read_claims(const uint8_t *buf, size_t len, int strict, cJSON **doc,
    struct kmfa_jwt_claims **out)
{
	int r = KMFA_ERR_TOKEN;
	cJSON *p = NULL;
	struct kmfa_jwt_claims *c = NULL;

	*out = NULL;
	if ((r = parse_object(buf, len, "payload", &p)) != KMFA_OK)
		goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = extract_claims(p, strict, c)) != KMFA_OK)
		goto out;
	*out = c;
	c = NULL; /* transferred */
	if (doc != NULL) {
		*doc = p;
		p = NULL; /* transferred */
	}
	r = KMFA_OK;
out:
	kmfa_jwt_claims_free(&c);
	cJSON_Delete(p);
	return r;
}

int
kmfa_jwt_verify(const char *token, const char *jwks, size_t jwks_len,
    const struct kmfa_jwt_expect *want, struct kmfa_jwt_claims **out)
{
	int r = KMFA_ERR_TOKEN;
	struct jws j;
	const struct kmfa_jws_alg *alg = NULL;
	char *kid = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *pbuf = NULL;
	size_t plen = 0;
	cJSON *payload = NULL;
	struct kmfa_jwt_claims *c = NULL;

	*out = NULL;
	/* now 0 is kmfa_now()'s clock failure: every exp would look fine. */
	if (want == NULL || want->issuer == NULL || want->client_id == NULL ||
	    want->now <= 0 || want->leeway < 0 || want->leeway > 3600) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "ID token: nothing sane to "
		    "check it against");
		goto out;
	}
	/*
	 * RFC 7515 §5.2 order: the payload is decoded (steps 6-7) before the
	 * signature is checked (step 8), but its JSON is read only after.
	 */
	if ((r = split(token, &j)) != KMFA_OK ||
	    (r = check_header(&j, &alg, &kid)) != KMFA_OK ||
	    (r = decode_part(j.payload, j.payload_len, "payload", &pbuf,
	    &plen)) != KMFA_OK ||
	    (r = kmfa_jwk_find(jwks, jwks_len, kid, alg, &pkey)) != KMFA_OK ||
	    (r = check_signature(&j, alg, pkey)) != KMFA_OK ||
	    (r = read_claims(pbuf, plen, 1, &payload, &c)) != KMFA_OK ||
	    (r = check_claims(payload, c, want)) != KMFA_OK)
		goto out;
	*out = c;
	c = NULL; /* transferred */
	r = KMFA_OK;
out:
	/* Leave no OpenSSL error behind for an unrelated caller to find. */
	ERR_clear_error();
	kmfa_jwt_claims_free(&c);
	cJSON_Delete(payload);
	wipe_free(pbuf, plen);
	EVP_PKEY_free(pkey);
	free(kid);
	return r;
}

int
kmfa_jwt_peek_claims(const char *token, struct kmfa_jwt_claims **out)
{
	int r = KMFA_ERR_TOKEN;
	struct jws j;
	uint8_t *pbuf = NULL;
	size_t plen = 0;

	*out = NULL;
	if ((r = split(token, &j)) != KMFA_OK ||
	    (r = decode_part(j.payload, j.payload_len, "payload", &pbuf,
	    &plen)) != KMFA_OK ||
	    (r = read_claims(pbuf, plen, 0, NULL, out)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	wipe_free(pbuf, plen);
	return r;
}

static void
free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kmfa_freezero_str(v[i]);
	free(v);
}

void
kmfa_jwt_claims_free(struct kmfa_jwt_claims **cp)
{
	struct kmfa_jwt_claims *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	kmfa_freezero_str(c->iss);
	kmfa_freezero_str(c->sub);
	free_strings(c->aud, c->naud);
	free_strings(c->amr, c->namr);
	kmfa_freezero_str(c->acr);
	kmfa_freezero_str(c->email);
	kmfa_freezero_str(c->name);
	free(c);
	*cp = NULL;
}

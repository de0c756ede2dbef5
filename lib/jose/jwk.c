/*
 * JWKS key selection.  A key is looked at only through the members this
 * code understands (kty, kid, use, key_ops, alg, n, e, crv, x, y); anything
 * else in it, private members included, is ignored.  Selection is
 * two-step: a cheap suitability test on the JSON (kty, use, key_ops, alg,
 * curve), then the one chosen key is built and checked properly (modulus
 * size, point on the curve).  That way a set holding a key for another
 * algorithm does not break a token, and a weak key that would have been
 * chosen is reported as such rather than as "no key".  The set is read
 * through the strict gate of base/json.h: a member given twice anywhere in
 * it refuses the whole set, since another verifier might read the other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "jose/jwk.h"

static const struct kmfa_jws_alg algs[] = {
	{ "RS256", KMFA_JWS_RSA_PKCS1, "SHA256", NULL, NULL, 0 },
	{ "RS384", KMFA_JWS_RSA_PKCS1, "SHA384", NULL, NULL, 0 },
	{ "RS512", KMFA_JWS_RSA_PKCS1, "SHA512", NULL, NULL, 0 },
	{ "PS256", KMFA_JWS_RSA_PSS, "SHA256", NULL, NULL, 0 },
	{ "PS384", KMFA_JWS_RSA_PSS, "SHA384", NULL, NULL, 0 },
	{ "PS512", KMFA_JWS_RSA_PSS, "SHA512", NULL, NULL, 0 },
	/* RFC 7518 §3.4: each curve is bound to one hash. */
	{ "ES256", KMFA_JWS_ECDSA, "SHA256", "P-256", "prime256v1", 32 },
	{ "ES384", KMFA_JWS_ECDSA, "SHA384", "P-384", "secp384r1", 48 },
	{ "ES512", KMFA_JWS_ECDSA, "SHA512", "P-521", "secp521r1", 66 },
};

#define ALGS_N (sizeof(algs) / sizeof(algs[0]))

/* Room for the uncompressed point 04 || x || y on P-521. */
#define EC_POINT_MAX (1 + 2 * 66)

const struct kmfa_jws_alg *
kmfa_jwk_alg_lookup(const char *name)
{
	if (name == NULL)
		return NULL;
	/* Exact, case-sensitive: RFC 7515 §4.1.1 names are case-sensitive. */
	for (size_t i = 0; i < ALGS_N; i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

const char *
kmfa_jwk_printable(const char *s, char *buf, size_t bufsz)
{
	return kmfa_printable(buf, bufsz, s != NULL ? s : "(none)");
}

/* The string member name of o, or NULL if absent or not a string. */
static const char *
member_str(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* How the key is named in messages: 'kid', or "without kid". */
static const char *
key_label(const cJSON *jwk, char *buf, size_t bufsz)
{
	const char *kid = member_str(jwk, "kid");
	char tmp[72];

	if (kid == NULL) {
		(void)snprintf(buf, bufsz, "without kid");
		return buf;
	}
	(void)snprintf(buf, bufsz, "'%s'", kmfa_jwk_printable(kid, tmp,
	    sizeof(tmp)));
	return buf;
}

/*
 * Whether jwk may verify alg, judged from its JSON alone; if not, why in
 * why[].  Checks follow RFC 7517 §4.1-4.4 and RFC 7518 §6.
 */
static int
key_fits(const cJSON *jwk, const struct kmfa_jws_alg *alg, char *why,
    size_t whysz)
{
	const char *kty = member_str(jwk, "kty");
	const char *want_kty = alg->kind == KMFA_JWS_ECDSA ? "EC" : "RSA";
	const cJSON *m;
	char label[96], tmp[72];

	(void)key_label(jwk, label, sizeof(label));
	if (kty == NULL) {
		(void)snprintf(why, whysz, "JWKS: key %s has no kty", label);
		return 0;
	}
	/* A shared secret in a public set is a mistake; never use it. */
	if (strcmp(kty, "oct") == 0) {
		(void)snprintf(why, whysz, "JWKS: key %s is a symmetric (oct) "
		    "key; only RSA and EC keys are accepted", label);
		return 0;
	}
	if (strcmp(kty, want_kty) != 0) {
		(void)snprintf(why, whysz, "JWKS: key %s has kty '%s'; %s "
		    "needs %s", label, kmfa_jwk_printable(kty, tmp,
		    sizeof(tmp)), alg->name, want_kty);
		return 0;
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(jwk, "use")) != NULL &&
	    !(cJSON_IsString(m) && strcmp(m->valuestring, "sig") == 0)) {
		(void)snprintf(why, whysz, "JWKS: key %s is not for signatures "
		    "(use is not 'sig')", label);
		return 0;
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(jwk, "key_ops")) != NULL) {
		const cJSON *op;
		int verify = 0;

		if (!cJSON_IsArray(m)) {
			(void)snprintf(why, whysz, "JWKS: key %s has a key_ops "
			    "that is not an array", label);
			return 0;
		}
		cJSON_ArrayForEach(op, m)
			if (cJSON_IsString(op) &&
			    strcmp(op->valuestring, "verify") == 0)
				verify = 1;
		if (!verify) {
			(void)snprintf(why, whysz, "JWKS: key %s key_ops does "
			    "not allow verify", label);
			return 0;
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(jwk, "alg")) != NULL &&
	    !(cJSON_IsString(m) && strcmp(m->valuestring, alg->name) == 0)) {
		(void)snprintf(why, whysz, "JWKS: key %s is for alg '%s', not "
		    "%s", label, kmfa_jwk_printable(cJSON_IsString(m) ?
		    m->valuestring : "?", tmp, sizeof(tmp)), alg->name);
		return 0;
	}
	if (alg->kind == KMFA_JWS_ECDSA) {
		const char *crv = member_str(jwk, "crv");

		if (crv == NULL || strcmp(crv, alg->crv) != 0) {
			(void)snprintf(why, whysz, "JWKS: EC key %s is on %s; "
			    "%s requires %s", label, kmfa_jwk_printable(crv,
			    tmp, sizeof(tmp)), alg->name, alg->crv);
			return 0;
		}
	}
	return 1;
}

/* Decode the base64url member name of jwk; absent or bad is a failure. */
static int
member_b64(const cJSON *jwk, const char *name, const char *label,
    uint8_t **out, size_t *outlen)
{
	const char *s = member_str(jwk, name);
	int r;

	if (s == NULL)
		return kmfa_fail(KMFA_ERR_TOKEN, "JWKS: key %s has no %s",
		    label, name);
	if ((r = kmfa_b64url_decode(s, strlen(s), out, outlen)) ==
	    KMFA_ERR_NOMEM)
		return r;
	if (r != KMFA_OK || *outlen == 0) {
		free(*out);
		*out = NULL;
		return kmfa_fail(KMFA_ERR_TOKEN, "JWKS: key %s has a %s that "
		    "is not base64url", label, name);
	}
	return KMFA_OK;
}

/* Turn params into a public key of type name ("RSA", "EC"). */
static int
pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld, const char *label,
    EVP_PKEY **out)
{
	int r = KMFA_ERR_TOKEN;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: %s key %s is not a valid "
		    "public key", name, label);
		goto out;
	}
	*out = pkey;
	pkey = NULL; /* transferred */
	r = KMFA_OK;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return r;
}

/* RFC 7518 §6.3.1: n and e, unsigned big-endian, base64url. */
static int
rsa_from_jwk(const cJSON *jwk, const char *label, EVP_PKEY **out)
{
	int r = KMFA_ERR_TOKEN;
	uint8_t *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int bits;

	if ((r = member_b64(jwk, "n", label, &n, &nlen)) != KMFA_OK ||
	    (r = member_b64(jwk, "e", label, &e, &elen)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_TOKEN;
	/* Bound the work before BN_bin2bn; leading zero octets do not count. */
	if (nlen > KMFA_RSA_MAX_BITS / 8 + 8 || elen > 64) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: RSA key %s is too large",
		    label);
		goto out;
	}
	if ((bn_n = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (bn_e = BN_bin2bn(e, (int)elen, NULL)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	bits = BN_num_bits(bn_n);
	if (bits < KMFA_RSA_MIN_BITS) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: RSA key %s is %d bits; at "
		    "least %d required", label, bits, KMFA_RSA_MIN_BITS);
		goto out;
	}
	if (bits > KMFA_RSA_MAX_BITS) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: RSA key %s is %d bits; at "
		    "most %d accepted", label, bits, KMFA_RSA_MAX_BITS);
		goto out;
	}
	/* An even or tiny exponent is no RSA key; a huge one costs time. */
	if (!BN_is_odd(bn_e) || BN_is_one(bn_e) || BN_num_bits(bn_e) > 64) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: RSA key %s has an "
		    "unusable exponent", label);
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	r = pkey_fromdata("RSA", bld, label, out);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(n);
	free(e);
	return r;
}

/* RFC 7518 §6.2.1: crv, and x and y each the full size of a coordinate. */
static int
ec_from_jwk(const cJSON *jwk, const struct kmfa_jws_alg *alg,
    const char *label, EVP_PKEY **out)
{
	int r = KMFA_ERR_TOKEN;
	uint8_t *x = NULL, *y = NULL, point[EC_POINT_MAX];
	size_t xlen = 0, ylen = 0, plen;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *check = NULL;

	if ((r = member_b64(jwk, "x", label, &x, &xlen)) != KMFA_OK ||
	    (r = member_b64(jwk, "y", label, &y, &ylen)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_TOKEN;
	if (xlen != alg->field_len || ylen != alg->field_len) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: EC key %s has coordinates "
		    "of %zu and %zu bytes; %s needs %zu", label, xlen, ylen,
		    alg->crv, alg->field_len);
		goto out;
	}
	/* SEC 1 §2.3.3 uncompressed point, the form OpenSSL imports. */
	point[0] = 0x04;
	memcpy(point + 1, x, xlen);
	memcpy(point + 1 + xlen, y, ylen);
	plen = 1 + xlen + ylen;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    alg->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    point, plen) != 1) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = pkey_fromdata("EC", bld, label, &pkey)) != KMFA_OK)
		goto out;
	/*
	 * A point off the curve invites invalid-curve attacks; the import
	 * should refuse one already, the explicit check says it here.
	 */
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_public_check(check) != 1) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: EC key %s is not a point "
		    "on %s", label, alg->crv);
		goto out;
	}
	*out = pkey;
	pkey = NULL; /* transferred */
	r = KMFA_OK;
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_free(pkey);
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return r;
}

int
kmfa_jwk_find(const char *jwks, size_t len, const char *kid,
    const struct kmfa_jws_alg *alg, EVP_PKEY **out)
{
	int r = KMFA_ERR_TOKEN;
	cJSON *doc = NULL;
	const cJSON *keys, *jwk, *chosen = NULL;
	size_t nmatch = 0, nfit = 0;
	char why[256] = "", other[256], label[96], pkid[72];
	char bad[KMFA_JSON_WHY_MAX];

	*out = NULL;
	if (jwks == NULL || len == 0 || len > KMFA_JWKS_MAX) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: the issuer's key set is "
		    "empty or larger than %d bytes", KMFA_JWKS_MAX);
		goto out;
	}
	/* A key member given twice would be a key another verifier reads
	 * differently: the whole set is refused. */
	if ((r = kmfa_json_parse_object(jwks, len, KMFA_JWKS_MAX, &doc, bad,
	    sizeof(bad))) != KMFA_OK) {
		if (r == KMFA_ERR_DAMAGED)
			r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: the issuer's key "
			    "set %s", bad);
		goto out;
	}
	r = KMFA_ERR_TOKEN;
	keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
	if (!cJSON_IsArray(keys)) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: the issuer's key set has "
		    "no keys array");
		goto out;
	}
	cJSON_ArrayForEach(jwk, keys) {
		const char *k;

		if (!cJSON_IsObject(jwk))
			continue;
		/* RFC 7515 §4.1.4: kid is matched exactly. */
		if (kid != NULL && ((k = member_str(jwk, "kid")) == NULL ||
		    strcmp(k, kid) != 0))
			continue;
		nmatch++;
		/* Keep the first reason: with a kid it is the key's own. */
		if (key_fits(jwk, alg, why[0] == '\0' ? why : other,
		    sizeof(why))) {
			nfit++;
			chosen = jwk;
		}
	}
	(void)kmfa_jwk_printable(kid, pkid, sizeof(pkid));
	if (kid != NULL && nmatch == 0) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: no key in the "
		    "issuer's JWKS for kid '%s'", pkid);
		goto out;
	}
	if (nfit == 0) {
		if (kid != NULL)
			r = kmfa_fail(KMFA_ERR_TOKEN, "%s", why);
		else
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: no key in the "
			    "issuer's JWKS suits %s", alg->name);
		goto out;
	}
	/*
	 * RFC 7517 §4.5: kid is how a token names its key.  With several
	 * candidates and no kid (or a kid used twice) the token does not say
	 * which key signed it; refuse rather than try each in turn.
	 */
	if (nfit > 1) {
		if (kid != NULL)
			r = kmfa_fail(KMFA_ERR_TOKEN, "JWKS: %zu keys with kid "
			    "'%s' suit %s; cannot choose", nfit, pkid,
			    alg->name);
		else
			r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: no kid, and "
			    "%zu keys in the issuer's JWKS suit %s; cannot "
			    "choose", nfit, alg->name);
		goto out;
	}
	(void)key_label(chosen, label, sizeof(label));
	if (alg->kind == KMFA_JWS_ECDSA)
		r = ec_from_jwk(chosen, alg, label, out);
	else
		r = rsa_from_jwk(chosen, label, out);
out:
	/* Leave no OpenSSL error behind for an unrelated caller to find. */
	ERR_clear_error();
	cJSON_Delete(doc);
	return r;
}

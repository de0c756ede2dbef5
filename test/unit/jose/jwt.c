/*
 * Unit tests for lib/jose/jwt.c: a matrix of tokens signed here with keys made
 * here, each accepted or refused for one reason.  Every refusal is checked
 * for its error value, for the reason recorded (so a token refused for the
 * wrong reason fails the test), and for not echoing the token.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "jose.h"
#include "jose/jwt.h"

#define ISS "https://idp.example.test/realms/k8s"
#define CLIENT "kubernetes"
#define NOW ((int64_t)1800000000)	/* 2027-01-15T08:00:00Z */
#define LEEWAY 60

static struct {
	EVP_PKEY *rsa, *weak, *p256, *p384, *p521, *p256_other;
	char *jwks;		/* every key below, under its kid */
} fx;

static int
setup(void **state)
{
	char *jwk[9];
	(void)state;

	fx.rsa = jose_rsa(2048);
	fx.weak = jose_rsa(1024);
	fx.p256 = jose_ec("P-256");
	fx.p384 = jose_ec("P-384");
	fx.p521 = jose_ec("P-521");
	fx.p256_other = jose_ec("P-256");
	jwk[0] = jose_jwk(fx.rsa, "rsa-1", "\"use\":\"sig\",");
	jwk[1] = jose_jwk(fx.weak, "weak", NULL);
	jwk[2] = jose_jwk(fx.p256, "ec-256", "\"use\":\"sig\",\"alg\":\"ES256\",");
	jwk[3] = jose_jwk(fx.p384, "ec-384", NULL);
	jwk[4] = jose_jwk(fx.p521, "ec-521", NULL);
	jwk[5] = strdup("{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"}");
	jwk[6] = jose_jwk(fx.rsa, "enc", "\"use\":\"enc\",");
	jwk[7] = jose_jwk(fx.rsa, "rs512-only", "\"alg\":\"RS512\",");
	jwk[8] = NULL;
	fx.jwks = jose_jwks((const char *const *)jwk);
	for (size_t i = 0; jwk[i] != NULL; i++)
		free(jwk[i]);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(fx.rsa);
	EVP_PKEY_free(fx.weak);
	EVP_PKEY_free(fx.p256);
	EVP_PKEY_free(fx.p384);
	EVP_PKEY_free(fx.p521);
	EVP_PKEY_free(fx.p256_other);
	free(fx.jwks);
	return 0;
}

/* The usual good claims, with extra members spliced in at the end. */
static char *
claims(const char *extra)
{
	char *s;

	assert_true(kmfa_asprintf(&s, "{\"iss\":\"" ISS "\",\"sub\":\"alice\","
	    "\"aud\":\"" CLIENT "\",\"exp\":%lld,\"iat\":%lld%s}",
	    (long long)(NOW + 600), (long long)(NOW - 5),
	    extra != NULL ? extra : "") > 0);
	return s;
}

static char *
header(const char *alg, const char *kid)
{
	char *s;

	if (kid != NULL)
		assert_true(kmfa_asprintf(&s, "{\"alg\":\"%s\",\"kid\":\"%s\","
		    "\"typ\":\"JWT\"}", alg, kid) > 0);
	else
		assert_true(kmfa_asprintf(&s, "{\"alg\":\"%s\"}", alg) > 0);
	return s;
}

/* A token under alg and kid with the given payload (NULL: claims(NULL)). */
static char *
token(EVP_PKEY *k, const char *alg, const char *kid, const char *payload)
{
	char *h = header(alg, kid), *p = payload ? strdup(payload) :
	    claims(NULL), *t;

	t = jose_token(k, alg, h, p, 0);
	free(h);
	free(p);
	return t;
}

static int
verify_with(const char *tok, const char *jwks, struct kmfa_jwt_claims **c)
{
	struct kmfa_jwt_expect want = { ISS, CLIENT, NOW, LEEWAY };

	kmfa_report_clear();
	return kmfa_jwt_verify(tok, jwks, strlen(jwks), &want, c);
}

static void
accepts(const char *tok)
{
	struct kmfa_jwt_claims *c = NULL;
	int r = verify_with(tok, fx.jwks, &c);

	if (r != KMFA_OK)
		fail_msg("refused: %s", kmfa_report_cause());
	assert_non_null(c);
	assert_string_equal(c->iss, ISS);
	assert_string_equal(c->sub, "alice");
	assert_int_equal(c->exp, NOW + 600);
	kmfa_jwt_claims_free(&c);
	assert_null(c);
}

/* Refused with KMFA_ERR_TOKEN, for reason why, without echoing the token. */
static void
refuses_in(const char *tok, const char *jwks, const char *why)
{
	struct kmfa_jwt_claims *c = (struct kmfa_jwt_claims *)(uintptr_t)1;
	const char *cause, *dot;
	int r = verify_with(tok, jwks, &c);

	assert_int_equal(r, KMFA_ERR_TOKEN);
	assert_null(c);
	cause = kmfa_report_cause();
	assert_non_null(cause);
	if (strstr(cause, why) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, why);
	/* No run of 12 token characters from the payload on may appear. */
	if ((dot = strchr(tok, '.')) != NULL)
		for (const char *p = dot + 1; strlen(p) >= 12; p++) {
			char run[13];

			memcpy(run, p, 12);
			run[12] = '\0';
			if (strchr(run, '.') == NULL && strstr(cause, run))
				fail_msg("cause echoes the token: %s", cause);
		}
}

static void
refuses(const char *tok, const char *why)
{
	refuses_in(tok, fx.jwks, why);
}

static void
accepts_alg(EVP_PKEY *k, const char *alg, const char *kid)
{
	char *t = token(k, alg, kid, NULL);

	accepts(t);
	free(t);
}

static void
test_accepts_rs256(void **state)
{
	(void)state;
	accepts_alg(fx.rsa, "RS256", "rsa-1");
}

static void
test_accepts_rs384(void **state)
{
	(void)state;
	accepts_alg(fx.rsa, "RS384", "rsa-1");
}

static void
test_accepts_rs512(void **state)
{
	(void)state;
	accepts_alg(fx.rsa, "RS512", "rsa-1");
}

static void
test_accepts_ps256(void **state)
{
	(void)state;
	accepts_alg(fx.rsa, "PS256", "rsa-1");
}

static void
test_accepts_ps384(void **state)
{
	(void)state;
	accepts_alg(fx.rsa, "PS384", "rsa-1");
}

static void
test_accepts_ps512(void **state)
{
	(void)state;
	accepts_alg(fx.rsa, "PS512", "rsa-1");
}

static void
test_accepts_es256(void **state)
{
	(void)state;
	accepts_alg(fx.p256, "ES256", "ec-256");
}

static void
test_accepts_es384(void **state)
{
	(void)state;
	accepts_alg(fx.p384, "ES384", "ec-384");
}

static void
test_accepts_es512(void **state)
{
	(void)state;
	accepts_alg(fx.p521, "ES512", "ec-521");
}

/* RFC 7518 §3.5: the salt is as long as the hash; a shorter one is not PS256. */
static void
test_rejects_ps256_with_short_salt(void **state)
{
	char *h = header("PS256", "rsa-1"), *p = claims(NULL);
	char *in = jose_signing_input(h, p), *sig64, *t;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t sig[256];
	size_t n = sizeof(sig);
	(void)state;

	assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, "SHA256", NULL, NULL,
	    fx.rsa, NULL), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 8), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &n, (const uint8_t *)in,
	    strlen(in)), 1);
	sig64 = jose_b64url(sig, n);
	assert_true(kmfa_asprintf(&t, "%s.%s", in, sig64) > 0);
	refuses(t, "signature does not verify");
	EVP_MD_CTX_free(md);
	free(t);
	free(sig64);
	free(in);
	free(p);
	free(h);
}

/* PKCS#1 v1.5 and PSS are different algorithms under one key. */
static void
test_rejects_rs256_signature_under_ps256_header(void **state)
{
	char *h = header("PS256", "rsa-1"), *p = claims(NULL);
	char *in = jose_signing_input(h, p), *sig64, *t;
	uint8_t *sig;
	size_t n;
	(void)state;

	jose_sign(fx.rsa, "RS256", in, 0, &sig, &n);
	sig64 = jose_b64url(sig, n);
	assert_true(kmfa_asprintf(&t, "%s.%s", in, sig64) > 0);
	refuses(t, "signature does not verify");
	free(t);
	free(sig64);
	free(sig);
	free(in);
	free(p);
	free(h);
}

/* An unsecured JWS (RFC 7519 §6): alg none, empty signature. */
static void
test_rejects_alg_none(void **state)
{
	char *in = jose_signing_input("{\"alg\":\"none\",\"kid\":\"rsa-1\"}",
	    "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"" CLIENT "\","
	    "\"exp\":1800000600}"), *t;
	(void)state;

	assert_true(kmfa_asprintf(&t, "%s.", in) > 0);
	refuses(t, "alg none is not allowed");
	free(t);
	assert_true(kmfa_asprintf(&t, "%s.c2ln", in) > 0);
	refuses(t, "alg none is not allowed");
	free(t);
	free(in);
	in = jose_signing_input("{\"alg\":\"NoNe\"}", "{}");
	assert_true(kmfa_asprintf(&t, "%s.", in) > 0);
	refuses(t, "alg none is not allowed");
	free(t);
	free(in);
}

/*
 * RFC 8725 §2.1: the attacker signs HS256 with the issuer's public key
 * as the HMAC secret, hoping the verifier feeds that same key to HMAC.
 */
static void
test_rejects_hs256_signed_with_public_key(void **state)
{
	char *h = header("HS256", "rsa-1"), *p = claims(NULL);
	char *in = jose_signing_input(h, p), *pem = jose_public_pem(fx.rsa);
	char *sig64, *t;
	uint8_t mac[32];
	size_t maclen = 0;
	(void)state;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem,
	    strlen(pem), (const uint8_t *)in, strlen(in), mac, sizeof(mac),
	    &maclen));
	sig64 = jose_b64url(mac, maclen);
	assert_true(kmfa_asprintf(&t, "%s.%s", in, sig64) > 0);
	refuses(t, "alg HS256 (HMAC) is not allowed");
	free(t);
	free(sig64);
	free(pem);
	free(in);
	free(p);
	free(h);
}

static void
test_rejects_unlisted_alg(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	char *in = jose_signing_input("{\"alg\":\"rs256\",\"kid\":\"rsa-1\"}",
	    "{}"), *t2;
	(void)state;

	/* Same signature, header claiming a lower-case alg: names are exact. */
	assert_true(kmfa_asprintf(&t2, "%s.%s", in, strrchr(t, '.') + 1) > 0);
	refuses(t2, "alg 'rs256' is not allowed");
	free(t2);
	free(in);
	free(t);
}

static void
test_rejects_missing_alg(void **state)
{
	char *in = jose_signing_input("{\"kid\":\"rsa-1\"}", "{}"), *t;
	(void)state;

	assert_true(kmfa_asprintf(&t, "%s.c2ln", in) > 0);
	refuses(t, "header has no alg");
	free(t);
	free(in);
}

static void
test_rejects_unknown_kid(void **state)
{
	char *t = token(fx.rsa, "RS256", "rotated-away", NULL);
	(void)state;

	refuses(t, "no key in the issuer's JWKS for kid 'rotated-away'");
	free(t);
}

static void
test_rejects_wrong_iss(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"https://evil."
	    "example.test\",\"sub\":\"alice\",\"aud\":\"" CLIENT "\","
	    "\"exp\":1800000600}");
	(void)state;

	refuses(t, "iss 'https://evil.example.test' is not the issuer '"
	    ISS "'");
	free(t);
}

/* A trailing slash is a different issuer (OIDC Discovery §4.3). */
static void
test_rejects_iss_with_trailing_slash(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "/\","
	    "\"sub\":\"alice\",\"aud\":\"" CLIENT "\",\"exp\":1800000600}");
	(void)state;

	refuses(t, "is not the issuer");
	free(t);
}

static void
test_rejects_missing_iss(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"sub\":\"alice\","
	    "\"aud\":\"" CLIENT "\",\"exp\":1800000600}");
	(void)state;

	refuses(t, "iss '(none)' is not the issuer");
	free(t);
}

static void
test_rejects_wrong_aud(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":\"other-app\",\"exp\":1800000600}");
	(void)state;

	refuses(t, "aud does not contain the client id '" CLIENT "'");
	free(t);
}

static void
test_rejects_missing_aud(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"exp\":1800000600}");
	(void)state;

	refuses(t, "aud does not contain the client id");
	free(t);
}

static void
test_accepts_aud_array_containing_client(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":[\"other-app\",\"" CLIENT "\"],"
	    "\"exp\":1800000600}");
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_int_equal(verify_with(t, fx.jwks, &c), KMFA_OK);
	assert_int_equal(c->naud, 2);
	assert_string_equal(c->aud[0], "other-app");
	assert_string_equal(c->aud[1], CLIENT);
	kmfa_jwt_claims_free(&c);
	free(t);
}

static void
test_rejects_aud_array_without_client(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":[\"a\",\"kubernetes-x\"],"
	    "\"exp\":1800000600}");
	(void)state;

	refuses(t, "aud does not contain the client id");
	free(t);
}

static void
test_rejects_aud_array_with_non_string(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":[\"" CLIENT "\",7],"
	    "\"exp\":1800000600}");
	(void)state;

	refuses(t, "aud is not a string or an array of strings");
	free(t);
}

/* OIDC Core §3.1.3.7 step 5: azp, if present, must be this client. */
static void
test_rejects_azp_of_other_client(void **state)
{
	char *p = claims(",\"azp\":\"other-app\""), *t;
	(void)state;

	t = token(fx.rsa, "RS256", "rsa-1", p);
	refuses(t, "azp 'other-app' is not the client id");
	free(t);
	free(p);
	p = claims(",\"azp\":\"" CLIENT "\"");
	t = token(fx.rsa, "RS256", "rsa-1", p);
	accepts(t);
	free(t);
	free(p);
}

/* exp gets no leeway: one second past is expired, leeway or not. */
static void
test_rejects_expired(void **state)
{
	char *p, *t;
	(void)state;

	assert_true(kmfa_asprintf(&p, "{\"iss\":\"" ISS "\",\"sub\":\"alice\","
	    "\"aud\":\"" CLIENT "\",\"exp\":%lld}", (long long)(NOW - 1)) > 0);
	t = token(fx.rsa, "RS256", "rsa-1", p);
	refuses(t, "expired at 2027-01-15T07:59:59Z");
	free(t);
	free(p);
}

static void
test_rejects_exp_equal_to_now(void **state)
{
	char *p, *t;
	(void)state;

	assert_true(kmfa_asprintf(&p, "{\"iss\":\"" ISS "\",\"sub\":\"alice\","
	    "\"aud\":\"" CLIENT "\",\"exp\":%lld}", (long long)NOW) > 0);
	t = token(fx.rsa, "RS256", "rsa-1", p);
	refuses(t, "expired at 2027-01-15T08:00:00Z");
	free(t);
	free(p);
}

static void
test_accepts_exp_one_second_ahead(void **state)
{
	char *p, *t;
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_true(kmfa_asprintf(&p, "{\"iss\":\"" ISS "\",\"sub\":\"alice\","
	    "\"aud\":\"" CLIENT "\",\"exp\":%lld}", (long long)(NOW + 1)) > 0);
	t = token(fx.rsa, "RS256", "rsa-1", p);
	assert_int_equal(verify_with(t, fx.jwks, &c), KMFA_OK);
	assert_int_equal(c->exp, NOW + 1);
	assert_int_equal(c->iat, 0);
	assert_int_equal(c->nbf, 0);
	kmfa_jwt_claims_free(&c);
	free(t);
	free(p);
}

static void
test_rejects_missing_exp(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":\"" CLIENT "\"}");
	(void)state;

	refuses(t, "has no exp");
	free(t);
}

static void
test_rejects_non_numeric_exp(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":\"" CLIENT "\",\"exp\":\"1800000600\"}");
	(void)state;

	refuses(t, "exp is not a valid time");
	free(t);
}

static void
test_rejects_nbf_in_future(void **state)
{
	char *p, *t;
	(void)state;

	assert_true(kmfa_asprintf(&p, ",\"nbf\":%lld",
	    (long long)(NOW + LEEWAY + 1)) > 0);
	{
		char *c = claims(p);

		t = token(fx.rsa, "RS256", "rsa-1", c);
		free(c);
	}
	refuses(t, "not valid before 2027-01-15T08:01:01Z (nbf)");
	free(t);
	free(p);
}

static void
test_accepts_nbf_within_leeway(void **state)
{
	char *p, *c, *t;
	(void)state;

	assert_true(kmfa_asprintf(&p, ",\"nbf\":%lld",
	    (long long)(NOW + LEEWAY)) > 0);
	c = claims(p);
	t = token(fx.rsa, "RS256", "rsa-1", c);
	accepts(t);
	free(t);
	free(c);
	free(p);
}

static void
test_rejects_iat_in_future(void **state)
{
	char *p, *t;
	(void)state;

	assert_true(kmfa_asprintf(&p, "{\"iss\":\"" ISS "\",\"sub\":\"alice\","
	    "\"aud\":\"" CLIENT "\",\"exp\":%lld,\"iat\":%lld}",
	    (long long)(NOW + 600), (long long)(NOW + 3600)) > 0);
	t = token(fx.rsa, "RS256", "rsa-1", p);
	refuses(t, "issued in the future");
	free(t);
	free(p);
}

static void
test_rejects_non_string_sub(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":12345,\"aud\":\"" CLIENT "\",\"exp\":1800000600}");
	(void)state;

	refuses(t, "sub is missing or not a non-empty string");
	free(t);
}

static void
test_rejects_missing_sub(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"aud\":\"" CLIENT "\",\"exp\":1800000600}");
	(void)state;

	refuses(t, "sub is missing");
	free(t);
}

static void
test_rejects_bad_signature(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	char *sig = strrchr(t, '.') + 1;
	(void)state;

	/* Change one character in the middle: still base64url, other bits. */
	sig[20] = sig[20] == 'A' ? 'B' : 'A';
	refuses(t, "signature does not verify");
	free(t);
}

static void
test_rejects_bad_es256_signature(void **state)
{
	char *t = token(fx.p256, "ES256", "ec-256", NULL);
	char *sig = strrchr(t, '.') + 1;
	(void)state;

	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	refuses(t, "signature does not verify");
	free(t);
}

/* A valid signature by a key that is not the one kid names. */
static void
test_rejects_signature_by_other_key(void **state)
{
	char *t = token(fx.p256_other, "ES256", "ec-256", NULL);
	(void)state;

	refuses(t, "signature does not verify");
	free(t);
}

static void
test_rejects_tampered_payload(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	char *evil = jose_b64url_str("{\"iss\":\"" ISS "\",\"sub\":\"admin\","
	    "\"aud\":\"" CLIENT "\",\"exp\":1800000600}");
	char *h = strndup(t, (size_t)(strchr(t, '.') - t)), *t2;
	(void)state;

	assert_true(kmfa_asprintf(&t2, "%s.%s.%s", h, evil,
	    strrchr(t, '.') + 1) > 0);
	refuses(t2, "signature does not verify");
	free(t2);
	free(h);
	free(evil);
	free(t);
}

/* The signature covers the header too: swap RS256 for RS512 in it. */
static void
test_rejects_tampered_header(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	char *h = header("RS512", "rsa-1"), *h64 = jose_b64url_str(h), *t2;
	(void)state;

	assert_true(kmfa_asprintf(&t2, "%s%s", h64, strchr(t, '.')) > 0);
	refuses(t2, "signature does not verify");
	free(t2);
	free(h64);
	free(h);
	free(t);
}

/* RFC 8017: an RSA signature is exactly as long as the modulus. */
static void
test_rejects_rsa_signature_of_wrong_length(void **state)
{
	char *h = header("RS256", "rsa-1"), *p = claims(NULL);
	char *in = jose_signing_input(h, p), *sig64, *t;
	uint8_t *sig, *longer;
	size_t n;
	(void)state;

	jose_sign(fx.rsa, "RS256", in, 0, &sig, &n);
	assert_non_null(longer = calloc(1, n + 1));
	memcpy(longer + 1, sig, n);	/* same number, one leading zero */
	sig64 = jose_b64url(longer, n + 1);
	assert_true(kmfa_asprintf(&t, "%s.%s", in, sig64) > 0);
	refuses(t, "RSA signature is 257 bytes; the key needs 256");
	free(t);
	free(sig64);
	free(longer);
	free(sig);
	free(in);
	free(p);
	free(h);
}

static void
test_rejects_weak_rsa_key(void **state)
{
	char *t = token(fx.weak, "RS256", "weak", NULL);
	(void)state;

	refuses(t, "JWKS: RSA key 'weak' is 1024 bits; at least 2048 required");
	free(t);
}

static void
test_rejects_wrong_curve_for_alg(void **state)
{
	char *t = token(fx.p384, "ES256", "ec-384", NULL);
	(void)state;

	refuses(t, "JWKS: EC key 'ec-384' is on P-384; ES256 requires P-256");
	free(t);
}

static void
test_rejects_ec_alg_for_rsa_key(void **state)
{
	char *t = token(fx.p256, "ES256", "rsa-1", NULL);
	(void)state;

	refuses(t, "JWKS: key 'rsa-1' has kty 'RSA'; ES256 needs EC");
	free(t);
}

/* RFC 7518 §3.4: JOSE ECDSA is r || s, not the DER that OpenSSL makes. */
static void
test_rejects_es256_with_der_signature(void **state)
{
	char *h = header("ES256", "ec-256"), *p = claims(NULL);
	char *t = jose_token(fx.p256, "ES256", h, p, 1);
	(void)state;

	refuses(t, "ECDSA signature is");
	refuses(t, "r || s on this curve is 64");
	free(t);
	free(p);
	free(h);
}

static void
test_rejects_two_part_token(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	(void)state;

	*strrchr(t, '.') = '\0';
	refuses(t, "has 2 parts; a compact JWS has 3");
	free(t);
}

static void
test_rejects_four_part_token(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL), *t2;
	(void)state;

	assert_true(kmfa_asprintf(&t2, "%s.c2ln", t) > 0);
	refuses(t2, "has 4 parts");
	free(t2);
	free(t);
}

static void
test_rejects_jwe(void **state)
{
	(void)state;
	refuses("eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn",
	    "is encrypted (JWE)");
}

static void
test_rejects_empty_token(void **state)
{
	(void)state;
	refuses("", "has 1 parts");
	refuses("..", "empty header or payload");
}

/* The cap applies to the whole token, before any decoding. */
static void
test_rejects_oversized_token(void **state)
{
	char *pad = malloc(KMFA_JWT_MAX), *extra, *c, *t;
	(void)state;

	assert_non_null(pad);
	memset(pad, 'x', KMFA_JWT_MAX * 3 / 4);
	pad[KMFA_JWT_MAX * 3 / 4] = '\0';
	assert_true(kmfa_asprintf(&extra, ",\"pad\":\"%s\"", pad) > 0);
	c = claims(extra);
	t = token(fx.rsa, "RS256", "rsa-1", c);
	assert_true(strlen(t) > KMFA_JWT_MAX);
	refuses(t, "longer than 65536 bytes");
	free(t);
	free(c);
	free(extra);
	free(pad);
}

/* ... and it is not so low that a token with many groups is refused. */
static void
test_accepts_large_token_under_cap(void **state)
{
	char *pad = malloc(KMFA_JWT_MAX), *extra, *c, *t;
	(void)state;

	assert_non_null(pad);
	memset(pad, 'x', KMFA_JWT_MAX / 2);
	pad[KMFA_JWT_MAX / 2] = '\0';
	assert_true(kmfa_asprintf(&extra, ",\"groups\":[\"%s\"]", pad) > 0);
	c = claims(extra);
	t = token(fx.rsa, "RS256", "rsa-1", c);
	assert_true(strlen(t) > KMFA_JWT_MAX / 2 && strlen(t) < KMFA_JWT_MAX);
	accepts(t);
	free(t);
	free(c);
	free(extra);
	free(pad);
}

static void
test_rejects_oversized_header(void **state)
{
	char *pad = malloc(2048), *h, *p = claims(NULL), *t;
	(void)state;

	assert_non_null(pad);
	memset(pad, 'k', 2047);
	pad[2047] = '\0';
	assert_true(kmfa_asprintf(&h, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\","
	    "\"x\":\"%s\"}", pad) > 0);
	t = jose_token(fx.rsa, "RS256", h, p, 0);
	refuses(t, "header is longer than 2048 bytes");
	free(t);
	free(h);
	free(p);
	free(pad);
}

static void
test_rejects_crit_header(void **state)
{
	char *p = claims(NULL);
	char *t = jose_token(fx.rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":"
	    "\"rsa-1\",\"crit\":[\"exp\"],\"exp\":1}", p, 0);
	(void)state;

	refuses(t, "header has crit");
	free(t);
	free(p);
}

/* RFC 8725 §3.11: an access token (at+jwt) is not an ID token. */
static void
test_rejects_typ_not_jwt(void **state)
{
	char *p = claims(NULL);
	char *t = jose_token(fx.rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":"
	    "\"rsa-1\",\"typ\":\"at+jwt\"}", p, 0);
	(void)state;

	refuses(t, "typ 'at+jwt' is not JWT");
	free(t);
	free(p);
}

static void
test_accepts_typ_jwt_any_case(void **state)
{
	static const char *typs[] = { "JWT", "jwt", "application/jwt",
	    "Application/JWT" };
	char *p = claims(NULL);
	(void)state;

	for (size_t i = 0; i < sizeof(typs) / sizeof(typs[0]); i++) {
		char *h, *t;

		assert_true(kmfa_asprintf(&h, "{\"alg\":\"RS256\",\"kid\":"
		    "\"rsa-1\",\"typ\":\"%s\"}", typs[i]) > 0);
		t = jose_token(fx.rsa, "RS256", h, p, 0);
		accepts(t);
		free(t);
		free(h);
	}
	free(p);
}

/* RFC 7515 §5.2 step 4: duplicate header names are refused. */
static void
test_rejects_duplicate_header_member(void **state)
{
	char *p = claims(NULL);
	char *t = jose_token(fx.rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":"
	    "\"rsa-1\",\"kid\":\"ec-256\"}", p, 0);
	(void)state;

	refuses(t, "header has kid twice");
	free(t);
	free(p);
}

/* Another parser might take the last iss; we refuse instead of guessing. */
static void
test_rejects_duplicate_claim(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"https://evil."
	    "example.test\",\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\""
	    CLIENT "\",\"exp\":1800000600}");
	(void)state;

	refuses(t, "payload has iss twice");
	free(t);
}

/*
 * Not only the claims this program reads: any member twice, at any depth,
 * is a payload that some relying party reads differently.
 */
static void
test_rejects_duplicate_member_anywhere(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":\"" CLIENT "\",\"exp\":1800000600,"
	    "\"groups\":[\"dev\"],\"groups\":[\"system:masters\"]}");
	char *t2 = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\",\"aud\":\"" CLIENT "\",\"exp\":1800000600,"
	    "\"realm_access\":{\"roles\":[\"dev\"],\"roles\":[\"admin\"]}}");
	(void)state;

	refuses(t, "payload has groups twice");
	refuses(t2, "payload has roles twice");
	free(t);
	free(t2);
}

static void
test_rejects_trailing_bytes_after_payload_json(void **state)
{
	char *p = claims(NULL), *p2, *t;
	(void)state;

	assert_true(kmfa_asprintf(&p2, "%s{}", p) > 0);
	t = token(fx.rsa, "RS256", "rsa-1", p2);
	refuses(t, "payload has data after its JSON value");
	free(t);
	free(p2);
	free(p);
}

static void
test_accepts_whitespace_around_payload_json(void **state)
{
	char *p = claims(NULL), *p2, *t;
	(void)state;

	assert_true(kmfa_asprintf(&p2, " \n%s\r\n ", p) > 0);
	t = token(fx.rsa, "RS256", "rsa-1", p2);
	accepts(t);
	free(t);
	free(p2);
	free(p);
}

/* cJSON would cut "alice\u0000admin" to "alice". */
static void
test_rejects_nul_in_claim(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "{\"iss\":\"" ISS "\","
	    "\"sub\":\"alice\\u0000admin\",\"aud\":\"" CLIENT "\","
	    "\"exp\":1800000600}");
	(void)state;

	refuses(t, "payload contains a NUL");
	free(t);
}

static void
test_rejects_payload_not_object(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", "[\"iss\"]");
	(void)state;

	refuses(t, "payload is not a JSON object");
	free(t);
}

/* RFC 7515 §2: base64url without padding; padding is another spelling. */
static void
test_rejects_padded_segment(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL), *t2, *h, *p, *sig;
	(void)state;

	/* A 256-byte signature is 342 characters: "==" would complete it. */
	sig = strrchr(t, '.') + 1;
	assert_int_equal(strlen(sig) % 4, 2);
	assert_true(kmfa_asprintf(&t2, "%s==", t) > 0);
	refuses(t2, "signature is not base64url");
	free(t2);
	/* Whatever the payload's length, one '=' is never valid base64url. */
	h = strndup(t, (size_t)(strchr(t, '.') - t));
	p = strndup(strchr(t, '.') + 1, (size_t)(sig - 1 - strchr(t, '.') - 1));
	assert_true(kmfa_asprintf(&t2, "%s.%s=.%s", h, p, sig) > 0);
	refuses(t2, "payload is not base64url");
	free(t2);
	free(p);
	free(h);
	free(t);
}

static void
test_accepts_no_kid_single_key(void **state)
{
	char *jwk[2] = { jose_jwk(fx.rsa, NULL, NULL), NULL };
	char *jwks = jose_jwks((const char *const *)jwk);
	char *t = token(fx.rsa, "RS256", NULL, NULL);
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_int_equal(verify_with(t, jwks, &c), KMFA_OK);
	assert_string_equal(c->sub, "alice");
	kmfa_jwt_claims_free(&c);
	free(t);
	free(jwks);
	free(jwk[0]);
}

/* Suitability first: of the whole set, only ec-384 can verify ES384. */
static void
test_accepts_no_kid_when_one_key_suits_alg(void **state)
{
	char *t = token(fx.p384, "ES384", NULL, NULL);
	(void)state;

	accepts(t);
	free(t);
}

/* rsa-1 and weak both suit RS256, so a token without kid is ambiguous. */
static void
test_rejects_no_kid_many_keys(void **state)
{
	char *t = token(fx.rsa, "RS256", NULL, NULL);
	(void)state;

	refuses(t, "no kid, and 2 keys in the issuer's JWKS suit RS256");
	free(t);
}

static void
test_rejects_kid_of_symmetric_key(void **state)
{
	char *t = token(fx.rsa, "RS256", "hmac", NULL);
	(void)state;

	refuses(t, "JWKS: key 'hmac' is a symmetric (oct) key");
	free(t);
}

static void
test_rejects_key_for_encryption(void **state)
{
	char *t = token(fx.rsa, "RS256", "enc", NULL);
	(void)state;

	refuses(t, "JWKS: key 'enc' is not for signatures");
	free(t);
}

static void
test_rejects_alg_other_than_keys_alg(void **state)
{
	char *t = token(fx.rsa, "RS256", "rs512-only", NULL);
	(void)state;

	refuses(t, "JWKS: key 'rs512-only' is for alg 'RS512', not RS256");
	free(t);
	t = token(fx.rsa, "RS512", "rs512-only", NULL);
	accepts(t);
	free(t);
}

static void
test_rejects_kid_that_is_not_a_string(void **state)
{
	char *p = claims(NULL);
	char *t = jose_token(fx.rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":1}",
	    p, 0);
	(void)state;

	refuses(t, "kid is not a string");
	free(t);
	free(p);
}

/* Control characters and quotes from the token never reach the terminal. */
static void
test_quotes_untrusted_kid_safely(void **state)
{
	char *t = token(fx.rsa, "RS256", "a\\u001b[31m'b", NULL);
	(void)state;

	refuses(t, "for kid 'a?[31m?b'");
	free(t);
}

static void
test_extracts_amr_acr_email_name(void **state)
{
	char *p = claims(",\"amr\":[\"hwk\",\"mfa\"],\"acr\":\"phr\","
	    "\"email\":\"alice@example.test\",\"name\":\"Alice\"");
	char *t = token(fx.p256, "ES256", "ec-256", p);
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_int_equal(verify_with(t, fx.jwks, &c), KMFA_OK);
	assert_int_equal(c->namr, 2);
	assert_string_equal(c->amr[0], "hwk");
	assert_string_equal(c->amr[1], "mfa");
	assert_string_equal(c->acr, "phr");
	assert_string_equal(c->email, "alice@example.test");
	assert_string_equal(c->name, "Alice");
	assert_int_equal(c->iat, NOW - 5);
	assert_int_equal(c->naud, 1);
	assert_string_equal(c->aud[0], CLIENT);
	kmfa_jwt_claims_free(&c);
	free(t);
	free(p);
}

static void
test_absent_optional_claims_are_null(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_int_equal(verify_with(t, fx.jwks, &c), KMFA_OK);
	assert_null(c->amr);
	assert_int_equal(c->namr, 0);
	assert_null(c->acr);
	assert_null(c->email);
	assert_null(c->name);
	kmfa_jwt_claims_free(&c);
	free(t);
}

static void
test_rejects_amr_not_array_of_strings(void **state)
{
	char *p = claims(",\"amr\":\"mfa\""), *t;
	(void)state;

	t = token(fx.rsa, "RS256", "rsa-1", p);
	refuses(t, "amr is not an array of strings");
	free(t);
	free(p);
	p = claims(",\"amr\":[\"mfa\",true]");
	t = token(fx.rsa, "RS256", "rsa-1", p);
	refuses(t, "amr is not an array of strings");
	free(t);
	free(p);
}

static void
test_rejects_acr_not_string(void **state)
{
	char *p = claims(",\"acr\":2"), *t;
	(void)state;

	t = token(fx.rsa, "RS256", "rsa-1", p);
	refuses(t, "acr is not a string");
	free(t);
	free(p);
}

/* email and name are only shown; a wrong type is dropped, not fatal. */
static void
test_ignores_non_string_email_and_name(void **state)
{
	char *p = claims(",\"email\":1,\"name\":{}");
	char *t = token(fx.rsa, "RS256", "rsa-1", p);
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_int_equal(verify_with(t, fx.jwks, &c), KMFA_OK);
	assert_null(c->email);
	assert_null(c->name);
	kmfa_jwt_claims_free(&c);
	free(t);
	free(p);
}

static void
test_rejects_bad_jwks(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	(void)state;

	refuses_in(t, "not json", "JWKS: the issuer's key set is not valid "
	    "JSON");
	refuses_in(t, "{\"keys\":{}}", "has no keys array");
	refuses_in(t, "[]", "JWKS: the issuer's key set is not a JSON object");
	refuses_in(t, "{\"keys\":[]}", "no key in the issuer's JWKS for kid");
	free(t);
}

static void
test_rejects_insane_expectations(void **state)
{
	char *t = token(fx.rsa, "RS256", "rsa-1", NULL);
	struct kmfa_jwt_expect want = { NULL, CLIENT, NOW, LEEWAY };
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_int_equal(kmfa_jwt_verify(t, fx.jwks, strlen(fx.jwks), &want,
	    &c), KMFA_ERR_INTERNAL);
	want.issuer = ISS;
	want.leeway = -1;
	assert_int_equal(kmfa_jwt_verify(t, fx.jwks, strlen(fx.jwks), &want,
	    &c), KMFA_ERR_INTERNAL);
	want.leeway = LEEWAY;
	want.now = 0;
	assert_int_equal(kmfa_jwt_verify(t, fx.jwks, strlen(fx.jwks), &want,
	    &c), KMFA_ERR_INTERNAL);
	want.now = NOW;
	assert_int_equal(kmfa_jwt_verify(t, fx.jwks, strlen(fx.jwks), &want,
	    &c), KMFA_OK);
	kmfa_jwt_claims_free(&c);
	assert_null(c);
	free(t);
}

/* Only the cause of the first failure is kept (report.h). */
static void
test_reports_one_cause(void **state)
{
	char *t = token(fx.rsa, "RS256", "nope", NULL);
	(void)state;

	refuses(t, "kid 'nope'");
	assert_null(strstr(kmfa_report_cause(), "signature"));
	free(t);
}

/* Peek trusts nothing and checks nothing: signature, iss, exp alike. */
static void
test_peek_claims_does_not_verify(void **state)
{
	char *in = jose_signing_input("{\"alg\":\"none\"}", "{\"iss\":\"x\","
	    "\"sub\":7,\"exp\":1,\"amr\":[\"pwd\"],\"email\":\"a@b\"}"), *t;
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	assert_true(kmfa_asprintf(&t, "%s.", in) > 0);
	assert_int_equal(kmfa_jwt_peek_claims(t, &c), KMFA_OK);
	assert_string_equal(c->iss, "x");
	assert_null(c->sub);
	assert_int_equal(c->exp, 1);
	assert_int_equal(c->namr, 1);
	assert_string_equal(c->amr[0], "pwd");
	assert_string_equal(c->email, "a@b");
	kmfa_jwt_claims_free(&c);
	free(t);
	free(in);
}

static void
test_peek_claims_refuses_malformed(void **state)
{
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	kmfa_report_clear();
	assert_int_equal(kmfa_jwt_peek_claims("abc.def", &c), KMFA_ERR_TOKEN);
	assert_null(c);
	kmfa_report_clear();
	assert_int_equal(kmfa_jwt_peek_claims("e30.!!!.", &c), KMFA_ERR_TOKEN);
	assert_non_null(strstr(kmfa_report_cause(), "payload is not base64url"));
	assert_null(c);
}

static void
test_claims_free_accepts_null(void **state)
{
	struct kmfa_jwt_claims *c = NULL;
	(void)state;

	kmfa_jwt_claims_free(&c);
	kmfa_jwt_claims_free(NULL);
	assert_null(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_rs256),
		cmocka_unit_test(test_accepts_rs384),
		cmocka_unit_test(test_accepts_rs512),
		cmocka_unit_test(test_accepts_ps256),
		cmocka_unit_test(test_accepts_ps384),
		cmocka_unit_test(test_accepts_ps512),
		cmocka_unit_test(test_accepts_es256),
		cmocka_unit_test(test_accepts_es384),
		cmocka_unit_test(test_accepts_es512),
		cmocka_unit_test(test_rejects_ps256_with_short_salt),
		cmocka_unit_test(test_rejects_rs256_signature_under_ps256_header),
		cmocka_unit_test(test_rejects_alg_none),
		cmocka_unit_test(test_rejects_hs256_signed_with_public_key),
		cmocka_unit_test(test_rejects_unlisted_alg),
		cmocka_unit_test(test_rejects_missing_alg),
		cmocka_unit_test(test_rejects_unknown_kid),
		cmocka_unit_test(test_rejects_wrong_iss),
		cmocka_unit_test(test_rejects_iss_with_trailing_slash),
		cmocka_unit_test(test_rejects_missing_iss),
		cmocka_unit_test(test_rejects_wrong_aud),
		cmocka_unit_test(test_rejects_missing_aud),
		cmocka_unit_test(test_accepts_aud_array_containing_client),
		cmocka_unit_test(test_rejects_aud_array_without_client),
		cmocka_unit_test(test_rejects_aud_array_with_non_string),
		cmocka_unit_test(test_rejects_azp_of_other_client),
		cmocka_unit_test(test_rejects_expired),
		cmocka_unit_test(test_rejects_exp_equal_to_now),
		cmocka_unit_test(test_accepts_exp_one_second_ahead),
		cmocka_unit_test(test_rejects_missing_exp),
		cmocka_unit_test(test_rejects_non_numeric_exp),
		cmocka_unit_test(test_rejects_nbf_in_future),
		cmocka_unit_test(test_accepts_nbf_within_leeway),
		cmocka_unit_test(test_rejects_iat_in_future),
		cmocka_unit_test(test_rejects_non_string_sub),
		cmocka_unit_test(test_rejects_missing_sub),
		cmocka_unit_test(test_rejects_bad_signature),
		cmocka_unit_test(test_rejects_bad_es256_signature),
		cmocka_unit_test(test_rejects_signature_by_other_key),
		cmocka_unit_test(test_rejects_tampered_payload),
		cmocka_unit_test(test_rejects_tampered_header),
		cmocka_unit_test(test_rejects_rsa_signature_of_wrong_length),
		cmocka_unit_test(test_rejects_weak_rsa_key),
		cmocka_unit_test(test_rejects_wrong_curve_for_alg),
		cmocka_unit_test(test_rejects_ec_alg_for_rsa_key),
		cmocka_unit_test(test_rejects_es256_with_der_signature),
		cmocka_unit_test(test_rejects_two_part_token),
		cmocka_unit_test(test_rejects_four_part_token),
		cmocka_unit_test(test_rejects_jwe),
		cmocka_unit_test(test_rejects_empty_token),
		cmocka_unit_test(test_rejects_oversized_token),
		cmocka_unit_test(test_accepts_large_token_under_cap),
		cmocka_unit_test(test_rejects_oversized_header),
		cmocka_unit_test(test_rejects_crit_header),
		cmocka_unit_test(test_rejects_typ_not_jwt),
		cmocka_unit_test(test_accepts_typ_jwt_any_case),
		cmocka_unit_test(test_rejects_duplicate_header_member),
		cmocka_unit_test(test_rejects_duplicate_claim),
		cmocka_unit_test(test_rejects_duplicate_member_anywhere),
		cmocka_unit_test(test_rejects_trailing_bytes_after_payload_json),
		cmocka_unit_test(test_accepts_whitespace_around_payload_json),
		cmocka_unit_test(test_rejects_nul_in_claim),
		cmocka_unit_test(test_rejects_payload_not_object),
		cmocka_unit_test(test_rejects_padded_segment),
		cmocka_unit_test(test_accepts_no_kid_single_key),
		cmocka_unit_test(test_accepts_no_kid_when_one_key_suits_alg),
		cmocka_unit_test(test_rejects_no_kid_many_keys),
		cmocka_unit_test(test_rejects_kid_of_symmetric_key),
		cmocka_unit_test(test_rejects_key_for_encryption),
		cmocka_unit_test(test_rejects_alg_other_than_keys_alg),
		cmocka_unit_test(test_rejects_kid_that_is_not_a_string),
		cmocka_unit_test(test_quotes_untrusted_kid_safely),
		cmocka_unit_test(test_extracts_amr_acr_email_name),
		cmocka_unit_test(test_absent_optional_claims_are_null),
		cmocka_unit_test(test_rejects_amr_not_array_of_strings),
		cmocka_unit_test(test_rejects_acr_not_string),
		cmocka_unit_test(test_ignores_non_string_email_and_name),
		cmocka_unit_test(test_rejects_bad_jwks),
		cmocka_unit_test(test_rejects_insane_expectations),
		cmocka_unit_test(test_reports_one_cause),
		cmocka_unit_test(test_peek_claims_does_not_verify),
		cmocka_unit_test(test_peek_claims_refuses_malformed),
		cmocka_unit_test(test_claims_free_accepts_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Unit tests for lib/jose/jwk.c: the allow-list, and which key a JWKS yields
 * for a kid and alg.  The key found is compared with the one generated
 * (EVP_PKEY_eq), so picking the wrong key fails, not only picking none.
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
#include "jose.h"
#include "jose/jwk.h"

static struct {
	EVP_PKEY *rsa, *rsa2, *weak, *p256, *p384, *p521;
} fx;

static int
setup(void **state)
{
	(void)state;
	fx.rsa = jose_rsa(2048);
	fx.rsa2 = jose_rsa(2048);
	fx.weak = jose_rsa(1024);
	fx.p256 = jose_ec("P-256");
	fx.p384 = jose_ec("P-384");
	fx.p521 = jose_ec("P-521");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(fx.rsa);
	EVP_PKEY_free(fx.rsa2);
	EVP_PKEY_free(fx.weak);
	EVP_PKEY_free(fx.p256);
	EVP_PKEY_free(fx.p384);
	EVP_PKEY_free(fx.p521);
	return 0;
}

static int
find(const char *jwks, const char *kid, const char *alg, EVP_PKEY **k)
{
	const struct kmfa_jws_alg *a = kmfa_jwk_alg_lookup(alg);

	assert_non_null(a);
	kmfa_report_clear();
	return kmfa_jwk_find(jwks, strlen(jwks), kid, a, k);
}

/* The JWKS holding the given JWKs, then freed. */
static char *
set_of(char *a, char *b, char *c)
{
	char *v[4] = { a, b, c, NULL };
	char *s = jose_jwks((const char *const *)v);

	free(a);
	free(b);
	free(c);
	return s;
}

static void
finds(const char *jwks, const char *kid, const char *alg, EVP_PKEY *want)
{
	EVP_PKEY *k = NULL;
	int r = find(jwks, kid, alg, &k);

	if (r != KMFA_OK)
		fail_msg("not found: %s", kmfa_report_cause());
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_eq(k, want), 1);
	EVP_PKEY_free(k);
}

static void
refuses(const char *jwks, const char *kid, const char *alg, const char *why)
{
	EVP_PKEY *k = (EVP_PKEY *)(uintptr_t)1;
	const char *cause;

	assert_int_equal(find(jwks, kid, alg, &k), KMFA_ERR_TOKEN);
	assert_null(k);
	cause = kmfa_report_cause();
	assert_non_null(cause);
	if (strstr(cause, why) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, why);
}

static void
test_allow_list_is_exact(void **state)
{
	static const char *ok[] = { "RS256", "RS384", "RS512", "PS256",
	    "PS384", "PS512", "ES256", "ES384", "ES512" };
	static const char *no[] = { "none", "None", "HS256", "HS384", "HS512",
	    "rs256", "RS256 ", "ES256K", "EdDSA", "RSA-OAEP", "", "RS" };
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const struct kmfa_jws_alg *a = kmfa_jwk_alg_lookup(ok[i]);

		assert_non_null(a);
		assert_string_equal(a->name, ok[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_null(kmfa_jwk_alg_lookup(no[i]));
	assert_null(kmfa_jwk_alg_lookup(NULL));
}

/* RFC 7518 §3.4: one curve per ECDSA alg, r and s at the field size. */
static void
test_ecdsa_algs_bind_curve_and_size(void **state)
{
	(void)state;
	assert_string_equal(kmfa_jwk_alg_lookup("ES256")->crv, "P-256");
	assert_int_equal(kmfa_jwk_alg_lookup("ES256")->field_len, 32);
	assert_string_equal(kmfa_jwk_alg_lookup("ES384")->crv, "P-384");
	assert_int_equal(kmfa_jwk_alg_lookup("ES384")->field_len, 48);
	assert_string_equal(kmfa_jwk_alg_lookup("ES512")->crv, "P-521");
	assert_int_equal(kmfa_jwk_alg_lookup("ES512")->field_len, 66);
	assert_int_equal(kmfa_jwk_alg_lookup("PS384")->kind, KMFA_JWS_RSA_PSS);
	assert_string_equal(kmfa_jwk_alg_lookup("PS384")->digest, "SHA384");
}

static void
test_finds_key_by_kid_among_many(void **state)
{
	char *jwks = set_of(jose_jwk(fx.rsa, "a", NULL),
	    jose_jwk(fx.rsa2, "b", NULL), jose_jwk(fx.p256, "c", NULL));
	(void)state;

	finds(jwks, "a", "RS256", fx.rsa);
	finds(jwks, "b", "PS512", fx.rsa2);
	finds(jwks, "c", "ES256", fx.p256);
	free(jwks);
}

static void
test_finds_each_curve(void **state)
{
	char *jwks = set_of(jose_jwk(fx.p256, "256", NULL),
	    jose_jwk(fx.p384, "384", NULL), jose_jwk(fx.p521, "521", NULL));
	(void)state;

	finds(jwks, "256", "ES256", fx.p256);
	finds(jwks, "384", "ES384", fx.p384);
	finds(jwks, "521", "ES512", fx.p521);
	refuses(jwks, "521", "ES384", "is on P-521; ES384 requires P-384");
	free(jwks);
}

/* kid matching is exact (RFC 7515 §4.1.4), case included. */
static void
test_kid_match_is_exact(void **state)
{
	char *jwks = set_of(jose_jwk(fx.rsa, "Key-1", NULL), NULL, NULL);
	(void)state;

	refuses(jwks, "key-1", "RS256", "no key in the issuer's JWKS for kid "
	    "'key-1'");
	refuses(jwks, "Key-", "RS256", "for kid 'Key-'");
	finds(jwks, "Key-1", "RS256", fx.rsa);
	free(jwks);
}

static void
test_rejects_rsa_1024(void **state)
{
	char *jwks = set_of(jose_jwk(fx.weak, "old", NULL), NULL, NULL);
	(void)state;

	refuses(jwks, "old", "RS256", "JWKS: RSA key 'old' is 1024 bits; at "
	    "least 2048 required");
	/* Weak is weak with or without a kid. */
	refuses(jwks, NULL, "RS256", "is 1024 bits");
	free(jwks);
}

/* Leading zero octets in n do not make a small modulus look large. */
static void
test_rejects_rsa_1024_padded_with_zeros(void **state)
{
	BIGNUM *n = NULL;
	uint8_t buf[512];
	char *n64, *jwk;
	char *jwks;
	(void)state;

	assert_int_equal(EVP_PKEY_get_bn_param(fx.weak, OSSL_PKEY_PARAM_RSA_N,
	    &n), 1);
	assert_int_equal(BN_bn2binpad(n, buf, 300), 300);
	n64 = jose_b64url(buf, 300);
	assert_true(kmfa_asprintf(&jwk, "{\"kty\":\"RSA\",\"kid\":\"z\","
	    "\"n\":\"%s\",\"e\":\"AQAB\"}", n64) > 0);
	jwks = set_of(jwk, NULL, NULL);
	refuses(jwks, "z", "RS256", "is 1024 bits");
	free(jwks);
	free(n64);
	BN_free(n);
}

static void
test_rejects_bad_rsa_exponent(void **state)
{
	BIGNUM *n = NULL;
	char *n64, *jwk, *jwks;
	static const char *es[] = { "AQ", "AAE", "Ag", "AQAA" };
	(void)state;

	assert_int_equal(EVP_PKEY_get_bn_param(fx.rsa, OSSL_PKEY_PARAM_RSA_N,
	    &n), 1);
	n64 = jose_bn_b64url(n, 0);
	for (size_t i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
		/* 1, 1 with a zero octet, 2, 65536: none is a usable e. */
		assert_true(kmfa_asprintf(&jwk, "{\"kty\":\"RSA\",\"kid\":\"e\","
		    "\"n\":\"%s\",\"e\":\"%s\"}", n64, es[i]) > 0);
		jwks = set_of(jwk, NULL, NULL);
		refuses(jwks, "e", "RS256", "unusable exponent");
		free(jwks);
	}
	free(n64);
	BN_free(n);
}

static void
test_rejects_rsa_without_n(void **state)
{
	char *jwks = strdup("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\","
	    "\"e\":\"AQAB\"}]}");
	(void)state;

	refuses(jwks, "x", "RS256", "JWKS: key 'x' has no n");
	free(jwks);
}

static void
test_rejects_rsa_n_not_base64url(void **state)
{
	char *jwks = strdup("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\","
	    "\"n\":\"ab+/\",\"e\":\"AQAB\"}]}");
	(void)state;

	refuses(jwks, "x", "RS256", "has a n that is not base64url");
	free(jwks);
}

/* An invalid-curve point must never reach ECDSA verification. */
static void
test_rejects_ec_point_not_on_curve(void **state)
{
	BIGNUM *x = NULL, *y = NULL;
	char *x64, *y64, *jwk, *jwks;
	(void)state;

	assert_int_equal(EVP_PKEY_get_bn_param(fx.p256,
	    OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(fx.p256,
	    OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
	assert_int_equal(BN_add_word(y, 1), 1);
	x64 = jose_bn_b64url(x, 32);
	y64 = jose_bn_b64url(y, 32);
	assert_true(kmfa_asprintf(&jwk, "{\"kty\":\"EC\",\"kid\":\"bad\","
	    "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x64, y64) > 0);
	jwks = set_of(jwk, NULL, NULL);
	refuses(jwks, "bad", "ES256", "JWKS: ");
	assert_true(strstr(kmfa_report_cause(), "not a valid public key") ||
	    strstr(kmfa_report_cause(), "not a point on P-256"));
	free(jwks);
	free(x64);
	free(y64);
	BN_free(x);
	BN_free(y);
}

/* RFC 7518 §6.2.1.2: x and y are exactly the coordinate size. */
static void
test_rejects_ec_short_coordinate(void **state)
{
	BIGNUM *x = NULL, *y = NULL;
	char *x64, *y64, *jwk, *jwks;
	(void)state;

	assert_int_equal(EVP_PKEY_get_bn_param(fx.p256,
	    OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(fx.p256,
	    OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
	/* The same number with one more leading zero: the wrong size. */
	x64 = jose_bn_b64url(x, 33);
	y64 = jose_bn_b64url(y, 32);
	assert_true(kmfa_asprintf(&jwk, "{\"kty\":\"EC\",\"kid\":\"s\","
	    "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x64, y64) > 0);
	jwks = set_of(jwk, NULL, NULL);
	refuses(jwks, "s", "ES256", "coordinates of 33 and 32 bytes; P-256 "
	    "needs 32");
	free(jwks);
	free(x64);
	free(y64);
	BN_free(x);
	BN_free(y);
}

static void
test_rejects_oct_key(void **state)
{
	char *jwks = strdup("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\","
	    "\"k\":\"c2VjcmV0\",\"alg\":\"HS256\"}]}");
	(void)state;

	refuses(jwks, "h", "RS256", "JWKS: key 'h' is a symmetric (oct) key");
	refuses(jwks, NULL, "RS256", "no key in the issuer's JWKS suits RS256");
	free(jwks);
}

static void
test_respects_use(void **state)
{
	char *jwks = set_of(jose_jwk(fx.rsa, "enc", "\"use\":\"enc\","),
	    jose_jwk(fx.rsa2, "sig", "\"use\":\"sig\","),
	    jose_jwk(fx.p256, "num", "\"use\":1,"));
	(void)state;

	refuses(jwks, "enc", "RS256", "not for signatures");
	refuses(jwks, "num", "ES256", "not for signatures");
	finds(jwks, "sig", "RS256", fx.rsa2);
	/* Without a kid the enc key does not count, so sig is the one. */
	finds(jwks, NULL, "RS256", fx.rsa2);
	free(jwks);
}

static void
test_respects_key_ops(void **state)
{
	char *jwks = set_of(
	    jose_jwk(fx.rsa, "wrap", "\"key_ops\":[\"wrapKey\"],"),
	    jose_jwk(fx.rsa2, "vfy", "\"key_ops\":[\"sign\",\"verify\"],"),
	    jose_jwk(fx.p256, "str", "\"key_ops\":\"verify\","));
	(void)state;

	refuses(jwks, "wrap", "RS256", "key_ops does not allow verify");
	refuses(jwks, "str", "ES256", "key_ops that is not an array");
	finds(jwks, "vfy", "RS256", fx.rsa2);
	free(jwks);
}

static void
test_respects_key_alg(void **state)
{
	char *jwks = set_of(jose_jwk(fx.rsa, "ps", "\"alg\":\"PS256\","),
	    jose_jwk(fx.p256, "es", "\"alg\":\"ES256\","), NULL);
	(void)state;

	finds(jwks, "ps", "PS256", fx.rsa);
	refuses(jwks, "ps", "RS256", "is for alg 'PS256', not RS256");
	finds(jwks, "es", "ES256", fx.p256);
	free(jwks);
}

static void
test_rejects_kty_mismatch(void **state)
{
	char *jwks = set_of(jose_jwk(fx.rsa, "r", NULL),
	    jose_jwk(fx.p256, "e", NULL), NULL);
	(void)state;

	refuses(jwks, "r", "ES256", "has kty 'RSA'; ES256 needs EC");
	refuses(jwks, "e", "PS256", "has kty 'EC'; PS256 needs RSA");
	free(jwks);
}

static void
test_no_kid_needs_exactly_one_suitable_key(void **state)
{
	char *one = set_of(jose_jwk(fx.rsa, NULL, NULL),
	    jose_jwk(fx.p384, NULL, NULL), NULL);
	char *two = set_of(jose_jwk(fx.rsa, "a", NULL),
	    jose_jwk(fx.rsa2, "b", NULL), NULL);
	(void)state;

	finds(one, NULL, "RS256", fx.rsa);
	finds(one, NULL, "ES384", fx.p384);
	refuses(one, NULL, "ES256", "no key in the issuer's JWKS suits ES256");
	refuses(two, NULL, "RS256", "2 keys in the issuer's JWKS suit RS256");
	free(one);
	free(two);
}

/* A kid used twice for keys that both suit is as ambiguous as no kid. */
static void
test_rejects_duplicate_kid(void **state)
{
	char *jwks = set_of(jose_jwk(fx.rsa, "k", NULL),
	    jose_jwk(fx.rsa2, "k", NULL), jose_jwk(fx.p256, "k", NULL));
	(void)state;

	refuses(jwks, "k", "RS256", "2 keys with kid 'k' suit RS256");
	/* Only one of the three suits ES256: that one is meant. */
	finds(jwks, "k", "ES256", fx.p256);
	free(jwks);
}

static void
test_rejects_malformed_sets(void **state)
{
	EVP_PKEY *k = NULL;
	const struct kmfa_jws_alg *a = kmfa_jwk_alg_lookup("RS256");
	(void)state;

	refuses("{", "a", "RS256", "key set is not valid JSON");
	refuses("{\"keys\":\"x\"}", "a", "RS256", "has no keys array");
	refuses("[{\"kty\":\"RSA\"}]", "a", "RS256", "is not a JSON object");
	refuses("{\"keys\":[]} {}", "a", "RS256", "has data after its JSON "
	    "value");
	refuses("{\"keys\":[1,\"x\",null]}", "a", "RS256", "for kid 'a'");
	kmfa_report_clear();
	assert_int_equal(kmfa_jwk_find("{}", 0, "a", a, &k), KMFA_ERR_TOKEN);
	assert_int_equal(kmfa_jwk_find(NULL, 10, "a", a, &k), KMFA_ERR_TOKEN);
	assert_null(k);
}

/*
 * A member given twice: cJSON reads the first, another verifier may read
 * the last, so the set is refused whole (base/json.h), not read one way.
 */
static void
test_rejects_a_member_given_twice(void **state)
{
	char *good = set_of(jose_jwk(fx.rsa, "a", NULL), NULL, NULL);
	char *kid2 = set_of(jose_jwk(fx.rsa, "a", "\"kid\":\"b\","), NULL,
	    NULL);
	char *keys2 = NULL;
	(void)state;

	finds(good, "a", "RS256", fx.rsa);
	refuses(kid2, "a", "RS256", "JWKS: the issuer's key set has kid twice");
	refuses(kid2, "b", "RS256", "has kid twice");
	/* The key a first-member reader finds, then an empty second list. */
	assert_true(kmfa_asprintf(&keys2, "%.*s,\"keys\":[]}",
	    (int)strlen(good) - 1, good) > 0);
	refuses(keys2, "a", "RS256", "has keys twice");
	free(good);
	free(kid2);
	free(keys2);
}

/* Only len bytes are read: the JWKS need not be NUL-terminated. */
static void
test_reads_only_len_bytes(void **state)
{
	char *jwks = set_of(jose_jwk(fx.rsa, "a", NULL), NULL, NULL);
	size_t n = strlen(jwks);
	char *copy = malloc(n);
	EVP_PKEY *k = NULL;
	(void)state;

	assert_non_null(copy);
	memcpy(copy, jwks, n);	/* no NUL: ASan would catch an overread */
	kmfa_report_clear();
	assert_int_equal(kmfa_jwk_find(copy, n, "a",
	    kmfa_jwk_alg_lookup("RS256"), &k), KMFA_OK);
	assert_int_equal(EVP_PKEY_eq(k, fx.rsa), 1);
	EVP_PKEY_free(k);
	free(copy);
	free(jwks);
}

static void
test_printable_neutralises_untrusted_text(void **state)
{
	char buf[16];
	(void)state;

	assert_string_equal(kmfa_jwk_printable("kid-1", buf, sizeof(buf)),
	    "kid-1");
	assert_string_equal(kmfa_jwk_printable("a\033[2J'\"\\\n\xc3\xa9", buf,
	    sizeof(buf)), "a?[2J??????");
	assert_string_equal(kmfa_jwk_printable("0123456789abcdefghij", buf,
	    sizeof(buf)), "0123456789ab...");
	assert_string_equal(kmfa_jwk_printable(NULL, buf, sizeof(buf)),
	    "(none)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow_list_is_exact),
		cmocka_unit_test(test_ecdsa_algs_bind_curve_and_size),
		cmocka_unit_test(test_finds_key_by_kid_among_many),
		cmocka_unit_test(test_finds_each_curve),
		cmocka_unit_test(test_kid_match_is_exact),
		cmocka_unit_test(test_rejects_rsa_1024),
		cmocka_unit_test(test_rejects_rsa_1024_padded_with_zeros),
		cmocka_unit_test(test_rejects_bad_rsa_exponent),
		cmocka_unit_test(test_rejects_rsa_without_n),
		cmocka_unit_test(test_rejects_rsa_n_not_base64url),
		cmocka_unit_test(test_rejects_ec_point_not_on_curve),
		cmocka_unit_test(test_rejects_ec_short_coordinate),
		cmocka_unit_test(test_rejects_oct_key),
		cmocka_unit_test(test_respects_use),
		cmocka_unit_test(test_respects_key_ops),
		cmocka_unit_test(test_respects_key_alg),
		cmocka_unit_test(test_rejects_kty_mismatch),
		cmocka_unit_test(test_no_kid_needs_exactly_one_suitable_key),
		cmocka_unit_test(test_rejects_duplicate_kid),
		cmocka_unit_test(test_rejects_malformed_sets),
		cmocka_unit_test(test_rejects_a_member_given_twice),
		cmocka_unit_test(test_reads_only_len_bytes),
		cmocka_unit_test(test_printable_neutralises_untrusted_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * The server proof's format (lib/key/proof.h): the bearer encodes and
 * parses back field for field; the parser refuses every malformed bearer
 * with KMFA_ERR_TOKEN (or says "not a bundle"); the two clientDataHash
 * constructions bind what they should; and one assertion verifies against
 * its public key only with the right rp id, data and signature.  The
 * assertions are made here with an OpenSSL P-256 key, as an authenticator
 * would make them (authData || clientDataHash, ECDSA with SHA-256).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/proof.h"

#define TOKEN "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
#define ISS "https://idp.example"

static EVP_PKEY *key;
static uint8_t pk[KMFA_ES256_PK_LEN];

/* CBOR byte string of rpIdHash || flags || counter, as libfido2 gives it. */
static void
make_authdata(const char *rp, uint8_t flags, uint32_t count, uint8_t ad[39])
{
	ad[0] = 0x58;
	ad[1] = 37;
	kmfa_sha256(rp, strlen(rp), ad + 2);
	ad[34] = flags;
	ad[35] = (uint8_t)(count >> 24);
	ad[36] = (uint8_t)(count >> 16);
	ad[37] = (uint8_t)(count >> 8);
	ad[38] = (uint8_t)count;
}

static void
sign(const uint8_t ad[39], const uint8_t cdh[32], uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t m[37 + 32];

	memcpy(m, ad + 2, 37);
	memcpy(m + 37, cdh, 32);
	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key),
	    1);
	assert_int_equal(EVP_DigestSign(md, sig, siglen, m, sizeof(m)), 1);
	EVP_MD_CTX_free(md);
}

/* Evidence of one assertion over cdh, as the touch or the silent one. */
static void
evidence(struct kmfa_fido2_evidence *e, const char *rp, uint8_t flags,
    uint32_t count, const uint8_t cdh[32])
{
	uint8_t sig[128];
	size_t siglen = sizeof(sig);

	e->authdata_len = 39;
	assert_non_null(e->authdata = malloc(39));
	make_authdata(rp, flags, count, e->authdata);
	sign(e->authdata, cdh, sig, &siglen);
	assert_non_null(e->sig = malloc(siglen));
	memcpy(e->sig, sig, siglen);
	e->sig_len = siglen;
	if (e->cred_id == NULL) {
		assert_non_null(e->cred_id = malloc(16));
		memset(e->cred_id, 0xc1, 16);
		e->cred_id_len = 16;
	}
}

/* A good bearer for TOKEN, the touch at time t. */
static char *
good_bearer(int64_t t, const char *signed_token)
{
	struct kmfa_fido2_evidence up = { 0 }, tok = { 0 };
	uint8_t up_cdh[32], tok_cdh[32];
	char *ctx = NULL, *b = NULL;

	assert_int_equal(kmfa_proof_context(ISS, "kubectl", t, &ctx), KMFA_OK);
	memset(up.nonce, 0x5a, sizeof(up.nonce));
	kmfa_proof_up_cdh(up.nonce, ctx, up_cdh);
	evidence(&up, KMFA_FIDO2_RP_ID, 0x01, 7, up_cdh);
	kmfa_proof_token_cdh(signed_token, strlen(signed_token), up_cdh,
	    tok_cdh);
	evidence(&tok, KMFA_FIDO2_RP_ID, 0x00, 8, tok_cdh);
	assert_int_equal(kmfa_proof_encode(TOKEN, ctx, &up, &tok, &b), KMFA_OK);
	kmfa_fido2_assert_evidence_clear(&up);
	kmfa_fido2_assert_evidence_clear(&tok);
	free(ctx);
	return b;
}

static int
setup(void **state)
{
	uint8_t pub[65];
	size_t n = 0;

	(void)state;
	kmfa_json_init();
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL || EVP_PKEY_get_octet_string_param(key,
	    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) != 1 || n != 65)
		return -1;
	memcpy(pk, pub + 1, sizeof(pk));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

static void
test_round_trip_and_verify(void **state)
{
	struct kmfa_proof *p = NULL;
	uint8_t up_cdh[32], tok_cdh[32], flags;
	uint32_t count;
	char *b = good_bearer(1700000000, TOKEN);

	(void)state;
	assert_int_equal(strncmp(b, "kmfa-proof1.", 12), 0);
	assert_int_equal(kmfa_proof_parse(b, strlen(b), &p), KMFA_OK);
	assert_string_equal(p->id_token, TOKEN);
	assert_string_equal(p->ctx_issuer, ISS);
	assert_string_equal(p->ctx_client_id, "kubectl");
	assert_int_equal(p->ctx_time, 1700000000);
	assert_int_equal(p->cred_id_len, 16);
	kmfa_proof_up_cdh(p->nonce, p->ctx, up_cdh);
	assert_int_equal(kmfa_proof_verify_sig(pk, sizeof(pk), KMFA_FIDO2_RP_ID,
	    up_cdh, &p->up, &flags, &count), KMFA_OK);
	assert_int_equal(flags, 0x01);
	assert_int_equal(count, 7);
	kmfa_proof_token_cdh(p->id_token, strlen(p->id_token), up_cdh, tok_cdh);
	assert_int_equal(kmfa_proof_verify_sig(pk, sizeof(pk), KMFA_FIDO2_RP_ID,
	    tok_cdh, &p->tok, &flags, &count), KMFA_OK);
	assert_int_equal(flags, 0);
	assert_int_equal(count, 8);
	/* Another rp id, another clientDataHash, a changed signature. */
	assert_int_equal(kmfa_proof_verify_sig(pk, sizeof(pk), "example.com",
	    tok_cdh, &p->tok, &flags, &count), KMFA_ERR_TOKEN);
	assert_int_equal(kmfa_proof_verify_sig(pk, sizeof(pk), KMFA_FIDO2_RP_ID,
	    up_cdh, &p->tok, &flags, &count), KMFA_ERR_TOKEN);
	p->tok.sig[p->tok.sig_len - 2] ^= 1;
	assert_int_equal(kmfa_proof_verify_sig(pk, sizeof(pk), KMFA_FIDO2_RP_ID,
	    tok_cdh, &p->tok, &flags, &count), KMFA_ERR_TOKEN);
	kmfa_proof_free(&p);
	assert_null(p);
	free(b);
}

static void
test_proof_over_another_token_does_not_verify(void **state)
{
	struct kmfa_proof *p = NULL;
	uint8_t up_cdh[32], tok_cdh[32], flags;
	uint32_t count;
	char *b = good_bearer(1700000000, TOKEN "x");

	(void)state;
	assert_int_equal(kmfa_proof_parse(b, strlen(b), &p), KMFA_OK);
	kmfa_proof_up_cdh(p->nonce, p->ctx, up_cdh);
	kmfa_proof_token_cdh(p->id_token, strlen(p->id_token), up_cdh, tok_cdh);
	assert_int_equal(kmfa_proof_verify_sig(pk, sizeof(pk), KMFA_FIDO2_RP_ID,
	    tok_cdh, &p->tok, &flags, &count), KMFA_ERR_TOKEN);
	kmfa_proof_free(&p);
	free(b);
}

static void
test_cdh_binds_token_and_touch(void **state)
{
	uint8_t n1[32] = { 1 }, n2[32] = { 2 }, a[32], b[32], c[32], d[32];

	(void)state;
	kmfa_proof_up_cdh(n1, "ctx", a);
	kmfa_proof_up_cdh(n2, "ctx", b);
	assert_memory_not_equal(a, b, 32);
	kmfa_proof_token_cdh("t1", 2, a, c);
	kmfa_proof_token_cdh("t2", 2, a, d);
	assert_memory_not_equal(c, d, 32);
	kmfa_proof_token_cdh("t1", 2, b, d);
	assert_memory_not_equal(c, d, 32);
}

static void
test_context(void **state)
{
	char *c = NULL;

	(void)state;
	assert_int_equal(kmfa_proof_context(ISS, "k", 42, &c), KMFA_OK);
	assert_string_equal(c, KMFA_PROOF_CTX_TAG "\n" ISS "\nk\n42");
	free(c);
	assert_int_equal(kmfa_proof_context("a\nb", "k", 42, &c),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_proof_context(ISS, "", 42, &c), KMFA_ERR_USAGE);
}

/* A bearer whose proof JSON is json (the token part is TOKEN). */
static char *
with_json(const char *json)
{
	char *t = NULL, *j = NULL, *b = NULL;

	assert_int_equal(kmfa_b64url_encode((const uint8_t *)TOKEN,
	    strlen(TOKEN), &t), KMFA_OK);
	assert_int_equal(kmfa_b64url_encode((const uint8_t *)json,
	    strlen(json), &j), KMFA_OK);
	assert_true(kmfa_asprintf(&b, "kmfa-proof1.%s.%s", t, j) > 0);
	free(t);
	free(j);
	return b;
}

static void
test_malformed_bearers(void **state)
{
	static const char *const bad[] = {
		"kmfa-proof1.",
		"kmfa-proof1.abc",
		"kmfa-proof1.abc.def.ghi",
		"kmfa-proof1.a*c.def",
		"kmfa-proof1..",
	};
	static const char *const bad_json[] = {
		"{}",
		"[]",
		"{\"v\":2}",
		"{\"v\":1,\"cred\":\"AA\",\"extra\":1}",
		"{\"v\":1,\"v\":1}",
		"{\"v\":1,\"cred\":5,\"nonce\":\"AA\",\"ctx\":\"AA\","
		    "\"up_ad\":\"AA\",\"up_sig\":\"AA\",\"tok_ad\":\"AA\","
		    "\"tok_sig\":\"AA\"}",
		/* A nonce of one byte. */
		"{\"v\":1,\"cred\":\"AA\",\"nonce\":\"AA\",\"ctx\":\"AA\","
		    "\"up_ad\":\"AA\",\"up_sig\":\"AA\",\"tok_ad\":\"AA\","
		    "\"tok_sig\":\"AA\"}",
		/* A context that is not of the kmfa-proof1 form ("x"). */
		"{\"v\":1,\"cred\":\"AA\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAA\",\"ctx\":\"eA\",\"up_ad\":\"AA\","
		    "\"up_sig\":\"AA\",\"tok_ad\":\"AA\",\"tok_sig\":\"AA\"}",
	};
	struct kmfa_proof *p = NULL;
	char *b;

	(void)state;
	assert_int_equal(kmfa_proof_parse(TOKEN, strlen(TOKEN), &p),
	    KMFA_ERR_NOTFOUND);
	assert_int_equal(kmfa_proof_parse("kmfa", 4, &p), KMFA_ERR_NOTFOUND);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kmfa_proof_parse(bad[i], strlen(bad[i]), &p),
		    KMFA_ERR_TOKEN);
		assert_null(p);
	}
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		b = with_json(bad_json[i]);
		assert_int_equal(kmfa_proof_parse(b, strlen(b), &p),
		    KMFA_ERR_TOKEN);
		assert_null(p);
		free(b);
	}
	/* Over the bound: refused before decoding. */
	b = calloc(1, KMFA_PROOF_BEARER_MAX + 16);
	assert_non_null(b);
	memcpy(b, "kmfa-proof1.", 12);
	memset(b + 12, 'A', KMFA_PROOF_BEARER_MAX - 10);
	assert_int_equal(kmfa_proof_parse(b, strlen(b), &p), KMFA_ERR_TOKEN);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_verify),
		cmocka_unit_test(test_proof_over_another_token_does_not_verify),
		cmocka_unit_test(test_cdh_binds_token_and_touch),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_malformed_bearers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

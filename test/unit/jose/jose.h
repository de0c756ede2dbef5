/*
 * Test fixture for the JOSE unit tests (jwk.c, jwt.c): fresh keys made
 * with EVP_PKEY_Q_keygen, their JWK JSON, and tokens signed here, so that
 * no golden key or token is pasted into the tree.  Signing mirrors what an
 * issuer does, independently of lib/jose/jwt.c's verifying code: EVP_DigestSign,
 * and DER ECDSA signatures turned into JOSE r || s by hand.
 */
#ifndef KMFA_TEST_JOSE_H
#define KMFA_TEST_JOSE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/util.h"

#define JOSE_UNUSED __attribute__((unused))

/* Abort the test binary on fixture failure: that is a broken test. */
#define JOSE_CHECK(x) do { \
	if (!(x)) { \
		fprintf(stderr, "%s:%d: fixture: %s\n", __FILE__, __LINE__, #x); \
		abort(); \
	} \
} while (0)

static JOSE_UNUSED EVP_PKEY *
jose_rsa(unsigned bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	JOSE_CHECK(k != NULL);
	return k;
}

static JOSE_UNUSED EVP_PKEY *
jose_ec(const char *group)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);

	JOSE_CHECK(k != NULL);
	return k;
}

static JOSE_UNUSED char *
jose_b64url(const void *p, size_t n)
{
	char *s = NULL;

	JOSE_CHECK(kmfa_b64url_encode(p, n, &s) == 0);
	return s;
}

static JOSE_UNUSED char *
jose_b64url_str(const char *s)
{
	return jose_b64url(s, strlen(s));
}

static JOSE_UNUSED char *
jose_bn_b64url(const BIGNUM *bn, size_t pad)
{
	size_t n = pad != 0 ? pad : (size_t)BN_num_bytes(bn);
	uint8_t *buf = malloc(n + 1);
	char *s;

	JOSE_CHECK(buf != NULL);
	JOSE_CHECK(BN_bn2binpad(bn, buf, (int)n) == (int)n);
	s = jose_b64url(buf, n);
	free(buf);
	return s;
}

static JOSE_UNUSED size_t
jose_field_len(const char *crv)
{
	return strcmp(crv, "P-256") == 0 ? 32 : strcmp(crv, "P-384") == 0 ?
	    48 : 66;
}

/*
 * The public JWK of k as a JSON object.  kid NULL leaves kid out; extra,
 * if not NULL, is spliced in as further members ("\"use\":\"sig\",").
 */
static JOSE_UNUSED char *
jose_jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
	struct kmfa_buf b = { 0 };
	char kidm[128] = "";

	if (kid != NULL)
		(void)snprintf(kidm, sizeof(kidm), "\"kid\":\"%s\",", kid);
	if (EVP_PKEY_is_a(k, "RSA")) {
		BIGNUM *n = NULL, *e = NULL;
		char *n64, *e64;

		JOSE_CHECK(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n));
		JOSE_CHECK(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e));
		n64 = jose_bn_b64url(n, 0);
		e64 = jose_bn_b64url(e, 0);
		JOSE_CHECK(kmfa_buf_printf(&b, "{\"kty\":\"RSA\",%s%s\"n\":\"%s\","
		    "\"e\":\"%s\"}", kidm, extra ? extra : "", n64, e64) == 0);
		free(n64);
		free(e64);
		BN_free(n);
		BN_free(e);
	} else {
		char group[32];
		const char *crv;
		BIGNUM *x = NULL, *y = NULL;
		char *x64, *y64;

		JOSE_CHECK(EVP_PKEY_get_group_name(k, group, sizeof(group),
		    NULL) == 1);
		crv = strcmp(group, "prime256v1") == 0 ? "P-256" :
		    strcmp(group, "secp384r1") == 0 ? "P-384" : "P-521";
		JOSE_CHECK(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x));
		JOSE_CHECK(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
		x64 = jose_bn_b64url(x, jose_field_len(crv));
		y64 = jose_bn_b64url(y, jose_field_len(crv));
		JOSE_CHECK(kmfa_buf_printf(&b, "{\"kty\":\"EC\",%s%s\"crv\":\"%s\","
		    "\"x\":\"%s\",\"y\":\"%s\"}", kidm, extra ? extra : "", crv,
		    x64, y64) == 0);
		free(x64);
		free(y64);
		BN_free(x);
		BN_free(y);
	}
	return b.data;
}

/* {"keys":[jwk, ...]} from a NULL-terminated list of JWK objects. */
static JOSE_UNUSED char *
jose_jwks(const char *const *jwks)
{
	struct kmfa_buf b = { 0 };

	JOSE_CHECK(kmfa_buf_printf(&b, "{\"keys\":[") == 0);
	for (size_t i = 0; jwks[i] != NULL; i++)
		JOSE_CHECK(kmfa_buf_printf(&b, "%s%s", i ? "," : "",
		    jwks[i]) == 0);
	JOSE_CHECK(kmfa_buf_printf(&b, "]}") == 0);
	return b.data;
}

static JOSE_UNUSED const char *
jose_digest(const char *alg)
{
	return strcmp(alg + 2, "256") == 0 ? "SHA256" :
	    strcmp(alg + 2, "384") == 0 ? "SHA384" : "SHA512";
}

/*
 * Sign in with k under alg (RS*, PS*, ES*).  ES* signatures are JOSE
 * r || s unless der is set, which keeps OpenSSL's DER (a bug to test).
 */
static JOSE_UNUSED void
jose_sign(EVP_PKEY *k, const char *alg, const char *in, int der,
    uint8_t **sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 0;
	uint8_t *buf;

	JOSE_CHECK(md != NULL);
	JOSE_CHECK(EVP_DigestSignInit_ex(md, &pctx, jose_digest(alg), NULL,
	    NULL, k, NULL) == 1);
	if (alg[0] == 'P') {
		JOSE_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1);
		JOSE_CHECK(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1);
	}
	JOSE_CHECK(EVP_DigestSign(md, NULL, &n, (const uint8_t *)in,
	    strlen(in)) == 1);
	JOSE_CHECK((buf = malloc(n)) != NULL);
	JOSE_CHECK(EVP_DigestSign(md, buf, &n, (const uint8_t *)in,
	    strlen(in)) == 1);
	EVP_MD_CTX_free(md);
	if (alg[0] == 'E' && !der) {
		const uint8_t *p = buf;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
		/* The key's size, not the alg's: tests mismatch them on purpose. */
		size_t fl = ((size_t)EVP_PKEY_get_bits(k) + 7) / 8;
		uint8_t *raw = malloc(2 * fl);

		JOSE_CHECK(es != NULL && raw != NULL);
		JOSE_CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)fl) ==
		    (int)fl);
		JOSE_CHECK(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + fl,
		    (int)fl) == (int)fl);
		ECDSA_SIG_free(es);
		free(buf);
		buf = raw;
		n = 2 * fl;
	}
	*sig = buf;
	*siglen = n;
}

/* header.payload, both JSON texts, base64url-encoded and joined. */
static JOSE_UNUSED char *
jose_signing_input(const char *header, const char *payload)
{
	char *h = jose_b64url_str(header), *p = jose_b64url_str(payload), *s;

	JOSE_CHECK(kmfa_asprintf(&s, "%s.%s", h, p) > 0);
	free(h);
	free(p);
	return s;
}

/* A compact JWS of header and payload signed with k under alg. */
static JOSE_UNUSED char *
jose_token(EVP_PKEY *k, const char *alg, const char *header,
    const char *payload, int der)
{
	char *in = jose_signing_input(header, payload), *sig64, *tok;
	uint8_t *sig;
	size_t siglen;

	jose_sign(k, alg, in, der, &sig, &siglen);
	sig64 = jose_b64url(sig, siglen);
	JOSE_CHECK(kmfa_asprintf(&tok, "%s.%s", in, sig64) > 0);
	free(sig);
	free(sig64);
	free(in);
	return tok;
}

/* The SubjectPublicKeyInfo PEM of k, as an attacker would fetch it. */
static JOSE_UNUSED char *
jose_public_pem(EVP_PKEY *k)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *s;
	long n;

	JOSE_CHECK(bio != NULL && PEM_write_bio_PUBKEY(bio, k) == 1);
	n = BIO_get_mem_data(bio, &data);
	JOSE_CHECK(n > 0 && (s = strndup(data, (size_t)n)) != NULL);
	BIO_free(bio);
	return s;
}

#endif

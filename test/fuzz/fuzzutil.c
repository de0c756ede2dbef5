/*
 * Helpers for the harnesses and the seed generator.  Signing lives here,
 * not in lib/, because the plugin only ever verifies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sanitizer/common_interface_defs.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/util.h"
#include "fuzzutil.h"

void
fz_die(const char *what)
{
	char line[256];

	/* The runner closes stderr; the sanitizer's report channel stays. */
	(void)snprintf(line, sizeof(line), "fuzz invariant broken: %s", what);
	__sanitizer_report_error_summary(line);
	fprintf(stderr, "%s\n", line);
	abort();
}

void
fz_master_key(uint8_t mk[32])
{
	for (size_t i = 0; i < 32; i++)
		mk[i] = (uint8_t)(0xa5 ^ (i * 7));
}

char *
fz_cstr(const uint8_t *data, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

int
fz_keygen(EVP_PKEY **rsa, EVP_PKEY **ec)
{
	*rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	*ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return *rsa != NULL && *ec != NULL ? 0 : -1;
}

/* A big-number parameter of key as base64url of width bytes (0: minimal). */
static char *
bn_b64(EVP_PKEY *key, const char *param, int width)
{
	BIGNUM *bn = NULL;
	uint8_t buf[1024];
	char *s = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
		return NULL;
	n = width > 0 ? width : BN_num_bytes(bn);
	if (n <= (int)sizeof(buf) && BN_bn2binpad(bn, buf, n) == n)
		(void)kmfa_b64url_encode(buf, (size_t)n, &s);
	BN_free(bn);
	return s;
}

int
fz_jwks(EVP_PKEY *rsa, EVP_PKEY *ec, char **out)
{
	char *n = bn_b64(rsa, OSSL_PKEY_PARAM_RSA_N, 0);
	char *e = bn_b64(rsa, OSSL_PKEY_PARAM_RSA_E, 0);
	char *x = bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	char *y = bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	int r = -1;

	*out = NULL;
	if (n != NULL && e != NULL && x != NULL && y != NULL &&
	    kmfa_asprintf(out, "{\"keys\":["
	    "{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"use\":\"sig\","
	    "\"n\":\"%s\",\"e\":\"%s\"},"
	    "{\"kty\":\"EC\",\"kid\":\"ec-1\",\"use\":\"sig\",\"alg\":\"ES256\","
	    "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", n, e, x, y) >= 0)
		r = 0;
	free(n);
	free(e);
	free(x);
	free(y);
	return r;
}

/* RFC 7518 §3.4: JWS carries ECDSA as r || s, each field_len bytes. */
static int
der_to_raw(const uint8_t *der, size_t len, size_t field_len, uint8_t *raw)
{
	const uint8_t *p = der;
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;
	int ok;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, (int)field_len) == (int)field_len &&
	    BN_bn2binpad(s, raw + field_len, (int)field_len) == (int)field_len;
	ECDSA_SIG_free(sig);
	return ok ? 0 : -1;
}

static int
sign_input(EVP_PKEY *key, const struct kmfa_jws_alg *alg, const char *in,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t der[1024];
	size_t derlen = sizeof(der);
	int r = -1;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(md, &pctx, alg->digest, NULL, NULL, key,
	    NULL) != 1)
		goto out;
	if (alg->kind == KMFA_JWS_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) !=
	    1))
		goto out;
	if (EVP_DigestSign(md, der, &derlen, (const uint8_t *)in,
	    strlen(in)) != 1)
		goto out;
	if (alg->kind == KMFA_JWS_ECDSA) {
		if (der_to_raw(der, derlen, alg->field_len, sig) != 0)
			goto out;
		*siglen = 2 * alg->field_len;
	} else {
		memcpy(sig, der, derlen);
		*siglen = derlen;
	}
	r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

int
fz_sign(EVP_PKEY *key, const struct kmfa_jws_alg *alg, const char *header,
    size_t hlen, const char *payload, size_t plen, char **out)
{
	char *h = NULL, *p = NULL, *in = NULL, *s = NULL;
	uint8_t sig[1024];
	size_t siglen = 64;
	int r = -1;

	*out = NULL;
	memset(sig, 0, sizeof(sig));
	if (kmfa_b64url_encode((const uint8_t *)header, hlen, &h) != KMFA_OK ||
	    kmfa_b64url_encode((const uint8_t *)payload, plen, &p) != KMFA_OK ||
	    kmfa_asprintf(&in, "%s.%s", h, p) < 0)
		goto out;
	/* A key that cannot sign under alg (P-256 for ES512) leaves zeros. */
	if (alg != NULL && sign_input(key, alg, in, sig, &siglen) != 0) {
		memset(sig, 0, sizeof(sig));
		siglen = 2 * (alg->field_len ? alg->field_len : 128);
	}
	if (kmfa_b64url_encode(sig, siglen, &s) != KMFA_OK ||
	    kmfa_asprintf(out, "%s.%s", in, s) < 0)
		goto out;
	r = 0;
out:
	free(h);
	free(p);
	free(in);
	free(s);
	return r;
}

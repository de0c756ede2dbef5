/*
 * Cryptography for the software key, on OpenSSL 3 EVP interfaces only (the
 * EC_KEY and HMAC_CTX interfaces are deprecated there, and the build turns
 * deprecation warnings into errors).  P-256 keys travel as private scalars;
 * an EVP_PKEY is built from one for each operation.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "crypto.h"

int
crypto_random(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return -1;
	return 0;
}

void
crypto_wipe(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}

int
crypto_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	return 0;
}

int
crypto_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
    size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (key_len > INT32_MAX || HMAC(EVP_sha256(), key, (int)key_len,
	    data, len, out, &n) == NULL || n != 32)
		return -1;
	return 0;
}

int
crypto_aes256_cbc(const uint8_t key[32], bool encrypt, const uint8_t *in,
    size_t len, uint8_t *out)
{
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0;
	int r = -1;

	if (len % 16 != 0 || len > INT32_MAX)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv,
	    encrypt ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != len)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

static int
gcm(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[16], bool seal)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0;
	int r = -1;

	if (len > INT32_MAX || aad_len > INT32_MAX)
		goto out;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv,
	    seal ? 1 : 0) != 1)
		goto out;
	if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad,
	    (int)aad_len) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
	    tag) != 1)
		goto out;
	/* on opening, Final is where the tag is checked */
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1)
		goto out;
	if (seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    tag) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
crypto_gcm_seal(const uint8_t key[32], const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[16])
{
	return gcm(key, iv, aad, aad_len, in, len, out, tag, true);
}

int
crypto_gcm_open(const uint8_t key[32], const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    const uint8_t tag[16], uint8_t *out)
{
	uint8_t t[16];

	memcpy(t, tag, sizeof(t));
	return gcm(key, iv, aad, aad_len, in, len, out, t, false);
}

/* priv as a BIGNUM, checked to lie in [1, n-1]. */
static BIGNUM *
scalar(const EC_GROUP *g, const uint8_t priv[32])
{
	BIGNUM *d;

	if ((d = BN_bin2bn(priv, 32, NULL)) == NULL)
		return NULL;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0) {
		BN_clear_free(d);
		return NULL;
	}
	return d;
}

int
crypto_p256_generate(uint8_t priv[32])
{
	EC_GROUP *g = NULL;
	BIGNUM *d = NULL;
	int r = -1;

	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL)
		goto out;
	/* rejection sampling: fails with probability ~2^-32 per round */
	for (int i = 0; i < 64 && d == NULL; i++) {
		if (RAND_priv_bytes(priv, 32) != 1)
			goto out;
		d = scalar(g, priv);
	}
	if (d == NULL)
		goto out;
	r = 0;
out:
	BN_clear_free(d);
	EC_GROUP_free(g);
	return r;
}

/* The uncompressed point (0x04 || x || y) of priv. */
static int
public_point(const EC_GROUP *g, const BIGNUM *d, uint8_t pub[65])
{
	EC_POINT *p = NULL;
	int r = -1;

	if ((p = EC_POINT_new(g)) == NULL ||
	    EC_POINT_mul(g, p, d, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub, 65,
	    NULL) != 65)
		goto out;
	r = 0;
out:
	EC_POINT_free(p);
	return r;
}

/* An EVP_PKEY from a private scalar (with its public half) or a point. */
static EVP_PKEY *
make_pkey(const uint8_t *priv, const uint8_t pub_in[65])
{
	EC_GROUP *g = NULL;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	EC_POINT *check = NULL;
	uint8_t pub[65];

	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL)
		goto out;
	if (priv != NULL) {
		if ((d = scalar(g, priv)) == NULL ||
		    public_point(g, d, pub) < 0)
			goto out;
	} else {
		/* oct2point refuses points that are not on the curve */
		memcpy(pub, pub_in, sizeof(pub));
		if ((check = EC_POINT_new(g)) == NULL ||
		    EC_POINT_oct2point(g, check, pub, sizeof(pub), NULL) != 1)
			goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, sizeof(pub)) != 1 ||
	    (d != NULL && OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_PRIV_KEY, d) != 1) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, d != NULL ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, params) != 1) {
		pkey = NULL;
		goto out;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(check);
	BN_clear_free(d);
	EC_GROUP_free(g);
	return pkey;
}

int
crypto_p256_public(const uint8_t priv[32], uint8_t x[32], uint8_t y[32])
{
	EC_GROUP *g = NULL;
	BIGNUM *d = NULL;
	uint8_t pub[65];
	int r = -1;

	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (d = scalar(g, priv)) == NULL || public_point(g, d, pub) < 0)
		goto out;
	memcpy(x, pub + 1, 32);
	memcpy(y, pub + 33, 32);
	r = 0;
out:
	BN_clear_free(d);
	EC_GROUP_free(g);
	return r;
}

int
crypto_p256_sign(const uint8_t priv[32], const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	size_t n = SK_ECDSA_SIG_MAX;
	int r = -1;

	if ((pkey = make_pkey(priv, NULL)) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, sig, &n, msg, len) != 1)
		goto out;
	*sig_len = n;
	r = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return r;
}

int
crypto_p256_ecdh(const uint8_t priv[32], const uint8_t x[32],
    const uint8_t y[32], uint8_t z[32])
{
	EVP_PKEY *self = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t pub[65];
	size_t n = 32;
	int r = -1;

	pub[0] = 0x04;
	memcpy(pub + 1, x, 32);
	memcpy(pub + 33, y, 32);
	if ((self = make_pkey(priv, NULL)) == NULL ||
	    (peer = make_pkey(NULL, pub)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(self, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, z, &n) != 1 || n != 32)
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(self);
	return r;
}

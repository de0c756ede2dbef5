/*
 * The issuer's JWKS, which comes from the network as much as the token
 * does.  The first byte picks the mode:
 *
 *   even: the second byte picks an allow-listed alg; the rest is
 *         "kid \0 JWKS" (an empty kid means the token named none) for
 *         kmfa_jwk_find;
 *   odd:  the rest is "token \0 JWKS" for kmfa_jwt_verify, so a seed made
 *         of a real token and the JWKS that signed it reaches the claim
 *         checks.  A success must satisfy the rules of jwt.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "fuzzutil.h"
#include "jose/jwk.h"
#include "jose/jwt.h"

static const char *const algs[] = {
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

static void
find_mode(const uint8_t *data, size_t size)
{
	const struct kmfa_jws_alg *alg;
	const uint8_t *nul;
	EVP_PKEY *key = NULL;
	char *kid = NULL;
	size_t klen;

	if (size < 1)
		return;
	if ((alg = kmfa_jwk_alg_lookup(algs[data[0] % (sizeof(algs) /
	    sizeof(algs[0]))])) == NULL)
		fz_die("an allow-listed alg is not found");
	data++;
	size--;
	nul = memchr(data, '\0', size);
	klen = nul != NULL ? (size_t)(nul - data) : 0;
	if (nul != NULL) {
		if ((kid = fz_cstr(data, klen)) == NULL)
			return;
		data += klen + 1;
		size -= klen + 1;
	}
	if (kmfa_jwk_find((const char *)data, size, klen > 0 ? kid : NULL,
	    alg, &key) == KMFA_OK && key == NULL)
		fz_die("kmfa_jwk_find succeeded without a key");
	EVP_PKEY_free(key);
	free(kid);
}

static void
verify_mode(const uint8_t *data, size_t size)
{
	struct kmfa_jwt_expect want = {
		.issuer = FZ_ISSUER,
		.client_id = FZ_CLIENT,
		.now = FZ_NOW,
		.leeway = FZ_LEEWAY,
	};
	struct kmfa_jwt_claims *c = NULL;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul != NULL ? (size_t)(nul - data) : size;
	char *token;
	int aud = 0;

	if ((token = fz_cstr(data, tlen)) == NULL)
		return;
	data += tlen;
	size -= tlen;
	if (size > 0) {
		data++;
		size--;
	}
	if (kmfa_jwt_verify(token, (const char *)data, size, &want, &c) ==
	    KMFA_OK) {
		if (c == NULL || c->iss == NULL ||
		    strcmp(c->iss, FZ_ISSUER) != 0 || c->exp <= FZ_NOW)
			fz_die("accepted a token that breaks the rules");
		for (size_t i = 0; i < c->naud; i++)
			if (strcmp(c->aud[i], FZ_CLIENT) == 0)
				aud = 1;
		if (!aud)
			fz_die("accepted a token for another audience");
	}
	kmfa_jwt_claims_free(&c);
	free(token);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > KMFA_JWKS_MAX + KMFA_JWT_MAX)
		return 0;
	if (data[0] & 1)
		verify_mode(data + 1, size - 1);
	else
		find_mode(data + 1, size - 1);
	kmfa_report_clear();
	return 0;
}

/*
 * ID token validation.  The first byte picks the mode:
 *
 *   even: the rest is a compact token, checked against a JWKS of keys made
 *         in LLVMFuzzerInitialize.  No input can know those keys, so a
 *         success here is a forged signature and aborts.  The same token
 *         goes through kmfa_jwt_peek_claims.
 *   odd:  the rest is "header JSON \0 payload JSON"; the harness signs it
 *         with the key that suits the header's alg and verifies, so that
 *         mutations reach the claim checks behind the signature.  A success
 *         must satisfy every rule of jwt.h, checked again here.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "fuzzutil.h"
#include "jose/jwk.h"
#include "jose/jwt.h"

static EVP_PKEY *rsa, *ec;
static char *jwks;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	if (fz_keygen(&rsa, &ec) != 0 || fz_jwks(rsa, ec, &jwks) != 0)
		fz_die("cannot make the JWKS");
	return 0;
}

static void
check_accepted(const struct kmfa_jwt_claims *c)
{
	int aud = 0;

	if (c->iss == NULL || strcmp(c->iss, FZ_ISSUER) != 0)
		fz_die("accepted a token from another issuer");
	if (c->sub == NULL)
		fz_die("accepted a token without sub");
	for (size_t i = 0; i < c->naud; i++)
		if (c->aud[i] != NULL && strcmp(c->aud[i], FZ_CLIENT) == 0)
			aud = 1;
	if (!aud)
		fz_die("accepted a token for another audience");
	if (c->exp <= FZ_NOW)
		fz_die("accepted an expired token");
	if (c->nbf > FZ_NOW + FZ_LEEWAY || c->iat > FZ_NOW + FZ_LEEWAY)
		fz_die("accepted a token from the future");
}

static int
verify(const char *token, struct kmfa_jwt_claims **c)
{
	struct kmfa_jwt_expect want = {
		.issuer = FZ_ISSUER,
		.client_id = FZ_CLIENT,
		.now = FZ_NOW,
		.leeway = FZ_LEEWAY,
	};

	return kmfa_jwt_verify(token, jwks, strlen(jwks), &want, c);
}

/* The alg the header asks for, when the header is JSON that says one. */
static const struct kmfa_jws_alg *
header_alg(const char *header, size_t len)
{
	const struct kmfa_jws_alg *alg = NULL;
	cJSON *h = cJSON_ParseWithLength(header, len);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(h, "alg");

	if (cJSON_IsString(a))
		alg = kmfa_jwk_alg_lookup(a->valuestring);
	cJSON_Delete(h);
	return alg;
}

static void
signed_mode(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	const char *header = (const char *)data;
	size_t hlen = nul != NULL ? (size_t)(nul - data) : size;
	const char *payload = nul != NULL ? (const char *)nul + 1 : "";
	size_t plen = nul != NULL ? size - hlen - 1 : 0;
	const struct kmfa_jws_alg *alg = header_alg(header, hlen);
	struct kmfa_jwt_claims *c = NULL;
	char *token = NULL;

	if (fz_sign(alg != NULL && alg->kind != KMFA_JWS_ECDSA ? rsa : ec,
	    alg, header, hlen, payload, plen, &token) != 0)
		goto out;
	if (verify(token, &c) == KMFA_OK)
		check_accepted(c);
out:
	kmfa_jwt_claims_free(&c);
	free(token);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_jwt_claims *c = NULL;
	char *token;

	if (size < 1 || size > 2 * KMFA_JWT_MAX)
		return 0;
	if (data[0] & 1) {
		signed_mode(data + 1, size - 1);
	} else if ((token = fz_cstr(data + 1, size - 1)) != NULL) {
		if (verify(token, &c) == KMFA_OK)
			fz_die("accepted a token no key of ours signed");
		kmfa_jwt_claims_free(&c);
		kmfa_report_clear();
		if (kmfa_jwt_peek_claims(token, &c) == KMFA_OK && c == NULL)
			fz_die("peek succeeded without claims");
		kmfa_jwt_claims_free(&c);
		free(token);
	}
	kmfa_report_clear();
	return 0;
}

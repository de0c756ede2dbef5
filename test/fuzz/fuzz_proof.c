/*
 * The server proof's bearer (lib/key/proof.h), as the webhook reads it
 * from every TokenReview: parsing must be total and bounded, what parses
 * must hold to the parser's promises (sizes, a context of the kmfa-proof1
 * form), encode again to the same bearer's fields, and go through the
 * assertion verifier (libfido2's authData parsing) without harm.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "fuzzutil.h"
#include "key/credfile.h"
#include "key/proof.h"

static uint8_t pk[KMFA_ES256_PK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *k;
	uint8_t pub[65];
	size_t n = 0;

	(void)argc;
	(void)argv;
	kmfa_json_init();
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    sizeof(pub), &n) != 1 || n != 65)
		fz_die("no P-256 key");
	memcpy(pk, pub + 1, sizeof(pk));
	EVP_PKEY_free(k);
	return 0;
}

static struct kmfa_fido2_evidence
as_evidence(const struct kmfa_proof *p, const struct kmfa_proof_sig *s)
{
	struct kmfa_fido2_evidence e;

	memset(&e, 0, sizeof(e));
	memcpy(e.nonce, p->nonce, sizeof(e.nonce));
	e.cred_id = p->cred_id;
	e.cred_id_len = p->cred_id_len;
	e.authdata = s->authdata;
	e.authdata_len = s->authdata_len;
	e.sig = s->sig;
	e.sig_len = s->sig_len;
	return e;
}

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_proof *p = NULL, *q = NULL;
	struct kmfa_fido2_evidence up, tok;
	uint8_t cdh[32], flags;
	uint32_t count;
	char *b = NULL;

	if (kmfa_proof_parse((const char *)data, size, &p) != KMFA_OK) {
		if (p != NULL)
			fz_die("a refused bearer left a proof behind");
		kmfa_report_clear();
		return 0;
	}
	if (size > KMFA_PROOF_BEARER_MAX || p->id_token[0] == '\0' ||
	    p->cred_id_len == 0 || p->cred_id_len > KMFA_CRED_ID_MAX ||
	    p->up.authdata_len > KMFA_PROOF_AUTHDATA_MAX ||
	    p->tok.sig_len > KMFA_PROOF_SIG_MAX ||
	    strchr(p->ctx_issuer, '\n') != NULL || p->ctx_time < 0)
		fz_die("a bearer parsed beyond the parser's bounds");
	up = as_evidence(p, &p->up);
	tok = as_evidence(p, &p->tok);
	if (kmfa_proof_encode(p->id_token, p->ctx, &up, &tok, &b) != KMFA_OK ||
	    kmfa_proof_parse(b, strlen(b), &q) != KMFA_OK)
		fz_die("a parsed bearer does not encode and parse again");
	if (strcmp(p->id_token, q->id_token) != 0 ||
	    strcmp(p->ctx, q->ctx) != 0 || p->ctx_time != q->ctx_time ||
	    memcmp(p->nonce, q->nonce, sizeof(p->nonce)) != 0 ||
	    !same(p->cred_id, p->cred_id_len, q->cred_id, q->cred_id_len) ||
	    !same(p->up.authdata, p->up.authdata_len, q->up.authdata,
	    q->up.authdata_len) ||
	    !same(p->tok.sig, p->tok.sig_len, q->tok.sig, q->tok.sig_len))
		fz_die("a bearer does not round-trip");
	kmfa_proof_up_cdh(p->nonce, p->ctx, cdh);
	(void)kmfa_proof_verify_sig(pk, sizeof(pk), KMFA_FIDO2_RP_ID, cdh,
	    &p->up, &flags, &count);
	(void)kmfa_proof_verify_sig(pk, sizeof(pk), KMFA_FIDO2_RP_ID, cdh,
	    &p->tok, &flags, &count);
	kmfa_proof_free(&p);
	kmfa_proof_free(&q);
	free(b);
	kmfa_report_clear();
	return 0;
}

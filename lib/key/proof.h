/*
 * The server proof (docs/DESIGN.md, "Server proof"): the bearer the plugin
 * prints under --server-proof instead of the bare ID token, so that a
 * TokenReview webhook (webhook/) can check that a registered security key
 * was touched for this very token.
 *
 *   kmfa-proof1.<b64url(ID token)>.<b64url(proof JSON)>
 *
 * The proof JSON holds the credential id, the touch's challenge preimage
 * (a nonce and a context naming issuer, client id and the touch's time),
 * the touch's assertion (authenticator data and signature, UP set), and a
 * second, silent assertion (up=false) by the same credential over
 *
 *   SHA-256("kubectl-mfa token proof v1" || 0 || SHA-256(ID token) ||
 *           clientDataHash of the touch)
 *
 * made right after the token arrived, so that the person touches once.
 * This module owns the format (encoding, the one strict parser the webhook
 * and the fuzzer use), the two clientDataHash constructions, the silent
 * assertion, and the verification of one assertion against a public key.
 * Nothing in a proof is secret beyond the ID token it carries.
 */
#ifndef KMFA_PROOF_H
#define KMFA_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "key/fido2_assert.h"
#include "key/fido2_touch.h"
#include "token/config.h"

#define KMFA_PROOF_PREFIX	"kmfa-proof1."
#define KMFA_PROOF_CTX_TAG	"kubectl-mfa server-proof v1"
#define KMFA_PROOF_TOKEN_TAG	"kubectl-mfa token proof v1"
/* A bearer longer than this is refused before any decoding. */
#define KMFA_PROOF_BEARER_MAX	(64 * 1024)
/* The proof JSON, decoded. */
#define KMFA_PROOF_JSON_MAX	(8 * 1024)
/* Authenticator data: 37 bytes and the extensions we ask for. */
#define KMFA_PROOF_AUTHDATA_MAX	1024
#define KMFA_PROOF_SIG_MAX	256
#define KMFA_PROOF_CTX_MAX	2048

#define KMFA_PROOF_FLAG_UP	0x01
#define KMFA_PROOF_FLAG_UV	0x04

struct kmfa_proof_sig {
	uint8_t *authdata;	/* CBOR byte string, as libfido2 takes it */
	size_t authdata_len;
	uint8_t *sig;
	size_t sig_len;
};

/* A parsed bearer.  Nothing is verified by parsing. */
struct kmfa_proof {
	char *id_token;		/* secret */
	uint8_t *cred_id;
	size_t cred_id_len;
	char *ctx;		/* the touch's context string */
	uint8_t nonce[32];
	struct kmfa_proof_sig up;	/* the touch */
	struct kmfa_proof_sig tok;	/* the silent assertion over the token */
	/* From ctx: */
	char *ctx_issuer;
	char *ctx_client_id;
	int64_t ctx_time;	/* when the touch was asked for, epoch seconds */
};

/*
 * The context a touch binds into its challenge for a proof:
 * KMFA_PROOF_CTX_TAG "\n" issuer "\n" client_id "\n" t (decimal).  Issuer
 * and client id with a newline or NUL are refused (KMFA_ERR_USAGE).
 */
int kmfa_proof_context(const char *issuer, const char *client_id, int64_t t,
    char **out);

/* clientDataHash of the touch: SHA-256(nonce || ctx), as fido2_assert. */
void kmfa_proof_up_cdh(const uint8_t nonce[32], const char *ctx,
    uint8_t out[32]);

/* clientDataHash of the silent assertion over token[0..len). */
void kmfa_proof_token_cdh(const char *token, size_t len,
    const uint8_t up_cdh[32], uint8_t out[32]);

/*
 * One assertion without PIN or UV by cred_id for rp_id over cdh, up on or
 * off, from the key opened by device spec (as --fido2-device).  Fills the
 * credential, authdata and signature of *out (its nonce is left alone).
 * Verifies nothing: the caller checks with kmfa_proof_verify_sig.
 */
int kmfa_proof_assert(const char *device, const char *rp_id,
    const uint8_t *cred_id, size_t cred_id_len, const uint8_t cdh[32],
    int up, int timeout_ms, struct kmfa_fido2_evidence *out);

/*
 * The bearer from its parts: ID token, the touch's context, the touch's
 * evidence (nonce, credential, assertion) and the silent one's.
 */
int kmfa_proof_encode(const char *id_token, const char *ctx,
    const struct kmfa_fido2_evidence *up,
    const struct kmfa_fido2_evidence *tok, char **bearer);

/*
 * Parse bearer[0..len) strictly: the prefix, two base64url parts, one JSON
 * object of known members each of its type and size, a context of the
 * known form.  KMFA_ERR_NOTFOUND (no cause) when the bearer does not start
 * with KMFA_PROOF_PREFIX; KMFA_ERR_TOKEN with a cause for anything else
 * wrong; KMFA_ERR_NOMEM.
 */
int kmfa_proof_parse(const char *bearer, size_t len, struct kmfa_proof **out);
void kmfa_proof_free(struct kmfa_proof **pp);

/*
 * Verify one assertion: the signature by the ES256 public key pk (x || y)
 * over authdata || cdh, and the rpIdHash of rp_id.  *flags and *count are
 * the authenticator data's.  KMFA_ERR_TOKEN with a cause when it does not
 * verify.
 */
int kmfa_proof_verify_sig(const uint8_t *pk, size_t pk_len,
    const char *rp_id, const uint8_t cdh[32],
    const struct kmfa_proof_sig *s, uint8_t *flags, uint32_t *count);

/*
 * The plugin's part, after a verified touch t whose challenge bound ctx
 * and a new, validated ID token: the silent assertion by the touched
 * credential over the token, and the bearer into *bearer (a secret).
 * KMFA_ERR_FIDO2 with a cause when the key does not answer.
 */
int kmfa_proof_make(const struct kmfa_config *cfg, const struct kmfa_touch *t,
    const char *ctx, const char *id_token, char **bearer);

#endif

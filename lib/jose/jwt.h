/*
 * ID token validation (docs/DESIGN.md §8).  A token is accepted only as a
 * compact JWS (RFC 7515 §7.1) under an allow-listed asymmetric alg, signed
 * by the key its kid names in the issuer's JWKS, with iss equal to the
 * configured issuer, the client id among its audiences, and a time window
 * that contains now.  exp gets no leeway, because the plugin must never
 * hand kubectl a token that is already expired; nbf and iat get the
 * caller's leeway for clock skew.  The claims the rest of the program uses
 * are copied out; the decoded header and payload are wiped after use (the
 * token itself stays the caller's to wipe).
 */
#ifndef KMFA_JWT_H
#define KMFA_JWT_H

#include <stddef.h>
#include <stdint.h>

/* Longer tokens are refused before any decoding. */
#define KMFA_JWT_MAX (64 * 1024)
/* Longer encoded headers are refused: a JOSE header is a few fields. */
#define KMFA_JWT_HEADER_MAX 2048

struct kmfa_jwt_claims {
	char *iss;
	char *sub;
	char **aud;		/* naud entries; a string aud gives one */
	size_t naud;
	int64_t exp;
	int64_t iat;		/* 0 when absent */
	int64_t nbf;		/* 0 when absent */
	char **amr;		/* OIDC Core §2; namr entries, may be 0 */
	size_t namr;
	char *acr;		/* NULL when absent */
	char *email;		/* NULL when absent or not a string */
	char *name;		/* NULL when absent or not a string */
};

struct kmfa_jwt_expect {
	const char *issuer;	/* iss must equal this exactly */
	const char *client_id;	/* aud must contain it */
	int64_t now;		/* seconds since the epoch; must be > 0 */
	int64_t leeway;		/* seconds for nbf and iat, 0..3600, e.g. 60 */
};

/*
 * Verify token against the issuer's JWKS document (jwks_len bytes) and
 * the expectations in want.  On success *out holds the claims; free them
 * with kmfa_jwt_claims_free().
 *
 * Returns KMFA_OK, KMFA_ERR_NOMEM, KMFA_ERR_INTERNAL for a bad want, or
 * KMFA_ERR_TOKEN with the reason recorded by kmfa_fail() ("ID token: ...",
 * "JWKS: ...").  Messages never contain the token.
 */
int kmfa_jwt_verify(const char *token, const char *jwks, size_t jwks_len,
    const struct kmfa_jwt_expect *want, struct kmfa_jwt_claims **out);

/*
 * Decode the claims of token WITHOUT verifying anything: only for showing
 * an already-verified cached token.  Claims of the wrong type are left
 * unset rather than refused.  Returns KMFA_OK, KMFA_ERR_NOMEM, or
 * KMFA_ERR_TOKEN if the token is not a well-formed compact JWS.
 */
int kmfa_jwt_peek_claims(const char *token, struct kmfa_jwt_claims **out);

void kmfa_jwt_claims_free(struct kmfa_jwt_claims **c);

#endif

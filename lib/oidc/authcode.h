/*
 * The authorization code grant (RFC 6749 §4.1) as a native app runs it
 * (RFC 8252): the authorization URL the browser opens, with a fresh
 * `state` (CSRF, §10.12), `nonce` (OpenID Connect Core §3.1.2.1) and PKCE
 * S256 challenge (RFC 7636) per login, always; then the code's exchange
 * at the token endpoint with the verifier and the client authentication
 * of oidc/oauth.h; then the check that the ID token carries the login's
 * nonce (Core §3.1.3.7 item 11), so that an ID token minted for another
 * login cannot answer this one.  Where the code comes from (the loopback
 * listener, oidc/loopback.h, or the user's paste) is the caller's.  The
 * state, nonce and verifier are secrets until the login ends: wiped by
 * kmfa_authcode_free, never logged.  kmfa_authcode_url and
 * kmfa_authcode_check_nonce are the network-free halves, for tests.
 */
#ifndef KMFA_AUTHCODE_H
#define KMFA_AUTHCODE_H

#include <stddef.h>

#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"
#include "oidc/pkce.h"
#include "token/config.h"

#define KMFA_AUTHCODE_RANDOM_LEN 43	/* base64url of 32 random bytes */

struct kmfa_authcode {
	char state[KMFA_AUTHCODE_RANDOM_LEN + 1];
	char nonce[KMFA_AUTHCODE_RANDOM_LEN + 1];
	struct kmfa_pkce pk;
	char *redirect_uri;
	char *url;		/* the authorization URL, for the browser */
};

/*
 * A new login at d's authorization_endpoint returning to redirect_uri:
 * fresh state, nonce and PKCE, and the URL (kmfa_authcode_url).
 * KMFA_ERR_IDP when the issuer advertises no authorization endpoint;
 * KMFA_ERR_CONFIG for a scope or extra parameter oauth.h refuses.
 */
int kmfa_authcode_begin(const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, const char *redirect_uri,
    struct kmfa_authcode **out);

/*
 * endpoint?response_type=code&client_id&redirect_uri&scope&state&nonce
 * &code_challenge&code_challenge_method=S256, then cfg->extra_params
 * (an endpoint that already has a query gets '&').  scope as
 * kmfa_oauth_scope builds it.  Caller frees *out.
 */
int kmfa_authcode_url(const char *endpoint, const struct kmfa_config *cfg,
    const char *scope, const char *redirect_uri, const char *state,
    const char *nonce, const char *challenge, char **out);

/*
 * RFC 6749 §4.1.3: POST grant_type=authorization_code, code, redirect_uri
 * and code_verifier to the token endpoint as the client of cfg.  A refusal
 * is KMFA_ERR_IDP with the OAuth error; the answer is parsed as
 * kmfa_oauth_parse_tokens does.
 */
int kmfa_authcode_exchange(struct kmfa_http *h,
    const struct kmfa_discovery *d, const struct kmfa_config *cfg,
    const struct kmfa_authcode *ac, const char *code,
    struct kmfa_tokens **out);

/*
 * The ID token's `nonce` claim equals nonce: KMFA_OK, else KMFA_ERR_TOKEN
 * ("ID token: ...").  Reads the payload only; the signature and every
 * other claim are jose/jwt.h's, and a login takes the token only when
 * both agree.
 */
int kmfa_authcode_check_nonce(const char *id_token, const char *nonce);

void kmfa_authcode_free(struct kmfa_authcode **ap);

#endif

/*
 * The OAuth 2.0 / OpenID Connect protocol with the identity provider:
 * discovery (OpenID Connect Discovery 1.0 §4), the device authorization
 * grant (RFC 8628), the refresh grant (RFC 6749 §6) and token revocation
 * (RFC 7009).  This module owns what the IdP's answers may look like and
 * how the device flow is polled; it treats every answer as hostile (wrong
 * types, absurd numbers, terminal escapes, duplicate members) and never
 * puts a token, code or secret into a message.  It does not validate ID
 * tokens (jwt.c does) and never touches the cache (flow.c decides).  The
 * kmfa_oidc_parse_* functions are the network-free halves of the calls, for
 * tests and fuzzing.
 */
#ifndef KMFA_OIDC_H
#define KMFA_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "oidc/http.h"
#include "token/config.h"

/* Bounds on what the IdP may ask of the device flow (RFC 8628 §3.2). */
#define KMFA_POLL_INTERVAL_DEFAULT 5	/* §3.2: when `interval` is absent */
#define KMFA_POLL_INTERVAL_MAX 60	/* larger asks are clamped, with a warning */
#define KMFA_POLL_SLOW_DOWN 5		/* §3.5: added on each slow_down */
#define KMFA_DEVICE_EXPIRES_DEFAULT 1800 /* when `expires_in` is absent */
#define KMFA_DEVICE_EXPIRES_MAX 86400	/* larger is clamped, with a warning */

/* The discovery document, the parts this program uses. */
struct kmfa_oidc {
	char *issuer;
	char *device_authorization_endpoint;	/* NULL when not advertised */
	char *token_endpoint;
	char *jwks_uri;
	char *revocation_endpoint;		/* NULL when not advertised */
	char **scopes_supported;		/* the lists: NULL, 0 when absent */
	size_t nscopes_supported;
	char **algs_supported;		/* id_token_signing_alg_values_supported */
	size_t nalgs_supported;
	char **grant_types_supported;
	size_t ngrant_types_supported;
};

/*
 * GET <issuer>/.well-known/openid-configuration (a trailing slash of the
 * issuer is dropped first, Discovery §4).  The document's `issuer` must equal
 * cfg->issuer byte for byte (§4.3): KMFA_ERR_IDP otherwise.  The issuer and
 * every endpoint must be https, or http on a loopback host: KMFA_ERR_CONFIG
 * for the configured issuer, KMFA_ERR_IDP for what the document says.
 */
int kmfa_oidc_discover(struct kmfa_http *h, const struct kmfa_config *cfg,
    struct kmfa_oidc **out);
void kmfa_oidc_free(struct kmfa_oidc **op);

/* The issuer's JWKS document, as it came (jwt.c parses it). */
int kmfa_oidc_jwks(struct kmfa_http *h, const struct kmfa_oidc *o,
    struct kmfa_buf *jwks);

struct kmfa_device_auth {
	char *device_code;		/* secret */
	char *user_code;		/* printable ASCII, for the prompt */
	char *verification_uri;		/* https (or loopback http) */
	char *verification_uri_complete; /* the same, or NULL */
	int64_t expires_in;		/* seconds, 1..KMFA_DEVICE_EXPIRES_MAX */
	int64_t interval;		/* seconds, 1..KMFA_POLL_INTERVAL_MAX */
};

/*
 * RFC 8628 §3.1: POST client_id, scope ("openid offline_access" and
 * cfg->scopes, each once) and cfg->extra_params to the device authorization
 * endpoint; the client secret, when configured, goes in HTTP Basic
 * (RFC 6749 §2.3.1).  KMFA_ERR_IDP when the IdP has no such endpoint or
 * refuses; the answer is checked as kmfa_oidc_parse_device_auth does.
 */
int kmfa_oidc_device_authorize(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, struct kmfa_device_auth **out);
void kmfa_device_auth_free(struct kmfa_device_auth **dp);

/* Secrets, all of them; kmfa_tokens_free wipes. */
struct kmfa_tokens {
	char *id_token;		/* NULL when the IdP sent none */
	char *access_token;	/* never NULL */
	char *refresh_token;	/* NULL when the IdP sent none */
	int64_t expires_in;	/* seconds; 0 when absent */
	char *token_type;	/* "Bearer" or NULL when absent */
};

/* Called before each wait of the poll, with the seconds left to approve. */
typedef void (*kmfa_poll_cb)(void *arg, int64_t seconds_left);

/*
 * RFC 8628 §3.4–3.5: poll the token endpoint every da->interval seconds
 * until the user approves, the IdP ends the flow, or min(deadline,
 * start + da->expires_in) passes (KMFA_ERR_IDP, "not approved within ...").
 * Returns KMFA_OK with *out the moment tokens arrive: the endpoint is never
 * polled again after a success (a device code is single-use, and some IdPs
 * revoke the grant when it is presented twice).  The waits sleep and can be
 * cut short by kmfa_oidc_interrupt().
 */
int kmfa_oidc_device_poll(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, const struct kmfa_device_auth *da,
    int64_t deadline, kmfa_poll_cb cb, void *arg, struct kmfa_tokens **out);

/*
 * Async-signal-safe: make a running or later kmfa_oidc_device_poll stop at
 * its next wait with KMFA_ERR_IO ("the login was interrupted").  For a
 * SIGINT/SIGTERM handler that wants to release the lock and clean up.
 */
void kmfa_oidc_interrupt(void);

/*
 * RFC 6749 §6.  invalid_grant is KMFA_ERR_IDP with the cause "the refresh
 * token was refused (invalid_grant)"; the caller decides whether to fall
 * back to a device flow.
 */
int kmfa_oidc_refresh(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, const char *refresh_token,
    struct kmfa_tokens **out);

/*
 * RFC 7009 with token_type_hint refresh_token.  KMFA_ERR_NOTFOUND (no cause
 * recorded) when the IdP advertises no revocation_endpoint.
 */
int kmfa_oidc_revoke(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, const char *refresh_token);

void kmfa_tokens_free(struct kmfa_tokens **tp);

/*
 * The decision on one poll answer (RFC 8628 §3.5).  error is the OAuth
 * `error` code, NULL for a success.  KMFA_OK: stop, tokens arrived;
 * KMFA_ERR_NOTFOUND: poll again (authorization_pending; slow_down, which
 * also adds 5 s to *interval, up to KMFA_POLL_INTERVAL_MAX); anything else
 * is the failure, its cause recorded.
 */
int kmfa_device_poll_step(const char *error, int64_t *interval);

/* The network-free halves, for tests and fuzzing. */

/* A discovery document, judged against cfg->issuer as kmfa_oidc_discover does. */
int kmfa_oidc_parse_discovery(const char *json, size_t len,
    const struct kmfa_config *cfg, struct kmfa_oidc **out);

/* A device authorization answer (RFC 8628 §3.2), with the bounds above. */
int kmfa_oidc_parse_device_auth(const char *json, size_t len,
    struct kmfa_device_auth **out);

/* A successful token answer (RFC 6749 §5.1). */
int kmfa_oidc_parse_tokens(const char *json, size_t len,
    struct kmfa_tokens **out);

/*
 * An error answer (RFC 6749 §5.2): KMFA_OK with the `error` code in
 * error[errlen] and a printable, shortened `error_description` in
 * desc[desclen] ("" when absent); KMFA_ERR_NOTFOUND when the body is not a
 * JSON object with a string `error`.
 */
int kmfa_oidc_parse_error(const char *json, size_t len, char *error,
    size_t errlen, char *desc, size_t desclen);

/*
 * The scope parameter: "openid offline_access" and then cfg->scopes in
 * order, each scope once (RFC 6749 §3.3).  KMFA_ERR_CONFIG for a scope that
 * is empty or holds a character §3.3 forbids.  Caller frees.
 */
int kmfa_oidc_scope(const struct kmfa_config *cfg, char **out);

#endif

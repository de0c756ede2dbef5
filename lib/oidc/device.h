/*
 * The device authorization grant (RFC 8628): ask the IdP for a device code
 * and a user code (§3.1-3.2), show the user where to approve, then poll the
 * token endpoint (§3.4-3.5) until tokens come, the IdP ends the flow, or
 * time runs out.  This module owns the bounds on what the IdP may ask of
 * the poll (how often, how long), the rule that a device code is presented
 * again never after a success, and the checks on what reaches the user's
 * terminal (a short printable user code, an https verification URI).
 * Showing the prompt is the caller's (flow/); requests and token answers
 * are oidc/oauth.h's.  kmfa_device_parse_auth and kmfa_device_poll_step
 * are the network-free halves, for tests and fuzzing.
 */
#ifndef KMFA_DEVICE_H
#define KMFA_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"
#include "oidc/pkce.h"
#include "token/config.h"

/* Bounds on what the IdP may ask of the device flow (RFC 8628 §3.2). */
#define KMFA_POLL_INTERVAL_DEFAULT 5	/* §3.2: when `interval` is absent */
#define KMFA_POLL_INTERVAL_MAX 60	/* larger asks are clamped, with a warning */
#define KMFA_POLL_SLOW_DOWN 5		/* §3.5: added on each slow_down */
#define KMFA_DEVICE_EXPIRES_DEFAULT 1800 /* when `expires_in` is absent */
#define KMFA_DEVICE_EXPIRES_MAX 86400	/* larger is clamped, with a warning */

struct kmfa_device_auth {
	char *device_code;		/* secret */
	char *user_code;		/* printable ASCII, for the prompt */
	char *verification_uri;		/* https (or loopback http) */
	char *verification_uri_complete; /* the same, or NULL */
	int64_t expires_in;		/* seconds, 1..KMFA_DEVICE_EXPIRES_MAX */
	int64_t interval;		/* seconds, 1..KMFA_POLL_INTERVAL_MAX */
	char *scope;			/* what kmfa_device_authorize asked for */
	int pkce;			/* 1: the request carried a challenge */
	struct kmfa_pkce pk;		/* its verifier, a secret; wiped */
};

/*
 * RFC 8628 §3.1: POST client_id, scope (kmfa_oauth_scope, offline_access
 * as kmfa_discovery_offline_access decides) and cfg->extra_params to the
 * device authorization endpoint; the client secret, when configured, goes
 * in HTTP Basic (RFC 6749 §2.3.1).  When discovery lists S256
 * (kmfa_discovery_pkce_s256) the request carries a fresh PKCE challenge
 * and code_challenge_method=S256, always spelled out (a server may take a
 * missing method for plain), and kmfa_device_poll sends the verifier.
 * KMFA_ERR_IDP when the IdP has no such endpoint or refuses; the answer is
 * checked as kmfa_device_parse_auth does.
 */
int kmfa_device_authorize(struct kmfa_http *h, const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, struct kmfa_device_auth **out);
void kmfa_device_auth_free(struct kmfa_device_auth **dp);

/* A device authorization answer (RFC 8628 §3.2), with the bounds above. */
int kmfa_device_parse_auth(const char *json, size_t len,
    struct kmfa_device_auth **out);

/* Called before each wait of the poll, with the seconds left to approve. */
typedef void (*kmfa_device_poll_cb)(void *arg, int64_t seconds_left);

/*
 * RFC 8628 §3.4–3.5: poll the token endpoint every da->interval seconds
 * until the user approves, the IdP ends the flow, or min(deadline,
 * start + da->expires_in) passes (KMFA_ERR_IDP, "not approved within ...").
 * Returns KMFA_OK with *out the moment tokens arrive: the endpoint is never
 * polled again after a success (a device code is single-use, and some IdPs
 * revoke the grant when it is presented twice).  The waits sleep and can be
 * cut short by kmfa_device_interrupt().
 */
int kmfa_device_poll(struct kmfa_http *h, const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, const struct kmfa_device_auth *da,
    int64_t deadline, kmfa_device_poll_cb cb, void *arg,
    struct kmfa_tokens **out);

/*
 * Async-signal-safe: make a running or later kmfa_device_poll stop at its
 * next wait with KMFA_ERR_IO ("the login was interrupted").  For a
 * SIGINT/SIGTERM handler that wants to release the lock and clean up.
 */
void kmfa_device_interrupt(void);

/*
 * The decision on one poll answer (RFC 8628 §3.5), on the OAuth `error`
 * code alone: providers send authorization_pending and slow_down with
 * statuses other than RFC 6749's 400 (Google, Dex before 2.44: 401,
 * PingAM: 403), so the poll reads the `error` of any 4xx answer.
 * Microsoft Entra ID's authorization_declined is a denial like
 * access_denied.  error is NULL for a success.  KMFA_OK: stop, tokens arrived;
 * KMFA_ERR_NOTFOUND: poll again (authorization_pending; slow_down, which
 * also adds 5 s to *interval, up to KMFA_POLL_INTERVAL_MAX); anything else
 * is the failure, its cause recorded.
 */
int kmfa_device_poll_step(const char *error, int64_t *interval);

#endif

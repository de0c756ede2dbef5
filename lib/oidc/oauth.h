/*
 * The OAuth 2.0 requests and answers every grant shares (RFC 6749): the
 * client's authentication (§2.3.1: HTTP Basic when it has a secret, else
 * client_id in the form), posting a form to one of the IdP's endpoints,
 * the scope parameter (§3.3), the extra parameters the user may add, and
 * the two answers of the token endpoint: tokens (§5.1) and errors (§5.2).
 * The grants themselves are files of their own (device.c, refresh.c; an
 * authorization-code grant would be another), as is revocation (revoke.c).
 * Tokens are secrets: kmfa_oauth_tokens_free wipes them, and no message
 * here ever shows one.  The parse functions are the network-free halves,
 * for tests and fuzzing.
 */
#ifndef KMFA_OAUTH_H
#define KMFA_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"
#include "oidc/http.h"
#include "token/config.h"

#define KMFA_OAUTH_ERROR_SHOWN 64	/* room for an OAuth error code */
#define KMFA_OAUTH_DESC_SHOWN 160	/* room for an error_description */

/* Secrets, all of them; kmfa_oauth_tokens_free wipes. */
struct kmfa_tokens {
	char *id_token;		/* NULL when the IdP sent none */
	char *access_token;	/* never NULL */
	char *refresh_token;	/* NULL when the IdP sent none */
	int64_t expires_in;	/* seconds; 0 when absent */
	char *token_type;	/* "Bearer" or NULL when absent */
};

void kmfa_oauth_tokens_free(struct kmfa_tokens **tp);

/* A successful token answer (RFC 6749 §5.1). */
int kmfa_oauth_parse_tokens(const char *json, size_t len,
    struct kmfa_tokens **out);

/*
 * An error answer (RFC 6749 §5.2): KMFA_OK with the `error` code in
 * error[errlen] and a printable, shortened `error_description` in
 * desc[desclen] ("" when absent); KMFA_ERR_NOTFOUND, with no cause
 * recorded, when the body is not a JSON object with a string `error`.
 */
int kmfa_oauth_parse_error(const char *json, size_t len, char *error,
    size_t errlen, char *desc, size_t desclen);

/*
 * The one-line failure for an answer that is not 200: the OAuth error and
 * its description when the body has them.  what names the request
 * ("refresh"), shown the endpoint as printed.  Returns KMFA_ERR_IDP.
 */
int kmfa_oauth_refused(const char *what, const char *shown, long status,
    const struct kmfa_buf *body);

/*
 * The client's HTTP Basic header line, "Authorization: Basic " and the
 * base64 of id and secret, each form-encoded first and joined by ':' (RFC
 * 6749 §2.3.1), into header (emptied first; the caller wipes it).  Built
 * here rather than by libcurl so that every copy of the secret is one this
 * program wipes.  KMFA_OK or KMFA_ERR_NOMEM.
 */
int kmfa_oauth_basic_auth(const char *id, const char *secret,
    struct kmfa_buf *header);

/*
 * POST form to url as the client of cfg: with kmfa_oauth_basic_auth's
 * header when cfg has a secret.  As kmfa_http_request otherwise.
 */
int kmfa_oauth_post(struct kmfa_http *h, const char *url,
    const struct kmfa_config *cfg, const struct kmfa_buf *form, long *status,
    struct kmfa_buf *body);

/*
 * client_id in the form, unless the client authenticates by Basic.
 * KMFA_ERR_CONFIG without a client id.
 */
int kmfa_oauth_form_client(struct kmfa_buf *form,
    const struct kmfa_config *cfg);

/*
 * cfg->extra_params (--oidc-auth-request-extra-params KEY=VALUE) in the
 * form.  KMFA_ERR_CONFIG for one that is not KEY=VALUE or sets a parameter
 * the protocol sets itself (client_id, scope, grant_type, ...).
 */
int kmfa_oauth_form_extra_params(struct kmfa_buf *form,
    const struct kmfa_config *cfg);

/*
 * The scope parameter: "openid", "offline_access" when offline_access is
 * set (kmfa_discovery_offline_access decides), then cfg->scopes in order,
 * each scope once (RFC 6749 §3.3).  KMFA_ERR_CONFIG for a scope that is
 * empty or holds a character §3.3 forbids.  Caller frees.
 */
int kmfa_oauth_scope(const struct kmfa_config *cfg, int offline_access,
    char **out);

#endif

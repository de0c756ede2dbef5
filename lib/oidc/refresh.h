/*
 * The refresh grant (RFC 6749 §6): a refresh token for new tokens, at the
 * token endpoint, with no scope so that the grant keeps the one it had.
 * This module owns telling a refused refresh token (invalid_grant, which
 * the caller may answer with a new device login) from any other failure.
 */
#ifndef KMFA_REFRESH_H
#define KMFA_REFRESH_H

#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"
#include "token/config.h"

/*
 * RFC 6749 §6.  invalid_grant is KMFA_ERR_IDP with the cause "the refresh
 * token was refused (invalid_grant)"; the caller decides whether to fall
 * back to a device flow.
 */
int kmfa_refresh_tokens(struct kmfa_http *h, const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, const char *refresh_token,
    struct kmfa_tokens **out);

#endif

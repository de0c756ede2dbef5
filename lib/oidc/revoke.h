/*
 * Token revocation (RFC 7009): telling the IdP that a refresh token is no
 * longer wanted, as `logout` does.  Revocation is an optional IdP feature,
 * so its absence is a normal miss, not a failure.
 */
#ifndef KMFA_REVOKE_H
#define KMFA_REVOKE_H

#include "oidc/discovery.h"
#include "oidc/http.h"
#include "token/config.h"

/*
 * RFC 7009 §2.1 with token_type_hint refresh_token.  KMFA_ERR_NOTFOUND (no
 * cause recorded) when the IdP advertises no revocation_endpoint.
 */
int kmfa_revoke_refresh_token(struct kmfa_http *h,
    const struct kmfa_discovery *d, const struct kmfa_config *cfg,
    const char *refresh_token);

#endif

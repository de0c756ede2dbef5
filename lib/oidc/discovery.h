/*
 * The identity provider's metadata: its discovery document (OpenID Connect
 * Discovery 1.0 §4) and the JWKS it points to.  This module owns where the
 * document is fetched from, which of its members the program uses, and the
 * checks that tie it to the configured issuer: `issuer` equal byte for
 * byte, every endpoint https (or http when the issuer itself is on
 * loopback).  The JWKS is fetched as it comes; jose/jwk.c reads it.  The
 * grants (device.c, refresh.c) and revocation (revoke.c) take their
 * endpoints from struct kmfa_discovery.  kmfa_discovery_parse is the
 * network-free half of kmfa_discovery_fetch, for tests and fuzzing.
 */
#ifndef KMFA_DISCOVERY_H
#define KMFA_DISCOVERY_H

#include <stddef.h>

#include "base/buf.h"
#include "base/util.h"
#include "oidc/http.h"
#include "oidc/metacache.h"
#include "token/config.h"

/* The discovery document, the parts this program uses. */
struct kmfa_discovery {
	char *issuer;
	char *device_authorization_endpoint;	/* NULL when not advertised */
	char *token_endpoint;
	char *jwks_uri;
	char *revocation_endpoint;		/* NULL when not advertised */
	char *authorization_endpoint;		/* NULL when not advertised */
	char **scopes_supported;		/* the lists: NULL, 0 when absent */
	size_t nscopes_supported;
	char **algs_supported;		/* id_token_signing_alg_values_supported */
	size_t nalgs_supported;
	char **grant_types_supported;
	size_t ngrant_types_supported;
	char **pkce_methods;		/* code_challenge_methods_supported */
	size_t npkce_methods;
	char **revocation_auth_methods;	/* revocation_endpoint_auth_methods_
					 * supported */
	size_t nrevocation_auth_methods;
};

/*
 * GET <issuer>/.well-known/openid-configuration (a trailing slash of the
 * issuer is dropped first, Discovery §4).  The document's `issuer` must equal
 * cfg->issuer byte for byte (§4.3): KMFA_ERR_IDP otherwise.  The issuer and
 * every endpoint must be https, or http on a loopback host: KMFA_ERR_CONFIG
 * for the configured issuer, KMFA_ERR_IDP for what the document says.
 */
int kmfa_discovery_fetch(struct kmfa_http *h, const struct kmfa_config *cfg,
    struct kmfa_discovery **out);

/* A discovery document, judged against cfg->issuer as above. */
int kmfa_discovery_parse(const char *json, size_t len,
    const struct kmfa_config *cfg, struct kmfa_discovery **out);

void kmfa_discovery_free(struct kmfa_discovery **dp);

/*
 * Whether the login asks for offline_access (a refresh token): cfg's
 * --oidc-offline-access "on" or "off" as given; "auto" (or unset) when the
 * document lists it in scopes_supported or lists no scopes at all (Google
 * lists three and refuses the rest with invalid_scope).  KMFA_ERR_USAGE for
 * any other value.
 */
int kmfa_discovery_offline_access(const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, int *on);

/*
 * Whether the device grant carries PKCE (RFC 7636): when the document
 * lists S256 in code_challenge_methods_supported.  Never plain: a server
 * that offers only plain gets no PKCE at all.
 */
int kmfa_discovery_pkce_s256(const struct kmfa_discovery *d);

/*
 * Whether revocation can take this client's authentication: the document
 * lists no revocation_endpoint_auth_methods_supported (RFC 8414 §2: then
 * client_secret_basic), or lists client_secret_basic for a client with a
 * secret, or "none" for one without.  0 means logout cannot revoke.
 */
int kmfa_discovery_revocation_usable(const struct kmfa_discovery *d,
    const struct kmfa_config *cfg);

/* The issuer's JWKS document from d->jwks_uri, as it came. */
int kmfa_discovery_fetch_jwks(struct kmfa_http *h,
    const struct kmfa_discovery *d, struct kmfa_buf *jwks);

/*
 * The same two through the cache mc (oidc/metacache.h), for get-token and
 * login: a kept document costs no request.  A kept discovery document that
 * kmfa_discovery_parse refuses (its issuer no longer the configured one) is
 * dropped and fetched again.  load_jwks with refetch asks the provider
 * even when a fresh copy is kept (the ID token names a key the copy
 * lacks); *cached says whether jwks is the kept copy.  setup and logout
 * use the fetch functions above: they always ask the provider.
 */
int kmfa_discovery_load(struct kmfa_http *h, struct kmfa_metacache *mc,
    const struct kmfa_config *cfg, struct kmfa_discovery **out);
int kmfa_discovery_load_jwks(struct kmfa_http *h, struct kmfa_metacache *mc,
    const struct kmfa_discovery *d, int refetch, struct kmfa_buf *jwks,
    int *cached);

/*
 * Forget the kept discovery document of cfg's issuer: a login that used it
 * failed, and an endpoint that moved would fail the next one too.
 */
void kmfa_discovery_forget(struct kmfa_metacache *mc,
    const struct kmfa_config *cfg);

#endif

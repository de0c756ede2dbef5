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
#include "token/config.h"

/* The discovery document, the parts this program uses. */
struct kmfa_discovery {
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
int kmfa_discovery_fetch(struct kmfa_http *h, const struct kmfa_config *cfg,
    struct kmfa_discovery **out);

/* A discovery document, judged against cfg->issuer as above. */
int kmfa_discovery_parse(const char *json, size_t len,
    const struct kmfa_config *cfg, struct kmfa_discovery **out);

void kmfa_discovery_free(struct kmfa_discovery **dp);

/* The issuer's JWKS document from d->jwks_uri, as it came. */
int kmfa_discovery_fetch_jwks(struct kmfa_http *h,
    const struct kmfa_discovery *d, struct kmfa_buf *jwks);

#endif

/*
 * The authorization code grant, in the order a login runs it: the fresh
 * secrets and the authorization URL, the code's exchange, the nonce.
 * PKCE is sent whatever discovery lists: a provider that does not know it
 * ignores the parameters (RFC 7636 §5), and one that demands it (RFC 9700
 * §2.1.1 says all should for public clients) gets it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/answer.h"
#include "oidc/authcode.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"
#include "oidc/pkce.h"

#define RANDOM_BYTES 32

void
kmfa_authcode_free(struct kmfa_authcode **ap)
{
	struct kmfa_authcode *ac;

	if (ap == NULL || (ac = *ap) == NULL)
		return;
	kmfa_pkce_wipe(&ac->pk);
	/* The URL carries state and nonce. */
	kmfa_freezero_str(ac->url);
	free(ac->redirect_uri);
	kmfa_freezero(ac, sizeof(*ac));
	*ap = NULL;
}

/* 32 bytes of the kernel's randomness, base64url: a state or a nonce. */
static int
random_token(char out[KMFA_AUTHCODE_RANDOM_LEN + 1])
{
	uint8_t raw[RANDOM_BYTES];
	char *enc = NULL;
	ssize_t n;
	int r = KMFA_ERR_INTERNAL;

	do {
		n = getrandom(raw, sizeof(raw), 0);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(raw)) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "getrandom: %s",
		    n < 0 ? strerror(errno) : "short read");
		goto out;
	}
	if ((r = kmfa_b64url_encode(raw, sizeof(raw), &enc)) != KMFA_OK)
		goto out;
	if (strlen(enc) != KMFA_AUTHCODE_RANDOM_LEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "base64url: unexpected length");
		goto out;
	}
	memcpy(out, enc, KMFA_AUTHCODE_RANDOM_LEN + 1);
	r = KMFA_OK;
out:
	explicit_bzero(raw, sizeof(raw));
	kmfa_freezero_str(enc);
	return r;
}

int
kmfa_authcode_url(const char *endpoint, const struct kmfa_config *cfg,
    const char *scope, const char *redirect_uri, const char *state,
    const char *nonce, const char *challenge, char **out)
{
	struct kmfa_buf q = { 0 };
	int r;

	*out = NULL;
	if ((r = kmfa_http_form_add(&q, "response_type", "code")) != KMFA_OK ||
	    (r = kmfa_http_form_add(&q, "client_id", cfg->client_id)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&q, "redirect_uri", redirect_uri)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&q, "scope", scope)) != KMFA_OK ||
	    (r = kmfa_http_form_add(&q, "state", state)) != KMFA_OK ||
	    (r = kmfa_http_form_add(&q, "nonce", nonce)) != KMFA_OK ||
	    (r = kmfa_http_form_add(&q, "code_challenge", challenge)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&q, "code_challenge_method", "S256")) !=
	    KMFA_OK ||
	    /* The account asked for, as in the device flow (RFC 8628 does
	     * not name it; OpenID Connect Core 3.1.2.1 does). */
	    (cfg->login_hint != NULL && (r = kmfa_http_form_add(&q,
	    "login_hint", cfg->login_hint)) != KMFA_OK) ||
	    (r = kmfa_oauth_form_extra_params(&q, cfg)) != KMFA_OK)
		goto out;
	if (kmfa_asprintf(out, "%s%c%s", endpoint,
	    strchr(endpoint, '?') != NULL ? '&' : '?', q.data) < 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&q);
	return r;
}

int
kmfa_authcode_begin(const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, const char *redirect_uri,
    struct kmfa_authcode **out)
{
	struct kmfa_authcode *ac = NULL;
	char *scope = NULL;
	int r, offline = 0;

	*out = NULL;
	if (d->authorization_endpoint == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "the identity provider offers no "
		    "browser login (no authorization_endpoint in its discovery "
		    "document); use --grant-type device-code");
		goto out;
	}
	if ((ac = calloc(1, sizeof(*ac))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = random_token(ac->state)) != KMFA_OK ||
	    (r = random_token(ac->nonce)) != KMFA_OK ||
	    (r = kmfa_pkce_new(&ac->pk)) != KMFA_OK ||
	    (r = kmfa_discovery_offline_access(d, cfg, &offline)) != KMFA_OK ||
	    (r = kmfa_oauth_scope(cfg, offline, &scope)) != KMFA_OK)
		goto out;
	if ((ac->redirect_uri = strdup(redirect_uri)) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kmfa_authcode_url(d->authorization_endpoint, cfg, scope,
	    redirect_uri, ac->state, ac->nonce, ac->pk.challenge, &ac->url)) !=
	    KMFA_OK)
		goto out;
	kmfa_debug("authorization request: scope \"%s\", PKCE S256, "
	    "redirect_uri %s", scope, redirect_uri);
	*out = ac;
	ac = NULL;	/* transferred */
	r = KMFA_OK;
out:
	free(scope);
	kmfa_authcode_free(&ac);
	return r;
}

int
kmfa_authcode_exchange(struct kmfa_http *h, const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, const struct kmfa_authcode *ac,
    const char *code, struct kmfa_tokens **out)
{
	struct kmfa_buf form = { 0 }, body = { 0 };
	char shown[KMFA_ANSWER_URL_SHOWN];
	long status = 0;
	int r;

	*out = NULL;
	kmfa_printable(shown, sizeof(shown), d->token_endpoint);
	if ((r = kmfa_http_form_add(&form, "grant_type",
	    "authorization_code")) != KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "code", code)) != KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "redirect_uri", ac->redirect_uri)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "code_verifier", ac->pk.verifier)) !=
	    KMFA_OK ||
	    (r = kmfa_oauth_form_client(&form, cfg)) != KMFA_OK)
		goto out;
	if ((r = kmfa_oauth_post(h, d->token_endpoint, cfg, &form, &status,
	    &body)) != KMFA_OK)
		goto out;
	if (status != 200) {
		r = kmfa_oauth_refused("authorization code exchange", shown,
		    status, &body);
		goto out;
	}
	r = kmfa_oauth_parse_tokens(body.data, body.len, out);
out:
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

int
kmfa_authcode_check_nonce(const char *id_token, const char *nonce)
{
	const char *p1, *p2;
	uint8_t *payload = NULL;
	size_t plen = 0;
	cJSON *doc = NULL;
	const cJSON *n;
	int r = KMFA_ERR_TOKEN;

	if (id_token == NULL || (p1 = strchr(id_token, '.')) == NULL ||
	    (p2 = strchr(p1 + 1, '.')) == NULL ||
	    kmfa_b64url_decode(p1 + 1, (size_t)(p2 - p1 - 1), &payload,
	    &plen) != KMFA_OK ||
	    (doc = cJSON_ParseWithLength((const char *)payload, plen)) ==
	    NULL) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: not a JWS whose "
		    "payload is JSON");
		goto out;
	}
	n = cJSON_GetObjectItemCaseSensitive(doc, "nonce");
	if (!cJSON_IsString(n)) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: no nonce although the "
		    "login sent one (OpenID Connect Core 3.1.3.7)");
		goto out;
	}
	if (strcmp(n->valuestring, nonce) != 0) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "ID token: the nonce is not this "
		    "login's (a token minted for another login); refusing it");
		goto out;
	}
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	if (payload != NULL)
		kmfa_freezero(payload, plen);
	return r;
}

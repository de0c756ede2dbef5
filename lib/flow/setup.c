/*
 * Issuer checks for `setup`.  What the plugin needs of an issuer: a device
 * authorization endpoint (RFC 8628 §4), a JWKS with a key for an algorithm
 * on the allow-list (docs/DESIGN.md §8), and refresh tokens
 * (offline_access) for logins without a browser every hour.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "flow/setup.h"
#include "jose/jwk.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"

static void
note(struct kmfa_setup_report *rep, int problem, const char *fmt, ...)
	KMFA_PRINTF(3, 4);

static void
note(struct kmfa_setup_report *rep, int problem, const char *fmt, ...)
{
	va_list ap;

	if (rep->nnotes >= KMFA_SETUP_MAX_NOTES)
		return;
	rep->notes[rep->nnotes].problem = problem;
	va_start(ap, fmt);
	(void)vsnprintf(rep->notes[rep->nnotes].text,
	    sizeof(rep->notes[0].text), fmt, ap);
	va_end(ap);
	rep->nnotes++;
}

static int
listed(char **list, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], what) == 0)
			return 1;
	return 0;
}

/* Count the JWKS keys this program can verify with. */
static size_t
usable_keys(const char *jwks, size_t len)
{
	static const char *algs[] = { "RS256", "RS384", "RS512", "PS256",
	    "PS384", "PS512", "ES256", "ES384", "ES512" };
	cJSON *doc = NULL;
	const cJSON *keys, *k;
	struct kmfa_report_scope sc;
	size_t n = 0;
	char why[KMFA_JSON_WHY_MAX];

	/* A set kmfa_jwk_find refuses has no usable key: doc stays NULL. */
	(void)kmfa_json_parse_object(jwks, len, KMFA_JWKS_MAX, &doc, why,
	    sizeof(why));

	/* A key this program cannot use is counted out, not a failure. */
	kmfa_report_enter(&sc);
	keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
	cJSON_ArrayForEach(k, keys) {
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(k, "kid");
		const char *id = cJSON_IsString(kid) ? kid->valuestring : NULL;

		for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
			EVP_PKEY *pk = NULL;
			const struct kmfa_jws_alg *a = kmfa_jwk_alg_lookup(algs[i]);

			if (a != NULL && kmfa_jwk_find(jwks, len, id, a, &pk) ==
			    KMFA_OK) {
				EVP_PKEY_free(pk);
				n++;
				break;
			}
		}
	}
	kmfa_report_leave(&sc);
	cJSON_Delete(doc);
	return n;
}

enum browser_use {
	BROWSER_NONE,		/* --grant-type device-code, or no endpoint */
	BROWSER_AUTO,		/* auto: the browser on a desktop, else device */
	BROWSER_FALLBACK,	/* auto, and the issuer has no device flow */
	BROWSER_ONLY,		/* --grant-type authcode or authcode-keyboard */
};

/*
 * What the browser login (--grant-type, flow/flow.c) needs of the issuer:
 * an authorization endpoint, the authorization code grant, PKCE S256, and
 * the redirect URI registered for the client, which is printed.  A lack is
 * a problem when the browser login is chosen, a note when auto may use it.
 */
static int
browser_checks(const struct kmfa_config *cfg, const struct kmfa_discovery *o,
    struct kmfa_setup_report *rep, enum browser_use *use)
{
	const char *g = cfg->grant_type;
	int only, keyboard;

	*use = BROWSER_NONE;
	if (g != NULL && strcmp(g, "device-code") == 0)
		return KMFA_OK;
	keyboard = g != NULL && strcmp(g, "authcode-keyboard") == 0;
	only = keyboard || (g != NULL && strcmp(g, "authcode") == 0);
	if (!only && g != NULL && strcmp(g, "auto") != 0)
		return kmfa_fail(KMFA_ERR_USAGE, "--grant-type takes auto, "
		    "authcode, authcode-keyboard or device-code");
	if (o->authorization_endpoint == NULL) {
		note(rep, only, "the issuer advertises no "
		    "authorization_endpoint: no browser login%s",
		    only ? "" : "; auto uses the device flow");
		return KMFA_OK;
	}
	*use = only ? BROWSER_ONLY : o->device_authorization_endpoint == NULL ?
	    BROWSER_FALLBACK : BROWSER_AUTO;
	note(rep, 0, "browser login: %s", o->authorization_endpoint);
	if (o->ngrant_types_supported > 0 && !listed(o->grant_types_supported,
	    o->ngrant_types_supported, "authorization_code"))
		note(rep, only, "grant_types_supported lacks the "
		    "authorization_code grant");
	if (kmfa_discovery_pkce_s256(o))
		note(rep, 0, "PKCE: S256 on the browser login");
	else
		note(rep, only && o->npkce_methods > 0, "code_challenge_methods_"
		    "supported %s S256: the browser login sends it anyway, and "
		    "a provider that does not know PKCE ignores it",
		    o->npkce_methods > 0 ? "lacks" : "does not list");
	if (keyboard && cfg->redirect_url == NULL)
		note(rep, 1, "--grant-type authcode-keyboard needs "
		    "--oidc-redirect-url: the provider's page that shows the "
		    "code");
	else if (cfg->redirect_url != NULL)
		note(rep, 0, "redirect URI to register for client '%s': %s",
		    cfg->client_id, cfg->redirect_url);
	else
		note(rep, 0, "redirect URI to register for client '%s': "
		    "http://127.0.0.1/ as a loopback URI, any port (RFC 8252 "
		    "7.3), or name one with --oidc-redirect-url (e.g. "
		    "http://localhost:8000/) and register that", cfg->client_id);
	return KMFA_OK;
}

int
kmfa_setup_check(const struct kmfa_config *cfg, struct kmfa_setup_report *rep)
{
	struct kmfa_http *h = NULL;
	struct kmfa_discovery *o = NULL;
	struct kmfa_buf jwks = { 0 };
	char *scope = NULL;
	enum browser_use browser = BROWSER_NONE;
	int r, good_alg = 0, offline = 0, device;

	memset(rep, 0, sizeof(*rep));
	if (cfg->issuer == NULL || cfg->client_id == NULL)
		return kmfa_fail(KMFA_ERR_USAGE, "--oidc-issuer-url and "
		    "--oidc-client-id are required");
	if ((r = kmfa_http_new(cfg, &h)) != KMFA_OK)
		goto out;
	kmfa_http_set_deadline(h, kmfa_now() + (cfg->timeout < 60 ?
	    cfg->timeout : 60));
	if ((r = kmfa_discovery_fetch(h, cfg, &o)) != KMFA_OK)
		goto out;
	note(rep, 0, "discovery: issuer %s matches", o->issuer);
	if ((r = browser_checks(cfg, o, rep, &browser)) != KMFA_OK)
		goto out;
	/* The device flow is needed unless the browser login is chosen, or
	 * auto can fall back to it (see browser_checks). */
	device = browser != BROWSER_ONLY;
	if (o->device_authorization_endpoint == NULL)
		note(rep, device && browser != BROWSER_FALLBACK, "the issuer "
		    "advertises no device_authorization_endpoint: enable the "
		    "OAuth 2.0 device authorization grant (RFC 8628) for "
		    "client '%s'%s", cfg->client_id, browser == BROWSER_FALLBACK ?
		    " (auto logs in with the browser without it)" : "");
	else if (device)
		note(rep, 0, "device authorization: %s",
		    o->device_authorization_endpoint);
	if (device && o->ngrant_types_supported > 0 &&
	    !listed(o->grant_types_supported, o->ngrant_types_supported,
	    "urn:ietf:params:oauth:grant-type:device_code"))
		note(rep, browser != BROWSER_FALLBACK, "grant_types_supported "
		    "lacks the device_code grant");
	if ((r = kmfa_discovery_offline_access(o, cfg, &offline)) !=
	    KMFA_OK || (r = kmfa_oauth_scope(cfg, offline, &scope)) != KMFA_OK)
		goto out;
	note(rep, 0, "scopes: a login will ask for \"%s\"", scope);
	if (!offline && o->nscopes_supported > 0 && !listed(o->scopes_supported,
	    o->nscopes_supported, "offline_access"))
		note(rep, 0, "scopes_supported lacks offline_access: the IdP "
		    "may issue no refresh tokens, so every expiry means a "
		    "browser login");
	if (kmfa_discovery_pkce_s256(o))
		note(rep, 0, "PKCE: S256 on the device grant");
	for (size_t i = 0; i < o->nalgs_supported; i++)
		if (kmfa_jwk_alg_lookup(o->algs_supported[i]) != NULL)
			good_alg = 1;
	if (o->nalgs_supported > 0 && !good_alg)
		note(rep, 1, "id_token_signing_alg_values_supported has no "
		    "algorithm this plugin accepts (RS*, PS*, ES*)");
	if ((r = kmfa_discovery_fetch_jwks(h, o, &jwks)) != KMFA_OK)
		goto out;
	rep->nkeys = usable_keys(jwks.data, jwks.len);
	if (rep->nkeys == 0)
		note(rep, 1, "the JWKS at %s has no key this plugin can verify "
		    "with (RSA >= 2048 bits, EC P-256/384/521)", o->jwks_uri);
	else
		note(rep, 0, "JWKS: %zu usable signing key%s", rep->nkeys,
		    rep->nkeys == 1 ? "" : "s");
	if (o->revocation_endpoint == NULL)
		note(rep, 0, "no revocation_endpoint: logout can only delete "
		    "tokens locally");
	else if (!kmfa_discovery_revocation_usable(o, cfg))
		kmfa_warn("revocation_endpoint_auth_methods_supported offers "
		    "no method this client can use (%s): logout will not be "
		    "able to revoke the refresh token, only delete it here",
		    cfg->client_secret != NULL ? "it authenticates with "
		    "client_secret_basic" : "a public client needs \"none\"");
	r = KMFA_OK;
	for (size_t i = 0; i < rep->nnotes; i++)
		if (rep->notes[i].problem)
			r = kmfa_fail(KMFA_ERR_IDP, "%s is not usable: %s",
			    cfg->issuer, rep->notes[i].text);
out:
	free(scope);
	kmfa_buf_wipe(&jwks);
	kmfa_discovery_free(&o);
	kmfa_http_free(&h);
	return r;
}

char **
kmfa_setup_args(const struct kmfa_config *cfg)
{
	char **v = NULL, **grown, *cmd;
	size_t n;

	if ((cmd = strdup("get-token")) == NULL)
		return NULL;
	if (kmfa_config_argv(cfg, KMFA_OPT_EXEC_ARGS, &v, &n) != KMFA_OK ||
	    (grown = realloc(v, (n + 2) * sizeof(*v))) == NULL) {
		free(cmd);
		kmfa_config_argv_free(&v);
		return NULL;
	}
	/* The subcommand first, then the options (and their NULL). */
	memmove(grown + 1, grown, (n + 1) * sizeof(*grown));
	grown[0] = cmd;
	return grown;
}

void
kmfa_setup_args_free(char **args)
{
	kmfa_config_argv_free(&args);
}

/*
 * Discovery: the document is fetched, read through oidc/answer.h and judged
 * against the configuration here, so that nothing downstream ever sees an
 * endpoint that is not tied to the configured issuer.  A refusal names the
 * member and shows URLs only through kmfa_printable (terminal escapes in a
 * hostile document stay out of the message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/answer.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/metacache.h"

void
kmfa_discovery_free(struct kmfa_discovery **dp)
{
	struct kmfa_discovery *d;

	if (dp == NULL || (d = *dp) == NULL)
		return;
	free(d->issuer);
	free(d->device_authorization_endpoint);
	free(d->token_endpoint);
	free(d->jwks_uri);
	free(d->revocation_endpoint);
	free(d->authorization_endpoint);
	kmfa_answer_strings_free(&d->scopes_supported, &d->nscopes_supported);
	kmfa_answer_strings_free(&d->algs_supported, &d->nalgs_supported);
	kmfa_answer_strings_free(&d->grant_types_supported,
	    &d->ngrant_types_supported);
	kmfa_answer_strings_free(&d->pkce_methods, &d->npkce_methods);
	kmfa_answer_strings_free(&d->revocation_auth_methods,
	    &d->nrevocation_auth_methods);
	free(d);
	*dp = NULL;
}

/*
 * The configured issuer: an https URL (or http on loopback) with no query
 * and no fragment (Discovery §4, OIDC Core §2 "iss").
 */
static int
check_issuer(const char *issuer, int *loopback)
{
	char shown[KMFA_ANSWER_URL_SHOWN];
	int r;

	if (issuer == NULL || *issuer == '\0')
		return kmfa_fail(KMFA_ERR_CONFIG, "no issuer: give "
		    "--oidc-issuer-url");
	if ((r = kmfa_http_check_url(issuer, "issuer", loopback)) != KMFA_OK)
		return r;
	if (strchr(issuer, '?') != NULL || strchr(issuer, '#') != NULL) {
		kmfa_printable(shown, sizeof(shown), issuer);
		return kmfa_fail(KMFA_ERR_CONFIG, "issuer '%s' must have no "
		    "query and no fragment", shown);
	}
	return KMFA_OK;
}

/*
 * An endpoint from the document.  Plain http to loopback is the development
 * exception for a loopback issuer only: an https issuer's document must not
 * send the client secret or a refresh token in the clear to some local port.
 */
static int
get_endpoint(const cJSON *doc, const char *name, int required,
    int issuer_loopback, char **out)
{
	int r = KMFA_ERR_IDP;
	char *url = NULL, what[64], shown[KMFA_ANSWER_URL_SHOWN];
	int lo = 0;

	*out = NULL;
	if ((r = kmfa_answer_string(doc, name, "discovery", required,
	    &url)) != KMFA_OK || url == NULL)
		goto out;
	(void)snprintf(what, sizeof(what), "discovery: %s", name);
	if (strlen(url) > KMFA_ANSWER_URI_MAX ||
	    kmfa_http_check_url(url, what, &lo) != KMFA_OK) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s is not an acceptable URL",
		    what);
		goto out;
	}
	if (lo && !issuer_loopback && strncmp(url, "https:", 6) != 0) {
		kmfa_printable(shown, sizeof(shown), url);
		r = kmfa_fail(KMFA_ERR_IDP, "%s '%s' must use https: plain "
		    "http is allowed only when the issuer is on loopback",
		    what, shown);
		goto out;
	}
	*out = url;
	url = NULL;	/* transferred */
	r = KMFA_OK;
out:
	free(url);
	return r;
}

static int
listed(char *const *list, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], what) == 0)
			return 1;
	return 0;
}

/*
 * The refusal for a document whose issuer is not the configured one, with
 * the fix where the mismatch is a known Microsoft Entra ID mistake: the
 * multi-tenant endpoints (common, organizations) answer the literal issuer
 * "https://login.microsoftonline.com/{tenantid}/v2.0", which no token ever
 * carries (https://github.com/coreos/go-oidc/issues/344), and v1 issuers
 * (https://sts.windows.net/<tenant>/) are not the v2 endpoints whose
 * device grant this program speaks
 * (https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference).
 */
static int
issuer_mismatch(const char *doc_issuer, const char *cfg_issuer)
{
	static const char fix[] = "use --oidc-issuer-url="
	    "https://login.microsoftonline.com/<tenant-id>/v2.0 (the tenant's "
	    "ID, the same issuer the API server checks)";
	char got[KMFA_ANSWER_URL_SHOWN], want[KMFA_ANSWER_URL_SHOWN];

	kmfa_printable(got, sizeof(got), doc_issuer);
	kmfa_printable(want, sizeof(want), cfg_issuer);
	if (strstr(doc_issuer, "{tenantid}") != NULL)
		return kmfa_fail(KMFA_ERR_CONFIG, "discovery: '%s' is a "
		    "multi-tenant endpoint (its issuer is '%s'): %s", want,
		    got, fix);
	if (strncmp(doc_issuer, "https://sts.windows.net/", 24) == 0 ||
	    strncmp(cfg_issuer, "https://sts.windows.net/", 24) == 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "discovery: '%s' is a "
		    "Microsoft Entra v1 issuer (the document says '%s'): %s",
		    want, got, fix);
	return kmfa_fail(KMFA_ERR_IDP, "discovery: issuer '%s' does not "
	    "match the configured '%s'", got, want);
}

int
kmfa_discovery_offline_access(const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, int *on)
{
	const char *v = cfg->offline_access;

	*on = 0;
	if (v == NULL || strcmp(v, "auto") == 0) {
		*on = d->nscopes_supported == 0 ||
		    listed(d->scopes_supported, d->nscopes_supported,
		    "offline_access");
		return KMFA_OK;
	}
	if (strcmp(v, "on") == 0) {
		*on = 1;
		return KMFA_OK;
	}
	if (strcmp(v, "off") == 0)
		return KMFA_OK;
	return kmfa_fail(KMFA_ERR_USAGE, "--oidc-offline-access takes auto, "
	    "on or off");
}

int
kmfa_discovery_pkce_s256(const struct kmfa_discovery *d)
{
	return listed(d->pkce_methods, d->npkce_methods, "S256");
}

int
kmfa_discovery_revocation_usable(const struct kmfa_discovery *d,
    const struct kmfa_config *cfg)
{
	if (d->revocation_endpoint == NULL)
		return 0;
	if (d->nrevocation_auth_methods == 0)
		return 1;
	if (cfg->client_secret != NULL)
		return listed(d->revocation_auth_methods,
		    d->nrevocation_auth_methods, "client_secret_basic");
	return listed(d->revocation_auth_methods, d->nrevocation_auth_methods,
	    "none");
}

int
kmfa_discovery_parse(const char *json, size_t len,
    const struct kmfa_config *cfg, struct kmfa_discovery **out)
{
	int r = KMFA_ERR_IDP;
	cJSON *doc = NULL;
	struct kmfa_discovery *d = NULL;
	int lo = 0;

	*out = NULL;
	if ((r = check_issuer(cfg->issuer, &lo)) != KMFA_OK)
		goto out;
	if ((r = kmfa_answer_parse(json, len, "discovery", &doc)) != KMFA_OK)
		goto out;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kmfa_answer_string(doc, "issuer", "discovery", 1,
	    &d->issuer)) != KMFA_OK)
		goto out;
	/*
	 * Discovery §4.3: exactly equal, no normalisation.  This is what ties
	 * the tokens (whose `iss` must equal it too) to the configured URL.
	 */
	if (strcmp(d->issuer, cfg->issuer) != 0) {
		r = issuer_mismatch(d->issuer, cfg->issuer);
		goto out;
	}
	if ((r = get_endpoint(doc, "token_endpoint", 1, lo,
	    &d->token_endpoint)) != KMFA_OK ||
	    (r = get_endpoint(doc, "jwks_uri", 1, lo, &d->jwks_uri)) !=
	    KMFA_OK ||
	    (r = get_endpoint(doc, "device_authorization_endpoint", 0, lo,
	    &d->device_authorization_endpoint)) != KMFA_OK ||
	    (r = get_endpoint(doc, "revocation_endpoint", 0, lo,
	    &d->revocation_endpoint)) != KMFA_OK ||
	    (r = get_endpoint(doc, "authorization_endpoint", 0, lo,
	    &d->authorization_endpoint)) != KMFA_OK)
		goto out;
	if ((r = kmfa_answer_strings(doc, "scopes_supported", "discovery",
	    &d->scopes_supported, &d->nscopes_supported)) != KMFA_OK ||
	    (r = kmfa_answer_strings(doc,
	    "id_token_signing_alg_values_supported", "discovery",
	    &d->algs_supported, &d->nalgs_supported)) != KMFA_OK ||
	    (r = kmfa_answer_strings(doc, "grant_types_supported", "discovery",
	    &d->grant_types_supported, &d->ngrant_types_supported)) !=
	    KMFA_OK ||
	    (r = kmfa_answer_strings(doc, "code_challenge_methods_supported",
	    "discovery", &d->pkce_methods, &d->npkce_methods)) != KMFA_OK ||
	    (r = kmfa_answer_strings(doc,
	    "revocation_endpoint_auth_methods_supported", "discovery",
	    &d->revocation_auth_methods, &d->nrevocation_auth_methods)) !=
	    KMFA_OK)
		goto out;
	*out = d;
	d = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	kmfa_discovery_free(&d);
	return r;
}

/* "<issuer>/.well-known/openid-configuration" (§4: less a final "/"). */
static int
discovery_url(const struct kmfa_config *cfg, struct kmfa_buf *url)
{
	size_t n = strlen(cfg->issuer);

	if (n > 0 && cfg->issuer[n - 1] == '/')
		n--;
	if (kmfa_buf_append(url, cfg->issuer, n) != 0 ||
	    kmfa_buf_printf(url, "/.well-known/openid-configuration") != 0)
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	return KMFA_OK;
}

/*
 * The document through mc (NULL: a plain fetch).  A kept copy that no
 * longer passes kmfa_discovery_parse (its issuer is not the configured one
 * any more, an endpoint went bad) is dropped and the document fetched
 * afresh, so a copy can never decide the outcome a fresh fetch would not.
 */
static int
get_discovery(struct kmfa_http *h, struct kmfa_metacache *mc,
    const struct kmfa_config *cfg, struct kmfa_discovery **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf url = { 0 }, body = { 0 };
	struct kmfa_report_scope sc;
	char shown[KMFA_ANSWER_URL_SHOWN];
	long status = 0;
	int cached = 0;

	*out = NULL;
	if ((r = check_issuer(cfg->issuer, NULL)) != KMFA_OK)
		goto out;
	if ((r = discovery_url(cfg, &url)) != KMFA_OK)
		goto out;
	kmfa_printable(shown, sizeof(shown), url.data);
	if ((r = kmfa_metacache_get(mc, h, "discovery", url.data, 0, &status,
	    &body, &cached)) != KMFA_OK)
		goto out;
	if (cached) {
		kmfa_report_enter(&sc);
		r = kmfa_discovery_parse(body.data, body.len, cfg, out);
		if (r == KMFA_OK || r == KMFA_ERR_NOMEM) {
			kmfa_report_pass(&sc);
			goto out;
		}
		kmfa_debug("the kept discovery document is refused (%s); "
		    "fetching it again", kmfa_report_reason(r));
		kmfa_report_leave(&sc);
		kmfa_metacache_drop(mc, "discovery", url.data);
		if ((r = kmfa_metacache_get(mc, h, "discovery", url.data, 1,
		    &status, &body, &cached)) != KMFA_OK)
			goto out;
	}
	if (status != 200) {
		r = kmfa_fail(KMFA_ERR_IDP, "discovery: %s answered HTTP %ld",
		    shown, status);
		goto out;
	}
	if ((r = kmfa_discovery_parse(body.data, body.len, cfg, out)) !=
	    KMFA_OK) {
		/* Refused: not kept either. */
		kmfa_metacache_drop(mc, "discovery", url.data);
		goto out;
	}
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&url);
	kmfa_buf_wipe(&body);
	return r;
}

int
kmfa_discovery_fetch(struct kmfa_http *h, const struct kmfa_config *cfg,
    struct kmfa_discovery **out)
{
	return get_discovery(h, NULL, cfg, out);
}

int
kmfa_discovery_load(struct kmfa_http *h, struct kmfa_metacache *mc,
    const struct kmfa_config *cfg, struct kmfa_discovery **out)
{
	return get_discovery(h, mc, cfg, out);
}

static int
get_jwks(struct kmfa_http *h, struct kmfa_metacache *mc,
    const struct kmfa_discovery *d, int refetch, struct kmfa_buf *jwks,
    int *cached)
{
	int r = KMFA_ERR_IDP;
	char shown[KMFA_ANSWER_URL_SHOWN];
	long status = 0;

	kmfa_printable(shown, sizeof(shown), d->jwks_uri);
	if ((r = kmfa_metacache_get(mc, h, "jwks", d->jwks_uri, refetch,
	    &status, jwks, cached)) != KMFA_OK)
		goto out;
	if (status != 200) {
		r = kmfa_fail(KMFA_ERR_IDP, "JWKS: %s answered HTTP %ld",
		    shown, status);
		goto out;
	}
	if (jwks->len == 0) {
		r = kmfa_fail(KMFA_ERR_IDP, "JWKS: %s answered with nothing",
		    shown);
		goto out;
	}
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		kmfa_buf_wipe(jwks);
	return r;
}

int
kmfa_discovery_fetch_jwks(struct kmfa_http *h,
    const struct kmfa_discovery *d, struct kmfa_buf *jwks)
{
	int cached;

	return get_jwks(h, NULL, d, 0, jwks, &cached);
}

int
kmfa_discovery_load_jwks(struct kmfa_http *h, struct kmfa_metacache *mc,
    const struct kmfa_discovery *d, int refetch, struct kmfa_buf *jwks,
    int *cached)
{
	return get_jwks(h, mc, d, refetch, jwks, cached);
}

void
kmfa_discovery_forget(struct kmfa_metacache *mc,
    const struct kmfa_config *cfg)
{
	struct kmfa_buf url = { 0 };
	struct kmfa_report_scope sc;

	if (mc == NULL || cfg->issuer == NULL)
		return;
	kmfa_report_enter(&sc);
	if (discovery_url(cfg, &url) == KMFA_OK)
		kmfa_metacache_drop(mc, "discovery", url.data);
	kmfa_report_leave(&sc);
	kmfa_buf_wipe(&url);
}

/*
 * OIDC discovery, the device authorization grant, refresh and revocation.
 * Every answer is parsed by one small set of helpers that insist on the
 * JSON type of each member, refuse members that appear twice (two parsers
 * could disagree about which one counts) and refuse NUL characters (a C
 * string would silently end there).  Messages name the endpoint and the
 * member, never its value when the value may be a secret.
 */
#include <errno.h>
#include <math.h>	/* isnan, a macro: no libm */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/http.h"
#include "oidc/oidc.h"

#define URL_SHOWN 160		/* a URL in a message */
#define ERROR_SHOWN 64		/* an OAuth error code in a message */
#define DESC_SHOWN 160		/* an error_description in a message */
#define USER_CODE_MAX 64	/* RFC 8628 §6.1: meant to be typed */
#define URI_MAX 2048
#define TOKEN_EXPIRES_MAX (10LL * 365 * 86400)

static const char device_grant[] = "urn:ietf:params:oauth:grant-type:device_code";

static volatile sig_atomic_t interrupted;

/* JSON helpers: what is the answer allowed to look like. */

static int
parse_object(const char *json, size_t len, const char *what, cJSON **out)
{
	int r = KMFA_ERR_IDP;
	cJSON *doc = NULL;
	const char *end = NULL;

	*out = NULL;
	if (json == NULL || len == 0) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer is empty", what);
		goto out;
	}
	/*
	 * A NUL, raw or escaped, would cut a C string short: a token or a URL
	 * would no longer be what the IdP sent.  No legitimate answer has one.
	 */
	if (memchr(json, '\0', len) != NULL ||
	    memmem(json, len, "\\u0000", 6) != NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer holds a NUL "
		    "character", what);
		goto out;
	}
	doc = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (doc == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer is not valid JSON "
		    "(or nested too deeply)", what);
		goto out;
	}
	for (; end != NULL && end < json + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\n' &&
		    *end != '\r') {
			r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer has data "
			    "after its JSON value", what);
			goto out;
		}
	}
	if (!cJSON_IsObject(doc)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer is not a JSON "
		    "object", what);
		goto out;
	}
	*out = doc;
	doc = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	return r;
}

/* The first member called name, case-sensitive; NULL when absent. */
static const cJSON *
find(const cJSON *obj, const char *name)
{
	for (const cJSON *it = obj->child; it != NULL; it = it->next)
		if (it->string != NULL && strcmp(it->string, name) == 0)
			return it;
	return NULL;
}

/*
 * The member called name (case-sensitive, unlike cJSON_GetObjectItem), or
 * NULL when absent.  A member given twice is an error.
 */
static int
member(const cJSON *obj, const char *name, const char *what,
    const cJSON **out)
{
	const cJSON *it, *found = NULL;

	*out = NULL;
	cJSON_ArrayForEach(it, obj) {
		if (it->string == NULL || strcmp(it->string, name) != 0)
			continue;
		if (found != NULL)
			return kmfa_fail(KMFA_ERR_IDP, "%s: `%s` appears twice "
			    "in the answer", what, name);
		found = it;
	}
	*out = found;
	return KMFA_OK;
}

/* A non-empty string member; *out stays NULL when absent and optional. */
static int
get_string(const cJSON *obj, const char *name, const char *what,
    int required, char **out)
{
	int r = KMFA_ERR_IDP;
	const cJSON *it;

	*out = NULL;
	if ((r = member(obj, name, what, &it)) != KMFA_OK)
		goto out;
	if (it == NULL || cJSON_IsNull(it)) {
		if (required) {
			r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer has no "
			    "`%s`", what, name);
			goto out;
		}
		r = KMFA_OK;
		goto out;
	}
	if (!cJSON_IsString(it) || it->valuestring == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is not a string", what,
		    name);
		goto out;
	}
	if (it->valuestring[0] == '\0') {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is empty", what, name);
		goto out;
	}
	if ((*out = strdup(it->valuestring)) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = KMFA_OK;
out:
	return r;
}

/* A number member; *present says whether it was there. */
static int
get_number(const cJSON *obj, const char *name, const char *what, double *v,
    int *present)
{
	int r = KMFA_ERR_IDP;
	const cJSON *it;

	*v = 0;
	*present = 0;
	if ((r = member(obj, name, what, &it)) != KMFA_OK)
		goto out;
	if (it == NULL || cJSON_IsNull(it)) {
		r = KMFA_OK;
		goto out;
	}
	/* cJSON turns 1e999 into infinity; NaN cannot be written in JSON. */
	if (!cJSON_IsNumber(it) || isnan(it->valuedouble)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is not a number", what,
		    name);
		goto out;
	}
	*v = it->valuedouble;
	*present = 1;
	r = KMFA_OK;
out:
	return r;
}

/* An optional array of strings. */
static int
get_string_list(const cJSON *obj, const char *name, const char *what,
    char ***out, size_t *nout)
{
	int r = KMFA_ERR_IDP;
	const cJSON *arr, *it;
	char **list = NULL;
	size_t n = 0, i = 0;

	*out = NULL;
	*nout = 0;
	if ((r = member(obj, name, what, &arr)) != KMFA_OK)
		goto out;
	if (arr == NULL || cJSON_IsNull(arr)) {
		r = KMFA_OK;
		goto out;
	}
	if (!cJSON_IsArray(arr)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is not an array", what,
		    name);
		goto out;
	}
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || it->valuestring == NULL) {
			r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` holds something "
			    "other than a string", what, name);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		r = KMFA_OK;
		goto out;
	}
	if ((list = calloc(n, sizeof(*list))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, arr) {
		if ((list[i++] = strdup(it->valuestring)) == NULL) {
			r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = list;
	*nout = n;
	list = NULL;	/* transferred */
	r = KMFA_OK;
out:
	if (list != NULL) {
		for (i = 0; i < n; i++)
			free(list[i]);
		free(list);
	}
	return r;
}

static void
free_list(char ***listp, size_t *np)
{
	for (size_t i = 0; i < *np; i++)
		free((*listp)[i]);
	free(*listp);
	*listp = NULL;
	*np = 0;
}

static int
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Discovery. */

void
kmfa_oidc_free(struct kmfa_oidc **op)
{
	struct kmfa_oidc *o;

	if (op == NULL || (o = *op) == NULL)
		return;
	free(o->issuer);
	free(o->device_authorization_endpoint);
	free(o->token_endpoint);
	free(o->jwks_uri);
	free(o->revocation_endpoint);
	free_list(&o->scopes_supported, &o->nscopes_supported);
	free_list(&o->algs_supported, &o->nalgs_supported);
	free_list(&o->grant_types_supported, &o->ngrant_types_supported);
	free(o);
	*op = NULL;
}

/*
 * The configured issuer: an https URL (or http on loopback) with no query
 * and no fragment (Discovery §4, OIDC Core §2 "iss").
 */
static int
check_issuer(const char *issuer, int *loopback)
{
	char shown[URL_SHOWN];
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
	char *url = NULL, what[64], shown[URL_SHOWN];
	int lo = 0;

	*out = NULL;
	if ((r = get_string(doc, name, "discovery", required, &url)) !=
	    KMFA_OK || url == NULL)
		goto out;
	(void)snprintf(what, sizeof(what), "discovery: %s", name);
	if (strlen(url) > URI_MAX ||
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

int
kmfa_oidc_parse_discovery(const char *json, size_t len,
    const struct kmfa_config *cfg, struct kmfa_oidc **out)
{
	int r = KMFA_ERR_IDP;
	cJSON *doc = NULL;
	struct kmfa_oidc *o = NULL;
	char got[URL_SHOWN], want[URL_SHOWN];
	int lo = 0;

	*out = NULL;
	if ((r = check_issuer(cfg->issuer, &lo)) != KMFA_OK)
		goto out;
	if ((r = parse_object(json, len, "discovery", &doc)) != KMFA_OK)
		goto out;
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = get_string(doc, "issuer", "discovery", 1, &o->issuer)) !=
	    KMFA_OK)
		goto out;
	/*
	 * Discovery §4.3: exactly equal, no normalisation.  This is what ties
	 * the tokens (whose `iss` must equal it too) to the configured URL.
	 */
	if (strcmp(o->issuer, cfg->issuer) != 0) {
		kmfa_printable(got, sizeof(got), o->issuer);
		kmfa_printable(want, sizeof(want), cfg->issuer);
		r = kmfa_fail(KMFA_ERR_IDP, "discovery: issuer '%s' does not "
		    "match the configured '%s'", got, want);
		goto out;
	}
	if ((r = get_endpoint(doc, "token_endpoint", 1, lo,
	    &o->token_endpoint)) != KMFA_OK ||
	    (r = get_endpoint(doc, "jwks_uri", 1, lo, &o->jwks_uri)) !=
	    KMFA_OK ||
	    (r = get_endpoint(doc, "device_authorization_endpoint", 0, lo,
	    &o->device_authorization_endpoint)) != KMFA_OK ||
	    (r = get_endpoint(doc, "revocation_endpoint", 0, lo,
	    &o->revocation_endpoint)) != KMFA_OK)
		goto out;
	if ((r = get_string_list(doc, "scopes_supported", "discovery",
	    &o->scopes_supported, &o->nscopes_supported)) != KMFA_OK ||
	    (r = get_string_list(doc, "id_token_signing_alg_values_supported",
	    "discovery", &o->algs_supported, &o->nalgs_supported)) !=
	    KMFA_OK ||
	    (r = get_string_list(doc, "grant_types_supported", "discovery",
	    &o->grant_types_supported, &o->ngrant_types_supported)) !=
	    KMFA_OK)
		goto out;
	*out = o;
	o = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	kmfa_oidc_free(&o);
	return r;
}

int
kmfa_oidc_discover(struct kmfa_http *h, const struct kmfa_config *cfg,
    struct kmfa_oidc **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf url = { 0 }, body = { 0 };
	char shown[URL_SHOWN];
	size_t n;
	long status = 0;

	*out = NULL;
	if ((r = check_issuer(cfg->issuer, NULL)) != KMFA_OK)
		goto out;
	/* Discovery §4: remove a terminating "/" before appending. */
	n = strlen(cfg->issuer);
	if (n > 0 && cfg->issuer[n - 1] == '/')
		n--;
	if (kmfa_buf_append(&url, cfg->issuer, n) != 0 ||
	    kmfa_buf_printf(&url, "/.well-known/openid-configuration") != 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	kmfa_printable(shown, sizeof(shown), url.data);
	if ((r = kmfa_http_request(h, url.data, NULL, NULL, NULL, &status,
	    &body)) != KMFA_OK)
		goto out;
	if (status != 200) {
		r = kmfa_fail(KMFA_ERR_IDP, "discovery: %s answered HTTP %ld",
		    shown, status);
		goto out;
	}
	if ((r = kmfa_oidc_parse_discovery(body.data, body.len, cfg, out)) !=
	    KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&url);
	kmfa_buf_wipe(&body);
	return r;
}

int
kmfa_oidc_jwks(struct kmfa_http *h, const struct kmfa_oidc *o,
    struct kmfa_buf *jwks)
{
	int r = KMFA_ERR_IDP;
	char shown[URL_SHOWN];
	long status = 0;

	kmfa_printable(shown, sizeof(shown), o->jwks_uri);
	if ((r = kmfa_http_request(h, o->jwks_uri, NULL, NULL, NULL, &status,
	    jwks)) != KMFA_OK)
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

/* Requests to the IdP's OAuth endpoints. */

int
kmfa_oidc_parse_error(const char *json, size_t len, char *error,
    size_t errlen, char *desc, size_t desclen)
{
	int r = KMFA_ERR_NOTFOUND;
	cJSON *doc = NULL;
	const cJSON *e, *d;

	if (errlen > 0)
		error[0] = '\0';
	if (desclen > 0)
		desc[0] = '\0';
	/* Not a cause: the caller says what a non-OAuth answer means. */
	if (json == NULL || len == 0 || memchr(json, '\0', len) != NULL ||
	    (doc = cJSON_ParseWithLength(json, len)) == NULL ||
	    !cJSON_IsObject(doc))
		goto out;
	e = find(doc, "error");
	if (e == NULL || !cJSON_IsString(e) || e->valuestring == NULL ||
	    e->valuestring[0] == '\0')
		goto out;
	kmfa_printable(error, errlen, e->valuestring);
	d = find(doc, "error_description");
	if (d != NULL && cJSON_IsString(d) && d->valuestring != NULL)
		kmfa_printable(desc, desclen, d->valuestring);
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	return r;
}

/*
 * POST form to url, authenticating the client with HTTP Basic when it has a
 * secret: RFC 6749 §2.3.1 wants id and secret form-encoded first.
 */
static int
post(struct kmfa_http *h, const char *url, const struct kmfa_config *cfg,
    const struct kmfa_buf *form, long *status, struct kmfa_buf *body)
{
	int r = KMFA_ERR_INTERNAL;
	struct kmfa_buf user = { 0 }, password = { 0 };

	if (cfg->client_secret != NULL) {
		if ((r = kmfa_http_urlencode(&user, cfg->client_id)) !=
		    KMFA_OK ||
		    (r = kmfa_http_urlencode(&password, cfg->client_secret)) !=
		    KMFA_OK)
			goto out;
		/* An empty string encodes to nothing: data stays NULL. */
		if ((user.data == NULL && kmfa_buf_append(&user, "", 0) != 0) ||
		    (password.data == NULL &&
		    kmfa_buf_append(&password, "", 0) != 0)) {
			r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((r = kmfa_http_request(h, url, form->data, user.data,
	    password.data, status, body)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&user);
	kmfa_buf_wipe(&password);
	return r;
}

/* The client's identity in the form, unless it authenticates by Basic. */
static int
form_client(struct kmfa_buf *form, const struct kmfa_config *cfg)
{
	if (cfg->client_id == NULL || *cfg->client_id == '\0')
		return kmfa_fail(KMFA_ERR_CONFIG, "no client id: give "
		    "--oidc-client-id");
	if (cfg->client_secret != NULL)
		return KMFA_OK;
	return kmfa_http_form_add(form, "client_id", cfg->client_id);
}

/* A failure for an answer that is not 200, in one line. */
static int
refused(const char *what, const char *shown, long status,
    const struct kmfa_buf *body)
{
	char error[ERROR_SHOWN], desc[DESC_SHOWN];

	if (kmfa_oidc_parse_error(body->data, body->len, error, sizeof(error),
	    desc, sizeof(desc)) != KMFA_OK)
		return kmfa_fail(KMFA_ERR_IDP, "%s: %s answered HTTP %ld "
		    "without an OAuth error", what, shown, status);
	return kmfa_fail(KMFA_ERR_IDP, "%s: %s refused: %s%s%s%s", what,
	    shown, error, desc[0] != '\0' ? " (" : "", desc,
	    desc[0] != '\0' ? ")" : "");
}

/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
static int
scope_token_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

static int
scope_has(const struct kmfa_buf *b, const char *s, size_t n)
{
	const char *p = b->data, *end;

	if (p == NULL)
		return 0;
	while (*p != '\0') {
		if ((end = strchr(p, ' ')) == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) == n && memcmp(p, s, n) == 0)
			return 1;
		p = *end == ' ' ? end + 1 : end;
	}
	return 0;
}

int
kmfa_oidc_scope(const struct kmfa_config *cfg, char **out)
{
	int r = KMFA_ERR_CONFIG;
	struct kmfa_buf b = { 0 };
	char shown[64];

	*out = NULL;
	if (kmfa_buf_append(&b, "openid offline_access", 21) != 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->nscopes; i++) {
		/* kubelogin takes "a,b" in one --oidc-extra-scope: so do we. */
		const char *p = cfg->scopes[i];

		for (;;) {
			size_t n = strcspn(p, ",");

			if (!scope_token_ok(p, n)) {
				kmfa_printable(shown, sizeof(shown),
				    cfg->scopes[i]);
				r = kmfa_fail(KMFA_ERR_CONFIG, "--oidc-extra-"
				    "scope '%s' is not a list of scopes "
				    "(RFC 6749 §3.3: no spaces, quotes or "
				    "backslashes; commas separate)", shown);
				goto out;
			}
			if (!scope_has(&b, p, n) &&
			    (kmfa_buf_append(&b, " ", 1) != 0 ||
			    kmfa_buf_append(&b, p, n) != 0)) {
				r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
				goto out;
			}
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
	}
	*out = b.data;
	b.data = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&b);
	return r;
}

/* Parameters the protocol sets itself; --oidc-auth-request-extra-params may not. */
static const char *const reserved_params[] = { "client_id", "client_secret",
	"scope", "grant_type", "device_code", "refresh_token", "token",
	"token_type_hint" };

static int
form_extra_params(struct kmfa_buf *form, const struct kmfa_config *cfg)
{
	int r = KMFA_ERR_CONFIG;
	char *key = NULL, shown[64];
	const char *eq;

	for (size_t i = 0; i < cfg->nextra_params; i++) {
		const char *kv = cfg->extra_params[i];

		kmfa_printable(shown, sizeof(shown), kv);
		if ((eq = strchr(kv, '=')) == NULL || eq == kv) {
			r = kmfa_fail(KMFA_ERR_CONFIG, "--oidc-auth-request-"
			    "extra-params '%s' is not KEY=VALUE", shown);
			goto out;
		}
		if ((key = strndup(kv, (size_t)(eq - kv))) == NULL) {
			r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (size_t j = 0; j < sizeof(reserved_params) /
		    sizeof(reserved_params[0]); j++) {
			if (strcmp(key, reserved_params[j]) == 0) {
				r = kmfa_fail(KMFA_ERR_CONFIG, "--oidc-auth-"
				    "request-extra-params may not set `%s`",
				    reserved_params[j]);
				goto out;
			}
		}
		if ((r = kmfa_http_form_add(form, key, eq + 1)) != KMFA_OK)
			goto out;
		free(key);
		key = NULL;
	}
	r = KMFA_OK;
out:
	free(key);
	return r;
}

/* Device authorization. */

void
kmfa_device_auth_free(struct kmfa_device_auth **dp)
{
	struct kmfa_device_auth *d;

	if (dp == NULL || (d = *dp) == NULL)
		return;
	kmfa_freezero_str(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	free(d);
	*dp = NULL;
}

/*
 * A URI the user will see and a browser may open: the same rule as for
 * endpoints, so no "javascript:", "file:" or terminal escapes.
 */
static int
check_verification_uri(const char *uri, const char *name)
{
	char what[64];

	(void)snprintf(what, sizeof(what), "device authorization: %s", name);
	if (strlen(uri) > URI_MAX || kmfa_http_check_url(uri, what, NULL) !=
	    KMFA_OK)
		return kmfa_fail(KMFA_ERR_IDP, "%s is not an acceptable URL",
		    what);
	return KMFA_OK;
}

int
kmfa_oidc_parse_device_auth(const char *json, size_t len,
    struct kmfa_device_auth **out)
{
	static const char what[] = "device authorization";
	int r = KMFA_ERR_IDP;
	cJSON *doc = NULL;
	struct kmfa_device_auth *d = NULL;
	double v;
	int present;

	*out = NULL;
	if ((r = parse_object(json, len, what, &doc)) != KMFA_OK)
		goto out;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = get_string(doc, "device_code", what, 1, &d->device_code)) !=
	    KMFA_OK ||
	    (r = get_string(doc, "user_code", what, 1, &d->user_code)) !=
	    KMFA_OK ||
	    (r = get_string(doc, "verification_uri", what, 0,
	    &d->verification_uri)) != KMFA_OK)
		goto out;
	/* Google and older drafts of RFC 8628 spell it verification_url. */
	if (d->verification_uri == NULL &&
	    (r = get_string(doc, "verification_url", what, 0,
	    &d->verification_uri)) != KMFA_OK)
		goto out;
	if (d->verification_uri == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer has no "
		    "`verification_uri`", what);
		goto out;
	}
	if ((r = get_string(doc, "verification_uri_complete", what, 0,
	    &d->verification_uri_complete)) != KMFA_OK)
		goto out;
	/* The user code goes to a terminal: no escapes, no essays. */
	if (strlen(d->user_code) > USER_CODE_MAX ||
	    !printable_ascii(d->user_code)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `user_code` is not a short "
		    "printable code", what);
		goto out;
	}
	if ((r = check_verification_uri(d->verification_uri,
	    "verification_uri")) != KMFA_OK ||
	    (d->verification_uri_complete != NULL &&
	    (r = check_verification_uri(d->verification_uri_complete,
	    "verification_uri_complete")) != KMFA_OK))
		goto out;

	/* §3.2: expires_in is required; tolerate its absence, not nonsense. */
	if ((r = get_number(doc, "expires_in", what, &v, &present)) !=
	    KMFA_OK)
		goto out;
	if (!present) {
		kmfa_debug("%s: no expires_in; assuming %d s", what,
		    KMFA_DEVICE_EXPIRES_DEFAULT);
		d->expires_in = KMFA_DEVICE_EXPIRES_DEFAULT;
	} else if (!(v >= 1)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: expires_in %.6g is not a "
		    "positive number of seconds", what, v);
		goto out;
	} else if (v > KMFA_DEVICE_EXPIRES_MAX) {
		kmfa_warn("the identity provider says its device code lives "
		    "%.6g s; using %d s", v, KMFA_DEVICE_EXPIRES_MAX);
		d->expires_in = KMFA_DEVICE_EXPIRES_MAX;
	} else {
		d->expires_in = (int64_t)v;
	}

	/* §3.2: interval defaults to 5 s; §3.5 says to honour it. */
	if ((r = get_number(doc, "interval", what, &v, &present)) != KMFA_OK)
		goto out;
	if (!present) {
		d->interval = KMFA_POLL_INTERVAL_DEFAULT;
	} else if (!(v >= 1)) {
		kmfa_warn("the identity provider asked to poll every %.6g s; "
		    "using %d s", v, KMFA_POLL_INTERVAL_DEFAULT);
		d->interval = KMFA_POLL_INTERVAL_DEFAULT;
	} else if (v > KMFA_POLL_INTERVAL_MAX) {
		kmfa_warn("the identity provider asked to poll every %.6g s; "
		    "using %d s", v, KMFA_POLL_INTERVAL_MAX);
		d->interval = KMFA_POLL_INTERVAL_MAX;
	} else {
		/* Round up: polling early earns a slow_down. */
		d->interval = (int64_t)v;
		if ((double)d->interval < v)
			d->interval++;
	}
	*out = d;
	d = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	kmfa_device_auth_free(&d);
	return r;
}

int
kmfa_oidc_device_authorize(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, struct kmfa_device_auth **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	char *scope = NULL, shown[URL_SHOWN];
	long status = 0;

	*out = NULL;
	if (o->device_authorization_endpoint == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "the identity provider offers no "
		    "device login (no device_authorization_endpoint in its "
		    "discovery document; RFC 8628 §4)");
		goto out;
	}
	kmfa_printable(shown, sizeof(shown),
	    o->device_authorization_endpoint);
	if ((r = kmfa_oidc_scope(cfg, &scope)) != KMFA_OK ||
	    (r = form_client(&form, cfg)) != KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "scope", scope)) != KMFA_OK ||
	    (r = form_extra_params(&form, cfg)) != KMFA_OK)
		goto out;
	if ((r = post(h, o->device_authorization_endpoint, cfg, &form,
	    &status, &body)) != KMFA_OK)
		goto out;
	if (status != 200) {
		r = refused("device authorization", shown, status, &body);
		goto out;
	}
	if ((r = kmfa_oidc_parse_device_auth(body.data, body.len, out)) !=
	    KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	free(scope);
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

/* Tokens. */

void
kmfa_tokens_free(struct kmfa_tokens **tp)
{
	struct kmfa_tokens *t;

	if (tp == NULL || (t = *tp) == NULL)
		return;
	kmfa_freezero_str(t->id_token);
	kmfa_freezero_str(t->access_token);
	kmfa_freezero_str(t->refresh_token);
	free(t->token_type);
	explicit_bzero(t, sizeof(*t));
	free(t);
	*tp = NULL;
}

int
kmfa_oidc_parse_tokens(const char *json, size_t len,
    struct kmfa_tokens **out)
{
	static const char what[] = "token answer";
	int r = KMFA_ERR_IDP;
	cJSON *doc = NULL;
	struct kmfa_tokens *t = NULL;
	char shown[32];
	double v;
	int present;

	*out = NULL;
	if ((r = parse_object(json, len, what, &doc)) != KMFA_OK)
		goto out;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* §5.1: access_token and token_type are required; be lenient on the
	 * latter (some IdPs leave it out), strict on its value. */
	if ((r = get_string(doc, "access_token", what, 1,
	    &t->access_token)) != KMFA_OK ||
	    (r = get_string(doc, "token_type", what, 0, &t->token_type)) !=
	    KMFA_OK ||
	    (r = get_string(doc, "id_token", what, 0, &t->id_token)) !=
	    KMFA_OK ||
	    (r = get_string(doc, "refresh_token", what, 0,
	    &t->refresh_token)) != KMFA_OK)
		goto out;
	/* RFC 6749 §7.1: the type is case-insensitive; RFC 6750 is Bearer. */
	if (t->token_type != NULL && strcasecmp(t->token_type, "Bearer") != 0) {
		kmfa_printable(shown, sizeof(shown), t->token_type);
		r = kmfa_fail(KMFA_ERR_IDP, "%s: token_type '%s' is not "
		    "Bearer", what, shown);
		goto out;
	}
	if ((r = get_number(doc, "expires_in", what, &v, &present)) !=
	    KMFA_OK)
		goto out;
	if (present && !(v >= 0)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: expires_in %.6g is negative",
		    what, v);
		goto out;
	}
	t->expires_in = !present ? 0 : v > (double)TOKEN_EXPIRES_MAX ?
	    TOKEN_EXPIRES_MAX : (int64_t)v;
	*out = t;
	t = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	kmfa_tokens_free(&t);
	return r;
}

/* The poll. */

static int
poll_step(const char *error, const char *desc, int64_t *interval)
{
	char shown[ERROR_SHOWN];

	if (error == NULL)
		return KMFA_OK;
	/* RFC 8628 §3.5. */
	if (strcmp(error, "authorization_pending") == 0)
		return KMFA_ERR_NOTFOUND;
	if (strcmp(error, "slow_down") == 0) {
		*interval += KMFA_POLL_SLOW_DOWN;
		if (*interval > KMFA_POLL_INTERVAL_MAX)
			*interval = KMFA_POLL_INTERVAL_MAX;
		kmfa_debug("slow_down: polling every %lld s",
		    (long long)*interval);
		return KMFA_ERR_NOTFOUND;
	}
	if (strcmp(error, "access_denied") == 0)
		return kmfa_fail(KMFA_ERR_IDP, "the login was denied at the "
		    "identity provider");
	if (strcmp(error, "expired_token") == 0)
		return kmfa_fail(KMFA_ERR_IDP, "the device code expired before "
		    "the login was approved");
	kmfa_printable(shown, sizeof(shown), error);
	return kmfa_fail(KMFA_ERR_IDP, "the identity provider ended the "
	    "device login: %s%s%s%s", shown,
	    desc != NULL && *desc != '\0' ? " (" : "",
	    desc != NULL ? desc : "", desc != NULL && *desc != '\0' ? ")" : "");
}

int
kmfa_device_poll_step(const char *error, int64_t *interval)
{
	return poll_step(error, NULL, interval);
}

void
kmfa_oidc_interrupt(void)
{
	interrupted = 1;
}

/*
 * Sleep for secs seconds of monotonic time.  Slices of at most a second
 * keep the time between kmfa_oidc_interrupt() and the return short even if
 * the signal landed just before a slice began.
 */
static int
wait_seconds(int64_t secs)
{
	struct timespec now, until, slice;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return kmfa_fail(KMFA_ERR_IO, "clock_gettime: %s",
		    strerror(errno));
	until = now;
	until.tv_sec += (time_t)secs;
	for (;;) {
		if (interrupted)
			return kmfa_fail(KMFA_ERR_IO, "the login was "
			    "interrupted");
		if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
			return kmfa_fail(KMFA_ERR_IO, "clock_gettime: %s",
			    strerror(errno));
		if (now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec &&
		    now.tv_nsec >= until.tv_nsec))
			return KMFA_OK;
		slice = now;
		slice.tv_sec += 1;
		if (slice.tv_sec > until.tv_sec ||
		    (slice.tv_sec == until.tv_sec &&
		    slice.tv_nsec > until.tv_nsec))
			slice = until;
		/* EINTR: a signal; the loop looks at the flag again. */
		(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &slice,
		    NULL);
	}
}

int
kmfa_oidc_device_poll(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, const struct kmfa_device_auth *da,
    int64_t deadline, kmfa_poll_cb cb, void *arg, struct kmfa_tokens **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	char shown[URL_SHOWN], error[ERROR_SHOWN], desc[DESC_SHOWN];
	int64_t now, stop, interval = da->interval;
	int by_deadline = 0;
	long status = 0;

	*out = NULL;
	kmfa_printable(shown, sizeof(shown), o->token_endpoint);
	if (interval < 1 || interval > KMFA_POLL_INTERVAL_MAX)
		interval = KMFA_POLL_INTERVAL_DEFAULT;
	stop = kmfa_now() + da->expires_in;
	if (deadline != 0 && deadline < stop) {
		stop = deadline;
		by_deadline = 1;
	}
	/* §3.4 */
	if ((r = kmfa_http_form_add(&form, "grant_type", device_grant)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "device_code", da->device_code)) !=
	    KMFA_OK ||
	    (r = form_client(&form, cfg)) != KMFA_OK)
		goto out;

	for (;;) {
		int64_t wait;

		now = kmfa_now();
		if (now >= stop)
			break;
		if (cb != NULL)
			cb(arg, stop - now);
		/*
		 * §3.5: at least `interval` between requests.  When the next
		 * poll would come after the end, wait out the end instead of
		 * failing early, then give up.
		 */
		wait = interval < stop - now ? interval : stop - now;
		if ((r = wait_seconds(wait)) != KMFA_OK)
			goto out;
		if (kmfa_now() >= stop)
			break;
		kmfa_buf_wipe(&body);
		if ((r = post(h, o->token_endpoint, cfg, &form, &status,
		    &body)) != KMFA_OK)
			goto out;
		if (status == 200) {
			/*
			 * Done, whatever the parse says: a device code is
			 * single-use, so never present it again.
			 */
			r = kmfa_oidc_parse_tokens(body.data, body.len, out);
			goto out;
		}
		if (kmfa_oidc_parse_error(body.data, body.len, error,
		    sizeof(error), desc, sizeof(desc)) != KMFA_OK) {
			r = kmfa_fail(KMFA_ERR_IDP, "device login: %s answered "
			    "HTTP %ld without an OAuth error", shown, status);
			goto out;
		}
		if ((r = poll_step(error, desc, &interval)) !=
		    KMFA_ERR_NOTFOUND)
			goto out;
	}
	if (by_deadline)
		r = kmfa_fail(KMFA_ERR_IDP, "the login was not approved "
		    "within the time allowed (--timeout)");
	else
		r = kmfa_fail(KMFA_ERR_IDP, "the device code expired before "
		    "the login was approved");
out:
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

/* Refresh and revocation. */

int
kmfa_oidc_refresh(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, const char *refresh_token,
    struct kmfa_tokens **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	char shown[URL_SHOWN], error[ERROR_SHOWN], desc[DESC_SHOWN];
	long status = 0;

	*out = NULL;
	kmfa_printable(shown, sizeof(shown), o->token_endpoint);
	if (refresh_token == NULL || *refresh_token == '\0') {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "refresh: no refresh token");
		goto out;
	}
	/* RFC 6749 §6: no scope, so the grant keeps the scope it had. */
	if ((r = kmfa_http_form_add(&form, "grant_type", "refresh_token")) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "refresh_token", refresh_token)) !=
	    KMFA_OK ||
	    (r = form_client(&form, cfg)) != KMFA_OK)
		goto out;
	if ((r = post(h, o->token_endpoint, cfg, &form, &status, &body)) !=
	    KMFA_OK)
		goto out;
	if (status != 200) {
		if (kmfa_oidc_parse_error(body.data, body.len, error,
		    sizeof(error), desc, sizeof(desc)) == KMFA_OK &&
		    strcmp(error, "invalid_grant") == 0)
			r = kmfa_fail(KMFA_ERR_IDP, "the refresh token was "
			    "refused (invalid_grant)");
		else
			r = refused("refresh", shown, status, &body);
		goto out;
	}
	if ((r = kmfa_oidc_parse_tokens(body.data, body.len, out)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

int
kmfa_oidc_revoke(struct kmfa_http *h, const struct kmfa_oidc *o,
    const struct kmfa_config *cfg, const char *refresh_token)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	char shown[URL_SHOWN];
	long status = 0;

	if (o->revocation_endpoint == NULL) {
		r = KMFA_ERR_NOTFOUND;	/* a normal miss, no cause */
		goto out;
	}
	kmfa_printable(shown, sizeof(shown), o->revocation_endpoint);
	if (refresh_token == NULL || *refresh_token == '\0') {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "revoke: no refresh token");
		goto out;
	}
	/* RFC 7009 §2.1 */
	if ((r = kmfa_http_form_add(&form, "token", refresh_token)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "token_type_hint",
	    "refresh_token")) != KMFA_OK ||
	    (r = form_client(&form, cfg)) != KMFA_OK)
		goto out;
	if ((r = post(h, o->revocation_endpoint, cfg, &form, &status,
	    &body)) != KMFA_OK)
		goto out;
	/* §2.2: 200 also when the token was already invalid. */
	if (status != 200) {
		r = refused("revocation", shown, status, &body);
		goto out;
	}
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

/*
 * What every grant sends and gets back.  The token answer is read through
 * oidc/answer.h and judged for what RFC 6749 §5.1 and RFC 6750 promise
 * (a Bearer access token, a sane lifetime); the error answer is read
 * leniently, as a hint for a message: a body that is no OAuth error is
 * "not found", and the caller says what its status means.  Error text from
 * the IdP reaches messages only through kmfa_printable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/answer.h"
#include "oidc/http.h"
#include "oidc/oauth.h"

/* A longer lifetime is taken as this: ten years is "does not expire". */
#define TOKEN_EXPIRES_MAX (10LL * 365 * 86400)

void
kmfa_oauth_tokens_free(struct kmfa_tokens **tp)
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
kmfa_oauth_parse_tokens(const char *json, size_t len,
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
	if ((r = kmfa_answer_parse(json, len, what, &doc)) != KMFA_OK)
		goto out;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* §5.1: access_token and token_type are required; be lenient on the
	 * latter (some IdPs leave it out), strict on its value. */
	if ((r = kmfa_answer_string(doc, "access_token", what, 1,
	    &t->access_token)) != KMFA_OK ||
	    (r = kmfa_answer_string(doc, "token_type", what, 0,
	    &t->token_type)) != KMFA_OK ||
	    (r = kmfa_answer_string(doc, "id_token", what, 0,
	    &t->id_token)) != KMFA_OK ||
	    (r = kmfa_answer_string(doc, "refresh_token", what, 0,
	    &t->refresh_token)) != KMFA_OK)
		goto out;
	/* RFC 6749 §7.1: the type is case-insensitive; RFC 6750 is Bearer. */
	if (t->token_type != NULL && strcasecmp(t->token_type, "Bearer") != 0) {
		kmfa_printable(shown, sizeof(shown), t->token_type);
		r = kmfa_fail(KMFA_ERR_IDP, "%s: token_type '%s' is not "
		    "Bearer", what, shown);
		goto out;
	}
	if ((r = kmfa_answer_number(doc, "expires_in", what, &v, &present)) !=
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
	kmfa_oauth_tokens_free(&t);
	return r;
}

int
kmfa_oauth_parse_error(const char *json, size_t len, char *error,
    size_t errlen, char *desc, size_t desclen)
{
	int r = KMFA_ERR_NOTFOUND;
	cJSON *doc = NULL;
	const cJSON *e, *d;
	char why[KMFA_JSON_WHY_MAX];

	if (errlen > 0)
		error[0] = '\0';
	if (desclen > 0)
		desc[0] = '\0';
	/* Not a cause: the caller says what a non-OAuth answer means. */
	if (kmfa_json_parse_object(json, len, KMFA_HTTP_BODY_MAX, &doc, why,
	    sizeof(why)) != KMFA_OK)
		goto out;
	e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	if (!cJSON_IsString(e) || e->valuestring == NULL ||
	    e->valuestring[0] == '\0')
		goto out;
	kmfa_printable(error, errlen, e->valuestring);
	d = cJSON_GetObjectItemCaseSensitive(doc, "error_description");
	if (cJSON_IsString(d) && d->valuestring != NULL)
		kmfa_printable(desc, desclen, d->valuestring);
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	return r;
}

int
kmfa_oauth_basic_auth(const char *id, const char *secret,
    struct kmfa_buf *header)
{
	int r = KMFA_ERR_NOMEM;
	struct kmfa_buf plain = { 0 };
	char *b64 = NULL;

	kmfa_buf_wipe(header);
	/* §2.3.1: each form-encoded, then joined by ':' (RFC 7617). */
	if ((r = kmfa_http_urlencode(&plain, id)) != KMFA_OK)
		goto out;
	if (kmfa_buf_append(&plain, ":", 1) != 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kmfa_http_urlencode(&plain, secret)) != KMFA_OK)
		goto out;
	if ((r = kmfa_b64_encode((const uint8_t *)plain.data, plain.len,
	    &b64)) != KMFA_OK)
		goto out;
	if (kmfa_buf_printf(header, "Authorization: Basic %s", b64) < 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&plain);
	kmfa_freezero_str(b64);
	if (r != KMFA_OK)
		kmfa_buf_wipe(header);
	return r;
}

int
kmfa_oauth_post(struct kmfa_http *h, const char *url,
    const struct kmfa_config *cfg, const struct kmfa_buf *form, long *status,
    struct kmfa_buf *body)
{
	int r = KMFA_ERR_INTERNAL;
	struct kmfa_buf auth = { 0 };

	if (cfg->client_secret != NULL && (r = kmfa_oauth_basic_auth(
	    cfg->client_id != NULL ? cfg->client_id : "", cfg->client_secret,
	    &auth)) != KMFA_OK)
		goto out;
	if ((r = kmfa_http_request(h, url, form->data, auth.data, status,
	    body)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&auth);
	return r;
}

int
kmfa_oauth_form_client(struct kmfa_buf *form,
    const struct kmfa_config *cfg)
{
	if (cfg->client_id == NULL || *cfg->client_id == '\0')
		return kmfa_fail(KMFA_ERR_CONFIG, "no client id: give "
		    "--oidc-client-id");
	if (cfg->client_secret != NULL)
		return KMFA_OK;
	return kmfa_http_form_add(form, "client_id", cfg->client_id);
}

int
kmfa_oauth_refused(const char *what, const char *shown, long status,
    const struct kmfa_buf *body)
{
	char error[KMFA_OAUTH_ERROR_SHOWN], desc[KMFA_OAUTH_DESC_SHOWN];

	if (kmfa_oauth_parse_error(body->data, body->len, error,
	    sizeof(error), desc, sizeof(desc)) != KMFA_OK)
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
kmfa_oauth_scope(const struct kmfa_config *cfg, int offline_access,
    char **out)
{
	int r = KMFA_ERR_CONFIG;
	struct kmfa_buf b = { 0 };
	char shown[64];

	*out = NULL;
	if (kmfa_buf_append(&b, "openid", 6) != 0 || (offline_access &&
	    kmfa_buf_append(&b, " offline_access", 15) != 0)) {
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

/* Set by the protocol itself: --oidc-auth-request-extra-params may not. */
static const char *const reserved_params[] = { "client_id", "client_secret",
	"scope", "grant_type", "device_code", "refresh_token", "token",
	"token_type_hint", "response_type", "redirect_uri", "state", "nonce",
	"code", "code_challenge", "code_challenge_method", "code_verifier" };

int
kmfa_oauth_form_extra_params(struct kmfa_buf *form,
    const struct kmfa_config *cfg)
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

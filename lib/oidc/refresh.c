/*
 * The refresh request and the one refusal the caller must be able to tell
 * apart.  The refresh token goes only in the form body, which is wiped.
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/answer.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"
#include "oidc/refresh.h"

int
kmfa_refresh_tokens(struct kmfa_http *h, const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, const char *refresh_token,
    struct kmfa_tokens **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	char shown[KMFA_ANSWER_URL_SHOWN], error[KMFA_OAUTH_ERROR_SHOWN];
	char desc[KMFA_OAUTH_DESC_SHOWN];
	long status = 0;

	*out = NULL;
	kmfa_printable(shown, sizeof(shown), d->token_endpoint);
	if (refresh_token == NULL || *refresh_token == '\0') {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "refresh: no refresh token");
		goto out;
	}
	/* RFC 6749 §6: no scope, so the grant keeps the scope it had. */
	if ((r = kmfa_http_form_add(&form, "grant_type", "refresh_token")) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "refresh_token", refresh_token)) !=
	    KMFA_OK ||
	    (r = kmfa_oauth_form_client(&form, cfg)) != KMFA_OK)
		goto out;
	if ((r = kmfa_oauth_post(h, d->token_endpoint, cfg, &form, &status,
	    &body)) != KMFA_OK)
		goto out;
	if (status != 200) {
		if (kmfa_oauth_parse_error(body.data, body.len, error,
		    sizeof(error), desc, sizeof(desc)) == KMFA_OK &&
		    strcmp(error, "invalid_grant") == 0)
			r = kmfa_fail(KMFA_ERR_IDP, "the refresh token was "
			    "refused (invalid_grant)");
		else
			r = kmfa_oauth_refused("refresh", shown, status, &body);
		goto out;
	}
	if ((r = kmfa_oauth_parse_tokens(body.data, body.len, out)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

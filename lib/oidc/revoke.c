/*
 * The revocation request.  The body of the answer matters only when it is
 * not a 200, to name the refusal; a 200 is success, even for a token the
 * IdP had already forgotten.
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
#include "oidc/revoke.h"

int
kmfa_revoke_refresh_token(struct kmfa_http *h,
    const struct kmfa_discovery *d, const struct kmfa_config *cfg,
    const char *refresh_token)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	char shown[KMFA_ANSWER_URL_SHOWN];
	long status = 0;

	if (d->revocation_endpoint == NULL) {
		r = KMFA_ERR_NOTFOUND;	/* a normal miss, no cause */
		goto out;
	}
	kmfa_printable(shown, sizeof(shown), d->revocation_endpoint);
	if (refresh_token == NULL || *refresh_token == '\0') {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "revoke: no refresh token");
		goto out;
	}
	/* RFC 7009 §2.1 */
	if ((r = kmfa_http_form_add(&form, "token", refresh_token)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "token_type_hint",
	    "refresh_token")) != KMFA_OK ||
	    (r = kmfa_oauth_form_client(&form, cfg)) != KMFA_OK)
		goto out;
	if ((r = kmfa_oauth_post(h, d->revocation_endpoint, cfg, &form,
	    &status, &body)) != KMFA_OK)
		goto out;
	/* §2.2: 200 also when the token was already invalid. */
	if (status != 200) {
		r = kmfa_oauth_refused("revocation", shown, status, &body);
		goto out;
	}
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

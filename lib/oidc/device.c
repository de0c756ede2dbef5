/*
 * The device grant, in the order a login runs it: the authorization
 * request and its answer, then the poll.  Every number the IdP sends is
 * bounded before it steers a wait, so that a hostile or broken IdP can
 * neither make the plugin hammer it nor keep it waiting for a day.  The
 * poll sleeps on the monotonic clock in slices of a second, so that
 * kmfa_device_interrupt() from a signal handler ends it promptly.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/answer.h"
#include "oidc/device.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"

#define USER_CODE_MAX 64	/* RFC 8628 §6.1: meant to be typed */

/* RFC 8628 §3.4 */
static const char device_grant[] =
    "urn:ietf:params:oauth:grant-type:device_code";

static volatile sig_atomic_t interrupted;

static int
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

void
kmfa_device_auth_free(struct kmfa_device_auth **dp)
{
	struct kmfa_device_auth *da;

	if (dp == NULL || (da = *dp) == NULL)
		return;
	kmfa_freezero_str(da->device_code);
	kmfa_pkce_wipe(&da->pk);
	free(da->scope);
	free(da->user_code);
	free(da->verification_uri);
	free(da->verification_uri_complete);
	free(da);
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
	if (strlen(uri) > KMFA_ANSWER_URI_MAX ||
	    kmfa_http_check_url(uri, what, NULL) != KMFA_OK)
		return kmfa_fail(KMFA_ERR_IDP, "%s is not an acceptable URL",
		    what);
	return KMFA_OK;
}

int
kmfa_device_parse_auth(const char *json, size_t len,
    struct kmfa_device_auth **out)
{
	static const char what[] = "device authorization";
	int r = KMFA_ERR_IDP;
	cJSON *doc = NULL;
	struct kmfa_device_auth *da = NULL;
	double v;
	int present;

	*out = NULL;
	if ((r = kmfa_answer_parse(json, len, what, &doc)) != KMFA_OK)
		goto out;
	if ((da = calloc(1, sizeof(*da))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kmfa_answer_string(doc, "device_code", what, 1,
	    &da->device_code)) != KMFA_OK ||
	    (r = kmfa_answer_string(doc, "user_code", what, 1,
	    &da->user_code)) != KMFA_OK ||
	    (r = kmfa_answer_string(doc, "verification_uri", what, 0,
	    &da->verification_uri)) != KMFA_OK)
		goto out;
	/* Google and older drafts of RFC 8628 spell it verification_url. */
	if (da->verification_uri == NULL &&
	    (r = kmfa_answer_string(doc, "verification_url", what, 0,
	    &da->verification_uri)) != KMFA_OK)
		goto out;
	if (da->verification_uri == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer has no "
		    "`verification_uri`", what);
		goto out;
	}
	if ((r = kmfa_answer_string(doc, "verification_uri_complete", what, 0,
	    &da->verification_uri_complete)) != KMFA_OK)
		goto out;
	/* The user code goes to a terminal: no escapes, no essays. */
	if (strlen(da->user_code) > USER_CODE_MAX ||
	    !printable_ascii(da->user_code)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `user_code` is not a short "
		    "printable code", what);
		goto out;
	}
	if ((r = check_verification_uri(da->verification_uri,
	    "verification_uri")) != KMFA_OK ||
	    (da->verification_uri_complete != NULL &&
	    (r = check_verification_uri(da->verification_uri_complete,
	    "verification_uri_complete")) != KMFA_OK))
		goto out;

	/* §3.2: expires_in is required; tolerate its absence, not nonsense. */
	if ((r = kmfa_answer_number(doc, "expires_in", what, &v, &present)) !=
	    KMFA_OK)
		goto out;
	if (!present) {
		kmfa_debug("%s: no expires_in; assuming %d s", what,
		    KMFA_DEVICE_EXPIRES_DEFAULT);
		da->expires_in = KMFA_DEVICE_EXPIRES_DEFAULT;
	} else if (!(v >= 1)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: expires_in %.6g is not a "
		    "positive number of seconds", what, v);
		goto out;
	} else if (v > KMFA_DEVICE_EXPIRES_MAX) {
		kmfa_warn("the identity provider says its device code lives "
		    "%.6g s; using %d s", v, KMFA_DEVICE_EXPIRES_MAX);
		da->expires_in = KMFA_DEVICE_EXPIRES_MAX;
	} else {
		da->expires_in = (int64_t)v;
	}

	/* §3.2: interval defaults to 5 s; §3.5 says to honour it. */
	if ((r = kmfa_answer_number(doc, "interval", what, &v, &present)) !=
	    KMFA_OK)
		goto out;
	if (!present) {
		da->interval = KMFA_POLL_INTERVAL_DEFAULT;
	} else if (!(v >= 1)) {
		kmfa_warn("the identity provider asked to poll every %.6g s; "
		    "using %d s", v, KMFA_POLL_INTERVAL_DEFAULT);
		da->interval = KMFA_POLL_INTERVAL_DEFAULT;
	} else if (v > KMFA_POLL_INTERVAL_MAX) {
		kmfa_warn("the identity provider asked to poll every %.6g s; "
		    "using %d s", v, KMFA_POLL_INTERVAL_MAX);
		da->interval = KMFA_POLL_INTERVAL_MAX;
	} else {
		/* Round up: polling early earns a slow_down. */
		da->interval = (int64_t)v;
		if ((double)da->interval < v)
			da->interval++;
	}
	*out = da;
	da = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	kmfa_device_auth_free(&da);
	return r;
}

int
kmfa_device_authorize(struct kmfa_http *h, const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, struct kmfa_device_auth **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	struct kmfa_pkce pk;
	char *scope = NULL, shown[KMFA_ANSWER_URL_SHOWN];
	long status = 0;
	int offline = 0, pkce = 0;

	*out = NULL;
	memset(&pk, 0, sizeof(pk));
	if (d->device_authorization_endpoint == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "the identity provider offers no "
		    "device login (no device_authorization_endpoint in its "
		    "discovery document; RFC 8628 §4)");
		goto out;
	}
	kmfa_printable(shown, sizeof(shown),
	    d->device_authorization_endpoint);
	if ((r = kmfa_discovery_offline_access(d, cfg, &offline)) !=
	    KMFA_OK ||
	    (r = kmfa_oauth_scope(cfg, offline, &scope)) != KMFA_OK ||
	    (r = kmfa_oauth_form_client(&form, cfg)) != KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "scope", scope)) != KMFA_OK ||
	    (r = kmfa_oauth_form_extra_params(&form, cfg)) != KMFA_OK ||
	    (cfg->login_hint != NULL && (r = kmfa_http_form_add(&form,
	    "login_hint", cfg->login_hint)) != KMFA_OK))
		goto out;
	/*
	 * RFC 7636 on the device grant: Keycloak demands it of a client that
	 * enforces PKCE (https://github.com/keycloak/keycloak/issues/9710,
	 * https://github.com/int128/kubelogin/issues/1470); the method is
	 * always explicit, since Dex takes a missing one for plain.
	 */
	if ((pkce = kmfa_discovery_pkce_s256(d)) &&
	    ((r = kmfa_pkce_new(&pk)) != KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "code_challenge", pk.challenge)) !=
	    KMFA_OK ||
	    (r = kmfa_http_form_add(&form, "code_challenge_method", "S256")) !=
	    KMFA_OK))
		goto out;
	kmfa_debug("device authorization: scope \"%s\"%s", scope,
	    pkce ? ", PKCE S256" : "");
	if ((r = kmfa_oauth_post(h, d->device_authorization_endpoint, cfg,
	    &form, &status, &body)) != KMFA_OK)
		goto out;
	if (status != 200) {
		r = kmfa_oauth_refused("device authorization", shown, status,
		    &body);
		goto out;
	}
	if ((r = kmfa_device_parse_auth(body.data, body.len, out)) !=
	    KMFA_OK)
		goto out;
	(*out)->scope = scope;
	scope = NULL;	/* transferred */
	(*out)->pkce = pkce;
	(*out)->pk = pk;
	r = KMFA_OK;
out:
	kmfa_pkce_wipe(&pk);
	free(scope);
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	return r;
}

/* The poll. */

static int
poll_step(const char *error, const char *desc, int64_t *interval)
{
	char shown[KMFA_OAUTH_ERROR_SHOWN];

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
	/*
	 * Microsoft Entra ID says authorization_declined for a denial
	 * (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
	 */
	if (strcmp(error, "access_denied") == 0 ||
	    strcmp(error, "authorization_declined") == 0)
		return kmfa_fail(KMFA_ERR_IDP, "the login was denied at the "
		    "identity provider");
	if (strcmp(error, "expired_token") == 0)
		return kmfa_fail(KMFA_ERR_IDP, "the device code expired before "
		    "the login was approved");
	/*
	 * The same code presented again after expired_token: Auth0 answers
	 * invalid_grant then
	 * (https://auth0.com/docs/quickstart/native/device/interactive).
	 * Never reached twice (the poll stops at the first), but a device
	 * code that the IdP no longer knows is an expiry to the user.
	 */
	if (strcmp(error, "invalid_grant") == 0)
		return kmfa_fail(KMFA_ERR_IDP, "the identity provider no longer "
		    "accepts the device code (invalid_grant: expired or already "
		    "used); log in again");
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
kmfa_device_interrupt(void)
{
	interrupted = 1;
}

/*
 * Sleep for secs seconds of monotonic time.  Slices of at most a second
 * keep the time between kmfa_device_interrupt() and the return short even if
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
kmfa_device_poll(struct kmfa_http *h, const struct kmfa_discovery *d,
    const struct kmfa_config *cfg, const struct kmfa_device_auth *da,
    int64_t deadline, kmfa_device_poll_cb cb, void *arg,
    struct kmfa_tokens **out)
{
	int r = KMFA_ERR_IDP;
	struct kmfa_buf form = { 0 }, body = { 0 };
	char shown[KMFA_ANSWER_URL_SHOWN], error[KMFA_OAUTH_ERROR_SHOWN];
	char desc[KMFA_OAUTH_DESC_SHOWN];
	int64_t now, stop, interval = da->interval;
	int by_deadline = 0;
	long status = 0;

	*out = NULL;
	kmfa_printable(shown, sizeof(shown), d->token_endpoint);
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
	    (r = kmfa_oauth_form_client(&form, cfg)) != KMFA_OK)
		goto out;
	/* RFC 7636 §4.5, with the challenge's own grant. */
	if (da->pkce && (r = kmfa_http_form_add(&form, "code_verifier",
	    da->pk.verifier)) != KMFA_OK)
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
		if ((r = kmfa_oauth_post(h, d->token_endpoint, cfg, &form,
		    &status, &body)) != KMFA_OK)
			goto out;
		if (status == 200) {
			/*
			 * Done, whatever the parse says: a device code is
			 * single-use, so never present it again.
			 */
			r = kmfa_oauth_parse_tokens(body.data, body.len, out);
			goto out;
		}
		/*
		 * Any 4xx with an OAuth error is judged by its `error`, not
		 * its status (see kmfa_device_poll_step); a 5xx is the
		 * server failing, whatever its body says.
		 */
		if (status < 400 || status > 499 ||
		    kmfa_oauth_parse_error(body.data, body.len, error,
		    sizeof(error), desc, sizeof(desc)) != KMFA_OK) {
			r = kmfa_fail(KMFA_ERR_IDP, "device login: %s answered "
			    "HTTP %ld%s", shown, status, status >= 400 &&
			    status <= 499 ? " without an OAuth error" : "");
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

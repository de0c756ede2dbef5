/*
 * The flow.  Its one rule is to fail closed: every path that ends in a
 * printed token passed the touch the configuration demands (when
 * --fido2 required) and an ID-token validation against the issuer's keys.
 * Errors leave the stored entry as it was: a new record is written only
 * once a complete, validated one exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "flow/flow.h"
#include "jose/jwt.h"
#include "key/fido2_touch.h"
#include "key/proof.h"
#include "key/seal.h"
#include "oidc/authcode.h"
#include "oidc/device.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/loopback.h"
#include "oidc/metacache.h"
#include "oidc/oauth.h"
#include "oidc/refresh.h"
#include "oidc/revoke.h"
#include "store/lock.h"
#include "store/store.h"
#include "token/record.h"
#include "ui/audit.h"
#include "ui/presence.h"
#include "ui/prompt.h"
#include "ui/tty.h"

/* Leeway for nbf and iat only; exp gets none (docs/DESIGN.md §8). */
#define CLOCK_LEEWAY 60

/* How long a re-seal waits for another entry's lock: a login may hold it. */
#define LOCK_MS		2000

struct flow {
	const struct kmfa_config *cfg;
	const struct kmfa_execinfo *ei;
	char *identity;
	char key[65];
	struct kmfa_store *store;
	struct kmfa_record *old;	/* the stored record, if any */
	struct kmfa_touch touch;
	int touched;
	int old_sealed;		/* the stored record held a sealed refresh token */
	struct kmfa_http *http;
	struct kmfa_discovery *oidc;
	struct kmfa_metacache *meta;	/* the kept discovery and JWKS */
	int64_t deadline;
	int drop_refresh;	/* the login must not carry f->old's over */
	const char *unattended;	/* why nobody is present: only a refresh,
				 * never a login (a CI profile) */
	char *proof_ctx;	/* --server-proof: what the touch bound */
};

/*
 * Unattended, a CI profile waits this long for the entry's lock: long
 * enough for the refresh another job is making, never for a person's login
 * (docs/DESIGN.md §3 step 4: CI never waits on a person).
 */
#define UNATTENDED_LOCK_MS 30000

static void
audit(const struct flow *f, const char *event, const char *subject, int r)
{
	struct kmfa_audit_event ev = {
		.event = event,
		.issuer = f->cfg->issuer,
		.subject = subject,
		.key_name = f->touch.key_name,
		.outcome = r == KMFA_OK ? "ok" : "error",
		.error = r == KMFA_OK ? NULL : kmfa_report_reason(r),
	};

	kmfa_audit(f->cfg, &ev);
}

char *
kmfa_flow_login_hint(const struct kmfa_config *cfg)
{
	struct kmfa_buf b = { 0 };
	char **argv = NULL, *out = NULL;

	if (kmfa_config_argv(cfg, KMFA_OPT_HINT, &argv, NULL) != KMFA_OK ||
	    kmfa_buf_printf(&b, "kubectl mfa login") != 0)
		goto out;
	for (size_t i = 0; argv[i] != NULL; i++)
		if (kmfa_buf_printf(&b, " %s", argv[i]) != 0)
			goto out;
	out = b.data;
	b.data = NULL;	/* transferred */
out:
	free(b.data);
	kmfa_config_argv_free(&argv);
	return out;
}

/* Load the stored record; a damaged one is reported and counts as none. */
static int
load_record(struct flow *f)
{
	int r;

	struct kmfa_report_scope sc;

	kmfa_record_free(&f->old);
	kmfa_report_enter(&sc);
	r = kmfa_store_load(f->store, f->key, &f->old);
	/* Unreadable or damaged: a miss.  The login that follows still
	 * demands the touch, so this never fails open. */
	if (r == KMFA_ERR_DAMAGED || r == KMFA_ERR_IO) {
		kmfa_warn("%s", kmfa_report_reason(r));
		r = KMFA_OK;
	}
	if (r == KMFA_ERR_NOTFOUND)
		r = KMFA_OK;
	if (r == KMFA_OK)
		kmfa_report_leave(&sc);
	else
		kmfa_report_pass(&sc);
	return r;
}

static int
render(const struct flow *f, const struct kmfa_record *rec,
    struct kmfa_buf *cred)
{
	int64_t until = kmfa_record_usable_until(rec, f->cfg, f->identity);

	return kmfa_execcred_render(cred, f->ei->api, rec->token, until);
}

static int
require_claims(const struct kmfa_config *cfg, const struct kmfa_jwt_claims *c)
{
	char acr[64], want[64];

	/* acr is the IdP's choice: it reaches the message printable. */
	if (cfg->require_acr != NULL && (c->acr == NULL ||
	    strcmp(c->acr, cfg->require_acr) != 0))
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: acr is '%s', "
		    "not the required '%s'", kmfa_printable(acr, sizeof(acr),
		    c->acr ? c->acr : "(none)"), kmfa_printable(want,
		    sizeof(want), cfg->require_acr));
	if (cfg->require_amr != NULL) {
		for (size_t i = 0; i < c->namr; i++)
			if (strcmp(c->amr[i], cfg->require_amr) == 0)
				return KMFA_OK;
		return kmfa_fail(KMFA_ERR_TOKEN, "ID token: amr does not "
		    "contain the required '%s'", cfg->require_amr);
	}
	return KMFA_OK;
}

/* The record's refresh token when this touch cannot seal a new one. */
static int
keep_sealed(const struct flow *f, struct kmfa_record *rec)
{
	const char *key = f->touch.key_name != NULL ? f->touch.key_name : "?";

	if (f->old != NULL && f->old->refresh != NULL &&
	    f->old->refresh_sealed) {
		if ((rec->refresh = strdup(f->old->refresh)) == NULL)
			return KMFA_ERR_NOMEM;
		rec->refresh_sealed = 1;
		kmfa_info("security key '%s' cannot seal (no hmac-secret "
		    "output): the new refresh token is not stored; the sealed "
		    "one is kept", key);
	} else {
		kmfa_info("security key '%s' cannot seal (no hmac-secret "
		    "output): the refresh token is not stored, so the next "
		    "login runs a device flow", key);
	}
	return KMFA_OK;
}

/*
 * Validate what the IdP returned and build the record to store.  The ID
 * token is validated even when the access token is what kubectl gets: it
 * is the IdP's signed statement of who logged in.
 */
/*
 * The record for tokens whose subject is known: sub from a validated ID
 * token (id_exp its expiry, which caps an access token's), or, for a
 * refresh answer without an ID token under --oidc-use-access-token, the
 * stored record's subject (id_exp 0: no ID token to cap by).
 */
static int
fill_record(struct flow *f, const struct kmfa_tokens *tok, const char *sub,
    int64_t id_exp, const char *old_refresh, struct kmfa_record **out)
{
	struct kmfa_record *rec = NULL;
	const char *refresh;
	int64_t now = kmfa_now();
	int r = KMFA_ERR_NOMEM;

	*out = NULL;
	if ((rec = kmfa_record_new()) == NULL ||
	    (rec->identity = strdup(f->identity)) == NULL ||
	    (rec->issuer = strdup(f->cfg->issuer)) == NULL ||
	    (rec->client_id = strdup(f->cfg->client_id)) == NULL ||
	    (rec->subject = strdup(sub)) == NULL)
		goto out;
	if (f->cfg->use_access_token) {
		if (tok->access_token == NULL || tok->expires_in <= 0) {
			r = kmfa_fail(KMFA_ERR_TOKEN, "--oidc-use-access-token: "
			    "the identity provider returned no access token "
			    "with an expiry");
			goto out;
		}
		if ((rec->token = strdup(tok->access_token)) == NULL)
			goto out;
		rec->token_exp = now + tok->expires_in;
		if (id_exp != 0 && rec->token_exp > id_exp)
			rec->token_exp = id_exp;
	} else {
		if (tok->id_token == NULL) {
			/* build_record checked: unreachable */
			r = kmfa_fail(KMFA_ERR_INTERNAL, "no ID token");
			goto out;
		}
		if ((rec->token = strdup(tok->id_token)) == NULL)
			goto out;
		rec->token_exp = id_exp;
	}
	rec->obtained_at = now;
	if (f->touched) {
		rec->touched_at = now;
		if (f->touch.key_name != NULL &&
		    (rec->key_name = strdup(f->touch.key_name)) == NULL)
			goto out;
	}
	/*
	 * The IdP's new refresh token, else the old one when it did not
	 * rotate it (RFC 6749 §6).  Whatever we hold in plain text is sealed
	 * when the touch opened the master key, so a token stored unsealed
	 * before the first hmac-secret key was enrolled gets sealed now.
	 */
	refresh = tok->refresh_token != NULL ? tok->refresh_token : old_refresh;
	if (refresh != NULL) {
		if (f->touched && f->touch.have_mk) {
			if ((r = kmfa_seal_refresh(f->touch.mk, f->identity, refresh,
			    &rec->refresh)) != KMFA_OK)
				goto out;
			rec->refresh_sealed = 1;
		} else if (f->touched && (f->touch.sealing || f->old_sealed)) {
			/*
			 * Sealing is set up (a slot in the credentials file, or
			 * a sealed token in the record), but this touch did not
			 * open the master key (a key without hmac-secret, or a
			 * file edited to say so): never fall back to plain text.
			 * Keep the sealed token while it is there, else none.
			 */
			if ((r = keep_sealed(f, rec)) != KMFA_OK)
				goto out;
		} else {
			if ((rec->refresh = strdup(refresh)) == NULL)
				goto out;
		}
	} else if (!f->drop_refresh && f->old != NULL &&
	    f->old->refresh != NULL) {
		if ((rec->refresh = strdup(f->old->refresh)) == NULL)
			goto out;
		rec->refresh_sealed = f->old->refresh_sealed;
	}
	if (kmfa_record_usable_until(rec, f->cfg, f->identity) <= now) {
		r = kmfa_fail(KMFA_ERR_TOKEN, "the identity provider issued a "
		    "token that expires within the %llds skew; shorten --skew "
		    "or --session-max, or lengthen the IdP's token lifetime",
		    (long long)f->cfg->skew);
		goto out;
	}
	*out = rec;
	rec = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_record_free(&rec);
	return r;
}

/*
 * Verify the ID token against the issuer's keys, the kept JWKS first.
 * When the kept copy does not verify it (a rotated key, most often: a kid
 * the copy lacks), the JWKS is fetched once more and the verdict is the
 * fresh one's, so a kept copy never refuses what the provider's keys
 * accept; what it may accept is bounded by its lifetime (oidc/freshness.h).
 */
static int
verify_id_token(struct flow *f, const char *id_token,
    const struct kmfa_jwt_expect *want, struct kmfa_jwt_claims **claims)
{
	struct kmfa_buf jwks = { 0 };
	struct kmfa_report_scope sc;
	int r, cached = 0;

	if ((r = kmfa_discovery_load_jwks(f->http, f->meta, f->oidc, 0, &jwks,
	    &cached)) != KMFA_OK)
		goto out;
	kmfa_report_enter(&sc);
	r = kmfa_jwt_verify(id_token, jwks.data, jwks.len, want, claims);
	if (r == KMFA_OK || !cached) {
		kmfa_report_pass(&sc);
		goto out;
	}
	kmfa_debug("the kept JWKS does not verify the ID token (%s); "
	    "fetching it again", kmfa_report_reason(r));
	kmfa_report_leave(&sc);
	if ((r = kmfa_discovery_load_jwks(f->http, f->meta, f->oidc, 1, &jwks,
	    &cached)) != KMFA_OK)
		goto out;
	r = kmfa_jwt_verify(id_token, jwks.data, jwks.len, want, claims);
out:
	kmfa_buf_wipe(&jwks);
	return r;
}

static int
build_record(struct flow *f, const struct kmfa_tokens *tok,
    const char *old_refresh, struct kmfa_record **out)
{
	struct kmfa_jwt_claims *claims = NULL;
	struct kmfa_jwt_expect want;
	int r = KMFA_ERR_TOKEN;

	*out = NULL;
	if (tok->id_token == NULL) {
		/*
		 * Only a login gets here without one (try_refresh handles a
		 * refresh answer without it).  Zitadel's device grant sent
		 * none before zitadel/oidc#500
		 * (https://github.com/zitadel/oidc/issues/426).
		 */
		r = kmfa_fail(KMFA_ERR_TOKEN, "the identity provider "
		    "answered the login without an ID token although openid "
		    "was asked for (is the openid scope allowed for this "
		    "client? Zitadel releases before zitadel/oidc#500, Dec 2023, "
		    "send none on the device grant: upgrade it)");
		goto out;
	}
	want.issuer = f->cfg->issuer;
	want.client_id = f->cfg->client_id;
	want.now = kmfa_now();
	want.leeway = CLOCK_LEEWAY;
	if ((r = verify_id_token(f, tok->id_token, &want, &claims)) !=
	    KMFA_OK)
		goto out;
	if ((r = require_claims(f->cfg, claims)) != KMFA_OK)
		goto out;
	r = fill_record(f, tok, claims->sub, claims->exp, old_refresh, out);
out:
	kmfa_jwt_claims_free(&claims);
	return r;
}

static void
poll_progress(void *arg, int64_t seconds_left)
{
	(void)arg;
	kmfa_prompt_waiting(seconds_left, 0);
}

static int
device_flow(struct flow *f, struct kmfa_tokens **out)
{
	struct kmfa_device_auth *da = NULL;
	int r;

	if ((r = kmfa_device_authorize(f->http, f->oidc, f->cfg, &da))
	    != KMFA_OK)
		goto out;
	kmfa_prompt_device_code(f->cfg, da->verification_uri,
	    da->verification_uri_complete, da->user_code, da->expires_in);
	kmfa_prompt_open_browser(f->cfg, da->verification_uri_complete != NULL ?
	    da->verification_uri_complete : da->verification_uri);
	r = kmfa_device_poll(f->http, f->oidc, f->cfg, da, f->deadline,
	    poll_progress, NULL, out);
	kmfa_prompt_waiting(0, 1);
out:
	kmfa_device_auth_free(&da);
	return r;
}

enum grant {
	GRANT_AUTO,
	GRANT_AUTHCODE,		/* the browser, back through the loopback */
	GRANT_KEYBOARD,		/* the browser anywhere, the code pasted */
	GRANT_DEVICE,
};

/* --grant-type, kubelogin's words. */
static int
parse_grant(const char *v, enum grant *g)
{
	if (v == NULL || strcmp(v, "auto") == 0)
		*g = GRANT_AUTO;
	else if (strcmp(v, "authcode") == 0)
		*g = GRANT_AUTHCODE;
	else if (strcmp(v, "authcode-keyboard") == 0)
		*g = GRANT_KEYBOARD;
	else if (strcmp(v, "device-code") == 0)
		*g = GRANT_DEVICE;
	else
		return kmfa_fail(KMFA_ERR_USAGE, "--grant-type takes auto, "
		    "authcode, authcode-keyboard or device-code");
	return KMFA_OK;
}

/*
 * A browser on this machine can reach our loopback listener: a desktop
 * session, not reached over SSH (the browser would be the far end's), not
 * inside a container (whose 127.0.0.1 is not the desktop's).  A
 * --browser-command says how a browser is opened here, which settles the
 * SSH and container guesses, but not the desktop: that option opened the
 * device flow's page before browser logins existed, and a headless
 * configuration that hands the URL to something else (a phone, a script)
 * must not change grants under its user.
 */
static int
desktop_browser(const struct kmfa_config *cfg, const char **why)
{
	const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");

	if ((d == NULL || *d == '\0') && (w == NULL || *w == '\0')) {
		*why = "no desktop session";
		return 0;
	}
	if (cfg->browser_command != NULL) {
		*why = "a desktop session and --browser-command";
		return 1;
	}
	if (getenv("SSH_CONNECTION") != NULL || getenv("SSH_TTY") != NULL) {
		*why = "an SSH session";
		return 0;
	}
	if (getenv("container") != NULL || access("/.dockerenv", F_OK) == 0 ||
	    access("/run/.containerenv", F_OK) == 0) {
		*why = "a container";
		return 0;
	}
	*why = "a desktop session";
	return 1;
}

/* auto, resolved against this machine and the issuer; said once. */
static enum grant
choose_grant(const struct flow *f, enum grant g)
{
	const char *why;

	if (g != GRANT_AUTO)
		return g;
	if (desktop_browser(f->cfg, &why) &&
	    f->oidc->authorization_endpoint != NULL) {
		kmfa_info("logging in with the browser (authorization code "
		    "flow: %s; --grant-type device-code for the device flow)",
		    why);
		return GRANT_AUTHCODE;
	}
	if (f->oidc->device_authorization_endpoint == NULL &&
	    f->oidc->authorization_endpoint != NULL) {
		kmfa_info("logging in with the browser (authorization code "
		    "flow: the identity provider offers no device flow)");
		return GRANT_AUTHCODE;
	}
	kmfa_info("logging in with the device flow (%s)",
	    f->oidc->authorization_endpoint == NULL ? "the identity provider "
	    "offers no browser login" : why);
	return GRANT_DEVICE;
}

/*
 * The code as the user pastes it: the bare code, or the whole URL the
 * provider showed (then its state must be this login's).  PKCE binds the
 * code to this login either way: a code the user was tricked into pasting
 * was issued against another verifier and the exchange fails.
 */
static int
read_pasted_code(const struct flow *f, const struct kmfa_authcode *ac,
    char **code)
{
	struct kmfa_report_scope sc;
	char *line = NULL, *st = NULL, why[160];
	const char *q;
	int r;

	*code = NULL;
	/* The terminal's failure is the login's, not a security key's. */
	kmfa_report_enter(&sc);
	r = kmfa_tty_read_pin(NULL, "Paste the code the identity provider "
	    "shows (input hidden): ", (int)((f->deadline - kmfa_now()) * 1000),
	    &line);
	(void)snprintf(why, sizeof(why), "%s", kmfa_report_reason(r));
	kmfa_report_leave(&sc);
	if (r != KMFA_OK) {
		r = kmfa_fail(KMFA_ERR_IDP, "no code was pasted (%s)", why);
		goto out;
	}
	if ((q = strchr(line, '?')) != NULL && strstr(q, "code=") != NULL) {
		if (kmfa_loopback_query_param(q + 1, "state", &st) != KMFA_OK ||
		    strcmp(st, ac->state) != 0) {
			r = kmfa_fail(KMFA_ERR_IDP, "the pasted URL is not this "
			    "login's (no state or the wrong one)");
			goto out;
		}
		/* RFC 9207: an answer that names another issuer is a mix-up,
		 * as on the loopback listener. */
		free(st);
		st = NULL;
		r = kmfa_loopback_query_param(q + 1, "iss", &st);
		if (r == KMFA_OK ? strcmp(st, f->oidc->issuer) != 0 :
		    r != KMFA_ERR_NOTFOUND) {
			r = kmfa_fail(KMFA_ERR_IDP, "the pasted URL comes from "
			    "another issuer than %s (its iss)", f->cfg->issuer);
			goto out;
		}
		if (kmfa_loopback_query_param(q + 1, "code", code) != KMFA_OK) {
			r = kmfa_fail(KMFA_ERR_IDP, "the pasted URL holds no "
			    "code");
			goto out;
		}
	} else if (line[0] == '\0' || strpbrk(line, " \t") != NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "the pasted text is not a code");
		goto out;
	} else {
		*code = line;
		line = NULL;	/* transferred */
	}
	r = KMFA_OK;
out:
	free(st);
	kmfa_freezero_str(line);
	return r;
}

static int
authcode_flow(struct flow *f, enum grant g, struct kmfa_tokens **out)
{
	struct kmfa_loopback *lb = NULL;
	struct kmfa_authcode *ac = NULL;
	char *code = NULL;
	const char *redirect;
	int r;

	*out = NULL;
	if (g == GRANT_KEYBOARD) {
		if ((redirect = f->cfg->redirect_url) == NULL) {
			r = kmfa_fail(KMFA_ERR_USAGE, "--grant-type "
			    "authcode-keyboard needs --oidc-redirect-url: the "
			    "provider's page that shows the code (e.g. "
			    "urn:ietf:wg:oauth:2.0:oob)");
			goto out;
		}
	} else {
		if ((r = kmfa_loopback_open(f->cfg->listen_address,
		    f->cfg->redirect_url, &lb)) != KMFA_OK)
			goto out;
		redirect = kmfa_loopback_redirect_uri(lb);
	}
	if ((r = kmfa_authcode_begin(f->oidc, f->cfg, redirect, &ac)) !=
	    KMFA_OK)
		goto out;
	fprintf(stderr, "kubectl-mfa: log in to %s in the browser; if none "
	    "opens, open this URL:\n\n  %s\n\n", f->cfg->issuer, ac->url);
	fflush(stderr);
	kmfa_prompt_open_browser(f->cfg, ac->url);
	if (g == GRANT_KEYBOARD)
		r = read_pasted_code(f, ac, &code);
	else
		r = kmfa_loopback_wait(lb, ac->state, f->oidc->issuer,
		    f->deadline, &code);
	kmfa_loopback_free(&lb);
	if (r != KMFA_OK)
		goto out;
	if ((r = kmfa_authcode_exchange(f->http, f->oidc, f->cfg, ac, code,
	    out)) != KMFA_OK)
		goto out;
	/* No ID token: build_record says so.  One that is not this login's
	 * never gets that far. */
	if ((*out)->id_token != NULL && (r = kmfa_authcode_check_nonce(
	    (*out)->id_token, ac->nonce)) != KMFA_OK)
		kmfa_oauth_tokens_free(out);
out:
	kmfa_freezero_str(code);
	kmfa_loopback_free(&lb);
	kmfa_authcode_free(&ac);
	return r;
}

/* The stored refresh token in plain text, or NULL when there is none. */
static int
open_refresh(struct flow *f, char **out)
{
	struct kmfa_report_scope sc;
	int r;

	*out = NULL;
	if (f->old == NULL || f->old->refresh == NULL)
		return KMFA_OK;
	if (!f->old->refresh_sealed)
		return (*out = strdup(f->old->refresh)) ? KMFA_OK :
		    KMFA_ERR_NOMEM;
	if (!f->touched || !f->touch.have_mk) {
		/* Sealed under a key we cannot open now: log in afresh. */
		kmfa_debug("the sealed refresh token cannot be opened now");
		return KMFA_OK;
	}
	/* This touch re-keyed: the token was sealed under the old master key. */
	if (f->touch.rekeyed) {
		kmfa_report_enter(&sc);
		r = kmfa_seal_open_refresh(f->touch.old_mk, f->identity,
		    f->old->refresh, out);
		kmfa_report_leave(&sc);
		if (r == KMFA_OK)
			return KMFA_OK;
	}
	kmfa_report_enter(&sc);
	r = kmfa_seal_open_refresh(f->touch.mk, f->identity, f->old->refresh,
	    out);
	if (r == KMFA_ERR_FIDO2) {
		/*
		 * The touch was verified and its key's slot opened, so the
		 * master key is the current one: a token it does not open was
		 * sealed under an earlier master key (every key removed and a
		 * new one enrolled) and no enrolled key will ever open it.
		 * Drop it from the record to be written and log in afresh;
		 * the touch already happened, so this never fails open.
		 */
		kmfa_info("the cached sealed refresh token does not open with "
		    "the current master key (sealed before the keys were "
		    "changed, or altered); dropped it, logging in again");
		free(f->old->refresh);
		f->old->refresh = NULL;
		f->old->refresh_sealed = 0;
		kmfa_report_leave(&sc);
		return KMFA_OK;
	}
	if (r == KMFA_OK)
		kmfa_report_leave(&sc);
	else
		kmfa_report_pass(&sc);
	return r;
}

/*
 * Forget the stored refresh token: revoke token (the newest one the IdP
 * issued) where the IdP offers revocation, take it out of the stored
 * record now, and keep the login that follows from carrying it over.
 * Best effort: failing to revoke or to store is said, not fatal, since
 * the login that follows replaces the record anyway.
 */
static void
drop_refresh(struct flow *f, const char *token)
{
	struct kmfa_report_scope sc;
	int r;

	f->drop_refresh = 1;
	kmfa_report_enter(&sc);
	if (kmfa_discovery_revocation_usable(f->oidc, f->cfg)) {
		r = kmfa_revoke_refresh_token(f->http, f->oidc, f->cfg, token);
		if (r != KMFA_OK)
			kmfa_warn("could not revoke the refresh token at %s: %s",
			    f->cfg->issuer, kmfa_report_reason(r));
	}
	if (f->old != NULL && f->old->refresh != NULL) {
		kmfa_freezero_str(f->old->refresh);
		f->old->refresh = NULL;
		f->old->refresh_sealed = 0;
		if (kmfa_store_save(f->store, f->key, f->old) != KMFA_OK)
			kmfa_warn("could not drop the stored refresh token: %s",
			    kmfa_report_cause() != NULL ? kmfa_report_cause() :
			    "unknown error");
	}
	kmfa_report_leave(&sc);
}

enum refresh_outcome {
	REFRESH_DONE,		/* *out holds the new record */
	REFRESH_FAILED,		/* end the login with *rp */
	REFRESH_RELOGIN,	/* the IdP refused: log in again */
};

/*
 * Refresh with the cached refresh token.  The network failing, or a token
 * that fails validation, ends the login: a device login would not mend the
 * first, and must not paper over the second (a refresh that turns into
 * another subject).  A refusal by the IdP is said once and its cause
 * dropped with its scope, so it cannot stand for a later failure of the
 * login that follows.
 */
static enum refresh_outcome
try_refresh(struct flow *f, const char *refresh, struct kmfa_record **out,
    int *rp)
{
	struct kmfa_report_scope sc;
	struct kmfa_tokens *tok = NULL;
	enum refresh_outcome o = REFRESH_RELOGIN;
	int r;

	kmfa_report_enter(&sc);
	r = kmfa_refresh_tokens(f->http, f->oidc, f->cfg, refresh, &tok);
	if (r == KMFA_OK && tok->id_token == NULL &&
	    f->cfg->use_access_token && f->old != NULL &&
	    f->old->subject != NULL) {
		/*
		 * OpenID Connect Core §12.2 lets a refresh answer leave the
		 * ID token out (Okta, Entra: kubernetes/kubernetes#36847,
		 * int128/kubelogin#536).  kubectl gets the access token, and
		 * this one is the IdP's answer to the refresh token it issued
		 * for the stored subject: use it as it is.
		 */
		kmfa_debug("the refresh answer had no ID token; using its "
		    "access token");
		if ((r = fill_record(f, tok, f->old->subject, 0, refresh,
		    out)) == KMFA_OK)
			o = REFRESH_DONE;
		else
			o = REFRESH_FAILED;
	} else if (r == KMFA_OK && tok->id_token == NULL) {
		/*
		 * In ID-token mode there is nothing to hand kubectl: log in
		 * again, and drop the refresh token so that no later run
		 * leans on it (it would only ever bring this answer again).
		 */
		kmfa_info("the refresh answer had no ID token; logging in "
		    "again");
		drop_refresh(f, tok->refresh_token != NULL ?
		    tok->refresh_token : refresh);
	} else if (r == KMFA_OK) {
		/* A refresh must not turn into somebody else
		 * (OpenID Connect Core §12.2). */
		if ((r = build_record(f, tok, refresh, out)) == KMFA_OK &&
		    f->old != NULL && f->old->subject != NULL &&
		    strcmp(f->old->subject, (*out)->subject) != 0) {
			kmfa_record_free(out);
			r = kmfa_fail(KMFA_ERR_TOKEN, "the refreshed ID token "
			    "is for another subject; refusing it");
		}
		if (r == KMFA_OK)
			o = REFRESH_DONE;
		else if (r == KMFA_ERR_TOKEN)
			o = REFRESH_FAILED;
	} else if (r == KMFA_ERR_NETWORK) {
		o = REFRESH_FAILED;
	} else {
		/* The reason names the refusal itself: no "refused (refused)". */
		kmfa_info("%s%s", kmfa_report_reason(r),
		    f->unattended != NULL ? "" : "; logging in again");
	}
	if (o == REFRESH_FAILED)
		kmfa_report_pass(&sc);
	else
		kmfa_report_leave(&sc);
	kmfa_oauth_tokens_free(&tok);
	*rp = r;
	return o;
}

/*
 * A CI profile can renew without a person: no security key is asked for
 * (--fido2 off), and the loaded record holds a refresh token in the clear
 * that is this configuration's own (a record of another identity under
 * this name is not).
 */
static int
ci_refreshable(const struct flow *f)
{
	return f->cfg->fido2 == KMFA_FIDO2_OFF && f->old != NULL &&
	    f->old->refresh != NULL && !f->old->refresh_sealed &&
	    f->old->identity != NULL &&
	    strcmp(f->old->identity, f->identity) == 0;
}

/* The one line that says a person is needed, with the command to run. */
static int
nobody(struct flow *f, const char *why)
{
	char *hint = kmfa_flow_login_hint(f->cfg);
	int r;

	r = kmfa_fail(KMFA_ERR_UNATTENDED, "no valid token for %s and nobody "
	    "to log in (%s); run in a terminal: %s", f->cfg->issuer, why,
	    hint != NULL ? hint : "kubectl mfa login");
	free(hint);
	audit(f, "unattended", NULL, r);
	return r;
}

/*
 * The touch made a new master key: the other cached entries' refresh
 * tokens are sealed anew under it now (this entry's is, with the token
 * this login stores).  Said in one line; never fatal.
 */
static void
reseal_others(const struct flow *f)
{
	struct kmfa_report_scope sc;
	size_t done = 0, left = 0;

	kmfa_report_enter(&sc);
	if (kmfa_flow_reseal(f->cfg, f->store, f->key, f->touch.old_mk,
	    f->touch.mk, &done, &left) != KMFA_OK)
		left++;
	kmfa_report_leave(&sc);
	if (done + left > 0)
		kmfa_info("re-sealed %zu other cached refresh token%s under the "
		    "new master key%s", done, done == 1 ? "" : "s", left == 0 ?
		    "" : "; the rest log in again when next used");
}

static int
login(struct flow *f, struct kmfa_record **out)
{
	struct kmfa_tokens *tok = NULL;
	char *refresh = NULL;
	const char *event = "login";
	enum grant g = GRANT_AUTO;
	int r;

	*out = NULL;
	f->deadline = kmfa_now() + f->cfg->timeout;
	/* A wrong word is a usage error before anyone touches a key. */
	if ((r = parse_grant(f->cfg->grant_type, &g)) != KMFA_OK)
		goto out;
	/* Before open_refresh may drop it: sealing was in use for this entry. */
	f->old_sealed = f->old != NULL && f->old->refresh != NULL &&
	    f->old->refresh_sealed;
	if (f->cfg->fido2 == KMFA_FIDO2_REQUIRED) {
		/* A PIN, when the keys need one, is typed at the terminal. */
		const struct kmfa_fido2_pin_reader tty = { kmfa_tty_read_pin,
		    NULL };

		if (f->cfg->server_proof && (r = kmfa_proof_context(
		    f->cfg->issuer, f->cfg->client_id, kmfa_now(),
		    &f->proof_ctx)) != KMFA_OK)
			goto out;
		r = kmfa_fido2_touch(f->cfg, f->proof_ctx != NULL ?
		    f->proof_ctx : f->identity, &tty, &f->touch);
		f->touched = r == KMFA_OK;
		audit(f, f->touch.event != NULL ? f->touch.event :
		    (r == KMFA_OK ? "touch-ok" : "touch-failed"), NULL, r);
		if (r != KMFA_OK)
			goto out;
		if (f->touch.rekeyed)
			reseal_others(f);
	}
	/* Reloaded under the lock: it may have lost its refresh token. */
	if (f->unattended != NULL && !ci_refreshable(f)) {
		r = nobody(f, f->unattended);
		event = NULL;
		goto out;
	}
	if ((r = kmfa_http_new(f->cfg, &f->http)) != KMFA_OK)
		goto out;
	kmfa_http_set_deadline(f->http, f->deadline);
	/* --token-cache-storage none keeps nothing, public documents neither. */
	if ((r = kmfa_metacache_new(f->cfg->storage == KMFA_STORAGE_NONE ?
	    NULL : f->cfg->cache_dir, &f->meta)) != KMFA_OK ||
	    (r = kmfa_discovery_load(f->http, f->meta, f->cfg, &f->oidc)) !=
	    KMFA_OK)
		goto out;
	if ((r = open_refresh(f, &refresh)) != KMFA_OK)
		goto out;
	if (refresh != NULL) {
		event = "refresh";
		if (try_refresh(f, refresh, out, &r) != REFRESH_RELOGIN)
			goto out;
		event = "login";
	}
	if (f->unattended != NULL) {
		/* No refresh token, or a refused one: only a person logs in.
		 * nobody() writes the audit event. */
		r = nobody(f, f->unattended);
		event = NULL;
		goto out;
	}
	if ((g = choose_grant(f, g)) == GRANT_DEVICE)
		r = device_flow(f, &tok);
	else
		r = authcode_flow(f, g, &tok);
	if (r != KMFA_OK)
		goto out;
	r = build_record(f, tok, NULL, out);
out:
	if (event != NULL)
		audit(f, event, *out != NULL ? (*out)->subject : NULL, r);
	kmfa_freezero_str(refresh);
	kmfa_oauth_tokens_free(&tok);
	return r;
}

/*
 * --server-proof signs the ID token with the key just touched, silently
 * (lib/key/proof.h): it needs the touch, the ID token (not an access
 * token) and a credential that answers without user verification.
 */
static int
proof_usable(const struct kmfa_config *cfg)
{
	if (!cfg->server_proof)
		return KMFA_OK;
	if (cfg->fido2 != KMFA_FIDO2_REQUIRED || cfg->use_access_token ||
	    cfg->fido2_uv)
		return kmfa_fail(KMFA_ERR_USAGE, "--server-proof needs --fido2 "
		    "required and the ID token, and does not work with "
		    "--oidc-use-access-token or --fido2-uv yet");
	return KMFA_OK;
}

/* The new record's token becomes the kmfa-proof1 bundle over it. */
static int
attach_proof(struct flow *f, struct kmfa_record *rec)
{
	char *bearer = NULL;
	int r;

	if (!f->touched || f->proof_ctx == NULL)
		return kmfa_fail(KMFA_ERR_INTERNAL, "--server-proof without "
		    "a touch");
	r = kmfa_proof_make(f->cfg, &f->touch, f->proof_ctx, rec->token,
	    &bearer);
	audit(f, r == KMFA_OK ? "proof-ok" : "proof-failed", rec->subject, r);
	if (r != KMFA_OK)
		return r;
	kmfa_freezero_str(rec->token);
	rec->token = bearer;
	return KMFA_OK;
}

static void
fill_result(const struct flow *f, const struct kmfa_record *rec,
    int logged_in, struct kmfa_flow_result *res)
{
	if (res == NULL)
		return;
	res->logged_in = logged_in;
	res->stored = 1;
	res->until = kmfa_record_usable_until(rec, f->cfg, f->identity);
	res->storage = kmfa_store_kind(f->store);
	res->storage_reason = kmfa_store_reason(f->store);
	res->sealed = rec->refresh != NULL && rec->refresh_sealed;
	res->has_refresh = rec->refresh != NULL;
	(void)snprintf(res->subject, sizeof(res->subject), "%s",
	    rec->subject != NULL ? rec->subject : "");
}

/* Answer from the record loaded, if it is still fresh: 1 when it was
 * served (*rp then says how the answer went), 0 when a login is needed. */
static int
serve_fresh(struct flow *f, struct kmfa_buf *cred,
    struct kmfa_flow_result *res, int *rp)
{
	if (f->old == NULL ||
	    !kmfa_record_fresh(f->old, f->cfg, f->identity, kmfa_now()))
		return 0;
	fill_result(f, f->old, 0, res);
	*rp = render(f, f->old, cred);
	return 1;
}

int
kmfa_flow_run(const struct kmfa_config *cfg, const struct kmfa_execinfo *ei,
    enum kmfa_flow_mode mode, struct kmfa_buf *cred,
    struct kmfa_flow_result *res)
{
	struct flow f;
	struct kmfa_file_lock *lock = NULL;
	struct kmfa_record *rec = NULL;
	const char *why = NULL;
	struct kmfa_report_scope sc;
	int r, stored;

	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.ei = ei;
	if (cfg->issuer == NULL || cfg->client_id == NULL)
		return kmfa_fail(KMFA_ERR_USAGE, "--oidc-issuer-url and "
		    "--oidc-client-id are required");
	/* A bad issuer is a configuration error whoever is present: say so
	 * before presence decides, not after a login that cannot work. */
	if ((r = kmfa_http_check_url(cfg->issuer, "--oidc-issuer-url", NULL))
	    != KMFA_OK)
		return r;
	/* Likewise a grant that does not exist. */
	if ((r = parse_grant(cfg->grant_type, &(enum grant){ GRANT_AUTO })) !=
	    KMFA_OK)
		return r;
	if ((r = proof_usable(cfg)) != KMFA_OK)
		return r;
	r = KMFA_ERR_NOMEM;
	if ((f.identity = kmfa_config_identity(cfg)) == NULL)
		goto out;
	kmfa_config_identity_key(f.identity, f.key);
	if ((r = kmfa_store_open(cfg, &f.store)) != KMFA_OK)
		goto out;
	if (mode == KMFA_FLOW_GET_TOKEN) {
		if ((r = load_record(&f)) != KMFA_OK)
			goto out;
		if (serve_fresh(&f, cred, res, &r))
			goto out;
	}
	/*
	 * Nobody present: fail now, before the lock, which a person's login
	 * in another terminal may hold for minutes
	 * (docs/DESIGN.md §3 step 4: CI never waits).  Except a CI profile
	 * (--fido2 off) with a refresh token: it asks for no factor, so a
	 * refresh skips none, and it needs no person.  It refreshes under
	 * the lock like anyone (one refresh for many jobs, and a rotating
	 * refresh token used once), but never logs in.
	 */
	if (!kmfa_presence_attended(&why)) {
		if (mode != KMFA_FLOW_GET_TOKEN || !ci_refreshable(&f)) {
			r = nobody(&f, why);
			goto out;
		}
		f.unattended = why;
	}
	kmfa_report_enter(&sc);
	r = kmfa_lock_acquire(cfg->cache_dir, f.key, f.unattended != NULL ?
	    UNATTENDED_LOCK_MS : cfg->timeout * 1000, &lock);
	if (r == KMFA_ERR_LOCKED) {
		kmfa_report_pass(&sc);
		goto out;
	}
	if (r != KMFA_OK) {
		/* No lock file can be made: carry on alone rather than fail
		 * the kubectl command (at worst two logins run at once). */
		kmfa_warn("%s; continuing without the lock",
		    kmfa_report_reason(r));
	}
	kmfa_report_leave(&sc);
	/* Another process may have logged in while we waited. */
	if ((r = load_record(&f)) != KMFA_OK)
		goto out;
	if (mode == KMFA_FLOW_GET_TOKEN && serve_fresh(&f, cred, res, &r))
		goto out;
	if ((r = login(&f, &rec)) != KMFA_OK) {
		/* The kept discovery document may name an endpoint that
		 * moved: the next login asks the provider afresh. */
		kmfa_discovery_forget(f.meta, cfg);
		goto out;
	}
	if (cfg->server_proof && (r = attach_proof(&f, rec)) != KMFA_OK)
		goto out;
	kmfa_report_enter(&sc);
	stored = kmfa_store_save(f.store, f.key, rec) == KMFA_OK;
	if (!stored) {
		kmfa_warn("could not store the token (%s); kubectl gets it "
		    "anyway", kmfa_report_cause() ? kmfa_report_cause() :
		    "unknown error");
	}
	/* The provider's documents, kept only once they served a login. */
	if (kmfa_metacache_save(f.meta) != KMFA_OK)
		kmfa_debug("could not keep the provider's documents: %s",
		    kmfa_report_cause() ? kmfa_report_cause() : "unknown error");
	kmfa_report_leave(&sc);
	fill_result(&f, rec, 1, res);
	if (res != NULL)
		res->stored = stored;
	r = render(&f, rec, cred);
out:
	kmfa_lock_release(&lock);
	kmfa_record_free(&rec);
	kmfa_record_free(&f.old);
	kmfa_discovery_free(&f.oidc);
	kmfa_metacache_free(&f.meta);
	kmfa_http_free(&f.http);
	kmfa_fido2_touch_clear(&f.touch);
	free(f.proof_ctx);
	kmfa_store_free(&f.store);
	free(f.identity);
	return r;
}

int
kmfa_flow_reseal(const struct kmfa_config *cfg, struct kmfa_store *st,
    const char *skip_key, const uint8_t old_mk[KMFA_MK_LEN],
    const uint8_t mk[KMFA_MK_LEN], size_t *nresealed, size_t *nleft)
{
	char **keys = NULL;
	size_t n = 0;
	int r;

	*nresealed = 0;
	*nleft = 0;
	if ((r = kmfa_store_list(st, &keys, &n)) != KMFA_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct kmfa_report_scope sc;	/* each entry's failure is counted */
		struct kmfa_file_lock *lock = NULL;
		struct kmfa_record *rec = NULL;
		char *plain = NULL, *sealed = NULL;

		if (skip_key != NULL && strcmp(keys[i], skip_key) == 0)
			continue;
		kmfa_report_enter(&sc);
		/* Under the entry's lock: a login meanwhile is not undone. */
		if (kmfa_lock_acquire(cfg->cache_dir, keys[i], LOCK_MS, &lock) !=
		    KMFA_OK || kmfa_store_load(st, keys[i], &rec) != KMFA_OK) {
			(*nleft)++;
			goto next;
		}
		if (rec->refresh == NULL || !rec->refresh_sealed ||
		    rec->identity == NULL)
			goto next;
		/* Not under the old key: already re-sealed, or never opens. */
		if (kmfa_seal_open_refresh(old_mk, rec->identity, rec->refresh,
		    &plain) != KMFA_OK)
			goto next;
		if (kmfa_seal_refresh(mk, rec->identity, plain, &sealed) !=
		    KMFA_OK) {
			(*nleft)++;
			goto next;
		}
		kmfa_freezero_str(rec->refresh);
		rec->refresh = sealed;
		sealed = NULL;	/* transferred */
		if (kmfa_store_save(st, keys[i], rec) == KMFA_OK)
			(*nresealed)++;
		else
			(*nleft)++;
next:
		kmfa_report_leave(&sc);
		kmfa_freezero_str(plain);
		kmfa_freezero_str(sealed);
		kmfa_record_free(&rec);
		kmfa_lock_release(&lock);
	}
	kmfa_store_list_free(keys, n);
	return KMFA_OK;
}

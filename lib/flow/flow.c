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

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "flow/flow.h"
#include "jose/jwt.h"
#include "key/fido2_touch.h"
#include "key/seal.h"
#include "oidc/device.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
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
	int64_t deadline;
	int drop_refresh;	/* the login must not carry f->old's over */
};

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

static int
build_record(struct flow *f, const struct kmfa_tokens *tok,
    const char *old_refresh, struct kmfa_record **out)
{
	struct kmfa_buf jwks = { 0 };
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
	if ((r = kmfa_discovery_fetch_jwks(f->http, f->oidc, &jwks)) != KMFA_OK)
		goto out;
	want.issuer = f->cfg->issuer;
	want.client_id = f->cfg->client_id;
	want.now = kmfa_now();
	want.leeway = CLOCK_LEEWAY;
	if ((r = kmfa_jwt_verify(tok->id_token, jwks.data, jwks.len, &want,
	    &claims)) != KMFA_OK)
		goto out;
	if ((r = require_claims(f->cfg, claims)) != KMFA_OK)
		goto out;
	r = fill_record(f, tok, claims->sub, claims->exp, old_refresh, out);
out:
	kmfa_jwt_claims_free(&claims);
	kmfa_buf_wipe(&jwks);
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
		kmfa_info("%s; logging in again", kmfa_report_reason(r));
	}
	if (o == REFRESH_FAILED)
		kmfa_report_pass(&sc);
	else
		kmfa_report_leave(&sc);
	kmfa_oauth_tokens_free(&tok);
	*rp = r;
	return o;
}

static int
login(struct flow *f, struct kmfa_record **out)
{
	struct kmfa_tokens *tok = NULL;
	char *refresh = NULL;
	const char *event = "login";
	int r;

	*out = NULL;
	f->deadline = kmfa_now() + f->cfg->timeout;
	/* Before open_refresh may drop it: sealing was in use for this entry. */
	f->old_sealed = f->old != NULL && f->old->refresh != NULL &&
	    f->old->refresh_sealed;
	if (f->cfg->fido2 == KMFA_FIDO2_REQUIRED) {
		/* A PIN, when the keys need one, is typed at the terminal. */
		const struct kmfa_fido2_pin_reader tty = { kmfa_tty_read_pin,
		    NULL };

		r = kmfa_fido2_touch(f->cfg, f->identity, &tty, &f->touch);
		f->touched = r == KMFA_OK;
		audit(f, f->touch.event != NULL ? f->touch.event :
		    (r == KMFA_OK ? "touch-ok" : "touch-failed"), NULL, r);
		if (r != KMFA_OK)
			goto out;
	}
	if ((r = kmfa_http_new(f->cfg, &f->http)) != KMFA_OK)
		goto out;
	kmfa_http_set_deadline(f->http, f->deadline);
	if ((r = kmfa_discovery_fetch(f->http, f->cfg, &f->oidc)) != KMFA_OK)
		goto out;
	if ((r = open_refresh(f, &refresh)) != KMFA_OK)
		goto out;
	if (refresh != NULL) {
		event = "refresh";
		if (try_refresh(f, refresh, out, &r) != REFRESH_RELOGIN)
			goto out;
		event = "login";
	}
	if ((r = device_flow(f, &tok)) != KMFA_OK)
		goto out;
	r = build_record(f, tok, NULL, out);
out:
	audit(f, event, *out != NULL ? (*out)->subject : NULL, r);
	kmfa_freezero_str(refresh);
	kmfa_oauth_tokens_free(&tok);
	return r;
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
	 * (docs/DESIGN.md §3 step 4: CI never waits).
	 */
	if (!kmfa_presence_attended(&why)) {
		char *hint = kmfa_flow_login_hint(cfg);
		r = kmfa_fail(KMFA_ERR_UNATTENDED, "no valid token for %s and "
		    "nobody to log in (%s); run in a terminal: %s",
		    cfg->issuer, why, hint != NULL ? hint : "kubectl mfa login");
		free(hint);
		audit(&f, "unattended", NULL, r);
		goto out;
	}
	kmfa_report_enter(&sc);
	r = kmfa_lock_acquire(cfg->cache_dir, f.key, cfg->timeout * 1000, &lock);
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
	if ((r = login(&f, &rec)) != KMFA_OK)
		goto out;
	kmfa_report_enter(&sc);
	stored = kmfa_store_save(f.store, f.key, rec) == KMFA_OK;
	if (!stored) {
		kmfa_warn("could not store the token (%s); kubectl gets it "
		    "anyway", kmfa_report_cause() ? kmfa_report_cause() :
		    "unknown error");
	}
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
	kmfa_http_free(&f.http);
	kmfa_fido2_touch_clear(&f.touch);
	kmfa_store_free(&f.store);
	free(f.identity);
	return r;
}

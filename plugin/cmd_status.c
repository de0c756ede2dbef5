/*
 * status: what is cached and for how long.  It reads without the lock and
 * never logs in: it is what CI runs first (`status --min-valid 15m`) to
 * fail early rather than halfway through a deploy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "commands.h"
#include "key/credfile.h"
#include "oidc/oauth.h"
#include "store/store.h"
#include "token/record.h"

int
kmfa_cmd_need_issuer(const struct kmfa_config *cfg)
{
	if (cfg->issuer == NULL || cfg->client_id == NULL)
		return kmfa_fail(KMFA_ERR_USAGE, "--oidc-issuer-url and "
		    "--oidc-client-id are required (or --all)");
	return KMFA_OK;
}

static const char *
refresh_state(const struct kmfa_record *rec)
{
	if (rec == NULL || rec->refresh == NULL)
		return "none";
	return rec->refresh_sealed ? "sealed" : "unsealed";
}

static void
fmt_left(int64_t s, char *out, size_t n)
{
	if (s >= 3600)
		(void)snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		(void)snprintf(out, n, "%lldm%02llds", (long long)(s / 60),
		    (long long)(s % 60));
}

/*
 * The account an entry was made for (--oidc-login-hint), read back from
 * its identity, so that `status --all` tells two accounts at one issuer
 * and client apart; NULL when it names none.  Caller frees.
 */
static char *
account_of(const struct kmfa_record *rec)
{
	struct kmfa_config c;
	char hash[65], *a = NULL;

	kmfa_config_init(&c);
	if (rec != NULL && rec->identity != NULL &&
	    kmfa_config_from_identity(rec->identity, &c, hash) == KMFA_OK) {
		a = c.login_hint;
		c.login_hint = NULL;	/* transferred */
	}
	kmfa_config_free(&c);
	return a;
}

/* Human-readable lines for one entry. */
static void
print_entry(const struct kmfa_store *st, const struct kmfa_record *rec,
    int64_t until, int64_t now)
{
	char ts[21] = "?", left[32], shown[256], *account;

	printf("storage:   %s%s%s%s\n", kmfa_store_kind(st),
	    kmfa_store_reason(st) ? " (" : "",
	    kmfa_store_reason(st) ? kmfa_store_reason(st) : "",
	    kmfa_store_reason(st) ? ")" : "");
	if (rec == NULL && kmfa_store_locked(st) != NULL &&
	    strcmp(kmfa_store_kind(st), "keyring") == 0) {
		/* Not "none cached": a locked keyring may well hold one. */
		printf("token:     unknown (%s; kubectl-mfa does not open "
		    "keyring windows)\n", kmfa_store_locked(st));
		return;
	}
	if (rec == NULL) {
		printf("token:     none cached\n");
		return;
	}
	/* The subject is the IdP's choice, the rest a kubeconfig's: none
	 * reaches the terminal with its control bytes. */
	printf("issuer:    %s\n", kmfa_printable(shown, sizeof(shown),
	    rec->issuer ? rec->issuer : "?"));
	printf("client id: %s\n", kmfa_printable(shown, sizeof(shown),
	    rec->client_id ? rec->client_id : "?"));
	if ((account = account_of(rec)) != NULL)
		printf("account:   %s\n", kmfa_printable(shown, sizeof(shown),
		    account));
	free(account);
	printf("subject:   %s\n", kmfa_printable(shown, sizeof(shown),
	    rec->subject ? rec->subject : "?"));
	(void)kmfa_rfc3339(until, ts);
	if (until > now) {
		fmt_left(until - now, left, sizeof(left));
		printf("token:     valid until %s (%s left)\n", ts, left);
	} else {
		printf("token:     expired (usable until %s)\n", ts);
	}
	if (rec->touched_at > 0) {
		(void)kmfa_rfc3339(rec->touched_at, ts);
		printf("touch:     %s with %s\n", ts,
		    rec->key_name ? rec->key_name : "a security key");
	}
	if (rec->refresh == NULL)
		printf("refresh:   none\n");
	else if (rec->refresh_sealed)
		printf("refresh:   present, sealed under the security key\n");
	else
		printf("refresh:   present, NOT sealed (no security key with "
		    "hmac-secret protects it)\n");
}

static cJSON *
entry_json(const struct kmfa_store *st, const char *key,
    const struct kmfa_record *rec, int64_t until, int64_t now)
{
	cJSON *o = cJSON_CreateObject();
	char ts[21], *account;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "storage", kmfa_store_kind(st));
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddBoolToObject(o, "cached", rec != NULL);
	if (rec == NULL && kmfa_store_locked(st) != NULL &&
	    strcmp(kmfa_store_kind(st), "keyring") == 0)
		cJSON_AddStringToObject(o, "unreadable", kmfa_store_locked(st));
	cJSON_AddBoolToObject(o, "valid", rec != NULL && until > now);
	if (rec != NULL) {
		if (rec->issuer)
			cJSON_AddStringToObject(o, "issuer", rec->issuer);
		if (rec->client_id)
			cJSON_AddStringToObject(o, "client_id", rec->client_id);
		if ((account = account_of(rec)) != NULL)
			cJSON_AddStringToObject(o, "account", account);
		free(account);
		if (rec->subject)
			cJSON_AddStringToObject(o, "subject", rec->subject);
		if (kmfa_rfc3339(until, ts) == 0)
			cJSON_AddStringToObject(o, "valid_until", ts);
		cJSON_AddNumberToObject(o, "seconds_left",
		    (double)(until > now ? until - now : 0));
		cJSON_AddStringToObject(o, "refresh", refresh_state(rec));
		if (rec->key_name)
			cJSON_AddStringToObject(o, "key_name", rec->key_name);
	}
	return o;
}

/* How long rec may be used; with --all there is no configuration to
 * compare with, so only the token's own expiry and the skew count. */
static int64_t
until_of(const struct kmfa_config *cfg, const struct kmfa_record *rec,
    const char *identity)
{
	if (rec == NULL)
		return 0;
	if (identity == NULL)
		return rec->token_exp - cfg->skew;
	return kmfa_record_usable_until(rec, cfg, identity);
}

/* The enrolled keys, for status: names and whether any seals. */
static void
keys_line(const struct kmfa_config *cfg, cJSON *doc)
{
	struct kmfa_credfile *f = NULL;
	struct kmfa_buf names = { 0 };
	struct kmfa_report_scope sc;
	cJSON *arr = NULL;
	int loaded;

	kmfa_report_enter(&sc);
	loaded = kmfa_credfile_load(cfg->fido2_credentials, &f) == KMFA_OK;
	kmfa_report_leave(&sc);
	if (!loaded) {
		if (doc == NULL)
			printf("keys:      cannot read %s\n",
			    cfg->fido2_credentials);
		return;
	}
	if (doc != NULL && (arr = cJSON_AddArrayToObject(doc, "keys")) == NULL)
		goto out;
	for (size_t i = 0; i < f->ncreds; i++) {
		if (arr != NULL)
			cJSON_AddItemToArray(arr,
			    cJSON_CreateString(f->creds[i].name));
		(void)kmfa_buf_printf(&names, "%s%s%s", i ? ", " : "",
		    f->creds[i].name, f->creds[i].hmac_secret ? "" :
		    " (no hmac-secret)");
	}
	if (doc == NULL)
		printf("keys:      %s\n", f->ncreds == 0 ? "none enrolled "
		    "(kubectl mfa enroll)" : names.data);
out:
	kmfa_buf_wipe(&names);
	kmfa_credfile_free(&f);
}

/*
 * The scopes this configuration's logins ask for.  status stays off the
 * network, so `auto` is said as the rule it is (setup resolves it).
 */
static void
scopes_line(const struct kmfa_config *cfg)
{
	struct kmfa_report_scope sc;
	const char *mode = cfg->offline_access != NULL ? cfg->offline_access :
	    "auto";
	char *scope = NULL;

	kmfa_report_enter(&sc);
	if (kmfa_oauth_scope(cfg, 0, &scope) == KMFA_OK)
		printf("scopes:    %s, offline_access %s\n", scope,
		    strcmp(mode, "on") == 0 ? "too (--oidc-offline-access=on)" :
		    strcmp(mode, "off") == 0 ? "not asked for "
		    "(--oidc-offline-access=off)" : "when the issuer lists it "
		    "(auto)");
	kmfa_report_leave(&sc);
	free(scope);
}

int
kmfa_cmd_status(struct kmfa_config *cfg)
{
	struct kmfa_store *st = NULL;
	struct kmfa_record *rec = NULL;
	char **keys = NULL, one[65], *identity = NULL, *text = NULL;
	size_t n = 0;
	cJSON *arr = NULL;
	int64_t now = kmfa_now(), need = cfg->min_valid > 0 ? cfg->min_valid : 0;
	int r, good = 0, total = 0;

	if (!cfg->all && (r = kmfa_cmd_need_issuer(cfg)) != KMFA_OK)
		return r;
	if ((r = kmfa_store_open(cfg, &st)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_NOMEM;
	if ((arr = cJSON_CreateArray()) == NULL)
		goto out;
	if (cfg->all) {
		if ((r = kmfa_store_list(st, &keys, &n)) != KMFA_OK)
			goto out;
	} else {
		if ((identity = kmfa_config_identity(cfg)) == NULL)
			goto out;
		kmfa_config_identity_key(identity, one);
	}
	for (size_t i = 0; i < (cfg->all ? n : 1); i++) {
		const char *key = cfg->all ? keys[i] : one;
		struct kmfa_report_scope sc;
		int64_t until;

		kmfa_report_enter(&sc);
		r = kmfa_store_load(st, key, &rec);
		if (r == KMFA_ERR_DAMAGED)
			kmfa_warn("%s", kmfa_report_reason(r));
		if (r != KMFA_OK && r != KMFA_ERR_NOTFOUND &&
		    r != KMFA_ERR_DAMAGED) {
			kmfa_report_pass(&sc);
			goto out;
		}
		kmfa_report_leave(&sc);
		until = until_of(cfg, rec, identity);
		total++;
		if (rec != NULL && until - now >= need && until > now)
			good++;
		if (cfg->json) {
			cJSON *e = entry_json(st, key, rec, until, now);

			if (e != NULL && !cfg->all)
				keys_line(cfg, e);
			cJSON_AddItemToArray(arr, e);
		} else {
			if (i > 0)
				putchar('\n');
			print_entry(st, rec, until, now);
			if (!cfg->all) {
				scopes_line(cfg);
				keys_line(cfg, NULL);
			}
		}
		kmfa_record_free(&rec);
	}
	if (cfg->json) {
		cJSON *doc = cfg->all ? arr : cJSON_DetachItemFromArray(arr, 0);
		if (doc == NULL || (text = cJSON_Print(doc)) == NULL) {
			if (doc != arr)
				cJSON_Delete(doc);
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		if (doc != arr)
			cJSON_Delete(doc);
		printf("%s\n", text);
	} else if (cfg->all && total == 0 && kmfa_store_locked(st) != NULL &&
	    strcmp(kmfa_store_kind(st), "keyring") == 0) {
		printf("no cached tokens can be listed (%s)\n",
		    kmfa_store_locked(st));
	} else if (cfg->all && total == 0) {
		printf("no cached tokens\n");
	}
	/* Exit 0 only if a token is valid, for --min-valid when given. */
	kmfa_cmd_exit_override = good > 0 && (cfg->all || good == total) ? 0 : 1;
	r = KMFA_OK;
out:
	cJSON_free(text);
	cJSON_Delete(arr);
	kmfa_store_list_free(keys, n);
	kmfa_record_free(&rec);
	kmfa_store_free(&st);
	free(identity);
	return r;
}

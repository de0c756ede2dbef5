/*
 * logout: drop cached tokens, here and at the identity provider.  A
 * refresh token in clear is revoked at its issuer (RFC 7009) before the
 * local copy goes; a sealed one cannot be read without a touch, so it is
 * deleted unread.  A logout that reports success left nothing it claims to
 * have removed: what it could not remove (a locked keyring, one that wants
 * a window to delete) it names, and it exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/report.h"
#include "base/util.h"
#include "commands.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/revoke.h"
#include "store/store.h"
#include "token/cache.h"
#include "token/record.h"
#include "ui/audit.h"

/*
 * Revoke an unsealed refresh token at the IdP (RFC 7009).  Failures are
 * reported and do not stop the local logout: the local copy goes anyway.
 *
 * Each issuer gets only its own entry's settings.  The client secret and
 * the TLS options of this command belong to the configuration it names: an
 * entry made by that configuration (the same identity) is revoked with
 * them.  Any other (logout --all) is revoked with what its own identity
 * says (issuer, client, CA file, skip-verify; CA data only when this
 * command's has the same hash) and as a public client, since no secret is
 * in an identity; the line about it says so.
 */
static void
revoke(const struct kmfa_config *cfg, const char *identity,
    const struct kmfa_record *rec)
{
	struct kmfa_config c, own;
	struct kmfa_http *h = NULL;
	struct kmfa_discovery *o = NULL;
	struct kmfa_report_scope sc;
	const char *how = "";
	char shown[128], hash[65], mine[65];
	int r;

	kmfa_config_init(&own);
	if (rec->refresh == NULL)
		return;
	if (rec->refresh_sealed) {
		kmfa_info("the refresh token was sealed under your security "
		    "key and is deleted here; revocation at the identity "
		    "provider was skipped (it cannot be read without a touch)");
		return;
	}
	if (rec->issuer == NULL || rec->client_id == NULL)
		return;
	kmfa_printable(shown, sizeof(shown), rec->issuer);
	kmfa_report_enter(&sc);
	if (rec->identity != NULL && identity != NULL &&
	    strcmp(rec->identity, identity) == 0) {
		c = *cfg;
	} else {
		if (rec->identity == NULL || (r = kmfa_config_from_identity(
		    rec->identity, &own, hash)) != KMFA_OK) {
			r = kmfa_fail(KMFA_ERR_DAMAGED, "the entry names no "
			    "configuration");
			how = " (skipped)";
			goto out;
		}
		kmfa_config_ca_data_hash(cfg, mine);
		if (hash[0] != '\0' && strcmp(hash, mine) == 0) {
			own.ca_data = cfg->ca_data;	/* borrowed */
			how = " as a public client with the entry's own TLS "
			    "settings (an entry of another configuration: its "
			    "client secret is not known here)";
		} else if (hash[0] != '\0') {
			how = " as a public client with the system's TLS trust "
			    "(an entry of another configuration: its client "
			    "secret and CA data are not known here)";
		} else {
			how = " as a public client with the entry's own TLS "
			    "settings (an entry of another configuration: its "
			    "client secret is not known here)";
		}
		c = own;
		c.timeout = cfg->timeout;
	}
	/* Revoke at the issuer the record came from. */
	c.issuer = rec->issuer;
	c.client_id = rec->client_id;
	if ((r = kmfa_http_new(&c, &h)) != KMFA_OK)
		goto out;
	kmfa_http_set_deadline(h, kmfa_now() + 30);
	if ((r = kmfa_discovery_fetch(h, &c, &o)) != KMFA_OK)
		goto out;
	r = kmfa_revoke_refresh_token(h, o, &c, rec->refresh);
	if (r == KMFA_OK)
		kmfa_info("the refresh token was revoked at %s%s", shown, how);
	else if (r == KMFA_ERR_NOTFOUND)
		kmfa_info("%s advertises no revocation endpoint; revocation "
		    "at the identity provider was skipped", shown);
out:
	if (r != KMFA_OK && r != KMFA_ERR_NOTFOUND)
		kmfa_warn("could not revoke the refresh token at %s%s: %s",
		    shown, how, kmfa_report_reason(r));
	kmfa_report_leave(&sc);
	kmfa_discovery_free(&o);
	kmfa_http_free(&h);
	if (own.ca_data == cfg->ca_data)
		own.ca_data = NULL;	/* not ours to free */
	kmfa_config_free(&own);
}

/* Remove key from the store and from every place a copy may be. */
static int
drop(const struct kmfa_config *cfg, struct kmfa_store *st, const char *key)
{
	char *path, *rt;
	int r;

	if ((r = kmfa_store_remove(st, key)) != KMFA_OK)
		return r;
	if ((path = kmfa_cache_path(cfg->cache_dir, key, ".json")) != NULL) {
		(void)kmfa_file_remove(path);
		free(path);
	}
	if ((rt = kmfa_cache_runtime_dir()) != NULL) {
		if ((path = kmfa_cache_path(rt, key, ".json")) != NULL) {
			(void)kmfa_file_remove(path);
			free(path);
		}
		free(rt);
	}
	return KMFA_OK;
}

int
kmfa_cmd_logout(struct kmfa_config *cfg)
{
	struct kmfa_store *st = NULL;
	struct kmfa_record *rec = NULL;
	char **keys = NULL, one[65], *identity = NULL;
	size_t n = 0, dropped = 0, kept = 0;
	int r;

	if (!cfg->all && (r = kmfa_cmd_need_issuer(cfg)) != KMFA_OK)
		return r;
	if ((r = kmfa_config_load_secret(cfg)) != KMFA_OK)
		return r;
	if ((identity = kmfa_config_identity(cfg)) == NULL)
		return KMFA_ERR_NOMEM;
	if ((r = kmfa_store_open(cfg, &st)) != KMFA_OK)
		goto out;
	if (cfg->all) {
		if ((r = kmfa_store_list(st, &keys, &n)) != KMFA_OK)
			goto out;
	} else {
		kmfa_config_identity_key(identity, one);
	}
	for (size_t i = 0; i < (cfg->all ? n : 1); i++) {
		const char *key = cfg->all ? keys[i] : one;
		struct kmfa_report_scope sc;

		kmfa_report_enter(&sc);
		/* A keyring known to be locked is not read: its line would
		 * only repeat the one drop() gives below. */
		r = KMFA_ERR_NOTFOUND;
		if (kmfa_store_locked(st) == NULL ||
		    strcmp(kmfa_store_kind(st), "keyring") != 0)
			r = kmfa_store_load(st, key, &rec);
		if (r != KMFA_OK && r != KMFA_ERR_NOTFOUND &&
		    r != KMFA_ERR_DAMAGED) {
			kmfa_report_pass(&sc);
			goto out;
		}
		kmfa_report_leave(&sc);
		if (r == KMFA_OK) {
			struct kmfa_audit_event ev = { .event = "logout",
			    .issuer = rec->issuer, .subject = rec->subject,
			    .outcome = "ok" };

			revoke(cfg, identity, rec);
			kmfa_audit(cfg, &ev);
		}
		/* One entry that stays does not keep the others. */
		kmfa_report_enter(&sc);
		if ((r = drop(cfg, st, key)) != KMFA_OK) {
			kmfa_warn("cache entry %.12s: %s", key,
			    kmfa_report_reason(r));
			kept++;
		} else if (rec != NULL) {
			dropped++;
		}
		kmfa_report_leave(&sc);
		kmfa_record_free(&rec);
	}
	/* logout --all listed nothing from a locked keyring: it says so. */
	if (kept == 0 && cfg->all && kmfa_store_locked(st) != NULL) {
		kmfa_warn("%s, so the tokens it may hold were not removed; "
		    "unlock it and run logout --all again",
		    kmfa_store_locked(st));
		kept++;
	}
	if (kept > 0) {
		r = kmfa_fail(KMFA_ERR_IO, "logout incomplete: %zu cached "
		    "token%s removed, %zu entr%s not removed (said above)",
		    dropped, dropped == 1 ? "" : "s", kept,
		    kept == 1 ? "y" : "ies");
		goto out;
	}
	kmfa_info("logged out: %zu cached token%s removed", dropped,
	    dropped == 1 ? "" : "s");
	r = KMFA_OK;
out:
	kmfa_store_list_free(keys, n);
	kmfa_record_free(&rec);
	kmfa_store_free(&st);
	free(identity);
	return r;
}

/*
 * The `enroll` and `keys` commands: enrolling a security key, listing the
 * enrolled keys (stdout, a table for people), removing one, and making a
 * new master key (`keys rekey`, and after a removal).  The work is in
 * lib/key/fido2_enroll.c, lib/key/fido2_touch.c (the re-key),
 * lib/key/credfile.c and lib/flow/flow.c (re-sealing the cache), and a
 * PIN, when one is needed, is typed at the terminal (lib/ui/tty.c); this
 * file words the outcome.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "commands.h"
#include "flow/flow.h"
#include "key/credfile.h"
#include "key/fido2_enroll.h"
#include "key/fido2_touch.h"
#include "store/store.h"
#include "token/config.h"
#include "ui/presence.h"
#include "ui/tty.h"

int
kmfa_cmd_enroll(struct kmfa_config *cfg)
{
	const struct kmfa_fido2_pin_reader tty = { kmfa_tty_read_pin, NULL };
	struct kmfa_enroll_result res;
	int r;

	if ((r = kmfa_fido2_enroll(cfg, cfg->name, cfg->fido2_uv, &tty,
	    &res)) != KMFA_OK)
		return r;
	kmfa_info("Enrolled security key '%s' (%s; %s). %d key%s enrolled.",
	    res.key_name, res.uv_required ? "PIN or user verification at "
	    "every touch" : "touch only",
	    res.hmac_secret ? "refresh tokens are sealed with its hmac-secret" :
	    "no hmac-secret: it cannot open sealed refresh tokens",
	    res.nkeys, res.nkeys == 1 ? "" : "s");
	kmfa_fido2_enroll_result_clear(&res);
	return KMFA_OK;
}

static const char *
hmac_column(const struct kmfa_credfile *f, const struct kmfa_cred *c)
{
	if (c->hmac_secret)
		return "yes";
	/* Say plainly what a key without hmac-secret means for the token. */
	return kmfa_credfile_nslots(f) == 0 ?
	    "no (refresh token stored unsealed)" :
	    "no (cannot open the sealed refresh token)";
}

static int
keys_list(const struct kmfa_config *cfg)
{
	struct kmfa_credfile *f = NULL;
	int w = 4, r;

	if ((r = kmfa_credfile_load(cfg->fido2_credentials, &f)) != KMFA_OK)
		return r;
	if (f->ncreds == 0) {
		kmfa_info("No security key is enrolled (%s): run 'kubectl mfa "
		    "enroll'.", f->path);
		goto done;
	}
	for (size_t i = 0; i < f->ncreds; i++)
		if ((int)strlen(f->creds[i].name) > w)
			w = (int)strlen(f->creds[i].name);
	printf("%-*s  %-5s  %-20s  %-20s  %-12s  %s\n", w, "NAME", "TYPE",
	    "CREATED", "LAST USED", "UV", "HMAC-SECRET");
	for (size_t i = 0; i < f->ncreds; i++) {
		const struct kmfa_cred *c = &f->creds[i];
		char created[21] = "?", used[21] = "never";

		(void)kmfa_rfc3339(c->created, created);
		if (c->last_used != 0)
			(void)kmfa_rfc3339(c->last_used, used);
		printf("%-*s  %-5s  %-20s  %-20s  %-12s  %s\n", w, c->name,
		    "es256", created, used, c->uv_required ? "required" :
		    "not required", hmac_column(f, c));
	}
	if (f->rekey_pending)
		kmfa_info("A key with a key slot was removed: the next touch of "
		    "an enrolled key makes a new master key (or run 'kubectl "
		    "mfa keys rekey').");
done:
	if (fflush(stdout) != 0)
		r = kmfa_fail(KMFA_ERR_IO, "cannot write to stdout");
	kmfa_credfile_free(&f);
	return r;
}

/*
 * Re-seal the cached refresh tokens under the new master key: in the
 * storage `auto` picks now and, when that is the keyring, on disk too
 * (an entry made with --token-cache-storage disk).  Entries in another
 * --token-cache-dir are not found here; at their next use they do not
 * open and a device login follows.  Counts what was and was not done.
 */
static void
reseal_cache(const struct kmfa_config *cfg, const struct kmfa_touch *t,
    size_t *done, size_t *left)
{
	static const enum kmfa_storage kinds[] = { KMFA_STORAGE_AUTO,
	    KMFA_STORAGE_DISK };
	struct kmfa_config c = *cfg;	/* shallow: only storage differs */
	struct kmfa_report_scope sc;

	*done = *left = 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct kmfa_store *st = NULL;
		size_t d = 0, l = 0;

		c.storage = kinds[i];
		kmfa_report_enter(&sc);
		if (kmfa_store_open(&c, &st) == KMFA_OK &&
		    (i == 0 || strcmp(kmfa_store_kind(st), "disk") == 0) &&
		    kmfa_flow_reseal(&c, st, NULL, t->old_mk, t->mk, &d, &l) ==
		    KMFA_OK) {
			*done += d;
			*left += l;
		}
		kmfa_report_leave(&sc);
		/* auto chose the disk: it was done above. */
		if (i == 0 && st != NULL &&
		    strcmp(kmfa_store_kind(st), "disk") == 0) {
			kmfa_store_free(&st);
			break;
		}
		kmfa_store_free(&st);
	}
}

/* The re-key's outcome, one line each, on stderr. */
static void
say_rekeyed(const struct kmfa_config *cfg, const struct kmfa_touch *t,
    const char *removed)
{
	size_t done, left;

	reseal_cache(cfg, t, &done, &left);
	kmfa_info("Made a new master key (touched '%s'), wrapped for every "
	    "enrolled key with a key slot.", t->key_name);
	if (removed != NULL)
		kmfa_info("'%s' together with a copy of %s from before this "
		    "removal opens only refresh tokens sealed before now, "
		    "none sealed from now on.", removed,
		    cfg->fido2_credentials);
	else
		kmfa_info("A copy of %s from before now, with a key removed "
		    "since, opens only refresh tokens sealed before now, none "
		    "sealed from now on.", cfg->fido2_credentials);
	kmfa_info("Re-sealed %zu cached refresh token%s under the new master "
	    "key%s", done, done == 1 ? "" : "s", left == 0 ? "." :
	    "; the others could not be reached now and log in again when "
	    "next used.");
	if (left > 0)
		kmfa_info("%zu cached refresh token%s still sealed under the "
		    "old master key.", left, left == 1 ? " is" : "s are");
	if (t->dropped != NULL)
		kmfa_warn("%s had a key slot of the old format and no longer "
		    "opens sealed refresh tokens: remove and enroll it again",
		    t->dropped);
}

static int
keys_rekey(const struct kmfa_config *cfg)
{
	const struct kmfa_fido2_pin_reader tty = { kmfa_tty_read_pin, NULL };
	struct kmfa_touch t;
	int r;

	if ((r = kmfa_fido2_touch_rekey(cfg, &tty, &t)) != KMFA_OK)
		return r;
	say_rekeyed(cfg, &t, NULL);
	kmfa_fido2_touch_clear(&t);
	return KMFA_OK;
}

struct remove_arg {
	const char *name;
	int had_slot;		/* out: the key held a master-key slot */
	int last_slot;		/* out: ... the last one */
	size_t left;		/* out: keys enrolled after */
};

static int
remove_cred(struct kmfa_credfile *f, void *arg)
{
	struct remove_arg *a = arg;
	const struct kmfa_cred *c;

	if ((c = kmfa_credfile_find(f, a->name)) == NULL)
		return kmfa_fail(KMFA_ERR_USAGE, "no security key named '%s' "
		    "is enrolled (see 'kubectl mfa keys list')", a->name);
	a->had_slot = c->slot != NULL;
	a->last_slot = a->had_slot && kmfa_credfile_nslots(f) == 1;
	if (kmfa_credfile_remove(f, a->name) != KMFA_OK)
		return KMFA_ERR_INTERNAL;
	/*
	 * The removed key opens the master key with an old copy of the
	 * file: the next touch that opens it makes a new one, should the
	 * re-key below not happen now.  With no slot left there is nothing
	 * to re-key: the next enrolment makes a new master key.
	 */
	f->rekey_pending = kmfa_credfile_nslots(f) > 0 &&
	    (a->had_slot || f->rekey_pending);
	a->left = f->ncreds;
	return KMFA_OK;
}

static int
keys_remove(const struct kmfa_config *cfg, const char *name)
{
	const struct kmfa_fido2_pin_reader tty = { kmfa_tty_read_pin, NULL };
	struct remove_arg a = { name, 0, 0, 0 };
	struct kmfa_report_scope sc;
	struct kmfa_touch t;
	const char *why = NULL;
	int r;

	/* Under the file's lock: a touch meanwhile keeps its counter. */
	if ((r = kmfa_credfile_update(cfg->fido2_credentials,
	    cfg->timeout * 1000, remove_cred, &a)) != KMFA_OK)
		return r;
	kmfa_info("Removed security key '%s'.", name);
	if (a.had_slot && !a.last_slot) {
		/*
		 * A new master key now, when a person is there to touch a
		 * remaining key; else the next touch makes it.
		 */
		if (kmfa_presence_attended(&why)) {
			kmfa_info("Re-keying: a new master key, so that '%s' "
			    "with an old copy of %s opens nothing sealed from "
			    "now on.", name, cfg->fido2_credentials);
			kmfa_report_enter(&sc);
			r = kmfa_fido2_touch_rekey(cfg, &tty, &t);
			if (r == KMFA_OK) {
				kmfa_report_leave(&sc);
				say_rekeyed(cfg, &t, name);
				kmfa_fido2_touch_clear(&t);
				return KMFA_OK;
			}
			why = kmfa_report_cause() != NULL ?
			    kmfa_report_cause() : kmfa_report_reason(r);
			kmfa_warn("not re-keyed now: %s", why);
			kmfa_report_leave(&sc);
		}
		kmfa_info("'%s' together with a copy of %s from before this "
		    "removal opens the refresh tokens sealed until the next "
		    "touch of an enrolled key, which makes a new master key "
		    "(or run 'kubectl mfa keys rekey' now).", name,
		    cfg->fido2_credentials);
	} else if (a.had_slot)
		kmfa_info("'%s' together with a copy of %s from before this "
		    "removal still opens the refresh tokens sealed until now; "
		    "the next key enrolled gets a new master key. If the key "
		    "was lost or stolen, run 'kubectl mfa logout --all'.", name,
		    cfg->fido2_credentials);
	else
		kmfa_info("'%s' had no key slot: it never opened a sealed "
		    "refresh token.", name);
	if (a.left == 0)
		kmfa_warn("no security key is enrolled now: logins fail until "
		    "you enroll one");
	else if (a.last_slot)
		kmfa_warn("'%s' held the last key slot: cached sealed refresh "
		    "tokens can no longer be opened, and the next login runs "
		    "a new device flow", name);
	return KMFA_OK;
}

int
kmfa_cmd_keys(struct kmfa_config *cfg)
{
	const char *verb = cfg->nargs > 0 ? cfg->args[0] : "list";

	if (strcmp(verb, "list") == 0) {
		if (cfg->nargs > 1)
			return kmfa_fail(KMFA_ERR_USAGE, "keys list takes no "
			    "arguments");
		return keys_list(cfg);
	}
	if (strcmp(verb, "remove") == 0) {
		if (cfg->nargs != 2)
			return kmfa_fail(KMFA_ERR_USAGE, "usage: kubectl mfa "
			    "keys remove NAME");
		return keys_remove(cfg, cfg->args[1]);
	}
	if (strcmp(verb, "export") == 0) {
		if (cfg->nargs != 2)
			return kmfa_fail(KMFA_ERR_USAGE, "usage: kubectl mfa "
			    "keys export SUBJECT");
		return kmfa_cmd_keys_export(cfg, cfg->args[1]);
	}
	if (strcmp(verb, "rekey") == 0) {
		if (cfg->nargs > 1)
			return kmfa_fail(KMFA_ERR_USAGE, "keys rekey takes no "
			    "arguments");
		return keys_rekey(cfg);
	}
	return kmfa_fail(KMFA_ERR_USAGE, "keys: unknown action '%s' (list, "
	    "remove, rekey or export)", verb);
}

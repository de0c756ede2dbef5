/*
 * The `enroll` and `keys` commands: enrolling a security key, listing the
 * enrolled keys (stdout, a table for people) and removing one.  The work
 * is in lib/key/fido2_enroll.c and lib/key/credfile.c, and a PIN, when one
 * is needed, is typed at the terminal (lib/ui/tty.c); this file words the
 * outcome.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "commands.h"
#include "key/credfile.h"
#include "key/fido2_enroll.h"
#include "token/config.h"
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
done:
	if (fflush(stdout) != 0)
		r = kmfa_fail(KMFA_ERR_IO, "cannot write to stdout");
	kmfa_credfile_free(&f);
	return r;
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
	a->left = f->ncreds;
	return KMFA_OK;
}

static int
keys_remove(const struct kmfa_config *cfg, const char *name)
{
	struct remove_arg a = { name, 0, 0, 0 };
	int r;

	/* Under the file's lock: a touch meanwhile keeps its counter. */
	if ((r = kmfa_credfile_update(cfg->fido2_credentials,
	    cfg->timeout * 1000, remove_cred, &a)) != KMFA_OK)
		return r;
	kmfa_info("Removed security key '%s'.", name);
	/*
	 * Removal does not change the master key or the salt: say exactly
	 * what the removed key still opens with an old copy of the file, and
	 * the way to a new master key (with no slot left, the next enrolment
	 * makes one).
	 */
	if (a.had_slot && !a.last_slot)
		kmfa_info("The master key is unchanged: '%s' together with a "
		    "copy of %s from before this removal still opens every "
		    "refresh token sealed under it, including those sealed "
		    "from now on. If the key was lost or stolen, make a new "
		    "master key: remove every key, enroll them again, and run "
		    "'kubectl mfa logout --all'.", name,
		    cfg->fido2_credentials);
	else if (a.had_slot)
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
	return kmfa_fail(KMFA_ERR_USAGE, "keys: unknown action '%s' (list or "
	    "remove)", verb);
}

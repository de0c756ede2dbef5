/*
 * The touch.  One assertion is allowed for every enrolled credential at
 * once, so the person touches whichever key they have; the answer says
 * which one it was, and only that key's counter and slot are used.  A key
 * enrolled with hmac-secret that no longer gives its output is suspect,
 * not merely a key without a master key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <openssl/crypto.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fido2_assert.h"
#include "key/fido2_touch.h"
#include "key/fidodev.h"
#include "key/seal.h"
#include "token/config.h"

/* How long a silent probe may take: a key answers it at once. */
#define PROBE_MS	2000

/* "yubi", "yubi or backup", "a, b or c" for prompts. */
static int
names_of(const struct kmfa_cred *creds, size_t n, char **out)
{
	struct kmfa_buf b = { 0 };

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";

		if (kmfa_buf_printf(&b, "%s%s", sep, creds[i].name) != 0) {
			kmfa_buf_wipe(&b);
			return KMFA_ERR_NOMEM;
		}
	}
	*out = b.data != NULL ? b.data : strdup("");
	return *out != NULL ? KMFA_OK : KMFA_ERR_NOMEM;
}

void
kmfa_fido2_touch_clear(struct kmfa_touch *t)
{
	if (t == NULL)
		return;
	free(t->key_name);
	free(t->dropped);
	OPENSSL_cleanse(t->mk, sizeof(t->mk));
	kmfa_fido2_assert_evidence_clear(&t->evidence);
	OPENSSL_cleanse(t->old_mk, sizeof(t->old_mk));
	OPENSSL_cleanse(t->hmac, sizeof(t->hmac));
	t->key_name = NULL;
	t->dropped = NULL;
	t->have_mk = 0;
	t->rekeyed = 0;
	t->have_hmac = 0;
}

int
kmfa_fido2_touch_enrolled(struct kmfa_fido2_session *s,
    struct kmfa_credfile *f, int uv_required, const char *context,
    const char *lead, struct kmfa_touch *out)
{
	struct kmfa_fido2_assert_req req;
	struct kmfa_fido2_answer ans;
	struct kmfa_cred *c;
	char *names = NULL, *prompt = NULL;
	size_t nmissing = 0;
	int hmac = 0, r = KMFA_ERR_FIDO2;

	out->key_name = NULL;
	out->have_mk = 0;
	out->rekeyed = 0;
	out->have_hmac = 0;
	out->dropped = NULL;
	out->sealing = kmfa_credfile_nslots(f) > 0;
	memset(&ans, 0, sizeof(ans));
	for (size_t i = 0; i < f->ncreds; i++)
		if (f->creds[i].hmac_secret)
			hmac = s->has_hmac;
	if ((r = names_of(f->creds, f->ncreds, &names)) != KMFA_OK)
		goto out;
	if (kmfa_asprintf(&prompt, "%s (%s)...", lead, names) < 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	req = (struct kmfa_fido2_assert_req){
		.s = s,
		.creds = f->creds,
		.ncreds = f->ncreds,
		.salt = hmac ? f->hmac_salt : NULL,
		.uv_required = uv_required,
		.context = context,
		.prompt = prompt,
		.evidence = &out->evidence,
	};
	r = kmfa_fido2_assert(&req, &ans);
	out->event = req.event;
	if (r != KMFA_OK)
		goto out;
	r = KMFA_ERR_FIDO2;
	c = &f->creds[ans.idx];
	if (!kmfa_fido2_counter_ok(c->sign_count, ans.sign_count)) {
		out->event = KMFA_EV_COUNTER;
		r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' reported sign "
		    "counter %u, not above the last seen %u: possibly a cloned "
		    "key", c->name, ans.sign_count, c->sign_count);
		goto out;
	}
	if (c->slot != NULL) {
		if (!ans.have_hmac) {
			out->event = KMFA_EV_VERIFY_FAILED;
			r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' was "
			    "enrolled with hmac-secret but did not give its "
			    "output", c->name);
			goto out;
		}
		if (kmfa_seal_slot_unwrap(ans.hmac, f->hmac_salt, c->id,
		    c->id_len, c->slot, c->slot_len, out->mk) != KMFA_OK) {
			out->event = KMFA_EV_VERIFY_FAILED;
			r = kmfa_fail(KMFA_ERR_FIDO2, "the key slot of security "
			    "key '%s' does not open with its hmac-secret "
			    "output", c->name);
			goto out;
		}
		out->have_mk = 1;
		memcpy(out->hmac, ans.hmac, sizeof(out->hmac));
		out->have_hmac = 1;
		/*
		 * The master key is known now: the file's security fields
		 * must be as the master key's holder wrote them.
		 */
		if (kmfa_credfile_mac_verify(f, out->mk, &nmissing) != KMFA_OK) {
			out->event = KMFA_EV_VERIFY_FAILED;
			r = KMFA_ERR_FIDO2;
			goto out;
		}
	}
	if ((out->key_name = strdup(c->name)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	c->sign_count = ans.sign_count;
	c->last_used = kmfa_now();
	out->event = KMFA_EV_TOUCH_OK;
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		kmfa_fido2_touch_clear(out);
	OPENSSL_cleanse(&ans, sizeof(ans));
	free(names);
	free(prompt);
	return r;
}

struct save_arg {
	const struct kmfa_credfile *mine;	/* the copy the touch checked */
	const struct kmfa_touch *t;
	int force;		/* keys rekey: re-key whatever the file says */
	int rekeyed;		/* out: new_mk is the new master key */
	int meanwhile;		/* out: ... made by another process */
	uint8_t new_mk[KMFA_MK_LEN];
	char *dropped;		/* out: kmfa_credfile_rekey's names */
};

/*
 * A touch of a key with a version-1 slot (made before slots named a
 * public key) gives it a version-2 slot for the same master key, so that
 * a later re-key can reach it without its key at hand.
 */
static int
upgrade_slot(struct kmfa_credfile *fresh, struct kmfa_cred *c,
    const struct kmfa_touch *t)
{
	uint8_t *slot = NULL;
	size_t slot_len = 0;
	int r;

	if ((r = kmfa_seal_slot_wrap(t->hmac, fresh->hmac_salt, c->id,
	    c->id_len, t->mk, &slot, &slot_len)) != KMFA_OK)
		return r;
	free(c->slot);
	c->slot = slot;
	c->slot_len = slot_len;
	if ((r = kmfa_credfile_mac(c, t->mk, c->mac)) != KMFA_OK)
		return r;
	c->have_mac = 1;
	kmfa_debug("key slot of '%s' upgraded to version 2", c->name);
	return KMFA_OK;
}

/*
 * Another process re-keyed after this touch read the file: the master key
 * the touch opened is the old one, and what this login seals must go
 * under the new one, or the removed key with an old copy of the file
 * would open it.  The answering key's slot on disk, opened with the same
 * hmac-secret output, gives the new one; the file must authenticate under
 * it.  KMFA_OK with a->rekeyed set when that happened, KMFA_ERR_NOTFOUND
 * when the master key is the one the touch opened (or cannot be told).
 */
static int
rekeyed_meanwhile(const struct kmfa_credfile *fresh,
    const struct kmfa_cred *c, struct save_arg *a)
{
	const struct kmfa_touch *t = a->t;
	struct kmfa_report_scope sc;
	size_t nmissing = 0;
	int r = KMFA_ERR_NOTFOUND;

	if (c == NULL || c->slot == NULL || !t->have_hmac)
		return KMFA_ERR_NOTFOUND;
	kmfa_report_enter(&sc);
	if (kmfa_seal_slot_unwrap(t->hmac, fresh->hmac_salt, c->id, c->id_len,
	    c->slot, c->slot_len, a->new_mk) != KMFA_OK ||
	    CRYPTO_memcmp(a->new_mk, t->mk, KMFA_MK_LEN) == 0)
		goto out;
	if (kmfa_credfile_mac_verify(fresh, a->new_mk, &nmissing) != KMFA_OK ||
	    nmissing > 0) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "credentials file %s was "
		    "re-keyed meanwhile and does not authenticate under the "
		    "new master key", fresh->path);
		kmfa_report_pass(&sc);
		return r;
	}
	kmfa_debug("%s was re-keyed after this touch read it", fresh->path);
	a->rekeyed = a->meanwhile = 1;
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		OPENSSL_cleanse(a->new_mk, KMFA_MK_LEN);
	kmfa_report_leave(&sc);
	return r;
}

/*
 * Under the file's lock: the counter, and, when the touch unlocked the
 * master key, a MAC for each credential that had none (a file from before
 * MACs), but only where the credential on disk is still the one the touch
 * checked, field for field.  Then the answering key's slot upgrade and a
 * re-key (asked for, or pending since a removal), but only on a file that
 * authenticates as a whole under the master key the touch opened: what
 * is wrapped for a key must go to the public key its holder enrolled.
 */
static int
save_use(struct kmfa_credfile *fresh, void *arg)
{
	struct save_arg *a = arg;
	const struct kmfa_touch *t = a->t;
	const struct kmfa_cred *m;
	struct kmfa_cred *c = NULL;
	struct kmfa_report_scope sc;
	size_t added = 0, nmissing = 0, ndropped = 0;
	int upgrade, rekey, r;

	kmfa_credfile_merge_use(fresh, a->mine);
	if (!t->have_mk)
		return KMFA_OK;
	if ((m = kmfa_credfile_find(a->mine, t->key_name)) != NULL)
		c = kmfa_credfile_find_id(fresh, m->id, m->id_len);
	if ((r = rekeyed_meanwhile(fresh, c, a)) != KMFA_ERR_NOTFOUND)
		return r;
	if ((r = kmfa_credfile_mac_adopt(fresh, a->mine, t->mk, &added)) !=
	    KMFA_OK)
		return r;
	if (added > 0)
		kmfa_info("authenticated %zu key%s in %s under the master key "
		    "(MACs added)", added, added == 1 ? "" : "s", fresh->path);
	upgrade = c != NULL && t->have_hmac &&
	    kmfa_seal_slot_version(c->slot, c->slot_len) == 1;
	rekey = a->force || fresh->rekey_pending;
	if (!upgrade && !rekey)
		return KMFA_OK;
	kmfa_report_enter(&sc);
	if (kmfa_credfile_mac_verify(fresh, t->mk, &nmissing) != KMFA_OK ||
	    nmissing > 0) {
		if (nmissing > 0)
			(void)kmfa_fail(KMFA_ERR_FIDO2, "credentials file %s "
			    "changed while the key was touched", fresh->path);
		if (a->force) {
			kmfa_report_pass(&sc);
			return KMFA_ERR_FIDO2;
		}
		/* A login goes on: the mark stays for the next touch. */
		kmfa_warn("not re-keying %s now: %s", fresh->path,
		    kmfa_report_cause() != NULL ? kmfa_report_cause() : "?");
		kmfa_report_leave(&sc);
		return KMFA_OK;
	}
	kmfa_report_leave(&sc);
	if (upgrade && (r = upgrade_slot(fresh, c, t)) != KMFA_OK)
		return r;
	if (!rekey)
		return KMFA_OK;
	if ((r = kmfa_seal_new_mk(a->new_mk)) != KMFA_OK ||
	    (r = kmfa_credfile_rekey(fresh, a->new_mk, &a->dropped,
	    &ndropped)) != KMFA_OK)
		return r;
	a->rekeyed = 1;
	return KMFA_OK;
}

/*
 * Does the open device d hold one of the enrolled credentials?  A silent
 * assertion (user presence off, CTAP2 §5.2 "up": false, as OpenSSH's
 * sk-usbhid probes its keys) over them: a key answers with a credential or
 * with NO_CREDENTIALS, and nobody is asked to touch anything.  The answer
 * is only used to pick the device; the real assertion is verified.  1 if
 * it holds one, 0 if it says it holds none, -1 for any other answer (a
 * key that refuses an assertion without presence, or no answer in time):
 * such a key may still be the one, and is chosen by a touch as before.
 */
static int
probe_holds(struct kmfa_fidodev *d, const struct kmfa_credfile *f,
    int timeout_ms)
{
	fido_assert_t *a = NULL;
	uint8_t cdh[KMFA_FIDO2_CDH_LEN];
	int fr = FIDO_ERR_INTERNAL;

	if (kmfa_seal_random(cdh, sizeof(cdh)) != KMFA_OK ||
	    (a = fido_assert_new()) == NULL)
		goto out;
	if (fido_assert_set_rp(a, KMFA_FIDO2_RP_ID) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_FALSE) != FIDO_OK)
		goto out;
	for (size_t i = 0; i < f->ncreds; i++)
		if (fido_assert_allow_cred(a, f->creds[i].id,
		    f->creds[i].id_len) != FIDO_OK)
			goto out;
	(void)fido_dev_set_timeout(d->dev, timeout_ms);
	fr = fido_dev_get_assert(d->dev, a, NULL);
	kmfa_debug("silent probe of %s: %s", d->path, fido_strerr(fr));
out:
	fido_assert_free(&a);
	return fr == FIDO_OK ? 1 : fr == FIDO_ERR_NO_CREDENTIALS ? 0 : -1;
}

/*
 * Open the device to touch.  With several candidates and keys enrolled
 * without user verification, each is probed silently and only those that
 * hold an enrolled credential remain, so that the usual case (one of
 * them is yours) costs one touch instead of a touch to choose and another
 * to assert.  Keys enrolled with --fido2-uv are not probed: credProtect
 * hides their credentials from an assertion without verification, so
 * they are chosen by a touch as before.
 */
static int
select_enrolled(struct kmfa_fido2_session *s, const struct kmfa_credfile *f,
    int uv_required, const char *what, const char **event)
{
	struct kmfa_buf held = { 0 }, maybe = { 0 };
	char **paths = NULL;
	size_t n = 0, nheld = 0, nmaybe = 0;
	int left, r;

	*event = KMFA_EV_NO_KEY;
	left = kmfa_fido2_session_left_ms(s);
	if ((r = kmfa_fidodev_candidates(s->cfg->fido2_device, &paths, &n)) !=
	    KMFA_OK)
		goto out;
	if (n <= 1 || uv_required) {
		r = kmfa_fidodev_select(s->cfg->fido2_device, NULL, left, what,
		    &s->d);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct kmfa_report_scope sc;
		struct kmfa_fidodev d;
		int ok;

		kmfa_report_enter(&sc);
		ok = kmfa_fidodev_open(paths[i], &d) == KMFA_OK;
		kmfa_report_leave(&sc);
		if (!ok)
			continue;	/* unplugged meanwhile: skip it */
		left = kmfa_fido2_session_left_ms(s);
		ok = probe_holds(&d, f, left < 0 || left > PROBE_MS ?
		    PROBE_MS : left);
		kmfa_fidodev_close(&d);
		if (ok == 0)
			continue;
		if (kmfa_buf_printf(ok > 0 ? &held : &maybe, "%s%s",
		    (ok > 0 ? nheld : nmaybe) > 0 ? "," : "", paths[i]) != 0) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		if (ok > 0)
			nheld++;
		else
			nmaybe++;
	}
	if (nheld == 0 && nmaybe > 0) {
		/* No key said yes, some did not say: choose by a touch. */
		r = kmfa_fidodev_select(maybe.data, NULL,
		    kmfa_fido2_session_left_ms(s), what, &s->d);
		goto out;
	}
	if (nheld == 0) {
		*event = KMFA_EV_WRONG_KEY;
		r = kmfa_fail(KMFA_ERR_FIDO2, "none of the %zu security keys "
		    "plugged in holds one of the enrolled credentials: no "
		    "enrolled key is plugged in", n);
		goto out;
	}
	/* One left: opened without a touch; several: the one touched. */
	r = kmfa_fidodev_select(held.data, NULL, kmfa_fido2_session_left_ms(s),
	    what, &s->d);
out:
	kmfa_buf_wipe(&held);
	kmfa_buf_wipe(&maybe);
	kmfa_fidodev_paths_free(&paths, n);
	return r;
}

static int
touch_save(const struct kmfa_config *cfg, const char *context,
    const struct kmfa_fido2_pin_reader *pin, int force,
    struct kmfa_touch *out)
{
	struct kmfa_credfile *f = NULL;
	struct kmfa_report_scope sc;
	struct kmfa_fido2_session s;
	struct save_arg sa;
	int uv_required, r = KMFA_ERR_FIDO2;

	memset(out, 0, sizeof(*out));
	memset(&sa, 0, sizeof(sa));
	out->event = KMFA_EV_TOUCH_FAILED;
	kmfa_fido2_session_init(&s, cfg, pin);
	/* Fail closed: a broken credentials file is a failed security-key step. */
	if (kmfa_credfile_load(cfg->fido2_credentials, &f) != KMFA_OK)
		goto out;
	if (f->ncreds == 0) {
		out->event = KMFA_EV_NO_KEY;
		r = kmfa_fail(KMFA_ERR_FIDO2, "no security key is enrolled: "
		    "run 'kubectl mfa enroll' first");
		goto out;
	}
	if (force && kmfa_credfile_nslots(f) == 0) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "no enrolled key holds a key "
		    "slot: there is no master key to replace");
		goto out;
	}
	if (kmfa_fido2_policy(f, &uv_required) != KMFA_OK)
		goto out;
	if (cfg->fido2_uv && !uv_required) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "--fido2-uv asks for user "
		    "verification but the enrolled keys were enrolled without "
		    "it: enroll them again with --fido2-uv");
		goto out;
	}
	if (select_enrolled(&s, f, uv_required, force ? "to re-key with" :
	    "to log in with", &out->event) != KMFA_OK)
		goto out;
	if (kmfa_fido2_session_probe(&s) != KMFA_OK)
		goto out;
	if ((r = kmfa_fido2_touch_enrolled(&s, f, uv_required, context,
	    "Touch your security key", out)) != KMFA_OK)
		goto out;
	/*
	 * The counter is defence in depth: a failed save must not block work.
	 * Saved under the file's lock into the file as it is now, so that an
	 * enrolment or another touch meanwhile is kept and the counter on
	 * disk never goes back.  A re-key is only used once it is saved.
	 */
	kmfa_report_enter(&sc);
	sa.mine = f;
	sa.t = out;
	sa.force = force;
	r = kmfa_credfile_update(f->path, cfg->timeout * 1000, save_use, &sa);
	if (r == KMFA_OK && force && !sa.rekeyed)
		r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' has no key "
		    "slot: touch a key that opens the master key",
		    out->key_name);
	if (r != KMFA_OK && force) {
		kmfa_report_pass(&sc);
		goto out;
	}
	if (r != KMFA_OK)
		kmfa_warn("could not record the sign counter in %s: %s",
		    f->path, kmfa_report_cause() ? kmfa_report_cause() : "?");
	else if (sa.rekeyed) {
		memcpy(out->old_mk, out->mk, sizeof(out->mk));
		memcpy(out->mk, sa.new_mk, sizeof(out->mk));
		out->rekeyed = 1;
		out->dropped = sa.dropped;
		sa.dropped = NULL;	/* transferred */
		if (!force && !sa.meanwhile)
			kmfa_info("made a new master key, as a key was removed: "
			    "a removed key with an old copy of %s opens only "
			    "refresh tokens sealed before now", f->path);
		if (!force && out->dropped != NULL)
			kmfa_warn("%s had a key slot of the old format and no "
			    "longer opens sealed refresh tokens: remove and "
			    "enroll it again", out->dropped);
	}
	kmfa_report_leave(&sc);
	r = KMFA_OK;
out:
	OPENSSL_cleanse(sa.new_mk, sizeof(sa.new_mk));
	free(sa.dropped);
	kmfa_fido2_session_close(&s);
	kmfa_credfile_free(&f);
	if (r != KMFA_OK) {
		kmfa_fido2_touch_clear(out);
		if (r != KMFA_ERR_NOMEM)
			r = KMFA_ERR_FIDO2;
		if (strcmp(out->event, KMFA_EV_TOUCH_OK) == 0)
			out->event = KMFA_EV_TOUCH_FAILED;
	}
	return r;
}

int
kmfa_fido2_touch(const struct kmfa_config *cfg, const char *context,
    const struct kmfa_fido2_pin_reader *pin, struct kmfa_touch *out)
{
	return touch_save(cfg, context, pin, 0, out);
}

int
kmfa_fido2_touch_rekey(const struct kmfa_config *cfg,
    const struct kmfa_fido2_pin_reader *pin, struct kmfa_touch *out)
{
	return touch_save(cfg, "kubectl-mfa rekey", pin, 1, out);
}

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
	OPENSSL_cleanse(t->mk, sizeof(t->mk));
	kmfa_fido2_assert_evidence_clear(&t->evidence);
	t->key_name = NULL;
	t->have_mk = 0;
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
};

/*
 * Under the file's lock: the counter, and, when the touch unlocked the
 * master key, a MAC for each credential that had none (a file from before
 * MACs), but only where the credential on disk is still the one the touch
 * checked, field for field.
 */
static int
save_use(struct kmfa_credfile *fresh, void *arg)
{
	const struct save_arg *a = arg;
	size_t added = 0;
	int r;

	kmfa_credfile_merge_use(fresh, a->mine);
	if (a->t->have_mk && (r = kmfa_credfile_mac_adopt(fresh, a->mine,
	    a->t->mk, &added)) != KMFA_OK)
		return r;
	if (added > 0)
		kmfa_info("authenticated %zu key%s in %s under the master key "
		    "(MACs added)", added, added == 1 ? "" : "s", fresh->path);
	return KMFA_OK;
}

int
kmfa_fido2_touch(const struct kmfa_config *cfg, const char *context,
    const struct kmfa_fido2_pin_reader *pin, struct kmfa_touch *out)
{
	struct kmfa_credfile *f = NULL;
	struct kmfa_report_scope sc;
	struct kmfa_fido2_session s;
	struct save_arg sa;
	int uv_required, r = KMFA_ERR_FIDO2;

	memset(out, 0, sizeof(*out));
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
	if (kmfa_fido2_policy(f, &uv_required) != KMFA_OK)
		goto out;
	if (cfg->fido2_uv && !uv_required) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "--fido2-uv asks for user "
		    "verification but the enrolled keys were enrolled without "
		    "it: enroll them again with --fido2-uv");
		goto out;
	}
	if (kmfa_fidodev_select(cfg->fido2_device, NULL,
	    kmfa_fido2_session_left_ms(&s), "to log in with", &s.d) !=
	    KMFA_OK) {
		out->event = KMFA_EV_NO_KEY;
		goto out;
	}
	if (kmfa_fido2_session_probe(&s) != KMFA_OK)
		goto out;
	if ((r = kmfa_fido2_touch_enrolled(&s, f, uv_required, context,
	    "Touch your security key", out)) != KMFA_OK)
		goto out;
	/*
	 * The counter is defence in depth: a failed save must not block work.
	 * Saved under the file's lock into the file as it is now, so that an
	 * enrolment or another touch meanwhile is kept and the counter on
	 * disk never goes back.
	 */
	kmfa_report_enter(&sc);
	sa.mine = f;
	sa.t = out;
	if (kmfa_credfile_update(f->path, cfg->timeout * 1000, save_use, &sa) !=
	    KMFA_OK) {
		kmfa_warn("could not record the sign counter in %s: %s",
		    f->path, kmfa_report_cause() ? kmfa_report_cause() : "?");
	}
	kmfa_report_leave(&sc);
	r = KMFA_OK;
out:
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

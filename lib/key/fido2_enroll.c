/*
 * Enrolment.  The new key is touched twice, once to make its credential
 * and once for its first hmac-secret reading, because the output depends
 * on the UP/UV settings of the assertion (CTAP2 §12.5) and must be the one
 * every later touch reproduces.  A further key gets the existing master
 * key from a touch of a key already enrolled, on a session of its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <openssl/crypto.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fido2_assert.h"
#include "key/fido2_enroll.h"
#include "key/fido2_touch.h"
#include "key/fidodev.h"
#include "key/seal.h"
#include "token/config.h"

void
kmfa_fido2_enroll_result_clear(struct kmfa_enroll_result *res)
{
	if (res == NULL)
		return;
	free(res->key_name);
	memset(res, 0, sizeof(*res));
}

/*
 * makeCredential (CTAP2 §6.1): ES256, not resident, hmac-secret when
 * listed, credProtect "UV required" (CTAP2.1 §12.1) with uv so that the
 * credential cannot even be probed for without verification.  The enrolled
 * credentials are excluded so that one key is not enrolled twice.
 */
static int
make_credential(struct kmfa_fido2_session *s, const struct kmfa_credfile *f,
    const char *name, int uv_required, struct kmfa_cred *out)
{
	fido_cred_t *cred = NULL;
	uint8_t cdh[KMFA_FIDO2_CDH_LEN], uid[32];
	enum kmfa_fido2_uv m;
	const char *event = NULL;
	char *prompt = NULL;
	int ext = 0, fr, r = KMFA_ERR_FIDO2;

	if ((r = kmfa_fido2_session_uv(s, uv_required, &m)) != KMFA_OK)
		goto out;
	if ((r = kmfa_seal_random(cdh, sizeof(cdh))) != KMFA_OK ||
	    (r = kmfa_seal_random(uid, sizeof(uid))) != KMFA_OK)
		goto out;
	if (s->has_hmac)
		ext |= FIDO_EXT_HMAC_SECRET;
	if (uv_required && s->has_credprot)
		ext |= FIDO_EXT_CRED_PROTECT;
	if (kmfa_asprintf(&prompt, "Touch your new security key to create "
	    "its credential (%s)...", name) < 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		fido_cred_free(&cred);
		if (m == KMFA_FIDO2_UV_PIN &&
		    (r = kmfa_fido2_session_pin(s, &event)) != KMFA_OK)
			goto out;
		r = KMFA_ERR_NOMEM;
		if ((cred = fido_cred_new()) == NULL)
			goto out;
		r = KMFA_ERR_INTERNAL;
		if (fido_cred_set_type(cred, COSE_ES256) != FIDO_OK ||
		    fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)) !=
		    FIDO_OK ||
		    fido_cred_set_rp(cred, KMFA_FIDO2_RP_ID, "kubectl-mfa") !=
		    FIDO_OK ||
		    fido_cred_set_user(cred, uid, sizeof(uid), "kubectl-mfa",
		    name, NULL) != FIDO_OK ||
		    fido_cred_set_rk(cred, FIDO_OPT_OMIT) != FIDO_OK ||
		    fido_cred_set_uv(cred, m == KMFA_FIDO2_UV_BUILTIN ?
		    FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK ||
		    fido_cred_set_extensions(cred, ext) != FIDO_OK)
			goto out;
		if ((ext & FIDO_EXT_CRED_PROTECT) != 0 &&
		    fido_cred_set_prot(cred, FIDO_CRED_PROT_UV_REQUIRED) !=
		    FIDO_OK)
			goto out;
		for (size_t i = 0; i < f->ncreds; i++)
			if (fido_cred_exclude(cred, f->creds[i].id,
			    f->creds[i].id_len) != FIDO_OK)
				goto out;
		(void)fido_dev_set_timeout(s->d.dev,
		    kmfa_fido2_session_left_ms(s));
		kmfa_info("%s", prompt);
		fr = fido_dev_make_cred(s->d.dev, cred, m == KMFA_FIDO2_UV_PIN ?
		    s->pin : NULL);
		if (fr == FIDO_OK)
			break;
		/* CTAP2.0 keys with a PIN set want it even for makeCredential. */
		if (fr == FIDO_ERR_PIN_REQUIRED && m == KMFA_FIDO2_UV_NONE &&
		    s->has_pin) {
			m = KMFA_FIDO2_UV_PIN;
			continue;
		}
		if (fr == FIDO_ERR_PIN_INVALID && m == KMFA_FIDO2_UV_PIN &&
		    attempt + 1 < KMFA_FIDO2_PIN_ATTEMPTS) {
			kmfa_fido2_session_wrong_pin(s);
			continue;
		}
		r = kmfa_fido2_session_fail(s, fr, "creating the credential "
		    "failed");
		goto out;
	}
	/*
	 * Self-consistency of the attestation object: authData, rpIdHash,
	 * clientDataHash, requested extensions, and the signature (by the
	 * credential key itself for self attestation, WebAuthn §8.2, or by
	 * the attestation certificate it carries).  Not a trust decision on
	 * the maker: any FIDO2 key is acceptable.
	 */
	fr = fido_cred_x5c_len(cred) > 0 ? fido_cred_verify(cred) :
	    fido_cred_verify_self(cred);
	if (fr != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the new credential's attestation "
		    "does not verify: %s", kmfa_fido2_strerr(fr));
		goto out;
	}
	if (fido_cred_type(cred) != COSE_ES256 ||
	    fido_cred_pubkey_len(cred) != KMFA_ES256_PK_LEN ||
	    fido_cred_id_len(cred) == 0 ||
	    fido_cred_id_len(cred) > KMFA_CRED_ID_MAX) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the security key returned an "
		    "unusable credential (type, key or id size)");
		goto out;
	}
	r = KMFA_ERR_NOMEM;
	memset(out, 0, sizeof(*out));
	if ((out->name = strdup(name)) == NULL ||
	    (out->rp_id = strdup(KMFA_FIDO2_RP_ID)) == NULL ||
	    (out->id = malloc(fido_cred_id_len(cred))) == NULL ||
	    (out->pubkey = malloc(KMFA_ES256_PK_LEN)) == NULL)
		goto out;
	out->id_len = fido_cred_id_len(cred);
	memcpy(out->id, fido_cred_id_ptr(cred), out->id_len);
	out->pubkey_len = KMFA_ES256_PK_LEN;
	memcpy(out->pubkey, fido_cred_pubkey_ptr(cred), out->pubkey_len);
	out->uv_required = uv_required;
	out->pin = s->has_pin;
	out->hmac_secret = s->has_hmac;
	out->sign_count = fido_cred_sigcount(cred);
	out->created = kmfa_now();
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		kmfa_credfile_cred_clear(out);
	fido_cred_free(&cred);
	free(prompt);
	return r;
}

struct add_arg {
	const struct kmfa_credfile *mine;	/* the copy enrolment began with */
	struct kmfa_cred *nc;			/* the new credential, handed over */
	int new_mk;				/* nc's slot holds a new master key */
	const uint8_t *mk;			/* the master key, when known */
	size_t nkeys;				/* out: keys enrolled after */
};

/* 1 if the file's MACs verify under mk (a file from before MACs does). */
static int
macs_hold(const struct kmfa_credfile *f, const uint8_t mk[KMFA_MK_LEN])
{
	struct kmfa_report_scope sc;
	size_t nmissing = 0;
	int ok;

	kmfa_report_enter(&sc);
	ok = kmfa_credfile_mac_verify(f, mk, &nmissing) == KMFA_OK;
	kmfa_report_leave(&sc);
	return ok;
}

/*
 * Add the new credential to the file as it is now, under its lock.  The
 * new slot was wrapped with the salt and master key of the copy read at
 * the start; if another enrolment changed either meanwhile, the slot would
 * not open (or would hold a second master key), so ask for a new attempt
 * rather than save a key that cannot unseal.
 */
static int
add_cred(struct kmfa_credfile *fresh, void *arg)
{
	struct add_arg *a = arg;
	size_t added = 0;
	int r;

	/* No key on disk: its salt (fresh, when there is no file) is unused. */
	if (fresh->ncreds == 0)
		memcpy(fresh->hmac_salt, a->mine->hmac_salt,
		    sizeof(fresh->hmac_salt));
	if (a->nc->slot != NULL &&
	    (memcmp(fresh->hmac_salt, a->mine->hmac_salt,
	    sizeof(fresh->hmac_salt)) != 0 ||
	    (a->new_mk && kmfa_credfile_nslots(fresh) > 0)))
		return kmfa_fail(KMFA_ERR_FIDO2, "the credentials file %s "
		    "changed while this key was being enrolled; run 'kubectl "
		    "mfa enroll' again", fresh->path);
	/* A re-key meanwhile: the new slot and MAC hold the old master key. */
	if (a->mk != NULL && !macs_hold(fresh, a->mk))
		return kmfa_fail(KMFA_ERR_FIDO2, "the credentials file %s "
		    "was re-keyed while this key was being enrolled; run "
		    "'kubectl mfa enroll' again", fresh->path);
	kmfa_credfile_merge_use(fresh, a->mine);
	/* The master key holder vouches for the keys as checked (or, in a
	 * file from before MACs, as read) at the start. */
	if (a->mk != NULL && (r = kmfa_credfile_mac_adopt(fresh, a->mine,
	    a->mk, &added)) != KMFA_OK)
		return r;
	if ((r = kmfa_credfile_add(fresh, a->nc)) != KMFA_OK)
		return r;
	a->nkeys = fresh->ncreds;
	return KMFA_OK;
}

int
kmfa_fido2_enroll(const struct kmfa_config *cfg, const char *name, int uv,
    const struct kmfa_fido2_pin_reader *pin, struct kmfa_enroll_result *out)
{
	struct kmfa_credfile *f = NULL;
	struct kmfa_cred nc;
	struct kmfa_fido2_assert_req req;
	struct kmfa_fido2_answer ans;
	struct kmfa_fido2_session s, s2;
	struct kmfa_touch unlock;
	struct add_arg add;
	uint8_t mk[KMFA_MK_LEN];
	char *auto_name = NULL, *context = NULL, *new_path = NULL;
	int uv_now, have_mk = 0, r = KMFA_ERR_FIDO2;

	memset(out, 0, sizeof(*out));
	memset(&nc, 0, sizeof(nc));
	memset(&ans, 0, sizeof(ans));
	memset(&unlock, 0, sizeof(unlock));
	kmfa_fido2_session_init(&s, cfg, pin);
	kmfa_fido2_session_init(&s2, cfg, pin);
	if ((r = kmfa_credfile_load(cfg->fido2_credentials, &f)) != KMFA_OK)
		goto out;
	if (name == NULL) {
		if ((r = kmfa_credfile_default_name(f, &auto_name)) != KMFA_OK)
			goto out;
		name = auto_name;
	} else if (kmfa_credfile_name_valid(name) != 0) {
		r = kmfa_fail(KMFA_ERR_USAGE, "'%s' is not a valid key name "
		    "(1 to 64 letters, digits, '-', '_', '.', '@' or '+')",
		    name);
		goto out;
	} else if (kmfa_credfile_find(f, name) != NULL) {
		r = kmfa_fail(KMFA_ERR_USAGE, "a key named '%s' is already "
		    "enrolled; choose another --name", name);
		goto out;
	}
	/*
	 * One policy per user: a touch is one assertion, the hmac-secret
	 * output differs with and without UV (CTAP2 §12.5), and a mix would
	 * leave the user only as strong as the weakest key anyway.
	 */
	if ((r = kmfa_fido2_policy(f, &uv_now)) != KMFA_OK)
		goto out;
	if (f->ncreds > 0 && uv_now != (uv != 0)) {
		r = kmfa_fail(KMFA_ERR_USAGE, "your enrolled keys use %s; "
		    "enroll this one %s --fido2-uv as well", uv_now ?
		    "user verification" : "no user verification", uv_now ?
		    "with" : "without");
		goto out;
	}
	if (kmfa_asprintf(&context, "kubectl-mfa enroll\n%s", name) < 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = kmfa_fidodev_select(cfg->fido2_device, NULL,
	    kmfa_fido2_session_left_ms(&s), "to enroll", &s.d)) != KMFA_OK ||
	    (r = kmfa_fido2_session_probe(&s)) != KMFA_OK ||
	    (r = make_credential(&s, f, name, uv != 0, &nc)) != KMFA_OK)
		goto out;

	if (nc.hmac_secret) {
		char *prompt = NULL;

		/* The first reading, with the UP/UV settings of every later touch. */
		if (kmfa_asprintf(&prompt, "Touch your new security key again "
		    "to read its hmac-secret (%s)...", name) < 0) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		req = (struct kmfa_fido2_assert_req){
			.s = &s,
			.creds = &nc,
			.ncreds = 1,
			.salt = f->hmac_salt,
			.uv_required = nc.uv_required,
			.context = context,
			.prompt = prompt,
		};
		r = kmfa_fido2_assert(&req, &ans);
		free(prompt);
		if (r != KMFA_OK)
			goto out;
		if (!ans.have_hmac) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "the new security key gave "
			    "no hmac-secret output");
			goto out;
		}
		nc.sign_count = ans.sign_count;
	}
	if (kmfa_credfile_nslots(f) == 0) {
		if (nc.hmac_secret) {
			if ((r = kmfa_seal_new_mk(mk)) != KMFA_OK)
				goto out;
			out->new_mk = 1;
			have_mk = 1;
		}
	} else {
		/*
		 * Sealing is set up: the master key is needed to give the new
		 * key a slot, and, with or without one, a MAC that the next
		 * touch checks (a key added without it is refused then).
		 * The new key is done: free its handle before the next.
		 */
		if ((new_path = strdup(s.d.path)) == NULL) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		kmfa_fido2_session_close(&s);
		if (nc.hmac_secret)
			kmfa_info("Now an already-enrolled key must let '%s' "
			    "open your sealed refresh tokens.", name);
		else
			kmfa_info("Now an already-enrolled key must vouch for "
			    "'%s' in the credentials file.", name);
		if ((r = kmfa_fidodev_select(cfg->fido2_device,
		    new_path, kmfa_fido2_session_left_ms(&s2),
		    "that is already enrolled", &s2.d)) != KMFA_OK ||
		    (r = kmfa_fido2_session_probe(&s2)) != KMFA_OK)
			goto out;
		if ((r = kmfa_fido2_touch_enrolled(&s2, f, uv_now,
		    context, "Touch an already-enrolled security key",
		    &unlock)) != KMFA_OK)
			goto out;
		if (!unlock.have_mk) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' "
			    "has no key slot (no hmac-secret): touch "
			    "one that has", unlock.key_name);
			goto out;
		}
		memcpy(mk, unlock.mk, sizeof(mk));
		have_mk = 1;
	}
	if (nc.hmac_secret &&
	    (r = kmfa_seal_slot_wrap(ans.hmac, f->hmac_salt, nc.id,
	    nc.id_len, mk, &nc.slot, &nc.slot_len)) != KMFA_OK)
		goto out;
	if (have_mk) {
		if ((r = kmfa_credfile_mac(&nc, mk, nc.mac)) != KMFA_OK)
			goto out;
		nc.have_mac = 1;
	}
	if (nc.hmac_secret) {
		/* nothing to say: the outcome line tells */
	} else if (kmfa_credfile_nslots(f) > 0) {
		kmfa_warn("security key '%s' lacks hmac-secret: it can confirm "
		    "your presence but cannot open sealed refresh tokens, so a "
		    "login with it needs a new device flow", name);
	} else {
		kmfa_warn("security key '%s' lacks hmac-secret: refresh tokens "
		    "will be stored unsealed", name);
	}
	out->hmac_secret = nc.hmac_secret;
	out->uv_required = nc.uv_required;
	if ((out->key_name = strdup(name)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	add.mine = f;
	add.nc = &nc;
	add.new_mk = out->new_mk;
	add.mk = have_mk ? mk : NULL;
	if ((r = kmfa_credfile_update(f->path, cfg->timeout * 1000, add_cred,
	    &add)) != KMFA_OK)
		goto out;
	out->nkeys = (int)add.nkeys;
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		kmfa_fido2_enroll_result_clear(out);
	OPENSSL_cleanse(mk, sizeof(mk));
	OPENSSL_cleanse(&ans, sizeof(ans));
	kmfa_fido2_touch_clear(&unlock);
	kmfa_fido2_session_close(&s);
	kmfa_fido2_session_close(&s2);
	kmfa_credfile_cred_clear(&nc);
	kmfa_credfile_free(&f);
	free(auto_name);
	free(context);
	free(new_path);
	return r;
}

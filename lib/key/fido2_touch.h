/*
 * The touch that must precede every new token: one assertion
 * (lib/key/fido2_assert.h) over a fresh challenge bound to the login's
 * issuer and client id, allowed for every enrolled credential, then the
 * sign counter checked for regression and the master key that seals
 * refresh tokens (lib/key/seal.h) unwrapped from the answering key's slot
 * with the hmac-secret output of the same assertion.  This module owns
 * that sequence and the record of the key's last counter and use.  Every
 * failure is KMFA_ERR_FIDO2 with one clear cause and an audit event.  The
 * caller decides beforehand whether a person is present: these functions
 * prompt and wait.
 */
#ifndef KMFA_FIDO2_TOUCH_H
#define KMFA_FIDO2_TOUCH_H

#include <stdint.h>

#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fido2_assert.h"
#include "key/seal.h"
#include "token/config.h"

struct kmfa_touch {
	char *key_name;		/* the key that answered, or NULL */
	int have_mk;		/* mk holds the master key */
	int sealing;		/* the credentials file has a master-key slot */
	uint8_t mk[KMFA_MK_LEN];
	/*
	 * This touch made a new master key (a re-key): mk is the new one,
	 * old_mk the one the touch opened, which still opens what was sealed
	 * before; dropped names the keys left without a slot (a version-1
	 * slot, which only a touch of its own key re-wraps), NULL if none.
	 */
	int rekeyed;
	uint8_t old_mk[KMFA_MK_LEN];
	char *dropped;
	/* The answering key's hmac-secret output, to upgrade its slot. */
	int have_hmac;
	uint8_t hmac[KMFA_HMAC_OUT_LEN];
	const char *event;	/* one of KMFA_EV_*, set on success and failure */
	/* The verified assertion, for a server proof (lib/key/proof.h). */
	struct kmfa_fido2_evidence evidence;
};

/* Wipe the master keys and the hmac output, free the names. */
void kmfa_fido2_touch_clear(struct kmfa_touch *t);

/*
 * The touch before a new token.  context binds the challenge to the login
 * (the flow passes the configuration identity); pin asks for the PIN when the keys were enrolled
 * with user verification and use one.  On success the answering key's
 * counter and last-use time are saved, and out->mk holds the master key
 * when that key has a slot.  KMFA_ERR_FIDO2 for every failure, out->event
 * saying which kind for the audit log.  When the credentials file says a
 * re-key is pending (a key with a slot was removed), the touch also makes
 * the new master key (as kmfa_fido2_touch_rekey) and says so; out->rekeyed
 * tells the caller to re-seal with out->mk what opens with out->old_mk.
 * A touch by a key with a version-1 slot upgrades it to version 2.
 */
int kmfa_fido2_touch(const struct kmfa_config *cfg, const char *context,
    const struct kmfa_fido2_pin_reader *pin, struct kmfa_touch *out);

/*
 * The re-key on demand: a touch of an enrolled key with a slot opens the
 * master key and authenticates the file under it; then, under the file's
 * lock, the file as it is now is authenticated again, a new master key is
 * made and wrapped for every key with a slot (kmfa_credfile_rekey: no
 * other key needs to be at hand), and every MAC is made under it.  On
 * success out->rekeyed is set, out->mk is the new master key and
 * out->old_mk the old one.  KMFA_ERR_FIDO2 when the touched key has no
 * slot (it cannot open the master key) or the file changed meanwhile.
 */
int kmfa_fido2_touch_rekey(const struct kmfa_config *cfg,
    const struct kmfa_fido2_pin_reader *pin, struct kmfa_touch *out);

/*
 * The touch of an enrolled key in the open session s, shared by login and
 * by the enrolment of a further key: assertion, counter rule, master key
 * from the slot.  lead starts the prompt ("Touch your security key"); the
 * enrolled names follow.  On success the credential's counter and last use
 * are updated in f (not saved) and out is filled as by kmfa_fido2_touch.
 */
int kmfa_fido2_touch_enrolled(struct kmfa_fido2_session *s,
    struct kmfa_credfile *f, int uv_required, const char *context,
    const char *lead, struct kmfa_touch *out);

#endif

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
	const char *event;	/* one of KMFA_EV_*, set on success and failure */
	/* The verified assertion, for a server proof (lib/key/proof.h). */
	struct kmfa_fido2_evidence evidence;
};

/* Wipe the master key and free the name. */
void kmfa_fido2_touch_clear(struct kmfa_touch *t);

/*
 * The touch before a new token.  context binds the challenge to the login
 * (the flow passes the configuration identity); pin asks for the PIN when the keys were enrolled
 * with user verification and use one.  On success the answering key's
 * counter and last-use time are saved, and out->mk holds the master key
 * when that key has a slot.  KMFA_ERR_FIDO2 for every failure, out->event
 * saying which kind for the audit log.
 */
int kmfa_fido2_touch(const struct kmfa_config *cfg, const char *context,
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

/*
 * The second factor: enrolling a FIDO2 security key and the verified touch
 * that must precede every new token.  A touch is one getAssertion (CTAP2
 * §6.2) over a fresh random challenge bound to the login's issuer and
 * client id, allowed for every enrolled credential, with user presence and
 * (when the keys were enrolled so) user verification; the signature is
 * verified here against the enrolled public key, the sign counter is
 * checked for regression, and the hmac-secret output of the same
 * assertion unwraps the master key that seals refresh tokens
 * (lib/key/seal.h).  Every failure is KMFA_ERR_FIDO2 with one clear cause;
 * FIDO_ERR_* never leaves this module.  The caller decides beforehand
 * whether a person is present: these functions prompt and wait.
 */
#ifndef KMFA_FIDO2_H
#define KMFA_FIDO2_H

#include <stdint.h>

#include "key/seal.h"
#include "token/config.h"

struct kmfa_enroll_result {
	char *key_name;		/* the name given to the new key */
	int hmac_secret;	/* it has a master-key slot */
	int uv_required;
	int new_mk;		/* the first slot: a new master key was made */
	int nkeys;		/* enrolled keys now */
};

void kmfa_enroll_result_clear(struct kmfa_enroll_result *r);

/*
 * Enroll a new key as `name` (NULL: "key-N").  uv: require user
 * verification (PIN or built-in) at every touch.  Makes an ES256
 * non-resident credential (hmac-secret when the key lists it, credProtect
 * "UV required" with uv), checks the attestation's self-consistency, takes
 * a first hmac-secret reading with the UP/UV settings later touches use,
 * and writes the record.  When other keys already hold master-key slots,
 * the master key comes from a touch of one of them, so the new key opens
 * the tokens they sealed.  All keys of a user share one UV policy.
 */
int kmfa_fido2_enroll(const struct kmfa_config *cfg, const char *name,
    int uv, struct kmfa_enroll_result *out);

/* Audit events, as DESIGN.md §5 names them. */
#define KMFA_EV_TOUCH_OK	"touch-ok"
#define KMFA_EV_TOUCH_FAILED	"touch-failed"
#define KMFA_EV_VERIFY_FAILED	"verify-failed"
#define KMFA_EV_COUNTER		"counter-regressed"
#define KMFA_EV_NO_KEY		"no-key"
#define KMFA_EV_WRONG_KEY	"wrong-key"
#define KMFA_EV_PIN_FAILED	"pin-failed"

struct kmfa_touch {
	char *key_name;		/* the key that answered, or NULL */
	int have_mk;		/* mk holds the master key */
	uint8_t mk[KMFA_MK_LEN];
	const char *event;	/* one of KMFA_EV_*, set on success and failure */
};

/* Wipe the master key and free the name. */
void kmfa_touch_clear(struct kmfa_touch *t);

/*
 * The touch before a new token.  context binds the challenge to the login
 * ("issuer\nclient_id").  On success the answering key's counter and
 * last-use time are saved, and out->mk holds the master key when that key
 * has a slot.  KMFA_ERR_FIDO2 for every failure, out->event saying which
 * kind for the audit log.
 */
int kmfa_fido2_touch(const struct kmfa_config *cfg, const char *context,
    struct kmfa_touch *out);

/*
 * The sign-counter rule (WebAuthn L2 §6.1.1, §7.2 step 21): a key that
 * has always reported 0 has no counter and passes; otherwise the new
 * value must be above the stored one, or the key may have been cloned.
 * 1 if seen is acceptable after stored, else 0.
 */
int kmfa_fido2_counter_ok(uint32_t stored, uint32_t seen);

/* A person's message for a libfido2 error code during an operation. */
const char *kmfa_fido2_strerr(int fido_err);

#endif

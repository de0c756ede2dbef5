/*
 * Enrolling a security key: makeCredential (CTAP2 §6.1) for a new ES256
 * credential, the self-consistency check of what the key returned, a
 * first hmac-secret reading taken the way every later touch takes it, the
 * master-key slot for the new key, and the record in the credentials file
 * (lib/key/credfile.h).  This module owns that sequence and the rules of
 * enrolment: unique names, one UV policy per user, no key enrolled twice.
 * The caller decides beforehand whether a person is present: these
 * functions prompt and wait.
 */
#ifndef KMFA_FIDO2_ENROLL_H
#define KMFA_FIDO2_ENROLL_H

#include "key/fido2.h"
#include "token/config.h"

struct kmfa_enroll_result {
	char *key_name;		/* the name given to the new key */
	int hmac_secret;	/* it has a master-key slot */
	int uv_required;
	int new_mk;		/* the first slot: a new master key was made */
	int nkeys;		/* enrolled keys now */
};

void kmfa_fido2_enroll_result_clear(struct kmfa_enroll_result *r);

/*
 * Enroll a new key as `name` (NULL: "key-N").  uv: require user
 * verification (PIN or built-in) at every touch; pin asks for the PIN
 * when one is needed.  Makes an ES256 non-resident credential
 * (hmac-secret when the key lists it, credProtect "UV required" with uv),
 * checks the attestation's self-consistency, takes a first hmac-secret
 * reading with the UP/UV settings later touches use, and writes the
 * record.  When other keys already hold master-key slots, the master key
 * comes from a touch of one of them, so the new key opens the tokens they
 * sealed.  All keys of a user share one UV policy.
 */
int kmfa_fido2_enroll(const struct kmfa_config *cfg, const char *name,
    int uv, const struct kmfa_fido2_pin_reader *pin,
    struct kmfa_enroll_result *out);

#endif

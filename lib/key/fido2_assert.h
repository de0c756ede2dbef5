/*
 * One verified assertion: a getAssertion (CTAP2 §6.2) over a fresh random
 * challenge bound to a context, allowed for a set of enrolled credentials,
 * with user presence and (when the policy asks) user verification, and
 * the hmac-secret extension when asked for.  This module owns the request
 * (built anew for each attempt), getting it answered (a wrong PIN is asked
 * again while tries remain, blocked built-in verification falls back to
 * the PIN), and verifying the answer instead of trusting it: the
 * credential is one of those allowed, the signature verifies against its
 * enrolled public key over authData and the clientDataHash we made (which
 * also checks the rpIdHash), the UP flag is set, the UV flag is set when
 * required, and the hmac-secret output has its full length.  The sign
 * counter is left to the caller, who knows the last one seen.
 */
#ifndef KMFA_FIDO2_ASSERT_H
#define KMFA_FIDO2_ASSERT_H

#include <stddef.h>
#include <stdint.h>

#include <fido.h>

#include "key/credfile.h"
#include "key/fido2.h"
#include "key/seal.h"

/*
 * What a verified assertion was, kept for a verifier elsewhere (the server
 * proof, lib/key/proof.h): the challenge's preimage (nonce || context),
 * the credential, and the authenticator data (CBOR byte string, as
 * libfido2 gives it) and signature.  Nothing in it is secret.
 */
struct kmfa_fido2_evidence {
	uint8_t nonce[32];
	uint8_t *cred_id;
	size_t cred_id_len;
	uint8_t *authdata;
	size_t authdata_len;
	uint8_t *sig;
	size_t sig_len;
};

/* Free the contents of e and zero it. */
void kmfa_fido2_assert_evidence_clear(struct kmfa_fido2_evidence *e);

/*
 * Copy the credential, authenticator data and signature of a's first
 * statement into e (replacing what e held; e->nonce is left to the
 * caller).  KMFA_ERR_FIDO2 when a part is missing.
 */
int kmfa_fido2_assert_evidence_keep(const fido_assert_t *a,
    struct kmfa_fido2_evidence *e);

/* What to ask of the key in session s, and (event) what became of it. */
struct kmfa_fido2_assert_req {
	struct kmfa_fido2_session *s;
	const struct kmfa_cred *creds;	/* the credentials allowed to answer */
	size_t ncreds;
	const uint8_t *salt;	/* KMFA_HMAC_SALT_LEN; NULL: no hmac-secret */
	int uv_required;
	const char *context;	/* bound into the challenge */
	const char *prompt;	/* shown before each attempt */
	const char *event;	/* out: one of KMFA_EV_*, success or failure */
	struct kmfa_fido2_evidence *evidence;	/* out when not NULL */
};

/* What one verified assertion told. */
struct kmfa_fido2_answer {
	size_t idx;		/* which of req->creds answered */
	uint32_t sign_count;
	int have_hmac;		/* hmac holds the output for req->salt */
	uint8_t hmac[KMFA_HMAC_OUT_LEN];
};

/*
 * Build, get and verify one assertion for req.  On failure ans is zero and
 * req->event says which kind of failure it was.
 */
int kmfa_fido2_assert(struct kmfa_fido2_assert_req *req,
    struct kmfa_fido2_answer *ans);

#endif

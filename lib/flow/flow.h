/*
 * The get-token and login flows (docs/DESIGN.md §3): cache look-up under the
 * per-entry lock, presence, the security-key touch, refresh or device
 * flow, ID-token validation, storage, and the ExecCredential.  This is the
 * only module that calls the others in sequence; none of them call back.
 */
#ifndef KMFA_FLOW_H
#define KMFA_FLOW_H

#include "base/buf.h"
#include "base/util.h"
#include "key/seal.h"
#include "store/store.h"
#include "token/config.h"
#include "token/execinfo.h"

enum kmfa_flow_mode {
	KMFA_FLOW_GET_TOKEN,	/* answer from the cache when it can */
	KMFA_FLOW_LOGIN,	/* a touch and a new token now */
};

/* What happened, for the messages of `login` and -v. */
struct kmfa_flow_result {
	int logged_in;		/* a new token was obtained (else cached) */
	int64_t until;		/* handed out until (exp or cap, less skew) */
	const char *storage;	/* "keyring", "disk", "none" */
	const char *storage_reason;
	int stored;		/* the new token was cached */
	int has_refresh;
	int sealed;
	char subject[256];
};

/*
 * Run the flow.  On success *cred holds the ExecCredential (a secret: the
 * caller wipes it), rendered for ei's apiVersion; *res (may be NULL) says
 * what happened.
 */
int kmfa_flow_run(const struct kmfa_config *cfg,
    const struct kmfa_execinfo *ei, enum kmfa_flow_mode mode,
    struct kmfa_buf *cred, struct kmfa_flow_result *res);

/*
 * A new master key was made (a re-key): every entry of storage st (but
 * skip_key, which the caller holds) whose refresh token opens with old_mk
 * is sealed again under mk and saved, each under its entry's lock.
 * *nresealed counts those; *nleft those that could not be (lock held,
 * keyring locked, a failed save): they log in again when next used, as
 * a token that does not open does.  Entries sealed under another key are
 * left as they are.
 */
int kmfa_flow_reseal(const struct kmfa_config *cfg, struct kmfa_store *st,
    const char *skip_key, const uint8_t old_mk[KMFA_MK_LEN],
    const uint8_t mk[KMFA_MK_LEN], size_t *nresealed, size_t *nleft);

/* The command a person should run to log in for cfg; caller frees. */
char *kmfa_flow_login_hint(const struct kmfa_config *cfg);

#endif

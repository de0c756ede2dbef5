/*
 * The cache record: one cached credential for one configuration identity,
 * as stored on disk, in the keyring and in the runtime mirror.  It carries
 * the identity it was made for (so a file name is only an index), the token
 * handed to kubectl and its expiry, when the touch that obtained it happened,
 * and the refresh token, sealed under the security key when it could be.
 */
#ifndef KMFA_RECORD_H
#define KMFA_RECORD_H

#include <stdint.h>

#include "base/util.h"
#include "token/config.h"

#define KMFA_RECORD_VERSION 1
#define KMFA_RECORD_MAX (256 * 1024)
/* Times in a record (seconds) are whole numbers in [0, this]. */
#define KMFA_RECORD_TIME_MAX INT64_C(1000000000000000)

struct kmfa_record {
	char *identity;		/* kmfa_config_identity() of its configuration */
	char *issuer;		/* for status and logout --all */
	char *client_id;
	char *subject;		/* sub of the ID token */
	char *token;		/* secret: the token handed to kubectl */
	int64_t token_exp;	/* its exp claim */
	int64_t obtained_at;
	int64_t touched_at;	/* the verified touch that obtained it; 0: none */
	char *key_name;		/* the enrolled key that was touched */
	char *refresh;		/* secret: sealed envelope, or the plain token */
	int refresh_sealed;	/* refresh is a sealed envelope */
};

struct kmfa_record *kmfa_record_new(void);
void kmfa_record_free(struct kmfa_record **rp);

/* Serialise to JSON; *out holds secrets: free with kmfa_freezero_str(). */
int kmfa_record_encode(const struct kmfa_record *rec, int with_refresh,
    char **out);
/* Parse JSON of at most KMFA_RECORD_MAX bytes. KMFA_ERR_CONFIG if malformed. */
int kmfa_record_decode(const char *json, size_t len, struct kmfa_record **out);

/*
 * The time until which rec may be handed out under cfg: the token's exp,
 * capped by touched_at + --session-max when a session cap is configured,
 * minus the skew.  0 when rec does not belong to cfg (identity differs) or
 * was not obtained the way cfg demands (no touch under --fido2 required).
 */
int64_t kmfa_record_usable_until(const struct kmfa_record *rec,
    const struct kmfa_config *cfg, const char *identity);

/* Is rec usable at `now` under cfg? */
int kmfa_record_fresh(const struct kmfa_record *rec,
    const struct kmfa_config *cfg, const char *identity, int64_t now);

#endif

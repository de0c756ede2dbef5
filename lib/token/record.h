/*
 * The cache record: one cached credential for one configuration identity,
 * as stored on disk, in the keyring and in the runtime mirror.  It carries
 * the identity it was made for (so a file name is only an index), the token
 * handed to kubectl and its expiry, when the touch that obtained it happened,
 * and the refresh token, sealed under the security key when it could be.
 *
 * The record is this project's own JSON format, described once, by the
 * field table below: the encoder writes it and the one decoder reads it,
 * for the full program and for the front alike.  The decoder is built on
 * the strict reader of base/minijson.h, libc only, so that the front
 * cannot read a file differently from the full program.
 */
#ifndef KMFA_RECORD_H
#define KMFA_RECORD_H

#include <stddef.h>
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

/* What a member of the JSON object holds, and where it goes. */
enum kmfa_record_type {
	KMFA_RECORD_T_VERSION,	/* the integer KMFA_RECORD_VERSION; no member */
	KMFA_RECORD_T_STRING,	/* char *; null reads as absent: NULL */
	KMFA_RECORD_T_TIME,	/* int64_t, whole seconds; absent: 0 */
	KMFA_RECORD_T_FLAG,	/* int, JSON true or false; absent: 0 */
};

#define KMFA_RECORD_F_REQUIRED	0x1u	/* absent (or null) is damage */
#define KMFA_RECORD_F_SECRET	0x2u	/* wiped before it is freed */
#define KMFA_RECORD_F_FRONT	0x4u	/* kmfa_record_decode_front copies it */
#define KMFA_RECORD_F_REFRESH	0x8u	/* encoded only with_refresh */

struct kmfa_record_field {
	const char *name;		/* the JSON member */
	enum kmfa_record_type type;
	size_t offset;			/* in struct kmfa_record */
	unsigned flags;			/* KMFA_RECORD_F_* */
};

/* The format, in the order the encoder writes it. */
#define KMFA_RECORD_NFIELDS 12
extern const struct kmfa_record_field
    kmfa_record_fields[KMFA_RECORD_NFIELDS];

struct kmfa_record *kmfa_record_new(void);
/* Free rec, wiping its secrets; sets *rp to NULL. */
void kmfa_record_free(struct kmfa_record **rp);

/*
 * Serialise to JSON, without the two refresh members unless with_refresh;
 * a NULL string is left out.  *out holds secrets: free it with
 * kmfa_freezero_str().
 */
int kmfa_record_encode(const struct kmfa_record *rec, int with_refresh,
    char **out);

/*
 * Parse json[0..len) (at most KMFA_RECORD_MAX bytes).  KMFA_ERR_CONFIG,
 * with no cause recorded, unless it is exactly one JSON object, with
 * nothing after it, that minijson reads (no repeated member, no NUL, no
 * raw control character, no lone surrogate), of version
 * KMFA_RECORD_VERSION, whose members in the table have their type (times
 * as plain integers in range) and whose required members are there.
 * Members not in the table are ignored.
 */
int kmfa_record_decode(const char *json, size_t len, struct kmfa_record **out);

/*
 * The same decoder, with the same verdict on every input, for the front:
 * it copies out only the members marked KMFA_RECORD_F_FRONT (the identity,
 * the token and its times), so the refresh token never leaves the file's
 * buffer in a process that has no use for it.
 */
int kmfa_record_decode_front(const char *json, size_t len,
    struct kmfa_record **out);

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

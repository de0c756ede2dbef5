/*
 * The credentials file: the security keys a user has enrolled
 * ($XDG_CONFIG_HOME/kubectl-mfa/credentials.json, or --fido2-credentials).
 * For each key: its name, the relying-party id, the credential id and
 * ES256 public key from makeCredential, the UV policy, whether the key
 * had a PIN and supports hmac-secret, the master-key slot (lib/key/seal.h),
 * the last sign counter, and when it was created and last used; plus one
 * per-user hmac-secret salt.  This module owns the format and its strict
 * reading: any field of the wrong type, bad base64, a missing field or an
 * unknown version is a configuration error that names the file and the
 * field, because a credentials file that half-parses could silently
 * weaken the second factor.  Written 0600 by atomic rename.
 */
#ifndef KMFA_CREDFILE_H
#define KMFA_CREDFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/file.h"
#include "key/seal.h"

/*
 * The relying-party id of every credential.  Not a domain name: the colon
 * makes it something no web origin can claim (WebAuthn §5.1.2 requires a
 * registrable domain suffix of the origin), so a web page can never ask
 * the key for an assertion over these credentials.  OpenSSH uses "ssh:"
 * for the same reason; CTAP2 itself treats rp.id as an opaque string.
 */
#define KMFA_FIDO2_RP_ID	"kubectl-mfa:"

#define KMFA_CREDFILE_VERSION	1
#define KMFA_CRED_NAME_MAX	64
#define KMFA_CRED_ID_MAX	1024	/* CTAP2 §6.1: at most 1023 bytes in practice */
#define KMFA_ES256_PK_LEN	64	/* x || y, as fido_cred_pubkey_ptr gives it */
#define KMFA_CREDFILE_MAX	(1024 * 1024)

struct kmfa_cred {
	char *name;		/* unique, printable, 1..64 characters */
	char *rp_id;		/* KMFA_FIDO2_RP_ID */
	uint8_t *id;		/* credential id */
	size_t id_len;
	uint8_t *pubkey;	/* ES256: 64 bytes x || y */
	size_t pubkey_len;
	int uv_required;	/* "uv": "required" (1) or "discouraged" (0) */
	int pin;		/* the key had a PIN set when enrolled */
	int hmac_secret;	/* enrolled with the hmac-secret extension */
	uint8_t *slot;		/* the wrapped master key; NULL without hmac */
	size_t slot_len;
	int have_mac;		/* mac holds the credential's MAC */
	uint8_t mac[KMFA_MAC_LEN];	/* kmfa_credfile_mac over the security fields */
	uint32_t sign_count;	/* the last counter seen */
	int64_t created;	/* seconds since the epoch */
	int64_t last_used;	/* 0: never */
};

struct kmfa_credfile {
	char *path;
	/*
	 * One hmac-secret salt for all of the user's credentials: an
	 * assertion carries one salt whichever allowed credential answers,
	 * and the output is still distinct per credential because each has
	 * its own CredRandom (CTAP2 §12.5).  Created with the file.
	 */
	uint8_t hmac_salt[KMFA_HMAC_SALT_LEN];
	struct kmfa_cred *creds;
	size_t ncreds;
	/*
	 * "rekey_pending": a key holding a slot was removed while no other
	 * enrolled key was at hand to make a new master key; the next touch
	 * that opens the master key makes one (kmfa_credfile_rekey).
	 */
	int rekey_pending;
};

/*
 * Load the file at path into a new *out.  A missing file gives an empty
 * set (no credentials, a fresh random salt) and KMFA_OK: "nothing
 * enrolled" is for the caller to judge.  KMFA_ERR_CONFIG with a cause
 * naming the file and field for anything malformed; the refusals of
 * kmfa_file_read_private (group or world access, another owner, a
 * symbolic link) also apply.
 */
int kmfa_credfile_load(const char *path, struct kmfa_credfile **out);

/* Parse text (for tests and load); path is used in messages and kept. */
int kmfa_credfile_parse(const char *path, const char *text, size_t len,
    struct kmfa_credfile **out);

/* Serialize into a new NUL-terminated string *out. */
int kmfa_credfile_format(const struct kmfa_credfile *f, char **out);

/* Write f to f->path atomically, mode 0600. */
int kmfa_credfile_save(const struct kmfa_credfile *f);

void kmfa_credfile_free(struct kmfa_credfile **f);

/*
 * The lock beside the credentials file ("<path>.lock", an flock that dies
 * with its process).  Every change of the file is a read-modify-write
 * under it, so that a concurrent enrolment and touch cannot lose a key or
 * write back an older sign counter.  Waits at most wait_ms; KMFA_ERR_LOCKED
 * with a cause naming the lock when another process still holds it then.
 */
int kmfa_credfile_lock(const char *path, int64_t wait_ms,
    struct kmfa_file_lock **out);

/*
 * Under the lock: load the file afresh, let apply change it, and save it
 * when apply returns KMFA_OK; KMFA_ERR_NOTFOUND from apply means "nothing
 * to change" and is KMFA_OK without a save.  Any other error from apply is
 * returned and nothing is saved.
 */
int kmfa_credfile_update(const char *path, int64_t wait_ms,
    int (*apply)(struct kmfa_credfile *fresh, void *arg), void *arg);

/*
 * Carry what a touch recorded in mine (a copy loaded earlier) into fresh
 * (the file as it is now): for each credential in both, by id, the higher
 * sign counter and the later last use.  A counter never goes back.
 */
void kmfa_credfile_merge_use(struct kmfa_credfile *fresh,
    const struct kmfa_credfile *mine);

/* The credential with this name or id, or NULL. */
struct kmfa_cred *kmfa_credfile_find(const struct kmfa_credfile *f,
    const char *name);
struct kmfa_cred *kmfa_credfile_find_id(const struct kmfa_credfile *f,
    const uint8_t *id, size_t id_len);

/*
 * Append *c, taking ownership of its contents (c is zeroed).  Checks the
 * same rules as parsing; KMFA_ERR_USAGE with a cause when the name is
 * taken or invalid.
 */
int kmfa_credfile_add(struct kmfa_credfile *f, struct kmfa_cred *c);

/* Remove the named credential; KMFA_ERR_NOTFOUND if there is none. */
int kmfa_credfile_remove(struct kmfa_credfile *f, const char *name);

/*
 * The MAC of a credential's security fields (rp id, credential id, public
 * key, uv, pin, hmac_secret, slot; not the name, counter or times) under
 * the master key (kmfa_seal_mac), so that editing the file cannot switch
 * sealing off or swap a public key unnoticed once an enrolled key with a
 * slot is touched.
 */
int kmfa_credfile_mac(const struct kmfa_cred *c, const uint8_t mk[KMFA_MK_LEN],
    uint8_t mac[KMFA_MAC_LEN]);

/*
 * Check every credential's MAC with mk, which a verified touch just
 * unwrapped.  A MAC that does not match, or a credential without one in a
 * file where others have one (added without the master key), is refused:
 * KMFA_ERR_FIDO2 with one cause naming the file and the key.  *nmissing
 * counts the credentials without a MAC (all of them in a file from before
 * MACs).
 */
int kmfa_credfile_mac_verify(const struct kmfa_credfile *f,
    const uint8_t mk[KMFA_MK_LEN], size_t *nmissing);

/*
 * Give each credential of fresh (the file as it is now, under its lock)
 * that has no MAC one under mk, but only when mine (the copy a touch
 * checked with kmfa_credfile_mac_verify) holds the same credential with
 * the same security fields: what changed meanwhile is not vouched for.
 * *nadded says how many.
 */
int kmfa_credfile_mac_adopt(struct kmfa_credfile *fresh,
    const struct kmfa_credfile *mine, const uint8_t mk[KMFA_MK_LEN],
    size_t *nadded);

/*
 * The re-key, on a file whose MACs were just checked under the old master
 * key: every slot is wrapped anew for mk (a new master key) with the
 * public key it holds (kmfa_seal_slot_rewrap), so no key needs to be at
 * hand; every credential gets its MAC under mk; the pending mark is
 * cleared.  A version-1 slot (no public key) cannot be re-wrapped without
 * its key: that credential loses its slot and hmac_secret (it can still
 * be touched, and opens no sealed token) and its name is added to
 * *dropped (a new comma-separated string, NULL when none), *ndropped
 * counting them.  On failure f may be half changed: do not save it.
 */
int kmfa_credfile_rekey(struct kmfa_credfile *f, const uint8_t mk[KMFA_MK_LEN],
    char **dropped, size_t *ndropped);

/* The number of credentials holding a master-key slot. */
size_t kmfa_credfile_nslots(const struct kmfa_credfile *f);

/* The first free name "key-1", "key-2", ... into a new *out. */
int kmfa_credfile_default_name(const struct kmfa_credfile *f, char **out);

/* 0 if name is acceptable as a key name, else -1. */
int kmfa_credfile_name_valid(const char *name);

/* Free the contents of c and zero it. */
void kmfa_credfile_cred_clear(struct kmfa_cred *c);

#endif

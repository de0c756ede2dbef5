/*
 * Token storage: where cache records live, behind one interface.  `disk`
 * keeps one 0600 file per entry in the cache folder; `keyring` keeps one
 * Secret Service item per entry plus a volatile mirror of the ID token in the
 * runtime folder for the hot path; `none` keeps nothing; `auto` is keyring
 * when a Secret Service answers, else disk.  Storage never calls the network.
 */
#ifndef KMFA_STORE_H
#define KMFA_STORE_H

#include <stddef.h>

#include "token/config.h"
#include "token/record.h"

struct kmfa_store;

/*
 * Open the storage cfg asks for.  `auto` takes the keyring when a Secret
 * Service answers within a second with an unlocked default collection,
 * else disk, and says why in kmfa_store_reason(); it prints nothing.  With
 * `keyring` chosen explicitly and no Secret Service answering:
 * KMFA_ERR_CONFIG with a clear cause (a locked one is still opened).
 */
int kmfa_store_open(const struct kmfa_config *cfg, struct kmfa_store **out);
void kmfa_store_free(struct kmfa_store **sp);

/* "disk", "keyring" or "none": what was chosen (auto resolved). */
const char *kmfa_store_kind(const struct kmfa_store *s);
/* Why auto chose what it chose, for login and status; NULL if not auto. */
const char *kmfa_store_reason(const struct kmfa_store *s);
/*
 * Non-NULL (static text, "the keyring is locked" or what else needs the
 * user at a keyring window) when this store found the keyring wanting the
 * user: at open (auto passes over a locked keyring, which may still hold
 * entries) or in a later load, save, remove or list.  status and logout
 * say it rather than "none cached".
 */
const char *kmfa_store_locked(const struct kmfa_store *s);

/*
 * KMFA_ERR_NOTFOUND when there is no entry under key, and when the keyring
 * is locked or would need a window (after one warning line: a miss, never
 * a prompt; kmfa_store_locked() then says why).
 * KMFA_ERR_DAMAGED (cause recorded) when the entry does not parse;
 * KMFA_ERR_IO (cause recorded) when the keyring fails or does not answer in
 * time.  Keyring: a still-valid record whose runtime mirror is missing or
 * stale gets its mirror rewritten, so the next call is a hit in the front.
 */
int kmfa_store_load(struct kmfa_store *s, const char *key,
    struct kmfa_record **out);
/*
 * Keyring: the item (with the refresh token), then the runtime mirror
 * (without it; a mirror failure is only a warning).  KMFA_ERR_IO with a
 * cause when the keyring is locked or fails.
 */
int kmfa_store_save(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec);
/*
 * Remove every copy the front could serve: the keyring item, the runtime
 * mirror and, under `auto`, the disk entry.  A missing entry is not an
 * error.  KMFA_ERR_IO with a cause naming the keyring when it is locked or
 * would need a window to delete, and under `auto` when it passed over a
 * locked keyring (which may hold this entry and serve it once unlocked);
 * the mirror and the disk entry go anyway.
 */
int kmfa_store_remove(struct kmfa_store *s, const char *key);

/* Every entry of this storage (status --all, logout --all); a locked
 * keyring lists nothing and sets kmfa_store_locked(). */
int kmfa_store_list(struct kmfa_store *s, char ***keys, size_t *n);
void kmfa_store_list_free(char **keys, size_t n);

#endif

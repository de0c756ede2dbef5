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

#include "config.h"
#include "record.h"

struct kmfa_store;

/*
 * Open the storage cfg asks for.  With `keyring` chosen explicitly and no
 * Secret Service answering: KMFA_ERR_CONFIG with a clear cause.
 */
int kmfa_store_open(const struct kmfa_config *cfg, struct kmfa_store **out);
void kmfa_store_free(struct kmfa_store **sp);

/* "disk", "keyring" or "none": what was chosen (auto resolved). */
const char *kmfa_store_kind(const struct kmfa_store *s);
/* Why auto chose what it chose, for login and status; NULL if not auto. */
const char *kmfa_store_reason(const struct kmfa_store *s);

/* KMFA_ERR_NOTFOUND when there is no entry under key. */
int kmfa_store_load(struct kmfa_store *s, const char *key,
    struct kmfa_record **out);
int kmfa_store_save(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec);
/* A missing entry is not an error. */
int kmfa_store_remove(struct kmfa_store *s, const char *key);

/* Every entry of this storage (status --all, logout --all). */
int kmfa_store_list(struct kmfa_store *s, char ***keys, size_t *n);
void kmfa_store_list_free(char **keys, size_t n);

#endif

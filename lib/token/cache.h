/*
 * The disk cache: where entries live and how a record is read from and
 * written to a file.  Entries are named by the cache key (config.h) in the
 * cache folder; the keyring backend keeps a volatile mirror of its ID token
 * in the runtime folder ($XDG_RUNTIME_DIR/kubectl-mfa, tmpfs, per user) in
 * the same format, without the refresh token, for the hot path.  Storage
 * never calls the network.
 */
#ifndef KMFA_CACHE_H
#define KMFA_CACHE_H

#include "token/record.h"

/* "<dir>/<key><suffix>"; caller frees. NULL on overflow or no memory. */
char *kmfa_cache_path(const char *dir, const char *key, const char *suffix);

/* "$XDG_RUNTIME_DIR/kubectl-mfa", or NULL when there is no runtime folder. */
char *kmfa_cache_runtime_dir(void);

/*
 * Read and decode a record file.  KMFA_ERR_NOTFOUND when absent,
 * KMFA_ERR_DAMAGED (cause recorded) when it does not parse, KMFA_ERR_CONFIG
 * when it is not a private file.
 */
int kmfa_cache_load(const char *path, struct kmfa_record **out);

/* Encode and atomically write rec (with or without its refresh token). */
int kmfa_cache_save(const char *path, const struct kmfa_record *rec,
    int with_refresh);

#endif

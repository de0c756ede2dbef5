/*
 * Private files: the cache entries, the credentials file, the audit log.
 * Reads refuse anything that is not a regular file owned by us with no
 * group or other bits (a token another user could read is a token another
 * user may have copied).  Writes are atomic: a temporary file in the same
 * folder, fsync, rename, so a crash leaves the old or the new version.
 */
#ifndef KMFA_FILE_H
#define KMFA_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read a private file of at most max bytes into a NUL-terminated buffer
 * (*out, *len; wipe it, it may hold secrets).  KMFA_ERR_NOTFOUND when it
 * does not exist; KMFA_ERR_CONFIG (cause recorded) when it is not private,
 * not regular, or too large; KMFA_ERR_IO otherwise.
 */
int kmfa_file_read_private(const char *path, size_t max, char **out,
    size_t *len);

/* Create dir and its parents as needed, the last one 0700. */
int kmfa_file_mkdir_private(const char *dir);

/* Atomically replace path with data, mode 0600, creating its folder. */
int kmfa_file_write_atomic(const char *path, const void *data, size_t len);

/*
 * An exclusive flock on lockpath (the file created 0600 and its folder
 * 0700 when missing), taken with a wait of at most wait_ms.
 * KMFA_ERR_LOCKED, with a cause naming the file and hint (may be NULL),
 * when another process still holds it then; KMFA_ERR_IO with a cause for
 * anything else.  kmfa_file_unlock releases it and sets *lp to NULL.
 */
struct kmfa_file_lock;
int kmfa_file_lock(const char *lockpath, int64_t wait_ms, const char *hint,
    struct kmfa_file_lock **out);
void kmfa_file_unlock(struct kmfa_file_lock **lp);

/* Remove path; a missing file is not an error. */
int kmfa_file_remove(const char *path);

#endif

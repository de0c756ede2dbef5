/*
 * The per-entry lock: an flock on `<key>.lock` in the cache folder, taken
 * with a bounded wait before a login, so that N kubectl processes started
 * together cause one login and the other N-1 find its token when they get
 * the lock.  The lock file stays on disk whatever the storage.
 */
#ifndef KMFA_LOCK_H
#define KMFA_LOCK_H

#include <stdint.h>

#include "base/file.h"


/*
 * Lock `<dir>/<key>.lock`, waiting at most wait_ms.  KMFA_ERR_LOCKED when
 * another process still holds it then.
 */
int kmfa_lock_acquire(const char *dir, const char *key, int64_t wait_ms,
    struct kmfa_file_lock **out);
void kmfa_lock_release(struct kmfa_file_lock **lp);

#endif

/*
 * The per-entry lock: kmfa_file_lock (lib/base/file.c says why an flock
 * with a bounded, timer-retried wait) on `<key>.lock` in the cache folder.
 */
#include <stdlib.h>

#include "base/err.h"
#include "base/file.h"
#include "store/lock.h"
#include "token/cache.h"

int
kmfa_lock_acquire(const char *dir, const char *key, int64_t wait_ms,
    struct kmfa_file_lock **out)
{
	char *path;
	int r;

	*out = NULL;
	if ((path = kmfa_cache_path(dir, key, ".lock")) == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_file_lock(path, wait_ms, "is a login waiting in another "
	    "terminal?", out);
	free(path);
	return r;
}

void
kmfa_lock_release(struct kmfa_file_lock **lp)
{
	kmfa_file_unlock(lp);
}

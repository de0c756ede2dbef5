/*
 * The per-entry lock, over kmfa_file_lock (lib/base/file.c says why an
 * flock with a bounded, timer-retried wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/report.h"
#include "store/lock.h"
#include "token/cache.h"

struct kmfa_lock {
	int fd;
};

int
kmfa_lock_acquire(const char *dir, const char *key, int64_t wait_ms,
    struct kmfa_lock **out)
{
	struct kmfa_lock *l = NULL;
	char *path = NULL;
	int fd = -1, r;

	*out = NULL;
	if ((r = kmfa_file_mkdir_private(dir)) != KMFA_OK)
		return r;
	r = KMFA_ERR_NOMEM;
	if ((path = kmfa_cache_path(dir, key, ".lock")) == NULL)
		goto out;
	if ((r = kmfa_file_lock(path, wait_ms, &fd)) == KMFA_ERR_LOCKED)
		r = kmfa_fail(KMFA_ERR_LOCKED, "another kubectl-mfa has held "
		    "%s for over %lld s; is a login waiting in another "
		    "terminal?", path, (long long)(wait_ms / 1000));
	if (r != KMFA_OK)
		goto out;
	r = KMFA_ERR_NOMEM;
	if ((l = malloc(sizeof(*l))) == NULL)
		goto out;
	l->fd = fd;
	fd = -1;	/* transferred */
	*out = l;
	r = KMFA_OK;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

void
kmfa_lock_release(struct kmfa_lock **lp)
{
	if (lp == NULL || *lp == NULL)
		return;
	close((*lp)->fd);	/* releases the flock */
	free(*lp);
	*lp = NULL;
}

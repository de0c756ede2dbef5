/*
 * flock-based locking.  flock locks die with their process, so a killed
 * login never leaves the lock stuck; the file itself is left in place
 * (removing it would race with a waiter that already opened it).  The
 * bounded wait uses a non-blocking flock retried on a short timer rather
 * than SIGALRM, which would disturb libcurl and libfido2.
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

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
kmfa_lock_acquire(const char *dir, const char *key, int64_t wait_ms,
    struct kmfa_lock **out)
{
	struct kmfa_lock *l = NULL;
	char *path = NULL;
	int64_t deadline = mono_ms() + wait_ms;
	int fd = -1, r;

	*out = NULL;
	if ((r = kmfa_file_mkdir_private(dir)) != KMFA_OK)
		return r;
	r = KMFA_ERR_NOMEM;
	if ((path = kmfa_cache_path(dir, key, ".lock")) == NULL)
		goto out;
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot open lock %s: %s", path,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		struct timespec pause = { 0, 20 * 1000 * 1000 };

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = kmfa_fail(KMFA_ERR_IO, "cannot lock %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (mono_ms() >= deadline) {
			r = kmfa_fail(KMFA_ERR_LOCKED, "another kubectl-mfa "
			    "has held %s for over %lld s; is a login waiting "
			    "in another terminal?", path,
			    (long long)(wait_ms / 1000));
			goto out;
		}
		nanosleep(&pause, NULL);
	}
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

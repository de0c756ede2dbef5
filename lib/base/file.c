/*
 * Private file I/O.  O_NOFOLLOW and fstat on the opened descriptor close the
 * check-then-open race that a symlink planted in the cache folder would use.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/report.h"
#include "base/util.h"

int
kmfa_file_read_private(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r = KMFA_ERR_IO;

	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO planted at the path must not block the open
	 * (kubectl would hang); the S_ISREG check below refuses it. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK))
	    < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return KMFA_ERR_NOTFOUND;
		if (errno == ELOOP)
			return kmfa_fail(KMFA_ERR_CONFIG,
			    "%s is a symbolic link; refusing it", path);
		return kmfa_fail(KMFA_ERR_IO, "cannot open %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot stat %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s is not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s belongs to another user; "
		    "refusing it", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s is accessible by group or "
		    "others (mode %03o); refusing it: remove it or run "
		    "chmod 600 on it", path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s is larger than %zu bytes",
		    path, max);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kmfa_fail(KMFA_ERR_IO, "cannot read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;	/* shrank under us: take what is there */
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;	/* transferred */
	r = KMFA_OK;
out:
	if (buf != NULL)
		kmfa_freezero(buf, (size_t)st.st_size + 1);
	close(fd);
	return r;
}

int
kmfa_file_mkdir_private(const char *dir)
{
	char tmp[PATH_MAX];
	struct stat st;
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(tmp))
		return kmfa_fail(KMFA_ERR_CONFIG, "bad folder name '%s'", dir);
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return kmfa_fail(KMFA_ERR_IO, "cannot create %s: %s",
			    tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return kmfa_fail(KMFA_ERR_IO, "cannot create %s: %s", tmp,
		    strerror(errno));
	if (lstat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
		return kmfa_fail(KMFA_ERR_CONFIG, "%s is not a folder", tmp);
	if (st.st_uid != geteuid())
		return kmfa_fail(KMFA_ERR_CONFIG, "%s belongs to another user",
		    tmp);
	/* Our own folder that others can enter: tighten it rather than fail. */
	if ((st.st_mode & 077) != 0 && chmod(tmp, 0700) != 0)
		return kmfa_fail(KMFA_ERR_IO, "cannot chmod 700 %s: %s", tmp,
		    strerror(errno));
	return KMFA_OK;
}

static int
dirname_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		if (size < 2)
			return -1;
		memcpy(dir, ".", 2);
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/*
 * A writer killed between mkstemp and rename leaves its temporary file,
 * holding whatever it was writing (tokens, sealed or not).  Remove those of
 * `base` that are older than any write in progress could be.
 */
static void
remove_stale_temps(const char *dir, const char *base)
{
	char prefix[NAME_MAX + 8], p[PATH_MAX];
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int n;

	n = snprintf(prefix, sizeof(prefix), "%s.tmp.", base);
	if (n < 0 || (size_t)n >= sizeof(prefix) || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, (size_t)n) != 0)
			continue;
		n = snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (n > 0 && (size_t)n < sizeof(p) && lstat(p, &st) == 0 &&
		    S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    st.st_mtime + 60 < now)
			(void)unlink(p);
		n = (int)strlen(prefix);
	}
	closedir(d);
}

int
kmfa_file_write_atomic(const char *path, const void *data, size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *p = data;
	size_t off = 0;
	int fd = -1, dfd = -1, r = KMFA_ERR_IO, n;

	if (dirname_of(path, dir, sizeof(dir)) != 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "path too long: %s", path);
	if ((r = kmfa_file_mkdir_private(dir)) != KMFA_OK)
		return r;
	r = KMFA_ERR_IO;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return kmfa_fail(KMFA_ERR_CONFIG, "path too long: %s", path);
	/* mkstemp creates the file 0600 already. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot create a file in %s: %s",
		    dir, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (fchmod(fd, 0600) != 0)
		goto fail_errno;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail_errno;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail_errno;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_errno;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail_errno;
	tmp[0] = '\0';
	/* Make the rename itself durable. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	remove_stale_temps(dir, strrchr(path, '/') != NULL ?
	    strrchr(path, '/') + 1 : path);
	r = KMFA_OK;
	goto out;
fail_errno:
	r = kmfa_fail(KMFA_ERR_IO, "cannot write %s: %s", path,
	    strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	return r;
}

int
kmfa_file_remove(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return kmfa_fail(KMFA_ERR_IO, "cannot remove %s: %s", path,
		    strerror(errno));
	return KMFA_OK;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * flock locks die with their process, so a killed login never leaves one
 * stuck; the file stays in place (removing it would race with a waiter
 * that already opened it).  The bounded wait is a non-blocking flock
 * retried on a short timer rather than SIGALRM, which would disturb
 * libcurl and libfido2.
 */
struct kmfa_file_lock {
	int fd;
};

int
kmfa_file_lock(const char *lockpath, int64_t wait_ms, const char *hint,
    struct kmfa_file_lock **out)
{
	struct kmfa_file_lock *l = NULL;
	int64_t deadline = mono_ms() + wait_ms;
	char *dir = NULL, *slash;
	int fd = -1, r = KMFA_ERR_NOMEM;

	*out = NULL;
	if ((dir = strdup(lockpath)) == NULL)
		goto out;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((r = kmfa_file_mkdir_private(dir)) != KMFA_OK)
			goto out;
	}
	if ((fd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot open lock %s: %s", lockpath,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		struct timespec pause = { 0, 20 * 1000 * 1000 };

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = kmfa_fail(KMFA_ERR_IO, "cannot lock %s: %s",
			    lockpath, strerror(errno));
			goto out;
		}
		if (mono_ms() >= deadline) {
			r = kmfa_fail(KMFA_ERR_LOCKED, "another kubectl-mfa has "
			    "held %s for over %lld s%s%s", lockpath,
			    (long long)(wait_ms / 1000), hint != NULL ? "; " : "",
			    hint != NULL ? hint : "");
			goto out;
		}
		nanosleep(&pause, NULL);
	}
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
	free(dir);
	return r;
}

void
kmfa_file_unlock(struct kmfa_file_lock **lp)
{
	if (lp == NULL || *lp == NULL)
		return;
	close((*lp)->fd);	/* releases the flock */
	free(*lp);
	*lp = NULL;
}

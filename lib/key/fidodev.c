/*
 * Device discovery and the unix-socket transport.  libfido2 1.12 hands the
 * write callback a 65-byte report whose first byte is the HID report id
 * (always 0 for FIDO) and expects 65 back; it asks the read callback for
 * 64 bytes with the milliseconds it still allows (-1: no limit) and
 * expects exactly 64 (docs/DESIGN.md §12).  On a stream socket a report may
 * arrive in pieces, so reads loop until 64 bytes or the deadline.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fido.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/fidodev.h"

#define REPORT_LEN	64
#define UNIX_PREFIX	"unix:"
#define POLL_MS		50	/* touch-selection polling step */

struct sock {
	int fd;
};

void
kmfa_fidodev_init(void)
{
	static int done;

	if (done)
		return;
	fido_init(kmfa_report_verbose() >= 2 ? FIDO_DEBUG : 0);
	done = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
sock_open(const char *path)
{
	struct sockaddr_un sa;
	struct sock *s;
	size_t n = strlen(path);

	if (n >= sizeof(sa.sun_path) || (s = malloc(sizeof(*s))) == NULL)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n + 1);
	if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		free(s);
		return NULL;
	}
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		kmfa_debug("connect %s: %s", path, strerror(errno));
		close(s->fd);
		free(s);
		return NULL;
	}
	return s;
}

static void
sock_close(void *h)
{
	struct sock *s = h;

	if (s == NULL)
		return;
	close(s->fd);
	free(s);
}

static int
sock_write(void *h, const unsigned char *buf, size_t len)
{
	struct sock *s = h;
	size_t off = 1;	/* skip the report id */

	if (len != REPORT_LEN + 1)
		return -1;
	while (off < len) {
		/* MSG_NOSIGNAL: a vanished authenticator is an error, not SIGPIPE. */
		ssize_t n = send(s->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return (int)len;
}

static int
sock_read(void *h, unsigned char *buf, size_t len, int ms)
{
	struct sock *s = h;
	int64_t deadline = ms < 0 ? -1 : now_ms() + ms;
	size_t got = 0;

	if (len != REPORT_LEN)
		return -1;
	while (got < len) {
		struct pollfd pfd = { s->fd, POLLIN, 0 };
		int wait = -1, pr;
		ssize_t n;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			wait = left < 0 ? 0 : (int)(left > INT_MAX ? INT_MAX :
			    left);
		}
		if ((pr = poll(&pfd, 1, wait)) < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;	/* timeout or error: libfido2 says RX */
		if ((n = recv(s->fd, buf + got, len - got, 0)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return (int)len;
}

void
kmfa_fidodev_paths_free(char ***paths, size_t n)
{
	if (paths == NULL || *paths == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*paths)[i]);
	free(*paths);
	*paths = NULL;
}

static int
list_hid(char **paths, size_t *n)
{
	fido_dev_info_t *info = NULL;
	size_t found = 0;
	int fr, r = KMFA_ERR_FIDO2;

	if ((info = fido_dev_info_new(KMFA_FIDODEV_MAX)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((fr = fido_dev_info_manifest(info, KMFA_FIDODEV_MAX, &found)) !=
	    FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "cannot list security keys: %s",
		    fido_strerr(fr));
		goto out;
	}
	for (size_t i = 0; i < found; i++) {
		const char *p = fido_dev_info_path(fido_dev_info_ptr(info, i));

		if (p == NULL)
			continue;
		if ((paths[*n] = strdup(p)) == NULL) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		(*n)++;
	}
	r = KMFA_OK;
out:
	fido_dev_info_free(&info, KMFA_FIDODEV_MAX);
	return r;
}

int
kmfa_fidodev_candidates(const char *spec, char ***out, size_t *nout)
{
	char **paths = NULL;
	size_t n = 0;
	int r = KMFA_ERR_NOMEM;

	*out = NULL;
	*nout = 0;
	if ((paths = calloc(KMFA_FIDODEV_MAX, sizeof(*paths))) == NULL)
		goto out;
	if (spec == NULL || *spec == '\0') {
		if ((r = list_hid(paths, &n)) != KMFA_OK)
			goto out;
	} else {
		const char *p = spec;

		while (*p != '\0') {
			size_t len = strcspn(p, ",");

			if (len == 0) {
				r = kmfa_fail(KMFA_ERR_CONFIG, "--fido2-device "
				    "'%s' has an empty device name", spec);
				goto out;
			}
			if (n == KMFA_FIDODEV_MAX) {
				r = kmfa_fail(KMFA_ERR_CONFIG, "--fido2-device "
				    "lists more than %d devices",
				    KMFA_FIDODEV_MAX);
				goto out;
			}
			if ((paths[n] = strndup(p, len)) == NULL) {
				r = KMFA_ERR_NOMEM;
				goto out;
			}
			n++;
			p += len;
			if (*p == ',')
				p++;
		}
	}
	*out = paths;
	*nout = n;
	paths = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_fidodev_paths_free(&paths, n);
	return r;
}

int
kmfa_fidodev_open(const char *path, struct kmfa_fidodev *out)
{
	static const fido_dev_io_t sock_io = {
		sock_open, sock_close, sock_read, sock_write,
	};
	const char *target = path;
	int fr, r = KMFA_ERR_FIDO2;

	memset(out, 0, sizeof(*out));
	kmfa_fidodev_init();
	if ((out->dev = fido_dev_new()) == NULL ||
	    (out->path = strdup(path)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (strncmp(path, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0) {
		target = path + strlen(UNIX_PREFIX);
		if ((fr = fido_dev_set_io_functions(out->dev, &sock_io)) !=
		    FIDO_OK) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "cannot set up %s: %s",
			    path, fido_strerr(fr));
			goto out;
		}
	}
	if ((fr = fido_dev_open(out->dev, target)) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "no security key answers at %s "
		    "(is it plugged in?): %s", path, fido_strerr(fr));
		goto out;
	}
	if (!fido_dev_is_fido2(out->dev)) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the security key at %s speaks "
		    "U2F only; kubectl-mfa needs a FIDO2 (CTAP2) key", path);
		goto out;
	}
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		kmfa_fidodev_close(out);
	return r;
}

void
kmfa_fidodev_close(struct kmfa_fidodev *d)
{
	if (d == NULL)
		return;
	if (d->dev != NULL) {
		(void)fido_dev_close(d->dev);
		fido_dev_free(&d->dev);
	}
	free(d->path);
	d->path = NULL;
}

/*
 * Several keys: ask each for a touch (fido_dev_get_touch_begin sends a
 * makeCredential with an empty pinUvAuthParam, which CTAP2.1 §6.1.2 step
 * 1 answers only after user presence) and take the first touched.  The
 * others are cancelled and closed: a cancelled handle reads a stale reply
 * next time (docs/DESIGN.md §12).
 */
static int
select_by_touch(char **paths, size_t n, int timeout_ms, const char *what,
    struct kmfa_fidodev *out)
{
	struct kmfa_fidodev devs[KMFA_FIDODEV_MAX];
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t nopen = 0, chosen = SIZE_MAX;
	int r = KMFA_ERR_FIDO2;

	memset(devs, 0, sizeof(devs));
	for (size_t i = 0; i < n; i++) {
		struct kmfa_report_scope sc;
		int opened;

		kmfa_report_enter(&sc);
		opened = kmfa_fidodev_open(paths[i], &devs[i]) == KMFA_OK;
		kmfa_report_leave(&sc);
		if (!opened)
			continue;	/* unplugged meanwhile: skip it */
		if (fido_dev_get_touch_begin(devs[i].dev) != FIDO_OK) {
			kmfa_fidodev_close(&devs[i]);
			continue;
		}
		nopen++;
	}
	if (nopen == 0) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "no security key found: plug "
		    "one in");
		goto out;
	}
	kmfa_info("Several security keys: touch the one %s", what);
	while (chosen == SIZE_MAX) {
		size_t alive = 0;

		for (size_t i = 0; i < n && chosen == SIZE_MAX; i++) {
			int touched = 0;

			if (devs[i].dev == NULL)
				continue;
			if (fido_dev_get_touch_status(devs[i].dev, &touched,
			    POLL_MS) != FIDO_OK) {
				kmfa_fidodev_close(&devs[i]);
				continue;
			}
			alive++;
			if (touched)
				chosen = i;
		}
		if (chosen != SIZE_MAX)
			break;
		if (alive == 0) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "every security key "
			    "failed while waiting for a touch");
			goto out;
		}
		if (deadline >= 0 && now_ms() >= deadline) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "no security key was "
			    "touched within %d s", timeout_ms / 1000);
			goto out;
		}
	}
	*out = devs[chosen];
	memset(&devs[chosen], 0, sizeof(devs[chosen]));	/* transferred */
	r = KMFA_OK;
out:
	for (size_t i = 0; i < n; i++) {
		if (devs[i].dev != NULL)
			(void)fido_dev_cancel(devs[i].dev);
		kmfa_fidodev_close(&devs[i]);
	}
	return r;
}

int
kmfa_fidodev_select(const char *spec, const char *exclude, int timeout_ms,
    const char *what, struct kmfa_fidodev *out)
{
	char **paths = NULL;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = kmfa_fidodev_candidates(spec, &paths, &n)) != KMFA_OK)
		goto out;
	if (exclude != NULL && n > 1) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(paths[i], exclude) != 0)
				continue;
			free(paths[i]);
			memmove(&paths[i], &paths[i + 1],
			    (n - i - 1) * sizeof(*paths));
			n--;
			break;
		}
	}
	if (n == 0)
		r = kmfa_fail(KMFA_ERR_FIDO2, "no security key found: plug "
		    "one in");
	else if (n == 1)
		r = kmfa_fidodev_open(paths[0], out);
	else
		r = select_by_touch(paths, n, timeout_ms, what, out);
out:
	kmfa_fidodev_paths_free(&paths, n);
	return r;
}

/*
 * kubectl-mfa: the front.  kubectl runs it once per process, so it is kept
 * to libc alone and linked static-pie (the dynamic loader was two thirds of
 * its instructions): it answers `get-token` from a valid cached token and
 * hands every other case, unchanged, to the full program in libexec
 * (kubectl-mfa-core), the way git and OpenSSH split off their helpers.
 * Loading libcurl, libcrypto, libfido2 and libsecret costs more than this
 * whole path (docs/DESIGN.md §4); here they are never loaded.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/util.h"
#include "token/config.h"
#include "token/execcred.h"
#include "token/hotpath.h"

#ifndef KMFA_LIBEXECDIR
#define KMFA_LIBEXECDIR "/usr/local/libexec/kubectl-mfa"
#endif
#define CORE_NAME "kubectl-mfa-core"

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The core sits at ../libexec/kubectl-mfa/ from this binary's real location
 * (so the build tree and any install prefix work without configuration),
 * else at the compiled-in libexec folder.  Never taken from the environment
 * or PATH: whoever chooses that program sees every token.
 */
static void
exec_core(char *argv[])
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;
	int len;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		char *slash;

		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			len = snprintf(path, sizeof(path),
			    "%s/../libexec/kubectl-mfa/" CORE_NAME, self);
			if (len > 0 && (size_t)len < sizeof(path) &&
			    access(path, X_OK) == 0)
				execv(path, argv);
		}
	}
	len = snprintf(path, sizeof(path), "%s/" CORE_NAME, KMFA_LIBEXECDIR);
	if (len > 0 && (size_t)len < sizeof(path))
		execv(path, argv);
	fprintf(stderr, "kubectl-mfa: cannot run %s: %s (is kubectl-mfa "
	    "installed completely?)\n", path, strerror(errno));
}

static int
hot(int argc, char *argv[])
{
	struct kmfa_config cfg;
	struct kmfa_execinfo ei;
	struct kmfa_buf out = { 0 };
	int r = KMFA_ERR_NOTFOUND;

	kmfa_config_init(&cfg);
	if (argc < 2 || strcmp(argv[1], "get-token") != 0)
		goto out;
	if (kmfa_config_parse(&cfg, argc - 2, argv + 2, KMFA_OPTSET_OIDC |
	    KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN) != KMFA_OK || cfg.help ||
	    cfg.verbose > 0 || kmfa_config_finish(&cfg) != KMFA_OK)
		goto out;
	if (kmfa_execcred_peek(getenv("KUBERNETES_EXEC_INFO"), &ei) != KMFA_OK ||
	    kmfa_config_merge_cluster(&cfg, ei.cluster, ei.cluster_len) !=
	    KMFA_OK)
		goto out;
	if ((r = kmfa_hotpath_answer(&cfg, &ei, &out)) != KMFA_OK)
		goto out;
	if (write_all(STDOUT_FILENO, out.data, out.len) != 0)
		r = KMFA_ERR_IO;
out:
	kmfa_buf_wipe(&out);
	kmfa_config_free(&cfg);
	return r;
}

int
main(int argc, char *argv[])
{
	int r;

	if ((r = hot(argc, argv)) == KMFA_OK)
		return 0;
	if (r == KMFA_ERR_IO)
		return 1;	/* stdout is gone: kubectl is not listening */
	exec_core(argv);
	return 1;
}

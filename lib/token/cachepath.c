/*
 * Where cache entries live (cache.h): the cache folder and the runtime
 * mirror.  Apart from cache.c, which decodes records with cJSON, so that
 * the front finds its files with libc alone.
 */
#include <stdlib.h>

#include "base/util.h"
#include "token/cache.h"

char *
kmfa_cache_path(const char *dir, const char *key, const char *suffix)
{
	char *p;

	if (kmfa_asprintf(&p, "%s/%s%s", dir, key, suffix) < 0)
		return NULL;
	return p;
}

char *
kmfa_runtime_dir(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char *p;

	if (rt == NULL || rt[0] != '/')
		return NULL;
	if (kmfa_asprintf(&p, "%s/kubectl-mfa", rt) < 0)
		return NULL;
	return p;
}

/*
 * Cache hit without the heavy libraries.  Any doubt at all (a damaged file,
 * wrong permissions, another identity) is a miss: the full program then
 * says what is wrong, under the lock, with the one-line error it deserves.
 */
#include <stdlib.h>

#include "cache.h"
#include "err.h"
#include "hotpath.h"
#include "record.h"

static int
try_file(const char *dir, const char *key, const struct kmfa_config *cfg,
    const char *identity, const struct kmfa_execinfo *ei,
    struct kmfa_buf *out)
{
	struct kmfa_record *rec = NULL;
	char *path;
	int64_t until;
	int r = KMFA_ERR_NOTFOUND;

	if ((path = kmfa_cache_path(dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	if (kmfa_cache_load(path, &rec) != KMFA_OK)
		goto out;
	until = kmfa_record_usable_until(rec, cfg, identity);
	if (until <= kmfa_now())
		goto out;
	r = kmfa_execcred_render(out, ei->api, rec->token, until);
out:
	kmfa_record_free(&rec);
	free(path);
	return r;
}

int
kmfa_hotpath(const struct kmfa_config *cfg, const struct kmfa_execinfo *ei,
    struct kmfa_buf *out)
{
	char key[65], *identity = NULL, *rt = NULL;
	int r = KMFA_ERR_NOTFOUND;

	if (cfg->storage == KMFA_STORAGE_NONE || cfg->issuer == NULL ||
	    cfg->client_id == NULL)
		return KMFA_ERR_NOTFOUND;
	if ((identity = kmfa_config_identity(cfg)) == NULL ||
	    kmfa_config_cache_key(cfg, key) != KMFA_OK) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (cfg->storage != KMFA_STORAGE_DISK &&
	    (rt = kmfa_runtime_dir()) != NULL &&
	    (r = try_file(rt, key, cfg, identity, ei, out)) == KMFA_OK)
		goto out;
	if (cfg->storage != KMFA_STORAGE_KEYRING && cfg->cache_dir != NULL)
		r = try_file(cfg->cache_dir, key, cfg, identity, ei, out);
out:
	free(rt);
	free(identity);
	return r;
}

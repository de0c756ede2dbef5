/*
 * Cache hit without the heavy libraries.  Any doubt at all (a damaged file,
 * wrong permissions, another identity) is a miss: the full program then
 * says what is wrong, under the lock, with the one-line error it deserves.
 */
#include <stdlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "token/cache.h"
#include "token/hotpath.h"
#include "token/record.h"

static int
try_file(const char *dir, const char *key, const struct kmfa_config *cfg,
    const char *identity, const struct kmfa_execinfo *ei,
    struct kmfa_buf *out)
{
	struct kmfa_record *rec = NULL;
	char *path, *buf = NULL;
	size_t len = 0;
	int64_t until;
	int r = KMFA_ERR_NOTFOUND;

	if ((path = kmfa_cache_path(dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	/* The same private-file checks and the same decoder as the full
	 * program's load (kmfa_cache_load). */
	if (kmfa_file_read_private(path, KMFA_RECORD_MAX, &buf, &len) !=
	    KMFA_OK || kmfa_record_decode_front(buf, len, &rec) != KMFA_OK)
		goto out;
	until = kmfa_record_usable_until(rec, cfg, identity);
	if (until <= kmfa_now())
		goto out;
	r = kmfa_execcred_render(out, ei->api, rec->token, until);
out:
	if (buf != NULL)
		kmfa_freezero(buf, len + 1);
	kmfa_record_free(&rec);
	free(path);
	return r;
}

int
kmfa_hotpath_answer(const struct kmfa_config *cfg,
    const struct kmfa_execinfo *ei, struct kmfa_buf *out)
{
	char key[65], *identity = NULL, *rt = NULL;
	int r = KMFA_ERR_NOTFOUND;

	if (cfg->storage == KMFA_STORAGE_NONE || cfg->issuer == NULL ||
	    cfg->client_id == NULL)
		return KMFA_ERR_NOTFOUND;
	if ((identity = kmfa_config_identity(cfg)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	kmfa_config_identity_key(identity, key);
	if (cfg->storage != KMFA_STORAGE_DISK &&
	    (rt = kmfa_cache_runtime_dir()) != NULL &&
	    (r = try_file(rt, key, cfg, identity, ei, out)) == KMFA_OK)
		goto out;
	if (cfg->storage != KMFA_STORAGE_KEYRING && cfg->cache_dir != NULL)
		r = try_file(cfg->cache_dir, key, cfg, identity, ei, out);
out:
	free(rt);
	free(identity);
	return r;
}

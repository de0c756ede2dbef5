/*
 * Cache hit without the heavy libraries.  Any doubt at all (a damaged file,
 * wrong permissions, another identity) is a miss: the full program then
 * says what is wrong, under the lock, with the one-line error it deserves.
 */
#include <stdlib.h>

#include "base/err.h"
#include "base/file.h"
#include "base/minijson.h"
#include "token/cache.h"
#include "token/hotpath.h"
#include "token/record.h"

enum {
	F_VERSION, F_IDENTITY, F_TOKEN, F_TOKEN_EXP, F_TOUCHED_AT,
	F_ISSUER, F_CLIENT_ID, F_SUBJECT, F_KEY_NAME, F_REFRESH,
	F_OBTAINED_AT, F_REFRESH_SEALED, F_COUNT
};

/* What kmfa_record_decode allows for an optional string: absent or null. */
static int
opt_string_ok(const struct kmfa_mj_field *f)
{
	return f->type == KMFA_MJ_ABSENT || f->type == KMFA_MJ_NULL ||
	    f->type == KMFA_MJ_STRING;
}

/* A time as kmfa_record_decode reads it (absent: 0), but whole seconds
 * only; a fraction cJSON would accept is a miss here. */
static int
time_of(const struct kmfa_mj_field *f, int64_t *out)
{
	*out = 0;
	if (f->type == KMFA_MJ_ABSENT)
		return 0;
	if (kmfa_mj_int(f, out) != 0 || *out < 0 || *out > KMFA_RECORD_TIME_MAX)
		return -1;
	return 0;
}

/*
 * Decode a record file with the front's reader.  Every member the full
 * decoder checks is checked here too, so that the front never serves an
 * entry the full program would call damaged; anything else is a miss.
 */
static int
record_read(const char *buf, size_t len, struct kmfa_record **out)
{
	struct kmfa_mj_field f[F_COUNT] = {
		[F_VERSION] = { .path = { "version" } },
		[F_IDENTITY] = { .path = { "identity" } },
		[F_TOKEN] = { .path = { "token" } },
		[F_TOKEN_EXP] = { .path = { "token_exp" } },
		[F_TOUCHED_AT] = { .path = { "touched_at" } },
		[F_ISSUER] = { .path = { "issuer" } },
		[F_CLIENT_ID] = { .path = { "client_id" } },
		[F_SUBJECT] = { .path = { "subject" } },
		[F_KEY_NAME] = { .path = { "key_name" } },
		[F_REFRESH] = { .path = { "refresh" } },
		[F_OBTAINED_AT] = { .path = { "obtained_at" } },
		[F_REFRESH_SEALED] = { .path = { "refresh_sealed" } },
	};
	struct kmfa_record *rec = NULL;
	int64_t version, obtained;
	int r = KMFA_ERR_NOTFOUND;

	*out = NULL;
	if (kmfa_mj_scan(buf, len, f, F_COUNT) != 0 ||
	    kmfa_mj_int(&f[F_VERSION], &version) != 0 ||
	    version != KMFA_RECORD_VERSION ||
	    !opt_string_ok(&f[F_ISSUER]) || !opt_string_ok(&f[F_CLIENT_ID]) ||
	    !opt_string_ok(&f[F_SUBJECT]) || !opt_string_ok(&f[F_KEY_NAME]) ||
	    !opt_string_ok(&f[F_REFRESH]) ||
	    time_of(&f[F_OBTAINED_AT], &obtained) != 0 ||
	    (f[F_REFRESH_SEALED].type != KMFA_MJ_ABSENT &&
	    f[F_REFRESH_SEALED].type != KMFA_MJ_TRUE &&
	    f[F_REFRESH_SEALED].type != KMFA_MJ_FALSE))
		goto out;
	if ((rec = kmfa_record_new()) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (kmfa_mj_string(&f[F_IDENTITY], &rec->identity) != 0 ||
	    kmfa_mj_string(&f[F_TOKEN], &rec->token) != 0 ||
	    time_of(&f[F_TOKEN_EXP], &rec->token_exp) != 0 ||
	    time_of(&f[F_TOUCHED_AT], &rec->touched_at) != 0)
		goto out;
	rec->obtained_at = obtained;
	*out = rec;
	rec = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_record_free(&rec);
	return r;
}

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
	/* The same private-file checks as the full program's load. */
	if (kmfa_file_read_private(path, KMFA_RECORD_MAX, &buf, &len) !=
	    KMFA_OK || record_read(buf, len, &rec) != KMFA_OK)
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
kmfa_hotpath(const struct kmfa_config *cfg, const struct kmfa_execinfo *ei,
    struct kmfa_buf *out)
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
	kmfa_identity_key(identity, key);
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

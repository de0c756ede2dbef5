/*
 * Disk cache files, and where they live.  A file that fails to parse is
 * reported and treated as a miss by callers; it is replaced, never patched,
 * by the next save.  libc only (records are read by record.c's decoder),
 * so the front finds and reads its files with this module too.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/report.h"
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
kmfa_cache_runtime_dir(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char *p;

	if (rt == NULL || rt[0] != '/')
		return NULL;
	if (kmfa_asprintf(&p, "%s/kubectl-mfa", rt) < 0)
		return NULL;
	return p;
}

int
kmfa_cache_load(const char *path, struct kmfa_record **out)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = kmfa_file_read_private(path, KMFA_RECORD_MAX, &buf, &len))
	    != KMFA_OK)
		return r;
	if ((r = kmfa_record_decode(buf, len, out)) == KMFA_ERR_CONFIG)
		r = kmfa_fail(KMFA_ERR_DAMAGED, "cache entry %s is damaged; "
		    "it will be replaced at the next login", path);
	kmfa_freezero(buf, len + 1);
	return r;
}

int
kmfa_cache_save(const char *path, const struct kmfa_record *rec,
    int with_refresh)
{
	char *json = NULL;
	int r;

	if ((r = kmfa_record_encode(rec, with_refresh, &json)) != KMFA_OK)
		return r;
	r = kmfa_file_write_atomic(path, json, strlen(json));
	kmfa_freezero_str(json);
	return r;
}

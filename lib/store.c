/*
 * Storage dispatch.  The disk backend is the cache module's files; the
 * keyring backend lives in keyring.c.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "err.h"
#include "file.h"
#include "report.h"
#include "store.h"

struct kmfa_store {
	enum kmfa_storage kind;	/* never AUTO once open */
	char *dir;		/* disk: the cache folder */
	const char *reason;
};

int
kmfa_store_open(const struct kmfa_config *cfg, struct kmfa_store **out)
{
	struct kmfa_store *s;
	int r = KMFA_ERR_NOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	s->kind = cfg->storage;
	if (s->kind == KMFA_STORAGE_KEYRING) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "--token-cache-storage keyring "
		    "is not available in this build");
		goto out;
	}
	if (s->kind == KMFA_STORAGE_AUTO) {
		s->kind = KMFA_STORAGE_DISK;
		s->reason = "no Secret Service support";
	}
	if (s->kind == KMFA_STORAGE_DISK &&
	    (s->dir = strdup(cfg->cache_dir)) == NULL)
		goto out;
	*out = s;
	s = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_store_free(&s);
	return r;
}

void
kmfa_store_free(struct kmfa_store **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	free((*sp)->dir);
	free(*sp);
	*sp = NULL;
}

const char *
kmfa_store_kind(const struct kmfa_store *s)
{
	switch (s->kind) {
	case KMFA_STORAGE_KEYRING: return "keyring";
	case KMFA_STORAGE_DISK: return "disk";
	default: return "none";
	}
}

const char *
kmfa_store_reason(const struct kmfa_store *s)
{
	return s->reason;
}

int
kmfa_store_load(struct kmfa_store *s, const char *key,
    struct kmfa_record **out)
{
	char *path;
	int r;

	*out = NULL;
	if (s->kind != KMFA_STORAGE_DISK)
		return KMFA_ERR_NOTFOUND;
	if ((path = kmfa_cache_path(s->dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_cache_load(path, out);
	free(path);
	return r;
}

int
kmfa_store_save(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec)
{
	char *path;
	int r;

	if (s->kind != KMFA_STORAGE_DISK)
		return KMFA_OK;
	if ((path = kmfa_cache_path(s->dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_cache_save(path, rec, 1);
	free(path);
	return r;
}

int
kmfa_store_remove(struct kmfa_store *s, const char *key)
{
	char *path;
	int r;

	if (s->kind != KMFA_STORAGE_DISK)
		return KMFA_OK;
	if ((path = kmfa_cache_path(s->dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_file_remove(path);
	free(path);
	return r;
}

static int
is_key_file(const char *name)
{
	size_t n = strlen(name);

	if (n != 64 + 5 || strcmp(name + 64, ".json") != 0)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

int
kmfa_store_list(struct kmfa_store *s, char ***keys, size_t *n)
{
	DIR *d = NULL;
	struct dirent *e;
	char **list = NULL;
	size_t count = 0;
	int r = KMFA_ERR_NOMEM;

	*keys = NULL;
	*n = 0;
	if (s->kind != KMFA_STORAGE_DISK)
		return KMFA_OK;
	if ((d = opendir(s->dir)) == NULL)
		return KMFA_OK;	/* no folder, no entries */
	while ((e = readdir(d)) != NULL) {
		char **grown;

		if (!is_key_file(e->d_name))
			continue;
		if ((grown = realloc(list, (count + 1) * sizeof(*list))) == NULL)
			goto out;
		list = grown;
		if ((list[count] = strndup(e->d_name, 64)) == NULL)
			goto out;
		count++;
	}
	*keys = list;
	*n = count;
	list = NULL;	/* transferred */
	count = 0;
	r = KMFA_OK;
out:
	kmfa_store_list_free(list, count);
	closedir(d);
	return r;
}

void
kmfa_store_list_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/*
 * Storage dispatch.  The disk backend is the cache module's files; the
 * keyring backend is keyring.c plus a volatile mirror of the record without
 * its refresh token in the runtime folder, which the front reads so that a
 * cache hit costs no D-Bus traffic and never loads GLib (docs/DESIGN.md §4).
 * The keyring item is the source of truth: the mirror is written after the
 * item, removed with it, and removed when the item is found missing.
 * Nothing here prints on the hot path; `auto` records why it chose what it
 * chose, and callers say so at login and in status.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/err.h"
#include "base/file.h"
#include "base/report.h"
#include "base/util.h"
#include "store/keyring.h"
#include "store/store.h"
#include "token/cache.h"

/* How long `auto` and an explicit `keyring` wait for a Secret Service. */
#define PROBE_MS 1000

struct kmfa_store {
	enum kmfa_storage kind;		/* never AUTO once open */
	enum kmfa_storage asked;	/* as configured, AUTO included */
	char *dir;			/* the cache folder */
	char *rt;			/* keyring: the mirror folder, or NULL */
	const char *reason;
	/* Why the keyring needs the user at a window (locked, a prompt), as
	 * last found, or NULL: under auto a locked keyring is not used but
	 * may still hold an entry that logout cannot remove. */
	const char *locked;
};

int
kmfa_store_open(const struct kmfa_config *cfg, struct kmfa_store **out)
{
	struct kmfa_store *s;
	const char *why = NULL;
	int probe, r = KMFA_ERR_NOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	s->kind = s->asked = cfg->storage;
	if (s->kind == KMFA_STORAGE_KEYRING) {
		/*
		 * Asked for by name, a locked keyring is still the keyring: a
		 * load is a miss with a warning, a save fails with a warning.
		 */
		probe = kmfa_keyring_probe(PROBE_MS, &why);
		if (probe == KMFA_ERR_LOCKED)
			s->locked = "the keyring is locked";
		if (probe != KMFA_OK && probe != KMFA_ERR_LOCKED) {
			r = kmfa_fail(KMFA_ERR_CONFIG, "--token-cache-storage "
			    "keyring: %s; use --token-cache-storage disk where "
			    "there is no keyring", why);
			goto out;
		}
	}
	if (s->kind == KMFA_STORAGE_AUTO) {
		/*
		 * auto takes the keyring only when it works without a
		 * prompt; a locked one would leave every login uncached.
		 */
		probe = kmfa_keyring_probe(PROBE_MS, &why);
		if (probe == KMFA_OK) {
			s->kind = KMFA_STORAGE_KEYRING;
			s->reason = "a Secret Service answers on the session bus";
		} else {
			if (probe == KMFA_ERR_LOCKED)
				s->locked = "the keyring is locked";
			s->kind = KMFA_STORAGE_DISK;
			s->reason = why;
		}
	}
	if (cfg->cache_dir != NULL && (s->dir = strdup(cfg->cache_dir)) == NULL)
		goto out;
	if (s->kind == KMFA_STORAGE_DISK && s->dir == NULL) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "no cache folder");
		goto out;
	}
	/* No runtime folder, no mirror: every call then asks the keyring. */
	if (s->kind == KMFA_STORAGE_KEYRING || s->asked == KMFA_STORAGE_AUTO)
		s->rt = kmfa_cache_runtime_dir();
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
	free((*sp)->rt);
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

const char *
kmfa_store_locked(const struct kmfa_store *s)
{
	return s->locked;
}

/*
 * Mirror upkeep is best effort: a failure is one warning, and runs in a
 * report scope of its own, so its cause is the one in the warning and never
 * stands for the root cause of a later failure.
 */
static void
mirror_put(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec)	/* rec NULL: remove the mirror */
{
	struct kmfa_report_scope sc;
	char *path;
	int r = KMFA_ERR_NOMEM;

	if (s->rt == NULL)
		return;
	kmfa_report_enter(&sc);
	if ((path = kmfa_cache_path(s->rt, key, ".json")) != NULL)
		r = rec != NULL ? kmfa_cache_save(path, rec, 0) :
		    kmfa_file_remove(path);
	if (r != KMFA_OK)
		kmfa_warn("could not %s the runtime copy of the token: %s",
		    rec != NULL ? "write" : "remove", kmfa_report_reason(r));
	kmfa_report_leave(&sc);
	free(path);
}

/* Does the mirror hold exactly rec without its refresh token? */
static int
mirror_matches(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec)
{
	struct kmfa_report_scope sc;
	char *path = NULL, *want = NULL, *have = NULL;
	size_t have_len = 0;
	int same = 0;

	kmfa_report_enter(&sc);	/* a bad mirror is simply rewritten */
	if ((path = kmfa_cache_path(s->rt, key, ".json")) == NULL ||
	    kmfa_record_encode(rec, 0, &want) != KMFA_OK ||
	    kmfa_file_read_private(path, KMFA_RECORD_MAX, &have, &have_len)
	    != KMFA_OK)
		goto out;
	same = have_len == strlen(want) &&
	    CRYPTO_memcmp(have, want, have_len) == 0;
out:
	kmfa_report_leave(&sc);
	if (have != NULL)
		kmfa_freezero(have, have_len + 1);
	kmfa_freezero_str(want);
	free(path);
	return same;
}

/*
 * The front missed, yet the keyring holds a token that is still good: the
 * mirror is gone (a reboot or logout emptied the runtime folder) or stale.
 * Rewrite it so the next kubectl call is a hit again.  Then look at the
 * item once more: a logout that removed item and mirror between our read
 * and our write would otherwise leave its token behind in the mirror.
 */
static void
mirror_refresh(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec)
{
	char *json = NULL;
	size_t len = 0;
	const char *why = NULL;
	int r;

	if (s->rt == NULL || rec->token == NULL || rec->token_exp <= kmfa_now() ||
	    mirror_matches(s, key, rec))
		return;
	mirror_put(s, key, rec);
	r = kmfa_keyring_load(key, &json, &len, &why);
	if (json != NULL)
		kmfa_freezero(json, len + 1);
	if (r == KMFA_ERR_NOTFOUND)
		mirror_put(s, key, NULL);
}

static int
keyring_load(struct kmfa_store *s, const char *key, struct kmfa_record **out)
{
	char *json = NULL;
	size_t len = 0;
	const char *why = NULL;
	int r;

	r = kmfa_keyring_load(key, &json, &len, &why);
	if (r == KMFA_ERR_NOTFOUND) {
		/* The item is the truth; a mirror without one is an orphan. */
		mirror_put(s, key, NULL);
		goto out;
	}
	if (r == KMFA_ERR_LOCKED) {
		/* A miss with one clear line, never a prompt or a hang. */
		s->locked = why;
		kmfa_warn("%s, so the cached token cannot be read; kubectl-mfa "
		    "never opens a keyring window: unlock the keyring (or let "
		    "it give kubectl-mfa its item without asking), or use "
		    "--token-cache-storage disk", why);
		r = KMFA_ERR_NOTFOUND;
		goto out;
	}
	if (r != KMFA_OK)
		goto out;
	if ((r = kmfa_record_decode(json, len, out)) == KMFA_ERR_CONFIG)
		r = kmfa_fail(KMFA_ERR_DAMAGED, "the keyring item for cache "
		    "entry %.12s is damaged; it will be replaced at the next "
		    "login", key);
	if (r != KMFA_OK)
		goto out;
	mirror_refresh(s, key, *out);
	r = KMFA_OK;
out:
	if (json != NULL)
		kmfa_freezero(json, len + 1);
	return r;
}

int
kmfa_store_load(struct kmfa_store *s, const char *key,
    struct kmfa_record **out)
{
	char *path;
	int r;

	*out = NULL;
	if (s->kind == KMFA_STORAGE_KEYRING)
		return keyring_load(s, key, out);
	if (s->kind != KMFA_STORAGE_DISK)
		return KMFA_ERR_NOTFOUND;
	if ((path = kmfa_cache_path(s->dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_cache_load(path, out);
	free(path);
	return r;
}

static int
keyring_save(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec)
{
	char *json = NULL, *label = NULL;
	const char *why = NULL;
	int r = KMFA_ERR_NOMEM;

	if (kmfa_asprintf(&label, "kubectl-mfa: %s (%s)",
	    rec->issuer != NULL ? rec->issuer : "?",
	    rec->client_id != NULL ? rec->client_id : "?") < 0)
		goto out;
	if ((r = kmfa_record_encode(rec, 1, &json)) != KMFA_OK)
		goto out;
	r = kmfa_keyring_save(key, label, json, &why);
	if (r == KMFA_ERR_LOCKED) {
		s->locked = why;
		r = kmfa_fail(KMFA_ERR_IO, "%s, so the token was not cached; "
		    "unlock it, or use --token-cache-storage disk", why);
	}
	if (r != KMFA_OK)
		goto out;
	mirror_put(s, key, rec);
	r = KMFA_OK;
out:
	kmfa_freezero_str(json);
	free(label);
	return r;
}

int
kmfa_store_save(struct kmfa_store *s, const char *key,
    const struct kmfa_record *rec)
{
	char *path;
	int r;

	if (s->kind == KMFA_STORAGE_KEYRING)
		return keyring_save(s, key, rec);
	if (s->kind != KMFA_STORAGE_DISK)
		return KMFA_OK;
	if ((path = kmfa_cache_path(s->dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_cache_save(path, rec, 1);
	free(path);
	return r;
}

static int
disk_remove(struct kmfa_store *s, const char *key)
{
	char *path;
	int r;

	if ((path = kmfa_cache_path(s->dir, key, ".json")) == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_file_remove(path);
	free(path);
	return r;
}

/*
 * Under `auto` the front reads both the mirror and the disk folder, so a
 * logout removes every copy it could serve, whichever way auto resolved
 * today: a disk entry from a day without a session bus, or a mirror from a
 * day with one.
 */
int
kmfa_store_remove(struct kmfa_store *s, const char *key)
{
	const char *why = NULL;
	int r = KMFA_OK, rd = KMFA_OK;

	if (s->kind == KMFA_STORAGE_KEYRING) {
		r = kmfa_keyring_remove(key, &why);
		if (r == KMFA_ERR_LOCKED) {
			s->locked = why;
			r = kmfa_fail(KMFA_ERR_IO, "%s, so its cached token was "
			    "not removed; unlock it (or let it delete "
			    "kubectl-mfa's items without asking) and run logout "
			    "again", why);
		}
	} else if (s->asked == KMFA_STORAGE_AUTO && s->locked != NULL) {
		/*
		 * auto passed over a locked keyring today; on a day it was
		 * unlocked it may have cached this entry, and it will serve
		 * it again once unlocked.  Not looked at (a search of a
		 * locked collection can open a window): named, not removed.
		 */
		r = kmfa_fail(KMFA_ERR_IO, "%s, so a token it may hold for "
		    "this entry was not removed; unlock it and run logout "
		    "again", s->locked);
	}
	/* Even when the item stays, the hot path loses its copy. */
	mirror_put(s, key, NULL);
	if ((s->kind == KMFA_STORAGE_DISK || s->asked == KMFA_STORAGE_AUTO) &&
	    s->dir != NULL)
		rd = disk_remove(s, key);
	return r != KMFA_OK ? r : rd;
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

static int
disk_list(struct kmfa_store *s, char ***keys, size_t *n)
{
	DIR *d = NULL;
	struct dirent *e;
	char **list = NULL;
	size_t count = 0;
	int r = KMFA_ERR_NOMEM;

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

int
kmfa_store_list(struct kmfa_store *s, char ***keys, size_t *n)
{
	const char *why = NULL;
	int r;

	*keys = NULL;
	*n = 0;
	if (s->kind == KMFA_STORAGE_DISK)
		return disk_list(s, keys, n);
	if (s->kind != KMFA_STORAGE_KEYRING)
		return KMFA_OK;
	r = kmfa_keyring_list(keys, n, &why);
	if (r == KMFA_ERR_NOTFOUND)
		r = KMFA_OK;
	if (r == KMFA_ERR_LOCKED) {
		/* Nothing listed; the caller asks kmfa_store_locked(). */
		s->locked = why;
		r = KMFA_OK;
	}
	return r;
}

void
kmfa_store_list_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

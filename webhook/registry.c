/*
 * The registry of credentials an administrator maintains: a JSON file, or
 * a folder of them (a mounted ConfigMap, whose files are symbolic links
 * into a hidden folder that is swapped on update).  Each file is
 *
 *   {"credentials": [{"subject": S, "credential_id": B64URL,
 *                     "public_key": B64URL(x || y), "uv": "required"}]}
 *
 * which is what `kubectl mfa keys export` prints.  Read again whenever
 * the files' names, sizes, inodes or times change, checked before each
 * review.  A registry that does not read is empty until it is mended:
 * keeping the last one would keep a key the administrator meant to remove.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "webhook.h"

static void
creds_free(struct wh_cred *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].subject);
		free(c[i].id);
	}
	free(c);
}

void
wh_registry_clear(struct wh_registry *r)
{
	creds_free(r->creds, r->ncreds);
	r->creds = NULL;
	r->ncreds = 0;
	r->loaded = 0;
}

/* FNV-1a over what identifies a file's version. */
static uint64_t
mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static uint64_t
mix_stat(uint64_t h, const char *name, const struct stat *st)
{
	h = mix(h, name, strlen(name) + 1);
	h = mix(h, &st->st_ino, sizeof(st->st_ino));
	h = mix(h, &st->st_size, sizeof(st->st_size));
	h = mix(h, &st->st_mtim, sizeof(st->st_mtim));
	return mix(h, &st->st_ctim, sizeof(st->st_ctim));
}

static int
wanted(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* The folder's entries (those wanted), sorted, into a new array. */
static int
list_dir(const char *dir, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t k = 0;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return kmfa_fail(KMFA_ERR_CONFIG, "registry %s: %s", dir,
		    strerror(errno));
	if ((v = calloc(WH_REGISTRY_FILES_MAX, sizeof(*v))) == NULL) {
		closedir(d);
		return KMFA_ERR_NOMEM;
	}
	while ((e = readdir(d)) != NULL) {
		if (!wanted(e->d_name))
			continue;
		if (k == WH_REGISTRY_FILES_MAX ||
		    (v[k] = strdup(e->d_name)) == NULL) {
			closedir(d);
			for (size_t i = 0; i < k; i++)
				free(v[i]);
			free(v);
			return k == WH_REGISTRY_FILES_MAX ? kmfa_fail(
			    KMFA_ERR_CONFIG, "registry %s: more than %d files",
			    dir, WH_REGISTRY_FILES_MAX) : KMFA_ERR_NOMEM;
		}
		k++;
	}
	closedir(d);
	qsort(v, k, sizeof(*v), (int (*)(const void *, const void *))strcmp);
	*names = v;
	*n = k;
	return KMFA_OK;
}

static void
names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
path_join(const char *dir, const char *name, char **out)
{
	return kmfa_asprintf(out, "%s/%s", dir, name) < 0 ? KMFA_ERR_NOMEM :
	    KMFA_OK;
}

static int
stamp_of(const char *path, uint64_t *stamp)
{
	struct stat st;
	char **names = NULL, *p = NULL;
	size_t n = 0;
	uint64_t h = UINT64_C(14695981039346656037);
	int r;

	if (stat(path, &st) != 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "registry %s: %s", path,
		    strerror(errno));
	h = mix_stat(h, path, &st);
	if (S_ISDIR(st.st_mode)) {
		if ((r = list_dir(path, &names, &n)) != KMFA_OK)
			return r;
		for (size_t i = 0; i < n; i++) {
			free(p);
			if ((r = path_join(path, names[i], &p)) != KMFA_OK)
				goto out;
			/* stat follows the ConfigMap's links to the data. */
			if (stat(p, &st) == 0)
				h = mix_stat(h, names[i], &st);
		}
	}
	r = KMFA_OK;
out:
	*stamp = h;
	free(p);
	names_free(names, n);
	return r;
}

static int
read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t k;
	int fd, r = KMFA_ERR_CONFIG;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "registry %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > WH_REGISTRY_FILE_MAX) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "registry %s: not a regular file "
		    "of at most %d bytes", path, WH_REGISTRY_FILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size && (k = read(fd, buf + got,
	    (size_t)st.st_size - got)) > 0)
		got += (size_t)k;
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
	r = KMFA_OK;
out:
	free(buf);
	close(fd);
	return r;
}

static int
one_cred(const char *name, size_t i, const cJSON *e, struct wh_cred *c)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "subject");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "credential_id");
	const cJSON *pk = cJSON_GetObjectItemCaseSensitive(e, "public_key");
	const cJSON *uv = cJSON_GetObjectItemCaseSensitive(e, "uv");
	uint8_t *k = NULL;
	size_t klen = 0;
	int r;

	memset(c, 0, sizeof(*c));
	if (!cJSON_IsString(s) || *s->valuestring == '\0' ||
	    !cJSON_IsString(id) || !cJSON_IsString(pk) ||
	    (uv != NULL && !cJSON_IsString(uv)))
		return kmfa_fail(KMFA_ERR_CONFIG, "registry %s: credential %zu "
		    "needs the strings subject, credential_id, public_key", name,
		    i);
	if (uv != NULL && strcmp(uv->valuestring, "required") != 0 &&
	    strcmp(uv->valuestring, "discouraged") != 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "registry %s: credential %zu: "
		    "uv is 'required' or 'discouraged'", name, i);
	c->uv_required = uv != NULL && strcmp(uv->valuestring, "required") == 0;
	if ((r = kmfa_b64url_decode(pk->valuestring, strlen(pk->valuestring),
	    &k, &klen)) != KMFA_OK || klen != KMFA_ES256_PK_LEN) {
		free(k);
		return r == KMFA_ERR_NOMEM ? r : kmfa_fail(KMFA_ERR_CONFIG,
		    "registry %s: credential %zu: public_key is not base64url "
		    "of %d bytes", name, i, KMFA_ES256_PK_LEN);
	}
	memcpy(c->pk, k, klen);
	free(k);
	if ((r = kmfa_b64url_decode(id->valuestring, strlen(id->valuestring),
	    &c->id, &c->id_len)) != KMFA_OK || c->id_len == 0 ||
	    c->id_len > KMFA_CRED_ID_MAX) {
		free(c->id);
		c->id = NULL;
		return r == KMFA_ERR_NOMEM ? r : kmfa_fail(KMFA_ERR_CONFIG,
		    "registry %s: credential %zu: credential_id is not "
		    "base64url of 1..%d bytes", name, i, KMFA_CRED_ID_MAX);
	}
	if ((c->subject = strdup(s->valuestring)) == NULL) {
		free(c->id);
		c->id = NULL;
		return KMFA_ERR_NOMEM;
	}
	return KMFA_OK;
}

int
wh_registry_parse(const char *name, const char *text, size_t len,
    struct wh_cred **creds, size_t *ncreds)
{
	cJSON *doc = NULL;
	const cJSON *list, *e;
	struct wh_cred *v = NULL;
	char why[KMFA_JSON_WHY_MAX];
	size_t n, k = 0;
	int r;

	if ((r = kmfa_json_parse_object(text, len, WH_REGISTRY_FILE_MAX, &doc,
	    why, sizeof(why))) != KMFA_OK) {
		if (r == KMFA_ERR_DAMAGED)
			r = kmfa_fail(KMFA_ERR_CONFIG, "registry %s %s", name,
			    why);
		return r;
	}
	list = cJSON_GetObjectItemCaseSensitive(doc, "credentials");
	if (!cJSON_IsArray(list)) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "registry %s: no credentials "
		    "array", name);
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(list);
	r = KMFA_ERR_NOMEM;
	if ((v = realloc(*creds, (*ncreds + n + 1) * sizeof(*v))) == NULL)
		goto out;
	*creds = v;
	cJSON_ArrayForEach(e, list) {
		if ((r = one_cred(name, k, e, &v[*ncreds])) != KMFA_OK)
			goto out;
		(*ncreds)++;
		k++;
	}
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	return r;
}

static int
load(const char *path, struct wh_cred **creds, size_t *ncreds)
{
	struct stat st;
	char **names = NULL, *p = NULL, *text = NULL;
	size_t n = 0, len = 0;
	int r;

	if (stat(path, &st) != 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "registry %s: %s", path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if ((r = read_file(path, &text, &len)) == KMFA_OK)
			r = wh_registry_parse(path, text, len, creds, ncreds);
		free(text);
		return r;
	}
	if ((r = list_dir(path, &names, &n)) != KMFA_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		free(p);
		free(text);
		text = NULL;
		if ((r = path_join(path, names[i], &p)) != KMFA_OK ||
		    (r = read_file(p, &text, &len)) != KMFA_OK ||
		    (r = wh_registry_parse(p, text, len, creds, ncreds)) !=
		    KMFA_OK)
			goto out;
	}
	r = KMFA_OK;
out:
	free(p);
	free(text);
	names_free(names, n);
	return r;
}

int
wh_registry_refresh(struct wh_registry *r)
{
	struct kmfa_report_scope sc;
	struct wh_cred *creds = NULL;
	size_t n = 0;
	uint64_t stamp = 0;
	int e;

	kmfa_report_enter(&sc);
	if ((e = stamp_of(r->path, &stamp)) == KMFA_OK && r->loaded &&
	    stamp == r->stamp) {
		kmfa_report_leave(&sc);
		return KMFA_OK;
	}
	if (e == KMFA_OK)
		e = load(r->path, &creds, &n);
	wh_registry_clear(r);
	r->stamp = stamp;
	if (e != KMFA_OK) {
		creds_free(creds, n);
		/* Fail closed: every token is refused until it is mended. */
		wh_log("registry-error", NULL, "%s",
		    kmfa_report_cause() != NULL ? kmfa_report_cause() :
		    kmfa_report_reason(e));
		r->loaded = 0;
		kmfa_report_leave(&sc);
		return e;
	}
	r->creds = creds;
	r->ncreds = n;
	r->loaded = 1;
	wh_log("registry-loaded", NULL, "%zu credentials", n);
	kmfa_report_leave(&sc);
	return KMFA_OK;
}

const struct wh_cred *
wh_registry_find(const struct wh_registry *r, const char *subject,
    const uint8_t *id, size_t id_len)
{
	for (size_t i = 0; i < r->ncreds; i++)
		if (r->creds[i].id_len == id_len &&
		    memcmp(r->creds[i].id, id, id_len) == 0 &&
		    strcmp(r->creds[i].subject, subject) == 0)
			return &r->creds[i];
	return NULL;
}

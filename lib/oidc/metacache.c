/*
 * The provider's documents on disk.  What is kept is public (anyone can GET
 * it), so the private-file rules here guard integrity, not secrecy: a file
 * another user could have written or edited would let them choose the keys
 * an ID token is checked against.  Such a file, or one that does not
 * decode, is a miss, never an error: the document is fetched as if there
 * were no cache, and the next save replaces the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/report.h"
#include "base/sha256.h"
#include "base/util.h"
#include "oidc/freshness.h"
#include "oidc/http.h"
#include "oidc/metacache.h"

#define FORMAT_VERSION 1
/* A file fetched further in the future than this: the clock went back. */
#define CLOCK_SLACK 60
/* Kinds times URLs one run touches: discovery and the JWKS, each refetched
 * at most once, with room to spare. */
#define SLOTS 8

struct slot {
	char *path;
	struct kmfa_metacache_entry e;
	int dirty;		/* fetched or revalidated this run */
	int keep;		/* may be stored (no no-store) */
};

struct kmfa_metacache {
	char *dir;		/* <cache>/oidc; NULL: keep nothing */
	struct slot slots[SLOTS];
	size_t n;
};

void
kmfa_metacache_entry_clear(struct kmfa_metacache_entry *e)
{
	free(e->url);
	free(e->etag);
	free(e->last_modified);
	free(e->cache_control);
	kmfa_buf_wipe(&e->body);
	memset(e, 0, sizeof(*e));
}

int
kmfa_metacache_fresh(const struct kmfa_metacache_entry *e, int64_t now)
{
	return e->fetched <= now + CLOCK_SLACK && now < e->expires;
}

static int
add_string(cJSON *o, const char *name, const char *v)
{
	return v == NULL || cJSON_AddStringToObject(o, name, v) != NULL;
}

int
kmfa_metacache_encode(const struct kmfa_metacache_entry *e, char **out)
{
	int r = KMFA_ERR_NOMEM;
	cJSON *o = NULL;
	char *body = NULL;

	*out = NULL;
	if (e->body.len == 0 || e->body.len > KMFA_HTTP_BODY_MAX ||
	    memchr(e->body.data, '\0', e->body.len) != NULL) {
		/* A NUL would end the C string cJSON stores. */
		r = kmfa_fail(KMFA_ERR_INTERNAL, "not a document to keep");
		goto out;
	}
	if ((body = malloc(e->body.len + 1)) == NULL)
		goto out;
	memcpy(body, e->body.data, e->body.len);
	body[e->body.len] = '\0';
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(o, "v", FORMAT_VERSION) == NULL ||
	    !add_string(o, "url", e->url) ||
	    cJSON_AddNumberToObject(o, "fetched", (double)e->fetched) == NULL ||
	    cJSON_AddNumberToObject(o, "expires", (double)e->expires) == NULL ||
	    !add_string(o, "etag", e->etag) ||
	    !add_string(o, "last_modified", e->last_modified) ||
	    !add_string(o, "cache_control", e->cache_control) ||
	    !add_string(o, "body", body) ||
	    (*out = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	r = KMFA_OK;
out:
	cJSON_Delete(o);
	free(body);
	return r;
}

/* Member name as a string, or NULL; *bad when present but not a string. */
static int
get_string(const cJSON *o, const char *name, int required, char **out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if (m == NULL)
		return required ? KMFA_ERR_DAMAGED : KMFA_OK;
	if (!cJSON_IsString(m) || m->valuestring == NULL)
		return KMFA_ERR_DAMAGED;
	if ((*out = strdup(m->valuestring)) == NULL)
		return KMFA_ERR_NOMEM;
	return KMFA_OK;
}

/* A whole number of seconds in [0, 2^53). */
static int
get_time(const cJSON *o, const char *name, int64_t *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(m) || m->valuedouble < 0 ||
	    m->valuedouble > 9007199254740991.0 ||
	    m->valuedouble != (double)(int64_t)m->valuedouble)
		return KMFA_ERR_DAMAGED;
	*out = (int64_t)m->valuedouble;
	return KMFA_OK;
}

int
kmfa_metacache_decode(const char *json, size_t len,
    struct kmfa_metacache_entry *e)
{
	int r = KMFA_ERR_DAMAGED;
	cJSON *o = NULL;
	const cJSON *v;
	char why[KMFA_JSON_WHY_MAX], *body = NULL;

	memset(e, 0, sizeof(*e));
	if ((r = kmfa_json_parse_object(json, len, KMFA_METACACHE_FILE_MAX, &o,
	    why, sizeof(why))) != KMFA_OK)
		goto out;
	r = KMFA_ERR_DAMAGED;
	v = cJSON_GetObjectItemCaseSensitive(o, "v");
	if (!cJSON_IsNumber(v) || v->valuedouble != FORMAT_VERSION)
		goto out;
	if ((r = get_string(o, "url", 1, &e->url)) != KMFA_OK ||
	    (r = get_string(o, "etag", 0, &e->etag)) != KMFA_OK ||
	    (r = get_string(o, "last_modified", 0, &e->last_modified)) !=
	    KMFA_OK ||
	    (r = get_string(o, "cache_control", 0, &e->cache_control)) !=
	    KMFA_OK ||
	    (r = get_string(o, "body", 1, &body)) != KMFA_OK ||
	    (r = get_time(o, "fetched", &e->fetched)) != KMFA_OK ||
	    (r = get_time(o, "expires", &e->expires)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_DAMAGED;
	/* Not what this program writes: no lifetime past the bound. */
	if (e->expires < e->fetched ||
	    e->expires - e->fetched > KMFA_FRESHNESS_MAX ||
	    *body == '\0' || strlen(body) > KMFA_HTTP_BODY_MAX)
		goto out;
	if (kmfa_buf_append(&e->body, body, strlen(body)) != 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	r = KMFA_OK;
out:
	cJSON_Delete(o);
	free(body);
	if (r != KMFA_OK)
		kmfa_metacache_entry_clear(e);
	return r;
}

int
kmfa_metacache_new(const char *dir, struct kmfa_metacache **out)
{
	struct kmfa_metacache *mc;

	*out = NULL;
	if ((mc = calloc(1, sizeof(*mc))) == NULL ||
	    (dir != NULL && kmfa_asprintf(&mc->dir, "%s/oidc", dir) < 0)) {
		free(mc);
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	}
	*out = mc;
	return KMFA_OK;
}

void
kmfa_metacache_free(struct kmfa_metacache **mp)
{
	struct kmfa_metacache *mc;

	if (mp == NULL || (mc = *mp) == NULL)
		return;
	for (size_t i = 0; i < mc->n; i++) {
		free(mc->slots[i].path);
		kmfa_metacache_entry_clear(&mc->slots[i].e);
	}
	free(mc->dir);
	free(mc);
	*mp = NULL;
}

/* "<dir>/<sha256(url) in hex>.<kind>"; NULL for no memory. */
static char *
file_path(const struct kmfa_metacache *mc, const char *kind, const char *url)
{
	uint8_t md[KMFA_SHA256_LEN];
	char hex[2 * KMFA_SHA256_LEN + 1], *p;

	kmfa_sha256(url, strlen(url), md);
	kmfa_hex(md, sizeof(md), hex);
	if (kmfa_asprintf(&p, "%s/%s.%s", mc->dir, hex, kind) < 0)
		return NULL;
	return p;
}

static struct slot *
find_slot(struct kmfa_metacache *mc, const char *path)
{
	for (size_t i = 0; i < mc->n; i++)
		if (strcmp(mc->slots[i].path, path) == 0)
			return &mc->slots[i];
	return NULL;
}

/*
 * The slot for path, read from its file the first time: its entry empty
 * (url NULL) when there is no usable file.
 */
static int
open_slot(struct kmfa_metacache *mc, const char *path, const char *url,
    struct slot **out)
{
	struct kmfa_report_scope sc;
	struct slot *s;
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((s = find_slot(mc, path)) != NULL) {
		*out = s;
		return KMFA_OK;
	}
	if (mc->n == SLOTS)
		return kmfa_fail(KMFA_ERR_INTERNAL, "metacache: out of slots");
	s = &mc->slots[mc->n];
	memset(s, 0, sizeof(*s));
	if ((s->path = strdup(path)) == NULL)
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	mc->n++;
	kmfa_report_enter(&sc);
	r = kmfa_file_read_private(path, KMFA_METACACHE_FILE_MAX, &text, &len);
	if (r == KMFA_OK)
		r = kmfa_metacache_decode(text, len, &s->e);
	if (r == KMFA_OK && strcmp(s->e.url, url) != 0)
		r = KMFA_ERR_DAMAGED;
	if (r == KMFA_ERR_NOMEM) {
		kmfa_report_pass(&sc);
		free(text);
		return r;
	}
	if (r != KMFA_OK) {
		/* Not ours, not private, damaged: a miss, replaced at save. */
		if (r != KMFA_ERR_NOTFOUND)
			kmfa_debug("ignoring %s: %s", path,
			    kmfa_report_cause() != NULL ? kmfa_report_cause() :
			    "it does not decode");
		kmfa_metacache_entry_clear(&s->e);
	}
	kmfa_report_leave(&sc);
	free(text);
	*out = s;
	return KMFA_OK;
}

static int
dup_or_null(const char *v, char **out)
{
	*out = NULL;
	return v == NULL || (*out = strdup(v)) != NULL;
}

/* s takes the answer that just came: body, meta, a new lifetime. */
static int
take_answer(struct slot *s, const char *url, struct kmfa_buf *body,
    struct kmfa_http_meta *m, int64_t now)
{
	struct kmfa_metacache_entry e = { 0 };
	int64_t life = kmfa_freshness_lifetime(m->cache_control, m->age,
	    &s->keep);

	if (!dup_or_null(url, &e.url) || !dup_or_null(m->etag, &e.etag) ||
	    !dup_or_null(m->last_modified, &e.last_modified) ||
	    !dup_or_null(m->cache_control, &e.cache_control) ||
	    kmfa_buf_append(&e.body, body->data, body->len) != 0) {
		kmfa_metacache_entry_clear(&e);
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	}
	e.fetched = now;
	e.expires = now + life;
	kmfa_metacache_entry_clear(&s->e);
	s->e = e;
	s->dirty = 1;
	return KMFA_OK;
}

/*
 * A 304: the kept body stands, with the lifetime (and any new validator)
 * of this answer (RFC 9111 §4.3.4); its Cache-Control when it sends one,
 * else the one kept.
 */
static int
take_304(struct slot *s, struct kmfa_http_meta *m, int64_t now)
{
	const char *cc = m->cache_control != NULL ? m->cache_control :
	    s->e.cache_control;
	int64_t life = kmfa_freshness_lifetime(cc, m->age, &s->keep);

	if (m->etag != NULL) {
		free(s->e.etag);
		s->e.etag = m->etag;
		m->etag = NULL;	/* transferred */
	}
	if (m->last_modified != NULL) {
		free(s->e.last_modified);
		s->e.last_modified = m->last_modified;
		m->last_modified = NULL;	/* transferred */
	}
	if (m->cache_control != NULL) {
		free(s->e.cache_control);
		s->e.cache_control = m->cache_control;
		m->cache_control = NULL;	/* transferred */
	}
	s->e.fetched = now;
	s->e.expires = now + life;
	s->dirty = 1;
	return KMFA_OK;
}

int
kmfa_metacache_get(struct kmfa_metacache *mc, struct kmfa_http *h,
    const char *kind, const char *url, int refetch, long *status,
    struct kmfa_buf *body, int *cached)
{
	int r = KMFA_ERR_NOMEM;
	struct kmfa_http_meta m = { 0 };
	struct slot *s = NULL;
	char *path = NULL;
	int64_t now = kmfa_now();
	int have;

	*cached = 0;
	*status = 0;
	kmfa_buf_wipe(body);
	if (mc == NULL || mc->dir == NULL)
		return kmfa_http_request(h, url, NULL, NULL, status, body);
	if ((path = file_path(mc, kind, url)) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = open_slot(mc, path, url, &s)) != KMFA_OK || s == NULL)
		goto out;
	have = s->e.url != NULL && !refetch;
	if (have && kmfa_metacache_fresh(&s->e, now)) {
		kmfa_debug("%s: the kept %s, fresh for %llds more", url, kind,
		    (long long)(s->e.expires - now));
		goto kept;
	}
	if ((r = kmfa_http_get_conditional(h, url, have ? s->e.etag : NULL,
	    have ? s->e.last_modified : NULL, status, body, &m)) != KMFA_OK)
		goto out;
	if (*status == 304 && have && (s->e.etag != NULL ||
	    s->e.last_modified != NULL)) {
		kmfa_debug("%s: the kept %s is still current (304)", url, kind);
		if ((r = take_304(s, &m, now)) != KMFA_OK)
			goto out;
		goto kept;
	}
	if (*status == 200 && body->len > 0 &&
	    (r = take_answer(s, url, body, &m, now)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
	goto out;
kept:
	kmfa_buf_wipe(body);
	if (kmfa_buf_append(body, s->e.body.data, s->e.body.len) != 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	*status = 200;
	*cached = 1;
	r = KMFA_OK;
out:
	kmfa_http_meta_clear(&m);
	free(path);
	if (r != KMFA_OK) {
		*status = 0;
		kmfa_buf_wipe(body);
	}
	return r;
}

void
kmfa_metacache_drop(struct kmfa_metacache *mc, const char *kind,
    const char *url)
{
	struct kmfa_report_scope sc;
	struct slot *s;
	char *path;

	if (mc == NULL || mc->dir == NULL ||
	    (path = file_path(mc, kind, url)) == NULL)
		return;
	if ((s = find_slot(mc, path)) != NULL) {
		kmfa_metacache_entry_clear(&s->e);
		s->dirty = 0;
	}
	kmfa_report_enter(&sc);
	if (kmfa_file_remove(path) != KMFA_OK)
		kmfa_debug("%s", kmfa_report_cause());
	kmfa_report_leave(&sc);
	free(path);
}

int
kmfa_metacache_save(struct kmfa_metacache *mc)
{
	int r = KMFA_OK, r1;
	char *json = NULL;

	if (mc == NULL || mc->dir == NULL)
		return KMFA_OK;
	for (size_t i = 0; i < mc->n; i++) {
		struct slot *s = &mc->slots[i];

		if (!s->dirty)
			continue;
		if (!s->keep || s->e.url == NULL) {
			/* no-store: not even the copy an earlier answer left. */
			r1 = kmfa_file_remove(s->path);
		} else if ((r1 = kmfa_metacache_encode(&s->e, &json)) ==
		    KMFA_OK && json != NULL) {
			r1 = kmfa_file_write_atomic(s->path, json,
			    strlen(json));
			free(json);
			json = NULL;
		}
		if (r1 != KMFA_OK && r == KMFA_OK)
			r = r1;
		else if (r1 == KMFA_OK)
			s->dirty = 0;
	}
	return r;
}

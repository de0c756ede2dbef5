/*
 * The provider's public documents (the discovery document, the JWKS) kept
 * in the cache folder between runs, so that a refresh costs one request
 * (the token request) instead of three.  Files live in <cache>/oidc/, one
 * per URL and kind, named by the SHA-256 of the URL: private files (0600,
 * ours, regular), read and written with base/file.h like the records.  A
 * file that is damaged, not ours, or readable by others is ignored (a
 * miss) and replaced.
 *
 * Freshness follows the provider's Cache-Control and Age, bounded by
 * oidc/freshness.h; a stale document with an ETag or Last-Modified is
 * revalidated with a conditional GET (304 keeps the body).  Files are
 * written only by kmfa_metacache_save, which the flow calls once a login
 * succeeded: a failed run leaves the folder as it was.
 */
#ifndef KMFA_METACACHE_H
#define KMFA_METACACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "oidc/http.h"

/* A file larger than this is not one this module wrote. */
#define KMFA_METACACHE_FILE_MAX (8 * 1024 * 1024)

struct kmfa_metacache;

/*
 * A cache in <dir>/oidc.  dir NULL: a cache that keeps nothing, every get
 * is a plain request (what setup and logout --all use).
 */
int kmfa_metacache_new(const char *dir, struct kmfa_metacache **out);
void kmfa_metacache_free(struct kmfa_metacache **mp);

/*
 * The document of this kind ("discovery", "jwks") at url, as
 * kmfa_http_request would answer a GET: *status and body.  A fresh copy
 * (from this run or the file) costs no request; a stale one is revalidated
 * when it has validators; refetch skips the copy and asks unconditionally.
 * *cached is 1 when body is the kept copy (fresh, or confirmed by 304;
 * *status is then 200), 0 when it came over the wire just now.
 */
int kmfa_metacache_get(struct kmfa_metacache *mc, struct kmfa_http *h,
    const char *kind, const char *url, int refetch, long *status,
    struct kmfa_buf *body, int *cached);

/* Forget the copy of url: a document this program refuses is not kept. */
void kmfa_metacache_drop(struct kmfa_metacache *mc, const char *kind,
    const char *url);

/* Write what this run fetched or revalidated (atomically, 0600). */
int kmfa_metacache_save(struct kmfa_metacache *mc);

/*
 * The file format, for tests: one JSON object {"v":1, "url", "fetched",
 * "expires", "etag", "last_modified", "cache_control", "body"}.  decode
 * refuses (KMFA_ERR_DAMAGED) anything else, a body over
 * KMFA_HTTP_BODY_MAX, or an expiry more than KMFA_FRESHNESS_MAX after
 * fetched.
 */
struct kmfa_metacache_entry {
	char *url;
	char *etag;		/* NULL: none */
	char *last_modified;	/* NULL: none */
	char *cache_control;	/* NULL: none */
	int64_t fetched;	/* seconds since the epoch */
	int64_t expires;	/* fresh before this */
	struct kmfa_buf body;
};
int kmfa_metacache_encode(const struct kmfa_metacache_entry *e, char **out);
int kmfa_metacache_decode(const char *json, size_t len,
    struct kmfa_metacache_entry *e);
void kmfa_metacache_entry_clear(struct kmfa_metacache_entry *e);

/* Whether e may be used at now without asking: fetched <= now < expires. */
int kmfa_metacache_fresh(const struct kmfa_metacache_entry *e, int64_t now);

#endif

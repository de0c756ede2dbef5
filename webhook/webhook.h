/*
 * kubectl-mfa-webhook: a TokenReview (authentication.k8s.io/v1) webhook for
 * kube-apiserver's --authentication-token-webhook-config-file that accepts
 * only the kmfa-proof1 bundles of lib/key/proof.h: an ID token valid for the
 * configured issuer and audience, with a touch of a security key that the
 * registry names for the token's subject, no older than the session
 * maximum, and a silent assertion by the same credential over this exact
 * token.  One thread serves every request (libmicrohttpd's internal
 * polling thread), so the state below needs no lock.
 */
#ifndef KMFA_WEBHOOK_H
#define KMFA_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "key/credfile.h"
#include "token/config.h"

/* A TokenReview body larger than this is refused unread. */
#define WH_BODY_MAX		(96 * 1024)
/* The registry: one file, or each file of a folder, at most this big. */
#define WH_REGISTRY_FILE_MAX	(1024 * 1024)
#define WH_REGISTRY_FILES_MAX	256
/* Credentials whose counters are remembered; the oldest is forgotten. */
#define WH_SEEN_MAX		4096
/* Accepted silent assertions remembered per credential (re-presentation). */
#define WH_SEEN_ACCEPTED	32
#define WH_CLAIM_MAX		256
/* Decisions remembered under --cache-ttl (a slot per SHA-256 of a bearer). */
#define WH_CACHE_SLOTS		1024

/* One registered credential. */
struct wh_cred {
	char *subject;
	uint8_t *id;
	size_t id_len;
	uint8_t pk[KMFA_ES256_PK_LEN];
	int uv_required;
};

struct wh_registry {
	char *path;		/* a file, or a folder of *.json files */
	uint64_t stamp;		/* what the files looked like when loaded */
	int loaded;
	struct wh_cred *creds;
	size_t ncreds;
};

/* What the counters of one credential were. */
struct wh_seen {
	uint8_t id_hash[32];	/* SHA-256 of the credential id */
	uint32_t max;		/* highest silent-assertion counter accepted */
	struct {
		uint8_t sig_hash[32];
		int64_t exp;
	} acc[WH_SEEN_ACCEPTED];
	int64_t used;		/* last acceptance, for eviction */
};

/* One accepted bearer's answer, as kube-apiserver's own cache keeps it. */
struct wh_decision {
	uint8_t hash[32];	/* SHA-256 of the bearer */
	int64_t until;		/* min(accepted + ttl, the token's exp) */
	char *user;		/* status.user JSON */
	char subject[WH_CLAIM_MAX + 1];	/* for the log */
};

struct wh_conf {
	struct kmfa_config oidc;	/* issuer, client id (audience), CA */
	const char *listen;		/* address, default 127.0.0.1 */
	int port;
	const char *tls_cert, *tls_key;
	const char *registry;
	const char *rp_id;
	int64_t session_max;		/* seconds */
	int64_t leeway;			/* seconds, for nbf, iat, the touch time */
	const char *username_claim, *username_prefix;
	const char *groups_claim, *groups_prefix;
	int64_t cache_ttl;		/* 0: every review verifies */
	const char *run_as;			/* user to drop to when started as root */
};

struct wh_state {
	const struct wh_conf *conf;
	struct wh_registry reg;
	struct kmfa_buf jwks;
	int64_t jwks_at;		/* when it was fetched; 0: never */
	struct wh_seen *seen;		/* WH_SEEN_MAX */
	size_t nseen;
	struct wh_decision *cache;	/* WH_CACHE_SLOTS, or NULL */
};

/* registry.c */
int wh_registry_refresh(struct wh_registry *r);
const struct wh_cred *wh_registry_find(const struct wh_registry *r,
    const char *subject, const uint8_t *id, size_t id_len);
int wh_registry_parse(const char *name, const char *text, size_t len,
    struct wh_cred **creds, size_t *ncreds);
void wh_registry_clear(struct wh_registry *r);

/* review.c */
/*
 * Answer one TokenReview body: *status is the HTTP status, *answer the
 * JSON to send, and why (for the log) says why a token was refused, or
 * names the user.  Never fails but for memory.
 */
int wh_review(struct wh_state *st, const char *body, size_t len,
    int *status, int *authenticated, struct kmfa_buf *answer, char *why,
    size_t whylen);
/* The checks on one bearer token; user info into *answer's status. */
int wh_review_token(struct wh_state *st, const char *token, size_t len,
    struct kmfa_buf *user, char *why, size_t whylen);

/*
 * Log one JSON line to stderr: time, event, subject (may be NULL) and the
 * formatted reason, escaped.  Never a token.
 */
void wh_log(const char *event, const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

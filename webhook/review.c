/*
 * One TokenReview.  The order of the checks is the order of trust: the
 * bearer's shape, the ID token against the issuer's keys (who the token
 * says it is), the registry for that subject (which key may speak for
 * them), then the two assertions against that key's registered public
 * key, the touch's time, and the counters.  Every refusal is
 * `authenticated: false` with one reason, in the log and in status.error;
 * nothing a client sends can make this fail other than by being refused.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/sha256.h"
#include "base/util.h"
#include "jose/jwt.h"
#include "key/proof.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "webhook.h"

#define API_VERSION	"authentication.k8s.io/v1"
/* The issuer's keys are fetched again at most this often. */
#define JWKS_MIN_AGE	10

static int
refuse(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return KMFA_ERR_TOKEN;
}

/* The issuer's JWKS, as kube-apiserver's authenticator keeps it. */
static int
fetch_jwks(struct wh_state *st)
{
	struct kmfa_http *h = NULL;
	struct kmfa_discovery *d = NULL;
	struct kmfa_buf jwks = { 0 };
	int r;

	if ((r = kmfa_http_new(&st->conf->oidc, &h)) != KMFA_OK)
		goto out;
	kmfa_http_set_deadline(h, kmfa_now() + 10);
	if ((r = kmfa_discovery_fetch(h, &st->conf->oidc, &d)) != KMFA_OK ||
	    (r = kmfa_discovery_fetch_jwks(h, d, &jwks)) != KMFA_OK)
		goto out;
	kmfa_buf_wipe(&st->jwks);
	st->jwks = jwks;
	jwks.data = NULL;
	st->jwks_at = kmfa_now();
out:
	kmfa_buf_wipe(&jwks);
	kmfa_discovery_free(&d);
	kmfa_http_free(&h);
	return r;
}

/*
 * kmfa_jwt_verify with the keys held, fetching them first when there are
 * none, and once more when they are older than JWKS_MIN_AGE and the token
 * does not verify (the issuer may have rotated its keys).
 */
static int
verify_jwt(struct wh_state *st, const char *token,
    struct kmfa_jwt_claims **claims, char *why, size_t whylen)
{
	struct kmfa_report_scope sc;
	struct kmfa_jwt_expect want;
	int r = KMFA_ERR_TOKEN;

	want.issuer = st->conf->oidc.issuer;
	want.client_id = st->conf->oidc.client_id;
	want.now = kmfa_now();
	want.leeway = st->conf->leeway;
	for (int attempt = 0; attempt < 2; attempt++) {
		kmfa_report_enter(&sc);
		if (st->jwks.data == NULL ||
		    (attempt == 1 && kmfa_now() - st->jwks_at >= JWKS_MIN_AGE)) {
			if ((r = fetch_jwks(st)) != KMFA_OK) {
				(void)refuse(why, whylen, "the issuer's keys "
				    "are unavailable: %s", kmfa_report_cause() ?
				    kmfa_report_cause() : kmfa_report_reason(r));
				kmfa_report_leave(&sc);
				return r == KMFA_ERR_NOMEM ? r : KMFA_ERR_TOKEN;
			}
		} else if (attempt == 1) {
			kmfa_report_leave(&sc);
			break;
		}
		r = kmfa_jwt_verify(token, st->jwks.data, st->jwks.len, &want,
		    claims);
		if (r != KMFA_OK)
			(void)refuse(why, whylen, "%s", kmfa_report_cause() ?
			    kmfa_report_cause() : kmfa_report_reason(r));
		kmfa_report_leave(&sc);
		if (r != KMFA_ERR_TOKEN)
			break;
	}
	return r;
}

/* The JSON claims of a token already verified. */
static int
payload_of(const char *token, cJSON **out)
{
	const char *a = strchr(token, '.'), *b;
	uint8_t *p = NULL;
	size_t n = 0;
	char why[KMFA_JSON_WHY_MAX];
	int r;

	*out = NULL;
	if (a == NULL || (b = strchr(a + 1, '.')) == NULL)
		return KMFA_ERR_TOKEN;
	if ((r = kmfa_b64url_decode(a + 1, (size_t)(b - a - 1), &p, &n)) !=
	    KMFA_OK)
		return r == KMFA_ERR_NOMEM ? r : KMFA_ERR_TOKEN;
	r = kmfa_json_parse_object((const char *)p, n, KMFA_JWT_MAX, out, why,
	    sizeof(why));
	kmfa_freezero(p, n);
	return r == KMFA_ERR_DAMAGED ? KMFA_ERR_TOKEN : r;
}

/*
 * status.user as structured authentication configures it: the username
 * claim (a non-empty string) with its prefix, the groups claim (a string
 * or an array of strings; absent: none) each with its prefix, uid = sub.
 */
static int
user_info(const struct wh_conf *c, const char *token, const char *sub,
    struct kmfa_buf *u, char *why, size_t whylen)
{
	cJSON *claims = NULL;
	const cJSON *v, *g;
	int r;

	if ((r = payload_of(token, &claims)) != KMFA_OK)
		return r == KMFA_ERR_NOMEM ? r : refuse(why, whylen,
		    "the ID token's claims do not parse");
	r = KMFA_ERR_TOKEN;
	v = cJSON_GetObjectItemCaseSensitive(claims, c->username_claim);
	if (!cJSON_IsString(v) || *v->valuestring == '\0' ||
	    strlen(v->valuestring) > WH_CLAIM_MAX) {
		r = refuse(why, whylen, "the username claim '%s' is not a "
		    "string of 1..%d bytes", c->username_claim, WH_CLAIM_MAX);
		goto out;
	}
	r = KMFA_ERR_NOMEM;
	if (kmfa_buf_printf(u, "{\"username\":") != 0)
		goto out;
	{
		char *name = NULL;

		if (kmfa_asprintf(&name, "%s%s", c->username_prefix,
		    v->valuestring) < 0)
			goto out;
		if (kmfa_buf_json_string(u, name) != 0) {
			free(name);
			goto out;
		}
		free(name);
	}
	if (kmfa_buf_printf(u, ",\"uid\":") != 0 ||
	    kmfa_buf_json_string(u, sub) != 0 ||
	    kmfa_buf_printf(u, ",\"groups\":[") != 0)
		goto out;
	if (c->groups_claim != NULL && (g = cJSON_GetObjectItemCaseSensitive(
	    claims, c->groups_claim)) != NULL) {
		const cJSON *e;
		int first = 1;

		if (!cJSON_IsArray(g) && !cJSON_IsString(g)) {
			r = refuse(why, whylen, "the groups claim '%s' is "
			    "neither a string nor an array", c->groups_claim);
			goto out;
		}
		for (e = cJSON_IsArray(g) ? g->child : g; e != NULL;
		    e = cJSON_IsArray(g) ? e->next : NULL) {
			char *name = NULL;

			if (!cJSON_IsString(e) ||
			    strlen(e->valuestring) > WH_CLAIM_MAX) {
				r = refuse(why, whylen, "a group in '%s' is "
				    "not a string of at most %d bytes",
				    c->groups_claim, WH_CLAIM_MAX);
				goto out;
			}
			r = KMFA_ERR_NOMEM;
			if (kmfa_asprintf(&name, "%s%s", c->groups_prefix,
			    e->valuestring) < 0)
				goto out;
			if ((!first && kmfa_buf_printf(u, ",") != 0) ||
			    kmfa_buf_json_string(u, name) != 0) {
				free(name);
				goto out;
			}
			free(name);
			first = 0;
		}
	}
	r = KMFA_ERR_NOMEM;
	if (kmfa_buf_printf(u, "]}") != 0)
		goto out;
	r = KMFA_OK;
out:
	cJSON_Delete(claims);
	return r;
}

/* The memory of one credential's counters, made when absent. */
static struct wh_seen *
seen_of(struct wh_state *st, const uint8_t *id, size_t id_len, int make)
{
	uint8_t h[32];
	size_t oldest = 0;

	kmfa_sha256(id, id_len, h);
	for (size_t i = 0; i < st->nseen; i++) {
		if (memcmp(st->seen[i].id_hash, h, sizeof(h)) == 0)
			return &st->seen[i];
		if (st->seen[i].used < st->seen[oldest].used)
			oldest = i;
	}
	if (!make)
		return NULL;
	/* Full: forget the credential accepted longest ago. */
	if (st->nseen == WH_SEEN_MAX)
		memset(&st->seen[oldest], 0, sizeof(st->seen[oldest]));
	else
		oldest = st->nseen++;
	memcpy(st->seen[oldest].id_hash, h, sizeof(h));
	return &st->seen[oldest];
}

/*
 * The counter rule for a bundle that passed every other check.  A bundle
 * accepted before (its silent signature remembered) passes again: kubectl
 * presents the same token until it expires.  Any other bundle must carry
 * counters above every one accepted for that credential: a new assertion
 * whose counter is not above the last one is what a cloned key gives.
 * Keys that always report 0 have no counter (WebAuthn §6.1.1).
 */
static int
counters_ok(struct wh_state *st, const struct kmfa_proof *p,
    uint32_t up_count, uint32_t tok_count, int64_t exp, char *why,
    size_t whylen)
{
	struct wh_seen *s;
	uint8_t sh[32];
	int64_t now = kmfa_now();
	size_t slot = 0;

	if (up_count == 0 && tok_count == 0)
		return KMFA_OK;
	if (tok_count <= up_count)
		return refuse(why, whylen, "counter went back: the token's "
		    "assertion (%u) is not after the touch (%u)", tok_count,
		    up_count);
	kmfa_sha256(p->tok.sig, p->tok.sig_len, sh);
	if ((s = seen_of(st, p->cred_id, p->cred_id_len, 0)) != NULL) {
		for (size_t i = 0; i < WH_SEEN_ACCEPTED; i++)
			if (s->acc[i].exp > now &&
			    memcmp(s->acc[i].sig_hash, sh, sizeof(sh)) == 0)
				return KMFA_OK;
		if (up_count <= s->max)
			return refuse(why, whylen, "counter went back: the "
			    "touch's counter %u is not above %u, the last "
			    "accepted for this key", up_count, s->max);
	}
	if (s == NULL && (s = seen_of(st, p->cred_id, p->cred_id_len, 1)) ==
	    NULL)
		return KMFA_ERR_NOMEM;
	for (size_t i = 0; i < WH_SEEN_ACCEPTED; i++)
		if (s->acc[i].exp < s->acc[slot].exp)
			slot = i;
	memcpy(s->acc[slot].sig_hash, sh, sizeof(sh));
	s->acc[slot].exp = exp;
	s->max = tok_count;
	s->used = now;
	return KMFA_OK;
}

/*
 * --cache-ttl: an accepted bearer's answer, for at most the TTL and never
 * past its token's exp, as kube-apiserver's
 * --authentication-token-webhook-cache-ttl keeps it; a registry change is
 * seen after the TTL, as with that cache.  Refusals are not remembered.
 */
static struct wh_decision *
cache_slot(struct wh_state *st, const char *token, size_t len, uint8_t h[32])
{
	kmfa_sha256(token, len, h);
	if (st->cache == NULL)
		return NULL;
	return &st->cache[((size_t)h[0] << 8 | h[1]) % WH_CACHE_SLOTS];
}

int
wh_review_token(struct wh_state *st, const char *token, size_t len,
    struct kmfa_buf *user, char *why, size_t whylen)
{
	struct wh_decision *slot;
	uint8_t th[32];
	const struct wh_conf *c = st->conf;
	struct kmfa_report_scope sc;
	struct kmfa_proof *p = NULL;
	struct kmfa_jwt_claims *claims = NULL;
	const struct wh_cred *cred;
	uint8_t up_cdh[32], tok_cdh[32], up_flags, tok_flags;
	uint32_t up_count, tok_count;
	int64_t now = kmfa_now();
	char sub[WH_CLAIM_MAX + 1];
	int r;

	snprintf(why, whylen, "refused");
	slot = cache_slot(st, token, len, th);
	if (slot != NULL && slot->user != NULL && slot->until > now &&
	    memcmp(slot->hash, th, sizeof(th)) == 0) {
		if (kmfa_buf_printf(user, "%s", slot->user) != 0)
			return KMFA_ERR_NOMEM;
		snprintf(why, whylen, "%s (cached)", slot->subject);
		return KMFA_OK;
	}
	kmfa_report_enter(&sc);
	r = kmfa_proof_parse(token, len, &p);
	if (r == KMFA_ERR_NOTFOUND) {
		r = refuse(why, whylen, "no proof: a bare token, not a kmfa-proof1 "
		    "bundle");
		goto out;
	}
	if (r != KMFA_OK) {
		if (r != KMFA_ERR_NOMEM)
			r = refuse(why, whylen, "malformed bundle: %s",
			    kmfa_report_cause() ? kmfa_report_cause() : "?");
		goto out;
	}
	if ((r = verify_jwt(st, p->id_token, &claims, why, whylen)) != KMFA_OK)
		goto out;
	(void)kmfa_printable(sub, sizeof(sub), claims->sub);
	r = KMFA_ERR_TOKEN;
	if (strcmp(p->ctx_issuer, c->oidc.issuer) != 0 ||
	    strcmp(p->ctx_client_id, c->oidc.client_id) != 0) {
		r = refuse(why, whylen, "the touch was for another issuer or "
		    "client id");
		goto out;
	}
	(void)wh_registry_refresh(&st->reg);
	if ((cred = wh_registry_find(&st->reg, claims->sub, p->cred_id,
	    p->cred_id_len)) == NULL) {
		r = refuse(why, whylen, "the proof's key is not registered for "
		    "subject '%s'", sub);
		goto out;
	}
	kmfa_proof_up_cdh(p->nonce, p->ctx, up_cdh);
	if (kmfa_proof_verify_sig(cred->pk, sizeof(cred->pk), c->rp_id, up_cdh,
	    &p->up, &up_flags, &up_count) != KMFA_OK) {
		r = refuse(why, whylen, "the touch's assertion: %s",
		    kmfa_report_cause() ? kmfa_report_cause() : "?");
		goto out;
	}
	if ((up_flags & KMFA_PROOF_FLAG_UP) == 0) {
		r = refuse(why, whylen, "the touch's assertion has no "
		    "user-present flag");
		goto out;
	}
	if (cred->uv_required && (up_flags & KMFA_PROOF_FLAG_UV) == 0) {
		r = refuse(why, whylen, "the touch's assertion has no "
		    "user-verified flag, which the registration requires");
		goto out;
	}
	if (p->ctx_time > now + c->leeway) {
		r = refuse(why, whylen, "the touch is dated in the future");
		goto out;
	}
	if (now - p->ctx_time > c->session_max) {
		r = refuse(why, whylen, "the touch is older than the session "
		    "maximum (%llds ago, at most %llds)",
		    (long long)(now - p->ctx_time), (long long)c->session_max);
		goto out;
	}
	kmfa_proof_token_cdh(p->id_token, strlen(p->id_token), up_cdh, tok_cdh);
	if (kmfa_proof_verify_sig(cred->pk, sizeof(cred->pk), c->rp_id, tok_cdh,
	    &p->tok, &tok_flags, &tok_count) != KMFA_OK) {
		r = refuse(why, whylen, "the proof does not sign this ID token: "
		    "%s", kmfa_report_cause() ? kmfa_report_cause() : "?");
		goto out;
	}
	if ((r = counters_ok(st, p, up_count, tok_count, claims->exp, why,
	    whylen)) != KMFA_OK)
		goto out;
	if ((r = user_info(c, p->id_token, claims->sub, user, why, whylen)) !=
	    KMFA_OK)
		goto out;
	snprintf(why, whylen, "%s", sub);
	if (slot != NULL && user->data != NULL) {
		free(slot->user);
		if ((slot->user = strdup(user->data)) != NULL) {
			memcpy(slot->hash, th, sizeof(th));
			snprintf(slot->subject, sizeof(slot->subject), "%s",
			    sub);
			slot->until = now + c->cache_ttl < claims->exp ?
			    now + c->cache_ttl : claims->exp;
		}
	}
	r = KMFA_OK;
out:
	kmfa_report_leave(&sc);
	kmfa_jwt_claims_free(&claims);
	kmfa_proof_free(&p);
	return r;
}

static int
answer(struct kmfa_buf *b, const char *user, const char *error)
{
	if (kmfa_buf_printf(b, "{\"apiVersion\":\"%s\",\"kind\":\"TokenReview\","
	    "\"status\":{\"authenticated\":%s", API_VERSION,
	    user != NULL ? "true" : "false") != 0)
		return KMFA_ERR_NOMEM;
	if (user != NULL && kmfa_buf_printf(b, ",\"user\":%s", user) != 0)
		return KMFA_ERR_NOMEM;
	if (error != NULL && (kmfa_buf_printf(b, ",\"error\":") != 0 ||
	    kmfa_buf_json_string(b, error) != 0))
		return KMFA_ERR_NOMEM;
	return kmfa_buf_printf(b, "}}") == 0 ? KMFA_OK : KMFA_ERR_NOMEM;
}

int
wh_review(struct wh_state *st, const char *body, size_t len, int *status,
    int *authenticated, struct kmfa_buf *out, char *why, size_t whylen)
{
	cJSON *doc = NULL;
	const cJSON *v, *spec, *tok;
	struct kmfa_buf user = { 0 };
	char jwhy[KMFA_JSON_WHY_MAX];
	int r;

	*status = 200;
	*authenticated = 0;
	if (len > WH_BODY_MAX) {
		snprintf(why, whylen, "the body is larger than %d bytes",
		    WH_BODY_MAX);
		*status = 413;
		r = answer(out, NULL, why);
		goto out;
	}
	if ((r = kmfa_json_parse_object(body, len, WH_BODY_MAX, &doc, jwhy,
	    sizeof(jwhy))) != KMFA_OK) {
		if (r == KMFA_ERR_NOMEM)
			goto out;
		snprintf(why, whylen, "malformed body: the TokenReview %s",
		    jwhy);
		*status = 400;
		r = answer(out, NULL, why);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "apiVersion");
	spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
	tok = cJSON_GetObjectItemCaseSensitive(spec, "token");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, API_VERSION) != 0 ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "kind")) ||
	    strcmp(cJSON_GetObjectItemCaseSensitive(doc, "kind")->valuestring,
	    "TokenReview") != 0 || !cJSON_IsObject(spec) ||
	    !cJSON_IsString(tok) || *tok->valuestring == '\0') {
		snprintf(why, whylen, "malformed body: not an %s TokenReview "
		    "with spec.token", API_VERSION);
		*status = 400;
		r = answer(out, NULL, why);
		goto out;
	}
	r = wh_review_token(st, tok->valuestring, strlen(tok->valuestring),
	    &user, why, whylen);
	if (r == KMFA_ERR_NOMEM)
		goto out;
	*authenticated = r == KMFA_OK;
	r = answer(out, r == KMFA_OK ? user.data : NULL, r == KMFA_OK ? NULL :
	    why);
out:
	kmfa_buf_wipe(&user);
	cJSON_Delete(doc);
	return r;
}

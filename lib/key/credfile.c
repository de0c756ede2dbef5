/*
 * Reading and writing the credentials file with cJSON.  Parsing is a walk
 * over an explicit list of expected fields with one helper per type, each
 * of which records "FILE: credentials[i].FIELD ..." on failure, so that
 * every rejection tells the user exactly what to fix.  Times are RFC 3339
 * UTC strings so the file stays readable by people.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/seal.h"

/* Where a field lives, for messages: "credentials[1].slot" or "version". */
struct where {
	const char *path;
	long idx;		/* -1: top level */
};

static int
bad(const struct where *w, const char *field, const char *what)
{
	if (w->idx < 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "credentials file %s: %s %s",
		    w->path, field, what);
	return kmfa_fail(KMFA_ERR_CONFIG, "credentials file %s: "
	    "credentials[%ld].%s %s", w->path, w->idx, field, what);
}

static int
get_string(const struct where *w, const cJSON *o, const char *field,
    int optional, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

	*out = NULL;
	if (v == NULL)
		return optional ? KMFA_OK : bad(w, field, "is missing");
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return bad(w, field, "is not a string");
	*out = v->valuestring;
	return KMFA_OK;
}

static int
get_bool(const struct where *w, const cJSON *o, const char *field, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

	if (v == NULL)
		return bad(w, field, "is missing");
	if (!cJSON_IsBool(v))
		return bad(w, field, "is not true or false");
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return KMFA_OK;
}

static int
get_uint(const struct where *w, const cJSON *o, const char *field,
    double max, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);

	if (v == NULL)
		return bad(w, field, "is missing");
	if (!cJSON_IsNumber(v))
		return bad(w, field, "is not a number");
	if (!(v->valuedouble >= 0 && v->valuedouble <= max) ||
	    (double)(uint64_t)v->valuedouble != v->valuedouble)
		return bad(w, field, "is not a whole number in range");
	*out = v->valuedouble;
	return KMFA_OK;
}

static int
get_b64(const struct where *w, const cJSON *o, const char *field,
    int optional, size_t min, size_t max, uint8_t **out, size_t *outlen)
{
	const char *s;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = get_string(w, o, field, optional, &s)) != KMFA_OK || s == NULL)
		return r;
	if ((r = kmfa_b64_decode(s, strlen(s), out, outlen)) == KMFA_ERR_NOMEM)
		return r;
	if (r != KMFA_OK)
		return bad(w, field, "is not valid base64");
	if (*outlen < min || *outlen > max) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		return bad(w, field, "has the wrong length");
	}
	return KMFA_OK;
}

static int
parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* Only what kmfa_rfc3339 writes back (1970 to 9999): a file that
	 * parses must also save (found by fuzzing). */
	if (t < 0 || (int64_t)t > INT64_C(253402300799))
		return -1;
	*out = (int64_t)t;
	return 0;
}

static int
get_time(const struct where *w, const cJSON *o, const char *field,
    int optional, int64_t *out)
{
	const char *s;
	int r;

	*out = 0;
	if ((r = get_string(w, o, field, optional, &s)) != KMFA_OK || s == NULL)
		return r;
	if (parse_time(s, out) != 0)
		return bad(w, field, "is not an RFC 3339 UTC time "
		    "(2026-01-31T12:00:00Z)");
	return KMFA_OK;
}

int
kmfa_credfile_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > KMFA_CRED_NAME_MAX)
		return -1;
	/* Names appear in prompts and tables: no controls, no spaces. */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (!isalnum(*p) && strchr("-_.@+", *p) == NULL)
			return -1;
	return 0;
}

void
kmfa_credfile_cred_clear(struct kmfa_cred *c)
{
	if (c == NULL)
		return;
	free(c->name);
	free(c->rp_id);
	free(c->id);
	free(c->pubkey);
	free(c->slot);
	memset(c, 0, sizeof(*c));
}

static int
parse_cred(const struct where *w, const cJSON *o, struct kmfa_cred *c)
{
	uint8_t *mac = NULL;
	size_t mac_len = 0;
	const char *s;
	double d;
	int r;

	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(o))
		return bad(w, "", "is not an object");
	if ((r = get_string(w, o, "name", 0, &s)) != KMFA_OK)
		return r;
	if (kmfa_credfile_name_valid(s) != 0)
		return bad(w, "name", "is not a valid key name (1 to 64 "
		    "letters, digits, '-', '_', '.', '@' or '+')");
	if ((c->name = strdup(s)) == NULL)
		return KMFA_ERR_NOMEM;
	if ((r = get_string(w, o, "rp_id", 0, &s)) != KMFA_OK)
		return r;
	if (strcmp(s, KMFA_FIDO2_RP_ID) != 0)
		return bad(w, "rp_id", "is not \"" KMFA_FIDO2_RP_ID "\"");
	if ((c->rp_id = strdup(s)) == NULL)
		return KMFA_ERR_NOMEM;
	if ((r = get_b64(w, o, "credential_id", 0, 1, KMFA_CRED_ID_MAX,
	    &c->id, &c->id_len)) != KMFA_OK)
		return r;
	if ((r = get_string(w, o, "cose_type", 0, &s)) != KMFA_OK)
		return r;
	if (strcmp(s, "es256") != 0)
		return bad(w, "cose_type", "is not \"es256\"");
	if ((r = get_b64(w, o, "public_key", 0, KMFA_ES256_PK_LEN,
	    KMFA_ES256_PK_LEN, &c->pubkey, &c->pubkey_len)) != KMFA_OK)
		return r;
	if ((r = get_string(w, o, "uv", 0, &s)) != KMFA_OK)
		return r;
	if (strcmp(s, "required") == 0)
		c->uv_required = 1;
	else if (strcmp(s, "discouraged") == 0)
		c->uv_required = 0;
	else
		return bad(w, "uv", "is not \"required\" or \"discouraged\"");
	if ((r = get_bool(w, o, "pin", &c->pin)) != KMFA_OK ||
	    (r = get_bool(w, o, "hmac_secret", &c->hmac_secret)) != KMFA_OK)
		return r;
	/* A slot without hmac-secret could never open; hmac without one never seals. */
	if ((r = get_b64(w, o, "slot", !c->hmac_secret, 1, 256, &c->slot,
	    &c->slot_len)) != KMFA_OK)
		return r;
	if (!c->hmac_secret && cJSON_GetObjectItemCaseSensitive(o, "slot"))
		return bad(w, "slot", "is present but hmac_secret is false");
	/* Optional: files from before MACs get them at the next touch. */
	if ((r = get_b64(w, o, "mac", 1, KMFA_MAC_LEN, KMFA_MAC_LEN, &mac,
	    &mac_len)) != KMFA_OK)
		return r;
	if (mac != NULL) {
		memcpy(c->mac, mac, KMFA_MAC_LEN);
		c->have_mac = 1;
		free(mac);
	}
	if ((r = get_uint(w, o, "sign_count", (double)UINT32_MAX, &d)) !=
	    KMFA_OK)
		return r;
	c->sign_count = (uint32_t)d;
	if ((r = get_time(w, o, "created", 0, &c->created)) != KMFA_OK ||
	    (r = get_time(w, o, "last_used", 1, &c->last_used)) != KMFA_OK)
		return r;
	return KMFA_OK;
}

static int
new_empty(const char *path, struct kmfa_credfile **out)
{
	struct kmfa_credfile *f;
	int r;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return KMFA_ERR_NOMEM;
	if ((f->path = strdup(path)) == NULL) {
		free(f);
		return KMFA_ERR_NOMEM;
	}
	if ((r = kmfa_seal_random(f->hmac_salt, sizeof(f->hmac_salt))) !=
	    KMFA_OK) {
		kmfa_credfile_free(&f);
		return r;
	}
	*out = f;
	return KMFA_OK;
}

int
kmfa_credfile_parse(const char *path, const char *text, size_t len,
    struct kmfa_credfile **out)
{
	struct kmfa_credfile *f = NULL;
	struct where w = { path, -1 };
	cJSON *doc = NULL;
	const cJSON *arr, *item;
	uint8_t *salt = NULL;
	size_t salt_len = 0, n;
	double version;
	char why[KMFA_JSON_WHY_MAX];
	int r = KMFA_ERR_CONFIG;

	*out = NULL;
	if ((r = new_empty(path, &f)) != KMFA_OK)
		goto out;
	/* A field given twice could hide a second key or policy. */
	if ((r = kmfa_json_parse_object(text, len, KMFA_CREDFILE_MAX, &doc,
	    why, sizeof(why))) != KMFA_OK) {
		if (r == KMFA_ERR_DAMAGED)
			r = kmfa_fail(KMFA_ERR_CONFIG, "credentials file %s %s",
			    path, why);
		goto out;
	}
	r = KMFA_ERR_CONFIG;
	if ((r = get_uint(&w, doc, "version", 1e6, &version)) != KMFA_OK)
		goto out;
	if (version != KMFA_CREDFILE_VERSION) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "credentials file %s has "
		    "version %.0f; this kubectl-mfa reads version %d only",
		    path, version, KMFA_CREDFILE_VERSION);
		goto out;
	}
	if ((r = get_b64(&w, doc, "hmac_salt", 0, KMFA_HMAC_SALT_LEN,
	    KMFA_HMAC_SALT_LEN, &salt, &salt_len)) != KMFA_OK)
		goto out;
	memcpy(f->hmac_salt, salt, KMFA_HMAC_SALT_LEN);
	if (cJSON_GetObjectItemCaseSensitive(doc, "rekey_pending") != NULL &&
	    (r = get_bool(&w, doc, "rekey_pending", &f->rekey_pending)) !=
	    KMFA_OK)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(doc, "credentials");
	if (arr == NULL) {
		r = bad(&w, "credentials", "is missing");
		goto out;
	}
	if (!cJSON_IsArray(arr)) {
		r = bad(&w, "credentials", "is not an array");
		goto out;
	}
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > 0 && (f->creds = calloc(n, sizeof(*f->creds))) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	w.idx = 0;
	cJSON_ArrayForEach(item, arr) {
		struct kmfa_cred *c = &f->creds[f->ncreds];

		r = parse_cred(&w, item, c);
		f->ncreds++;	/* counted even on failure: free clears it */
		if (r != KMFA_OK)
			goto out;
		for (size_t i = 0; i + 1 < f->ncreds; i++) {
			if (strcmp(f->creds[i].name, c->name) == 0) {
				r = bad(&w, "name", "repeats an earlier name");
				goto out;
			}
			if (f->creds[i].id_len == c->id_len &&
			    memcmp(f->creds[i].id, c->id, c->id_len) == 0) {
				r = bad(&w, "credential_id", "repeats an "
				    "earlier credential");
				goto out;
			}
		}
		w.idx++;
	}
	*out = f;
	f = NULL;	/* transferred */
	r = KMFA_OK;
out:
	free(salt);
	cJSON_Delete(doc);
	kmfa_credfile_free(&f);
	return r;
}

int
kmfa_credfile_load(const char *path, struct kmfa_credfile **out)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	r = kmfa_file_read_private(path, KMFA_CREDFILE_MAX, &text, &len);
	if (r == KMFA_ERR_NOTFOUND)
		return new_empty(path, out);
	if (r != KMFA_OK)
		return r;
	r = kmfa_credfile_parse(path, text, len, out);
	kmfa_freezero(text, len);
	return r;
}

static int
add_b64(cJSON *o, const char *field, const uint8_t *p, size_t n)
{
	char *s = NULL;
	int r;

	if ((r = kmfa_b64_encode(p, n, &s)) != KMFA_OK)
		return r;
	r = cJSON_AddStringToObject(o, field, s) != NULL ? KMFA_OK :
	    KMFA_ERR_NOMEM;
	free(s);
	return r;
}

static int
add_time(cJSON *o, const char *field, int64_t t)
{
	char buf[21];

	if (kmfa_rfc3339(t, buf) != 0)
		return KMFA_ERR_INTERNAL;
	return cJSON_AddStringToObject(o, field, buf) != NULL ? KMFA_OK :
	    KMFA_ERR_NOMEM;
}

int
kmfa_credfile_format(const struct kmfa_credfile *f, char **out)
{
	cJSON *doc = NULL, *arr, *o;
	char *s = NULL;
	int r = KMFA_ERR_NOMEM;

	*out = NULL;
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(doc, "version", KMFA_CREDFILE_VERSION) ==
	    NULL)
		goto out;
	if ((r = add_b64(doc, "hmac_salt", f->hmac_salt,
	    sizeof(f->hmac_salt))) != KMFA_OK)
		goto out;
	r = KMFA_ERR_NOMEM;
	if (f->rekey_pending &&
	    cJSON_AddBoolToObject(doc, "rekey_pending", 1) == NULL)
		goto out;
	if ((arr = cJSON_AddArrayToObject(doc, "credentials")) == NULL)
		goto out;
	for (size_t i = 0; i < f->ncreds; i++) {
		const struct kmfa_cred *c = &f->creds[i];

		r = KMFA_ERR_NOMEM;
		if ((o = cJSON_CreateObject()) == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
		if (cJSON_AddStringToObject(o, "name", c->name) == NULL ||
		    cJSON_AddStringToObject(o, "rp_id", c->rp_id) == NULL)
			goto out;
		if ((r = add_b64(o, "credential_id", c->id, c->id_len)) !=
		    KMFA_OK)
			goto out;
		r = KMFA_ERR_NOMEM;
		if (cJSON_AddStringToObject(o, "cose_type", "es256") == NULL)
			goto out;
		if ((r = add_b64(o, "public_key", c->pubkey, c->pubkey_len)) !=
		    KMFA_OK)
			goto out;
		r = KMFA_ERR_NOMEM;
		if (cJSON_AddStringToObject(o, "uv", c->uv_required ?
		    "required" : "discouraged") == NULL ||
		    cJSON_AddBoolToObject(o, "pin", c->pin) == NULL ||
		    cJSON_AddBoolToObject(o, "hmac_secret", c->hmac_secret) ==
		    NULL)
			goto out;
		if (c->slot != NULL &&
		    (r = add_b64(o, "slot", c->slot, c->slot_len)) != KMFA_OK)
			goto out;
		if (c->have_mac &&
		    (r = add_b64(o, "mac", c->mac, sizeof(c->mac))) != KMFA_OK)
			goto out;
		r = KMFA_ERR_NOMEM;
		if (cJSON_AddNumberToObject(o, "sign_count",
		    (double)c->sign_count) == NULL)
			goto out;
		if ((r = add_time(o, "created", c->created)) != KMFA_OK)
			goto out;
		if (c->last_used != 0 &&
		    (r = add_time(o, "last_used", c->last_used)) != KMFA_OK)
			goto out;
	}
	r = KMFA_ERR_NOMEM;
	if ((s = cJSON_Print(doc)) == NULL)
		goto out;
	*out = s;
	s = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	free(s);
	return r;
}

int
kmfa_credfile_save(const struct kmfa_credfile *f)
{
	char *text = NULL;
	int r;

	if ((r = kmfa_credfile_format(f, &text)) != KMFA_OK)
		return r;
	r = kmfa_file_write_atomic(f->path, text, strlen(text));
	free(text);
	return r;
}

void
kmfa_credfile_free(struct kmfa_credfile **fp)
{
	struct kmfa_credfile *f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	for (size_t i = 0; i < f->ncreds; i++)
		kmfa_credfile_cred_clear(&f->creds[i]);
	free(f->creds);
	free(f->path);
	explicit_bzero(f, sizeof(*f));
	free(f);
	*fp = NULL;
}

struct kmfa_cred *
kmfa_credfile_find(const struct kmfa_credfile *f, const char *name)
{
	for (size_t i = 0; i < f->ncreds; i++)
		if (strcmp(f->creds[i].name, name) == 0)
			return &f->creds[i];
	return NULL;
}

struct kmfa_cred *
kmfa_credfile_find_id(const struct kmfa_credfile *f, const uint8_t *id,
    size_t id_len)
{
	for (size_t i = 0; i < f->ncreds; i++)
		if (f->creds[i].id_len == id_len &&
		    memcmp(f->creds[i].id, id, id_len) == 0)
			return &f->creds[i];
	return NULL;
}

int
kmfa_credfile_add(struct kmfa_credfile *f, struct kmfa_cred *c)
{
	struct kmfa_cred *n;

	if (c->name == NULL || kmfa_credfile_name_valid(c->name) != 0)
		return kmfa_fail(KMFA_ERR_USAGE, "'%s' is not a valid key name "
		    "(1 to 64 letters, digits, '-', '_', '.', '@' or '+')",
		    c->name != NULL ? c->name : "");
	if (kmfa_credfile_find(f, c->name) != NULL)
		return kmfa_fail(KMFA_ERR_USAGE, "a key named '%s' is already "
		    "enrolled; choose another --name", c->name);
	if (c->id == NULL || c->id_len == 0 || c->id_len > KMFA_CRED_ID_MAX ||
	    c->pubkey_len != KMFA_ES256_PK_LEN || c->rp_id == NULL ||
	    (c->hmac_secret != 0) != (c->slot != NULL))
		return kmfa_fail(KMFA_ERR_INTERNAL, "incomplete credential "
		    "record for '%s'", c->name);
	if (kmfa_credfile_find_id(f, c->id, c->id_len) != NULL)
		return kmfa_fail(KMFA_ERR_USAGE, "this credential is already "
		    "enrolled");
	if ((n = reallocarray(f->creds, f->ncreds + 1, sizeof(*n))) == NULL)
		return KMFA_ERR_NOMEM;
	f->creds = n;
	f->creds[f->ncreds++] = *c;
	memset(c, 0, sizeof(*c));	/* transferred */
	return KMFA_OK;
}

int
kmfa_credfile_remove(struct kmfa_credfile *f, const char *name)
{
	struct kmfa_cred *c;
	size_t i;

	if ((c = kmfa_credfile_find(f, name)) == NULL)
		return KMFA_ERR_NOTFOUND;
	i = (size_t)(c - f->creds);
	kmfa_credfile_cred_clear(c);
	memmove(&f->creds[i], &f->creds[i + 1],
	    (f->ncreds - i - 1) * sizeof(*c));
	f->ncreds--;
	return KMFA_OK;
}

/* Append a 4-byte big-endian length and the bytes: no field can run into the next. */
static int
put_field(struct kmfa_buf *b, const void *p, size_t n)
{
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
	    (uint8_t)(n >> 8), (uint8_t)n };

	if (n > UINT32_MAX || kmfa_buf_append(b, len, sizeof(len)) != 0 ||
	    (n > 0 && kmfa_buf_append(b, p, n) != 0))
		return KMFA_ERR_NOMEM;
	return KMFA_OK;
}

int
kmfa_credfile_mac(const struct kmfa_cred *c, const uint8_t mk[KMFA_MK_LEN],
    uint8_t mac[KMFA_MAC_LEN])
{
	static const char tag[] = "kubectl-mfa credential v1";
	struct kmfa_buf b = { 0 };
	uint8_t flags[3] = { (uint8_t)(c->uv_required != 0),
	    (uint8_t)(c->pin != 0), (uint8_t)(c->hmac_secret != 0) };
	int r;

	if ((r = put_field(&b, tag, sizeof(tag) - 1)) != KMFA_OK ||
	    (r = put_field(&b, c->rp_id, strlen(c->rp_id))) != KMFA_OK ||
	    (r = put_field(&b, c->id, c->id_len)) != KMFA_OK ||
	    (r = put_field(&b, c->pubkey, c->pubkey_len)) != KMFA_OK ||
	    (r = put_field(&b, flags, sizeof(flags))) != KMFA_OK ||
	    (r = put_field(&b, c->slot, c->slot != NULL ? c->slot_len : 0)) !=
	    KMFA_OK)
		goto out;
	r = kmfa_seal_mac(mk, (const uint8_t *)b.data, b.len, mac);
out:
	kmfa_buf_wipe(&b);
	return r;
}

int
kmfa_credfile_mac_verify(const struct kmfa_credfile *f,
    const uint8_t mk[KMFA_MK_LEN], size_t *nmissing)
{
	uint8_t mac[KMFA_MAC_LEN];
	size_t have = 0;
	int r;

	*nmissing = 0;
	for (size_t i = 0; i < f->ncreds; i++)
		if (f->creds[i].have_mac)
			have++;
	for (size_t i = 0; i < f->ncreds; i++) {
		const struct kmfa_cred *c = &f->creds[i];

		if (!c->have_mac) {
			(*nmissing)++;
			if (have == 0)
				continue;	/* a file from before MACs */
			return kmfa_fail(KMFA_ERR_FIDO2, "credentials file %s: "
			    "key '%s' has no MAC under the master key while "
			    "the others have one (added by editing the file?); "
			    "refusing it", f->path, c->name);
		}
		if ((r = kmfa_credfile_mac(c, mk, mac)) != KMFA_OK)
			return r;
		if (CRYPTO_memcmp(mac, c->mac, sizeof(mac)) != 0)
			return kmfa_fail(KMFA_ERR_FIDO2, "credentials file %s: "
			    "key '%s' fails its MAC under the master key (the "
			    "file was edited); refusing it", f->path, c->name);
	}
	return KMFA_OK;
}

int
kmfa_credfile_mac_adopt(struct kmfa_credfile *fresh,
    const struct kmfa_credfile *mine, const uint8_t mk[KMFA_MK_LEN],
    size_t *nadded)
{
	uint8_t m1[KMFA_MAC_LEN], m2[KMFA_MAC_LEN];
	int r = KMFA_OK;

	*nadded = 0;
	for (size_t i = 0; i < fresh->ncreds; i++) {
		struct kmfa_cred *c = &fresh->creds[i];
		const struct kmfa_cred *m;

		if (c->have_mac ||
		    (m = kmfa_credfile_find_id(mine, c->id, c->id_len)) == NULL)
			continue;
		if ((r = kmfa_credfile_mac(c, mk, m1)) != KMFA_OK ||
		    (r = kmfa_credfile_mac(m, mk, m2)) != KMFA_OK)
			break;
		if (CRYPTO_memcmp(m1, m2, sizeof(m1)) != 0)
			continue;	/* changed since it was checked */
		memcpy(c->mac, m1, sizeof(m1));
		c->have_mac = 1;
		(*nadded)++;
	}
	OPENSSL_cleanse(m1, sizeof(m1));
	OPENSSL_cleanse(m2, sizeof(m2));
	return r;
}

int
kmfa_credfile_rekey(struct kmfa_credfile *f, const uint8_t mk[KMFA_MK_LEN],
    char **dropped, size_t *ndropped)
{
	struct kmfa_buf names = { 0 };
	int r = KMFA_ERR_INTERNAL;

	*dropped = NULL;
	*ndropped = 0;
	for (size_t i = 0; i < f->ncreds; i++) {
		struct kmfa_cred *c = &f->creds[i];
		uint8_t *slot = NULL;
		size_t slot_len = 0;

		if (c->slot == NULL)
			continue;
		r = kmfa_seal_slot_rewrap(c->slot, c->slot_len, c->id,
		    c->id_len, mk, &slot, &slot_len);
		if (r == KMFA_ERR_NOTFOUND) {
			if (kmfa_buf_printf(&names, "%s'%s'", *ndropped > 0 ?
			    ", " : "", c->name) != 0) {
				r = KMFA_ERR_NOMEM;
				goto out;
			}
			(*ndropped)++;
			c->hmac_secret = 0;
		} else if (r != KMFA_OK)
			goto out;
		free(c->slot);
		c->slot = slot;	/* transferred; NULL when dropped */
		c->slot_len = slot_len;
	}
	for (size_t i = 0; i < f->ncreds; i++) {
		if ((r = kmfa_credfile_mac(&f->creds[i], mk,
		    f->creds[i].mac)) != KMFA_OK)
			goto out;
		f->creds[i].have_mac = 1;
	}
	f->rekey_pending = 0;
	*dropped = names.data;
	names.data = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&names);
	if (r != KMFA_OK)
		*ndropped = 0;
	return r;
}

size_t
kmfa_credfile_nslots(const struct kmfa_credfile *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->ncreds; i++)
		if (f->creds[i].slot != NULL)
			n++;
	return n;
}

int
kmfa_credfile_default_name(const struct kmfa_credfile *f, char **out)
{
	*out = NULL;
	for (unsigned i = 1; i <= f->ncreds + 1; i++) {
		char name[32];

		if (snprintf(name, sizeof(name), "key-%u", i) < 0)
			return KMFA_ERR_INTERNAL;
		if (kmfa_credfile_find(f, name) == NULL) {
			if ((*out = strdup(name)) == NULL)
				return KMFA_ERR_NOMEM;
			return KMFA_OK;
		}
	}
	return KMFA_ERR_INTERNAL;	/* pigeonhole: unreachable */
}

/* The same bounded flock as the cache lock, on "<path>.lock". */
int
kmfa_credfile_lock(const char *path, int64_t wait_ms,
    struct kmfa_file_lock **out)
{
	char *lpath = NULL;
	int r;

	*out = NULL;
	if (kmfa_asprintf(&lpath, "%s.lock", path) < 0)
		return KMFA_ERR_NOMEM;
	r = kmfa_file_lock(lpath, wait_ms, NULL, out);
	free(lpath);
	return r;
}

int
kmfa_credfile_update(const char *path, int64_t wait_ms,
    int (*apply)(struct kmfa_credfile *fresh, void *arg), void *arg)
{
	struct kmfa_file_lock *l = NULL;
	struct kmfa_credfile *f = NULL;
	int r;

	if ((r = kmfa_credfile_lock(path, wait_ms, &l)) != KMFA_OK)
		goto out;
	if ((r = kmfa_credfile_load(path, &f)) != KMFA_OK)
		goto out;
	if ((r = apply(f, arg)) == KMFA_ERR_NOTFOUND) {
		r = KMFA_OK;
		goto out;
	}
	if (r != KMFA_OK)
		goto out;
	r = kmfa_credfile_save(f);
out:
	kmfa_credfile_free(&f);
	kmfa_file_unlock(&l);	/* after the save: the rename is inside */
	return r;
}

void
kmfa_credfile_merge_use(struct kmfa_credfile *fresh,
    const struct kmfa_credfile *mine)
{
	for (size_t i = 0; i < mine->ncreds; i++) {
		const struct kmfa_cred *m = &mine->creds[i];
		struct kmfa_cred *c;

		if ((c = kmfa_credfile_find_id(fresh, m->id, m->id_len)) ==
		    NULL)
			continue;	/* removed meanwhile: stays removed */
		if (m->sign_count > c->sign_count)
			c->sign_count = m->sign_count;
		if (m->last_used > c->last_used)
			c->last_used = m->last_used;
	}
}

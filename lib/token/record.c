/*
 * Cache record encoding.  cJSON is used for both directions; its allocator
 * hooks (json.c) wipe every block on free, so tokens parsed or printed
 * through it do not linger in freed heap.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/report.h"
#include "token/record.h"

static int
add_str(cJSON *o, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	return cJSON_AddStringToObject(o, k, v) == NULL ? -1 : 0;
}

static int
add_num(cJSON *o, const char *k, int64_t v)
{
	return cJSON_AddNumberToObject(o, k, (double)v) == NULL ? -1 : 0;
}

int
kmfa_record_encode(const struct kmfa_record *rec, int with_refresh, char **out)
{
	cJSON *o = NULL;
	char *s = NULL;
	int r = KMFA_ERR_NOMEM;

	*out = NULL;
	if ((o = cJSON_CreateObject()) == NULL ||
	    add_num(o, "version", KMFA_RECORD_VERSION) != 0 ||
	    add_str(o, "identity", rec->identity) != 0 ||
	    add_str(o, "issuer", rec->issuer) != 0 ||
	    add_str(o, "client_id", rec->client_id) != 0 ||
	    add_str(o, "subject", rec->subject) != 0 ||
	    add_str(o, "token", rec->token) != 0 ||
	    add_num(o, "token_exp", rec->token_exp) != 0 ||
	    add_num(o, "obtained_at", rec->obtained_at) != 0 ||
	    add_num(o, "touched_at", rec->touched_at) != 0 ||
	    add_str(o, "key_name", rec->key_name) != 0)
		goto out;
	if (with_refresh && rec->refresh != NULL &&
	    (add_str(o, "refresh", rec->refresh) != 0 ||
	    cJSON_AddBoolToObject(o, "refresh_sealed",
	    rec->refresh_sealed != 0) == NULL))
		goto out;
	if ((s = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	*out = s;
	s = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(o);
	return r;
}

static int
get_str(const cJSON *o, const char *k, int required, char **dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (v == NULL || cJSON_IsNull(v))
		return required ? -1 : 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return -1;
	return (*dst = strdup(v->valuestring)) == NULL ? -1 : 0;
}

static int
get_num(const cJSON *o, const char *k, int64_t *dst)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (v == NULL) {
		*dst = 0;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > (double)KMFA_RECORD_TIME_MAX)
		return -1;
	*dst = (int64_t)v->valuedouble;
	return 0;
}

int
kmfa_record_decode(const char *json, size_t len, struct kmfa_record **out)
{
	cJSON *o = NULL;
	const cJSON *v;
	struct kmfa_record *rec = NULL;
	int r = KMFA_ERR_CONFIG;

	*out = NULL;
	if (len > KMFA_RECORD_MAX)
		goto out;
	if ((o = cJSON_ParseWithLength(json, len)) == NULL ||
	    !cJSON_IsObject(o))
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(o, "version");
	if (!cJSON_IsNumber(v) || v->valuedouble != KMFA_RECORD_VERSION)
		goto out;
	if ((rec = kmfa_record_new()) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (get_str(o, "identity", 1, &rec->identity) != 0 ||
	    get_str(o, "issuer", 0, &rec->issuer) != 0 ||
	    get_str(o, "client_id", 0, &rec->client_id) != 0 ||
	    get_str(o, "subject", 0, &rec->subject) != 0 ||
	    get_str(o, "token", 1, &rec->token) != 0 ||
	    get_num(o, "token_exp", &rec->token_exp) != 0 ||
	    get_num(o, "obtained_at", &rec->obtained_at) != 0 ||
	    get_num(o, "touched_at", &rec->touched_at) != 0 ||
	    get_str(o, "key_name", 0, &rec->key_name) != 0 ||
	    get_str(o, "refresh", 0, &rec->refresh) != 0)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(o, "refresh_sealed");
	if (v != NULL && !cJSON_IsBool(v))
		goto out;
	rec->refresh_sealed = cJSON_IsTrue(v);
	*out = rec;
	rec = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_record_free(&rec);
	cJSON_Delete(o);
	return r;
}

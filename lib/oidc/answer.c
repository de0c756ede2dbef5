/*
 * The getters over an IdP's answer.  Member lookup is case-sensitive
 * (cJSON_GetObjectItem is not) and needs no duplicate check of its own:
 * the strict gate refused any object with a member twice.
 */
#include <math.h>	/* isnan, a macro: no libm */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "oidc/answer.h"
#include "oidc/http.h"

int
kmfa_answer_parse(const char *json, size_t len, const char *what,
    cJSON **out)
{
	char why[KMFA_JSON_WHY_MAX];
	int r;

	r = kmfa_json_parse_object(json, len, KMFA_HTTP_BODY_MAX, out, why,
	    sizeof(why));
	if (r == KMFA_ERR_DAMAGED)
		r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer %s", what, why);
	return r;
}

int
kmfa_answer_string(const cJSON *obj, const char *name, const char *what,
    int required, char **out)
{
	int r = KMFA_ERR_IDP;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (it == NULL || cJSON_IsNull(it)) {
		if (required) {
			r = kmfa_fail(KMFA_ERR_IDP, "%s: the answer has no "
			    "`%s`", what, name);
			goto out;
		}
		r = KMFA_OK;
		goto out;
	}
	if (!cJSON_IsString(it) || it->valuestring == NULL) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is not a string", what,
		    name);
		goto out;
	}
	if (it->valuestring[0] == '\0') {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is empty", what, name);
		goto out;
	}
	if ((*out = strdup(it->valuestring)) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = KMFA_OK;
out:
	return r;
}

int
kmfa_answer_number(const cJSON *obj, const char *name, const char *what,
    double *v, int *present)
{
	int r = KMFA_ERR_IDP;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	*v = 0;
	*present = 0;
	if (it == NULL || cJSON_IsNull(it)) {
		r = KMFA_OK;
		goto out;
	}
	/* cJSON turns 1e999 into infinity; NaN cannot be written in JSON. */
	if (!cJSON_IsNumber(it) || isnan(it->valuedouble)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is not a number", what,
		    name);
		goto out;
	}
	*v = it->valuedouble;
	*present = 1;
	r = KMFA_OK;
out:
	return r;
}

int
kmfa_answer_strings(const cJSON *obj, const char *name, const char *what,
    char ***out, size_t *nout)
{
	int r = KMFA_ERR_IDP;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name), *it;
	char **list = NULL;
	size_t n = 0, i = 0;

	*out = NULL;
	*nout = 0;
	if (arr == NULL || cJSON_IsNull(arr)) {
		r = KMFA_OK;
		goto out;
	}
	if (!cJSON_IsArray(arr)) {
		r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` is not an array", what,
		    name);
		goto out;
	}
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || it->valuestring == NULL) {
			r = kmfa_fail(KMFA_ERR_IDP, "%s: `%s` holds something "
			    "other than a string", what, name);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		r = KMFA_OK;
		goto out;
	}
	if ((list = calloc(n, sizeof(*list))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, arr) {
		if ((list[i++] = strdup(it->valuestring)) == NULL) {
			r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = list;
	*nout = n;
	list = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_answer_strings_free(&list, &n);
	return r;
}

void
kmfa_answer_strings_free(char ***listp, size_t *np)
{
	if (*listp != NULL)
		for (size_t i = 0; i < *np; i++)
			free((*listp)[i]);
	free(*listp);
	*listp = NULL;
	*np = 0;
}

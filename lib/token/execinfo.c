/*
 * KUBERNETES_EXEC_INFO read in full by the full program, with cJSON, and
 * every way it can be wrong reported.  The front's quick reading and the
 * ExecCredential answer are in execcred.c.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/report.h"
#include "token/execinfo.h"

int
kmfa_execinfo_parse(const char *env, struct kmfa_execinfo *out)
{
	cJSON *doc = NULL;
	const cJSON *v, *spec;
	int r = KMFA_ERR_CONFIG;

	out->api = KMFA_API_V1BETA1;
	out->interactive = -1;
	if (env == NULL || env[0] == '\0')
		return KMFA_OK;
	if (strlen(env) > 64 * 1024) {
		r = kmfa_fail(KMFA_ERR_CONFIG,
		    "KUBERNETES_EXEC_INFO is larger than 64 KiB");
		goto out;
	}
	/* require_null_terminated: nothing may follow the object. */
	if ((doc = cJSON_ParseWithOpts(env, NULL, 1)) == NULL ||
	    !cJSON_IsObject(doc)) {
		r = kmfa_fail(KMFA_ERR_CONFIG,
		    "KUBERNETES_EXEC_INFO is not a JSON object");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "apiVersion");
	if (!cJSON_IsString(v)) {
		r = kmfa_fail(KMFA_ERR_CONFIG,
		    "KUBERNETES_EXEC_INFO has no apiVersion");
		goto out;
	}
	if (strcmp(v->valuestring, KMFA_APIVERSION_V1) == 0) {
		out->api = KMFA_API_V1;
	} else if (strcmp(v->valuestring, KMFA_APIVERSION_V1BETA1) == 0) {
		out->api = KMFA_API_V1BETA1;
	} else {
		r = kmfa_fail(KMFA_ERR_CONFIG, "unsupported exec credential "
		    "apiVersion '%.80s' (use %s or %s)", v->valuestring,
		    KMFA_APIVERSION_V1, KMFA_APIVERSION_V1BETA1);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, "kind");
	if (v != NULL && (!cJSON_IsString(v) ||
	    strcmp(v->valuestring, "ExecCredential") != 0)) {
		r = kmfa_fail(KMFA_ERR_CONFIG,
		    "KUBERNETES_EXEC_INFO kind is not ExecCredential");
		goto out;
	}
	spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
	if (spec != NULL && cJSON_IsObject(spec)) {
		v = cJSON_GetObjectItemCaseSensitive(spec, "interactive");
		if (cJSON_IsBool(v))
			out->interactive = cJSON_IsTrue(v) ? 1 : 0;
	}
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	return r;
}

/*
 * KUBERNETES_EXEC_INFO read in full by the full program, with cJSON, and
 * every way it can be wrong reported.  The front's quick reading and the
 * ExecCredential answer are in execcred.c.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "token/execinfo.h"

/*
 * The cluster's exec extension, located by the front's reader
 * (kmfa_execcred_peek), so that both programs merge the same bytes: a
 * document the two readers could take differently (a repeated member on
 * the way to it) is refused, never read one way here and another there.
 */
static int
cluster_config(const char *env, const cJSON *cluster,
    struct kmfa_execinfo *out)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(cluster,
	    "config");
	struct kmfa_execinfo peek;

	if (config == NULL || cJSON_IsNull(config))
		return KMFA_OK;
	if (!cJSON_IsObject(config))
		return kmfa_fail(KMFA_ERR_CONFIG, "the cluster's exec extension "
		    "(spec.cluster.config in KUBERNETES_EXEC_INFO) is not an "
		    "object of options");
	if (kmfa_execcred_peek(env, &peek) != KMFA_OK || peek.cluster == NULL)
		return kmfa_fail(KMFA_ERR_CONFIG, "KUBERNETES_EXEC_INFO holds "
		    "the cluster's exec extension in a form that cannot be read "
		    "without doubt (a repeated member?)");
	out->cluster = peek.cluster;
	out->cluster_len = peek.cluster_len;
	return KMFA_OK;
}

int
kmfa_execinfo_parse(const char *env, struct kmfa_execinfo *out)
{
	cJSON *doc = NULL;
	const cJSON *v, *spec;
	char why[KMFA_JSON_WHY_MAX];
	int r = KMFA_ERR_CONFIG;

	out->api = KMFA_API_V1BETA1;
	out->interactive = -1;
	out->cluster = NULL;
	out->cluster_len = 0;
	if (env == NULL || env[0] == '\0')
		return KMFA_OK;
	if (strlen(env) > 64 * 1024) {
		r = kmfa_fail(KMFA_ERR_CONFIG,
		    "KUBERNETES_EXEC_INFO is larger than 64 KiB");
		goto out;
	}
	if ((r = kmfa_json_parse_object(env, strlen(env), 64 * 1024, &doc,
	    why, sizeof(why))) != KMFA_OK) {
		if (r == KMFA_ERR_DAMAGED) {
			/* One message, as ever; the detail for -v. */
			kmfa_debug("KUBERNETES_EXEC_INFO %s", why);
			r = kmfa_fail(KMFA_ERR_CONFIG,
			    "KUBERNETES_EXEC_INFO is not a JSON object");
		}
		goto out;
	}
	r = KMFA_ERR_CONFIG;
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
		v = cJSON_GetObjectItemCaseSensitive(spec, "cluster");
		if (cJSON_IsObject(v) && (r = cluster_config(env, v, out)) !=
		    KMFA_OK)
			goto out;
	}
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	return r;
}

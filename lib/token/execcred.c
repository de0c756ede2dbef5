/*
 * The libc-only half of the exec credential protocol (execcred.h), for the
 * front: a quick, strict reading of KUBERNETES_EXEC_INFO that only ever
 * says yes or "ask the full program", and the ExecCredential answer.  The
 * answer is written by hand rather than through cJSON's printer so that the
 * token is copied into exactly one buffer that we own and wipe.
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/minijson.h"
#include "token/execcred.h"

const char *
kmfa_execcred_api_version(enum kmfa_api_version api)
{
	return api == KMFA_API_V1 ? KMFA_APIVERSION_V1 :
	    KMFA_APIVERSION_V1BETA1;
}

int
kmfa_execcred_peek(const char *env, struct kmfa_execinfo *out)
{
	struct kmfa_minijson_field f[] = {
		{ .path = { "apiVersion" } },
		{ .path = { "kind" } },
		{ .path = { "spec", "interactive" } },
		{ .path = { "spec", "cluster", "config" } },
	};
	char api[64], kind[sizeof("ExecCredential")];
	size_t len;
	int interactive;

	out->api = KMFA_API_V1BETA1;
	out->interactive = -1;
	out->cluster = NULL;
	out->cluster_len = 0;
	/* Older clients set no variable: v1beta1, as kmfa_execinfo_parse. */
	if (env == NULL || env[0] == '\0')
		return KMFA_OK;
	if ((len = strlen(env)) > 64 * 1024 ||
	    kmfa_minijson_scan(env, len, f, sizeof(f) / sizeof(f[0])) != 0 ||
	    kmfa_minijson_string_buf(&f[0], api, sizeof(api), NULL) != 0)
		return KMFA_ERR_NOTFOUND;
	if (strcmp(api, KMFA_APIVERSION_V1) == 0)
		out->api = KMFA_API_V1;
	else if (strcmp(api, KMFA_APIVERSION_V1BETA1) != 0)
		return KMFA_ERR_NOTFOUND;
	if (f[1].type != KMFA_MINIJSON_ABSENT &&
	    (kmfa_minijson_string_buf(&f[1], kind, sizeof(kind), NULL) != 0 ||
	    strcmp(kind, "ExecCredential") != 0))
		return KMFA_ERR_NOTFOUND;
	/* Like the full reading, an interactive that is not a boolean is
	 * ignored rather than refused. */
	if (kmfa_minijson_bool(&f[2], &interactive) == 0)
		out->interactive = interactive;
	/* null is no extension, as in the full reading; anything but an
	 * object is for the full program to refuse. */
	if (f[3].type == KMFA_MINIJSON_OBJECT) {
		out->cluster = f[3].raw;
		out->cluster_len = f[3].rawlen;
	} else if (f[3].type != KMFA_MINIJSON_ABSENT &&
	    f[3].type != KMFA_MINIJSON_NULL) {
		return KMFA_ERR_NOTFOUND;
	}
	return KMFA_OK;
}

int
kmfa_execcred_render(struct kmfa_buf *b, enum kmfa_api_version api,
    const char *token, int64_t expires)
{
	char ts[21];

	if (kmfa_rfc3339(expires, ts) != 0)
		return KMFA_ERR_INTERNAL;
	if (kmfa_buf_printf(b, "{\"apiVersion\":\"%s\",\"kind\":"
	    "\"ExecCredential\",\"spec\":{},\"status\":{\"token\":",
	    kmfa_execcred_api_version(api)) != 0 ||
	    kmfa_buf_json_string(b, token) != 0 ||
	    kmfa_buf_printf(b, ",\"expirationTimestamp\":\"%s\"}}\n", ts) != 0)
		return KMFA_ERR_NOMEM;
	return KMFA_OK;
}

/*
 * The client-go exec credential protocol: what kubectl tells the plugin in
 * KUBERNETES_EXEC_INFO, and the ExecCredential the plugin answers on stdout.
 * The answer uses the apiVersion kubectl asked in; v1beta1 when kubectl did
 * not say (older clients set no variable).
 */
#ifndef KMFA_EXECINFO_H
#define KMFA_EXECINFO_H

#include <stdint.h>

#include "base/util.h"

#define KMFA_APIVERSION_V1 "client.authentication.k8s.io/v1"
#define KMFA_APIVERSION_V1BETA1 "client.authentication.k8s.io/v1beta1"

enum kmfa_api_version {
	KMFA_API_V1BETA1 = 0,
	KMFA_API_V1,
};

struct kmfa_execinfo {
	enum kmfa_api_version api;
	int interactive;	/* spec.interactive: 1, 0, or -1 when absent */
};

/*
 * Parse the variable's value (NULL when unset).  KMFA_ERR_CONFIG with a
 * recorded cause for malformed JSON, a missing or unknown apiVersion, or a
 * kind other than ExecCredential.
 */
int kmfa_execinfo_parse(const char *env, struct kmfa_execinfo *out);

/*
 * The front's reading (libc only, execcred.c): KMFA_OK and *out for exactly
 * what kmfa_execinfo_parse accepts, or KMFA_ERR_NOTFOUND for anything it
 * does not understand, malformed or not, leaving the verdict and its
 * message to the full program.
 */
int kmfa_execinfo_peek(const char *env, struct kmfa_execinfo *out);

const char *kmfa_api_version_string(enum kmfa_api_version api);

/*
 * Render the ExecCredential for token, expiring at expires (seconds since
 * the epoch; already reduced by the skew), into b.  b holds a secret: wipe
 * it with kmfa_buf_wipe().
 */
int kmfa_execcred_render(struct kmfa_buf *b, enum kmfa_api_version api,
    const char *token, int64_t expires);

#endif

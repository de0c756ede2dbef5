/*
 * The client-go exec credential protocol: the ExecCredential object that
 * kubectl hands the plugin in KUBERNETES_EXEC_INFO and that the plugin
 * answers on stdout.  The answer uses the apiVersion kubectl asked in;
 * v1beta1 when kubectl did not say (older clients set no variable).  This
 * half is libc only, for the front: a quick reading of the variable and
 * the answer; the full program's reading, with a message for every way
 * the variable can be wrong, is execinfo.h's.
 */
#ifndef KMFA_EXECCRED_H
#define KMFA_EXECCRED_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"

#define KMFA_APIVERSION_V1 "client.authentication.k8s.io/v1"
#define KMFA_APIVERSION_V1BETA1 "client.authentication.k8s.io/v1beta1"

enum kmfa_api_version {
	KMFA_API_V1BETA1 = 0,
	KMFA_API_V1,
};

/* What KUBERNETES_EXEC_INFO told us. */
struct kmfa_execinfo {
	enum kmfa_api_version api;
	int interactive;	/* spec.interactive: 1, 0, or -1 when absent */
	/*
	 * spec.cluster.config, the cluster's exec extension (sent with
	 * provideClusterInfo: true): its JSON text inside the variable's
	 * value, borrowed from it, for kmfa_config_merge_cluster; NULL when
	 * there is none.
	 */
	const char *cluster;
	size_t cluster_len;
};

/*
 * The front's reading of the variable's value (NULL when unset): KMFA_OK
 * and *out for exactly what kmfa_execinfo_parse accepts, or
 * KMFA_ERR_NOTFOUND for anything it does not understand, malformed or
 * not, leaving the verdict and its message to the full program.
 */
int kmfa_execcred_peek(const char *env, struct kmfa_execinfo *out);

const char *kmfa_execcred_api_version(enum kmfa_api_version api);

/*
 * Render the ExecCredential for token, expiring at expires (seconds since
 * the epoch; already reduced by the skew), into b.  b holds a secret: wipe
 * it with kmfa_buf_wipe().
 */
int kmfa_execcred_render(struct kmfa_buf *b, enum kmfa_api_version api,
    const char *token, int64_t expires);

#endif

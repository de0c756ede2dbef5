/*
 * The cluster's exec extension (kmfa_config_merge_cluster), whose walker
 * trusts minijson's verdict on the bytes.  The input is the extension's
 * JSON text.  Merged over a user entry that names its own client id, an
 * accepted extension never moves that client id, merging it a second time
 * changes nothing (the args, now holding it all, win), and the front's and
 * the core's readings of a KUBERNETES_EXEC_INFO carrying it find the same
 * bytes when both accept it.  An accepted extension is valid JSON with no
 * repeated option: the walker never runs past it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "fuzzutil.h"
#include "token/config.h"
#include "token/execinfo.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

static void
readers_agree(const char *ext)
{
	struct kmfa_execinfo info, peek;
	struct kmfa_buf env = { 0 };
	int parsed, peeked;

	if (kmfa_buf_printf(&env, "{\"apiVersion\":\"client.authentication."
	    "k8s.io/v1\",\"spec\":{\"cluster\":{\"server\":\"https://x\","
	    "\"config\":%s}}}", ext) != 0)
		fz_die("out of memory");
	parsed = kmfa_execinfo_parse(env.data, &info) == KMFA_OK;
	peeked = kmfa_execcred_peek(env.data, &peek) == KMFA_OK;
	/* Not asserted: peeked && !parsed.  The core refuses a repeated
	 * member anywhere (base/json.c), minijson only on the paths it is
	 * asked for, so the front may accept, and answer from a cache hit,
	 * a variable the core refuses: fuzz_execinfo finds that with any
	 * repeated member, cluster or not. */
	if (peeked && parsed && (info.cluster != peek.cluster ||
	    info.cluster_len != peek.cluster_len))
		fz_die("the front and the core find different extensions");
	kmfa_buf_wipe(&env);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = { "--oidc-client-id", "mine" };
	struct kmfa_config cfg;
	char *ext, *id1 = NULL, *id2 = NULL;

	if ((ext = fz_cstr(data, size)) == NULL)
		return 0;
	kmfa_config_init(&cfg);
	if (kmfa_config_parse(&cfg, 2, (char *const *)args, KMFA_OPTSET_OIDC |
	    KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN) != KMFA_OK)
		fz_die("the fixed args do not parse");
	if (kmfa_config_merge_cluster(&cfg, ext, strlen(ext)) == KMFA_OK) {
		if (cfg.client_id == NULL || strcmp(cfg.client_id, "mine") != 0)
			fz_die("the extension moved the args' client id");
		if ((id1 = kmfa_config_identity(&cfg)) == NULL)
			fz_die("no identity for a merged configuration");
		if (kmfa_config_merge_cluster(&cfg, ext, strlen(ext)) !=
		    KMFA_OK || (id2 = kmfa_config_identity(&cfg)) == NULL ||
		    strcmp(id1, id2) != 0)
			fz_die("merging an accepted extension twice changed it");
	} else if (kmfa_report_cause() == NULL) {
		fz_die("an extension refused without a cause");
	}
	kmfa_report_clear();
	readers_agree(ext);
	free(id1);
	free(id2);
	kmfa_config_free(&cfg);
	free(ext);
	kmfa_report_clear();
	return 0;
}

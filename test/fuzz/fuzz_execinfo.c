/*
 * KUBERNETES_EXEC_INFO, which kubectl (or whoever sets the environment)
 * hands the plugin.  The input, cut at its first NUL as an environment
 * variable would be, is parsed; an accepted value names one of the two API
 * versions and a tri-state interactive flag, and renders an ExecCredential.
 * The front's quick reading (kmfa_execcred_peek) may refuse more, but what
 * it accepts the full reading must accept with the same values.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "fuzzutil.h"
#include "token/execinfo.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_execinfo info, peek;
	struct kmfa_buf b = { 0 };
	char *env;
	int parsed, peeked;

	if ((env = fz_cstr(data, size)) == NULL)
		return 0;
	parsed = kmfa_execinfo_parse(env, &info) == KMFA_OK;
	peeked = kmfa_execcred_peek(env, &peek) == KMFA_OK;
	if (peeked && (!parsed || peek.api != info.api ||
	    peek.interactive != info.interactive))
		fz_die("the front's exec info reading disagrees with the core's");
	if (parsed) {
		if ((info.api != KMFA_API_V1 && info.api != KMFA_API_V1BETA1) ||
		    info.interactive < -1 || info.interactive > 1)
			fz_die("exec info accepted with values out of range");
		if (kmfa_execcred_render(&b, info.api, "fuzz-token",
		    FZ_NOW) != KMFA_OK || b.data == NULL ||
		    strstr(b.data, kmfa_execcred_api_version(info.api)) == NULL)
			fz_die("cannot render the answer for accepted exec info");
		kmfa_buf_wipe(&b);
	}
	free(env);
	kmfa_report_clear();
	return 0;
}

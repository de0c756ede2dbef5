/*
 * The browser login's listener: whatever a local client or a hostile page
 * sends as a request head goes through kmfa_loopback_parse_request and
 * kmfa_loopback_judge.  Besides not crashing: a request judged to be the
 * callback came to the redirect URI's path, from its Host, with this
 * login's state, and brought a non-empty code.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/report.h"
#include "oidc/loopback.h"
#include "fuzzutil.h"

#define HOST "127.0.0.1:40000"
#define STATE "s0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
#define ISSUER "https://idp"

static const struct kmfa_loopback_expect want = { HOST, "/", STATE, ISSUER };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_loopback_req req;
	enum kmfa_loopback_verdict vd;
	const char *why = NULL;
	char *out = NULL, *st = NULL;
	const char *q;

	if (size > KMFA_LOOPBACK_HEAD_MAX)
		return 0;
	if (kmfa_loopback_parse_request((const char *)data, size, &req) !=
	    KMFA_OK) {
		kmfa_report_clear();
		return 0;
	}
	vd = kmfa_loopback_judge(&req, &want, &out, &why);
	kmfa_report_clear();
	switch (vd) {
	case KMFA_LOOPBACK_CODE:
		if (out == NULL || out[0] == '\0')
			fz_die("a callback without a code");
		if (strcmp(req.method, "GET") != 0 ||
		    strcmp(req.host, HOST) != 0 ||
		    strncmp(req.target, "/?", 2) != 0)
			fz_die("a callback from another Host, path or method");
		q = strchr(req.target, '?') + 1;
		if (kmfa_loopback_query_param(q, "state", &st) != KMFA_OK ||
		    strcmp(st, STATE) != 0)
			fz_die("a callback without this login's state");
		break;
	case KMFA_LOOPBACK_ERROR:
		if (out == NULL || strchr(out, '\n') != NULL ||
		    strchr(out, '\x1b') != NULL)
			fz_die("a provider error that is not one printable line");
		break;
	case KMFA_LOOPBACK_REJECT:
	default:
		if (out != NULL)
			fz_die("a rejected request left an answer");
		break;
	}
	kmfa_report_clear();
	free(st);
	free(out);
	return 0;
}

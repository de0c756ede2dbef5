/*
 * The webhook's reading of a TokenReview body (webhook/review.c), every
 * byte of which a client of kube-apiserver's chooses: whatever arrives,
 * the answer is HTTP 200, 400 or 413 with a TokenReview that does not
 * authenticate (no token here verifies: the JWKS is preset to one no
 * input is signed with, so the network is never asked), and nothing
 * crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "fuzzutil.h"
#include "../../webhook/webhook.h"

static struct wh_conf conf;
static struct wh_state st;
static const char jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
    "\"kid\":\"k\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

/* The webhook logs through main.c; here, nowhere. */
void
wh_log(const char *event, const char *subject, const char *fmt, ...)
{
	(void)event;
	(void)subject;
	(void)fmt;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	conf.oidc.issuer = (char *)FZ_ISSUER;
	conf.oidc.client_id = (char *)FZ_CLIENT;
	conf.rp_id = "kubectl-mfa:";
	conf.session_max = 3600;
	conf.leeway = 60;
	conf.username_claim = "sub";
	conf.username_prefix = "";
	conf.groups_prefix = "";
	conf.registry = "/nonexistent/registry";
	st.conf = &conf;
	st.reg.path = (char *)"/nonexistent/registry";
	st.seen = calloc(WH_SEEN_MAX, sizeof(*st.seen));
	if (st.seen == NULL || kmfa_buf_append(&st.jwks, jwks,
	    sizeof(jwks) - 1) != 0)
		fz_die("no memory");
	/* Fresh for ever: never fetched again. */
	st.jwks_at = INT64_C(1) << 60;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_buf out = { 0 };
	char why[512];
	int status = 0, authn = 1;

	if (wh_review(&st, (const char *)data, size, &status, &authn, &out,
	    why, sizeof(why)) != KMFA_OK) {
		kmfa_buf_wipe(&out);
		kmfa_report_clear();
		return 0;	/* out of memory only */
	}
	if (authn || (status != 200 && status != 400 && status != 413) ||
	    out.data == NULL ||
	    strstr(out.data, "\"authenticated\":false") == NULL)
		fz_die("a TokenReview was not refused cleanly");
	kmfa_buf_wipe(&out);
	kmfa_report_clear();
	return 0;
}

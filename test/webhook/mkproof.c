/*
 * kmfa-mkproof: the tests' maker of kmfa-proof1 bundles (lib/key/proof.h), good
 * ones and the deliberately bad ones test/e2e/webhook.sh shows the webhook
 * refusing, made by a real key (the software key over libfido2) with the
 * library's own encoding, so that only the named fault differs.
 *
 *   kmfa-mkproof --device SPEC --credentials FILE --token-file F
 *       --issuer URL --client ID [--sign-token-file F2] [--time T]
 *       [--no-up] [--tamper up_ad|up_sig|tok_ad|tok_sig]
 *
 * Prints the bearer on stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fidodev.h"
#include "key/proof.h"
#include "key/seal.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = calloc(1, KMFA_PROOF_BEARER_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, KMFA_PROOF_BEARER_MAX, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "credentials", required_argument, NULL, 'c' },
		{ "token-file", required_argument, NULL, 't' },
		{ "sign-token-file", required_argument, NULL, 's' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "client", required_argument, NULL, 'C' },
		{ "time", required_argument, NULL, 'T' },
		{ "no-up", no_argument, NULL, 'n' },
		{ "tamper", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = NULL, *creds = NULL, *tokf = NULL, *signf = NULL;
	const char *iss = NULL, *client = NULL, *tamper = NULL;
	struct kmfa_fido2_evidence up, tok;
	struct kmfa_credfile *f = NULL;
	uint8_t up_cdh[32], tok_cdh[32];
	char *token = NULL, *signed_token = NULL, *ctx = NULL, *bearer = NULL;
	int64_t t = kmfa_now();
	int o, no_up = 0, rc = 1;

	memset(&up, 0, sizeof(up));
	memset(&tok, 0, sizeof(tok));
	kmfa_json_init();
	kmfa_fidodev_init();
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'd': device = optarg; break;
		case 'c': creds = optarg; break;
		case 't': tokf = optarg; break;
		case 's': signf = optarg; break;
		case 'i': iss = optarg; break;
		case 'C': client = optarg; break;
		case 'T': t = strtoll(optarg, NULL, 10); break;
		case 'n': no_up = 1; break;
		case 'x': tamper = optarg; break;
		default: return 2;
		}
	}
	if (device == NULL || creds == NULL || tokf == NULL || iss == NULL ||
	    client == NULL) {
		fprintf(stderr, "kmfa-mkproof: missing options\n");
		return 2;
	}
	if ((token = slurp(tokf)) == NULL || (signed_token = slurp(signf != NULL ?
	    signf : tokf)) == NULL) {
		fprintf(stderr, "kmfa-mkproof: cannot read the token\n");
		goto out;
	}
	if (kmfa_credfile_load(creds, &f) != KMFA_OK || f->ncreds == 0 ||
	    kmfa_proof_context(iss, client, t, &ctx) != KMFA_OK ||
	    kmfa_seal_random(up.nonce, sizeof(up.nonce)) != KMFA_OK)
		goto out;
	kmfa_proof_up_cdh(up.nonce, ctx, up_cdh);
	if (kmfa_proof_assert(device, f->creds[0].rp_id, f->creds[0].id,
	    f->creds[0].id_len, up_cdh, !no_up, 20000, &up) != KMFA_OK)
		goto out;
	kmfa_proof_token_cdh(signed_token, strlen(signed_token), up_cdh,
	    tok_cdh);
	if (kmfa_proof_assert(device, f->creds[0].rp_id, f->creds[0].id,
	    f->creds[0].id_len, tok_cdh, 0, 20000, &tok) != KMFA_OK)
		goto out;
	if (tamper != NULL) {
		uint8_t *p = NULL;
		size_t n = 0;

		if (strcmp(tamper, "up_ad") == 0) {
			p = up.authdata;
			n = up.authdata_len;
		} else if (strcmp(tamper, "up_sig") == 0) {
			p = up.sig;
			n = up.sig_len;
		} else if (strcmp(tamper, "tok_ad") == 0) {
			p = tok.authdata;
			n = tok.authdata_len;
		} else if (strcmp(tamper, "tok_sig") == 0) {
			p = tok.sig;
			n = tok.sig_len;
		}
		if (p == NULL || n < 8) {
			fprintf(stderr, "kmfa-mkproof: --tamper what?\n");
			goto out;
		}
		/* A byte inside the signed data or the signature value. */
		p[n - 3] ^= 0x01;
	}
	if (kmfa_proof_encode(token, ctx, &up, &tok, &bearer) != KMFA_OK)
		goto out;
	printf("%s\n", bearer);
	rc = 0;
out:
	if (rc != 0 && kmfa_report_cause() != NULL)
		fprintf(stderr, "kmfa-mkproof: %s\n", kmfa_report_cause());
	kmfa_fido2_assert_evidence_clear(&up);
	kmfa_fido2_assert_evidence_clear(&tok);
	kmfa_credfile_free(&f);
	free(token);
	free(signed_token);
	free(ctx);
	free(bearer);
	return rc;
}

/*
 * `kubectl mfa keys export SUBJECT`: the registration entries the server
 * proof's webhook (webhook/registry.c) reads, for each enrolled key: the
 * subject (the ID token's sub, as `kubectl mfa status` shows it), the
 * credential id, the ES256 public key and the UV policy.  Nothing in it is
 * secret; an administrator adds it to the registry.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "key/credfile.h"
#include "commands.h"

int
kmfa_cmd_keys_export(struct kmfa_config *cfg, const char *subject)
{
	struct kmfa_credfile *f = NULL;
	struct kmfa_buf b = { 0 };
	char *id = NULL, *pk = NULL;
	int r;

	if ((r = kmfa_credfile_load(cfg->fido2_credentials, &f)) != KMFA_OK)
		goto out;
	if (f->ncreds == 0) {
		r = kmfa_fail(KMFA_ERR_USAGE, "no security key is enrolled: "
		    "nothing to export");
		goto out;
	}
	r = KMFA_ERR_NOMEM;
	if (kmfa_buf_printf(&b, "{\"credentials\":[") != 0)
		goto out;
	for (size_t i = 0; i < f->ncreds; i++) {
		const struct kmfa_cred *c = &f->creds[i];

		free(id);
		free(pk);
		id = pk = NULL;
		if (kmfa_b64url_encode(c->id, c->id_len, &id) != KMFA_OK ||
		    kmfa_b64url_encode(c->pubkey, c->pubkey_len, &pk) !=
		    KMFA_OK ||
		    kmfa_buf_printf(&b, "%s\n  {\"subject\":", i ? "," : "\n") !=
		    0 || kmfa_buf_json_string(&b, subject) != 0 ||
		    kmfa_buf_printf(&b, ",\"key\":") != 0 ||
		    kmfa_buf_json_string(&b, c->name) != 0 ||
		    kmfa_buf_printf(&b, ",\"credential_id\":\"%s\","
		    "\"public_key\":\"%s\",\"uv\":\"%s\"}", id, pk,
		    c->uv_required ? "required" : "discouraged") != 0)
			goto out;
	}
	if (kmfa_buf_printf(&b, "\n]}\n") != 0)
		goto out;
	if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
		r = kmfa_fail(KMFA_ERR_IO, "could not write the export");
		goto out;
	}
	r = KMFA_OK;
out:
	free(id);
	free(pk);
	kmfa_buf_wipe(&b);
	kmfa_credfile_free(&f);
	return r;
}

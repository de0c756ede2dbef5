/*
 * The sealed refresh token, read back from a cache record.  The master key
 * and header are fixed; the seed generator seals tokens that start with
 * FZ_SEAL_MARK under them, so mutations start from real envelopes.  Nothing
 * else may open: a success on any other plaintext is a forgery.  What
 * opens must seal again and open to the same token.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "fuzzutil.h"
#include "key/seal.h"

static uint8_t mk[KMFA_MK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	fz_master_key(mk);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *sealed, *token = NULL, *again = NULL, *back = NULL;

	if ((sealed = fz_cstr(data, size)) == NULL)
		return 0;
	if (kmfa_seal_open_refresh(mk, FZ_SEAL_HEADER, sealed, &token) !=
	    KMFA_OK) {
		if (token != NULL)
			fz_die("a failed unseal returned a token");
		goto out;
	}
	if (token == NULL || strncmp(token, FZ_SEAL_MARK,
	    strlen(FZ_SEAL_MARK)) != 0)
		fz_die("unsealed something that was never sealed");
	if (!kmfa_seal_is_sealed(sealed))
		fz_die("unsealed text without the prefix");
	if (kmfa_seal_refresh(mk, FZ_SEAL_HEADER, token, &again) != KMFA_OK ||
	    kmfa_seal_open_refresh(mk, FZ_SEAL_HEADER, again, &back) !=
	    KMFA_OK || strcmp(token, back) != 0)
		fz_die("an unsealed token does not seal and open again");
	/* The header is bound: the same envelope under another must fail. */
	kmfa_freezero_str(back);
	back = NULL;
	if (kmfa_seal_open_refresh(mk, "another identity", sealed, &back) ==
	    KMFA_OK)
		fz_die("an envelope opened under another header");
out:
	kmfa_freezero_str(back);
	free(again);
	kmfa_freezero_str(token);
	free(sealed);
	kmfa_report_clear();
	return 0;
}

/*
 * The cache record, read back from disk, the keyring or the runtime
 * mirror (any of which another process of the user may have written).
 * What decodes must encode, and the encoding must decode to the same
 * record: otherwise a cache write could turn a good entry into one that
 * reads differently.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "fuzzutil.h"
#include "token/record.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
compare(const struct kmfa_record *a, const struct kmfa_record *b)
{
	if (!same_str(a->identity, b->identity) ||
	    !same_str(a->issuer, b->issuer) ||
	    !same_str(a->client_id, b->client_id) ||
	    !same_str(a->subject, b->subject) ||
	    !same_str(a->token, b->token) ||
	    !same_str(a->key_name, b->key_name) ||
	    !same_str(a->refresh, b->refresh))
		fz_die("record strings do not round-trip");
	if (a->token_exp != b->token_exp || a->obtained_at != b->obtained_at ||
	    a->touched_at != b->touched_at)
		fz_die("record times do not round-trip");
	/* refresh_sealed is only written alongside a refresh token. */
	if (a->refresh != NULL && a->refresh_sealed != b->refresh_sealed)
		fz_die("record seal flag does not round-trip");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_record *rec = NULL, *again = NULL;
	char *enc = NULL;

	if (kmfa_record_decode((const char *)data, size, &rec) != KMFA_OK)
		goto out;
	if (rec == NULL || rec->identity == NULL || rec->token == NULL)
		fz_die("record decoded without identity or token");
	if (kmfa_record_encode(rec, 1, &enc) != KMFA_OK)
		fz_die("a decoded record does not encode");
	if (kmfa_record_decode(enc, strlen(enc), &again) != KMFA_OK)
		fz_die("an encoded record does not decode");
	compare(rec, again);
out:
	kmfa_freezero_str(enc);
	kmfa_record_free(&again);
	kmfa_record_free(&rec);
	kmfa_report_clear();
	return 0;
}

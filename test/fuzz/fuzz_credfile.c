/*
 * The credentials file: the list of enrolled security keys.  It is the
 * user's own file, but a half-parsed one could weaken the second factor,
 * so its reading is strict; here it must also be stable.  What parses must
 * format, the formatted text must parse, and the two readings must agree
 * field for field.
 *
 * Known bug, not fixed here (test/fuzz/regressions/credfile/): the reader
 * takes any year strptime's %Y does ("0223-11-14T22:12:20Z"), the writer
 * (kmfa_rfc3339) only four-digit years, so such a file parses but can
 * never be saved again.  Until lib/key/credfile.c refuses those times, the
 * round trip is not demanded of files holding one, so that the harness
 * goes on looking for other failures.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "fuzzutil.h"
#include "key/credfile.h"

#define PATH "/fuzz/credentials.json"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

static int
same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void
compare(const struct kmfa_credfile *a, const struct kmfa_credfile *b)
{
	if (a->ncreds != b->ncreds ||
	    memcmp(a->hmac_salt, b->hmac_salt, sizeof(a->hmac_salt)) != 0)
		fz_die("credentials file does not round-trip");
	for (size_t i = 0; i < a->ncreds; i++) {
		const struct kmfa_cred *x = &a->creds[i], *y = &b->creds[i];

		if (strcmp(x->name, y->name) != 0 ||
		    strcmp(x->rp_id, y->rp_id) != 0 ||
		    !same_bytes(x->id, x->id_len, y->id, y->id_len) ||
		    !same_bytes(x->pubkey, x->pubkey_len, y->pubkey,
		    y->pubkey_len) ||
		    !same_bytes(x->slot, x->slot_len, y->slot, y->slot_len) ||
		    x->uv_required != y->uv_required || x->pin != y->pin ||
		    x->hmac_secret != y->hmac_secret ||
		    x->sign_count != y->sign_count ||
		    x->created != y->created || x->last_used != y->last_used)
			fz_die("a credential does not round-trip");
		if (kmfa_credfile_find(a, x->name) != x ||
		    kmfa_credfile_find_id(a, x->id, x->id_len) != x)
			fz_die("a parsed credential cannot be found");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_credfile *f = NULL, *again = NULL;
	char *text = NULL;

	if (kmfa_credfile_parse(PATH, (const char *)data, size, &f) !=
	    KMFA_OK)
		goto out;
	if (kmfa_credfile_format(f, &text) != KMFA_OK)
		fz_die("a parsed credentials file does not format");
	if (kmfa_credfile_parse(PATH, text, strlen(text), &again) != KMFA_OK)
		fz_die("a formatted credentials file does not parse");
	compare(f, again);
out:
	free(text);
	kmfa_credfile_free(&again);
	kmfa_credfile_free(&f);
	kmfa_report_clear();
	return 0;
}

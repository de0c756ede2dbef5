/*
 * Timing harness for keyring storage: what the full program pays to answer
 * from the keyring (open the storage, which probes the Secret Service, then
 * load and decode the item), against the front reading the runtime mirror.
 *
 *   keyring_load seed GET-TOKEN-OPTIONS...   store a fresh record for them
 *   keyring_load load GET-TOKEN-OPTIONS...   open + load; exit 0 on a hit
 *   keyring_load probe                       kmfa_keyring_probe() only
 *
 * Linked like the full program (every heavy library), so its start-up cost
 * is the full program's.  Writes nothing to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "store/keyring.h"
#include "store/store.h"
#include "token/config.h"
#include "token/record.h"

int
main(int argc, char *argv[])
{
	struct kmfa_config cfg;
	struct kmfa_store *s = NULL;
	struct kmfa_record *rec = NULL;
	char key[65], *identity = NULL;
	int seed, r = KMFA_ERR_USAGE;

	kmfa_json_init();
	kmfa_config_init(&cfg);
	if (argc == 2 && strcmp(argv[1], "probe") == 0) {
		const char *why = NULL;

		r = kmfa_keyring_probe(1000, &why);
		if (r != KMFA_OK)
			fprintf(stderr, "keyring_load: probe: %s\n", why);
		return r == KMFA_OK ? 0 : 1;
	}
	if (argc < 2 || (strcmp(argv[1], "seed") != 0 &&
	    strcmp(argv[1], "load") != 0))
		goto out;
	seed = strcmp(argv[1], "seed") == 0;
	if ((r = kmfa_config_parse(&cfg, argc - 2, argv + 2, KMFA_OPTSET_OIDC |
	    KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN)) != KMFA_OK ||
	    (r = kmfa_config_finish(&cfg)) != KMFA_OK ||
	    (r = kmfa_config_cache_key(&cfg, key)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_NOMEM;
	if ((identity = kmfa_config_identity(&cfg)) == NULL)
		goto out;
	if ((r = kmfa_store_open(&cfg, &s)) != KMFA_OK)
		goto out;
	if (seed) {
		r = KMFA_ERR_NOMEM;
		if ((rec = kmfa_record_new()) == NULL ||
		    (rec->identity = strdup(identity)) == NULL ||
		    (rec->issuer = strdup(cfg.issuer)) == NULL ||
		    (rec->client_id = strdup(cfg.client_id)) == NULL ||
		    (rec->token = strdup("bench.id.token")) == NULL ||
		    (rec->refresh = strdup("bench-sealed-envelope")) == NULL)
			goto out;
		rec->token_exp = kmfa_now() + 3600;
		rec->obtained_at = rec->touched_at = kmfa_now();
		rec->refresh_sealed = 1;
		r = kmfa_store_save(s, key, rec);
		fprintf(stderr, "seeded %s in %s\n", key, kmfa_store_kind(s));
		goto out;
	}
	if ((r = kmfa_store_load(s, key, &rec)) != KMFA_OK)
		goto out;
	r = kmfa_record_fresh(rec, &cfg, identity, kmfa_now()) ? KMFA_OK :
	    KMFA_ERR_NOTFOUND;
out:
	if (r != KMFA_OK)
		fprintf(stderr, "keyring_load: %s: %s\n", kmfa_strerror(r),
		    kmfa_report_cause() != NULL ? kmfa_report_cause() : "-");
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
	free(identity);
	kmfa_config_free(&cfg);
	return r == KMFA_OK ? 0 : 1;
}

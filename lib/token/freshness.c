/*
 * The cache record's lifetime rules (record.h): when a record may be handed
 * out under a configuration, and its allocation.  Kept apart from the JSON
 * encoding in record.c so that the front links them with libc alone.
 */
#include <stdlib.h>
#include <string.h>

#include "token/record.h"

struct kmfa_record *
kmfa_record_new(void)
{
	return calloc(1, sizeof(struct kmfa_record));
}

void
kmfa_record_free(struct kmfa_record **rp)
{
	struct kmfa_record *rec;

	if (rp == NULL || (rec = *rp) == NULL)
		return;
	free(rec->identity);
	free(rec->issuer);
	free(rec->client_id);
	free(rec->subject);
	kmfa_freezero_str(rec->token);
	free(rec->key_name);
	kmfa_freezero_str(rec->refresh);
	free(rec);
	*rp = NULL;
}

int64_t
kmfa_record_usable_until(const struct kmfa_record *rec,
    const struct kmfa_config *cfg, const char *identity)
{
	int64_t until;

	if (rec->identity == NULL || identity == NULL ||
	    strcmp(rec->identity, identity) != 0 || rec->token == NULL ||
	    rec->token[0] == '\0')
		return 0;
	/* Fail closed: a token obtained without a touch never serves a
	 * configuration that demands one (the identity covers this too). */
	if (cfg->fido2 == KMFA_FIDO2_REQUIRED && rec->touched_at <= 0)
		return 0;
	until = rec->token_exp;
	if (cfg->session_max > 0 && rec->touched_at > 0 &&
	    rec->touched_at + cfg->session_max < until)
		until = rec->touched_at + cfg->session_max;
	return until - cfg->skew;
}

int
kmfa_record_fresh(const struct kmfa_record *rec,
    const struct kmfa_config *cfg, const char *identity, int64_t now)
{
	return kmfa_record_usable_until(rec, cfg, identity) > now;
}

/*
 * How long a cached provider document may be used without asking the
 * provider again: the answer's Cache-Control and Age (RFC 9111 §4.2, §5.2),
 * bounded.  Pure functions of the header values, for tests and fuzzing;
 * oidc/metacache.h keeps the documents.
 *
 * The bounds are what keep the cache from ever making a token acceptable
 * for long that a fresh fetch would refuse (a key the provider removed
 * stays usable here until the cached JWKS goes stale): a document the
 * provider says nothing about is used for KMFA_FRESHNESS_DEFAULT, and no
 * max-age, however large, buys more than KMFA_FRESHNESS_MAX.
 */
#ifndef KMFA_FRESHNESS_H
#define KMFA_FRESHNESS_H

#include <stdint.h>

/*
 * An hour when the provider says nothing: the usual refresh interval of
 * the API server's own JWKS cache is of that order, and most providers
 * rotate keys with days of overlap.
 */
#define KMFA_FRESHNESS_DEFAULT 3600
/*
 * A day at most, whatever max-age says: a removed signing key then stops
 * validating here within a day even when the provider asked for a year.
 */
#define KMFA_FRESHNESS_MAX 86400

struct kmfa_freshness {
	int no_store;		/* keep nothing */
	int no_cache;		/* revalidate before every use */
	int64_t max_age;	/* seconds; -1 when not given */
	int invalid;		/* max-age given twice, or not a number */
};

/*
 * Read a Cache-Control value (NULL: no header).  Directive names are
 * case-insensitive; max-age takes digits, quoted or not (§5.2); values
 * past 2^31 count as 2^31 (§1.2.2).  Unknown directives are ignored.
 */
void kmfa_freshness_parse(const char *cache_control,
    struct kmfa_freshness *f);

/*
 * Seconds from now that an answer with these headers may be used without
 * asking again: 0 for no-store, no-cache, an invalid or zero max-age;
 * max-age less Age (an invalid Age counts as 0) otherwise; the default
 * when there is no max-age; never more than KMFA_FRESHNESS_MAX.
 * *keep is 0 when the answer must not be stored at all (no-store).
 */
int64_t kmfa_freshness_lifetime(const char *cache_control, const char *age,
    int *keep);

#endif

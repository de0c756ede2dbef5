/*
 * Cache-Control as a private cache reads it (RFC 9111 §5.2), and the
 * lifetime it buys a kept discovery document or JWKS: the default when the
 * provider says nothing, never more than the bound, zero for anything that
 * asks for revalidation or is not understood as a number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "oidc/freshness.h"

static const struct {
	const char *cc, *age;
	int64_t life;
	int keep;
} cases[] = {
	{ NULL, NULL, KMFA_FRESHNESS_DEFAULT, 1 },
	{ "", NULL, KMFA_FRESHNESS_DEFAULT, 1 },
	{ "public", NULL, KMFA_FRESHNESS_DEFAULT, 1 },
	{ "max-age=60", NULL, 60, 1 },
	{ "public, max-age=3600, must-revalidate", NULL, 3600, 1 },
	{ "MAX-AGE=120", NULL, 120, 1 },
	{ "max-age = 30", NULL, 30, 1 },
	{ "max-age=\"45\"", NULL, 45, 1 },
	{ "max-age=0", NULL, 0, 1 },
	{ "max-age=600", "100", 500, 1 },
	{ "max-age=600", "900", 0, 1 },
	{ "max-age=600", "junk", 600, 1 },
	/* the bound, and numbers past what any integer holds (§1.2.2) */
	{ "max-age=86401", NULL, KMFA_FRESHNESS_MAX, 1 },
	{ "max-age=31536000", NULL, KMFA_FRESHNESS_MAX, 1 },
	{ "max-age=999999999999999999999999999999", NULL,
	    KMFA_FRESHNESS_MAX, 1 },
	/* invalid max-age: stale, never the default */
	{ "max-age=-1", NULL, 0, 1 },
	{ "max-age=1e3", NULL, 0, 1 },
	{ "max-age=", NULL, 0, 1 },
	{ "max-age", NULL, 0, 1 },
	{ "max-age=60, max-age=3600", NULL, 0, 1 },
	/* revalidate, or keep nothing */
	{ "no-cache", NULL, 0, 1 },
	{ "no-cache=\"set-cookie, x\", max-age=60", NULL, 0, 1 },
	{ "max-age=60, No-Store", NULL, 0, 0 },
	{ "private, no-store", NULL, 0, 0 },
	/* shared-cache and look-alike directives change nothing */
	{ "s-maxage=99999", NULL, KMFA_FRESHNESS_DEFAULT, 1 },
	{ "x-max-age=5", NULL, KMFA_FRESHNESS_DEFAULT, 1 },
	{ "max-agex=5", NULL, KMFA_FRESHNESS_DEFAULT, 1 },
	{ "foo=\"max-age=5\"", NULL, KMFA_FRESHNESS_DEFAULT, 1 },
	{ ",,, ,max-age=10,,", NULL, 10, 1 },
};

static void
test_lifetimes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int keep = -1;
		int64_t got = kmfa_freshness_lifetime(cases[i].cc,
		    cases[i].age, &keep);

		if (got != cases[i].life || keep != cases[i].keep)
			fail_msg("'%s' (Age %s): %lld keep %d, want %lld keep "
			    "%d", cases[i].cc ? cases[i].cc : "(none)",
			    cases[i].age ? cases[i].age : "(none)",
			    (long long)got, keep, (long long)cases[i].life,
			    cases[i].keep);
	}
}

static void
test_parse(void **state)
{
	struct kmfa_freshness f;

	(void)state;
	kmfa_freshness_parse("no-cache, max-age=5", &f);
	assert_int_equal(f.no_cache, 1);
	assert_int_equal(f.no_store, 0);
	assert_int_equal(f.max_age, 5);
	assert_int_equal(f.invalid, 0);
	kmfa_freshness_parse(NULL, &f);
	assert_int_equal(f.max_age, -1);
	kmfa_freshness_parse("max-age=x", &f);
	assert_int_equal(f.invalid, 1);
	assert_int_equal(f.max_age, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

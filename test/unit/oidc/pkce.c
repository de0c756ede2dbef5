/*
 * PKCE (RFC 7636): the S256 challenge against the RFC's own example
 * (Appendix B), and fresh verifiers that are what §4.1 asks for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "base/report.h"
#include "oidc/pkce.h"

static void
test_rfc7636_appendix_b(void **state)
{
	char c[KMFA_PKCE_CHALLENGE_LEN + 1];

	(void)state;
	assert_int_equal(kmfa_pkce_challenge(
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", c), KMFA_OK);
	assert_string_equal(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void
test_challenge_refuses_what_is_no_verifier(void **state)
{
	char c[KMFA_PKCE_CHALLENGE_LEN + 1];

	(void)state;
	/* 42 characters: one short of §4.1's minimum. */
	assert_int_equal(kmfa_pkce_challenge(
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX", c),
	    KMFA_ERR_INTERNAL);
	assert_string_equal(c, "");
	/* '+' and '/' are not unreserved. */
	assert_int_equal(kmfa_pkce_challenge(
	    "dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk", c),
	    KMFA_ERR_INTERNAL);
}

static void
test_fresh_verifiers(void **state)
{
	struct kmfa_pkce a, b;
	char c[KMFA_PKCE_CHALLENGE_LEN + 1];
	static const char zero[sizeof(struct kmfa_pkce)];

	(void)state;
	assert_int_equal(kmfa_pkce_new(&a), KMFA_OK);
	assert_int_equal(kmfa_pkce_new(&b), KMFA_OK);
	assert_int_equal(strlen(a.verifier), 43);
	assert_int_equal(strspn(a.verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(a.verifier, b.verifier);
	assert_int_equal(kmfa_pkce_challenge(a.verifier, c), KMFA_OK);
	assert_string_equal(c, a.challenge);
	kmfa_pkce_wipe(&a);
	kmfa_pkce_wipe(&b);
	assert_memory_equal(&a, zero, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7636_appendix_b),
		cmocka_unit_test(test_challenge_refuses_what_is_no_verifier),
		cmocka_unit_test(test_fresh_verifiers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for lib/base/util.c and lib/base/sha256.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/sha256.h"
#include "base/util.h"

static void
test_rfc3339_matches_gmtime_from_1970_to_9999(void **state)
{
	char a[21], b[32];

	(void)state;
	for (int64_t t = 0; t < INT64_C(253402300799); t += 86399 * 7 + 13) {
		struct tm tm;
		time_t tt = (time_t)t;

		assert_non_null(gmtime_r(&tt, &tm));
		assert_int_equal(strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ",
		    &tm), 20);
		assert_int_equal(kmfa_rfc3339(t, a), 0);
		assert_string_equal(a, b);
	}
}

static void
test_rfc3339_rejects_out_of_range(void **state)
{
	char a[21];

	(void)state;
	assert_int_equal(kmfa_rfc3339(-1, a), -1);
	assert_int_equal(kmfa_rfc3339(INT64_C(253402300800), a), -1);
	assert_int_equal(kmfa_rfc3339(951782400, a), 0);	/* leap day */
	assert_string_equal(a, "2000-02-29T00:00:00Z");
}

static void
test_json_string_escapes_quotes_backslashes_and_controls(void **state)
{
	struct kmfa_buf b = { 0 };

	(void)state;
	assert_int_equal(kmfa_buf_json_string(&b, "a\"b\\c\nd\x01" "e/f"), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\u000ad\\u0001e/f\"");
	kmfa_buf_wipe(&b);
	assert_null(b.data);
	assert_int_equal(kmfa_buf_json_string(&b, ""), 0);
	assert_string_equal(b.data, "\"\"");
	kmfa_buf_wipe(&b);
}

static void
test_buf_grows_and_keeps_contents(void **state)
{
	struct kmfa_buf b = { 0 };

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(kmfa_buf_printf(&b, "%04d", i), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "0999", 4);
	assert_int_equal(b.data[b.len], '\0');
	kmfa_buf_wipe(&b);
}

static void
check_sha(const char *msg, size_t len)
{
	uint8_t ours[KMFA_SHA256_LEN], theirs[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	kmfa_sha256(msg, len, ours);
	assert_int_equal(EVP_Digest(msg, len, theirs, &n, EVP_sha256(), NULL),
	    1);
	assert_int_equal(n, KMFA_SHA256_LEN);
	assert_memory_equal(ours, theirs, KMFA_SHA256_LEN);
}

static void
test_sha256_matches_openssl_at_every_padding_boundary(void **state)
{
	char buf[300];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(buf); len++)
		check_sha(buf, len);
}

static void
test_sha256_fips_example(void **state)
{
	uint8_t md[KMFA_SHA256_LEN];
	char hex[65];

	(void)state;
	kmfa_sha256("abc", 3, md);
	kmfa_hex(md, sizeof(md), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_matches_gmtime_from_1970_to_9999),
		cmocka_unit_test(test_rfc3339_rejects_out_of_range),
		cmocka_unit_test(test_json_string_escapes_quotes_backslashes_and_controls),
		cmocka_unit_test(test_buf_grows_and_keeps_contents),
		cmocka_unit_test(test_sha256_matches_openssl_at_every_padding_boundary),
		cmocka_unit_test(test_sha256_fips_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

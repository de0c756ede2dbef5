/*
 * Unit tests for lib/base/b64.c.  The RFC 4648 §10 vectors pin the alphabets and
 * padding; the rest pin strictness (each rejection is a way a lenient
 * decoder would give one value a second spelling) and round trips over
 * every byte value and every length remainder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/b64.h"
#include "base/err.h"

static void
check_url_decodes(const char *in, const char *want)
{
	uint8_t *out = NULL;
	size_t outlen = 0;

	assert_int_equal(kmfa_b64url_decode(in, strlen(in), &out, &outlen),
	    KMFA_OK);
	assert_int_equal(outlen, strlen(want));
	assert_memory_equal(out, want, outlen);
	assert_int_equal(out[outlen], '\0');
	free(out);
}

static void
check_url_rejects(const char *in)
{
	uint8_t *out = (uint8_t *)(uintptr_t)1;
	size_t outlen = 99;

	assert_int_equal(kmfa_b64url_decode(in, strlen(in), &out, &outlen),
	    KMFA_ERR_CONFIG);
	assert_null(out);
	assert_int_equal(outlen, 0);
}

static void
check_std_decodes(const char *in, const char *want)
{
	uint8_t *out = NULL;
	size_t outlen = 0;

	assert_int_equal(kmfa_b64_decode(in, strlen(in), &out, &outlen),
	    KMFA_OK);
	assert_int_equal(outlen, strlen(want));
	assert_memory_equal(out, want, outlen);
	free(out);
}

static void
check_std_rejects(const char *in)
{
	uint8_t *out = NULL;
	size_t outlen = 0;

	assert_int_equal(kmfa_b64_decode(in, strlen(in), &out, &outlen),
	    KMFA_ERR_CONFIG);
	assert_null(out);
}

static void
test_std_encode_rfc4648_vectors(void **state)
{
	static const char *vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *s = NULL;

		assert_int_equal(kmfa_b64_encode((const uint8_t *)vec[i][0],
		    strlen(vec[i][0]), &s), KMFA_OK);
		assert_string_equal(s, vec[i][1]);
		free(s);
		check_std_decodes(vec[i][1], vec[i][0]);
	}
}

static void
test_url_encode_has_no_padding(void **state)
{
	static const char *vec[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *s = NULL;

		assert_int_equal(kmfa_b64url_encode((const uint8_t *)vec[i][0],
		    strlen(vec[i][0]), &s), KMFA_OK);
		assert_string_equal(s, vec[i][1]);
		free(s);
		check_url_decodes(vec[i][1], vec[i][0]);
	}
}

/* 0xfb 0xff 0xbf is "+/+/" in standard and "-_-_" in url alphabet. */
static void
test_alphabets_differ_in_62_and_63(void **state)
{
	static const uint8_t raw[] = { 0xfb, 0xff, 0xbf };
	char *s = NULL;
	(void)state;

	assert_int_equal(kmfa_b64_encode(raw, sizeof(raw), &s), KMFA_OK);
	assert_string_equal(s, "+/+/");
	free(s);
	assert_int_equal(kmfa_b64url_encode(raw, sizeof(raw), &s), KMFA_OK);
	assert_string_equal(s, "-_-_");
	free(s);
	check_url_decodes("-_-_", "\xfb\xff\xbf");
	check_std_decodes("+/+/", "\xfb\xff\xbf");
	check_url_rejects("+/+/");
	check_std_rejects("-_-_");
}

static void
test_url_rejects_padding(void **state)
{
	(void)state;
	check_url_rejects("Zg==");
	check_url_rejects("Zm8=");
	check_url_rejects("Zg=");
}

static void
test_url_rejects_invalid_chars(void **state)
{
	(void)state;
	check_url_rejects("Zm9v Yg");
	check_url_rejects("Zm9v\nYg");
	check_url_rejects("Zm9v.Yg");
	check_url_rejects("Zm9v\x80g");
	check_url_rejects("Zm9vYg!");
}

/* Decoding stops at inlen, not at a NUL; an embedded NUL is invalid. */
static void
test_url_honours_inlen(void **state)
{
	uint8_t *out = NULL;
	size_t outlen = 0;
	(void)state;

	assert_int_equal(kmfa_b64url_decode("Zm9vYmFy", 4, &out, &outlen),
	    KMFA_OK);
	assert_int_equal(outlen, 3);
	assert_memory_equal(out, "foo", 3);
	free(out);
	assert_int_equal(kmfa_b64url_decode("Zm9v\0Yg", 7, &out, &outlen),
	    KMFA_ERR_CONFIG);
	assert_null(out);
}

/* Six bits cannot make a byte: length 4n+1 is never valid. */
static void
test_url_rejects_length_4n_plus_1(void **state)
{
	(void)state;
	check_url_rejects("Z");
	check_url_rejects("Zm9vY");
}

/* "Zh" and "Zg" both carry 'f' in their top eight bits; only Zg is canonical. */
static void
test_url_rejects_nonzero_trailing_bits(void **state)
{
	(void)state;
	check_url_decodes("Zg", "f");
	check_url_rejects("Zh");
	check_url_rejects("Zm9");
	check_url_decodes("Zm8", "fo");
	check_std_rejects("Zh==");
	check_std_rejects("Zm9=");
}

static void
test_url_decodes_empty_to_empty_buffer(void **state)
{
	uint8_t *out = NULL;
	size_t outlen = 7;
	(void)state;

	assert_int_equal(kmfa_b64url_decode("", 0, &out, &outlen), KMFA_OK);
	assert_non_null(out);
	assert_int_equal(outlen, 0);
	assert_int_equal(out[0], '\0');
	free(out);
}

static void
test_std_requires_exact_padding(void **state)
{
	(void)state;
	check_std_rejects("Zg");
	check_std_rejects("Zg=");
	check_std_rejects("Zg===");
	check_std_rejects("Zm8==");
	check_std_rejects("Zm9v=");
	check_std_rejects("=");
	check_std_rejects("====");
}

static void
test_std_rejects_data_after_padding(void **state)
{
	(void)state;
	check_std_rejects("Zg==Zg==");
	check_std_rejects("Zg=a");
}

/* kubeconfig values may be wrapped; Go's decoder skips CR and LF too. */
static void
test_std_skips_line_breaks_only(void **state)
{
	(void)state;
	check_std_decodes("Zm9v\nYmFy\r\n", "foobar");
	check_std_decodes("Zm9vYg\n==", "foob");
	check_std_rejects("Zm9v YmFy");
	check_std_rejects("Zm9v\tYmFy");
}

static void
test_round_trips_all_bytes_and_lengths(void **state)
{
	uint8_t raw[256];
	(void)state;

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(255 - i);
	for (size_t len = 0; len <= sizeof(raw); len++) {
		for (int url = 0; url <= 1; url++) {
			char *s = NULL;
			uint8_t *back = NULL;
			size_t backlen = 0;

			assert_int_equal(url ? kmfa_b64url_encode(raw, len, &s) :
			    kmfa_b64_encode(raw, len, &s), KMFA_OK);
			assert_int_equal(strlen(s), url ? (len * 4 + 2) / 3 :
			    (len + 2) / 3 * 4);
			assert_int_equal(url ?
			    kmfa_b64url_decode(s, strlen(s), &back, &backlen) :
			    kmfa_b64_decode(s, strlen(s), &back, &backlen),
			    KMFA_OK);
			assert_int_equal(backlen, len);
			if (len > 0)
				assert_memory_equal(back, raw, len);
			free(back);
			free(s);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_std_encode_rfc4648_vectors),
		cmocka_unit_test(test_url_encode_has_no_padding),
		cmocka_unit_test(test_alphabets_differ_in_62_and_63),
		cmocka_unit_test(test_url_rejects_padding),
		cmocka_unit_test(test_url_rejects_invalid_chars),
		cmocka_unit_test(test_url_honours_inlen),
		cmocka_unit_test(test_url_rejects_length_4n_plus_1),
		cmocka_unit_test(test_url_rejects_nonzero_trailing_bits),
		cmocka_unit_test(test_url_decodes_empty_to_empty_buffer),
		cmocka_unit_test(test_std_requires_exact_padding),
		cmocka_unit_test(test_std_rejects_data_after_padding),
		cmocka_unit_test(test_std_skips_line_breaks_only),
		cmocka_unit_test(test_round_trips_all_bytes_and_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

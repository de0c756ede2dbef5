/*
 * The kept-document file format and its freshness: what encode writes
 * decode reads back; decode refuses what this program would not have
 * written (a lifetime past the bound, a missing body, another version,
 * duplicate members); a copy is fresh only between its fetch and its
 * expiry; a cache without a folder keeps nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "oidc/freshness.h"
#include "oidc/metacache.h"

static void
fill(struct kmfa_metacache_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->url = strdup("https://idp.example/jwks");
	e->etag = strdup("\"abc\"");
	e->cache_control = strdup("max-age=60");
	e->fetched = 1700000000;
	e->expires = 1700000060;
	assert_int_equal(kmfa_buf_append(&e->body, "{\"keys\":[]}", 11), 0);
}

static void
test_round_trip(void **state)
{
	struct kmfa_metacache_entry e, d;
	char *json = NULL;

	(void)state;
	fill(&e);
	assert_int_equal(kmfa_metacache_encode(&e, &json), KMFA_OK);
	assert_int_equal(kmfa_metacache_decode(json, strlen(json), &d),
	    KMFA_OK);
	assert_string_equal(d.url, e.url);
	assert_string_equal(d.etag, e.etag);
	assert_null(d.last_modified);
	assert_string_equal(d.cache_control, e.cache_control);
	assert_int_equal(d.fetched, e.fetched);
	assert_int_equal(d.expires, e.expires);
	assert_int_equal(d.body.len, e.body.len);
	assert_memory_equal(d.body.data, e.body.data, e.body.len);
	free(json);
	kmfa_metacache_entry_clear(&d);
	kmfa_metacache_entry_clear(&e);
}

static void
test_decode_refuses(void **state)
{
	static const char *bad[] = {
		"",
		"[]",
		"{\"v\":1,\"url\":\"u\",\"fetched\":1,\"expires\":2}",
		"{\"v\":2,\"url\":\"u\",\"fetched\":1,\"expires\":2,"
		    "\"body\":\"{}\"}",
		"{\"v\":1,\"url\":\"u\",\"fetched\":1,\"expires\":2,"
		    "\"body\":\"\"}",
		"{\"v\":1,\"url\":\"u\",\"fetched\":1,\"expires\":86402,"
		    "\"body\":\"{}\"}",
		"{\"v\":1,\"url\":\"u\",\"fetched\":5,\"expires\":4,"
		    "\"body\":\"{}\"}",
		"{\"v\":1,\"url\":\"u\",\"fetched\":1.5,\"expires\":2,"
		    "\"body\":\"{}\"}",
		"{\"v\":1,\"url\":\"u\",\"fetched\":-1,\"expires\":2,"
		    "\"body\":\"{}\"}",
		"{\"v\":1,\"url\":7,\"fetched\":1,\"expires\":2,"
		    "\"body\":\"{}\"}",
		"{\"v\":1,\"url\":\"u\",\"etag\":1,\"fetched\":1,\"expires\":2,"
		    "\"body\":\"{}\"}",
		"{\"v\":1,\"url\":\"u\",\"url\":\"w\",\"fetched\":1,"
		    "\"expires\":2,\"body\":\"{}\"}",
		"{\"v\":1,\"url\":\"u\",\"fetched\":1,\"expires\":2,"
		    "\"body\":\"{}\"} x",
	};
	struct kmfa_metacache_entry d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kmfa_metacache_decode(bad[i], strlen(bad[i]), &d) !=
		    KMFA_ERR_DAMAGED)
			fail_msg("decoded: %s", bad[i]);
		assert_null(d.url);
		assert_null(d.body.data);
	}
	/* The bound itself is what this program writes. */
	assert_int_equal(kmfa_metacache_decode("{\"v\":1,\"url\":\"u\","
	    "\"fetched\":1,\"expires\":86401,\"body\":\"{}\"}", 57, &d),
	    KMFA_OK);
	kmfa_metacache_entry_clear(&d);
}

static void
test_encode_refuses_a_nul(void **state)
{
	struct kmfa_metacache_entry e;
	char *json = NULL;

	(void)state;
	fill(&e);
	assert_int_equal(kmfa_buf_append(&e.body, "\0x", 2), 0);
	assert_int_not_equal(kmfa_metacache_encode(&e, &json), KMFA_OK);
	assert_null(json);
	kmfa_metacache_entry_clear(&e);
	kmfa_report_clear();
}

static void
test_fresh(void **state)
{
	struct kmfa_metacache_entry e = { .fetched = 1000, .expires = 1600 };

	(void)state;
	assert_true(kmfa_metacache_fresh(&e, 1000));
	assert_true(kmfa_metacache_fresh(&e, 1599));
	assert_false(kmfa_metacache_fresh(&e, 1600));
	/* a clock that went back by more than a minute: stale */
	assert_true(kmfa_metacache_fresh(&e, 950));
	assert_false(kmfa_metacache_fresh(&e, 900));
	e.expires = e.fetched;	/* no-cache: always revalidated */
	assert_false(kmfa_metacache_fresh(&e, 1000));
}

static void
test_no_folder_keeps_nothing(void **state)
{
	struct kmfa_metacache *mc = NULL;

	(void)state;
	assert_int_equal(kmfa_metacache_new(NULL, &mc), KMFA_OK);
	assert_int_equal(kmfa_metacache_save(mc), KMFA_OK);
	kmfa_metacache_drop(mc, "jwks", "https://idp.example/jwks");
	kmfa_metacache_free(&mc);
	assert_null(mc);
	kmfa_metacache_free(&mc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_encode_refuses_a_nul),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_no_folder_keeps_nothing),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the cache identity and freshness rules (lib/token/config.c,
 * lib/token/freshness.c): what makes two configurations share a cache entry, and
 * when a cached token may be handed out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "token/config.h"
#include "token/record.h"

static void
cfg_from(struct kmfa_config *cfg, const char *const *argv, int argc)
{
	kmfa_config_init(cfg);
	assert_int_equal(kmfa_config_parse(cfg, argc, (char *const *)argv,
	    KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN), KMFA_OK);
}

static void
key_of(const char *const *argv, int argc, char key[65])
{
	struct kmfa_config cfg;

	cfg_from(&cfg, argv, argc);
	assert_int_equal(kmfa_config_cache_key(&cfg, key), KMFA_OK);
	kmfa_config_free(&cfg);
}

#define KEY(k, ...) do { \
	const char *const v_[] = { __VA_ARGS__ }; \
	key_of(v_, (int)(sizeof(v_) / sizeof(v_[0])), k); \
} while (0)

static void
test_cache_key_ignores_scope_order_and_flag_spelling(void **state)
{
	char a[65], b[65];

	(void)state;
	KEY(a, "--oidc-issuer-url", "https://i", "--oidc-client-id", "c",
	    "--oidc-extra-scope", "email", "--oidc-extra-scope", "groups");
	KEY(b, "--oidc-client-id=c", "--oidc-extra-scope=groups",
	    "--oidc-issuer-url=https://i", "--oidc-extra-scope=email",
	    "--skew", "90s", "--timeout", "1m");
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
}

static void
test_cache_key_separates_what_changes_the_token(void **state)
{
	char base[65], k[65];

	(void)state;
	KEY(base, "--oidc-issuer-url=https://i", "--oidc-client-id=c");
	KEY(k, "--oidc-issuer-url=https://i/", "--oidc-client-id=c");
	assert_string_not_equal(base, k);
	KEY(k, "--oidc-issuer-url=https://i", "--oidc-client-id=d");
	assert_string_not_equal(base, k);
	KEY(k, "--oidc-issuer-url=https://i", "--oidc-client-id=c",
	    "--oidc-extra-scope=groups");
	assert_string_not_equal(base, k);
	KEY(k, "--oidc-issuer-url=https://i", "--oidc-client-id=c",
	    "--oidc-use-access-token");
	assert_string_not_equal(base, k);
	KEY(k, "--oidc-issuer-url=https://i", "--oidc-client-id=c",
	    "--oidc-auth-request-extra-params=acr_values=mfa");
	assert_string_not_equal(base, k);
	/* The FIDO2 policy is part of the identity: fail closed. */
	KEY(k, "--oidc-issuer-url=https://i", "--oidc-client-id=c",
	    "--fido2=off");
	assert_string_not_equal(base, k);
}

static void
test_identity_cannot_be_forged_by_separators(void **state)
{
	char a[65], b[65];

	(void)state;
	/* Length prefixes keep "a\nscope:..." from posing as two fields. */
	KEY(a, "--oidc-issuer-url=https://i", "--oidc-client-id=c\nscope:1:x");
	KEY(b, "--oidc-issuer-url=https://i", "--oidc-client-id=c",
	    "--oidc-extra-scope=x");
	assert_string_not_equal(a, b);
}

static struct kmfa_record *
record_for(const struct kmfa_config *cfg, int64_t exp, int64_t touched)
{
	struct kmfa_record *rec = kmfa_record_new();

	assert_non_null(rec);
	rec->identity = kmfa_config_identity(cfg);
	rec->token = strdup("header.payload.sig");
	rec->token_exp = exp;
	rec->touched_at = touched;
	return rec;
}

static void
test_fresh_only_until_exp_less_skew(void **state)
{
	const char *const argv[] = { "--oidc-issuer-url=https://i",
	    "--oidc-client-id=c", "--skew=30s" };
	struct kmfa_config cfg;
	struct kmfa_record *rec;
	char *id;

	(void)state;
	cfg_from(&cfg, argv, 3);
	id = kmfa_config_identity(&cfg);
	rec = record_for(&cfg, 1000, 500);
	assert_int_equal(kmfa_record_usable_until(rec, &cfg, id), 970);
	assert_true(kmfa_record_fresh(rec, &cfg, id, 969));
	assert_false(kmfa_record_fresh(rec, &cfg, id, 970));
	kmfa_record_free(&rec);
	assert_null(rec);
	free(id);
	kmfa_config_free(&cfg);
}

static void
test_session_max_caps_from_the_touch(void **state)
{
	const char *const argv[] = { "--oidc-issuer-url=https://i",
	    "--oidc-client-id=c", "--session-max=5m" };
	struct kmfa_config cfg;
	struct kmfa_record *rec;
	char *id;

	(void)state;
	cfg_from(&cfg, argv, 3);
	id = kmfa_config_identity(&cfg);
	rec = record_for(&cfg, 10000, 1000);
	assert_int_equal(kmfa_record_usable_until(rec, &cfg, id),
	    1000 + 300 - 30);
	kmfa_record_free(&rec);
	free(id);
	kmfa_config_free(&cfg);
}

static void
test_never_serves_untouched_token_when_touch_required(void **state)
{
	const char *const argv[] = { "--oidc-issuer-url=https://i",
	    "--oidc-client-id=c" };
	struct kmfa_config cfg;
	struct kmfa_record *rec;
	char *id;

	(void)state;
	cfg_from(&cfg, argv, 2);
	id = kmfa_config_identity(&cfg);
	rec = record_for(&cfg, INT64_C(4000000000), 0);
	assert_int_equal(kmfa_record_usable_until(rec, &cfg, id), 0);
	kmfa_record_free(&rec);
	free(id);
	kmfa_config_free(&cfg);
}

static void
test_never_serves_another_identity(void **state)
{
	const char *const a[] = { "--oidc-issuer-url=https://i",
	    "--oidc-client-id=c", "--fido2=off" };
	const char *const b[] = { "--oidc-issuer-url=https://evil",
	    "--oidc-client-id=c", "--fido2=off" };
	struct kmfa_config ca, cb;
	struct kmfa_record *rec;
	char *idb;

	(void)state;
	cfg_from(&ca, a, 3);
	cfg_from(&cb, b, 3);
	idb = kmfa_config_identity(&cb);
	rec = record_for(&ca, INT64_C(4000000000), 0);
	assert_int_equal(kmfa_record_usable_until(rec, &cb, idb), 0);
	kmfa_record_free(&rec);
	free(idb);
	kmfa_config_free(&ca);
	kmfa_config_free(&cb);
}

static void
test_record_round_trips_and_drops_refresh_on_request(void **state)
{
	struct kmfa_record *rec = kmfa_record_new(), *back = NULL;
	char *json = NULL;

	(void)state;
	rec->identity = strdup("id");
	rec->token = strdup("tok");
	rec->subject = strdup("alice");
	rec->token_exp = 12345;
	rec->touched_at = 100;
	rec->refresh = strdup("kmfa1.x.y");
	rec->refresh_sealed = 1;
	assert_int_equal(kmfa_record_encode(rec, 1, &json), KMFA_OK);
	assert_int_equal(kmfa_record_decode(json, strlen(json), &back), KMFA_OK);
	assert_string_equal(back->subject, "alice");
	assert_string_equal(back->refresh, "kmfa1.x.y");
	assert_true(back->refresh_sealed);
	assert_int_equal(back->token_exp, 12345);
	kmfa_record_free(&back);
	kmfa_freezero_str(json);
	assert_int_equal(kmfa_record_encode(rec, 0, &json), KMFA_OK);
	assert_null(strstr(json, "refresh"));
	kmfa_freezero_str(json);
	kmfa_record_free(&rec);
}

static void
test_record_rejects_damage(void **state)
{
	static const char *bad[] = {
		"", "{", "[]", "{\"version\":2,\"identity\":\"i\",\"token\":\"t\"}",
		"{\"version\":1,\"token\":\"t\"}",
		"{\"version\":1,\"identity\":\"i\",\"token\":5}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\","
		    "\"token_exp\":-5}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\","
		    "\"refresh_sealed\":\"yes\"}",
	};
	struct kmfa_record *rec = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kmfa_record_decode(bad[i], strlen(bad[i]),
		    &rec), KMFA_ERR_CONFIG);
		assert_null(rec);
	}
}

static void
test_durations(void **state)
{
	int64_t d;

	(void)state;
	assert_int_equal(kmfa_parse_duration("90s", &d), 0);
	assert_int_equal(d, 90);
	assert_int_equal(kmfa_parse_duration("1h30m", &d), 0);
	assert_int_equal(d, 5400);
	assert_int_equal(kmfa_parse_duration("0", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(kmfa_parse_duration("-5s", &d), -1);
	assert_int_equal(kmfa_parse_duration("5", &d), -1);
	assert_int_equal(kmfa_parse_duration("5x", &d), -1);
	assert_int_equal(kmfa_parse_duration("", &d), -1);
	assert_int_equal(kmfa_parse_duration(" 5s", &d), -1);
	assert_int_equal(kmfa_parse_duration("99999999999999999999s", &d), -1);
	assert_int_equal(kmfa_parse_duration("9000h", &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_key_ignores_scope_order_and_flag_spelling),
		cmocka_unit_test(test_cache_key_separates_what_changes_the_token),
		cmocka_unit_test(test_identity_cannot_be_forged_by_separators),
		cmocka_unit_test(test_fresh_only_until_exp_less_skew),
		cmocka_unit_test(test_session_max_caps_from_the_touch),
		cmocka_unit_test(test_never_serves_untouched_token_when_touch_required),
		cmocka_unit_test(test_never_serves_another_identity),
		cmocka_unit_test(test_record_round_trips_and_drops_refresh_on_request),
		cmocka_unit_test(test_record_rejects_damage),
		cmocka_unit_test(test_durations),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

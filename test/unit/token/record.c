/*
 * Unit tests for the cache record (lib/token/record.c) and the cache
 * identity it is filed under (lib/token/config.c): what makes two
 * configurations share an entry, when a cached token may be handed out,
 * and the record's format.  The decoder is driven by its field table, and
 * so are these tests: every member missing, of every wrong type, repeated
 * and out of range, through both entry points (the full program's and the
 * front's), which must give the same verdict.  The encoder is held to the
 * bytes cJSON wrote before it, and secrets to being wiped before free().
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/minijson.h"
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
	/* Every member set: one the table missed would not come back. */
	rec->identity = strdup("id");
	rec->issuer = strdup("https://i");
	rec->client_id = strdup("c");
	rec->token = strdup("tok");
	rec->subject = strdup("alice");
	rec->token_exp = 12345;
	rec->obtained_at = 90;
	rec->touched_at = 100;
	rec->key_name = strdup("key-1");
	rec->refresh = strdup("kmfa1.x.y");
	rec->refresh_sealed = 1;
	assert_int_equal(kmfa_record_encode(rec, 1, &json), KMFA_OK);
	assert_int_equal(kmfa_record_decode(json, strlen(json), &back), KMFA_OK);
	assert_string_equal(back->identity, "id");
	assert_string_equal(back->issuer, "https://i");
	assert_string_equal(back->client_id, "c");
	assert_string_equal(back->token, "tok");
	assert_string_equal(back->subject, "alice");
	assert_int_equal(back->token_exp, 12345);
	assert_int_equal(back->obtained_at, 90);
	assert_int_equal(back->touched_at, 100);
	assert_string_equal(back->key_name, "key-1");
	assert_string_equal(back->refresh, "kmfa1.x.y");
	assert_true(back->refresh_sealed);
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

/* ---- the record's format, driven by its field table ---- */

#define STR_AT(rec, fd) \
	(*(char *const *)(const void *)((const char *)(rec) + (fd)->offset))
#define TIME_AT(rec, fd) \
	(*(const int64_t *)(const void *)((const char *)(rec) + (fd)->offset))
#define FLAG_AT(rec, fd) \
	(*(const int *)(const void *)((const char *)(rec) + (fd)->offset))

#define TOKEN	"eyJ0b2tlbi1jYW5hcnki.cGF5bG9hZA.c2ln"
#define REFRESH	"kmfa1.cmVmcmVzaC1jYW5hcnk.c2VhbGVk"

/* A good record, member by member, as JSON text. */
static const struct {
	const char *name, *json;
} good[] = {
	{ "version", "1" },
	{ "identity", "\"v1\\nissuer:9:https://i\"" },
	{ "issuer", "\"https://i\"" },
	{ "client_id", "\"c\"" },
	{ "subject", "\"alice\"" },
	{ "token", "\"" TOKEN "\"" },
	{ "token_exp", "2000" },
	{ "obtained_at", "1000" },
	{ "touched_at", "1500" },
	{ "key_name", "\"key-1\"" },
	{ "refresh", "\"" REFRESH "\"" },
	{ "refresh_sealed", "true" },
};

/* Every member of the table has a good value here, and only those. */
static const char *
good_json(const char *name)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (strcmp(good[i].name, name) == 0)
			return good[i].json;
	fail_msg("the test has no value for the record member %s", name);
	return NULL;
}

enum how { KEEP, DROP, REPLACE, REPEAT };

/*
 * The good record with member `which` dropped, replaced by json, or
 * repeated (a second copy holding json, or the same value when NULL).
 */
static char *
doc_with(size_t which, enum how how, const char *json)
{
	struct kmfa_buf b = { 0 };
	const char *sep = "{";

	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const char *name = kmfa_record_fields[i].name;
		const char *v = good_json(name);

		if (i == which && how == DROP)
			continue;
		if (i == which && how == REPLACE)
			v = json;
		assert_int_equal(kmfa_buf_printf(&b, "%s\"%s\":%s", sep, name,
		    v), 0);
		if (i == which && how == REPEAT)
			assert_int_equal(kmfa_buf_printf(&b, ",\"%s\":%s", name,
			    json != NULL ? json : v), 0);
		sep = ",";
	}
	assert_int_equal(kmfa_buf_append(&b, "}", 1), 0);
	return b.data;
}

/* The front's copy: the members marked FRONT, equal; nothing else. */
static void
assert_front_copy(const struct kmfa_record *full,
    const struct kmfa_record *front)
{
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];
		int copied = (fd->flags & KMFA_RECORD_F_FRONT) != 0;

		switch (fd->type) {
		case KMFA_RECORD_T_VERSION:
			break;
		case KMFA_RECORD_T_STRING:
			if (!copied || STR_AT(full, fd) == NULL)
				assert_null(STR_AT(front, fd));
			else
				assert_string_equal(STR_AT(front, fd),
				    STR_AT(full, fd));
			break;
		case KMFA_RECORD_T_TIME:
			assert_true(TIME_AT(front, fd) ==
			    (copied ? TIME_AT(full, fd) : 0));
			break;
		case KMFA_RECORD_T_FLAG:
			assert_int_equal(FLAG_AT(front, fd),
			    copied ? FLAG_AT(full, fd) : 0);
			break;
		}
	}
}

/* Both entry points accept doc; the full program's record. */
static struct kmfa_record *
accepted_len(const char *doc, size_t len)
{
	struct kmfa_record *rec = NULL, *front = NULL;
	int r;

	if ((r = kmfa_record_decode(doc, len, &rec)) != KMFA_OK)
		fail_msg("refused (%d): %.*s", r, (int)len, doc);
	if ((r = kmfa_record_decode_front(doc, len, &front)) != KMFA_OK)
		fail_msg("the front refused (%d): %.*s", r, (int)len, doc);
	assert_non_null(rec);
	assert_front_copy(rec, front);
	kmfa_record_free(&front);
	return rec;
}

static struct kmfa_record *
accepted(const char *doc)
{
	return accepted_len(doc, strlen(doc));
}

/* Both entry points refuse doc as damage and hand back nothing. */
static void
refused_len(const char *doc, size_t len)
{
	static struct kmfa_record untouched;
	struct kmfa_record *rec = &untouched;
	int r;

	if ((r = kmfa_record_decode(doc, len, &rec)) != KMFA_ERR_CONFIG ||
	    rec != NULL)
		fail_msg("decoded (%d): %.*s", r, (int)len, doc);
	rec = &untouched;
	if ((r = kmfa_record_decode_front(doc, len, &rec)) !=
	    KMFA_ERR_CONFIG || rec != NULL)
		fail_msg("the front decoded (%d): %.*s", r, (int)len, doc);
}

static void
refused(const char *doc)
{
	refused_len(doc, strlen(doc));
}

static void
test_decoder_reads_every_member(void **state)
{
	struct kmfa_record *rec;
	char *doc;

	(void)state;
	doc = doc_with(SIZE_MAX, KEEP, NULL);
	rec = accepted(doc);
	assert_string_equal(rec->identity, "v1\nissuer:9:https://i");
	assert_string_equal(rec->issuer, "https://i");
	assert_string_equal(rec->client_id, "c");
	assert_string_equal(rec->subject, "alice");
	assert_string_equal(rec->token, TOKEN);
	assert_int_equal(rec->token_exp, 2000);
	assert_int_equal(rec->obtained_at, 1000);
	assert_int_equal(rec->touched_at, 1500);
	assert_string_equal(rec->key_name, "key-1");
	assert_string_equal(rec->refresh, REFRESH);
	assert_true(rec->refresh_sealed);
	kmfa_record_free(&rec);
	free(doc);
}

/* Required members are damage when missing; the others read as unset. */
static void
test_each_member_missing(void **state)
{
	(void)state;
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];
		char *doc = doc_with(i, DROP, NULL);
		struct kmfa_record *rec;

		if (fd->flags & KMFA_RECORD_F_REQUIRED) {
			refused(doc);
			free(doc);
			continue;
		}
		rec = accepted(doc);
		if (fd->type == KMFA_RECORD_T_STRING)
			assert_null(STR_AT(rec, fd));
		else if (fd->type == KMFA_RECORD_T_TIME)
			assert_true(TIME_AT(rec, fd) == 0);
		else if (fd->type == KMFA_RECORD_T_FLAG)
			assert_int_equal(FLAG_AT(rec, fd), 0);
		assert_string_equal(rec->token, TOKEN);
		kmfa_record_free(&rec);
		free(doc);
	}
}

/*
 * Values of the wrong type for each kind of member: whatever either of
 * the two decoders this one replaced refused (cJSON's took fractions and
 * exponents for times, the front's did not; neither took null for a
 * time, a flag or a required string).
 */
static const char *const not_version[] = {
	"0", "2", "-1", "1.0", "1e0", "10E-1", "\"1\"", "null", "true",
	"{}", "[1]",
};
static const char *const not_string[] = {
	"5", "-1", "1.5", "true", "false", "{}", "[]", "[\"x\"]",
	"{\"x\":\"y\"}",
};
static const char *const not_time[] = {
	"\"5\"", "true", "false", "null", "{}", "[]", "[5]", "1.5", "1.0",
	"1e3", "5E0", "2000e0", "-1", "-1000", "1000000000000001",
	"1e+15", "99999999999999999999", "-9223372036854775809",
};
static const char *const not_flag[] = {
	"\"true\"", "1", "0", "null", "{}", "[]", "[true]",
};

static void
test_each_member_of_a_wrong_type(void **state)
{
	(void)state;
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];
		const char *const *bad = NULL;
		size_t n = 0;

		switch (fd->type) {
		case KMFA_RECORD_T_VERSION:
			bad = not_version;
			n = sizeof(not_version) / sizeof(not_version[0]);
			break;
		case KMFA_RECORD_T_STRING:
			bad = not_string;
			n = sizeof(not_string) / sizeof(not_string[0]);
			break;
		case KMFA_RECORD_T_TIME:
			bad = not_time;
			n = sizeof(not_time) / sizeof(not_time[0]);
			break;
		case KMFA_RECORD_T_FLAG:
			bad = not_flag;
			n = sizeof(not_flag) / sizeof(not_flag[0]);
			break;
		}
		assert_true(n > 0);
		for (size_t k = 0; k < n; k++) {
			char *doc = doc_with(i, REPLACE, bad[k]);

			refused(doc);
			free(doc);
		}
	}
}

/* null is "not there" for an optional string, damage for a required one. */
static void
test_null_string_is_absent_only_when_optional(void **state)
{
	(void)state;
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];
		struct kmfa_record *rec;
		char *doc;

		if (fd->type != KMFA_RECORD_T_STRING)
			continue;
		doc = doc_with(i, REPLACE, "null");
		if (fd->flags & KMFA_RECORD_F_REQUIRED) {
			refused(doc);
		} else {
			rec = accepted(doc);
			assert_null(STR_AT(rec, fd));
			kmfa_record_free(&rec);
		}
		free(doc);
	}
}

/* A second copy could carry another token or identity: refused. */
static void
test_each_member_repeated(void **state)
{
	(void)state;
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		char *same = doc_with(i, REPEAT, NULL);
		char *other = doc_with(i, REPEAT,
		    kmfa_record_fields[i].type == KMFA_RECORD_T_STRING ?
		    "\"other\"" : kmfa_record_fields[i].type ==
		    KMFA_RECORD_T_FLAG ? "false" : "1");

		refused(same);
		refused(other);
		free(same);
		free(other);
	}
}

/* Times are whole seconds in [0, KMFA_RECORD_TIME_MAX], both ends in. */
static void
test_times_in_range(void **state)
{
	char max[32];

	(void)state;
	(void)snprintf(max, sizeof(max), "%" PRId64, KMFA_RECORD_TIME_MAX);
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];
		struct kmfa_record *rec;
		char *doc;

		if (fd->type != KMFA_RECORD_T_TIME)
			continue;
		doc = doc_with(i, REPLACE, "0");
		rec = accepted(doc);
		assert_true(TIME_AT(rec, fd) == 0);
		kmfa_record_free(&rec);
		free(doc);
		doc = doc_with(i, REPLACE, max);
		rec = accepted(doc);
		assert_true(TIME_AT(rec, fd) == KMFA_RECORD_TIME_MAX);
		kmfa_record_free(&rec);
		free(doc);
	}
}

/*
 * The document as a whole: one object, exactly, in strict JSON.  Each of
 * these was refused by one of the two old decoders at least (cJSON's
 * read past trailing bytes and odd whitespace and cut strings at \u0000;
 * the front's refused them).
 */
static void
test_refuses_what_either_old_decoder_refused(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[]", "null", "1", "\"record\"",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\"} x",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\"}{}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\"},",
		"{\"version\":1,\f\"identity\":\"i\",\"token\":\"t\"}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\"}\v",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\\u0000x\"}",
		"{\"version\":1,\"identity\":\"i\\u0000\",\"token\":\"t\"}",
		"{\"version\":1,\"identity\":\"i\x01\",\"token\":\"t\"}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\n\"}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\\ud800\"}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\\x\"}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\",}",
		"{\"version\":1,\"identity\":\"i\",\"token\":\"t\",\"x\":01}",
		"{'version':1,'identity':'i','token':'t'}",
	};
	static const char nul[] = "{\"version\":1,\"identity\":\"i\","
	    "\"token\":\"t\"}\0";
	struct kmfa_record *rec;
	char deep[300], *big;
	size_t n = 0, len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	/* A NUL after the object (the length counts it). */
	refused_len(nul, sizeof(nul) - 1);
	/* Nesting deeper than minijson's limit, in a member nobody reads. */
	n = (size_t)snprintf(deep, sizeof(deep), "{\"version\":1,\"identity\":"
	    "\"i\",\"token\":\"t\",\"x\":");
	for (int d = 0; d < KMFA_MINIJSON_DEPTH; d++)
		deep[n++] = '[';
	for (int d = 0; d < KMFA_MINIJSON_DEPTH; d++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	refused(deep);
	/* One byte over the size limit, padded in an unknown member. */
	len = KMFA_RECORD_MAX + 1;
	big = malloc(len + 1);
	assert_non_null(big);
	n = (size_t)snprintf(big, len + 1, "{\"version\":1,\"identity\":\"i\","
	    "\"token\":\"t\",\"pad\":\"");
	memset(big + n, 'a', len - n - 2);
	memcpy(big + len - 2, "\"}", 3);
	assert_int_equal(strlen(big), len);
	refused(big);
	/* At the limit it reads. */
	memmove(big + len - 3, "\"}", 3);
	rec = accepted(big);
	kmfa_record_free(&rec);
	free(big);
}

/* Members outside the table are ignored (but may not repeat: minijson
 * refuses a name given twice in any object), and the four whitespace
 * bytes of RFC 8259 are fine anywhere between tokens. */
static void
test_reads_unknown_members_and_plain_whitespace(void **state)
{
	struct kmfa_record *rec;

	(void)state;
	refused(" {\"x\":[1,{\"y\":null}],\"version\" : 1,\n\t"
	    "\"identity\":\"i\",\"x\":2,\"token\":\"t\"}\r\n");
	rec = accepted(" {\"x\":[1,{\"y\":null}],\"version\" : 1,\n\t"
	    "\"identity\":\"i\",\"z\":2,\"token\":\"t\"}\r\n");
	assert_string_equal(rec->identity, "i");
	assert_string_equal(rec->token, "t");
	assert_null(rec->refresh);
	kmfa_record_free(&rec);
}

/* The encoder as it was, over cJSON: the bytes records have had so far. */
static char *
cjson_encode(const struct kmfa_record *rec, int with_refresh)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	assert_non_null(o);
#define S(k, v) do { if ((v) != NULL) \
	assert_non_null(cJSON_AddStringToObject(o, k, v)); } while (0)
#define N(k, v) assert_non_null(cJSON_AddNumberToObject(o, k, (double)(v)))
	N("version", KMFA_RECORD_VERSION);
	S("identity", rec->identity);
	S("issuer", rec->issuer);
	S("client_id", rec->client_id);
	S("subject", rec->subject);
	S("token", rec->token);
	N("token_exp", rec->token_exp);
	N("obtained_at", rec->obtained_at);
	N("touched_at", rec->touched_at);
	S("key_name", rec->key_name);
	if (with_refresh && rec->refresh != NULL) {
		S("refresh", rec->refresh);
		assert_non_null(cJSON_AddBoolToObject(o, "refresh_sealed",
		    rec->refresh_sealed != 0));
	}
#undef S
#undef N
	s = cJSON_PrintUnformatted(o);
	assert_non_null(s);
	cJSON_Delete(o);
	return s;
}

/*
 * Byte for byte what cJSON wrote, for every time a record can hold in
 * practice (exp is bounded by year 9999) and strings with every escape,
 * so that mirrors written before compare equal (store.c) and old files
 * read back the same.
 */
static void
test_encoder_writes_what_cjson_wrote(void **state)
{
	static const int64_t times[] = {
		0, 1, 1700000000, INT32_MAX, (int64_t)INT32_MAX + 1,
		UINT32_MAX, 4000000000, INT64_C(253402300799),
		INT64_C(999999999999999),
	};
	static const char odd[] = "\x01\x02\b\f\n\r\t\x1f\x7f \"q\" \\ / "
	    "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 </script>";
	struct kmfa_record *rec = kmfa_record_new(), *back;
	char *ours, *theirs;

	(void)state;
	assert_non_null(rec);
	rec->identity = strdup("v1\nissuer:9:https://i\nclient:1:c");
	rec->token = strdup(TOKEN);
	for (int round = 0; round < 4; round++) {
		if (round == 1) {
			rec->issuer = strdup(odd);
			rec->subject = strdup("");
			rec->refresh = strdup(REFRESH);
		} else if (round == 2) {
			rec->client_id = strdup(odd + 3);
			rec->key_name = strdup("key \"1\"");
			rec->refresh_sealed = 1;
		} else if (round == 3) {
			kmfa_freezero_str(rec->token);
			rec->token = strdup(odd);
		}
		for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
			rec->token_exp = times[t];
			rec->obtained_at = times[(t + 3) % 9];
			rec->touched_at = times[(t + 5) % 9];
			for (int with = 0; with < 2; with++) {
				assert_int_equal(kmfa_record_encode(rec, with,
				    &ours), KMFA_OK);
				theirs = cjson_encode(rec, with);
				assert_string_equal(ours, theirs);
				back = accepted(ours);
				assert_string_equal(back->token, rec->token);
				assert_true(back->touched_at ==
				    rec->touched_at);
				kmfa_record_free(&back);
				cJSON_free(theirs);
				kmfa_freezero_str(ours);
			}
		}
	}
	kmfa_record_free(&rec);
}

/*
 * Secrets and free(): this binary defines free(), which the static
 * library's calls reach first (the executable comes first in symbol
 * lookup); while a canary is set, every block handed to free() is
 * searched for it before going on to the next free() (libasan's under
 * `make check`, libc's otherwise).  Under valgrind the executable's free()
 * is redirected and nothing can be seen: the probe says so and the case
 * is skipped, saying why.
 */
static void (*next_free)(void *);
static const char *volatile canary[2];
static volatile int frees_seen, dirty_frees;

__attribute__((constructor)) static void
resolve_free(void)
{
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
}

void
free(void *p)
{
	if (p != NULL && canary[0] != NULL) {
		size_t n = malloc_usable_size(p);

		frees_seen++;
		for (int i = 0; i < 2; i++)
			if (canary[i] != NULL && memmem(p, n, canary[i],
			    strlen(canary[i])) != NULL)
				dirty_frees++;
	}
	if (next_free != NULL)
		next_free(p);
}

/* Start searching every freed block for a (and b, unless NULL). */
static void
search_frees_for(const char *a, const char *b)
{
	frees_seen = dirty_frees = 0;
	canary[1] = b;
	canary[0] = a;
}

/* Stop searching; the counts stay for the test to read. */
static void
stop_searching(void)
{
	canary[0] = NULL;
	canary[1] = NULL;
}

/* Does a free() of a block holding the canary reach our wrapper? */
static int
free_is_observable(void)
{
	char *p = strdup("probe " TOKEN);
	int seen;

	assert_non_null(p);
	search_frees_for(TOKEN, NULL);
	free(p);
	stop_searching();
	seen = dirty_frees == 1;
	if (!seen)
		print_message("free() is replaced by the runtime (valgrind?): "
		    "what it is handed cannot be observed in this process\n");
	return seen;
}

/*
 * The members marked secret (the token, the refresh token) never reach
 * free() in clear: not from the decoder, the front's decoder, the
 * encoder's growing buffer, nor kmfa_record_free.
 */
static void
test_secrets_never_reach_free_in_clear(void **state)
{
	struct kmfa_record *rec = NULL, *front = NULL;
	char *doc, *enc = NULL;
	size_t len;
	int secrets = 0;

	(void)state;
	/* The canaries are the table's secrets, and only those. */
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const char *v = good_json(kmfa_record_fields[i].name);
		int canary_in = strstr(v, TOKEN) != NULL ||
		    strstr(v, REFRESH) != NULL;

		assert_int_equal(canary_in, (kmfa_record_fields[i].flags &
		    KMFA_RECORD_F_SECRET) != 0);
		secrets += canary_in;
	}
	assert_int_equal(secrets, 2);
	if (!free_is_observable())
		skip();
	doc = doc_with(SIZE_MAX, KEEP, NULL);
	len = strlen(doc);
	search_frees_for(TOKEN, REFRESH);
	assert_int_equal(kmfa_record_decode(doc, len, &rec), KMFA_OK);
	assert_int_equal(kmfa_record_decode_front(doc, len, &front), KMFA_OK);
	assert_null(front->refresh);
	kmfa_record_free(&front);
	for (int with = 1; with >= 0; with--) {
		assert_int_equal(kmfa_record_encode(rec, with, &enc), KMFA_OK);
		kmfa_freezero_str(enc);
	}
	kmfa_record_free(&rec);
	stop_searching();
	/* Two records and their eight strings, two encodings at least. */
	assert_true(frees_seen >= 13);
	assert_int_equal(dirty_frees, 0);
	free(doc);
}

static void
test_durations(void **state)
{
	int64_t d;

	(void)state;
	assert_int_equal(kmfa_config_parse_duration("90s", &d), 0);
	assert_int_equal(d, 90);
	assert_int_equal(kmfa_config_parse_duration("1h30m", &d), 0);
	assert_int_equal(d, 5400);
	assert_int_equal(kmfa_config_parse_duration("0", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(kmfa_config_parse_duration("-5s", &d), -1);
	assert_int_equal(kmfa_config_parse_duration("5", &d), -1);
	assert_int_equal(kmfa_config_parse_duration("5x", &d), -1);
	assert_int_equal(kmfa_config_parse_duration("", &d), -1);
	assert_int_equal(kmfa_config_parse_duration(" 5s", &d), -1);
	assert_int_equal(kmfa_config_parse_duration("99999999999999999999s", &d), -1);
	assert_int_equal(kmfa_config_parse_duration("9000h", &d), -1);
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
		cmocka_unit_test(test_decoder_reads_every_member),
		cmocka_unit_test(test_each_member_missing),
		cmocka_unit_test(test_each_member_of_a_wrong_type),
		cmocka_unit_test(test_null_string_is_absent_only_when_optional),
		cmocka_unit_test(test_each_member_repeated),
		cmocka_unit_test(test_times_in_range),
		cmocka_unit_test(test_refuses_what_either_old_decoder_refused),
		cmocka_unit_test(test_reads_unknown_members_and_plain_whitespace),
		cmocka_unit_test(test_encoder_writes_what_cjson_wrote),
		cmocka_unit_test(test_secrets_never_reach_free_in_clear),
		cmocka_unit_test(test_durations),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * lib/base/json.c: the strict gate every cJSON parse goes through.  Each
 * refusal is a way two parsers could read one document differently (or a
 * way to make the reading expensive); each has its case here, next to the
 * documents that must still parse: whitespace around the value, escapes
 * that are not a NUL, the same name in different objects, and nesting up
 * to the bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"

#define MAX (1024 * 1024)

static void
refuses_n(const char *text, size_t len, const char *want)
{
	cJSON *doc = (cJSON *)(uintptr_t)1;
	char why[KMFA_JSON_WHY_MAX];

	kmfa_report_clear();
	assert_int_equal(kmfa_json_parse_object(text, len, MAX, &doc, why,
	    sizeof(why)), KMFA_ERR_DAMAGED);
	assert_null(doc);
	if (strstr(why, want) == NULL)
		fail_msg("'%s' refused as '%s', wanted '%s'", text, why, want);
	/* The caller names the document and records the cause. */
	assert_null(kmfa_report_cause());
}

static void
refuses(const char *text, const char *want)
{
	refuses_n(text, strlen(text), want);
}

static cJSON *
parses_n(const char *text, size_t len)
{
	cJSON *doc = NULL;
	char why[KMFA_JSON_WHY_MAX] = "";

	if (kmfa_json_parse_object(text, len, MAX, &doc, why, sizeof(why)) !=
	    KMFA_OK)
		fail_msg("'%s' refused: %s", text, why);
	assert_non_null(doc);
	return doc;
}

static cJSON *
parses(const char *text)
{
	return parses_n(text, strlen(text));
}

/* n arrays inside one another, in an object: {"a":[[...]]} */
static char *
nested(size_t n)
{
	char *s = malloc(n * 2 + 8);

	assert_non_null(s);
	memcpy(s, "{\"a\":", 5);
	memset(s + 5, '[', n);
	memset(s + 5 + n, ']', n);
	memcpy(s + 5 + 2 * n, "}", 2);
	return s;
}

static void
test_parses_a_valid_document(void **state)
{
	cJSON *doc;
	const cJSON *m;

	(void)state;
	doc = parses(" \t\r\n{\"iss\":\"https://i.example\",\"n\":-1.5e3,"
	    "\"ok\":true,\"none\":null,\"list\":[1,\"two\",{\"three\":3}],"
	    "\"esc\":\"a\\u0041\\n\\\"\\\\\\u00e9\\ud83d\\ude00\"}\n ");
	m = cJSON_GetObjectItemCaseSensitive(doc, "iss");
	assert_true(cJSON_IsString(m));
	assert_string_equal(m->valuestring, "https://i.example");
	m = cJSON_GetObjectItemCaseSensitive(doc, "esc");
	assert_string_equal(m->valuestring, "aA\n\"\\\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(cJSON_GetArraySize(
	    cJSON_GetObjectItemCaseSensitive(doc, "list")), 3);
	cJSON_Delete(doc);
	cJSON_Delete(parses("{}"));
}

/* Only len bytes are read: no NUL needed, and what follows is not read. */
static void
test_reads_exactly_len_bytes(void **state)
{
	const char buf[] = "{\"a\":1}GARBAGE";
	char *copy;
	cJSON *doc;

	(void)state;
	cJSON_Delete(parses_n(buf, 7));
	refuses_n(buf, 6, "is not valid JSON");
	refuses_n(buf, 8, "has data after its JSON value");
	/* Not NUL-terminated at all: ASan would see an overread. */
	assert_non_null(copy = malloc(7));
	memcpy(copy, buf, 7);
	doc = parses_n(copy, 7);
	cJSON_Delete(doc);
	free(copy);
}

static void
test_refuses_empty(void **state)
{
	(void)state;
	refuses("", "is empty");
	refuses_n(NULL, 0, "is empty");
	refuses_n(NULL, 5, "is empty");
}

static void
test_refuses_larger_than_max(void **state)
{
	cJSON *doc = NULL;
	char why[KMFA_JSON_WHY_MAX];
	const char *text = "{\"a\":\"0123456789\"}";

	(void)state;
	assert_int_equal(kmfa_json_parse_object(text, strlen(text), 17, &doc,
	    why, sizeof(why)), KMFA_ERR_DAMAGED);
	assert_null(doc);
	assert_string_equal(why, "is larger than 17 bytes");
	assert_int_equal(kmfa_json_parse_object(text, strlen(text), 18, &doc,
	    why, sizeof(why)), KMFA_OK);
	cJSON_Delete(doc);
}

/* cJSON would end "alice\u0000admin" at "alice": a C string stops there. */
static void
test_refuses_nul_escaped(void **state)
{
	(void)state;
	refuses("{\"sub\":\"alice\\u0000admin\"}", "contains a NUL character");
	refuses("{\"a\\u0000b\":1}", "contains a NUL character");
	refuses("{\"a\":[\"\\u0000\"]}", "contains a NUL character");
}

static void
test_refuses_nul_raw(void **state)
{
	(void)state;
	refuses_n("{\"sub\":\"alice\0admin\"}", 21, "contains a NUL character");
	refuses_n("{\"a\":1}\0", 8, "contains a NUL character");
}

/* A backslash before the text u0000 is an escaped backslash, not a NUL. */
static void
test_accepts_escapes_that_are_not_nul(void **state)
{
	cJSON *doc;

	(void)state;
	doc = parses("{\"a\":\"\\\\u0000\",\"b\":\"\\u0001\\u0100\"}");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc,
	    "a")->valuestring, "\\u0000");
	cJSON_Delete(doc);
	/* ...but "\u00000" is \u0000 followed by a '0'. */
	refuses("{\"b\":\"\\u00000\"}", "contains a NUL character");
}

static void
test_refuses_raw_control_characters(void **state)
{
	(void)state;
	refuses("{\"a\":\"x\x1b[2Jy\"}", "contains a raw control character");
	refuses("{\"a\":\"line\nbreak\"}", "contains a raw control character");
	refuses("{\x01\"a\":1}", "contains a raw control character");
	refuses("\x0c{\"a\":1}", "contains a raw control character");
	/* The four whitespace bytes of RFC 8259 §2 are fine between tokens. */
	cJSON_Delete(parses("{\t\"a\"\r\n:\n1 }"));
}

static void
test_refuses_nesting_beyond_the_bound(void **state)
{
	/* The object is one level: KMFA_JSON_DEPTH_MAX - 1 arrays fit. */
	char *ok = nested(KMFA_JSON_DEPTH_MAX - 1);
	char *deep = nested(KMFA_JSON_DEPTH_MAX);
	char *deeper = nested(100000);

	(void)state;
	cJSON_Delete(parses(ok));
	refuses(deep, "is nested too deeply");
	refuses(deeper, "is nested too deeply");
	/* Brackets inside a string are text, not nesting: {"a":"[[[...[["} */
	deeper[5] = '"';
	memcpy(deeper + 100000, "\"}", 3);
	cJSON_Delete(parses(deeper));
	free(ok);
	free(deep);
	free(deeper);
}

static void
test_refuses_trailing_bytes(void **state)
{
	(void)state;
	refuses("{} {}", "has data after its JSON value");
	refuses("{\"a\":1}x", "has data after its JSON value");
	refuses("{\"a\":1},", "has data after its JSON value");
	cJSON_Delete(parses("{\"a\":1} \t\r\n"));
}

static void
test_refuses_what_is_not_json(void **state)
{
	(void)state;
	refuses("<html>502 Bad Gateway</html>", "is not valid JSON");
	refuses("{\"a\":1", "is not valid JSON");
	refuses("{\"a\":\"unterminated}", "is not valid JSON");
	refuses("{'a':1}", "is not valid JSON");
	refuses("{\"a\":\"\\q\"}", "is not valid JSON");
}

static void
test_refuses_what_is_not_an_object(void **state)
{
	(void)state;
	refuses("[{\"a\":1}]", "is not a JSON object");
	refuses("\"a\"", "is not a JSON object");
	refuses("42", "is not a JSON object");
	refuses("null", "is not a JSON object");
}

/* cJSON reads the first of two members, other parsers the last. */
static void
test_refuses_duplicate_members_at_any_depth(void **state)
{
	(void)state;
	refuses("{\"iss\":\"a\",\"iss\":\"b\"}", "has iss twice");
	refuses("{\"a\":{\"b\":1,\"c\":2,\"b\":3}}", "has b twice");
	refuses("{\"keys\":[{\"kty\":\"RSA\"},{\"n\":\"x\",\"kid\":\"1\","
	    "\"kid\":\"2\"}]}", "has kid twice");
	refuses("{\"a\":[[[{\"x\":1,\"y\":2,\"x\":1}]]]}", "has x twice");
	/* Names are compared exactly: case and escapes matter as decoded. */
	refuses("{\"kid\":1,\"k\\u0069d\":2}", "has kid twice");
	/* The name is shown fit for a terminal. */
	refuses("{\"\\u001b[2J\":1,\"\\u001b[2J\":2}", "has ?[2J twice");
}

static void
test_accepts_the_same_name_in_different_objects(void **state)
{
	cJSON *doc;

	(void)state;
	doc = parses("{\"kid\":\"a\",\"Kid\":\"b\",\"keys\":[{\"kid\":\"1\"},"
	    "{\"kid\":\"2\"}],\"o\":{\"kid\":\"3\"}}");
	cJSON_Delete(doc);
}

/* Many members, one repeated at the end: found, and in n log n. */
static void
test_refuses_a_duplicate_among_many(void **state)
{
	size_t n = 50000, len = 0;
	char *s = malloc(n * 16 + 32);

	(void)state;
	assert_non_null(s);
	s[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, 16, "\"m%zu\":0,", i);
	len += (size_t)snprintf(s + len, 16, "\"m%zu\":1}", n / 2);
	refuses_n(s, len, "has m25000 twice");
	/* Without the repeat it parses. */
	len -= strlen("\"m25000\":1}") + 1;
	memcpy(s + len, "}", 2);
	cJSON_Delete(parses_n(s, len + 1));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_a_valid_document),
		cmocka_unit_test(test_reads_exactly_len_bytes),
		cmocka_unit_test(test_refuses_empty),
		cmocka_unit_test(test_refuses_larger_than_max),
		cmocka_unit_test(test_refuses_nul_escaped),
		cmocka_unit_test(test_refuses_nul_raw),
		cmocka_unit_test(test_accepts_escapes_that_are_not_nul),
		cmocka_unit_test(test_refuses_raw_control_characters),
		cmocka_unit_test(test_refuses_nesting_beyond_the_bound),
		cmocka_unit_test(test_refuses_trailing_bytes),
		cmocka_unit_test(test_refuses_what_is_not_json),
		cmocka_unit_test(test_refuses_what_is_not_an_object),
		cmocka_unit_test(test_refuses_duplicate_members_at_any_depth),
		cmocka_unit_test(test_accepts_the_same_name_in_different_objects),
		cmocka_unit_test(test_refuses_a_duplicate_among_many),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

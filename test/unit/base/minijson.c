/*
 * Unit tests for the front's strict JSON reader (lib/base/minijson.c): what it
 * decodes must be what cJSON would decode, and whatever could read two
 * ways (a repeated member, a NUL, a lone surrogate, bytes after the
 * object) must be refused, so that the front never answers differently
 * from the full program.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "base/minijson.h"

/* What the front reads, the full program must read (fuzz_execinfo). */
_Static_assert(KMFA_MINIJSON_DEPTH == KMFA_JSON_DEPTH_MAX,
    "minijson nests as deep as the full program's reader, no deeper");

/* Scan doc for the one field at path; the scan's verdict. */
static int
scan1(const char *doc, struct kmfa_minijson_field *f)
{
	return kmfa_minijson_scan(doc, strlen(doc), f, 1);
}

/* The string at top-level key k of doc, or NULL when refused. */
static char *
str_of(const char *doc, const char *k)
{
	struct kmfa_minijson_field f = { .path = { k } };
	char *s = NULL;

	if (scan1(doc, &f) != 0 || kmfa_minijson_string(&f, &s) != 0)
		return NULL;
	return s;
}

static void
assert_str(const char *doc, const char *want)
{
	char *s = str_of(doc, "k");

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
assert_refused(const char *doc)
{
	struct kmfa_minijson_field f = { .path = { "k" } };

	assert_int_equal(scan1(doc, &f), -1);
}

static void
test_decodes_every_escape(void **state)
{
	(void)state;
	assert_str("{\"k\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"}",
	    "a\"b\\c/d\be\ff\ng\rh\ti");
	assert_str("{\"k\":\"\\u0041\\u00e9\\u20AC\"}", "A\xc3\xa9\xe2\x82\xac");
	assert_str("{\"k\":\"\"}", "");
	/* Raw UTF-8 passes through, as cJSON passes it. */
	assert_str("{\"k\":\"\xc3\xa9\"}", "\xc3\xa9");
}

static void
test_decodes_surrogate_pairs(void **state)
{
	(void)state;
	assert_str("{\"k\":\"\\ud83d\\ude00\"}", "\xf0\x9f\x98\x80");
	assert_str("{\"k\":\"\\uDBFF\\uDFFF\"}", "\xf4\x8f\xbf\xbf");
}

static void
test_rejects_lone_surrogates(void **state)
{
	(void)state;
	assert_refused("{\"k\":\"\\ud83d\"}");
	assert_refused("{\"k\":\"\\ud83dx\"}");
	assert_refused("{\"k\":\"\\ud83d\\u0041\"}");
	assert_refused("{\"k\":\"\\ude00\"}");
	assert_refused("{\"k\":\"\\ud83d\\ud83d\"}");
}

static void
test_rejects_control_characters(void **state)
{
	(void)state;
	assert_refused("{\"k\":\"a\nb\"}");
	assert_refused("{\"k\":\"a\tb\"}");
	assert_refused("{\"k\":\"\x1f\"}");
	/* In a key, and in a value nobody asked for. */
	assert_refused("{\"\x01\":1,\"k\":\"v\"}");
	assert_refused("{\"o\":\"\x7f\x01\",\"k\":\"v\"}");
}

static void
test_rejects_nul(void **state)
{
	struct kmfa_minijson_field f = { .path = { "k" } };
	static const char doc[] = "{\"k\":\"a\0b\"}";

	(void)state;
	assert_refused("{\"k\":\"a\\u0000b\"}");
	assert_refused("{\"k\\u0000\":\"v\"}");
	assert_int_equal(kmfa_minijson_scan(doc, sizeof(doc) - 1, &f, 1), -1);
}

static void
test_rejects_bad_escapes(void **state)
{
	(void)state;
	assert_refused("{\"k\":\"\\x41\"}");
	assert_refused("{\"k\":\"\\u12\"}");
	assert_refused("{\"k\":\"\\u12g4\"}");
	assert_refused("{\"k\":\"\\'\"}");
	assert_refused("{\"k\":\"abc\\\"}");
	assert_refused("{\"k\":\"abc");
}

static void
test_rejects_duplicate_keys(void **state)
{
	struct kmfa_minijson_field f = { .path = { "spec", "interactive" } };
	const char *dup_nested = "{\"spec\":{\"interactive\":true},"
	    "\"spec\":{\"interactive\":false}}";
	const char *dup_parent = "{\"spec\":{\"x\":1},"
	    "\"spec\":{\"interactive\":false}}";

	(void)state;
	assert_refused("{\"k\":\"a\",\"k\":\"b\"}");
	assert_refused("{\"k\":\"a\",\"\\u006b\":\"b\"}");
	assert_int_equal(scan1(dup_nested, &f), -1);
	/* cJSON reads the first "spec": a second must not change the answer. */
	assert_int_equal(scan1(dup_parent, &f), -1);
	/* The same key in another object is another member. */
	assert_str("{\"o\":{\"k\":\"inner\"},\"k\":\"v\"}", "v");
}

/*
 * The full program's reader (base/json.c) refuses a name given twice in
 * any object, so the front must too, or it would answer a document the
 * full program refuses (fuzz_execinfo): names nobody asked for, at any
 * depth, compared decoded.
 */
static void
test_rejects_duplicates_anywhere(void **state)
{
	struct kmfa_minijson_field f = { .path = { "k" } };
	char big[KMFA_MINIJSON_KEYS * 8 + 64];
	size_t n = 0, i;

	(void)state;
	assert_refused("{\"k\":\"v\",\"a\":1,\"a\":1}");
	assert_refused("{\"x\":1,\"x\":2,\"k\":\"v\"}");
	assert_refused("{\"k\":\"v\",\"o\":{\"a\":1,\"b\":{},\"a\":2}}");
	assert_refused("{\"k\":\"v\",\"l\":[{\"a\":1},{\"b\":{\"c\":1,"
	    "\"c\":1}}]}");
	/* Decoded, as cJSON's names are: escapes, surrogate pairs, UTF-8. */
	assert_refused("{\"k\":\"v\",\"a\":1,\"\\u0061\":1}");
	assert_refused("{\"k\":\"v\",\"\\/\":1,\"/\":1}");
	assert_refused("{\"k\":\"v\",\"\xc3\xa9\":1,\"\\u00E9\":1}");
	assert_refused("{\"k\":\"v\",\"\\ud83d\\ude00x\":1,"
	    "\"\xf0\x9f\x98\x80x\":1}");
	assert_refused("{\"k\":\"v\",\"\\n\\t\":1,\"\\u000a\\u0009\":1}");
	/* Byte for byte: case and near misses are other names. */
	assert_str("{\"k\":\"v\",\"a\":1,\"A\":1,\"\\u0062\":1,\"ab\":1}",
	    "v");
	assert_str("{\"k\":\"v\",\"\\u00e9\":1,\"\\u00e8\":1,\"e\":1}", "v");
	/* Siblings and an object's own names may match its parent's. */
	assert_str("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":1},\"k\":\"v\"}",
	    "v");
	assert_str("{\"l\":[{\"a\":1},{\"a\":2}],\"k\":\"v\"}", "v");
	/* Up to KMFA_MINIJSON_KEYS names open at once read; one more is
	 * refused as doubt rather than left unchecked. */
	n = (size_t)snprintf(big, sizeof(big), "{\"k\":\"v\"");
	for (i = 1; i < KMFA_MINIJSON_KEYS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ",\"%zu\":1", i);
	(void)snprintf(big + n, sizeof(big) - n, "}");
	assert_int_equal(scan1(big, &f), 0);
	(void)snprintf(big + n, sizeof(big) - n, ",\"x\":1}");
	assert_int_equal(scan1(big, &f), -1);
}

static void
test_rejects_trailing_garbage(void **state)
{
	(void)state;
	assert_str(" \t\r\n{\"k\":\"v\"} \n", "v");
	assert_refused("{\"k\":\"v\"}x");
	assert_refused("{\"k\":\"v\"}{}");
	assert_refused("{\"k\":\"v\"}\f");
	assert_refused("{\"k\":\"v\",}");
	assert_refused("{\"k\":\"v\"");
	assert_refused("[\"k\"]");
	assert_refused("\"k\"");
	assert_refused("");
}

static void
test_limits_nesting(void **state)
{
	char doc[2 * KMFA_MINIJSON_DEPTH + 64];
	size_t n = 0;
	int i, depth;

	(void)state;
	for (depth = KMFA_MINIJSON_DEPTH; depth <= KMFA_MINIJSON_DEPTH + 1; depth++) {
		struct kmfa_minijson_field f = { .path = { "k" } };

		/* One object and depth - 1 arrays inside it. */
		n = 0;
		memcpy(doc, "{\"a\":", 5);
		n = 5;
		for (i = 1; i < depth; i++)
			doc[n++] = '[';
		for (i = 1; i < depth; i++)
			doc[n++] = ']';
		doc[n++] = '}';
		assert_int_equal(kmfa_minijson_scan(doc, n, &f, 1),
		    depth <= KMFA_MINIJSON_DEPTH ? 0 : -1);
	}
}

static int64_t
int_of(const char *doc, int *ok)
{
	struct kmfa_minijson_field f = { .path = { "k" } };
	int64_t v = 0;

	*ok = scan1(doc, &f) == 0 && kmfa_minijson_int(&f, &v) == 0;
	return v;
}

static void
test_reads_integers_and_rejects_overflow(void **state)
{
	int ok;

	(void)state;
	assert_int_equal(int_of("{\"k\":1700000000}", &ok), 1700000000);
	assert_true(ok);
	assert_int_equal(int_of("{\"k\":-5}", &ok), -5);
	assert_true(ok);
	assert_true(int_of("{\"k\":9223372036854775807}", &ok) == INT64_MAX);
	assert_true(ok);
	assert_true(int_of("{\"k\":-9223372036854775808}", &ok) == INT64_MIN);
	assert_true(ok);
	int_of("{\"k\":9223372036854775808}", &ok);
	assert_false(ok);
	int_of("{\"k\":-9223372036854775809}", &ok);
	assert_false(ok);
	int_of("{\"k\":99999999999999999999999}", &ok);
	assert_false(ok);
	/* Valid JSON numbers, but not integers. */
	int_of("{\"k\":1.0}", &ok);
	assert_false(ok);
	int_of("{\"k\":1e3}", &ok);
	assert_false(ok);
	int_of("{\"k\":\"1\"}", &ok);
	assert_false(ok);
	/* Not JSON numbers at all. */
	assert_refused("{\"k\":01}");
	assert_refused("{\"k\":+1}");
	assert_refused("{\"k\":1.}");
	assert_refused("{\"k\":.5}");
	assert_refused("{\"k\":1e}");
	assert_refused("{\"k\":-}");
}

/*
 * A member that is not there has no text (raw is NULL): every getter
 * refuses it without forming its span, NULL + 0 being undefined (clang's
 * UBSan reports it: the fuzz build, or `make check CC=clang`).
 */
static void
test_getters_refuse_an_absent_field(void **state)
{
	struct kmfa_minijson_field f = { .path = { "k" } };
	char buf[8], *s = NULL;
	int64_t v = 7;
	int b = 7;

	(void)state;
	assert_int_equal(scan1("{\"other\":1}", &f), 0);
	assert_int_equal(f.type, KMFA_MINIJSON_ABSENT);
	assert_null(f.raw);
	assert_int_equal(kmfa_minijson_int(&f, &v), -1);
	assert_int_equal(kmfa_minijson_bool(&f, &b), -1);
	assert_int_equal(kmfa_minijson_string_buf(&f, buf, sizeof(buf), NULL), -1);
	assert_int_equal(kmfa_minijson_string(&f, &s), -1);
	assert_null(s);
}

static void
test_finds_nested_paths(void **state)
{
	struct kmfa_minijson_field f[] = {
		{ .path = { "spec", "interactive" } },
		{ .path = { "a", "b", "c" } },
		{ .path = { "apiVersion" } },
		{ .path = { "missing", "x" } },
	};
	const char *doc = "{\"apiVersion\":\"v\",\"spec\":{\"x\":[1,{\"c\":2}],"
	    "\"interactive\":true},\"a\":{\"b\":{\"c\":\"deep\"}}}";
	char buf[8];
	int b;

	(void)state;
	assert_int_equal(kmfa_minijson_scan(doc, strlen(doc), f, 4), 0);
	assert_int_equal(kmfa_minijson_bool(&f[0], &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(kmfa_minijson_string_buf(&f[1], buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "deep");
	/* Too small a buffer is a refusal, not a truncation. */
	assert_int_equal(kmfa_minijson_string_buf(&f[1], buf, 4, NULL), -1);
	assert_int_equal(f[2].type, KMFA_MINIJSON_STRING);
	assert_int_equal(f[3].type, KMFA_MINIJSON_ABSENT);
	/* Objects nested deeper than any requested path are skipped. */
	assert_str("{\"o\":{\"o\":{\"o\":{\"o\":{\"o\":{\"o\":{\"o\":"
	    "{\"o\":{\"o\":{\"o\":{\"k\":1}}}}}}}}}},\"k\":\"v\"}", "v");
	/* A path through something other than an object is refused. */
	assert_int_equal(scan1("{\"spec\":[],\"k\":1}", &f[0]), -1);
	assert_int_equal(scan1("{\"spec\":null}", &f[0]), -1);
}

static void
test_skips_arrays_and_other_values(void **state)
{
	(void)state;
	assert_str("{\"a\":[1,-2.5e+3,\"x\",[[]],{\"k\":\"no\"},true,false,null],"
	    "\"n\":null,\"o\":{},\"e\":[],\"k\":\"v\"}", "v");
	assert_refused("{\"a\":[1,],\"k\":\"v\"}");
	assert_refused("{\"a\":[1 2],\"k\":\"v\"}");
	assert_refused("{\"a\":tru,\"k\":\"v\"}");
	assert_refused("{\"a\":nul,\"k\":\"v\"}");
	assert_refused("{\"a\":True,\"k\":\"v\"}");
	assert_refused("{\"a\" 1,\"k\":\"v\"}");
	assert_refused("{k:\"v\"}");
}

static void
test_reads_booleans(void **state)
{
	struct kmfa_minijson_field f = { .path = { "k" } };
	int b = -1;

	(void)state;
	assert_int_equal(scan1("{\"k\":false}", &f), 0);
	assert_int_equal(kmfa_minijson_bool(&f, &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(scan1("{\"k\":true}", &f), 0);
	assert_int_equal(kmfa_minijson_bool(&f, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(scan1("{\"k\":null}", &f), 0);
	assert_int_equal(f.type, KMFA_MINIJSON_NULL);
	assert_int_equal(kmfa_minijson_bool(&f, &b), -1);
	assert_int_equal(scan1("{\"k\":\"true\"}", &f), 0);
	assert_int_equal(kmfa_minijson_bool(&f, &b), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decodes_every_escape),
		cmocka_unit_test(test_decodes_surrogate_pairs),
		cmocka_unit_test(test_rejects_lone_surrogates),
		cmocka_unit_test(test_rejects_control_characters),
		cmocka_unit_test(test_rejects_nul),
		cmocka_unit_test(test_rejects_bad_escapes),
		cmocka_unit_test(test_rejects_duplicate_keys),
		cmocka_unit_test(test_rejects_duplicates_anywhere),
		cmocka_unit_test(test_rejects_trailing_garbage),
		cmocka_unit_test(test_limits_nesting),
		cmocka_unit_test(test_reads_integers_and_rejects_overflow),
		cmocka_unit_test(test_getters_refuse_an_absent_field),
		cmocka_unit_test(test_finds_nested_paths),
		cmocka_unit_test(test_skips_arrays_and_other_values),
		cmocka_unit_test(test_reads_booleans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

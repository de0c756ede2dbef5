/*
 * Unit tests for lib/token/execinfo.c and lib/token/execcred.c: KUBERNETES_EXEC_INFO,
 * read in full and by the front, and the ExecCredential answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "token/execcred.h"
#include "token/execinfo.h"

static int
parse(const char *env, struct kmfa_execinfo *ei)
{
	kmfa_report_clear();
	return kmfa_execinfo_parse(env, ei);
}

static void
test_absent_exec_info_means_v1beta1(void **state)
{
	struct kmfa_execinfo ei;

	(void)state;
	assert_int_equal(parse(NULL, &ei), KMFA_OK);
	assert_int_equal(ei.api, KMFA_API_V1BETA1);
	assert_int_equal(ei.interactive, -1);
	assert_int_equal(parse("", &ei), KMFA_OK);
	assert_int_equal(ei.api, KMFA_API_V1BETA1);
}

static void
test_reads_v1_and_interactive(void **state)
{
	struct kmfa_execinfo ei;

	(void)state;
	assert_int_equal(parse("{\"apiVersion\":\"client.authentication.k8s.io"
	    "/v1\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":"
	    "true}}", &ei), KMFA_OK);
	assert_int_equal(ei.api, KMFA_API_V1);
	assert_int_equal(ei.interactive, 1);
	assert_int_equal(parse("{\"apiVersion\":\"client.authentication.k8s.io"
	    "/v1beta1\",\"spec\":{\"interactive\":false}}", &ei), KMFA_OK);
	assert_int_equal(ei.api, KMFA_API_V1BETA1);
	assert_int_equal(ei.interactive, 0);
}

static void
test_rejects_unknown_versions_and_malformed_input(void **state)
{
	static const char *bad[] = {
		"{\"apiVersion\":\"client.authentication.k8s.io/v2\"}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\"}",
		"{\"apiVersion\":1}",
		"{}",
		"[]",
		"{not json",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\"} trailing",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"kind\":\"Pod\"}",
	};
	struct kmfa_execinfo ei;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &ei), KMFA_ERR_CONFIG);
		assert_non_null(kmfa_report_cause());
	}
}

static void
test_execcredential_is_valid_json_in_the_asked_version(void **state)
{
	struct kmfa_buf b = { 0 };
	cJSON *doc;

	(void)state;
	assert_int_equal(kmfa_execcred_render(&b, KMFA_API_V1, "tok\"en\\x",
	    1795000000), KMFA_OK);
	assert_non_null(doc = cJSON_Parse(b.data));
	assert_string_equal(cJSON_GetObjectItem(doc, "apiVersion")->valuestring,
	    "client.authentication.k8s.io/v1");
	assert_string_equal(cJSON_GetObjectItem(doc, "kind")->valuestring,
	    "ExecCredential");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
	    "status"), "token")->valuestring, "tok\"en\\x");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
	    "status"), "expirationTimestamp")->valuestring,
	    "2026-11-18T11:06:40Z");
	assert_int_equal(b.data[b.len - 1], '\n');
	cJSON_Delete(doc);
	kmfa_buf_wipe(&b);
	assert_int_equal(kmfa_execcred_render(&b, KMFA_API_V1BETA1, "t", 0),
	    KMFA_OK);
	assert_non_null(strstr(b.data, "/v1beta1\""));
	kmfa_buf_wipe(&b);
}

/* The front answers only where the full reading would, with its values. */
static void
test_peek_accepts_only_what_parse_accepts(void **state)
{
	static const char *const cases[] = {
		"",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\"}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
		    "\"kind\":\"ExecCredential\",\"spec\":{}}",
		"{\"kind\":\"ExecCredential\",\"apiVersion\":"
		    "\"client.authentication.k8s.io/v1\",\"spec\":"
		    "{\"interactive\":true,\"cluster\":{\"server\":\"x\"}}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"interactive\":false}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"interactive\":\"yes\"}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\"}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"kind\":\"Pod\"}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"kind\":null}",
		"{\"kind\":\"ExecCredential\"}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\"} x",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"apiVersion\":\"client.authentication.k8s.io/v1beta1\"}",
		"[]",
		"not json",
	};
	struct kmfa_execinfo full, peek;
	size_t i, peeked = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ok = parse(cases[i], &full) == KMFA_OK;

		if (kmfa_execcred_peek(cases[i], &peek) != KMFA_OK)
			continue;
		peeked++;
		assert_true(ok);
		assert_int_equal(peek.api, full.api);
		assert_int_equal(peek.interactive, full.interactive);
	}
	assert_int_equal(peeked, 6);
	assert_int_equal(kmfa_execcred_peek(NULL, &peek), KMFA_OK);
	assert_int_equal(peek.api, KMFA_API_V1BETA1);
	assert_int_equal(peek.interactive, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent_exec_info_means_v1beta1),
		cmocka_unit_test(test_reads_v1_and_interactive),
		cmocka_unit_test(test_rejects_unknown_versions_and_malformed_input),
		cmocka_unit_test(test_execcredential_is_valid_json_in_the_asked_version),
		cmocka_unit_test(test_peek_accepts_only_what_parse_accepts),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

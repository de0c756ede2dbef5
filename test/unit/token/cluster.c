/*
 * Unit tests for the cluster's exec extension: kmfa_config_merge_cluster
 * (lib/token/config.c) and where the two readers of KUBERNETES_EXEC_INFO
 * find it (lib/token/execcred.c, lib/token/execinfo.c).  Both programs
 * merge the same bytes with the same function, so what is pinned here is
 * what the front and the full program agree on.
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
#include "token/execcred.h"
#include "token/execinfo.h"

static void
parse_args(struct kmfa_config *cfg, int argc, const char *const argv[])
{
	kmfa_config_init(cfg);
	kmfa_report_clear();
	assert_int_equal(kmfa_config_parse(cfg, argc, (char *const *)argv,
	    KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN),
	    KMFA_OK);
}

static int
merge(struct kmfa_config *cfg, const char *ext)
{
	kmfa_report_clear();
	return kmfa_config_merge_cluster(cfg, ext, ext ? strlen(ext) : 0);
}

static void
test_fills_what_the_args_leave_unset(void **state)
{
	static const char *const args[] = { "--oidc-client-id", "mine",
	    "--fido2", "off" };
	struct kmfa_config cfg;
	char *id;

	(void)state;
	parse_args(&cfg, 4, args);
	assert_int_equal(merge(&cfg, "{ \"oidc-issuer-url\" : "
	    "\"https://idp-a.example\", \"oidc-client-id\": \"theirs\", "
	    "\"oidc-extra-scope\": [\"groups\", \"email\"], "
	    "\"oidc-use-access-token\": true, \"oidc-login-hint\": "
	    "\"al\\u0069ce\", \"oidc-auth-request-extra-params\": \"a=b\", "
	    "\"certificate-authority\": \"/etc/idp-a.pem\", "
	    "\"require-acr\": \"urn:x\" }"), KMFA_OK);
	assert_string_equal(cfg.issuer, "https://idp-a.example");
	assert_string_equal(cfg.client_id, "mine");	/* the args win */
	assert_int_equal(cfg.nscopes, 2);
	assert_string_equal(cfg.scopes[0], "groups");
	assert_string_equal(cfg.scopes[1], "email");
	assert_int_equal(cfg.nextra_params, 1);
	assert_string_equal(cfg.extra_params[0], "a=b");
	assert_string_equal(cfg.login_hint, "alice");
	assert_int_equal(cfg.use_access_token, 1);
	/* Whatever came from the cluster is in the identity. */
	assert_non_null(id = kmfa_config_identity(&cfg));
	assert_string_equal(id, "v:1:1\n"
	    "issuer:21:https://idp-a.example\n"
	    "client:4:mine\n"
	    "scope:5:email\n"
	    "scope:6:groups\n"
	    "param:3:a=b\n"
	    "access:1:1\n"
	    "fido2:3:off\n"
	    "account:5:alice\n"
	    "ca:14:/etc/idp-a.pem\n"
	    "acr:5:urn:x\n");
	free(id);
	kmfa_config_free(&cfg);
}

static void
test_args_win_whole_lists_and_flags(void **state)
{
	static const char *const args[] = { "--oidc-extra-scope", "mine",
	    "--oidc-use-access-token", "--oidc-login-hint", "bob" };
	struct kmfa_config cfg;

	(void)state;
	parse_args(&cfg, 5, args);
	assert_int_equal(merge(&cfg, "{\"oidc-extra-scope\":[\"a\",\"b\"],"
	    "\"oidc-use-access-token\":false,\"oidc-login-hint\":\"alice\"}"),
	    KMFA_OK);
	assert_int_equal(cfg.nscopes, 1);
	assert_string_equal(cfg.scopes[0], "mine");
	assert_int_equal(cfg.use_access_token, 1);
	assert_string_equal(cfg.login_hint, "bob");
	kmfa_config_free(&cfg);
}

static void
test_no_extension_changes_nothing(void **state)
{
	static const char *const args[] = { "--oidc-issuer-url", "https://i",
	    "--oidc-client-id", "c" };
	struct kmfa_config cfg;
	char *before, *after;

	(void)state;
	parse_args(&cfg, 4, args);
	assert_non_null(before = kmfa_config_identity(&cfg));
	assert_int_equal(merge(&cfg, NULL), KMFA_OK);
	assert_int_equal(merge(&cfg, "{}"), KMFA_OK);
	assert_int_equal(merge(&cfg, " { } "), KMFA_OK);
	assert_non_null(after = kmfa_config_identity(&cfg));
	assert_string_equal(before, after);
	free(before);
	free(after);
	kmfa_config_free(&cfg);
}

/* Each is refused with a cause, whatever the args say. */
static void
test_refuses_bad_content(void **state)
{
	static const char *const bad[] = {
		/* not an object, or not read without doubt */
		"[]", "\"x\"", "{", "{\"oidc-issuer-url\":\"a\"} x",
		"{\"oidc-issuer-url\":\"a\\u0000b\"}",
		/* unknown: a typo must never leave the user's issuer on */
		"{\"oidc-issuer\":\"https://other\"}",
		"{\"OIDC-ISSUER-URL\":\"https://other\"}",
		"{\"--oidc-issuer-url\":\"https://other\"}",
		"{\"oidc-issuer-url-and-a-name-longer-than-any-option-name-at"
		    "-all\":\"x\"}",
		/* refused: secrets, programs, files, weaker policy */
		"{\"oidc-client-secret\":\"s\"}",
		"{\"oidc-client-secret-file\":\"/etc/shadow\"}",
		"{\"insecure-skip-tls-verify\":true}",
		"{\"insecure-skip-tls-verify\":false}",
		"{\"fido2\":\"off\"}",
		"{\"fido2-credentials\":\"/tmp/c.json\"}",
		"{\"session-max\":\"10h\"}",
		"{\"browser-command\":\"sh -c evil\"}",
		"{\"audit-log\":\"off\"}",
		"{\"token-cache-dir\":\"/tmp\"}",
		"{\"token-cache-storage\":\"disk\"}",
		"{\"skew\":\"0s\"}",
		/* wrong types and values */
		"{\"oidc-issuer-url\":1}",
		"{\"oidc-issuer-url\":[\"https://a\"]}",
		"{\"oidc-issuer-url\":null}",
		"{\"oidc-issuer-url\":\"\"}",
		"{\"oidc-use-access-token\":\"true\"}",
		"{\"oidc-extra-scope\":[\"a\",1]}",
		"{\"oidc-extra-scope\":[\"\"]}",
		"{\"oidc-extra-scope\":{\"a\":\"b\"}}",
		"{\"oidc-auth-request-extra-params\":[\"novalue\"]}",
		"{\"oidc-offline-access\":\"sometimes\"}",
		"{\"certificate-authority\":\"ca.pem\"}",
		/* twice, even with the same value */
		"{\"oidc-issuer-url\":\"https://a\",\"oidc-issuer-url\":"
		    "\"https://a\"}",
		/* two accounts at once */
		"{\"oidc-login-hint\":\"a\",\"oidc-auth-request-extra-params\":"
		    "[\"login_hint=b\"]}",
	};
	static const char *const args[] = { "--oidc-issuer-url", "https://i",
	    "--oidc-client-id", "c" };
	struct kmfa_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_args(&cfg, 4, args);
		assert_int_equal(merge(&cfg, bad[i]), KMFA_ERR_CONFIG);
		assert_non_null(kmfa_report_cause());
		assert_non_null(strstr(kmfa_report_cause(), "exec extension"));
		kmfa_config_free(&cfg);
	}
}

static void
test_login_hint_and_extra_param_conflict(void **state)
{
	static const char *const both[] = { "--oidc-login-hint", "a",
	    "--oidc-auth-request-extra-params", "login_hint=b" };
	static const char *const hint[] = { "--oidc-login-hint", "a" };
	struct kmfa_config cfg;

	(void)state;
	parse_args(&cfg, 4, both);
	assert_int_equal(kmfa_config_finish(&cfg), KMFA_ERR_USAGE);
	kmfa_config_free(&cfg);
	/* The hint in the args, the parameter from the cluster. */
	parse_args(&cfg, 2, hint);
	assert_int_equal(merge(&cfg, "{\"oidc-auth-request-extra-params\":"
	    "\"login_hint=b\"}"), KMFA_ERR_CONFIG);
	kmfa_config_free(&cfg);
}

/* Where the two readers find the extension: the same bytes. */
static void
test_both_readers_find_the_same_extension(void **state)
{
	static const char env[] = "{\"kind\":\"ExecCredential\","
	    "\"apiVersion\":\"client.authentication.k8s.io/v1\",\"spec\":{"
	    "\"cluster\":{\"server\":\"https://127.0.0.1:1\",\"config\":"
	    "{\"oidc-issuer-url\":\"https://a\"}},\"interactive\":false}}";
	struct kmfa_execinfo full, front;

	(void)state;
	kmfa_report_clear();
	assert_int_equal(kmfa_execinfo_parse(env, &full), KMFA_OK);
	assert_int_equal(kmfa_execcred_peek(env, &front), KMFA_OK);
	assert_non_null(full.cluster);
	assert_ptr_equal(full.cluster, front.cluster);
	assert_int_equal(full.cluster_len, front.cluster_len);
	assert_int_equal(full.cluster_len,
	    strlen("{\"oidc-issuer-url\":\"https://a\"}"));
	assert_memory_equal(full.cluster, "{\"oidc-issuer-url\"", 18);
	assert_int_equal(full.interactive, 0);
	assert_int_equal(front.interactive, 0);
}

static void
test_no_cluster_or_null_config_is_no_extension(void **state)
{
	static const char *const none[] = {
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"interactive\":true}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"cluster\":{\"server\":\"https://x\"}}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"cluster\":{\"config\":null}}}",
	};
	struct kmfa_execinfo full, front;

	(void)state;
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		kmfa_report_clear();
		assert_int_equal(kmfa_execinfo_parse(none[i], &full), KMFA_OK);
		assert_int_equal(kmfa_execcred_peek(none[i], &front), KMFA_OK);
		assert_null(full.cluster);
		assert_null(front.cluster);
	}
}

/*
 * A config that is no object, or one that a first-copy reader (cJSON) and
 * a last-copy reader would take differently: the full program refuses it
 * with a cause, the front hands it over.
 */
static void
test_doubtful_extension_is_refused_by_both(void **state)
{
	static const char *const bad[] = {
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"cluster\":{\"config\":\"oidc\"}}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"cluster\":{\"config\":[]}}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"cluster\":{\"config\":{\"oidc-issuer-url\":"
		    "\"https://a\"},\"config\":{\"oidc-issuer-url\":"
		    "\"https://b\"}}}}",
		"{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		    "\"spec\":{\"cluster\":{\"config\":{}},\"cluster\":{"
		    "\"config\":{\"oidc-issuer-url\":\"https://b\"}}}}",
	};
	struct kmfa_execinfo ei;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kmfa_report_clear();
		assert_int_equal(kmfa_execinfo_parse(bad[i], &ei),
		    KMFA_ERR_CONFIG);
		assert_non_null(kmfa_report_cause());
		assert_int_equal(kmfa_execcred_peek(bad[i], &ei),
		    KMFA_ERR_NOTFOUND);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fills_what_the_args_leave_unset),
		cmocka_unit_test(test_args_win_whole_lists_and_flags),
		cmocka_unit_test(test_no_extension_changes_nothing),
		cmocka_unit_test(test_refuses_bad_content),
		cmocka_unit_test(test_login_hint_and_extra_param_conflict),
		cmocka_unit_test(test_both_readers_find_the_same_extension),
		cmocka_unit_test(test_no_cluster_or_null_config_is_no_extension),
		cmocka_unit_test(test_doubtful_extension_is_refused_by_both),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

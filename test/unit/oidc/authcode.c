/*
 * The authorization code grant's pure halves: the authorization URL (every
 * parameter once, PKCE S256 spelled out, an endpoint's own query kept,
 * extra parameters after ours and never one of ours) and the nonce check
 * on an ID token's payload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/report.h"
#include "oidc/authcode.h"
#include "oidc/loopback.h"
#include "token/config.h"

static void
cfg_init(struct kmfa_config *cfg)
{
	kmfa_config_init(cfg);
	cfg->client_id = strdup("kube ctl");
	assert_non_null(cfg->client_id);
}

static char *
param(const char *url, const char *name)
{
	char *v = NULL;
	const char *q = strchr(url, '?');

	assert_non_null(q);
	if (kmfa_loopback_query_param(q + 1, name, &v) != KMFA_OK)
		return NULL;
	return v;
}

static void
expect_param(const char *url, const char *name, const char *want)
{
	char *v = param(url, name);

	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void
test_url(void **state)
{
	struct kmfa_config cfg;
	char *url = NULL;

	(void)state;
	cfg_init(&cfg);
	assert_int_equal(kmfa_authcode_url("https://idp.example/auth", &cfg,
	    "openid offline_access", "http://127.0.0.1:4000/", "ST", "NO",
	    "CH", &url), KMFA_OK);
	assert_int_equal(strncmp(url, "https://idp.example/auth?", 25), 0);
	expect_param(url, "response_type", "code");
	expect_param(url, "client_id", "kube ctl");
	expect_param(url, "redirect_uri", "http://127.0.0.1:4000/");
	expect_param(url, "scope", "openid offline_access");
	expect_param(url, "state", "ST");
	expect_param(url, "nonce", "NO");
	expect_param(url, "code_challenge", "CH");
	expect_param(url, "code_challenge_method", "S256");
	assert_null(strstr(url, "login_hint="));
	free(url);
	/* --oidc-login-hint names the account, as in the device flow. */
	cfg.login_hint = strdup("alice@example.com");
	assert_int_equal(kmfa_authcode_url("https://idp.example/auth", &cfg,
	    "openid", "http://127.0.0.1:4000/", "ST", "NO", "CH", &url),
	    KMFA_OK);
	expect_param(url, "login_hint", "alice@example.com");
	free(url);
	kmfa_config_free(&cfg);
}

static void
test_url_endpoint_query_and_extras(void **state)
{
	struct kmfa_config cfg;
	char *url = NULL;

	(void)state;
	cfg_init(&cfg);
	cfg.extra_params[0] = strdup("prompt=consent");
	cfg.nextra_params = 1;
	assert_int_equal(kmfa_authcode_url("https://b2c.example/auth?p=flow",
	    &cfg, "openid", "http://[::1]:1/", "ST", "NO", "CH", &url),
	    KMFA_OK);
	assert_int_equal(strncmp(url, "https://b2c.example/auth?p=flow&"
	    "response_type=code&", 51), 0);
	expect_param(url, "prompt", "consent");
	free(url);
	/* An extra parameter may not replace one the login sets. */
	free(cfg.extra_params[0]);
	cfg.extra_params[0] = strdup("state=attacker");
	assert_int_equal(kmfa_authcode_url("https://idp.example/auth", &cfg,
	    "openid", "http://127.0.0.1:1/", "ST", "NO", "CH", &url),
	    KMFA_ERR_CONFIG);
	assert_null(url);
	free(cfg.extra_params[0]);
	cfg.extra_params[0] = strdup("redirect_uri=https://evil.example/");
	assert_int_equal(kmfa_authcode_url("https://idp.example/auth", &cfg,
	    "openid", "http://127.0.0.1:1/", "ST", "NO", "CH", &url),
	    KMFA_ERR_CONFIG);
	kmfa_report_clear();
	kmfa_config_free(&cfg);
}

/* A JWS-shaped token with this payload; no signature is looked at. */
static char *
token(const char *payload)
{
	char *p = NULL, *t = NULL;

	assert_int_equal(kmfa_b64url_encode((const uint8_t *)payload,
	    strlen(payload), &p), KMFA_OK);
	t = malloc(strlen(p) + 32);
	assert_non_null(t);
	memcpy(t, "eyJhbGciOiJSUzI1NiJ9.", 21);
	memcpy(t + 21, p, strlen(p));
	memcpy(t + 21 + strlen(p), ".c2ln", 6);
	free(p);
	return t;
}

static void
test_nonce(void **state)
{
	char *t;

	(void)state;
	t = token("{\"sub\":\"alice\",\"nonce\":\"N1\"}");
	assert_int_equal(kmfa_authcode_check_nonce(t, "N1"), KMFA_OK);
	assert_int_equal(kmfa_authcode_check_nonce(t, "N2"), KMFA_ERR_TOKEN);
	assert_int_equal(kmfa_authcode_check_nonce(t, "N"), KMFA_ERR_TOKEN);
	free(t);
	t = token("{\"sub\":\"alice\"}");
	assert_int_equal(kmfa_authcode_check_nonce(t, "N1"), KMFA_ERR_TOKEN);
	free(t);
	t = token("{\"nonce\":7}");
	assert_int_equal(kmfa_authcode_check_nonce(t, "7"), KMFA_ERR_TOKEN);
	free(t);
	assert_int_equal(kmfa_authcode_check_nonce("not a jwt", "N1"),
	    KMFA_ERR_TOKEN);
	assert_int_equal(kmfa_authcode_check_nonce(NULL, "N1"),
	    KMFA_ERR_TOKEN);
	kmfa_report_clear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_url_endpoint_query_and_extras),
		cmocka_unit_test(test_nonce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * lib/oidc/ discovery.c, device.c, oauth.c, refresh.c, revoke.c (and the
 * answer.c getters under them): the device-flow poll decisions (RFC 8628
 * §3.5), the parsing of discovery, device authorization, token and error
 * answers, good and hostile, and one device login, refresh and revocation
 * against a scripted IdP on loopback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/device.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"
#include "oidc/pkce.h"
#include "oidc/refresh.h"
#include "oidc/revoke.h"
#include "token/config.h"

#include "loopback.h"

static int
setup(void **state)
{
	(void)state;
	kmfa_report_clear();
	return 0;
}

static void
assert_cause_has(const char *needle)
{
	const char *c = kmfa_report_cause();

	if (c == NULL)
		fail_msg("no cause recorded, wanted '%s'", needle);
	if (strstr(c, needle) == NULL)
		fail_msg("cause '%s' lacks '%s'", c, needle);
}

static void
assert_cause_lacks(const char *needle)
{
	const char *c = kmfa_report_cause();

	if (c != NULL && strstr(c, needle) != NULL)
		fail_msg("cause '%s' shows '%s'", c, needle);
}

/* The poll decision. */

static void
test_poll_pending_polls_again_same_interval(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step("authorization_pending", &iv),
	    KMFA_ERR_NOTFOUND);
	assert_int_equal(iv, 5);
	assert_null(kmfa_report_cause());
}

static void
test_poll_slow_down_adds_5_each_time(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step("slow_down", &iv),
	    KMFA_ERR_NOTFOUND);
	assert_int_equal(iv, 10);
	assert_int_equal(kmfa_device_poll_step("slow_down", &iv),
	    KMFA_ERR_NOTFOUND);
	assert_int_equal(iv, 15);
	assert_int_equal(kmfa_device_poll_step("authorization_pending", &iv),
	    KMFA_ERR_NOTFOUND);
	assert_int_equal(iv, 15);
	/* A storm cannot push it past the cap. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(kmfa_device_poll_step("slow_down", &iv),
		    KMFA_ERR_NOTFOUND);
	assert_int_equal(iv, KMFA_POLL_INTERVAL_MAX);
	assert_null(kmfa_report_cause());
}

static void
test_poll_access_denied_stops(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step("access_denied", &iv),
	    KMFA_ERR_IDP);
	assert_cause_has("the login was denied at the identity provider");
}

static void
test_poll_expired_token_stops(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step("expired_token", &iv),
	    KMFA_ERR_IDP);
	assert_cause_has("the device code expired before the login was "
	    "approved");
}

/* Entra's denial (https://learn.microsoft.com/entra/identity-platform/
 * v2-oauth2-device-code) is a denial. */
static void
test_poll_authorization_declined_is_a_denial(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step("authorization_declined", &iv),
	    KMFA_ERR_IDP);
	assert_cause_has("the login was denied at the identity provider");
}

/* Auth0 answers invalid_grant for a device code past expired_token
 * (https://auth0.com/docs/quickstart/native/device/interactive). */
static void
test_poll_invalid_grant_says_log_in_again(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step("invalid_grant", &iv),
	    KMFA_ERR_IDP);
	assert_cause_has("no longer accepts the device code (invalid_grant");
	assert_cause_has("log in again");
}

static void
test_poll_unknown_error_stops_and_is_named(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step("invalid_client", &iv),
	    KMFA_ERR_IDP);
	assert_cause_has("invalid_client");
	kmfa_report_clear();
	assert_int_equal(kmfa_device_poll_step("weird\x1b[31m", &iv),
	    KMFA_ERR_IDP);
	assert_cause_has("weird?[31m");
	/* Case matters: RFC 6749 error codes are exact. */
	kmfa_report_clear();
	assert_int_equal(kmfa_device_poll_step("Authorization_Pending", &iv),
	    KMFA_ERR_IDP);
}

static void
test_poll_success_stops(void **state)
{
	int64_t iv = 5;

	(void)state;
	assert_int_equal(kmfa_device_poll_step(NULL, &iv), KMFA_OK);
	assert_int_equal(iv, 5);
	assert_null(kmfa_report_cause());
}

/* Device authorization answers. */

static int
parse_da(const char *json, struct kmfa_device_auth **d)
{
	kmfa_report_clear();
	return kmfa_device_parse_auth(json, strlen(json), d);
}

static void
test_device_auth_good(void **state)
{
	struct kmfa_device_auth *d = NULL;

	(void)state;
	assert_int_equal(parse_da("{\"device_code\":\"DC-secret\","
	    "\"user_code\":\"WDJB-MJHT\",\"verification_uri\":"
	    "\"https://idp.example.com/device\",\"verification_uri_complete\":"
	    "\"https://idp.example.com/device?user_code=WDJB-MJHT\","
	    "\"expires_in\":1800,\"interval\":7}", &d), KMFA_OK);
	assert_string_equal(d->device_code, "DC-secret");
	assert_string_equal(d->user_code, "WDJB-MJHT");
	assert_string_equal(d->verification_uri,
	    "https://idp.example.com/device");
	assert_string_equal(d->verification_uri_complete,
	    "https://idp.example.com/device?user_code=WDJB-MJHT");
	assert_int_equal(d->expires_in, 1800);
	assert_int_equal(d->interval, 7);
	kmfa_device_auth_free(&d);
	assert_null(d);
	kmfa_device_auth_free(&d);
}

static void
test_device_auth_defaults_and_alias(void **state)
{
	struct kmfa_device_auth *d = NULL;

	(void)state;
	/* Google's spelling; no interval, no expires_in. */
	assert_int_equal(parse_da("{\"device_code\":\"d\",\"user_code\":\"u\","
	    "\"verification_url\":\"https://www.google.com/device\"}", &d),
	    KMFA_OK);
	assert_string_equal(d->verification_uri,
	    "https://www.google.com/device");
	assert_null(d->verification_uri_complete);
	assert_int_equal(d->interval, KMFA_POLL_INTERVAL_DEFAULT);
	assert_int_equal(d->expires_in, KMFA_DEVICE_EXPIRES_DEFAULT);
	kmfa_device_auth_free(&d);
}

static void
test_device_auth_clamps_absurd_interval(void **state)
{
	static const struct {
		const char *v;
		int64_t want;
	} cases[] = {
		{ "0", KMFA_POLL_INTERVAL_DEFAULT },
		{ "-3", KMFA_POLL_INTERVAL_DEFAULT },
		{ "0.2", KMFA_POLL_INTERVAL_DEFAULT },
		{ "-1e308", KMFA_POLL_INTERVAL_DEFAULT },
		{ "2.5", 3 },
		{ "1", 1 },
		{ "60", 60 },
		{ "61", KMFA_POLL_INTERVAL_MAX },
		{ "1e9", KMFA_POLL_INTERVAL_MAX },
		{ "1e999", KMFA_POLL_INTERVAL_MAX },
		{ "99999999999999999999999", KMFA_POLL_INTERVAL_MAX },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kmfa_device_auth *d = NULL;
		char *json = NULL;

		assert_true(kmfa_asprintf(&json, "{\"device_code\":\"d\","
		    "\"user_code\":\"u\",\"verification_uri\":"
		    "\"https://i.example/d\",\"interval\":%s}",
		    cases[i].v) > 0);
		if (parse_da(json, &d) != KMFA_OK)
			fail_msg("interval %s: %s", cases[i].v,
			    kmfa_report_cause());
		if (d->interval != cases[i].want)
			fail_msg("interval %s: got %lld", cases[i].v,
			    (long long)d->interval);
		kmfa_device_auth_free(&d);
		free(json);
	}
}

#define EXPIRES_FMT "{\"device_code\":\"d\",\"user_code\":\"u\"," \
	"\"verification_uri\":\"https://i.example/d\",\"expires_in\":%s}"

static void
test_device_auth_expires_in_bounds(void **state)
{
	struct kmfa_device_auth *d = NULL;
	const char *bad[] = { "0", "-1", "-1e999", "0.5" };
	char *json = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(kmfa_asprintf(&json, EXPIRES_FMT, bad[i]) > 0);
		if (parse_da(json, &d) != KMFA_ERR_IDP)
			fail_msg("expires_in %s accepted", bad[i]);
		assert_null(d);
		assert_cause_has("expires_in");
		free(json);
	}
	assert_true(kmfa_asprintf(&json, EXPIRES_FMT, "1e300") > 0);
	assert_int_equal(parse_da(json, &d), KMFA_OK);
	assert_int_equal(d->expires_in, KMFA_DEVICE_EXPIRES_MAX);
	kmfa_device_auth_free(&d);
	free(json);
	assert_true(kmfa_asprintf(&json, EXPIRES_FMT, "600") > 0);
	assert_int_equal(parse_da(json, &d), KMFA_OK);
	assert_int_equal(d->expires_in, 600);
	kmfa_device_auth_free(&d);
	free(json);
}

static void
test_device_auth_hostile_answers(void **state)
{
	static const struct {
		const char *json;
		const char *cause;
	} cases[] = {
		{ "{\"user_code\":\"u\",\"verification_uri\":"
		  "\"https://i.example/d\"}", "no `device_code`" },
		{ "{\"device_code\":42,\"user_code\":\"u\",\"verification_uri\":"
		  "\"https://i.example/d\"}", "`device_code` is not a string" },
		{ "{\"device_code\":\"\",\"user_code\":\"u\",\"verification_uri\":"
		  "\"https://i.example/d\"}", "`device_code` is empty" },
		{ "{\"device_code\":\"d\",\"verification_uri\":"
		  "\"https://i.example/d\"}", "no `user_code`" },
		{ "{\"device_code\":\"d\",\"user_code\":[\"u\"],"
		  "\"verification_uri\":\"https://i.example/d\"}",
		  "`user_code` is not a string" },
		{ "{\"device_code\":\"d\",\"user_code\":\"u\"}",
		  "no `verification_uri`" },
		{ "{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":"
		  "{}}", "`verification_uri` is not a string" },
		{ "{\"device_code\":\"d\",\"user_code\":\"\\u001b[2J\","
		  "\"verification_uri\":\"https://i.example/d\"}", "user_code" },
		{ "{\"device_code\":\"d\",\"user_code\":\"AAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		  "\"verification_uri\":\"https://i.example/d\"}", "user_code" },
		{ "{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":"
		  "\"http://phish.example/d\"}", "must use https" },
		{ "{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":"
		  "\"javascript:alert(1)\"}", "verification_uri" },
		{ "{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":"
		  "\"https://i.example/d\",\"verification_uri_complete\":"
		  "\"file:///etc/passwd\"}", "verification_uri_complete" },
		{ "{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":"
		  "\"https://i.example/d\",\"interval\":\"5\"}",
		  "`interval` is not a number" },
		{ "{\"device_code\":\"d\",\"user_code\":\"u\",\"verification_uri\":"
		  "\"https://i.example/d\",\"expires_in\":true}",
		  "`expires_in` is not a number" },
		{ "{\"device_code\":\"a\",\"device_code\":\"b\",\"user_code\":\"u\","
		  "\"verification_uri\":\"https://i.example/d\"}", "twice" },
		{ "{\"device_code\":\"a\\u0000b\",\"user_code\":\"u\","
		  "\"verification_uri\":\"https://i.example/d\"}", "NUL" },
		{ "[\"device_code\"]", "not a JSON object" },
		{ "\"device_code\"", "not a JSON object" },
		{ "<html>502 Bad Gateway</html>", "not valid JSON" },
		{ "{\"device_code\":\"d\"", "not valid JSON" },
		{ "{} {}", "after its JSON value" },
		{ "", "empty" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kmfa_device_auth *d = NULL;
		int r = parse_da(cases[i].json, &d);

		if (r == KMFA_OK)
			fail_msg("case %zu accepted: %s", i, cases[i].json);
		assert_null(d);
		assert_cause_has(cases[i].cause);
		assert_cause_lacks("\x1b");
	}
}

static void
test_deeply_nested_json_is_refused(void **state)
{
	struct kmfa_device_auth *d = NULL;
	struct kmfa_tokens *t = NULL;
	char *json = malloc(20003);

	(void)state;
	assert_non_null(json);
	json[0] = '{';
	memcpy(json + 1, "\"a\":", 4);
	memset(json + 5, '[', 9990);
	memset(json + 9995, ']', 9990);
	json[19985] = '}';
	json[19986] = '\0';
	kmfa_report_clear();
	assert_int_equal(kmfa_device_parse_auth(json, strlen(json), &d),
	    KMFA_ERR_IDP);
	assert_cause_has("the answer is nested too deeply");
	kmfa_report_clear();
	assert_int_equal(kmfa_oauth_parse_tokens(json, strlen(json), &t),
	    KMFA_ERR_IDP);
	assert_null(t);
	free(json);
}

static void
test_parse_is_bounded_by_len_not_nul(void **state)
{
	struct kmfa_tokens *t = NULL;
	const char buf[] = "{\"access_token\":\"a\"}GARBAGE";

	(void)state;
	/* Exactly the answer's bytes; what follows in memory is not read. */
	assert_int_equal(kmfa_oauth_parse_tokens(buf, 20, &t), KMFA_OK);
	assert_string_equal(t->access_token, "a");
	kmfa_oauth_tokens_free(&t);
	kmfa_report_clear();
	assert_int_equal(kmfa_oauth_parse_tokens(buf, 19, &t), KMFA_ERR_IDP);
	/* A raw NUL inside the answer. */
	kmfa_report_clear();
	assert_int_equal(kmfa_oauth_parse_tokens("{\"access_token\":\"a\0b\"}",
	    22, &t), KMFA_ERR_IDP);
	assert_cause_has("NUL");
}

/* Token answers. */

static int
parse_tok(const char *json, struct kmfa_tokens **t)
{
	kmfa_report_clear();
	return kmfa_oauth_parse_tokens(json, strlen(json), t);
}

static void
test_tokens_good(void **state)
{
	struct kmfa_tokens *t = NULL;

	(void)state;
	assert_int_equal(parse_tok("{\"access_token\":\"AT\",\"token_type\":"
	    "\"bearer\",\"id_token\":\"a.b.c\",\"refresh_token\":\"RT\","
	    "\"expires_in\":300,\"scope\":\"openid\"}", &t), KMFA_OK);
	assert_string_equal(t->access_token, "AT");
	assert_string_equal(t->id_token, "a.b.c");
	assert_string_equal(t->refresh_token, "RT");
	assert_string_equal(t->token_type, "bearer");
	assert_int_equal(t->expires_in, 300);
	kmfa_oauth_tokens_free(&t);
	assert_null(t);

	/* id_token and refresh_token are the flow's business. */
	assert_int_equal(parse_tok("{\"access_token\":\"AT\"}", &t), KMFA_OK);
	assert_null(t->id_token);
	assert_null(t->refresh_token);
	assert_null(t->token_type);
	assert_int_equal(t->expires_in, 0);
	kmfa_oauth_tokens_free(&t);

	assert_int_equal(parse_tok("{\"access_token\":\"AT\",\"expires_in\":"
	    "1e300,\"refresh_token\":null}", &t), KMFA_OK);
	assert_true(t->expires_in > 0);
	assert_null(t->refresh_token);
	kmfa_oauth_tokens_free(&t);
}

static void
test_tokens_hostile(void **state)
{
	static const struct {
		const char *json;
		const char *cause;
	} cases[] = {
		{ "{\"id_token\":\"SECRET-ID\"}", "no `access_token`" },
		{ "{\"access_token\":7}", "`access_token` is not a string" },
		{ "{\"access_token\":\"SECRET-AT\",\"token_type\":\"mac\"}",
		  "token_type 'mac' is not Bearer" },
		{ "{\"access_token\":\"SECRET-AT\",\"token_type\":\"DPoP\"}",
		  "is not Bearer" },
		{ "{\"access_token\":\"SECRET-AT\",\"id_token\":{\"a\":1}}",
		  "`id_token` is not a string" },
		{ "{\"access_token\":\"SECRET-AT\",\"refresh_token\":\"\"}",
		  "`refresh_token` is empty" },
		{ "{\"access_token\":\"SECRET-AT\",\"expires_in\":-5}",
		  "negative" },
		{ "{\"access_token\":\"SECRET-AT\",\"expires_in\":\"300\"}",
		  "`expires_in` is not a number" },
		{ "{\"access_token\":\"SECRET-AT\",\"access_token\":\"SECRET-2\"}",
		  "twice" },
		{ "{\"access_token\":\"SECRET-AT\",\"authorization_details\":"
		  "[{\"type\":\"a\",\"type\":\"b\"}]}", "has type twice" },
		{ "{\"Access_Token\":\"SECRET-AT\"}", "no `access_token`" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kmfa_tokens *t = NULL;

		if (parse_tok(cases[i].json, &t) == KMFA_OK)
			fail_msg("case %zu accepted: %s", i, cases[i].json);
		assert_null(t);
		assert_cause_has(cases[i].cause);
		assert_cause_lacks("SECRET");
	}
}

static void
test_error_answer_is_sanitised(void **state)
{
	char error[16], desc[24];
	const char *j = "{\"error\":\"slow_down\",\"error_description\":"
	    "\"\\u001b]0;pwned\\u0007 and a very long tail of words\"}";

	(void)state;
	assert_int_equal(kmfa_oauth_parse_error(j, strlen(j), error,
	    sizeof(error), desc, sizeof(desc)), KMFA_OK);
	assert_string_equal(error, "slow_down");
	assert_string_equal(desc, "?]0;pwned? and a ver...");
	assert_int_equal(kmfa_oauth_parse_error("{\"error\":5}", 11, error,
	    sizeof(error), desc, sizeof(desc)), KMFA_ERR_NOTFOUND);
	assert_int_equal(kmfa_oauth_parse_error("oops", 4, error,
	    sizeof(error), desc, sizeof(desc)), KMFA_ERR_NOTFOUND);
	/* Which error is it?  Neither: no OAuth error, the caller decides. */
	j = "{\"error\":\"slow_down\",\"error\":\"access_denied\"}";
	assert_int_equal(kmfa_oauth_parse_error(j, strlen(j), error,
	    sizeof(error), desc, sizeof(desc)), KMFA_ERR_NOTFOUND);
	assert_string_equal(error, "");
	assert_int_equal(kmfa_oauth_parse_error(NULL, 0, error,
	    sizeof(error), desc, sizeof(desc)), KMFA_ERR_NOTFOUND);
	assert_int_equal(kmfa_oauth_parse_error("{\"error\":\"x\"}", 13, error,
	    sizeof(error), desc, sizeof(desc)), KMFA_OK);
	assert_string_equal(desc, "");
}

/* Discovery. */

static const char good_discovery[] = "{"
    "\"issuer\":\"https://idp.example.com/realms/k8s\","
    "\"token_endpoint\":\"https://idp.example.com/realms/k8s/token\","
    "\"jwks_uri\":\"https://keys.example.com/jwks\","
    "\"device_authorization_endpoint\":\"https://idp.example.com/device\","
    "\"revocation_endpoint\":\"https://idp.example.com/revoke\","
    "\"scopes_supported\":[\"openid\",\"offline_access\",\"email\"],"
    "\"id_token_signing_alg_values_supported\":[\"RS256\",\"ES256\"],"
    "\"grant_types_supported\":[\"refresh_token\","
    "\"urn:ietf:params:oauth:grant-type:device_code\"],"
    "\"claims_supported\":[1,2,3]}";

static int
parse_disc(const char *issuer, const char *json, struct kmfa_discovery **o)
{
	struct kmfa_config cfg;
	int r;

	kmfa_config_init(&cfg);
	cfg.issuer = strdup(issuer);
	kmfa_report_clear();
	r = kmfa_discovery_parse(json, strlen(json), &cfg, o);
	kmfa_config_free(&cfg);
	return r;
}

static void
test_discovery_offline_access_and_pkce(void **state)
{
	static const char *const docs[] = {
		/* Google: three scopes, no offline_access; plain and S256
		 * (https://accounts.google.com/.well-known/openid-configuration) */
		"{\"issuer\":\"https://i.example\",\"token_endpoint\":"
		"\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\","
		"\"scopes_supported\":[\"openid\",\"email\",\"profile\"],"
		"\"code_challenge_methods_supported\":[\"plain\",\"S256\"]}",
		/* Entra: offline_access listed, no PKCE methods */
		"{\"issuer\":\"https://i.example\",\"token_endpoint\":"
		"\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\","
		"\"scopes_supported\":[\"openid\",\"offline_access\"]}",
		/* no scopes listed at all; plain only */
		"{\"issuer\":\"https://i.example\",\"token_endpoint\":"
		"\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\","
		"\"code_challenge_methods_supported\":[\"plain\"]}",
	};
	static const int want_auto[] = { 0, 1, 1 }, want_pkce[] = { 1, 0, 0 };
	struct kmfa_config cfg;
	struct kmfa_discovery *o = NULL;
	int on;

	(void)state;
	kmfa_config_init(&cfg);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(parse_disc("https://i.example", docs[i], &o),
		    KMFA_OK);
		assert_int_equal(kmfa_discovery_pkce_s256(o), want_pkce[i]);
		cfg.offline_access = NULL;
		assert_int_equal(kmfa_discovery_offline_access(o, &cfg, &on),
		    KMFA_OK);
		assert_int_equal(on, want_auto[i]);
		cfg.offline_access = (char *)"auto";
		assert_int_equal(kmfa_discovery_offline_access(o, &cfg, &on),
		    KMFA_OK);
		assert_int_equal(on, want_auto[i]);
		cfg.offline_access = (char *)"on";
		assert_int_equal(kmfa_discovery_offline_access(o, &cfg, &on),
		    KMFA_OK);
		assert_int_equal(on, 1);
		cfg.offline_access = (char *)"off";
		assert_int_equal(kmfa_discovery_offline_access(o, &cfg, &on),
		    KMFA_OK);
		assert_int_equal(on, 0);
		cfg.offline_access = (char *)"yes";
		assert_int_equal(kmfa_discovery_offline_access(o, &cfg, &on),
		    KMFA_ERR_USAGE);
		assert_cause_has("--oidc-offline-access takes auto, on or off");
		kmfa_discovery_free(&o);
	}
	cfg.offline_access = NULL;
	kmfa_config_free(&cfg);
}

static void
test_discovery_revocation_auth_methods(void **state)
{
	static const char doc[] =
	    "{\"issuer\":\"https://i.example\",\"token_endpoint\":"
	    "\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\","
	    "\"revocation_endpoint\":\"https://i.example/r\","
	    "\"revocation_endpoint_auth_methods_supported\":"
	    "[\"client_secret_basic\",\"private_key_jwt\"]}";
	static const char open_doc[] =
	    "{\"issuer\":\"https://i.example\",\"token_endpoint\":"
	    "\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\","
	    "\"revocation_endpoint\":\"https://i.example/r\"}";
	struct kmfa_config cfg;
	struct kmfa_discovery *o = NULL;

	(void)state;
	kmfa_config_init(&cfg);
	assert_int_equal(parse_disc("https://i.example", doc, &o), KMFA_OK);
	/* A public client cannot use a list without "none". */
	assert_false(kmfa_discovery_revocation_usable(o, &cfg));
	cfg.client_secret = (char *)"s";
	assert_true(kmfa_discovery_revocation_usable(o, &cfg));
	cfg.client_secret = NULL;
	kmfa_discovery_free(&o);
	assert_int_equal(parse_disc("https://i.example", open_doc, &o),
	    KMFA_OK);
	assert_true(kmfa_discovery_revocation_usable(o, &cfg));
	kmfa_discovery_free(&o);
	kmfa_config_free(&cfg);
}

/* Entra's multi-tenant and v1 issuers: one line with the fix
 * (https://github.com/coreos/go-oidc/issues/344). */
static void
test_discovery_entra_issuers_say_the_fix(void **state)
{
	static const char common[] =
	    "{\"issuer\":\"https://login.microsoftonline.com/{tenantid}/v2.0\","
	    "\"token_endpoint\":\"https://login.microsoftonline.com/t\","
	    "\"jwks_uri\":\"https://login.microsoftonline.com/k\"}";
	static const char v1[] =
	    "{\"issuer\":\"https://sts.windows.net/1234/\","
	    "\"token_endpoint\":\"https://login.microsoftonline.com/t\","
	    "\"jwks_uri\":\"https://login.microsoftonline.com/k\"}";
	struct kmfa_discovery *o = NULL;

	(void)state;
	assert_int_equal(parse_disc(
	    "https://login.microsoftonline.com/common/v2.0", common, &o),
	    KMFA_ERR_CONFIG);
	assert_null(o);
	assert_cause_has("multi-tenant endpoint");
	assert_cause_has("use --oidc-issuer-url=https://login.microsoftonline"
	    ".com/<tenant-id>/v2.0");
	assert_int_equal(parse_disc("https://login.microsoftonline.com/1234",
	    v1, &o), KMFA_ERR_CONFIG);
	assert_cause_has("Microsoft Entra v1 issuer");
	assert_cause_has("<tenant-id>/v2.0");
}

static void
test_discovery_good(void **state)
{
	struct kmfa_discovery *o = NULL;

	(void)state;
	assert_int_equal(parse_disc("https://idp.example.com/realms/k8s",
	    good_discovery, &o), KMFA_OK);
	assert_string_equal(o->issuer, "https://idp.example.com/realms/k8s");
	assert_string_equal(o->token_endpoint,
	    "https://idp.example.com/realms/k8s/token");
	assert_string_equal(o->jwks_uri, "https://keys.example.com/jwks");
	assert_string_equal(o->device_authorization_endpoint,
	    "https://idp.example.com/device");
	assert_string_equal(o->revocation_endpoint,
	    "https://idp.example.com/revoke");
	assert_int_equal(o->nscopes_supported, 3);
	assert_string_equal(o->scopes_supported[2], "email");
	assert_int_equal(o->nalgs_supported, 2);
	assert_string_equal(o->algs_supported[1], "ES256");
	assert_int_equal(o->ngrant_types_supported, 2);
	kmfa_discovery_free(&o);
	assert_null(o);
	kmfa_discovery_free(&o);

	/* Optional parts absent. */
	assert_int_equal(parse_disc("https://i.example",
	    "{\"issuer\":\"https://i.example\",\"token_endpoint\":"
	    "\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\"}",
	    &o), KMFA_OK);
	assert_null(o->device_authorization_endpoint);
	assert_null(o->revocation_endpoint);
	assert_null(o->scopes_supported);
	assert_int_equal(o->nscopes_supported, 0);
	kmfa_discovery_free(&o);
}

static void
test_discovery_issuer_must_match_exactly(void **state)
{
	struct kmfa_discovery *o = NULL;

	(void)state;
	assert_int_equal(parse_disc("https://idp.example.com/realms/k8s/",
	    good_discovery, &o), KMFA_ERR_IDP);
	assert_null(o);
	assert_cause_has("discovery: issuer 'https://idp.example.com/realms/"
	    "k8s' does not match the configured 'https://idp.example.com/"
	    "realms/k8s/'");
	assert_int_equal(parse_disc("https://IDP.example.com/realms/k8s",
	    good_discovery, &o), KMFA_ERR_IDP);
	assert_cause_has("does not match");
	assert_int_equal(parse_disc("https://evil.example",
	    "{\"issuer\":\"https://evil.example\\u001b[2J\",\"token_endpoint\":"
	    "\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\"}",
	    &o), KMFA_ERR_IDP);
	assert_cause_lacks("\x1b");
}

static void
test_discovery_configured_issuer_checked(void **state)
{
	struct kmfa_discovery *o = NULL;

	(void)state;
	assert_int_equal(parse_disc("http://idp.example.com",
	    "{\"issuer\":\"http://idp.example.com\",\"token_endpoint\":"
	    "\"http://idp.example.com/t\",\"jwks_uri\":"
	    "\"http://idp.example.com/k\"}", &o), KMFA_ERR_CONFIG);
	assert_cause_has("must use https");
	assert_int_equal(parse_disc("https://i.example?x=1",
	    good_discovery, &o), KMFA_ERR_CONFIG);
	assert_cause_has("no query");
	assert_int_equal(parse_disc("https://i.example#f",
	    good_discovery, &o), KMFA_ERR_CONFIG);
	assert_int_equal(parse_disc("https://me@i.example",
	    good_discovery, &o), KMFA_ERR_CONFIG);
	assert_null(o);
}

static void
test_discovery_endpoints_must_be_https(void **state)
{
	static const struct {
		const char *issuer;
		const char *json;
		int want;
		const char *cause;
	} cases[] = {
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"http://i.example/t\",\"jwks_uri\":"
		  "\"https://i.example/k\"}", KMFA_ERR_IDP, "token_endpoint" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://i.example/t\",\"jwks_uri\":"
		  "\"http://i.example/k\"}", KMFA_ERR_IDP, "jwks_uri" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://i.example/t\",\"jwks_uri\":"
		  "\"https://i.example/k\",\"device_authorization_endpoint\":"
		  "\"http://i.example/d\"}", KMFA_ERR_IDP,
		  "device_authorization_endpoint" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://i.example/t\",\"jwks_uri\":"
		  "\"https://i.example/k\",\"revocation_endpoint\":"
		  "\"ftp://i.example/r\"}", KMFA_ERR_IDP, "revocation_endpoint" },
		/* An https issuer may not send secrets to a local port in clear. */
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"http://127.0.0.1:9/t\",\"jwks_uri\":"
		  "\"https://i.example/k\"}", KMFA_ERR_IDP,
		  "only when the issuer is on loopback" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://127.0.0.1@evil.example/t\","
		  "\"jwks_uri\":\"https://i.example/k\"}", KMFA_ERR_IDP,
		  "user name" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"jwks_uri\":\"https://i.example/k\"}", KMFA_ERR_IDP,
		  "no `token_endpoint`" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://i.example/t\"}", KMFA_ERR_IDP,
		  "no `jwks_uri`" },
		{ "https://i.example", "{\"token_endpoint\":\"https://i.example/t\","
		  "\"jwks_uri\":\"https://i.example/k\"}", KMFA_ERR_IDP,
		  "no `issuer`" },
		{ "https://i.example", "{\"issuer\":[\"https://i.example\"]}",
		  KMFA_ERR_IDP, "`issuer` is not a string" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://i.example/t\",\"jwks_uri\":"
		  "\"https://i.example/k\",\"scopes_supported\":\"openid\"}",
		  KMFA_ERR_IDP, "`scopes_supported` is not an array" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://i.example/t\",\"jwks_uri\":"
		  "\"https://i.example/k\","
		  "\"id_token_signing_alg_values_supported\":[\"RS256\",null]}",
		  KMFA_ERR_IDP, "other than a string" },
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"issuer\":\"https://evil.example\",\"token_endpoint\":"
		  "\"https://i.example/t\",\"jwks_uri\":\"https://i.example/k\"}",
		  KMFA_ERR_IDP, "twice" },
		/* At any depth: an alias read one way here, another there. */
		{ "https://i.example", "{\"issuer\":\"https://i.example\","
		  "\"token_endpoint\":\"https://i.example/t\",\"jwks_uri\":"
		  "\"https://i.example/k\",\"mtls_endpoint_aliases\":{"
		  "\"token_endpoint\":\"https://i.example/m\","
		  "\"token_endpoint\":\"https://evil.example/m\"}}",
		  KMFA_ERR_IDP,
		  "discovery: the answer has token_endpoint twice" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kmfa_discovery *o = NULL;
		int r = parse_disc(cases[i].issuer, cases[i].json, &o);

		if (r != cases[i].want)
			fail_msg("case %zu: got %d want %d (%s)", i, r,
			    cases[i].want, kmfa_report_cause());
		assert_null(o);
		assert_cause_has(cases[i].cause);
	}
}

static void
test_discovery_loopback_issuer_may_use_http(void **state)
{
	struct kmfa_discovery *o = NULL;

	(void)state;
	assert_int_equal(parse_disc("http://127.0.0.1:8080",
	    "{\"issuer\":\"http://127.0.0.1:8080\",\"token_endpoint\":"
	    "\"http://127.0.0.1:8080/t\",\"jwks_uri\":\"http://localhost:8080/k\","
	    "\"device_authorization_endpoint\":\"http://[::1]:8080/d\"}", &o),
	    KMFA_OK);
	kmfa_discovery_free(&o);
	/* Loopback does not mean "anything goes" for other hosts. */
	assert_int_equal(parse_disc("http://127.0.0.1:8080",
	    "{\"issuer\":\"http://127.0.0.1:8080\",\"token_endpoint\":"
	    "\"http://evil.example/t\",\"jwks_uri\":\"http://127.0.0.1:8080/k\"}",
	    &o), KMFA_ERR_IDP);
}

/* The scope parameter. */

static void
test_scope_always_openid_offline_access_deduplicated(void **state)
{
	struct kmfa_config cfg;
	char *scope = NULL;
	const char *extra[] = { "email", "openid", "profile,email",
	    "offline_access", "groups" };

	(void)state;
	kmfa_config_init(&cfg);
	assert_int_equal(kmfa_oauth_scope(&cfg, 1, &scope), KMFA_OK);
	assert_string_equal(scope, "openid offline_access");
	free(scope);
	assert_int_equal(kmfa_oauth_scope(&cfg, 0, &scope), KMFA_OK);
	assert_string_equal(scope, "openid");
	free(scope);
	for (size_t i = 0; i < 5; i++)
		cfg.scopes[cfg.nscopes++] = strdup(extra[i]);
	assert_int_equal(kmfa_oauth_scope(&cfg, 1, &scope), KMFA_OK);
	assert_string_equal(scope,
	    "openid offline_access email profile groups");
	free(scope);
	/* "open" is not "openid": whole tokens only. */
	free(cfg.scopes[0]);
	cfg.scopes[0] = strdup("open");
	assert_int_equal(kmfa_oauth_scope(&cfg, 1, &scope), KMFA_OK);
	assert_string_equal(scope,
	    "openid offline_access open profile email groups");
	free(scope);
	kmfa_config_free(&cfg);

	kmfa_config_init(&cfg);
	cfg.scopes[cfg.nscopes++] = strdup("a b");
	kmfa_report_clear();
	assert_int_equal(kmfa_oauth_scope(&cfg, 1, &scope), KMFA_ERR_CONFIG);
	assert_null(scope);
	free(cfg.scopes[0]);
	cfg.scopes[0] = strdup("a,,b");
	assert_int_equal(kmfa_oauth_scope(&cfg, 1, &scope), KMFA_ERR_CONFIG);
	free(cfg.scopes[0]);
	cfg.scopes[0] = strdup("q\"");
	assert_int_equal(kmfa_oauth_scope(&cfg, 1, &scope), KMFA_ERR_CONFIG);
	kmfa_config_free(&cfg);
}

/* Against a scripted IdP on loopback. */

struct idp {
	struct lb s;
	struct kmfa_config cfg;
	struct kmfa_http *h;
	struct kmfa_discovery *o;
	char *answers[LB_MAX];
	char *issuer;
};

/* answers: bodies with status, after the discovery answer the idp adds. */
static void
idp_start_doc(struct idp *p, const char *doc_extra, const char *secret,
    size_t n, const int *status, const char *const *bodies);

static void
idp_start(struct idp *p, const char *secret, size_t n, const int *status,
    const char *const *bodies)
{
	idp_start_doc(p, "", secret, n, status, bodies);
}

/* doc_extra: more discovery members, each with a leading comma. */
static void
idp_start_doc(struct idp *p, const char *doc_extra, const char *secret,
    size_t n, const int *status, const char *const *bodies)
{
	char *disc = NULL;

	memset(p, 0, sizeof(*p));
	assert_int_equal(lb_listen(&p->s), 0);
	assert_true(kmfa_asprintf(&p->issuer, "http://127.0.0.1:%u",
	    (unsigned)p->s.port) > 0);
	assert_true(kmfa_asprintf(&disc, "{\"issuer\":\"%s\","
	    "\"token_endpoint\":\"%s/token\",\"jwks_uri\":\"%s/jwks\","
	    "\"device_authorization_endpoint\":\"%s/device\","
	    "\"revocation_endpoint\":\"%s/revoke\"%s}", p->issuer, p->issuer,
	    p->issuer, p->issuer, p->issuer, doc_extra) > 0);
	p->answers[0] = lb_answer(200, disc);
	free(disc);
	for (size_t i = 0; i < n; i++)
		p->answers[i + 1] = lb_answer(status[i], bodies[i]);
	for (size_t i = 0; i <= n; i++)
		p->s.answers[i] = p->answers[i];
	p->s.nanswers = n + 1;
	assert_int_equal(lb_start(&p->s), 0);

	kmfa_config_init(&p->cfg);
	p->cfg.issuer = strdup(p->issuer);
	p->cfg.client_id = strdup("kube cli");
	if (secret != NULL)
		p->cfg.client_secret = strdup(secret);
	p->cfg.scopes[p->cfg.nscopes++] = strdup("email");
	p->cfg.extra_params[p->cfg.nextra_params++] =
	    strdup("acr_values=urn:mfa phr");
	assert_int_equal(kmfa_http_new(&p->cfg, &p->h), KMFA_OK);
	kmfa_http_set_deadline(p->h, kmfa_now() + 60);
	kmfa_report_clear();
	assert_int_equal(kmfa_discovery_fetch(p->h, &p->cfg, &p->o), KMFA_OK);
}

static void
idp_stop(struct idp *p)
{
	lb_stop(&p->s);
	kmfa_discovery_free(&p->o);
	kmfa_http_free(&p->h);
	kmfa_config_free(&p->cfg);
	for (size_t i = 0; i < LB_MAX; i++)
		free(p->answers[i]);
	free(p->issuer);
}

struct ticks {
	int calls;
	int64_t last;
};

static void
on_tick(void *arg, int64_t left)
{
	struct ticks *t = arg;

	t->calls++;
	t->last = left;
}

static void
test_device_login_stops_polling_when_tokens_arrive(void **state)
{
	static const int status[] = { 200, 400, 200 };
	static const char *const bodies[] = {
		"{\"device_code\":\"DEVCODE\",\"user_code\":\"ABCD-EFGH\","
		"\"verification_uri\":\"http://127.0.0.1/device\","
		"\"expires_in\":60,\"interval\":1}",
		"{\"error\":\"authorization_pending\"}",
		"{\"access_token\":\"AT\",\"id_token\":\"x.y.z\","
		"\"refresh_token\":\"RT\",\"token_type\":\"Bearer\","
		"\"expires_in\":60}",
	};
	struct idp p;
	struct kmfa_device_auth *da = NULL;
	struct kmfa_tokens *t = NULL;
	struct ticks ticks = { 0, 0 };

	(void)state;
	idp_start(&p, NULL, 3, status, bodies);
	assert_int_equal(kmfa_device_authorize(p.h, p.o, &p.cfg, &da),
	    KMFA_OK);
	assert_string_equal(da->user_code, "ABCD-EFGH");
	assert_int_equal(da->interval, 1);
	assert_int_equal(kmfa_device_poll(p.h, p.o, &p.cfg, da,
	    kmfa_now() + 30, on_tick, &ticks, &t), KMFA_OK);
	assert_string_equal(t->id_token, "x.y.z");
	assert_string_equal(t->refresh_token, "RT");
	idp_stop(&p);

	/* Discovery, authorization, two polls: nothing after the tokens. */
	assert_int_equal(p.s.nreq, 4);
	assert_int_equal(ticks.calls, 2);
	assert_true(ticks.last > 0 && ticks.last <= 30);
	assert_true(strncmp(p.s.req[0], "GET /.well-known/openid-configuration "
	    "HTTP/1.1", 45) == 0);
	assert_true(strncmp(p.s.req[1], "POST /device ", 13) == 0);
	assert_non_null(strstr(p.s.req[1], "\r\n\r\nclient_id=kube+cli&scope="
	    "openid+offline_access+email&acr_values=urn%3Amfa+phr"));
	assert_null(strcasestr(p.s.req[1], "Authorization:"));
	for (size_t i = 2; i < 4; i++) {
		assert_true(strncmp(p.s.req[i], "POST /token ", 12) == 0);
		assert_non_null(strstr(p.s.req[i], "\r\n\r\ngrant_type=urn%3A"
		    "ietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&"
		    "device_code=DEVCODE&client_id=kube+cli"));
	}
	kmfa_oauth_tokens_free(&t);
	kmfa_device_auth_free(&da);
}

/*
 * Google as the issue describes it: no offline_access in scopes_supported
 * (so none asked for), S256 listed (so PKCE, the verifier on every poll),
 * `verification_url` for verification_uri (https://github.com/cli/oauth/pull/24),
 * and a pending poll answered with a status other than 400
 * (https://github.com/pipacs/o2/pull/130).
 */
static void
test_device_login_google_shape_with_pkce(void **state)
{
	static const int status[] = { 200, 428, 403, 200 };
	static const char *const bodies[] = {
		"{\"device_code\":\"DEVCODE\",\"user_code\":\"ABCD-EFGH\","
		"\"verification_url\":\"https://www.google.com/device\","
		"\"expires_in\":60,\"interval\":1}",
		"{\"error\":\"authorization_pending\"}",
		"{\"error\":\"slow_down\"}",
		"{\"access_token\":\"AT\",\"id_token\":\"x.y.z\","
		"\"expires_in\":60}",
	};
	struct idp p;
	struct kmfa_device_auth *da = NULL;
	struct kmfa_tokens *t = NULL;
	char challenge[KMFA_PKCE_CHALLENGE_LEN + 1], verifier[64];
	const char *c, *v;

	(void)state;
	idp_start_doc(&p, ",\"scopes_supported\":[\"openid\",\"email\"],"
	    "\"code_challenge_methods_supported\":[\"plain\",\"S256\"]",
	    NULL, 4, status, bodies);
	assert_int_equal(kmfa_device_authorize(p.h, p.o, &p.cfg, &da),
	    KMFA_OK);
	assert_string_equal(da->verification_uri,
	    "https://www.google.com/device");
	assert_null(da->verification_uri_complete);
	assert_string_equal(da->scope, "openid email");
	assert_true(da->pkce);
	/* slow_down makes the second wait 6 s: allow for it. */
	assert_int_equal(kmfa_device_poll(p.h, p.o, &p.cfg, da,
	    kmfa_now() + 30, NULL, NULL, &t), KMFA_OK);
	assert_string_equal(t->id_token, "x.y.z");
	idp_stop(&p);
	assert_int_equal(p.s.nreq, 5);
	assert_non_null(strstr(p.s.req[1], "&scope=openid+email&"));
	assert_null(strstr(p.s.req[1], "offline_access"));
	assert_non_null(c = strstr(p.s.req[1], "&code_challenge="));
	assert_non_null(strstr(p.s.req[1], "&code_challenge_method=S256"));
	for (size_t i = 2; i < 5; i++) {
		assert_non_null(v = strstr(p.s.req[i], "&code_verifier="));
		v += strlen("&code_verifier=");
		assert_true(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
		    "opqrstuvwxyz0123456789-_") == KMFA_PKCE_VERIFIER_LEN);
		memcpy(verifier, v, KMFA_PKCE_VERIFIER_LEN);
		verifier[KMFA_PKCE_VERIFIER_LEN] = '\0';
		/* The verifier answers the challenge the request carried. */
		assert_int_equal(kmfa_pkce_challenge(verifier, challenge),
		    KMFA_OK);
		assert_memory_equal(c + strlen("&code_challenge="), challenge,
		    KMFA_PKCE_CHALLENGE_LEN);
	}
	kmfa_oauth_tokens_free(&t);
	kmfa_device_auth_free(&da);
}

/* No S256 in discovery: no PKCE parameter at all; a 5xx ends the poll
 * whatever its body says. */
static void
test_device_login_no_pkce_and_5xx_ends(void **state)
{
	static const int status[] = { 200, 503 };
	static const char *const bodies[] = {
		"{\"device_code\":\"DEVCODE\",\"user_code\":\"ABCD-EFGH\","
		"\"verification_uri\":\"https://idp.example/device\","
		"\"message\":\"To sign in, use a web browser\","
		"\"expires_in\":60,\"interval\":1}",
		"{\"error\":\"authorization_pending\"}",
	};
	struct idp p;
	struct kmfa_device_auth *da = NULL;
	struct kmfa_tokens *t = NULL;

	(void)state;
	idp_start_doc(&p, ",\"code_challenge_methods_supported\":[\"plain\"]",
	    NULL, 2, status, bodies);
	assert_int_equal(kmfa_device_authorize(p.h, p.o, &p.cfg, &da),
	    KMFA_OK);
	assert_false(da->pkce);
	assert_int_equal(kmfa_device_poll(p.h, p.o, &p.cfg, da,
	    kmfa_now() + 30, NULL, NULL, &t), KMFA_ERR_IDP);
	assert_null(t);
	assert_cause_has("answered HTTP 503");
	assert_cause_lacks("without an OAuth error");
	idp_stop(&p);
	assert_null(strstr(p.s.req[1], "code_challenge"));
	assert_null(strstr(p.s.req[2], "code_verifier"));
	kmfa_device_auth_free(&da);
}

static void
test_device_login_denied_ends_with_one_line(void **state)
{
	static const int status[] = { 200, 400 };
	static const char *const bodies[] = {
		"{\"device_code\":\"DEVCODE\",\"user_code\":\"ABCD-EFGH\","
		"\"verification_uri\":\"http://127.0.0.1/device\","
		"\"interval\":1}",
		"{\"error\":\"access_denied\",\"error_description\":\"no\"}",
	};
	struct idp p;
	struct kmfa_device_auth *da = NULL;
	struct kmfa_tokens *t = NULL;

	(void)state;
	idp_start(&p, NULL, 2, status, bodies);
	assert_int_equal(kmfa_device_authorize(p.h, p.o, &p.cfg, &da),
	    KMFA_OK);
	assert_int_equal(kmfa_device_poll(p.h, p.o, &p.cfg, da, 0, NULL,
	    NULL, &t), KMFA_ERR_IDP);
	assert_null(t);
	assert_cause_has("the login was denied at the identity provider");
	idp_stop(&p);
	assert_int_equal(p.s.nreq, 3);
	kmfa_device_auth_free(&da);
}

static void
test_device_login_gives_up_at_the_deadline(void **state)
{
	static const int status[] = { 200 };
	static const char *const bodies[] = {
		"{\"device_code\":\"DEVCODE\",\"user_code\":\"ABCD-EFGH\","
		"\"verification_uri\":\"http://127.0.0.1/device\","
		"\"interval\":5}",
	};
	struct idp p;
	struct kmfa_device_auth *da = NULL;
	struct kmfa_tokens *t = NULL;
	int64_t t0;

	(void)state;
	idp_start(&p, NULL, 1, status, bodies);
	assert_int_equal(kmfa_device_authorize(p.h, p.o, &p.cfg, &da),
	    KMFA_OK);
	t0 = kmfa_now();
	assert_int_equal(kmfa_device_poll(p.h, p.o, &p.cfg, da, t0 + 1,
	    NULL, NULL, &t), KMFA_ERR_IDP);
	assert_true(kmfa_now() - t0 <= 2);
	assert_cause_has("not approved within the time allowed (--timeout)");
	idp_stop(&p);
	/* The next poll would have come after the end: none was sent. */
	assert_int_equal(p.s.nreq, 2);
	kmfa_device_auth_free(&da);
}

static void
test_device_authorization_refused_and_basic_auth(void **state)
{
	static const int status[] = { 401 };
	static const char *const bodies[] = {
		"{\"error\":\"invalid_client\",\"error_description\":"
		"\"unknown client\"}",
	};
	struct idp p;
	struct kmfa_device_auth *da = NULL;

	(void)state;
	idp_start(&p, "pa:ss", 1, status, bodies);
	assert_int_equal(kmfa_device_authorize(p.h, p.o, &p.cfg, &da),
	    KMFA_ERR_IDP);
	assert_null(da);
	assert_cause_has("device authorization: http://127.0.0.1:");
	assert_cause_has("refused: invalid_client (unknown client)");
	idp_stop(&p);
	/* RFC 6749 §2.3.1: base64("kube+cli:pa%3Ass"); no client_id in body. */
	assert_non_null(strstr(p.s.req[1],
	    "Authorization: Basic a3ViZStjbGk6cGElM0Fzcw==\r\n"));
	assert_non_null(strstr(p.s.req[1], "\r\n\r\nscope=openid"));
	assert_null(strstr(p.s.req[1], "pa:ss"));
}

static void
test_refresh_invalid_grant_then_revoke(void **state)
{
	static const int status[] = { 400, 200, 200, 503 };
	static const char *const bodies[] = {
		"{\"error\":\"invalid_grant\",\"error_description\":\"gone\"}",
		"{\"access_token\":\"AT2\",\"id_token\":\"i.d.t\"}",
		"",
		"<html>busy</html>",
	};
	struct idp p;
	struct kmfa_tokens *t = NULL;

	(void)state;
	idp_start(&p, NULL, 4, status, bodies);
	assert_int_equal(kmfa_refresh_tokens(p.h, p.o, &p.cfg, "RT-SECRET-1",
	    &t), KMFA_ERR_IDP);
	assert_null(t);
	assert_cause_has("the refresh token was refused (invalid_grant)");
	kmfa_report_clear();
	assert_int_equal(kmfa_refresh_tokens(p.h, p.o, &p.cfg, "RT-SECRET-2",
	    &t), KMFA_OK);
	assert_string_equal(t->id_token, "i.d.t");
	assert_null(t->refresh_token);
	kmfa_oauth_tokens_free(&t);
	assert_int_equal(kmfa_revoke_refresh_token(p.h, p.o, &p.cfg,
	    "RT-SECRET-3"),
	    KMFA_OK);
	assert_int_equal(kmfa_revoke_refresh_token(p.h, p.o, &p.cfg,
	    "RT-SECRET-4"),
	    KMFA_ERR_IDP);
	assert_cause_has("revocation: http://127.0.0.1:");
	assert_cause_has("answered HTTP 503");
	assert_cause_lacks("SECRET");
	idp_stop(&p);
	assert_non_null(strstr(p.s.req[1], "\r\n\r\ngrant_type=refresh_token&"
	    "refresh_token=RT-SECRET-1&client_id=kube+cli"));
	assert_true(strncmp(p.s.req[3], "POST /revoke ", 13) == 0);
	assert_non_null(strstr(p.s.req[3], "\r\n\r\ntoken=RT-SECRET-3&"
	    "token_type_hint=refresh_token&client_id=kube+cli"));
}

static void
test_revoke_without_endpoint_is_notfound(void **state)
{
	struct kmfa_discovery o;
	struct kmfa_config cfg;

	(void)state;
	memset(&o, 0, sizeof(o));
	kmfa_config_init(&cfg);
	assert_int_equal(kmfa_revoke_refresh_token(NULL, &o, &cfg, "rt"),
	    KMFA_ERR_NOTFOUND);
	assert_null(kmfa_report_cause());
}

static void
test_discovery_answer_not_200(void **state)
{
	struct lb s;
	struct kmfa_config cfg;
	struct kmfa_http *h = NULL;
	struct kmfa_discovery *o = NULL;
	char *a = lb_answer(500, "{}");

	(void)state;
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = a;
	s.nanswers = 1;
	assert_int_equal(lb_start(&s), 0);
	kmfa_config_init(&cfg);
	/* A trailing slash is dropped before the well-known path. */
	assert_true(kmfa_asprintf(&cfg.issuer, "http://127.0.0.1:%u/",
	    (unsigned)s.port) > 0);
	assert_int_equal(kmfa_http_new(&cfg, &h), KMFA_OK);
	assert_int_equal(kmfa_discovery_fetch(h, &cfg, &o), KMFA_ERR_IDP);
	assert_null(o);
	assert_cause_has("/.well-known/openid-configuration answered HTTP "
	    "500");
	lb_stop(&s);
	assert_true(strncmp(s.req[0], "GET /.well-known/openid-configuration "
	    "HTTP/1.1", 45) == 0);
	kmfa_http_free(&h);
	kmfa_config_free(&cfg);
	free(a);
}

/*
 * The client's Basic header (RFC 6749 §2.3.1): id and secret form-encoded
 * each, joined by ':', base64, on one "Authorization: Basic" line.
 */
static void
test_basic_auth_header_bytes(void **state)
{
	struct kmfa_buf h = { 0 };

	(void)state;
	assert_int_equal(kmfa_oauth_basic_auth("client", "s3cret", &h),
	    KMFA_OK);
	assert_string_equal(h.data, "Authorization: Basic Y2xpZW50OnMzY3JldA==");
	assert_int_equal(h.len, strlen(h.data));
	/* base64("my+client:p%3Ass%2Fw%C3%B6rd%2B%26%25"): a ':' in the
	 * secret cannot end the id early, nor a '+' turn into a space. */
	assert_int_equal(kmfa_oauth_basic_auth("my client",
	    "p:ss/w\xc3\xb6rd+&%", &h), KMFA_OK);
	assert_string_equal(h.data, "Authorization: Basic "
	    "bXkrY2xpZW50OnAlM0FzcyUyRnclQzMlQjZyZCUyQiUyNiUyNQ==");
	/* An empty secret is still a Basic header: "client:". */
	assert_int_equal(kmfa_oauth_basic_auth("client", "", &h), KMFA_OK);
	assert_string_equal(h.data, "Authorization: Basic Y2xpZW50Og==");
	kmfa_buf_wipe(&h);
	assert_null(h.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_auth_header_bytes),
		cmocka_unit_test_setup(test_poll_pending_polls_again_same_interval, setup),
		cmocka_unit_test_setup(test_poll_slow_down_adds_5_each_time, setup),
		cmocka_unit_test_setup(test_poll_access_denied_stops, setup),
		cmocka_unit_test_setup(test_poll_expired_token_stops, setup),
		cmocka_unit_test_setup(test_poll_unknown_error_stops_and_is_named, setup),
		cmocka_unit_test_setup(test_poll_success_stops, setup),
		cmocka_unit_test_setup(test_device_auth_good, setup),
		cmocka_unit_test_setup(test_device_auth_defaults_and_alias, setup),
		cmocka_unit_test_setup(test_device_auth_clamps_absurd_interval, setup),
		cmocka_unit_test_setup(test_device_auth_expires_in_bounds, setup),
		cmocka_unit_test_setup(test_device_auth_hostile_answers, setup),
		cmocka_unit_test_setup(test_deeply_nested_json_is_refused, setup),
		cmocka_unit_test_setup(test_parse_is_bounded_by_len_not_nul, setup),
		cmocka_unit_test_setup(test_tokens_good, setup),
		cmocka_unit_test_setup(test_tokens_hostile, setup),
		cmocka_unit_test_setup(test_error_answer_is_sanitised, setup),
		cmocka_unit_test_setup(test_discovery_good, setup),
		cmocka_unit_test_setup(test_discovery_issuer_must_match_exactly, setup),
		cmocka_unit_test_setup(test_discovery_configured_issuer_checked, setup),
		cmocka_unit_test_setup(test_discovery_endpoints_must_be_https, setup),
		cmocka_unit_test_setup(test_discovery_loopback_issuer_may_use_http, setup),
		cmocka_unit_test_setup(test_scope_always_openid_offline_access_deduplicated, setup),
		cmocka_unit_test_setup(test_device_login_stops_polling_when_tokens_arrive, setup),
		cmocka_unit_test_setup(test_device_login_denied_ends_with_one_line, setup),
		cmocka_unit_test_setup(test_device_login_gives_up_at_the_deadline, setup),
		cmocka_unit_test_setup(test_device_authorization_refused_and_basic_auth, setup),
		cmocka_unit_test_setup(test_device_login_google_shape_with_pkce, setup),
		cmocka_unit_test_setup(test_device_login_no_pkce_and_5xx_ends, setup),
		cmocka_unit_test_setup(test_discovery_offline_access_and_pkce, setup),
		cmocka_unit_test_setup(test_discovery_revocation_auth_methods, setup),
		cmocka_unit_test_setup(test_discovery_entra_issuers_say_the_fix, setup),
		cmocka_unit_test_setup(test_poll_authorization_declined_is_a_denial, setup),
		cmocka_unit_test_setup(test_poll_invalid_grant_says_log_in_again, setup),
		cmocka_unit_test_setup(test_refresh_invalid_grant_then_revoke, setup),
		cmocka_unit_test_setup(test_revoke_without_endpoint_is_notfound, setup),
		cmocka_unit_test_setup(test_discovery_answer_not_200, setup),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

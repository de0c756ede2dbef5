/*
 * The loopback listener's pure halves: the request head parse, the query
 * parameters, and the verdict on a request (what is the callback, what is
 * the provider's error, what is answered 400 and left waiting).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/report.h"
#include "oidc/loopback.h"

#define HOST "127.0.0.1:40000"
#define STATE "s0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
#define ISSUER "https://idp"

static const struct kmfa_loopback_expect want = { HOST, "/", STATE, ISSUER };

static int
parse(const char *head, struct kmfa_loopback_req *req)
{
	int r = kmfa_loopback_parse_request(head, strlen(head), req);

	kmfa_report_clear();
	return r;
}

static void
test_parse_request(void **state)
{
	struct kmfa_loopback_req req;

	(void)state;
	assert_int_equal(parse("GET /?code=c&state=s HTTP/1.1\r\n"
	    "host:  127.0.0.1:40000 \r\nAccept: */*\r\n\r\n", &req), KMFA_OK);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.target, "/?code=c&state=s");
	assert_string_equal(req.host, "127.0.0.1:40000");
	/* No Host at all: parsed, and the verdict refuses it. */
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &req), KMFA_OK);
	assert_string_equal(req.host, "");
}

static void
test_parse_refuses(void **state)
{
	struct kmfa_loopback_req req;
	char *big;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    &req), KMFA_ERR_IDP);
	assert_int_equal(parse("GET / HTTP/2\r\n\r\n", &req), KMFA_ERR_IDP);
	assert_int_equal(parse("GET http://x/ HTTP/1.1\r\n\r\n", &req),
	    KMFA_ERR_IDP);
	assert_int_equal(parse("GET /\x01 HTTP/1.1\r\n\r\n", &req),
	    KMFA_ERR_IDP);
	assert_int_equal(parse("GET / HTTP/1.1\nHost: a\n\n", &req),
	    KMFA_ERR_IDP);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
	    &req), KMFA_ERR_IDP);
	assert_int_equal(parse("GET / HTTP/1.1\r\nnocolon\r\n\r\n", &req),
	    KMFA_ERR_IDP);
	/* A target longer than the room for it. */
	big = malloc(4096);
	assert_non_null(big);
	memset(big, 'a', 4095);
	big[4095] = '\0';
	memcpy(big, "GET /", 5);
	memcpy(big + 4095 - 13, " HTTP/1.1\r\n\r\n", 14);
	assert_int_equal(parse(big, &req), KMFA_ERR_IDP);
	free(big);
}

static void
test_query_param(void **state)
{
	char *v = NULL;

	(void)state;
	assert_int_equal(kmfa_loopback_query_param("a=1&code=x%2Fy+z&b=",
	    "code", &v), KMFA_OK);
	assert_string_equal(v, "x/y z");
	free(v);
	assert_int_equal(kmfa_loopback_query_param("a=1&b=", "b", &v),
	    KMFA_OK);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(kmfa_loopback_query_param("codex=1&xcode=2", "code",
	    &v), KMFA_ERR_NOTFOUND);
	assert_null(v);
	/* RFC 6749 §3.1: never twice. */
	assert_int_equal(kmfa_loopback_query_param("code=1&code=2", "code",
	    &v), KMFA_ERR_IDP);
	assert_int_equal(kmfa_loopback_query_param("code=%00", "code", &v),
	    KMFA_ERR_IDP);
	assert_int_equal(kmfa_loopback_query_param("code=%4", "code", &v),
	    KMFA_ERR_IDP);
	assert_int_equal(kmfa_loopback_query_param("code=%zz", "code", &v),
	    KMFA_ERR_IDP);
	kmfa_report_clear();
}

static enum kmfa_loopback_verdict
judge(const char *method, const char *target, const char *host,
    char **out, const char **why)
{
	struct kmfa_loopback_req req;
	enum kmfa_loopback_verdict vd;

	memset(&req, 0, sizeof(req));
	(void)snprintf(req.method, sizeof(req.method), "%s", method);
	(void)snprintf(req.target, sizeof(req.target), "%s", target);
	(void)snprintf(req.host, sizeof(req.host), "%s", host);
	vd = kmfa_loopback_judge(&req, &want, out, why);
	kmfa_report_clear();
	return vd;
}

static void
test_judge(void **state)
{
	const char *why;
	char *out = NULL;

	(void)state;
	assert_int_equal(judge("GET", "/?code=abc&state=" STATE
	    "&iss=https%3A%2F%2Fidp", HOST, &out, &why), KMFA_LOOPBACK_CODE);
	assert_string_equal(out, "abc");
	free(out);
	/* The parameters in any order. */
	assert_int_equal(judge("GET", "/?state=" STATE "&code=abc",
	    HOST, &out, &why), KMFA_LOOPBACK_CODE);
	free(out);
	assert_int_equal(judge("GET", "/?error=access_denied&"
	    "error_description=no%1b[31m+way&state=" STATE, HOST, &out, &why),
	    KMFA_LOOPBACK_ERROR);
	/* One printable line: the escape is not passed on. */
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "access_denied ("));
	free(out);
}

static void
test_judge_rejects(void **state)
{
	const char *why;
	char *out = NULL;

	(void)state;
	assert_int_equal(judge("POST", "/?code=a&state=" STATE, HOST, &out,
	    &why), KMFA_LOOPBACK_REJECT);
	assert_int_equal(judge("GET", "/?code=a&state=" STATE,
	    "evil.example:40000", &out, &why), KMFA_LOOPBACK_REJECT);
	assert_string_equal(why, "a foreign Host header");
	assert_int_equal(judge("GET", "/?code=a&state=" STATE, "", &out,
	    &why), KMFA_LOOPBACK_REJECT);
	assert_int_equal(judge("GET", "/favicon.ico", HOST, &out, &why),
	    KMFA_LOOPBACK_REJECT);
	assert_int_equal(judge("GET", "/other?code=a&state=" STATE, HOST,
	    &out, &why), KMFA_LOOPBACK_REJECT);
	assert_int_equal(judge("GET", "/?code=a&state=forged", HOST, &out,
	    &why), KMFA_LOOPBACK_REJECT);
	assert_string_equal(why, "no state or the wrong one");
	assert_int_equal(judge("GET", "/?code=a", HOST, &out, &why),
	    KMFA_LOOPBACK_REJECT);
	/* A prefix of the state is not the state. */
	assert_int_equal(judge("GET", "/?code=a&state=s0123", HOST, &out,
	    &why), KMFA_LOOPBACK_REJECT);
	assert_int_equal(judge("GET", "/?state=" STATE, HOST, &out, &why),
	    KMFA_LOOPBACK_REJECT);
	assert_string_equal(why, "no code");
	assert_int_equal(judge("GET", "/?code=&state=" STATE, HOST, &out,
	    &why), KMFA_LOOPBACK_REJECT);
	assert_int_equal(judge("GET", "/?code=a&code=b&state=" STATE, HOST,
	    &out, &why), KMFA_LOOPBACK_REJECT);
	/* RFC 9207: the response of another authorization server. */
	assert_int_equal(judge("GET", "/?code=a&state=" STATE
	    "&iss=https%3A%2F%2Fevil", HOST, &out, &why),
	    KMFA_LOOPBACK_REJECT);
	assert_string_equal(why, "another issuer (iss)");
	/* An error without this login's state ends nothing. */
	assert_int_equal(judge("GET", "/?error=access_denied", HOST, &out,
	    &why), KMFA_LOOPBACK_REJECT);
	assert_null(out);
}

static void
test_open_refuses_what_is_not_loopback(void **state)
{
	struct kmfa_loopback *l = NULL;

	(void)state;
	assert_int_equal(kmfa_loopback_open("0.0.0.0:0", NULL, &l),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open("localhost:0", NULL, &l),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open("192.0.2.1:0", NULL, &l),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open("127.0.0.1:70000", NULL, &l),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open("127.0.0.1:", NULL, &l),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open(NULL, "https://127.0.0.1/", &l),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open(NULL, "http://example.com/", &l),
	    KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open(NULL,
	    "http://127.0.0.1.evil.example/", &l), KMFA_ERR_USAGE);
	assert_int_equal(kmfa_loopback_open(NULL, "http://localhost/?a=b",
	    &l), KMFA_ERR_USAGE);
	assert_null(l);
	kmfa_report_clear();
	/* The default: a free port on 127.0.0.1, the URI that names it. */
	assert_int_equal(kmfa_loopback_open(NULL, NULL, &l), KMFA_OK);
	assert_int_equal(strncmp(kmfa_loopback_redirect_uri(l),
	    "http://127.0.0.1:", 17), 0);
	assert_string_not_equal(kmfa_loopback_redirect_uri(l),
	    "http://127.0.0.1:0/");
	kmfa_loopback_free(&l);
	assert_null(l);
	assert_int_equal(kmfa_loopback_open(NULL, "http://[::1]:8000/cb", &l),
	    KMFA_OK);
	assert_string_equal(kmfa_loopback_redirect_uri(l),
	    "http://[::1]:8000/cb");
	kmfa_loopback_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_query_param),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_judge_rejects),
		cmocka_unit_test(test_open_refuses_what_is_not_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

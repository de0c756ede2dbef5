/*
 * lib/oidc/http.c's conditional GET and lib/oidc/metacache.c against a
 * scripted server on loopback: the validators go out as If-None-Match and
 * If-Modified-Since, and only when fit to send (a CR LF in a kept ETag must
 * not become a header of its own); the caching headers of the answer come
 * back, several Cache-Control fields joined, a value with a control
 * character dropped; a 304 hands back the kept body; no-store removes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/http.h"
#include "oidc/metacache.h"
#include "token/config.h"

#include "loopback.h"

static struct kmfa_http *
new_client(void)
{
	struct kmfa_config cfg;
	struct kmfa_http *h = NULL;

	kmfa_config_init(&cfg);
	assert_int_equal(kmfa_http_new(&cfg, &h), KMFA_OK);
	kmfa_config_free(&cfg);
	return h;
}

static char *
url_of(const struct lb *s, const char *path)
{
	char *u = NULL;

	assert_true(asprintf(&u, "http://127.0.0.1:%u%s", s->port, path) > 0);
	return u;
}

static const char doc[] = "{\"keys\":[]}";

static void
test_validators_out_meta_back(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_http_meta m;
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *a = NULL, *url;
	long status = 0;

	(void)state;
	assert_true(asprintf(&a, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
	    "ETag: \"v1\"\r\nCache-Control: public\r\nCache-Control: "
	    "max-age=60\r\nAge: 5\r\nLast-Modified: Thu, 03 Dec 2026 "
	    "12:00:00 GMT\r\nConnection: close\r\n\r\n%s", strlen(doc),
	    doc) > 0);
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = a;
	s.answers[1] = a;
	s.nanswers = 2;
	assert_int_equal(lb_start(&s), 0);
	url = url_of(&s, "/jwks");
	assert_int_equal(kmfa_http_get_conditional(h, url, "\"v0\"",
	    "Wed, 02 Dec 2026 12:00:00 GMT", &status, &body, &m), KMFA_OK);
	assert_int_equal(status, 200);
	assert_string_equal(body.data, doc);
	assert_string_equal(m.etag, "\"v1\"");
	assert_string_equal(m.cache_control, "public, max-age=60");
	assert_string_equal(m.age, "5");
	assert_string_equal(m.last_modified, "Thu, 03 Dec 2026 12:00:00 GMT");
	kmfa_http_meta_clear(&m);
	/* A kept value with CR LF in it is not sent at all. */
	assert_int_equal(kmfa_http_get_conditional(h, url,
	    "\"v0\"\r\nX-Evil: 1", NULL, &status, &body, &m), KMFA_OK);
	kmfa_http_meta_clear(&m);
	lb_stop(&s);
	assert_int_equal(s.nreq, 2);
	assert_non_null(strstr(s.req[0], "\r\nIf-None-Match: \"v0\"\r\n"));
	assert_non_null(strstr(s.req[0], "\r\nIf-Modified-Since: Wed, 02 Dec "
	    "2026 12:00:00 GMT\r\n"));
	assert_null(strstr(s.req[1], "X-Evil"));
	assert_null(strstr(s.req[1], "If-None-Match"));
	kmfa_buf_wipe(&body);
	free(url);
	free(a);
	kmfa_http_free(&h);
}

static void
test_unfit_header_dropped(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_http_meta m;
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *a = NULL, *url;
	long status = 0;

	(void)state;
	assert_true(asprintf(&a, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
	    "ETag: \"a\tb\x1b[2J\"\r\nConnection: close\r\n\r\n%s",
	    strlen(doc), doc) > 0);
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = a;
	s.nanswers = 1;
	assert_int_equal(lb_start(&s), 0);
	url = url_of(&s, "/jwks");
	assert_int_equal(kmfa_http_get_conditional(h, url, NULL, NULL,
	    &status, &body, &m), KMFA_OK);
	assert_null(m.etag);
	assert_null(m.cache_control);
	kmfa_http_meta_clear(&m);
	lb_stop(&s);
	kmfa_buf_wipe(&body);
	free(url);
	free(a);
	kmfa_http_free(&h);
}

/* A 200 kept, revalidated by a 304 in a later run, removed by no-store. */
static void
test_keep_revalidate_forget(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_metacache *mc = NULL;
	struct kmfa_buf body = { 0 };
	struct lb s;
	char tmpl[] = "/tmp/kmfa-httpcache.XXXXXX", *dir, *url, *path = NULL;
	char *a200 = NULL, *a304 = NULL, *anostore = NULL;
	struct stat st;
	long status = 0;
	int cached = -1;

	(void)state;
	assert_non_null(dir = mkdtemp(tmpl));
	assert_true(asprintf(&a200, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
	    "ETag: \"v1\"\r\nCache-Control: no-cache\r\nConnection: close\r\n"
	    "\r\n%s", strlen(doc), doc) > 0);
	assert_true(asprintf(&a304, "HTTP/1.1 304 Not Modified\r\n"
	    "Cache-Control: max-age=0\r\nConnection: close\r\n\r\n") > 0);
	assert_true(asprintf(&anostore, "HTTP/1.1 200 OK\r\nContent-Length: "
	    "%zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
	    strlen(doc), doc) > 0);
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = a200;
	s.answers[1] = a304;
	s.answers[2] = anostore;
	s.nanswers = 3;
	assert_int_equal(lb_start(&s), 0);
	url = url_of(&s, "/jwks");

	/* Run 1: fetched, kept at save. */
	assert_int_equal(kmfa_metacache_new(dir, &mc), KMFA_OK);
	assert_int_equal(kmfa_metacache_get(mc, h, "jwks", url, 0, &status,
	    &body, &cached), KMFA_OK);
	assert_int_equal(status, 200);
	assert_int_equal(cached, 0);
	assert_int_equal(kmfa_metacache_save(mc), KMFA_OK);
	kmfa_metacache_free(&mc);
	assert_true(asprintf(&path, "%s/oidc", dir) > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* Run 2: no-cache, so asked with If-None-Match; the 304 keeps it. */
	assert_int_equal(kmfa_metacache_new(dir, &mc), KMFA_OK);
	assert_int_equal(kmfa_metacache_get(mc, h, "jwks", url, 0, &status,
	    &body, &cached), KMFA_OK);
	assert_int_equal(status, 200);
	assert_int_equal(cached, 1);
	assert_string_equal(body.data, doc);
	assert_int_equal(kmfa_metacache_save(mc), KMFA_OK);
	kmfa_metacache_free(&mc);

	/* Run 3: a 200 with no-store: nothing is left. */
	assert_int_equal(kmfa_metacache_new(dir, &mc), KMFA_OK);
	assert_int_equal(kmfa_metacache_get(mc, h, "jwks", url, 0, &status,
	    &body, &cached), KMFA_OK);
	assert_int_equal(cached, 0);
	assert_int_equal(kmfa_metacache_save(mc), KMFA_OK);
	kmfa_metacache_free(&mc);
	lb_stop(&s);
	assert_int_equal(s.nreq, 3);
	assert_null(strstr(s.req[0], "If-None-Match"));
	assert_non_null(strstr(s.req[1], "\r\nIf-None-Match: \"v1\"\r\n"));
	assert_non_null(strstr(s.req[2], "\r\nIf-None-Match: \"v1\"\r\n"));
	assert_int_equal(rmdir(path), 0);	/* empty: the file is gone */
	assert_int_equal(rmdir(dir), 0);
	kmfa_buf_wipe(&body);
	free(path);
	free(url);
	free(a200);
	free(a304);
	free(anostore);
	kmfa_http_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validators_out_meta_back),
		cmocka_unit_test(test_unfit_header_dropped),
		cmocka_unit_test(test_keep_revalidate_forget),
	};

	(void)lb_answer;	/* loopback.h's; the answers here need headers */
	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

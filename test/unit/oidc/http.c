/*
 * lib/oidc/http.c: which URLs may be fetched at all, form encoding, and the
 * transfer limits against a scripted server on loopback (body cap, a
 * server that never answers, status codes handed back, no redirects).
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
#include "oidc/http.h"
#include "token/config.h"

#include "loopback.h"

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

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

	assert_non_null(c);
	if (strstr(c, needle) == NULL)
		fail_msg("cause '%s' lacks '%s'", c, needle);
}

static const struct {
	const char *url;
	int want;	/* KMFA_OK or KMFA_ERR_CONFIG */
	int loopback;
} urls[] = {
	{ "https://idp.example.com", KMFA_OK, 0 },
	{ "https://idp.example.com/realms/k8s", KMFA_OK, 0 },
	{ "HTTPS://IDP.example.com/", KMFA_OK, 0 },
	{ "https://127.0.0.1:8443/", KMFA_OK, 1 },
	{ "http://127.0.0.1:8080/x", KMFA_OK, 1 },
	{ "http://127.45.6.7/", KMFA_OK, 1 },
	{ "http://localhost:9/", KMFA_OK, 1 },
	{ "http://LocalHost/", KMFA_OK, 1 },
	{ "http://[::1]:8080/", KMFA_OK, 1 },
	{ "http://idp.example.com", KMFA_ERR_CONFIG, 0 },
	{ "http://127.0.0.1.evil.com/", KMFA_ERR_CONFIG, 0 },
	{ "http://localhost.evil.com/", KMFA_ERR_CONFIG, 0 },
	{ "http://127.0.0.1@evil.com/", KMFA_ERR_CONFIG, 0 },
	{ "http://evil.com@127.0.0.1/", KMFA_ERR_CONFIG, 0 },
	{ "https://user:pw@idp.example.com/", KMFA_ERR_CONFIG, 0 },
	{ "http://128.0.0.1/", KMFA_ERR_CONFIG, 0 },
	{ "http://[::2]/", KMFA_ERR_CONFIG, 0 },
	{ "http://[::ffff:127.0.0.1]/", KMFA_ERR_CONFIG, 0 },
	{ "ftp://127.0.0.1/", KMFA_ERR_CONFIG, 0 },
	{ "file:///etc/passwd", KMFA_ERR_CONFIG, 0 },
	{ "javascript:alert(1)", KMFA_ERR_CONFIG, 0 },
	{ "idp.example.com", KMFA_ERR_CONFIG, 0 },
	{ "https://", KMFA_ERR_CONFIG, 0 },
	{ "", KMFA_ERR_CONFIG, 0 },
	{ "https://idp.example.com/ x", KMFA_ERR_CONFIG, 0 },
	{ "https://idp.example.com/\x1b[2J", KMFA_ERR_CONFIG, 0 },
};

static void
test_url_policy_https_or_loopback_http(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		int lo = -1, r;

		kmfa_report_clear();
		r = kmfa_http_check_url(urls[i].url, "issuer", &lo);
		if (r != urls[i].want)
			fail_msg("%s: got %d, want %d (%s)", urls[i].url, r,
			    urls[i].want, kmfa_report_cause() ?
			    kmfa_report_cause() : "no cause");
		if (r == KMFA_OK && lo != urls[i].loopback)
			fail_msg("%s: loopback %d, want %d", urls[i].url, lo,
			    urls[i].loopback);
		if (r != KMFA_OK) {
			assert_non_null(kmfa_report_cause());
			/* The message stays one printable line. */
			for (const char *p = kmfa_report_cause(); *p; p++)
				assert_true(*p >= 0x20 && *p < 0x7f);
		}
	}
	kmfa_report_clear();
	assert_int_equal(kmfa_http_check_url(NULL, "issuer", NULL),
	    KMFA_ERR_CONFIG);
}

static void
test_loopback_host_names(void **state)
{
	(void)state;
	assert_true(kmfa_http_host_is_loopback("127.0.0.1"));
	assert_true(kmfa_http_host_is_loopback("127.255.255.254"));
	assert_true(kmfa_http_host_is_loopback("localhost"));
	assert_true(kmfa_http_host_is_loopback("[::1]"));
	assert_false(kmfa_http_host_is_loopback("127.0.0.1.evil.com"));
	assert_false(kmfa_http_host_is_loopback("127.0.0.1 "));
	assert_false(kmfa_http_host_is_loopback("localhost.evil.com"));
	assert_false(kmfa_http_host_is_loopback("evil-localhost"));
	assert_false(kmfa_http_host_is_loopback("::1"));
	assert_false(kmfa_http_host_is_loopback("[::1"));
	assert_false(kmfa_http_host_is_loopback("10.0.0.1"));
	assert_false(kmfa_http_host_is_loopback(""));
	assert_false(kmfa_http_host_is_loopback(NULL));
}

static void
test_form_encoding(void **state)
{
	struct kmfa_buf f = { 0 };

	(void)state;
	assert_int_equal(kmfa_http_form_add(&f, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code"), KMFA_OK);
	assert_int_equal(kmfa_http_form_add(&f, "a b", "x&y=z/+%\xc3\xa9~"),
	    KMFA_OK);
	assert_int_equal(kmfa_http_form_add(&f, "empty", ""), KMFA_OK);
	assert_int_equal(kmfa_http_form_add(&f, "safe", "AZaz09-._*"),
	    KMFA_OK);
	assert_string_equal(f.data,
	    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
	    "&a+b=x%26y%3Dz%2F%2B%25%C3%A9%7E&empty=&safe=AZaz09-._*");
	kmfa_buf_wipe(&f);
	assert_null(f.data);

	assert_int_equal(kmfa_http_urlencode(&f, "id:with spaces"), KMFA_OK);
	assert_string_equal(f.data, "id%3Awith+spaces");
	kmfa_buf_wipe(&f);
}

static void
test_printable_cuts_and_replaces(void **state)
{
	char out[8];

	(void)state;
	kmfa_printable(out, sizeof(out), "ab\x1b[0m");
	assert_string_equal(out, "ab?[0m");
	kmfa_printable(out, sizeof(out), "abcdefghijkl");
	assert_string_equal(out, "abcd...");
	kmfa_printable(out, sizeof(out), NULL);
	assert_string_equal(out, "");
	kmfa_printable(out, sizeof(out), "\xc3\xa9");
	assert_string_equal(out, "??");
}

static void
test_tls_options_checked_at_new(void **state)
{
	struct kmfa_config cfg;
	struct kmfa_http *h = NULL;
	/* base64 of a PEM-looking block: decoding is what is checked here. */
	const char *pem_b64 = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0t"
	    "LS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";

	(void)state;
	kmfa_config_init(&cfg);
	cfg.ca_file = strdup("/nonexistent/ca.pem");
	assert_int_equal(kmfa_http_new(&cfg, &h), KMFA_ERR_CONFIG);
	assert_null(h);
	assert_cause_has("/nonexistent/ca.pem");
	free(cfg.ca_file);
	cfg.ca_file = NULL;

	kmfa_report_clear();
	cfg.ca_data = strdup("!!!not base64!!!");
	assert_int_equal(kmfa_http_new(&cfg, &h), KMFA_ERR_CONFIG);
	assert_cause_has("certificate-authority-data");
	free(cfg.ca_data);

	kmfa_report_clear();
	cfg.ca_data = strdup("aGVsbG8K");	/* "hello\n" */
	assert_int_equal(kmfa_http_new(&cfg, &h), KMFA_ERR_CONFIG);
	assert_cause_has("PEM");
	free(cfg.ca_data);

	kmfa_report_clear();
	cfg.ca_data = strdup(pem_b64);
	assert_int_equal(kmfa_http_new(&cfg, &h), KMFA_OK);
	assert_non_null(h);
	kmfa_http_free(&h);
	assert_null(h);
	kmfa_http_free(&h);
	kmfa_config_free(&cfg);
}

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
lb_url(const struct lb *s, const char *path)
{
	char *u = NULL;

	assert_true(kmfa_asprintf(&u, "http://127.0.0.1:%u%s",
	    (unsigned)s->port, path) > 0);
	return u;
}

static void
test_refuses_http_off_loopback_before_connecting(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	long status = -1;

	(void)state;
	assert_int_equal(kmfa_http_request(h, "http://idp.example.com/x",
	    NULL, NULL, &status, &body), KMFA_ERR_CONFIG);
	assert_int_equal(status, 0);
	assert_null(body.data);
	kmfa_http_free(&h);
}

static void
test_get_and_status_handed_back(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *a200 = lb_answer(200, "{\"ok\":true}");
	char *a500 = lb_answer(500, "{\"error\":\"server_error\"}");
	char *url;
	long status = 0;

	(void)state;
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = a200;
	s.answers[1] = a500;
	s.nanswers = 2;
	assert_int_equal(lb_start(&s), 0);
	url = lb_url(&s, "/x?y=1");
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_OK);
	assert_int_equal(status, 200);
	assert_string_equal(body.data, "{\"ok\":true}");
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_OK);
	assert_int_equal(status, 500);
	assert_string_equal(body.data, "{\"error\":\"server_error\"}");
	lb_stop(&s);
	assert_int_equal(s.nreq, 2);
	assert_true(strncmp(s.req[0], "GET /x?y=1 HTTP/1.1\r\n", 21) == 0);
	assert_non_null(strstr(s.req[0], "User-Agent: kubectl-mfa/"
	    KMFA_VERSION "\r\n"));
	assert_non_null(strstr(s.req[0], "Accept: application/json\r\n"));
	assert_null(strcasestr(s.req[0], "Authorization:"));
	kmfa_buf_wipe(&body);
	free(url);
	free(a200);
	free(a500);
	kmfa_http_free(&h);
}

static void
test_post_form_with_basic_auth(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 }, form = { 0 };
	struct lb s;
	char *a = lb_answer(200, "{}");
	char *url;
	long status = 0;

	(void)state;
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = a;
	s.answers[1] = a;
	s.nanswers = 2;
	assert_int_equal(lb_start(&s), 0);
	url = lb_url(&s, "/token");
	assert_int_equal(kmfa_http_form_add(&form, "k", "v w"), KMFA_OK);
	assert_int_equal(kmfa_http_request(h, url, form.data,
	    "Authorization: Basic Y2xpZW50OnMzY3JldA==", &status, &body),
	    KMFA_OK);
	/* The next request carries nothing of the previous one. */
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_OK);
	lb_stop(&s);
	assert_int_equal(s.nreq, 2);
	assert_true(strncmp(s.req[0], "POST /token HTTP/1.1\r\n", 22) == 0);
	assert_non_null(strstr(s.req[0], "Content-Type: "
	    "application/x-www-form-urlencoded\r\n"));
	/* base64("client:s3cret") */
	assert_non_null(strstr(s.req[0],
	    "Authorization: Basic Y2xpZW50OnMzY3JldA==\r\n"));
	assert_non_null(strstr(s.req[0], "\r\n\r\nk=v+w"));
	assert_true(strncmp(s.req[1], "GET /token HTTP/1.1\r\n", 21) == 0);
	assert_null(strcasestr(s.req[1], "Authorization:"));
	kmfa_buf_wipe(&form);
	kmfa_buf_wipe(&body);
	free(url);
	free(a);
	kmfa_http_free(&h);
}

static void
test_follows_no_redirect(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *url;
	long status = 0;

	(void)state;
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/"
	    "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	s.nanswers = 1;
	assert_int_equal(lb_start(&s), 0);
	url = lb_url(&s, "/");
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_OK);
	assert_int_equal(status, 302);
	lb_stop(&s);
	assert_int_equal(s.nreq, 1);
	kmfa_buf_wipe(&body);
	free(url);
	kmfa_http_free(&h);
}

static void
test_body_over_1mib_declared_is_refused(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *url;
	long status = 0;

	(void)state;
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n"
	    "Connection: close\r\n\r\n{";
	s.nanswers = 1;
	assert_int_equal(lb_start(&s), 0);
	url = lb_url(&s, "/big");
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_ERR_NETWORK);
	assert_cause_has("answered more than 1 MiB");
	assert_cause_has("/big");
	assert_null(body.data);
	assert_int_equal(status, 0);
	lb_stop(&s);
	free(url);
	kmfa_http_free(&h);
}

static void
test_body_over_1mib_streamed_is_aborted(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *url;
	long status = 0;

	(void)state;
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = LB_ENDLESS;
	s.nanswers = 1;
	assert_int_equal(lb_start(&s), 0);
	url = lb_url(&s, "/endless");
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_ERR_NETWORK);
	assert_cause_has("answered more than 1 MiB");
	assert_null(body.data);
	lb_stop(&s);
	free(url);
	kmfa_http_free(&h);
}

static void
test_silent_server_gives_up_by_the_deadline(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *url;
	long status = 0;
	int64_t t0;

	(void)state;
	assert_int_equal(lb_listen(&s), 0);
	s.answers[0] = LB_SILENT;
	s.nanswers = 1;
	assert_int_equal(lb_start(&s), 0);
	url = lb_url(&s, "/silent");
	t0 = kmfa_now();
	kmfa_http_set_deadline(h, t0 + 2);
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_ERR_NETWORK);
	assert_true(kmfa_now() - t0 <= 3);
	assert_cause_has("did not answer within");
	assert_cause_has("--timeout");
	lb_stop(&s);
	free(url);
	kmfa_http_free(&h);
}

static void
test_past_deadline_sends_nothing(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	long status = 0;

	(void)state;
	kmfa_http_set_deadline(h, kmfa_now() - 1);
	assert_int_equal(kmfa_http_request(h, "http://127.0.0.1:1/", NULL,
	    NULL, &status, &body), KMFA_ERR_NETWORK);
	assert_cause_has("ran out of time");
	kmfa_http_free(&h);
}

static void
test_connection_refused_is_named(void **state)
{
	struct kmfa_http *h = new_client();
	struct kmfa_buf body = { 0 };
	struct lb s;
	char *url;
	long status = 0;

	(void)state;
	/* A port that was just free: bound, never listened on, closed. */
	assert_int_equal(lb_listen(&s), 0);
	url = lb_url(&s, "/");
	lb_stop(&s);
	assert_int_equal(kmfa_http_request(h, url, NULL, NULL, &status,
	    &body), KMFA_ERR_NETWORK);
	assert_cause_has("cannot connect to http://127.0.0.1:");
	assert_cause_has("Connection refused");
	free(url);
	kmfa_http_free(&h);
}


/*
 * TLS: a self-signed certificate for IP 127.0.0.1 made by the test, served
 * by `openssl s_server -www` on a port it picks (unit tests do not link
 * libssl, so the server is the real openssl program, stopped by its PID).
 */
struct tls_srv {
	pid_t pid;
	unsigned port;
	char *pem;			/* the certificate, PEM */
	char dir[32];			/* holds cert.pem and key.pem */
	char cert[64], key[64];
	int out;			/* its stdout */
};

static char *
make_cert(EVP_PKEY **keyout)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509V3_CTX v3;
	X509_EXTENSION *e;
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *pem;
	long len;

	assert_non_null(k);
	assert_non_null(x);
	assert_non_null(b);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	n = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"kmfa test", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "IP:127.0.0.1");
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE");
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	len = BIO_get_mem_data(b, &data);
	assert_true(len > 0);
	pem = strndup(data, (size_t)len);
	assert_non_null(pem);
	BIO_free(b);
	X509_free(x);
	*keyout = k;
	return pem;
}

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
tls_start(struct tls_srv *t)
{
	EVP_PKEY *k = NULL;
	BIO *b;
	char *data = NULL, *key, line[256] = "";
	size_t n = 0;
	long len;
	int out[2];

	memset(t, 0, sizeof(*t));
	t->pem = make_cert(&k);
	assert_non_null(b = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	assert_true((len = BIO_get_mem_data(b, &data)) > 0);
	assert_non_null(key = strndup(data, (size_t)len));
	BIO_free(b);
	EVP_PKEY_free(k);
	memcpy(t->dir, "/tmp/kmfa-tls-XXXXXX", 21);
	assert_non_null(mkdtemp(t->dir));
	(void)snprintf(t->cert, sizeof(t->cert), "%s/cert.pem", t->dir);
	(void)snprintf(t->key, sizeof(t->key), "%s/key.pem", t->dir);
	write_file(t->cert, t->pem);
	write_file(t->key, key);
	free(key);

	assert_int_equal(pipe(out), 0);
	assert_true((t->pid = fork()) >= 0);
	if (t->pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(devnull, 2);
		close(out[0]);
		execlp("openssl", "openssl", "s_server", "-accept",
		    "127.0.0.1:0", "-cert", t->cert, "-key", t->key, "-www",
		    (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	/* Bounded: "ACCEPT 127.0.0.1:PORT" once it listens. */
	for (;;) {
		struct pollfd p = { out[0], POLLIN, 0 };
		ssize_t got;
		char *acc;

		if (poll(&p, 1, LB_WAIT_MS) <= 0)
			fail_msg("openssl s_server did not start");
		if ((got = read(out[0], line + n, sizeof(line) - 1 - n)) <= 0)
			fail_msg("openssl s_server exited");
		n += (size_t)got;
		line[n] = '\0';
		if ((acc = strstr(line, "ACCEPT 127.0.0.1:")) != NULL &&
		    strchr(acc, '\n') != NULL) {
			t->port = (unsigned)strtoul(acc + 17, NULL, 10);
			break;
		}
		if (n == sizeof(line) - 1)
			fail_msg("openssl s_server said: %s", line);
	}
	/* Kept open until the stop: a closed pipe would kill it (SIGPIPE). */
	t->out = out[0];
	assert_true(t->port > 0);
}

static void
tls_stop(struct tls_srv *t)
{
	int st;

	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, &st, 0);
		close(t->out);
	}
	unlink(t->cert);
	unlink(t->key);
	rmdir(t->dir);
	free(t->pem);
}

static int
tls_get(const struct tls_srv *t, const char *host, const char *ca_file,
    const char *ca_data, int insecure)
{
	struct kmfa_config cfg;
	struct kmfa_http *h = NULL;
	struct kmfa_buf body = { 0 };
	char *url = NULL;
	long status = 0;
	int r;

	kmfa_report_clear();
	kmfa_config_init(&cfg);
	cfg.ca_file = ca_file != NULL ? strdup(ca_file) : NULL;
	cfg.ca_data = ca_data != NULL ? strdup(ca_data) : NULL;
	cfg.insecure_skip_tls_verify = insecure;
	assert_true(kmfa_asprintf(&url, "https://%s:%u/", host,
	    t->port) > 0);
	if ((r = kmfa_http_new(&cfg, &h)) == KMFA_OK)
		r = kmfa_http_request(h, url, NULL, NULL, &status,
		    &body);
	if (r == KMFA_OK)
		assert_int_equal(status, 200);
	kmfa_buf_wipe(&body);
	kmfa_http_free(&h);
	kmfa_config_free(&cfg);
	free(url);
	return r;
}

static void
test_tls_trust_as_configured(void **state)
{
	struct tls_srv t;
	char *b64;
	size_t n;

	(void)state;
	tls_start(&t);
	n = strlen(t.pem);
	assert_non_null(b64 = malloc(4 * ((n + 2) / 3) + 1));
	(void)EVP_EncodeBlock((unsigned char *)b64,
	    (const unsigned char *)t.pem, (int)n);

	/* The system trust does not know the test's CA. */
	assert_int_equal(tls_get(&t, "127.0.0.1", NULL, NULL, 0),
	    KMFA_ERR_NETWORK);
	assert_cause_has("TLS: certificate verify failed for "
	    "https://127.0.0.1:");
	assert_int_equal(tls_get(&t, "127.0.0.1", NULL, b64, 0), KMFA_OK);
	assert_int_equal(tls_get(&t, "127.0.0.1", t.cert, NULL, 0), KMFA_OK);
	/* The right CA, the wrong name: the certificate names 127.0.0.1. */
	assert_int_equal(tls_get(&t, "localhost", NULL, b64, 0),
	    KMFA_ERR_NETWORK);
	assert_cause_has("TLS: certificate verify failed for "
	    "https://localhost:");
	assert_cause_has("localhost");
	assert_int_equal(tls_get(&t, "127.0.0.1", NULL, NULL, 1), KMFA_OK);
	tls_stop(&t);
	free(b64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_url_policy_https_or_loopback_http, setup),
		cmocka_unit_test_setup(test_loopback_host_names, setup),
		cmocka_unit_test_setup(test_form_encoding, setup),
		cmocka_unit_test_setup(test_printable_cuts_and_replaces, setup),
		cmocka_unit_test_setup(test_tls_options_checked_at_new, setup),
		cmocka_unit_test_setup(test_refuses_http_off_loopback_before_connecting, setup),
		cmocka_unit_test_setup(test_get_and_status_handed_back, setup),
		cmocka_unit_test_setup(test_post_form_with_basic_auth, setup),
		cmocka_unit_test_setup(test_follows_no_redirect, setup),
		cmocka_unit_test_setup(test_body_over_1mib_declared_is_refused, setup),
		cmocka_unit_test_setup(test_body_over_1mib_streamed_is_aborted, setup),
		cmocka_unit_test_setup(test_silent_server_gives_up_by_the_deadline, setup),
		cmocka_unit_test_setup(test_past_deadline_sends_nothing, setup),
		cmocka_unit_test_setup(test_connection_refused_is_named, setup),
		cmocka_unit_test_setup(test_tls_trust_as_configured, setup),
	};

	kmfa_json_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

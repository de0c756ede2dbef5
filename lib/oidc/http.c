/*
 * libcurl, held at arm's length.  The URL is parsed once with curl's own URL
 * parser and that very parse (CURLOPT_CURLU) is what the transfer uses, so
 * the host this file judges loopback or not is the host curl connects to.
 * The easy handle is reset before each request and every option set again:
 * nothing from one request (a POST body, a password) leaks into the next,
 * while connections and TLS sessions are kept for the device-flow polls.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/http.h"

struct kmfa_http {
	CURL *curl;
	char *ca_file;			/* --certificate-authority */
	unsigned char *ca_pem;		/* decoded --certificate-authority-data */
	size_t ca_pem_len;
	int insecure;
	int64_t deadline;		/* 0: none */
};

/* A URL for messages: printable and short enough for one line. */
#define URL_SHOWN 160

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;
static int insecure_warned;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
kmfa_http_host_is_loopback(const char *host)
{
	unsigned char a4[4];
	struct in6_addr a6;
	char inner[INET6_ADDRSTRLEN];
	size_t n;

	if (host == NULL)
		return 0;
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	/*
	 * inet_pton accepts only a complete dotted quad, so
	 * "127.0.0.1.evil.example" (a DNS name anyone can register) is not
	 * an address and not loopback.
	 */
	if (inet_pton(AF_INET, host, a4) == 1)
		return a4[0] == 127;
	n = strlen(host);
	if (n < 3 || host[0] != '[' || host[n - 1] != ']' ||
	    n - 2 >= sizeof(inner))
		return 0;
	memcpy(inner, host + 1, n - 2);
	inner[n - 2] = '\0';
	return inet_pton(AF_INET6, inner, &a6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&a6);
}

/*
 * Parse and judge url; on KMFA_OK and uout != NULL, *uout is the parse the
 * transfer must use.
 */
static int
check_url(const char *url, const char *what, int *loopback, CURLU **uout)
{
	int r = KMFA_ERR_CONFIG;
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	char shown[URL_SHOWN];
	int lo, https;

	if (loopback != NULL)
		*loopback = 0;
	if (uout != NULL)
		*uout = NULL;
	kmfa_printable(shown, sizeof(shown), url);
	if (url == NULL || *url == '\0') {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s: no URL", what);
		goto out;
	}
	for (const char *p = url; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			r = kmfa_fail(KMFA_ERR_CONFIG, "%s '%s' holds a space "
			    "or a character outside printable ASCII", what,
			    shown);
			goto out;
		}
	}
	if ((u = curl_url()) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s '%s' is not a valid URL",
		    what, shown);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s '%s' has a user name in "
		    "it; an identity provider URL never needs one", what,
		    shown);
		goto out;
	}
	https = strcmp(scheme, "https") == 0;
	if (!https && strcmp(scheme, "http") != 0) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s '%s' is not an https URL",
		    what, shown);
		goto out;
	}
	lo = kmfa_http_host_is_loopback(host);
	if (!https && !lo) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "%s '%s' must use https (plain "
		    "http is allowed only for loopback hosts)", what, shown);
		goto out;
	}
	if (loopback != NULL)
		*loopback = lo;
	if (uout != NULL) {
		*uout = u;
		u = NULL;	/* transferred */
	}
	r = KMFA_OK;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return r;
}

int
kmfa_http_check_url(const char *url, const char *what, int *loopback)
{
	return check_url(url, what, loopback, NULL);
}

static int
decode_ca_data(const char *b64, unsigned char **out, size_t *outlen)
{
	int r = KMFA_ERR_CONFIG;
	EVP_ENCODE_CTX *ctx = NULL;
	unsigned char *pem = NULL;
	size_t inlen = strlen(b64), cap;
	int n1 = 0, n2 = 0;

	*out = NULL;
	*outlen = 0;
	if (inlen == 0 || inlen > 16 * 1024 * 1024 ||
	    inlen > (size_t)INT32_MAX) {
		r = kmfa_fail(KMFA_ERR_CONFIG,
		    "--certificate-authority-data is empty or too large");
		goto out;
	}
	cap = inlen / 4 * 3 + 4;
	if ((pem = malloc(cap + 1)) == NULL ||
	    (ctx = EVP_ENCODE_CTX_new()) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, pem, &n1, (const unsigned char *)b64,
	    (int)inlen) < 0 || EVP_DecodeFinal(ctx, pem + n1, &n2) != 1) {
		r = kmfa_fail(KMFA_ERR_CONFIG,
		    "--certificate-authority-data is not valid base64");
		goto out;
	}
	pem[n1 + n2] = '\0';
	if (memmem(pem, (size_t)(n1 + n2), "-----BEGIN CERTIFICATE-----",
	    27) == NULL) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "--certificate-authority-data "
		    "does not hold a PEM certificate");
		goto out;
	}
	*out = pem;
	*outlen = (size_t)(n1 + n2);
	pem = NULL;	/* transferred */
	r = KMFA_OK;
out:
	EVP_ENCODE_CTX_free(ctx);
	free(pem);
	return r;
}

int
kmfa_http_new(const struct kmfa_config *cfg, struct kmfa_http **out)
{
	int r = KMFA_ERR_INTERNAL;
	struct kmfa_http *h = NULL;
	FILE *f = NULL;

	*out = NULL;
	if (pthread_once(&global_once, global_init) != 0 ||
	    global_rc != CURLE_OK) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "libcurl: %s",
		    curl_easy_strerror(global_rc));
		goto out;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (cfg->ca_data != NULL) {
		/* client-go: certificate-authority-data wins over the file. */
		if ((r = decode_ca_data(cfg->ca_data, &h->ca_pem,
		    &h->ca_pem_len)) != KMFA_OK)
			goto out;
	} else if (cfg->ca_file != NULL) {
		/* Say now what curl would only say as a TLS error later. */
		if ((f = fopen(cfg->ca_file, "r")) == NULL) {
			r = kmfa_fail(KMFA_ERR_CONFIG, "cannot read the "
			    "certificate authority %s: %s", cfg->ca_file,
			    strerror(errno));
			goto out;
		}
		if ((h->ca_file = strdup(cfg->ca_file)) == NULL) {
			r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	h->insecure = cfg->insecure_skip_tls_verify != 0;
	if (h->insecure && !insecure_warned) {
		insecure_warned = 1;
		kmfa_warn("--insecure-skip-tls-verify: the identity provider's "
		    "certificate is not checked; anyone on the network path "
		    "can read and forge tokens");
	}
	if ((h->curl = curl_easy_init()) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "libcurl: cannot create a handle");
		goto out;
	}
	*out = h;
	h = NULL;	/* transferred */
	r = KMFA_OK;
out:
	if (f != NULL)
		fclose(f);
	kmfa_http_free(&h);
	return r;
}

void
kmfa_http_free(struct kmfa_http **hp)
{
	struct kmfa_http *h;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h->ca_pem);
	free(h);
	*hp = NULL;
}

void
kmfa_http_set_deadline(struct kmfa_http *h, int64_t deadline_unix)
{
	h->deadline = deadline_unix;
}

int
kmfa_http_urlencode(struct kmfa_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	    p++) {
		char enc[3];
		size_t n = 0;
		int rc;

		/* The set the form serializer leaves alone. */
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '*') {
			enc[n++] = (char)*p;
		} else if (*p == ' ') {
			enc[n++] = '+';
		} else {
			enc[n++] = '%';
			enc[n++] = hex[*p >> 4];
			enc[n++] = hex[*p & 0x0f];
		}
		rc = kmfa_buf_append(b, enc, n);
		explicit_bzero(enc, sizeof(enc));	/* s may be a secret */
		if (rc != 0)
			return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	}
	return KMFA_OK;
}

int
kmfa_http_form_add(struct kmfa_buf *form, const char *key, const char *value)
{
	int r = KMFA_ERR_NOMEM;

	if (form->len > 0 && kmfa_buf_append(form, "&", 1) != 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kmfa_http_urlencode(form, key)) != KMFA_OK)
		goto out;
	if (kmfa_buf_append(form, "=", 1) != 0) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = kmfa_http_urlencode(form, value)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	return r;
}

struct sink {
	struct kmfa_buf *body;
	int over;		/* the answer passed KMFA_HTTP_BODY_MAX */
	int nomem;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > KMFA_HTTP_BODY_MAX - s->body->len) {
		s->over = 1;
		return 0;	/* anything but len aborts the transfer */
	}
	if (kmfa_buf_append(s->body, p, len) != 0) {
		s->nomem = 1;
		return 0;
	}
	return len;
}

/* The part of curl's message worth showing, without its generic prefix. */
static const char *
tls_detail(const char *errbuf)
{
	static const char *prefixes[] = { "SSL certificate problem: ",
	    "SSL: " };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(errbuf, prefixes[i], strlen(prefixes[i])) == 0)
			return errbuf + strlen(prefixes[i]);
	return errbuf;
}

/* CURLcode stops here. */
static int
translate(CURL *c, CURLcode rc, const struct sink *s, const char *shown,
    int64_t timeout, int by_deadline, const char *errbuf_raw)
{
	char errbuf[CURL_ERROR_SIZE];
	long oserr = 0;
	curl_off_t connected = 0;

	kmfa_printable(errbuf, sizeof(errbuf), errbuf_raw[0] != '\0' ?
	    errbuf_raw : curl_easy_strerror(rc));
	if (s->over || rc == CURLE_FILESIZE_EXCEEDED)
		return kmfa_fail(KMFA_ERR_NETWORK, "%s answered more than "
		    "1 MiB", shown);
	if (s->nomem || rc == CURLE_OUT_OF_MEMORY)
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return kmfa_fail(KMFA_ERR_NETWORK, "cannot resolve the host "
		    "of %s", shown);
	case CURLE_COULDNT_CONNECT:
		(void)curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		return kmfa_fail(KMFA_ERR_NETWORK, "cannot connect to %s: %s",
		    shown, oserr != 0 ? strerror((int)oserr) : errbuf);
	case CURLE_OPERATION_TIMEDOUT:
		/* Not CONNECT_TIME: it is 0 on a reused connection too.
		 * PRETRANSFER is set once a connection, new or reused, was
		 * ready for the request. */
		(void)curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T,
		    &connected);
		if (connected == 0)
			return kmfa_fail(KMFA_ERR_NETWORK, "cannot connect to "
			    "%s within %lld s", shown, (long long)(timeout <
			    KMFA_HTTP_CONNECT_TIMEOUT ? timeout :
			    KMFA_HTTP_CONNECT_TIMEOUT));
		return kmfa_fail(KMFA_ERR_NETWORK, "%s did not answer within "
		    "%lld s%s", shown, (long long)timeout, by_deadline ?
		    " (the time left of --timeout)" : "");
	case CURLE_PEER_FAILED_VERIFICATION:
		return kmfa_fail(KMFA_ERR_NETWORK, "TLS: certificate verify "
		    "failed for %s: %s", shown, tls_detail(errbuf));
	case CURLE_SSL_CONNECT_ERROR:
		return kmfa_fail(KMFA_ERR_NETWORK, "TLS: handshake with %s "
		    "failed: %s", shown, tls_detail(errbuf));
	case CURLE_SSL_CACERT_BADFILE:
		return kmfa_fail(KMFA_ERR_CONFIG, "TLS: cannot use the "
		    "certificate authority: %s", errbuf);
	case CURLE_GOT_NOTHING:
		return kmfa_fail(KMFA_ERR_NETWORK, "%s closed the connection "
		    "without answering", shown);
	case CURLE_WEIRD_SERVER_REPLY:
		return kmfa_fail(KMFA_ERR_NETWORK, "%s did not answer in "
		    "HTTP: %s", shown, errbuf);
	default:
		return kmfa_fail(KMFA_ERR_NETWORK, "request to %s failed: %s",
		    shown, errbuf);
	}
}

#define SETOPT(c, opt, val) \
	do { \
		if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK) { \
			r = kmfa_fail(KMFA_ERR_INTERNAL, "libcurl: cannot " \
			    "set %s", #opt); \
			goto out; \
		} \
	} while (0)

void
kmfa_http_meta_clear(struct kmfa_http_meta *m)
{
	free(m->etag);
	free(m->last_modified);
	free(m->cache_control);
	free(m->age);
	memset(m, 0, sizeof(*m));
}

/* A header value fit to keep and to send back: printable ASCII only. */
static int
header_value_ok(const char *v)
{
	size_t n = 0;

	for (; v[n] != '\0'; n++)
		if ((unsigned char)v[n] < 0x20 || (unsigned char)v[n] > 0x7e)
			return 0;
	return n > 0 && n <= KMFA_HTTP_META_MAX;
}

/*
 * The answer's fields called name, joined by ", " (RFC 9110 §5.3), into
 * *out; NULL when absent or unfit.  Fails only for memory.
 */
static int
get_header(CURL *c, const char *name, char **out)
{
	struct kmfa_buf b = { 0 };
	struct curl_header *hh = NULL;
	size_t amount;
	int r = KMFA_ERR_NOMEM;

	*out = NULL;
	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &hh) != CURLHE_OK)
		return KMFA_OK;
	amount = hh->amount;
	for (size_t i = 0; i < amount; i++) {
		if (curl_easy_header(c, name, i, CURLH_HEADER, -1, &hh) !=
		    CURLHE_OK)
			break;
		if ((b.len > 0 && kmfa_buf_append(&b, ", ", 2) != 0) ||
		    kmfa_buf_append(&b, hh->value, strlen(hh->value)) != 0)
			goto out;
	}
	if (b.data != NULL && header_value_ok(b.data)) {
		*out = b.data;
		b.data = NULL;	/* transferred */
	}
	r = KMFA_OK;
out:
	free(b.data);
	return r;
}

static int
get_meta(CURL *c, struct kmfa_http_meta *m)
{
	if (get_header(c, "ETag", &m->etag) != KMFA_OK ||
	    get_header(c, "Last-Modified", &m->last_modified) != KMFA_OK ||
	    get_header(c, "Cache-Control", &m->cache_control) != KMFA_OK ||
	    get_header(c, "Age", &m->age) != KMFA_OK) {
		kmfa_http_meta_clear(m);
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	}
	return KMFA_OK;
}

/* Append "Name: value" to *l when value is given and fit to send. */
static int
add_validator(struct curl_slist **l, const char *name, const char *value)
{
	struct kmfa_buf b = { 0 };
	struct curl_slist *more;

	if (value == NULL || !header_value_ok(value))
		return KMFA_OK;
	if (kmfa_buf_printf(&b, "%s: %s", name, value) != 0 ||
	    (more = curl_slist_append(*l, b.data)) == NULL) {
		free(b.data);
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	}
	*l = more;
	free(b.data);
	return KMFA_OK;
}

/*
 * One transfer.  The easy handle lives as long as the client, so a later
 * request to the same host reuses the connection (no TCP or TLS handshake)
 * and, when the server closed it meanwhile (the device-flow polls wait
 * longer than many keep-alive timeouts), resumes the TLS session from the
 * handle's session cache: curl_easy_reset keeps both.  One handle, used
 * from one thread, needs no share object for that.
 */
static int
transfer(struct kmfa_http *h, const char *url, const char *form,
    const char *authorization, const char *etag, const char *last_modified,
    long *status, struct kmfa_buf *body, struct kmfa_http_meta *meta)
{
	int r = KMFA_ERR_INTERNAL;
	CURL *c = h->curl;
	CURLU *u = NULL;
	CURLcode rc;
	struct curl_slist *headers = NULL, *more = NULL;
	struct curl_blob blob;
	struct sink s = { body, 0, 0 };
	char shown[URL_SHOWN];
	char errbuf[CURL_ERROR_SIZE];
	int64_t timeout = KMFA_HTTP_REQUEST_TIMEOUT, left;
	int loopback = 0, by_deadline = 0;

	*status = 0;
	kmfa_buf_wipe(body);
	errbuf[0] = '\0';
	kmfa_printable(shown, sizeof(shown), url);
	if ((r = check_url(url, "URL", &loopback, &u)) != KMFA_OK)
		goto out;
	if (h->deadline != 0) {
		if ((left = h->deadline - kmfa_now()) <= 0) {
			r = kmfa_fail(KMFA_ERR_NETWORK, "the login ran out of "
			    "time (--timeout) before the request to %s",
			    shown);
			goto out;
		}
		if (left < timeout) {
			timeout = left;
			by_deadline = 1;
		}
	}

	curl_easy_reset(c);
	SETOPT(c, CURLOPT_CURLU, u);
	SETOPT(c, CURLOPT_PROTOCOLS_STR, loopback ? "http,https" : "https");
	SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, CURLOPT_USERAGENT, "kubectl-mfa/" KMFA_VERSION);
	SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L *
	    (long)(timeout < KMFA_HTTP_CONNECT_TIMEOUT ? timeout :
	    KMFA_HTTP_CONNECT_TIMEOUT));
	SETOPT(c, CURLOPT_TIMEOUT_MS, 1000L * (long)timeout);
	/* curl refuses at once when Content-Length already says too much. */
	SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)KMFA_HTTP_BODY_MAX);
	SETOPT(c, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(c, CURLOPT_WRITEDATA, &s);
	SETOPT(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* A proxy's idea of loopback is not ours: talk to it directly. */
	if (loopback)
		SETOPT(c, CURLOPT_PROXY, "");
	if (h->insecure) {
		SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (h->ca_pem != NULL) {
		blob.data = h->ca_pem;
		blob.len = h->ca_pem_len;
		blob.flags = CURL_BLOB_NOCOPY;
		SETOPT(c, CURLOPT_CAINFO_BLOB, &blob);
		/* The configured CA replaces the system's, as in kubectl. */
		SETOPT(c, CURLOPT_CAPATH, NULL);
	} else if (h->ca_file != NULL) {
		SETOPT(c, CURLOPT_CAINFO, h->ca_file);
		SETOPT(c, CURLOPT_CAPATH, NULL);
	}
	/*
	 * The Authorization header as a header, not CURLOPT_USERNAME and
	 * _PASSWORD: libcurl keeps those in copies of its own that it frees
	 * unwiped, where the list's copy is ours to wipe (see out).
	 */
	if ((headers = curl_slist_append(NULL,
	    "Accept: application/json")) == NULL ||
	    (authorization != NULL && (more = curl_slist_append(headers,
	    authorization)) == NULL)) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (more != NULL)
		headers = more;
	if ((r = add_validator(&headers, "If-None-Match", etag)) != KMFA_OK ||
	    (r = add_validator(&headers, "If-Modified-Since",
	    last_modified)) != KMFA_OK)
		goto out;
	SETOPT(c, CURLOPT_HTTPHEADER, headers);
	SETOPT(c, CURLOPT_SSL_SESSIONID_CACHE, 1L);
	if (form != NULL) {
		/* Not COPYPOSTFIELDS: no copy of a secret-bearing form. */
		SETOPT(c, CURLOPT_POSTFIELDS, form);
		SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(form));
	} else {
		SETOPT(c, CURLOPT_HTTPGET, 1L);
	}

	kmfa_debug("%s %s", form != NULL ? "POST" : "GET", shown);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		r = translate(c, rc, &s, shown, timeout, by_deadline, errbuf);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status) !=
	    CURLE_OK || *status < 100 || *status > 599) {
		r = kmfa_fail(KMFA_ERR_NETWORK, "%s gave no HTTP status",
		    shown);
		goto out;
	}
	kmfa_debug("%s answered %ld with %zu bytes", shown, *status,
	    body->len);
	if (meta != NULL && (r = get_meta(c, meta)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	/*
	 * Drop the references to this request's URL, form and headers so
	 * that the handle holds nothing that is freed below; then wipe the
	 * list's copy of the Authorization header.
	 */
	curl_easy_reset(c);
	for (struct curl_slist *l = headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(headers);
	curl_url_cleanup(u);
	if (r != KMFA_OK) {
		*status = 0;
		kmfa_buf_wipe(body);
		if (meta != NULL)
			kmfa_http_meta_clear(meta);
	}
	return r;
}

int
kmfa_http_request(struct kmfa_http *h, const char *url, const char *form,
    const char *authorization, long *status, struct kmfa_buf *body)
{
	return transfer(h, url, form, authorization, NULL, NULL, status, body,
	    NULL);
}

int
kmfa_http_get_conditional(struct kmfa_http *h, const char *url,
    const char *etag, const char *last_modified, long *status,
    struct kmfa_buf *body, struct kmfa_http_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	return transfer(h, url, NULL, NULL, etag, last_modified, status, body,
	    meta);
}

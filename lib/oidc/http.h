/*
 * HTTP for talking to the identity provider, over libcurl (OpenSSL flavour).
 * This module owns the transport policy: https only (plain http only to a
 * loopback host, for development IdPs), the TLS trust the user configured
 * (--certificate-authority[-data], --insecure-skip-tls-verify), no redirects,
 * bounded connect and transfer times that never outlive the login's
 * --timeout, and a 1 MiB cap on every answer.  CURLcode never leaves this
 * file: failures become KMFA_ERR_NETWORK (or KMFA_ERR_CONFIG) with one line
 * that names the URL and the reason.  It knows nothing of OAuth; status codes
 * and bodies are handed back as they came.
 */
#ifndef KMFA_HTTP_H
#define KMFA_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"
#include "token/config.h"

#define KMFA_HTTP_BODY_MAX (1024 * 1024)	/* bytes an answer may hold */
#define KMFA_HTTP_CONNECT_TIMEOUT 10		/* seconds */
#define KMFA_HTTP_REQUEST_TIMEOUT 30		/* seconds, per request */

struct kmfa_http;

/*
 * A client with the TLS options of cfg: ca_file (a PEM file that replaces the
 * system trust), ca_data (base64 of a PEM bundle, as in a kubeconfig; wins
 * over ca_file, as in client-go), insecure_skip_tls_verify (warns once per
 * process).  KMFA_ERR_CONFIG for an unreadable CA file or undecodable data.
 */
int kmfa_http_new(const struct kmfa_config *cfg, struct kmfa_http **out);
void kmfa_http_free(struct kmfa_http **hp);

/* Every later request ends by this time (seconds since the epoch; 0: none). */
void kmfa_http_set_deadline(struct kmfa_http *h, int64_t deadline_unix);

/*
 * One request: GET when form is NULL, else POST of form as
 * application/x-www-form-urlencoded.  authorization, when not NULL, is a
 * whole "Authorization: ..." header line that the caller built (a secret:
 * libcurl's copy of it is wiped before this returns).  body is wiped and
 * emptied first.  On KMFA_OK, *status holds the HTTP status (any status:
 * judging it is the caller's business) and body the answer, which the
 * caller wipes.  On failure body is wiped and the cause is recorded:
 * KMFA_ERR_CONFIG for a URL this module refuses, KMFA_ERR_NETWORK for
 * everything on the wire.
 */
int kmfa_http_request(struct kmfa_http *h, const char *url, const char *form,
    const char *authorization, long *status, struct kmfa_buf *body);

/*
 * What an answer says about caching it (RFC 9111): its validators and its
 * freshness headers, each as the server sent it (several Cache-Control
 * fields joined by ", "), NULL when absent or longer than
 * KMFA_HTTP_META_MAX (a value that long is no header this program needs).
 * Not secrets.
 */
#define KMFA_HTTP_META_MAX 1024
struct kmfa_http_meta {
	char *etag;
	char *last_modified;
	char *cache_control;
	char *age;
};
void kmfa_http_meta_clear(struct kmfa_http_meta *m);

/*
 * A GET that may be answered 304 Not Modified (RFC 9110 §13.1): etag and
 * last_modified (each may be NULL) go out as If-None-Match and
 * If-Modified-Since.  Otherwise as kmfa_http_request; on KMFA_OK *meta
 * holds the answer's caching headers (kmfa_http_meta_clear frees them).
 */
int kmfa_http_get_conditional(struct kmfa_http *h, const char *url,
    const char *etag, const char *last_modified, long *status,
    struct kmfa_buf *body, struct kmfa_http_meta *meta);

/*
 * Check a URL before anything is sent: http or https, a host, no userinfo
 * ("https://127.0.0.1@evil.example" is where phishing lives, and an IdP URL
 * never needs one), and plain http only when the host is loopback
 * (127.0.0.0/8, ::1, localhost).  *loopback (may be NULL) tells which.
 * KMFA_ERR_CONFIG with a recorded cause otherwise; `what` names the URL in
 * that cause ("issuer", "token_endpoint").
 */
int kmfa_http_check_url(const char *url, const char *what, int *loopback);

/* Whether a host name as it appears in a URL is a loopback host. */
int kmfa_http_host_is_loopback(const char *host);

/*
 * Append key=value to an application/x-www-form-urlencoded body
 * (HTML, "application/x-www-form-urlencoded serializing"; RFC 6749
 * Appendix B), with '&' between pairs.  Values may be secrets: the buffer
 * is the caller's to wipe.
 */
int kmfa_http_form_add(struct kmfa_buf *form, const char *key,
    const char *value);

/*
 * Append s percent-encoded as the form serializer does (space as '+').
 * RFC 6749 §2.3.1 wants the client id and secret encoded so before they go
 * into HTTP Basic authentication.
 */
int kmfa_http_urlencode(struct kmfa_buf *b, const char *s);


#endif

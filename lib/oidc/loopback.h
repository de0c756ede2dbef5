/*
 * The loopback redirect listener of a browser login (RFC 8252 §7.3): an
 * HTTP/1.x server on 127.0.0.1 (or [::1]) that waits for the one request
 * the browser makes when the identity provider redirects it back with
 * ?code=...&state=....  This module owns what it takes for that request:
 * a GET of the redirect URI's path, a Host header naming the redirect
 * URI's host and port (a page on another name, rebound by DNS to
 * 127.0.0.1, cannot feed us a code), the login's `state` (RFC 6749
 * §10.12), a bounded head (KMFA_LOOPBACK_HEAD_MAX), a bounded time per
 * connection and in all.  Anything else is answered 400 and the listener
 * keeps waiting: a stray or hostile request never consumes the login.  An
 * `error=` callback with the right state ends it (RFC 6749 §4.1.2.1).
 * The page the browser gets says how the login went and holds neither
 * code nor token.  No threads: one poll(2) loop over the listening socket
 * and a few connections, so a client that connects and never speaks
 * costs a slot for KMFA_LOOPBACK_CONN_TIMEOUT seconds, never the login.
 * The parse and judge functions are the network-free halves, for tests.
 */
#ifndef KMFA_LOOPBACK_H
#define KMFA_LOOPBACK_H

#include <stddef.h>
#include <stdint.h>

#define KMFA_LOOPBACK_HEAD_MAX 8192	/* request line and headers */
#define KMFA_LOOPBACK_CONNS 8		/* connections served at once */
#define KMFA_LOOPBACK_CONN_TIMEOUT 10	/* seconds a connection may take */

struct kmfa_loopback;

/*
 * Listen on listen_address ("127.0.0.1:0" when NULL; "HOST:PORT" with
 * HOST an IPv4 loopback literal or "[::1]"; port 0 picks a free one).
 * redirect_url, when given (--oidc-redirect-url), is the redirect URI
 * sent to the provider and the one the callback must match (an http URL
 * on a loopback host, e.g. http://localhost:8000/); otherwise it is
 * http://HOST:PORT/ for the port bound.  KMFA_ERR_USAGE for an address
 * or URL that is not loopback, KMFA_ERR_IO when the socket cannot be had.
 */
int kmfa_loopback_open(const char *listen_address, const char *redirect_url,
    struct kmfa_loopback **out);

/* The redirect URI, for the authorization and token requests. */
const char *kmfa_loopback_redirect_uri(const struct kmfa_loopback *l);

/*
 * Serve until one valid callback for state (and issuer, see
 * kmfa_loopback_judge) arrives: KMFA_OK with *code (a
 * secret; free with kmfa_freezero_str).  KMFA_ERR_IDP for an error
 * callback (its `error` and `error_description`, printable, in the cause)
 * or when deadline (Unix seconds) passes first.  The listener is closed
 * before it returns, so a second callback finds nobody.
 */
int kmfa_loopback_wait(struct kmfa_loopback *l, const char *state,
    const char *issuer, int64_t deadline, char **code);

void kmfa_loopback_free(struct kmfa_loopback **lp);

/* A request head, parsed.  Pointers into the caller's copy of the head. */
struct kmfa_loopback_req {
	char method[8];
	char target[2048];	/* path and query, as sent */
	char host[256];		/* the one Host header, "" when absent */
};

/*
 * Parse head (len bytes, up to and including the blank line) as an
 * HTTP/1.0 or 1.1 request: KMFA_OK, or KMFA_ERR_IDP with a cause for a
 * malformed line, an over-long target, a control character, two Host
 * headers.
 */
int kmfa_loopback_parse_request(const char *head, size_t len,
    struct kmfa_loopback_req *out);

/*
 * The value of parameter name in query (a query string without '?'),
 * percent-decoded and '+' as space: KMFA_OK with *out (free it),
 * KMFA_ERR_NOTFOUND when absent, KMFA_ERR_IDP when it appears twice
 * (RFC 6749 §3.1) or decodes badly (a NUL, a broken escape).
 */
int kmfa_loopback_query_param(const char *query, const char *name,
    char **out);

enum kmfa_loopback_verdict {
	KMFA_LOOPBACK_REJECT,	/* answer 400, keep waiting */
	KMFA_LOOPBACK_CODE,	/* the callback: *code set */
	KMFA_LOOPBACK_ERROR,	/* the provider's error: *error set */
};

/* What the callback must be. */
struct kmfa_loopback_expect {
	const char *host;	/* the redirect URI's authority */
	const char *path;	/* its path */
	const char *state;	/* this login's */
	const char *issuer;	/* `iss`, when sent, equals it; NULL: unchecked */
};

/*
 * Judge a parsed request against want: method GET, want->path, Host equal
 * to want->host (case-insensitive), `state` equal to want->state, an `iss`
 * parameter, when present, equal to want->issuer (RFC 9207: a response
 * from another authorization server, a mix-up), then either a non-empty
 * `code` or an `error`.  *why (static) says what a rejected request
 * lacked.  *out is the code, or for an error a printable one-line "ERROR
 * (DESCRIPTION)"; free it.
 */
enum kmfa_loopback_verdict kmfa_loopback_judge(
    const struct kmfa_loopback_req *req,
    const struct kmfa_loopback_expect *want, char **out, const char **why);

#endif

/*
 * The loopback listener, in the order a login uses it: the address and the
 * redirect URI, then the poll loop, then the pure halves it calls for each
 * request head (parse, query parameters, the verdict).  Every connection
 * has a slot with its own deadline; the loop never blocks on one of them,
 * so a client that connects and says nothing delays no one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "oidc/loopback.h"
#include "oidc/oauth.h"

#define DEFAULT_LISTEN "127.0.0.1:0"
#define HOST_MAX 255		/* a Host header, a redirect URI's authority */
#define PATH_MAX_LEN 1024	/* a redirect URI's path */

struct conn {
	int fd;			/* -1: free */
	int64_t deadline_ms;	/* monotonic */
	size_t len;
	char buf[KMFA_LOOPBACK_HEAD_MAX + 1];
};

struct kmfa_loopback {
	int fd;
	char *redirect_uri;
	char host[HOST_MAX + 1];	/* what Host must say */
	char path[PATH_MAX_LEN + 1];	/* what the target's path must be */
	struct conn conns[KMFA_LOOPBACK_CONNS];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	/* The head may hold the code: wipe it with the slot. */
	explicit_bzero(c->buf, c->len);
	c->len = 0;
}

void
kmfa_loopback_free(struct kmfa_loopback **lp)
{
	struct kmfa_loopback *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	for (size_t i = 0; i < KMFA_LOOPBACK_CONNS; i++)
		conn_close(&l->conns[i]);
	if (l->fd >= 0)
		(void)close(l->fd);
	free(l->redirect_uri);
	kmfa_freezero(l, sizeof(*l));
	*lp = NULL;
}

const char *
kmfa_loopback_redirect_uri(const struct kmfa_loopback *l)
{
	return l->redirect_uri;
}

/*
 * "HOST:PORT" into a socket address: HOST an IPv4 literal in 127/8 or
 * "[::1]" (RFC 8252 §8.3: never a name, which the resolver or a hosts
 * file may point elsewhere; never a wildcard, which would take the
 * callback from the network).
 */
static int
parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[64];
	const char *colon;
	char *end;
	long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if ((colon = strrchr(spec, ':')) == NULL || colon == spec)
		goto bad;
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port < 0 || port > 65535)
		goto bad;
	if (strcmp(host, "[::1]") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
		return KMFA_OK;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 ||
		    (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			goto bad;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*s4);
		return KMFA_OK;
	}
bad:
	return kmfa_fail(KMFA_ERR_USAGE, "--listen-address takes HOST:PORT "
	    "with HOST a loopback address (127.0.0.1 or [::1]) and PORT 0 "
	    "for a free one");
}

/* An http URL on a loopback host: its authority and path, for the check. */
static int
parse_redirect(const char *url, char host[HOST_MAX + 1],
    char path[PATH_MAX_LEN + 1])
{
	const char *a, *slash, *colon;
	char name[HOST_MAX + 1];
	size_t al;

	if (strncmp(url, "http://", 7) != 0)
		goto bad;
	a = url + 7;
	slash = strchr(a, '/');
	al = slash != NULL ? (size_t)(slash - a) : strlen(a);
	if (al == 0 || al > HOST_MAX || strpbrk(url, "?#@ ") != NULL)
		goto bad;
	memcpy(host, a, al);
	host[al] = '\0';
	if (slash == NULL)
		(void)snprintf(path, PATH_MAX_LEN + 1, "/");
	else if (strlen(slash) > PATH_MAX_LEN)
		goto bad;
	else
		(void)snprintf(path, PATH_MAX_LEN + 1, "%s", slash);
	/* The name without the port; an IPv6 literal keeps its brackets. */
	(void)snprintf(name, sizeof(name), "%s", host);
	if (name[0] == '[') {
		char *rb = strchr(name, ']');
		if (rb == NULL)
			goto bad;
		rb[1] = '\0';
	} else if ((colon = strchr(name, ':')) != NULL) {
		name[colon - name] = '\0';
	}
	if (!kmfa_http_host_is_loopback(name))
		goto bad;
	return KMFA_OK;
bad:
	return kmfa_fail(KMFA_ERR_USAGE, "--oidc-redirect-url for a browser "
	    "login is an http URL on a loopback host (e.g. "
	    "http://localhost:8000/), without query or fragment");
}

int
kmfa_loopback_open(const char *listen_address, const char *redirect_url,
    struct kmfa_loopback **out)
{
	struct kmfa_loopback *l = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char shown[64], derived[HOST_MAX + 8];
	int r, one = 1;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
	l->fd = -1;
	for (size_t i = 0; i < KMFA_LOOPBACK_CONNS; i++)
		l->conns[i].fd = -1;
	if (redirect_url != NULL && (r = parse_redirect(redirect_url, l->host,
	    l->path)) != KMFA_OK)
		goto out;
	/*
	 * A redirect URI given without an address: listen where it points,
	 * its port (80 when it names none) on the loopback of its family.
	 */
	if (listen_address == NULL && redirect_url != NULL) {
		const char *rb = strrchr(l->host, ']'), *c = strrchr(l->host,
		    ':');

		(void)snprintf(derived, sizeof(derived), "%s:%s",
		    l->host[0] == '[' ? "[::1]" : "127.0.0.1",
		    c != NULL && (rb == NULL || c > rb) ? c + 1 : "80");
		listen_address = derived;
	}
	if (listen_address == NULL)
		listen_address = DEFAULT_LISTEN;
	if ((r = parse_listen(listen_address, &ss, &sslen)) != KMFA_OK)
		goto out;
	kmfa_printable(shown, sizeof(shown), listen_address);
	r = KMFA_ERR_IO;
	if ((l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		r = kmfa_fail(KMFA_ERR_IO, "socket: %s", strerror(errno));
		goto out;
	}
	(void)setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&ss, sslen) != 0 ||
	    listen(l->fd, KMFA_LOOPBACK_CONNS) != 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot listen on %s for the "
		    "browser login: %s", shown, strerror(errno));
		goto out;
	}
	sslen = sizeof(ss);
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sslen) != 0) {
		r = kmfa_fail(KMFA_ERR_IO, "getsockname: %s", strerror(errno));
		goto out;
	}
	if (redirect_url == NULL) {
		unsigned port = ss.ss_family == AF_INET6 ?
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		    ntohs(((struct sockaddr_in *)&ss)->sin_port);
		char addr[INET_ADDRSTRLEN];

		if (ss.ss_family == AF_INET6)
			(void)snprintf(l->host, sizeof(l->host), "[::1]:%u",
			    port);
		else if (inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->
		    sin_addr, addr, sizeof(addr)) != NULL)
			(void)snprintf(l->host, sizeof(l->host), "%s:%u", addr,
			    port);
		(void)snprintf(l->path, sizeof(l->path), "/");
		if (kmfa_asprintf(&l->redirect_uri, "http://%s/", l->host) < 0) {
			r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
			goto out;
		}
	} else if ((l->redirect_uri = strdup(redirect_url)) == NULL) {
		r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
		goto out;
	}
	kmfa_debug("browser login: listening on %s for %s", l->host,
	    l->redirect_uri);
	*out = l;
	l = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_loopback_free(&l);
	return r;
}

/* The pages.  Nothing of the request is echoed: no code, no token. */
static const char page_ok[] =
    "<!doctype html><meta charset=utf-8><title>kubectl-mfa</title>"
    "<p>kubectl-mfa: you are logged in. You can close this tab and "
    "return to the terminal.</p>\n";
static const char page_error[] =
    "<!doctype html><meta charset=utf-8><title>kubectl-mfa</title>"
    "<p>kubectl-mfa: the identity provider refused the login. The "
    "terminal says why.</p>\n";
static const char page_bad[] =
    "<!doctype html><meta charset=utf-8><title>kubectl-mfa</title>"
    "<p>kubectl-mfa: this is not the login's callback.</p>\n";

static void
reply(int fd, const char *status, const char *page)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n\r\n", status, strlen(page));
	/* A few hundred bytes on a fresh connection: the socket buffer
	 * takes them whole; a peer that went away is no matter. */
	if (n > 0 && (size_t)n < sizeof(head))
		(void)send(fd, head, (size_t)n, MSG_NOSIGNAL);
	(void)send(fd, page, strlen(page), MSG_NOSIGNAL);
}

/* The end of the head, or NULL while it is incomplete. */
static const char *
head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i - 3] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 1] == '\r' && buf[i] == '\n')
			return buf + i + 1;
	return NULL;
}

/*
 * One complete head from a connection: 1 with *rp when the login ends
 * (the code in *code, or the provider's error), 0 to keep waiting.
 */
static int
serve(struct kmfa_loopback *l, struct conn *c, size_t headlen,
    const char *state, const char *issuer, char **code, int *rp)
{
	struct kmfa_loopback_req req;
	struct kmfa_report_scope sc;
	const char *why = "malformed request";
	char *v = NULL;
	enum kmfa_loopback_verdict vd = KMFA_LOOPBACK_REJECT;

	kmfa_report_enter(&sc);
	if (kmfa_loopback_parse_request(c->buf, headlen, &req) == KMFA_OK)
		vd = kmfa_loopback_judge(&req, &(struct kmfa_loopback_expect){
		    l->host, l->path, state, issuer }, &v, &why);
	kmfa_report_leave(&sc);
	explicit_bzero(&req, sizeof(req));
	switch (vd) {
	case KMFA_LOOPBACK_CODE:
		reply(c->fd, "200 OK", page_ok);
		conn_close(c);
		*code = v;
		*rp = KMFA_OK;
		return 1;
	case KMFA_LOOPBACK_ERROR:
		reply(c->fd, "200 OK", page_error);
		conn_close(c);
		*rp = kmfa_fail(KMFA_ERR_IDP, "the identity provider refused "
		    "the browser login: %s", v);
		free(v);
		return 1;
	case KMFA_LOOPBACK_REJECT:
	default:
		kmfa_debug("browser login: answered 400 to a request that is "
		    "not the callback (%s)", why);
		reply(c->fd, "400 Bad Request", page_bad);
		conn_close(c);
		return 0;
	}
}

/* A new connection into a free slot, or the oldest one's. */
static void
accept_one(struct kmfa_loopback *l, int64_t now_ms)
{
	struct conn *slot = NULL;
	int fd;

	if ((fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	for (size_t i = 0; i < KMFA_LOOPBACK_CONNS; i++) {
		struct conn *c = &l->conns[i];
		if (c->fd < 0) {
			slot = c;
			break;
		}
		if (slot == NULL || c->deadline_ms < slot->deadline_ms)
			slot = c;
	}
	if (slot->fd >= 0) {
		kmfa_debug("browser login: too many connections; dropped the "
		    "oldest");
		conn_close(slot);
	}
	slot->fd = fd;
	slot->len = 0;
	slot->deadline_ms = now_ms + KMFA_LOOPBACK_CONN_TIMEOUT * 1000;
}

/* Read what a connection has; 1 when the login ends (see serve). */
static int
read_conn(struct kmfa_loopback *l, struct conn *c, const char *state,
    const char *issuer, char **code, int *rp)
{
	const char *end;
	ssize_t n;

	n = recv(c->fd, c->buf + c->len, KMFA_LOOPBACK_HEAD_MAX - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if ((end = head_end(c->buf, c->len)) != NULL)
		return serve(l, c, (size_t)(end - c->buf), state, issuer, code,
		    rp);
	if (c->len >= KMFA_LOOPBACK_HEAD_MAX) {
		kmfa_debug("browser login: a request head over %d bytes; "
		    "answered 431", KMFA_LOOPBACK_HEAD_MAX);
		reply(c->fd, "431 Request Header Fields Too Large", page_bad);
		conn_close(c);
	}
	return 0;
}

int
kmfa_loopback_wait(struct kmfa_loopback *l, const char *state,
    const char *issuer, int64_t deadline, char **code)
{
	struct pollfd pfd[1 + KMFA_LOOPBACK_CONNS];
	struct conn *which[1 + KMFA_LOOPBACK_CONNS];
	int r = KMFA_ERR_IDP;

	*code = NULL;
	for (;;) {
		int64_t now_ms = mono_ms(), left = deadline - kmfa_now();
		int wait_ms = 1000;
		nfds_t n = 1;

		if (left <= 0) {
			r = kmfa_fail(KMFA_ERR_IDP, "the browser login did not "
			    "come back within the time allowed (--timeout)");
			goto out;
		}
		pfd[0].fd = l->fd;
		pfd[0].events = POLLIN;
		for (size_t i = 0; i < KMFA_LOOPBACK_CONNS; i++) {
			struct conn *c = &l->conns[i];
			int64_t until;

			if (c->fd < 0)
				continue;
			if ((until = c->deadline_ms - now_ms) <= 0) {
				kmfa_debug("browser login: a connection said "
				    "nothing useful in %d s; closed it",
				    KMFA_LOOPBACK_CONN_TIMEOUT);
				conn_close(c);
				continue;
			}
			if (until < wait_ms)
				wait_ms = (int)until;
			pfd[n].fd = c->fd;
			pfd[n].events = POLLIN;
			which[n++] = c;
		}
		if (poll(pfd, n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			r = kmfa_fail(KMFA_ERR_IO, "poll: %s", strerror(errno));
			goto out;
		}
		for (nfds_t i = 1; i < n; i++)
			if (pfd[i].revents != 0 &&
			    read_conn(l, which[i], state, issuer, code, &r))
				goto out;
		if (pfd[0].revents & POLLIN)
			accept_one(l, mono_ms());
	}
out:
	/* Done either way: nobody is listening for a second callback. */
	for (size_t i = 0; i < KMFA_LOOPBACK_CONNS; i++)
		conn_close(&l->conns[i]);
	if (l->fd >= 0)
		(void)close(l->fd);
	l->fd = -1;
	return r;
}

/* The pure halves. */

static int
bad_request(const char *why)
{
	return kmfa_fail(KMFA_ERR_IDP, "browser login callback: %s", why);
}

/* Copy [s, s + n) into dst[dstlen] when it fits. */
static int
copy_span(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= dstlen)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int
kmfa_loopback_parse_request(const char *head, size_t len,
    struct kmfa_loopback_req *out)
{
	const char *p = head, *end = head + len, *eol, *sp1, *sp2;
	int hosts = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)head[i];
		/* Bytes a request head has no business holding. */
		if (ch == 0 || ch == 0x7f || (ch < 0x20 && ch != '\r' &&
		    ch != '\n' && ch != '\t'))
			return bad_request("a control character");
	}
	if ((eol = memchr(p, '\n', len)) == NULL || eol == p ||
	    eol[-1] != '\r')
		return bad_request("no request line");
	/* METHOD SP TARGET SP HTTP/1.x */
	if ((sp1 = memchr(p, ' ', (size_t)(eol - p))) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))) == NULL ||
	    copy_span(out->method, sizeof(out->method), p,
	    (size_t)(sp1 - p)) != 0 ||
	    copy_span(out->target, sizeof(out->target), sp1 + 1,
	    (size_t)(sp2 - sp1 - 1)) != 0)
		return bad_request("a malformed or over-long request line");
	if ((size_t)(eol - 1 - (sp2 + 1)) != 8 ||
	    (strncmp(sp2 + 1, "HTTP/1.1", 8) != 0 &&
	    strncmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return bad_request("not HTTP/1.x");
	if (out->target[0] != '/')
		return bad_request("the target is not a path");
	for (const char *t = out->target; *t != '\0'; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return bad_request("the target is not plain ASCII");
	for (p = eol + 1; p < end; p = eol + 1) {
		const char *colon, *v, *ve;

		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    eol == p || eol[-1] != '\r')
			return bad_request("a header line without CRLF");
		if (eol - 1 == p)
			break;	/* the blank line */
		if (*p == ' ' || *p == '\t')
			return bad_request("a folded header line");
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon == p)
			return bad_request("a header line without a name");
		if ((size_t)(colon - p) != 4 || strncasecmp(p, "host", 4) != 0)
			continue;
		if (++hosts > 1)
			return bad_request("two Host headers");
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (ve = eol - 1; ve > v && (ve[-1] == ' ' ||
		    ve[-1] == '\t'); ve--)
			;
		if (copy_span(out->host, sizeof(out->host), v,
		    (size_t)(ve - v)) != 0)
			return bad_request("an over-long Host header");
	}
	return KMFA_OK;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode [s, s + n), '+' as space; NULL for a bad escape or NUL. */
static char *
decode(const char *s, size_t n)
{
	char *out, *o;

	if ((o = out = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n)
				goto bad;
			if ((hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0 || (hi | lo) == 0)
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
bad:
	kmfa_freezero(out, n + 1);
	return NULL;
}

int
kmfa_loopback_query_param(const char *query, const char *name, char **out)
{
	size_t nl = strlen(name), found = 0;
	const char *p = query, *val = NULL;
	size_t vlen = 0;

	*out = NULL;
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t plen = amp != NULL ? (size_t)(amp - p) : strlen(p);

		if (plen > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			found++;
			val = p + nl + 1;
			vlen = plen - nl - 1;
		} else if (plen == nl && strncmp(p, name, nl) == 0) {
			found++;
			val = p + nl;
			vlen = 0;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	if (found == 0)
		return KMFA_ERR_NOTFOUND;
	if (found > 1)
		return bad_request("a parameter given twice");
	if ((*out = decode(val, vlen)) == NULL)
		return bad_request("a parameter that does not decode");
	return KMFA_OK;
}

/* Equal strings, in time that does not depend on where they differ. */
static int
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

enum kmfa_loopback_verdict
kmfa_loopback_judge(const struct kmfa_loopback_req *req,
    const struct kmfa_loopback_expect *want, char **out, const char **why)
{
	enum kmfa_loopback_verdict vd = KMFA_LOOPBACK_REJECT;
	char *st = NULL, *code = NULL, *err = NULL, *desc = NULL, *iss = NULL;
	const char *q;
	size_t pl;
	int r;

	*out = NULL;
	*why = "not a GET";
	if (strcmp(req->method, "GET") != 0)
		goto out;
	/* A page on another name rebound to 127.0.0.1 says its own name. */
	*why = "a foreign Host header";
	if (req->host[0] == '\0' || strcasecmp(req->host, want->host) != 0)
		goto out;
	*why = "another path";
	q = strchr(req->target, '?');
	pl = q != NULL ? (size_t)(q - req->target) : strlen(req->target);
	if (strlen(want->path) != pl || strncmp(req->target, want->path,
	    pl) != 0 ||
	    q == NULL)
		goto out;
	q++;
	*why = "no state or the wrong one";
	if (kmfa_loopback_query_param(q, "state", &st) != KMFA_OK ||
	    !same(st, want->state))
		goto out;
	*why = "another issuer (iss)";
	r = kmfa_loopback_query_param(q, "iss", &iss);
	if ((r == KMFA_OK && want->issuer != NULL &&
	    strcmp(iss, want->issuer) != 0) ||
	    (r != KMFA_OK && r != KMFA_ERR_NOTFOUND))
		goto out;
	r = kmfa_loopback_query_param(q, "error", &err);
	if (r == KMFA_OK) {
		char e[KMFA_OAUTH_ERROR_SHOWN], d[KMFA_OAUTH_DESC_SHOWN];

		d[0] = '\0';
		if (kmfa_loopback_query_param(q, "error_description", &desc) ==
		    KMFA_OK)
			kmfa_printable(d, sizeof(d), desc);
		kmfa_printable(e, sizeof(e), err);
		*why = "out of memory";
		if (kmfa_asprintf(out, "%s%s%s%s", e, d[0] != '\0' ? " (" : "",
		    d, d[0] != '\0' ? ")" : "") < 0)
			goto out;
		vd = KMFA_LOOPBACK_ERROR;
		goto out;
	}
	*why = "a malformed error";
	if (r != KMFA_ERR_NOTFOUND)
		goto out;
	*why = "no code";
	if (kmfa_loopback_query_param(q, "code", &code) != KMFA_OK ||
	    code[0] == '\0')
		goto out;
	*out = code;
	code = NULL;	/* transferred */
	*why = NULL;
	vd = KMFA_LOOPBACK_CODE;
out:
	kmfa_freezero_str(code);
	free(st);
	free(iss);
	free(err);
	free(desc);
	return vd;
}

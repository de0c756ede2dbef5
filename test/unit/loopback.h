/*
 * A scripted HTTP/1.1 server on 127.0.0.1, in a thread, for the unit tests
 * of lib/oidc/: it serves one canned answer per connection, in
 * order, records each request, and can also misbehave (never answer, answer
 * without end).  Every wait in it is bounded: a broken test fails, it never
 * hangs.  Header-only because every test/unit/X.c is its own program.
 */
#ifndef KMFA_TEST_LOOPBACK_H
#define KMFA_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LB_MAX 16
#define LB_REQ_MAX 8192
#define LB_SILENT "<silent>"	/* read the request, never answer */
#define LB_ENDLESS "<endless>"	/* 200, then body bytes without end */
#define LB_WAIT_MS 15000	/* the longest any wait here lasts */

struct lb {
	int fd;
	int stop[2];
	uint16_t port;
	pthread_t th;
	int started;
	const char *answers[LB_MAX];
	size_t nanswers;
	char req[LB_MAX][LB_REQ_MAX];	/* what each connection sent */
	size_t nreq;			/* connections served */
};

/* Bind and listen; the port is known (for URLs in answers) before serving. */
static int
lb_listen(struct lb *s)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (pipe(s->stop) != 0)
		return -1;
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s->fd, 8) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	s->port = ntohs(a.sin_port);
	return 0;
}

/* Wait for fd to be readable or the stop pipe; 1 readable, 0 otherwise. */
static int
lb_wait(struct lb *s, int fd, int ms)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };

	if (poll(p, 2, ms) <= 0 || (p[1].revents & POLLIN))
		return 0;
	return 1;
}

static void
lb_send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read one request: headers, then Content-Length bytes of body. */
static void
lb_read_request(struct lb *s, int c, char *buf)
{
	size_t n = 0, want = 0;
	char *hdr_end = NULL, *cl;

	while (n < LB_REQ_MAX - 1 && lb_wait(s, c, LB_WAIT_MS)) {
		ssize_t got = recv(c, buf + n, LB_REQ_MAX - 1 - n, 0);

		if (got <= 0)
			break;
		n += (size_t)got;
		buf[n] = '\0';
		if (hdr_end == NULL && (hdr_end = strstr(buf, "\r\n\r\n")) !=
		    NULL) {
			want = (size_t)(hdr_end + 4 - buf);
			if ((cl = strcasestr(buf, "\r\nContent-Length:")) !=
			    NULL && cl < hdr_end)
				want += strtoul(cl + 17, NULL, 10);
		}
		if (hdr_end != NULL && n >= want)
			break;
	}
	buf[n] = '\0';
}

static void *
lb_main(void *arg)
{
	struct lb *s = arg;

	while (s->nreq < LB_MAX && lb_wait(s, s->fd, LB_WAIT_MS)) {
		const char *ans;
		char chunk[16384];
		int c;

		if ((c = accept(s->fd, NULL, NULL)) < 0)
			break;
		lb_read_request(s, c, s->req[s->nreq]);
		ans = s->nreq < s->nanswers ? s->answers[s->nreq] :
		    "HTTP/1.1 418 No More Answers\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		s->nreq++;
		if (strcmp(ans, LB_SILENT) == 0) {
			/* Until the client gives up and closes. */
			while (lb_wait(s, c, LB_WAIT_MS) &&
			    recv(c, chunk, sizeof(chunk), 0) > 0)
				;
		} else if (strcmp(ans, LB_ENDLESS) == 0) {
			const char *h = "HTTP/1.1 200 OK\r\nContent-Type: "
			    "application/json\r\nConnection: close\r\n\r\n";
			lb_send_all(c, h, strlen(h));
			memset(chunk, ' ', sizeof(chunk));
			/* 4 MiB at most; the client should stop at 1. */
			for (int i = 0; i < 256; i++) {
				if (send(c, chunk, sizeof(chunk),
				    MSG_NOSIGNAL) <= 0)
					break;
			}
		} else {
			lb_send_all(c, ans, strlen(ans));
		}
		close(c);
	}
	return NULL;
}

static int
lb_start(struct lb *s)
{
	if (pthread_create(&s->th, NULL, lb_main, s) != 0)
		return -1;
	s->started = 1;
	return 0;
}

/* Stop, join and close; the recorded requests stay readable. */
static void
lb_stop(struct lb *s)
{
	if (s->started) {
		if (write(s->stop[1], "x", 1) != 1)
			shutdown(s->fd, SHUT_RDWR);
		pthread_join(s->th, NULL);
		s->started = 0;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	close(s->stop[0]);
	close(s->stop[1]);
}

/* An answer with a JSON body; caller frees. */
static char *
lb_answer(int status, const char *body)
{
	char *a = NULL;

	if (asprintf(&a, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
	    strlen(body), body) < 0)
		return NULL;
	return a;
}

#endif

/*
 * The control socket (see control.h).  Lines longer than SK_CONTROL_LINE
 * are answered with an error and dropped; at most SK_CONTROL_MAX control
 * connections are served at once, further ones wait in the backlog.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "loop.h"
#include "softkey.h"

static const char *const presence_names[] = { "touch", "notouch", "refuse" };

int
control_parse_mode(const char *s, enum sk_presence *presence,
    unsigned *faults)
{
	const char *word = s, *end;
	size_t len;

	*presence = SK_TOUCH;
	*faults = 0;
	for (;;) {
		end = strchr(word, ',');
		len = end != NULL ? (size_t)(end - word) : strlen(word);
		if (len == 5 && strncmp(word, "touch", len) == 0)
			*presence = SK_TOUCH;
		else if (len == 7 && strncmp(word, "notouch", len) == 0)
			*presence = SK_NOTOUCH;
		else if (len == 6 && strncmp(word, "refuse", len) == 0)
			*presence = SK_REFUSE;
		else if (len == 8 && strncmp(word, "rollback", len) == 0)
			*faults |= SK_FAULT_ROLLBACK;
		else if (len == 6 && strncmp(word, "badsig", len) == 0)
			*faults |= SK_FAULT_BADSIG;
		else if (len == 6 && strncmp(word, "nohmac", len) == 0)
			*faults |= SK_FAULT_NOHMAC;
		else if (len == 4 && strncmp(word, "nouv", len) == 0)
			*faults |= SK_FAULT_NOUV;
		else if (len == 6 && strncmp(word, "unplug", len) == 0)
			*faults |= SK_MODE_UNPLUG;
		else
			return -1;
		if (end == NULL)
			return 0;
		word = end + 1;
	}
}

int
control_open(struct softkey *sk)
{
	struct sockaddr_un sa;
	int fd = -1;

	for (size_t i = 0; i < SK_CONTROL_MAX; i++)
		sk->control[i].fd = -1;
	sk->control_fd = -1;
	if (sk->control_path == NULL)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sk->control_path) >= sizeof(sa.sun_path)) {
		sk_log("%s: path too long", sk->control_path);
		return -1;
	}
	memcpy(sa.sun_path, sk->control_path, strlen(sk->control_path));
	(void)unlink(sk->control_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 8) != 0) {
		sk_log("%s: %s", sk->control_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sk->control_fd = fd;
	return 0;
}

void
control_close(struct softkey *sk)
{
	for (size_t i = 0; i < SK_CONTROL_MAX; i++)
		if (sk->control[i].fd >= 0) {
			close(sk->control[i].fd);
			sk->control[i].fd = -1;
		}
	if (sk->control_fd >= 0) {
		close(sk->control_fd);
		sk->control_fd = -1;
		(void)unlink(sk->control_path);
	}
}

static int
parse_long(const char *s, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *v < 0 ||
	    *v > max ? -1 : 0;
}

static void
unplug(struct softkey *sk)
{
	sk->unplugged = true;
	sk_drop_client(sk);
	loop_unlisten(sk);
	sk_log("control: unplugged");
}

static void
reply(int fd, const char *text)
{
	size_t len = strlen(text);

	if (send(fd, text, len, MSG_NOSIGNAL) != (ssize_t)len)
		sk_log("control: short reply");
}

/* Run one command line; write the answer into out. */
static void
execute(struct softkey *sk, char *line, char *out, size_t cap)
{
	char *arg = strchr(line, ' ');
	enum sk_presence presence;
	unsigned faults;
	long v;

	if (arg != NULL)
		*arg++ = '\0';
	snprintf(out, cap, "ok\n");
	if (strcmp(line, "ping") == 0 && arg == NULL)
		return;
	if (strcmp(line, "mode") == 0 && arg != NULL) {
		if (control_parse_mode(arg, &presence, &faults) < 0) {
			snprintf(out, cap, "error unknown mode\n");
			return;
		}
		sk->presence = presence;
		sk->faults = faults & ~(unsigned)SK_MODE_UNPLUG;
		sk_log("control: mode %s", arg);
		if (faults & SK_MODE_UNPLUG)
			unplug(sk);
		return;
	}
	if ((strcmp(line, "delay") == 0 || strcmp(line, "timeout") == 0) &&
	    arg != NULL) {
		if (parse_long(arg, 3600000, &v) < 0) {
			snprintf(out, cap, "error bad milliseconds\n");
			return;
		}
		if (line[0] == 'd')
			sk->touch_delay_ms = (int)v;
		else
			sk->touch_timeout_ms = (int)v;
		return;
	}
	if ((strcmp(line, "counter-rollback") == 0 && arg == NULL) ||
	    (strcmp(line, "counter") == 0 && arg != NULL)) {
		v = 0;
		if (arg != NULL && parse_long(arg, UINT32_MAX, &v) < 0) {
			snprintf(out, cap, "error bad counter\n");
			return;
		}
		sk->state.counter = (uint32_t)v;
		if (state_save(sk->state_path, &sk->state) < 0)
			snprintf(out, cap, "error cannot save state\n");
		sk_log("control: counter set to %ld", v);
		return;
	}
	if (strcmp(line, "unplug") == 0 && arg == NULL) {
		unplug(sk);
		return;
	}
	if (strcmp(line, "plug") == 0 && arg == NULL) {
		if (sk->unplugged && loop_listen(sk) < 0) {
			snprintf(out, cap, "error cannot listen\n");
			return;
		}
		sk->unplugged = false;
		sk_log("control: plugged in");
		return;
	}
	if (strcmp(line, "status") == 0 && arg == NULL) {
		snprintf(out, cap, "ok mode=%s%s%s%s%s%s counter=%lu retries=%d "
		    "pin=%s connected=%s touches=%lu\n", presence_names[sk->presence],
		    sk->faults & SK_FAULT_ROLLBACK ? ",rollback" : "",
		    sk->faults & SK_FAULT_BADSIG ? ",badsig" : "",
		    sk->faults & SK_FAULT_NOHMAC ? ",nohmac" : "",
		    sk->faults & SK_FAULT_NOUV ? ",nouv" : "",
		    sk->unplugged ? ",unplug" : "",
		    (unsigned long)sk->state.counter, sk->state.pin_retries,
		    sk->state.pin_set ? "yes" : "no",
		    sk->link.fd >= 0 ? "yes" : "no", sk->touches);
		return;
	}
	snprintf(out, cap, "error unknown command\n");
}

static void
close_conn(struct sk_control_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Read what is there and run every complete line. */
static void
serve_conn(struct softkey *sk, struct sk_control_conn *c)
{
	char answer[256], *nl;
	size_t used;
	ssize_t n;

	n = recv(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len,
	    MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			close_conn(c);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	while ((nl = strchr(c->line, '\n')) != NULL) {
		*nl = '\0';
		if (nl > c->line && nl[-1] == '\r')
			nl[-1] = '\0';
		execute(sk, c->line, answer, sizeof(answer));
		reply(c->fd, answer);
		used = (size_t)(nl + 1 - c->line);
		memmove(c->line, nl + 1, c->len - used + 1);
		c->len -= used;
	}
	if (c->len == sizeof(c->line) - 1) {
		reply(c->fd, "error line too long\n");
		close_conn(c);
	}
}

size_t
control_pollfds(struct softkey *sk, struct pollfd *fds, size_t cap)
{
	size_t n = 0;
	bool room = false;

	if (sk->control_fd < 0)
		return 0;
	for (size_t i = 0; i < SK_CONTROL_MAX && n < cap; i++) {
		if (sk->control[i].fd >= 0)
			fds[n++] = (struct pollfd){ .fd = sk->control[i].fd,
			    .events = POLLIN };
		else
			room = true;
	}
	/* with every slot taken, new connections wait in the backlog */
	if (room && n < cap)
		fds[n++] = (struct pollfd){ .fd = sk->control_fd,
		    .events = POLLIN };
	return n;
}

static void
accept_conn(struct softkey *sk)
{
	int fd;

	for (size_t i = 0; i < SK_CONTROL_MAX; i++) {
		if (sk->control[i].fd >= 0)
			continue;
		if ((fd = accept4(sk->control_fd, NULL, NULL,
		    SOCK_CLOEXEC)) < 0)
			return;
		sk->control[i].fd = fd;
		sk->control[i].len = 0;
		return;
	}
}

void
control_serve(struct softkey *sk, const struct pollfd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i].revents == 0)
			continue;
		if (fds[i].fd == sk->control_fd) {
			accept_conn(sk);
			continue;
		}
		for (size_t j = 0; j < SK_CONTROL_MAX; j++)
			if (sk->control[j].fd == fds[i].fd)
				serve_conn(sk, &sk->control[j]);
	}
}

int
control_client(const char *path, const char *line)
{
	struct sockaddr_un sa;
	char answer[SK_CONTROL_LINE];
	size_t got = 0;
	ssize_t n;
	int fd = -1;
	int r = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path) || strchr(line, '\n') != NULL)
		goto out;
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, line, strlen(line), MSG_NOSIGNAL) !=
	    (ssize_t)strlen(line) || send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "kmfa-softkey: %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	while (got < sizeof(answer) - 1 && memchr(answer, '\n', got) == NULL) {
		if ((n = recv(fd, answer + got, sizeof(answer) - 1 - got,
		    0)) <= 0)
			break;
		got += (size_t)n;
	}
	answer[got] = '\0';
	fputs(answer, stdout);
	if (strcmp(answer, "ok\n") == 0 || strncmp(answer, "ok ", 3) == 0)
		r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

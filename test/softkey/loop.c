/*
 * The event loop.  One client at a time: while a client is connected the
 * listening socket is not polled, so a second client waits in the backlog
 * until the first one hangs up, as a second program waits for a HID device
 * another program holds.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "hid.h"
#include "loop.h"
#include "pin.h"
#include "softkey.h"

int
loop_listen(struct softkey *sk)
{
	struct sockaddr_un sa;
	int fd = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sk->socket_path) >= sizeof(sa.sun_path)) {
		sk_log("%s: path too long", sk->socket_path);
		return -1;
	}
	memcpy(sa.sun_path, sk->socket_path, strlen(sk->socket_path));
	(void)unlink(sk->socket_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 8) != 0) {
		sk_log("%s: %s", sk->socket_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sk->listen_fd = fd;
	return 0;
}

void
loop_unlisten(struct softkey *sk)
{
	if (sk->listen_fd < 0)
		return;
	close(sk->listen_fd);
	sk->listen_fd = -1;
	(void)unlink(sk->socket_path);
}

void
sk_drop_client(struct softkey *sk)
{
	if (sk->link.fd < 0)
		return;
	close(sk->link.fd);
	hid_link_reset(&sk->link, -1);
	sk_log("client disconnected");
}

static void
accept_client(struct softkey *sk)
{
	int fd;

	if ((fd = accept4(sk->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	hid_link_reset(&sk->link, fd);
	sk->busy_cid = 0;
	/* a new connection is a new power-up for the PIN state */
	if (pin_session_reset(sk) < 0)
		sk_log("cannot reset the PIN session");
	sk_log("client connected");
}

int
loop_poll(struct softkey *sk, int timeout_ms, bool accept_clients)
{
	struct pollfd fds[2 + SK_CONTROL_MAX + 1];
	size_t n = 0, ctl_first, client = SIZE_MAX, listener = SIZE_MAX;
	int r;

	if (sk->link.fd >= 0) {
		client = n;
		fds[n++] = (struct pollfd){ .fd = sk->link.fd,
		    .events = POLLIN };
	} else if (accept_clients && sk->listen_fd >= 0) {
		listener = n;
		fds[n++] = (struct pollfd){ .fd = sk->listen_fd,
		    .events = POLLIN };
	}
	ctl_first = n;
	n += control_pollfds(sk, fds + n, sizeof(fds) / sizeof(fds[0]) - n);
	if ((r = poll(fds, n, timeout_ms)) < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;
	control_serve(sk, fds + ctl_first, n - ctl_first);
	if (listener != SIZE_MAX && fds[listener].revents != 0 &&
	    sk->listen_fd >= 0)
		accept_client(sk);
	/* the control socket may have unplugged the client meanwhile */
	if (client != SIZE_MAX && fds[client].revents != 0 && sk->link.fd >= 0)
		return 1;
	return 0;
}

void
loop_run(struct softkey *sk)
{
	static struct hid_msg msg;
	int n;

	for (;;) {
		if ((n = loop_poll(sk, -1, true)) < 0) {
			sk_log("poll: %s", strerror(errno));
			return;
		}
		if (n == 0)
			continue;
		if ((n = hid_receive(&sk->link, &msg)) < 0)
			sk_drop_client(sk);
		else if (n == 1)
			hid_dispatch(sk, &msg);
	}
}

/*
 * The PIN read.  The signal handlers only note the signal: the read loop
 * sees it, restores the terminal, and raises it again once the old
 * handlers are back, so an interrupted prompt never leaves the terminal
 * without echo.  The PIN is read a byte at a time with read(2), so that
 * nothing typed after its line is taken from the terminal and no stdio
 * buffer holds a copy of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/err.h"
#include "base/report.h"
#include "ui/tty.h"

#define PIN_MAX		256	/* CTAP2 §6.5.5.5: at most 63 bytes; room to spare */

static volatile sig_atomic_t pin_signal;

static void
on_signal(int sig)
{
	pin_signal = sig;
}

int
kmfa_tty_read_pin(void *arg, const char *prompt, int timeout_ms, char **out)
{
	struct sigaction sa, old_int, old_term, old_hup;
	struct termios saved, quiet;
	char buf[PIN_MAX];
	size_t n = 0;
	int fd, r = KMFA_ERR_FIDO2, restored = 0;

	(void)arg;
	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return kmfa_fail(KMFA_ERR_FIDO2, "a PIN is needed but there is "
		    "no terminal");
	if (tcgetattr(fd, &saved) != 0) {
		close(fd);
		return kmfa_fail(KMFA_ERR_FIDO2, "a PIN is needed but there is "
		    "no terminal");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	pin_signal = 0;
	(void)sigaction(SIGINT, &sa, &old_int);
	(void)sigaction(SIGTERM, &sa, &old_term);
	(void)sigaction(SIGHUP, &sa, &old_hup);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	(void)!write(fd, prompt, strlen(prompt));
	while (pin_signal == 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char c;
		ssize_t got;
		int pr;

		/* --timeout bounds the whole login, a PIN nobody types too. */
		if ((pr = poll(&pfd, 1, timeout_ms)) == 0) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "no PIN was entered in "
			    "time (--timeout)");
			goto out;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		got = pr < 0 ? -1 : read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= sizeof(buf)) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "the PIN is too long");
			goto out;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	(void)tcsetattr(fd, TCSAFLUSH, &saved);
	restored = 1;
	(void)!write(fd, "\n", 1);
	if (pin_signal != 0) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "interrupted at the PIN prompt");
		goto out;
	}
	if (n == 0) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "no PIN was entered");
		goto out;
	}
	if ((*out = strdup(buf)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	r = KMFA_OK;
out:
	if (!restored)
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);
	(void)sigaction(SIGHUP, &old_hup, NULL);
	if (pin_signal != 0)
		(void)raise(pin_signal);
	return r;
}

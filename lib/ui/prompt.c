/*
 * Device-flow prompts.  The QR code is drawn with Unicode half blocks, two
 * modules per character cell, with the quiet zone ISO/IEC 18004 asks for,
 * and only when it fits the terminal: a QR code wrapped by the terminal is
 * worse than none.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qrencode.h>

#include "base/report.h"
#include "ui/prompt.h"

static int
stderr_tty(void)
{
	return isatty(STDERR_FILENO);
}

static int
use_color(void)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	return stderr_tty() && (nc == NULL || nc[0] == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

static int
term_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static void
draw_qr(const char *text)
{
	QRcode *qr;
	int quiet = 2, w;

	if ((qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L)) == NULL)
		return;
	w = qr->width + 2 * quiet;
	if (w > term_columns()) {
		QRcode_free(qr);
		return;
	}
	/* Dark modules are drawn as spaces on a light background inverted:
	 * print light (█) where the module is light, so the code reads on
	 * dark and light terminal themes alike. */
	for (int y = -quiet; y < qr->width + quiet; y += 2) {
		for (int x = -quiet; x < qr->width + quiet; x++) {
			int top = 0, bot = 0;
			if (x >= 0 && x < qr->width && y >= 0 && y < qr->width)
				top = qr->data[y * qr->width + x] & 1;
			if (x >= 0 && x < qr->width && y + 1 >= 0 &&
			    y + 1 < qr->width)
				bot = qr->data[(y + 1) * qr->width + x] & 1;
			if (!top && !bot)
				fputs("\xe2\x96\x88", stderr);	/* █ */
			else if (!top && bot)
				fputs("\xe2\x96\x80", stderr);	/* ▀ */
			else if (top && !bot)
				fputs("\xe2\x96\x84", stderr);	/* ▄ */
			else
				fputc(' ', stderr);
		}
		fputc('\n', stderr);
	}
	QRcode_free(qr);
}

void
kmfa_prompt_device_code(const struct kmfa_config *cfg,
    const char *verification_uri, const char *verification_uri_complete,
    const char *user_code, int64_t expires_in)
{
	const char *bold = use_color() ? "\033[1m" : "";
	const char *reset = use_color() ? "\033[0m" : "";

	(void)cfg;
	fprintf(stderr, "\nkubectl-mfa: log in at your identity provider to "
	    "continue.\n\n  Open:  %s\n  Code:  %s%s%s\n", verification_uri,
	    bold, user_code, reset);
	if (verification_uri_complete != NULL)
		fprintf(stderr, "  Or open directly:  %s\n",
		    verification_uri_complete);
	if (verification_uri_complete != NULL && stderr_tty()) {
		fputc('\n', stderr);
		draw_qr(verification_uri_complete);
	}
	fprintf(stderr, "\n  The code expires in %lld min %02lld s.\n\n",
	    (long long)(expires_in / 60), (long long)(expires_in % 60));
	fflush(stderr);
}

void
kmfa_prompt_waiting(int64_t seconds_left, int done)
{
	static int64_t last_plain = -1;

	if (stderr_tty()) {
		if (done)
			fputs("\r\033[K", stderr);
		else
			fprintf(stderr, "\r\033[Kkubectl-mfa: waiting for the "
			    "login to be approved (%lld:%02lld left)",
			    (long long)(seconds_left / 60),
			    (long long)(seconds_left % 60));
		fflush(stderr);
		return;
	}
	/* Not a terminal: a plain line now and then, not one per poll. */
	if (!done && (last_plain < 0 || last_plain - seconds_left >= 30)) {
		fprintf(stderr, "kubectl-mfa: waiting for the login to be "
		    "approved (%lld s left)\n", (long long)seconds_left);
		last_plain = seconds_left;
	}
}

void
kmfa_prompt_open_browser(const struct kmfa_config *cfg, const char *url)
{
	const char *cmd = cfg->browser_command;
	pid_t pid;

	if (cfg->skip_open_browser)
		return;
	if (cmd == NULL) {
		const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
		if ((d == NULL || d[0] == '\0') && (w == NULL || w[0] == '\0'))
			return;
		cmd = "xdg-open";
	}
	/* Double fork: the browser outlives us and leaves no zombie. */
	if ((pid = fork()) < 0) {
		kmfa_warn("cannot start %s: %s", cmd, strerror(errno));
		return;
	}
	if (pid == 0) {
		pid_t child = fork();
		int devnull;

		if (child != 0)
			_exit(child < 0 ? 1 : 0);
		(void)setsid();
		if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
			(void)dup2(devnull, STDIN_FILENO);
			(void)dup2(devnull, STDOUT_FILENO);
		}
		/* Nothing of ours but stderr: libcurl's sockets (the IdP
		 * connection, its wake-up pair) are not close-on-exec, and a
		 * browser may outlive us by hours. */
		(void)close_range(STDERR_FILENO + 1, ~0U, 0);
		execlp(cmd, cmd, url, (char *)NULL);
		fprintf(stderr, "kubectl-mfa: cannot run %s: %s\n", cmd,
		    strerror(errno));
		_exit(127);
	}
	(void)waitpid(pid, NULL, 0);
	kmfa_debug("opened the browser with %s", cmd);
}

/*
 * kmfa-softkey: a software FIDO2 security key for the tests.
 *
 *   kmfa-softkey --socket PATH --state FILE [--control PATH] [--mode MODE]
 *                [--touch-delay MS] [--touch-timeout MS] [--pin PIN]
 *   kmfa-softkey --send-control PATH COMMAND...
 *
 * It listens on PATH for CTAPHID reports (64 bytes, no report-ID byte),
 * prints exactly one line "READY PATH" on stdout once it does (or, with
 * --mode unplug, once its control socket is up), and logs to stderr.  The
 * state FILE is created when missing; --pin sets a PIN only then.  It is a
 * test fixture: --pin puts a PIN in argv, which a real tool must never do.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "crypto.h"
#include "loop.h"
#include "pin.h"
#include "softkey.h"

static struct softkey sk;

int64_t
sk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sk_log(const char *fmt, ...)
{
	va_list ap;

	fputs("kmfa-softkey: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Stop cleanly, so that sanitizer builds check for leaks at exit. */
static void
on_signal(int sig)
{
	(void)sig;
	sk.stopping = 1;
}

static void
shutdown_key(void)
{
	sk_drop_client(&sk);
	loop_unlisten(&sk);
	control_close(&sk);
	crypto_wipe(&sk.state, sizeof(sk.state));
	crypto_wipe(&sk.session, sizeof(sk.session));
}

static void
usage(void)
{
	fputs("usage: kmfa-softkey --socket PATH --state FILE "
	    "[--control PATH]\n"
	    "         [--mode touch|notouch|refuse|rollback|badsig|nohmac|"
	    "nouv|unplug[,...]]\n"
	    "         [--touch-delay MS] [--touch-timeout MS] [--pin PIN]\n"
	    "       kmfa-softkey --send-control PATH COMMAND...\n",
	    stderr);
}

static int
parse_ms(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 3600000)
		return -1;
	*out = (int)v;
	return 0;
}

/* "--name value" or "--name=value"; advances *i past what it used. */
static const char *
option_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0' || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int
parse_args(int argc, char **argv, const char **pin)
{
	const char *v, *mode = NULL;

	sk.touch_timeout_ms = 3000;
	for (int i = 1; i < argc; i++) {
		if ((v = option_value(argc, argv, &i, "--socket")) != NULL)
			sk.socket_path = v;
		else if ((v = option_value(argc, argv, &i, "--state")) != NULL)
			sk.state_path = v;
		else if ((v = option_value(argc, argv, &i,
		    "--control")) != NULL)
			sk.control_path = v;
		else if ((v = option_value(argc, argv, &i, "--mode")) != NULL)
			mode = v;
		else if ((v = option_value(argc, argv, &i, "--pin")) != NULL)
			*pin = v;
		else if ((v = option_value(argc, argv, &i,
		    "--touch-delay")) != NULL) {
			if (parse_ms(v, &sk.touch_delay_ms) < 0)
				return -1;
		} else if ((v = option_value(argc, argv, &i,
		    "--touch-timeout")) != NULL) {
			if (parse_ms(v, &sk.touch_timeout_ms) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	if (sk.socket_path == NULL || sk.state_path == NULL)
		return -1;
	if (mode != NULL && control_parse_mode(mode, &sk.presence,
	    &sk.faults) < 0)
		return -1;
	if (*pin != NULL && (strlen(*pin) < 4 || strlen(*pin) > 63)) {
		sk_log("a PIN has 4 to 63 bytes");
		return -1;
	}
	return 0;
}

/* The client mode: join the words into one line and send it. */
static int
send_control(int argc, char **argv, const char *path)
{
	char line[SK_CONTROL_LINE];
	size_t len = 0, n;

	for (int i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (len + n + 2 > sizeof(line))
			return 2;
		if (i > 0)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len] = '\0';
	return control_client(path, line);
}

int
main(int argc, char **argv)
{
	const char *pin = NULL;
	struct sigaction sa;

	if (argc >= 4 && strcmp(argv[1], "--send-control") == 0)
		return send_control(argc - 3, argv + 3, argv[2]);
	sk.listen_fd = sk.control_fd = -1;
	sk.next_cid = 1;
	hid_link_reset(&sk.link, -1);
	if (parse_args(argc, argv, &pin) < 0) {
		usage();
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (state_open(sk.state_path, pin, &sk.state) < 0 ||
	    pin_session_reset(&sk) < 0)
		return 1;
	/* --mode unplug: the control socket is up, the key is not in */
	sk.unplugged = (sk.faults & SK_MODE_UNPLUG) != 0;
	sk.faults &= ~(unsigned)SK_MODE_UNPLUG;
	if (control_open(&sk) < 0 || (!sk.unplugged && loop_listen(&sk) < 0)) {
		shutdown_key();
		return 1;
	}
	sk_log("%s %s (counter %lu, PIN %s)", sk.unplugged ?
	    "unplugged, would listen on" : "listening on", sk.socket_path,
	    (unsigned long)sk.state.counter, sk.state.pin_set ? "set" :
	    "not set");
	printf("READY %s\n", sk.socket_path);
	if (fflush(stdout) != 0) {
		shutdown_key();
		return 1;
	}
	loop_run(&sk);
	shutdown_key();
	sk_log("stopped");
	return sk.stopping ? 0 : 1;
}

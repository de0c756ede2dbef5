/*
 * Tests for lib/ui/tty.c: the PIN read at a real pseudo-terminal.  Each
 * case runs the read in a child on a terminal of its own (forkpty), so
 * that /dev/tty is that terminal; this side watches what the terminal
 * shows, types, and reads the child's verdict from its exit status and
 * from the line it prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "ui/tty.h"

#define PROMPT "PIN for the test: "

/* What the terminal showed, and how far the checks have read it. */
struct term {
	int master;
	pid_t pid;
	char buf[8192];
	size_t got, mark;
};

/*
 * The child's side: read a PIN with timeout_ms and print the outcome on
 * its terminal as "result=R pin=P echo=E cause=C" (the PIN only for the
 * cases that type a harmless one), then exit 0.
 */
static void
child_read(int timeout_ms, int show_pin)
{
	struct termios t;
	char *pin = NULL;
	int r, echo;

	r = kmfa_tty_read_pin(NULL, PROMPT, timeout_ms, &pin);
	echo = tcgetattr(STDIN_FILENO, &t) == 0 && (t.c_lflag & ECHO) != 0;
	fprintf(stderr, "result=%d pin=%s echo=%d cause=%s\n", r,
	    pin == NULL ? "(none)" : show_pin ? pin : "(hidden)", echo,
	    kmfa_report_cause() ? kmfa_report_cause() : "(none)");
	kmfa_freezero_str(pin);
	_exit(0);
}

static void
spawn(struct term *t, int timeout_ms, int show_pin)
{
	memset(t, 0, sizeof(*t));
	t->pid = forkpty(&t->master, NULL, NULL, NULL);
	assert_true(t->pid >= 0);
	if (t->pid == 0)
		child_read(timeout_ms, show_pin);
}

/*
 * Read the terminal until want appears after the mark (10 s at most) and
 * move the mark past it, so that text shown twice is awaited twice.
 */
static void
await_text(struct term *t, const char *want)
{
	struct pollfd p = { t->master, POLLIN, 0 };
	char *at;

	while ((at = strstr(t->buf + t->mark, want)) == NULL) {
		ssize_t n = 0;

		if (t->got + 1 >= sizeof(t->buf) || poll(&p, 1, 10000) <= 0 ||
		    (n = read(t->master, t->buf + t->got,
		    sizeof(t->buf) - 1 - t->got)) <= 0)
			fail_msg("terminal never showed '%s'; it showed: %s",
			    want, t->buf);
		t->got += (size_t)n;
		t->buf[t->got] = '\0';
	}
	t->mark = (size_t)(at - t->buf) + strlen(want);
}

static void
type(struct term *t, const char *s)
{
	assert_true(write(t->master, s, strlen(s)) == (ssize_t)strlen(s));
}

/* Wait for the child's verdict line and its exit; want in the line. */
static void
expect_result(struct term *t, const char *want)
{
	int status;

	await_text(t, "result=");
	await_text(t, "\n");
	assert_int_equal(waitpid(t->pid, &status, 0), t->pid);
	close(t->master);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child status %d; terminal: %s", status, t->buf);
	if (strstr(t->buf, want) == NULL)
		fail_msg("the child did not report '%s'; terminal: %s", want,
		    t->buf);
}

static void
test_pin_is_read_without_echo(void **state)
{
	struct term t;
	char *verdict;
	size_t typed_at;

	(void)state;
	spawn(&t, 10000, 1);
	await_text(&t, PROMPT);
	typed_at = t.mark;
	type(&t, "4711\n");
	/* The PIN reaches the caller; the terminal echoes again afterwards. */
	expect_result(&t, "result=0 pin=4711 echo=1 cause=(none)");
	/* Between the prompt and the verdict the terminal showed no PIN. */
	assert_non_null(verdict = strstr(t.buf + typed_at, "result="));
	*verdict = '\0';
	assert_null(strstr(t.buf + typed_at, "4711"));
}

static void
test_carriage_return_ends_the_pin(void **state)
{
	struct term t;

	(void)state;
	spawn(&t, 10000, 1);
	await_text(&t, PROMPT);
	type(&t, "2468\r");
	expect_result(&t, "result=0 pin=2468 echo=1");
}

static void
test_empty_line_is_no_pin(void **state)
{
	struct term t;
	char want[64];

	(void)state;
	spawn(&t, 10000, 0);
	await_text(&t, PROMPT);
	type(&t, "\n");
	(void)snprintf(want, sizeof(want), "result=%d pin=(none) echo=1 "
	    "cause=no PIN was entered\r", KMFA_ERR_FIDO2);
	expect_result(&t, want);
}

static void
test_nobody_typing_times_out(void **state)
{
	struct term t;
	char want[96];

	(void)state;
	spawn(&t, 300, 0);
	await_text(&t, PROMPT);
	(void)snprintf(want, sizeof(want), "result=%d pin=(none) echo=1 "
	    "cause=no PIN was entered in time (--timeout)", KMFA_ERR_FIDO2);
	expect_result(&t, want);
}

static void
test_overlong_pin_is_refused(void **state)
{
	struct term t;
	char line[402], want[96];

	(void)state;
	memset(line, '7', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	spawn(&t, 10000, 0);
	await_text(&t, PROMPT);
	type(&t, line);
	(void)snprintf(want, sizeof(want), "result=%d pin=(none) echo=1 "
	    "cause=the PIN is too long", KMFA_ERR_FIDO2);
	expect_result(&t, want);
	assert_null(strstr(t.buf, "7777"));
}

static volatile sig_atomic_t got_sigint, echo_at_sigint = -1;

static void
note_sigint(int sig)
{
	struct termios tio;

	(void)sig;
	got_sigint = 1;
	echo_at_sigint = tcgetattr(STDIN_FILENO, &tio) == 0 &&
	    (tio.c_lflag & ECHO) != 0;
}

/*
 * ^C at the prompt: the read ends, the terminal gets its echo back, and
 * only then does the signal reach the handler that was there before.
 */
static void
test_interrupt_restores_the_terminal_first(void **state)
{
	struct term t;
	int status;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.pid = forkpty(&t.master, NULL, NULL, NULL);
	assert_true(t.pid >= 0);
	if (t.pid == 0) {
		struct sigaction sa;
		char *pin = NULL;
		int r;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = note_sigint;
		(void)sigaction(SIGINT, &sa, NULL);
		r = kmfa_tty_read_pin(NULL, PROMPT, 10000, &pin);
		fprintf(stderr, "result=%d pin=%s signal=%d echo-then=%d "
		    "cause=%s\n", r, pin == NULL ? "(none)" : "(some)",
		    (int)got_sigint, (int)echo_at_sigint,
		    kmfa_report_cause() ? kmfa_report_cause() : "(none)");
		kmfa_freezero_str(pin);
		_exit(0);
	}
	await_text(&t, PROMPT);
	type(&t, "12\003");
	await_text(&t, "result=");
	await_text(&t, "\n");
	assert_int_equal(waitpid(t.pid, &status, 0), t.pid);
	close(t.master);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		char want[128];

		(void)snprintf(want, sizeof(want), "result=%d pin=(none) "
		    "signal=1 echo-then=1 cause=interrupted at the PIN prompt",
		    KMFA_ERR_FIDO2);
		if (strstr(t.buf, want) == NULL)
			fail_msg("wanted '%s'; terminal: %s", want, t.buf);
	}
}

/* No controlling terminal (a new session): a clear failure, not a wait. */
static void
test_no_terminal_is_a_clear_failure(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *pin = NULL;
		const char *cause;
		int r;

		if (setsid() < 0)
			_exit(2);
		r = kmfa_tty_read_pin(NULL, PROMPT, 10000, &pin);
		cause = kmfa_report_cause();
		_exit(r == KMFA_ERR_FIDO2 && pin == NULL && cause != NULL &&
		    strcmp(cause, "a PIN is needed but there is no terminal") ==
		    0 ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_is_read_without_echo),
		cmocka_unit_test(test_carriage_return_ends_the_pin),
		cmocka_unit_test(test_empty_line_is_no_pin),
		cmocka_unit_test(test_nobody_typing_times_out),
		cmocka_unit_test(test_overlong_pin_is_refused),
		cmocka_unit_test(test_interrupt_restores_the_terminal_first),
		cmocka_unit_test(test_no_terminal_is_a_clear_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

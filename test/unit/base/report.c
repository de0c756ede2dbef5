/* Unit tests for lib/base/report.c: failure causes and their scopes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/report.h"

static int
reset(void **state)
{
	(void)state;
	kmfa_report_clear();
	return 0;
}

static void
test_first_cause_wins_within_a_scope(void **state)
{
	(void)state;
	assert_null(kmfa_report_cause());
	assert_int_equal(kmfa_fail(KMFA_ERR_IDP, "deep: %s", "issuer"),
	    KMFA_ERR_IDP);
	assert_int_equal(kmfa_fail(KMFA_ERR_NETWORK, "vaguer"),
	    KMFA_ERR_NETWORK);
	assert_string_equal(kmfa_report_cause(), "deep: issuer");
}

static void
test_reason_falls_back_to_the_error_text(void **state)
{
	(void)state;
	assert_string_equal(kmfa_report_reason(KMFA_ERR_FIDO2),
	    kmfa_strerror(KMFA_ERR_FIDO2));
	(void)kmfa_fail(KMFA_ERR_FIDO2, "no key");
	assert_string_equal(kmfa_report_reason(KMFA_ERR_FIDO2), "no key");
}

static void
test_cause_is_one_line(void **state)
{
	(void)state;
	(void)kmfa_fail(KMFA_ERR_IDP, "a\nb\rc");
	assert_string_equal(kmfa_report_cause(), "a b c");
}

/* The bug scopes exist for: a tolerated failure must not stand for the
 * cause of a later, unrelated one. */
static void
test_tolerated_cause_never_shadows_a_later_failure(void **state)
{
	struct kmfa_report_scope sc;

	(void)state;
	kmfa_report_enter(&sc);
	(void)kmfa_fail(KMFA_ERR_IO, "could not write the mirror");
	assert_string_equal(kmfa_report_cause(), "could not write the mirror");
	kmfa_report_leave(&sc);
	assert_null(kmfa_report_cause());
	(void)kmfa_fail(KMFA_ERR_IDP, "the refresh token was refused");
	assert_string_equal(kmfa_report_cause(),
	    "the refresh token was refused");
}

static void
test_scope_starts_empty_under_an_outer_cause(void **state)
{
	struct kmfa_report_scope sc;

	(void)state;
	(void)kmfa_fail(KMFA_ERR_IDP, "outer");
	kmfa_report_enter(&sc);
	assert_null(kmfa_report_cause());
	(void)kmfa_fail(KMFA_ERR_IO, "inner");
	assert_string_equal(kmfa_report_cause(), "inner");
	kmfa_report_leave(&sc);
	assert_string_equal(kmfa_report_cause(), "outer");
}

static void
test_pass_hands_the_cause_up_first_wins(void **state)
{
	struct kmfa_report_scope a, b;

	(void)state;
	kmfa_report_enter(&a);
	kmfa_report_enter(&b);
	(void)kmfa_fail(KMFA_ERR_NETWORK, "timed out");
	kmfa_report_pass(&b);
	assert_string_equal(kmfa_report_cause(), "timed out");
	kmfa_report_pass(&a);
	assert_string_equal(kmfa_report_cause(), "timed out");

	kmfa_report_clear();
	(void)kmfa_fail(KMFA_ERR_IDP, "earlier");
	kmfa_report_enter(&a);
	(void)kmfa_fail(KMFA_ERR_NETWORK, "later");
	kmfa_report_pass(&a);
	assert_string_equal(kmfa_report_cause(), "earlier");

	kmfa_report_clear();
	kmfa_report_enter(&a);
	kmfa_report_pass(&a);	/* nothing recorded: nothing handed up */
	assert_null(kmfa_report_cause());
}

static void *
other_thread(void *arg)
{
	struct kmfa_report_scope sc;
	int *ok = arg;

	*ok = kmfa_report_cause() == NULL;
	kmfa_report_enter(&sc);
	(void)kmfa_fail(KMFA_ERR_IO, "thread");
	*ok = *ok && strcmp(kmfa_report_cause(), "thread") == 0;
	kmfa_report_pass(&sc);
	*ok = *ok && strcmp(kmfa_report_cause(), "thread") == 0;
	return NULL;
}

static void
test_threads_have_their_own_causes(void **state)
{
	pthread_t t;
	int ok = 0;

	(void)state;
	(void)kmfa_fail(KMFA_ERR_IDP, "main");
	assert_int_equal(pthread_create(&t, NULL, other_thread, &ok), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(ok);
	assert_string_equal(kmfa_report_cause(), "main");
}

/* Leaving a scope that is not the innermost would file causes under the
 * wrong operation: the program stops, in every build. */
static void
test_scopes_out_of_order_abort(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct kmfa_report_scope a, b;

		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(2);
		kmfa_report_enter(&a);
		kmfa_report_enter(&b);
		kmfa_report_leave(&a);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_first_cause_wins_within_a_scope, reset),
		cmocka_unit_test_setup(test_reason_falls_back_to_the_error_text, reset),
		cmocka_unit_test_setup(test_cause_is_one_line, reset),
		cmocka_unit_test_setup(test_tolerated_cause_never_shadows_a_later_failure, reset),
		cmocka_unit_test_setup(test_scope_starts_empty_under_an_outer_cause, reset),
		cmocka_unit_test_setup(test_pass_hands_the_cause_up_first_wins, reset),
		cmocka_unit_test_setup(test_threads_have_their_own_causes, reset),
		cmocka_unit_test_setup(test_scopes_out_of_order_abort, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Messages for people.  The library never writes to stdout (stdout carries
 * the ExecCredential) and never exits; it reports here.  Failures record
 * their detailed cause with kmfa_fail(); the command line prints exactly one
 * line for a failure, the first (root) cause recorded in the current scope.
 * Warnings and progress go to stderr at once.  Nothing passed here may
 * contain a secret.
 *
 * Causes live in scopes, not in one global slot.  A call whose failure the
 * caller tolerates (a best-effort write, a damaged entry read as a miss)
 * runs inside a scope of its own: what it records there is the caller's to
 * print or drop, and leaving the scope drops it, so it can never stand in
 * for the cause of a later, unrelated failure.  Scopes nest on a per-thread
 * stack, so a server may run one operation per thread.
 */
#ifndef KMFA_REPORT_H
#define KMFA_REPORT_H

#include <stdarg.h>

#define KMFA_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Verbosity: 0 normal, 1 and more with -v. */
void kmfa_report_set_verbose(int level);
int kmfa_report_verbose(void);

/*
 * Record the cause of a failure in the current scope and return err
 * unchanged, so that callers can write `r = kmfa_fail(KMFA_ERR_IDP, "...")`.
 * The first cause recorded in a scope is kept: deeper code records the
 * precise reason, and callers that fail because of it do not overwrite it
 * with something vaguer.
 */
int kmfa_fail(int err, const char *fmt, ...) KMFA_PRINTF(2, 3);

/* The current scope's cause, or NULL. */
const char *kmfa_report_cause(void);

/* The current scope's cause, or a fixed description of err. */
const char *kmfa_report_reason(int err);

struct kmfa_report_scope {
	char cause[512];
	struct kmfa_report_scope *outer;
};

/* Begin a scope (on the caller's stack); causes go there until it ends. */
void kmfa_report_enter(struct kmfa_report_scope *s);
/* End scope s, dropping its cause.  s must be the innermost scope. */
void kmfa_report_leave(struct kmfa_report_scope *s);
/* End scope s, handing its cause to the enclosing scope (first wins there):
 * for a failure the caller does not tolerate after all. */
void kmfa_report_pass(struct kmfa_report_scope *s);

/* Forget the current scope's cause.  For test and fuzz harnesses between
 * cases only: library and command code use scopes (test/e2e/layers.sh
 * checks that). */
void kmfa_report_clear(void);

void kmfa_warn(const char *fmt, ...) KMFA_PRINTF(1, 2);
void kmfa_info(const char *fmt, ...) KMFA_PRINTF(1, 2);
void kmfa_debug(const char *fmt, ...) KMFA_PRINTF(1, 2);

#endif

/*
 * Messages for people.  The library never writes to stdout (stdout carries
 * the ExecCredential) and never exits; it reports here.  Failures record
 * their detailed cause with kmfa_fail(), which keeps the first (root) cause
 * so that the command line prints exactly one line for a failure.  Warnings
 * and progress go to stderr at once.  Nothing passed here may contain a
 * secret.
 */
#ifndef KMFA_REPORT_H
#define KMFA_REPORT_H

#include <stdarg.h>

#define KMFA_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Verbosity: 0 normal, 1 and more with -v. */
void kmfa_report_set_verbose(int level);
int kmfa_report_verbose(void);

/*
 * Record the cause of a failure and return err unchanged, so that callers
 * can write `r = kmfa_fail(KMFA_ERR_IDP, "...")`.  Only the first cause is
 * kept until kmfa_report_clear().
 */
int kmfa_fail(int err, const char *fmt, ...) KMFA_PRINTF(2, 3);

/* The recorded cause, or NULL. */
const char *kmfa_report_cause(void);
void kmfa_report_clear(void);

void kmfa_warn(const char *fmt, ...) KMFA_PRINTF(1, 2);
void kmfa_info(const char *fmt, ...) KMFA_PRINTF(1, 2);
void kmfa_debug(const char *fmt, ...) KMFA_PRINTF(1, 2);

#endif

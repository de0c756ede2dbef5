/*
 * Reporting to stderr, and the failure causes of the current scope
 * (report.h says why causes are scoped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/report.h"

static int verbose;
/* The outermost scope of each thread, and the innermost one now. */
static _Thread_local struct kmfa_report_scope root;
static _Thread_local struct kmfa_report_scope *cur;

static struct kmfa_report_scope *
scope(void)
{
	return cur != NULL ? cur : &root;
}

void
kmfa_report_set_verbose(int level)
{
	verbose = level;
}

int
kmfa_report_verbose(void)
{
	return verbose;
}

static void
record(struct kmfa_report_scope *s, const char *text)
{
	if (s->cause[0] != '\0')
		return;
	(void)snprintf(s->cause, sizeof(s->cause), "%s", text);
}

int
kmfa_fail(int err, const char *fmt, ...)
{
	struct kmfa_report_scope *s = scope();
	char line[sizeof(s->cause)];
	va_list ap;

	if (s->cause[0] != '\0')
		return err;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line: a stray newline from a foreign message would break it. */
	for (char *p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	record(s, line);
	if (verbose > 0)
		fprintf(stderr, "kubectl-mfa: debug: fail: %s\n", line);
	return err;
}

const char *
kmfa_report_cause(void)
{
	const struct kmfa_report_scope *s = scope();

	return s->cause[0] != '\0' ? s->cause : NULL;
}

const char *
kmfa_report_reason(int err)
{
	const char *c = kmfa_report_cause();

	return c != NULL ? c : kmfa_strerror(err);
}

void
kmfa_report_clear(void)
{
	scope()->cause[0] = '\0';
}

void
kmfa_report_enter(struct kmfa_report_scope *s)
{
	s->cause[0] = '\0';
	s->outer = cur;
	cur = s;
}

/* Scopes end in the reverse order they began; anything else is a bug that
 * would attribute causes to the wrong operation, so it stops the program
 * in every build rather than only under assert(). */
static void
pop(struct kmfa_report_scope *s)
{
	if (cur != s) {
		fprintf(stderr, "kubectl-mfa: internal error: report scopes "
		    "out of order\n");
		abort();
	}
	cur = s->outer;
}

void
kmfa_report_leave(struct kmfa_report_scope *s)
{
	pop(s);
	s->cause[0] = '\0';
}

void
kmfa_report_pass(struct kmfa_report_scope *s)
{
	pop(s);
	if (s->cause[0] != '\0')
		record(scope(), s->cause);
	s->cause[0] = '\0';
}

static void
vreport(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	(void)vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "kubectl-mfa: %s%s\n", prefix, line);
}

void
kmfa_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void
kmfa_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void
kmfa_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1)
		return;
	va_start(ap, fmt);
	vreport("debug: ", fmt, ap);
	va_end(ap);
}

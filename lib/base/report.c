/*
 * Reporting to stderr.  The first failure cause wins: deeper code records
 * the precise reason ("discovery: issuer mismatch ..."), and callers higher
 * up that fail because of it do not overwrite it with something vaguer.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/report.h"

static int verbose;
static char cause[512];

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

int
kmfa_fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (cause[0] != '\0')
		return err;
	va_start(ap, fmt);
	(void)vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	/* One line: a stray newline from a foreign message would break it. */
	for (char *p = cause; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (verbose > 0)
		fprintf(stderr, "kubectl-mfa: debug: fail: %s\n", cause);
	return err;
}

const char *
kmfa_report_cause(void)
{
	return cause[0] != '\0' ? cause : NULL;
}

void
kmfa_report_clear(void)
{
	cause[0] = '\0';
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

const char *
kmfa_strerror(int err)
{
	switch (err) {
	case KMFA_OK: return "success";
	case KMFA_ERR_INTERNAL: return "internal error";
	case KMFA_ERR_NOMEM: return "out of memory";
	case KMFA_ERR_IO: return "input/output error";
	case KMFA_ERR_LOCKED: return "another kubectl-mfa holds the lock";
	case KMFA_ERR_NOTFOUND: return "not found";
	case KMFA_ERR_DAMAGED: return "damaged entry";
	case KMFA_ERR_USAGE: return "bad usage";
	case KMFA_ERR_CONFIG: return "bad configuration";
	case KMFA_ERR_UNATTENDED: return "a login is needed but nobody is present";
	case KMFA_ERR_FIDO2: return "the security key step failed";
	case KMFA_ERR_NETWORK: return "could not reach the identity provider";
	case KMFA_ERR_IDP: return "the identity provider refused";
	case KMFA_ERR_TOKEN: return "the identity provider's token is not valid";
	}
	return "unknown error";
}

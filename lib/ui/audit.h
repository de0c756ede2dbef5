/*
 * The audit log: one JSON line per security-relevant event (login,
 * refresh, touch-ok, touch-failed, verify-failed, counter-regressed,
 * unattended, logout), with time, issuer, subject, key name, outcome and
 * error.  Never a token, PIN or secret: callers pass only those fields.
 * Destination from --audit-log: a file (default
 * $XDG_STATE_HOME/kubectl-mfa/audit.log, 0600), `syslog`, or `off`.
 * Failing to write the audit log is a warning, never a failed command.
 */
#ifndef KMFA_AUDIT_H
#define KMFA_AUDIT_H

#include "token/config.h"

struct kmfa_audit_event {
	const char *event;	/* "login", "touch-failed", ... */
	const char *issuer;
	const char *subject;
	const char *key_name;
	const char *outcome;	/* "ok" or "error" */
	const char *error;	/* one line, or NULL */
};

void kmfa_audit(const struct kmfa_config *cfg,
    const struct kmfa_audit_event *ev);

/* Rotate the file past this many bytes (one old generation, .1). */
#define KMFA_AUDIT_MAX (1024 * 1024)

#endif

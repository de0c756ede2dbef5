/*
 * Is a person present?  A login needs one: a touch nobody makes and a
 * device code nobody sees only make kubectl hang.  Unattended means a CI
 * variable is set, or there is no controlling terminal (/dev/tty cannot be
 * opened).  kubectl's spec.interactive says only whether stdin is ours,
 * and neither a touch nor a device flow needs stdin.
 */
#ifndef KMFA_PRESENCE_H
#define KMFA_PRESENCE_H

/* 1 when a person can answer, 0 otherwise; why (static string) if not. */
int kmfa_presence_attended(const char **why);

#endif

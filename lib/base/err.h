/*
 * Error values.  Every library function that can fail returns one of these;
 * the command line maps them to exit codes in exactly one place
 * (plugin/exitcode.c).  Foreign error spaces (FIDO_ERR_*, CURLcode, OpenSSL,
 * GError) are translated at the boundary of the module that calls them.
 */
#ifndef KMFA_ERR_H
#define KMFA_ERR_H

enum kmfa_err {
	KMFA_OK = 0,
	KMFA_ERR_INTERNAL,	/* a bug or an impossible state: exit 1 */
	KMFA_ERR_NOMEM,		/* exit 1 */
	KMFA_ERR_IO,		/* local file or system call failed: exit 1 */
	KMFA_ERR_LOCKED,	/* the per-entry lock stayed busy: exit 1 */
	KMFA_ERR_NOTFOUND,	/* no such entry; a normal miss, not a failure */
	KMFA_ERR_DAMAGED,	/* a stored entry does not parse: a miss, replaced */
	KMFA_ERR_USAGE,		/* bad command line: exit 2 */
	KMFA_ERR_CONFIG,	/* bad configuration or environment: exit 2 */
	KMFA_ERR_UNATTENDED,	/* a login is needed, nobody is present: exit 3 */
	KMFA_ERR_FIDO2,		/* the security-key step failed: exit 4 */
	KMFA_ERR_NETWORK,	/* could not talk to the IdP: exit 5 */
	KMFA_ERR_IDP,		/* the IdP answered with an error: exit 5 */
	KMFA_ERR_TOKEN,		/* the IdP's token failed validation: exit 5 */
};

/* A short fixed description of an error value, never NULL. */
const char *kmfa_strerror(int err);

#endif

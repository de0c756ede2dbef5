/*
 * Error values to exit codes.  Scripts and CI depend on these numbers; they
 * are documented in kubectl-mfa(1) and must not change.
 */
#include "base/err.h"
#include "exitcode.h"

int
kmfa_exit_code(int err)
{
	switch (err) {
	case KMFA_OK:
		return KMFA_EXIT_OK;
	case KMFA_ERR_USAGE:
	case KMFA_ERR_CONFIG:
		return KMFA_EXIT_USAGE;
	case KMFA_ERR_UNATTENDED:
		return KMFA_EXIT_UNATTENDED;
	case KMFA_ERR_FIDO2:
		return KMFA_EXIT_FIDO2;
	case KMFA_ERR_NETWORK:
	case KMFA_ERR_IDP:
	case KMFA_ERR_TOKEN:
		return KMFA_EXIT_IDP;
	default:
		return KMFA_EXIT_FAILURE;
	}
}

/*
 * The fixed descriptions of the error values (err.h), for a failure whose
 * caller recorded no cause of its own.
 */
#include "base/err.h"

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

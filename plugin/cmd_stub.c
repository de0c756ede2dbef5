/*
 * Commands whose implementation has not landed yet: they fail closed with a
 * clear line rather than pretend.
 */
#include "commands.h"
#include "err.h"
#include "report.h"

int
kmfa_cmd_enroll(struct kmfa_config *cfg)
{
	(void)cfg;
	return kmfa_fail(KMFA_ERR_USAGE, "enroll is not available in this "
	    "build yet");
}

int
kmfa_cmd_keys(struct kmfa_config *cfg)
{
	(void)cfg;
	return kmfa_fail(KMFA_ERR_USAGE, "keys is not available in this "
	    "build yet");
}

int
kmfa_cmd_setup(struct kmfa_config *cfg)
{
	(void)cfg;
	return kmfa_fail(KMFA_ERR_USAGE, "setup is not available in this "
	    "build yet");
}

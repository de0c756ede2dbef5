/*
 * kubectl-mfa-core: the full program behind the front binary.  Parses the
 * command line, dispatches to a command, and turns its result into exactly
 * one line on stderr and the documented exit code.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "commands.h"
#include "exitcode.h"
#include "token/config.h"
#include "usage.h"

int kmfa_cmd_exit_override = -1;

static int
cmd_version(struct kmfa_config *cfg)
{
	(void)cfg;
	printf("kubectl-mfa %s\n", KMFA_VERSION);
	return KMFA_OK;
}

static const struct command {
	const char *name;
	unsigned opts;
	int (*run)(struct kmfa_config *);
} commands[] = {
	{ "get-token", KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN,
	    kmfa_cmd_get_token },
	{ "login", KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN,
	    kmfa_cmd_login },
	{ "status", KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_STATUS |
	    KMFA_OPTSET_ALL, kmfa_cmd_status },
	{ "logout", KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_ALL |
	    KMFA_OPTSET_LOGIN, kmfa_cmd_logout },
	{ "enroll", KMFA_OPTSET_ENROLL, kmfa_cmd_enroll },
	{ "keys", KMFA_OPTSET_ENROLL | KMFA_OPTSET_POSITIONAL, kmfa_cmd_keys },
	{ "setup", KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN |
	    KMFA_OPTSET_SETUP, kmfa_cmd_setup },
	{ "version", 0, cmd_version },
};

int
main(int argc, char *argv[])
{
	struct kmfa_config cfg;
	const struct command *cmd = NULL;
	int r = KMFA_ERR_USAGE, code;

	kmfa_json_init();
	kmfa_config_init(&cfg);
	if (argc < 2) {
		kmfa_usage(NULL);
		r = kmfa_fail(KMFA_ERR_USAGE, "no command given");
		goto out;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		kmfa_usage(argc > 2 ? argv[2] : NULL);
		r = KMFA_OK;
		goto out;
	}
	if (strcmp(argv[1], "--version") == 0) {
		r = cmd_version(&cfg);
		goto out;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		r = kmfa_fail(KMFA_ERR_USAGE, "unknown command '%s' (see "
		    "kubectl-mfa --help)", argv[1]);
		goto out;
	}
	if ((r = kmfa_config_parse(&cfg, argc - 2, argv + 2, cmd->opts))
	    != KMFA_OK)
		goto out;
	if (cfg.help) {
		kmfa_usage(cmd->name);
		r = KMFA_OK;
		goto out;
	}
	kmfa_report_set_verbose(cfg.verbose);
	if ((r = kmfa_config_finish(&cfg)) != KMFA_OK)
		goto out;
	r = cmd->run(&cfg);
out:
	code = kmfa_exit_code(r);
	if (r != KMFA_OK)
		fprintf(stderr, "kubectl-mfa: %s\n", kmfa_report_reason(r));
	else if (kmfa_cmd_exit_override >= 0)
		code = kmfa_cmd_exit_override;
	kmfa_config_free(&cfg);
	return code;
}

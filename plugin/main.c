/*
 * kubectl-mfa-core: the full program.  Parses the command line, dispatches
 * to the library, and turns the result into one line on stderr and an exit
 * code.  No protocol logic lives here.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "err.h"
#include "exitcode.h"
#include "json.h"
#include "report.h"

int
main(int argc, char *argv[])
{
	int r = KMFA_ERR_USAGE;

	kmfa_json_init();
	/* TEMPORARY dispatch (wt/fido2) for enroll and keys only. */
	if (argc >= 2 && (strcmp(argv[1], "enroll") == 0 ||
	    strcmp(argv[1], "keys") == 0)) {
		struct kmfa_config cfg;
		int enroll = strcmp(argv[1], "enroll") == 0;

		kmfa_config_init(&cfg);
		if ((r = kmfa_config_parse(&cfg, argc - 2, argv + 2,
		    KMFA_OPTSET_ENROLL | (enroll ? 0 : KMFA_OPTSET_POSITIONAL))) ==
		    KMFA_OK && (r = kmfa_config_finish(&cfg)) == KMFA_OK) {
			kmfa_report_set_verbose(cfg.verbose);
			r = enroll ? kmfa_cmd_enroll(&cfg) : kmfa_cmd_keys(&cfg);
		}
		kmfa_config_free(&cfg);
	} else
		r = kmfa_fail(KMFA_ERR_USAGE, "not implemented yet");
	if (r != KMFA_OK)
		fprintf(stderr, "kubectl-mfa: %s\n", kmfa_report_cause() ?
		    kmfa_report_cause() : kmfa_strerror(r));
	return kmfa_exit_code(r);
}

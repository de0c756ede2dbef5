/*
 * kubectl-mfa-core: the full program.  Parses the command line, dispatches
 * to the library, and turns the result into one line on stderr and an exit
 * code.  No protocol logic lives here.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "exitcode.h"
#include "json.h"
#include "report.h"

int
main(int argc, char *argv[])
{
	int r = KMFA_ERR_USAGE;

	kmfa_json_init();
	(void)argc;
	(void)argv;
	r = kmfa_fail(KMFA_ERR_USAGE, "not implemented yet");
	if (r != KMFA_OK)
		fprintf(stderr, "kubectl-mfa: %s\n", kmfa_report_cause() ?
		    kmfa_report_cause() : kmfa_strerror(r));
	return kmfa_exit_code(r);
}

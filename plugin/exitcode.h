/* The one place where error values become exit codes (docs/DESIGN.md §9). */
#ifndef KMFA_EXITCODE_H
#define KMFA_EXITCODE_H

#define KMFA_EXIT_OK 0
#define KMFA_EXIT_FAILURE 1
#define KMFA_EXIT_USAGE 2
#define KMFA_EXIT_UNATTENDED 3
#define KMFA_EXIT_FIDO2 4
#define KMFA_EXIT_IDP 5

int kmfa_exit_code(int err);

#endif

/*
 * The subcommands of the full program.  Each takes the parsed
 * configuration and returns an error value; main.c turns it into the one
 * line on stderr and the exit code.  Only the commands print to stdout, and
 * only what their user asked for.
 */
#ifndef KMFA_COMMANDS_H
#define KMFA_COMMANDS_H

#include "token/config.h"

int kmfa_cmd_get_token(struct kmfa_config *cfg);
int kmfa_cmd_login(struct kmfa_config *cfg);
int kmfa_cmd_status(struct kmfa_config *cfg);
int kmfa_cmd_logout(struct kmfa_config *cfg);
int kmfa_cmd_enroll(struct kmfa_config *cfg);
int kmfa_cmd_keys(struct kmfa_config *cfg);
/* keys export SUBJECT: the webhook's registry entries (cmd_export.c). */
int kmfa_cmd_keys_export(struct kmfa_config *cfg, const char *subject);
int kmfa_cmd_setup(struct kmfa_config *cfg);

/* USAGE unless an issuer and a client id are given (status, logout). */
int kmfa_cmd_need_issuer(const struct kmfa_config *cfg);

/* Exit status a command wants beyond its error value (status --min-valid). */
extern int kmfa_cmd_exit_override;

#endif

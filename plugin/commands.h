/*
 * TEMPORARY (wt/fido2): the orchestrator owns this file; these are the
 * declarations of plugin/cmd_keys.c it asked for.
 */
#ifndef KMFA_COMMANDS_H
#define KMFA_COMMANDS_H

#include "config.h"

int kmfa_cmd_enroll(struct kmfa_config *cfg);
int kmfa_cmd_keys(struct kmfa_config *cfg);

#endif

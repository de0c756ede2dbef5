/*
 * Setting up a user: check that an issuer offers what the plugin needs, and
 * describe the kubeconfig exec entry for a configuration.  The checks speak
 * plain words; `setup` prints them before the entry, and a problem that
 * would make every login fail is an error, not a note.
 */
#ifndef KMFA_SETUP_H
#define KMFA_SETUP_H

#include <stddef.h>

#include "token/config.h"

#define KMFA_SETUP_MAX_NOTES 16

struct kmfa_setup_report {
	size_t nnotes;
	struct {
		int problem;	/* 1: logins will fail; 0: a remark */
		char text[256];
	} notes[KMFA_SETUP_MAX_NOTES];
	size_t nkeys;		/* signing keys usable from the JWKS */
};

/*
 * Fetch the issuer's discovery document and JWKS and check them.
 * KMFA_OK when the report has no problem; KMFA_ERR_IDP when it has one
 * (the report says which); network and configuration errors as usual.
 */
int kmfa_setup_check(const struct kmfa_config *cfg,
    struct kmfa_setup_report *out);

/*
 * The exec arguments for cfg: "get-token" and every option that differs
 * from its default.  NULL-terminated; free with kmfa_setup_args_free().
 */
char **kmfa_setup_args(const struct kmfa_config *cfg);
void kmfa_setup_args_free(char **args);

#endif

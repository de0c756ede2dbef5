/*
 * KUBERNETES_EXEC_INFO read in full by the full program (the protocol and
 * the front's quick reading are in execcred.h): every way the variable can
 * be wrong is refused with a message.
 */
#ifndef KMFA_EXECINFO_H
#define KMFA_EXECINFO_H

#include "token/execcred.h"

/*
 * Parse the variable's value (NULL when unset).  KMFA_ERR_CONFIG with a
 * recorded cause for malformed JSON, a missing or unknown apiVersion, or a
 * kind other than ExecCredential.
 */
int kmfa_execinfo_parse(const char *env, struct kmfa_execinfo *out);

#endif

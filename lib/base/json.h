/*
 * The one way the full program reads JSON: cJSON, behind a strict gate.
 * Every document it reads (the IdP's answers, ID tokens, the JWKS, the
 * credentials file, KUBERNETES_EXEC_INFO) may come from someone who hopes
 * that two parsers read it differently, so kmfa_json_parse_object refuses
 * what parsers disagree about: a member that appears twice in any object
 * (cJSON reads the first, others the last), a NUL, raw or as \u0000 (a C
 * string would end there), data after the value, and documents too large
 * or too deeply nested to be honest.  It also installs cJSON's allocator
 * hooks, which wipe every block before it is freed: tokens pass through
 * cJSON, and cJSON frees without wiping.  The front reads with minijson.h
 * instead (and so will the cache record, lib/token/record.c).
 */
#ifndef KMFA_JSON_H
#define KMFA_JSON_H

#include <stddef.h>

/* Objects and arrays inside one another; no honest document comes near. */
#define KMFA_JSON_DEPTH_MAX 32
/* Room for any phrase kmfa_json_parse_object writes into why. */
#define KMFA_JSON_WHY_MAX 96

struct cJSON;

/* Install the wiping allocator hooks.  Call once at program start. */
void kmfa_json_init(void);

/*
 * Parse exactly len bytes of text (no NUL needed after them) as one JSON
 * object of at most max bytes.  On KMFA_OK, *out is the document, for
 * cJSON_Delete.  A refusal returns KMFA_ERR_DAMAGED and records no cause:
 * why[whylen] gets a phrase that follows the document's name in the
 * caller's message ("is not valid JSON", "has kid twice", "contains a NUL
 * character", "is nested too deeply ..."), and the caller picks the error
 * value and the name.  KMFA_ERR_NOMEM when memory ran out while checking.
 */
int kmfa_json_parse_object(const char *text, size_t len, size_t max,
    struct cJSON **out, char *why, size_t whylen);

#endif

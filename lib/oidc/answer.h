/*
 * An identity provider's JSON answer, read member by member.  Every answer
 * (the discovery document, a device authorization, tokens) goes through
 * the strict gate of base/json.h first, so no member appears twice and no
 * string hides a NUL; then the getters here insist on each member's JSON
 * type.  A refusal is KMFA_ERR_IDP with a cause that names the answer
 * ("discovery", "token answer") and the member, never the member's value,
 * which may be a secret.  The answers' meaning is the business of the
 * modules that ask: discovery.c, oauth.c and the grants.
 */
#ifndef KMFA_ANSWER_H
#define KMFA_ANSWER_H

#include <stddef.h>

#define KMFA_ANSWER_URI_MAX 2048	/* a longer URL is refused */
#define KMFA_ANSWER_URL_SHOWN 160	/* room for a URL in a message */

struct cJSON;

/*
 * json[0..len) as one JSON object through base/json.h, with the HTTP body
 * cap as its size bound.  what names the answer in the cause ("discovery:
 * the answer has data after its JSON value").  *out is for cJSON_Delete.
 */
int kmfa_answer_parse(const char *json, size_t len, const char *what,
    struct cJSON **out);

/*
 * The string member name of obj, copied.  Absent or null: *out NULL, and a
 * failure ("has no `name`") when required.  Not a string, or empty: a
 * failure.
 */
int kmfa_answer_string(const struct cJSON *obj, const char *name,
    const char *what, int required, char **out);

/*
 * The number member name of obj; *present 0 when absent or null.  Anything
 * else that is not a number is a failure; infinity (cJSON's 1e999) is the
 * caller's to bound.
 */
int kmfa_answer_number(const struct cJSON *obj, const char *name,
    const char *what, double *v, int *present);

/*
 * The array of strings name of obj, copied: NULL, 0 when absent, null or
 * empty.  An element that is not a string is a failure.  Free with
 * kmfa_answer_strings_free.
 */
int kmfa_answer_strings(const struct cJSON *obj, const char *name,
    const char *what, char ***out, size_t *nout);
void kmfa_answer_strings_free(char ***listp, size_t *np);

#endif

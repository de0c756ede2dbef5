/*
 * The front's strict JSON reader (lib/base/minijson.c) against cJSON, which the
 * full program reads the same bytes with.  Whatever minijson accepts, cJSON
 * must parse, and every member minijson finds must read the same through
 * cJSON: the same string, integer or boolean, and absent where cJSON finds
 * nothing.  Otherwise the front could hand out a token the full program
 * would not, or for another identity.  minijson may refuse more.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/json.h"
#include "base/minijson.h"
#include "fuzzutil.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

static const cJSON *
cjson_at(const cJSON *doc, const char *const *path)
{
	const cJSON *v = doc;

	for (; *path != NULL && v != NULL; path++)
		v = cJSON_IsObject(v) ?
		    cJSON_GetObjectItemCaseSensitive(v, *path) : NULL;
	return v;
}

static void
agree(const struct kmfa_minijson_field *f, const cJSON *v)
{
	char *s = NULL;
	int64_t i;
	int b;

	if (f->type == KMFA_MINIJSON_ABSENT) {
		if (v != NULL)
			fz_die("minijson misses a member cJSON finds");
		return;
	}
	if (v == NULL)
		fz_die("minijson finds a member cJSON does not");
	switch (f->type) {
	case KMFA_MINIJSON_STRING:
		if (kmfa_minijson_string(f, &s) != 0)
			fz_die("minijson cannot decode a string it scanned");
		if (!cJSON_IsString(v) || v->valuestring == NULL ||
		    strcmp(s, v->valuestring) != 0)
			fz_die("minijson and cJSON read different strings");
		free(s);
		break;
	case KMFA_MINIJSON_NUMBER:
		if (!cJSON_IsNumber(v))
			fz_die("minijson reads a number cJSON does not");
		/* Doubles hold integers exactly up to 2^53. */
		if (kmfa_minijson_int(f, &i) == 0 && i > -(1LL << 53) &&
		    i < (1LL << 53) && v->valuedouble != (double)i)
			fz_die("minijson and cJSON read different integers");
		break;
	case KMFA_MINIJSON_TRUE:
	case KMFA_MINIJSON_FALSE:
		if (kmfa_minijson_bool(f, &b) != 0 || !cJSON_IsBool(v) ||
		    cJSON_IsTrue(v) != b)
			fz_die("minijson and cJSON read different booleans");
		break;
	case KMFA_MINIJSON_NULL:
		if (!cJSON_IsNull(v))
			fz_die("minijson reads a null cJSON does not");
		break;
	case KMFA_MINIJSON_OBJECT:
		if (!cJSON_IsObject(v))
			fz_die("minijson reads an object cJSON does not");
		break;
	case KMFA_MINIJSON_ARRAY:
		if (!cJSON_IsArray(v))
			fz_die("minijson reads an array cJSON does not");
		break;
	default:
		fz_die("minijson reports an unknown type");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The members the front reads, and short ones a mutation finds. */
	struct kmfa_minijson_field f[] = {
		{ .path = { "token" } },
		{ .path = { "identity" } },
		{ .path = { "version" } },
		{ .path = { "token_exp" } },
		{ .path = { "apiVersion" } },
		{ .path = { "kind" } },
		{ .path = { "spec", "interactive" } },
		{ .path = { "a" } },
		{ .path = { "b" } },
		{ .path = { "a", "b" } },
		{ .path = { "a", "b", "c" } },
		{ .path = { "" } },
	};
	const size_t nf = sizeof(f) / sizeof(f[0]);
	cJSON *doc = NULL;
	size_t i;

	/* One field per scan: requesting "a" beside "a","b" would make the
	 * scan insist that "a" is an object, hiding the other cases. */
	for (i = 0; i < nf; i++) {
		if (kmfa_minijson_scan((const char *)data, size, &f[i], 1) != 0)
			continue;
		if (doc == NULL && (doc = cJSON_ParseWithLength(
		    (const char *)data, size)) == NULL)
			fz_die("minijson accepts what cJSON cannot parse");
		agree(&f[i], cjson_at(doc, f[i].path));
	}
	cJSON_Delete(doc);
	return 0;
}

/*
 * The strict gate in front of cJSON, and cJSON's wiping allocator.  The
 * gate is three passes over a document that is at most a few hundred
 * kilobytes: a scan of the raw text for what cJSON would take silently (a
 * NUL, which it decodes and then loses at the end of a C string, and deep
 * nesting, which costs it a recursion per level), cJSON's own parse, and
 * a walk of the tree for member names given twice.  Names are sorted per
 * object, so that an object of many members costs n log n, not n squared.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"

#define NAME_SHOWN 40	/* a member name in a refusal */

static void
wiping_free(void *p)
{
	if (p == NULL)
		return;
	/* malloc_usable_size: the whole block, without cJSON having to say. */
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void
kmfa_json_init(void)
{
	cJSON_Hooks hooks = { malloc, wiping_free };

	cJSON_InitHooks(&hooks);
}

/*
 * A NUL, raw or escaped, other raw control characters (cJSON takes them
 * between tokens and inside strings) and nesting beyond
 * KMFA_JSON_DEPTH_MAX.  The scan knows only where strings begin and end;
 * the grammar is cJSON's business, and a document this scan misreads is
 * one cJSON refuses.
 */
static int
scan(const char *text, size_t len, char *why, size_t whylen)
{
	int r = KMFA_ERR_DAMAGED;
	size_t depth = 0;
	int in_string = 0;

	if (memchr(text, '\0', len) != NULL)
		goto nul;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		/* RFC 8259 §7: escaped inside strings; §2: not between tokens. */
		if ((unsigned char)c < 0x20 && (in_string ||
		    (c != '\t' && c != '\n' && c != '\r'))) {
			(void)snprintf(why, whylen, "contains a raw control "
			    "character");
			goto out;
		}
		if (in_string) {
			if (c == '"') {
				in_string = 0;
			} else if (c == '\\') {
				/* cJSON decodes \u0000 to a NUL in the string. */
				if (len - i > 5 &&
				    memcmp(text + i + 1, "u0000", 5) == 0)
					goto nul;
				i++;	/* an escaped quote ends nothing */
			}
			continue;
		}
		if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > KMFA_JSON_DEPTH_MAX) {
				(void)snprintf(why, whylen, "is nested too "
				    "deeply (more than %d levels)",
				    KMFA_JSON_DEPTH_MAX);
				goto out;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	r = KMFA_OK;
	goto out;
nul:
	(void)snprintf(why, whylen, "contains a NUL character");
out:
	return r;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * No object in item, item included, has a member name twice.  The
 * recursion is as deep as the nesting, which scan() bounded.
 */
static int
unique_members(const cJSON *item, char *why, size_t whylen)
{
	int r = KMFA_ERR_DAMAGED;
	const cJSON *it;
	const char **names = NULL;
	char shown[NAME_SHOWN];
	size_t n = 0, i = 0;

	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
		return KMFA_OK;
	cJSON_ArrayForEach(it, item)
		n++;
	if (cJSON_IsObject(item) && n > 1) {
		if ((names = calloc(n, sizeof(*names))) == NULL) {
			r = kmfa_fail(KMFA_ERR_NOMEM, "out of memory");
			goto out;
		}
		cJSON_ArrayForEach(it, item)
			names[i++] = it->string != NULL ? it->string : "";
		qsort(names, n, sizeof(*names), by_name);
		for (i = 1; i < n; i++) {
			if (strcmp(names[i - 1], names[i]) == 0) {
				(void)snprintf(why, whylen, "has %s twice",
				    kmfa_printable(shown, sizeof(shown),
				    names[i]));
				goto out;
			}
		}
	}
	cJSON_ArrayForEach(it, item)
		if ((r = unique_members(it, why, whylen)) != KMFA_OK)
			goto out;
	r = KMFA_OK;
out:
	free(names);
	return r;
}

int
kmfa_json_parse_object(const char *text, size_t len, size_t max,
    cJSON **out, char *why, size_t whylen)
{
	int r = KMFA_ERR_DAMAGED;
	cJSON *doc = NULL;
	const char *end = NULL;

	*out = NULL;
	if (whylen > 0)
		why[0] = '\0';
	if (text == NULL || len == 0) {
		(void)snprintf(why, whylen, "is empty");
		goto out;
	}
	if (len > max) {
		(void)snprintf(why, whylen, "is larger than %zu bytes", max);
		goto out;
	}
	if ((r = scan(text, len, why, whylen)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_DAMAGED;
	if ((doc = cJSON_ParseWithLengthOpts(text, len, &end, 0)) == NULL ||
	    end == NULL) {
		(void)snprintf(why, whylen, "is not valid JSON");
		goto out;
	}
	/* cJSON stops after the value; RFC 8259 §2 allows only whitespace. */
	while (end < text + len &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != text + len) {
		(void)snprintf(why, whylen, "has data after its JSON value");
		goto out;
	}
	if (!cJSON_IsObject(doc)) {
		(void)snprintf(why, whylen, "is not a JSON object");
		goto out;
	}
	if ((r = unique_members(doc, why, whylen)) != KMFA_OK)
		goto out;
	*out = doc;
	doc = NULL;	/* transferred */
	r = KMFA_OK;
out:
	cJSON_Delete(doc);
	return r;
}

/*
 * A strict, small JSON reader, libc only: the front (plugin/front.c) reads
 * both of its inputs with it, and the cache record's one decoder
 * (token/record.c) is built on it, for the front and the full program
 * alike.  One pass over a document (RFC 8259) validates all of it and
 * notes where a few requested members, each named by a key path through
 * nested objects, begin and end; getters then decode those spans into
 * strings, integers or booleans.  It refuses more than the grammar does:
 * raw control characters, lone surrogates, \u0000, nesting deeper than
 * KMFA_MINIJSON_DEPTH, anything but whitespace after the top-level object,
 * and a member name given twice in any object at any depth, requested or
 * not, since a reader that takes the first copy (cJSON, which reads
 * KUBERNETES_EXEC_INFO in the full program, does) and one that takes the
 * last would read two tokens or identities in the same bytes, and the full
 * program's strict reader (base/json.c) refuses such a document outright.
 * Names are compared as that reader compares them: decoded, byte for byte
 * ("a" and "\u0061" are one name).  Each name is checked against the
 * earlier names of its object, so an object of n members costs n^2/2
 * comparisons; more than KMFA_MINIJSON_KEYS names in the objects open at
 * once is refused as doubt.  A refusal is a miss for the
 * front, which hands the input to the full program, and damage for the
 * record decoder, whose entry the next login replaces: doubt costs a
 * little time, never correctness.
 */
#ifndef KMFA_MINIJSON_H
#define KMFA_MINIJSON_H

#include <stddef.h>
#include <stdint.h>

/* Nesting of objects and arrays, the top-level object included: no more
 * than the full program's reader takes (KMFA_JSON_DEPTH_MAX, base/json.h),
 * or the front would answer a document that the full program refuses. */
#define KMFA_MINIJSON_DEPTH	32
#define KMFA_MINIJSON_PATH	8	/* keys in a path */
#define KMFA_MINIJSON_FIELDS	32	/* fields in one scan */
#define KMFA_MINIJSON_KEYS	256	/* names in the objects open at once */

enum kmfa_minijson_type {
	KMFA_MINIJSON_ABSENT = 0,
	KMFA_MINIJSON_STRING,
	KMFA_MINIJSON_NUMBER,
	KMFA_MINIJSON_TRUE,
	KMFA_MINIJSON_FALSE,
	KMFA_MINIJSON_NULL,
	KMFA_MINIJSON_OBJECT,
	KMFA_MINIJSON_ARRAY,
};

struct kmfa_minijson_field {
	const char *path[KMFA_MINIJSON_PATH + 1];	/* keys, NULL-terminated */
	/* Filled in by kmfa_minijson_scan: */
	enum kmfa_minijson_type type;
	const char *raw;	/* the value's text in the document */
	size_t rawlen;
};

/*
 * Validate doc[0..len) as one JSON object and locate each field (type
 * KMFA_MINIJSON_ABSENT when it is not there).  0 on success; -1 when the
 * document is malformed, too deep, has trailing bytes, repeats a member
 * name in any object (or holds more than KMFA_MINIJSON_KEYS names in
 * objects open at once), or a path crosses something other than an object.
 */
int kmfa_minijson_scan(const char *doc, size_t len, struct kmfa_minijson_field *f,
    size_t nf);

/*
 * A string field decoded into buf (NUL-terminated, *outlen bytes without
 * the NUL).  -1 when it is not a string or does not fit in cap bytes.
 */
int kmfa_minijson_string_buf(const struct kmfa_minijson_field *f, char *buf,
    size_t cap, size_t *outlen);

/* The same into a malloc'd copy; -1 when not a string or out of memory. */
int kmfa_minijson_string(const struct kmfa_minijson_field *f, char **out);

/* An integer field: digits only, no fraction or exponent, in int64_t. */
int kmfa_minijson_int(const struct kmfa_minijson_field *f, int64_t *out);

/* A boolean field: *out 1 or 0; -1 when it is not true or false. */
int kmfa_minijson_bool(const struct kmfa_minijson_field *f, int *out);

#endif

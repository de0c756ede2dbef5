/*
 * The cache record (record.h): its field table, the encoder that writes
 * it and the one decoder that reads it, its allocation, and when it may be
 * handed out.  libc and base/minijson only, so that the front links all of
 * it and decodes a record with the very code the full program uses.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/minijson.h"
#include "token/record.h"

#define AT(m)	offsetof(struct kmfa_record, m)
#define REQ	KMFA_RECORD_F_REQUIRED
#define SECRET	KMFA_RECORD_F_SECRET
#define FRONT	KMFA_RECORD_F_FRONT
#define REFRESH	KMFA_RECORD_F_REFRESH

/*
 * The front needs the identity (whose record is it), the token and the two
 * times kmfa_record_usable_until reads; every member is checked for both.
 */
const struct kmfa_record_field kmfa_record_fields[KMFA_RECORD_NFIELDS] = {
	{ "version", KMFA_RECORD_T_VERSION, 0, REQ },
	{ "identity", KMFA_RECORD_T_STRING, AT(identity), REQ | FRONT },
	{ "issuer", KMFA_RECORD_T_STRING, AT(issuer), 0 },
	{ "client_id", KMFA_RECORD_T_STRING, AT(client_id), 0 },
	{ "subject", KMFA_RECORD_T_STRING, AT(subject), 0 },
	{ "token", KMFA_RECORD_T_STRING, AT(token), REQ | SECRET | FRONT },
	{ "token_exp", KMFA_RECORD_T_TIME, AT(token_exp), FRONT },
	{ "obtained_at", KMFA_RECORD_T_TIME, AT(obtained_at), 0 },
	{ "touched_at", KMFA_RECORD_T_TIME, AT(touched_at), FRONT },
	{ "key_name", KMFA_RECORD_T_STRING, AT(key_name), 0 },
	{ "refresh", KMFA_RECORD_T_STRING, AT(refresh), SECRET | REFRESH },
	{ "refresh_sealed", KMFA_RECORD_T_FLAG, AT(refresh_sealed), REFRESH },
};

_Static_assert(KMFA_RECORD_NFIELDS <= KMFA_MINIJSON_FIELDS,
    "one minijson scan reads the whole table");

#define MEMBER(rec, fd, type)	((type *)(void *)((char *)(rec) + (fd)->offset))
#define CMEMBER(rec, fd, type) \
	((const type *)(const void *)((const char *)(rec) + (fd)->offset))

struct kmfa_record *
kmfa_record_new(void)
{
	return calloc(1, sizeof(struct kmfa_record));
}

void
kmfa_record_free(struct kmfa_record **rp)
{
	struct kmfa_record *rec;
	size_t i;

	if (rp == NULL || (rec = *rp) == NULL)
		return;
	for (i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];

		if (fd->type != KMFA_RECORD_T_STRING)
			continue;
		if (fd->flags & SECRET)
			kmfa_freezero_str(*MEMBER(rec, fd, char *));
		else
			free(*MEMBER(rec, fd, char *));
	}
	free(rec);
	*rp = NULL;
}

/*
 * A JSON string byte for byte as cJSON printed it when it wrote the
 * records: \" \\ \b \f \n \r \t, \u00xx (lower case) for the other
 * control bytes, everything else as it is ('/' and bytes from 0x80 too).
 * Unchanged bytes keep store.c's comparison of a runtime mirror written
 * before this encoder with one written now an equality.
 */
static int
put_string(struct kmfa_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	if (kmfa_buf_append(b, "\"", 1) != 0)
		return -1;
	while (*p != '\0') {
		char esc[6] = { '\\' };
		size_t run = 0, n = 2;

		/* Tokens are one run: copy plain bytes in one go. */
		while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > 0) {
			if (kmfa_buf_append(b, p, run) != 0)
				return -1;
			p += run;
			continue;
		}
		switch (*p) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			n = 6;
			break;
		}
		if (kmfa_buf_append(b, esc, n) != 0)
			return -1;
		p++;
	}
	return kmfa_buf_append(b, "\"", 1);
}

/*
 * Written by hand from the table rather than through a JSON library, so
 * that the token and the refresh token are copied into one buffer that we
 * own, and wipe when it grows (kmfa_buf).  Times are plain integers, which
 * is what cJSON printed for every time a record can hold (below 10^15).
 */
int
kmfa_record_encode(const struct kmfa_record *rec, int with_refresh, char **out)
{
	struct kmfa_buf b = { 0 };
	const char *sep = "";
	int refresh = with_refresh && rec->refresh != NULL;
	int r = KMFA_ERR_NOMEM, w = 0;
	size_t i;

	*out = NULL;
	if (kmfa_buf_append(&b, "{", 1) != 0)
		goto out;
	for (i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];

		if ((fd->flags & REFRESH) && !refresh)
			continue;
		if (fd->type == KMFA_RECORD_T_STRING &&
		    *CMEMBER(rec, fd, char *) == NULL)
			continue;
		if (kmfa_buf_printf(&b, "%s\"%s\":", sep, fd->name) != 0)
			goto out;
		sep = ",";
		switch (fd->type) {
		case KMFA_RECORD_T_VERSION:
			w = kmfa_buf_printf(&b, "%d", KMFA_RECORD_VERSION);
			break;
		case KMFA_RECORD_T_STRING:
			w = put_string(&b, *CMEMBER(rec, fd, char *));
			break;
		case KMFA_RECORD_T_TIME:
			w = kmfa_buf_printf(&b, "%" PRId64,
			    *CMEMBER(rec, fd, int64_t));
			break;
		case KMFA_RECORD_T_FLAG:
			w = kmfa_buf_printf(&b, "%s",
			    *CMEMBER(rec, fd, int) ? "true" : "false");
			break;
		}
		if (w != 0)
			goto out;
	}
	if (kmfa_buf_append(&b, "}", 1) != 0)
		goto out;
	*out = b.data;
	b.data = NULL;	/* transferred */
	b.len = b.cap = 0;
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&b);
	return r;
}

/*
 * Does the member scanned as v have the type fd gives it?  The union of
 * what the two decoders this one replaced refused: null only for an
 * optional string, times and the version as plain integers (no fraction,
 * no exponent), and required members present.  A number goes to *num.
 */
static int
check(const struct kmfa_record_field *fd, const struct kmfa_minijson_field *v,
    int64_t *num)
{
	*num = 0;
	if (v->type == KMFA_MINIJSON_ABSENT)
		return (fd->flags & REQ) ? -1 : 0;
	switch (fd->type) {
	case KMFA_RECORD_T_VERSION:
		return kmfa_minijson_int(v, num) == 0 && *num == KMFA_RECORD_VERSION ?
		    0 : -1;
	case KMFA_RECORD_T_STRING:
		if (v->type == KMFA_MINIJSON_NULL)
			return (fd->flags & REQ) ? -1 : 0;
		return v->type == KMFA_MINIJSON_STRING ? 0 : -1;
	case KMFA_RECORD_T_TIME:
		return kmfa_minijson_int(v, num) == 0 && *num >= 0 &&
		    *num <= KMFA_RECORD_TIME_MAX ? 0 : -1;
	case KMFA_RECORD_T_FLAG:
		return v->type == KMFA_MINIJSON_TRUE || v->type == KMFA_MINIJSON_FALSE ?
		    0 : -1;
	}
	return -1;
}

static int
decode(const char *json, size_t len, unsigned copy,
    struct kmfa_record **out)
{
	struct kmfa_minijson_field v[KMFA_RECORD_NFIELDS];
	int64_t num[KMFA_RECORD_NFIELDS];
	struct kmfa_record *rec = NULL;
	int r = KMFA_ERR_CONFIG;
	size_t i;

	*out = NULL;
	memset(v, 0, sizeof(v));
	for (i = 0; i < KMFA_RECORD_NFIELDS; i++)
		v[i].path[0] = kmfa_record_fields[i].name;
	if (json == NULL || len > KMFA_RECORD_MAX ||
	    kmfa_minijson_scan(json, len, v, KMFA_RECORD_NFIELDS) != 0)
		goto out;
	/* Every member is judged before anything is copied: a record is
	 * read whole or not at all, and the same for both callers. */
	for (i = 0; i < KMFA_RECORD_NFIELDS; i++)
		if (check(&kmfa_record_fields[i], &v[i], &num[i]) != 0)
			goto out;
	r = KMFA_ERR_NOMEM;
	if ((rec = kmfa_record_new()) == NULL)
		goto out;
	for (i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];

		if ((fd->flags & copy) != copy)
			continue;
		switch (fd->type) {
		case KMFA_RECORD_T_VERSION:
			break;
		case KMFA_RECORD_T_STRING:
			/* Checked above: only memory can fail here. */
			if (v[i].type == KMFA_MINIJSON_STRING &&
			    kmfa_minijson_string(&v[i], MEMBER(rec, fd, char *)) != 0)
				goto out;
			break;
		case KMFA_RECORD_T_TIME:
			*MEMBER(rec, fd, int64_t) = num[i];
			break;
		case KMFA_RECORD_T_FLAG:
			*MEMBER(rec, fd, int) = v[i].type == KMFA_MINIJSON_TRUE;
			break;
		}
	}
	*out = rec;
	rec = NULL;	/* transferred */
	r = KMFA_OK;
out:
	kmfa_record_free(&rec);
	return r;
}

int
kmfa_record_decode(const char *json, size_t len, struct kmfa_record **out)
{
	return decode(json, len, 0, out);
}

int
kmfa_record_decode_front(const char *json, size_t len,
    struct kmfa_record **out)
{
	return decode(json, len, FRONT, out);
}

int64_t
kmfa_record_usable_until(const struct kmfa_record *rec,
    const struct kmfa_config *cfg, const char *identity)
{
	int64_t until;

	if (rec->identity == NULL || identity == NULL ||
	    strcmp(rec->identity, identity) != 0 || rec->token == NULL ||
	    rec->token[0] == '\0')
		return 0;
	/* Fail closed: a token obtained without a touch never serves a
	 * configuration that demands one (the identity covers this too). */
	if (cfg->fido2 == KMFA_FIDO2_REQUIRED && rec->touched_at <= 0)
		return 0;
	until = rec->token_exp;
	if (cfg->session_max > 0 && rec->touched_at > 0 &&
	    rec->touched_at + cfg->session_max < until)
		until = rec->touched_at + cfg->session_max;
	return until - cfg->skew;
}

int
kmfa_record_fresh(const struct kmfa_record *rec,
    const struct kmfa_config *cfg, const char *identity, int64_t now)
{
	return kmfa_record_usable_until(rec, cfg, identity) > now;
}

/*
 * The cache record, read back from disk, the keyring or the runtime
 * mirror (any of which another process of the user may have written).
 * One decoder serves both programs (lib/token/record.c); its two entry
 * points must give the same verdict on every input, the front's copying
 * the members it serves from and nothing else.  What decodes must encode,
 * and the encoding must decode to the same record: otherwise a cache
 * write could turn a good entry into one that reads differently.  Two
 * more references hold the format to what it was when cJSON read and
 * wrote it: whatever decodes, cJSON reads the same, and the encoder's
 * bytes are cJSON's (mirrors are compared byte for byte, store.c).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "fuzzutil.h"
#include "token/record.h"

#define STR_AT(rec, fd) \
	(*(char *const *)(const void *)((const char *)(rec) + (fd)->offset))
#define TIME_AT(rec, fd) \
	(*(const int64_t *)(const void *)((const char *)(rec) + (fd)->offset))
#define FLAG_AT(rec, fd) \
	(*(const int *)(const void *)((const char *)(rec) + (fd)->offset))

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
compare(const struct kmfa_record *a, const struct kmfa_record *b)
{
	if (!same_str(a->identity, b->identity) ||
	    !same_str(a->issuer, b->issuer) ||
	    !same_str(a->client_id, b->client_id) ||
	    !same_str(a->subject, b->subject) ||
	    !same_str(a->token, b->token) ||
	    !same_str(a->key_name, b->key_name) ||
	    !same_str(a->refresh, b->refresh))
		fz_die("record strings do not round-trip");
	if (a->token_exp != b->token_exp || a->obtained_at != b->obtained_at ||
	    a->touched_at != b->touched_at)
		fz_die("record times do not round-trip");
	/* refresh_sealed is only written alongside a refresh token. */
	if (a->refresh != NULL && a->refresh_sealed != b->refresh_sealed)
		fz_die("record seal flag does not round-trip");
}

/* The front's record: the members marked FRONT as the full one has them. */
static void
front_agrees(const struct kmfa_record *full, const struct kmfa_record *front)
{
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];
		int copied = (fd->flags & KMFA_RECORD_F_FRONT) != 0;

		if ((fd->type == KMFA_RECORD_T_STRING &&
		    !same_str(STR_AT(front, fd), copied ? STR_AT(full, fd) :
		    NULL)) ||
		    (fd->type == KMFA_RECORD_T_TIME && TIME_AT(front, fd) !=
		    (copied ? TIME_AT(full, fd) : 0)) ||
		    (fd->type == KMFA_RECORD_T_FLAG && FLAG_AT(front, fd) !=
		    (copied ? FLAG_AT(full, fd) : 0)))
			fz_die("the front's record differs from the full one");
	}
}

/* What cJSON reads in the same bytes: the same record, member by member. */
static void
cjson_agrees(const uint8_t *data, size_t size, const struct kmfa_record *rec)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *v;

	if (doc == NULL || !cJSON_IsObject(doc))
		fz_die("a record decodes that cJSON cannot read");
	for (size_t i = 0; i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];

		v = cJSON_GetObjectItemCaseSensitive(doc, fd->name);
		switch (fd->type) {
		case KMFA_RECORD_T_VERSION:
			if (!cJSON_IsNumber(v) ||
			    v->valuedouble != KMFA_RECORD_VERSION)
				fz_die("cJSON reads another version");
			break;
		case KMFA_RECORD_T_STRING:
			if (!same_str(STR_AT(rec, fd), cJSON_IsString(v) ?
			    v->valuestring : NULL))
				fz_die("cJSON reads another string");
			break;
		case KMFA_RECORD_T_TIME:
			/* Times are below 2^53: doubles hold them exactly. */
			if (v == NULL ? TIME_AT(rec, fd) != 0 :
			    !cJSON_IsNumber(v) ||
			    v->valuedouble != (double)TIME_AT(rec, fd))
				fz_die("cJSON reads another time");
			break;
		case KMFA_RECORD_T_FLAG:
			if (cJSON_IsTrue(v) != (FLAG_AT(rec, fd) != 0))
				fz_die("cJSON reads another flag");
			break;
		}
	}
	cJSON_Delete(doc);
}

/* The encoder as it was, over cJSON. */
static char *
cjson_encode(const struct kmfa_record *rec)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;
	int ok = o != NULL;

	for (size_t i = 0; ok && i < KMFA_RECORD_NFIELDS; i++) {
		const struct kmfa_record_field *fd = &kmfa_record_fields[i];

		if ((fd->flags & KMFA_RECORD_F_REFRESH) && rec->refresh == NULL)
			continue;
		switch (fd->type) {
		case KMFA_RECORD_T_VERSION:
			ok = cJSON_AddNumberToObject(o, fd->name,
			    KMFA_RECORD_VERSION) != NULL;
			break;
		case KMFA_RECORD_T_STRING:
			ok = STR_AT(rec, fd) == NULL ||
			    cJSON_AddStringToObject(o, fd->name,
			    STR_AT(rec, fd)) != NULL;
			break;
		case KMFA_RECORD_T_TIME:
			ok = cJSON_AddNumberToObject(o, fd->name,
			    (double)TIME_AT(rec, fd)) != NULL;
			break;
		case KMFA_RECORD_T_FLAG:
			ok = cJSON_AddBoolToObject(o, fd->name,
			    FLAG_AT(rec, fd) != 0) != NULL;
			break;
		}
	}
	if (ok)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		fz_die("cJSON cannot print a record");
	return s;
}

/* cJSON printed 10^15, the one time bound no token reaches, as 1e+15. */
static int
has_time_max(const struct kmfa_record *rec)
{
	return rec->token_exp == KMFA_RECORD_TIME_MAX ||
	    rec->obtained_at == KMFA_RECORD_TIME_MAX ||
	    rec->touched_at == KMFA_RECORD_TIME_MAX;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_record *rec = NULL, *front = NULL, *again = NULL;
	char *enc = NULL, *theirs = NULL;
	int full_ok, front_ok;

	full_ok = kmfa_record_decode((const char *)data, size, &rec) == KMFA_OK;
	front_ok = kmfa_record_decode_front((const char *)data, size,
	    &front) == KMFA_OK;
	if (full_ok != front_ok)
		fz_die("the front's verdict on a record differs");
	if (!full_ok) {
		if (rec != NULL || front != NULL)
			fz_die("a refused record was handed back");
		goto out;
	}
	if (rec == NULL || rec->identity == NULL || rec->token == NULL)
		fz_die("record decoded without identity or token");
	front_agrees(rec, front);
	cjson_agrees(data, size, rec);
	if (kmfa_record_encode(rec, 1, &enc) != KMFA_OK)
		fz_die("a decoded record does not encode");
	if (!has_time_max(rec)) {
		theirs = cjson_encode(rec);
		if (strcmp(enc, theirs) != 0)
			fz_die("the encoder's bytes are not cJSON's");
	}
	if (kmfa_record_decode(enc, strlen(enc), &again) != KMFA_OK)
		fz_die("an encoded record does not decode");
	compare(rec, again);
out:
	if (theirs != NULL)
		kmfa_freezero_str(theirs);
	kmfa_freezero_str(enc);
	kmfa_record_free(&again);
	kmfa_record_free(&front);
	kmfa_record_free(&rec);
	kmfa_report_clear();
	return 0;
}

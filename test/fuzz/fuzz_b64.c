/*
 * Base64, both alphabets.  The decoders are strict, which is a promise:
 * one spelling per byte string.  So whatever decodes must encode back to
 * exactly the input (standard base64 after dropping the CR and LF it
 * skips), and the input's bytes, encoded, must decode back to themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/json.h"
#include "base/util.h"
#include "fuzzutil.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

typedef int (*decode_fn)(const char *, size_t, uint8_t **, size_t *);
typedef int (*encode_fn)(const uint8_t *, size_t, char **);

/* in without CR and LF, for comparing with what the encoder writes. */
static char *
without_newlines(const char *in, size_t len, size_t *outlen)
{
	char *s = malloc(len + 1);
	size_t n = 0;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (in[i] != '\r' && in[i] != '\n')
			s[n++] = in[i];
	s[n] = '\0';
	*outlen = n;
	return s;
}

static void
text_first(const char *in, size_t len, decode_fn dec, encode_fn enc,
    int skips_newlines)
{
	uint8_t *bin = NULL;
	size_t binlen = 0, wantlen = len;
	char *text = NULL, *want = NULL;

	if (dec(in, len, &bin, &binlen) != KMFA_OK) {
		if (bin != NULL)
			fz_die("a failed decode returned a buffer");
		return;
	}
	if (bin == NULL || bin[binlen] != '\0')
		fz_die("a decoded buffer is not NUL-terminated");
	if (enc(bin, binlen, &text) != KMFA_OK)
		fz_die("decoded bytes do not encode");
	want = skips_newlines ? without_newlines(in, len, &wantlen) : NULL;
	if (strlen(text) != wantlen ||
	    memcmp(text, want != NULL ? want : in, wantlen) != 0)
		fz_die("a second spelling of the same bytes decoded");
	free(want);
	free(text);
	free(bin);
}

static void
bytes_first(const uint8_t *p, size_t len, decode_fn dec, encode_fn enc)
{
	uint8_t *bin = NULL;
	size_t binlen = 0;
	char *text = NULL;

	if (enc(p, len, &text) != KMFA_OK)
		fz_die("bytes do not encode");
	if (dec(text, strlen(text), &bin, &binlen) != KMFA_OK ||
	    binlen != len || (len > 0 && memcmp(bin, p, len) != 0))
		fz_die("encoded bytes do not decode to themselves");
	free(bin);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;

	text_first(in, size, kmfa_b64url_decode, kmfa_b64url_encode, 0);
	text_first(in, size, kmfa_b64_decode, kmfa_b64_encode, 1);
	bytes_first(data, size, kmfa_b64url_decode, kmfa_b64url_encode);
	bytes_first(data, size, kmfa_b64_decode, kmfa_b64_encode);
	return 0;
}

/*
 * Base64 coding.  One decoder serves both alphabets; it rejects rather than
 * repairs, because a lenient decoder gives one byte string many spellings,
 * and the spelling of a JWS part is what its signature covers.  Output
 * buffers are sized before any byte is written, with overflow checks, and
 * cleared on failure since the input may have been a secret.
 */
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/util.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of c in the alphabet, or -1.  Ranges, not a 256-entry table. */
static int
sextet(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int
decode(const char *in, size_t inlen, int url, uint8_t **out, size_t *outlen)
{
	int r = KMFA_ERR_CONFIG;
	uint8_t *buf = NULL;
	size_t cap, o = 0, nchars = 0, npad = 0;
	unsigned acc = 0, bits = 0;

	*out = NULL;
	*outlen = 0;
	/* Three bytes per four characters, rounded up, plus the NUL. */
	cap = inlen / 4 * 3 + 3 + 1;
	if ((buf = malloc(cap)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (!url && (c == '\r' || c == '\n'))
			continue;
		if (!url && c == '=') {
			npad++;
			continue;
		}
		/* Data after padding would be a second, concatenated value. */
		if (npad != 0 || (v = sextet(c, url)) < 0)
			goto out;
		acc = ((acc << 6) | (unsigned)v) & 0x3fff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
		}
		nchars++;
	}
	/* A lone final character carries six bits: not even one byte. */
	if (nchars % 4 == 1)
		goto out;
	/* RFC 4648 §3.2: padding is exactly what completes the last quartet. */
	if (!url && npad != (4 - nchars % 4) % 4)
		goto out;
	/* RFC 4648 §3.5: the bits below the last whole byte must be zero. */
	if ((acc & ((1u << bits) - 1)) != 0)
		goto out;
	buf[o] = '\0';
	*out = buf;
	buf = NULL; /* transferred */
	*outlen = o;
	r = KMFA_OK;
out:
	kmfa_freezero(buf, cap);
	return r;
}

int
kmfa_b64url_decode(const char *in, size_t inlen, uint8_t **out,
    size_t *outlen)
{
	return decode(in, inlen, 1, out, outlen);
}

int
kmfa_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	return decode(in, inlen, 0, out, outlen);
}

static int
encode(const uint8_t *p, size_t len, int url, char **out)
{
	const char *alphabet = url ? url_alphabet : std_alphabet;
	size_t full = len / 3, rest = len % 3, n, o = 0;
	char *s;

	*out = NULL;
	if (full > (SIZE_MAX - 5) / 4)
		return KMFA_ERR_NOMEM;
	/* Padded: a whole quartet for the rest; unpadded: rest + 1 chars. */
	n = full * 4 + (rest == 0 ? 0 : url ? rest + 1 : 4);
	if ((s = malloc(n + 1)) == NULL)
		return KMFA_ERR_NOMEM;
	for (size_t i = 0; i < full; i++, p += 3) {
		unsigned v = (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2];

		s[o++] = alphabet[v >> 18];
		s[o++] = alphabet[(v >> 12) & 63];
		s[o++] = alphabet[(v >> 6) & 63];
		s[o++] = alphabet[v & 63];
	}
	if (rest != 0) {
		unsigned v = (unsigned)p[0] << 16 |
		    (rest == 2 ? (unsigned)p[1] << 8 : 0);

		s[o++] = alphabet[v >> 18];
		s[o++] = alphabet[(v >> 12) & 63];
		if (rest == 2)
			s[o++] = alphabet[(v >> 6) & 63];
		else if (!url)
			s[o++] = '=';
		if (!url)
			s[o++] = '=';
	}
	s[o] = '\0';
	*out = s;
	return KMFA_OK;
}

int
kmfa_b64url_encode(const uint8_t *p, size_t len, char **out)
{
	return encode(p, len, 1, out);
}

int
kmfa_b64_encode(const uint8_t *p, size_t len, char **out)
{
	return encode(p, len, 0, out);
}

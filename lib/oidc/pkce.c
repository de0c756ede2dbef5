/*
 * PKCE, S256.  The randomness is the kernel's (getrandom(2)), the hash the
 * program's own SHA-256 (base/sha256.h), so this module needs no libcrypto.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/report.h"
#include "base/sha256.h"
#include "base/util.h"
#include "oidc/pkce.h"

/* §4.1: code-verifier = 43*128unreserved */
static int
verifier_ok(const char *v)
{
	size_t n = strlen(v);

	if (n < 43 || n > 128)
		return 0;
	for (; *v != '\0'; v++)
		if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
		    (*v >= '0' && *v <= '9') || *v == '-' || *v == '.' ||
		    *v == '_' || *v == '~'))
			return 0;
	return 1;
}

int
kmfa_pkce_challenge(const char *verifier,
    char challenge[KMFA_PKCE_CHALLENGE_LEN + 1])
{
	uint8_t md[KMFA_SHA256_LEN];
	char *enc = NULL;
	int r = KMFA_ERR_INTERNAL;

	challenge[0] = '\0';
	if (!verifier_ok(verifier)) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "PKCE: not a code verifier");
		goto out;
	}
	kmfa_sha256(verifier, strlen(verifier), md);
	if ((r = kmfa_b64url_encode(md, sizeof(md), &enc)) != KMFA_OK)
		goto out;
	if (strlen(enc) != KMFA_PKCE_CHALLENGE_LEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "PKCE: odd challenge length");
		goto out;
	}
	memcpy(challenge, enc, KMFA_PKCE_CHALLENGE_LEN + 1);
	r = KMFA_OK;
out:
	free(enc);
	return r;
}

int
kmfa_pkce_new(struct kmfa_pkce *p)
{
	uint8_t raw[KMFA_PKCE_VERIFIER_BYTES];
	char *enc = NULL;
	size_t got = 0;
	ssize_t n;
	int r = KMFA_ERR_INTERNAL;

	memset(p, 0, sizeof(*p));
	while (got < sizeof(raw)) {
		n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = kmfa_fail(KMFA_ERR_INTERNAL, "getrandom: %s",
			    n < 0 ? strerror(errno) : "no bytes");
			goto out;
		}
		got += (size_t)n;
	}
	if ((r = kmfa_b64url_encode(raw, sizeof(raw), &enc)) != KMFA_OK)
		goto out;
	if (strlen(enc) != KMFA_PKCE_VERIFIER_LEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "PKCE: odd verifier length");
		goto out;
	}
	memcpy(p->verifier, enc, KMFA_PKCE_VERIFIER_LEN + 1);
	if ((r = kmfa_pkce_challenge(p->verifier, p->challenge)) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	explicit_bzero(raw, sizeof(raw));
	kmfa_freezero_str(enc);
	if (r != KMFA_OK)
		kmfa_pkce_wipe(p);
	return r;
}

void
kmfa_pkce_wipe(struct kmfa_pkce *p)
{
	if (p != NULL)
		explicit_bzero(p, sizeof(*p));
}

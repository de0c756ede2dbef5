/*
 * Base64, both alphabets of RFC 4648: base64url without padding (§5) for
 * the parts of a JWS and the numbers of a JWK (RFC 7515 §2), and standard
 * base64 with padding (§4) for kubeconfig's certificate-authority-data and
 * for binary blobs kept in text files.  Decoders are strict: one spelling
 * per byte string (no stray characters, no non-zero trailing bits), so a
 * value that round-trips is the value that was signed or stored.  libc
 * only, so that the front binary may link it.  The functions record no
 * failure cause: the caller knows which field was bad and says so.
 */
#ifndef KMFA_B64_H
#define KMFA_B64_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode inlen bytes of in (no NUL needed).  On success *out is a new
 * buffer of *outlen bytes followed by one NUL byte not counted in *outlen,
 * so decoded JSON can be parsed in place; free it with kmfa_freezero(*out,
 * *outlen) if it may hold a secret.  An empty input decodes to an empty,
 * allocated buffer.
 *
 * Returns KMFA_OK, KMFA_ERR_NOMEM, or KMFA_ERR_CONFIG when in is not valid
 * (callers decoding anything other than configuration translate that).
 *
 * kmfa_b64url_decode: alphabet A-Z a-z 0-9 - _, no '=' padding, no
 * whitespace, length mod 4 != 1.
 *
 * kmfa_b64_decode: alphabet A-Z a-z 0-9 + /, padded to a multiple of four
 * with at most two '='.  CR and LF are skipped, as Go's decoder (which
 * kubectl uses for the same kubeconfig fields) skips them.
 */
int kmfa_b64url_decode(const char *in, size_t inlen, uint8_t **out,
    size_t *outlen);
int kmfa_b64_decode(const char *in, size_t inlen, uint8_t **out,
    size_t *outlen);

/*
 * Encode len bytes of p into a new NUL-terminated string *out.  Returns
 * KMFA_OK or KMFA_ERR_NOMEM.
 */
int kmfa_b64url_encode(const uint8_t *p, size_t len, char **out);
int kmfa_b64_encode(const uint8_t *p, size_t len, char **out);

#endif

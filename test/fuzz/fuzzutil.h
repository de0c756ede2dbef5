/*
 * What the fuzz harnesses and the seed generator share: the fixed world
 * they judge inputs against (issuer, client, clock, master key, sealing
 * header), and the few JOSE helpers needed to make signed tokens and a
 * JWKS with keys generated on the spot.  The seed generator must use the
 * same constants as the harnesses, or its seeds would stop short at the
 * first comparison (a wrong issuer, an expired token, a key that does not
 * open the envelope).
 */
#ifndef KMFA_FUZZUTIL_H
#define KMFA_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "jose/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The configured issuer and client every token and document is held to. */
#define FZ_ISSUER	"https://idp.example.test/realms/dev"
#define FZ_CLIENT	"kubectl"
/* "Now" for token checks: 2023-11-14T22:13:20Z; seeds expire an hour on. */
#define FZ_NOW		1700000000
#define FZ_LEEWAY	60

/* The sealing header (a configuration identity) and the token prefix the
 * generator seals: a successful unseal of anything else is a forgery. */
#define FZ_SEAL_HEADER	"v:1:1\nissuer:35:https://idp.example.test/realms/dev\n" \
			"client:7:kubectl\naccess:1:0\nfido2:8:required\n"
#define FZ_SEAL_MARK	"fuzz-refresh-"

/* The fixed master key of the sealing harness. */
void fz_master_key(uint8_t mk[32]);

/* A NUL-terminated copy of data[0..n), or NULL. */
char *fz_cstr(const uint8_t *data, size_t n);

/* Fresh RSA-2048 and P-256 keys. 0 on success. */
int fz_keygen(EVP_PKEY **rsa, EVP_PKEY **ec);

/* A JWKS document holding rsa as kid "rsa-1" and ec as kid "ec-1". */
int fz_jwks(EVP_PKEY *rsa, EVP_PKEY *ec, char **out);

/*
 * A compact JWS of header and payload (JSON text, any bytes) signed under
 * alg with key; alg NULL gives a token with a signature of zeros.
 */
int fz_sign(EVP_PKEY *key, const struct kmfa_jws_alg *alg, const char *header,
    size_t hlen, const char *payload, size_t plen, char **out);

struct softkey;

/*
 * The test authenticator (test/softkey) without its sockets, for the
 * softkey harness and for the generator's credential ids: a fixed master
 * key, counter 0, a PIN of "1234" when pin is set, an immediate touch, no
 * client and no control socket; state_path receives the counter saves.
 * Defined in softkey_glue.c, with the softkey's logging silenced.
 */
int fz_softkey_setup(struct softkey *sk, const char *state_path, int pin);

/* Abort with a message: a harness's invariant failed. */
void fz_die(const char *what) __attribute__((noreturn));

#endif

/*
 * Credential ids: sealing and opening.  See cred.h.
 */
#include <string.h>

#include "cred.h"
#include "crypto.h"

#define CRED_VERSION 1
#define SEALED_LEN 33

/* A subkey of the master key for one purpose. */
static int
subkey(const struct sk_state *st, const char *label, uint8_t out[32])
{
	return crypto_hmac_sha256(st->master, sizeof(st->master), label,
	    strlen(label), out);
}

int
cred_wrap(const struct sk_state *st, const uint8_t rp_hash[32],
    const struct cred *c, uint8_t id[CRED_ID_LEN])
{
	uint8_t key[32], plain[SEALED_LEN];
	int r = -1;

	if (subkey(st, "kmfa-softkey credential wrap", key) < 0)
		goto out;
	memcpy(plain, c->priv, 32);
	plain[32] = c->protect;
	id[0] = CRED_VERSION;
	if (crypto_random(id + 1, 12) < 0 ||
	    crypto_gcm_seal(key, id + 1, rp_hash, 32, plain, sizeof(plain),
	    id + 13, id + 13 + SEALED_LEN) < 0)
		goto out;
	r = 0;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(plain, sizeof(plain));
	return r;
}

int
cred_unwrap(const struct sk_state *st, const uint8_t rp_hash[32],
    const uint8_t *id, size_t len, struct cred *c)
{
	uint8_t key[32], plain[SEALED_LEN];
	int r = -1;

	if (len != CRED_ID_LEN || id[0] != CRED_VERSION)
		goto out;
	if (subkey(st, "kmfa-softkey credential wrap", key) < 0 ||
	    crypto_gcm_open(key, id + 1, rp_hash, 32, id + 13, SEALED_LEN,
	    id + 13 + SEALED_LEN, plain) < 0)
		goto out;
	memcpy(c->priv, plain, 32);
	c->protect = plain[32];
	r = 0;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(plain, sizeof(plain));
	return r;
}

int
cred_random(const struct sk_state *st, const struct cred *c, bool uv,
    uint8_t out[32])
{
	uint8_t key[32], msg[33];
	int r = -1;

	if (subkey(st, "kmfa-softkey credrandom", key) < 0)
		goto out;
	msg[0] = uv ? 1 : 0;
	memcpy(msg + 1, c->priv, 32);
	if (crypto_hmac_sha256(key, sizeof(key), msg, sizeof(msg), out) < 0)
		goto out;
	r = 0;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(msg, sizeof(msg));
	return r;
}

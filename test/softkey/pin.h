/*
 * authenticatorClientPIN, PIN protocol 1 only (CTAP 2.0 §5.5): the key
 * agreement key, the shared secret SHA-256(ECDH x), getRetries, setPIN,
 * changePIN, getPINToken, and checking pinAuth on makeCredential and
 * getAssertion.  Retries persist in the state file; consecutive failures
 * and the PIN token last one "power cycle", which here is one client
 * connection.
 */
#ifndef SOFTKEY_PIN_H
#define SOFTKEY_PIN_H

#include <stdint.h>

#include <cbor.h>

struct softkey;

/* A power cycle: new key agreement key, new PIN token, failures cleared. */
int pin_session_reset(struct softkey *sk);

/* Serve authenticatorClientPIN; *resp is the reply map or NULL. */
uint8_t pin_command(struct softkey *sk, const cbor_item_t *req,
    cbor_item_t **resp);

/* sharedSecret with the platform key (a COSE_Key) for protocol 1. */
uint8_t pin_shared_secret(struct softkey *sk, const cbor_item_t *platform_key,
    uint8_t secret[32]);

/*
 * Check pinAuth = LEFT(HMAC-SHA-256(pinToken, clientDataHash), 16) with
 * pinProtocol; CTAP2_OK or CTAP2_ERR_PIN_AUTH_INVALID.
 */
uint8_t pin_check_auth(struct softkey *sk, const uint8_t *auth, size_t len,
    const cbor_item_t *protocol, const uint8_t cdh[32]);

#endif

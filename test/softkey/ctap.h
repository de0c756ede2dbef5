/*
 * CTAP 2.0 commands (§5): authenticatorGetInfo, authenticatorMakeCredential,
 * authenticatorGetAssertion, authenticatorClientPIN (pin.c) and
 * authenticatorReset.  ES256 only, non-resident credentials only.
 */
#ifndef SOFTKEY_CTAP_H
#define SOFTKEY_CTAP_H

#include <stddef.h>
#include <stdint.h>

struct softkey;

/*
 * Serve one CTAPHID_CBOR request (command byte + CBOR parameters); writes
 * the reply (status byte + CBOR) into resp.
 */
void ctap_dispatch(struct softkey *sk, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len);

#endif

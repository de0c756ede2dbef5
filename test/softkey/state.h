/*
 * What the key remembers across restarts, in one small text file: the
 * master key that wraps every credential (so credential ids stay valid), the
 * global signature counter, and the PIN (its truncated hash, CTAP 2.0
 * §5.5.5) with the retries left.  Written 0600 through a temporary file and
 * rename(2), so a crash never leaves half a state.
 */
#ifndef SOFTKEY_STATE_H
#define SOFTKEY_STATE_H

#include <stdbool.h>
#include <stdint.h>

#define SK_PIN_RETRIES 8	/* CTAP 2.0 §5.5.5: the counter starts at 8 */

struct sk_state {
	uint8_t master[32];
	uint32_t counter;
	bool pin_set;
	uint8_t pin_hash[16];	/* LEFT(SHA-256(pin), 16) */
	int pin_retries;
};

/*
 * Load path, or create it (with a new master key, counter 0, and pin when
 * not NULL) when it does not exist.
 */
int state_open(const char *path, const char *pin, struct sk_state *st);
int state_save(const char *path, const struct sk_state *st);
/* Set st's PIN hash from a PIN in clear text. */
int state_set_pin(struct sk_state *st, const uint8_t *pin, size_t len);

#endif

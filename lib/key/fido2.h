/*
 * The second factor, on libfido2 1.12: what enrolling a key
 * (lib/key/fido2_enroll.h) and the touch before a new token
 * (lib/key/fido2_touch.h) share.  This module owns one session with one
 * security key: the device, the --timeout budget it runs under, what the
 * key supports (getInfo, CTAP2 §6.4, read before anything is asked of it),
 * the choice of user verification, the PIN for the session's calls, and
 * the translation of FIDO_ERR_* into one clear cause and an audit event;
 * FIDO_ERR_* never leaves lib/key/fido2*.c.  The PIN comes from a reader
 * the caller hands in: this layer never touches a terminal.  Every
 * failure is KMFA_ERR_FIDO2 with a cause unless memory ran out.
 */
#ifndef KMFA_FIDO2_H
#define KMFA_FIDO2_H

#include <stdint.h>

#include "key/credfile.h"
#include "key/fidodev.h"
#include "token/config.h"

#define KMFA_FIDO2_CDH_LEN	32	/* clientDataHash: SHA-256 */
/* CTAP2 blocks further PIN tries after 3 wrong ones in a row. */
#define KMFA_FIDO2_PIN_ATTEMPTS	3

/* Audit events, as docs/DESIGN.md §5 names them. */
#define KMFA_EV_TOUCH_OK	"touch-ok"
#define KMFA_EV_TOUCH_FAILED	"touch-failed"
#define KMFA_EV_VERIFY_FAILED	"verify-failed"
#define KMFA_EV_COUNTER		"counter-regressed"
#define KMFA_EV_NO_KEY		"no-key"
#define KMFA_EV_WRONG_KEY	"wrong-key"
#define KMFA_EV_PIN_FAILED	"pin-failed"

/*
 * How to ask a person for the security key's PIN.  read(arg, prompt,
 * timeout_ms, &pin) shows prompt, waits at most timeout_ms (-1: no
 * limit) and sets *pin to a new string, which this module wipes and frees
 * (kmfa_freezero_str); on failure it returns an error with a cause.
 * lib/ui/tty.h has the reader for a terminal; tests script their own.  A
 * NULL reader, or a NULL read, means no PIN can be asked.
 */
struct kmfa_fido2_pin_reader {
	int (*read)(void *arg, const char *prompt, int timeout_ms,
	    char **pin);
	void *arg;
};

/* How a person is verified, beyond presence. */
enum kmfa_fido2_uv {
	KMFA_FIDO2_UV_NONE = 0,	/* user presence only */
	KMFA_FIDO2_UV_BUILTIN,	/* the key's own verification (fingerprint) */
	KMFA_FIDO2_UV_PIN,	/* clientPIN, asked of the PIN reader */
};

/* One open security key and what it can do. */
struct kmfa_fido2_session {
	const struct kmfa_config *cfg;
	const struct kmfa_fido2_pin_reader *pin_reader;
	struct kmfa_fidodev d;
	int64_t deadline;	/* CLOCK_MONOTONIC ms; -1: none */
	char *pin;		/* kept for the calls of one session; wiped */
	int has_hmac;		/* lists hmac-secret and a PIN protocol */
	int has_credprot;
	int has_pin;		/* clientPin set */
	int has_uv;		/* built-in UV configured */
};

/* Start the --timeout budget; no device is open yet (kmfa_fidodev_select). */
void kmfa_fido2_session_init(struct kmfa_fido2_session *s,
    const struct kmfa_config *cfg, const struct kmfa_fido2_pin_reader *pin);

/* Close the device and wipe the PIN; safe to call twice. */
void kmfa_fido2_session_close(struct kmfa_fido2_session *s);

/* Milliseconds left for libfido2, -1 for no limit, 0 when spent. */
int kmfa_fido2_session_left_ms(const struct kmfa_fido2_session *s);

/* Read the open key's features (getInfo) into s. */
int kmfa_fido2_session_probe(struct kmfa_fido2_session *s);

/*
 * The verification to ask for: none without uv_required, else the key's
 * built-in one when configured, else its PIN; a key with neither fails.
 */
int kmfa_fido2_session_uv(const struct kmfa_fido2_session *s,
    int uv_required, enum kmfa_fido2_uv *m);

/*
 * Make sure s->pin holds the PIN: ask the reader, showing the tries left
 * (clientPIN getRetries), unless the session has it already.  *event is
 * set to KMFA_EV_PIN_FAILED when this fails.
 */
int kmfa_fido2_session_pin(struct kmfa_fido2_session *s, const char **event);

/* The key said the PIN was wrong: say so and forget it, to ask again. */
void kmfa_fido2_session_wrong_pin(struct kmfa_fido2_session *s);

/*
 * Record the cause of a failed device call (doing: what was being done)
 * and return KMFA_ERR_FIDO2.  A libfido2 timeout is told apart from a lost
 * connection by the budget left.
 */
int kmfa_fido2_session_fail(const struct kmfa_fido2_session *s, int fr,
    const char *doing);

/* The audit event for a libfido2 error code of an assertion. */
const char *kmfa_fido2_event(int fido_err);

/*
 * The UV policy of the enrolled keys: all keys of a user share one (see
 * kmfa_fido2_enroll), and a file that mixes them is refused.
 */
int kmfa_fido2_policy(const struct kmfa_credfile *f, int *uv_required);

/*
 * The sign-counter rule (WebAuthn L2 §6.1.1, §7.2 step 21): a key that
 * has always reported 0 has no counter and passes; otherwise the new
 * value must be above the stored one, or the key may have been cloned.
 * 1 if seen is acceptable after stored, else 0.
 */
int kmfa_fido2_counter_ok(uint32_t stored, uint32_t seen);

/* A person's message for a libfido2 error code during an operation. */
const char *kmfa_fido2_strerr(int fido_err);

#endif

/*
 * The software security key used by the tests: shared state and constants.
 *
 * kmfa-softkey is a CTAP 2.0 authenticator that speaks CTAPHID reports over
 * a unix stream socket instead of a HID device, so that tests can drive the
 * real libfido2 against a key whose behaviour they control (touch or no
 * touch, refusal, counter rollback, bad signatures, no hmac-secret).  One
 * struct softkey holds everything the modules share; there is exactly one,
 * owned by main.c.
 */
#ifndef SOFTKEY_H
#define SOFTKEY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hid.h"
#include "state.h"

/* CTAP 2.0 §6.3 status codes the key answers with. */
enum ctap_status {
	CTAP2_OK = 0x00,
	CTAP1_ERR_INVALID_COMMAND = 0x01,
	CTAP1_ERR_INVALID_PARAMETER = 0x02,
	CTAP1_ERR_INVALID_LENGTH = 0x03,
	CTAP2_ERR_CBOR_UNEXPECTED_TYPE = 0x11,
	CTAP2_ERR_INVALID_CBOR = 0x12,
	CTAP2_ERR_MISSING_PARAMETER = 0x14,
	CTAP2_ERR_CREDENTIAL_EXCLUDED = 0x19,
	CTAP2_ERR_UNSUPPORTED_ALGORITHM = 0x26,
	CTAP2_ERR_OPERATION_DENIED = 0x27,
	CTAP2_ERR_UNSUPPORTED_OPTION = 0x2b,
	CTAP2_ERR_INVALID_OPTION = 0x2c,
	CTAP2_ERR_KEEPALIVE_CANCEL = 0x2d,
	CTAP2_ERR_NO_CREDENTIALS = 0x2e,
	CTAP2_ERR_USER_ACTION_TIMEOUT = 0x2f,
	CTAP2_ERR_PIN_INVALID = 0x31,
	CTAP2_ERR_PIN_BLOCKED = 0x32,
	CTAP2_ERR_PIN_AUTH_INVALID = 0x33,
	CTAP2_ERR_PIN_AUTH_BLOCKED = 0x34,
	CTAP2_ERR_PIN_NOT_SET = 0x35,
	CTAP2_ERR_PIN_REQUIRED = 0x36,
	CTAP2_ERR_PIN_POLICY_VIOLATION = 0x37,
	CTAP2_ERR_REQUEST_TOO_LARGE = 0x39,
	CTAP1_ERR_OTHER = 0x7f,
};

/*
 * How the simulated person behaves.  The presence policy (touch, notouch,
 * refuse) says what happens when a request needs a touch; the other modes
 * are faults layered on top and can be combined ("nohmac,notouch").
 */
enum sk_presence {
	SK_TOUCH = 0,	/* touched after touch_delay_ms */
	SK_NOTOUCH,	/* never touched: USER_ACTION_TIMEOUT */
	SK_REFUSE,	/* OPERATION_DENIED at once */
};

#define SK_FAULT_ROLLBACK 0x01	/* every assertion reports counter 1 */
#define SK_FAULT_BADSIG 0x02	/* assertion signatures do not verify */
#define SK_FAULT_NOHMAC 0x04	/* no hmac-secret extension */
#define SK_FAULT_NOUV 0x08	/* UV flag left out even when the PIN verified */
/* Not a fault but a state: in a mode list, "unplug" removes the key. */
#define SK_MODE_UNPLUG 0x100

#define SK_CONTROL_MAX 8
#define SK_CONTROL_LINE 256

struct sk_control_conn {
	int fd;			/* -1 when the slot is free */
	char line[SK_CONTROL_LINE];
	size_t len;
};

/* The simulated power cycle: PIN attempts and the PIN token reset. */
struct sk_session {
	uint8_t pin_token[32];
	uint8_t ka_priv[32];	/* key agreement private scalar (§5.5.4) */
	bool ka_valid;
	bool token_valid;	/* a PIN token was handed out */
	int pin_fails;		/* consecutive wrong PINs since power-up */
};

struct softkey {
	/* command line */
	const char *socket_path;
	const char *state_path;
	const char *control_path;
	int touch_delay_ms;
	int touch_timeout_ms;

	/* behaviour, changed at run time through the control socket */
	enum sk_presence presence;
	unsigned faults;
	bool unplugged;
	/* touches given since the start (each wait for presence that passed) */
	unsigned long touches;
	volatile sig_atomic_t stopping;	/* SIGTERM or SIGINT arrived */

	/* persistent */
	struct sk_state state;

	/* the one client connection and the transaction in progress */
	int listen_fd;		/* -1 while unplugged */
	struct hid_link link;	/* link.fd is -1 when nobody is connected */
	uint32_t next_cid;	/* next channel id INIT hands out */
	uint32_t busy_cid;	/* channel whose request is being served */
	struct sk_session session;

	/* the control socket and its connections (see control.c) */
	int control_fd;
	struct sk_control_conn control[SK_CONTROL_MAX];
};

/* Milliseconds from a monotonic clock. */
int64_t sk_now_ms(void);

/* Logging to stderr; stdout carries only the READY line. */
void sk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Drop the current client connection (EOF, protocol abuse, unplug). */
void sk_drop_client(struct softkey *sk);

#endif

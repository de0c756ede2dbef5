/*
 * User presence: the simulated touch.  While a request waits for one, the
 * key sends CTAPHID_KEEPALIVE (status UPNEEDED) every 100 ms, honours
 * CTAPHID_CANCEL, answers other channels with CHANNEL_BUSY, and keeps
 * serving the control socket, so a test may change the mode mid-wait.
 */
#ifndef SOFTKEY_PRESENCE_H
#define SOFTKEY_PRESENCE_H

#include <stdint.h>

struct softkey;

/*
 * CTAP2_OK when touched; else CTAP2_ERR_USER_ACTION_TIMEOUT (notouch),
 * CTAP2_ERR_OPERATION_DENIED (refuse) or CTAP2_ERR_KEEPALIVE_CANCEL.
 */
uint8_t presence_wait(struct softkey *sk);

#endif

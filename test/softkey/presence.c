/*
 * The simulated touch.  The mode is read again on every turn of the wait,
 * so a test can, say, start a request in notouch mode and then send
 * "mode touch" to the control socket to press the button.
 */
#include "hid.h"
#include "loop.h"
#include "presence.h"
#include "softkey.h"

/* §8.1.9.1.7: keepalives at least every 100 ms while waiting */
#define KEEPALIVE_MS 100

uint8_t
presence_wait(struct softkey *sk)
{
	static struct hid_msg msg;
	int64_t start = sk_now_ms(), next_keepalive = start, now, deadline;
	int n;

	for (;;) {
		now = sk_now_ms();
		switch (sk->presence) {
		case SK_REFUSE:
			sk_log("presence: refused");
			return CTAP2_ERR_OPERATION_DENIED;
		case SK_TOUCH:
			deadline = start + sk->touch_delay_ms;
			if (now >= deadline) {
				sk->touches++;
				sk_log("presence: touched (%lu)", sk->touches);
				return CTAP2_OK;
			}
			break;
		case SK_NOTOUCH:
		default:
			deadline = start + sk->touch_timeout_ms;
			if (now >= deadline) {
				sk_log("presence: nobody touched the key");
				return CTAP2_ERR_USER_ACTION_TIMEOUT;
			}
			break;
		}
		if (now >= next_keepalive) {
			hid_send_keepalive(sk->link.fd, sk->busy_cid,
			    KEEPALIVE_UPNEEDED);
			next_keepalive = now + KEEPALIVE_MS;
		}
		n = loop_poll(sk, (int)((deadline < next_keepalive ? deadline :
		    next_keepalive) - now), false);
		/* hung up, unplugged through the control socket, or stopping */
		if (sk->link.fd < 0 || sk->stopping)
			return CTAP2_ERR_KEEPALIVE_CANCEL;
		if (n <= 0)
			continue;
		if ((n = hid_receive(&sk->link, &msg)) < 0) {
			sk_drop_client(sk);
			return CTAP2_ERR_KEEPALIVE_CANCEL;
		}
		if (n == 0)
			continue;
		if (msg.cmd == CTAPHID_CANCEL && msg.cid == sk->busy_cid) {
			sk_log("presence: cancelled");
			return CTAP2_ERR_KEEPALIVE_CANCEL;
		}
		/* one transaction at a time (§8.1.5) */
		hid_send_error(sk->link.fd, msg.cid, CTAPHID_ERR_CHANNEL_BUSY);
	}
}

/*
 * What test/softkey/main.c provides to the softkey's modules, for a
 * process that drives them without sockets: a clock, a silent log (the
 * softkey logs every refused command, which at fuzzing speed would drown
 * the run's own output), and the set-up main() does.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "fuzzutil.h"
#include "pin.h"
#include "softkey.h"
#include "state.h"

#define FZ_SOFTKEY_PIN "1234"

int64_t
sk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sk_log(const char *fmt, ...)
{
	(void)fmt;
}

int
fz_softkey_setup(struct softkey *sk, const char *state_path, int pin)
{
	memset(sk, 0, sizeof(*sk));
	sk->state_path = state_path;
	sk->presence = SK_TOUCH;
	sk->touch_delay_ms = 0;
	sk->touch_timeout_ms = 0;
	sk->listen_fd = sk->control_fd = -1;
	for (size_t i = 0; i < SK_CONTROL_MAX; i++)
		sk->control[i].fd = -1;
	sk->next_cid = 1;
	hid_link_reset(&sk->link, -1);
	for (size_t i = 0; i < sizeof(sk->state.master); i++)
		sk->state.master[i] = (uint8_t)(0x3c + 11 * i);
	sk->state.counter = 0;
	sk->state.pin_retries = SK_PIN_RETRIES;
	if (pin && state_set_pin(&sk->state,
	    (const uint8_t *)FZ_SOFTKEY_PIN, strlen(FZ_SOFTKEY_PIN)) < 0)
		return -1;
	return pin_session_reset(sk);
}

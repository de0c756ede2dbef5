/*
 * The session with one key.  What the key supports is read from getInfo
 * before anything is asked of it, because libfido2 fails verification
 * when a requested extension is missing from the reply (docs/DESIGN.md §12).
 * libfido2's timeout is one budget per call that ends in FIDO_ERR_RX, and
 * a cancelled or timed-out handle answers stale replies, so a timeout, a
 * cancel or a transport failure closes the device and nothing is retried
 * on that handle.  A wrong PIN or blocked built-in verification is retried
 * on the same handle: those replies were read whole, so nothing stale is
 * left.  Each call gets what is left of the --timeout budget.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <fido.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fidodev.h"
#include "token/config.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
kmfa_fido2_session_init(struct kmfa_fido2_session *s,
    const struct kmfa_config *cfg, const struct kmfa_fido2_pin_reader *pin)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->pin_reader = pin;
	s->deadline = cfg->timeout > 0 ? mono_ms() + cfg->timeout * 1000 : -1;
}

int
kmfa_fido2_session_left_ms(const struct kmfa_fido2_session *s)
{
	int64_t left;

	if (s->deadline < 0)
		return -1;
	left = s->deadline - mono_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

void
kmfa_fido2_session_close(struct kmfa_fido2_session *s)
{
	kmfa_fidodev_close(&s->d);
	kmfa_freezero_str(s->pin);
	s->pin = NULL;
}

const char *
kmfa_fido2_strerr(int fr)
{
	switch (fr) {
	case FIDO_ERR_NO_CREDENTIALS:
		return "this security key holds none of the enrolled "
		    "credentials";
	case FIDO_ERR_OPERATION_DENIED:
		return "the security key refused (the request was denied)";
	case FIDO_ERR_KEEPALIVE_CANCEL:
		return "the request was cancelled";
	case FIDO_ERR_RX:
	case FIDO_ERR_TIMEOUT:
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_ACTION_TIMEOUT:
		return "no touch in time";
	case FIDO_ERR_PIN_INVALID:
		return "wrong PIN";
	case FIDO_ERR_PIN_BLOCKED:
		return "the security key's PIN is blocked after too many wrong "
		    "attempts; only a reset of the key (which erases its "
		    "credentials) unblocks it";
	case FIDO_ERR_PIN_AUTH_BLOCKED:
		return "too many wrong PINs in a row: unplug the security key, "
		    "plug it back in and try again";
	case FIDO_ERR_PIN_NOT_SET:
		return "the security key has no PIN: set one first "
		    "(fido2-token -S)";
	case FIDO_ERR_PIN_REQUIRED:
		return "the security key requires its PIN";
	case FIDO_ERR_UV_BLOCKED:
		return "the security key's built-in user verification is "
		    "blocked: use its PIN to unblock it";
	case FIDO_ERR_UV_INVALID:
		return "the security key did not verify the user";
	case FIDO_ERR_CREDENTIAL_EXCLUDED:
		return "this security key is already enrolled";
	case FIDO_ERR_INVALID_SIG:
		return "the signature does not verify";
	case FIDO_ERR_UNSUPPORTED_ALGORITHM:
		return "the security key does not support ES256";
	case FIDO_ERR_TX:
		return "lost contact with the security key";
	}
	return fido_strerr(fr);
}

const char *
kmfa_fido2_event(int fr)
{
	switch (fr) {
	case FIDO_ERR_NO_CREDENTIALS:
	case FIDO_ERR_INVALID_CREDENTIAL:
		return KMFA_EV_WRONG_KEY;
	case FIDO_ERR_PIN_INVALID:
	case FIDO_ERR_PIN_BLOCKED:
	case FIDO_ERR_PIN_AUTH_BLOCKED:
	case FIDO_ERR_PIN_NOT_SET:
	case FIDO_ERR_PIN_REQUIRED:
	case FIDO_ERR_UV_BLOCKED:
	case FIDO_ERR_UV_INVALID:
		return KMFA_EV_PIN_FAILED;
	}
	return KMFA_EV_TOUCH_FAILED;
}

/*
 * libfido2 reports its own timeout as FIDO_ERR_RX (docs/DESIGN.md §12),
 * so an RX error once the budget is spent is a missing touch, and before
 * that a lost connection.
 */
int
kmfa_fido2_session_fail(const struct kmfa_fido2_session *s, int fr,
    const char *doing)
{
	if (fr == FIDO_ERR_RX && kmfa_fido2_session_left_ms(s) != 0)
		return kmfa_fail(KMFA_ERR_FIDO2, "%s: lost contact with the "
		    "security key at %s", doing, s->d.path);
	if (fr == FIDO_ERR_RX || fr == FIDO_ERR_TIMEOUT)
		return kmfa_fail(KMFA_ERR_FIDO2, "%s: the security key was not "
		    "touched within %lld s (--timeout)", doing,
		    (long long)s->cfg->timeout);
	/* The key's own wait ran out (CTAP2 §6.2 USER_ACTION_TIMEOUT), which
	 * is usually shorter than --timeout: do not blame the option. */
	if (fr == FIDO_ERR_USER_ACTION_TIMEOUT || fr == FIDO_ERR_ACTION_TIMEOUT)
		return kmfa_fail(KMFA_ERR_FIDO2, "%s: the security key was not "
		    "touched in time (the key gave up waiting)", doing);
	return kmfa_fail(KMFA_ERR_FIDO2, "%s: %s", doing,
	    kmfa_fido2_strerr(fr));
}

/* getInfo: extensions, PIN protocols; options through libfido2's cache. */
int
kmfa_fido2_session_probe(struct kmfa_fido2_session *s)
{
	fido_cbor_info_t *ci = NULL;
	char **ext;
	int fr, hmac = 0, r = KMFA_ERR_FIDO2;

	if ((ci = fido_cbor_info_new()) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	(void)fido_dev_set_timeout(s->d.dev, kmfa_fido2_session_left_ms(s));
	if ((fr = fido_dev_get_cbor_info(s->d.dev, ci)) != FIDO_OK) {
		r = kmfa_fido2_session_fail(s, fr, "reading the security key's "
		    "features");
		goto out;
	}
	ext = fido_cbor_info_extensions_ptr(ci);
	for (size_t i = 0; i < fido_cbor_info_extensions_len(ci); i++)
		if (strcmp(ext[i], "hmac-secret") == 0)
			hmac = 1;
	/* hmac-secret rides on a PIN protocol's key agreement (CTAP2 §12.5). */
	s->has_hmac = hmac && fido_cbor_info_protocols_len(ci) > 0;
	s->has_credprot = fido_dev_supports_cred_prot(s->d.dev);
	s->has_pin = fido_dev_has_pin(s->d.dev);
	s->has_uv = fido_dev_has_uv(s->d.dev);
	r = KMFA_OK;
out:
	fido_cbor_info_free(&ci);
	return r;
}

int
kmfa_fido2_session_uv(const struct kmfa_fido2_session *s, int uv_required,
    enum kmfa_fido2_uv *m)
{
	*m = KMFA_FIDO2_UV_NONE;
	if (!uv_required)
		return KMFA_OK;
	if (s->has_uv)
		*m = KMFA_FIDO2_UV_BUILTIN;
	else if (s->has_pin)
		*m = KMFA_FIDO2_UV_PIN;
	else
		return kmfa_fail(KMFA_ERR_FIDO2, "user verification is required "
		    "but the security key at %s has neither a PIN nor built-in "
		    "verification: set a PIN on it (fido2-token -S)",
		    s->d.path);
	return KMFA_OK;
}

int
kmfa_fido2_session_pin(struct kmfa_fido2_session *s, const char **event)
{
	const struct kmfa_fido2_pin_reader *pr = s->pin_reader;
	char prompt[160];
	int fr, retries = -1;

	if (s->pin != NULL)
		return KMFA_OK;
	(void)fido_dev_set_timeout(s->d.dev, kmfa_fido2_session_left_ms(s));
	if ((fr = fido_dev_get_retry_count(s->d.dev, &retries)) != FIDO_OK) {
		*event = KMFA_EV_PIN_FAILED;
		return kmfa_fido2_session_fail(s, fr, "asking the security key "
		    "for its PIN retries");
	}
	if (retries == 0) {
		*event = KMFA_EV_PIN_FAILED;
		return kmfa_fail(KMFA_ERR_FIDO2, "%s",
		    kmfa_fido2_strerr(FIDO_ERR_PIN_BLOCKED));
	}
	if (snprintf(prompt, sizeof(prompt), "kubectl-mfa: PIN of your "
	    "security key (%d %s left): ", retries,
	    retries == 1 ? "try" : "tries") < 0)
		return KMFA_ERR_INTERNAL;
	if (pr == NULL || pr->read == NULL) {
		*event = KMFA_EV_PIN_FAILED;
		return kmfa_fail(KMFA_ERR_FIDO2, "a PIN is needed but there is "
		    "no way to ask for it");
	}
	if (pr->read(pr->arg, prompt, kmfa_fido2_session_left_ms(s),
	    &s->pin) != KMFA_OK || s->pin == NULL) {
		kmfa_freezero_str(s->pin);
		s->pin = NULL;
		*event = KMFA_EV_PIN_FAILED;
		/* The reader's own cause, when it gave one, comes first. */
		return kmfa_fail(KMFA_ERR_FIDO2, "the PIN could not be read");
	}
	return KMFA_OK;
}

void
kmfa_fido2_session_wrong_pin(struct kmfa_fido2_session *s)
{
	kmfa_info("Wrong PIN.");
	kmfa_freezero_str(s->pin);
	s->pin = NULL;
}

int
kmfa_fido2_policy(const struct kmfa_credfile *f, int *uv_required)
{
	*uv_required = f->ncreds > 0 ? f->creds[0].uv_required : 0;
	for (size_t i = 1; i < f->ncreds; i++)
		if (f->creds[i].uv_required != *uv_required)
			return kmfa_fail(KMFA_ERR_FIDO2, "%s mixes keys with and "
			    "without user verification; remove and re-enroll "
			    "keys so that all use the same --fido2-uv setting",
			    f->path);
	return KMFA_OK;
}

int
kmfa_fido2_counter_ok(uint32_t stored, uint32_t seen)
{
	if (stored == 0 && seen == 0)
		return 1;	/* a key without a counter */
	return seen > stored;
}

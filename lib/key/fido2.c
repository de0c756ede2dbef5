/*
 * Enrollment and the verified touch, on libfido2 1.12.  What the key
 * supports is read from getInfo (CTAP2 §6.4) before anything is asked of
 * it, because libfido2 fails verification when a requested extension is
 * missing from the reply (DESIGN.md §9).  Every assertion is verified
 * here, not trusted: signature against the enrolled public key, rpIdHash
 * (inside fido_assert_verify), the UP flag, the UV flag when the policy
 * requires it (libfido2 checks UV only when the uv option was sent, not
 * when a PIN was used), and the sign counter.  libfido2's timeout is one
 * budget per call that ends in FIDO_ERR_RX, and a cancelled or timed-out
 * handle answers stale replies, so every failure closes the device and
 * nothing is retried on the same handle after one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <fido.h>
#include <fido/es256.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fidodev.h"
#include "key/seal.h"
#include "token/config.h"

#define CDH_LEN		32	/* clientDataHash: SHA-256 */
#define PIN_MAX		256	/* CTAP2 §6.5.5.5: at most 63 bytes; room to spare */
#define PIN_ATTEMPTS	3	/* CTAP2 blocks further tries after 3 in a row */
#define FLAG_UP		0x01	/* authenticator data flags, WebAuthn §6.1 */
#define FLAG_UV		0x04

enum uv_method {
	UV_NONE = 0,	/* user presence only */
	UV_BUILTIN,	/* the key's own verification (fingerprint) */
	UV_PIN,		/* clientPIN, read from the terminal */
};

struct session {
	const struct kmfa_config *cfg;
	struct kmfa_fidodev d;
	int64_t deadline;	/* CLOCK_MONOTONIC ms; -1: none */
	char *pin;		/* kept for the calls of one enrollment; wiped */
	int has_hmac;		/* lists hmac-secret and a PIN protocol */
	int has_credprot;
	int has_pin;		/* clientPin set */
	int has_uv;		/* built-in UV configured */
};

/* What one verified assertion told. */
struct answer {
	size_t idx;		/* which of the allowed credentials answered */
	uint32_t sign_count;
	int have_hmac;
	uint8_t hmac[KMFA_HMAC_OUT_LEN];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
session_init(struct session *s, const struct kmfa_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->deadline = cfg->timeout > 0 ? mono_ms() + cfg->timeout * 1000 : -1;
}

/* Milliseconds left for libfido2, -1 for no limit, 0 when spent. */
static int
left_ms(const struct session *s)
{
	int64_t left;

	if (s->deadline < 0)
		return -1;
	left = s->deadline - mono_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static void
session_close(struct session *s)
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

static const char *
fido_event(int fr)
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
 * Record the cause of a failed device call.  libfido2 reports its own
 * timeout as FIDO_ERR_RX (DESIGN.md §9), so an RX error once the budget
 * is spent is a missing touch, and before that a lost connection.
 */
static int
device_fail(const struct session *s, int fr, const char *doing)
{
	if (fr == FIDO_ERR_RX && left_ms(s) != 0)
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
static int
probe(struct session *s)
{
	fido_cbor_info_t *ci = NULL;
	char **ext;
	int fr, hmac = 0, r = KMFA_ERR_FIDO2;

	if ((ci = fido_cbor_info_new()) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	(void)fido_dev_set_timeout(s->d.dev, left_ms(s));
	if ((fr = fido_dev_get_cbor_info(s->d.dev, ci)) != FIDO_OK) {
		r = device_fail(s, fr, "reading the security key's features");
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

static int
uv_method(const struct session *s, int uv_required, enum uv_method *m)
{
	*m = UV_NONE;
	if (!uv_required)
		return KMFA_OK;
	if (s->has_uv)
		*m = UV_BUILTIN;
	else if (s->has_pin)
		*m = UV_PIN;
	else
		return kmfa_fail(KMFA_ERR_FIDO2, "user verification is required "
		    "but the security key at %s has neither a PIN nor built-in "
		    "verification: set a PIN on it (fido2-token -S)",
		    s->d.path);
	return KMFA_OK;
}

static volatile sig_atomic_t pin_signal;

static void
on_signal(int sig)
{
	pin_signal = sig;
}

/*
 * Read a PIN from the controlling terminal with echo off, like
 * readpassphrase(3): never from stdin (kubectl may own it) and never
 * without a terminal.  A signal during the read restores the terminal
 * before it takes effect.
 */
static int
read_pin_tty(const char *prompt, int timeout_ms, char **out)
{
	struct sigaction sa, old_int, old_term, old_hup;
	struct termios saved, quiet;
	char buf[PIN_MAX];
	size_t n = 0;
	int fd, r = KMFA_ERR_FIDO2, restored = 0;

	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return kmfa_fail(KMFA_ERR_FIDO2, "a PIN is needed but there is "
		    "no terminal");
	if (tcgetattr(fd, &saved) != 0) {
		close(fd);
		return kmfa_fail(KMFA_ERR_FIDO2, "a PIN is needed but there is "
		    "no terminal");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	pin_signal = 0;
	(void)sigaction(SIGINT, &sa, &old_int);
	(void)sigaction(SIGTERM, &sa, &old_term);
	(void)sigaction(SIGHUP, &sa, &old_hup);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	(void)!write(fd, prompt, strlen(prompt));
	while (pin_signal == 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char c;
		ssize_t got;
		int pr;

		/* --timeout bounds the whole login, a PIN nobody types too. */
		if ((pr = poll(&pfd, 1, timeout_ms)) == 0) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "no PIN was entered in "
			    "time (--timeout)");
			goto out;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		got = pr < 0 ? -1 : read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= sizeof(buf)) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "the PIN is too long");
			goto out;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	(void)tcsetattr(fd, TCSAFLUSH, &saved);
	restored = 1;
	(void)!write(fd, "\n", 1);
	if (pin_signal != 0) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "interrupted at the PIN prompt");
		goto out;
	}
	if (n == 0) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "no PIN was entered");
		goto out;
	}
	if ((*out = strdup(buf)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	r = KMFA_OK;
out:
	if (!restored)
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);
	(void)sigaction(SIGHUP, &old_hup, NULL);
	if (pin_signal != 0)
		(void)raise(pin_signal);
	return r;
}

/* Ask for the PIN, showing the tries left (clientPIN getRetries). */
static int
get_pin(struct session *s, const char **event)
{
	char prompt[160];
	int fr, retries = -1;

	if (s->pin != NULL)
		return KMFA_OK;
	(void)fido_dev_set_timeout(s->d.dev, left_ms(s));
	if ((fr = fido_dev_get_retry_count(s->d.dev, &retries)) != FIDO_OK) {
		*event = KMFA_EV_PIN_FAILED;
		return device_fail(s, fr, "asking the security key for its PIN "
		    "retries");
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
	if (read_pin_tty(prompt, (int)left_ms(s), &s->pin) != KMFA_OK) {
		*event = KMFA_EV_PIN_FAILED;
		return KMFA_ERR_FIDO2;
	}
	return KMFA_OK;
}

/* clientDataHash = SHA-256(random 32 bytes || context): fresh and bound. */
static int
challenge(const char *context, uint8_t cdh[CDH_LEN])
{
	uint8_t nonce[32];
	EVP_MD_CTX *md = NULL;
	unsigned len = 0;
	int r = KMFA_ERR_INTERNAL;

	if ((r = kmfa_seal_random(nonce, sizeof(nonce))) != KMFA_OK)
		return r;
	r = KMFA_ERR_INTERNAL;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, nonce, sizeof(nonce)) != 1 ||
	    EVP_DigestUpdate(md, context, strlen(context)) != 1 ||
	    EVP_DigestFinal_ex(md, cdh, &len) != 1 || len != CDH_LEN) {
		r = kmfa_fail(KMFA_ERR_INTERNAL, "SHA-256 failed in OpenSSL");
		goto out;
	}
	r = KMFA_OK;
out:
	EVP_MD_CTX_free(md);
	return r;
}

/* "yubi", "yubi or backup", "a, b or c" for prompts. */
static int
names_of(const struct kmfa_cred *creds, size_t n, char **out)
{
	struct kmfa_buf b = { 0 };

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";

		if (kmfa_buf_printf(&b, "%s%s", sep, creds[i].name) != 0) {
			kmfa_buf_wipe(&b);
			return KMFA_ERR_NOMEM;
		}
	}
	*out = b.data != NULL ? b.data : strdup("");
	return *out != NULL ? KMFA_OK : KMFA_ERR_NOMEM;
}

/*
 * One getAssertion (CTAP2 §6.2) allowed for creds[0..n), verified.  With
 * hmac, the salt is the user's hmac salt and ans->hmac the output for the
 * credential that answered.  A wrong PIN is asked again while tries
 * remain; everything else ends the attempt.
 */
static int
run_assert(struct session *s, const struct kmfa_cred *creds, size_t n,
    const uint8_t salt[KMFA_HMAC_SALT_LEN], int hmac, int uv_required,
    const char *context, const char *prompt, struct answer *ans,
    const char **event)
{
	fido_assert_t *a = NULL;
	es256_pk_t *pk = NULL;
	uint8_t cdh[CDH_LEN];
	enum uv_method m;
	const struct kmfa_cred *c = NULL;
	const unsigned char *id;
	uint8_t flags;
	int fr, r = KMFA_ERR_FIDO2;

	memset(ans, 0, sizeof(*ans));
	*event = KMFA_EV_TOUCH_FAILED;
	if ((r = uv_method(s, uv_required, &m)) != KMFA_OK)
		goto out;
	for (int attempt = 0;; attempt++) {
		fido_assert_free(&a);
		r = KMFA_ERR_FIDO2;
		if (m == UV_PIN && (r = get_pin(s, event)) != KMFA_OK)
			goto out;
		if ((r = challenge(context, cdh)) != KMFA_OK)
			goto out;
		r = KMFA_ERR_NOMEM;
		if ((a = fido_assert_new()) == NULL)
			goto out;
		r = KMFA_ERR_INTERNAL;
		if (fido_assert_set_rp(a, KMFA_FIDO2_RP_ID) != FIDO_OK ||
		    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) !=
		    FIDO_OK ||
		    fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
		    fido_assert_set_uv(a, m == UV_BUILTIN ? FIDO_OPT_TRUE :
		    FIDO_OPT_OMIT) != FIDO_OK)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (fido_assert_allow_cred(a, creds[i].id,
			    creds[i].id_len) != FIDO_OK)
				goto out;
		if (hmac && (fido_assert_set_extensions(a,
		    FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
		    fido_assert_set_hmac_salt(a, salt, KMFA_HMAC_SALT_LEN) !=
		    FIDO_OK))
			goto out;
		if (left_ms(s) == 0) {
			r = device_fail(s, FIDO_ERR_RX, prompt);
			goto out;
		}
		(void)fido_dev_set_timeout(s->d.dev, left_ms(s));
		kmfa_info("%s", prompt);
		fr = fido_dev_get_assert(s->d.dev, a, m == UV_PIN ? s->pin :
		    NULL);
		if (fr == FIDO_OK)
			break;
		if (fr == FIDO_ERR_PIN_INVALID && m == UV_PIN &&
		    attempt + 1 < PIN_ATTEMPTS) {
			kmfa_info("Wrong PIN.");
			kmfa_freezero_str(s->pin);
			s->pin = NULL;
			continue;
		}
		/* Built-in verification blocked: CTAP2.1 falls back to the PIN. */
		if (fr == FIDO_ERR_UV_BLOCKED && m == UV_BUILTIN && s->has_pin) {
			kmfa_info("Built-in verification is blocked; using the "
			    "PIN instead.");
			m = UV_PIN;
			continue;
		}
		*event = fido_event(fr);
		r = device_fail(s, fr, "the security key step failed");
		goto out;
	}

	r = KMFA_ERR_FIDO2;
	*event = KMFA_EV_VERIFY_FAILED;
	if (fido_assert_count(a) < 1 || (id = fido_assert_id_ptr(a, 0)) ==
	    NULL) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the security key answered "
		    "without a credential");
		goto out;
	}
	for (size_t i = 0; i < n && c == NULL; i++)
		if (creds[i].id_len == fido_assert_id_len(a, 0) &&
		    memcmp(creds[i].id, id, creds[i].id_len) == 0) {
			c = &creds[i];
			ans->idx = i;
		}
	if (c == NULL) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the security key answered with "
		    "a credential that is not enrolled");
		goto out;
	}
	if ((pk = es256_pk_new()) == NULL ||
	    es256_pk_from_ptr(pk, c->pubkey, c->pubkey_len) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the enrolled public key of '%s' "
		    "is not a valid P-256 point", c->name);
		goto out;
	}
	/* Checks the signature over authData || clientDataHash and rpIdHash. */
	if ((fr = fido_assert_verify(a, 0, COSE_ES256, pk)) != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the assertion of security key "
		    "'%s' does not verify against its enrolled public key: %s",
		    c->name, kmfa_fido2_strerr(fr));
		goto out;
	}
	flags = fido_assert_flags(a, 0);
	if ((flags & FLAG_UP) == 0 || (uv_required && (flags & FLAG_UV) == 0)) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' did not "
		    "confirm user %s", c->name, (flags & FLAG_UP) == 0 ?
		    "presence" : "verification");
		goto out;
	}
	ans->sign_count = fido_assert_sigcount(a, 0);
	if (hmac && c->hmac_secret) {
		if (fido_assert_hmac_secret_len(a, 0) != KMFA_HMAC_OUT_LEN) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' gave "
			    "no hmac-secret output", c->name);
			goto out;
		}
		memcpy(ans->hmac, fido_assert_hmac_secret_ptr(a, 0),
		    KMFA_HMAC_OUT_LEN);
		ans->have_hmac = 1;
	}
	*event = KMFA_EV_TOUCH_OK;
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		OPENSSL_cleanse(ans, sizeof(*ans));
	OPENSSL_cleanse(cdh, sizeof(cdh));
	es256_pk_free(&pk);
	/* libfido2 wipes the hmac-secret output it holds (freezero) here. */
	fido_assert_free(&a);
	return r;
}

int
kmfa_fido2_counter_ok(uint32_t stored, uint32_t seen)
{
	if (stored == 0 && seen == 0)
		return 1;	/* a key without a counter */
	return seen > stored;
}

/* All keys of a user share one UV policy: see kmfa_fido2_enroll. */
static int
policy_of(const struct kmfa_credfile *f, int *uv_required)
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

/*
 * The touch of an enrolled key, shared by login and by enrollment of a
 * further key: assertion, counter rule, master key from the slot.  On
 * success the credential's counter and last use are updated in f (not
 * saved) and *which names it.
 */
static int
enrolled_touch(struct session *s, struct kmfa_credfile *f, int uv_required,
    const char *context, const char *lead, struct kmfa_cred **which,
    int *have_mk, uint8_t mk[KMFA_MK_LEN], const char **event)
{
	struct answer ans;
	struct kmfa_cred *c;
	char *names = NULL, *prompt = NULL;
	int hmac = 0, r = KMFA_ERR_FIDO2;

	*which = NULL;
	*have_mk = 0;
	memset(&ans, 0, sizeof(ans));
	for (size_t i = 0; i < f->ncreds; i++)
		if (f->creds[i].hmac_secret)
			hmac = s->has_hmac;
	if ((r = names_of(f->creds, f->ncreds, &names)) != KMFA_OK)
		goto out;
	if (kmfa_asprintf(&prompt, "%s (%s)...", lead, names) < 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = run_assert(s, f->creds, f->ncreds, f->hmac_salt, hmac,
	    uv_required, context, prompt, &ans, event)) != KMFA_OK)
		goto out;
	r = KMFA_ERR_FIDO2;
	c = &f->creds[ans.idx];
	if (!kmfa_fido2_counter_ok(c->sign_count, ans.sign_count)) {
		*event = KMFA_EV_COUNTER;
		r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' reported sign "
		    "counter %u, not above the last seen %u: possibly a cloned "
		    "key", c->name, ans.sign_count, c->sign_count);
		goto out;
	}
	if (c->slot != NULL) {
		/* Enrolled with hmac-secret; a key that no longer gives it is suspect. */
		if (!ans.have_hmac) {
			*event = KMFA_EV_VERIFY_FAILED;
			r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' was "
			    "enrolled with hmac-secret but did not give its "
			    "output", c->name);
			goto out;
		}
		if (kmfa_seal_slot_unwrap(ans.hmac, f->hmac_salt, c->id,
		    c->id_len, c->slot, c->slot_len, mk) != KMFA_OK) {
			*event = KMFA_EV_VERIFY_FAILED;
			r = kmfa_fail(KMFA_ERR_FIDO2, "the key slot of security "
			    "key '%s' does not open with its hmac-secret "
			    "output", c->name);
			goto out;
		}
		*have_mk = 1;
	}
	c->sign_count = ans.sign_count;
	c->last_used = kmfa_now();
	*which = c;
	*event = KMFA_EV_TOUCH_OK;
	r = KMFA_OK;
out:
	OPENSSL_cleanse(&ans, sizeof(ans));
	free(names);
	free(prompt);
	return r;
}

void
kmfa_touch_clear(struct kmfa_touch *t)
{
	if (t == NULL)
		return;
	free(t->key_name);
	OPENSSL_cleanse(t->mk, sizeof(t->mk));
	t->key_name = NULL;
	t->have_mk = 0;
}

int
kmfa_fido2_touch(const struct kmfa_config *cfg, const char *context,
    struct kmfa_touch *out)
{
	struct kmfa_credfile *f = NULL;
	struct kmfa_cred *c = NULL;
	struct kmfa_report_scope sc;
	struct session s;
	int uv_required, r = KMFA_ERR_FIDO2;

	memset(out, 0, sizeof(*out));
	out->event = KMFA_EV_TOUCH_FAILED;
	session_init(&s, cfg);
	/* Fail closed: a broken credentials file is a failed security-key step. */
	if (kmfa_credfile_load(cfg->fido2_credentials, &f) != KMFA_OK)
		goto out;
	if (f->ncreds == 0) {
		out->event = KMFA_EV_NO_KEY;
		r = kmfa_fail(KMFA_ERR_FIDO2, "no security key is enrolled: "
		    "run 'kubectl mfa enroll' first");
		goto out;
	}
	if (policy_of(f, &uv_required) != KMFA_OK)
		goto out;
	if (cfg->fido2_uv && !uv_required) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "--fido2-uv asks for user "
		    "verification but the enrolled keys were enrolled without "
		    "it: enroll them again with --fido2-uv");
		goto out;
	}
	if (kmfa_fidodev_select(cfg->fido2_device, NULL, left_ms(&s),
	    "to log in with", &s.d) != KMFA_OK) {
		out->event = KMFA_EV_NO_KEY;
		goto out;
	}
	if (probe(&s) != KMFA_OK)
		goto out;
	if (enrolled_touch(&s, f, uv_required, context,
	    "Touch your security key", &c, &out->have_mk, out->mk,
	    &out->event) != KMFA_OK)
		goto out;
	if ((out->key_name = strdup(c->name)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	/* The counter is defence in depth: a failed save must not block work. */
	kmfa_report_enter(&sc);
	if (kmfa_credfile_save(f) != KMFA_OK) {
		kmfa_warn("could not record the sign counter in %s: %s",
		    f->path, kmfa_report_cause() ? kmfa_report_cause() : "?");
	}
	kmfa_report_leave(&sc);
	r = KMFA_OK;
out:
	session_close(&s);
	kmfa_credfile_free(&f);
	if (r != KMFA_OK) {
		kmfa_touch_clear(out);
		if (r != KMFA_ERR_NOMEM)
			r = KMFA_ERR_FIDO2;
		if (strcmp(out->event, KMFA_EV_TOUCH_OK) == 0)
			out->event = KMFA_EV_TOUCH_FAILED;
	}
	return r;
}

void
kmfa_enroll_result_clear(struct kmfa_enroll_result *res)
{
	if (res == NULL)
		return;
	free(res->key_name);
	memset(res, 0, sizeof(*res));
}

/*
 * makeCredential (CTAP2 §6.1): ES256, not resident, hmac-secret when
 * listed, credProtect "UV required" (CTAP2.1 §12.1) with uv so that the
 * credential cannot even be probed for without verification.  The enrolled
 * credentials are excluded so that one key is not enrolled twice.
 */
static int
make_credential(struct session *s, const struct kmfa_credfile *f,
    const char *name, int uv_required, struct kmfa_cred *out)
{
	fido_cred_t *cred = NULL;
	uint8_t cdh[CDH_LEN], uid[32];
	enum uv_method m;
	const char *event = NULL;
	char *prompt = NULL;
	int ext = 0, fr, r = KMFA_ERR_FIDO2;

	if ((r = uv_method(s, uv_required, &m)) != KMFA_OK)
		goto out;
	if ((r = kmfa_seal_random(cdh, sizeof(cdh))) != KMFA_OK ||
	    (r = kmfa_seal_random(uid, sizeof(uid))) != KMFA_OK)
		goto out;
	if (s->has_hmac)
		ext |= FIDO_EXT_HMAC_SECRET;
	if (uv_required && s->has_credprot)
		ext |= FIDO_EXT_CRED_PROTECT;
	if (kmfa_asprintf(&prompt, "Touch your new security key to create "
	    "its credential (%s)...", name) < 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		fido_cred_free(&cred);
		if (m == UV_PIN && (r = get_pin(s, &event)) != KMFA_OK)
			goto out;
		r = KMFA_ERR_NOMEM;
		if ((cred = fido_cred_new()) == NULL)
			goto out;
		r = KMFA_ERR_INTERNAL;
		if (fido_cred_set_type(cred, COSE_ES256) != FIDO_OK ||
		    fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)) !=
		    FIDO_OK ||
		    fido_cred_set_rp(cred, KMFA_FIDO2_RP_ID, "kubectl-mfa") !=
		    FIDO_OK ||
		    fido_cred_set_user(cred, uid, sizeof(uid), "kubectl-mfa",
		    name, NULL) != FIDO_OK ||
		    fido_cred_set_rk(cred, FIDO_OPT_OMIT) != FIDO_OK ||
		    fido_cred_set_uv(cred, m == UV_BUILTIN ? FIDO_OPT_TRUE :
		    FIDO_OPT_OMIT) != FIDO_OK ||
		    fido_cred_set_extensions(cred, ext) != FIDO_OK)
			goto out;
		if ((ext & FIDO_EXT_CRED_PROTECT) != 0 &&
		    fido_cred_set_prot(cred, FIDO_CRED_PROT_UV_REQUIRED) !=
		    FIDO_OK)
			goto out;
		for (size_t i = 0; i < f->ncreds; i++)
			if (fido_cred_exclude(cred, f->creds[i].id,
			    f->creds[i].id_len) != FIDO_OK)
				goto out;
		(void)fido_dev_set_timeout(s->d.dev, left_ms(s));
		kmfa_info("%s", prompt);
		fr = fido_dev_make_cred(s->d.dev, cred, m == UV_PIN ? s->pin :
		    NULL);
		if (fr == FIDO_OK)
			break;
		/* CTAP2.0 keys with a PIN set want it even for makeCredential. */
		if (fr == FIDO_ERR_PIN_REQUIRED && m == UV_NONE && s->has_pin) {
			m = UV_PIN;
			continue;
		}
		if (fr == FIDO_ERR_PIN_INVALID && m == UV_PIN &&
		    attempt + 1 < PIN_ATTEMPTS) {
			kmfa_info("Wrong PIN.");
			kmfa_freezero_str(s->pin);
			s->pin = NULL;
			continue;
		}
		r = device_fail(s, fr, "creating the credential failed");
		goto out;
	}
	/*
	 * Self-consistency of the attestation object: authData, rpIdHash,
	 * clientDataHash, requested extensions, and the signature (by the
	 * credential key itself for self attestation, WebAuthn §8.2, or by
	 * the attestation certificate it carries).  Not a trust decision on
	 * the maker: any FIDO2 key is acceptable.
	 */
	fr = fido_cred_x5c_len(cred) > 0 ? fido_cred_verify(cred) :
	    fido_cred_verify_self(cred);
	if (fr != FIDO_OK) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the new credential's attestation "
		    "does not verify: %s", kmfa_fido2_strerr(fr));
		goto out;
	}
	if (fido_cred_type(cred) != COSE_ES256 ||
	    fido_cred_pubkey_len(cred) != KMFA_ES256_PK_LEN ||
	    fido_cred_id_len(cred) == 0 ||
	    fido_cred_id_len(cred) > KMFA_CRED_ID_MAX) {
		r = kmfa_fail(KMFA_ERR_FIDO2, "the security key returned an "
		    "unusable credential (type, key or id size)");
		goto out;
	}
	r = KMFA_ERR_NOMEM;
	memset(out, 0, sizeof(*out));
	if ((out->name = strdup(name)) == NULL ||
	    (out->rp_id = strdup(KMFA_FIDO2_RP_ID)) == NULL ||
	    (out->id = malloc(fido_cred_id_len(cred))) == NULL ||
	    (out->pubkey = malloc(KMFA_ES256_PK_LEN)) == NULL)
		goto out;
	out->id_len = fido_cred_id_len(cred);
	memcpy(out->id, fido_cred_id_ptr(cred), out->id_len);
	out->pubkey_len = KMFA_ES256_PK_LEN;
	memcpy(out->pubkey, fido_cred_pubkey_ptr(cred), out->pubkey_len);
	out->uv_required = uv_required;
	out->pin = s->has_pin;
	out->hmac_secret = s->has_hmac;
	out->sign_count = fido_cred_sigcount(cred);
	out->created = kmfa_now();
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		kmfa_cred_clear(out);
	fido_cred_free(&cred);
	free(prompt);
	return r;
}

int
kmfa_fido2_enroll(const struct kmfa_config *cfg, const char *name, int uv,
    struct kmfa_enroll_result *out)
{
	struct kmfa_credfile *f = NULL;
	struct kmfa_cred nc, *unlocker = NULL;
	struct answer ans;
	struct session s, s2;
	uint8_t mk[KMFA_MK_LEN];
	char *auto_name = NULL, *context = NULL, *new_path = NULL;
	const char *event = NULL;
	int have_mk = 0, uv_now, r = KMFA_ERR_FIDO2;

	memset(out, 0, sizeof(*out));
	memset(&nc, 0, sizeof(nc));
	memset(&ans, 0, sizeof(ans));
	session_init(&s, cfg);
	session_init(&s2, cfg);
	if ((r = kmfa_credfile_load(cfg->fido2_credentials, &f)) != KMFA_OK)
		goto out;
	if (name == NULL) {
		if ((r = kmfa_credfile_default_name(f, &auto_name)) != KMFA_OK)
			goto out;
		name = auto_name;
	} else if (kmfa_cred_name_valid(name) != 0) {
		r = kmfa_fail(KMFA_ERR_USAGE, "'%s' is not a valid key name "
		    "(1 to 64 letters, digits, '-', '_', '.', '@' or '+')",
		    name);
		goto out;
	} else if (kmfa_credfile_find(f, name) != NULL) {
		r = kmfa_fail(KMFA_ERR_USAGE, "a key named '%s' is already "
		    "enrolled; choose another --name", name);
		goto out;
	}
	/*
	 * One policy per user: a touch is one assertion, the hmac-secret
	 * output differs with and without UV (CTAP2 §12.5), and a mix would
	 * leave the user only as strong as the weakest key anyway.
	 */
	if ((r = policy_of(f, &uv_now)) != KMFA_OK)
		goto out;
	if (f->ncreds > 0 && uv_now != (uv != 0)) {
		r = kmfa_fail(KMFA_ERR_USAGE, "your enrolled keys use %s; "
		    "enroll this one %s --fido2-uv as well", uv_now ?
		    "user verification" : "no user verification", uv_now ?
		    "with" : "without");
		goto out;
	}
	if (kmfa_asprintf(&context, "kubectl-mfa enroll\n%s", name) < 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = kmfa_fidodev_select(cfg->fido2_device, NULL, left_ms(&s),
	    "to enroll", &s.d)) != KMFA_OK || (r = probe(&s)) != KMFA_OK ||
	    (r = make_credential(&s, f, name, uv != 0, &nc)) != KMFA_OK)
		goto out;

	if (nc.hmac_secret) {
		char *prompt = NULL;

		/* The first reading, with the UP/UV settings of every later touch. */
		if (kmfa_asprintf(&prompt, "Touch your new security key again "
		    "to read its hmac-secret (%s)...", name) < 0) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		r = run_assert(&s, &nc, 1, f->hmac_salt, 1, nc.uv_required,
		    context, prompt, &ans, &event);
		free(prompt);
		if (r != KMFA_OK)
			goto out;
		if (!ans.have_hmac) {
			r = kmfa_fail(KMFA_ERR_FIDO2, "the new security key gave "
			    "no hmac-secret output");
			goto out;
		}
		nc.sign_count = ans.sign_count;
		if (kmfa_credfile_nslots(f) == 0) {
			if ((r = kmfa_seal_new_mk(mk)) != KMFA_OK)
				goto out;
			out->new_mk = 1;
		} else {
			/* The new key is done: free its handle before the next. */
			if ((new_path = strdup(s.d.path)) == NULL) {
				r = KMFA_ERR_NOMEM;
				goto out;
			}
			session_close(&s);
			kmfa_info("Now an already-enrolled key must let '%s' open "
			    "your sealed refresh tokens.", name);
			if ((r = kmfa_fidodev_select(cfg->fido2_device,
			    new_path, left_ms(&s2), "that is already enrolled",
			    &s2.d)) != KMFA_OK || (r = probe(&s2)) != KMFA_OK)
				goto out;
			if ((r = enrolled_touch(&s2, f, uv_now, context,
			    "Touch an already-enrolled security key",
			    &unlocker, &have_mk, mk, &event)) != KMFA_OK)
				goto out;
			if (!have_mk) {
				r = kmfa_fail(KMFA_ERR_FIDO2, "security key '%s' "
				    "has no key slot (no hmac-secret): touch "
				    "one that has", unlocker->name);
				goto out;
			}
		}
		if ((r = kmfa_seal_slot_wrap(ans.hmac, f->hmac_salt, nc.id,
		    nc.id_len, mk, &nc.slot, &nc.slot_len)) != KMFA_OK)
			goto out;
	} else if (kmfa_credfile_nslots(f) > 0) {
		kmfa_warn("security key '%s' lacks hmac-secret: it can confirm "
		    "your presence but cannot open sealed refresh tokens, so a "
		    "login with it needs a new device flow", name);
	} else {
		kmfa_warn("security key '%s' lacks hmac-secret: refresh tokens "
		    "will be stored unsealed", name);
	}
	out->hmac_secret = nc.hmac_secret;
	out->uv_required = nc.uv_required;
	if ((out->key_name = strdup(name)) == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = kmfa_credfile_add(f, &nc)) != KMFA_OK ||
	    (r = kmfa_credfile_save(f)) != KMFA_OK)
		goto out;
	out->nkeys = (int)f->ncreds;
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		kmfa_enroll_result_clear(out);
	OPENSSL_cleanse(mk, sizeof(mk));
	OPENSSL_cleanse(&ans, sizeof(ans));
	session_close(&s);
	session_close(&s2);
	kmfa_cred_clear(&nc);
	kmfa_credfile_free(&f);
	free(auto_name);
	free(context);
	free(new_path);
	return r;
}

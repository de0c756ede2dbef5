/*
 * Unit and integration tests for lib/key/fido2*.c and lib/key/fidodev.c.
 * The counter rule and the failures that need no device run first; the
 * rest start the project's software authenticator
 * ($KMFA_BUILD/test/softkey/kmfa-softkey) as a child on a private unix
 * socket and go through the real libfido2 and our unix-socket transport.
 * A key that cannot start fails the case; nothing is skipped.  The PIN
 * comes from readers of the test's own: one that fails the case when a
 * PIN is asked for where none should be, and one that types from a
 * script and keeps the prompts it was shown (the terminal reader has its
 * tests in test/unit/ui/tty.c).
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fido2.h"
#include "key/fido2_enroll.h"
#include "key/fido2_touch.h"
#include "key/fidodev.h"
#include "key/seal.h"
#include "token/config.h"

static const char context[] = "https://idp.example\nkubernetes";

/* One software key: its folder, socket, control socket and process. */
struct softkey {
	pid_t pid;
	char sock[160];
	char ctl[160];
	char state[160];
	char dev[170];
};

/* Per test: a folder, a configuration, up to two keys. */
struct fx {
	char dir[64];
	char creds[128];
	struct kmfa_config cfg;
	struct softkey a, b;
};

static void
start_key_pin(struct fx *fx, struct softkey *k, const char *tag,
    const char *mode, const char *delay_ms, const char *pin)
{
	const char *argv[16];
	char line[256] = "";
	int pipefd[2], logfd;
	char logpath[160];
	const char *bin_dir = getenv("KMFA_BUILD");
	char bin[512];
	size_t argc = 0, got = 0;
	struct pollfd p;

	(void)snprintf(bin, sizeof(bin), "%s/test/softkey/kmfa-softkey",
	    bin_dir != NULL ? bin_dir : "build");
	(void)snprintf(k->sock, sizeof(k->sock), "%s/%s.sock", fx->dir, tag);
	(void)snprintf(k->ctl, sizeof(k->ctl), "%s/%s.ctl", fx->dir, tag);
	(void)snprintf(k->state, sizeof(k->state), "%s/%s.state", fx->dir,
	    tag);
	(void)snprintf(k->dev, sizeof(k->dev), "unix:%s", k->sock);
	(void)snprintf(logpath, sizeof(logpath), "%s/%s.log", fx->dir, tag);
	argv[argc++] = bin;
	argv[argc++] = "--socket";
	argv[argc++] = k->sock;
	argv[argc++] = "--state";
	argv[argc++] = k->state;
	argv[argc++] = "--control";
	argv[argc++] = k->ctl;
	argv[argc++] = "--mode";
	argv[argc++] = mode;
	if (delay_ms != NULL) {
		argv[argc++] = "--touch-delay";
		argv[argc++] = delay_ms;
	}
	if (pin != NULL) {
		argv[argc++] = "--pin";
		argv[argc++] = pin;
	}
	argv[argc] = NULL;
	assert_int_equal(pipe(pipefd), 0);
	assert_true((logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0600)) >= 0);
	assert_true((k->pid = fork()) >= 0);
	if (k->pid == 0) {
		(void)dup2(pipefd[1], 1);
		(void)dup2(logfd, 2);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(pipefd[1]);
	close(logfd);
	p.fd = pipefd[0];
	p.events = POLLIN;
	while (got < sizeof(line) - 1 && strchr(line, '\n') == NULL) {
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0 ||
		    (n = read(pipefd[0], line + got, sizeof(line) - 1 - got)) <=
		    0)
			break;
		got += (size_t)n;
		line[got] = '\0';
	}
	close(pipefd[0]);
	if (strncmp(line, "READY ", 6) != 0)
		fail_msg("%s did not start (got '%s')", bin, line);
}

static void
start_key(struct fx *fx, struct softkey *k, const char *tag,
    const char *mode, const char *delay_ms)
{
	start_key_pin(fx, k, tag, mode, delay_ms, NULL);
}

static void
stop_key(struct softkey *k)
{
	if (k->pid <= 0)
		return;
	(void)kill(k->pid, SIGTERM);
	(void)waitpid(k->pid, NULL, 0);
	k->pid = 0;
}

/* A control command; the answer must start with "ok". */
static void
ctl(struct softkey *k, const char *cmd)
{
	struct sockaddr_un sa;
	char answer[256] = "";
	size_t got = 0;
	ssize_t n;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, k->ctl, strlen(k->ctl) + 1);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_true(write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
	assert_true(write(fd, "\n", 1) == 1);
	while (got < sizeof(answer) - 1 && strchr(answer, '\n') == NULL &&
	    (n = read(fd, answer + got, sizeof(answer) - 1 - got)) > 0) {
		got += (size_t)n;
		answer[got] = '\0';
	}
	close(fd);
	if (strncmp(answer, "ok", 2) != 0)
		fail_msg("control '%s' answered '%s'", cmd, answer);
}

static void
use_device(struct fx *fx, const char *dev)
{
	free(fx->cfg.fido2_device);
	assert_non_null(fx->cfg.fido2_device = strdup(dev));
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/kmfa-fido2.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	(void)snprintf(fx->creds, sizeof(fx->creds), "%s/credentials.json",
	    fx->dir);
	kmfa_config_init(&fx->cfg);
	if ((fx->cfg.fido2_credentials = strdup(fx->creds)) == NULL)
		return -1;
	fx->cfg.timeout = 10;
	kmfa_report_clear();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	stop_key(&fx->a);
	stop_key(&fx->b);
	kmfa_config_free(&fx->cfg);
	if (getenv("KMFA_KEEP") == NULL) {
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
		if (system(cmd) != 0)
			return -1;
	}
	free(fx);
	kmfa_report_clear();
	return 0;
}

/* Where no PIN may be asked for: a request for one fails the case. */
static int
refuse_pin(void *arg, const char *prompt, int timeout_ms, char **pin)
{
	(void)arg;
	(void)timeout_ms;
	*pin = NULL;
	fail_msg("a PIN was asked for: %s", prompt);
	return KMFA_ERR_INTERNAL;
}

static const struct kmfa_fido2_pin_reader no_pin = { refuse_pin, NULL };

#define SCRIPT_MAX 4

/* PINs typed in turn (NULL: none is given), and what was shown for each. */
struct pin_script {
	const char *pins[SCRIPT_MAX];
	size_t used;
	char prompts[SCRIPT_MAX][128];
	int timeouts[SCRIPT_MAX];
};

static int
scripted_pin(void *arg, const char *prompt, int timeout_ms, char **pin)
{
	struct pin_script *ps = arg;
	const char *p;

	*pin = NULL;
	/* No cmocka failure here: stderr may be captured meanwhile. */
	if (ps->used == SCRIPT_MAX)
		return kmfa_fail(KMFA_ERR_FIDO2, "asked for a PIN more often "
		    "than scripted");
	(void)snprintf(ps->prompts[ps->used], sizeof(ps->prompts[0]), "%s",
	    prompt);
	ps->timeouts[ps->used] = timeout_ms;
	if ((p = ps->pins[ps->used++]) == NULL)
		return kmfa_fail(KMFA_ERR_FIDO2, "the script gave no PIN");
	if ((*pin = strdup(p)) == NULL)
		return KMFA_ERR_NOMEM;
	return KMFA_OK;
}

/* stderr into a file of the fixture until stderr_release. */
static int saved_stderr = -1;

static void
stderr_capture(struct fx *fx)
{
	char path[96];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/stderr.txt", fx->dir);
	fflush(stderr);
	assert_true((saved_stderr = dup(2)) >= 0);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

/* Put stderr back and read what was written meanwhile into buf. */
static void
stderr_release(struct fx *fx, char *buf, size_t cap)
{
	char path[96];
	ssize_t n;
	size_t got = 0;
	int fd;

	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	saved_stderr = -1;
	(void)snprintf(path, sizeof(path), "%s/stderr.txt", fx->dir);
	assert_true((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	while (got + 1 < cap && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
}

static void
expect_cause(const char *want)
{
	const char *cause = kmfa_report_cause();

	if (cause == NULL || strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause ? cause : "(none)",
		    want);
	kmfa_report_clear();
}

static void
enroll_ok(struct fx *fx, const char *name, struct kmfa_enroll_result *res)
{
	int r = kmfa_fido2_enroll(&fx->cfg, name, 0, &no_pin, res);

	if (r != KMFA_OK)
		fail_msg("enroll %s: %s", name ? name : "(default)",
		    kmfa_report_cause() ? kmfa_report_cause() : "?");
}

static void
touch_ok(struct fx *fx, struct kmfa_touch *t)
{
	int r = kmfa_fido2_touch(&fx->cfg, context, &no_pin, t);

	if (r != KMFA_OK)
		fail_msg("touch: %s (%s)", kmfa_report_cause() ?
		    kmfa_report_cause() : "?", t->event);
	assert_string_equal(t->event, KMFA_EV_TOUCH_OK);
}

static void
expect_touch_fails_pin(struct fx *fx, const struct kmfa_fido2_pin_reader *pin,
    const char *event, const char *cause)
{
	struct kmfa_touch t;

	kmfa_report_clear();
	assert_int_equal(kmfa_fido2_touch(&fx->cfg, context, pin, &t),
	    KMFA_ERR_FIDO2);
	assert_string_equal(t.event, event);
	assert_null(t.key_name);
	assert_false(t.have_mk);
	expect_cause(cause);
}

static void
expect_touch_fails(struct fx *fx, const char *event, const char *cause)
{
	expect_touch_fails_pin(fx, &no_pin, event, cause);
}

static uint32_t
stored_count(struct fx *fx, const char *name)
{
	struct kmfa_credfile *f = NULL;
	uint32_t n;

	assert_int_equal(kmfa_credfile_load(fx->creds, &f), KMFA_OK);
	assert_non_null(kmfa_credfile_find(f, name));
	n = kmfa_credfile_find(f, name)->sign_count;
	kmfa_credfile_free(&f);
	return n;
}

/* ---- no device needed ---- */

static void
test_counter_rule(void **state)
{
	(void)state;
	assert_true(kmfa_fido2_counter_ok(0, 0));	/* no counter at all */
	assert_true(kmfa_fido2_counter_ok(0, 1));
	assert_true(kmfa_fido2_counter_ok(41, 42));
	assert_true(kmfa_fido2_counter_ok(41, 1000));
	assert_false(kmfa_fido2_counter_ok(41, 41));	/* replayed or cloned */
	assert_false(kmfa_fido2_counter_ok(41, 40));
	assert_false(kmfa_fido2_counter_ok(41, 0));	/* counter went away */
	assert_false(kmfa_fido2_counter_ok(UINT32_MAX, 0));
	assert_true(kmfa_fido2_counter_ok(UINT32_MAX - 1, UINT32_MAX));
}

static void
test_touch_with_nothing_enrolled(void **state)
{
	struct fx *fx = *state;

	use_device(fx, "unix:/nonexistent/kmfa.sock");
	expect_touch_fails(fx, KMFA_EV_NO_KEY, "no security key is enrolled");
}

static void
test_device_list_parsing(void **state)
{
	char **paths = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(kmfa_fidodev_candidates("unix:/a,/dev/hidraw3",
	    &paths, &n), KMFA_OK);
	assert_int_equal(n, 2);
	assert_string_equal(paths[0], "unix:/a");
	assert_string_equal(paths[1], "/dev/hidraw3");
	kmfa_fidodev_paths_free(&paths, n);
	assert_null(paths);
	assert_int_equal(kmfa_fidodev_candidates("unix:/a,,/b", &paths, &n),
	    KMFA_ERR_CONFIG);
	expect_cause("empty device name");
}

/* ---- against the software key ---- */

static void
test_enroll_then_touch_gives_stable_mk(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;
	struct kmfa_touch t1, t2;
	struct kmfa_credfile *f = NULL;
	char *sealed = NULL, *back = NULL;
	uint32_t before;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	assert_string_equal(res.key_name, "key-1");
	assert_true(res.hmac_secret);
	assert_true(res.new_mk);
	assert_int_equal(res.nkeys, 1);
	kmfa_fido2_enroll_result_clear(&res);

	assert_int_equal(kmfa_credfile_load(fx->creds, &f), KMFA_OK);
	assert_int_equal(f->ncreds, 1);
	assert_string_equal(f->creds[0].rp_id, KMFA_FIDO2_RP_ID);
	assert_non_null(f->creds[0].slot);
	assert_false(f->creds[0].uv_required);
	kmfa_credfile_free(&f);

	before = stored_count(fx, "key-1");
	touch_ok(fx, &t1);
	assert_string_equal(t1.key_name, "key-1");
	assert_true(t1.have_mk);
	assert_true(stored_count(fx, "key-1") > before);
	assert_int_equal(kmfa_seal_refresh(t1.mk, "hdr", "rt-secret",
	    &sealed), KMFA_OK);

	/* A second touch: same hmac-secret output, same master key. */
	touch_ok(fx, &t2);
	assert_true(t2.have_mk);
	assert_memory_equal(t1.mk, t2.mk, KMFA_MK_LEN);
	assert_int_equal(kmfa_seal_open_refresh(t2.mk, "hdr", sealed, &back),
	    KMFA_OK);
	assert_string_equal(back, "rt-secret");
	kmfa_freezero_str(back);
	free(sealed);
	kmfa_fido2_touch_clear(&t1);
	kmfa_fido2_touch_clear(&t2);
}

static void
test_names_are_unique(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, "laptop", &res);
	kmfa_fido2_enroll_result_clear(&res);
	assert_int_equal(kmfa_fido2_enroll(&fx->cfg, "laptop", 0, &no_pin,
	    &res), KMFA_ERR_USAGE);
	expect_cause("already enrolled");
	assert_int_equal(kmfa_fido2_enroll(&fx->cfg, "bad name", 0, &no_pin,
	    &res), KMFA_ERR_USAGE);
	expect_cause("not a valid key name");
	/* The same key again: excluded by the authenticator. */
	assert_int_equal(kmfa_fido2_enroll(&fx->cfg, "again", 0, &no_pin,
	    &res), KMFA_ERR_FIDO2);
	expect_cause("already enrolled");
}

/*
 * A backup key: B makes its credential, then A (already enrolled) opens
 * the master key for it.  Both keys are offered at once; A answers the
 * touch-to-select later than B, so B is chosen as the new key and A is
 * then the only candidate left for the unlock.
 */
static void
test_backup_key_opens_same_mk(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;
	struct kmfa_touch ta, tb;
	char both[400];

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, "primary", &res);
	kmfa_fido2_enroll_result_clear(&res);
	touch_ok(fx, &ta);
	assert_true(ta.have_mk);

	stop_key(&fx->a);
	start_key(fx, &fx->a, "a", "touch", "1500");
	start_key(fx, &fx->b, "b", "touch", NULL);
	(void)snprintf(both, sizeof(both), "%s,%s", fx->b.dev, fx->a.dev);
	use_device(fx, both);
	enroll_ok(fx, "backup", &res);
	assert_string_equal(res.key_name, "backup");
	assert_false(res.new_mk);
	assert_int_equal(res.nkeys, 2);
	kmfa_fido2_enroll_result_clear(&res);

	/* B alone opens the same master key. */
	use_device(fx, fx->b.dev);
	touch_ok(fx, &tb);
	assert_string_equal(tb.key_name, "backup");
	assert_true(tb.have_mk);
	assert_memory_equal(ta.mk, tb.mk, KMFA_MK_LEN);
	kmfa_fido2_touch_clear(&ta);
	kmfa_fido2_touch_clear(&tb);
}

static void
test_wrong_key_is_rejected(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;

	start_key(fx, &fx->a, "a", "touch", NULL);
	start_key(fx, &fx->b, "b", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	kmfa_fido2_enroll_result_clear(&res);
	use_device(fx, fx->b.dev);
	expect_touch_fails(fx, KMFA_EV_WRONG_KEY, "holds none of the enrolled");
}

static void
test_rollback_is_rejected(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;
	struct kmfa_touch t;
	uint32_t seen;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	kmfa_fido2_enroll_result_clear(&res);
	touch_ok(fx, &t);
	kmfa_fido2_touch_clear(&t);
	seen = stored_count(fx, "key-1");
	assert_true(seen > 0);
	ctl(&fx->a, "mode touch,rollback");
	expect_touch_fails(fx, KMFA_EV_COUNTER, "possibly a cloned key");
	/* The counter on file stays where it was. */
	assert_int_equal(stored_count(fx, "key-1"), seen);
}

static void
test_bad_signature_is_rejected(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	kmfa_fido2_enroll_result_clear(&res);
	ctl(&fx->a, "mode touch,badsig");
	expect_touch_fails(fx, KMFA_EV_VERIFY_FAILED, "does not verify");
}

static void
test_no_touch_times_out(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;
	struct timespec t0, t1;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	kmfa_fido2_enroll_result_clear(&res);
	ctl(&fx->a, "mode notouch");
	fx->cfg.timeout = 2;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_touch_fails(fx, KMFA_EV_TOUCH_FAILED, "not touched within 2 s");
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	/* The key is usable again afterwards: nothing stale on a new handle. */
	ctl(&fx->a, "mode touch");
	fx->cfg.timeout = 10;
	{
		struct kmfa_touch t;

		touch_ok(fx, &t);
		kmfa_fido2_touch_clear(&t);
	}
}

static void
test_refusal_is_rejected(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	kmfa_fido2_enroll_result_clear(&res);
	ctl(&fx->a, "mode refuse");
	expect_touch_fails(fx, KMFA_EV_TOUCH_FAILED, "denied");
}

static void
test_unplugged_key(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	kmfa_fido2_enroll_result_clear(&res);
	ctl(&fx->a, "unplug");
	expect_touch_fails(fx, KMFA_EV_NO_KEY, "no security key answers");
}

static void
test_key_without_hmac_secret_has_no_mk(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;
	struct kmfa_touch t;

	start_key(fx, &fx->a, "a", "touch,nohmac", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	assert_false(res.hmac_secret);
	assert_false(res.new_mk);
	kmfa_fido2_enroll_result_clear(&res);
	touch_ok(fx, &t);
	assert_false(t.have_mk);
	kmfa_fido2_touch_clear(&t);
}

static void
test_uv_policy_must_match(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;

	start_key(fx, &fx->a, "a", "touch", NULL);
	use_device(fx, fx->a.dev);
	enroll_ok(fx, NULL, &res);
	kmfa_fido2_enroll_result_clear(&res);
	assert_int_equal(kmfa_fido2_enroll(&fx->cfg, "uvkey", 1, &no_pin,
	    &res), KMFA_ERR_USAGE);
	expect_cause("enroll this one without --fido2-uv");
	fx->cfg.fido2_uv = 1;
	expect_touch_fails(fx, KMFA_EV_TOUCH_FAILED, "enrolled without it");
}

static void
test_uv_needs_a_pin_or_builtin_uv(void **state)
{
	struct fx *fx = *state;
	struct kmfa_enroll_result res;

	start_key(fx, &fx->a, "a", "touch", NULL);	/* no PIN set */
	use_device(fx, fx->a.dev);
	assert_int_equal(kmfa_fido2_enroll(&fx->cfg, NULL, 1, &no_pin,
	    &res), KMFA_ERR_FIDO2);
	expect_cause("neither a PIN nor built-in verification");
}

/*
 * --fido2-uv with a PIN: enrolment asks once for both of its calls (the
 * session keeps the PIN), a touch asks again; a wrong PIN is said to be
 * wrong and asked for again with the tries left falling from 8 to 7; every
 * read is bounded by --timeout; the PIN is never printed.
 */
static void
test_pin_is_asked_with_the_tries_left(void **state)
{
	struct fx *fx = *state;
	struct pin_script ps = { .pins = { "1234", "0000", "1234" } };
	const struct kmfa_fido2_pin_reader pin = { scripted_pin, &ps };
	struct kmfa_enroll_result res;
	struct kmfa_touch t;
	char err[8192];
	size_t asked_by_enroll;
	int re, rt;

	start_key_pin(fx, &fx->a, "a", "touch", NULL, "1234");
	use_device(fx, fx->a.dev);
	stderr_capture(fx);
	re = kmfa_fido2_enroll(&fx->cfg, "pinned", 1, &pin, &res);
	asked_by_enroll = ps.used;
	rt = re == KMFA_OK ? kmfa_fido2_touch(&fx->cfg, context, &pin, &t) :
	    KMFA_ERR_INTERNAL;
	stderr_release(fx, err, sizeof(err));
	if (re != KMFA_OK || rt != KMFA_OK)
		fail_msg("enroll %d, touch %d: %s; stderr: %s", re, rt,
		    kmfa_report_cause() ? kmfa_report_cause() : "?", err);
	assert_true(res.uv_required);
	assert_true(res.hmac_secret);
	kmfa_fido2_enroll_result_clear(&res);
	assert_string_equal(t.event, KMFA_EV_TOUCH_OK);
	assert_true(t.have_mk);
	kmfa_fido2_touch_clear(&t);

	assert_int_equal(asked_by_enroll, 1);
	assert_int_equal(ps.used, 3);
	assert_string_equal(ps.prompts[0], "kubectl-mfa: PIN of your security "
	    "key (8 tries left): ");
	assert_string_equal(ps.prompts[1], ps.prompts[0]);
	assert_string_equal(ps.prompts[2], "kubectl-mfa: PIN of your security "
	    "key (7 tries left): ");
	for (size_t i = 0; i < ps.used; i++)
		assert_true(ps.timeouts[i] > 0 && ps.timeouts[i] <= 10000);
	assert_non_null(strstr(err, "hmac-secret (pinned)"));
	assert_non_null(strstr(err, "Wrong PIN."));
	assert_null(strstr(err, "1234"));
	assert_null(strstr(err, "0000"));
}

/* A PIN that is not given fails the touch as pin-failed, with the reader's
 * cause, and the key is not asked for an assertion. */
static void
test_pin_not_given_fails_the_touch(void **state)
{
	struct fx *fx = *state;
	struct pin_script ps = { .pins = { "1234", NULL } };
	const struct kmfa_fido2_pin_reader pin = { scripted_pin, &ps };
	struct kmfa_enroll_result res;

	start_key_pin(fx, &fx->a, "a", "touch", NULL, "1234");
	use_device(fx, fx->a.dev);
	assert_int_equal(kmfa_fido2_enroll(&fx->cfg, "pinned", 1, &pin, &res),
	    KMFA_OK);
	kmfa_fido2_enroll_result_clear(&res);
	expect_touch_fails_pin(fx, &pin, KMFA_EV_PIN_FAILED,
	    "the script gave no PIN");
	assert_int_equal(ps.used, 2);
}

/*
 * Three wrong PINs in a row end the touch: the key asks for no more
 * (CTAP2 §6.5.5.5 blocks PIN use until it is plugged in again), and
 * neither do we.
 */
static void
test_three_wrong_pins_end_the_touch(void **state)
{
	struct fx *fx = *state;
	struct pin_script ps = { .pins = { "1234", "0000", "0000", "0000" } };
	const struct kmfa_fido2_pin_reader pin = { scripted_pin, &ps };
	struct kmfa_enroll_result res;

	start_key_pin(fx, &fx->a, "a", "touch", NULL, "1234");
	use_device(fx, fx->a.dev);
	assert_int_equal(kmfa_fido2_enroll(&fx->cfg, "pinned", 1, &pin, &res),
	    KMFA_OK);
	kmfa_fido2_enroll_result_clear(&res);
	expect_touch_fails_pin(fx, &pin, KMFA_EV_PIN_FAILED,
	    "too many wrong PINs in a row");
	assert_int_equal(ps.used, 4);
	assert_non_null(strstr(ps.prompts[3], "(6 tries left): "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_rule),
		cmocka_unit_test(test_device_list_parsing),
		cmocka_unit_test_setup_teardown(test_touch_with_nothing_enrolled,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_enroll_then_touch_gives_stable_mk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_are_unique, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backup_key_opens_same_mk,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_is_rejected,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_is_rejected,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature_is_rejected,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_touch_times_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusal_is_rejected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unplugged_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_key_without_hmac_secret_has_no_mk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uv_policy_must_match,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_uv_needs_a_pin_or_builtin_uv, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pin_is_asked_with_the_tries_left, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pin_not_given_fails_the_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_three_wrong_pins_end_the_touch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

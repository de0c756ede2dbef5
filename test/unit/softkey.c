/*
 * The software security key (test/softkey) against the real libfido2.
 *
 * Each case starts its own kmfa-softkey ($KMFA_BUILD/test/softkey/
 * kmfa-softkey) in a private folder and reaches it through libfido2's
 * custom I/O hooks, the way the plugin does with --fido2-device unix:PATH.
 * A key that cannot start fails the case; nothing is skipped.
 */
#include <errno.h>
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
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <fido.h>
#include <fido/es256.h>
#include <openssl/rand.h>

#define RP_ID "kmfa.test"

struct key {
	pid_t pid;
	char dir[64];
	char sock[128];
	char state[128];
	char ctl[128];
	char dev[140];		/* "unix:" + sock */
};

/* A credential made by make_cred(). */
struct cred {
	unsigned char id[256];
	size_t id_len;
	es256_pk_t *pk;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- libfido2 custom I/O over the unix socket ---- */

struct io {
	int fd;
};

static void *
io_open(const char *path)
{
	struct sockaddr_un sa;
	struct io *io;

	if (strncmp(path, "unix:", 5) != 0 ||
	    strlen(path + 5) >= sizeof(sa.sun_path))
		return NULL;
	if ((io = calloc(1, sizeof(*io))) == NULL)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path + 5, strlen(path + 5));
	if ((io->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(io->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (io->fd >= 0)
			close(io->fd);
		free(io);
		return NULL;
	}
	return io;
}

static void
io_close(void *h)
{
	struct io *io = h;

	close(io->fd);
	free(io);
}

/* Exactly len bytes within ms milliseconds (-1: no limit), or -1. */
static int
io_read(void *h, unsigned char *buf, size_t len, int ms)
{
	struct io *io = h;
	struct pollfd p = { .fd = io->fd, .events = POLLIN };
	int64_t deadline = now_ms() + ms;
	size_t got = 0;
	ssize_t n;
	int wait;

	while (got < len) {
		wait = ms < 0 ? -1 : (int)(deadline - now_ms());
		if (ms >= 0 && wait < 0)
			wait = 0;
		if (poll(&p, 1, wait) <= 0)
			return -1;
		if ((n = read(io->fd, buf + got, len - got)) <= 0)
			return -1;
		got += (size_t)n;
	}
	return (int)len;
}

/* libfido2 hands over 65 bytes: the report-ID byte, then the report. */
static int
io_write(void *h, const unsigned char *buf, size_t len)
{
	struct io *io = h;

	if (len != 65 || send(io->fd, buf + 1, 64, MSG_NOSIGNAL) != 64)
		return -1;
	return 65;
}

static const fido_dev_io_t io_functions = {
	.open = io_open,
	.close = io_close,
	.read = io_read,
	.write = io_write,
};

/* ---- starting and steering the key ---- */

static const char *
softkey_path(void)
{
	static char path[512];
	const char *build = getenv("KMFA_BUILD");
	int n;

	if (build == NULL)
		build = "build";
	n = snprintf(path, sizeof(path), "%s/test/softkey/kmfa-softkey",
	    build);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	return path;
}

static void
key_paths(struct key *k)
{
	snprintf(k->sock, sizeof(k->sock), "%s/key.sock", k->dir);
	snprintf(k->state, sizeof(k->state), "%s/key.state", k->dir);
	snprintf(k->ctl, sizeof(k->ctl), "%s/key.ctl", k->dir);
	snprintf(k->dev, sizeof(k->dev), "unix:%s", k->sock);
}

/* Start (or restart) the key in k->dir with extra arguments. */
static void
key_start(struct key *k, ...)
{
	const char *argv[32];
	char line[256], logpath[128];
	struct pollfd p;
	int out[2], logfd;
	size_t argc = 0, got = 0;
	ssize_t n;
	va_list ap;

	key_paths(k);
	argv[argc++] = softkey_path();
	argv[argc++] = "--socket";
	argv[argc++] = k->sock;
	argv[argc++] = "--state";
	argv[argc++] = k->state;
	argv[argc++] = "--control";
	argv[argc++] = k->ctl;
	va_start(ap, k);
	while (argc < 31 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	snprintf(logpath, sizeof(logpath), "%s/key.log", k->dir);
	assert_int_equal(pipe(out), 0);
	assert_true((logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND,
	    0600)) >= 0);
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		dup2(out[1], 1);
		dup2(logfd, 2);
		close(out[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(logfd);
	/* READY <socket> within 10 s, or the case fails */
	p = (struct pollfd){ .fd = out[0], .events = POLLIN };
	while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
		if (poll(&p, 1, 10000) <= 0 ||
		    (n = read(out[0], line + got, sizeof(line) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	line[got] = '\0';
	close(out[0]);
	if (strncmp(line, "READY ", 6) != 0) {
		print_error("kmfa-softkey (%s) did not start: '%s'\n",
		    argv[0], line);
		fail();
	}
	assert_memory_equal(line + 6, k->sock, strlen(k->sock));
}

static void
key_stop(struct key *k)
{
	int status;

	if (k->pid <= 0)
		return;
	kill(k->pid, SIGTERM);
	waitpid(k->pid, &status, 0);
	k->pid = 0;
}

/* Send one control line; returns the answer's first word == "ok". */
static bool
key_ctl(struct key *k, const char *cmd)
{
	struct sockaddr_un sa;
	char answer[256];
	size_t got = 0;
	ssize_t n;
	int fd;
	bool ok;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, k->ctl, strlen(k->ctl));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_true(write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
	assert_true(write(fd, "\n", 1) == 1);
	while (got < sizeof(answer) - 1 &&
	    memchr(answer, '\n', got) == NULL &&
	    (n = read(fd, answer + got, sizeof(answer) - 1 - got)) > 0)
		got += (size_t)n;
	answer[got] = '\0';
	close(fd);
	ok = strncmp(answer, "ok", 2) == 0;
	if (!ok)
		print_error("control '%s': %s", cmd, answer);
	return ok;
}

static int
setup(void **state)
{
	struct key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -1;
	snprintf(k->dir, sizeof(k->dir), "/tmp/kmfa-softkey.XXXXXX");
	if (mkdtemp(k->dir) == NULL) {
		free(k);
		return -1;
	}
	*state = k;
	return 0;
}

static int
teardown(void **state)
{
	struct key *k = *state;
	char path[160];
	static const char *const files[] = { "key.sock", "key.state",
	    "key.state.tmp", "key.ctl", "key.log" };

	key_stop(k);
	if (getenv("KMFA_KEEP") == NULL) {
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", k->dir, files[i]);
			unlink(path);
		}
		rmdir(k->dir);
	}
	free(k);
	return 0;
}

/* ---- libfido2 helpers ---- */

static fido_dev_t *
dev_open(struct key *k)
{
	fido_dev_t *dev = fido_dev_new();

	assert_non_null(dev);
	assert_int_equal(fido_dev_set_io_functions(dev, &io_functions),
	    FIDO_OK);
	assert_int_equal(fido_dev_open(dev, k->dev), FIDO_OK);
	assert_true(fido_dev_is_fido2(dev));
	return dev;
}

static void
dev_close(fido_dev_t **dev)
{
	fido_dev_close(*dev);
	fido_dev_free(dev);
}

static void
random_bytes(unsigned char *p, size_t n)
{
	assert_int_equal(RAND_bytes(p, (int)n), 1);
}

/* makeCredential on RP_ID; verifies the self attestation. */
static int
make_cred(fido_dev_t *dev, const char *pin, bool hmac, struct cred *out)
{
	fido_cred_t *cred = fido_cred_new();
	unsigned char cdh[32], user[16];
	int r;

	assert_non_null(cred);
	random_bytes(cdh, sizeof(cdh));
	random_bytes(user, sizeof(user));
	assert_int_equal(fido_cred_set_type(cred, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(cred, cdh,
	    sizeof(cdh)), FIDO_OK);
	assert_int_equal(fido_cred_set_rp(cred, RP_ID, "kmfa test"),
	    FIDO_OK);
	assert_int_equal(fido_cred_set_user(cred, user, sizeof(user),
	    "alice", "Alice", NULL), FIDO_OK);
	if (hmac)
		assert_int_equal(fido_cred_set_extensions(cred,
		    FIDO_EXT_HMAC_SECRET), FIDO_OK);
	if ((r = fido_dev_make_cred(dev, cred, pin)) != FIDO_OK)
		goto out;
	assert_int_equal(fido_cred_verify_self(cred), FIDO_OK);
	assert_string_equal(fido_cred_fmt(cred), "packed");
	assert_true(fido_cred_flags(cred) & 0x01);	/* UP */
	if (out != NULL) {
		assert_true(fido_cred_id_len(cred) <= sizeof(out->id));
		out->id_len = fido_cred_id_len(cred);
		memcpy(out->id, fido_cred_id_ptr(cred), out->id_len);
		out->pk = es256_pk_new();
		assert_non_null(out->pk);
		assert_int_equal(es256_pk_from_ptr(out->pk,
		    fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred)),
		    FIDO_OK);
	}
out:
	fido_cred_free(&cred);
	return r;
}

struct result {
	int status;		/* fido_dev_get_assert */
	int verify;		/* fido_assert_verify */
	uint32_t counter;
	uint8_t flags;
	unsigned char hmac[64];
	size_t hmac_len;
};

/* getAssertion for c on rp with optional salt and PIN. */
static struct result
get_assert(fido_dev_t *dev, const struct cred *c, const char *rp,
    const unsigned char *salt, const char *pin, fido_opt_t up)
{
	fido_assert_t *a = fido_assert_new();
	unsigned char cdh[32];
	struct result res;

	memset(&res, 0, sizeof(res));
	assert_non_null(a);
	random_bytes(cdh, sizeof(cdh));
	assert_int_equal(fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)),
	    FIDO_OK);
	assert_int_equal(fido_assert_set_rp(a, rp), FIDO_OK);
	assert_int_equal(fido_assert_allow_cred(a, c->id, c->id_len),
	    FIDO_OK);
	assert_int_equal(fido_assert_set_up(a, up), FIDO_OK);
	if (pin != NULL)
		assert_int_equal(fido_assert_set_uv(a, FIDO_OPT_TRUE),
		    FIDO_OK);
	if (salt != NULL) {
		assert_int_equal(fido_assert_set_extensions(a,
		    FIDO_EXT_HMAC_SECRET), FIDO_OK);
		assert_int_equal(fido_assert_set_hmac_salt(a, salt, 32),
		    FIDO_OK);
	}
	res.status = fido_dev_get_assert(dev, a, pin);
	res.verify = -1;
	if (res.status == FIDO_OK) {
		assert_int_equal(fido_assert_count(a), 1);
		res.verify = fido_assert_verify(a, 0, COSE_ES256, c->pk);
		res.counter = fido_assert_sigcount(a, 0);
		res.flags = fido_assert_flags(a, 0);
		res.hmac_len = fido_assert_hmac_secret_len(a, 0);
		if (res.hmac_len > 0) {
			assert_true(res.hmac_len <= sizeof(res.hmac));
			memcpy(res.hmac, fido_assert_hmac_secret_ptr(a, 0),
			    res.hmac_len);
		}
	}
	fido_assert_free(&a);
	return res;
}

static void
cred_free(struct cred *c)
{
	es256_pk_free(&c->pk);
}

/* ---- the cases ---- */

static void
test_get_info_advertises_hmac_secret_and_pin_protocol_1(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	fido_cbor_info_t *ci = fido_cbor_info_new();
	char **ext;
	bool hmac = false;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(fido_dev_get_cbor_info(dev, ci), FIDO_OK);
	ext = fido_cbor_info_extensions_ptr(ci);
	for (size_t i = 0; i < fido_cbor_info_extensions_len(ci); i++)
		hmac |= strcmp(ext[i], "hmac-secret") == 0;
	assert_true(hmac);
	assert_int_equal(fido_cbor_info_protocols_len(ci), 1);
	assert_int_equal(fido_cbor_info_protocols_ptr(ci)[0], 1);
	assert_true(fido_dev_supports_pin(dev));
	assert_false(fido_dev_has_pin(dev));
	fido_cbor_info_free(&ci);
	dev_close(&dev);
}

static void
test_assertion_verifies_and_hmac_secret_is_stable(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result a1, a2, a3;
	unsigned char salt[32], salt2[32];

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, true, &c), FIDO_OK);
	random_bytes(salt, sizeof(salt));
	random_bytes(salt2, sizeof(salt2));
	a1 = get_assert(dev, &c, RP_ID, salt, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a1.status, FIDO_OK);
	assert_int_equal(a1.verify, FIDO_OK);
	assert_int_equal(a1.hmac_len, 32);
	assert_true(a1.flags & 0x01);
	a2 = get_assert(dev, &c, RP_ID, salt, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a2.verify, FIDO_OK);
	assert_memory_equal(a1.hmac, a2.hmac, 32);
	assert_true(a2.counter > a1.counter);
	a3 = get_assert(dev, &c, RP_ID, salt2, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a3.verify, FIDO_OK);
	assert_memory_not_equal(a1.hmac, a3.hmac, 32);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_refuse_mode_denies_the_operation(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	assert_true(key_ctl(k, "mode refuse"));
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, NULL,
	    FIDO_OPT_TRUE).status, FIDO_ERR_OPERATION_DENIED);
	cred_free(&c);
	dev_close(&dev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_get_info_advertises_hmac_secret_and_pin_protocol_1,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_assertion_verifies_and_hmac_secret_is_stable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_refuse_mode_denies_the_operation, setup, teardown),
	};

	fido_init(getenv("KMFA_FIDO_DEBUG") != NULL ? FIDO_DEBUG : 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

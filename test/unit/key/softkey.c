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

/*
 * Stop the key; true when it exited cleanly, which in a sanitizer build
 * also means it had no memory errors and no leaks.
 */
static bool
key_stop(struct key *k)
{
	int status = 0;

	if (k->pid <= 0)
		return true;
	kill(k->pid, SIGTERM);
	if (waitpid(k->pid, &status, 0) != k->pid)
		status = -1;
	k->pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("kmfa-softkey exited with status 0x%x (see "
		    "%s/key.log with KMFA_KEEP=1)\n", status, k->dir);
		return false;
	}
	return true;
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
	bool ok;

	ok = key_stop(k);

	if (getenv("KMFA_KEEP") == NULL) {
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", k->dir, files[i]);
			unlink(path);
		}
		rmdir(k->dir);
	}
	free(k);
	return ok ? 0 : -1;
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
get_assert_salt(fido_dev_t *dev, const struct cred *c, const char *rp,
    const unsigned char *salt, size_t salt_len, const char *pin,
    fido_opt_t up)
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
		assert_int_equal(fido_assert_set_hmac_salt(a, salt, salt_len),
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

static struct result
get_assert(fido_dev_t *dev, const struct cred *c, const char *rp,
    const unsigned char *salt, const char *pin, fido_opt_t up)
{
	return get_assert_salt(dev, c, rp, salt, 32, pin, up);
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
test_two_salts_give_two_outputs(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result one, two;
	unsigned char salts[64];

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, true, &c), FIDO_OK);
	random_bytes(salts, sizeof(salts));
	one = get_assert_salt(dev, &c, RP_ID, salts, 32, NULL,
	    FIDO_OPT_TRUE);
	two = get_assert_salt(dev, &c, RP_ID, salts, 64, NULL,
	    FIDO_OPT_TRUE);
	assert_int_equal(two.verify, FIDO_OK);
	assert_int_equal(two.hmac_len, 64);
	assert_memory_equal(one.hmac, two.hmac, 32);
	assert_memory_not_equal(two.hmac, two.hmac + 32, 32);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_reset_forgets_credentials_and_pin(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;

	key_start(k, "--pin", "1234", (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, "1234", false, &c), FIDO_OK);
	assert_int_equal(fido_dev_reset(dev), FIDO_OK);
	dev_close(&dev);
	dev = dev_open(k);
	assert_false(fido_dev_has_pin(dev));
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, NULL,
	    FIDO_OPT_TRUE).status, FIDO_ERR_NO_CREDENTIALS);
	cred_free(&c);
	dev_close(&dev);
}

/* ---- raw CTAPHID, for what libfido2 never sends ---- */

static void
raw_send(int fd, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint8_t r[64];
	size_t off, n;
	uint8_t seq = 0;

	memset(r, 0, sizeof(r));
	r[0] = (uint8_t)(cid >> 24);
	r[1] = (uint8_t)(cid >> 16);
	r[2] = (uint8_t)(cid >> 8);
	r[3] = (uint8_t)cid;
	r[4] = (uint8_t)(cmd | 0x80);
	r[5] = (uint8_t)(len >> 8);
	r[6] = (uint8_t)len;
	n = len < 57 ? len : 57;
	memcpy(r + 7, data, n);
	assert_int_equal(send(fd, r, 64, 0), 64);
	for (off = n; off < len; off += n) {
		memset(r + 4, 0, 60);
		r[4] = seq++;
		n = len - off < 59 ? len - off : 59;
		memcpy(r + 5, data + off, n);
		assert_int_equal(send(fd, r, 64, 0), 64);
	}
}

/* One whole reply: returns its command, fills data and *len. */
static uint8_t
raw_recv(int fd, uint32_t cid, uint8_t *data, size_t cap, size_t *len)
{
	struct io io = { .fd = fd };
	uint8_t r[64];
	size_t got, n;
	uint8_t seq = 0, cmd;

	assert_int_equal(io_read(&io, r, 64, 2000), 64);
	assert_int_equal((uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 |
	    (uint32_t)r[2] << 8 | r[3], cid);
	assert_true(r[4] & 0x80);
	cmd = r[4] & 0x7f;
	*len = (size_t)r[5] << 8 | r[6];
	assert_true(*len <= cap);
	got = *len < 57 ? *len : 57;
	memcpy(data, r + 7, got);
	while (got < *len) {
		assert_int_equal(io_read(&io, r, 64, 2000), 64);
		assert_int_equal(r[4], seq++);
		n = *len - got < 59 ? *len - got : 59;
		memcpy(data + got, r + 5, n);
		got += n;
	}
	return cmd;
}

static void
test_ctaphid_init_ping_and_errors(void **state)
{
	struct key *k = *state;
	struct io *io;
	uint8_t nonce[8], buf[300], reply[300];
	uint32_t cid;
	size_t len;

	key_start(k, (const char *)NULL);
	io = io_open(k->dev);
	assert_non_null(io);
	random_bytes(nonce, sizeof(nonce));
	raw_send(io->fd, 0xffffffffu, 0x06, nonce, sizeof(nonce));
	assert_int_equal(raw_recv(io->fd, 0xffffffffu, reply, sizeof(reply),
	    &len), 0x06);
	assert_int_equal(len, 17);
	assert_memory_equal(reply, nonce, 8);
	cid = (uint32_t)reply[8] << 24 | (uint32_t)reply[9] << 16 |
	    (uint32_t)reply[10] << 8 | reply[11];
	assert_true(cid != 0 && cid != 0xffffffffu);
	assert_true(reply[16] & 0x04);	/* CBOR */
	/* a fragmented PING comes back whole */
	random_bytes(buf, sizeof(buf));
	raw_send(io->fd, cid, 0x01, buf, sizeof(buf));
	assert_int_equal(raw_recv(io->fd, cid, reply, sizeof(reply), &len),
	    0x01);
	assert_int_equal(len, sizeof(buf));
	assert_memory_equal(reply, buf, sizeof(buf));
	/* U2F is not offered; unknown channels are refused */
	raw_send(io->fd, cid, 0x03, buf, 10);
	assert_int_equal(raw_recv(io->fd, cid, reply, sizeof(reply), &len),
	    0x3f);
	assert_int_equal(reply[0], 0x01);	/* ERR_INVALID_CMD */
	raw_send(io->fd, cid + 1000, 0x10, (const uint8_t *)"\x04", 1);
	assert_int_equal(raw_recv(io->fd, cid + 1000, reply, sizeof(reply),
	    &len), 0x3f);
	assert_int_equal(reply[0], 0x0b);	/* ERR_INVALID_CHANNEL */
	/* CBOR that does not parse */
	raw_send(io->fd, cid, 0x10, (const uint8_t *)"\x01\xff", 2);
	assert_int_equal(raw_recv(io->fd, cid, reply, sizeof(reply), &len),
	    0x10);
	assert_int_equal(len, 1);
	assert_int_equal(reply[0], 0x12);	/* CTAP2_ERR_INVALID_CBOR */
	io_close(io);
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

static void
test_notouch_times_out_within_the_budget(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	int64_t t0, elapsed;

	key_start(k, "--touch-timeout", "700", (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	assert_true(key_ctl(k, "mode notouch"));
	t0 = now_ms();
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, NULL,
	    FIDO_OPT_TRUE).status, FIDO_ERR_USER_ACTION_TIMEOUT);
	elapsed = now_ms() - t0;
	assert_true(elapsed >= 650 && elapsed < 2500);
	/* the same handle still works: the reply was read in full */
	assert_true(key_ctl(k, "mode touch"));
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, NULL,
	    FIDO_OPT_TRUE).verify, FIDO_OK);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_touch_delay_sends_keepalives_and_succeeds(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	int64_t t0;

	key_start(k, "--touch-delay", "400", (const char *)NULL);
	dev = dev_open(k);
	t0 = now_ms();
	assert_int_equal(make_cred(dev, NULL, true, &c), FIDO_OK);
	assert_true(now_ms() - t0 >= 400);
	assert_true(key_ctl(k, "delay 0"));
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, NULL,
	    FIDO_OPT_TRUE).verify, FIDO_OK);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_mode_change_answers_a_pending_request(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result a;
	int64_t t0, elapsed;
	pid_t pid;
	int status;

	key_start(k, "--touch-timeout", "5000", (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	assert_true(key_ctl(k, "mode notouch"));
	/* someone presses the key 300 ms into the wait */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(300 * 1000);
		_exit(key_ctl(k, "mode touch") ? 0 : 1);
	}
	t0 = now_ms();
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	elapsed = now_ms() - t0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(a.verify, FIDO_OK);
	assert_true(elapsed >= 250 && elapsed < 4000);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_set_timeout_budget_returns_rx_error(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	int64_t t0;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	assert_true(key_ctl(k, "mode notouch"));
	assert_int_equal(fido_dev_set_timeout(dev, 300), FIDO_OK);
	t0 = now_ms();
	/* docs/DESIGN.md §12: running out of budget is FIDO_ERR_RX */
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, NULL,
	    FIDO_OPT_TRUE).status, FIDO_ERR_RX);
	assert_true(now_ms() - t0 < 1500);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_touch_probe_and_cancel(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	int touched = 0;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	/* a touch: the probe's PIN_NOT_SET reply counts as touched */
	assert_int_equal(fido_dev_get_touch_begin(dev), FIDO_OK);
	assert_int_equal(fido_dev_get_touch_status(dev, &touched, 2000),
	    FIDO_OK);
	assert_int_equal(touched, 1);
	/* no touch, then CANCEL: the pending request ends KEEPALIVE_CANCEL */
	assert_true(key_ctl(k, "mode notouch"));
	touched = 0;
	assert_int_equal(fido_dev_get_touch_begin(dev), FIDO_OK);
	assert_int_equal(fido_dev_get_touch_status(dev, &touched, 200),
	    FIDO_OK);
	assert_int_equal(touched, 0);
	assert_int_equal(fido_dev_cancel(dev), FIDO_OK);
	assert_int_equal(fido_dev_get_touch_status(dev, &touched, 2000),
	    FIDO_ERR_KEEPALIVE_CANCEL);
	assert_int_equal(touched, 0);
	dev_close(&dev);
}

static void
test_wrong_pin_decrements_retries(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result a;
	int retries = -1;

	key_start(k, "--pin", "1234", (const char *)NULL);
	dev = dev_open(k);
	assert_true(fido_dev_has_pin(dev));
	/* the touch probe's PIN_INVALID reply also means "touched" */
	assert_int_equal(fido_dev_get_touch_begin(dev), FIDO_OK);
	assert_int_equal(fido_dev_get_touch_status(dev, &retries, 2000),
	    FIDO_OK);
	assert_int_equal(retries, 1);
	/* with a PIN set, makeCredential needs it */
	assert_int_equal(make_cred(dev, NULL, true, NULL),
	    FIDO_ERR_PIN_REQUIRED);
	assert_int_equal(make_cred(dev, "1234", true, &c), FIDO_OK);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);
	a = get_assert(dev, &c, RP_ID, NULL, "9999", FIDO_OPT_TRUE);
	assert_int_equal(a.status, FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 7);
	a = get_assert(dev, &c, RP_ID, NULL, "1234", FIDO_OPT_TRUE);
	assert_int_equal(a.status, FIDO_OK);
	assert_int_equal(a.verify, FIDO_OK);
	assert_true(a.flags & 0x04);	/* UV */
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);
	/* without a PIN an assertion is still possible, without UV */
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a.verify, FIDO_OK);
	assert_false(a.flags & 0x04);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_three_wrong_pins_block_until_reconnect(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	int retries = -1;

	key_start(k, "--pin", "1234", (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, "1234", false, &c), FIDO_OK);
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, "0000",
	    FIDO_OPT_TRUE).status, FIDO_ERR_PIN_INVALID);
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, "0000",
	    FIDO_OPT_TRUE).status, FIDO_ERR_PIN_INVALID);
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, "0000",
	    FIDO_OPT_TRUE).status, FIDO_ERR_PIN_AUTH_BLOCKED);
	/* blocked even for the right PIN, until a power cycle */
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, "1234",
	    FIDO_OPT_TRUE).status, FIDO_ERR_PIN_AUTH_BLOCKED);
	dev_close(&dev);
	dev = dev_open(k);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 5);
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, "1234",
	    FIDO_OPT_TRUE).verify, FIDO_OK);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_set_and_change_pin(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_false(fido_dev_has_pin(dev));
	assert_int_equal(fido_dev_set_pin(dev, "123", NULL),
	    FIDO_ERR_PIN_POLICY_VIOLATION);
	assert_int_equal(fido_dev_set_pin(dev, "4321", NULL), FIDO_OK);
	dev_close(&dev);
	dev = dev_open(k);
	assert_true(fido_dev_has_pin(dev));
	assert_int_equal(fido_dev_set_pin(dev, "5678", "0000"),
	    FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_set_pin(dev, "5678", "4321"), FIDO_OK);
	assert_int_equal(make_cred(dev, "4321", false, NULL),
	    FIDO_ERR_PIN_INVALID);
	assert_int_equal(make_cred(dev, "5678", false, &c), FIDO_OK);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_hmac_secret_differs_with_user_verification(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result plain, verified, verified2;
	unsigned char salt[32];

	key_start(k, "--pin", "1234", (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, "1234", true, &c), FIDO_OK);
	random_bytes(salt, sizeof(salt));
	plain = get_assert(dev, &c, RP_ID, salt, NULL, FIDO_OPT_TRUE);
	verified = get_assert(dev, &c, RP_ID, salt, "1234", FIDO_OPT_TRUE);
	verified2 = get_assert(dev, &c, RP_ID, salt, "1234", FIDO_OPT_TRUE);
	assert_int_equal(plain.verify, FIDO_OK);
	assert_int_equal(verified.verify, FIDO_OK);
	assert_memory_not_equal(plain.hmac, verified.hmac, 32);
	assert_memory_equal(verified.hmac, verified2.hmac, 32);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_restart_keeps_credentials_and_counter(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result before, after;
	unsigned char salt[32];
	struct stat st;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, true, &c), FIDO_OK);
	random_bytes(salt, sizeof(salt));
	before = get_assert(dev, &c, RP_ID, salt, NULL, FIDO_OPT_TRUE);
	assert_int_equal(before.verify, FIDO_OK);
	dev_close(&dev);
	assert_true(key_stop(k));
	assert_int_equal(stat(k->state, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	after = get_assert(dev, &c, RP_ID, salt, NULL, FIDO_OPT_TRUE);
	assert_int_equal(after.verify, FIDO_OK);
	assert_true(after.counter > before.counter);
	assert_memory_equal(before.hmac, after.hmac, 32);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_foreign_credential_or_rp_is_not_found(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	assert_int_equal(get_assert(dev, &c, "other.test", NULL, NULL,
	    FIDO_OPT_TRUE).status, FIDO_ERR_NO_CREDENTIALS);
	c.id[20] ^= 1;
	assert_int_equal(get_assert(dev, &c, RP_ID, NULL, NULL,
	    FIDO_OPT_TRUE).status, FIDO_ERR_NO_CREDENTIALS);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_silent_assertion_without_user_presence(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result a;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	/* up=false needs no touch, even in notouch mode */
	assert_true(key_ctl(k, "mode notouch"));
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_FALSE);
	assert_int_equal(a.status, FIDO_OK);
	assert_int_equal(a.verify, FIDO_OK);
	assert_false(a.flags & 0x01);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_rollback_mode_reports_an_old_counter(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result a;

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a.counter, 3);
	assert_true(key_ctl(k, "mode rollback"));
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a.verify, FIDO_OK);
	assert_int_equal(a.counter, 1);
	/* counter-rollback rewinds the stored counter instead */
	assert_true(key_ctl(k, "mode touch"));
	assert_true(key_ctl(k, "counter-rollback"));
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a.counter, 1);
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a.counter, 2);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_badsig_mode_fails_verification(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	struct cred c;
	struct result a;

	key_start(k, "--mode", "badsig", (const char *)NULL);
	dev = dev_open(k);
	/* the attestation is still good: only assertions are corrupted */
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	a = get_assert(dev, &c, RP_ID, NULL, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a.status, FIDO_OK);
	assert_int_equal(a.verify, FIDO_ERR_INVALID_SIG);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_nohmac_mode_hides_the_extension(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	fido_cbor_info_t *ci = fido_cbor_info_new();
	struct cred c;
	struct result a;
	unsigned char salt[32];
	char **ext;

	key_start(k, "--mode", "nohmac", (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(fido_dev_get_cbor_info(dev, ci), FIDO_OK);
	ext = fido_cbor_info_extensions_ptr(ci);
	for (size_t i = 0; i < fido_cbor_info_extensions_len(ci); i++)
		assert_string_not_equal(ext[i], "hmac-secret");
	/* docs/DESIGN.md §12: asking anyway makes verification fail */
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	random_bytes(salt, sizeof(salt));
	a = get_assert(dev, &c, RP_ID, salt, NULL, FIDO_OPT_TRUE);
	assert_int_equal(a.status, FIDO_OK);
	assert_int_equal(a.verify, FIDO_ERR_INVALID_PARAM);
	assert_int_equal(a.hmac_len, 0);
	fido_cbor_info_free(&ci);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_unplug_refuses_connections_until_plug(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;

	key_start(k, (const char *)NULL);
	assert_true(key_ctl(k, "unplug"));
	dev = fido_dev_new();
	assert_non_null(dev);
	assert_int_equal(fido_dev_set_io_functions(dev, &io_functions),
	    FIDO_OK);
	assert_int_not_equal(fido_dev_open(dev, k->dev), FIDO_OK);
	fido_dev_free(&dev);
	assert_true(key_ctl(k, "plug"));
	dev = dev_open(k);
	dev_close(&dev);
}

static void
test_excluded_credential_is_refused(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	fido_cred_t *cred;
	struct cred c;
	unsigned char cdh[32], user[4] = { 1, 2, 3, 4 };

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_int_equal(make_cred(dev, NULL, false, &c), FIDO_OK);
	cred = fido_cred_new();
	random_bytes(cdh, sizeof(cdh));
	assert_int_equal(fido_cred_set_type(cred, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(cred, cdh,
	    sizeof(cdh)), FIDO_OK);
	assert_int_equal(fido_cred_set_rp(cred, RP_ID, NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_user(cred, user, sizeof(user), "bob",
	    NULL, NULL), FIDO_OK);
	assert_int_equal(fido_cred_exclude(cred, c.id, c.id_len), FIDO_OK);
	assert_int_equal(fido_dev_make_cred(dev, cred, NULL),
	    FIDO_ERR_CREDENTIAL_EXCLUDED);
	fido_cred_free(&cred);
	cred_free(&c);
	dev_close(&dev);
}

static void
test_cred_protect_is_echoed(void **state)
{
	struct key *k = *state;
	fido_dev_t *dev;
	fido_cred_t *cred;
	unsigned char cdh[32], user[4] = { 1, 2, 3, 4 };

	key_start(k, (const char *)NULL);
	dev = dev_open(k);
	assert_true(fido_dev_supports_cred_prot(dev));
	cred = fido_cred_new();
	random_bytes(cdh, sizeof(cdh));
	assert_int_equal(fido_cred_set_type(cred, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(cred, cdh,
	    sizeof(cdh)), FIDO_OK);
	assert_int_equal(fido_cred_set_rp(cred, RP_ID, NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_user(cred, user, sizeof(user), "bob",
	    NULL, NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_extensions(cred,
	    FIDO_EXT_HMAC_SECRET | FIDO_EXT_CRED_PROTECT), FIDO_OK);
	assert_int_equal(fido_cred_set_prot(cred,
	    FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID), FIDO_OK);
	assert_int_equal(fido_dev_make_cred(dev, cred, NULL), FIDO_OK);
	assert_int_equal(fido_cred_verify_self(cred), FIDO_OK);
	assert_int_equal(fido_cred_prot(cred),
	    FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID);
	fido_cred_free(&cred);
	dev_close(&dev);
}

static void
test_malformed_state_file_is_refused(void **state)
{
	struct key *k = *state;
	FILE *f;
	char bin[512];
	pid_t pid;
	int status;

	/* a malformed state file is an error, never a silent new key */
	key_paths(k);
	f = fopen(k->state, "w");
	assert_non_null(f);
	fputs("kmfa-softkey-state 1\nmaster zz\n", f);
	fclose(f);
	snprintf(bin, sizeof(bin), "%s", softkey_path());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(bin, bin, "--socket", k->sock, "--state", k->state,
		    (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_info_advertises_hmac_secret_and_pin_protocol_1,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_assertion_verifies_and_hmac_secret_is_stable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_salts_give_two_outputs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_forgets_credentials_and_pin,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctaphid_init_ping_and_errors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_mode_denies_the_operation,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_notouch_times_out_within_the_budget,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_touch_delay_sends_keepalives_and_succeeds,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_change_answers_a_pending_request,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_timeout_budget_returns_rx_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_touch_probe_and_cancel,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_pin_decrements_retries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_wrong_pins_block_until_reconnect,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_and_change_pin,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_hmac_secret_differs_with_user_verification,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_credentials_and_counter,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_credential_or_rp_is_not_found,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_assertion_without_user_presence,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_mode_reports_an_old_counter,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_badsig_mode_fails_verification,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nohmac_mode_hides_the_extension,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplug_refuses_connections_until_plug,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_excluded_credential_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_protect_is_echoed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_state_file_is_refused,
		    setup, teardown),
	};

	fido_init(getenv("KMFA_FIDO_DEBUG") != NULL ? FIDO_DEBUG : 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

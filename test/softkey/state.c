/*
 * The state file.  Format, one field a line:
 *
 *     kmfa-softkey-state 1
 *     master <64 hex digits>
 *     counter <decimal>
 *     pin <32 hex digits> | pin -
 *     retries <decimal>
 *
 * It holds a test key's secrets, so it is private (0600) like any key file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "softkey.h"
#include "state.h"

#define STATE_MAGIC "kmfa-softkey-state 1"

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
unhex(const char *s, uint8_t *out, size_t n)
{
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((hi = hex_value(s[2 * i])) < 0 ||
		    (lo = hex_value(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *v > max || *s == '-')
		return -1;
	return 0;
}

/* One "name value" line into st; seen collects which names appeared. */
static int
parse_line(char *line, struct sk_state *st, unsigned *seen)
{
	char *value;
	unsigned long v;

	if ((value = strchr(line, ' ')) == NULL)
		return -1;
	*value++ = '\0';
	if (strcmp(line, "master") == 0) {
		*seen |= 1;
		return unhex(value, st->master, sizeof(st->master));
	}
	if (strcmp(line, "counter") == 0) {
		*seen |= 2;
		if (parse_ulong(value, UINT32_MAX, &v) < 0)
			return -1;
		st->counter = (uint32_t)v;
		return 0;
	}
	if (strcmp(line, "pin") == 0) {
		*seen |= 4;
		st->pin_set = strcmp(value, "-") != 0;
		return st->pin_set ? unhex(value, st->pin_hash,
		    sizeof(st->pin_hash)) : 0;
	}
	if (strcmp(line, "retries") == 0) {
		*seen |= 8;
		if (parse_ulong(value, SK_PIN_RETRIES, &v) < 0)
			return -1;
		st->pin_retries = (int)v;
		return 0;
	}
	return -1;
}

static int
load(FILE *f, const char *path, struct sk_state *st)
{
	char line[256];
	size_t n;
	unsigned seen = 0;
	int r = -1;

	memset(st, 0, sizeof(*st));
	if (fgets(line, sizeof(line), f) == NULL ||
	    strcmp(line, STATE_MAGIC "\n") != 0) {
		sk_log("%s: not a softkey state file", path);
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strlen(line);
		if (n == 0 || line[n - 1] != '\n')
			goto bad;
		line[n - 1] = '\0';
		if (parse_line(line, st, &seen) < 0)
			goto bad;
	}
	if (ferror(f) || seen != 15)
		goto bad;
	r = 0;
	goto out;
bad:
	sk_log("%s: malformed state file", path);
out:
	crypto_wipe(line, sizeof(line));
	return r;
}

int
state_set_pin(struct sk_state *st, const uint8_t *pin, size_t len)
{
	uint8_t h[32];
	int r = -1;

	if (crypto_sha256(pin, len, h) < 0)
		goto out;
	memcpy(st->pin_hash, h, sizeof(st->pin_hash));
	st->pin_set = true;
	st->pin_retries = SK_PIN_RETRIES;
	r = 0;
out:
	crypto_wipe(h, sizeof(h));
	return r;
}

int
state_open(const char *path, const char *pin, struct sk_state *st)
{
	FILE *f = NULL;
	int r = -1;

	if ((f = fopen(path, "re")) != NULL) {
		r = load(f, path, st);
		goto out;
	}
	if (errno != ENOENT) {
		sk_log("%s: %s", path, strerror(errno));
		goto out;
	}
	memset(st, 0, sizeof(*st));
	st->pin_retries = SK_PIN_RETRIES;
	if (crypto_random(st->master, sizeof(st->master)) < 0)
		goto out;
	if (pin != NULL && state_set_pin(st, (const uint8_t *)pin,
	    strlen(pin)) < 0)
		goto out;
	r = state_save(path, st);
out:
	if (f != NULL)
		fclose(f);
	return r;
}

int
state_save(const char *path, const struct sk_state *st)
{
	char tmp[4096], text[512], mhex[65], phex[33];
	int fd = -1, n;
	int r = -1;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		goto out;
	hex(st->master, sizeof(st->master), mhex);
	if (st->pin_set)
		hex(st->pin_hash, sizeof(st->pin_hash), phex);
	else
		memcpy(phex, "-", 2);
	n = snprintf(text, sizeof(text), "%s\nmaster %s\ncounter %lu\n"
	    "pin %s\nretries %d\n", STATE_MAGIC, mhex,
	    (unsigned long)st->counter, phex, st->pin_retries);
	if (n < 0 || (size_t)n >= sizeof(text))
		goto out;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0 ||
	    write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
		sk_log("%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		sk_log("%s: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		(void)unlink(tmp);
	crypto_wipe(text, sizeof(text));
	crypto_wipe(mhex, sizeof(mhex));
	return r;
}

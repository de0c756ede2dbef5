/*
 * The test authenticator's parsers (test/softkey), which libfido2 and the
 * tests feed.  The project itself parses no CTAPHID: libfido2 does that on
 * the host side.  The first byte sets the key up (bit 1: PIN set, bit 2:
 * no hmac-secret, bit 3: counter rollback, bit 4: bad signatures) and
 * picks the mode (bit 0):
 *
 *   0: the rest is one CTAPHID_CBOR message (command byte + CBOR) for
 *      ctap_dispatch, with an immediate touch;
 *   1: the rest is a stream of 64-byte CTAPHID reports (the last one padded
 *      with zeros), written one at a time into a socketpair whose other end
 *      the key reads with hid_receive; every whole request goes to
 *      hid_dispatch, and the replies are drained.
 *
 * The state file lives in a fresh directory under /dev/shm (or TMPDIR) so
 * the counter saves cost little; the key's state and PIN session are reset
 * before every input, so inputs do not depend on each other.

 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cbor.h>

#include "base/json.h"
#include "ctap.h"
#include "fuzzutil.h"
#include "hid.h"
#include "softkey.h"

static struct softkey base[2], sk;	/* base[pin] */
static char dir[256], state_path[300];
static int host_fd = -1, key_fd = -1;

static void
cleanup(void)
{
	char tmp[320];

	(void)unlink(state_path);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	(void)unlink(tmp);
	(void)rmdir(dir);
}

static void
open_pair(void)
{
	int fds[2];

	if (host_fd >= 0)
		close(host_fd);
	if (key_fd >= 0)
		close(key_fd);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0)
		fz_die("socketpair");
	key_fd = fds[0];
	host_fd = fds[1];
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	kmfa_json_init();
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if (tmp == NULL)
		tmp = "/tmp";
	(void)snprintf(dir, sizeof(dir), "%s/kmfa-fuzz-softkey.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		fz_die("mkdtemp");
	(void)snprintf(state_path, sizeof(state_path), "%s/state", dir);
	atexit(cleanup);
	if (fz_softkey_setup(&base[0], state_path, 0) != 0 ||
	    fz_softkey_setup(&base[1], state_path, 1) != 0)
		fz_die("softkey set-up");
	open_pair();
	return 0;
}

static void
drain(int fd)
{
	uint8_t buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		continue;
}

static void
cbor_mode(const uint8_t *data, size_t size)
{
	static uint8_t resp[HID_MAX_MSG];
	size_t len = 0;

	if (size < 1 || size > HID_MAX_MSG)
		return;
	ctap_dispatch(&sk, data, size, resp, sizeof(resp), &len);
	if (len < 1 || len > sizeof(resp))
		fz_die("ctap_dispatch reply length out of range");
}

static void
hid_mode(const uint8_t *data, size_t size)
{
	static struct hid_msg msg;
	uint8_t report[HID_REPORT_LEN];
	size_t n;
	int r;

	drain(host_fd);
	drain(key_fd);
	hid_link_reset(&sk.link, key_fd);
	for (size_t off = 0; off < size; off += n) {
		n = size - off < HID_REPORT_LEN ? size - off : HID_REPORT_LEN;
		memset(report, 0, sizeof(report));
		memcpy(report, data + off, n);
		if (send(host_fd, report, sizeof(report), MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(report))
			fz_die("send");
		if ((r = hid_receive(&sk.link, &msg)) < 0)
			fz_die("the key lost its end of the socketpair");
		if (r == 1) {
			if (msg.len > HID_MAX_MSG)
				fz_die("reassembled message too long");
			hid_dispatch(&sk, &msg);
		}
		drain(host_fd);
		if (sk.link.fd < 0) {
			/* the key dropped the client: a new connection */
			key_fd = -1;
			open_pair();
			hid_link_reset(&sk.link, key_fd);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	sk = base[(flags >> 1) & 1];
	sk.faults = (flags & 0x04 ? SK_FAULT_NOHMAC : 0) |
	    (flags & 0x08 ? SK_FAULT_ROLLBACK : 0) |
	    (flags & 0x10 ? SK_FAULT_BADSIG : 0);
	if (flags & 1)
		hid_mode(data + 1, size - 1);
	else
		cbor_mode(data + 1, size - 1);
	return 0;
}

/*
 * CTAPHID framing and transport commands (CTAP 2.0 §8.1).  A report is the
 * 64 bytes of a HID report without the report-ID byte: an initialisation
 * packet (CID, CMD | 0x80, BCNTH, BCNTL, 57 data bytes) followed by
 * continuation packets (CID, SEQ 0..127, 59 data bytes).  Channel ids are
 * four opaque bytes on the wire; we read them big-endian.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ctap.h"
#include "hid.h"
#include "softkey.h"

/* INIT reply capability flags (§8.1.9.1.3): CBOR, and no U2F (NMSG). */
#define CAPABILITY_CBOR 0x04
#define CAPABILITY_NMSG 0x08

static uint32_t
get_cid(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_cid(uint8_t *p, uint32_t cid)
{
	p[0] = (uint8_t)(cid >> 24);
	p[1] = (uint8_t)(cid >> 16);
	p[2] = (uint8_t)(cid >> 8);
	p[3] = (uint8_t)cid;
}

void
hid_link_reset(struct hid_link *l, int fd)
{
	l->fd = fd;
	l->have = 0;
	l->assembling = false;
	l->len = l->got = 0;
}

static int
write_report(int fd, const uint8_t report[HID_REPORT_LEN])
{
	size_t off = 0;
	ssize_t n;

	while (off < HID_REPORT_LEN) {
		n = send(fd, report + off, HID_REPORT_LEN - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
hid_send(int fd, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint8_t report[HID_REPORT_LEN];
	size_t off, n;
	uint8_t seq = 0;

	if (fd < 0 || len > HID_MAX_MSG)
		return -1;
	memset(report, 0, sizeof(report));
	put_cid(report, cid);
	report[4] = (uint8_t)(cmd | 0x80);
	report[5] = (uint8_t)(len >> 8);
	report[6] = (uint8_t)len;
	n = len < HID_INIT_DATA ? len : HID_INIT_DATA;
	if (n > 0)
		memcpy(report + 7, data, n);
	if (write_report(fd, report) < 0)
		return -1;
	for (off = n; off < len; off += n) {
		memset(report + 4, 0, sizeof(report) - 4);
		report[4] = seq++;
		n = len - off < HID_CONT_DATA ? len - off : HID_CONT_DATA;
		memcpy(report + 5, data + off, n);
		if (write_report(fd, report) < 0)
			return -1;
	}
	return 0;
}

int
hid_send_error(int fd, uint32_t cid, uint8_t code)
{
	return hid_send(fd, cid, CTAPHID_ERROR, &code, 1);
}

int
hid_send_keepalive(int fd, uint32_t cid, uint8_t status)
{
	return hid_send(fd, cid, CTAPHID_KEEPALIVE, &status, 1);
}

static int
complete(struct hid_link *l, struct hid_msg *msg)
{
	l->assembling = false;
	msg->cid = l->cid;
	msg->cmd = l->cmd;
	msg->len = l->len;
	memcpy(msg->data, l->data, l->len);
	return 1;
}

/* One whole report in l->report. */
static int
feed(struct hid_link *l, struct hid_msg *msg)
{
	const uint8_t *r = l->report;
	uint32_t cid = get_cid(r);
	size_t len, n;

	if (r[4] & 0x80) {
		/* §8.1.5: another channel may not interleave a request */
		if (l->assembling && cid != l->cid) {
			hid_send_error(l->fd, cid, CTAPHID_ERR_CHANNEL_BUSY);
			return 0;
		}
		if (l->assembling && (r[4] & 0x7f) != CTAPHID_INIT) {
			l->assembling = false;
			hid_send_error(l->fd, cid, CTAPHID_ERR_INVALID_SEQ);
			return 0;
		}
		if (cid == 0) {
			hid_send_error(l->fd, cid, CTAPHID_ERR_INVALID_CHANNEL);
			return 0;
		}
		len = (size_t)r[5] << 8 | r[6];
		if (len > HID_MAX_MSG) {
			hid_send_error(l->fd, cid, CTAPHID_ERR_INVALID_LEN);
			return 0;
		}
		l->assembling = true;
		l->cid = cid;
		l->cmd = r[4] & 0x7f;
		l->len = len;
		l->seq = 0;
		n = len < HID_INIT_DATA ? len : HID_INIT_DATA;
		memcpy(l->data, r + 7, n);
		l->got = n;
	} else {
		/* a stray continuation is ignored (§8.1.5) */
		if (!l->assembling || cid != l->cid)
			return 0;
		if (r[4] != l->seq) {
			l->assembling = false;
			hid_send_error(l->fd, cid, CTAPHID_ERR_INVALID_SEQ);
			return 0;
		}
		l->seq++;
		n = l->len - l->got < HID_CONT_DATA ? l->len - l->got :
		    HID_CONT_DATA;
		memcpy(l->data + l->got, r + 5, n);
		l->got += n;
	}
	return l->got == l->len ? complete(l, msg) : 0;
}

int
hid_receive(struct hid_link *l, struct hid_msg *msg)
{
	ssize_t n;

	n = recv(l->fd, l->report + l->have, HID_REPORT_LEN - l->have,
	    MSG_DONTWAIT);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	l->have += (size_t)n;
	if (l->have < HID_REPORT_LEN)
		return 0;
	l->have = 0;
	return feed(l, msg);
}

static void
init(struct softkey *sk, const struct hid_msg *msg)
{
	uint8_t reply[17];
	uint32_t cid;

	if (msg->len != 8) {
		hid_send_error(sk->link.fd, msg->cid, CTAPHID_ERR_INVALID_LEN);
		return;
	}
	/* on the broadcast channel: a new channel; else a resync */
	if (msg->cid == HID_CID_BROADCAST) {
		cid = sk->next_cid++;
		if (sk->next_cid == HID_CID_BROADCAST)
			sk->next_cid = 1;
	} else {
		cid = msg->cid;
	}
	memcpy(reply, msg->data, 8);	/* the nonce */
	put_cid(reply + 8, cid);
	reply[12] = 2;			/* CTAPHID protocol version */
	reply[13] = 0;			/* device version major, minor, build */
	reply[14] = 1;
	reply[15] = 0;
	reply[16] = CAPABILITY_CBOR | CAPABILITY_NMSG;
	hid_send(sk->link.fd, msg->cid, CTAPHID_INIT, reply, sizeof(reply));
}

static void
cbor(struct softkey *sk, const struct hid_msg *msg)
{
	static uint8_t reply[HID_MAX_MSG];
	size_t len = 0;

	if (msg->len < 1) {
		hid_send_error(sk->link.fd, msg->cid, CTAPHID_ERR_INVALID_LEN);
		return;
	}
	sk->busy_cid = msg->cid;
	ctap_dispatch(sk, msg->data, msg->len, reply, sizeof(reply), &len);
	sk->busy_cid = 0;
	/* the client may have hung up while we waited for a touch */
	if (sk->link.fd >= 0)
		hid_send(sk->link.fd, msg->cid, CTAPHID_CBOR, reply, len);
}

void
hid_dispatch(struct softkey *sk, const struct hid_msg *msg)
{
	if (msg->cmd == CTAPHID_INIT) {
		init(sk, msg);
		return;
	}
	if (msg->cid == HID_CID_BROADCAST || msg->cid >= sk->next_cid) {
		hid_send_error(sk->link.fd, msg->cid,
		    CTAPHID_ERR_INVALID_CHANNEL);
		return;
	}
	switch (msg->cmd) {
	case CTAPHID_PING:
		hid_send(sk->link.fd, msg->cid, CTAPHID_PING, msg->data,
		    msg->len);
		break;
	case CTAPHID_CBOR:
		cbor(sk, msg);
		break;
	case CTAPHID_CANCEL:
		break;
	default:
		/* MSG (U2F), WINK and LOCK are not offered */
		hid_send_error(sk->link.fd, msg->cid, CTAPHID_ERR_INVALID_CMD);
		break;
	}
}

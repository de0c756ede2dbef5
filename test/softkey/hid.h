/*
 * CTAPHID (CTAP 2.0 §8.1) over a unix stream socket: 64-byte reports
 * without the HID report-ID byte, reassembly of fragmented requests,
 * fragmentation of replies, channel allocation, and the transport-level
 * commands (INIT, PING, CANCEL, ERROR, KEEPALIVE).  CBOR messages are handed
 * to ctap.c.
 */
#ifndef SOFTKEY_HID_H
#define SOFTKEY_HID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HID_REPORT_LEN 64
#define HID_INIT_DATA 57	/* 64 - cid(4) - cmd(1) - bcnt(2) */
#define HID_CONT_DATA 59	/* 64 - cid(4) - seq(1) */
#define HID_MAX_MSG (HID_INIT_DATA + 128 * HID_CONT_DATA)	/* 7609 */
#define HID_CID_BROADCAST 0xffffffffu

/* §8.1.9 commands, without the init-packet bit 0x80. */
enum hid_cmd {
	CTAPHID_PING = 0x01,
	CTAPHID_MSG = 0x03,
	CTAPHID_LOCK = 0x04,
	CTAPHID_INIT = 0x06,
	CTAPHID_WINK = 0x08,
	CTAPHID_CBOR = 0x10,
	CTAPHID_CANCEL = 0x11,
	CTAPHID_KEEPALIVE = 0x3b,
	CTAPHID_ERROR = 0x3f,
};

/* §8.1.9.1.6 transport error codes. */
enum hid_err {
	CTAPHID_ERR_INVALID_CMD = 0x01,
	CTAPHID_ERR_INVALID_PAR = 0x02,
	CTAPHID_ERR_INVALID_LEN = 0x03,
	CTAPHID_ERR_INVALID_SEQ = 0x04,
	CTAPHID_ERR_CHANNEL_BUSY = 0x06,
	CTAPHID_ERR_INVALID_CHANNEL = 0x0b,
	CTAPHID_ERR_OTHER = 0x7f,
};

#define KEEPALIVE_PROCESSING 1
#define KEEPALIVE_UPNEEDED 2

/* One complete request. */
struct hid_msg {
	uint32_t cid;
	uint8_t cmd;
	size_t len;
	uint8_t data[HID_MAX_MSG];
};

/* One connection: the partial report and the request being reassembled. */
struct hid_link {
	int fd;
	uint8_t report[HID_REPORT_LEN];
	size_t have;		/* bytes of report received so far */
	bool assembling;
	uint32_t cid;
	uint8_t cmd;
	uint8_t seq;		/* next continuation sequence number */
	size_t len, got;
	uint8_t data[HID_MAX_MSG];
};

void hid_link_reset(struct hid_link *l, int fd);

/*
 * Read what the socket has (it must be readable) and reassemble.  Returns 1
 * when a whole request is in *msg, 0 when more is needed, -1 when the peer
 * went away.  Malformed traffic is answered with CTAPHID_ERROR here.
 */
int hid_receive(struct hid_link *l, struct hid_msg *msg);

struct softkey;

/*
 * Serve one request: INIT and PING here, CBOR through ctap.c; CANCEL with
 * nothing in progress is ignored, as §8.1.9.1.5 asks.
 */
void hid_dispatch(struct softkey *sk, const struct hid_msg *msg);

int hid_send(int fd, uint32_t cid, uint8_t cmd, const uint8_t *data,
    size_t len);
int hid_send_error(int fd, uint32_t cid, uint8_t code);
int hid_send_keepalive(int fd, uint32_t cid, uint8_t status);

#endif

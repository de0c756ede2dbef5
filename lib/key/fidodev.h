/*
 * Finding and opening a security key.  A device is named by a hidraw path
 * or by "unix:SOCKET": CTAPHID reports over a unix stream socket where an
 * authenticator listens, each report exactly 64 bytes without the HID
 * report-id byte, so a key can be forwarded into a container or a VM and
 * the project's software authenticator can stand in for one in tests;
 * libfido2's own framing runs unchanged over it (custom I/O functions).
 * --fido2-device may list several names separated by commas; without it
 * the USB HID keys libfido2 finds are the candidates.  One candidate is
 * used as is; among several the user touches the one to use, as OpenSSH
 * does.  libfido2 error codes stay inside lib/fido*.c.
 */
#ifndef KMFA_FIDODEV_H
#define KMFA_FIDODEV_H

#include <stdint.h>

#include <fido.h>

#define KMFA_FIDODEV_MAX	16	/* candidates considered */

/* An open device and the name it was opened by. */
struct kmfa_fidodev {
	fido_dev_t *dev;
	char *path;		/* "unix:/run/...", "/dev/hidraw3" */
};

/* Initialise libfido2 once (debug output with -v -v). */
void kmfa_fidodev_init(void);

/*
 * The candidates: the comma-separated list in spec, or (spec NULL or
 * empty) the FIDO HID devices present.  *paths is a new array of *n new
 * strings; free with kmfa_fidodev_paths_free.  Zero candidates is not an
 * error here.
 */
int kmfa_fidodev_candidates(const char *spec, char ***paths, size_t *n);
void kmfa_fidodev_paths_free(char ***paths, size_t n);

/* Open one named device. KMFA_ERR_FIDO2 with a cause on failure. */
int kmfa_fidodev_open(const char *path, struct kmfa_fidodev *out);

/*
 * Choose and open a device among the candidates of spec, leaving out
 * `exclude` (when that leaves any), waiting at most timeout_ms (-1: no
 * limit) for a touch when there are several.  what says what the touch is
 * for, in the prompt.  KMFA_ERR_FIDO2 with "no security key found: plug
 * one in" when there is none.
 */
int kmfa_fidodev_select(const char *spec, const char *exclude,
    int timeout_ms, const char *what, struct kmfa_fidodev *out);

/* Close and free; safe on a zeroed or already closed struct. */
void kmfa_fidodev_close(struct kmfa_fidodev *d);

#endif

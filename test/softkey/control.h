/*
 * The control socket: a unix stream socket where a test writes one command
 * a line and reads "ok" or "error <why>" back.  Commands:
 *
 *     mode MODE[,MODE...]   touch | notouch | refuse | rollback | badsig |
 *                           nohmac | nouv | unplug (faults combine with one
 *                           presence mode; the list replaces the old one,
 *                           but only "plug" undoes "unplug")
 *     delay MS              touch delay in touch mode
 *     timeout MS            how long notouch waits before giving up
 *     counter-rollback      rewind the stored signature counter to 0
 *     counter N             set the stored signature counter
 *     unplug | plug         remove / re-insert the key
 *     status                "ok mode=... counter=N retries=N pin=yes|no"
 *     ping                  "ok"
 */
#ifndef SOFTKEY_CONTROL_H
#define SOFTKEY_CONTROL_H

#include <poll.h>
#include <stddef.h>

#include "softkey.h"

int control_open(struct softkey *sk);
/* Close the socket and every connection, and remove the path. */
void control_close(struct softkey *sk);
/* Add the control descriptors to fds; returns how many were added. */
size_t control_pollfds(struct softkey *sk, struct pollfd *fds, size_t cap);
/* Serve whatever the poll found ready among those descriptors. */
void control_serve(struct softkey *sk, const struct pollfd *fds, size_t n);

/*
 * The client side, for scripts: send line to the control socket at path,
 * print the answer on stdout; 0 when it is "ok", else 1.
 */
int control_client(const char *path, const char *line);

/* Parse "notouch,nohmac" into a presence mode and fault bits. */
int control_parse_mode(const char *s, enum sk_presence *presence,
    unsigned *faults);

#endif

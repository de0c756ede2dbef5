/*
 * The event loop: one poll(2) over the listening socket, the client
 * connection and the control socket.  The key is single-threaded; the touch
 * wait (presence.c) turns the same loop while a request is pending.
 */
#ifndef SOFTKEY_LOOP_H
#define SOFTKEY_LOOP_H

#include <stdbool.h>

struct softkey;

/* Create the listening socket at sk->socket_path (again after unplug). */
int loop_listen(struct softkey *sk);
/* Close it and remove the path: new clients get ENOENT. */
void loop_unlisten(struct softkey *sk);

/*
 * Wait up to timeout_ms (-1: forever) for something to happen; serve the
 * control socket, and accept a client when accept_clients and nobody is
 * connected.  Returns 1 when the client has data, 0 otherwise, -1 on a
 * poll failure.
 */
int loop_poll(struct softkey *sk, int timeout_ms, bool accept_clients);

/* Serve forever. */
void loop_run(struct softkey *sk);

#endif

/*
 * The controlling terminal as an input: a security key's PIN, read from
 * /dev/tty with echo off, the way readpassphrase(3) does.  This module
 * owns the terminal's state while it reads (echo, the signals that would
 * leave it silent) and the PIN's bytes until the caller has them; it is
 * what the security-key layer is handed as its PIN reader (struct
 * kmfa_fido2_pin_reader, lib/key/fido2.h), which itself never touches a
 * terminal.
 */
#ifndef KMFA_TTY_H
#define KMFA_TTY_H

/*
 * Show prompt on /dev/tty and read one line with echo off, waiting at most
 * timeout_ms (-1: no limit).  *pin is a new string (a secret: free it with
 * kmfa_freezero_str); the bytes read are wiped here.  Never stdin (kubectl
 * may own it) and never without a terminal.  SIGINT, SIGTERM or SIGHUP
 * during the read restores the terminal first and then takes effect.
 * KMFA_ERR_FIDO2 with a cause on failure: the PIN is part of the
 * security-key step.  arg is unused; it gives the function the shape of a
 * PIN reader, so callers pass it as one.
 */
int kmfa_tty_read_pin(void *arg, const char *prompt, int timeout_ms,
    char **pin);

#endif

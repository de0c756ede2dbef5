/*
 * What a person sees during a device-flow login, all on stderr: the
 * verification URL, the user code set off clearly, a QR code of the
 * complete URL when stderr is a terminal wide enough, the time left while
 * polling (one line updated in place on a terminal, plain lines
 * otherwise), and the browser opened when asked or when a desktop session
 * is present.  NO_COLOR is honoured.
 */
#ifndef KMFA_PROMPT_H
#define KMFA_PROMPT_H

#include <stdint.h>

#include "token/config.h"

void kmfa_prompt_device_code(const struct kmfa_config *cfg,
    const char *verification_uri, const char *verification_uri_complete,
    const char *user_code, int64_t expires_in);

/* Progress while polling; done=1 ends the updating line. */
void kmfa_prompt_waiting(int64_t seconds_left, int done);

/*
 * Open url in a browser: --browser-command when given, else xdg-open when a
 * desktop session is present, else nothing.  The child gets no stdout (that
 * is kubectl's), stdin from /dev/null, and is not waited for.
 */
void kmfa_prompt_open_browser(const struct kmfa_config *cfg, const char *url);

#endif

#!/usr/bin/env bash
# The software key as end-to-end scripts use it (test/components/softkey.sh):
# start, steer through the control socket, unplug, restart on its state.
. "$(dirname "$0")/../lib.sh"

start_softkey key --touch-delay 20
check "SOFTKEY_DEV names the socket" [ "$SOFTKEY_DEV" = "unix:$T/key.sock" ]
check "the socket exists" [ -S "$T/key.sock" ]
check "the state file is private" [ "$(stat -c %a "$T/key.state")" = 600 ]
check "status answers" contains "$(softkey_ctl key status)" "mode=touch counter=0"
check "mode notouch,nohmac" softkey_ctl key mode notouch,nohmac
check "status shows the mode" \
	contains "$(softkey_ctl key status)" "mode=notouch,nohmac"
check "an unknown mode is an error" eval '! softkey_ctl key mode sideways 2>/dev/null'
check "an unknown command is an error" eval '! softkey_ctl key frobnicate 2>/dev/null'
check "counter N" softkey_ctl key counter 41
check "status shows the counter" contains "$(softkey_ctl key status)" "counter=41"
check "unplug" softkey_ctl key unplug
check "unplugged: the socket is gone" [ ! -e "$T/key.sock" ]
check "plug" softkey_ctl key plug
check "plugged: the socket is back" [ -S "$T/key.sock" ]
stop_softkey key
check "stopped: the socket is gone" [ ! -e "$T/key.sock" ]
start_softkey key --pin 4321
check "a restart keeps the state" \
	contains "$(softkey_ctl key status)" "counter=41 retries=8 pin=no"
start_softkey pinned --pin 4321
check "--pin sets a PIN on a new key" \
	contains "$(softkey_ctl pinned status)" "pin=yes"
check "mode notouch,unplug" softkey_ctl pinned mode notouch,unplug
check "unplugged by mode" [ ! -e "$T/pinned.sock" ]
check "plug after mode unplug" softkey_ctl pinned plug
check "status after plug" \
	contains "$(softkey_ctl pinned status)" "mode=notouch counter"
start_softkey absent --mode unplug
check "--mode unplug: no socket" [ ! -e "$T/absent.sock" ]
check "--mode unplug: control works" softkey_ctl absent plug
check "--mode unplug, then plug: socket" [ -S "$T/absent.sock" ]
finish

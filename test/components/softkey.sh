# The software security key (test/softkey) for end-to-end scripts; sourced
# by test/lib.sh, which provides $T, start_server and die.
#
#   start_softkey NAME [kmfa-softkey flags...]
#       Start a key with socket $T/NAME.sock, state $T/NAME.state and
#       control socket $T/NAME.ctl, and set SOFTKEY_DEV=unix:$T/NAME.sock,
#       the form --fido2-device takes.  Flags: --mode MODE[,MODE...]
#       (touch notouch refuse rollback badsig nohmac), --touch-delay MS,
#       --touch-timeout MS, --pin PIN.  Restarting a stopped NAME keeps its
#       credentials, counter and PIN (the state file).
#   softkey_ctl NAME COMMAND...
#       Send one control line (mode notouch, delay 300, timeout 500,
#       counter-rollback, counter N, unplug, plug, status); true only when
#       the key answers "ok".  `softkey_ctl NAME status` prints
#       "mode=... counter=N retries=N pin=yes|no connected=yes|no".
#   stop_softkey NAME
#       Stop the key by its PID (to restart it, or to test a missing key).

SOFTKEY_BIN=$KMFA_BUILD/test/softkey/kmfa-softkey

start_softkey() {
	local name=$1; shift
	[ -x "$SOFTKEY_BIN" ] || die "softkey $name: $SOFTKEY_BIN is not built"
	# a restart under the same name needs start_server's fifo gone
	rm -f "$T/$name.fifo"
	start_server "$name" "$SOFTKEY_BIN" --socket "$T/$name.sock" \
		--state "$T/$name.state" --control "$T/$name.ctl" "$@"
	SOFTKEY_DEV=unix:$T/$name.sock
	export SOFTKEY_DEV
}

softkey_ctl() {
	local name=$1; shift
	local answer rc
	answer=$("$SOFTKEY_BIN" --send-control "$T/$name.ctl" "$@"); rc=$?
	# never print a line starting "ok ": test/run would count it as a case
	case $answer in
	"ok "*) printf '%s\n' "${answer#ok }" ;;
	ok) ;;
	*) echo "softkey_ctl $name $*: ${answer:-no answer}" >&2 ;;
	esac
	return $rc
}

stop_softkey() {
	local name=$1 pid fd
	eval "pid=\${${name}_PID:-} fd=\${_kmfa_fd_$name:-}"
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if [ -n "$fd" ]; then
		exec {fd}<&-
	fi
	eval "${name}_PID= _kmfa_fd_$name="
	rm -f "$T/$name.fifo"
	return 0
}

# A private Secret Service for keyring tests (docs/DESIGN.md §11), sourced by
# test/lib.sh.  A session bus of our own on a socket under $T and a
# gnome-keyring-daemon on it with a throwaway password, in the test's private
# HOME; both stopped by PID at exit.  Never the user's own keyring: every
# function here refuses to run when the bus address points outside $T.
#
#   start_session_bus   a bus only (no Secret Service): exports
#                       DBUS_SESSION_BUS_ADDRESS, sets BUS_PID
#   start_keyring       a bus and gnome-keyring with an unlocked default
#                       "login" collection, sets KEYRING_PID; with
#                       KMFA_KEYRING_PROVIDER=keepassxc, KeePassXC instead
#                       (test/components/keepassxc.sh), its settings as
#                       start_keepassxc takes them
#   keyring_lock        lock the default collection (no prompt is needed to lock)
#   keyring_no_window   true when the provider showed no window and asked
#                       for no prompt: gnome-keyring's log names no prompt,
#                       KeePassXC's display has and had no window but its
#                       main one
#   keyring_has_owner   0 when org.freedesktop.secrets has an owner now,
#                       1 when the bus says it has none, 2 when the bus
#                       did not answer (never taken for "no owner")

KEYRING_PASSWORD=kmfa-test-keyring

# The address must be a socket in $T, or nothing here may talk to it.
_keyring_guard() {
	case ${DBUS_SESSION_BUS_ADDRESS:-} in
	"unix:path=$T/"*) return 0 ;;
	*) die "refusing to use session bus '${DBUS_SESSION_BUS_ADDRESS:-unset}' outside $T" ;;
	esac
}

_bus_call() {
	_keyring_guard
	dbus-send --session --print-reply=literal --reply-timeout=2000 "$@"
}

keyring_has_owner() {
	local out
	out=$(_bus_call --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets) ||
		return 2
	case $out in
	*true*) return 0 ;;
	*false*) return 1 ;;
	esac
	return 2
}

start_session_bus() {
	local sock=$T/bus fifo=$T/bus.fifo fd line
	[ -n "${BUS_PID:-}" ] && return 0
	# The standard session configuration, service activation included, so
	# that tests can show the plugin never activates a Secret Service.
	# Not --fork: as our child it is stopped and reaped by PID at exit; it
	# prints its address on fd 3 once it listens.
	mkfifo "$fifo"
	dbus-daemon --session --nofork --nopidfile --address="unix:path=$sock" \
	    --print-address=3 3>"$fifo" 2>"$T/bus.log" &
	BUS_PID=$!
	_kmfa_pids+=("$BUS_PID")
	exec {fd}<"$fifo"
	read -r -t 10 -u "$fd" line ||
		die "dbus-daemon did not start: $(tail -3 "$T/bus.log")"
	exec {fd}<&-
	contains "$line" "unix:path=$sock" || die "dbus-daemon listens on '$line'"
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$sock"
	_keyring_guard
}

KMFA_KEYRING_PROVIDER=${KMFA_KEYRING_PROVIDER:-gnome}

start_keyring() {
	local i pw=$T/keyring.pw out
	if [ "$KMFA_KEYRING_PROVIDER" = keepassxc ]; then
		start_keepassxc "$@"
		return
	fi
	start_session_bus
	[ -n "${KEYRING_PID:-}" ] && return 0
	printf '%s' "$KEYRING_PASSWORD" >"$pw"
	# --unlock reads the login password from stdin and creates (or opens)
	# the "login" collection with it, unlocked, as PAM does at a desktop login.
	gnome-keyring-daemon --foreground --unlock --components=secrets \
	    <"$pw" >"$T/keyring.log" 2>&1 &
	KEYRING_PID=$!
	_kmfa_pids+=("$KEYRING_PID")
	# Bounded wait for the name, polled: 200 x 50 ms = 10 s at most.
	for ((i = 0; i < 200; i++)); do
		keyring_has_owner && break
		kill -0 "$KEYRING_PID" 2>/dev/null ||
			die "gnome-keyring-daemon exited: $(tail -3 "$T/keyring.log")"
		sleep 0.05
	done
	keyring_has_owner
	case $? in
	0) ;;
	1) die "org.freedesktop.secrets has no owner after 10 s" ;;
	*) die "the session bus does not answer NameHasOwner" ;;
	esac
	out=$(_bus_call --dest=org.freedesktop.secrets /org/freedesktop/secrets \
	    org.freedesktop.Secret.Service.ReadAlias string:default) ||
		die "ReadAlias default failed"
	contains "$out" /org/freedesktop/secrets/collection/login ||
		die "no default login collection (ReadAlias: $out)"
	# A store and a lookup prove the collection is unlocked and writable.
	printf 'probe' | secret-tool store --label=kmfa-probe kmfa-test probe \
	    2>"$T/secret-tool.err" || die "secret-tool store: $(cat "$T/secret-tool.err")"
	[ "$(secret-tool lookup kmfa-test probe)" = probe ] ||
		die "secret-tool lookup did not return the stored probe"
	secret-tool clear kmfa-test probe
}

keyring_lock() {
	[ "$KMFA_KEYRING_PROVIDER" = keepassxc ] && { keepassxc_lock; return; }
	_bus_call --dest=org.freedesktop.secrets /org/freedesktop/secrets \
	    org.freedesktop.Secret.Service.Lock \
	    array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
}

# The object path the default alias names, or nothing.
_keyring_default() {
	_bus_call --dest=org.freedesktop.secrets /org/freedesktop/secrets \
	    org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null |
		grep -o '/org/freedesktop/secrets/collection/[A-Za-z0-9_]*'
}

# keyring_locked: true when the default collection says it is locked.
keyring_locked() {
	local out path
	path=$(_keyring_default) || return 1
	out=$(_bus_call --dest=org.freedesktop.secrets "$path" \
	    org.freedesktop.DBus.Properties.Get \
	    string:org.freedesktop.Secret.Collection string:Locked) || return 1
	contains "$out" true
}

keyring_no_window() {
	if [ "$KMFA_KEYRING_PROVIDER" = keepassxc ]; then
		[ -z "$(keepassxc_windows)" ] && [ -z "$(keepassxc_windows_seen)" ]
	else
		! grep -qi prompt "$T/keyring.log"
	fi
}

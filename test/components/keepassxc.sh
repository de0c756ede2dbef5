# KeePassXC as the Secret Service, sourced by test/lib.sh (issue 13).  A
# real KeePassXC 2.7 (Debian's keepassxc) on the test's private session bus
# (start_session_bus), drawn on a private Xvfb display of its own: its
# windows are real X11 windows there, so a test can count them.  That is
# how "no window, ever" is checked rather than assumed: after each case,
# keepassxc_windows lists every viewable top-level window but the main one
# (which a user's KeePassXC has open anyway); an unlock, access or delete
# dialog shows up there.  A window that came and went between two checks
# is caught too: from its start a watcher samples the display every 100 ms
# and appends every other window's title to $T/kpx-windows.log, which
# keyring_no_window (test/components/keyring.sh) requires to be empty.  (Under QT_QPA_PLATFORM=offscreen a dialog would
# be drawn nowhere and could not be seen from outside.)  The plugin itself
# never gets DISPLAY.
#
#   start_keepassxc [UnlockBeforeSearch ConfirmAccessItem ConfirmDeleteItem]
#       each true or false (default: true false false, KeePassXC's own
#       defaults); a fresh database, password $KEYRING_PASSWORD, whose
#       root group is exposed as the default collection; opened with
#       --pw-stdin, so no window asks for it.  Sets KEYRING_PID.
#   stop_keepassxc      exit it (appExit over D-Bus, then by PID)
#   keepassxc_lock      lock the database (MainWindow.lockAllDatabases)
#   keepassxc_unlock    unlock it with the password, no dialog
#                       (MainWindow.openDatabase(file, password))
#   keepassxc_windows   the titles of viewable top-level windows other than
#                       the main window, one a line; empty when none
#   keepassxc_close_windows   close them (after a case that failed)
#
# The exposed group is stored in the database itself (custom data
# FDO_SECRETS_EXPOSED_GROUP = the group's braced UUID), which only the GUI
# sets; here keepassxc-cli exports a new database to XML, the item is
# added, and keepassxc-cli imports it again.

_kpx_db=""
_kpx_display=""

_kpx_x() { DISPLAY=$_kpx_display "$@"; }

_kpx_database() {
	local db=$1 xml=$T/kpx.xml b64 hex uuid
	printf '%s\n%s\n' "$KEYRING_PASSWORD" "$KEYRING_PASSWORD" |
		keepassxc-cli db-create -q -p -t 100 "$T/kpx-empty.kdbx" >/dev/null 2>&1 ||
		die "keepassxc-cli db-create failed"
	printf '%s\n' "$KEYRING_PASSWORD" |
		keepassxc-cli export -q -f xml "$T/kpx-empty.kdbx" >"$xml" 2>/dev/null ||
		die "keepassxc-cli export failed"
	# The root group's UUID: base64 in the XML, braced hex in custom data.
	b64=$(sed -n '/<Root>/,$ s:.*<UUID>\(.*\)</UUID>.*:\1:p' "$xml" | head -1)
	hex=$(printf '%s' "$b64" | base64 -d | od -An -tx1 | tr -d ' \n')
	[ ${#hex} -eq 32 ] || die "no root group UUID in the export ($b64)"
	uuid="{${hex:0:8}-${hex:8:4}-${hex:12:4}-${hex:16:4}-${hex:20:12}}"
	sed "s#</Meta>#<CustomData><Item><Key>FDO_SECRETS_EXPOSED_GROUP</Key><Value>$uuid</Value></Item></CustomData></Meta>#" \
		"$xml" >"$xml.exposed"
	printf '%s\n%s\n' "$KEYRING_PASSWORD" "$KEYRING_PASSWORD" |
		keepassxc-cli import -q -p -t 100 "$xml.exposed" "$db" >/dev/null 2>&1 ||
		die "keepassxc-cli import failed"
	rm -f "$xml" "$xml.exposed" "$T/kpx-empty.kdbx"
}

_kpx_start_x() {
	local fifo=$T/xvfb.fifo fd n
	[ -n "$_kpx_display" ] && return 0
	mkfifo "$fifo"
	# -displayfd: Xvfb picks a free display and prints its number.
	Xvfb -displayfd 3 -nolisten tcp -screen 0 1024x768x24 3>"$fifo" \
	    >"$T/xvfb.log" 2>&1 &
	_kmfa_pids+=("$!")
	exec {fd}<"$fifo"
	read -r -t 10 -u "$fd" n || die "Xvfb did not start: $(tail -3 "$T/xvfb.log")"
	exec {fd}<&-
	_kpx_display=":$n"
}

start_keepassxc() {
	local ubs=${1:-true} cai=${2:-false} cdi=${3:-false} i out
	start_session_bus
	_kpx_start_x
	[ -n "${KEYRING_PID:-}" ] && return 0
	_kpx_db=$T/kpx.kdbx
	[ -f "$_kpx_db" ] || _kpx_database "$_kpx_db"
	mkdir -p "$T/kpx-tmp" && chmod 700 "$T/kpx-tmp"
	# No single-instance socket (other test runs on this machine have
	# their own KeePassXC), nothing remembered, every change saved at
	# once, no idle lock, no update check, no notification.
	cat >"$T/kpx.ini" <<-EOF
	[General]
	ConfigVersion=2
	SingleInstance=false
	RememberLastDatabases=false
	RememberLastKeyFiles=false
	OpenPreviousDatabasesOnStartup=false
	AutoSaveAfterEveryChange=true
	BackupBeforeSave=false
	[GUI]
	CheckForUpdates=false
	ShowTrayIcon=false
	[Security]
	LockDatabaseIdle=false
	LockDatabaseScreenLock=false
	[FdoSecrets]
	Enabled=true
	ShowNotification=false
	UnlockBeforeSearch=$ubs
	ConfirmAccessItem=$cai
	ConfirmDeleteItem=$cdi
	EOF
	: >"$T/kpx-local.ini"
	printf '%s\n' "$KEYRING_PASSWORD" |
		env DISPLAY="$_kpx_display" QT_QPA_PLATFORM=xcb TMPDIR="$T/kpx-tmp" \
		keepassxc --config "$T/kpx.ini" --localconfig "$T/kpx-local.ini" \
		--pw-stdin "$_kpx_db" >"$T/keyring.log" 2>&1 &
	KEYRING_PID=$!
	_kmfa_pids+=("$KEYRING_PID")
	# Bounded wait for an unlocked default collection, polled.
	for ((i = 0; i < 300; i++)); do
		kill -0 "$KEYRING_PID" 2>/dev/null ||
			die "keepassxc exited: $(tail -3 "$T/keyring.log")"
		if keyring_has_owner; then
			out=$(_bus_call --dest=org.freedesktop.secrets /org/freedesktop/secrets \
			    org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null)
			case $out in */collection/*) keyring_locked || break ;; esac
		fi
		sleep 0.05
	done
	[ $i -lt 300 ] || die "KeePassXC shows no unlocked default collection after 15 s: $(tail -3 "$T/keyring.log")"
	[ -z "$(keepassxc_windows)" ] ||
		die "KeePassXC opened a window at start: $(keepassxc_windows)"
	: >>"$T/kpx-windows.log"
	# Sampling, not synchronisation: it only records what it sees.
	( while kill -0 "$KEYRING_PID" 2>/dev/null; do
		keepassxc_windows >>"$T/kpx-windows.log"
		sleep 0.1
	done ) &
	_kmfa_pids+=("$!")
}

# Every window but the main one seen since start, one title a line.
keepassxc_windows_seen() { sort -u "$T/kpx-windows.log" 2>/dev/null; }

stop_keepassxc() {
	[ -n "${KEYRING_PID:-}" ] || return 0
	_bus_call --dest=org.keepassxc.KeePassXC.MainWindow /keepassxc \
	    org.keepassxc.KeePassXC.MainWindow.appExit >/dev/null 2>&1
	for ((i = 0; i < 100; i++)); do
		kill -0 "$KEYRING_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$KEYRING_PID" 2>/dev/null
	wait "$KEYRING_PID" 2>/dev/null
	KEYRING_PID=
	# the name goes with the process; wait until the bus says so
	for ((i = 0; i < 100; i++)); do keyring_has_owner; [ $? -eq 1 ] && break; sleep 0.05; done
}

keepassxc_lock() {
	_bus_call --dest=org.keepassxc.KeePassXC.MainWindow /keepassxc \
	    org.keepassxc.KeePassXC.MainWindow.lockAllDatabases >/dev/null || return 1
	for ((i = 0; i < 100; i++)); do keyring_locked && return 0; sleep 0.05; done
	return 1
}

keepassxc_unlock() {
	_bus_call --dest=org.keepassxc.KeePassXC.MainWindow /keepassxc \
	    org.keepassxc.KeePassXC.MainWindow.openDatabase \
	    string:"$_kpx_db" string:"$KEYRING_PASSWORD" >/dev/null || return 1
	for ((i = 0; i < 100; i++)); do keyring_locked || return 0; sleep 0.05; done
	return 1
}

# Viewable top-level windows of the display but the main window, whose
# title is "<file>[*] - KeePassXC" (or "... [Locked] - KeePassXC").
keepassxc_windows() {
	local w name
	[ -n "$_kpx_display" ] || return 0
	for w in $(_kpx_x xdotool search --onlyvisible --name '.' 2>/dev/null); do
		name=$(_kpx_x xdotool getwindowname "$w" 2>/dev/null)
		case $name in "${_kpx_db##*/}"*" - KeePassXC") continue ;; esac
		printf '%s\n' "$name"
	done
}

keepassxc_close_windows() {
	local w name
	for w in $(_kpx_x xdotool search --onlyvisible --name '.' 2>/dev/null); do
		name=$(_kpx_x xdotool getwindowname "$w" 2>/dev/null)
		case $name in "${_kpx_db##*/}"*" - KeePassXC") continue ;; esac
		_kpx_x xdotool windowclose "$w" 2>/dev/null
	done
}

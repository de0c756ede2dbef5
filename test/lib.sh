# Shared end-to-end test harness, sourced by test/e2e/*.sh.
#
# Every script runs in its own private world: a fresh HOME and XDG folders
# under a temporary directory, no session bus unless a test starts its own,
# and every component it starts is stopped by PID when the script exits.
# Cases report `ok - NAME` or `not ok - NAME`; test/run counts them.
# A component that cannot start is a failure, never a skip.  A case that
# cannot run here for a reason outside the product reports `skip - NAME:
# WHY`, which test/run counts and shows: never a silent omission.

set -u
: "${KMFA_BUILD:?run through test/run (make test)}"
: "${KMFA_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
KMFA=$KMFA_BUILD/bin/kubectl-mfa
KMFA_CORE=$KMFA_BUILD/libexec/kubectl-mfa/kubectl-mfa-core

T=$(mktemp -d /tmp/kmfa-test.XXXXXX)
chmod 700 "$T"
export HOME=$T/home XDG_CACHE_HOME=$T/home/.cache XDG_CONFIG_HOME=$T/home/.config
export XDG_STATE_HOME=$T/home/.local/state XDG_RUNTIME_DIR=$T/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset DBUS_SESSION_BUS_ADDRESS KUBECONFIG KUBERNETES_EXEC_INFO CI NO_COLOR
unset DISPLAY WAYLAND_DISPLAY BROWSER
_kmfa_pids=()
_kmfa_cleanups=()
_kmfa_failed=0

_kmfa_cleanup() {
	local i
	for ((i = ${#_kmfa_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_kmfa_cleanups[i]}" >/dev/null 2>&1 || true
	done
	for pid in "${_kmfa_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${_kmfa_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${KMFA_KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap _kmfa_cleanup EXIT

# Run a shell command at exit, before the tracked processes are killed.
at_exit() { _kmfa_cleanups+=("$1"); }

ok() { echo "ok - $1"; }
# skip NAME WHY: a case that cannot run on this machine, counted and shown.
skip() { echo "skip - $1: $2"; }
# With KMFA_FAIL_FAST=1 (make mutate sets it) the first failure ends the
# script: one failed case is all a mutation run needs to know.
not_ok() {
	echo "not ok - $1${2:+: $2}"
	_kmfa_failed=1
	[ "${KMFA_FAIL_FAST:-0}" != 1 ] || exit 1
}
# check NAME COMMAND...: one case that passes when COMMAND succeeds.
# check NAME 'CONDITION': with one string, it is evaluated as shell, so
# conditions joined with && or || stay inside the case.
check() {
	local name=$1; shift
	if [ $# -eq 1 ]; then
		if eval "$1"; then ok "$name"; else not_ok "$name"; fi
	elif "$@"; then ok "$name"; else not_ok "$name"; fi
}
# Abort the script: a component did not start, so nothing after it can be
# trusted.  Counted as a failure.
die() {
	echo "not ok - setup: $*"
	exit 1
}
finish() { exit "$_kmfa_failed"; }

# start_server NAME CMD...: start CMD in the background; it must print one
# line `READY <info>` on stdout once it serves (and nothing else on stdout).
# Sets REPLY to <info>.  Its stderr goes to $T/NAME.log.  Fails (die) if it
# exits or stays silent for 30 s.
start_server() {
	local name=$1; shift
	local fifo=$T/$name.fifo line fd
	mkfifo "$fifo"
	"$@" >"$fifo" 2>"$T/$name.log" &
	local pid=$!
	_kmfa_pids+=("$pid")
	exec {fd}<"$fifo"
	if ! read -r -t 30 -u "$fd" line || [ "${line%% *}" != READY ]; then
		echo "--- $name log ---" >&2
		tail -20 "$T/$name.log" >&2
		die "$name did not start (got '${line:-nothing}')"
	fi
	# Keep the read end open for the server's lifetime; it writes no more.
	eval "_kmfa_fd_$name=$fd"
	REPLY=${line#READY }
	eval "${name}_PID=$pid"
}

# Assert helpers for one-line checks.
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
# expect_exit CODE CMD...: run CMD, set OUT/ERR/RC, true when RC == CODE.
# Its stderr is kept (keep_stderr).
expect_exit() {
	local want=$1; shift
	"$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
	keep_stderr "$T/err"
	[ "$RC" -eq "$want" ]
}

# keep_stderr FILE...: keep a copy of each run's stderr in $T/stderr/, so
# that a scan at the end sees what every run wrote, not only what the last
# run left in a reused file.  Returns 0 whatever it copied.
KMFA_STDERR_DIR=$T/stderr
mkdir -p "$KMFA_STDERR_DIR"
_kmfa_nstderr=0
keep_stderr() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		_kmfa_nstderr=$((_kmfa_nstderr + 1))
		cp -- "$f" "$KMFA_STDERR_DIR/$_kmfa_nstderr-${f##*/}"
	done
	return 0
}
kept_stderr_count() { find "$KMFA_STDERR_DIR" -type f | wc -l; }

# issued_patterns LOG...: every token an IdP logged as issued (idp.mjs and
# stub-idp.mjs --issued-log: JSON lines {kind, value}), one a line, and
# each token's consecutive 16-character pieces: any 31 characters of a
# token hold one whole piece, so a token cut short or split is found too.
# Tokens shorter than 16 characters are left out (they would match
# ordinary text).
issued_patterns() {
	local log
	for log in "$@"; do
		[ -s "$log" ] || continue
		jq -r .value "$log"
	done | awk 'length($0) >= 16 { print
			for (i = 1; i + 15 <= length($0); i += 16) print substr($0, i, 16) }' |
		sort -u
}
# issued_leaks LOG FILE...: the FILEs that hold any token LOG says the IdP
# issued, one name a line; nothing when none does.
issued_leaks() {
	local log=$1 pat; shift
	pat=$(mktemp "$T/patterns.XXXXXX")
	issued_patterns "$log" >"$pat"
	[ -s "$pat" ] && grep -lF -f "$pat" -- "$@" 2>/dev/null
	rm -f "$pat"
	return 0
}

for _c in "$KMFA_SRC"/test/components/*.sh; do
	[ -f "$_c" ] && . "$_c"
done
unset _c

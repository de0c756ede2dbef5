# Helpers for the hostile-input, crash and concurrency suites
# (test/e2e/hostile.sh, crash.sh, concurrency.sh); sourced by test/lib.sh.
#
#   mx_run MODE CMD...
#       Run CMD with stdin from /dev/null, stdout in $T/mx.out, stderr in
#       $T/mx.err; set MX_RC and MX_MS (wall time).  MODE tty gives it a
#       controlling terminal through script(1), as a person at a shell has;
#       MODE plain runs it in a new session without one (kubectl under CI).
#       Either way CMD is stopped after MX_LIMIT seconds (default 60).
#   mx_snapshot DIR...
#       One line per regular file under the DIRs: its path and SHA-256, in
#       order; two snapshots are equal only if no file was added, removed
#       or changed.  Lock files (*.lock) are left out: they are empty and
#       stay in place by design (lib/store/lock.c).
#   mx_last_line FILE
#       The last line of FILE (the one that ends a failed run).
#   mx_cache_valid FILE
#       True when FILE is a whole cache record: JSON with version 1 and a
#       non-empty token that is a three-part JWS.

mx_run() {
	local mode=$1 start; shift
	start=$(date +%s%N)
	case $mode in
	tty)
		timeout -k 5 "${MX_LIMIT:-60}" script -qec \
			"$(printf '%q ' "$@") >$T/mx.out 2>$T/mx.err" /dev/null \
			>/dev/null </dev/null
		;;
	plain)
		timeout -k 5 "${MX_LIMIT:-60}" setsid -w "$@" \
			>"$T/mx.out" 2>"$T/mx.err" </dev/null
		;;
	*) die "mx_run: mode $mode" ;;
	esac
	MX_RC=$?
	MX_MS=$(( ($(date +%s%N) - start) / 1000000 ))
}

mx_snapshot() {
	local d
	for d in "$@"; do
		[ -d "$d" ] || continue
		find "$d" -type f ! -name '*.lock' -print0 | sort -z | xargs -0r sha256sum
	done
}

mx_last_line() { tail -n 1 "$1"; }

mx_cache_valid() {
	jq -e '.version == 1 and (.token | type == "string") and
		(.token | split(".") | length == 3) and (.token_exp | type == "number")' \
		"$1" >/dev/null 2>&1
}

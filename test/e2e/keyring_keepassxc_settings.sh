#!/usr/bin/env bash
# KeePassXC's Secret Service settings, each both ways (issue 13): "unlock
# before search", "confirm access" and "confirm delete".  Each setting gets
# a KeePassXC of its own (test/components/keepassxc.sh), the store cases of
# test/unit/store/keyring.c run in it, and afterwards the display must
# never have shown a window but the main one (sampled all along).
. "$(dirname "$0")/../lib.sh"
export KMFA_KEYRING_PROVIDER=keepassxc

BIN=$KMFA_BUILD/test/unit/store/keyring
[ -x "$BIN" ] || die "$BIN is missing (make test-bins)"
export KMFA_TEST_DIR=$T

# unit LABEL MODE: the store cases for MODE, one ok/not ok per case.
unit() {
	local label=$1 mode=$2 log=$T/unit.log rc
	KMFA_TEST_KEYRING=$mode timeout 60 "$BIN" >"$log" 2>"$T/unit.err"
	rc=$?
	sed -n 's/^\[       OK \] \(test_.*\)/ok - '"$label"': \1/p' "$log"
	sed -n 's/^\[  FAILED  \] \(test_.*\)/not ok - '"$label"': \1/p' "$log" |
		sort -u | tee "$T/unit.failed"
	[ -s "$T/unit.failed" ] && _kmfa_failed=1
	if [ "$rc" -ne 0 ] && [ ! -s "$T/unit.failed" ]; then
		not_ok "$label: unit/store/keyring exited $rc" "$(tail -3 "$T/unit.err")"
	fi
	grep -E 'Failure|error' "$log" | head -5
	return 0
}

# fresh UBS CAI CDI: a KeePassXC of its own with these settings.
fresh() {
	stop_keepassxc
	rm -f "$T/kpx.kdbx" "$T/kpx-windows.log"
	start_keyring "$@"
}

for ubs in true false; do
	fresh "$ubs" false false
	unit "unlock before search $ubs" present
	keyring_lock || die "could not lock the KeePassXC database"
	unit "unlock before search $ubs, locked" locked
	check "unlock before search $ubs: locked, a load says so in one line" \
		grep -q '^kubectl-mfa: warning: the keyring is locked, so the cached token cannot be read' "$T/unit.err"
	check "unlock before search $ubs: no window, ever ($(keepassxc_windows_seen | tr '\n' ';'))" \
		keyring_no_window
done

for setting in "access true false" "delete false true" "none false false"; do
	set -- $setting
	fresh true "$2" "$3"
	KMFA_TEST_CONFIRM=$1 unit "confirm $1" settings
	KMFA_TEST_CONFIRM=$1 unit "confirm $1, another process" settings-later
	check "confirm $1: no window, ever ($(keepassxc_windows_seen | tr '\n' ';'))" \
		keyring_no_window
done

finish

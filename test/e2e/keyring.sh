#!/usr/bin/env bash
# Keyring storage against a real gnome-keyring on a private session bus
# (docs/DESIGN.md §11).  The store cases live in test/unit/store/keyring.c; this
# script sets up each situation, runs that binary in it, and checks from
# outside what the binary cannot see: the item through secret-tool, the
# runtime mirror on disk, the stderr line for a locked keyring, and that no
# Secret Service was activated behind our back.
. "$(dirname "$0")/../lib.sh"

BIN=$KMFA_BUILD/test/unit/store/keyring
SEED=5eed000000000000000000000000000000000000000000000000000000000000
SEALED=kmfa-sealed-v1.AAAAbm90LWEtcmVhbC1lbnZlbG9wZQ
[ -x "$BIN" ] || die "$BIN is missing (make test-bins)"
export KMFA_TEST_DIR=$T

# unit MODE: run the store cases for MODE, bounded; one ok/not ok per case.
unit() {
	local mode=$1 log=$T/unit-$1.log rc
	KMFA_TEST_KEYRING=$mode timeout 60 "$BIN" >"$log" 2>"$T/unit-$mode.err"
	rc=$?
	sed -n 's/^\[       OK \] \(test_.*\)/ok - '"$mode"': \1/p' "$log"
	sed -n 's/^\[  FAILED  \] \(test_.*\)/not ok - '"$mode"': \1/p' "$log" |
		sort -u | tee "$T/unit-$mode.failed"
	[ -s "$T/unit-$mode.failed" ] && _kmfa_failed=1
	if [ "$rc" -ne 0 ] && [ ! -s "$T/unit-$mode.failed" ]; then
		not_ok "$mode: unit/store/keyring exited $rc" "$(tail -3 "$T/unit-$mode.err")"
	fi
	grep -E 'Failure|error' "$log" | head -5
	return 0
}

start_keyring

# --- an unlocked default collection ---
unit present

items=$(secret-tool search --all service kubectl-mfa 2>&1)
check "secret-tool finds the item by service=kubectl-mfa" \
	contains "$items" "attribute.key = $SEED"
check "the item is labelled with issuer and client id" \
	contains "$items" "label = kubectl-mfa: https://idp.example (kubectl)"
check "the item holds the sealed refresh token as given" \
	contains "$items" "\"refresh\":\"$SEALED\",\"refresh_sealed\":true"
check "the items of the other cases were removed" \
	[ "$(grep -c '^attribute.key' <<<"$items")" -eq 1 ]

mirror=$XDG_RUNTIME_DIR/kubectl-mfa/$SEED.json
check "the runtime mirror exists, 0600 in a 0700 folder" \
	[ "$(stat -c %a "$mirror" 2>/dev/null)/$(stat -c %a "${mirror%/*}")" = 600/700 ]
check "the runtime mirror has no refresh token" \
	bash -c "grep -q seed-token '$mirror' && ! grep -q refresh '$mirror'"
check "keyring storage writes no token file to the cache folder" \
	[ -z "$(find "$HOME" -name '*.json' -path '*cache*' 2>/dev/null)" ]

# --- the same collection, locked ---
keyring_lock || die "could not lock the login collection"
keyring_locked || die "the login collection does not say it is locked"
start=$(date +%s%N)
unit locked
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "locked: the whole run is bounded (${ms} ms < 10000)" [ "$ms" -lt 10000 ]
check "locked: a load says so in one line" \
	grep -q '^kubectl-mfa: warning: the keyring is locked, so the cached token cannot be read' \
	"$T/unit-locked.err"
check "locked: nothing asked for a prompt, no window opened" keyring_no_window

# --- a Secret Service that owns its name and never answers ---
kill -STOP "$KEYRING_PID"
at_exit "kill -CONT $KEYRING_PID"
unit stopped
kill -CONT "$KEYRING_PID"

# --- a bus without a Secret Service; the standard session config would
# activate gnome-keyring for org.freedesktop.secrets if anyone asked ---
kill "$KEYRING_PID"
wait "$KEYRING_PID" 2>/dev/null
# keyring_has_owner: 0 owner, 1 the bus says no owner, 2 no answer; only
# an answer of "no owner" counts as absent.
for ((i = 0; i < 100; i++)); do keyring_has_owner; [ $? -eq 0 ] || break; sleep 0.05; done
keyring_has_owner; owner=$?
[ $owner -eq 1 ] || die "org.freedesktop.secrets: NameHasOwner gave $owner, not 1 (no owner)"
unit absent
keyring_has_owner; owner=$?
check "absent: the plugin did not activate a Secret Service (the bus answers: no owner)" \
	[ $owner -eq 1 ]

finish

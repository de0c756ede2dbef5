#!/usr/bin/env bash
# The trust placed in the credentials file and the master key, end to end
# with the software key and the real IdP: a master-key change, concurrent
# use of one credentials file, no silent downgrade to an unsealed refresh
# token, and the MACs that authenticate the file under the master key.
. "$(dirname "$0")/../lib.sh"

start_idp --id-token-ttl 600
browser_env alice
start_softkey key1; KEY1=$SOFTKEY_DEV
start_softkey key2; KEY2=$SOFTKEY_DEV

CRED=$XDG_CONFIG_HOME/kubectl-mfa/credentials.json
BASE=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --token-cache-storage disk
	--browser-command "$KMFA_BROWSER" --timeout 20s)

attended() {
	: "attended $*"
	script -qec "$(printf '%q ' "$@") >$T/a.out 2>$T/a.err" /dev/null \
		>/dev/null </dev/null
}
entry() { find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json' | head -1; }
expire() {
	local f; f=$(entry)
	jq '.token_exp = (now | floor) - 1' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
}
counter() { softkey_ctl "$1" status | sed -n 's/.*counter=\([0-9]*\).*/\1/p'; }

# Item 4: a master-key change (the only key removed, a new one enrolled)
# leaves a sealed refresh token no enrolled key opens.  After the touch the
# login drops it, says so, and falls back to the device flow.
expect_exit 0 "$KMFA" enroll --name one --fido2-device "$KEY1"
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY1"; rc=$?
check "first login seals the refresh token" \
	'[ $rc -eq 0 ] && [ "$(jq -r .refresh_sealed "$(entry)")" = true ]'
expect_exit 0 "$KMFA" keys remove one
expect_exit 0 "$KMFA" enroll --name two --fido2-device "$KEY2"
expire; dev=$(idp_count /device/auth); c=$(counter key2)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2"; rc=$?
check "after a master-key change the login falls back to the device flow" \
	'[ $rc -eq 0 ] && jq -e .status.token "$T/a.out" >/dev/null && [ "$(idp_count /device/auth)" -eq $((dev + 1)) ]'
check "it says in one line that the sealed refresh token was dropped" \
	'[ "$(grep -c "sealed refresh token .*dropped" "$T/a.err")" -eq 1 ]'
check "the touch was still required" '[ "$(counter key2)" -gt "$c" ]'
check "the new record is sealed under the new master key" \
	'[ "$(jq -r .refresh_sealed "$(entry)")" = true ]'
expire; softkey_ctl key2 mode refuse
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2"; rc=$?
softkey_ctl key2 mode touch
check "never fails open: a refused touch is still exit 4" \
	'[ $rc -eq 4 ] && [ ! -s "$T/a.out" ]'
# Item 5: read-modify-write of the credentials file under its lock.
names() { jq -r '[.credentials[].name] | sort | join(",")' "$CRED"; }
disk_counter() { jq -r ".credentials[] | select(.name == \"$1\") | .sign_count" "$CRED"; }
start_softkey key3 --mode nohmac; KEY3=$SOFTKEY_DEV
start_softkey key4; KEY4=$SOFTKEY_DEV
start_softkey key5 --mode nohmac; KEY5=$SOFTKEY_DEV
start_softkey key6 --mode nohmac; KEY6=$SOFTKEY_DEV
# (A delay on the enrolled key makes the new one the first touched.)
softkey_ctl key2 delay 1500
expect_exit 0 "$KMFA" enroll --name four --fido2-device "$KEY4,$KEY2"; rc=$?
softkey_ctl key2 delay 0
check "a second key with hmac-secret enrolls" '[ $rc -eq 0 ]'

# Deterministic first: an enrolment ("three") that read the file waits for
# the touch of an enrolled key; meanwhile a login touches key2 and another
# enrolment adds "five".  When the first one finishes, neither the new key
# nor the higher counter may be lost.
softkey_ctl key4 timeout 20000 && softkey_ctl key4 mode notouch
script -qec "$(printf '%q ' "$KMFA" enroll --name three --fido2-device "$KEY3,$KEY4") \
	>$T/en.out 2>$T/en.err" /dev/null >/dev/null </dev/null &
enpid=$!
for _ in $(seq 500); do grep -q "Touch an already-enrolled" "$T/en.err" 2>/dev/null && break; sleep 0.02; done
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2" --token-cache-dir "$T/mid"; rc=$?
softkey_ctl key2 delay 1500
expect_exit 0 "$KMFA" enroll --name five --fido2-device "$KEY5,$KEY2"; enrc=$?
softkey_ctl key2 delay 0
check "meanwhile a login and another enrolment succeed" '[ $rc -eq 0 ] && [ $enrc -eq 0 ]'
softkey_ctl key4 mode touch
wait $enpid; enrc=$?
check "the held enrolment completes" '[ $enrc -eq 0 ]'
check "it kept the key enrolled meanwhile ($(names))" '[ "$(names)" = "five,four,three,two" ]'
check "it did not write back an older counter ($(counter key2))" \
	'[ "$(disk_counter two)" -eq "$(counter key2)" ]'

# Then 8 logins at once (each with its own cache, so none waits on another's
# cache lock) and an enrolment, on one credentials file.
softkey_ctl key4 delay 1500
pids=()
for i in 1 2 3 4 5 6 7 8; do
	script -qec "$(printf '%q ' "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2" \
		--token-cache-dir "$T/par$i") >$T/par$i.out 2>$T/par$i.err" /dev/null \
		>/dev/null </dev/null &
	pids+=($!)
done
script -qec "$(printf '%q ' "$KMFA" enroll --name six --fido2-device "$KEY6,$KEY4") \
	>$T/en.out 2>$T/en.err" /dev/null >/dev/null </dev/null &
enpid=$!
ok=0
for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
wait $enpid; enrc=$?
softkey_ctl key4 delay 0
check "8 concurrent logins on one credentials file all succeed ($ok)" '[ $ok -eq 8 ]'
check "the concurrent enrolment succeeds" '[ $enrc -eq 0 ]'
check "every key is still in the file ($(names))" '[ "$(names)" = "five,four,six,three,two" ]'
check "the counter on disk is the highest the key gave ($(counter key2))" \
	'[ "$(disk_counter two)" -eq "$(counter key2)" ]'
check "the lock file lies beside the credentials file, 0600" \
	'[ "$(stat -c %a "$CRED.lock")" = 600 ]'

# Item 2: no silent unsealed downgrade, and the file authenticated.
sealed_kept() { [ "$(jq -r .refresh "$(entry)" | cut -c1-6)" = kmfa1. ] && [ "$(jq -r .refresh_sealed "$(entry)")" = true ]; }
check "every key carries a MAC under the master key" \
	'[ "$(jq "[.credentials[] | select(.mac)] | length" "$CRED")" -eq 5 ]'
cp "$CRED" "$T/cred.good"
expire; before=$(jq -r .refresh "$(entry)")
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY3"; rc=$?
check "a touch by a key without hmac-secret logs in" \
	'[ $rc -eq 0 ] && jq -e .status.token "$T/a.out" >/dev/null'
check "... but stores no refresh token in plain text: the sealed one is kept" \
	'sealed_kept && [ "$(jq -r .refresh "$(entry)")" = "$before" ] && grep -q "the sealed one is kept" "$T/a.err"'

jq '(.credentials[] | select(.name == "two")) |= (.hmac_secret = false | del(.slot))' \
	"$T/cred.good" >"$CRED"
expire
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2"; rc=$?
check "a file edited to say hmac_secret false: still no plain refresh token" \
	'[ $rc -eq 0 ] && sealed_kept && [ "$(jq -r .refresh "$(entry)")" = "$before" ]'
expire
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY4"; rc=$?
check "... and the next touch that opens the master key refuses the file (exit 4, one line)" \
	'[ $rc -eq 4 ] && [ ! -s "$T/a.out" ] && tail -1 "$T/a.err" | grep -q "credentials file $CRED: key .two. fails its MAC"'

pk5=$(jq -r '.credentials[] | select(.name == "five") | .public_key' "$T/cred.good")
jq --arg pk "$pk5" '(.credentials[] | select(.name == "three")).public_key = $pk' \
	"$T/cred.good" >"$CRED"
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY4"; rc=$?
check "a swapped public key is refused after the touch" \
	'[ $rc -eq 4 ] && tail -1 "$T/a.err" | grep -q "key .three. fails its MAC"'

jq 'del(.credentials[2].mac)' "$T/cred.good" >"$CRED"
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY4"; rc=$?
check "a key without a MAC among keys with one is refused" \
	'[ $rc -eq 4 ] && tail -1 "$T/a.err" | grep -q "has no MAC"'

jq 'del(.credentials[].mac)' "$T/cred.good" >"$CRED"
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY4"; rc=$?
check "a file from before MACs is read, and its keys authenticated at the touch" \
	'[ $rc -eq 0 ] && grep -q "authenticated 5 keys" "$T/a.err" && [ "$(jq "[.credentials[] | select(.mac)] | length" "$CRED")" -eq 5 ]'

jq '.credentials[] |= (.hmac_secret = false | del(.slot) | del(.mac))' "$T/cred.good" >"$CRED"
expire; before=$(jq -r .refresh "$(entry)")
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2"; rc=$?
check "every slot and MAC stripped: the sealed record still keeps a plain token out" \
	'[ $rc -eq 0 ] && sealed_kept && [ "$(jq -r .refresh "$(entry)")" = "$before" ]'
cp "$T/cred.good" "$CRED"

# Item 3: re-keying.  A removal with nobody present marks the file; the
# next touch of a remaining key makes a new master key (one line says so),
# the cached token still refreshes, re-sealed under it, and the removed key
# with an old copy of the file opens nothing sealed since.
expect_exit 0 "$KMFA" keys remove four
check "keys remove with nobody present leaves the re-key to the next touch, and says what an old copy opens until then" \
	'contains "$ERR" "opens the refresh tokens sealed until the next touch of an enrolled key" && [ "$(jq -r .rekey_pending "$CRED")" = true ]'
expire; ref=$(idp_count /token refresh_token); dev=$(idp_count /device/auth)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2"; rc=$?
check "the next touch makes a new master key and says so in one line" \
	'[ $rc -eq 0 ] && [ "$(grep -c "made a new master key" "$T/a.err")" -eq 1 ] && [ "$(jq -r ".rekey_pending // false" "$CRED")" = false ]'
check "... and the cached token still refreshes (no device login), sealed under the new master key" \
	'[ "$(idp_count /token refresh_token)" -eq $((ref + 1)) ] && [ "$(idp_count /device/auth)" -eq "$dev" ] && sealed_kept'
cp "$CRED" "$T/cred.rekeyed"
cp "$T/cred.good" "$CRED"; expire; ref=$(idp_count /token refresh_token); dev=$(idp_count /device/auth)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY4"; rc=$?
check "the removed key with the old copy of the file does not open the token sealed after the re-key: a device login, no refresh" \
	'[ $rc -eq 0 ] && [ "$(idp_count /token refresh_token)" -eq "$ref" ] && [ "$(idp_count /device/auth)" -eq $((dev + 1)) ] && grep -q "does not open with the current master key" "$T/a.err"'
cp "$T/cred.rekeyed" "$CRED"
expire; ref=$(idp_count /token refresh_token)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY2"; rc=$?
check "the re-keyed file still authenticates under the new master key at the next touch" \
	'[ $rc -eq 0 ] && sealed_kept'
expect_exit 0 "$KMFA" keys remove three
check "removing a key without a slot says it never opened a sealed token" \
	'contains "$ERR" "had no key slot"'

# keys rekey on demand, and keys remove with a person present: one touch of
# a remaining key, every slot re-wrapped without the other keys at hand,
# and every cached entry re-sealed.  A fresh start: keys a and b, two
# entries (two configurations).
rm -f "$CRED"; rm -rf "$XDG_CACHE_HOME/kubectl-mfa"
start_softkey key7; KA=$SOFTKEY_DEV
start_softkey key8; KB=$SOFTKEY_DEV
start_softkey key9; KC=$SOFTKEY_DEV
touches() { softkey_ctl "$1" status | sed -n 's/.*touches=\([0-9]*\).*/\1/p'; }
expect_exit 0 "$KMFA" enroll --name a --fido2-device "$KA"
softkey_ctl key7 delay 1500
expect_exit 0 "$KMFA" enroll --name b --fido2-device "$KB,$KA"
expect_exit 0 "$KMFA" enroll --name c --fido2-device "$KC,$KA"
softkey_ctl key7 delay 0
check "three keys with slots" '[ "$(jq "[.credentials[] | select(.slot)] | length" "$CRED")" -eq 3 ]'
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KA"; F1=$(entry)
attended "$KMFA" get-token "${BASE[@]}" --oidc-extra-scope email --fido2-device "$KA"
F2=$(find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json' ! -path "$F1" | head -1)
check "two sealed cache entries" \
	'[ -n "$F2" ] && [ "$(jq -r .refresh_sealed "$F1")" = true ] && [ "$(jq -r .refresh_sealed "$F2")" = true ]'
sealed_at() { jq -r .refresh "$1"; }
expire_f() { jq '.token_exp = (now | floor) - 1' "$1" >"$1.new" && chmod 600 "$1.new" && mv "$1.new" "$1"; }
cp "$CRED" "$T/cred.old"
s1=$(sealed_at "$F1") s2=$(sealed_at "$F2") ta=$(touches key7) tb=$(touches key8)
expect_exit 0 "$KMFA" keys remove b
check "keys remove b (nobody present) marks the file for a re-key" '[ "$(jq -r .rekey_pending "$CRED")" = true ]'
expect_exit 0 "$KMFA" keys list
check "keys list says a re-key is pending" 'contains "$ERR" "the next touch of an enrolled key makes a new master key"'
stop_softkey key8	# b is gone: the re-key must not need it
attended "$KMFA" keys rekey --fido2-device "$KA"; rc=$?
check "keys rekey: one touch of a remaining key, a new master key" \
	'[ $rc -eq 0 ] && [ "$(touches key7)" -eq $((ta + 1)) ] && [ "$(jq -r ".rekey_pending // false" "$CRED")" = false ] && grep -q "Made a new master key" "$T/a.err"'
check "... the slot of c, which was not plugged in, is re-wrapped too" \
	'[ "$(jq -r ".credentials[] | select(.name == \"c\") | .slot" "$CRED")" != "$(jq -r ".credentials[] | select(.name == \"c\") | .slot" "$T/cred.old")" ]'
check "... both cached entries re-sealed, and it says so" \
	'grep -q "Re-sealed 2 cached refresh tokens" "$T/a.err" && [ "$(sealed_at "$F1")" != "$s1" ] && [ "$(sealed_at "$F2")" != "$s2" ]'
check "... and it says exactly what an old copy of the file still opens, one line" \
	'[ "$(grep -c "from before now, with a key removed since, opens only refresh tokens sealed before now" "$T/a.err")" -eq 1 ]'
expire_f "$F2"; ref=$(idp_count /token refresh_token); dev=$(idp_count /device/auth)
attended "$KMFA" get-token "${BASE[@]}" --oidc-extra-scope email --fido2-device "$KC"; rc=$?
check "c, never touched since the re-key, refreshes the re-sealed entry" \
	'[ $rc -eq 0 ] && [ "$(idp_count /token refresh_token)" -eq $((ref + 1)) ] && [ "$(idp_count /device/auth)" -eq "$dev" ]'
cp "$CRED" "$T/cred.new"; cp "$T/cred.old" "$CRED"
start_softkey key8; KB=$SOFTKEY_DEV
expire_f "$F1"; ref=$(idp_count /token refresh_token); dev=$(idp_count /device/auth)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KB"; rc=$?
check "b with the old copy of the file opens no token re-sealed by the re-key: a device login, no refresh" \
	'[ $rc -eq 0 ] && [ "$(idp_count /token refresh_token)" -eq "$ref" ] && [ "$(idp_count /device/auth)" -eq $((dev + 1)) ]'
cp "$T/cred.new" "$CRED"
tc=$(touches key9)
attended "$KMFA" keys remove c --fido2-device "$KA"; rc=$?
check "keys remove with a person present re-keys at once, with a touch of a remaining key" \
	'[ $rc -eq 0 ] && grep -q "Made a new master key" "$T/a.err" && [ "$(jq -r ".rekey_pending // false" "$CRED")" = false ] && [ "$(touches key9)" -eq "$tc" ]'
check "... and says what c with an old copy still opens, in one line" \
	'[ "$(grep -c "together with a copy of $CRED from before this removal opens only refresh tokens sealed before now" "$T/a.err")" -eq 1 ]'
attended "$KMFA" keys rekey --fido2-device "$KC"; rc=$?
check "keys rekey with a removed key: refused, exit 4" '[ $rc -eq 4 ] && [ ! -s "$T/a.out" ]'

# A re-key by another process while a login waits for its touch: the login
# seals under the new master key, not under the old one its touch opened.
softkey_ctl key7 delay 1500
expect_exit 0 "$KMFA" enroll --name d --fido2-device "$KB,$KA"
softkey_ctl key7 delay 0
softkey_ctl key8 timeout 20000 && softkey_ctl key8 mode notouch
expire_f "$F1"
script -qec "$(printf '%q ' "$KMFA" get-token "${BASE[@]}" --fido2-device "$KB") \
	>$T/race.out 2>$T/race.err" /dev/null >/dev/null </dev/null &
racepid=$!
for _ in $(seq 500); do grep -q "Touch your security key" "$T/race.err" 2>/dev/null && break; sleep 0.02; done
attended "$KMFA" keys rekey --fido2-device "$KA"; rc=$?
softkey_ctl key8 mode touch
wait $racepid; rc2=$?
check "a login whose touch began before another process re-keyed succeeds" '[ $rc -eq 0 ] && [ $rc2 -eq 0 ]'
expire_f "$F1"; ref=$(idp_count /token refresh_token); dev=$(idp_count /device/auth)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KA"; rc=$?
check "... and sealed its refresh token under the new master key: the next login refreshes it" \
	'[ $rc -eq 0 ] && [ "$(idp_count /token refresh_token)" -eq $((ref + 1)) ] && [ "$(idp_count /device/auth)" -eq "$dev" ]'
# An enrolment whose touch of an enrolled key opened the master key before
# another process re-keyed is refused, rather than saving a key whose slot
# and MAC hold the old master key (the next touch would refuse the file).
softkey_ctl key8 mode notouch
script -qec "$(printf '%q ' "$KMFA" enroll --name e --fido2-device "$KC,$KB") \
	>$T/en.out 2>$T/en.err" /dev/null >/dev/null </dev/null &
enpid=$!
for _ in $(seq 500); do grep -q "Touch an already-enrolled" "$T/en.err" 2>/dev/null && break; sleep 0.02; done
attended "$KMFA" keys rekey --fido2-device "$KA"; rc=$?
softkey_ctl key8 mode touch
wait $enpid; enrc=$?
check "an enrolment overtaken by a re-key is refused with a clear line, the key not added" \
	'[ $rc -eq 0 ] && [ $enrc -eq 4 ] && tail -1 "$T/en.err" | grep -q "re-keyed while this key was being enrolled" && [ "$(names)" = "a,d" ]'
expire_f "$F1"; ref=$(idp_count /token refresh_token)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KB"; rc=$?
check "... and the file still authenticates: the next login refreshes" \
	'[ $rc -eq 0 ] && [ "$(idp_count /token refresh_token)" -eq $((ref + 1)) ]'
finish

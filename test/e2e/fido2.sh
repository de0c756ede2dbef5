#!/usr/bin/env bash
# The second factor, end to end: real kubectl, the real IdP, and the
# project's software authenticator reached through libfido2 over
# --fido2-device unix:SOCKET.  No new token without a verified touch; the
# refresh token is sealed under the key's hmac-secret.
. "$(dirname "$0")/../lib.sh"

start_idp --id-token-ttl 600 --issued-log "$T/issued.jsonl"
start_apiserver
browser_env alice
start_softkey key1; KEY1=$SOFTKEY_DEV
start_softkey stranger; STRANGER=$SOFTKEY_DEV
start_softkey backup; BACKUP=$SOFTKEY_DEV

AUDIT=$XDG_STATE_HOME/kubectl-mfa/audit.log
BASE=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --token-cache-storage disk
	--browser-command "$KMFA_BROWSER" --timeout 20s)
ARGS=(get-token "${BASE[@]}" --fido2-device "$KEY1")
write_kubeconfig "$T/kc" "$API_URL" v1 -- "$KMFA" "${ARGS[@]}"

# Every run's stderr is kept (keep_stderr) for the token scan at the end.
kc() {
	local rc
	script -qec "$(printf '%q ' kubectl --kubeconfig "$T/kc" \
		--cache-dir "$T/kcache" "$@") >$T/kc.out 2>$T/kc.err" /dev/null \
		>/dev/null </dev/null
	rc=$?
	keep_stderr "$T/kc.err"
	return $rc
}
attended() {
	local rc
	script -qec "$(printf '%q ' "$@") >$T/a.out 2>$T/a.err" /dev/null \
		>/dev/null </dev/null
	rc=$?
	keep_stderr "$T/a.err"
	return $rc
}
# No terminal: stdout and stderr in $T/out and $T/err; sets rc.
unattended() {
	setsid -w "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	keep_stderr "$T/err"
}
counter() { softkey_ctl "$1" status | sed -n 's/.*counter=\([0-9]*\).*/\1/p'; }
CRED=$XDG_CONFIG_HOME/kubectl-mfa/credentials.json
# stored_counter NAME: the sign counter the credentials file holds for NAME.
stored_counter() {
	jq -r --arg n "$1" '.credentials[] | select(.name == $n) | .sign_count' "$CRED"
}
# counter_saved NAME KEY BEFORE: after a touch of KEY (enrolled as NAME) the
# credentials file holds the counter the key itself reports, above BEFORE.
counter_saved() {
	local stored; stored=$(stored_counter "$1")
	[ -n "$stored" ] && [ "$stored" = "$(counter "$2")" ] && [ "$stored" -gt "$3" ]
}
# The --fido2 required entry (REQ, set after the first login); later a
# --fido2 off entry joins it.
entry() { echo "${REQ:-$(find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json' | head -1)}"; }
expire() {
	local f; f=$(entry)
	jq '.token_exp = (now | floor) - 1' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
}
last_audit() { tail -1 "$AUDIT" | jq -r "$1"; }

# Before enrolling: required means no token, exit 4, one clear line.
attended "$KMFA" "${ARGS[@]}"; rc=$?
check "no key enrolled: exit 4 and no token" \
	'[ $rc -eq 4 ] && [ ! -s "$T/a.out" ] && grep -q "enroll" "$T/a.err"'
check "no key enrolled: nothing was asked of the IdP" [ "$(idp_count /device/auth)" -eq 0 ]

expect_exit 0 "$KMFA" enroll --name yubikey --fido2-device "$KEY1"
check "enroll registers the software key" '[ "$RC" -eq 0 ] && contains "$ERR" "Enrolled security key '"'"'yubikey'"'"'"'
check "enroll records the key's sign counter" \
	'[ "$(stored_counter yubikey)" = "$(counter key1)" ] && [ "$(counter key1)" -gt 0 ]'
check "the credentials file is 0600 and holds one key with hmac-secret" \
	'[ "$(stat -c %a "$CRED")" = 600 ] && [ "$(jq "[.credentials[] | select(.hmac_secret)] | length" "$CRED")" -eq 1 ]'
expect_exit 0 "$KMFA" keys list
check "keys list shows the key and its hmac-secret" \
	'contains "$OUT" yubikey && contains "$OUT" yes'

# 1. First kubectl call: a touch, a device-flow login, success.
c0=$(counter key1); s0=$(stored_counter yubikey)
kc get --raw /version; rc=$?
REQ=$(entry)
check "first kubectl call touches the key and logs in" \
	'[ $rc -eq 0 ] && grep -q gitVersion "$T/kc.out" && grep -q "Touch your security key" "$T/kc.err"'
check "the touch was an assertion by the enrolled key" [ "$(counter key1)" -gt "$c0" ]
check "the credentials file records the key's new sign counter ($s0 -> $(stored_counter yubikey))" \
	counter_saved yubikey key1 "$s0"
check "the record says who touched when" \
	'[ "$(jq -r .key_name "$(entry)")" = yubikey ] && [ "$(jq -r .touched_at "$(entry)")" -gt 0 ]'
check "the audit log has touch-ok and login lines" \
	'grep -q "\"event\":\"touch-ok\"" "$AUDIT" && grep -q "\"event\":\"login\".*\"outcome\":\"ok\"" "$AUDIT"'
c1=$(counter key1); before=$(wc -l <"$IDP_LOG")
kc get --raw /version; rc=$?
check "the next kubectl call needs no touch and no IdP" \
	'[ $rc -eq 0 ] && [ "$(counter key1)" -eq "$c1" ] && [ "$(wc -l <"$IDP_LOG")" -eq "$before" ]'

# 4. The refresh token is sealed: never in plain text in the cache.
f=$(entry)
check "the cached refresh token is a sealed envelope" '[ "$(jq -r .refresh "$f" | cut -c1-6)" = kmfa1. ] && [ "$(jq -r .refresh_sealed "$f")" = true ]'
leak=0
while read -r rt; do grep -qF "$rt" "$f" && leak=1; done < <(jq -r 'select(.kind == "refresh_token") | .value' "$T/issued.jsonl")
check "no refresh token the IdP issued appears in the cache file" [ $leak -eq 0 ]

# 2. After expiry: a touch, then a refresh (no device flow).
expire; c2=$(counter key1); s2=$(stored_counter yubikey)
kc get --raw /version; rc=$?
check "after expiry a touch and a refresh, no device flow" \
	'[ $rc -eq 0 ] && [ "$(counter key1)" -gt "$c2" ] && [ "$(idp_count /token refresh_token)" -eq 1 ] && [ "$(idp_count /device/auth)" -eq 1 ]'
check "the credentials file records the sign counter of that touch ($s2 -> $(stored_counter yubikey))" \
	counter_saved yubikey key1 "$s2"

# 3. Every failure of the key step: exit 4, no token printed or cached,
# the cache entry untouched, an audit line.
fail_case() { # NAME AUDIT_EVENT MESSAGE -- get-token args...
	local name=$1 ev=$2 msg=$3; shift 4
	expire; local snap; snap=$(sha256sum <"$(entry)")
	local evs; evs=$(grep -c "\"event\":\"$ev\"" "$AUDIT")
	local creds; creds=$(sha256sum <"$CRED")
	attended "$KMFA" "$@"; local rc=$?
	check "$name: exit 4, one line, no token" \
		'[ $rc -eq 4 ] && [ ! -s "$T/a.out" ] && tail -1 "$T/a.err" | grep -q "$msg"'
	check "$name: the cache entry is unchanged" '[ "$(sha256sum <"$(entry)")" = "$snap" ]'
	check "$name: the credentials file (its counters) is unchanged" '[ "$(sha256sum <"$CRED")" = "$creds" ]'
	check "$name: a new audit line $ev" '[ "$(grep -c "\"event\":\"$ev\"" "$AUDIT")" -eq $((evs + 1)) ]'
}
softkey_ctl key1 timeout 1000 && softkey_ctl key1 mode notouch
fail_case "no touch" touch-failed "not touched" -- "${ARGS[@]}"
softkey_ctl key1 mode refuse
fail_case "refused" touch-failed "denied" -- "${ARGS[@]}"
softkey_ctl key1 mode touch
fail_case "a key that is not enrolled" wrong-key "none of the enrolled" -- get-token "${BASE[@]}" --fido2-device "$STRANGER"
softkey_ctl key1 mode badsig
fail_case "a corrupt signature" verify-failed "signature" -- "${ARGS[@]}"
softkey_ctl key1 mode touch && softkey_ctl key1 counter-rollback
fail_case "a counter rollback" counter-regressed "cloned" -- "${ARGS[@]}"
softkey_ctl key1 counter 100000
softkey_ctl key1 unplug
fail_case "the key unplugged" no-key "no security key answers" -- "${ARGS[@]}"
softkey_ctl key1 plug
check "no failure handed out a token (IdP saw no new grant)" \
	'[ "$(idp_count /token refresh_token)" -eq 1 ] && [ "$(idp_count /device/auth)" -eq 1 ]'

# 3b. Several keys plugged in: each is probed silently (user presence off)
# for an enrolled credential, so a login costs one touch, of the enrolled
# key, not a touch to choose and another to assert.
touches() { softkey_ctl "$1" status | sed -n 's/.*touches=\([0-9]*\).*/\1/p'; }
expire; t1=$(touches key1) ts=$(touches stranger) tb=$(touches backup)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$STRANGER,$KEY1,$BACKUP"; rc=$?
check "three keys plugged in, one enrolled: exactly one touch, of the enrolled key" \
	'[ $rc -eq 0 ] && [ "$(touches key1)" -eq $((t1 + 1)) ] && [ "$(touches stranger)" -eq "$ts" ] && [ "$(touches backup)" -eq "$tb" ] && ! grep -q "Several security keys" "$T/a.err"'
ts=$(touches stranger) tb=$(touches backup)
fail_case "two keys plugged in, neither enrolled" wrong-key "no enrolled key is plugged in" -- get-token "${BASE[@]}" --fido2-device "$STRANGER,$BACKUP"
check "... and nobody was asked to touch either" \
	'[ "$(touches stranger)" -eq "$ts" ] && [ "$(touches backup)" -eq "$tb" ]'

# 4b. A backup key opens the same sealed refresh token.
softkey_ctl key1 delay 1500
s3=$(stored_counter yubikey)
expect_exit 0 "$KMFA" enroll --name backup --fido2-device "$BACKUP,$KEY1"
softkey_ctl key1 delay 0
check "a backup key enrolls with a touch of the enrolled one" '[ "$RC" -eq 0 ] && contains "$ERR" "2 keys enrolled"'
check "that touch's counter is recorded too ($s3 -> $(stored_counter yubikey))" \
	counter_saved yubikey key1 "$s3"
expire; before=$(idp_count /token refresh_token); sb=$(stored_counter backup)
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$BACKUP"; rc=$?
check "the backup key alone refreshes with the sealed token" \
	'[ $rc -eq 0 ] && [ "$(idp_count /token refresh_token)" -eq $((before + 1)) ] && [ "$(idp_count /device/auth)" -eq 1 ]'
check "the backup key's counter is recorded under its own name ($sb -> $(stored_counter backup))" \
	counter_saved backup backup "$sb"
check "the record names the backup key" '[ "$(jq -r .key_name "$(entry)")" = backup ]'

expect_exit 0 "$KMFA" status --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --token-cache-storage disk --certificate-authority "$T/pki/ca.pem"
check "status names the enrolled keys and says the refresh token is sealed" \
	'contains "$OUT" "keys:      yubikey, backup" && contains "$OUT" "sealed under the security key"'
expect_exit 0 "$KMFA" status --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --token-cache-storage disk --certificate-authority "$T/pki/ca.pem" --json
check "status --json lists the keys" '[ "$(jq -c .keys <<<"$OUT")" = "[\"yubikey\",\"backup\"]" ]'

# --session-max caps how long a touch is good for.
attended "$KMFA" "${ARGS[@]}" --session-max 2m; rc=$?
exp=$(jq -r .status.expirationTimestamp "$T/a.out")
touched=$(jq -r .touched_at "$(entry)")
check "--session-max: expirationTimestamp is touch + 2m - skew" \
	'[ $rc -eq 0 ] && [ "$(date -u -d "$exp" +%s)" -eq $((touched + 120 - 30)) ]'

# 6. CI profile: --fido2 off on a cached token, unattended, no device.
OFF=(get-token --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --token-cache-storage disk
	--browser-command "$KMFA_BROWSER" --fido2 off)
attended "$KMFA" "${OFF[@]}"
c3=$(counter key1)
CI=true unattended "$KMFA" "${OFF[@]}" --fido2-device unix:/nonexistent
check "CI profile: --fido2 off serves the cached token unattended" \
	'[ $rc -eq 0 ] && jq -e .status.token "$T/out" >/dev/null'
CI=true unattended "$KMFA_CORE" "${OFF[@]}" --fido2-device unix:/nonexistent
check "CI profile: the full program too, never opening a device" \
	'[ $rc -eq 0 ] && [ "$(counter key1)" -eq "$c3" ] && [ ! -s "$T/err" ]'

# A token from --fido2 off never serves --fido2 required.  The two
# configurations have separate entries; and the off token, planted in the
# required entry as a record obtained without a touch (the identity of the
# required configuration, touched_at 0), is not handed out: unattended is
# refused (exit 3), attended asks for a touch and gets its own token.
OFFE=$(find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json' ! -path "$REQ")
OFFTOK=$(jq -r .token "$OFFE" 2>/dev/null)
check "--fido2 off and --fido2 required are separate cache entries" \
	'[ -f "$REQ" ] && [ -n "$OFFE" ] && [ "$(wc -l <<<"$OFFE")" -eq 1 ] && [ "${#OFFTOK}" -gt 100 ]'
cp "$REQ" "$T/req.saved"
jq --arg t "$OFFTOK" '.token = $t | .touched_at = 0 | .key_name = null' "$T/req.saved" >"$REQ.new" &&
	chmod 600 "$REQ.new" && mv "$REQ.new" "$REQ"
c4=$(counter key1); r4=$(idp_count /token refresh_token)
unattended "$KMFA" "${ARGS[@]}"
check "the off token in the required entry is not served unattended (front): exit 3" \
	'[ $rc -eq 3 ] && [ ! -s "$T/out" ] && grep -q "nobody to log in" "$T/err"'
unattended "$KMFA_CORE" "${ARGS[@]}"
check "the off token in the required entry is not served unattended (full program): exit 3" \
	'[ $rc -eq 3 ] && [ ! -s "$T/out" ] && grep -q "nobody to log in" "$T/err"'
attended "$KMFA" "${ARGS[@]}"; rc=$?
check "--fido2 required with only the off token: a touch, a refresh, and the new token" \
	'[ $rc -eq 0 ] && grep -q "Touch your security key" "$T/a.err" && [ "$(counter key1)" -gt "$c4" ] &&
	 [ "$(idp_count /token refresh_token)" -eq $((r4 + 1)) ] &&
	 [ "$(jq -r .status.token "$T/a.out")" = "$(jq -r .token "$REQ")" ] && [ "$(jq -r .touched_at "$REQ")" -gt 0 ]'

# A sealed refresh token whose envelope was altered (one character of the
# ciphertext) does not open: nothing is sent to the IdP as a refresh token.
expire
jq '.refresh |= (length / 2 | floor) as $i | .[0:$i] + (if .[$i:$i + 1] == "A" then "B" else "A" end) + .[$i + 1:]' \
	"$REQ" >"$REQ.new" && chmod 600 "$REQ.new" && mv "$REQ.new" "$REQ"
r5=$(idp_count /token refresh_token); d5=$(idp_count /device/auth)
attended "$KMFA" "${ARGS[@]}"; rc=$?
# It is dropped after the verified touch, and the login falls back to the
# device flow (issue 10: no dead end until logout); the touch stays required.
check "an altered sealed refresh token does not open, reaches no IdP, and a device login follows" \
	'[ $rc -eq 0 ] && grep -q "does not open" "$T/a.err" && grep -q "Touch your security key" "$T/a.err" &&
	 [ "$(idp_count /token refresh_token)" -eq "$r5" ] && [ "$(idp_count /device/auth)" -eq $((d5 + 1)) ]'
cp "$T/req.saved" "$REQ"

# Unattended with a key enrolled: never waits for a touch.
expire
start=$(date +%s%N)
unattended "$KMFA" "${ARGS[@]}"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "unattended with an expired token: exit 3 at once ($ms ms), no touch asked" \
	'[ $rc -eq 3 ] && [ $ms -lt 1000 ] && [ ! -s "$T/out" ]'

# 5. User verification with a PIN typed at a terminal.
# pin_run PIN -- CMD...: run CMD at a pseudo-terminal (script -f writes the
# screen to $T/p.tty as it appears) and type PIN at each PIN prompt once it
# is on the screen: the prompt flushes type-ahead, as readpassphrase does,
# so typing before it would be lost.  The loop watches the screen until the
# command exits; --timeout bounds the command.
pin_run() {
	local pin=$1; shift 2
	rm -f "$T/pin.fifo" "$T/p.tty"; mkfifo "$T/pin.fifo"
	script -fqec "$(printf '%q ' "$@") >$T/p.out 2>$T/p.err" "$T/p.tty" \
		<"$T/pin.fifo" >/dev/null &
	local spid=$! w typed=0 seen
	exec {w}>"$T/pin.fifo"
	while kill -0 $spid 2>/dev/null; do
		seen=$(grep -o 'PIN of your security key' "$T/p.tty" 2>/dev/null | wc -l)
		if [ "$seen" -gt "$typed" ]; then
			printf '%s\r' "$pin" >&$w
			typed=$seen
		fi
		sleep 0.02
	done
	wait $spid; PIN_RC=$?
	PIN_PROMPTS=$typed
	exec {w}>&-
	keep_stderr "$T/p.err" "$T/p.tty"
}
start_softkey pinkey --pin 4321; PINKEY=$SOFTKEY_DEV
UV=(--fido2-credentials "$T/uv-credentials.json" --fido2-device "$PINKEY")
pin_run 4321 -- "$KMFA" enroll --name pinned --fido2-uv "${UV[@]}"
check "enroll --fido2-uv takes the PIN at the terminal" \
	'[ $PIN_RC -eq 0 ] && grep -q "PIN or user verification at every touch" "$T/p.err"'
check "the PIN is never echoed or printed" '! grep -q 4321 "$T/p.tty" "$T/p.err" "$T/p.out"'
UVGET=(get-token --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --token-cache-storage disk
	--token-cache-dir "$T/uv-cache" --browser-command "$KMFA_BROWSER"
	--timeout 10s "${UV[@]}")
pin_run 4321 -- "$KMFA" "${UVGET[@]}"
check "a login with the right PIN succeeds" \
	'[ $PIN_RC -eq 0 ] && jq -e .status.token "$T/p.out" >/dev/null && grep -q "8 tries left" "$T/p.tty"'
# A key that verified the PIN but leaves the UV flag out of what it signs:
# libfido2 checks UV only when built-in UV was asked for, so the plugin's
# own flag check is what refuses it.
rm -rf "$T/uv-cache"
softkey_ctl pinkey mode touch,nouv
pin_run 4321 -- "$KMFA" "${UVGET[@]}"
softkey_ctl pinkey mode touch
check "a key whose assertion lacks the UV flag: exit 4, no token, says why" \
	'[ $PIN_RC -eq 4 ] && [ ! -s "$T/p.out" ] && tail -1 "$T/p.err" | grep -q "did not confirm user verification"'
rm -rf "$T/uv-cache"
pin_run 0000 -- "$KMFA" "${UVGET[@]}"
check "a wrong PIN: asked again, then exit 4 and a clear line" \
	'[ $PIN_RC -eq 4 ] && [ $PIN_PROMPTS -ge 2 ] && [ ! -s "$T/p.out" ] && grep -q "Wrong PIN" "$T/p.err" && tail -1 "$T/p.err" | grep -qi "PIN"'
check "each new prompt shows the retries left" 'grep -q "7 tries left" "$T/p.tty"'
for i in 1 2 3 4; do
	pin_run 0000 -- "$KMFA" "${UVGET[@]}"
	tail -1 "$T/p.err" | grep -qi "blocked" && break
done
attended "$KMFA" "${UVGET[@]}"; rc=$?
check "a blocked PIN is exit 4 with a clear line, no prompt" \
	'[ $rc -eq 4 ] && tail -1 "$T/a.err" | grep -qi "blocked"'
start_softkey pin2 --pin 1111
unattended "$KMFA" enroll --name other --fido2-uv --fido2-credentials "$T/x.json" --fido2-device "$SOFTKEY_DEV"
check "a PIN with no terminal is a clear failure, not a wait" \
	'[ $rc -eq 4 ] && grep -q "no terminal" "$T/err"'

# Secrets: nothing the IdP issued appears on the stderr of any run (kept
# one file per run), on the PIN runs' terminal, or in the audit log.
runs=$(kept_stderr_count)
ntok=$(jq -s '[.[] | select(.kind == "refresh_token")] | length' "$IDP_ISSUED")
leaks=$(issued_leaks "$IDP_ISSUED" "$KMFA_STDERR_DIR"/* "$AUDIT" | tr '\n' ' ')
check "no issued token or refresh token ($ntok refresh tokens) on the stderr of any of $runs runs or in the audit log${leaks:+ (found in: $leaks)}" \
	'[ "$runs" -ge 30 ] && [ "$ntok" -ge 4 ] && [ -z "$leaks" ] && ! grep -l "eyJ" "$KMFA_STDERR_DIR"/* "$AUDIT"'
finish

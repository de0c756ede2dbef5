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
finish

#!/usr/bin/env bash
# Secret hygiene (issue 6): run the plugin through every flow with known
# canaries -- every token the IdPs issued (--issued-log), a client secret,
# a PIN and a wrong PIN typed at the terminal -- and grep every byte it
# wrote for them: stdout of the commands, all stderr, what reached the
# terminal, the audit log, the credentials file, everything under HOME,
# the runtime folder and TMPDIR after each flow, the keyring items, and
# what a --browser-command inherits (argv, environment, descriptors).  The
# plugin's own /proc cmdline and environ are read while it waits at the
# device-flow poll and while it waits on a refresh.  Where a canary may be
# is listed once, in test/components/hygiene.sh (hy_allowed).  The
# hmac-secret outputs of the software key cannot be observed: not covered.
. "$(dirname "$0")/../lib.sh"

rand() { openssl rand -hex "$1"; }
SECRET=CANARY-SECRET-$(rand 12)
PIN=pin$(rand 5)
WRONG_PIN=wrong$(rand 5)

hy_init
hy_canary client_secret "$SECRET"
hy_canary client_secret "${SECRET#CANARY-SECRET-}"
# as it travels in an Authorization: Basic header
hy_canary client_secret "$(printf 'kubectl:%s' "$SECRET" | base64 -w0)"
hy_canary pin "$PIN"
hy_canary wrong_pin "$WRONG_PIN"

start_keyring
start_idp --id-token-ttl 600 --issued-log "$T/issued-a.jsonl"
A_URL=$IDP_URL A_LOG=$IDP_LOG
start_idp --id-token-ttl 600 --issued-log "$T/issued-off.jsonl"
OFF_URL=$IDP_URL OFF_LOG=$IDP_LOG
IDP_URL=$A_URL IDP_LOG=$A_LOG
start_stub_idp ok --client-secret "$SECRET" --issued-log "$T/issued-stub.jsonl"
start_apiserver --issuer "$A_URL"
browser_env alice
start_softkey key1; KEY1=$SOFTKEY_DEV
start_softkey pinkey --pin "$PIN"; PINKEY=$SOFTKEY_DEV

CA=(--certificate-authority "$T/pki/ca.pem")
A=(--oidc-issuer-url "$A_URL" --oidc-client-id kubectl "${CA[@]}")
LOGIN=(--browser-command "$HY_BROWSER" --timeout 20s)
DISK=(get-token "${A[@]}" "${LOGIN[@]}" --token-cache-storage disk --fido2-device "$KEY1")
CRED_UV=$XDG_CONFIG_HOME/kubectl-mfa/uv-credentials.json
ENTRY_DIR=$XDG_CACHE_HOME/kubectl-mfa

# expire_disk FILE: the token's exp moves into the past, as time would.
expire_disk() {
	jq -c '.token_exp = (now | floor) - 1' "$1" >"$1.new" && chmod 600 "$1.new" && mv "$1.new" "$1"
}
only_entry() { find "$1" -name '*.json' | head -1; }
kc() { # NAME KUBECONFIG ARGS...
	local name=$1 cfg=$2; shift 2
	hy_run "$name" kubectl --kubeconfig "$cfg" --cache-dir "$T/kcache" "$@"
}
step_ok() { # NAME CONDITION: a flow step that must work for the scan to mean anything
	if eval "$2"; then ok "$1"; else not_ok "$1" "$(tail -2 "$HY_W/${3:-x}.err" 2>/dev/null | tr '\n' ' ')"; fi
}

# --- enrolment: a touch-only key, and a PIN key with --fido2-uv ---
hy_run enroll-key1 "$KMFA" enroll --name yubikey --fido2-device "$KEY1"
step_ok "enroll the touch-only key" '[ $RC -eq 0 ]' enroll-key1
hy_pin_run enroll-pin "$PIN" "$KMFA" enroll --name pinned --fido2-uv \
	--fido2-credentials "$CRED_UV" --fido2-device "$PINKEY"
step_ok "enroll the PIN key, PIN typed at the terminal" '[ $RC -eq 0 ] && [ $PIN_PROMPTS -ge 1 ]' enroll-pin
hy_run keys-list "$KMFA" keys list
hy_run keys-list-uv "$KMFA" keys list --fido2-credentials "$CRED_UV"
hy_snap enroll

# --- fido2 required, disk: device login, hits, refresh, failures ---
write_kubeconfig "$T/kc-a" "$API_URL" v1 -- "$KMFA" "${DISK[@]}"
kc kc-login "$T/kc-a" get --raw /version
step_ok "device login through kubectl" '[ $RC -eq 0 ] && grep -q gitVersion "$HY_W/kc-login.out"' kc-login
ENTRY=$(only_entry "$ENTRY_DIR")
kc kc-hit "$T/kc-a" get --raw /version
hy_run gt-hit "$KMFA" "${DISK[@]}"
step_ok "cache hits" '[ $RC -eq 0 ] && jq -e .status.token "$HY_W/gt-hit.out" >/dev/null' gt-hit
hy_snap login
expire_disk "$ENTRY"
kc kc-refresh "$T/kc-a" get --raw /version
step_ok "touch and refresh after expiry" '[ $RC -eq 0 ] && [ "$(idp_count /token refresh_token)" -ge 1 ]' kc-refresh
expire_disk "$ENTRY"
hy_run gt-refresh-v "$KMFA" "${DISK[@]}" -v
step_ok "a verbose refresh" '[ $RC -eq 0 ]' gt-refresh-v
hy_run login-v "$KMFA" login "${A[@]}" "${LOGIN[@]}" --token-cache-storage disk --fido2-device "$KEY1" -v
step_ok "a verbose login (touch, refresh)" '[ $RC -eq 0 ]' login-v
hy_run gt-device-v "$KMFA" "${DISK[@]}" --token-cache-dir "$XDG_CACHE_HOME/kmfa-alt" -v
step_ok "a verbose device login" '[ $RC -eq 0 ] && [ "$(idp_count /device/auth)" -ge 2 ]' gt-device-v
hy_snap refresh
softkey_ctl key1 timeout 800 && softkey_ctl key1 mode notouch
expire_disk "$ENTRY"
hy_run gt-notouch "$KMFA" "${DISK[@]}" -v
step_ok "a failed touch is exit 4" '[ $RC -eq 4 ]' gt-notouch
softkey_ctl key1 mode refuse
hy_run gt-refused "$KMFA" "${DISK[@]}"
step_ok "a refused touch is exit 4" '[ $RC -eq 4 ]' gt-refused
softkey_ctl key1 mode touch
hy_bg gt-unattended "$KMFA" "${DISK[@]}" -v
step_ok "unattended with an expired token is refused (exit 3)" '[ $RC -eq 3 ]' gt-unattended
hy_bg gt-unattended-core "$KMFA_CORE" "${DISK[@]}"
hy_run status "$KMFA" status "${A[@]}" --token-cache-storage disk -v
hy_run status-json "$KMFA" status "${A[@]}" --token-cache-storage disk --json
hy_run status-all "$KMFA" status --all --token-cache-storage disk --json
step_ok "status and status --json run" '[ -s "$HY_W/status.out" ] && jq -e . "$HY_W/status-json.out" >/dev/null' status
hy_snap failures
hy_run logout-a "$KMFA" logout "${A[@]}" --token-cache-storage disk -v
step_ok "logout of a sealed entry" '[ $RC -eq 0 ] && [ ! -e "$ENTRY" ]' logout-a
hy_snap logout-a

# --- --fido2 off (a CI profile): refresh token unsealed, revoked at logout ---
OFF=(--oidc-issuer-url "$OFF_URL" --oidc-client-id kubectl "${CA[@]}" --fido2 off
	--token-cache-storage disk --token-cache-dir "$XDG_CACHE_HOME/kmfa-off")
hy_run gt-off-login "$KMFA" get-token "${OFF[@]}" "${LOGIN[@]}" -v
step_ok "--fido2 off device login" '[ $RC -eq 0 ]' gt-off-login
expire_disk "$(only_entry "$XDG_CACHE_HOME/kmfa-off")"
hy_run gt-off-refresh "$KMFA" get-token "${OFF[@]}" "${LOGIN[@]}" -v
step_ok "--fido2 off refresh" '[ $RC -eq 0 ]' gt-off-refresh
hy_snap off
hy_run logout-off "$KMFA" logout "${OFF[@]}" -v
step_ok "logout revokes the unsealed refresh token at the IdP" \
	'[ $RC -eq 0 ] && [ "$(_count "$OFF_LOG" /token/revocation)" -ge 1 ] && grep -q revoked "$HY_W/logout-off.err"' logout-off
hy_snap logout-off

# --- a confidential client: the secret on the command line ---
S=(--oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl --oidc-client-secret "$SECRET" "${CA[@]}")
hy_run setup "$KMFA" setup "${S[@]}" --fido2-device "$KEY1"
step_ok "setup with a client secret prints the entry" '[ $RC -eq 0 ] && [ -s "$HY_W/setup.out" ]' setup
hy_run setup-v "$KMFA" setup "${S[@]}" -v
mkdir -p "$HOME/.kube"
write_kubeconfig "$HOME/.kube/config" "$API_URL" v1 --
hy_run setup-kubeconfig "$KMFA" setup "${S[@]}" --kubeconfig "$HOME/.kube/config" --user mfa
step_ok "setup writes the user entry into a kubeconfig" \
	'[ $RC -eq 0 ] && grep -q "get-token" "$HOME/.kube/config"' setup-kubeconfig
SGET=(get-token "${S[@]}" "${LOGIN[@]}" --token-cache-storage disk
	--token-cache-dir "$XDG_CACHE_HOME/kmfa-stub" --fido2-device "$KEY1")
hy_run gt-secret-login "$KMFA" "${SGET[@]}" -v
step_ok "device login with a client secret" '[ $RC -eq 0 ]' gt-secret-login
check "the stub saw the secret by HTTP Basic and answered tokens" \
	'[ "$(jq -s "[.[] | select(.path == \"/token\" and .client_auth == \"basic\" and .answer == \"tokens\")] | length" "$STUB_LOG")" -ge 1 ]'
SENTRY=$(only_entry "$XDG_CACHE_HOME/kmfa-stub")
expire_disk "$SENTRY"
hy_run gt-secret-refresh "$KMFA" "${SGET[@]}" -v
step_ok "refresh with a client secret" '[ $RC -eq 0 ] && [ "$(stub_count /token refresh_token)" -ge 1 ]' gt-secret-refresh
hy_snap secret-refresh
# The plugin waits on a refresh the IdP never answers: the unsealed
# refresh token and the secret are in its memory now; read its /proc.
expire_disk "$SENTRY"
stub_scenario hang_token || die "stub: cannot switch to hang_token"
hy_run gt-secret-hang "$KMFA" "${SGET[@]}" --timeout 6s &
hang=$!
for ((i = 0; i < 250; i++)); do
	[ "$(jq -s '[.[] | select(.answer == "hang" and .grant_type == "refresh_token")] | length' "$STUB_LOG")" -ge 1 ] && break
	sleep 0.02
done
nproc=$(hy_proc hang)
wait "$hang"
stub_scenario ok
check "/proc of the plugin read while it waits on the refresh ($nproc process)" '[ "$nproc" -ge 1 ]'
check "its cmdline holds the secret the user passed, its environment none" \
	'grep -qxF -- "--oidc-client-secret" "$HY_W"/proc/hang-*.cmdline && ! grep -qF -- "$SECRET" "$HY_W"/proc/hang-*.environ'
hy_run logout-secret "$KMFA" logout "${S[@]}" --token-cache-storage disk \
	--token-cache-dir "$XDG_CACHE_HOME/kmfa-stub" -v
hy_snap secret

# --- user verification: the PIN typed at the terminal ---
UV=(get-token "${A[@]}" "${LOGIN[@]}" --token-cache-storage disk
	--token-cache-dir "$XDG_CACHE_HOME/kmfa-uv" --fido2-credentials "$CRED_UV"
	--fido2-device "$PINKEY" --timeout 15s)
hy_pin_run gt-pin-login "$PIN" "$KMFA" "${UV[@]}" -v
step_ok "a device login with the PIN" '[ $RC -eq 0 ] && [ $PIN_PROMPTS -ge 1 ]' gt-pin-login
expire_disk "$(only_entry "$XDG_CACHE_HOME/kmfa-uv")"
hy_pin_run gt-pin-refresh "$PIN" "$KMFA" "${UV[@]}" -v
step_ok "a refresh with the PIN" '[ $RC -eq 0 ]' gt-pin-refresh
expire_disk "$(only_entry "$XDG_CACHE_HOME/kmfa-uv")"
hy_pin_run gt-pin-wrong "$WRONG_PIN" "$KMFA" "${UV[@]}" -v
step_ok "a wrong PIN is exit 4" '[ $RC -eq 4 ] && [ $PIN_PROMPTS -ge 1 ]' gt-pin-wrong
hy_pin_run gt-pin-again "$PIN" "$KMFA" "${UV[@]}"
step_ok "the right PIN again" '[ $RC -eq 0 ]' gt-pin-again
check "no PIN was ever echoed to the terminal" '! grep -qF -- "$PIN" "$HY_W"/*.tty && ! grep -qF -- "$WRONG_PIN" "$HY_W"/*.tty'
hy_snap pin

# --- keyring storage (auto): item, mirror, reboot, refresh, logout ---
KR=(get-token "${A[@]}" "${LOGIN[@]}" --fido2-device "$KEY1")
write_kubeconfig "$T/kc-kr" "$API_URL" v1 -- "$KMFA" "${KR[@]}"
kc kc-kr-login "$T/kc-kr" get --raw /version
step_ok "keyring: device login" '[ $RC -eq 0 ]' kc-kr-login
KEY=$(basename "$(ls "$XDG_RUNTIME_DIR"/kubectl-mfa/*.json | head -1)" .json)
kc kc-kr-hit "$T/kc-kr" get --raw /version
hy_snap keyring-login
rm -f "$XDG_RUNTIME_DIR/kubectl-mfa/$KEY.json"
kc kc-kr-reboot "$T/kc-kr" get --raw /version
old=$(secret-tool lookup service kubectl-mfa key "$KEY")
mkdir -p "$HY_W/keyring"; printf '%s' "$old" >"$HY_W/keyring/after-login"
printf '%s' "$(jq -c '.token_exp = (now | floor) - 1' <<<"$old")" |
	secret-tool store --label="kubectl-mfa: $A_URL (kubectl)" \
	xdg:schema io.kubectl-mfa.Token service kubectl-mfa key "$KEY"
rm -f "$XDG_RUNTIME_DIR/kubectl-mfa/$KEY.json"
kc kc-kr-refresh "$T/kc-kr" get --raw /version
step_ok "keyring: touch and refresh after expiry" '[ $RC -eq 0 ]' kc-kr-refresh
secret-tool lookup service kubectl-mfa key "$KEY" >"$HY_W/keyring/after-refresh"
hy_run status-kr "$KMFA" status "${A[@]}" --json
hy_snap keyring-refresh
hy_run logout-kr "$KMFA" logout "${A[@]}" -v
step_ok "keyring: logout" '[ $RC -eq 0 ] && [ -z "$(secret-tool search --all service kubectl-mfa 2>&1)" ]' logout-kr
hy_snap keyring-logout

# --- the canaries, then the scan ---
hy_issued "" "$T/issued-a.jsonl"
hy_issued off- "$T/issued-off.jsonl"
hy_issued stub- "$T/issued-stub.jsonl"
for k in refresh_token id_token access_token off-refresh_token stub-refresh_token; do
	check "canaries: the IdPs issued some of kind $k" \
		'[ "$(cut -f1 "$HY_CANARIES" | grep -cx -- "$k")" -ge 1 ]'
done
check "the sealed stores are there and sealed (kmfa1.)" \
	'[ "$(jq -r .refresh "$HY_W/keyring/after-refresh" | cut -c1-6)" = kmfa1. ]'
check "the spy browser ran for every device login and saw the plugin" \
	'[ "$(ls -d "$HY_W"/spy/b.* | wc -l)" -ge 5 ] && ls "$HY_W"/spy/b.*/plugin-*.environ >/dev/null 2>&1'
inherited=$(hy_browser_fds)
if [ -z "$inherited" ]; then
	ok "the browser inherits no descriptor beyond 0, 1 and 2"
else
	not_ok "the browser inherits no descriptor beyond 0, 1 and 2" "$(tr '\n' ';' <<<"$inherited")"
fi
check "the browser gets only the login URL as its argument" \
	'! cat "$HY_W"/spy/b.*/argv | grep -v "^$HY_BROWSER\$" | grep -qv "/device?user_code="'

hy_scan >"$T/leaks.txt"; n=$?
if [ "$n" -eq 0 ]; then
	ok "no canary anywhere it may not be ($(wc -l <"$HY_CANARIES") canaries, $(find "$HY_W" -type f | wc -l) files, $HY_ALLOWED_HITS permitted hits)"
else
	not_ok "canaries found where they may not be: $n" "$(sort "$T/leaks.txt" | uniq | head -20 | tr '\n' ';')"
	sort "$T/leaks.txt" | uniq | head -60
fi
# The scan must be able to see a leak: the allowed hits exist, and a
# refresh token, the secret and the PIN planted where none may be are found.
check "the scan sees the tokens where they are allowed" '[ "$HY_ALLOWED_HITS" -ge 3 ]'
{
	echo "x $(jq -r 'select(.kind == "refresh_token") | .value' "$T/issued-a.jsonl" | head -1) x"
	echo "$SECRET"
	printf 'PIN:%s\n' "$PIN"
} >"$HY_W/planted.err"
hy_scan >"$T/planted.txt"
check "the scan finds planted canaries, naming the kind and never the value" \
	'grep -qx "LEAK: refresh_token in planted.err" "$T/planted.txt" && grep -qx "LEAK: client_secret in planted.err" "$T/planted.txt" && grep -qx "LEAK: pin in planted.err" "$T/planted.txt" && ! grep -qF -- "$SECRET" "$T/planted.txt"'
rm -f "$HY_W/planted.err"

finish

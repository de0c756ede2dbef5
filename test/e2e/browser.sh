#!/usr/bin/env bash
# The browser login (issue 12): the authorization code grant with PKCE,
# state and nonce through the loopback listener (RFC 8252), end to end with
# real kubectl and the real IdP (oidc-provider), whose pages a scripted
# browser (test/servers/browser-login.sh, the --browser-command) follows.
# Then every hostile callback: each is answered 400 without ending the
# login, or ends it with exit 5 and one line; nothing is cached either
# way.  Eight kubectl processes on an empty cache make one login.  `auto`
# picks the browser with a desktop session and the device flow without.
# --fido2 off: the touch before the login is the same code path as the
# device flow's (e2e/fido2).
. "$(dirname "$0")/../lib.sh"

start_idp --id-token-ttl 600
start_apiserver
browser_env alice
LOGIN=$KMFA_SERVERS/browser-login.sh
BLOG=$KMFA_TEST_BROWSER_LOG
CACHE=$XDG_CACHE_HOME/kubectl-mfa

# oidc-provider grants offline_access only with prompt=consent (OpenID
# Connect Core §11); most providers need no such parameter.
COMMON=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --fido2 off
	--token-cache-storage disk)
BASE=("${COMMON[@]}" --browser-command "$LOGIN"
	--oidc-auth-request-extra-params prompt=consent)
ARGS=(get-token "${BASE[@]}" --grant-type authcode)
write_kubeconfig "$T/kc" "$API_URL" v1 -- "$KMFA" "${ARGS[@]}"

kc() { # CACHE_DIR OUT: kubectl with a terminal; stdout/stderr apart
	script -qec "$(printf '%q ' kubectl --kubeconfig "$T/kc" --cache-dir "$1" \
		get --raw /version) >$2.out 2>$2.err" /dev/null >/dev/null </dev/null
	local rc=$?
	keep_stderr "$2.err"
	return $rc
}
# The plugin with a terminal: $T/a.out, $T/a.err, RC.
attended() {
	script -qec "$(printf '%q ' "$@") >$T/a.out 2>$T/a.err" /dev/null \
		>/dev/null </dev/null
	RC=$?
	keep_stderr "$T/a.err"
}
cache_files() { find "$CACHE" -name '*.json' 2>/dev/null | wc -l; }
one_line() { [ "$(grep -c . "$1")" -eq 1 ]; }

# 1. The first kubectl call logs in through the browser.
if kc "$T/kcache" "$T/k1" && grep -q gitVersion "$T/k1.out"; then
	ok "first kubectl call logs in with the browser (authorization code)"
else
	not_ok "first kubectl call logs in with the browser (authorization code)" \
		"$(tail -3 "$T/k1.err")"
fi
check "one authorization request and one code exchange at the IdP, no device flow" \
	'[ "$(idp_count /auth)" -ge 1 ] && [ "$(idp_count /token authorization_code)" -eq 1 ] && [ "$(idp_count /device/auth)" -eq 0 ]'
f=$(find "$CACHE" -name '*.json' | head -1)
check "the cached token is the IdP's ID token for alice, with a refresh token" \
	'[ "$(jwt_json "$(jq -r .token "$f")" | jq -r .sub)" = alice ] && [ "$(jq -r .refresh "$f")" != null ]'
check "the ID token carries a nonce (sent with the authorization request)" \
	'[ "$(jwt_json "$(jq -r .token "$f")" | jq -r .nonce)" != null ]'
check "the browser got the success page and the IdP saw PKCE" \
	grep -q 'callback delivered' "$BLOG"
check "stderr shows the authorization URL, never the code" \
	'grep -q "/auth?" "$T/k1.err" && ! grep -q "code=" "$T/k1.err"'

# 2. The next call comes from the cache.
before=$(wc -l <"$IDP_LOG")
kc "$T/kcache" "$T/k2"
check "the second call is served from the cache (no IdP request)" \
	'[ $? -eq 0 ] && [ "$(wc -l <"$IDP_LOG")" -eq "$before" ]'

# 3. After expiry, a refresh, no browser.
jq '.token_exp = (now | floor) - 1' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
auth_before=$(idp_count /token authorization_code)
kc "$T/kcache" "$T/k3"
check "an expired token is refreshed, no second browser login" \
	'[ $? -eq 0 ] && [ "$(idp_count /token refresh_token)" -eq 1 ] && [ "$(idp_count /token authorization_code)" -eq "$auth_before" ]'

# 4. Hostile callbacks.  Each runs on an empty cache; the browser sends
# the hostile request and the plugin must answer as documented.
hostile() { # MODE [TIMEOUT] [extra env]: run a login with that browser
	local mode=$1 timeout=${2:-60s}
	rm -rf "$CACHE"
	: >"$BLOG"
	KMFA_TEST_HOSTILE=$mode attended "$KMFA" "${ARGS[@]}" --timeout "$timeout"
}
hostile_status() { sed -n "s/.*hostile $1: //p" "$BLOG" | tail -1; }

for mode in wrong-state no-code host; do
	hostile "$mode" 6s
	check "hostile $mode: answered 400, the login was not consumed; it ends at --timeout with exit 5, one line, nothing cached" \
		'[ "$(hostile_status $mode)" = 400 ] && [ "$RC" -eq 5 ] && grep -q "did not come back within the time allowed" "$T/a.err" && [ ! -s "$T/a.out" ] && [ "$(cache_files)" -eq 0 ]'
done
hostile huge 6s
check "hostile huge request: answered 431, then --timeout, exit 5, nothing cached" \
	'[ "$(hostile_status huge)" = 431 ] && [ "$RC" -eq 5 ] && [ ! -s "$T/a.out" ] && [ "$(cache_files)" -eq 0 ]'
for mode in wrong-state no-code host huge; do
	rm -rf "$CACHE"; : >"$BLOG"
	KMFA_TEST_HOSTILE=$mode KMFA_TEST_THEN_OK=1 attended "$KMFA" "${ARGS[@]}"
	check "hostile $mode first, then the real callback: the login completes" \
		'[ "$RC" -eq 0 ] && grep -q ExecCredential "$T/a.out" && [ "$(cache_files)" -eq 1 ]'
done

hostile denied
check "error=access_denied ends the login: exit 5, the provider's reason on one line, nothing cached" \
	'[ "$RC" -eq 5 ] && [ "$(grep -c "kubectl-mfa:.*access_denied (the user said no)" "$T/a.err")" -eq 1 ] && [ ! -s "$T/a.out" ] && [ "$(cache_files)" -eq 0 ]'
hostile bad-code
check "a code the token endpoint refuses: exit 5, invalid_grant, nothing cached" \
	'[ "$RC" -eq 5 ] && grep -q "invalid_grant" "$T/a.err" && [ ! -s "$T/a.out" ] && [ "$(cache_files)" -eq 0 ]'
hostile silent
check "a client that connects and never speaks does not block the login" \
	'[ "$RC" -eq 0 ] && grep -q "hostile silent: connected" "$BLOG" && [ "$(cache_files)" -eq 1 ]'
# The plugin exits before its browser: wait (bounded) for the browser to
# end, read-write so that the open never blocks.
mkfifo "$T/done"
exec {done_fd}<>"$T/done"
KMFA_TEST_DONE=$T/done hostile second
read -r -t 20 -u "$done_fd" _ || true
check "a second callback finds nobody listening (the listener closed)" \
	'[ "$RC" -eq 0 ] && [ "$(hostile_status second)" = 000 ] && [ "$(cache_files)" -eq 1 ]'
check "no hostile run's stderr holds more than its one error line" \
	'! grep -l "code=" "$KMFA_STDERR_DIR"/* >/dev/null 2>&1'

# An ID token minted for another login (the stub's nonce is not ours).
start_stub_idp authcode_wrong_nonce
rm -rf "$CACHE"
attended "$KMFA" get-token --oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl \
	--certificate-authority "$T/pki/ca.pem" --fido2 off --token-cache-storage disk \
	--browser-command "$LOGIN" --grant-type authcode
check "an ID token with another login's nonce: exit 5, one line, nothing cached" \
	'[ "$RC" -eq 5 ] && [ "$(grep -c "nonce is not this login" "$T/a.err")" -eq 1 ] && [ ! -s "$T/a.out" ] && [ "$(cache_files)" -eq 0 ] && [ "$(stub_count /token)" -eq 1 ]'

# authcode-keyboard: the provider shows where it sent the browser (here the
# scripted browser hands that URL over), the user pastes it at the prompt
# on the terminal.  kb_run SED: paste the URL through sed SED.
kb_run() {
	local spid w typed=0 i
	rm -rf "$CACHE"; rm -f "$T/paste" "$T/kb.tty" "$T/kb.fifo"; mkfifo "$T/kb.fifo"
	KMFA_TEST_PASTE=$T/paste script -fqec "$(printf '%q ' "$KMFA" "${ARGS[@]}" \
		--grant-type authcode-keyboard --oidc-redirect-url http://127.0.0.1:9/) \
		>$T/a.out 2>$T/a.err" "$T/kb.tty" <"$T/kb.fifo" >/dev/null &
	spid=$!
	exec {w}>"$T/kb.fifo"
	# The prompt comes after the terminal's input is flushed: type then.
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$spid" 2>/dev/null || break
		if [ "$typed" = 0 ] && [ -s "$T/paste" ] &&
			grep -q 'Paste the code' "$T/kb.tty" 2>/dev/null; then
			printf '%s\r' "$(sed "$1" "$T/paste")" >&$w
			typed=1
		fi
		sleep 0.02
	done
	wait "$spid"; RC=$?
	exec {w}>&-
	keep_stderr "$T/a.err"
}
kb_run 's/x/x/'
check "authcode-keyboard: the pasted redirect URL logs in" \
	'[ "$RC" -eq 0 ] && grep -q ExecCredential "$T/a.out" && [ "$(cache_files)" -eq 1 ] && ! grep -q "code=" "$T/kb.tty"'
kb_run 's/state=[^&]*/state=forged/'
check "authcode-keyboard: a pasted URL with another state is exit 5, nothing cached" \
	'[ "$RC" -eq 5 ] && grep -q "not this login" "$T/a.err" && [ "$(cache_files)" -eq 0 ]'
kb_run 's/iss=[^&]*/iss=https%3A%2F%2Fevil.example/'
check "authcode-keyboard: a pasted URL from another issuer (RFC 9207 iss) is exit 5, nothing cached" \
	'[ "$RC" -eq 5 ] && grep -q "another issuer" "$T/a.err" && [ "$(cache_files)" -eq 0 ]'

# 5. Eight kubectl processes on an empty cache: one browser login.
rm -rf "$CACHE"; : >"$BLOG"
auth_before=$(idp_count /token authorization_code)
pids=()
for i in 1 2 3 4 5 6 7 8; do
	kc "$T/kcache-$i" "$T/p$i" &
	pids+=($!)
done
fails=0
for i in "${!pids[@]}"; do
	wait "${pids[i]}" && grep -q gitVersion "$T/p$((i + 1)).out" || fails=$((fails + 1))
done
check "8 concurrent kubectl processes all succeed" [ "$fails" -eq 0 ]
check "... with one browser login between them" \
	'[ "$(idp_count /token authorization_code)" -eq $((auth_before + 1)) ] && [ "$(grep -c "callback delivered" "$BLOG")" -eq 1 ]'

# 6. auto: the browser with a desktop session, the device flow without.
AUTO=(get-token "${BASE[@]}")
rm -rf "$CACHE"
DISPLAY=:99 attended env -u SSH_CONNECTION -u SSH_TTY "$KMFA" "${AUTO[@]}"
check "auto with DISPLAY set picks the browser login and says so once" \
	'[ "$RC" -eq 0 ] && [ "$(grep -c "logging in with the browser" "$T/a.err")" -eq 1 ]'
rm -rf "$CACHE"
device_before=$(idp_count /device/auth)
attended "$KMFA" get-token "${COMMON[@]}" --browser-command "$KMFA_BROWSER"
check "auto without a desktop session picks the device flow and says so once" \
	'[ "$RC" -eq 0 ] && [ "$(grep -c "logging in with the device flow" "$T/a.err")" -eq 1 ] && [ "$(idp_count /device/auth)" -eq $((device_before + 1)) ]'
rm -rf "$CACHE"
# Over SSH nobody here approves the device code: the choice is what counts.
DISPLAY=:99 SSH_CONNECTION="10.0.0.1 1 10.0.0.2 22" attended "$KMFA" get-token "${COMMON[@]}" --skip-open-browser --timeout 3s
check "auto over SSH (DISPLAY set, no --browser-command) picks the device flow" \
	'[ "$RC" -eq 5 ] && grep -q "device flow (an SSH session)" "$T/a.err" && [ "$(cache_files)" -eq 0 ]'

# 7. setup says what the browser login needs and what to register.
expect_exit 0 "$KMFA" setup "${COMMON[@]}" --grant-type authcode
check "setup --grant-type authcode: the authorization endpoint, S256, the redirect URI to register" \
	'contains "$ERR" "browser login: $IDP_URL/auth" && contains "$ERR" "PKCE: S256 on the browser login" && contains "$ERR" "redirect URI to register for client '"'kubectl'"': http://127.0.0.1/" && contains "$OUT" "--grant-type=authcode"'
expect_exit 5 "$KMFA" setup --oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl \
	--certificate-authority "$T/pki/ca.pem" --grant-type authcode-keyboard
check "setup --grant-type authcode-keyboard without --oidc-redirect-url: exit 5, says so" \
	'contains "$ERR" "needs --oidc-redirect-url" && [ -z "$OUT" ]'
stub_scenario ok || die "stub: cannot switch to ok"
expect_exit 5 "$KMFA" setup --oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl \
	--certificate-authority "$T/pki/ca.pem" --grant-type authcode
check "setup --grant-type authcode at an issuer without authorization_endpoint: exit 5, says so" \
	'contains "$ERR" "advertises no authorization_endpoint" && [ -z "$OUT" ]'
expect_exit 0 "$KMFA" setup --oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl \
	--certificate-authority "$T/pki/ca.pem"
check "setup with auto at that issuer: a note, not a problem (the device flow is there)" \
	'contains "$ERR" "auto uses the device flow"'

# 8. Usage.
rm -rf "$CACHE"
expect_exit 2 "$KMFA" "${ARGS[@]}" --grant-type password
check "an unknown --grant-type is exit 2" '[ "$RC" -eq 2 ] && contains "$ERR" "--grant-type takes"'
attended "$KMFA" "${ARGS[@]}" --listen-address 0.0.0.0:0
check "a --listen-address that is not loopback is exit 2" \
	'[ "$RC" -eq 2 ] && grep -q "loopback address" "$T/a.err"'
rm -rf "$CACHE"
attended "$KMFA" "${ARGS[@]}" --listen-address '[::1]:0'
check "--listen-address [::1]:0 logs in over IPv6" \
	'[ "$RC" -eq 0 ] && grep -q ExecCredential "$T/a.out"'
rm -rf "$CACHE"
unset_tty_out=$(setsid -w "$KMFA" "${ARGS[@]}" --grant-type authcode-keyboard \
	--oidc-redirect-url urn:ietf:wg:oauth:2.0:oob 2>&1 </dev/null >/dev/null; echo "rc=$?")
check "authcode-keyboard without a terminal is exit 3 (unattended)" \
	contains "$unset_tty_out" "rc=3"

finish

#!/usr/bin/env bash
# Core plugin, end to end: real kubectl, the real IdP (oidc-provider) over
# https with a per-run CA, an API server that validates tokens as
# kube-apiserver's OIDC authenticator does.  --fido2 off here: the security
# key has its own suite (fido2.sh).
. "$(dirname "$0")/../lib.sh"

start_idp --id-token-ttl 600
start_apiserver
browser_env alice

ARGS=(get-token --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --fido2 off
	--token-cache-storage disk --browser-command "$KMFA_BROWSER")
write_kubeconfig "$T/kc-v1" "$API_URL" v1 -- "$KMFA" "${ARGS[@]}"
write_kubeconfig "$T/kc-v1beta1" "$API_URL" v1beta1 -- "$KMFA" "${ARGS[@]}"

# kubectl with a controlling terminal (a person is present); stdout and
# stderr kept apart in $T/kc.out and $T/kc.err.  Every run's stderr is also
# kept (keep_stderr), for the token scan at the end; the exit code is
# kubectl's.
kc() {
	local cfg=$1 rc; shift
	script -qec "$(printf '%q ' kubectl --kubeconfig "$cfg" \
		--cache-dir "$T/kcache" "$@") >$T/kc.out 2>$T/kc.err" /dev/null \
		>/dev/null </dev/null
	rc=$?
	keep_stderr "$T/kc.err"
	return $rc
}
# The plugin itself, attended: terminal, stdout/stderr apart.
attended() {
	local rc
	script -qec "$(printf '%q ' "$@") >$T/a.out 2>$T/a.err" /dev/null \
		>/dev/null </dev/null
	rc=$?
	keep_stderr "$T/a.err"
	return $rc
}
# The plugin without a terminal (setsid: no controlling tty), stdout and
# stderr in $T/out and $T/err; sets rc and ms (wall time).
unattended() {
	local start
	start=$(date +%s%N)
	setsid -w "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	keep_stderr "$T/err"
}
cache_files() { find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json' 2>/dev/null | wc -l; }

# 1. The first kubectl command logs in through the device flow.
if kc "$T/kc-v1" get --raw /version && grep -q gitVersion "$T/kc.out"; then
	ok "first kubectl call logs in through the device flow"
else
	not_ok "first kubectl call logs in through the device flow" "$(tail -3 "$T/kc.err")"
fi
check "one device authorization reached the IdP" \
	[ "$(idp_count /device/auth)" -eq 1 ]
check "the API server accepted the ID token" \
	[ "$(jq -s '[.[] | select(.path == "/version" and .authorized)] | length' "$API_LOG")" -ge 1 ]
f=$(find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json')
check "the cache entry is a 0600 file in a 0700 folder" \
	[ "$(stat -c %a "$f")" = 600 -a "$(stat -c %a "$XDG_CACHE_HOME/kubectl-mfa")" = 700 ]
TOKEN=$(jq -r .token "$f")
check "the cached token is the IdP's ID token for alice" \
	[ "$(jwt_json "$TOKEN" | jq -r .sub)" = alice ]

# 2. The next call is served from the cache: the IdP sees nothing.
before=$(wc -l <"$IDP_LOG")
kc "$T/kc-v1" get --raw /version
check "second kubectl call is served from the cache (no IdP request)" \
	[ $? -eq 0 -a "$(wc -l <"$IDP_LOG")" -eq "$before" ]
kc "$T/kc-v1" get namespaces
check "kubectl get namespaces works through the plugin" grep -q default "$T/kc.out"

# 6. v1beta1 works as well and gets a v1beta1 answer.
kc "$T/kc-v1beta1" get --raw /api
check "a v1beta1 kubeconfig works" [ $? -eq 0 ]
KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}' \
	expect_exit 0 "$KMFA" "${ARGS[@]}"
check "v1beta1 exec info gets a v1beta1 ExecCredential" \
	[ "$(jq -r .apiVersion <<<"$OUT")" = client.authentication.k8s.io/v1beta1 ]
KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}' \
	expect_exit 0 "$KMFA" "${ARGS[@]}"
check "v1 exec info gets a v1 ExecCredential with token and expiry" \
	[ "$(jq -r '.apiVersion + " " + .kind + " " + (.status.token | length > 100 | tostring)' <<<"$OUT")" = "client.authentication.k8s.io/v1 ExecCredential true" ]
exp=$(jq -r .status.expirationTimestamp <<<"$OUT")
tokexp=$(jwt_json "$(jq -r .status.token <<<"$OUT")" | jq -r .exp)
check "expirationTimestamp is the token's exp less the 30s skew" \
	[ "$(date -u -d "$exp" +%s)" -eq $((tokexp - 30)) ]
expect_exit 0 "$KMFA" "${ARGS[@]}"
check "no exec info at all means v1beta1" \
	[ "$(jq -r .apiVersion <<<"$OUT")" = client.authentication.k8s.io/v1beta1 ]
KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v2","kind":"ExecCredential"}' \
	expect_exit 2 "$KMFA" "${ARGS[@]}"
check "an unknown apiVersion is exit 2 with a clear line" \
	'[ "$RC" -eq 2 ] && [ -z "$OUT" ] && contains "$ERR" "unsupported exec credential apiVersion"'
KUBERNETES_EXEC_INFO='{not json' expect_exit 2 "$KMFA" "${ARGS[@]}"
check "malformed exec info is exit 2 with a clear line" \
	'[ "$RC" -eq 2 ] && [ -z "$OUT" ] && contains "$ERR" "KUBERNETES_EXEC_INFO is not a JSON object"'

# 3. After the ID token expires, the next call refreshes: no device flow.
# (The record's expiry is moved into the past, as time would.)
OLDRT=$(jq -r .refresh "$f")
jq '.token_exp = (now | floor) - 1' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
kc "$T/kc-v1" get --raw /version
check "an expired token is refreshed on the next call" \
	[ $? -eq 0 -a "$(idp_count /token refresh_token)" -eq 1 ]
check "the refresh ran no device flow" [ "$(idp_count /device/auth)" -eq 1 ]
# (Two ID tokens minted in the same second can be byte-identical: RS256 is
# deterministic and the IdP adds no jti.  The IdP rotates refresh tokens.)
check "the refresh replaced the cached entry" \
	'[ "$(jq -r .refresh "$f")" != "$OLDRT" ] && [ "$(jq -r .token_exp "$f")" -gt "$(date +%s)" ]'

# 5. Unattended without a valid token: exit 3 at once, nothing waits, and
# the IdP is asked nothing (its request log does not grow).
rm -f "$f"
idp_before=$(wc -l <"$IDP_LOG")
unattended "$KMFA" "${ARGS[@]}"
check "no terminal: exit 3 in under a second ($ms ms)" [ $rc -eq 3 -a $ms -lt 1000 ]
check "the unattended line names the command to run" \
	grep -q "run in a terminal: kubectl mfa login --oidc-issuer-url=$IDP_URL" "$T/err"
check "the unattended failure prints one line and nothing on stdout" \
	[ "$(wc -l <"$T/err")" -eq 1 -a ! -s "$T/out" ]
# A person's login elsewhere may hold the lock for minutes: an unattended
# process must not wait for it.  The lock is this configuration's (the
# entry's name with .lock); the holder must be seen holding it before the
# timed run and still holding it after, or the case proves nothing.
# The holder reads its release from a FIFO this script keeps open for
# reading and writing, so that neither side blocks if the other is gone.
lockf=${f%.json}.lock
mkfifo "$T/hold"
exec {hold}<>"$T/hold"
flock "$lockf" -c "read x" <&$hold &
holder=$!
timeout 5 bash -c "while flock -n '$lockf' true; do sleep 0.01; done"; held=$?
unattended "$KMFA" "${ARGS[@]}"
flock -n "$lockf" true; free_after=$?
alive=0; kill -0 $holder 2>/dev/null && alive=1
echo >&$hold; wait $holder; exec {hold}>&-
check "the lock holder holds the entry's lock before and after the timed run" \
	'[ -f "$lockf" ] && [ $held -eq 0 ] && [ $free_after -ne 0 ] && [ $alive -eq 1 ]'
check "unattended does not wait for a lock another login holds ($ms ms)" \
	'[ $rc -eq 3 ] && [ $ms -lt 1000 ] && grep -q "nobody to log in" "$T/err"'
start=$(date +%s%N)
CI=true attended "$KMFA" "${ARGS[@]}"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "CI=true with a terminal: exit 3 in under a second ($ms ms)" [ $rc -eq 3 -a $ms -lt 1000 ]
kc_before=$(idp_count /device/auth)
setsid -w kubectl --kubeconfig "$T/kc-v1" --cache-dir "$T/kcache" get --raw /version >"$T/out" 2>"$T/err" </dev/null
rc=$?
keep_stderr "$T/err"
check "kubectl without a terminal fails fast and says why" \
	'[ $rc -ne 0 ] && grep -q "nobody to log in" "$T/err" && [ "$(idp_count /device/auth)" -eq "$kc_before" ]'
check "an unattended refusal asks the IdP nothing ($(( $(wc -l <"$IDP_LOG") - idp_before )) requests over 4 refusals)" \
	[ "$(wc -l <"$IDP_LOG")" -eq "$idp_before" ]
check "an unattended refusal stores nothing" [ "$(cache_files)" -eq 0 ]

# 4. 20 kubectl processes at once on an empty cache: one login, all succeed.
before=$(idp_count /device/auth)
pids=()
for i in $(seq 1 20); do
	script -qec "$(printf '%q ' kubectl --kubeconfig "$T/kc-v1" \
		--cache-dir "$T/kcache-$i" get --raw /version) >$T/c$i.out 2>$T/c$i.err" \
		/dev/null >/dev/null </dev/null &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
for i in $(seq 1 20); do keep_stderr "$T/c$i.err"; done
check "20 concurrent kubectl processes all succeed ($fails failed)" [ $fails -eq 0 ]
check "20 concurrent kubectl processes cause exactly one device authorization" \
	[ $(( $(idp_count /device/auth) - before )) -eq 1 ]

# Storage none: a login every time, nothing written.
rm -rf "$XDG_CACHE_HOME/kubectl-mfa"
before=$(idp_count /device/auth)
NONE=("${ARGS[@]/disk/none}")
attended "$KMFA" "${NONE[@]}" && attended "$KMFA" "${NONE[@]}"
check "--token-cache-storage none logs in each time and stores nothing" \
	[ $? -eq 0 -a $(( $(idp_count /device/auth) - before )) -eq 2 -a "$(cache_files)" -eq 0 ]

# A cache file others can read is refused, not used.
attended "$KMFA" "${ARGS[@]}"
f=$(find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json')
chmod 640 "$f"
expect_exit 2 "$KMFA" "${ARGS[@]}"
check "a group-readable cache file is refused with exit 2 and a clear line" \
	'[ "$RC" -eq 2 ] && [ -z "$OUT" ] && contains "$ERR" "accessible by group or others"'
chmod 600 "$f"

# A damaged cache file is a miss that a login replaces.
echo '{"version":1,"identity":' >"$f"
attended "$KMFA" "${ARGS[@]}"; rc=$?
check "a damaged cache entry is replaced by a new login" \
	'[ $rc -eq 0 ] && jq -e .token "$f" >/dev/null && grep -q "damaged" "$T/a.err"'

# A cache that cannot be written warns and still hands out the token.
attended "$KMFA" "${ARGS[@]}" --token-cache-dir /dev/null/cache; rc=$?
check "an unwritable cache warns and still prints the credential" \
	'[ $rc -eq 0 ] && jq -e .status.token "$T/a.out" >/dev/null && grep -q "warning: could not store" "$T/a.err"'

# status and logout.
expect_exit 0 "$KMFA" status --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --fido2 off --token-cache-storage disk --certificate-authority "$T/pki/ca.pem" --min-valid 5m
check "status --min-valid 5m exits 0 with a fresh token" \
	'[ "$RC" -eq 0 ] && contains "$OUT" "subject:   alice"'
expect_exit 1 "$KMFA" status --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --fido2 off --token-cache-storage disk --certificate-authority "$T/pki/ca.pem" --min-valid 20m
check "status --min-valid 20m exits 1 with a 10-minute token" \
	'[ "$RC" -eq 1 ] && contains "$OUT" "subject:   alice"'
expect_exit 0 "$KMFA" status --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --fido2 off --token-cache-storage disk --certificate-authority "$T/pki/ca.pem" --json
check "status --json is one JSON document" \
	[ "$(jq -r '.subject + " " + (.valid | tostring) + " " + .refresh' <<<"$OUT")" = "alice true unsealed" ]
expect_exit 0 "$KMFA" logout --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --fido2 off --token-cache-storage disk --certificate-authority "$T/pki/ca.pem"
check "logout removes the entry and revokes the refresh token at the IdP" \
	[ "$(cache_files)" -eq 0 -a "$(idp_count /token/revocation)" -eq 1 ]
expect_exit 1 "$KMFA" status --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --fido2 off --token-cache-storage disk --certificate-authority "$T/pki/ca.pem"
check "status after logout exits 1" '[ "$RC" -eq 1 ] && contains "$OUT" "none cached"'

# 8. No token on stderr: every run's stderr (kept one file per run) is
# scanned for every token the IdP says it issued, and for JOSE text.  The
# list is whole (one ID token per successful token request) and the scan
# can see (it finds the token in a get-token's stdout).
runs=$(kept_stderr_count)
leaks=$(issued_leaks "$IDP_ISSUED" "$KMFA_STDERR_DIR"/* | wc -l)
jose=$(grep -l "eyJ" "$KMFA_STDERR_DIR"/* | wc -l)
ntok=$(jq -s '[.[] | select(.kind == "id_token")] | length' "$IDP_ISSUED")
ngrant=$(jq -s '[.[] | select(.path == "/token" and .status == 200)] | length' "$IDP_LOG")
check "the IdP logged every ID token it issued ($ntok for $ngrant token answers)" \
	'[ "$ntok" -ge 5 ] && [ "$ntok" -eq "$ngrant" ]'
attended "$KMFA" "${ARGS[@]}"
check "the token scan finds an issued token where one is (get-token's stdout)" \
	'[ "$(issued_leaks "$IDP_ISSUED" "$T/a.out")" = "$T/a.out" ]'
check "no issued token on the stderr of any of $runs runs ($leaks with one, $jose with eyJ)" \
	'[ "$runs" -ge 40 ] && [ "$leaks" -eq 0 ] && [ "$jose" -eq 0 ]'
finish

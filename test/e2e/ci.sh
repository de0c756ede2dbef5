#!/usr/bin/env bash
# CI that keeps running: a CI profile (--fido2 off, disk storage) whose
# cache a person seeded once refreshes without anyone present, under the
# entry's lock (many jobs at once: one refresh at the IdP), and the
# rotated refresh token replaces the cached one.  It never logs in: with
# no refresh token, or one the IdP refuses, it exits 3 and no device
# authorization is ever asked for.  Real kubectl and the real IdP, which
# rotates refresh tokens and refuses a used one.
. "$(dirname "$0")/../lib.sh"

JOBS=12
start_idp --id-token-ttl 600
start_apiserver
browser_env alice

CI_ARGS=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --fido2 off --token-cache-storage disk)
write_kubeconfig "$T/kc" "$API_URL" v1 -- "$KMFA" get-token "${CI_ARGS[@]}"
entry() { find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json'; }
# expire: the cached ID token's expiry moved into the past, as time would.
expire() {
	local f; f=$(entry)
	jq '.token_exp = (now | floor) - 1' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
}
# job NAME CMD...: CMD as a CI job runs it: CI set, no terminal.
job() {
	local name=$1; shift
	CI=true setsid -w "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	echo $? >"$T/$name.rc"
	keep_stderr "$T/$name.err"
}

# 1. A person seeds the cache once: a login in a terminal, as the README
# says (kubectl mfa login with the CI entry's options).
on_tty "$KMFA" login "${CI_ARGS[@]}" --browser-command "$KMFA_BROWSER"
keep_stderr "$T/tty.err"
f=$(entry)
check "seeding: one login in a terminal caches a token and a refresh token (unsealed: no key)" \
	'grep -q "logged in as alice" "$T/tty.err" && [ -n "$f" ] &&
	 [ "$(jq -r ".refresh | type" "$f")" = string ] && [ "$(jq -r .refresh_sealed "$f")" != true ]'
devices=$(idp_count /device/auth)

# 2. The token expires; many jobs at once, nobody present: one refresh.
RT0=$(jq -r .refresh "$f")
expire
refreshes=$(idp_count /token refresh_token)
pids=()
for i in $(seq 1 "$JOBS"); do
	job "j$i" "$KMFA" get-token "${CI_ARGS[@]}" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
good=0
for i in $(seq 1 "$JOBS"); do
	[ "$(cat "$T/j$i.rc")" = 0 ] && jq -e .status.token "$T/j$i.out" >/dev/null 2>&1 &&
		good=$((good + 1))
done
check "$JOBS unattended jobs (CI=true, no terminal) on an expired token all get a token ($good)" \
	'[ "$good" -eq "$JOBS" ]'
check "under the lock: exactly one refresh at the IdP for all of them ($(( $(idp_count /token refresh_token) - refreshes )))" \
	'[ "$(idp_count /token refresh_token)" -eq $((refreshes + 1)) ]'
check "no job asked for a device authorization" '[ "$(idp_count /device/auth)" -eq "$devices" ]'
RT1=$(jq -r .refresh "$f")
check "the rotated refresh token replaced the cached one, the token is fresh" \
	'[ -n "$RT1" ] && [ "$RT1" != "$RT0" ] && [ "$(jq -r .token_exp "$f")" -gt "$(date +%s)" ]'

# 3. Real kubectl in a job, no terminal: it refreshes and reaches the API.
expire
job kc kubectl --kubeconfig "$T/kc" --cache-dir "$T/kcache" get --raw /version
check "kubectl without a terminal, token expired: refreshed, the API server answers" \
	'[ "$(cat "$T/kc.rc")" = 0 ] && grep -q gitVersion "$T/kc.out" &&
	 [ "$(idp_count /token refresh_token)" -eq $((refreshes + 2)) ] &&
	 [ "$(idp_count /device/auth)" -eq "$devices" ]'

# 4. A refresh token the IdP refuses (the one already used: rotation made
# it void): exit 3 with the line naming the command, never a login.
RT2=$(jq -r .refresh "$f")
jq --arg rt "$RT0" '.refresh = $rt' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
expire
job used "$KMFA" get-token "${CI_ARGS[@]}"
check "a used (rotated-out) refresh token is refused: exit 3, the last line says who must log in" \
	'[ "$(cat "$T/used.rc")" = 3 ] && [ ! -s "$T/used.out" ] &&
	 contains "$(tail -1 "$T/used.err")" "nobody to log in" &&
	 contains "$(tail -1 "$T/used.err")" "kubectl mfa login"'
check "...the IdP was asked for a refresh, never a device authorization" \
	'[ "$(idp_count /token refresh_token)" -eq $((refreshes + 3)) ] &&
	 [ "$(idp_count /device/auth)" -eq "$devices" ]'

# 5. No refresh token at all: exit 3 at once, the IdP is asked nothing.
jq 'del(.refresh)' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
expire
before=$(wc -l <"$IDP_LOG")
start=$(date +%s%N)
job none "$KMFA" get-token "${CI_ARGS[@]}"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "no refresh token: exit 3 in under a second ($ms ms), one line, no IdP request" \
	'[ "$(cat "$T/none.rc")" = 3 ] && [ "$ms" -lt 1000 ] && one_line "$(cat "$T/none.err")" &&
	 [ "$(wc -l <"$IDP_LOG")" -eq "$before" ]'

# 6. Only the CI profile: the same entry asked for by `login` (not
# get-token) unattended is still refused before anything happens.
jq --arg rt "$RT2" '.refresh = $rt' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
expire
before=$(wc -l <"$IDP_LOG")
job login "$KMFA" login "${CI_ARGS[@]}"
check "unattended login is refused (exit 3), even with a refresh token; no IdP request" \
	'[ "$(cat "$T/login.rc")" = 3 ] && [ "$(wc -l <"$IDP_LOG")" -eq "$before" ]'

check "no token reached any job's stderr" \
	'[ -z "$(issued_leaks "$IDP_ISSUED" "$KMFA_STDERR_DIR"/*)" ]'
finish

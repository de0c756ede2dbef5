#!/usr/bin/env bash
# What a cached token, a client secret and the IdP's strings may reach:
#   - the policy is bound to the cached token: a token a laxer entry
#     obtained (no --require-amr, no --fido2-uv, another TLS trust) is never
#     served to a stricter one, by the front (the hot path) nor the core;
#   - logout --all sends this command's client secret and TLS trust only to
#     the entry of its own configuration;
#   - sub and acr from a signed ID token reach the terminal printable;
#   - the client secret comes from a 0600 file or the environment, travels
#     only as HTTP Basic, and is not in the plugin's /proc/PID/cmdline.
# Against the stub IdP (test/servers/stub-idp.mjs): its device flow needs no
# browser, and it can be a confidential client.  --fido2 off: the entries
# differ in policy, not in the key.
. "$(dirname "$0")/../lib.sh"

SECRET=trust-CANARY-5ecret-$$
OTHER_SECRET=other-CANARY-5ecret-$$
EVIL_SUB=$'ev\e[2J\e]0;owned\ail\nkubectl-mfa: forged line'
EVIL_ACR=$'urn:\e[31mred\nforged'
# P: a public client whose ID tokens carry no amr.
start_stub_idp amr_missing
P_URL=$STUB_URL P_LOG=$STUB_LOG
# S: a confidential client (secret $SECRET) with a hostile sub and acr.
start_stub_idp ok --client-secret "$SECRET" --sub "$EVIL_SUB" --acr "$EVIL_ACR"
S_URL=$STUB_URL S_LOG=$STUB_LOG
# O: another confidential client, with a secret of its own.
start_stub_idp ok --client-secret "$OTHER_SECRET"
O_URL=$STUB_URL O_LOG=$STUB_LOG

CACHE=$XDG_CACHE_HOME/kubectl-mfa
# BASE is what status takes too; B adds the login options.
BASE=(--oidc-client-id kubectl --certificate-authority "$T/pki/ca.pem" --fido2 off
	--token-cache-storage disk)
B=("${BASE[@]}" --skip-open-browser --timeout 20s)
LAX=(--oidc-issuer-url "$P_URL" "${B[@]}")
tokens_at() { # LOG: token answers the stub gave
	jq -s '[.[] | select(.path == "/token" and .answer == "tokens")] | length' "$1"
}
no_ctl() { ! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$1"; }

# --- 1. policy bound to the cached token ---------------------------------
mx_run tty "$KMFA" get-token "${LAX[@]}"
[ "$MX_RC" -eq 0 ] || die "the lax login failed (exit $MX_RC): $(tail -1 "$T/mx.err")"
check "a lax entry (no --require-amr) logs in and caches a token without amr" \
	'[ "$(find "$CACHE" -name "*.json" | wc -l)" -eq 1 ] &&
	 [ "$(jwt_json "$(jq -r .status.token "$T/mx.out")" | jq "has(\"amr\")")" = false ]'
mx_run plain "$KMFA" get-token "${LAX[@]}"
check "the lax entry itself is served from the cache (front)" \
	'[ "$MX_RC" -eq 0 ] && [ -n "$(jq -r .status.token "$T/mx.out")" ]'
before=$(wc -l <"$P_LOG")
mx_run plain "$KMFA" get-token "${LAX[@]}" --require-amr hwk
check "front: the token without amr is not served to --require-amr hwk (unattended: exit 3)" \
	'[ "$MX_RC" -eq 3 ] && [ ! -s "$T/mx.out" ] && contains "$(cat "$T/mx.err")" "--require-amr=hwk"'
mx_run plain "$KMFA_CORE" get-token "${LAX[@]}" --require-amr hwk
check "core: the token without amr is not served to --require-amr hwk (exit 3)" \
	'[ "$MX_RC" -eq 3 ] && [ ! -s "$T/mx.out" ]'
check "neither asked the IdP (a miss, not a refresh of the lax token)" \
	[ "$(wc -l <"$P_LOG")" -eq "$before" ]
mx_run tty "$KMFA" get-token "${LAX[@]}" --require-amr hwk
check "attended, --require-amr hwk logs in anew and refuses the amr-less token (exit 5)" \
	'[ "$MX_RC" -eq 5 ] && [ ! -s "$T/mx.out" ] && contains "$(cat "$T/mx.err")" "amr"'
mx_run plain "$KMFA" get-token "${LAX[@]}" --fido2-uv
check "front: the token obtained without --fido2-uv is not served to --fido2-uv (exit 3)" \
	'[ "$MX_RC" -eq 3 ] && [ ! -s "$T/mx.out" ]'
mx_run plain "$KMFA_CORE" get-token "${LAX[@]}" --fido2-uv
check "core: nor by the core (exit 3)" '[ "$MX_RC" -eq 3 ] && [ ! -s "$T/mx.out" ]'
mx_run plain "$KMFA" get-token "${LAX[@]}" --insecure-skip-tls-verify
check "front: the token is not served to another TLS trust (--insecure-skip-tls-verify, exit 3)" \
	'[ "$MX_RC" -eq 3 ] && [ ! -s "$T/mx.out" ]'
mx_run plain "$KMFA" get-token "${LAX[@]}" \
	--fido2-credentials "$XDG_CONFIG_HOME/kubectl-mfa/credentials.json"
check "the default credentials file named explicitly is the same entry (served, exit 0)" \
	'[ "$MX_RC" -eq 0 ] && [ -n "$(jq -r .status.token "$T/mx.out")" ]'
mx_run plain "$KMFA" status --oidc-issuer-url "$P_URL" "${BASE[@]}" --require-amr hwk
check "status --require-amr names the stricter entry: none cached (exit 1)" \
	'[ "$MX_RC" -eq 1 ] && grep -q "none cached" "$T/mx.out"'

# A strict entry is still served from its own cache.
STRICT=(--oidc-issuer-url "$O_URL" "${B[@]}" --require-amr hwk)
printf '%s\n' "$OTHER_SECRET" >"$T/other.secret"; chmod 600 "$T/other.secret"
mx_run tty "$KMFA" get-token "${STRICT[@]}" --oidc-client-secret-file "$T/other.secret"
[ "$MX_RC" -eq 0 ] || die "the strict login failed (exit $MX_RC): $(tail -1 "$T/mx.err")"
before=$(wc -l <"$O_LOG")
mx_run plain "$KMFA" get-token "${STRICT[@]}"
check "the --require-amr hwk entry is served from its own cache (no secret needed on a hit)" \
	'[ "$MX_RC" -eq 0 ] && [ -n "$(jq -r .status.token "$T/mx.out")" ] &&
	 [ "$(wc -l <"$O_LOG")" -eq "$before" ]'

# --- 9. the client secret: a file, the environment, never argv -----------
SARGS=(--oidc-issuer-url "$S_URL" "${B[@]}" --token-cache-dir "$T/s-cache")
printf '%s\n' "$SECRET" >"$T/s.secret"; chmod 644 "$T/s.secret"
mx_run tty "$KMFA" login "${SARGS[@]}" --oidc-client-secret-file "$T/s.secret"
check "a secret file readable by others is refused (exit 2), nothing sent" \
	'[ "$MX_RC" -eq 2 ] && grep -q "accessible by group or others" "$T/mx.err" &&
	 [ "$(tokens_at "$S_LOG")" -eq 0 ]'
chmod 600 "$T/s.secret"
mx_run tty "$KMFA" login "${SARGS[@]}" --oidc-client-secret-file "$T/s.secret"
check "--oidc-client-secret-file: login as the confidential client (HTTP Basic)" \
	'[ "$MX_RC" -eq 0 ] && [ "$(tokens_at "$S_LOG")" -eq 1 ] &&
	 [ "$(jq -s "[.[] | select(.path == \"/token\" and .answer == \"tokens\" and .client_auth == \"basic\")] | length" "$S_LOG")" -eq 1 ]'
# 8. what the IdP chose for sub reaches the terminal printable.
check "sub with escapes and a newline: 'logged in as' shows no control byte" \
	'grep -q "logged in as ev" "$T/mx.err" && no_ctl "$T/mx.err" && ! grep -q "^kubectl-mfa: forged" "$T/mx.err"'
mx_run tty "$KMFA" status --oidc-issuer-url "$S_URL" "${BASE[@]}" --token-cache-dir "$T/s-cache"
check "status shows the subject without control bytes" \
	'[ "$MX_RC" -eq 0 ] && grep -q "^subject: *ev" "$T/mx.out" && no_ctl "$T/mx.out" && no_ctl "$T/mx.err"'
mx_run tty "$KMFA" login "${SARGS[@]}" --oidc-client-secret-file "$T/s.secret" --require-acr urn:other
check "acr mismatch: the message shows the IdP's acr without control bytes (exit 5)" \
	'[ "$MX_RC" -eq 5 ] && grep -q "acr is .urn:" "$T/mx.err" && no_ctl "$T/mx.err" &&
	 [ "$(grep -c "forged" "$T/mx.err")" -le 1 ] && ! grep -q "^forged" "$T/mx.err"'
n=$(tokens_at "$S_LOG")
KUBECTL_MFA_OIDC_CLIENT_SECRET=$SECRET mx_run tty "$KMFA" login "${SARGS[@]}"
check "KUBECTL_MFA_OIDC_CLIENT_SECRET: login as the confidential client" \
	'[ "$MX_RC" -eq 0 ] && [ "$(tokens_at "$S_LOG")" -eq $((n + 1)) ]'
mx_run tty "$KMFA" setup "${SARGS[@]}" --oidc-client-secret-file "$T/s.secret"
check "setup writes --oidc-client-secret-file (the name), never the secret" \
	'[ "$MX_RC" -eq 0 ] && grep -qF -- "--oidc-client-secret-file=$T/s.secret" "$T/mx.out" &&
	 ! grep -qF -- "$SECRET" "$T/mx.out" "$T/mx.err"'
check "the cache holds no secret, nor its identity" \
	'! grep -rqF -- "$SECRET" "$T/s-cache" "$CACHE"'
# The plugin waits on a token request the IdP never answers: read its /proc.
# The secret came by the environment: the plugin wiped it there too.
stub_scenario_at() { STUB_URL=$1 stub_scenario "$2"; }
stub_scenario_at "$S_URL" hang_token || die "stub: cannot switch to hang_token"
KUBECTL_MFA_OIDC_CLIENT_SECRET=$SECRET MX_LIMIT=30 mx_run tty "$KMFA" login \
	"${SARGS[@]}" --timeout 6s &
bg=$!
for ((i = 0; i < 250; i++)); do
	[ "$(jq -s '[.[] | select(.answer == "hang")] | length' "$S_LOG")" -ge 1 ] && break
	sleep 0.02
done
pids=$(grep -lF -- "$S_URL" /proc/[0-9]*/cmdline 2>/dev/null |
	xargs -r grep -lzxF -- login 2>/dev/null | cut -d/ -f3 | sort -u)
found=0 leaked=0
for p in $pids; do
	[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$KMFA_CORE")" ] || continue
	found=$((found + 1))
	tr '\0' '\n' <"/proc/$p/cmdline" >"$T/cmdline.$p" 2>/dev/null
	grep -qF -- "$SECRET" "$T/cmdline.$p" && leaked=1
	grep -qzF -- "$SECRET" "/proc/$p/environ" 2>/dev/null && leaked=1
done
wait "$bg"
stub_scenario_at "$S_URL" ok
check "the plugin waiting on the IdP ($found process) has no secret in cmdline or environ" \
	'[ "$found" -ge 1 ] && [ "$leaked" -eq 0 ]'

# --- 7. logout --all: each issuer gets only its own entry's settings -----
# Entries now: P (public, lax), O (confidential, strict), and S in
# $T/s-cache.  Put S's entry beside the others and log out of everything
# with S's secret and CA.
cp "$T/s-cache"/*.json "$CACHE/"
o_basic_before=$(jq -s '[.[] | select(.client_auth == "basic")] | length' "$O_LOG")
p_before=$(wc -l <"$P_LOG")
mx_run tty "$KMFA" logout --all --oidc-issuer-url "$S_URL" "${B[@]}" \
	--oidc-client-secret-file "$T/s.secret"
check "logout --all exits 0 and removes every entry" \
	'[ "$MX_RC" -eq 0 ] && [ "$(find "$CACHE" -name "*.json" | wc -l)" -eq 0 ]'
check "the own entry is revoked at its issuer with its secret (HTTP Basic)" \
	'[ "$(jq -s "[.[] | select(.path == \"/revoke\" and .client_auth == \"basic\")] | length" "$S_LOG")" -ge 1 ] &&
	 grep -qF "revoked at $S_URL" "$T/mx.err"'
check "the other confidential issuer never receives this command's secret" \
	'[ "$(jq -s "[.[] | select(.client_auth == \"basic\")] | length" "$O_LOG")" -eq "$o_basic_before" ]'
check "each other issuer is revoked as a public client, with its entry's own CA" \
	'[ "$(jq -s "[.[] | select(.path == \"/revoke\" and .client_auth == \"none\")] | length" "$O_LOG")" -eq 1 ] &&
	 [ "$(jq -s "[.[] | select(.path == \"/revoke\" and .client_auth == \"none\")] | length" "$P_LOG")" -eq 1 ]'
check "and the output says so, one line per entry" \
	'[ "$(grep -c "as a public client with the entry.s own TLS settings" "$T/mx.err")" -eq 2 ] &&
	 grep "as a public client" "$T/mx.err" | grep -qF "$O_URL" &&
	 grep "as a public client" "$T/mx.err" | grep -qF "$P_URL"'

finish

#!/usr/bin/env bash
# The command line as a person and a CI job meet it: --help for every
# subcommand, one-line usage errors with exit 2, `version`, `status`
# (--min-valid both ways, --json read by jq, --all), `logout` (revocation
# seen at the IdP; a sealed refresh token skips it and says so; --all), and
# the audit log's content, with no token from the IdP anywhere in it.
. "$(dirname "$0")/../lib.sh"

COMMANDS=(get-token login status logout enroll keys setup version)

# 1. --help: exit 0, the command's usage line on stdout, nothing on stderr.
for c in "${COMMANDS[@]}"; do
	expect_exit 0 "$KMFA" "$c" --help
	check "$c --help: exit 0 and its usage line on stdout" \
		'[ "$RC" -eq 0 ] && [ -z "$ERR" ] && contains "$OUT" "usage: kubectl-mfa $c"'
done
expect_exit 0 "$KMFA" --help
missing=
for c in "${COMMANDS[@]}"; do contains "$OUT" "  $c " || missing="$missing $c"; done
check "--help lists every command${missing:+ (missing:$missing)}" '[ "$RC" -eq 0 ] && [ -z "$missing" ]'
expect_exit 0 "$KMFA" help status
check "help status is status --help" \
	'[ "$RC" -eq 0 ] && contains "$OUT" "usage: kubectl-mfa status"'

# 2. Usage errors: exactly one line on stderr, nothing on stdout, exit 2.
usage_error() { # NAME CMD...
	local name=$1; shift
	expect_exit 2 "$@"
	if [ "$RC" -eq 2 ] && [ -z "$OUT" ] && one_line "$ERR" &&
		contains "$ERR" "kubectl-mfa: "; then
		ok "$name"
	else
		not_ok "$name" "exit $RC, stderr: $(head -3 <<<"$ERR" | tr '\n' '|')"
	fi
}
for c in "${COMMANDS[@]}"; do
	usage_error "$c --no-such-option: one line, exit 2" "$KMFA" "$c" --no-such-option
done
for c in get-token login status logout setup; do
	usage_error "$c without --oidc-issuer-url: one line, exit 2" \
		"$KMFA" "$c" --oidc-client-id kubectl
	usage_error "$c without --oidc-client-id: one line, exit 2" \
		"$KMFA" "$c" --oidc-issuer-url https://127.0.0.1:1
done
usage_error "an option missing its value: one line, exit 2" \
	"$KMFA" status --oidc-client-id kubectl --oidc-issuer-url
usage_error "--fido2 with a bad value: one line, exit 2" \
	"$KMFA" get-token --oidc-issuer-url https://127.0.0.1:1 --oidc-client-id k --fido2 maybe
usage_error "--token-cache-storage with a bad value: one line, exit 2" \
	"$KMFA" status --all --token-cache-storage tape
usage_error "--min-valid with a bad duration: one line, exit 2" \
	"$KMFA" status --all --min-valid 15x
usage_error "an option of another command (status --kubeconfig): one line, exit 2" \
	"$KMFA" status --all --kubeconfig /dev/null
usage_error "keys remove without NAME: one line, exit 2" "$KMFA" keys remove
usage_error "keys with an unknown action: one line, exit 2" "$KMFA" keys frob
usage_error "version with an argument: one line, exit 2" "$KMFA" version extra
usage_error "an unknown command: one line, exit 2" "$KMFA" frobnicate
"$KMFA" >/dev/null 2>"$T/err" </dev/null; rc=$?
check "no command: exit 2, one line on stderr" '[ $rc -eq 2 ] && one_line "$(cat "$T/err")"'

# 3. version.
expect_exit 0 "$KMFA" version
check "version prints 'kubectl-mfa X.Y.Z'" \
	'[ "$RC" -eq 0 ] && [ -z "$ERR" ] && [[ $OUT =~ ^kubectl-mfa\ [0-9]+\.[0-9]+\.[0-9]+$ ]]'
V=$OUT
expect_exit 0 "$KMFA" --version
check "--version prints the same" '[ "$RC" -eq 0 ] && [ "$OUT" = "$V" ]'

# --- a real login (--fido2 off) against the IdP -----------------------------
start_idp --id-token-ttl 600 --issued-log "$T/issued.jsonl"
browser_env alice
AUDIT=$XDG_STATE_HOME/kubectl-mfa/audit.log
# The CA is part of the entry's identity: status and logout name it too.
ID=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --fido2 off
	--token-cache-storage disk --certificate-authority "$T/pki/ca.pem")
LOGIN=(--browser-command "$KMFA_BROWSER" --timeout 30s)

expect_exit 1 "$KMFA" status "${ID[@]}"
check "status with nothing cached: exit 1, says none cached" \
	'[ "$RC" -eq 1 ] && contains "$OUT" "none cached"'
expect_exit 1 "$KMFA" status "${ID[@]}" --json
check "status --json with nothing cached: exit 1, cached and valid false" \
	'[ "$RC" -eq 1 ] && jq -e ".cached == false and .valid == false" <<<"$OUT" >/dev/null'

on_tty "$KMFA" login "${ID[@]}" "${LOGIN[@]}"; rc=$?
check "login (--fido2 off): exit 0, nothing on stdout, a success line with subject and expiry" \
	'[ $rc -eq 0 ] && [ ! -s "$T/tty.out" ] && grep -q "logged in as alice; token valid until 20" "$T/tty.err"'
ENTRY=$(find "$XDG_CACHE_HOME/kubectl-mfa" -name '*.json')
EXP=$(jq -r .token_exp "$ENTRY")

# 4. status --min-valid both ways; the token lives 600 s, less 30 s skew.
expect_exit 0 "$KMFA" status "${ID[@]}" --min-valid 5m
check "status --min-valid 5m: exit 0 with a 10-minute token" \
	'[ "$RC" -eq 0 ] && contains "$OUT" "subject:   alice" && contains "$OUT" "token:     valid until"'
expect_exit 1 "$KMFA" status "${ID[@]}" --min-valid 15m
check "status --min-valid 15m: exit 1 with a 10-minute token, and still shows it" \
	'[ "$RC" -eq 1 ] && contains "$OUT" "subject:   alice"'
expect_exit 1 "$KMFA" status "${ID[@]}" --min-valid 1h
check "status --min-valid 1h: exit 1" [ "$RC" -eq 1 ]
expect_exit 0 "$KMFA" status "${ID[@]}"
check "status without --min-valid: exit 0 for a valid token" [ "$RC" -eq 0 ]

# 5. --json: one document with stable fields.
expect_exit 0 "$KMFA" status "${ID[@]}" --json
printf '%s\n' "$OUT" >"$T/status.json"
check "status --json: exactly one JSON document" \
	'[ "$RC" -eq 0 ] && [ "$(jq -s length "$T/status.json")" -eq 1 ] && jq -e "type == \"object\"" "$T/status.json" >/dev/null'
check "status --json: the documented fields, with their types" \
	'jq -e "(.subject | type) == \"string\" and (.valid | type) == \"boolean\" and
		(.valid_until | type) == \"string\" and (.seconds_left | type) == \"number\" and
		(.refresh | type) == \"string\" and (.storage | type) == \"string\" and
		(.issuer | type) == \"string\" and (.client_id | type) == \"string\"" \
		"$T/status.json" >/dev/null'
check "status --json: subject alice, valid, unsealed refresh, disk storage, the issuer" \
	'[ "$(jq -r "[.subject, .valid, .refresh, .storage, .issuer, .client_id] | join(\" \")" \
		"$T/status.json")" = "alice true unsealed disk $IDP_URL kubectl" ]'
check "status --json: valid_until is RFC 3339 UTC, the token's exp less the 30 s skew" \
	'[ "$(jq -r .valid_until "$T/status.json")" = "$(date -u -d @$((EXP - 30)) +%Y-%m-%dT%H:%M:%SZ)" ]'
check "status --json: seconds_left agrees with valid_until" \
	'left=$(jq .seconds_left "$T/status.json"); now=$(date +%s);
	 [ "$left" -le $((EXP - 30 - now + 1)) ] && [ "$left" -ge $((EXP - 30 - now - 5)) ] && [ "$left" -gt 500 ]'
expect_exit 1 "$KMFA" status "${ID[@]}" --json --min-valid 15m
check "status --json --min-valid 15m: exit 1 and the same document" \
	'[ "$RC" -eq 1 ] && [ "$(jq -r .subject <<<"$OUT")" = alice ] && [ "$(jq -r .valid <<<"$OUT")" = true ]'

# 6. Logout with revocation seen at the IdP.
rev0=$(idp_count /token/revocation)
expect_exit 0 "$KMFA" logout "${ID[@]}" --certificate-authority "$T/pki/ca.pem"
check "logout: exit 0, revoked at the IdP and says so" \
	'[ "$RC" -eq 0 ] && [ "$(idp_count /token/revocation)" -eq $((rev0 + 1)) ] &&
	 contains "$ERR" "revoked at $IDP_URL" && [ ! -e "$ENTRY" ]'
expect_exit 1 "$KMFA" status "${ID[@]}"
check "status after logout: exit 1" '[ "$RC" -eq 1 ] && contains "$OUT" "none cached"'
expect_exit 0 "$KMFA" logout "${ID[@]}" --certificate-authority "$T/pki/ca.pem"
check "logout with nothing cached: exit 0, nothing revoked" \
	'[ "$RC" -eq 0 ] && [ "$(idp_count /token/revocation)" -eq $((rev0 + 1)) ] && contains "$ERR" "0 cached tokens removed"'

# 7. status --all and logout --all over two entries (another scope is
# another cache entry).
on_tty "$KMFA" login "${ID[@]}" "${LOGIN[@]}" && r1=0 || r1=1
on_tty "$KMFA" login "${ID[@]}" "${LOGIN[@]}" --oidc-extra-scope email && r2=0 || r2=1
check "two logins make two cache entries" \
	'[ $r1$r2 = 00 ] && [ "$(find "$XDG_CACHE_HOME/kubectl-mfa" -name "*.json" | wc -l)" -eq 2 ]'
expect_exit 0 "$KMFA" status --all --token-cache-storage disk
check "status --all: exit 0, both entries shown" \
	'[ "$RC" -eq 0 ] && [ "$(grep -c "^subject:   alice" <<<"$OUT")" -eq 2 ]'
expect_exit 0 "$KMFA" status --all --token-cache-storage disk --json
check "status --all --json: an array of two valid entries" \
	'[ "$RC" -eq 0 ] && jq -e "type == \"array\" and length == 2 and all(.[]; .valid and .subject == \"alice\")" <<<"$OUT" >/dev/null'
expect_exit 1 "$KMFA" status --all --token-cache-storage disk --min-valid 1h
check "status --all --min-valid 1h: exit 1" [ "$RC" -eq 1 ]
rev0=$(idp_count /token/revocation)
expect_exit 0 "$KMFA" logout --all --token-cache-storage disk --certificate-authority "$T/pki/ca.pem"
check "logout --all: both removed and both revoked" \
	'[ "$RC" -eq 0 ] && [ "$(idp_count /token/revocation)" -eq $((rev0 + 2)) ] &&
	 [ "$(find "$XDG_CACHE_HOME/kubectl-mfa" -name "*.json" | wc -l)" -eq 0 ] &&
	 contains "$ERR" "2 cached tokens removed"'
expect_exit 1 "$KMFA" status --all --token-cache-storage disk
check "status --all after logout --all: exit 1, no cached tokens" \
	'[ "$RC" -eq 1 ] && contains "$OUT" "no cached tokens"'

# 8. A sealed refresh token: logout deletes it and says the IdP-side
# revocation was skipped.
start_softkey key1
expect_exit 0 "$KMFA" enroll --name key1 --fido2-device "$SOFTKEY_DEV" --timeout 20s
check "enroll the software key" [ "$RC" -eq 0 ]
REQ=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --token-cache-storage disk
	--fido2-device "$SOFTKEY_DEV" --certificate-authority "$T/pki/ca.pem")
on_tty "$KMFA" login "${REQ[@]}" "${LOGIN[@]}"; rc=$?
expect_exit 0 "$KMFA" status "${REQ[@]}" --json
check "a --fido2 required login seals the refresh token" \
	'[ $rc -eq 0 ] && [ "$(jq -r .refresh <<<"$OUT")" = sealed ] && [ "$(jq -r .key_name <<<"$OUT")" = key1 ]'
rev0=$(idp_count /token/revocation)
expect_exit 0 "$KMFA" logout "${REQ[@]}"
check "logout of a sealed entry: removed, nothing sent to the IdP" \
	'[ "$RC" -eq 0 ] && [ "$(idp_count /token/revocation)" -eq "$rev0" ] &&
	 [ "$(find "$XDG_CACHE_HOME/kubectl-mfa" -name "*.json" | wc -l)" -eq 0 ]'
check "logout of a sealed entry says plainly that IdP-side revocation was skipped" \
	contains "$ERR" "revocation at the identity provider was skipped"

# A touch the key refuses: exit 4, audited as a failed touch.
softkey_ctl key1 mode refuse
on_tty "$KMFA" login "${REQ[@]}" "${LOGIN[@]}"; rc=$?
softkey_ctl key1 mode touch
check "a refused touch: exit 4" [ $rc -eq 4 ]

# 9. Unattended refusal (no terminal, nothing cached): exit 3, audited.
setsid -w "$KMFA" get-token "${ID[@]}" "${LOGIN[@]}" >"$T/out" 2>"$T/err" </dev/null
rc=$?
check "unattended get-token: exit 3" '[ $rc -eq 3 ] && grep -q "nobody to log in" "$T/err"'

# 10. The audit log.
check "the audit log is a 0600 file in a 0700 folder" \
	'[ "$(stat -c %a "$AUDIT")" = 600 ] && [ "$(stat -c %a "$(dirname "$AUDIT")")" = 700 ]'
check "every audit line is one JSON object with time, event, outcome and pid" \
	'jq -e -s "length > 0 and all(.[]; (.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$\")) and
		(.event | type) == \"string\" and (.outcome == \"ok\" or .outcome == \"error\") and
		(.pid | type) == \"number\")" "$AUDIT" >/dev/null'
aud() { jq -c -s "[.[] | select($1)] | length" "$AUDIT"; }
check "login lines: issuer, subject alice, outcome ok" \
	'[ "$(aud ".event == \"login\" and .issuer == \"$IDP_URL\" and .subject == \"alice\" and .outcome == \"ok\"")" -ge 4 ]'
# The audit header (lib/ui/audit.h) promises the key name with each event.
check "a touch-ok line names the key" \
	'[ "$(aud ".event == \"touch-ok\" and .key == \"key1\" and .issuer == \"$IDP_URL\" and .outcome == \"ok\"")" -eq 1 ]'
check "the refused touch is audited as touch-failed with its error" \
	'[ "$(aud ".event == \"touch-failed\" and .outcome == \"error\" and (.error | length > 0)")" -eq 1 ]'
check "the unattended refusal is audited with its error" \
	'[ "$(aud ".event == \"unattended\" and .issuer == \"$IDP_URL\" and .outcome == \"error\" and (.error | contains(\"nobody to log in\"))")" -eq 1 ]'
check "logout is audited (docs/DESIGN.md §5 lists it)" \
	'[ "$(aud ".event == \"logout\"")" -ge 1 ]'
leaks=0
while read -r v; do
	grep -qF -- "$v" "$AUDIT" && leaks=$((leaks + 1))
done < <(jq -r .value "$T/issued.jsonl")
check "no token the IdP issued appears in the audit log ($(wc -l <"$T/issued.jsonl") issued, $leaks found)" \
	'[ $leaks -eq 0 ] && [ "$(wc -l <"$T/issued.jsonl")" -ge 8 ] && ! grep -q "eyJ" "$AUDIT"'

# --audit-log off and --audit-log FILE.
n0=$(wc -l <"$AUDIT")
on_tty "$KMFA" login "${ID[@]}" "${LOGIN[@]}" --audit-log off
check "--audit-log off: the login works and writes no audit line" \
	'grep -q "logged in as alice" "$T/tty.err" && [ "$(wc -l <"$AUDIT")" -eq "$n0" ]'
on_tty "$KMFA" login "${ID[@]}" "${LOGIN[@]}" --audit-log "$T/elsewhere/audit.jsonl"
check "--audit-log FILE: the line (a refresh) goes there (0600), not to the default log" \
	'[ "$(wc -l <"$AUDIT")" -eq "$n0" ] && [ "$(stat -c %a "$T/elsewhere/audit.jsonl")" = 600 ] &&
	 jq -e -s "length == 1 and .[0].event == \"refresh\" and
		.[0].subject == \"alice\" and .[0].outcome == \"ok\"" \
		"$T/elsewhere/audit.jsonl" >/dev/null'

finish

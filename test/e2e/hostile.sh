#!/usr/bin/env bash
# The hostile-input matrix: what an IdP, the network, the files on disk,
# kubectl's environment and a kubeconfig can throw at the plugin, one row
# per case.  Every case asserts
#   - the exit code;
#   - that the run ends with exactly one failure line on stderr (the last
#     line, `kubectl-mfa: ...`, not a warning), holding the expected words;
#     without a terminal every stderr line is a `kubectl-mfa:` line and all
#     but the last are warnings; with one, progress lines may come first;
#   - nothing on stdout (no credential, not even a partial one);
#   - nothing cached: every file in the cache folders is byte-identical
#     before and after (no new entry, no changed entry, no *.tmp.* left),
#     and the good entry of another configuration, made by a real login at
#     the start, is unchanged;
#   - the row's own extra condition, if any (timing, requests at the stub).
#
# Login rows run with a terminal (a person is present, so the plugin goes as
# far as a hostile IdP lets it); configuration rows without one.  Rows that
# damage a cache entry work on a second real entry (C), restored after each
# row.  --fido2 off except in the credentials rows: the security key has its
# own suite.
. "$(dirname "$0")/../lib.sh"

start_stub_idp ok
MAIN=$STUB_URL MAIN_LOG=$STUB_LOG
start_stub_idp ok --cert "$T/pki/expired.pem" --key "$T/pki/expired.key"
EXPIRED_URL=$STUB_URL EXPIRED_LOG=$STUB_LOG
start_stub_idp ok --cert "$T/pki/wronghost.pem" --key "$T/pki/wronghost.key"
WRONGHOST_URL=$STUB_URL WRONGHOST_LOG=$STUB_LOG
start_stub_idp ok --interval=-5
NEGINT_URL=$STUB_URL NEGINT_LOG=$STUB_LOG
start_stub_idp ok --interval=100000000
HUGEINT_URL=$STUB_URL HUGEINT_LOG=$STUB_LOG
# stub_scenario and stub_count act on the main stub from here on.
STUB_URL=$MAIN STUB_LOG=$MAIN_LOG

CACHE=$XDG_CACHE_HOME/kubectl-mfa
MIRROR=$XDG_RUNTIME_DIR/kubectl-mfa
B=(--oidc-client-id kubectl --certificate-authority "$T/pki/ca.pem" --fido2 off
	--token-cache-storage disk --skip-open-browser)
G=(get-token --oidc-issuer-url "$MAIN" "${B[@]}" --oidc-extra-scope good --timeout 20s)
C=(get-token --oidc-issuer-url "$MAIN" "${B[@]}" --oidc-extra-scope cached --timeout 20s)

# The good entry (G) and the entry the cache rows damage (C): real logins.
new_entry() { # -> the one cache file that appeared since $1 (a snapshot)
	comm -13 <(printf '%s\n' "$1" | awk '{print $2}' | sort) \
		<(mx_snapshot "$CACHE" | awk '{print $2}' | sort) | grep '\.json$'
}
snap=$(mx_snapshot "$CACHE")
mx_run tty "$KMFA" "${G[@]}"
GOOD=$(new_entry "$snap")
{ [ "$MX_RC" -eq 0 ] && [ -n "$GOOD" ] && mx_cache_valid "$GOOD"; } ||
	die "the good login failed (exit $MX_RC): $(tail -1 "$T/mx.err")"
GOOD_SUM=$(sha256sum <"$GOOD")
snap=$(mx_snapshot "$CACHE")
mx_run tty "$KMFA" "${C[@]}"
CFILE=$(new_entry "$snap")
{ [ "$MX_RC" -eq 0 ] && [ -n "$CFILE" ] && mx_cache_valid "$CFILE"; } ||
	die "the second login failed (exit $MX_RC): $(tail -1 "$T/mx.err")"
cp "$CFILE" "$T/c.template"
requests=$(wc -l <"$MAIN_LOG")
mx_run plain "$KMFA" "${G[@]}"
check "setup: the good entry is served from the cache without a terminal" \
	'[ "$MX_RC" -eq 0 ] && [ "$(wc -l <"$MAIN_LOG")" -eq "$requests" ] &&
	 [ "$(jq -r .status.token "$T/mx.out")" = "$(jq -r .token "$GOOD")" ]'

# --- helpers the table uses ---------------------------------------------------
kmfa() { mx_run "$MODE" "$KMFA" "$@"; }
reset_c() {
	rm -rf "$CFILE" && cp "$T/c.template" "$CFILE" && chmod 600 "$CFILE"
}
age_c() { # the ID token in C has expired; its refresh token is still there
	jq '.token_exp = (now | floor) - 60' "$T/c.template" >"$CFILE" && chmod 600 "$CFILE"
}
CREDS=$T/creds.json
# creds TEXT: a credentials file holding TEXT, 0600.
creds() { rm -f "$CREDS" && (umask 077 && printf '%s' "$1" >"$CREDS"); }
# A credentials file that parses: one es256 credential (random public key).
good_creds() {
	local b; b() { head -c "$1" /dev/urandom | base64 -w0; }
	jq -n --arg salt "$(b 32)" --arg id "$(b 64)" --arg pk "$(b 64)" '
		{version: 1, hmac_salt: $salt, credentials: [{
		 name: "key-1", rp_id: "kubectl-mfa:", credential_id: $id,
		 cose_type: "es256", public_key: $pk, uv: "discouraged",
		 pin: false, hmac_secret: false, sign_count: 3,
		 created: "2026-01-31T12:00:00Z"}]}'
}
REQS=0
requests_since() { # LOG: request lines the stub logged during the row
	[ -f "$1" ] || { echo 0; return; }
	local n; n=$(wc -l <"$1")
	case $1 in "$MAIN_LOG") echo $((n - REQS)) ;; *) echo "$n" ;; esac
}
new_lines() { tail -n +"$((REQS + 1))" "$MAIN_LOG"; }
requests_other_than() { new_lines | jq -s --arg p "$1" '[.[] | select(.path != $p)] | length'; }
refused_refreshes() {
	new_lines | jq -s '[.[] | select(.grant_type == "refresh_token" and .answer == "invalid_grant")] | length'
}
# The gaps between the device authorization and the polls that followed
# it, in tenths of seconds, e.g. "10 60" for 1 s then 6 s.
poll_gaps() {
	new_lines | jq -rs '[.[] | select(.path == "/device/auth" or .path == "/token") | .time] |
		[range(1; length) as $i | ((.[$i] - .[$i - 1]) * 10 | round)] | map(tostring) | join(" ")'
}
creds_with() { creds "$(good_creds | jq -c "$1")"; }
# Nothing the IdP sent reaches the terminal as a control character.
no_controls() { ! grep -q $'[\e\r\a]' "$T/mx.err"; }
deep() { printf '%*s' "$1" '' | tr ' ' '['; }

# --- the table ------------------------------------------------------------------
# NAME | MODE | EXIT | LAST LINE CONTAINS | SETUP | COMMAND | EXTRA CHECK
# In COMMAND, "${S[@]}" is a get-token command line against the main stub
# for a configuration of the row's own (no entry cached); "${SB[@]}" the
# same without get-token, issuer and --timeout; "${G[@]}" the good
# configuration, whose token is cached and valid; "${C[@]}" the damaged
# one.  $MX_MS is the row's wall time in ms.
TABLE=$(cat <<'EOF'
discovery issuer mismatch | tty | 5 | issuer 'https://127.0.0.1:PORT/elsewhere' does not match | stub_scenario issuer_mismatch | kmfa "${S[@]}" | [ "$(requests_other_than /.well-known/openid-configuration)" -eq 0 ]
discovery answers 500 | tty | 5 | openid-configuration answered HTTP 500 | stub_scenario discovery_500 | kmfa "${S[@]}" |
discovery names plain-http endpoints off loopback | tty | 5 | token_endpoint 'http://192.0.2.1/token' must use https | stub_scenario endpoint_downgrade | kmfa "${S[@]}" --timeout 3s | [ $MX_MS -lt 2000 ]
http issuer off loopback (example.invalid), attended | tty | 2 | 'http://example.invalid' must use https | : | kmfa get-token --oidc-issuer-url http://example.invalid "${SB[@]}" |
http issuer off loopback (192.0.2.1), refused before any network | tty | 2 | 'http://192.0.2.1' must use https | : | kmfa get-token --oidc-issuer-url http://192.0.2.1 "${SB[@]}" --timeout 3s | [ $MX_MS -lt 1000 ]
http issuer off loopback, unattended: a configuration error, not a login to run | plain | 2 | must use https | : | kmfa get-token --oidc-issuer-url http://example.invalid "${SB[@]}" |
IdP down (connection refused) | tty | 5 | Connection refused | : | kmfa get-token --oidc-issuer-url https://127.0.0.1:1 "${SB[@]}" --timeout 3s |
TLS: certificate from an unknown CA | tty | 5 | TLS: certificate verify failed | : | kmfa "${S[@]}" --certificate-authority "$T/pki/other-ca.pem" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
TLS: certificate for another host | tty | 5 | no alternative certificate subject name matches | : | kmfa get-token --oidc-issuer-url "$WRONGHOST_URL" "${SB[@]}" --timeout 20s | [ "$(requests_since "$WRONGHOST_LOG")" -eq 0 ]
TLS: expired certificate | tty | 5 | certificate has expired | : | kmfa get-token --oidc-issuer-url "$EXPIRED_URL" "${SB[@]}" --timeout 20s | [ "$(requests_since "$EXPIRED_LOG")" -eq 0 ]
IdP accepts and never answers (device authorization) | tty | 5 | /device/auth did not answer within | stub_scenario hang | kmfa "${S[@]}" --timeout 3s | [ $MX_MS -lt 10000 ]
IdP accepts and never answers (token polls) | tty | 5 | /token did not answer within | stub_scenario hang_token | kmfa "${S[@]}" --timeout 3s | [ $MX_MS -lt 10000 ]
token endpoint answers 500 | tty | 5 | answered HTTP 500 | stub_scenario http_500 | kmfa "${S[@]}" |
token endpoint: truncated JSON | tty | 5 | not valid JSON | stub_scenario malformed_json | kmfa "${S[@]}" |
token endpoint: HTML instead of JSON | tty | 5 | not valid JSON | stub_scenario not_json | kmfa "${S[@]}" |
token endpoint: connection closed mid-body | tty | 5 | bytes remaining to read | stub_scenario truncated | kmfa "${S[@]}" |
token endpoint: 100000-deep nesting | tty | 5 | nested too deeply | stub_scenario deeply_nested | kmfa "${S[@]}" |
token endpoint: body over 1 MiB | tty | 5 | more than 1 MiB | stub_scenario huge_body | kmfa "${S[@]}" |
device authorization without device_code | tty | 5 | has no `device_code` | stub_scenario no_device_code | kmfa "${S[@]}" |
device authorization: absurd interval and negative expires_in | tty | 5 | expires_in -1 is not a positive number | stub_scenario absurd_interval | kmfa "${S[@]}" |
device authorization: negative interval means the default 5 s, not a busy loop | tty | 5 | not approved within the time allowed | : | kmfa get-token --oidc-issuer-url "$NEGINT_URL" "${SB[@]}" --timeout 3s | [ "$(_count "$NEGINT_LOG" /token)" -eq 0 ] && grep -q "warning: the identity provider asked to poll every -5 s" "$T/mx.err"
device authorization: interval of 3 years is capped, and --timeout still ends it | tty | 5 | not approved within the time allowed | : | kmfa get-token --oidc-issuer-url "$HUGEINT_URL" "${SB[@]}" --timeout 3s | [ "$(_count "$HUGEINT_LOG" /token)" -eq 0 ] && [ $MX_MS -lt 6000 ]
slow_down storm: each slow_down adds 5 s, until --timeout | tty | 5 | not approved within the time allowed | stub_scenario slow_down | kmfa "${S[@]}" --timeout 12s | gaps=$(poll_gaps); set -- $gaps; [ $# -eq 2 ] && [ "$1" -ge 10 ] && [ "$1" -le 13 ] && [ $(($2 - $1)) -ge 49 ] && [ $(($2 - $1)) -le 53 ]
device login denied | tty | 5 | denied | stub_scenario access_denied | kmfa "${S[@]}" |
device code expired at the IdP | tty | 5 | expired | stub_scenario expired_token | kmfa "${S[@]}" |
an OAuth error no RFC defines | tty | 5 | kmfa_unheard_of_error | stub_scenario unknown_error | kmfa "${S[@]}" |
terminal escapes in the user_code | tty | 5 | `user_code` is not a short printable code | stub_scenario escape_user_code | kmfa "${S[@]}" | no_controls
terminal escapes in the verification_uri | tty | 5 | verification_uri | stub_scenario escape_verification_uri | kmfa "${S[@]}" | no_controls
terminal escapes and a forged line in error_description | tty | 5 | denied | stub_scenario escape_error | kmfa "${S[@]}" | no_controls && ! grep -q '^kubectl-mfa: logged in as admin' "$T/mx.err"
ID token: alg none | tty | 5 | alg none is not allowed | stub_scenario alg_none | kmfa "${S[@]}" |
ID token: HS256 keyed with the RSA public key | tty | 5 | HS256 (HMAC) is not allowed | stub_scenario hs256_with_public_key | kmfa "${S[@]}" |
ID token: kid not in the JWKS | tty | 5 | no key in the issuer's JWKS for kid | stub_scenario unknown_kid | kmfa "${S[@]}" |
ID token: one flipped signature bit | tty | 5 | signature | stub_scenario bad_signature | kmfa "${S[@]}" |
ID token: wrong iss | tty | 5 | iss 'https://127.0.0.1:1' is not the issuer | stub_scenario wrong_iss | kmfa "${S[@]}" |
ID token: wrong aud | tty | 5 | aud does not contain the client id 'kubectl' | stub_scenario wrong_aud | kmfa "${S[@]}" |
ID token: aud extends the client id (kubectl-evil) | tty | 5 | aud does not contain the client id 'kubectl' | stub_scenario aud_extends | kmfa "${S[@]}" |
ID token: aud is the client id cut short (kubect) | tty | 5 | aud does not contain the client id 'kubectl' | stub_scenario aud_prefix | kmfa "${S[@]}" |
ID token: aud lists only near misses of the client id | tty | 5 | aud does not contain the client id 'kubectl' | stub_scenario aud_near_misses | kmfa "${S[@]}" |
ID token: expired | tty | 5 | ID token: expired at | stub_scenario expired | kmfa "${S[@]}" |
ID token: nbf an hour ahead | tty | 5 | not valid before | stub_scenario nbf_future | kmfa "${S[@]}" |
ID token: no exp | tty | 5 | has no exp | stub_scenario missing_exp | kmfa "${S[@]}" |
ID token: sub is a number | tty | 5 | sub is missing or not a non-empty string | stub_scenario non_string_sub | kmfa "${S[@]}" |
ID token: 100 KB payload | tty | 5 | longer than 65536 bytes | stub_scenario huge_payload | kmfa "${S[@]}" |
JWKS: RSA key of 1024 bits | tty | 5 | is 1024 bits; at least 2048 required | stub_scenario weak_rsa | kmfa "${S[@]}" |
JWKS: P-384 key under ES256 | tty | 5 | is on P-384; ES256 requires P-256 | stub_scenario wrong_curve | kmfa "${S[@]}" |
refresh needed, no refresh token, nobody present: no request at all | plain | 3 | nobody to log in | jq -c --argjson e "$(( $(date +%s) - 60 ))" 'del(.refresh) + {token_exp: $e}' "$T/c.template" >"$CFILE" | kmfa "${C[@]}" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
refresh answers invalid_grant, the device flow is denied: old entry kept | tty | 5 | denied | age_c; stub_scenario refresh_invalid_grant_denied | kmfa "${C[@]}" | [ "$(refused_refreshes)" -eq 1 ] && grep -q "refresh token was refused" "$T/mx.err"
cache entry: random bytes | plain | 3 | nobody to log in | head -c 700 /dev/urandom >"$CFILE" | kmfa "${C[@]}" | grep -q "warning: cache entry .* is damaged" "$T/mx.err"
cache entry: truncated | plain | 3 | nobody to log in | head -c 300 "$T/c.template" >"$CFILE" | kmfa "${C[@]}" | grep -q "is damaged" "$T/mx.err"
cache entry: version 2 | plain | 3 | nobody to log in | jq -c '.version = 2' "$T/c.template" >"$CFILE" | kmfa "${C[@]}" | grep -q "is damaged" "$T/mx.err"
cache entry: token is a number | plain | 3 | nobody to log in | jq -c '.token = 42' "$T/c.template" >"$CFILE" | kmfa "${C[@]}" | grep -q "is damaged" "$T/mx.err"
cache entry: world-readable | plain | 2 | accessible by group or others | chmod 644 "$CFILE" | kmfa "${C[@]}" |
cache entry: owned by another user | plain | 2 | belongs to another user | chown 65534 "$CFILE" | kmfa "${C[@]}" |
cache entry: a symbolic link to the good entry | plain | 2 | symbolic link | rm -f "$CFILE" && ln -s "$GOOD" "$CFILE" | kmfa "${C[@]}" |
cache entry: a FIFO | plain | 2 | not a regular file | rm -f "$CFILE" && mkfifo -m 600 "$CFILE" | MX_LIMIT=10 kmfa "${C[@]}" | [ $MX_MS -lt 5000 ]
cache entry: over 1 MiB | plain | 2 | larger than | printf '{"version":1,"pad":"%*s"}' 2000000 '' >"$CFILE" | kmfa "${C[@]}" |
cache entry: another configuration's valid entry under this name | plain | 3 | nobody to log in | cp "$GOOD" "$CFILE" | kmfa "${C[@]}" |
credentials: none enrolled | tty | 4 | no security key is enrolled | rm -f "$CREDS" | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
credentials: not JSON | tty | 4 | is not valid JSON | creds '{"version": 1, "credentials": [' | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
credentials: empty file | tty | 4 | credentials file | creds '' | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
credentials: version 7 | tty | 4 | has version 7 | creds_with '.version = 7' | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
credentials: credentials is an object | tty | 4 | is not an array | creds_with '.credentials = {}' | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
credentials: public key of the wrong length | tty | 4 | public_key has the wrong length | creds_with '.credentials[0].public_key = "AAAA"' | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
credentials: world-readable | tty | 4 | accessible by group or others | creds "$(good_creds)" && chmod 644 "$CREDS" | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
credentials: well-formed, but no key answers | tty | 4 | no security key answers at unix: | creds "$(good_creds)" | kmfa "${S[@]}" --fido2 required --fido2-credentials "$CREDS" --fido2-device "unix:$T/nokey.sock" | [ "$(requests_since "$MAIN_LOG")" -eq 0 ]
KUBERNETES_EXEC_INFO: not JSON | plain | 2 | KUBERNETES_EXEC_INFO is not a JSON object | : | KUBERNETES_EXEC_INFO='{not json' kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: an array | plain | 2 | KUBERNETES_EXEC_INFO is not a JSON object | : | KUBERNETES_EXEC_INFO='[]' kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: no apiVersion | plain | 2 | KUBERNETES_EXEC_INFO has no apiVersion | : | KUBERNETES_EXEC_INFO='{"kind":"ExecCredential"}' kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: apiVersion is a number | plain | 2 | apiVersion | : | KUBERNETES_EXEC_INFO='{"apiVersion":1}' kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: apiVersion v2 | plain | 2 | unsupported exec credential apiVersion | : | KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v2","kind":"ExecCredential"}' kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: kind Pod | plain | 2 | kind is not ExecCredential | : | KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"Pod"}' kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: 5000-deep nesting | plain | 2 | KUBERNETES_EXEC_INFO is not a JSON object | : | KUBERNETES_EXEC_INFO="$(deep 5000)" kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: over 64 KiB | plain | 2 | larger than 64 KiB | : | KUBERNETES_EXEC_INFO="$(deep 70000)" kmfa "${G[@]}" |
KUBERNETES_EXEC_INFO: trailing garbage after the object | plain | 2 | KUBERNETES_EXEC_INFO is not a JSON object | : | KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"} trailing' kmfa "${G[@]}" |
--skew -5s | plain | 2 | --skew: '-5s' is not a duration | : | kmfa "${G[@]}" --skew -5s |
--skew=-5s | plain | 2 | --skew: '-5s' is not a duration | : | kmfa "${G[@]}" --skew=-5s |
--timeout 0 | plain | 2 | --timeout must be more than 0s | : | kmfa "${G[@]}" --timeout 0 |
--timeout 0s | plain | 2 | --timeout must be more than 0s | : | kmfa "${G[@]}" --timeout 0s |
--timeout -1s | plain | 2 | --timeout: '-1s' is not a duration | : | kmfa "${G[@]}" --timeout -1s |
--timeout that overflows | plain | 2 | is not a duration | : | kmfa "${G[@]}" --timeout 99999999999999999999h |
--session-max abc | plain | 2 | --session-max: 'abc' is not a duration | : | kmfa "${G[@]}" --session-max abc |
--token-cache-storage floppy | plain | 2 | --token-cache-storage takes auto, keyring, disk or none | : | kmfa "${G[@]}" --token-cache-storage floppy |
--fido2 maybe | plain | 2 | --fido2 takes required or off | : | kmfa "${G[@]}" --fido2 maybe |
an unknown flag | plain | 2 | unknown option '--oidc-issuer' | : | kmfa "${G[@]}" --oidc-issuer x |
a flag without its value | plain | 2 | --timeout needs a value | : | kmfa "${G[@]}" --timeout |
an empty issuer | plain | 2 | --oidc-issuer-url needs a non-empty value | : | kmfa get-token --oidc-issuer-url= "${SB[@]}" |
--oidc-issuer-url missing | plain | 2 | --oidc-issuer-url and --oidc-client-id are required | : | kmfa get-token --oidc-client-id kubectl --fido2 off --token-cache-storage disk |
--oidc-client-id missing | plain | 2 | --oidc-issuer-url and --oidc-client-id are required | : | kmfa get-token --oidc-issuer-url "$MAIN" --fido2 off --token-cache-storage disk |
--oidc-auth-request-extra-params without = | plain | 2 | takes KEY=VALUE | : | kmfa "${G[@]}" --oidc-auth-request-extra-params novalue |
a stray positional argument | plain | 2 | unexpected argument 'extra' | : | kmfa "${G[@]}" extra |
an unknown command | plain | 2 | unknown command 'get-tokens' | : | kmfa get-tokens "${B[@]}" |
--oidc-issuer-url twice: the last one counts, and it has no token | plain | 3 | no valid token for https://127.0.0.1:1 | : | kmfa "${G[@]}" --oidc-issuer-url https://127.0.0.1:1 |
EOF
)

trim() { local s=$1; s=${s#"${s%%[! ]*}"}; printf '%s' "${s%"${s##*[! ]}"}"; }
N=0
while IFS= read -r row; do
	[ -n "$row" ] || continue
	IFS='|' read -r name MODE want msg setup cmd extra <<<"$row"
	name=$(trim "$name") MODE=$(trim "$MODE") want=$(trim "$want")
	msg=$(trim "$msg") setup=$(trim "$setup") cmd=$(trim "$cmd") extra=$(trim "$extra")
	msg=${msg//PORT/${MAIN##*:}}
	N=$((N + 1))
	SB=("${B[@]}" --oidc-extra-scope "case$N")
	S=(get-token --oidc-issuer-url "$MAIN" "${SB[@]}" --timeout 20s)
	stub_scenario ok || die "the stub does not answer /control"
	reset_c
	if ! eval "$setup"; then
		not_ok "$name" "setup failed: $setup"
		continue
	fi
	before=$(mx_snapshot "$CACHE" "$MIRROR")
	REQS=$(wc -l <"$MAIN_LOG")
	eval "$cmd"
	after=$(mx_snapshot "$CACHE" "$MIRROR")
	last=$(mx_last_line "$T/mx.err")
	why=()
	[ "$MX_RC" = "$want" ] || why+=("exit $MX_RC, want $want")
	[ ! -s "$T/mx.out" ] || why+=("stdout: $(head -c 80 "$T/mx.out")")
	case $last in
	"kubectl-mfa: warning:"*) why+=("the last line is a warning") ;;
	"kubectl-mfa: "?*) ;;
	*) why+=("the last line is not a kubectl-mfa: line") ;;
	esac
	[ -z "$(tail -c 1 "$T/mx.err")" ] || why+=("stderr does not end with a newline")
	contains "$last" "$msg" || why+=("the last line lacks '$msg'")
	[ -z "${MX_SHOW:-}" ] || echo "# $name: $last"
	if [ "$MODE" = plain ]; then
		[ "$(grep -vc '^kubectl-mfa: ' "$T/mx.err")" -eq 0 ] ||
			why+=("a stderr line without the kubectl-mfa: prefix")
		[ "$(grep -vc '^kubectl-mfa: warning: ' "$T/mx.err")" -eq 1 ] ||
			why+=("more than one line other than warnings")
	fi
	[ "$before" = "$after" ] || why+=("the cache changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')")
	[ "$(sha256sum <"$GOOD")" = "$GOOD_SUM" ] || why+=("the good entry changed")
	[ -z "$(find "$CACHE" -name '*.tmp.*')" ] || why+=("a *.tmp.* file is left")
	if [ -n "$extra" ] && ! eval "$extra"; then why+=("extra check failed: $extra"); fi
	if [ ${#why[@]} -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name" "$(IFS=';'; echo "${why[*]}") [last line: $last] (${MX_MS} ms)"
	fi
done <<<"$TABLE"
reset_c
check "the table has at least 40 rows ($N)" [ "$N" -ge 40 ]

# A cached token is printed as JSON whatever it holds.
odd='x"y\\z</script>'$'\x01\n'
jq -c --arg t "$odd" '.token = $t' "$T/c.template" >"$CFILE"
mx_run plain "$KMFA" "${C[@]}"
check "a cached token with quotes, a backslash and controls comes out as valid JSON" \
	'[ "$MX_RC" -eq 0 ] && jq -e --arg t "$odd" ".status.token == \$t" "$T/mx.out" >/dev/null'
reset_c

# The refresh rows' good counterpart: invalid_grant with a person present
# falls back to a device flow, and only its success replaces the entry.
age_c
old_token=$(jq -r .token "$CFILE")
stub_scenario refresh_invalid_grant
REQS=$(wc -l <"$MAIN_LOG")
mx_run tty "$KMFA" "${C[@]}"
check "refresh invalid_grant, attended: a device flow logs in again and replaces the entry" \
	'[ "$MX_RC" -eq 0 ] && [ "$(new_lines | jq -s "[.[] | select(.path == \"/device/auth\")] | length")" -eq 1 ] &&
	 mx_cache_valid "$CFILE" && [ "$(jq -r .token "$CFILE")" != "$old_token" ] &&
	 [ "$(jq -r .status.token "$T/mx.out")" = "$(jq -r .token "$CFILE")" ]'
check "after all rows the good entry is still served, unchanged" \
	'[ "$(sha256sum <"$GOOD")" = "$GOOD_SUM" ] && mx_run plain "$KMFA" "${G[@]}" &&
	 [ "$MX_RC" -eq 0 ] && [ "$(jq -r .status.token "$T/mx.out")" = "$(jq -r .token "$GOOD")" ]'
finish

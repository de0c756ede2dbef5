# Self-test of the test components (test/servers, test/components): before
# any plugin test trusts them, show with curl and real kubectl alone that
# the IdP runs a whole device flow with refresh, that the API server accepts
# its ID tokens and nothing else, and that the stub IdP answers.
. "$(dirname "$0")/../lib.sh"

jqe() { jq -e "$@" >/dev/null; }
curl_ca() { curl -sS --max-time 10 --cacert "$T/pki/ca.pem" "$@"; }
DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code

# --- the IdP ----------------------------------------------------------------
start_idp
curl_ca "$IDP_URL/.well-known/openid-configuration" >"$T/disc.json"
check "idp: discovery over https with the run's CA" \
	[ "$(jq -r .issuer "$T/disc.json")" = "$IDP_URL" ]
check "idp: discovery advertises device authorization and revocation" \
	jqe '(.device_authorization_endpoint | endswith("/device/auth")) and
	       (.revocation_endpoint | type == "string") and
	       (.id_token_signing_alg_values_supported | index("RS256"))' "$T/disc.json"
check "idp: a client trusting another CA is refused" \
	eval '! curl -s --max-time 5 --cacert "$T/pki/other-ca.pem" -o /dev/null "$IDP_URL/jwks"'
check "pki: expired and wrong-host certificates fail verification" \
	eval '! openssl verify -CAfile "$T/pki/ca.pem" "$T/pki/expired.pem" >/dev/null 2>&1 &&
	      ! openssl verify -CAfile "$T/pki/ca.pem" -verify_ip 127.0.0.1 "$T/pki/wronghost.pem" >/dev/null 2>&1 &&
	        openssl verify -CAfile "$T/pki/ca.pem" -verify_ip 127.0.0.1 "$T/pki/server.pem" >/dev/null 2>&1'

# device_flow_start [client_id]: POST the device authorization request.
device_flow_start() {
	curl_ca -d "client_id=${1:-kubectl}" --data-urlencode "scope=openid offline_access" \
		"$IDP_URL/device/auth" >"$T/da.json"
}
poll() { # DEVICE_CODE -> $T/tok.json
	curl_ca -d client_id=kubectl -d "grant_type=$DEVICE_GRANT" \
		--data-urlencode "device_code=$1" "$IDP_URL/token" >"$T/tok.json"
}

device_flow_start
check "idp: device authorization answers with interval 1 (added by middleware)" \
	jqe '.interval == 1 and (.device_code | length > 0) and
	       (.verification_uri_complete | contains("/device?user_code="))' "$T/da.json"
dc=$(jq -r .device_code "$T/da.json")
poll "$dc"
check "idp: polling before approval: authorization_pending" \
	jqe '.error == "authorization_pending"' "$T/tok.json"

check "approve_device: a person approves with the verification_uri_complete" \
	approve_device "$(jq -r .verification_uri_complete "$T/da.json")" alice
poll "$dc"
check "idp: after approval the token endpoint issues id_token and refresh_token" \
	jqe '(.id_token | length > 0) and (.refresh_token | length > 0) and
	       (.scope | contains("offline_access"))' "$T/tok.json"
idt=$(jq -r .id_token "$T/tok.json")
rt=$(jq -r .refresh_token "$T/tok.json")
check "idp: the ID token is RS256 with sub, aud and iss as configured" \
	jqe --arg iss "$IDP_URL" '.sub == "alice" and .aud == "kubectl" and .iss == $iss and
	       (.exp - .iat == 300)' <<<"$(jwt_json "$idt")"
check "idp: the ID token header names RS256 and a kid" \
	jqe '.alg == "RS256" and (.kid | length > 0)' <<<"$(jwt_json "$idt" 1)"
check "idp: polling again after success is refused" \
	eval 'poll "$dc" && jq -e ".error == \"invalid_grant\"" "$T/tok.json" >/dev/null'

# That poll revoked the first grant (oidc-provider treats a reused device
# code as a replay), so run a second flow for the refresh checks.
device_flow_start
approve_device "$(jq -r .user_code "$T/da.json")" bob ||
	not_ok "approve_device: approval by user code alone"
poll "$(jq -r .device_code "$T/da.json")"
idt=$(jq -r .id_token "$T/tok.json")
rt=$(jq -r .refresh_token "$T/tok.json")
check "approve_device: a bare user code works too; sub is the login" \
	[ "$(jwt_json "$idt" | jq -r .sub)" = bob ]
curl_ca -d client_id=kubectl -d grant_type=refresh_token \
	--data-urlencode "refresh_token=$rt" "$IDP_URL/token" >"$T/ref.json"
idt2=$(jq -r .id_token "$T/ref.json")
rt2=$(jq -r .refresh_token "$T/ref.json")
# (Not compared with the first: RS256 is deterministic, so an ID token made
# in the same second with the same claims is the same string.)
check "idp: the refresh grant returns an ID token for the same sub" \
	eval '[ -n "$idt2" ] && [ "$idt2" != null ] &&
	      [ "$(jwt_json "$idt2" | jq -r .sub)" = bob ]'
check "idp: refresh tokens of a public client rotate" \
	eval '[ -n "$rt2" ] && [ "$rt2" != null ] && [ "$rt2" != "$rt" ]'
check "idp_count: counts token requests by grant type" \
	eval '[ "$(idp_count /token device_code)" = 4 ] &&
	      [ "$(idp_count /token refresh_token)" = 1 ] &&
	      [ "$(idp_count /device/auth)" = 2 ]'

# --- the API server -----------------------------------------------------------
start_apiserver
# flip_sig TOKEN: the same token with one signature character changed.
flip_sig() {
	local sig=${1##*.} c
	c=${sig:5:1}
	[ "$c" = A ] && c=B || c=A
	printf '%s.%s%s%s' "${1%.*}" "${sig:0:5}" "$c" "${sig:6}"
}
api_get() { # TOKEN PATH
	curl_ca -o "$T/api.json" -w '%{http_code}' -H "Authorization: Bearer $1" "$API_URL$2"
}
check "apiserver: accepts the IdP's refreshed ID token on /version" \
	eval '[ "$(api_get "$idt2" /version)" = 200 ] &&
	      jq -e ".gitVersion == \"v1.30.0\"" "$T/api.json" >/dev/null'
check "apiserver: rejects a garbage token with a 401 Status" \
	eval '[ "$(api_get garbage.token.here /version)" = 401 ] &&
	      jq -e ".kind == \"Status\" and .code == 401" "$T/api.json" >/dev/null'
check "apiserver: rejects a request without a token" \
	[ "$(curl_ca -o /dev/null -w '%{http_code}' "$API_URL/version")" = 401 ]
check "apiserver: rejects a token whose signature was altered" \
	[ "$(api_get "$(flip_sig "$idt2")" /version)" = 401 ]
check "apiserver: logs authorized and user per request" \
	eval '[ "$(jq -s "map(select(.authorized)) | length" "$API_LOG")" = 1 ] &&
	      [ "$(jq -s "map(select(.authorized | not)) | length" "$API_LOG")" = 3 ] &&
	      jq -se ".[0].user == \"bob\"" "$API_LOG" >/dev/null'

# A different audience is not for this API server.
start_apiserver --client-id someone-else
check "apiserver: rejects a token for another audience" \
	[ "$(api_get "$idt2" /version)" = 401 ]

# --- real kubectl ----------------------------------------------------------
start_apiserver
write_kubeconfig "$T/kc-token" "$API_URL" v1 --
kc() { kubectl --kubeconfig "$T/kc-token" --cache-dir "$T/kcache" --token "$idt2" "$@"; }
check "kubectl: get --raw /version with the ID token as a static token" \
	eval 'kc get --raw /version 2>"$T/kerr" | jq -e ".major == \"1\"" >/dev/null'
check "kubectl: get namespaces lists default" \
	eval 'kc get namespaces -o name 2>>"$T/kerr" | grep -qx namespace/default'
check "kubectl: a bad token is refused" \
	eval '! kubectl --kubeconfig "$T/kc-token" --cache-dir "$T/kcache" --token nope \
		get --raw /version >/dev/null 2>&1'

# A stand-in exec plugin: answers with the token in $T/token, in the
# apiVersion kubectl asks for, and records its arguments.
(umask 077 && printf '%s' "$idt2" >"$T/token")
cat >"$T/fake-plugin" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/fake-plugin.args"
printf '%s' "\$KUBERNETES_EXEC_INFO" | jq -c --rawfile t "$T/token" \\
	'{apiVersion, kind: "ExecCredential", status: {token: \$t}}'
EOF
chmod +x "$T/fake-plugin"
for v in v1 v1beta1; do
	write_kubeconfig "$T/kc-exec-$v" "$API_URL" "$v" -- "$T/fake-plugin" get-token "a b"
	check "write_kubeconfig $v: kubectl runs the exec entry and is let in" \
		eval 'kubectl --kubeconfig "$T/kc-exec-$v" --cache-dir "$T/kcache" \
			get namespaces -o name 2>>"$T/kerr" | grep -qx namespace/default &&
		      [ "$(cat "$T/fake-plugin.args")" = "$(printf "get-token\na b")" ]'
done
check "write_kubeconfig: exec entry with command, args and apiVersion" \
	jqe --arg cmd "$T/fake-plugin" '.users[0].user.exec | .command == $cmd and
	       .args == ["get-token", "a b"] and
	       .apiVersion == "client.authentication.k8s.io/v1beta1" and
	       .interactiveMode == "IfAvailable" and .provideClusterInfo == false' "$T/kc-exec-v1beta1"

# --- IdP options ------------------------------------------------------------
start_idp --amr hwk --acr urn:kmfa:test --id-token-ttl 60 --client-id other
device_flow_start other
approve_device "$(jq -r .verification_uri_complete "$T/da.json")" carol ||
	not_ok "approve_device at a second IdP"
curl_ca -d client_id=other -d "grant_type=$DEVICE_GRANT" \
	--data-urlencode "device_code=$(jq -r .device_code "$T/da.json")" \
	"$IDP_URL/token" >"$T/tok.json"
check "idp: --amr/--acr/--id-token-ttl/--client-id shape the ID token" \
	jqe '.amr == ["hwk"] and .acr == "urn:kmfa:test" and .aud == "other" and
	       .sub == "carol" and (.exp - .iat == 60)' <<<"$(jwt_json "$(jq -r .id_token "$T/tok.json")")"
curl_ca -d client_id=other -d grant_type=refresh_token \
	--data-urlencode "refresh_token=$(jq -r .refresh_token "$T/tok.json")" \
	"$IDP_URL/token" >"$T/ref.json"
check "idp: refreshed ID tokens keep amr and acr" \
	jqe '.amr == ["hwk"] and .acr == "urn:kmfa:test"' <<<"$(jwt_json "$(jq -r .id_token "$T/ref.json")")"

start_idp --no-refresh
device_flow_start
approve_device "$(jq -r .user_code "$T/da.json")" ||
	not_ok "approve_device at a third IdP"
poll "$(jq -r .device_code "$T/da.json")"
check "idp: --no-refresh issues no refresh token, even for offline_access" \
	jqe 'has("id_token") and (has("refresh_token") | not)' "$T/tok.json"

# --- browser-approve.sh -------------------------------------------------------
device_flow_start
check "browser-approve.sh: approves and writes nothing to stdout" \
	eval '[ -z "$(KMFA_TEST_CA=$T/pki/ca.pem KMFA_TEST_LOGIN=dave \
		KMFA_TEST_BROWSER_LOG=$T/b2.log \
		"$KMFA_BROWSER" "$(jq -r .verification_uri_complete "$T/da.json")")" ] &&
	      grep -q "approved as dave" "$T/b2.log"'
check "browser-approve.sh: fails on a code it cannot approve" \
	eval '! KMFA_TEST_CA=$T/pki/ca.pem "$KMFA_BROWSER" "$IDP_URL/device?user_code=XXXX-XXXX" 2>/dev/null'

# --- the stub IdP -------------------------------------------------------------
start_stub_idp ok
check "stub: scenario ok serves discovery with its own issuer" \
	eval '[ "$(curl_ca "$STUB_URL/.well-known/openid-configuration" | jq -r .issuer)" = "$STUB_URL" ]'

# --- no secrets in logs ---------------------------------------------------------
check "logs: no token, refresh token or device code in any log" \
	eval '! grep -rqF -e "$idt" -e "$idt2" -e "$rt" -e "$rt2" -e "$dc" "$T"/*.log "$T"/*.jsonl'

finish

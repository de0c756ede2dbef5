# Self-test of the hostile stub IdP (test/servers/stub-idp.mjs): every
# scenario does what its name says, seen with curl, and the API server
# (pointed at the stub) accepts the stub's good tokens and rejects each bad
# one, so both sides of a plugin test are known to be right.
. "$(dirname "$0")/../lib.sh"

jqe() { jq -e "$@" >/dev/null; }
curl_ca() { curl -sS --max-time 10 --cacert "$T/pki/ca.pem" "$@"; }
DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code

start_stub_idp ok
STUB1_URL=$STUB_URL STUB1_LOG=$STUB_LOG
start_apiserver --issuer "$STUB_URL"
start_apiserver --issuer "$STUB_URL" --required-claim amr=hwk
API_AMR_URL=$API_URL
start_apiserver --issuer "$STUB_URL"

# stub_device_auth: POST the device authorization request -> $T/da.json
stub_device_auth() {
	curl_ca -d client_id=kubectl --data-urlencode "scope=openid offline_access" \
		"$STUB_URL/device/auth" >"$T/da.json"
}
# stub_poll: one token request for the last device code -> $T/tok.json
stub_poll() {
	curl_ca -d client_id=kubectl -d "grant_type=$DEVICE_GRANT" \
		--data-urlencode "device_code=$(jq -r .device_code "$T/da.json")" \
		"$STUB_URL/token" >"$T/tok.json"
}
# stub_login: a device flow, polling until the answer is not pending (the
# stub enforces no interval, so no waiting); $T/tok.json holds the answer.
stub_login() {
	stub_device_auth
	for _ in 1 2 3 4 5; do
		stub_poll
		jqe '.error == "authorization_pending" or .error == "slow_down"' "$T/tok.json" ||
			return 0
	done
	return 1
}
stub_refresh() { # -> $T/ref.json
	curl_ca -d client_id=kubectl -d grant_type=refresh_token \
		--data-urlencode "refresh_token=$(jq -r .refresh_token "$T/tok.json")" \
		"$STUB_URL/token" >"$T/ref.json"
}
idt() { jq -r .id_token "$T/tok.json"; }
api_code() { # URL TOKEN
	curl_ca -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "$1/version"
}

# --- ok and the good variants -------------------------------------------------
stub_device_auth
check "stub ok: device authorization with device_code, user_code and interval" \
	jqe '(.device_code | length > 20) and (.user_code | test("^[A-Z]{4}-[A-Z]{4}$")) and
	     .interval == 1 and .expires_in == 600 and
	     (.verification_uri_complete | contains("/device?user_code="))' "$T/da.json"
stub_poll
check "stub ok: first poll is authorization_pending" \
	jqe '.error == "authorization_pending"' "$T/tok.json"
stub_poll
check "stub ok: second poll gives an ID token and a refresh token" \
	jqe '(.id_token | length > 0) and (.refresh_token | length > 0) and .token_type == "Bearer"' "$T/tok.json"
check "stub ok: RS256, exp in 10 minutes, iss/aud/sub/amr as expected" \
	eval 'jwt_json "$(idt)" 1 | jqe ".alg == \"RS256\" and (.kid | startswith(\"rsa-\"))" &&
	      jwt_json "$(idt)" | jqe --arg iss "$STUB_URL" ".iss == \$iss and .aud == \"kubectl\" and
	        .sub == \"alice\" and .exp - .iat == 600 and .amr == [\"hwk\", \"mfa\"]"'
check "apiserver: accepts the stub's ok token" [ "$(api_code "$API_URL" "$(idt)")" = 200 ]
check "apiserver --required-claim amr=hwk: accepts a token with amr hwk" \
	[ "$(api_code "$API_AMR_URL" "$(idt)")" = 200 ]
stub_refresh
check "stub ok: refresh gives a new refresh token and an ID token" \
	jqe --arg old "$(jq -r .refresh_token "$T/tok.json")" \
	'(.id_token | length > 0) and .refresh_token != $old' "$T/ref.json"
check "stub: revocation answers 200" \
	[ "$(curl_ca -o /dev/null -w '%{http_code}' -d client_id=kubectl \
		--data-urlencode "token=$(jq -r .refresh_token "$T/ref.json")" "$STUB_URL/revoke")" = 200 ]
check "stub: discovery advertises the endpoints" \
	eval 'curl_ca "$STUB_URL/.well-known/openid-configuration" |
	      jqe --arg u "$STUB_URL" ".issuer == \$u and .device_authorization_endpoint == \"\(\$u)/device/auth\" and
	        .token_endpoint == \"\(\$u)/token\" and .revocation_endpoint == \"\(\$u)/revoke\""'
check "stub: JWKS has an RSA 2048 and an EC P-256 key" \
	eval 'curl_ca "$STUB_URL/jwks" | jqe "[.keys[] | .kty + \":\" + (.crv // (.n | length | tostring))] | sort == [\"EC:P-256\", \"RSA:342\"]"'

for s in es256 ps256; do
	stub_scenario "$s" || not_ok "stub_scenario $s"
	stub_login
	check "stub $s: the API server accepts a ${s^^} token" \
		eval '[ "$(jwt_json "$(idt)" 1 | jq -r .alg)" = "${s^^}" ] &&
		      [ "$(api_code "$API_URL" "$(idt)")" = 200 ]'
done

# --- bad ID tokens: the API server must refuse each ------------------------------
declare -A shape=(
	[wrong_iss]='.iss != $u'
	[wrong_aud]='.aud == "someone-else"'
	[aud_extends]='.aud == "kubectl-evil"'
	[aud_prefix]='.aud == "kubect"'
	[aud_near_misses]='.aud == ["kubectl-evil", "kubect", "KUBECTL", " kubectl"]'
	[expired]='.exp < now'
	[nbf_future]='.nbf > now'
	[missing_exp]='has("exp") | not'
	[non_string_sub]='.sub | type == "number"'
	[bad_signature]='.sub == "alice"'
	[unknown_kid]='.sub == "alice"'
	[weak_rsa]='.sub == "alice"'
	[alg_none]='.sub == "alice"'
	[hs256_with_public_key]='.sub == "alice"'
)
for s in "${!shape[@]}"; do
	stub_scenario "$s" || not_ok "stub_scenario $s"
	stub_login
	check "stub $s: token shaped so and refused by the API server" \
		eval 'jwt_json "$(idt)" | jqe --arg u "$STUB_URL" "${shape[$s]}" &&
		      [ "$(api_code "$API_URL" "$(idt)")" = 401 ]'
done
# One flipped bit, judged by Node's crypto rather than by the plugin or the
# API server: the token does not verify, and flipping the bit back makes it.
jws_check() { idt | "$KMFA_NODE" "$KMFA_SERVERS/jws-check.mjs" "$T/jwks.json"; }
stub_scenario bad_signature && stub_login && curl_ca "$STUB_URL/jwks" >"$T/jwks.json"
check "stub bad_signature: RS256 by the published key, exactly one signature bit flipped" \
	eval 'jws_check | jqe ".alg == \"RS256\" and (.kid | startswith(\"rsa-\")) and
	      .verifies == false and .verifies_with_middle_bit_flipped == true"'
stub_scenario ok && stub_login
check "jws-check.mjs: the stub's ok token verifies, and not with a bit flipped" \
	eval 'jws_check | jqe ".verifies == true and .verifies_with_middle_bit_flipped == false"'
stub_scenario alg_none && stub_login
check "stub alg_none: header alg none, empty signature" \
	eval 'jwt_json "$(idt)" 1 | jqe ".alg == \"none\"" && [ "$(idt | cut -d. -f3)" = "" ]'
stub_scenario hs256_with_public_key && stub_login
check "stub hs256_with_public_key: HS256 naming the RSA key's kid" \
	eval 'jwt_json "$(idt)" 1 | jqe ".alg == \"HS256\" and (.kid | startswith(\"rsa-\"))"'
stub_scenario weak_rsa && stub_login
check "stub weak_rsa: signed by a 1024-bit key the JWKS now publishes" \
	eval 'kid=$(jwt_json "$(idt)" 1 | jq -r .kid) &&
	      curl_ca "$STUB_URL/jwks" | jqe --arg k "$kid" ".keys[] | select(.kid == \$k) | .n | length == 171"'
stub_scenario unknown_kid && stub_login
check "stub unknown_kid: the kid is not in the JWKS" \
	eval 'kid=$(jwt_json "$(idt)" 1 | jq -r .kid) &&
	      curl_ca "$STUB_URL/jwks" | jqe --arg k "$kid" "[.keys[] | select(.kid == \$k)] | length == 0"'
stub_scenario huge_payload && stub_login
check "stub huge_payload: an ID token over 100 KB" [ "$(idt | wc -c)" -gt 102400 ]
stub_scenario amr_missing && stub_login
check "stub amr_missing: no amr; refused by --required-claim amr=hwk, fine without" \
	eval 'jwt_json "$(idt)" | jqe "has(\"amr\") | not" &&
	      [ "$(api_code "$API_AMR_URL" "$(idt)")" = 401 ] &&
	      [ "$(api_code "$API_URL" "$(idt)")" = 200 ]'

# --- device flow errors --------------------------------------------------------
for s in access_denied expired_token server_error; do
	stub_scenario "$s" && stub_device_auth && stub_poll
	check "stub $s: the first poll answers $s" jqe --arg e "$s" '.error == $e' "$T/tok.json"
done
stub_scenario unknown_error && stub_device_auth && stub_poll
check "stub unknown_error: an error code no RFC defines" \
	jqe '.error | IN("authorization_pending", "slow_down", "access_denied", "expired_token") | not' "$T/tok.json"
stub_scenario slow_down && stub_device_auth
n0=$(stub_count /token device_code)
stub_poll; a=$(jq -r .error "$T/tok.json")
stub_poll; b=$(jq -r .error "$T/tok.json")
stub_poll
check "stub slow_down: slow_down twice, then tokens; every poll logged with its time" \
	eval '[ "$a $b" = "slow_down slow_down" ] && jqe ".id_token | length > 0" "$T/tok.json" &&
	      [ $(( $(stub_count /token device_code) - n0 )) = 3 ] &&
	      jq -s "[.[] | select(.path == \"/token\" and .scenario == \"slow_down\") | .time] |
	        length == 3 and all(type == \"number\")" "$STUB_LOG" | grep -qx true'
stub_scenario no_device_code && stub_device_auth
check "stub no_device_code: the device authorization answer lacks device_code" \
	jqe '(has("device_code") | not) and has("user_code")' "$T/da.json"
stub_scenario absurd_interval && stub_device_auth
check "stub absurd_interval: interval 100000000, negative expires_in" \
	jqe '.interval == 100000000 and .expires_in < 0' "$T/da.json"
stub_scenario issuer_mismatch
check "stub issuer_mismatch: discovery names another issuer" \
	eval '[ "$(curl_ca "$STUB_URL/.well-known/openid-configuration" | jq -r .issuer)" != "$STUB_URL" ]'
stub_scenario no_device_endpoint
check "stub no_device_endpoint: discovery lacks device_authorization_endpoint, keeps the rest" \
	eval 'curl_ca "$STUB_URL/.well-known/openid-configuration" |
	      jqe "(has(\"device_authorization_endpoint\") | not) and .token_endpoint and .jwks_uri"'

# --- hostile token endpoint bodies -----------------------------------------------
stub_scenario ok && stub_device_auth
tok_raw() { # -> prints HTTP code, body in $T/raw
	curl_ca -o "$T/raw" -w '%{http_code}' -d client_id=kubectl -d "grant_type=$DEVICE_GRANT" \
		--data-urlencode "device_code=$(jq -r .device_code "$T/da.json")" "$STUB_URL/token"
}
stub_scenario http_500
check "stub http_500: the token endpoint answers 500" [ "$(tok_raw)" = 500 ]
stub_scenario malformed_json
check "stub malformed_json: 200 with a body that is not JSON" \
	eval '[ "$(tok_raw)" = 200 ] && ! jq . "$T/raw" >/dev/null 2>&1'
stub_scenario huge_body
check "stub huge_body: a body over 1 MiB" \
	eval '[ "$(tok_raw)" = 200 ] && [ "$(wc -c <"$T/raw")" -gt 1048576 ]'
stub_scenario deeply_nested
check "stub deeply_nested: JSON nested 100000 deep" \
	eval '[ "$(tok_raw)" = 200 ] && [ "$(head -c 12 "$T/raw")" = "{\"id_token\":" ] &&
	      [ "$(tr -cd "[" <"$T/raw" | wc -c)" = 100000 ]'

# --- hangs: bounded by the client's own timeout ------------------------------------
stub_scenario hang_token && stub_device_auth
check "stub hang_token: device authorization answers, the token request never does" \
	eval 'jqe ".device_code" "$T/da.json" &&
	      { curl -s --max-time 1 --cacert "$T/pki/ca.pem" -d client_id=kubectl \
		-d grant_type=x "$STUB_URL/token"; [ $? = 28 ]; }'
stub_scenario hang
check "stub hang: the device authorization request is never answered" \
	eval '{ curl -s --max-time 1 --cacert "$T/pki/ca.pem" -d client_id=kubectl \
		"$STUB_URL/device/auth"; [ $? = 28 ]; }'

# --- refresh failures after a good login ------------------------------------------
stub_scenario ok && stub_login
stub_scenario refresh_invalid_grant && stub_refresh
check "stub refresh_invalid_grant: good login, then refresh answers invalid_grant" \
	jqe '.error == "invalid_grant"' "$T/ref.json"
stub_scenario ok && stub_login
stub_scenario no_id_token_on_refresh && stub_refresh
check "stub no_id_token_on_refresh: refresh answer has tokens but no id_token" \
	jqe '(has("id_token") | not) and (.access_token | length > 0)' "$T/ref.json"

# --- TLS failures: a later --cert/--key overrides the run's server certificate --
for c in expired wronghost; do
	start_stub_idp ok --cert "$T/pki/$c.pem" --key "$T/pki/$c.key"
	check "stub with the $c certificate: refused by a client trusting the CA" \
		eval '! curl -s --max-time 5 --cacert "$T/pki/ca.pem" -o /dev/null \
			"$STUB_URL/.well-known/openid-configuration" &&
		      curl -s --max-time 5 -k -o /dev/null "$STUB_URL/.well-known/openid-configuration"'
done
start_stub_idp ok
check "stub with the server certificate: refused by a client trusting another CA" \
	eval '! curl -s --max-time 5 --cacert "$T/pki/other-ca.pem" -o /dev/null "$STUB_URL/jwks"'
STUB_URL=$STUB1_URL STUB_LOG=$STUB1_LOG

# --- control and counting ------------------------------------------------------------
check "stub_scenario: an unknown scenario is refused" eval '! stub_scenario no_such_thing'
check "stub_count: counts requests per endpoint and grant type" \
	eval '[ "$(stub_count /device/auth)" = "$(jq -s "map(select(.path == \"/device/auth\")) | length" "$STUB_LOG")" ] &&
	      [ "$(stub_count /token refresh_token)" = 3 ]'
check "logs: the stub's log holds no token" \
	eval '! grep -qF -e "$(idt)" -e "$(jq -r .refresh_token "$T/tok.json")" "$STUB_LOG"'

finish

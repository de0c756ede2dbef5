#!/usr/bin/env bash
# Identity providers, one profile each (test/servers/stub-idp.mjs --profile:
# Google, Entra ID, Okta, Keycloak, Dex, Auth0, Authentik, Zitadel, Ping),
# each answering with that provider's documented quirks; for each the whole
# story through real kubectl: setup's check, a touch of the software key
# and a device login, a cache hit, a refresh, logout.  Then the quirks that
# end a login: Entra's declined login and multi-tenant issuer, Zitadel's
# old device grant without an ID token, Auth0's expiry, an Okta refresh
# without an ID token in ID-token mode, a revocation endpoint a public
# client cannot use.  The sources of each quirk are in the stub's PROFILES.
. "$(dirname "$0")/../lib.sh"

start_softkey key --mode touch,nohmac; KEY=$SOFTKEY_DEV
CACHE=$XDG_CACHE_HOME/kubectl-mfa

expect_exit 0 "$KMFA" enroll --name key --fido2-device "$KEY"
[ "$RC" -eq 0 ] || die "enroll failed: $ERR"

# Run kubectl with a terminal; stdout and stderr kept apart.
kc() {
	local cfg=$1; shift
	script -qec "$(printf '%q ' kubectl --kubeconfig "$cfg" \
		--cache-dir "$T/kcache" "$@") >$T/kc.out 2>$T/kc.err" /dev/null \
		>/dev/null </dev/null
}
# Requests the stub logged at an abstract endpoint (/device/auth, /token,
# /revoke), optionally of one grant type; field=value filters further.
reqs() { # ENDPOINT [GRANT]
	[ -s "$STUB_LOG" ] || { echo 0; return; }
	jq -n --arg e "$1" --arg g "${2:-}" '[inputs | select(.endpoint == $e and
		($g == "" or ((.grant_type // "") | endswith($g))))] | length' "$STUB_LOG"
}
last_device() { jq -s -c '[.[] | select(.endpoint == "/device/auth")] | last' "$STUB_LOG"; }
cache_list() { find "$CACHE" -name '*.json' 2>/dev/null | sort; }
# The cache entry that is not in the list $1.
entry_of() { comm -13 <(printf '%s\n' "$1") <(cache_list) | head -1; }

# story PROFILE SCOPE PKCE [plugin options...]: the whole story for one
# profile.  SCOPE is the scope the device request must carry, PKCE the
# code_challenge_method it must carry ("absent" for none).
story() {
	local profile=$1 scope=$2 pkce=$3; shift 3
	local stub_args=() extra=("$@") args entry n0 sub before
	[ "$profile" = google ] && stub_args=(--client-secret g00gle-not-secret)
	start_stub_idp ok --profile "$profile" "${stub_args[@]}"
	# The API server checks what the README's recipe for the provider says.
	case $profile in
	okta) start_apiserver --issuer "$STUB_URL" --client-id api://default ;;
	auth0 | authentik | zitadel) start_apiserver --issuer "$STUB_URL" --required-claim amr=mfa ;;
	ping) start_apiserver --issuer "$STUB_URL" --required-claim acr=Multi_Factor ;;
	*) start_apiserver --issuer "$STUB_URL" ;;
	esac
	args=(--oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl
		--certificate-authority "$T/pki/ca.pem" --token-cache-storage disk
		--fido2-device "$KEY" --skip-open-browser --timeout 20s "${extra[@]}")

	# setup: the check passes and says what a login will ask for.
	expect_exit 0 "$KMFA" setup "${args[@]}"
	check "$profile: setup passes and names the scopes \"$scope\"" \
		'contains "$ERR" "scopes: a login will ask for \"$scope\"" && ! contains "$ERR" "problem:"'
	if [ "$pkce" = S256 ]; then
		check "$profile: setup says PKCE S256" contains "$ERR" "PKCE: S256"
	else
		check "$profile: setup says no PKCE" '! contains "$ERR" "PKCE:"'
	fi

	# touch + device login, through kubectl.
	write_kubeconfig "$T/kc-$profile" "$API_URL" v1 -- "$KMFA" get-token "${args[@]}"
	before=$(cache_list)
	kc "$T/kc-$profile" get --raw /version
	entry=$(entry_of "$before")
	check "$profile: kubectl logs in with a touch and a device login" \
		'grep -q gitVersion "$T/kc.out" && [ -n "$entry" ] && [ "$(reqs /device/auth)" -eq 1 ]'
	check "$profile: the device request asked for \"$scope\", PKCE $pkce" \
		'[ "$(last_device | jq -r .scope)" = "$scope" ] && [ "$(last_device | jq -r .pkce)" = "$pkce" ]'
	if [ "$pkce" = S256 ]; then
		check "$profile: every poll carried the verifier" \
			'[ "$(jq -s "[.[] | select(.endpoint == \"/token\" and .verifier == false)] | length" "$STUB_LOG")" -eq 0 ]'
	fi
	check "$profile: the cached token is the profile's issuer's" \
		'[ "$(jwt_json "$(jq -r .token "$entry")" | jq -r .iss)" = "$STUB_URL" ] || [ "$(jq -r .issuer "$entry")" = "$STUB_URL" ]'

	# cache hit: nothing reaches the stub.
	n0=$(wc -l <"$STUB_LOG")
	kc "$T/kc-$profile" get --raw /version
	check "$profile: the second call is a cache hit" \
		'grep -q gitVersion "$T/kc.out" && [ "$(wc -l <"$STUB_LOG")" -eq "$n0" ]'
	expect_exit 0 "$KMFA" status --oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl \
		--token-cache-storage disk "${extra[@]}"
	check "$profile: status says the scopes and the offline_access rule" \
		'contains "$OUT" "scopes:    openid, offline_access when the issuer lists it (auto)"'

	# refresh: the token's time is up; a touch, a refresh, no device login.
	jq '.token_exp = (now | floor) - 1' "$entry" >"$entry.new" && chmod 600 "$entry.new" && mv "$entry.new" "$entry"
	kc "$T/kc-$profile" get --raw /version
	check "$profile: an expired token is refreshed (no new device login)" \
		'grep -q gitVersion "$T/kc.out" && [ "$(reqs /token refresh_token)" -eq 1 ] && [ "$(reqs /device/auth)" -eq 1 ] &&
		 [ "$(jq -r .token_exp "$entry")" -gt "$(date +%s)" ]'

	# logout: revoked where the provider has revocation, said plainly where not.
	expect_exit 0 "$KMFA" logout "${args[@]}"
	sub=$(find "$CACHE" -name "$(basename "$entry")" | wc -l)
	if jq -e '.revocation_endpoint' <(curl -sS --cacert "$T/pki/ca.pem" "${STUB_URL%/}/.well-known/openid-configuration") >/dev/null; then
		check "$profile: logout revokes the refresh token at the provider" \
			'[ "$sub" -eq 0 ] && [ "$(reqs /revoke)" -eq 1 ] && contains "$ERR" "revoked at"'
	else
		check "$profile: logout says the provider has no revocation endpoint" \
			'[ "$sub" -eq 0 ] && contains "$ERR" "advertises no revocation endpoint"'
	fi
	PROFILE_URL=$STUB_URL PROFILE_ARGS=("${args[@]}")
}

# Google: no offline_access (it refuses it), PKCE S256, a client secret on
# polls, verification_url, pending as 428 and no complete URI.
story google "openid" S256 --oidc-client-secret g00gle-not-secret
GOOGLE_URL=$PROFILE_URL
# Entra ID: offline_access listed, no PKCE advertised, no revocation.
story entra "openid offline_access" absent
ENTRA_URL=$PROFILE_URL ENTRA_ARGS=("${PROFILE_ARGS[@]}") ENTRA_LOG=$STUB_LOG
# Okta: refresh answers without an ID token: with the access token in use,
# the refresh's access token is used as it is.
story okta "openid offline_access" absent --oidc-use-access-token
OKTA_URL=$PROFILE_URL OKTA_LOG=$STUB_LOG OKTA_ARGS=("${PROFILE_ARGS[@]}")
# Keycloak: PKCE mandatory for the client.
story keycloak "openid offline_access" S256
# Dex: PKCE advertised (plain is its default), pending as 401, no revocation.
story dex "openid offline_access" S256
story auth0 "openid offline_access" absent
AUTH0_URL=$PROFILE_URL AUTH0_ARGS=("${PROFILE_ARGS[@]}") AUTH0_LOG=$STUB_LOG
# Authentik: advertises PKCE, ignores it on the device endpoint.
story authentik "openid offline_access" S256
story zitadel "openid offline_access" absent
ZITADEL_URL=$PROFILE_URL ZITADEL_ARGS=("${PROFILE_ARGS[@]}") ZITADEL_LOG=$STUB_LOG
# Ping (PingAM): pending as 403, S256 only.
story ping "openid offline_access" S256

# --- the quirks that end a login ---------------------------------------------
# mx_run tty: a person at a terminal, one failing line expected at the end.
fail_line() { tail -1 "$T/mx.err"; }

# --oidc-offline-access forces the scope either way: on against Google
# gets its invalid_scope; off against Entra asks for none (no refresh token).
mx_run tty "$KMFA" get-token --oidc-issuer-url "$GOOGLE_URL" --oidc-client-id kubectl \
	--oidc-client-secret g00gle-not-secret --certificate-authority "$T/pki/ca.pem" \
	--token-cache-storage disk --fido2-device "$KEY" --skip-open-browser \
	--timeout 20s --oidc-offline-access=on
check "google, --oidc-offline-access=on: offline_access is asked for and refused" \
	'[ "$MX_RC" -eq 5 ] && contains "$(fail_line)" "invalid_scope"'
STUB_LOG=$ENTRA_LOG
mx_run tty "$KMFA" get-token "${ENTRA_ARGS[@]}" --oidc-offline-access=off --oidc-extra-scope off
check "entra, --oidc-offline-access=off: openid only, and no refresh token kept" \
	'[ "$MX_RC" -eq 0 ] && [ "$(last_device | jq -r .scope)" = "openid off" ] &&
	 [ "$(jq -r .refresh "$(ls -t "$CACHE"/*.json | head -1)")" = null ]'
# Refused before the cache is looked at, by the front as by the program.
expect_exit 2 "$KMFA" get-token "${ENTRA_ARGS[@]}" --oidc-offline-access=maybe
check "--oidc-offline-access takes auto, on or off (even with a token cached)" \
	contains "$ERR" "--oidc-offline-access takes auto, on or off"

# Entra: authorization_declined is a denial.
STUB_URL=${ENTRA_URL%/} stub_scenario access_denied
mx_run tty "$KMFA" get-token "${ENTRA_ARGS[@]}" --oidc-extra-scope declined
check "entra: authorization_declined ends the login as a denial" \
	'[ "$MX_RC" -eq 5 ] && contains "$(fail_line)" "the login was denied at the identity provider"'

# Entra common/organizations: discovery's issuer holds {tenantid}.
STUB_URL=${ENTRA_URL%/} stub_scenario placeholder_issuer
expect_exit 2 "$KMFA" setup "${ENTRA_ARGS[@]}"
check "entra: a {tenantid} issuer is one line with the fix" \
	'contains "$ERR" "multi-tenant endpoint" && contains "$ERR" "--oidc-issuer-url=https://login.microsoftonline.com/<tenant-id>/v2.0" &&
	 [ "$(grep -c "kubectl-mfa:" <<<"$ERR")" -eq 1 ]'

# Zitadel before zitadel/oidc#500: a device grant without an ID token.
STUB_URL=${ZITADEL_URL%/} stub_scenario no_id_token
mx_run tty "$KMFA" get-token "${ZITADEL_ARGS[@]}" --oidc-extra-scope old
check "zitadel: a device grant without an ID token names the cause" \
	'[ "$MX_RC" -ne 0 ] && contains "$(fail_line)" "without an ID token" && contains "$(fail_line)" "Zitadel" &&
	 [ ! -s "$T/mx.out" ]'

# Auth0: the device code expires (expired_token, then invalid_grant).
STUB_URL=${AUTH0_URL%/} stub_scenario expired_token
n0=$(jq -s '[.[] | select(.endpoint == "/token")] | length' "$AUTH0_LOG")
mx_run tty "$KMFA" get-token "${AUTH0_ARGS[@]}" --oidc-extra-scope expired
check "auth0: expired_token ends the login with one clear line, no poll after it" \
	'[ "$MX_RC" -eq 5 ] && contains "$(fail_line)" "the device code expired" &&
	 [ "$(jq -s "[.[] | select(.endpoint == \"/token\")] | length" "$AUTH0_LOG")" -eq $((n0 + 1)) ]'

# Okta in ID-token mode: a refresh answer without an ID token means a new
# device login, and the old refresh token is revoked and dropped.
STUB_URL=${OKTA_URL%/} STUB_LOG=$OKTA_LOG
OKTA_ID=()
for a in "${OKTA_ARGS[@]}"; do [ "$a" = --oidc-use-access-token ] || OKTA_ID+=("$a"); done
mx_run tty "$KMFA" get-token "${OKTA_ID[@]}"
okta=$(ls -t "$CACHE"/*.json | head -1)
check "okta, ID-token mode: the login caches a refresh token" \
	'[ "$MX_RC" -eq 0 ] && [ "$(jq -r .refresh "$okta")" != null ]'
RT=$(jq -r .refresh "$okta")
jq '.token_exp = (now | floor) - 1' "$okta" >"$okta.new" && chmod 600 "$okta.new" && mv "$okta.new" "$okta"
dev0=$(reqs /device/auth) rev0=$(reqs /revoke)
mx_run tty "$KMFA" get-token "${OKTA_ID[@]}"
check "okta, ID-token mode: a refresh without an ID token logs in again" \
	'[ "$MX_RC" -eq 0 ] && [ "$(reqs /device/auth)" -eq $((dev0 + 1)) ] &&
	 contains "$(cat "$T/mx.err")" "the refresh answer had no ID token"'
check "okta, ID-token mode: the old refresh token was revoked and is not kept" \
	'[ "$(reqs /revoke)" -eq $((rev0 + 1)) ] && [ "$(jq -r .refresh "$okta")" != "$RT" ]'

# A provider whose revocation takes only client_secret_basic, and a public
# client: setup warns, logout says it could not revoke and why.
start_stub_idp revocation_needs_secret
A=(--oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl --certificate-authority "$T/pki/ca.pem"
	--token-cache-storage disk --fido2 off --skip-open-browser --timeout 20s)
expect_exit 0 "$KMFA" setup "${A[@]}"
check "setup warns when revocation offers no method a public client can use" \
	'contains "$ERR" "revocation_endpoint_auth_methods_supported offers no method this client can use"'
mx_run tty "$KMFA" get-token "${A[@]}"
expect_exit 0 "$KMFA" logout "${A[@]}"
check "logout says plainly that the token could not be revoked, and why" \
	'contains "$ERR" "could not revoke the refresh token" && contains "$ERR" "invalid_client"'

finish

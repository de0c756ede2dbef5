#!/usr/bin/env bash
# The cold path (issue 15): the discovery document and the JWKS kept in
# <cache>/oidc between runs, against the real IdP (oidc-provider).  Counted
# at the IdP's request log: a refresh with both kept is one request (the
# token endpoint); kept copies are revalidated with ETag / Last-Modified
# (304) when stale, fetched again when the ID token names a key the kept
# JWKS lacks (a rotated signing key), dropped when the kept discovery
# document names another issuer; damaged, group-readable and foreign-owned
# files of either kind are ignored and replaced; an oversized JWKS and an
# absurd max-age are bounded; logout --all and setup still ask the
# provider; one connection per run, and a new one resumes the TLS session.
# The IdP's caching headers and key rotation come from its /__test/control.
. "$(dirname "$0")/../lib.sh"

start_idp --id-token-ttl 600
browser_env alice
CACHE=$XDG_CACHE_HOME/kubectl-mfa
META=$CACHE/oidc
L=(login --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --fido2 off
	--token-cache-storage disk --browser-command "$KMFA_BROWSER")

# The plugin with a terminal; its exit code, stderr in $T/a.err.
attended() {
	local rc
	script -qec "$(printf '%q ' "$@") >$T/a.out 2>$T/a.err" /dev/null \
		>/dev/null </dev/null
	rc=$?
	keep_stderr "$T/a.err"
	return $rc
}
control() { # QUERY: set the IdP's test controls
	curl -sS --fail --cacert "$T/pki/ca.pem" -o /dev/null \
		"$IDP_URL/__test/control?$1" || die "control $1 failed"
}
lines() { wc -l <"$IDP_LOG"; }
# since N PATH [STATUS]: requests after line N whose path is PATH
since() {
	tail -n +"$(($1 + 1))" "$IDP_LOG" | jq -n --arg p "$2" --arg s "${3:-}" \
		'[inputs | select(.path == $p and ($s == "" or (.status | tostring) == $s))] | length'
}
DISC=/.well-known/openid-configuration
# run_login: a login; sets n0 (the log's length before), passes its status
run_login() { n0=$(lines); attended "$KMFA" "${L[@]}"; }
dfile() { find "$META" -name '*.discovery' 2>/dev/null; }
jfile() { find "$META" -name '*.jwks' 2>/dev/null; }
# rewrite FILE JQ: edit a kept file in place, staying 0600 and ours
rewrite() {
	jq -c "$2" "$1" >"$1.new" && chmod 600 "$1.new" && mv "$1.new" "$1"
}
# age FILE...: fetched a day ago, so stale (and within the bound)
age() { local f; for f; do rewrite "$f" '.fetched -= 90000 | .expires -= 90000'; done; }
refresh_ok() { [ "$(since "$n0" /token)" -eq 1 ] && [ "$(tail -n +"$((n0 + 1))" "$IDP_LOG" | jq -s '[.[] | select(.path == "/token" and .grant_type == "refresh_token")] | length')" -eq 1 ]; }

# 1. The first login fetches both and keeps them.
run_login
check "a first login fetches the discovery document and the JWKS once each" \
	'[ $? -eq 0 ] && [ "$(since "$n0" $DISC)" -eq 1 ] && [ "$(since "$n0" /jwks)" -eq 1 ]'
check "both are kept in <cache>/oidc, mode 0600, in a 0700 folder" \
	'[ -n "$(dfile)" ] && [ -n "$(jfile)" ] &&
	 [ "$(stat -c %a "$(dfile)") $(stat -c %a "$(jfile)") $(stat -c %a "$META")" = "600 600 700" ] &&
	 [ "$(jq -r .body "$(dfile)" | jq -r .issuer)" = "$IDP_URL" ]'
check "a provider that says nothing gets the default hour" \
	'[ "$(jq ".expires - .fetched" "$(dfile)")" -eq 3600 ] && [ "$(jq ".expires - .fetched" "$(jfile)")" -eq 3600 ]'

# 2. A refresh with both kept: one request, the token endpoint.
run_login
check "a refresh with both kept sends one request to the IdP (the token endpoint)" \
	'[ $? -eq 0 ] && [ "$(( $(lines) - n0 ))" -eq 1 ] && refresh_ok'

# 3. Revalidation with ETag: no-cache keeps the body, every use asks with
# If-None-Match, and a 304 costs no body.
control 'cache_control=no-cache&validators=etag'
age "$(dfile)" "$(jfile)"
run_login
check "stale copies without validators are fetched again (200)" \
	'[ $? -eq 0 ] && [ "$(since "$n0" $DISC 200)" -eq 1 ] && [ "$(since "$n0" /jwks 200)" -eq 1 ] &&
	 [ "$(jq -r .etag "$(jfile)")" != null ] && [ "$(jq ".expires - .fetched" "$(jfile)")" -eq 0 ]'
run_login
check "no-cache with an ETag: both revalidated, answered 304, the refresh succeeds" \
	'[ $? -eq 0 ] && [ "$(since "$n0" $DISC 304)" -eq 1 ] && [ "$(since "$n0" /jwks 304)" -eq 1 ] &&
	 [ "$(( $(lines) - n0 ))" -eq 3 ] && refresh_ok'

# 4. Last-Modified, and the 304's max-age gives the copy a new lifetime.
control 'cache_control=max-age%3D600&validators=last-modified'
run_login
check "a validator the server no longer honours: fetched again (200), with Last-Modified kept" \
	'[ $? -eq 0 ] && [ "$(since "$n0" /jwks 200)" -eq 1 ] &&
	 [ "$(jq -r .last_modified "$(jfile)")" != null ] && [ "$(jq ".expires - .fetched" "$(jfile)")" -eq 600 ]'
age "$(dfile)" "$(jfile)"
run_login
check "stale with Last-Modified: revalidated with If-Modified-Since, answered 304" \
	'[ $? -eq 0 ] && [ "$(since "$n0" $DISC 304)" -eq 1 ] && [ "$(since "$n0" /jwks 304)" -eq 1 ] && refresh_ok'
run_login
check "after the 304 (max-age=600) the copies are fresh again: one request" \
	'[ $? -eq 0 ] && [ "$(( $(lines) - n0 ))" -eq 1 ] && refresh_ok'

# 5. A rotated signing key is picked up on the first token signed with it.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/pki/rotated.key" 2>/dev/null ||
	die "openssl genpkey failed"
old_kid=$(jq -r '.body | fromjson | .keys[0].kid' "$(jfile)")
control "rotate_key=$T/pki/rotated.key"
run_login
rc=$?
rec=$(find "$CACHE" -maxdepth 1 -name '*.json' | head -1)
new_kid=$(jq -r .token "$rec" | cut -d. -f1 | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .kid)
check "a token signed with a rotated key: the JWKS fetched again once, the refresh succeeds" \
	'[ $rc -eq 0 ] && [ "$new_kid" != "$old_kid" ] && [ "$(since "$n0" /jwks)" -eq 1 ] && refresh_ok &&
	 jq -r ".body | fromjson | .keys[].kid" "$(jfile)" | grep -qx "$new_kid"'
run_login
check "the refetched JWKS is kept: the next refresh is one request again" \
	'[ $? -eq 0 ] && [ "$(( $(lines) - n0 ))" -eq 1 ] && refresh_ok'

# 6. A kept discovery document whose issuer is not the configured one.
rewrite "$(dfile)" '.body |= (fromjson | .issuer = "https://elsewhere.example" | tojson)'
run_login
check "a kept discovery document with another issuer is dropped and fetched again" \
	'[ $? -eq 0 ] && [ "$(since "$n0" $DISC)" -eq 1 ] &&
	 [ "$(jq -r .body "$(dfile)" | jq -r .issuer)" = "$IDP_URL" ]'

# 7. Damaged, group-readable, foreign-owned: ignored and replaced.
for kind in discovery jwks; do
	for how in damaged group foreign; do
		f=$(find "$META" -name "*.$kind")
		path=$DISC; [ $kind = jwks ] && path=/jwks
		case $how in
		damaged) printf '{"v":1,"url":' >"$f" ;;
		group) chmod 640 "$f" ;;
		foreign) chown 65534:65534 "$f" ;;
		esac
		run_login
		check "a $how kept $kind file is ignored (fetched again) and replaced" \
			'[ $? -eq 0 ] && [ "$(since "$n0" $path)" -eq 1 ] &&
			 [ "$(stat -c "%a %u" "$f")" = "600 $(id -u)" ] && jq -e .body "$f" >/dev/null'
	done
done

# 8. Hostile answers: an oversized JWKS, an absurd max-age, no-store.
control 'jwks_pad=2000000&validators=none'
age "$(jfile)"
before=$(sha256sum "$(jfile)")
run_login
rc=$?
check "a JWKS over 1 MiB fails the login, keeps the old JWKS file as it was, forgets the discovery document" \
	'[ $rc -eq 5 ] && grep -q "more than 1 MiB" "$T/a.err" && [ "$(sha256sum "$(jfile)")" = "$before" ] && [ -z "$(dfile)" ]'
control 'jwks_pad=0&cache_control=max-age%3D99999999999999999999'
run_login
check "an absurd max-age is bounded to a day" \
	'[ $? -eq 0 ] && [ "$(jq ".expires - .fetched" "$(jfile)")" -eq 86400 ]'
age "$(dfile)" "$(jfile)"
control 'cache_control=no-store'
run_login
check "no-store: the copies are removed, not kept" \
	'[ $? -eq 0 ] && [ -z "$(dfile)" ] && [ -z "$(jfile)" ]'
control 'cache_control='

# 9. One connection per run; a new one resumes the TLS session.
rm -rf "$META"
run_login
check "a cold refresh sends its three requests over one connection" \
	'[ $? -eq 0 ] && [ "$(since "$n0" /token)" -eq 1 ] &&
	 [ "$(tail -n +"$((n0 + 1))" "$IDP_LOG" | jq -s "map(.conn) | unique | length")" -eq 1 ]'
control 'close=1'
rm -rf "$META"
run_login
# (This server takes each TLS 1.3 ticket once and issues none on a resumed
# connection, so the third connection has no ticket left: the curl
# command line does the same.)
check "when the server closes each connection, the next one resumes the TLS session" \
	'[ $? -eq 0 ] && [ "$(tail -n +"$((n0 + 1))" "$IDP_LOG" | jq -sc "[(map(.conn) | unique | length), map(.resumed)[0:2]]")" = "[3,[false,true]]" ]'
control 'close=0'

# 10. logout --all asks the provider even with fresh copies.
run_login
n0=$(lines)
attended "$KMFA" logout --all --certificate-authority "$T/pki/ca.pem"
check "logout --all fetches the discovery document afresh" \
	'[ $? -eq 0 ] && [ -n "$(dfile)" ] && [ "$(since "$n0" $DISC)" -eq 1 ]'

# 11. setup asks the provider even with fresh copies, and keeps nothing.
run_login
before=$(sha256sum "$(dfile)" "$(jfile)")
n0=$(lines)
expect_exit 0 "$KMFA" setup --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl \
	--certificate-authority "$T/pki/ca.pem"
check "setup fetches the discovery document and the JWKS afresh" \
	'[ "$RC" -eq 0 ] && [ "$(since "$n0" $DISC)" -eq 1 ] && [ "$(since "$n0" /jwks)" -eq 1 ] &&
	 [ "$(sha256sum "$(dfile)" "$(jfile)")" = "$before" ]'

# 12. --token-cache-storage none keeps nothing, the documents neither.
rm -rf "$META"
n0=$(lines)
attended "$KMFA" "${L[@]/disk/none}"
check "--token-cache-storage none keeps no discovery document or JWKS" \
	'[ $? -eq 0 ] && [ ! -e "$META" ]'

finish

#!/usr/bin/env bash
# The server proof, end to end: the plugin under --server-proof prints a
# kmfa-proof1 bundle (the ID token, the touch's assertion and a silent assertion
# over the token by the same key); kubectl-mfa-webhook answers TokenReviews
# for it.  Direct TokenReviews (curl over loopback TLS) show each refusal
# with its reason; the test API server, authenticating through the webhook
# as kube-apiserver does, shows real kubectl working with the proof and
# refused with a bare ID token from the same IdP.
. "$(dirname "$0")/../lib.sh"

WEBHOOK=$KMFA_BUILD/bin/kubectl-mfa-webhook
MKPROOF=$KMFA_BUILD/test/webhook/kmfa-mkproof
[ -x "$WEBHOOK" ] && [ -x "$MKPROOF" ] || die "the webhook is not built (make test-bins)"

start_idp --id-token-ttl 600 --issued-log "$T/issued.jsonl"
browser_env alice
start_softkey key1; KEY1=$SOFTKEY_DEV
start_softkey other; OTHER=$SOFTKEY_DEV
CRED=$XDG_CONFIG_HOME/kubectl-mfa/credentials.json
BASE=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --token-cache-storage disk
	--browser-command "$KMFA_BROWSER" --timeout 20s)
ARGS=(get-token "${BASE[@]}" --fido2-device "$KEY1" --server-proof)

attended() {
	local rc
	script -qec "$(printf '%q ' "$@") >$T/a.out 2>$T/a.err" /dev/null \
		>/dev/null </dev/null
	rc=$?
	keep_stderr "$T/a.err"
	return $rc
}
b64url_d() {
	local p; p=$(tr '_-' '/+' <<<"$1")
	while [ $((${#p} % 4)) -ne 0 ]; do p=$p=; done
	base64 -d <<<"$p" 2>/dev/null
}
# review TOKEN: POST a TokenReview; $T/tr.json holds the answer, HTTP the status.
review_body() {
	HTTP=$(curl -s -o "$T/tr.json" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
		-H 'Content-Type: application/json' --data-binary @"$1" "${2:-$WH_URL}")
}
review() {
	jq -n --arg t "$1" '{apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: {token: $t}}' >"$T/tr.in"
	review_body "$T/tr.in" "${2:-$WH_URL}"
}
authn() { jq -r .status.authenticated "$T/tr.json" 2>/dev/null; }
error() { jq -r '.status.error // ""' "$T/tr.json" 2>/dev/null; }
# refused NAME REASON: the last review was refused, saying REASON, in the
# answer and in the webhook's log.
refused() {
	WANT=$2
	check "$1: authenticated false, '$2'" \
		'[ "$(authn)" = false ] && contains "$(error)" "$WANT" && tail -1 "$WH_LOG" | grep -qF "$WANT"'
}

expect_exit 0 "$KMFA" enroll --name yubikey --fido2-device "$KEY1"
check "the software key is enrolled" '[ "$RC" -eq 0 ]'
expect_exit 0 "$KMFA" enroll --name stranger --fido2-device "$OTHER" \
	--fido2-credentials "$T/other.json"
check "another key is enrolled in another credentials file" '[ "$RC" -eq 0 ]'

# 1. The plugin: one touch, the token signed silently, the bundle printed.
c0=$(softkey_ctl key1 status | sed -n 's/.*counter=\([0-9]*\).*/\1/p')
attended "$KMFA" "${ARGS[@]}"; rc=$?
BUNDLE=$(jq -r .status.token "$T/a.out" 2>/dev/null)
c1=$(softkey_ctl key1 status | sed -n 's/.*counter=\([0-9]*\).*/\1/p')
check "get-token --server-proof prints a kmfa-proof1 bundle" \
	'[ $rc -eq 0 ] && [ "${BUNDLE#kmfa-proof1.}" != "$BUNDLE" ] && [ "$(grep -c "Touch your security key" "$T/a.err")" -eq 1 ]'
check "the key made two assertions: the touch and the silent one ($c0 -> $c1)" \
	'[ "$c1" -eq $((c0 + 2)) ]'
IDTOK=$(b64url_d "$(cut -d. -f2 <<<"$BUNDLE")")
SUB=$(jwt_json "$IDTOK" | jq -r .sub)
check "the bundle carries the IdP's ID token (sub $SUB)" \
	'[ -n "$SUB" ] && jq -r "select(.kind == \"id_token\") | .value" "$T/issued.jsonl" | grep -qxF "$IDTOK"'
attended "$KMFA" "${ARGS[@]}"; rc=$?
check "the cached bundle is printed again by the front, with no touch" \
	'[ $rc -eq 0 ] && [ "$(jq -r .status.token "$T/a.out")" = "$BUNDLE" ] && ! grep -q "Touch" "$T/a.err"'
attended "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY1"; rc=$?
check "an entry without --server-proof is another cache entry: never the bundle" \
	'[ $rc -eq 0 ] && [ "$(jq -r .status.token "$T/a.out" | cut -c1-12)" != kmfa-proof1. ]'
expect_exit 2 "$KMFA" get-token "${BASE[@]}" --fido2-device "$KEY1" --server-proof --fido2 off
check "--server-proof without the touch is a usage error" 'contains "$ERR" "--server-proof"'

# 2. The registry, as `keys export` prints it, and the webhook.  Started
# as root it must drop to an unprivileged user, which must then read the
# registry and the IdP's CA: those go in a folder others may read.
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
	WHD=$(mktemp -d /tmp/kmfa-wh.XXXXXX) && chmod 755 "$WHD" || die "mktemp"
	at_exit "rm -rf '$WHD'"
	RUNAS=(--user nobody)
else
	WHD=$T/wh
fi
mkdir -p "$WHD/registry" && cp "$T/pki/ca.pem" "$WHD/ca.pem" && chmod 755 "$WHD/registry"
ln -s "$WHD/registry" "$T/registry"
expect_exit 0 "$KMFA" keys export "$SUB"
check "keys export prints the registration entry" \
	'[ "$(jq -r ".credentials[0].subject" <<<"$OUT")" = "$SUB" ] && [ "$(jq -r ".credentials[0].uv" <<<"$OUT")" = discouraged ]'
printf '%s\n' "$OUT" >"$T/registry/alice.json"
start_server webhook "$WEBHOOK" --issuer "$IDP_URL" --audience kubectl \
	--certificate-authority "$WHD/ca.pem" --registry "$WHD/registry" \
	--tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" --port 0 \
	--session-max 1h --username-prefix "oidc:" "${RUNAS[@]}"
WH_URL=$(jq -r .url <<<"$REPLY")/authenticate
WH_LOG=$T/webhook.log
if [ ${#RUNAS[@]} -gt 0 ]; then
	check "started as root, the webhook runs as nobody" \
		'[ "$(awk "/^Uid:/ { print \$2 }" /proc/$webhook_PID/status)" = "$(id -u nobody)" ]'
else
	expect_exit 2 "$WEBHOOK" --issuer "$IDP_URL" --audience kubectl
	check "the webhook's usage error" 'contains "$ERR" usage'
fi

review "$BUNDLE"
check "a valid bundle is authenticated as oidc:$SUB" \
	'[ "$HTTP" = 200 ] && [ "$(authn)" = true ] && [ "$(jq -r .status.user.username "$T/tr.json")" = "oidc:$SUB" ] && [ "$(jq -r .status.user.uid "$T/tr.json")" = "$SUB" ]'
review "$BUNDLE"
check "the same bundle is authenticated again (kubectl presents it until it expires)" '[ "$(authn)" = true ]'
review "$IDTOK"; refused "a bare ID token" "no proof"

mk() { "$MKPROOF" --device "$KEY1" --credentials "$CRED" --issuer "$IDP_URL" --client kubectl "$@"; }
printf '%s' "$IDTOK" >"$T/idtok"
printf '%s' "${IDTOK%?}x" >"$T/othertok"
B=$(mk --token-file "$T/idtok"); review "$B"
check "kmfa-mkproof makes a bundle the webhook accepts" '[ "$(authn)" = true ]'
B=$("$MKPROOF" --device "$OTHER" --credentials "$T/other.json" --issuer "$IDP_URL" \
	--client kubectl --token-file "$T/idtok"); review "$B"
refused "a proof from an unregistered key" "not registered"
B=$(mk --token-file "$T/idtok" --sign-token-file "$T/othertok"); review "$B"
refused "a proof over another token" "does not sign this ID token"
B=$(mk --token-file "$T/idtok" --time $(($(date +%s) - 7200))); review "$B"
refused "a touch older than --session-max" "older than the session maximum"
B=$(mk --token-file "$T/idtok" --time $(($(date +%s) + 3600))); review "$B"
refused "a touch dated in the future" "in the future"
B=$(mk --token-file "$T/idtok" --tamper up_ad); review "$B"
refused "tampered authenticator data of the touch" "the touch's assertion"
B=$(mk --token-file "$T/idtok" --tamper up_sig); review "$B"
refused "a tampered signature of the touch" "the touch's assertion"
B=$(mk --token-file "$T/idtok" --tamper tok_sig); review "$B"
refused "a tampered signature over the token" "does not sign this ID token"
B=$(mk --token-file "$T/idtok" --no-up); review "$B"
refused "a presence assertion without the UP flag" "no user-present flag"
B=$(mk --token-file "$T/idtok" --issuer https://elsewhere.example); review "$B"
refused "a touch bound to another issuer" "another issuer"
review "kmfa-proof1.not*base64.x"; refused "a malformed bundle" "malformed bundle"

# An old proof with a new token: the second login's token, the first's proof.
for ENTRY in "$XDG_CACHE_HOME"/kubectl-mfa/*.json; do
	[ "$(jq -r .token "$ENTRY" | cut -c1-12)" = kmfa-proof1. ] && break
done
jq '.token_exp = (now | floor) - 1' "$ENTRY" >"$ENTRY.new" && chmod 600 "$ENTRY.new" && mv "$ENTRY.new" "$ENTRY"
attended "$KMFA" "${ARGS[@]}"; rc=$?
BUNDLE2=$(jq -r .status.token "$T/a.out" 2>/dev/null)
check "after expiry a touch, a refresh, and a new bundle" \
	'[ $rc -eq 0 ] && [ "$BUNDLE2" != "$BUNDLE" ] && [ "${BUNDLE2#kmfa-proof1.}" != "$BUNDLE2" ]'
review "$BUNDLE2"
check "the new bundle is authenticated" '[ "$(authn)" = true ]'
SPLICED=kmfa-proof1.$(cut -d. -f2 <<<"$BUNDLE2").$(cut -d. -f3 <<<"$BUNDLE")
review "$SPLICED"; refused "an old proof with a new token" "does not sign this ID token"

# Counters never go back: the key's counter set below the last accepted.
softkey_ctl key1 counter 3
B=$(mk --token-file "$T/idtok"); review "$B"
refused "a counter that went back" "counter went back"
softkey_ctl key1 counter 100000

# Bodies: oversized, malformed, not a TokenReview.
head -c 200000 /dev/zero | tr '\0' a >"$T/big"
review_body "$T/big"
check "an oversized body: 413, authenticated false" \
	'[ "$HTTP" = 413 ] && [ "$(authn)" = false ] && tail -1 "$WH_LOG" | grep -q "larger than"'
HTTP=$(curl -s -o "$T/tr.json" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
	-H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$WH_URL")
check "an oversized body sent chunked (no length): 413, authenticated false" \
	'[ "$HTTP" = 413 ] && [ "$(authn)" = false ]'
HTTP=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" "$WH_URL")
check "a GET: 405" '[ "$HTTP" = 405 ]'
printf '{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": ' >"$T/bad"
review_body "$T/bad"
check "a malformed body: 400, authenticated false" \
	'[ "$HTTP" = 400 ] && [ "$(authn)" = false ] && tail -1 "$WH_LOG" | grep -q "malformed body"'
printf '{"apiVersion": "v1", "kind": "Pod", "spec": {}}' >"$T/bad"
review_body "$T/bad"
check "a body that is no TokenReview: 400, authenticated false" '[ "$HTTP" = 400 ] && [ "$(authn)" = false ]'
review "$BUNDLE2"
check "the webhook still serves after the bad input" '[ "$(authn)" = true ] && kill -0 "$webhook_PID"'

# The wrong rp id: a webhook expecting another relying party.
start_server webhook2 "$WEBHOOK" --issuer "$IDP_URL" --audience kubectl \
	--certificate-authority "$WHD/ca.pem" --registry "$WHD/registry" \
	--tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" --port 0 \
	--rp-id example.com "${RUNAS[@]}"
review "$BUNDLE2" "$(jq -r .url <<<"$REPLY")/"
check "a proof for another rp id: refused, 'rp id'" \
	'[ "$(authn)" = false ] && contains "$(error)" "rp id"'

# --cache-ttl: an accepted bearer is answered from memory, a refused one never.
start_server webhook3 "$WEBHOOK" --issuer "$IDP_URL" --audience kubectl \
	--certificate-authority "$WHD/ca.pem" --registry "$WHD/registry" \
	--tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" --port 0 \
	--cache-ttl 1m "${RUNAS[@]}"
W3=$(jq -r .url <<<"$REPLY")/
review "$BUNDLE2" "$W3"; a1=$(authn); u1=$(jq -c .status.user "$T/tr.json")
review "$BUNDLE2" "$W3"; a2=$(authn); u2=$(jq -c .status.user "$T/tr.json")
review "$SPLICED" "$W3"; review "$SPLICED" "$W3"; a3=$(authn)
check "--cache-ttl: the second review of a bundle is answered from the cache, the same user" \
	'[ "$a1" = true ] && [ "$a2" = true ] && [ "$u1" = "$u2" ] && [ "$(grep -c "\"subject\":\"$SUB (cached)\"" "$T/webhook3.log")" -eq 1 ]'
check "--cache-ttl: a refused bundle stays refused" \
	'[ "$a3" = false ] && [ "$(grep -c "does not sign this ID token" "$T/webhook3.log")" -eq 2 ]'

# 3. Through real kubectl: the API server asks the webhook.
start_apiserver --webhook "$WH_URL"
write_kubeconfig "$T/kc" "$API_URL" v1 -- "$KMFA" "${ARGS[@]}"
kc() {
	script -qec "$(printf '%q ' kubectl --kubeconfig "$T/kc" --cache-dir "$T/kcache" "$@") >$T/kc.out 2>$T/kc.err" \
		/dev/null >/dev/null </dev/null
}
kc get namespaces; rc=$?
check "kubectl with the proof: the API server authenticates through the webhook" \
	'[ $rc -eq 0 ] && grep -q default "$T/kc.out" && tail -1 "$API_LOG" | jq -e ".authorized and .user == \"oidc:$SUB\"" >/dev/null'
write_kubeconfig "$T/kc-bare" "$API_URL" v1 --
kubectl --kubeconfig "$T/kc-bare" --cache-dir "$T/kcache" --token "$IDTOK" get namespaces \
	>"$T/bare.out" 2>"$T/bare.err"; rc=$?
check "kubectl with a bare ID token of the same IdP is refused" \
	'[ $rc -ne 0 ] && grep -qi unauthorized "$T/bare.err" && tail -1 "$API_LOG" | grep -q "no proof"'

# 4. The registry is read again when it changes: the key removed, refused.
cp "$T/registry/alice.json" "$T/alice.saved"
jq '.credentials[].uv = "required"' "$T/alice.saved" >"$T/registry/alice.json.new" &&
	mv "$T/registry/alice.json.new" "$T/registry/alice.json"
review "$BUNDLE2"; refused "a registration that requires UV, a touch without it" "no user-verified flag"
jq '.credentials = []' "$T/registry/alice.json" >"$T/registry/alice.json.new" &&
	mv "$T/registry/alice.json.new" "$T/registry/alice.json"
review "$BUNDLE2"; refused "a key removed from the registry" "not registered"
printf '{"credentials": [' >"$T/registry/alice.json"
review "$BUNDLE2"
check "a registry that does not read refuses everything (fail closed)" \
	'[ "$(authn)" = false ] && grep -q registry-error "$WH_LOG"'

leaks=$(issued_leaks "$T/issued.jsonl" "$WH_LOG")
check "the webhook's log holds no token${leaks:+ ($leaks)}" '[ -z "$leaks" ]'
finish

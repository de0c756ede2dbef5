#!/usr/bin/env bash
# One user entry for many clusters, and several accounts at one provider,
# through real kubectl.  Two IdPs (oidc-provider) and two API servers, each
# trusting one of them; one kubeconfig user entry with provideClusterInfo:
# true, whose issuer, client and CA come from each cluster's exec
# extension (spec.cluster.config in KUBERNETES_EXEC_INFO).  Then two
# accounts (--oidc-login-hint) at one issuer and client.  --fido2 off: the
# security key has its own suite.
. "$(dirname "$0")/../lib.sh"

start_idp --id-token-ttl 600
IDP_A=$IDP_URL IDP_A_LOG=$IDP_LOG
start_idp --id-token-ttl 600
IDP_B=$IDP_URL IDP_B_LOG=$IDP_LOG
IDP_URL=$IDP_A start_apiserver
API_A=$API_URL API_A_LOG=$API_LOG
IDP_URL=$IDP_B start_apiserver
API_B=$API_URL API_B_LOG=$API_LOG
browser_env alice
CA=$T/pki/ca.pem
CA_DATA=$(base64 -w0 "$CA")
CACHE=$XDG_CACHE_HOME/kubectl-mfa
EXT=client.authentication.k8s.io/exec

# The user entry: nothing about any IdP, only the person's own settings.
USER_ARGS=(get-token --fido2 off --token-cache-storage disk
	--browser-command "$KMFA_BROWSER")

# write_clusters FILE COMMAND EXT_A EXT_B [EXT_C]: clusters a and b (and c,
# an API server that is a's, with another extension), their extensions as
# JSON, one user entry running COMMAND with USER_ARGS and
# provideClusterInfo: true, and a context per cluster.
write_clusters() {
	local file=$1 cmd=$2 ea=$3 eb=$4 ec=${5:-null} cmdjson
	cmdjson=$(for a in "$cmd" "${USER_ARGS[@]}"; do KMFA_A=$a jq -n 'env.KMFA_A'; done | jq -s -c .)
	(umask 077 && jq -n --arg a "$API_A" --arg b "$API_B" --arg ca "$CA" \
		--arg ext "$EXT" --argjson ea "$ea" --argjson eb "$eb" \
		--argjson ec "$ec" --argjson cmd "$cmdjson" '
		def cluster($n; $url; $e): {name: $n, cluster: ({server: $url,
			"certificate-authority": $ca} + (if $e == null then {} else
			{extensions: [{name: $ext, extension: $e}]} end))};
		{apiVersion: "v1", kind: "Config",
		 clusters: [cluster("a"; $a; $ea), cluster("b"; $b; $eb),
			cluster("c"; $a; $ec)],
		 users: [{name: "me", user: {exec: {
			apiVersion: "client.authentication.k8s.io/v1",
			command: $cmd[0], args: $cmd[1:],
			interactiveMode: "IfAvailable", provideClusterInfo: true}}}],
		 contexts: [{name: "a", context: {cluster: "a", user: "me"}},
			{name: "b", context: {cluster: "b", user: "me"}},
			{name: "c", context: {cluster: "c", user: "me"}}],
		 "current-context": "a"}' >"$file") || die "write_clusters: jq failed"
}
EXT_A=$(jq -n -c --arg i "$IDP_A" --arg ca "$CA" \
	'{"oidc-issuer-url": $i, "oidc-client-id": "kubectl", "certificate-authority": $ca}')
EXT_B=$(jq -n -c --arg i "$IDP_B" --arg d "$CA_DATA" \
	'{"oidc-issuer-url": $i, "oidc-client-id": "kubectl",
	  "certificate-authority-data": $d, "oidc-extra-scope": ["email"]}')
write_clusters "$T/kc" "$KMFA" "$EXT_A" "$EXT_B"

# kubectl with a controlling terminal; stdout and stderr in $T/kc.out and
# $T/kc.err; the exit code is kubectl's.
kc() {
	local cfg=$1 rc; shift
	script -qec "$(printf '%q ' kubectl --kubeconfig "$cfg" \
		--cache-dir "$T/kcache" "$@") >$T/kc.out 2>$T/kc.err" /dev/null \
		>/dev/null </dev/null
	rc=$?
	keep_stderr "$T/kc.err"
	return $rc
}
entries() { find "$CACHE" -name '*.json' 2>/dev/null | wc -l; }
# iss_of FILE: the iss of the token cached in FILE.
iss_of() { jwt_json "$(jq -r .token "$1")" | jq -r .iss; }
entry_for() { # ISSUER: the cache files holding a token of ISSUER
	local f
	for f in "$CACHE"/*.json; do
		[ -f "$f" ] && [ "$(iss_of "$f")" = "$1" ] && echo "$f"
	done
}

# 1. Each cluster logs in at its own IdP, through one user entry.
kc "$T/kc" --context a get --raw /version
check "cluster a: one user entry logs in at the issuer of a's exec extension" \
	'grep -q gitVersion "$T/kc.out" &&
	 [ "$(_count "$IDP_A_LOG" /device/auth)" -eq 1 ] && [ "$(entries)" -eq 1 ]'
kc "$T/kc" --context b get --raw /version
check "cluster b: the same user entry logs in at b's issuer, into an entry of its own" \
	'grep -q gitVersion "$T/kc.out" && [ "$(_count "$IDP_B_LOG" /device/auth)" -eq 1 ] &&
	 [ "$(_count "$IDP_A_LOG" /device/auth)" -eq 1 ] && [ "$(entries)" -eq 2 ]'
FA=$(entry_for "$IDP_A") FB=$(entry_for "$IDP_B")
check "each entry holds its own issuer's token, and its identity names that issuer" \
	'[ -n "$FA" ] && [ -n "$FB" ] && [ "$FA" != "$FB" ] &&
	 jq -r .identity "$FA" | grep -qx "issuer:${#IDP_A}:$IDP_A" &&
	 jq -r .identity "$FB" | grep -qx "issuer:${#IDP_B}:$IDP_B"'
check "what came from the extension is in the identity (b's scope and CA data)" \
	'jq -r .identity "$FB" | grep -qx "scope:5:email" &&
	 jq -r .identity "$FB" | grep -q "^ca-data:64:" && ! jq -r .identity "$FA" | grep -q "^scope:"'
check "each API server accepted only its own issuer's token" \
	'[ "$(jq -s "[.[] | select(.authorized)] | length" "$API_A_LOG")" -ge 1 ] &&
	 [ "$(jq -s "[.[] | select(.authorized)] | length" "$API_B_LOG")" -ge 1 ] &&
	 [ "$(jq -s "[.[] | select(.authorized == false)] | length" "$API_A_LOG" "$API_B_LOG")" -eq 0 ]'

# 2. Both served from the cache, by the front alone: a copy of it with no
# core beside it (and none installed) can answer only a hit, so the front
# read the extension and found the identity the full program saved under.
mkdir -p "$T/lone" && cp "$KMFA" "$T/lone/kubectl-mfa"
write_clusters "$T/kc-lone" "$T/lone/kubectl-mfa" "$EXT_A" "$EXT_B"
before_a=$(wc -l <"$IDP_A_LOG") before_b=$(wc -l <"$IDP_B_LOG")
kc "$T/kc-lone" --context a get --raw /version && ra=0 || ra=1
cp "$T/kc.err" "$T/kc-a.err"
kc "$T/kc-lone" --context b get --raw /version && rb=0 || rb=1
check "the front alone answers both clusters from their entries (no core, no IdP request)" \
	'[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ "$(wc -l <"$IDP_A_LOG")" -eq "$before_a" ] &&
	 [ "$(wc -l <"$IDP_B_LOG")" -eq "$before_b" ] && [ "$(entries)" -eq 2 ]'

# 3. What the user entry's args say wins over the extension: with the
# issuer of a (and a's CA) in the args, an extension naming b's issuer
# does not move it; the client id still comes from the extension, and
# the identity is a's entry's, so a hit answers (unattended: no login).
EI_B=$(jq -n -c --arg i "$IDP_B" \
	'{apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential",
	  spec: {interactive: false, cluster: {server: "https://127.0.0.1:1",
	  config: {"oidc-issuer-url": $i, "oidc-client-id": "kubectl"}}}}')
before_a=$(wc -l <"$IDP_A_LOG") before_b=$(wc -l <"$IDP_B_LOG")
for prog in "$KMFA" "$KMFA_CORE"; do
	KUBERNETES_EXEC_INFO=$EI_B expect_exit 0 "$prog" "${USER_ARGS[@]}" \
		--oidc-issuer-url "$IDP_A" --certificate-authority "$CA"
	t=$(jq -r .status.token <<<"$OUT" 2>/dev/null)
	check "the args' issuer wins over the extension's: a's token, from a's entry (${prog##*/})" \
		'[ "$(jwt_json "$t" | jq -r .iss)" = "$IDP_A" ] && [ "$(entries)" -eq 2 ] &&
		 [ "$(wc -l <"$IDP_A_LOG")" -eq "$before_a" ] && [ "$(wc -l <"$IDP_B_LOG")" -eq "$before_b" ]'
done

# 4. Bad extension content: one line, exit 2, through kubectl too, and
# never a login at some other issuer.
bad_case() { # NAME EXTENSION-JSON WORDS-IN-THE-MESSAGE
	local name=$1 ext=$2 words=$3 ei
	ei=$(jq -n -c --argjson e "$ext" '{apiVersion: "client.authentication.k8s.io/v1",
		kind: "ExecCredential", spec: {interactive: false,
		cluster: {server: "https://127.0.0.1:1", config: $e}}}')
	KUBERNETES_EXEC_INFO=$ei expect_exit 2 "$KMFA" "${USER_ARGS[@]}" \
		--oidc-issuer-url "$IDP_A" --oidc-client-id kubectl --certificate-authority "$CA"
	check "bad extension ($name): exit 2, one line naming it" \
		'one_line "$ERR" && contains "$ERR" "exec extension" && contains "$ERR" "$words" && [ -z "$OUT" ]'
}
before_a=$(wc -l <"$IDP_A_LOG") before_b=$(wc -l <"$IDP_B_LOG")
bad_case "a misspelt key" "{\"oidc-issuer\": \"$IDP_B\"}" "unknown key 'oidc-issuer'"
bad_case "a key only the user entry may set" '{"insecure-skip-tls-verify": true}' \
	"insecure-skip-tls-verify may be set only in the user entry"
bad_case "the client secret" '{"oidc-client-secret": "s"}' "oidc-client-secret"
bad_case "a program to run" '{"browser-command": "sh"}' "browser-command"
bad_case "a weaker policy" '{"fido2": "off"}' "fido2"
bad_case "a wrong type" '{"oidc-issuer-url": ["x"]}' "oidc-issuer-url takes a string"
bad_case "not an object" '"oidc"' "not an object"
check "no bad extension reached an IdP" \
	'[ "$(wc -l <"$IDP_A_LOG")" -eq "$before_a" ] && [ "$(wc -l <"$IDP_B_LOG")" -eq "$before_b" ]'
write_clusters "$T/kc-bad" "$KMFA" "$EXT_A" "$EXT_B" \
	"$(jq -n -c --arg i "$IDP_B" '{"oidc-issuer": $i, "oidc-client-id": "kubectl"}')"
kc "$T/kc-bad" --context c get --raw /version; rc=$?
check "through kubectl, a misspelt key fails the call with the plugin's line" \
	'[ $rc -ne 0 ] && grep -q "unknown key .oidc-issuer." "$T/kc.err" && ! grep -q gitVersion "$T/kc.out"'

# 5. Several accounts at one issuer and client: --oidc-login-hint is sent
# as login_hint and names the account in the identity.
ACC=(get-token --oidc-issuer-url "$IDP_A" --oidc-client-id kubectl
	--certificate-authority "$CA" --fido2 off --token-cache-storage disk
	--browser-command "$KMFA_BROWSER")
write_kubeconfig "$T/kc-alice" "$API_A" v1 -- "$KMFA" "${ACC[@]}" --oidc-login-hint alice
write_kubeconfig "$T/kc-bob" "$API_A" v1 -- "$KMFA" "${ACC[@]}" --oidc-login-hint bob
n0=$(entries)
KMFA_TEST_LOGIN=alice kc "$T/kc-alice" get --raw /version; ra=$?
KMFA_TEST_LOGIN=bob kc "$T/kc-bob" get --raw /version; rb=$?
check "two accounts at one issuer and client: two logins, two entries" \
	'[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ "$(entries)" -eq $((n0 + 2)) ]'
check "the IdP received login_hint alice, then bob" \
	'[ "$(jq -r "select(.path == \"/device/auth\" and .login_hint != null) | .login_hint" "$IDP_A_LOG" | tr "\n" " ")" = "alice bob " ]'
# account_entry LINE: the cache file whose identity has that line.
account_entry() { grep -lF -- "$1" "$CACHE"/*.json 2>/dev/null; }
FAL=$(account_entry '\naccount:5:alice\n') FBO=$(account_entry '\naccount:3:bob\n')
check "each account's entry names it in the identity and holds its own sub" \
	'[ "$(wc -w <<<"$FAL")" -eq 1 ] && [ "$(wc -w <<<"$FBO")" -eq 1 ] &&
	 [ "$(iss_of "$FAL")" = "$IDP_A" ] && [ "$(iss_of "$FBO")" = "$IDP_A" ] &&
	 [ "$(jwt_json "$(jq -r .token "$FAL")" | jq -r .sub)" = alice ] &&
	 [ "$(jwt_json "$(jq -r .token "$FBO")" | jq -r .sub)" = bob ]'
before_a=$(wc -l <"$IDP_A_LOG")
KMFA_TEST_LOGIN=nobody kc "$T/kc-alice" get --raw /version; ra=$?
cp "$T/kc.out" "$T/alice.out"
KMFA_TEST_LOGIN=nobody kc "$T/kc-bob" get --raw /version; rb=$?
check "each account is then served from its own entry (no IdP request)" \
	'[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ "$(wc -l <"$IDP_A_LOG")" -eq "$before_a" ]'
for who in alice bob; do
	KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}' \
		expect_exit 0 "$KMFA" "${ACC[@]}" --oidc-login-hint "$who"
	check "get-token --oidc-login-hint $who hands out $who's token (sub)" \
		'[ "$(jwt_json "$(jq -r .status.token <<<"$OUT")" | jq -r .sub)" = "$who" ]'
done
check "the API server saw both users" \
	'jq -r "select(.authorized) | .user" "$API_A_LOG" | grep -qx alice &&
	 jq -r "select(.authorized) | .user" "$API_A_LOG" | grep -qx bob'

# 6. status --all tells the two accounts apart.
expect_exit 0 "$KMFA" status --all --token-cache-storage disk
check "status --all lists both accounts with their subjects" \
	'grep -q "^account:   alice$" "$T/out" && grep -q "^account:   bob$" "$T/out" &&
	 grep -q "^subject:   alice$" "$T/out" && grep -q "^subject:   bob$" "$T/out"'
expect_exit 0 "$KMFA" status --all --json --token-cache-storage disk
check "status --all --json has the account of each entry" \
	'[ "$(jq -r "[.[] | .account // empty] | sort | join(\",\")" <<<"$OUT")" = "alice,bob" ]'
expect_exit 0 "$KMFA" status --oidc-issuer-url "$IDP_A" --oidc-client-id kubectl \
	--certificate-authority "$CA" --fido2 off --token-cache-storage disk --oidc-login-hint bob
check "status for one account finds that account's entry" \
	'grep -q "^account:   bob$" "$T/out" && grep -q "^subject:   bob$" "$T/out"'

# 7. The account can come from the cluster too: cluster c (a's API
# server) names bob; the entry is bob's, served without a login.
EXT_C=$(jq -n -c --arg i "$IDP_A" --arg ca "$CA" \
	'{"oidc-issuer-url": $i, "oidc-client-id": "kubectl", "certificate-authority": $ca,
	  "oidc-login-hint": "bob"}')
write_clusters "$T/kc-c" "$KMFA" "$EXT_A" "$EXT_B" "$EXT_C"
before_a=$(wc -l <"$IDP_A_LOG")
KMFA_TEST_LOGIN=nobody kc "$T/kc-c" --context c get --raw /version
check "a cluster's extension may name the account: bob's entry answers, no login" \
	'grep -q gitVersion "$T/kc.out" && [ "$(wc -l <"$IDP_A_LOG")" -eq "$before_a" ] &&
	 [ "$(jq -s -r "[.[] | select(.authorized)] | last | .user" "$API_A_LOG")" = bob ]'

# 8. The shipped example's exec extensions are ones the plugin takes: with
# nothing cached and nobody present, each ends at "nobody to log in"
# (exit 3), naming its own cluster's issuer and account in the command.
KUBECTL=$(ls /usr/lib/google-cloud-sdk/bin/kubectl.1.[0-9]* 2>/dev/null | sort -V | tail -1)
KUBECTL=${KUBECTL:-$(command -v kubectl)}
"$KUBECTL" config view --kubeconfig "$KMFA_SRC/kubeconfig.example" -o json >"$T/ex.json" ||
	die "kubectl cannot load kubeconfig.example"
n=0
while IFS=$'\t' read -r name ext; do
	n=$((n + 1))
	ei=$(jq -n -c --argjson e "$ext" '{apiVersion: "client.authentication.k8s.io/v1",
		kind: "ExecCredential", spec: {interactive: false,
		cluster: {server: "https://127.0.0.1:1", config: $e}}}')
	KUBERNETES_EXEC_INFO=$ei expect_exit 3 "$KMFA" get-token --fido2=off \
		--token-cache-storage=disk --token-cache-dir "$T/empty-cache"
	iss=$(jq -r '."oidc-issuer-url"' <<<"$ext") hint=$(jq -r '."oidc-login-hint" // ""' <<<"$ext")
	check "kubeconfig.example cluster $name: its exec extension is taken (exit 3, its issuer in the login command)" \
		'contains "$ERR" "nobody to log in" && contains "$ERR" "--oidc-issuer-url=$iss" &&
		 { [ -z "$hint" ] || contains "$ERR" "--oidc-login-hint=$hint"; }'
done < <(jq -r --arg x "$EXT" '.clusters[] | . as $c | .cluster.extensions // [] | .[] |
	select(.name == $x) | [$c.name, (.extension | tojson)] | @tsv' "$T/ex.json")
check "kubeconfig.example shows exec extensions ($n)" '[ "$n" -ge 2 ]'

finish

#!/usr/bin/env bash
# make demo: the whole story on the embedded default, narrated.  A local
# IdP (oidc-provider), an API server that checks tokens as kube-apiserver
# does, the project's software security key, and the real kubectl, all in a
# private temporary world (your own HOME, kubeconfig and keyring are never
# touched).  The "browser" that approves the device-flow login, and the one
# that does the browser login, are scripts.
set -u
. "$(dirname "$0")/lib.sh"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then B=$'\e[1m' C=$'\e[36m' R=$'\e[0m'; else B= C= R=; fi
step() { printf '\n%s==> %s%s\n' "$B$C" "$*" "$R"; }
say() { printf '    %s\n' "$*"; }
show() { printf '%s$ %s%s\n' "$B" "$*" "$R"; }
fail() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }

step "Starting the embedded default: a local IdP, an API server, a software security key"
start_idp --id-token-ttl 45 >/dev/null
start_apiserver >/dev/null
start_softkey yubikey --touch-delay 700 >/dev/null
browser_env alice
say "IdP (oidc-provider, device flow):  $IDP_URL"
say "API server (trusts that IdP):      $API_URL"
say "security key (CTAP2 over a socket): $SOFTKEY_DEV"
say "ID tokens live 45 s here so that you can watch one expire."

export PATH=$KMFA_BUILD/bin:$PATH
ARGS=(get-token --oidc-issuer-url="$IDP_URL" --oidc-client-id=kubectl
	--certificate-authority="$T/pki/ca.pem" --fido2-device="$SOFTKEY_DEV"
	--token-cache-storage=disk --browser-command="$KMFA_BROWSER")
write_kubeconfig "$T/kubeconfig" "$API_URL" v1 -- kubectl-mfa "${ARGS[@]}"
export KUBECONFIG=$T/kubeconfig
# Here /usr/bin/kubectl is the Cloud SDK's version dispatcher, which runs
# the exec plugin even for `kubectl config view`; the demo talks to a plain
# kubectl binary beside it, as a user's kubectl would behave.
KUBECTL=$(ls /usr/lib/google-cloud-sdk/bin/kubectl.1.[0-9]* 2>/dev/null | sort -V | tail -1)
KUBECTL=${KUBECTL:-$(command -v kubectl)}
[ -n "$KUBECTL" ] || fail "no kubectl on this machine"
mkdir -p "$T/kbin" && ln -sf "$KUBECTL" "$T/kbin/kubectl"
export PATH=$T/kbin:$PATH

# kubectl needs a terminal for a login (nobody present means exit 3); give
# it one when the demo itself runs without.
run() {
	show "$*"
	if [ -t 0 ] && [ -t 2 ]; then "$@"; else script -qec "$(printf '%q ' "$@")" /dev/null </dev/null; fi
}

step "1. Enroll the security key (the software key stands in for a YubiKey)"
run kubectl-mfa enroll --name yubikey --fido2-device="$SOFTKEY_DEV" || fail "enroll failed"
run kubectl-mfa keys list

step "2. The kubeconfig's user runs kubectl-mfa as an exec credential plugin"
# Read from the file itself: nothing is asked of kubectl or the plugin yet.
jq '{users}' "$KUBECONFIG" | sed 's/^/    /'

step "3. First kubectl command: touch the key, then log in at the IdP (device flow)"
say "The browser is a script here: it approves the code as alice."
run kubectl get --raw /version || fail "the first kubectl call failed"
echo

step "3b. The same login in a browser (authorization code + PKCE, RFC 8252)"
say "For tenants that block the device flow: --grant-type=authcode (auto picks it"
say "on a desktop). The browser is a script again: it logs in and consents as"
say "alice, and the IdP sends it back to a one-shot listener on 127.0.0.1."
run kubectl-mfa login --oidc-issuer-url="$IDP_URL" --oidc-client-id=kubectl \
	--certificate-authority="$T/pki/ca.pem" --fido2-device="$SOFTKEY_DEV" \
	--token-cache-storage=disk --grant-type=authcode \
	--oidc-auth-request-extra-params=prompt=consent \
	--browser-command="$KMFA_SERVERS/browser-login.sh" || fail "the browser login failed"
say "Code exchanges at the IdP: $(idp_count /token authorization_code); device logins: $(idp_count /device/auth)"

step "4. Second kubectl command: answered from the cache, no touch, no IdP"
before=$(wc -l <"$IDP_LOG")
start_ns=$(date +%s%N)
run kubectl get namespaces || fail "the second kubectl call failed"
say "IdP requests during that command: $(( $(wc -l <"$IDP_LOG") - before ))"
show "time kubectl-mfa ${ARGS[*]:0:1} ...   (the plugin alone, from the cache)"
t0=$(date +%s%N); kubectl-mfa "${ARGS[@]}" >/dev/null; t1=$(date +%s%N)
say "$(( (t1 - t0) / 1000 )) µs"

step "5. Status: what is cached, for how long, and is the refresh token sealed?"
run kubectl-mfa status --oidc-issuer-url="$IDP_URL" --oidc-client-id=kubectl --token-cache-storage=disk
show "grep -c <the refresh token> <cache file>"
say "The cached refresh token is a sealed envelope: $(jq -r .refresh "$(ls "$XDG_CACHE_HOME"/kubectl-mfa/*.json)" | cut -c1-24)..."

step "6. The ID token expires (45 s at this IdP, less the 30 s skew)"
until ! kubectl-mfa status --oidc-issuer-url="$IDP_URL" --oidc-client-id=kubectl --token-cache-storage=disk >/dev/null 2>&1; do
	printf '\r    waiting for expiry...'
	sleep 1
done
printf '\r    the cached token is no longer handed out.\n'
run kubectl get --raw /version >/dev/null || fail "the refresh failed"
say "A touch, then a refresh with the sealed refresh token: no device flow this time."
say "Device-flow logins at the IdP: $(idp_count /device/auth); refreshes: $(idp_count /token refresh_token)"

step "7. Nobody present (CI, no terminal): no waiting, exit 3 with the command to run"
show "CI=true kubectl-mfa login ..."
CI=true kubectl-mfa login --oidc-issuer-url="$IDP_URL" --oidc-client-id=kubectl \
	--certificate-authority="$T/pki/ca.pem" --token-cache-storage=disk </dev/null
say "exit code: $?"

step "8. Log out"
run kubectl-mfa logout --oidc-issuer-url="$IDP_URL" --oidc-client-id=kubectl \
	--certificate-authority="$T/pki/ca.pem" --token-cache-storage=disk
show "tail -n 4 audit.log"
tail -n 4 "$XDG_STATE_HOME/kubectl-mfa/audit.log" | sed 's/^/    /'

step "9. The cluster demands the touch: a TokenReview webhook checks a proof bound to each token"
say "kubectl-mfa --server-proof prints the ID token with two assertions of the key: the"
say "touch, and a silent one over this very token.  The API server asks kubectl-mfa-webhook."
WHD=$T/webhook; RUNAS=()
if [ "$(id -u)" -eq 0 ]; then   # the webhook drops root: give it a folder it can read
	WHD=$(mktemp -d /tmp/kmfa-demo-wh.XXXXXX) && chmod 755 "$WHD"; RUNAS=(--user nobody)
	at_exit "rm -rf '$WHD'"
fi
mkdir -p "$WHD/registry" && chmod 755 "$WHD/registry" && cp "$T/pki/ca.pem" "$WHD/ca.pem"
show "kubectl-mfa keys export alice > registry/alice.json"
kubectl-mfa keys export alice >"$WHD/registry/alice.json" || fail "keys export failed"
start_server webhook "$KMFA_BUILD/bin/kubectl-mfa-webhook" --issuer "$IDP_URL" \
	--audience kubectl --certificate-authority "$WHD/ca.pem" --registry "$WHD/registry" \
	--tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" --port 0 "${RUNAS[@]}"
WH_URL=$(jq -r .url <<<"$REPLY")/authenticate
start_apiserver --webhook "$WH_URL" >/dev/null
say "webhook: $WH_URL; API server asking it: $API_URL"
write_kubeconfig "$T/kubeconfig-proof" "$API_URL" v1 -- kubectl-mfa "${ARGS[@]}" --server-proof
run kubectl --kubeconfig "$T/kubeconfig-proof" get namespaces || fail "the proof was refused"
say "Now a token from the same IdP obtained WITHOUT the key (--fido2 off):"
script -qec "$(printf '%q ' kubectl-mfa get-token --oidc-issuer-url="$IDP_URL" \
	--oidc-client-id=kubectl --certificate-authority="$T/pki/ca.pem" --fido2=off \
	--token-cache-storage=none --browser-command="$KMFA_BROWSER")" /dev/null </dev/null |
	tr -d '\r' | grep '^{' >"$T/nokey.json"
NOKEY=$(jq -r .status.token "$T/nokey.json")
[ -n "$NOKEY" ] && [ "$NOKEY" != null ] || fail "no token without the key"
write_kubeconfig "$T/kubeconfig-bare" "$API_URL" v1 --
show "kubectl --token <that ID token> get namespaces"
kubectl --kubeconfig "$T/kubeconfig-bare" --token "$NOKEY" get namespaces >"$T/nokey.out" 2>&1 &&
	fail "the cluster accepted a token obtained without the key"
sed 's/^/    /' "$T/nokey.out"
say "Refused.  The webhook says why: $(grep -o '"reason":"no proof[^"]*"' "$T/webhook.log" | tail -1)"

step "Done. Everything ran in $T, removed now."

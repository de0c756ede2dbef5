#!/usr/bin/env bash
# `setup`, end to end: against the real IdP it reports its checks on stderr
# and prints a users[] entry that kubectl itself parses; with --kubeconfig
# it writes the entry into an existing kubeconfig (everything else kept,
# mode kept, replaced by rename) and real kubectl then works through it.
# The entry's command is the front's absolute path (--exec-command NAME
# writes another), and the kuberc that allows it under kubectl 1.35's
# credential plugin policy is printed on stderr, in YAML kubectl parses.
# Against a discovery document without a device endpoint, or an issuer
# that does not answer, it fails with exit 5 and says why.
. "$(dirname "$0")/../lib.sh"

start_idp --id-token-ttl 600
start_apiserver
browser_env alice
export PATH=$KMFA_BUILD/bin:$PATH

BASE=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem")
# The command setup writes: the front beside the core, links resolved.
FRONT=$(realpath "$KMFA")

# 1. The checks go to stderr, the entry to stdout, and kubectl reads it.
expect_exit 0 "$KMFA" setup "${BASE[@]}"
check "setup against the IdP exits 0" [ "$RC" -eq 0 ]
check "setup reports discovery, device endpoint and JWKS as ok on stderr" \
	'contains "$ERR" "ok:      discovery: issuer $IDP_URL matches" &&
	 contains "$ERR" "ok:      device authorization: $IDP_URL/device/auth" &&
	 contains "$ERR" "JWKS: 1 usable signing key" && ! contains "$ERR" "problem:"'
printf '%s\n' "$OUT" >"$T/entry.yaml"
check "stdout is a users[] entry that kubectl parses" \
	'entry_users "$T/entry.yaml" >"$T/users.json" && [ "$(jq length "$T/users.json")" -eq 1 ]'
check "the entry runs the front by its absolute path (client.authentication.k8s.io/v1, IfAvailable, no cluster info)" \
	'jq -e --arg front "$FRONT" ".[0].user.exec | .command == \$front and
		.apiVersion == \"client.authentication.k8s.io/v1\" and
		.interactiveMode == \"IfAvailable\" and .provideClusterInfo == false" \
		"$T/users.json" >/dev/null'
check "the entry's args are get-token and the options given" \
	'[ "$(jq -c ".[0].user.exec.args" "$T/users.json")" = "$(json_args get-token \
		"--oidc-issuer-url=$IDP_URL" --oidc-client-id=kubectl \
		"--certificate-authority=$T/pki/ca.pem")" ]'

# 2. Arguments that YAML, CSV or a shell would mangle come back unchanged.
mkdir -p "$T/odd, dir"
ODD=(--oidc-extra-scope groups
	--oidc-auth-request-extra-params 'acr_values=urn:a,urn:b "q" #x: y'
	--token-cache-dir "$T/odd, dir/cache" --token-cache-storage disk --fido2 off
	--browser-command "$KMFA_BROWSER" --skew 45s --require-amr "it's")
ODD_ARGS=$(json_args get-token "--oidc-issuer-url=$IDP_URL" --oidc-client-id=kubectl \
	--oidc-extra-scope=groups \
	'--oidc-auth-request-extra-params=acr_values=urn:a,urn:b "q" #x: y' \
	"--certificate-authority=$T/pki/ca.pem" --token-cache-storage=disk \
	"--token-cache-dir=$T/odd, dir/cache" --fido2=off --skew=45s \
	"--browser-command=$KMFA_BROWSER" "--require-amr=it's")
expect_exit 0 "$KMFA" setup "${BASE[@]}" "${ODD[@]}"
printf '%s\n' "$OUT" >"$T/odd.yaml"
check "printed entry: args with commas, quotes, colons and spaces round-trip" \
	'[ "$(entry_users "$T/odd.yaml" | jq -c ".[0].user.exec.args")" = "$ODD_ARGS" ]'

# 3. A client secret is never written.
expect_exit 0 "$KMFA" setup "${BASE[@]}" --oidc-client-secret 'not-for-files-5ecret'
check "--oidc-client-secret: not in the printed entry, and a warning says so" \
	'! contains "$OUT" "5ecret" && contains "$ERR" "is not written into the entry" &&
	 ! contains "$ERR" "5ecret"'

# 4. --kubeconfig FILE --user NAME writes into a kubeconfig made by
# write_kubeconfig: its own user stays, clusters and contexts stay.
KC=$T/kc
write_kubeconfig "$KC" "$API_URL" v1 --
chmod 640 "$KC"
kc_json "$KC" >"$T/before.json"
ino_before=$(stat -c %i "$KC")
expect_exit 0 "$KMFA" setup "${BASE[@]}" --fido2 off --token-cache-storage disk \
	--browser-command "$KMFA_BROWSER" --kubeconfig "$KC" --user alice \
	--oidc-client-secret 'not-for-files-5ecret'
check "setup --kubeconfig --user exits 0, prints nothing on stdout, names the user on stderr" \
	'[ "$RC" -eq 0 ] && [ -z "$OUT" ] && contains "$ERR" "wrote user '"'"'alice'"'"' into $KC"'
kc_json "$KC" >"$T/after.json"
check "everything but the new user is unchanged (clusters, contexts, current-context, user test)" \
	'[ "$(jq -S "del(.users)" "$T/before.json")" = "$(jq -S "del(.users)" "$T/after.json")" ] &&
	 [ "$(jq -S -c "[.users[] | select(.name != \"alice\")]" "$T/after.json")" = \
	   "$(jq -S -c ".users" "$T/before.json")" ]'
check "the user entry has the exec command, interactiveMode and args" \
	'[ "$(jq -c ".users[] | select(.name == \"alice\") | .user.exec |
		[.command, .apiVersion, .interactiveMode, .args]" "$T/after.json")" = \
	   "$(jq -c -n --argjson a "$(json_args get-token "--oidc-issuer-url=$IDP_URL" \
		--oidc-client-id=kubectl "--certificate-authority=$T/pki/ca.pem" \
		--token-cache-storage=disk --fido2=off "--browser-command=$KMFA_BROWSER")" \
		--arg front "$FRONT" \
		"[\$front, \"client.authentication.k8s.io/v1\", \"IfAvailable\", \$a]")" ]'
check "the client secret is not in the kubeconfig" '! grep -q 5ecret "$KC"'
check "the kubeconfig keeps its mode (640)" [ "$(stat -c %a "$KC")" = 640 ]
check "the kubeconfig was replaced by rename (new inode), no temporary files left" \
	'[ "$(stat -c %i "$KC")" != "$ino_before" ] &&
	 [ -z "$(find "$T" -maxdepth 1 -name "kc?*" ! -name kc.out ! -name kc.err)" ]'

# Real kubectl through the written user: the command by its absolute path.
script -qec "$(printf '%q ' kubectl --kubeconfig "$KC" --user alice \
	--cache-dir "$T/kcache" get --raw /version) >$T/kc.out 2>$T/kc.err" \
	/dev/null >/dev/null </dev/null
check "real kubectl works through the written user (device flow, then the API server)" \
	'grep -q gitVersion "$T/kc.out" &&
	 [ "$(jq -s "[.[] | select(.path == \"/version\" and .authorized)] | length" "$API_LOG")" -ge 1 ]'
check "the API server authenticated alice" \
	'jq -e -s "any(.[]; .authorized and .user == \"alice\")" "$API_LOG" >/dev/null'

# Writing the same user again replaces it; no second entry.
expect_exit 0 "$KMFA" setup "${BASE[@]}" --fido2 off --kubeconfig "$KC" --user alice
check "setup again for the same user replaces the entry" \
	'[ "$(kc_json "$KC" | jq "[.users[] | select(.name == \"alice\")] | length")" -eq 1 ] &&
	 kc_json "$KC" | jq -e ".users[] | select(.name == \"alice\") | .user.exec.args |
		index(\"--token-cache-storage=disk\") == null" >/dev/null'

# Arguments kubectl's --exec-arg would split (it reads its value as CSV).
expect_exit 0 "$KMFA" setup "${BASE[@]}" "${ODD[@]}" --kubeconfig "$KC" --user odd
got=$(kc_json "$KC" | jq -c '.users[] | select(.name == "odd") | .user.exec.args')
if [ "$RC" -eq 0 ] && [ "$got" = "$ODD_ARGS" ]; then
	ok "written entry: args with commas, quotes, colons and spaces round-trip"
else
	not_ok "written entry: args with commas, quotes, colons and spaces round-trip" \
		"exit $RC, args ${got:-none}; $(tail -1 <<<"$ERR")"
fi

# Only a comma (no quote, which kubectl would refuse): must not be split.
expect_exit 0 "$KMFA" setup "${BASE[@]}" --oidc-auth-request-extra-params acr_values=a,b \
	--kubeconfig "$KC" --user comma
got=$(kc_json "$KC" | jq -c '.users[] | select(.name == "comma") | .user.exec.args')
want=$(json_args get-token "--oidc-issuer-url=$IDP_URL" --oidc-client-id=kubectl \
	--oidc-auth-request-extra-params=acr_values=a,b "--certificate-authority=$T/pki/ca.pem")
if [ "$RC" -eq 0 ] && [ "$got" = "$want" ]; then
	ok "written entry: an argument with a comma stays one argument"
else
	not_ok "written entry: an argument with a comma stays one argument" "exit $RC, args ${got:-none}"
fi

# A kubeconfig that does not exist yet is created private.
mkdir -p "$T/new"
expect_exit 0 "$KMFA" setup "${BASE[@]}" --kubeconfig "$T/new/config" --user bob
check "a new kubeconfig file is created with mode 600 and the user" \
	'[ "$(stat -c %a "$T/new/config")" = 600 ] &&
	 [ "$(kc_json "$T/new/config" | jq -r ".users[0].name")" = bob ]'

# 5. A discovery document without a device endpoint: exit 5, one line
# naming the problem, nothing printed or written.
start_stub_idp no_device_endpoint
cp "$KC" "$T/kc.keep"
expect_exit 5 "$KMFA" setup --oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl \
	--certificate-authority "$T/pki/ca.pem" --kubeconfig "$KC" --user stub
check "no device_authorization_endpoint: exit 5" [ "$RC" -eq 5 ]
check "no device_authorization_endpoint: the last line names it, the checks say problem" \
	'contains "$(tail -1 <<<"$ERR")" "kubectl-mfa: $STUB_URL is not usable: the issuer advertises no device_authorization_endpoint" &&
	 contains "$ERR" "problem: the issuer advertises no device_authorization_endpoint"'
check "no device_authorization_endpoint: nothing on stdout, the kubeconfig unchanged" \
	'[ -z "$OUT" ] && cmp -s "$KC" "$T/kc.keep"'

# 6. An issuer that does not answer: exit 5, one line.  The port was just
# free: bound and released by the kernel for a listener that closed.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 1)
expect_exit 5 "$KMFA" setup --oidc-issuer-url "https://127.0.0.1:$port" \
	--oidc-client-id kubectl --certificate-authority "$T/pki/ca.pem"
check "an unreachable issuer: exit 5 with one line, nothing on stdout" \
	'[ "$RC" -eq 5 ] && one_line "$ERR" && [ -z "$OUT" ] && contains "$ERR" "127.0.0.1:$port"'

# 7. Usage errors: exit 2, one line.
expect_exit 2 "$KMFA" setup "${BASE[@]}" --kubeconfig "$KC"
check "--kubeconfig without --user: exit 2 with one line" \
	'[ "$RC" -eq 2 ] && one_line "$ERR" && contains "$ERR" "--user"'
expect_exit 2 "$KMFA" setup "${BASE[@]}" --user alice
check "--user without --kubeconfig: exit 2 with one line" \
	'[ "$RC" -eq 2 ] && one_line "$ERR" && contains "$ERR" "--kubeconfig"'
expect_exit 2 "$KMFA" setup --oidc-client-id kubectl
check "setup without --oidc-issuer-url: exit 2 with one line" \
	'[ "$RC" -eq 2 ] && one_line "$ERR" && contains "$ERR" "--oidc-issuer-url"'
check "the kubeconfig is still unchanged after the failures" cmp -s "$KC" "$T/kc.keep"

# 8. kubectl 1.35's credential plugin policy.  The kuberc setup prints is
# judged by kubectl itself: this machine's newest kubectl knows kuberc
# (alpha, kubectl.config.k8s.io/v1alpha1, since 1.33) but not the policy
# fields (1.35, v1beta1), so under v1alpha1 its strict decoding must parse
# the YAML and name exactly the two policy fields as the ones it does not
# know: valid YAML, those keys, nothing else.
KUBECTL_RC=$(ls /usr/lib/google-cloud-sdk/bin/kubectl.1.[0-9]* 2>/dev/null | sort -V | tail -1)
KUBECTL_RC=${KUBECTL_RC:-$(command -v kubectl)}
# kuberc_of FILE: the kuberc in setup's stderr FILE, unindented.
kuberc_of() { sed -n '/^  kuberc: /,$ { /^    /s/^    //p }' "$1"; }
# kuberc_fields FILE: the fields kubectl's strict decoding of the kuberc
# FILE (made v1alpha1) does not know, sorted, one line; "unparsed" when
# it found no preferences in it at all.
kuberc_fields() {
	sed 's|^apiVersion: kubectl.config.k8s.io/v1beta1$|apiVersion: kubectl.config.k8s.io/v1alpha1|' \
		"$1" >"$1.v1alpha1"
	KUBECTL_KUBERC=true "$KUBECTL_RC" --kuberc "$1.v1alpha1" -v=5 version --client \
		>"$1.out" 2>&1
	if grep -q "no valid preferences" "$1.out"; then echo unparsed; return; fi
	grep -o 'unknown field "[A-Za-z]*"' "$1.out" | sort -u | tr '\n' ' '
}
expect_exit 0 "$KMFA" setup "${BASE[@]}"
kuberc_of "$T/err" >"$T/kuberc"
check "setup prints a kuberc on stderr: policy Allowlist, the front's absolute path allowed" \
	'[ "$(cat "$T/kuberc")" = "$(printf "%s\n" "apiVersion: kubectl.config.k8s.io/v1beta1" \
		"kind: Preference" "credentialPluginPolicy: Allowlist" \
		"credentialPluginAllowlist:" "- name: \"$FRONT\"")" ] && [ "$OUT" != "" ] &&
	 ! contains "$OUT" kuberc'
got=$(kuberc_fields "$T/kuberc")
check "kubectl ($(basename "$KUBECTL_RC")) parses that kuberc; the fields it does not know yet are the policy's ($got)" \
	'[ "$got" = "unknown field \"credentialPluginAllowlist\" unknown field \"credentialPluginPolicy\" " ]'
# The judge can fail: a kuberc with its list indented wrong, or a misspelt field.
printf 'apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Allowlist\n  credentialPluginAllowlist:\n- name: x\n' >"$T/bad.kuberc"
printf 'apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Allowlist\ncredentialPluginAllowList:\n- name: x\n' >"$T/typo.kuberc"
check "the kuberc check refuses a broken kuberc and a misspelt field" \
	'[ "$(kuberc_fields "$T/bad.kuberc")" = unparsed ] &&
	 [ "$(kuberc_fields "$T/typo.kuberc")" != "$got" ]'

# --exec-command keeps a bare name (kubectl looks it up on PATH), in the
# printed entry, the written one and the kuberc alike.
expect_exit 0 "$KMFA" setup "${BASE[@]}" --exec-command kubectl-mfa
printf '%s\n' "$OUT" >"$T/bare.yaml"
kuberc_of "$T/err" >"$T/bare.kuberc"
check "--exec-command kubectl-mfa: the printed entry's command and the kuberc's name are the bare name" \
	'[ "$(entry_users "$T/bare.yaml" | jq -r ".[0].user.exec.command")" = kubectl-mfa ] &&
	 [ "$(tail -1 "$T/bare.kuberc")" = "- name: \"kubectl-mfa\"" ]'
expect_exit 0 "$KMFA" setup "${BASE[@]}" --exec-command kubectl-mfa --kubeconfig "$KC" --user bare
check "--exec-command kubectl-mfa: the written entry's command is the bare name" \
	'[ "$(kc_json "$KC" | jq -r ".users[] | select(.name == \"bare\") | .user.exec.command")" = kubectl-mfa ]'

# Through a symbolic link to the front, the command is still the real
# front: the file that runs, whatever link kubectl was given.
mkdir -p "$T/links" && ln -s "$KMFA" "$T/links/kubectl-mfa"
expect_exit 0 "$T/links/kubectl-mfa" setup "${BASE[@]}"
printf '%s\n' "$OUT" >"$T/link.yaml"
check "run through a symbolic link, setup writes the front's real path" \
	'[ "$(entry_users "$T/link.yaml" | jq -r ".[0].user.exec.command")" = "$FRONT" ]'

# A core with no front beside it cannot name one: exit 2 before any
# request, one line pointing at --exec-command, which then works.
mkdir -p "$T/lonely/libexec/kubectl-mfa"
cp "$KMFA_CORE" "$T/lonely/libexec/kubectl-mfa/kubectl-mfa-core"
before=$(wc -l <"$IDP_LOG")
expect_exit 2 "$T/lonely/libexec/kubectl-mfa/kubectl-mfa-core" setup "${BASE[@]}"
check "no front beside the core: exit 2, one line naming --exec-command, no request to the IdP" \
	'[ "$RC" -eq 2 ] && one_line "$ERR" && contains "$ERR" "--exec-command" &&
	 [ -z "$OUT" ] && [ "$(wc -l <"$IDP_LOG")" -eq "$before" ]'
expect_exit 0 "$T/lonely/libexec/kubectl-mfa/kubectl-mfa-core" setup "${BASE[@]}" \
	--exec-command /opt/kmfa/bin/kubectl-mfa
printf '%s\n' "$OUT" >"$T/lonely.yaml"
check "no front beside the core, --exec-command PATH: that path is the command" \
	'[ "$(entry_users "$T/lonely.yaml" | jq -r ".[0].user.exec.command")" = /opt/kmfa/bin/kubectl-mfa ]'

finish

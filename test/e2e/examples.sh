#!/usr/bin/env bash
# Every example file the project ships is what it claims to be: real
# kubectl loads it, and each exec entry's arguments are ones the plugin
# accepts (parsed by the plugin itself, so a renamed option fails here).
. "$(dirname "$0")/../lib.sh"

# A plain kubectl binary: /usr/bin/kubectl may be the Cloud SDK's version
# dispatcher, which runs exec plugins even for `config view`.
KUBECTL=$(ls /usr/lib/google-cloud-sdk/bin/kubectl.1.[0-9]* 2>/dev/null | sort -V | tail -1)
KUBECTL=${KUBECTL:-$(command -v kubectl)}
[ -n "$KUBECTL" ] || die "no kubectl on this machine"

examples=$(cd "$KMFA_SRC" && git ls-files 2>/dev/null | grep -E '(^|/)kubeconfig[^/]*\.example$|\.kubeconfig\.ya?ml$')
examples=${examples:-kubeconfig.example}
n=0
for ex in $examples; do
	f=$KMFA_SRC/$ex
	n=$((n + 1))
	"$KUBECTL" config view --kubeconfig "$f" -o json >"$T/view.json" 2>"$T/view.err"
	rc=$?
	check "$ex: kubectl $("$KUBECTL" version --client -o json 2>/dev/null | jq -r .clientVersion.gitVersion) loads it (rc $rc$( [ -s "$T/view.err" ] && printf ': %s' "$(head -1 "$T/view.err")"))" \
		'[ "$rc" -eq 0 ] && [ ! -s "$T/view.err" ]'
	users=$(jq -r '.users[] | select(.user.exec != null) | .name' "$T/view.json" 2>/dev/null)
	check "$ex: it has exec users ($(printf '%s ' $users))" '[ -n "$users" ]'
	for u in $users; do
		cmd=$(jq -r --arg u "$u" '.users[] | select(.name == $u) | .user.exec.command' "$T/view.json")
		mapfile -t args < <(jq -r --arg u "$u" '.users[] | select(.name == $u) | .user.exec.args[]' "$T/view.json")
		check "$ex: user $u runs kubectl-mfa ($cmd)" '[ "$(basename "$cmd")" = kubectl-mfa ]'
		# --help after the entry's own arguments: exit 0 only if every
		# one of them parses for that command.
		"$KMFA" "${args[@]}" --help >/dev/null 2>"$T/args.err"
		rc=$?
		check "$ex: user $u: the plugin accepts its arguments (${args[0]} ..., rc $rc$( [ -s "$T/args.err" ] && printf ': %s' "$(head -1 "$T/args.err")"))" '[ "$rc" -eq 0 ]'
	done
done
# The check itself can fail: a kubeconfig with the old placeholder.
sed 's|certificate-authority: .*|certificate-authority-data: LS0tLS1CRUdJTi...|' \
	"$KMFA_SRC/kubeconfig.example" >"$T/bad.example"
"$KUBECTL" config view --kubeconfig "$T/bad.example" >/dev/null 2>&1
rc=$?
check "a placeholder that is not base64 is refused by kubectl (rc $rc)" '[ "$rc" -ne 0 ]'
"$KMFA" get-token --oidc-issuer-url=https://x --no-such-option --help >/dev/null 2>&1
rc=$?
check "an unknown option in an entry's arguments is refused (rc $rc)" '[ "$rc" -eq 2 ]'
check "at least one example was checked ($n)" '[ "$n" -ge 1 ]'
finish

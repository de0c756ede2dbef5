#!/usr/bin/env bash
# `make install` into a temporary prefix, then kubectl-mfa as a person gets
# it: `kubectl mfa` through kubectl's plugin discovery, the installed front
# answering from the cache and finding the installed core, the man page,
# and bash completion (for kubectl-mfa and for `kubectl mfa`).  Also
# DESTDIR staging and uninstall.
. "$(dirname "$0")/../lib.sh"

P=$T/prefix
COMP=$P/share/bash-completion/completions/kubectl-mfa
mk() { make -C "$KMFA_SRC" BUILD="$KMFA_BUILD" "$@"; }

mk install PREFIX="$P" >"$T/make.log" 2>&1
check "make install PREFIX=\$T/prefix succeeds" [ $? -eq 0 ]
check "make install reuses the build (nothing compiled or linked)" \
	'! grep -qE "^  (CC|LD) " "$T/make.log"'
check "installed: front, core, man page and completion with their modes" \
	'[ "$(stat -c %a "$P/bin/kubectl-mfa")" = 755 ] &&
	 [ "$(stat -c %a "$P/libexec/kubectl-mfa/kubectl-mfa-core")" = 755 ] &&
	 [ "$(stat -c %a "$P/share/man/man1/kubectl-mfa.1")" = 644 ] &&
	 [ "$(stat -c %a "$COMP")" = 644 ]'
check "installed binaries are the build's" \
	'cmp -s "$P/bin/kubectl-mfa" "$KMFA" && cmp -s "$P/libexec/kubectl-mfa/kubectl-mfa-core" "$KMFA_CORE"'
check "make install installs kubectl_complete-mfa (completion for kubectl mfa)" \
	[ -x "$P/bin/kubectl_complete-mfa" ]

export PATH=$P/bin:$PATH
kubectl plugin list >"$T/plugins" 2>&1
check "kubectl plugin list shows the installed kubectl-mfa" grep -qx "$P/bin/kubectl-mfa" "$T/plugins"
expect_exit 0 kubectl mfa version
check "kubectl mfa version works through plugin discovery (front -> installed core)" \
	'[ "$OUT" = "$("$KMFA" version)" ]'
expect_exit 0 kubectl mfa status --help
check "kubectl mfa status --help reaches the plugin" contains "$OUT" "usage: kubectl-mfa status"

# A cached token, then `kubectl mfa get-token` answers from it; kubectl
# itself runs `command: kubectl-mfa` from PATH, the installed one.
start_idp --id-token-ttl 600
start_apiserver
browser_env alice
ARGS=(--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl --fido2 off
	--token-cache-storage disk --certificate-authority "$T/pki/ca.pem")
on_tty kubectl mfa login "${ARGS[@]}" --browser-command "$KMFA_BROWSER"
check "kubectl mfa login (installed core) logs in" grep -q "logged in as alice" "$T/tty.err"
before=$(wc -l <"$IDP_LOG")
KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}' \
	expect_exit 0 kubectl mfa get-token "${ARGS[@]}"
check "kubectl mfa get-token prints an ExecCredential from the cache" \
	'[ "$(jq -r ".kind + \" \" + .apiVersion" <<<"$OUT")" = "ExecCredential client.authentication.k8s.io/v1" ] &&
	 [ "$(jwt_json "$(jq -r .status.token <<<"$OUT")" | jq -r .sub)" = alice ] &&
	 [ "$(wc -l <"$IDP_LOG")" -eq "$before" ]'
write_kubeconfig "$T/kc" "$API_URL" v1 -- kubectl-mfa get-token "${ARGS[@]}"
kubectl --kubeconfig "$T/kc" --cache-dir "$T/kcache" get --raw /version >"$T/out" 2>"$T/err" </dev/null
check "kubectl with command: kubectl-mfa (found on PATH) reaches the API server" \
	grep -q gitVersion "$T/out"
# Without the core, the front still answers a cache hit: it is the front
# that did, not a core found elsewhere.
mv "$P/libexec/kubectl-mfa/kubectl-mfa-core" "$T/core.away"
expect_exit 0 kubectl mfa get-token "${ARGS[@]}"
check "the installed front answers a cache hit by itself" \
	'jq -e .status.token <<<"$OUT" >/dev/null'
expect_exit 1 kubectl mfa version
check "without the installed core, the front says what is missing (one line)" \
	'one_line "$ERR" && contains "$ERR" "kubectl-mfa-core"'
mv "$T/core.away" "$P/libexec/kubectl-mfa/kubectl-mfa-core"

# The man page.
if command -v man >/dev/null; then
	MANPAGER=cat MANWIDTH=200 man -M "$P/share/man" kubectl-mfa >"$T/man.txt" 2>"$T/man.err"
	rc=$?
	check "man -M \$T/prefix/share/man kubectl-mfa renders" \
		'[ $rc -eq 0 ] && grep -q "kubectl-mfa - a FIDO2 security key" "$T/man.txt" &&
		 grep -q "EXIT STATUS" "$T/man.txt"'
else
	groff -man -Tutf8 "$P/share/man/man1/kubectl-mfa.1" >"$T/man.txt" 2>"$T/man.err"
	rc=$?
	check "the installed man page renders with groff (no man installed)" \
		'[ $rc -eq 0 ] && grep -q "EXIT STATUS" "$T/man.txt"'
fi

# Bash completion, loaded as bash-completion would load it.
bash --norc --noprofile -c '. "$1" && complete -p kubectl-mfa' _ "$COMP" >"$T/out" 2>"$T/err"
rc=$?
check "the completion file loads without error and registers kubectl-mfa" \
	'[ $rc -eq 0 ] && [ ! -s "$T/err" ] && grep -q -- "-F _kubectl_mfa kubectl-mfa" "$T/out"'
check "kubectl-mfa st<TAB> -> status" '[ "$(complete_words "$COMP" kubectl-mfa st)" = status ]'
check "kubectl-mfa <TAB> lists every command" \
	'[ "$(complete_words "$COMP" kubectl-mfa "" | grep -v "^-" | tr "\n" " ")" = \
	   "enroll get-token keys login logout setup status version " ]'
check "kubectl-mfa get-token --oidc-<TAB> lists the oidc options" \
	'[ "$(complete_words "$COMP" kubectl-mfa get-token --oidc- | tr "\n" " ")" = \
	   "--oidc-auth-request-extra-params --oidc-client-id --oidc-client-secret --oidc-client-secret-file --oidc-extra-scope --oidc-issuer-url --oidc-login-hint --oidc-offline-access --oidc-redirect-url --oidc-use-access-token " ]'
check "kubectl-mfa get-token --token-cache-storage <TAB> -> auto disk keyring none" \
	'[ "$(complete_words "$COMP" kubectl-mfa get-token --token-cache-storage "" | tr "\n" " ")" = "auto disk keyring none " ]'
check "kubectl-mfa login --fido2=<TAB> (one word) -> required, off" \
	'[ "$(complete_words "$COMP" kubectl-mfa login --fido2= | tr "\n" " ")" = "--fido2=off --fido2=required " ]'
check "kubectl-mfa login --fido2 = o<TAB> (split at =) -> off" \
	'[ "$(complete_words "$COMP" kubectl-mfa login --fido2 = o)" = off ]'
mkdir -p "$T/files/a dir" && : >"$T/files/a dir/ca.pem"
check "kubectl-mfa setup --certificate-authority <path><TAB> completes file names with spaces" \
	'[ "$(complete_words "$COMP" kubectl-mfa setup --certificate-authority "$T/files/a dir/c")" = "$T/files/a dir/ca.pem" ]'
check "kubectl-mfa status --<TAB> offers status options, not login ones" \
	'complete_words "$COMP" kubectl-mfa status -- >"$T/c" && grep -qx -- --min-valid "$T/c" &&
	 grep -qx -- --all "$T/c" && ! grep -qx -- --browser-command "$T/c"'
check "kubectl-mfa keys <TAB> -> export list rekey remove" \
	'[ "$(complete_words "$COMP" kubectl-mfa keys "" | tr "\n" " ")" = "export list rekey remove " ]'

# kubectl mfa <TAB>: kubectl (1.26+) runs kubectl_complete-mfa from PATH.
if [ ! -x "$P/bin/kubectl_complete-mfa" ]; then
	# Not installed by make yet (reported above): install it by hand,
	# as the Makefile would, to test the script in the installed layout.
	install -m 0755 "$KMFA_SRC/man/kubectl_complete-mfa" "$P/bin/kubectl_complete-mfa"
fi
kubectl __complete mfa st >"$T/out" 2>/dev/null
check "kubectl __complete mfa st -> status (through kubectl_complete-mfa)" \
	'[ "$(tr "\n" " " <"$T/out")" = "status :4 " ]'
kubectl __complete mfa get-token --fido2 "" >"$T/out" 2>/dev/null
check "kubectl __complete mfa get-token --fido2 '' -> required, off" \
	'[ "$(grep -v "^:" "$T/out" | sort | tr "\n" " ")" = "off required " ]'

# DESTDIR stages under it; PREFIX is the final location.
mk install DESTDIR="$T/dest" PREFIX=/usr/local >"$T/make2.log" 2>&1
rc=$?
check "make install DESTDIR=... PREFIX=/usr/local stages every file under DESTDIR" \
	'[ $rc -eq 0 ] && cmp -s "$T/dest/usr/local/bin/kubectl-mfa" "$KMFA" &&
	 cmp -s "$T/dest/usr/local/libexec/kubectl-mfa/kubectl-mfa-core" "$KMFA_CORE" &&
	 [ -f "$T/dest/usr/local/share/man/man1/kubectl-mfa.1" ] &&
	 [ -f "$T/dest/usr/local/share/bash-completion/completions/kubectl-mfa" ]'
check "the DESTDIR install names no path outside DESTDIR" \
	'! grep -E "install .* /usr/local" "$T/make2.log" | grep -v "$T/dest" | grep -q .'

mk uninstall PREFIX="$P" >"$T/make3.log" 2>&1
rc=$?
check "make uninstall removes what install put there" \
	'[ $rc -eq 0 ] && [ ! -e "$P/bin/kubectl-mfa" ] && [ ! -e "$P/libexec/kubectl-mfa/kubectl-mfa-core" ] &&
	 [ ! -e "$P/share/man/man1/kubectl-mfa.1" ] && [ ! -e "$COMP" ]'

finish

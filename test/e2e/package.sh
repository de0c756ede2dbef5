#!/usr/bin/env bash
# The Debian package as a machine gets it: `apt-get install ./FILE.deb`,
# then the INSTALLED program (/usr/bin/kubectl-mfa finding
# /usr/libexec/kubectl-mfa/kubectl-mfa-core, nothing from the build) logs
# in with a touch of the software key through real kubectl and answers the
# next call from the cache; the man page and both completions are where
# bash and man look; `apt-get purge` leaves nothing behind.
#
# First, always, the package's sources against the project: the
# changelog's version is the Makefile's, `make deps` installs every
# Build-Depends, and each lintian override says why.
#
# The rest installs into the system, so it runs only when asked:
# KMFA_TEST_PACKAGE=build/deb/kubectl-mfa_VERSION_ARCH.deb (.ci/run's
# package stage sets it after `make deb`, which runs lintian).  Asked for,
# it fails when it cannot run (not root, package already installed,
# apt-get failing): never a silent skip.
. "$(dirname "$0")/../lib.sh"

D=$KMFA_SRC/debian
# mkvar NAME: a Makefile variable's value, as make computes it.
mkvar() { make -s -C "$KMFA_SRC" --no-print-directory --eval 'print-%: ; @echo $($*)' "print-$1"; }
ver=$(cd "$KMFA_SRC" && dpkg-parsechangelog -S Version)
check "debian/changelog's version ($ver) is the Makefile's VERSION" \
	'[ "$ver" = "$(mkvar VERSION)" ]'
bdeps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$D/control" | sed '1s/^Build-Depends://; $d' |
	tr ',' '\n' | sed 's/([^)]*)//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^debhelper-compat$' | grep .)
missing=$(for p in $bdeps; do grep -qw -- "$p" <<<"$(mkvar DEB_PKGS)" || echo "$p"; done)
check "make deps installs every Build-Depends ($(wc -w <<<"$bdeps") packages${missing:+; missing: $missing})" \
	'[ -n "$bdeps" ] && [ -z "$missing" ]'
check "the binary package's Depends is computed (\${shlibs:Depends})" \
	'grep -q "^Depends:.*\${shlibs:Depends}" "$D/control"'
bare=$(awk '/^#/ { c = 1; next } /^$/ { c = 0; next } { if (!c) print; c = c }' \
	"$D/kubectl-mfa.lintian-overrides")
check "every lintian override follows a comment saying why${bare:+ (bare: $bare)}" \
	'[ -z "$bare" ] && grep -q "^kubectl-mfa: " "$D/kubectl-mfa.lintian-overrides"'

DEB=${KMFA_TEST_PACKAGE:-}
if [ -z "$DEB" ]; then
	echo "# installing the package: .ci/run's package stage (KMFA_TEST_PACKAGE=FILE.deb)"
	finish
fi
case $DEB in /*) ;; *) DEB=$KMFA_SRC/$DEB ;; esac
[ -f "$DEB" ] || die "no package at $DEB"
[ "$(id -u)" -eq 0 ] || die "installing a package needs root"
# Never replace (and then purge) an installation this suite did not make.
if dpkg-query -W -f='${Status}' kubectl-mfa 2>/dev/null | grep -q 'ok installed'; then
	die "kubectl-mfa is already installed on this machine; remove it first"
fi
at_exit "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kubectl-mfa"

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "$DEB" >"$T/apt.log" 2>&1
rc=$?
check "apt-get install $(basename "$DEB") succeeds (rc $rc)" '[ "$rc" -eq 0 ]'
[ "$rc" -eq 0 ] || { tail -20 "$T/apt.log"; finish; }
want_ver=$(dpkg-deb -f "$DEB" Version)
check "dpkg says kubectl-mfa $want_ver is installed" \
	'[ "$(dpkg-query -W -f="\${Status} \${Version}" kubectl-mfa)" = "install ok installed $want_ver" ]'
check "the front in /usr/bin, the core in /usr/libexec/kubectl-mfa, the man page, both completions" \
	'[ -x /usr/bin/kubectl-mfa ] && [ -x /usr/libexec/kubectl-mfa/kubectl-mfa-core ] &&
	 [ -f /usr/share/man/man1/kubectl-mfa.1.gz ] && [ -x /usr/bin/kubectl_complete-mfa ] &&
	 [ -f /usr/share/bash-completion/completions/kubectl-mfa ]'
check "the README and both examples (kubeconfig, API server) in /usr/share/doc/kubectl-mfa" \
	'[ -f /usr/share/doc/kubectl-mfa/README.md.gz ] &&
	 cmp -s /usr/share/doc/kubectl-mfa/examples/kubeconfig.example "$KMFA_SRC/kubeconfig.example" &&
	 cmp -s /usr/share/doc/kubectl-mfa/examples/authentication-config.example.yaml \
		"$KMFA_SRC/authentication-config.example.yaml"'
check "the installed front is static, the core's libraries all resolve" \
	'file -L /usr/bin/kubectl-mfa | grep -q "static-pie linked" &&
	 ! ldd /usr/libexec/kubectl-mfa/kubectl-mfa-core | grep -q "not found"'

# Nothing of the build on PATH: kubectl finds /usr/bin/kubectl-mfa.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
expect_exit 0 kubectl mfa version
check "kubectl mfa version: the installed front runs the installed core ($want_ver)" \
	'[ "$OUT" = "kubectl-mfa ${want_ver%%-*}" ]'
if command -v man >/dev/null; then
	MANPAGER=cat MANWIDTH=200 man kubectl-mfa >"$T/man.txt" 2>"$T/man.err"
	check "man kubectl-mfa renders the installed page" \
		'grep -q "EXIT STATUS" "$T/man.txt"'
else
	zcat /usr/share/man/man1/kubectl-mfa.1.gz | groff -man -Tutf8 >"$T/man.txt" 2>"$T/man.err"
	check "the installed man page renders (groff; no man on this machine)" \
		'grep -q "EXIT STATUS" "$T/man.txt"'
fi
check "kubectl-mfa st<TAB> -> status (the installed completion)" \
	'[ "$(complete_words /usr/share/bash-completion/completions/kubectl-mfa kubectl-mfa st)" = status ]'
kubectl __complete mfa st >"$T/out" 2>/dev/null
check "kubectl __complete mfa st -> status (the installed kubectl_complete-mfa)" \
	'[ "$(tr "\n" " " <"$T/out")" = "status :4 " ]'

# A login with a touch, then a cache hit, through real kubectl running the
# installed command.
start_idp --id-token-ttl 600
start_apiserver
browser_env alice
start_softkey key1
KEY1=$SOFTKEY_DEV
expect_exit 0 /usr/bin/kubectl-mfa enroll --name key1 --fido2-device "$KEY1"
check "the installed program enrolls the software key" '[ "$RC" -eq 0 ]'
write_kubeconfig "$T/kc" "$API_URL" v1 -- /usr/bin/kubectl-mfa get-token \
	--oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl \
	--certificate-authority "$T/pki/ca.pem" --token-cache-storage disk \
	--fido2-device "$KEY1" --browser-command "$KMFA_BROWSER" --timeout 20s
kc() {
	script -qec "$(printf '%q ' kubectl --kubeconfig "$T/kc" \
		--cache-dir "$T/kcache" "$@") >$T/kc.out 2>$T/kc.err" /dev/null \
		>/dev/null </dev/null
}
c0=$(softkey_ctl key1 status | sed -n 's/.*counter=\([0-9]*\).*/\1/p')
kc get --raw /version
check "first kubectl call: a touch and a device login, the API server answers" \
	'grep -q gitVersion "$T/kc.out" && [ "$(idp_count /device/auth)" -eq 1 ] &&
	 [ "$(softkey_ctl key1 status | sed -n "s/.*counter=\([0-9]*\).*/\1/p")" -gt "$c0" ]'
before=$(wc -l <"$IDP_LOG")
c1=$(softkey_ctl key1 status | sed -n 's/.*counter=\([0-9]*\).*/\1/p')
kc get --raw /version
check "second kubectl call: answered from the cache (no IdP request, no touch)" \
	'grep -q gitVersion "$T/kc.out" && [ "$(wc -l <"$IDP_LOG")" -eq "$before" ] &&
	 [ "$(softkey_ctl key1 status | sed -n "s/.*counter=\([0-9]*\).*/\1/p")" -eq "$c1" ]'

# Purge: every file the package had is gone, and so is its folder.
dpkg -L kubectl-mfa >"$T/files" 2>/dev/null
apt-get purge -y -q kubectl-mfa >"$T/purge.log" 2>&1
rc=$?
check "apt-get purge kubectl-mfa succeeds (rc $rc)" '[ "$rc" -eq 0 ]'
check "dpkg no longer knows the package" \
	'! dpkg-query -W -f="\${Status}" kubectl-mfa 2>/dev/null | grep -q installed &&
	 ! dpkg -L kubectl-mfa >/dev/null 2>&1'
left=$(while read -r f; do
	[ -f "$f" ] || [ -L "$f" ] && echo "$f"
	case $f in */kubectl-mfa | */kubectl-mfa/*) [ -d "$f" ] && echo "$f" ;; esac
done <"$T/files")
check "nothing the package installed is left ($(wc -l <"$T/files") paths checked${left:+; left: $left})" \
	'[ -s "$T/files" ] && [ -z "$left" ] && [ ! -e /usr/libexec/kubectl-mfa ]'
finish

#!/usr/bin/env bash
# A stand-in for a person with a browser doing a browser login at the test
# IdP (test/servers/idp.mjs): follow the authorization URL, its login and
# consent pages, then the redirect back to the plugin's loopback listener.
#
#   browser-login.sh AUTHORIZATION_URL
#
# The plugin's --browser-command runs it with the URL as its only argument;
# it depends on nothing but its environment:
#   KMFA_TEST_CA           CA file for the IdP's certificate (required)
#   KMFA_TEST_LOGIN        login name, the ID token's sub (default: alice)
#   KMFA_TEST_BROWSER_LOG  append one line per step here (optional)
#   KMFA_TEST_HOSTILE      one request to the listener before (or instead
#                          of) the real callback; its HTTP status is logged
#                          as "hostile MODE: STATUS":
#     wrong-state  the callback with another state     (then nothing more)
#     no-code      the callback without its code       (then nothing more)
#     host         the callback under a foreign Host   (then nothing more)
#     huge         a 16 KiB request head               (then nothing more)
#     denied       error=access_denied with the state  (the login ends)
#     bad-code     the callback with an altered code   (the login ends)
#     silent       a connection that never speaks, held open while the
#                  real callback goes through
#     second       the real callback, then the same once more
#   KMFA_TEST_THEN_OK=1    after wrong-state/no-code/host/huge, deliver the
#                          real callback too
#   KMFA_TEST_PASTE        a file: the redirect URL the IdP sent is written
#                          there (mode 600, whole or not at all) instead of
#                          being followed, as a provider's "copy this code"
#                          page would show it, for authcode-keyboard
#   KMFA_TEST_DONE         a FIFO: "done" is written to it when this script
#                          ends, for a test that must see all it did (the
#                          plugin may exit before its browser does)
# It writes nothing to stdout (the plugin's stdout is kubectl's) and never
# logs cookies, codes or states.
set -u
exec 1>&2 # anything stray goes to stderr, never stdout

url=${1:-}
: "${KMFA_TEST_CA:?KMFA_TEST_CA must name the IdP CA file}"
login=${KMFA_TEST_LOGIN:-alice}
blog=${KMFA_TEST_BROWSER_LOG:-/dev/null}
hostile=${KMFA_TEST_HOSTILE:-}

note() { printf '%s browser-login: %s\n' "$(date +%s.%N)" "$*" >>"$blog"; }
fail() {
	note "failed: $*"
	echo "browser-login: $*" >&2
	exit 1
}

case $url in
https://*/auth\?*) ;;
*) fail "not an authorization URL" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/kmfa-browser.XXXXXX") || fail "mktemp"
done_fifo=${KMFA_TEST_DONE:-}
trap 'rm -rf "$work"; [ -z "$done_fifo" ] || echo done >"$done_fifo"' EXIT
jar=$work/jar body=$work/body

. "$(dirname "$0")/browser-common.sh"

note "open ${url%%\?*}"
req GET "$url"
# The IdP's pages until it redirects to the loopback listener: each prompt
# is one GET and one POST, so a bounded number of steps.
callback=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	case $CODE in
	303 | 302)
		case $NEXT in
		http://127.0.0.1:* | http://\[::1\]:* | http://localhost:*)
			callback=$NEXT
			break
			;;
		esac
		page=$NEXT
		req GET "$page"
		continue
		;;
	200) ;;
	*) fail "GET ${page:-${url%%\?*}} answered $CODE" ;;
	esac
	answer_prompt "$page"
done
[ -n "$callback" ] || fail "the IdP never redirected to the listener"
if [ -n "${KMFA_TEST_PASTE:-}" ]; then
	(umask 077 && printf '%s\n' "$callback" >"$KMFA_TEST_PASTE.new") &&
		mv "$KMFA_TEST_PASTE.new" "$KMFA_TEST_PASTE" || fail "cannot write the paste file"
	note "redirect shown for pasting"
	exit 0
fi
origin=${callback%%/\?*}
origin=${origin%/}
query=${callback#*\?}
note "redirected to $origin"

# get URL [curl args]: GET from the listener; echoes the HTTP status
# (000 when nobody answers).
get() {
	local u=$1
	shift
	curl -sS --max-time 15 -o "$body" -w '%{http_code}' "$@" "$u" 2>/dev/null
}
swap() { # PARAM NEWVALUE: query with PARAM's value replaced
	printf '%s' "$query" | sed "s/\(^\|&\)$1=[^&]*/\1$1=$2/"
}
drop() { # PARAM: query without PARAM
	printf '%s' "$query" | sed "s/\(^\|&\)$1=[^&]*//; s/^&//"
}
hostile_note() { note "hostile $hostile: $1"; }

case $hostile in
wrong-state) hostile_note "$(get "$origin/?$(swap state forged)")" ;;
no-code) hostile_note "$(get "$origin/?$(drop code)")" ;;
host) hostile_note "$(get "$origin/?$query" -H "Host: evil.example:${origin##*:}")" ;;
huge) hostile_note "$(get "$origin/?$query" -H "X-Pad: $(head -c 16384 /dev/zero | tr '\0' a)")" ;;
denied)
	st=$(printf '%s' "$query" | sed -n 's/.*\(^\|&\)state=\([^&]*\).*/\2/p')
	hostile_note "$(get "$origin/?error=access_denied&error_description=the+user+said+no&state=$st")"
	exit 0
	;;
bad-code)
	hostile_note "$(get "$origin/?$(swap code forged-code-0123456789)")"
	exit 0
	;;
silent)
	# A connection that says nothing, open until this script ends.
	hp=${origin#http://}
	h=${hp%:*} h=${h#[} h=${h%]}
	exec {silent}<>"/dev/tcp/$h/${hp##*:}" || fail "cannot connect to the listener"
	hostile_note "connected"
	;;
'' | second) ;;
*) fail "unknown KMFA_TEST_HOSTILE $hostile" ;;
esac
case $hostile in
wrong-state | no-code | host | huge)
	[ "${KMFA_TEST_THEN_OK:-0}" = 1 ] || exit 0
	;;
esac

status=$(get "$origin/?$query")
[ "$status" = 200 ] || fail "the listener answered $status to the callback"
grep -q 'you are logged in' "$body" || fail "no success page"
note "callback delivered"
if [ "$hostile" = second ]; then
	hostile_note "$(get "$origin/?$query")"
fi
exit 0

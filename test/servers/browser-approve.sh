#!/usr/bin/env bash
# A stand-in for a person with a browser: approve one device code at the test
# IdP (test/servers/idp.mjs, oidc-provider's devInteractions pages).
#
#   browser-approve.sh VERIFICATION_URI_COMPLETE
#
# The plugin's --browser-command runs it with the URL as its only argument,
# so it depends on nothing but its environment:
#   KMFA_TEST_CA           CA file for the IdP's certificate (required)
#   KMFA_TEST_LOGIN        login name, the ID token's sub (default: alice)
#   KMFA_TEST_BROWSER_LOG  append one line per step here (optional)
#   KMFA_TEST_DENY=1       press "abort" instead: the IdP then answers the
#                          device code's polls with access_denied
# It writes nothing to stdout (the plugin's stdout is kubectl's), never logs
# cookies or codes, and exits 0 only when the IdP shows its success page.
#
# The pages, in order: GET /device?user_code=X (a form_post page with the
# xsrf value) -> POST /device xsrf, user_code, confirm=yes -> 303 to
# /interaction/<uid> (login) -> POST prompt=login login password -> 303 to
# /device/<uid> -> 303 to /interaction/<uid2> (consent) -> POST
# prompt=consent -> 303 to /device/<uid2> -> 200 "Sign-in Success".
set -u
exec 1>&2 # anything stray goes to stderr, never stdout

url=${1:-}
: "${KMFA_TEST_CA:?KMFA_TEST_CA must name the IdP CA file}"
login=${KMFA_TEST_LOGIN:-alice}
blog=${KMFA_TEST_BROWSER_LOG:-/dev/null}

note() { printf '%s browser-approve: %s\n' "$(date +%s.%N)" "$*" >>"$blog"; }
fail() {
	note "failed: $*"
	echo "browser-approve: $*" >&2
	exit 1
}

case $url in
https://*/device\?user_code=*) ;;
*) fail "not a verification_uri_complete URL" ;;
esac
origin=$(printf '%s' "$url" | sed 's|^\(https://[^/]*\)/.*|\1|')

work=$(mktemp -d "${TMPDIR:-/tmp}/kmfa-browser.XXXXXX") || fail "mktemp"
trap 'rm -rf "$work"' EXIT
jar=$work/jar body=$work/body

. "$(dirname "$0")/browser-common.sh"

note "open ${url%%\?*}"
req GET "$url"
[ "$CODE" = 200 ] || fail "GET /device answered $CODE"
xsrf=$(field xsrf) user_code=$(field user_code)
[ -n "$xsrf" ] && [ -n "$user_code" ] || fail "no xsrf/user_code in the device page"

if [ "${KMFA_TEST_DENY:-0}" = 1 ]; then
	req POST "$origin/device" --data-urlencode "xsrf=$xsrf" \
		--data-urlencode "user_code=$user_code" -d abort=yes
	# oidc-provider re-renders the form with "interrupted" after an abort.
	grep -q 'interrupted' "$body" || fail "abort was not taken (HTTP $CODE)"
	note "denied"
	exit 0
fi
req POST "$origin/device" --data-urlencode "xsrf=$xsrf" \
	--data-urlencode "user_code=$user_code" -d confirm=yes
[ "$CODE" = 303 ] || fail "POST /device answered $CODE (code unknown, expired or used?)"

# Follow the interaction pages until the success page; a bounded number of
# steps, since each prompt is one GET and one POST.
for _ in 1 2 3 4 5 6 7 8; do
	page=$NEXT
	[ -n "$page" ] || fail "no redirect to follow"
	req GET "$page"
	case $CODE in
	303 | 302) continue ;;
	200) ;;
	*) fail "GET ${page%%\?*} answered $CODE" ;;
	esac
	if grep -q 'Sign-in Success' "$body"; then
		note "approved as $login"
		exit 0
	fi
	answer_prompt "$page"
	[ "$CODE" = 303 ] || fail "POST ${page%%\?*} ($prompt) answered $CODE"
done
fail "too many steps"

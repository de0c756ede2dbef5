# Sourced by the scripted browsers (browser-approve.sh, browser-login.sh):
# one cookie-keeping HTTP client for the test IdP's pages.  The caller sets
# jar, body (files in its private work folder) and KMFA_TEST_CA, and
# defines fail MESSAGE and note MESSAGE.

# req METHOD URL [curl args]: sets CODE and NEXT (absolute redirect target).
req() {
	local method=$1 u=$2 out
	shift 2
	out=$(curl -sS --max-time 10 --cacert "$KMFA_TEST_CA" -c "$jar" -b "$jar" \
		-X "$method" -o "$body" -w '%{http_code} %{redirect_url}' "$@" "$u") ||
		fail "$method ${u%%\?*}: curl failed"
	CODE=${out%% *} NEXT=${out#* }
}

# field NAME: the value of the form field NAME in the last page.
field() { sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" "$body" | head -1; }

# answer_prompt PAGE: the IdP's login or consent form on PAGE (the last page
# fetched), answered as $login with any password; sets CODE, NEXT and prompt.
answer_prompt() {
	prompt=$(field prompt)
	case $prompt in
	login)
		note "login as $login"
		req POST "$1" -d prompt=login --data-urlencode "login=$login" -d password=x
		;;
	consent)
		note "consent"
		req POST "$1" -d prompt=consent
		;;
	*) fail "unexpected page at ${1%%\?*}" ;;
	esac
}

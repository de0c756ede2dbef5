# The test servers as bash functions, sourced by test/lib.sh: a per-run PKI,
# the real IdP (oidc-provider), the API server, the hostile stub IdP, a
# person approving device codes, and kubeconfig files for real kubectl.
#
# Every server listens on a free port on 127.0.0.1 with a certificate from
# the run's own CA, prints READY when it serves (start_server waits for it)
# and is stopped by PID when the script ends.  Extra flags come last and a
# repeated flag wins, so `start_stub_idp ok --cert "$T/pki/expired.pem"
# --key "$T/pki/expired.key"` serves a bad certificate for TLS tests.  Request logs are JSON lines;
# none holds a token, a code or a cookie.

KMFA_SERVERS=$KMFA_SRC/test/servers
: "${KMFA_NODE:=node}"

# openssl ca, so certificates can have any validity window (an expired one
# included) without faking the clock.
_pki_issue() { # NAME SAN [START END]
	local name=$1 san=$2 dates=(-days 2)
	[ $# -ge 4 ] && dates=(-startdate "$3" -enddate "$4")
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/pki/$name.key" -subj "/CN=$name" \
		-addext "subjectAltName=$san" -out "$T/pki/$name.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$T/pki/ca.cnf" -cert "$T/pki/ca.pem" \
			-keyfile "$T/pki/ca.key" "${dates[@]}" -in "$T/pki/$name.csr" \
			-out "$T/pki/$name.pem" >/dev/null 2>&1
}

_pki_ca() { # NAME
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$T/pki/$1.key" -out "$T/pki/$1.pem" \
		-subj "/CN=kubectl-mfa test $1" -days 2 >/dev/null 2>&1
}

# make_pki: once per script.  $T/pki/ holds
#   ca.pem                      the CA every test server's certificate chains to
#   server.pem, server.key      127.0.0.1 and localhost, valid now
#   other-ca.pem                an unrelated CA (a client trusting only it fails)
#   expired.pem, expired.key    from ca.pem, for 127.0.0.1, expired in 2000
#   wronghost.pem, wronghost.key from ca.pem, valid now, for another host only
make_pki() {
	[ -f "$T/pki/server.pem" ] && return 0
	mkdir -p "$T/pki/db" && chmod 700 "$T/pki" && : >"$T/pki/db/index.txt"
	cat >"$T/pki/ca.cnf" <<-EOF
		[ca]
		default_ca = kmfa
		[kmfa]
		database = $T/pki/db/index.txt
		new_certs_dir = $T/pki/db
		serial = $T/pki/db/serial
		default_md = sha256
		policy = any
		unique_subject = no
		copy_extensions = copy
		[any]
		commonName = supplied
	EOF
	echo 01 >"$T/pki/db/serial"
	_pki_ca ca && _pki_ca other-ca &&
		_pki_issue server "IP:127.0.0.1,DNS:localhost" &&
		_pki_issue expired "IP:127.0.0.1,DNS:localhost" 20000101000000Z 20000102000000Z &&
		_pki_issue wronghost "DNS:wrong.invalid,IP:192.0.2.1" ||
		die "make_pki: openssl failed"
}

_need_node_modules() {
	[ -d "$KMFA_SERVERS/node_modules/oidc-provider" ] ||
		die "test/servers/node_modules missing: run make deps (npm ci in test/servers)"
}

# _unique BASE: BASE, then BASE2, BASE3... so a script may start several.
_unique() {
	local n=$1 i=2
	while [ -e "$T/$n.fifo" ]; do n=$1$i; i=$((i + 1)); done
	echo "$n"
}

# start_idp [idp.mjs flags]: the real IdP.  Sets IDP_URL (the issuer),
# IDP_LOG (its request log), IDP_ISSUED (every token it issues, as JSON
# lines {kind, value}: see issued_leaks in test/lib.sh), IDP_PID.  Flags:
# --id-token-ttl S, --client-id ID, --amr V, --acr V, --no-refresh,
# --interval N, --issued-log FILE (instead of $T/issued/NAME.jsonl, a
# folder of its own so that scans of $T's logs do not find the tokens it
# lists on purpose).
start_idp() {
	make_pki; _need_node_modules
	local name a prev=; name=$(_unique idp)
	IDP_LOG=$T/$name-requests.jsonl
	mkdir -p "$T/issued" && chmod 700 "$T/issued"
	IDP_ISSUED=$T/issued/$name.jsonl
	for a in "$@"; do
		[ "$prev" = --issued-log ] && IDP_ISSUED=$a
		prev=$a
	done
	# Each IdP in a script signs with its own key (like separate IdPs),
	# made by openssl rather than inside Node: see idp.mjs.
	[ -f "$T/pki/$name-signing.key" ] ||
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$T/pki/$name-signing.key" 2>/dev/null ||
		die "start_idp: openssl genpkey failed"
	start_server "$name" "$KMFA_NODE" "$KMFA_SERVERS/idp.mjs" \
		--cert "$T/pki/server.pem" --key "$T/pki/server.key" --log "$IDP_LOG" \
		--signing-key "$T/pki/$name-signing.key" \
		--issued-log "$IDP_ISSUED" "$@"
	IDP_URL=$(jq -r .issuer <<<"$REPLY")
	eval "IDP_PID=\$${name}_PID"
}

# start_apiserver [apiserver.mjs flags]: the API server trusting IDP_URL for
# client id kubectl (override with --client-id, --issuer; add
# --required-claim NAME=VALUE).  Sets API_URL, API_LOG, API_PID.
start_apiserver() {
	make_pki
	local name; name=$(_unique apiserver)
	API_LOG=$T/$name-requests.jsonl
	start_server "$name" "$KMFA_NODE" "$KMFA_SERVERS/apiserver.mjs" \
		--cert "$T/pki/server.pem" --key "$T/pki/server.key" \
		--ca "$T/pki/ca.pem" --issuer "${IDP_URL:-}" --client-id kubectl \
		--log "$API_LOG" "$@"
	API_URL=$(jq -r .url <<<"$REPLY")
	eval "API_PID=\$${name}_PID"
}

# start_stub_idp SCENARIO [stub-idp.mjs flags]: the hostile stub.  Sets
# STUB_URL (its issuer URL), STUB_LOG, STUB_PID.
start_stub_idp() {
	make_pki
	local scenario=${1:?start_stub_idp SCENARIO}; shift
	local name; name=$(_unique stub)
	STUB_LOG=$T/$name-requests.jsonl
	start_server "$name" "$KMFA_NODE" "$KMFA_SERVERS/stub-idp.mjs" \
		--cert "$T/pki/server.pem" --key "$T/pki/server.key" \
		--scenario "$scenario" --client-id kubectl --log "$STUB_LOG" "$@"
	STUB_URL=$(jq -r .issuer <<<"$REPLY")
	eval "STUB_PID=\$${name}_PID"
}

# stub_scenario NAME: switch the running stub to another scenario.
stub_scenario() {
	local code
	code=$(curl -sS --max-time 5 --cacert "$T/pki/ca.pem" -o /dev/null \
		-w '%{http_code}' --data-urlencode "scenario=$1" "$STUB_URL/control") &&
		[ "$code" = 200 ]
}

# _count LOG PATH_SUBSTRING [GRANT_TYPE]: request lines whose path contains
# PATH_SUBSTRING (and, for the token endpoint, whose grant_type ends with
# GRANT_TYPE: `device_code` matches the URN).
_count() {
	[ -s "$1" ] || { echo 0; return 0; }
	jq -n --arg p "$2" --arg g "${3:-}" \
		'[inputs | select((.path | contains($p)) and
		  ($g == "" or ((.grant_type // "") | endswith($g))))] | length' "$1"
}
idp_count() { _count "$IDP_LOG" "$@"; }
stub_count() { _count "$STUB_LOG" "$@"; }
api_count() { _count "$API_LOG" "$@"; }

# approve_device URL_OR_USER_CODE [LOGIN]: approve at the test IdP as a
# person would (see test/servers/browser-approve.sh); fails unless the IdP
# shows its success page.  LOGIN (default alice) becomes the token's sub.
approve_device() {
	local url=$1
	case $url in https://*) ;; *) url="$IDP_URL/device?user_code=$1" ;; esac
	KMFA_TEST_CA=$T/pki/ca.pem KMFA_TEST_LOGIN=${2:-alice} \
		KMFA_TEST_BROWSER_LOG=$T/browser.log \
		bash "$KMFA_SERVERS/browser-approve.sh" "$url" >/dev/null
}

# deny_device URL_OR_USER_CODE: the person says no (oidc-provider's abort);
# the device code's next poll answers access_denied.
deny_device() {
	local url=$1
	case $url in https://*) ;; *) url="$IDP_URL/device?user_code=$1" ;; esac
	KMFA_TEST_CA=$T/pki/ca.pem KMFA_TEST_DENY=1 KMFA_TEST_BROWSER_LOG=$T/browser.log \
		bash "$KMFA_SERVERS/browser-approve.sh" "$url" >/dev/null
}

# Environment for the plugin's --browser-command "$KMFA_BROWSER": the
# script approves whatever URL it is given, as LOGIN.
KMFA_BROWSER=$KMFA_SERVERS/browser-approve.sh
browser_env() { # [LOGIN]
	export KMFA_TEST_CA=$T/pki/ca.pem KMFA_TEST_LOGIN=${1:-alice}
	export KMFA_TEST_BROWSER_LOG=$T/browser.log
}

# write_kubeconfig FILE API_URL v1|v1beta1 -- [PLUGIN ARGS...]: one cluster
# (the run's CA), one context, one user whose exec entry runs PLUGIN ARGS.
# With nothing after --, the user has no credentials (for --token).
# Written as JSON, which kubectl reads as YAML, so jq does the quoting.
write_kubeconfig() {
	local file=$1 url=$2 ver=$3
	[ "${4:-}" = -- ] || die "write_kubeconfig FILE API_URL VERSION -- PLUGIN ARGS..."
	case $ver in v1 | v1beta1) ;; *) die "write_kubeconfig: version $ver" ;; esac
	shift 4
	make_pki
	# The command goes in as JSON lines: jq would take "--flag" arguments
	# after --args for options of its own.
	local cmdjson
	cmdjson=$(for a in "$@"; do KMFA_A=$a jq -n 'env.KMFA_A'; done | jq -s -c .)
	(umask 077 && jq -n --arg server "$url" --arg ca "$T/pki/ca.pem" \
		--arg api "client.authentication.k8s.io/$ver" --argjson cmd "$cmdjson" '
		$cmd as $cmd |
		{apiVersion: "v1", kind: "Config",
		 clusters: [{name: "test", cluster: {server: $server,
			"certificate-authority": $ca}}],
		 users: [{name: "test", user: (if ($cmd | length) == 0 then {} else
			{exec: {apiVersion: $api, command: $cmd[0], args: $cmd[1:],
				interactiveMode: "IfAvailable", provideClusterInfo: false}}
			end)}],
		 contexts: [{name: "test", context: {cluster: "test", user: "test"}}],
		 "current-context": "test"}' >"$file") ||
		die "write_kubeconfig: jq failed"
}

# jwt_json TOKEN [1|2]: the decoded JOSE header (1) or claims (2, default)
# of a compact JWS, for checks in tests.  Prints nothing on a malformed part.
jwt_json() {
	local p
	p=$(cut -d. -f"${2:-2}" <<<"$1" | tr '_-' '/+')
	while [ $((${#p} % 4)) -ne 0 ]; do p=$p=; done
	base64 -d <<<"$p" 2>/dev/null
}

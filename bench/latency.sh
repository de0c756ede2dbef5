# The cold path over a real round-trip time (issue 15), sourced by
# bench/run after the hot-path cases (it uses run's say, B, QUICK, DRIVER,
# FUNC_FAIL and test/lib.sh).  The real IdP runs behind bench/rttproxy.mjs,
# which holds every chunk RTT/2 in each direction (no netem here: no
# sch_netem in this kernel) and counts connections, TLS ClientHellos and
# answered client flights (round trips).  The IdP's issuer names the proxy,
# so every request of the plugin, the browser stand-in's too, crosses it.
#
# Measured, --fido2 off, disk storage in a folder of its own:
#   refresh-warm   `login` with a stored refresh token, the discovery
#                  document and JWKS kept: minimum TCP + TLS 1.3 + one
#                  request = 3 RTT; target: median within 1.2x of 3 RTT
#   refresh-cold   the same with <cache>/oidc removed first (3 requests)
#   device-poll    a device login (discovery and JWKS kept): from the
#                  moment the poll that gets the token is sent to the
#                  plugin's exit; minimum 1 RTT (the connection is reused)
#   core-startup   kubectl-mfa-core version: loading the libraries
# Round trips, connections, handshakes and requests come from one counting
# run of each refresh case; the times from interleaved runs, each refresh
# also without the added RTT (the proxy reads the RTT per connection): the
# difference over the RTT is the round trips the wall time actually paid.  The driver
# runs under script(1), so the plugin has a terminal (a person present)
# without paying for a pty per run.
#
# Output: $B/latency.jsonl, one object per case, for results.jq.

LAT_RTT=${BENCH_RTT_MS:-50}
if [ "$QUICK" = 1 ]; then LAT_N=5 LAT_DEV=1; else LAT_N=20 LAT_DEV=3; fi
LP=$B/lat
mkdir -p "$LP" && chmod 700 "$LP"
: >"$B/latency.jsonl"
say "latency: the IdP behind a $LAT_RTT ms round trip; $LAT_N refreshes each, $LAT_DEV device logins"
: >"$LP/upstream"
start_server rttproxy "$KMFA_NODE" "$here/rttproxy.mjs" \
	--upstream-file "$LP/upstream" --log "$LP/proxy.jsonl"
lat_proxy_port=$(jq -r .port <<<"$REPLY")
start_idp --id-token-ttl 7200 --issuer "https://127.0.0.1:$lat_proxy_port"
lat_idp_port=$(jq -r .port <<<"$REPLY")
echo "$lat_idp_port $LAT_RTT" >"$LP/upstream"
# $LP/with RTT [cold] CMD...: CMD with the proxy adding RTT ms (0: the
# baseline), after removing the kept documents when cold.
cat >"$LP/with" <<WITH
#!/bin/sh
echo "$lat_idp_port \$1" >"$LP/upstream"; shift
[ "\$1" != cold ] || { rm -rf "$LP/cache/oidc"; shift; }
exec "\$@"
WITH
chmod 700 "$LP/with"
LAT=(login --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --fido2 off
	--token-cache-storage disk --token-cache-dir "$LP/cache"
	--browser-command "$KMFA_BROWSER")
lat_tty() { script -qec "$1" /dev/null >/dev/null </dev/null; }
lat_q() { printf '%q ' "$@"; }

lat_tty "$(lat_q "$KMFA" "${LAT[@]}") 2>$(lat_q "$LP/login.err")" ||
	FUNC_FAIL+=("latency: the first login behind the proxy failed: $(tail -1 "$LP/login.err")")

# lat_count NAME CMD: one counting run; prints a JSON object of counts
lat_count() {
	local name=$1 p0 i0 rc
	p0=$(wc -l <"$LP/proxy.jsonl"); i0=$(wc -l <"$IDP_LOG")
	lat_tty "$2"; rc=$?
	[ "$rc" -eq 0 ] || FUNC_FAIL+=("latency: the counting run of $name failed")
	tail -n +"$((p0 + 1))" "$LP/proxy.jsonl" | jq -sc --arg n "$name" \
		--argjson req "$(( $(wc -l <"$IDP_LOG") - i0 ))" '{name: $n,
		connections: map(select(.ev == "conn")) | length,
		tls_handshakes: map(select(.ev == "hello")) | length,
		tls_resumed: map(select(.ev == "hello" and .psk)) | length,
		round_trips: map(select(.ev == "conn" or .ev == "rt")) | length,
		requests: $req}'
}
LOGIN_CMD=$(lat_q "$KMFA" "${LAT[@]}")
{
	lat_count refresh-warm "$LOGIN_CMD 2>/dev/null"
	lat_count refresh-cold "rm -rf $(lat_q "$LP/cache/oidc"); $LOGIN_CMD 2>/dev/null"
} >"$LP/counts.jsonl"

# Timed runs, interleaved, under one terminal: each refresh with the RTT
# and without it (the baseline: the same work, CPU and disk only).
lat_tty "$(lat_q "$DRIVER" -E "$LP/driver.err" -n "$LAT_N" -w 1 \
	@name=refresh-warm "$LP/with" "$LAT_RTT" "$KMFA" "${LAT[@]}" \
	:: @name=refresh-warm-0 "$LP/with" 0 "$KMFA" "${LAT[@]}" \
	:: @name=refresh-cold "$LP/with" "$LAT_RTT" cold "$KMFA" "${LAT[@]}" \
	:: @name=refresh-cold-0 "$LP/with" 0 cold "$KMFA" "${LAT[@]}" \
	:: @name=core-startup @expect=kubectl-mfa "$KMFA_CORE" version) \
	>$(lat_q "$LP/times.jsonl")" ||
	FUNC_FAIL+=("latency: the driver failed: $(tail -2 "$LP/driver.err")")
echo "$lat_idp_port $LAT_RTT" >"$LP/upstream"

# Device logins: the record removed, the documents kept.  The poll that
# gets the token is the last answered flight before the plugin exits.
: >"$LP/device.jsonl"
for ((i = 0; i < LAT_DEV; i++)); do
	rm -f "$LP/cache"/*.json
	p0=$(wc -l <"$LP/proxy.jsonl")
	lat_tty "$LOGIN_CMD 2>$(lat_q "$LP/device.err"); rc=\$?; date +%s%N >$(lat_q "$LP/exit"); exit \$rc" ||
		{ FUNC_FAIL+=("latency: device login $i failed: $(tail -1 "$LP/device.err")"); continue; }
	tail -n +"$((p0 + 1))" "$LP/proxy.jsonl" | jq -sc --argjson exit "$(cat "$LP/exit")" '
		($exit / 1e6) as $x | map(select(.ev == "rt" and .sent < $x)) | last
		| {us: (($x - .sent) * 1000 | round)}' >>"$LP/device.jsonl"
done

jq -n --argjson rtt "$LAT_RTT" --slurpfile c "$LP/counts.jsonl" \
	--slurpfile t "$LP/times.jsonl" --slurpfile d "$LP/device.jsonl" '
	def row($s; $n): ($s | map(select(.name == $n)) | .[0]) // {};
	def median: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
	($d | map(.us)) as $dev
	| (row($t; "refresh-warm") + row($c; "refresh-warm") +
	   {min_rtt: 3, base_median_us: row($t; "refresh-warm-0").median_us}),
	  (row($t; "refresh-cold") + row($c; "refresh-cold") +
	   {min_rtt: 3, base_median_us: row($t; "refresh-cold-0").median_us}),
	  {name: "device-poll", runs: ($dev | length), failures: 0,
	   median_us: ($dev | median), min_us: ($dev | min), max_us: ($dev | max),
	   min_rtt: 1},
	  row($t; "core-startup")
	| . + {rtt_ms: $rtt}' >"$B/latency.jsonl" ||
	FUNC_FAIL+=("latency: cannot assemble the results")

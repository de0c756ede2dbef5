#!/usr/bin/env bash
# The server proof's costs (issue 16), run by `make bench` before the
# hot-path benchmark (bench/run):
#   - kubectl-mfa-webhook's TokenReview throughput and p50/p99 latency over
#     keep-alive TLS, for a valid kmfa-proof1 bundle verified on every
#     review (JWT, two ECDSA signatures, registry, counters), the same with
#     --cache-ttl (decisions cached per bearer, as kube-apiserver's webhook
#     cache does), and a bare ID token refused at the first check;
#   - the plugin's extra silent assertion: kmfa-mkproof's two assertions
#     against the software key, timed with and without the second.
# Everything runs in the test harness's private world (test/lib.sh).
# Output: a table on stderr, JSON in bench/results/, and the last line
# `bench-webhook: N passed, N failed` (functional checks only).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export KMFA_SRC=$(cd "$here/.." && pwd)
: "${KMFA_BUILD:?set KMFA_BUILD to the build folder (make bench does)}"
export KMFA_BUILD=$(cd "$KMFA_BUILD" && pwd)
. "$KMFA_SRC/test/lib.sh"

N=${BENCH_WEBHOOK_RUNS:-2000}
[ "${BENCH_QUICK:-0}" = 1 ] && N=300
RESULTS=${BENCH_RESULTS:-$KMFA_SRC/bench/results}
mkdir -p "$RESULTS"
WEBHOOK=$KMFA_BUILD/bin/kubectl-mfa-webhook
MKPROOF=$KMFA_BUILD/test/webhook/kmfa-mkproof
passed=0 failed=0
ok_() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "bench-webhook: FAILED: $*" >&2; }

start_idp --id-token-ttl 7200 >/dev/null
browser_env alice
start_softkey key1 >/dev/null; KEY1=$SOFTKEY_DEV
CRED=$XDG_CONFIG_HOME/kubectl-mfa/credentials.json
"$KMFA" enroll --name bench --fido2-device "$KEY1" >/dev/null 2>&1 || die "enroll failed"
script -qec "$(printf '%q ' "$KMFA" get-token --oidc-issuer-url "$IDP_URL" \
	--oidc-client-id kubectl --certificate-authority "$T/pki/ca.pem" \
	--token-cache-storage disk --browser-command "$KMFA_BROWSER" \
	--fido2-device "$KEY1" --server-proof) >$T/cred.json 2>$T/login.err" /dev/null </dev/null
BUNDLE=$(jq -r .status.token "$T/cred.json" 2>/dev/null)
[ "${BUNDLE#kmfa-proof1.}" != "$BUNDLE" ] || die "no bundle from get-token --server-proof"
# The bare ID token inside the bundle (its second part, base64url).
p=$(cut -d. -f2 <<<"$BUNDLE" | tr '_-' '/+')
while [ $((${#p} % 4)) -ne 0 ]; do p=$p=; done
BARE=$(base64 -d <<<"$p")
SUB=$(jwt_json "$BARE" | jq -r .sub)

RUNAS=() WHD=$T/wh
if [ "$(id -u)" -eq 0 ]; then
	WHD=$(mktemp -d /tmp/kmfa-bench-wh.XXXXXX) && chmod 755 "$WHD"
	at_exit "rm -rf '$WHD'"
	RUNAS=(--user nobody)
fi
mkdir -p "$WHD/registry" && chmod 755 "$WHD/registry" && cp "$T/pki/ca.pem" "$WHD/ca.pem"
"$KMFA" keys export "$SUB" >"$WHD/registry/bench.json" || die "keys export failed"
start_webhook() { # NAME [flags]
	local name=$1; shift
	start_server "$name" "$WEBHOOK" --issuer "$IDP_URL" --audience kubectl \
		--certificate-authority "$WHD/ca.pem" --registry "$WHD/registry" \
		--tls-cert "$T/pki/server.pem" --tls-key "$T/pki/server.key" --port 0 \
		"${RUNAS[@]}" "$@"
	WH=$(jq -r .url <<<"$REPLY")/
}
measure() { # LABEL URL TOKEN CONC WANT_AUTHENTICATED
	local out
	out=$("$KMFA_NODE" "$here/webhook.mjs" "$2" "$T/pki/ca.pem" "$3" "$N" "$4") ||
		{ bad "$1: the client failed"; return; }
	echo "$out" | jq -c --arg l "$1" '{case: $l} + .' >>"$T/results.jsonl"
	if [ "$5" = yes ]; then
		[ "$(jq .authenticated <<<"$out")" -eq "$(jq .n <<<"$out")" ] && ok_ || bad "$1: not all authenticated"
	else
		[ "$(jq .authenticated <<<"$out")" -eq 0 ] && ok_ || bad "$1: a bare token was authenticated"
	fi
}
start_webhook wh
measure "bundle, verified every time, 1 connection" "$WH" "$BUNDLE" 1 yes
measure "bundle, verified every time, 4 connections" "$WH" "$BUNDLE" 4 yes
measure "bare ID token, refused, 1 connection" "$WH" "$BARE" 1 no
start_webhook whc --cache-ttl 2m
measure "bundle, --cache-ttl 2m, 1 connection" "$WH" "$BUNDLE" 1 yes
measure "bundle, --cache-ttl 2m, 4 connections" "$WH" "$BUNDLE" 4 yes

# The plugin's extra cost: one silent assertion (kmfa-mkproof makes the
# touch's assertion and the token's; --tamper none changes nothing).
printf '%s' "$BARE" >"$T/idtok"
M=$(( N / 20 > 20 ? N / 20 : 20 ))
t0=$(date +%s%N)
for _ in $(seq "$M"); do
	"$MKPROOF" --device "$KEY1" --credentials "$CRED" --issuer "$IDP_URL" \
		--client kubectl --token-file "$T/idtok" >/dev/null || { bad "mkproof failed"; break; }
done
t1=$(date +%s%N)
per=$(( (t1 - t0) / M / 1000 ))
jq -nc --argjson m "$M" --argjson us "$per" \
	'{case: "kmfa-mkproof: process, key open, touch assertion + silent assertion", runs: $m, us_per_run: $us}' >>"$T/results.jsonl"
[ "$per" -gt 0 ] && ok_

stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/bench-webhook-$stamp.json
jq -s --arg host "$(uname -srm), $(nproc) CPUs" '{host: $host, results: .}' "$T/results.jsonl" >"$OUT"
{
	printf '%-58s %8s %9s %9s\n' case "req/s" "p50 ms" "p99 ms"
	jq -r 'select(.rps) | [.case, .rps, .p50_ms, .p99_ms] | @tsv' "$T/results.jsonl" |
		while IFS=$'\t' read -r c r p5 p9; do printf '%-58s %8s %9s %9s\n' "$c" "$r" "$p5" "$p9"; done
	jq -r 'select(.us_per_run) | "\(.case): \(.us_per_run) µs per run (\(.runs) runs)"' "$T/results.jsonl"
} >&2
echo "results: $OUT"
echo "bench-webhook: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

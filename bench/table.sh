#!/usr/bin/env bash
# Prints bench/run's results file as tables:  bash bench/table.sh FILE.json
set -u
f=${1:?usage: table.sh RESULTS.json}
tab() { column -t -s $'\t'; }

jq -r '"kubectl-mfa hot-path benchmark (\(.mode): \(.runs) runs per case, interleaved) \(.version) \(.commit)",
	"host: \(.host)",
	"load average (1, 5, 15 min) at start -> end: \(.loadavg)",
	(if (.loadavg | split(" ")[0] | tonumber) > 1 then
	  "  (other work was running: absolute times and ratios near a limit are noisy)" else empty end),
	""' "$f"

echo "== get-token with a valid cached token (wall time per process; peak RSS) =="
jq -r '
def ms: if . == null then "-" else . / 1000 * 1000 | round / 1000 | tostring end;
def x($b): if $b == null or . == null then "-" else (. / $b * 100 | round / 100 | tostring) + "x" end;
(.hot_path | map(select(.name == "floor"))[0].median_us) as $floor
| (.hot_path | map(select(.name == "gke"))[0].median_us) as $gke
| ["case", "median ms", "min-max ms", "p10-p90 ms", "peak RSS KiB", "vs floor", "vs GKE", "failed runs"],
  ((.hot_path[] | .name as $n | .name = $n),
   (.keyring_without_mirror[] | select(.name != "floor") | .name += " (\(.runs) runs)")
   | [.name,
      (.median_us | ms), "\(.min_us | ms)-\(.max_us | ms)", "\(.p10_us | ms)-\(.p90_us | ms)",
      (.rss_kib_max | tostring), (.median_us | x($floor)), (.median_us | x($gke)),
      (.failures | tostring)])
| @tsv' "$f" | tab
echo "  floor = bench/floor.c static; floor-dyn = the same, dynamic PIE loading libcjson"
echo "  disk = --token-cache-storage disk; mirror = keyring storage answered from"
echo "  \$XDG_RUNTIME_DIR; keyring = keyring storage with XDG_RUNTIME_DIR unset (the"
echo "  full program reads the Secret Service through libsecret)"
echo

echo "== instructions (valgrind --tool=callgrind, one run; self cost by object) =="
jq -r '
(.callgrind | map(select(.name == "floor"))[0].instructions) as $f
| ["case", "processes", "instructions", "vs floor", "ld.so", "libc", "libcjson", "program", "other"],
  (.callgrind[] | .by_object as $o
   | ($o | to_entries | map(select(.key | test("^ld-linux"))) | map(.value) | add // 0) as $ld
   | ($o | to_entries | map(select(.key | test("^libc\\.so"))) | map(.value) | add // 0) as $libc
   | ($o | to_entries | map(select(.key | test("^libcjson"))) | map(.value) | add // 0) as $cj
   | ($o | to_entries | map(select(.key | test("^(kubectl-mfa|floor|gke-gcloud)"))) | map(.value) | add // 0) as $prog
   | [.name, (.processes | tostring), (.instructions | tostring), ((.instructions / $f * 10 | round / 10 | tostring) + "x"),
      ($ld | tostring), ($libc | tostring), ($cj | tostring), ($prog | tostring),
      ((.instructions - $ld - $libc - $cj - $prog) | tostring)])
| @tsv' "$f" | tab
echo "  (a static program has no ld.so share: its start-up is inside \"program\";"
echo "  keyring-v1: the front execs the full program in the same process, whose"
echo "  profile replaces the front's)"
echo

echo "== kubectl get --raw /version: plugin versus static token (interleaved) =="
jq -r '
def ms: if . == null then "-" else . / 1000 * 100 | round / 100 | tostring end;
def r(n): (.rows | map(select(.name == n))[0]);
["kubectl", "exec entry", "rounds", "median ms", "min-max ms", "vs static", "paired diff ms"],
(.kubectl[] | select(.rows | length > 0) | (.binary | sub(".*/"; "")) as $b
 | (.rows | map(select(.name == "static"))[0].median_us) as $s
 | .rows[] | [$b, .name, (.runs | tostring), (.median_us | ms), "\(.min_us | ms)-\(.max_us | ms)",
    (.median_us / $s * 1000 | round / 1000 | tostring), (.diff_median_us | ms)])
| @tsv' "$f" | tab
jq -r '.kubectl[] | select(.rows | length > 0) |
	"  \(.binary | sub(".*/"; "")): plugin-disk over plugin-floor \(.ratio_disk_vs_floor_plugin) (our share); plugin-floor over static \(.ratio_floor) (kubectl exec machinery)"' "$f"
echo "  static = --token on the command line, no exec entry; plugin-floor = the"
echo "  static floor program as the exec plugin (the least any plugin can cost)"
echo "  paired diff = median over rounds of (this run - static run of the same round)"
echo

echo "== scale =="
jq -r '
def ms: if . == null then "-" else . / 1000 * 1000 | round / 1000 | tostring end;
(.scale | map(select(.name == "entries-1"))[0].median_us) as $one
| ["cache folder", "median ms", "min-max ms", "vs 1 entry", "failed runs"],
  (.scale[] | [(.name | sub("entries-"; "") + " entries"), (.median_us | ms),
     "\(.min_us | ms)-\(.max_us | ms)", ((.median_us / $one * 100 | round / 100 | tostring) + "x"),
     (.failures | tostring)])
| @tsv' "$f" | tab
echo
jq -r '
def ms: if . == null then "-" else . / 1000 * 100 | round / 100 | tostring end;
["32 at once", "rounds", "median wall ms", "min-max ms", "per call ms", "peak RSS KiB", "failed calls"],
(.concurrent[] | [.name, (.runs | tostring), (.median_us | ms), "\(.min_us | ms)-\(.max_us | ms)",
   (.median_us / 32 | ms), (.rss_kib_max | tostring), (.failures | tostring)])
| @tsv' "$f" | tab
echo

if jq -e '(.latency // []) | length > 0' "$f" >/dev/null; then
	echo "== the cold path over a $(jq -r '.latency[0].rtt_ms' "$f") ms round trip (bench/rttproxy.mjs; issue 15) =="
	jq -r '
	def ms: if . == null then "-" else . / 1000 * 10 | round / 10 | tostring end;
	def n: if . == null then "-" else tostring end;
	["case", "runs", "median ms", "min-max ms", "at 0 RTT ms", "RTTs paid", "round trips", "connections", "TLS handshakes",
	 "requests", "minimum", "vs minimum"],
	(.latency[] | [.name, (.runs | n), (.median_us | ms), "\(.min_us | ms)-\(.max_us | ms)",
	  (.base_median_us | ms),
	  (if .base_median_us == null or .rtt_ms == 0 then "-"
	   else ((.median_us - .base_median_us) / (.rtt_ms * 1000) * 100 | round / 100 | tostring) end),
	  (.round_trips | n), (.connections | n),
	  (if .tls_handshakes == null then "-" else "\(.tls_handshakes) (\(.tls_resumed) resumed)" end),
	  (.requests | n),
	  (if .min_rtt == null then "-" else "\(.min_rtt) RTT = \(.min_rtt * .rtt_ms) ms" end),
	  (if .min_rtt == null or .median_us == null or .rtt_ms == 0 then "-"
	   else (.median_us / (.min_rtt * .rtt_ms * 1000) * 100 | round / 100 | tostring) + "x" end)])
	| @tsv' "$f" | tab
	echo "  round trips = TCP connections + client flights the server answered, counted at the"
	echo "  proxy in one run; requests counted at the IdP.  at 0 RTT = the same runs, interleaved,"
	echo "  with the proxy adding nothing; RTTs paid = (median - that) / RTT.  refresh-cold removes <cache>/oidc"
	echo "  first; device-poll: from sending the poll that gets the token to the plugin's exit;"
	echo "  core-startup: kubectl-mfa-core version (the libraries loaded, no network)"
	echo
fi
jq -r '.notes[] | "note: \(.)"' "$f"
echo "== targets (issue 7) and functional checks =="
jq -r '.checks[] |
	(if .kind == "target" then (if .ok then "met   " else "MISSED" end)
	 else (if .ok then "ok    " else "FAILED" end) end) + "  " + .what +
	(if .kind == "target" then ": \(.value) (limit \(.limit); \(.detail))"
	 elif .ok then "" else ": \(.detail)" end)' "$f"

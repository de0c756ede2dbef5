# Assembles bench/run's measurements into one JSON document and evaluates
# the targets of issue 7.  Inputs come as --arg/--argjson/--slurpfile (see
# bench/run).  Times in microseconds, RSS in KiB.
def row($set; $n): ($set | map(select(.name == $n)) | .[0]) // null;
def med($set; $n): row($set; $n).median_us;
def ratio($a; $b): if $a == null or $b == null or $b == 0 then null
	else ($a / $b * 1000 | round / 1000) end;
def maxv(a; b): if a == null then b elif b == null then a
	elif a > b then a else b end;
def le($v; $l): $v != null and $v <= $l;
def target($id; $what; $value; $limit; $ok; $detail):
	{id: $id, kind: "target", what: $what, value: $value, limit: $limit,
	 ok: $ok, detail: $detail};
def functional($id; $what; $ok; $detail):
	{id: $id, kind: "functional", what: $what, ok: $ok, detail: $detail};
def clean($set): $set | map(select(.failures > 0)) |
	map("\(.name): \(.failures) failed runs (\(.error))");

($hot | map(select(.name == "gke")) | length > 0) as $gke
| med($hot; "floor") as $floor
| maxv(med($hot; "disk-v1"); med($hot; "disk-v1beta1")) as $disk
| maxv(med($hot; "mirror-v1"); med($hot; "mirror-v1beta1")) as $mirror
| med($hot; "gke") as $gkem
| maxv(row($hot; "disk-v1").rss_kib_max; row($hot; "disk-v1beta1").rss_kib_max) as $diskrss
| (if ($kc | length) > 0 then [$kc, $kubectl] else [$kc2, $kubectl2] end) as [$kcp, $kcname]
| ratio(med($kcp; "plugin-disk"); med($kcp; "static")) as $kcratio
| ratio(med($scale; "entries-10000"); med($scale; "entries-1")) as $grow
| {
	mode: $mode, when: $stamp, host: $host, version: $version,
	loadavg: $load, notes: $notes,
	commit: $commit, runs: $runs, kubectl_pairs: $pairs,
	concurrent_rounds: $crounds,
	hot_path: $hot,
	keyring_without_mirror: $core,
	callgrind: $cg,
	kubectl: [
		{binary: $kubectl, rows: $kc,
		 ratio_disk: $kcratio,
		 ratio_mirror: ratio(med($kc; "plugin-mirror"); med($kc; "static")),
		 ratio_floor: ratio(med($kc; "plugin-floor"); med($kc; "static")),
		 ratio_disk_vs_floor_plugin: ratio(med($kc; "plugin-disk"); med($kc; "plugin-floor"))},
		{binary: $kubectl2, rows: $kc2,
		 ratio_disk: ratio(med($kc2; "plugin-disk"); med($kc2; "static")),
		 ratio_mirror: ratio(med($kc2; "plugin-mirror"); med($kc2; "static")),
		 ratio_floor: ratio(med($kc2; "plugin-floor"); med($kc2; "static")),
		 ratio_disk_vs_floor_plugin: ratio(med($kc2; "plugin-disk"); med($kc2; "plugin-floor"))}
	],
	scale: $scale,
	concurrent: $conc,
	latency: $latency,
	ratios: {
		disk_vs_floor: ratio($disk; $floor),
		cluster_vs_disk: ratio(med($hot; "cluster-v1"); med($hot; "disk-v1")),
		cluster_vs_disk_instructions: ratio(
			(($cg | map(select(.name == "cluster-v1")) | .[0].instructions) // null);
			(($cg | map(select(.name == "disk-v1")) | .[0].instructions) // null)),
		mirror_vs_floor: ratio($mirror; $floor),
		floor_dyn_vs_floor: ratio(med($hot; "floor-dyn"); $floor),
		disk_vs_floor_dyn: ratio($disk; med($hot; "floor-dyn")),
		disk_vs_gke: ratio($disk; $gkem),
		mirror_vs_gke: ratio($mirror; $gkem),
		keyring_vs_gke: ratio(maxv(med($core; "keyring-v1"); med($core; "keyring-v1beta1")); $gkem),
		kubectl_plugin_vs_static: $kcratio,
		entries_100_vs_1: ratio(med($scale; "entries-100"); med($scale; "entries-1")),
		entries_10000_vs_1: $grow
	}
}
| .checks = ([
	target("disk-vs-floor"; "disk hot path median <= 1.5x floor";
		.ratios.disk_vs_floor; 1.5; le(.ratios.disk_vs_floor; 1.5);
		"worse of v1/v1beta1 over the static floor"),
	(if $gke then target("disk-vs-gke"; "disk hot path median <= 0.25x GKE plugin";
		.ratios.disk_vs_gke; 0.25; le(.ratios.disk_vs_gke; 0.25);
		"worse of v1/v1beta1 over gke-gcloud-auth-plugin") else empty end),
	target("cluster-vs-disk"; "hot path with the cluster's exec extension <= 1.05x without";
		.ratios.cluster_vs_disk; 1.05; le(.ratios.cluster_vs_disk; 1.05);
		"cluster-v1 over disk-v1, medians, interleaved; instructions \(.ratios.cluster_vs_disk_instructions)x"),
	target("disk-rss"; "disk hot path peak RSS <= 2 MiB";
		$diskrss; 2048; le($diskrss; 2048); "KiB, max over all runs"),
	(if $gke then target("keyring-vs-gke"; "keyring hot path (mirror) below GKE plugin median";
		.ratios.mirror_vs_gke; 1; (.ratios.mirror_vs_gke != null and .ratios.mirror_vs_gke < 1);
		"worse of v1/v1beta1 over gke-gcloud-auth-plugin") else empty end),
	target("kubectl-ratio"; "kubectl round trip plugin/static <= 1.02";
		$kcratio; 1.02; le($kcratio; 1.02);
		"\($kcname), disk storage, ratio of medians, interleaved"),
	target("no-growth"; "no growth with 10,000 entries (<= 1.10x of 1 entry)";
		$grow; 1.10; le($grow; 1.10); "median with 10,000 entries over 1 entry"),
	(row($latency; "refresh-warm") as $w | if $w == null then empty else
	 ($w.rtt_ms * $w.min_rtt * 1000) as $min
	 | ratio($w.median_us; $min) as $lr
	 | target("warm-refresh"; "warm refresh median <= 1.2x TCP + TLS 1.3 + one request (\($w.min_rtt) RTT)";
		$lr; 1.2; le($lr; 1.2);
		"\($w.rtt_ms) ms RTT, \($w.round_trips) round trips, \($w.requests) request(s) at the IdP") end),
	functional("latency-runs"; "every latency run succeeded; the warm refresh was one request";
		((clean($latency) | length == 0) and row($latency; "refresh-warm").requests == 1);
		clean($latency) + ["warm refresh requests: \(row($latency; "refresh-warm").requests)"] | join("; ")),
	functional("hot-runs"; "every hot-path run printed the right ExecCredential";
		(clean($hot + $core) | length == 0); clean($hot + $core) | join("; ")),
	functional("kubectl-runs"; "every kubectl run got /version";
		(clean($kc + $kc2) | length == 0); clean($kc + $kc2) | join("; ")),
	functional("scale-runs"; "every run with 1, 100, 10,000 entries printed the token";
		(clean($scale) | length == 0); clean($scale) | join("; ")),
	functional("concurrent"; "32 concurrent get-token calls all succeed";
		(clean($conc) | length == 0); clean($conc) | join("; ")),
	functional("side-checks"; "logins, callgrind runs, GKE cache, API server log, cache untouched";
		($func | length == 0); $func | join("; "))
])

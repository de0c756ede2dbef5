#!/usr/bin/env bash
# Run every harness: test/fuzz/run.sh BUILD-DIR SECONDS TARGET...
#
# Each harness runs SECONDS seconds over its corpus (BUILD-DIR/corpus/T,
# plus test/fuzz/regressions/T, replayed first), with the project's
# dictionary when there is one.  A crash, leak, timeout or out-of-memory
# leaves its input in BUILD-DIR/artifacts/ and fails the harness.  One line
# per harness, then "N passed, N failed"; the exit status is 1 if any
# failed.  Full logs are in BUILD-DIR/logs/T.log.
set -uo pipefail

build=${1:?usage: run.sh BUILD-DIR SECONDS TARGET...}
seconds=${2:?usage: run.sh BUILD-DIR SECONDS TARGET...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/artifacts" "$build/logs"

# Sanitizers stop at the first error; leaks are errors.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
base_asan=detect_leaks=1:abort_on_error=1:symbolize=1

passed=0
failed=0
for t in "$@"; do
	bin=$build/fuzz_$t
	corpus=$build/corpus/$t
	log=$build/logs/$t.log
	mkdir -p "$corpus"
	asan=$base_asan
	case $t in
	softkey)
		# libcbor 0.8's cbor_load allocates what a CBOR header declares
		# before reading the items (test/fuzz/regressions/softkey/):
		# let such an allocation fail, as the softkey already handles,
		# so that the harness can get past it to the rest of the key.
		asan=$asan:allocator_may_return_null=1:max_allocation_size_mb=64
		;;
	esac
	args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10
	    -print_final_stats=1 -close_fd_mask=2
	    -artifact_prefix="$build/artifacts/$t-")
	dict=$here/$t.dict
	[ -f "$dict" ] || case $t in
	jwt | jwks | oidc | execinfo | record | credfile | minijson)
		dict=$here/json.dict ;;
	esac
	[ -f "$dict" ] && args+=(-dict="$dict")
	dirs=("$corpus")
	[ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")

	before=$(ls "$build/artifacts" | grep -c "^$t-" || true)
	ASAN_OPTIONS=$asan "$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	after=$(ls "$build/artifacts" | grep -c "^$t-" || true)

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	crashes=$((after - before))
	if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
		status=ok
		passed=$((passed + 1))
	else
		status="FAILED (exit $rc, see $log)"
		[ "$crashes" -eq 0 ] && crashes=1
		failed=$((failed + 1))
	fi
	printf '%-9s %s s: %s execs, %s, corpus %s, peak rss %s MB, crashes %s: %s\n' \
	    "$t" "$seconds" "${execs:-?}" "${cov:-cov: ? ft: ?}" "${corp:-?}" \
	    "${rss:-?}" "$crashes" "$status"
	grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY)' "$log" | sed 's/^/          /'
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

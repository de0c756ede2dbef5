#!/usr/bin/env bash
# make valgrind: the unit tests and the plugin runs of end-to-end suites
# under memcheck.  Passes when every process is clean (no memcheck error,
# no byte definitely or indirectly lost) and every test case passes but
# those that only measure wall time (TIMING below).
#
# It builds a wrapper tree under $KMFA_BUILD/vg/tree that looks like a build
# folder to test/run and test/lib.sh: bin/kubectl-mfa, the core, and each
# unit binary are small scripts that exec valgrind on the real program,
# each process logging to $KMFA_BUILD/vg/logs/NAME.PID.log.  The front is
# a copy, not a link, in tree/bin: under valgrind /proc/self/exe still names
# the client program (memcheck emulates it, resolving links as the kernel
# does), and the front finds the core at ../libexec from there, so it
# execs the wrapped core of the tree and the core runs under memcheck too.
# The software key stays a plain link: it is test equipment.
#
# Child programs are not traced (--trace-children=no): the browser command,
# kubectl and the software key are not ours; a fork without exec is still
# checked, in its own log.
#
#   bash test/valgrind.sh [WORD...]   WORDs as test/run takes them; default:
#                                     every unit test and $VG_SUITES
#
# Under memcheck the programs run 20 to 50 times slower, so the few
# assertions that measure wall time fail by design; they are listed in
# TIMING below, reported, and not counted.  Any other failure counts.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
: "${KMFA_BUILD:?KMFA_BUILD must name the build folder (make valgrind sets it)}"
real=$(cd "$KMFA_BUILD" && pwd)
vg=$real/vg
tree=$vg/tree
logs=$vg/logs
# End-to-end suites run by default: each exercises the plugin over a path
# the others do not (core: device flow, refresh, cache, status, logout;
# fido2: the key, PINs, sealing; keyring: the keyring store against a real
# gnome-keyring, and the plugin on it where a keyring_kubectl suite exists;
# hostile: the error paths).  servers and softkey test the test equipment
# and run no plugin.  crash and concurrency are left out: they kill
# or race dozens of plugins on timing, which memcheck makes meaningless.
VG_SUITES=${VG_SUITES:-e2e/core e2e/fido2 e2e/keyring e2e/hostile}

# Cases that only measure wall time (name patterns, ERE).  Each also checks
# the outcome, which make test keeps checking at full speed.
TIMING=(
	'exit 3 in under a second'
	'exit 3 at once \([0-9]+ ms\)'
	'locked: the whole run is bounded'
	'IdP accepts and never answers'
	'http issuer off loopback'
	'discovery names plain-http endpoints off loopback'
	'interval of 3 years is capped'
	'the hit reads the mirror, not D-Bus'
	'explicit keyring, .*: exit 2, one clear line, [0-9]+ ms'
	'locked, explicit keyring: (a miss|status is bounded)'
	'locked, auto: falls back to disk'
)

command -v valgrind >/dev/null || { echo "valgrind is not installed (make deps)" >&2; exit 1; }
for f in bin/kubectl-mfa libexec/kubectl-mfa/kubectl-mfa-core; do
	[ -x "$real/$f" ] || { echo "$real/$f is missing (make test-bins)" >&2; exit 1; }
done

rm -rf "$vg"
mkdir -p "$logs" "$tree/bin" "$tree/libexec/kubectl-mfa" "$tree/test/unit" \
	"$tree/test/softkey"

# shellcheck disable=SC2054 # the commas are inside option values
VG=(valgrind --tool=memcheck --leak-check=full
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--show-leak-kinds=definite,indirect,possible
	--suppressions="$src/test/valgrind.supp" --trace-children=no
	--num-callers=30 --show-error-list=yes)
# VG_EXTRA adds options, e.g. VG_EXTRA=--track-origins=yes to trace an error.
# shellcheck disable=SC2206
VG+=(${VG_EXTRA:-})

# wrap NAME PROGRAM FILE: FILE becomes a script running PROGRAM under memcheck.
wrap() {
	{
		echo '#!/bin/sh'
		printf 'exec'
		printf ' %q' "${VG[@]}" "--log-file=$logs/$1.%p.log" "$2"
		printf ' "$@"\n'
	} >"$3"
	chmod 755 "$3"
}

cp "$real/bin/kubectl-mfa" "$tree/bin/kubectl-mfa.bin"
wrap front "$tree/bin/kubectl-mfa.bin" "$tree/bin/kubectl-mfa"
wrap core "$real/libexec/kubectl-mfa/kubectl-mfa-core" \
	"$tree/libexec/kubectl-mfa/kubectl-mfa-core"
for bin in "$real"/test/unit/*/*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	rel=${bin#"$real"/test/unit/}
	mkdir -p "$tree/test/unit/$(dirname "$rel")"
	wrap "unit-${rel//\//-}" "$bin" "$tree/test/unit/$rel"
done
[ -e "$real/test/softkey/kmfa-softkey" ] &&
	ln -s "$real/test/softkey/kmfa-softkey" "$tree/test/softkey/kmfa-softkey"

start=$(date +%s)
export KMFA_SLOW=1	# for test/lib.sh, once it stretches its time limits
if [ $# -eq 0 ]; then
	# The unit tests are CPU-bound and the suites mostly wait on servers
	# and time-outs: on two cores they run side by side.
	KMFA_BUILD=$tree bash "$here/run" unit/ >"$vg/run-unit.log" 2>&1 &
	upid=$!
	trap 'kill "$upid" 2>/dev/null' INT TERM
	# shellcheck disable=SC2086
	KMFA_BUILD=$tree bash "$here/run" $VG_SUITES >"$vg/run-e2e.log" 2>&1
	wait "$upid"
	trap - INT TERM
	cat "$vg/run-unit.log" "$vg/run-e2e.log" >"$vg/run.log"
else
	KMFA_BUILD=$tree bash "$here/run" "$@" >"$vg/run.log" 2>&1
fi
secs=$(( $(date +%s) - start ))

# Test outcome: every failure must be a timing case.
tpat=$(IFS='|'; echo "${TIMING[*]}")
grep -E '^[a-z0-9/_]+: (not )?ok ' "$vg/run.log" >"$vg/cases" || true
grep -E '^[a-z0-9/_]+: [0-9]+ passed' "$vg/run.log"
hard=$(grep -E '^[a-z0-9/_]+: not ok ' "$vg/cases" | grep -Ev -- "$tpat")
soft=$(grep -E '^[a-z0-9/_]+: not ok ' "$vg/cases" | grep -E -- "$tpat")
if [ -n "$soft" ]; then
	echo 'timing only, not counted under valgrind:'
	printf '%s\n' "$soft" | sed 's/^/  /'
fi
if [ -n "$hard" ]; then
	echo 'failed under valgrind:'
	printf '%s\n' "$hard" | sed 's/^/  /'
	grep -E '^---|^    ' "$vg/run.log" | tail -60
fi
unit_bad=$(grep -E '^unit/[a-z0-9_/]+: [0-9]+ passed, [1-9]' "$vg/run.log")

# Memory outcome, from every log.
procs=0 errs=0 def=0 ind=0 nosum=0 dirty=()
units=0 fronts=0 cores=0
for log in "$logs"/*.log; do
	[ -f "$log" ] || continue
	procs=$((procs + 1))
	case ${log##*/} in
	unit-*) units=$((units + 1)) ;;
	front.*) fronts=$((fronts + 1)) ;;
	core.*) cores=$((cores + 1)) ;;
	esac
	# A log without a summary: the process exec'd another program (the
	# front handing over to the core, a fork running the browser command)
	# or was killed.  Errors it made before are still in it, as stacks.
	if ! grep -q 'ERROR SUMMARY' "$log"; then
		if grep -Eq '^==[0-9]+== +(at|by) 0x' "$log"; then
			dirty+=("$log (errors, then exec or killed)")
			errs=$((errs + 1))
		fi
		nosum=$((nosum + 1))
		continue
	fi
	e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d , | tail -1)
	d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -1)
	i=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | tail -1)
	e=${e:-0} d=${d:-0} i=${i:-0}
	errs=$((errs + e)) def=$((def + d)) ind=$((ind + i))
	[ $((e + d + i)) -gt 0 ] && dirty+=("$log ($e errors, $d+$i bytes lost)")
done
# Suppressions used, by name, over all processes.
sed -n 's/^--[0-9]*-- used_suppression: *\([0-9]*\) \([^ ]*\) .*/\2 \1/p' "$logs"/*.log 2>/dev/null |
	awk '{n[$1] += $2} END {for (s in n) printf "  %6d  %s\n", n[s], s}' | sort -k2 >"$vg/suppressions"

# Plugin runs: each front process (it execs the core under the same PID
# when the cache cannot answer), plus each core started directly (not
# exec'd by a front, not forked by a process of ours).
runs=$fronts direct=0 forks=0
for log in "$logs"/core.*.log; do
	[ -f "$log" ] || continue
	pid=${log##*/core.}; pid=${pid%.log}
	[ -f "$logs/front.$pid.log" ] && continue
	ppid=$(sed -n 's/^==[0-9]*== Parent PID: \([0-9]*\)$/\1/p' "$log" | head -1)
	if [ -n "$ppid" ] && ls "$logs"/*."$ppid".log >/dev/null 2>&1; then
		forks=$((forks + 1))
	else
		direct=$((direct + 1))
	fi
done
runs=$((runs + direct))
ubins=$(ls "$logs" | sed -n 's/^unit-\(.*\)\.[0-9]*\.log$/\1/p' | sort -u | wc -l)
echo "valgrind: $ubins unit-test binaries ($units processes with their forks); $runs plugin runs ($fronts through the front, $direct of the core directly) and $forks forked children; $procs logs; ${secs}s"
echo "valgrind: $errs errors, $def bytes definitely lost, $ind bytes indirectly lost, $nosum logs end in an exec or a signal"
if [ -s "$vg/suppressions" ]; then
	sup=$(grep -h '^==[0-9]*== *suppressed: [0-9,]* bytes' "$logs"/*.log |
		sed 's/.*suppressed: \([0-9,]*\) bytes.*/\1/' | tr -d , |
		awk '$1 > 0 {n++; b += $1} END {printf "%d bytes in %d processes", b, n}')
	echo "suppressed leaks: $sup; suppressions used (uses, name):"
	cat "$vg/suppressions"
fi
if [ ${#dirty[@]} -gt 0 ]; then
	echo "not clean (${#dirty[@]} processes; the first three in full):"
	printf '  %s\n' "${dirty[@]}" | head -20
	for log in "${dirty[@]:0:3}"; do
		echo "--- ${log%% (*}"
		grep -iE '^==[0-9]+== ( +(at|by) 0x|Command|[^ ].*(lost in loss record|invalid|uninitialised|mismatched|overlap|syscall param|fishy))' "${log%% (*}" | head -60
	done
fi
[ ${#dirty[@]} -eq 0 ] && [ -z "$hard" ] && [ -z "$unit_bad" ] && [ "$procs" -gt 0 ]

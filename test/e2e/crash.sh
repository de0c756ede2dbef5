#!/usr/bin/env bash
# Crash safety: SIGKILL the plugin at random points of a refresh and of a
# device-flow login (both end in a cache write), hundreds of times.  After
# every kill:
#   - the cache entry is the old version or the new one, byte for byte, and
#     always a whole record (JSON, version 1, a three-part token): never
#     torn, never gone;
#   - a kill leaves at most one *.tmp.* file (one inside the write window),
#     and each is 0600: it holds the refresh token;
#   - the lock is free at once (flock -n succeeds), and every so often a
#     real get-token takes it and finishes quickly.
# Kill points are random delays over the measured length of a run, half of
# them in its last third, where the write is.  Then a few deterministic
# kills through strace fault injection pin the write's own steps: at the
# temporary file's fsync, at the rename, at the folder's fsync.
# The counts (where the kills landed, what was left) are printed as
# comments for TESTING.md.
. "$(dirname "$0")/../lib.sh"

REFRESH_KILLS=${KMFA_CRASH_REFRESH_KILLS:-270}
LOGIN_KILLS=${KMFA_CRASH_LOGIN_KILLS:-16}
INJECT_EACH=5

start_stub_idp ok
CACHE=$XDG_CACHE_HOME/kubectl-mfa
C=(get-token --oidc-issuer-url "$STUB_URL" --oidc-client-id kubectl
	--certificate-authority "$T/pki/ca.pem" --fido2 off --token-cache-storage disk
	--skip-open-browser --timeout 20s)

mx_run tty "$KMFA" "${C[@]}"
F=$(find "$CACHE" -name '*.json')
{ [ "$MX_RC" -eq 0 ] && [ -n "$F" ] && mx_cache_valid "$F"; } ||
	die "the first login failed (exit $MX_RC): $(tail -1 "$T/mx.err")"
LOCK=${F%.json}.lock

# Put the entry in the state the next run must act on, by our own atomic
# replace (never a name like the plugin's temporary files).
expire() { # [refresh|login]: expired; for login, without a refresh token
	local f='.token_exp = (now | floor) - 60'
	[ "${1:-refresh}" = login ] && f="$f | del(.refresh, .refresh_sealed)"
	jq -c "$f" "$F" >"$T/entry.new" && chmod 600 "$T/entry.new" && mv "$T/entry.new" "$F"
}
tmp_files() { find "$CACHE" -name '*.tmp.*' | wc -l; }
# A pipe nobody writes to: `read -t` on it sleeps without forking, so a
# kill's delay is not stretched by process start-up.
exec {SLEEP_FD}<> <(:)
sleep_us() {
	local s
	printf -v s '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000))
	read -r -t "$s" -u "$SLEEP_FD"
}

# start_run [PREFIX...]: the plugin with a terminal, in the background;
# RUN_PID is the plugin's own PID (the shell execs it), SCRIPT_PID script's.
start_run() {
	rm -f "$T/pid"
	script -qec "echo \$\$ >$T/pid.new && mv $T/pid.new $T/pid && exec $(printf '%q ' "$@" "$KMFA" "${C[@]}") >$T/k.out 2>$T/k.err" \
		/dev/null >/dev/null </dev/null &
	SCRIPT_PID=$!
	local i
	for ((i = 0; i < 10000; i++)); do
		[ -s "$T/pid" ] && break
		kill -0 "$SCRIPT_PID" 2>/dev/null || break
		sleep_us 500
	done
	RUN_PID=$(cat "$T/pid" 2>/dev/null)
	[ -n "$RUN_PID" ] || die "the plugin did not start under script"
}
# median_us MODE RUNS: the median lifetime of unkilled runs, in µs, from
# where a kill's delay starts to the plugin's exit (dead or a zombie).
median_us() {
	local i t0 t1 st times=()
	for ((i = 0; i < $2; i++)); do
		expire "$1"
		start_run
		t0=${EPOCHREALTIME/./}
		while read -r st <"/proc/$RUN_PID/stat"; do
			case $st in *") Z "* | *") X "*) break ;; esac
			sleep_us 200
		done 2>/dev/null
		t1=${EPOCHREALTIME/./}
		wait "$SCRIPT_PID" || die "an unkilled $1 run failed: $(tail -1 "$T/k.err")"
		times+=($((t1 - t0)))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(($2 / 2 + 1))p"
}

# kill_series MODE COUNT SPAN_US FOCUS: COUNT kills; half uniform over
# SPAN_US, half over its last 1/FOCUS part (where the write is).  Sets
# the counters below; failures are kept as messages in FAILS.  The runs that check the lock afterwards must end
# within the median run plus a second (a stuck lock would wait --timeout).
kill_series() {
	local mode=$1 count=$2 span=$3 focus=$4 i delay old_sum sum tmps_before tmps
	local quick_ms=$((span / 1000 + 1000))
	OLD=0 NEW=0 GONE=0 TORN=0 DURING=0 MISSED=0 STUCK=0 QUICK_FAIL=0 BADMODE=0
	FAILS=()
	for ((i = 0; i < count; i++)); do
		expire "$mode"
		old_sum=$(sha256sum <"$F")
		tmps_before=$(tmp_files)
		delay=$(( (RANDOM * 32768 + RANDOM) % span ))
		((i % 2 == 0)) || delay=$(( span - span / focus + delay / focus ))
		start_run
		sleep_us "$delay"
		kill -KILL "$RUN_PID" 2>/dev/null || MISSED=$((MISSED + 1))
		wait "$SCRIPT_PID" 2>/dev/null
		if [ ! -e "$F" ]; then
			GONE=$((GONE + 1)); FAILS+=("kill $i after ${delay}us: the entry is gone")
			cp "$T/last-good" "$F"
		elif ! mx_cache_valid "$F"; then
			TORN=$((TORN + 1)); FAILS+=("kill $i after ${delay}us: torn entry")
			cp "$T/last-good" "$F"
		else
			sum=$(sha256sum <"$F")
			if [ "$sum" = "$old_sum" ]; then OLD=$((OLD + 1)); else NEW=$((NEW + 1)); fi
			cp -p "$F" "$T/last-good"
		fi
		tmps=$(tmp_files)
		if ((tmps > tmps_before)); then DURING=$((DURING + tmps - tmps_before)); fi
		if ((tmps > tmps_before + 1)); then
			FAILS+=("kill $i: $((tmps - tmps_before)) temporary files from one kill")
		fi
		if [ -n "$(find "$CACHE" -name '*.tmp.*' -perm /077)" ]; then
			BADMODE=$((BADMODE + 1)); FAILS+=("kill $i: a temporary file others can read")
		fi
		if ! flock -n -E 99 "$LOCK" true; then
			STUCK=$((STUCK + 1)); FAILS+=("kill $i after ${delay}us: the lock is held after the kill")
		fi
		# Every 25 kills, and after the last: a real run takes the lock at
		# once and ends well within a second.
		if ((i % 25 == 24 || i == count - 1)); then
			expire "$mode"
			mx_run tty "$KMFA" "${C[@]}"
			if [ "$MX_RC" -ne 0 ] || [ "$MX_MS" -ge "$quick_ms" ] || ! mx_cache_valid "$F"; then
				QUICK_FAIL=$((QUICK_FAIL + 1))
				FAILS+=("after kill $i the next get-token: exit $MX_RC in $MX_MS ms: $(tail -1 "$T/mx.err")")
			fi
			cp -p "$F" "$T/last-good"
		fi
	done
}

cp -p "$F" "$T/last-good"
start=$(date +%s)
span=$(median_us refresh 5)
kill_series refresh "$REFRESH_KILLS" "$span" 3
echo "# refresh: $REFRESH_KILLS kills over ${span} us in $(( $(date +%s) - start )) s: old $OLD, new $NEW, inside the write $DURING, plugin already gone $MISSED; gone $GONE, torn $TORN, lock held $STUCK"
check "refresh: $REFRESH_KILLS SIGKILLs, the entry always old or new, never torn or gone" \
	'[ $TORN -eq 0 ] && [ $GONE -eq 0 ] && [ $((OLD + NEW)) -eq "$REFRESH_KILLS" ]'
check "refresh: the kills landed both before and after the write (old $OLD, new $NEW)" \
	'[ $OLD -gt 0 ] && [ $NEW -gt 0 ]'
check "refresh: the lock was free after every kill, and the next run took it at once" \
	'[ $STUCK -eq 0 ] && [ $QUICK_FAIL -eq 0 ]'
check "refresh: at most one temporary file per kill, each 0600 ($DURING left)" \
	'[ $BADMODE -eq 0 ] && [ -z "$(printf "%s\n" "${FAILS[@]}" | grep temporary)" ]'
[ ${#FAILS[@]} -eq 0 ] || printf '# %s\n' "${FAILS[@]}" | head -20
REFRESH_DURING=$DURING

t=$(date +%s)
span=$(median_us login 3)
kill_series login "$LOGIN_KILLS" "$span" 20
echo "# login: $LOGIN_KILLS kills over ${span} us in $(( $(date +%s) - t )) s: old $OLD, new $NEW, inside the write $DURING, plugin already gone $MISSED; gone $GONE, torn $TORN, lock held $STUCK"
check "device login: $LOGIN_KILLS SIGKILLs, the entry always old or new, never torn or gone" \
	'[ $TORN -eq 0 ] && [ $GONE -eq 0 ] && [ $((OLD + NEW)) -eq "$LOGIN_KILLS" ]'
check "device login: the lock was free after every kill, and the next run took it at once" \
	'[ $STUCK -eq 0 ] && [ $QUICK_FAIL -eq 0 ]'
check "device login: at most one temporary file per kill, each 0600" \
	'[ $BADMODE -eq 0 ] && [ -z "$(printf "%s\n" "${FAILS[@]}" | grep temporary)" ]'
[ ${#FAILS[@]} -eq 0 ] || printf '# %s\n' "${FAILS[@]}" | head -20

# Deterministic kills inside the write, by syscall: the first fsync is the
# temporary file's (nothing is fsynced before it), then the rename, then
# the folder's fsync.  strace delivers SIGKILL on entry, before the call.
inject() { # SYSCALLS WHEN -> "old tmp+N" | "new tmp+N" | "torn"
	local before sum
	expire refresh
	sum=$(sha256sum <"$F")
	before=$(tmp_files)
	mx_run tty strace -f -o /dev/null -e trace="$1" \
		-e inject="$1:signal=SIGKILL:when=$2" "$KMFA" "${C[@]}"
	if ! mx_cache_valid "$F"; then echo torn
	elif [ "$(sha256sum <"$F")" = "$sum" ]; then echo "old tmp+$(( $(tmp_files) - before ))"
	else echo "new tmp+$(( $(tmp_files) - before ))"
	fi
}
RENAMES=rename,renameat,renameat2
for point in "fsync 1 old tmp+1" "$RENAMES 1 old tmp+1" "fsync 2 new tmp+0"; do
	set -- $point
	got=()
	for ((i = 0; i < INJECT_EACH; i++)); do got+=("$(inject "$1" "$2")"); done
	want="$3 $4"
	bad=$(printf '%s\n' "${got[@]}" | grep -vcx "$want")
	check "SIGKILL at ${1%%,*} #$2 of the write, $INJECT_EACH times: $want each time" \
		'[ "$bad" -eq 0 ] && flock -n "$LOCK" true'
	[ "$bad" -eq 0 ] || echo "# got: ${got[*]}"
done

mx_run tty "$KMFA" "${C[@]}"
check "after every kill, a get-token still works on the entry" \
	'[ "$MX_RC" -eq 0 ] && jq -e .status.token "$T/mx.out" >/dev/null'
left=$(tmp_files)
echo "# temporary files left in the cache folder: $left (inside-the-write kills: refresh $REFRESH_DURING, login $DURING, injected $((2 * INJECT_EACH))); a later successful write does not remove them"
check "the audit log is whole JSON lines after all the kills" \
	'jq -e . "$XDG_STATE_HOME/kubectl-mfa/audit.log" >/dev/null'
echo "# crash suite: $(( $(date +%s) - start )) s for $((REFRESH_KILLS + LOGIN_KILLS + 3 * INJECT_EACH)) kills"
finish

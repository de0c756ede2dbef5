#!/usr/bin/env bash
# Concurrency: 50 kubectl processes at once over 3 contexts (3 users whose
# plugin configurations differ by scope, so 3 cache entries and 3 locks),
# against the real IdP, every cached ID token expired.  Every process must
# succeed; each context is refreshed exactly once at the IdP (the lock
# serialises them and the processes that waited find the new token), no
# device flow runs, and the 3 entries end whole and fresh.
. "$(dirname "$0")/../lib.sh"

PROCS=50
start_idp --id-token-ttl 120
start_apiserver
browser_env alice
CACHE=$XDG_CACHE_HOME/kubectl-mfa

SCOPES=("" profile email)
for n in 0 1 2; do
	args=(get-token --oidc-issuer-url "$IDP_URL" --oidc-client-id kubectl
		--certificate-authority "$T/pki/ca.pem" --fido2 off
		--token-cache-storage disk --browser-command "$KMFA_BROWSER")
	[ -z "${SCOPES[n]}" ] || args+=(--oidc-extra-scope "${SCOPES[n]}")
	write_kubeconfig "$T/kc$n" "$API_URL" v1 -- "$KMFA" "${args[@]}"
done

# kc N CACHE_DIR OUT: kubectl with a terminal (a refresh needs a person
# present: the plugin never logs in or refreshes unattended).
kc() {
	script -qec "$(printf '%q ' kubectl --kubeconfig "$T/kc$1" --cache-dir "$2" \
		get --raw /version) >$3.out 2>$3.err" /dev/null >/dev/null </dev/null
}

# One real device-flow login per context.
for n in 0 1 2; do
	kc "$n" "$T/kcache" "$T/login$n" ||
		die "context $n: the first login failed: $(tail -1 "$T/login$n.err")"
done
mapfile -t ENTRIES < <(find "$CACHE" -name '*.json' | sort)
[ ${#ENTRIES[@]} -eq 3 ] || die "3 logins made ${#ENTRIES[@]} cache entries"
check "3 contexts, 3 device logins, 3 cache entries" \
	[ "$(idp_count /device/auth)" -eq 3 ]

# Time passes: every ID token has expired (the refresh tokens have not).
declare -A OLD
for f in "${ENTRIES[@]}"; do
	jq -c '.token_exp = (now | floor) - 1' "$f" >"$f.new" && chmod 600 "$f.new" && mv "$f.new" "$f"
	OLD[$f]=$(jq -r .token "$f")
done
refresh_before=$(idp_count /token refresh_token)
device_before=$(idp_count /device/auth)
api_before=$(wc -l <"$API_LOG")

start=$(date +%s%N)
pids=()
for ((i = 0; i < PROCS; i++)); do
	kc $((i % 3)) "$T/kcache-$i" "$T/c$i" &
	pids+=($!)
done
fails=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[i]}" || ! grep -q gitVersion "$T/c$i.out"; then
		fails=$((fails + 1))
		echo "# process $i (context $((i % 3))): $(tail -1 "$T/c$i.err")"
	fi
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# $PROCS kubectl processes over 3 contexts: $ms ms"

check "$PROCS concurrent kubectl processes over 3 contexts all succeed ($fails failed)" \
	[ "$fails" -eq 0 ]
refreshes=$(( $(idp_count /token refresh_token) - refresh_before ))
check "exactly 3 refreshes at the IdP, one per context ($refreshes)" \
	[ "$refreshes" -eq 3 ]
check "no device flow ran" [ "$(idp_count /device/auth)" -eq "$device_before" ]
whole=0 renewed=0
for f in "${ENTRIES[@]}"; do
	mx_cache_valid "$f" && whole=$((whole + 1))
	if [ "$(jq -r .token "$f")" != "${OLD[$f]}" ] &&
		[ "$(jq '.token_exp > now' "$f")" = true ]; then
		renewed=$((renewed + 1))
	fi
done
check "the 3 entries are whole ($whole) and each holds a new, valid token ($renewed)" \
	'[ $whole -eq 3 ] && [ $renewed -eq 3 ]'
check "no other cache entry and no temporary file appeared" \
	'[ "$(find "$CACHE" -name "*.json" | wc -l)" -eq 3 ] && [ -z "$(find "$CACHE" -name "*.tmp.*")" ]'
unauthorized=$(tail -n +"$((api_before + 1))" "$API_LOG" | jq -s '[.[] | select(.authorized | not)] | length')
check "the API server accepted every request of the $PROCS processes ($unauthorized refused)" \
	[ "$unauthorized" -eq 0 ]
# Each context's processes got that context's refreshed token: the token
# the API server saw last per subject is what the cache holds.
subjects=$(for f in "${ENTRIES[@]}"; do jwt_json "$(jq -r .token "$f")" | jq -r .sub; done | sort -u)
check "every refreshed token is alice's" [ "$subjects" = alice ]
finish

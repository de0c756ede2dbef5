#!/usr/bin/env bash
# Keyring storage, hot path versus keyring path, on a private gnome-keyring
# (test/components/keyring.sh).  Prints hyperfine medians and peak RSS for:
#   floor     cat of the mirror file (libc only)
#   mirror    the front (bin/kubectl-mfa) answering from the runtime mirror
#   disk      the front answering from the disk cache
#   full-disk    the harness (linked against all the heavy libraries, like
#                the full program) loading from disk: their loading cost
#   probe        the same harness: kmfa_keyring_probe() only
#   keyring      the same harness: open storage (probe the Secret Service),
#                load the item, decode it
#   secret-tool  `secret-tool lookup` of the same item, for reference
# Usage: KMFA_BUILD=build bash bench/keyring.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
export KMFA_SRC=$(cd "$here/.." && pwd)
. "$KMFA_SRC/test/lib.sh"
HEAVY="libcurl libcjson libfido2 libcrypto libsecret-1 libqrencode"
H=$T/keyring_load
# Built here, not by the Makefile: a measuring tool, not part of the product.
# --no-as-needed: load every heavy library, as the finished full program
# will (it calls into all of them), though this harness calls only some.
cc -std=c11 -O2 -D_GNU_SOURCE -I"$KMFA_SRC/lib" $(pkg-config --cflags $HEAVY) \
    -o "$H" "$here/keyring_load.c" $(for l in flow ui store key oidc jose token base; do
	printf '%s ' "$KMFA_BUILD/lib/libkmfa-$l.a"; done) \
    -Wl,--no-as-needed $(pkg-config --libs $HEAVY) ||
	die "cannot build the harness"
start_keyring
OPTS="--oidc-issuer-url https://idp.example --oidc-client-id kubectl"
"$H" seed $OPTS --token-cache-storage keyring 2>/dev/null || die "seed keyring"
"$H" seed $OPTS --token-cache-storage disk 2>/dev/null || die "seed disk"
key=$(ls "$XDG_RUNTIME_DIR/kubectl-mfa/" | sed -n 's/\.json$//p' | head -1)
"$KMFA" get-token $OPTS >/dev/null || die "the front missed the mirror"
"$KMFA" get-token $OPTS --token-cache-storage disk >/dev/null ||
	die "the front missed the disk entry"
"$H" load $OPTS --token-cache-storage auto || die "the harness missed"

hyperfine -N --warmup 20 --runs "${RUNS:-300}" --export-json "$T/h.json" \
    -n floor "cat $XDG_RUNTIME_DIR/kubectl-mfa/$key.json" \
    -n mirror "$KMFA get-token $OPTS" \
    -n disk "$KMFA get-token $OPTS --token-cache-storage disk" \
    -n full-disk "$H load $OPTS --token-cache-storage disk" \
    -n probe "$H probe" \
    -n keyring "$H load $OPTS --token-cache-storage keyring" \
    -n secret-tool "secret-tool lookup service kubectl-mfa key $key" \
    >"$T/hyperfine.out" 2>&1 || { cat "$T/hyperfine.out"; die hyperfine; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
printf '%-12s %10s %10s %12s\n' case median_ms mean_ms peak_rss_KiB
for name in floor mirror disk full-disk probe keyring secret-tool; do
	case $name in
	floor) cmd=(cat "$XDG_RUNTIME_DIR/kubectl-mfa/$key.json") ;;
	mirror) cmd=("$KMFA" get-token $OPTS) ;;
	disk) cmd=("$KMFA" get-token $OPTS --token-cache-storage disk) ;;
	full-disk) cmd=("$H" load $OPTS --token-cache-storage disk) ;;
	probe) cmd=("$H" probe) ;;
	keyring) cmd=("$H" load $OPTS --token-cache-storage keyring) ;;
	secret-tool) cmd=(secret-tool lookup service kubectl-mfa key "$key") ;;
	esac
	jq -r --arg n "$name" '.results[] | select(.command == $n) |
	    "\(.median * 1000 * 100 | round / 100) \(.mean * 1000 * 100 | round / 100)"' \
	    "$T/h.json" | { read -r med mean
		printf '%-12s %10s %10s %12s\n' "$name" "$med" "$mean" "$(rss "${cmd[@]}")"; }
done

#!/usr/bin/env bash
# Write the seed corpora: test/fuzz/seeds.sh GEN-SEEDS OUTDIR
#
# Every seed is generated (gen_seeds.c signs the tokens, encodes the records,
# seals the envelopes and asks the test authenticator for its credential);
# nothing is pasted.  Seeds are rewritten under the same names each time, so
# what the fuzzer added to OUTDIR/<target>/ in earlier runs is kept and a
# longer run starts from there.
set -euo pipefail

gen=${1:?usage: seeds.sh GEN-SEEDS OUTDIR}
out=${2:?usage: seeds.sh GEN-SEEDS OUTDIR}
mkdir -p "$out"
"$gen" "$out"

# minijson reads what the front reads: the exec info and the records.
# One cp each: inputs the fuzzer added are named by their hash, so the two
# folders can hold the same name (same bytes), which one cp refuses.
mkdir -p "$out/minijson"
cp "$out"/execinfo/* "$out/minijson/"
cp "$out"/record/* "$out/minijson/"

# Durations and odd command lines are short enough to spell here: the
# first byte is the KMFA_OPTSET_* mask the harness hands kmfa_config_parse
# (0x1f: OIDC, FIDO2, LOGIN, STATUS, ALL), the rest is argv cut at NULs.
mkdir -p "$out/config"
i=0
for d in 90s 15m 1h30m 2h 0 0s 8784h 8785h 1h1h 10 -5s 9999999999999999999s; do
	printf '\x1f--skew\0%s' "$d" >"$out/config/duration-$i"
	i=$((i + 1))
done
printf '\x9f--oidc-issuer-url\0--help\0-v\0-v\0a\0b\0c\0d\0e' \
    >"$out/config/positional"
printf '\x01--oidc-extra-scope=' >"$out/config/empty-value"

# The browser login's listener: the callback as a browser sends it, and a
# few of the requests it must turn away (fuzz_loopback.c's HOST and STATE).
mkdir -p "$out/loopback"
st=s0123456789abcdefghijklmnopqrstuvwxyzABCDEF
printf 'GET /?code=abc&state=%s&iss=https%%3A%%2F%%2Fidp HTTP/1.1\r\nHost: 127.0.0.1:40000\r\nUser-Agent: x\r\n\r\n' "$st" >"$out/loopback/callback"
printf 'GET /?error=access_denied&error_description=no+way&state=%s HTTP/1.1\r\nHost: 127.0.0.1:40000\r\n\r\n' "$st" >"$out/loopback/error"
printf 'GET /?code=abc&state=%s HTTP/1.1\r\nHost: evil.example:40000\r\n\r\n' "$st" >"$out/loopback/foreign-host"
printf 'GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:40000\r\n\r\n' >"$out/loopback/favicon"

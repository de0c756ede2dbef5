#!/usr/bin/env bash
# The architecture as the tree shows it: lib/ is in layers (the Makefile's
# LAYERS, highest first), a module may include only headers of its own layer
# or of layers below it, plugin/ is the only place above lib/, and the front
# binary is built from the token and base layers alone.  A change that
# reaches upwards fails here before it makes the layers a fiction.
. "$(dirname "$0")/../lib.sh"

cd "$KMFA_SRC" || die "no source tree"
read -r -a layers <<<"$(sed -n 's/^LAYERS *:= *//p' Makefile)"
read -r -a front <<<"$(sed -n 's/^FRONT_LAYERS *:= *//p' Makefile)"
[ ${#layers[@]} -ge 2 ] || die "no LAYERS in the Makefile"
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }

# Every folder of lib/ is a layer, and every layer a folder.
dirs=$(cd lib && ls -d */ | tr -d / | sort | tr '\n' ' ')
want=$(printf '%s\n' "${layers[@]}" | sort | tr '\n' ' ')
check "lib/'s folders are the Makefile's layers ($want)" '[ "$dirs" = "$want" ]'
check "no source file sits directly in lib/" '[ -z "$(find lib -maxdepth 1 -type f)" ]'

bad=
for f in lib/*/*.[ch]; do
	own=$(rank "$(basename "$(dirname "$f")")")
	while IFS= read -r inc; do
		case $inc in */*) ;; *) bad="$bad $f:$inc(no layer)"; continue ;; esac
		r=$(rank "${inc%%/*}")
		if [ "$r" -lt 0 ]; then bad="$bad $f:$inc(unknown)"
		elif [ "$r" -lt "$own" ]; then bad="$bad $f:$inc(upwards)"; fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
check "every lib/ include names its layer and points down${bad:+:$bad}" '[ -z "$bad" ]'

# The self-check above must be able to fail: a planted upward include.
mkdir -p "$T/probe/lib/base" && printf '#include "flow/flow.h"\n' >"$T/probe/lib/base/x.c"
inc=$(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$T/probe/lib/base/x.c")
check "the include rule sees an upward include (base -> flow)" \
	'[ "$(rank "${inc%%/*}")" -lt "$(rank base)" ]'

clears=$(grep -rln 'kmfa_report_clear *(' lib plugin | grep -v '^lib/base/report\.[ch]$' | tr '\n' ' ')
check "lib/ and plugin/ tolerate failures with report scopes, never by clearing the cause${clears:+ ($clears)}" '[ -z "$clears" ]'

# Prefix = file: an exported function of lib/LAYER/X.c is kmfa_X or
# kmfa_X_..., so a reader finds it from its name.  The exceptions are the
# base verbs every module uses, named like the libc calls they stand
# beside: report.c's kmfa_fail/warn/info/debug, err.c's kmfa_strerror,
# util.c's small helpers, and b64.c's base64url pair.
misplaced=
for f in lib/*/*.c; do
	m=$(basename "$f" .c)
	for fn in $(sed -n 's/^\(kmfa_[a-z0-9_]*\)(.*/\1/p' "$f"); do
		case $fn in kmfa_"$m" | kmfa_"$m"_*) continue ;; esac
		case $m:$fn in
		report:kmfa_fail | report:kmfa_warn | report:kmfa_info | report:kmfa_debug) ;;
		err:kmfa_strerror | b64:kmfa_b64url_*) ;;
		util:kmfa_freezero* | util:kmfa_asprintf | util:kmfa_printable | util:kmfa_hex | util:kmfa_now | util:kmfa_rfc3339) ;;
		*) misplaced="$misplaced $f:$fn" ;;
		esac
	done
done
check "every exported lib/ function is named after its file${misplaced:+:$misplaced}" '[ -z "$misplaced" ]'

check "the front is built from the token and base layers only (FRONT_LAYERS)" \
	'[ "${front[*]}" = "token base" ]'
fronthdrs=$(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' plugin/front.c | sort -u | tr '\n' ' ')
check "plugin/front.c includes token and base headers only ($fronthdrs)" \
	'[ -z "$(printf "%s\n" $fronthdrs | grep -vx "token\|base")" ]'
# The static link proves it at build time; here, that nothing of a heavy
# library or of a higher layer ended up inside the front.
if command -v nm >/dev/null; then
	own=$(nm "$KMFA" 2>/dev/null | grep -c ' T kmfa_config_parse$')
	check "nm reads the front's symbols (kmfa_config_parse is there)" '[ "$own" -eq 1 ]'
	# Every global symbol that a layer above token defines, from the
	# archives themselves, so that a new module is covered without a list.
	high=()
	for l in "${layers[@]}"; do
		case " ${front[*]} " in *" $l "*) continue ;; esac
		high+=("$KMFA_BUILD/lib/libkmfa-$l.a")
	done
	nm --defined-only -g "${high[@]}" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$T/high.syms"
	nm --defined-only "$KMFA" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$T/front.syms"
	nhigh=$(wc -l <"$T/high.syms")
	check "the higher layers' archives define symbols to compare with ($nhigh)" '[ "$nhigh" -gt 50 ]'
	leak=$(comm -12 "$T/high.syms" "$T/front.syms" | head -5 | tr '\n' ' ')
	check "the front holds no symbol of a layer above token${leak:+ ($leak)}" '[ -z "$leak" ]'
	heavy=$(grep -cE '^(curl_|fido_|EVP_|cJSON_|secret_|g_|dbus_)' "$T/front.syms")
	check "the front holds no symbol of a heavy library ($heavy)" '[ "$heavy" -eq 0 ]'
else
	not_ok "nm is missing (binutils)"
fi
finish

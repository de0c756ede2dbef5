#!/usr/bin/env bash
# The documentation against the program: the man page lints clean, the
# README's runnable shell examples run, and the options the README, the man
# page, each command's --help and the bash completion name are the options
# the program accepts (and the reverse).
#
# A README example is runnable when the line before its ```sh fence is
#   <!-- runnable -->            it must exit 0, or
#   <!-- runnable exit=N ... --> it must exit N (say why after N).
# Each runs as written with bash -e in this script's private world (HOME
# and XDG folders of its own, nothing cached, no network but loopback),
# with the build's bin first on PATH so `kubectl mfa` finds the plugin.
. "$(dirname "$0")/../lib.sh"

MAN=$KMFA_SRC/man/kubectl-mfa.1
README=$KMFA_SRC/README.md
COMP=$KMFA_SRC/man/kubectl-mfa.bash
COMMANDS=(get-token login status logout enroll keys setup version)

# 1. The man page.
groff -man -ww -z "$MAN" >"$T/groff.out" 2>&1
rc=$?
check "groff -man -ww -z: the man page has no warnings" \
	'[ $rc -eq 0 ] && [ ! -s "$T/groff.out" ]'
# man-db's lint (it runs groff as man itself would).  A man without
# --warnings (not man-db) makes the case a counted skip; the groff lint
# above still holds.
if man --help 2>/dev/null | grep -q -- --warnings; then
	MANWIDTH=80 man --warnings -l "$MAN" >/dev/null 2>"$T/man.err"
	rc=$?
	check "man --warnings -l: no warnings" '[ $rc -eq 0 ] && [ ! -s "$T/man.err" ]'
else
	skip "man --warnings -l: no warnings" "$(command -v man || echo "no man") has no --warnings"
fi
missing=
for c in "${COMMANDS[@]}"; do
	grep -q "^\.B kubectl-mfa $c" "$MAN" && grep -qx "\.B $c" "$MAN" || missing="$missing $c"
done
check "the man page has every command in SYNOPSIS and COMMANDS${missing:+ (missing:$missing)}" '[ -z "$missing" ]'
check "the man page's version is the program's" \
	'grep -q "\"kubectl-mfa $("$KMFA" version | cut -d" " -f2)\"" "$MAN"'

# 2. The README's runnable examples.
n=0 want= inblock=0 expect_fence=0
while IFS= read -r line; do
	if [ $inblock = 1 ]; then
		if [[ $line =~ ^[[:space:]]*\`\`\`[[:space:]]*$ ]]; then
			inblock=0
		else
			printf '%s\n' "$line" >>"$T/readme-$n.sh"
		fi
		continue
	fi
	if [ $expect_fence = 1 ]; then
		[ -z "${line//[[:space:]]/}" ] && continue
		expect_fence=0
		if [[ $line =~ ^[[:space:]]*\`\`\`(sh|bash)[[:space:]]*$ ]]; then
			inblock=1
			: >"$T/readme-$n.sh"
			echo "$want" >"$T/readme-$n.exit"
		else
			not_ok "README runnable marker $n is followed by a \`\`\`sh block" "got: $line"
		fi
		continue
	fi
	if [[ $line =~ ^[[:space:]]*\<!--\ runnable(\ exit=([0-9]+))?.*--\>[[:space:]]*$ ]]; then
		n=$((n + 1)) want=${BASH_REMATCH[2]:-0} expect_fence=1
	fi
done <"$README"
check "the README has runnable examples ($n)" [ "$n" -ge 1 ]
mkdir -p "$T/readme-cwd"
for ((i = 1; i <= n; i++)); do
	[ -f "$T/readme-$i.sh" ] || continue
	want=$(cat "$T/readme-$i.exit")
	first=$(grep -m1 -v '^[[:space:]]*$' "$T/readme-$i.sh" | sed 's/^[[:space:]]*//')
	(cd "$T/readme-cwd" && PATH=$KMFA_BUILD/bin:$PATH timeout 60 bash -e "$T/readme-$i.sh") \
		>"$T/readme-$i.out" 2>"$T/readme-$i.err" </dev/null
	rc=$?
	if [ $rc -eq "$want" ]; then
		ok "README example $i ($first) exits $want"
	else
		not_ok "README example $i ($first) exits $want" \
			"exit $rc: $(tail -2 "$T/readme-$i.err" | tr '\n' ' ')"
	fi
done

# 3. Options: what the program accepts, probed per command.  The parser
# runs before --help is acted on, so `CMD --help --OPT` fails with
# "unknown option" exactly when CMD does not take --OPT.
ALL_OPTS=$(grep -o '{ "[a-z0-9-]*", KMFA_VAL_' "$KMFA_SRC/lib/token/config.c" | cut -d'"' -f2 | sed 's/^/--/' | sort -u)
check "the option table lists options ($(wc -w <<<"$ALL_OPTS"))" [ "$(wc -w <<<"$ALL_OPTS")" -ge 20 ]
accepts() { # CMD OPT
	"$KMFA" "$1" --help "$2" >/dev/null 2>"$T/probe.err" </dev/null
	! grep -q "unknown option" "$T/probe.err"
}
for c in "${COMMANDS[@]}"; do
	for o in $ALL_OPTS; do accepts "$c" "$o" && echo "$o"; done | sort >"$T/accepts-$c"
	"$KMFA" "$c" --help | grep -oE -- '--[a-z0-9][a-z0-9-]*' | grep -vx -- --help | sort -u >"$T/help-$c"
done
cat "$T"/accepts-* | sort -u >"$T/accepts-any"
check "every option in the table is accepted by some command" \
	'[ -z "$(comm -23 <(tr " " "\n" <<<"$ALL_OPTS" | sort) "$T/accepts-any")" ]'

# --help and the parser agree, both ways, for each command.
for c in "${COMMANDS[@]}"; do
	extra=$(comm -23 "$T/help-$c" "$T/accepts-$c" | tr '\n' ' ')
	check "$c --help names no option $c refuses${extra:+ (refused: $extra)}" '[ -z "$extra" ]'
	hidden=$(comm -13 "$T/help-$c" "$T/accepts-$c" | tr '\n' ' ')
	check "$c --help names every option $c accepts${hidden:+ (not shown: $hidden)}" '[ -z "$hidden" ]'
done

# The man page and the README name only real options, and the man page
# names them all.
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$MAN" | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u >"$T/man-opts"
grep -oE -- '--[a-z0-9][a-z0-9-]*' "$README" | sort -u >"$T/readme-opts"
grep -vxF -e --help -e --verbose "$T/man-opts" | comm -23 - "$T/accepts-any" >"$T/x"
check "the man page names no option the program lacks$( [ -s "$T/x" ] && echo " ($(tr '\n' ' ' <"$T/x"))")" '[ ! -s "$T/x" ]'
comm -13 "$T/man-opts" "$T/accepts-any" >"$T/x"
check "the man page documents every option$( [ -s "$T/x" ] && echo " (missing: $(tr '\n' ' ' <"$T/x"))")" '[ ! -s "$T/x" ]'
# The README also shows make variables and other programs' flags; only
# kubectl-mfa's own are checked (a flag on a kubectl-mfa line).
grep -E 'kubectl[ -]mfa|^ +--' "$README" | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u |
	grep -vxF -e --help | comm -23 - "$T/accepts-any" >"$T/x"
check "the README names no kubectl-mfa option the program lacks$( [ -s "$T/x" ] && echo " ($(tr '\n' ' ' <"$T/x"))")" '[ ! -s "$T/x" ]'
for o in $(cat "$T/readme-opts"); do
	grep -qx -- "$o" "$T/accepts-any" || grep -qx -- "$o" "$T/man-opts" || echo "$o"
done >"$T/x"
check "every option the README mentions exists in the program or the man page$( [ -s "$T/x" ] && echo " ($(tr '\n' ' ' <"$T/x"))")" '[ ! -s "$T/x" ]'

# The bash completion offers exactly what each command accepts.
for c in "${COMMANDS[@]}"; do
	complete_words "$COMP" kubectl-mfa "$c" -- | grep -vxF -e --help -e -v >"$T/comp-$c"
	d=$(diff "$T/comp-$c" "$T/accepts-$c" | grep '^[<>]' | tr '\n' ' ')
	check "bash completion for $c offers the options $c accepts${d:+ (diff: $d)}" '[ -z "$d" ]'
done
check "bash completion offers every command" \
	'[ "$(complete_words "$COMP" kubectl-mfa "" | grep -v "^-" | tr "\n" " ")" = \
	   "$(printf "%s\n" "${COMMANDS[@]}" | sort | tr "\n" " ")" ]'

finish

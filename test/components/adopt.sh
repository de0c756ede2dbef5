# Helpers for the adoption suites (setup, cli, install, docs), sourced by
# test/lib.sh with every other component: kubeconfig files read back through
# kubectl itself, a terminal for the plugin, and a driver for the bash
# completion.  Nothing here starts a server; every function is bounded.

# kc_json FILE: the kubeconfig as kubectl reads it, as JSON (secrets raw).
kc_json() { kubectl config view --kubeconfig "$1" --raw -o json; }

# entry_users FILE: FILE holds a users[] entry as `setup` prints it; wrap it
# in an otherwise empty kubeconfig and let kubectl parse it (so the YAML is
# judged by the same parser that will read it in use).  Prints the users
# array as JSON; fails when kubectl cannot read it.
entry_users() {
	{ printf 'apiVersion: v1\nkind: Config\nusers:\n'; cat "$1"; } >"$1.kubeconfig"
	kc_json "$1.kubeconfig" | jq -e '.users'
}

# json_args ARG...: the arguments as one compact JSON array, for comparing
# with an exec entry's args.  (jq --args would take "--flags" for its own.)
json_args() {
	local a
	for a in "$@"; do KMFA_A=$a jq -n 'env.KMFA_A'; done | jq -s -c .
}

# on_tty CMD...: run CMD with a controlling terminal (a person is present);
# its stdout and stderr are kept apart in $T/tty.out and $T/tty.err.
on_tty() {
	script -qec "$(printf '%q ' "$@") >$T/tty.out 2>$T/tty.err" /dev/null \
		>/dev/null </dev/null
}

# one_line TEXT: true when TEXT is exactly one non-empty line.
one_line() { [ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]; }

# complete_words COMPLETION_FILE WORD...: load the bash completion file in a
# fresh bash, put the cursor at the end of the last WORD (give '' to
# complete an empty word) and print the candidates the completion function
# offers, one a line, sorted.  Fails when the file does not load or
# registers nothing for the first WORD.
complete_words() {
	local file=$1; shift
	KMFA_COMP_FILE=$file timeout 10 bash --norc --noprofile -c '
		set -u
		. "$KMFA_COMP_FILE" || exit 3
		spec=$(complete -p "$1" 2>/dev/null) || exit 4
		fn=$(sed -n "s/.* -F \([^ ]*\) .*/\1/p" <<<"$spec")
		[ -n "$fn" ] || exit 5
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
		printf "%s\n" "${COMPREPLY[@]}" | sort -u
	' complete_words "$@"
}

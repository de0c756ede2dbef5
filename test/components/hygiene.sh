# Secret hygiene helpers (issue 6), sourced by test/lib.sh: run the plugin
# with everything it writes captured under $HY_W, snapshot the folders it
# writes into, spy on what a browser command inherits, and grep it all for
# known canaries.  Used by test/e2e/hygiene.sh.
#
#   hy_init                 set up $HY_W, $HY_CANARIES and the spy browser
#   hy_run NAME CMD...      CMD at a terminal: $HY_W/NAME.{out,err,tty}; sets RC
#   hy_bg NAME CMD...       unattended (no terminal): same files, sets RC
#   hy_pin_run NAME PIN CMD...  at a terminal, typing PIN at each PIN prompt
#   hy_snap NAME            copy HOME, the runtime folder and TMPDIR as now
#   hy_proc NAME            dump cmdline and environ of running plugin processes
#   hy_canary KIND VALUE    add one canary (never printed)
#   hy_issued KIND_PREFIX FILE   add every token of an --issued-log file
#   hy_scan                 one line per canary found where it may not be
#
# Where a canary may legitimately be (hy_allowed): the ExecCredential on
# get-token's stdout (gt-*.out) and the token caches -- a disk cache entry
# (a folder under ~/.cache) or the runtime mirror, <64 hex>.json -- and the
# keyring items (dumped to $HY_W/keyring) may hold the ID and access tokens
# they hand out; a disk cache entry of a --fido2 off login (off-refresh_token)
# also its refresh token, which nothing seals there; the plugin's own
# cmdline holds what the user passed on it (the client secret).  Nothing
# else anywhere: no refresh token in plain text from a login with a
# hmac-secret key, no client secret, no PIN.

HY_W=$T/w
HY_CANARIES=$T/canaries.tsv

hy_init() {
	mkdir -p "$HY_W/snap" "$HY_W/spy" "$HY_W/proc" "$T/tmp"
	chmod 700 "$HY_W" "$T/tmp"
	: >"$HY_CANARIES"
	export TMPDIR=$T/tmp
	# The spy browser: its argv, environment and open descriptors, the
	# plugin's own /proc entries while it waits at the device-flow poll,
	# then the person approving as usual.
	HY_BROWSER=$T/browser-spy.sh
	cat >"$HY_BROWSER" <<-EOF
		#!/usr/bin/env bash
		d=\$(mktemp -d "$HY_W/spy/b.XXXXXX")
		printf '%s\n' "\$0" "\$@" >"\$d/argv"
		env >"\$d/env"
		# ls, a child, lists this shell's descriptors: the shell itself
		# opens nothing for that (a loop's redirection would).
		ls -l /proc/\$\$/fd >"\$d/fds.ls"
		awk '\$(NF-1) == "->" { print \$(NF-2), \$NF }' "\$d/fds.ls" >"\$d/fds"
		for p in /proc/[0-9]*; do
			case \$(readlink "\$p/exe" 2>/dev/null) in
			"$(realpath "$KMFA_CORE")" | "$(realpath "$KMFA")")
				tr '\0' '\n' <"\$p/cmdline" >"\$d/plugin-\${p#/proc/}.cmdline"
				tr '\0' '\n' <"\$p/environ" >"\$d/plugin-\${p#/proc/}.environ"
				for fd in "\$p"/fd/*; do
					echo "\${fd##*/} \$(readlink "\$fd")"
				done >"\$d/plugin-\${p#/proc/}.fds" ;;
			esac
		done
		cat /proc/net/tcp /proc/net/tcp6 /proc/net/unix >"\$d/net" 2>/dev/null
		exec "$KMFA_BROWSER" "\$@"
	EOF
	chmod 700 "$HY_BROWSER"
}

hy_canary() { printf '%s\t%s\n' "$1" "$2" >>"$HY_CANARIES"; }

# hy_issued PREFIX FILE: every token in FILE as PREFIX-KIND canaries, and
# the signature part of every JWT on its own (a token cut short still
# leaks its signature).
hy_issued() {
	local prefix=$1 file=$2 kind value
	[ -s "$file" ] || return 0
	while IFS=$'\t' read -r kind value; do
		hy_canary "$prefix$kind" "$value"
		case $value in
		*.*.*) hy_canary "$prefix$kind" "${value##*.}" ;;
		esac
	done < <(jq -r '[.kind, .value] | @tsv' "$file")
}

# The harness keeps descriptors of its own open (server fifos, test/run's
# pipe); every command here starts with 0, 1 and 2 only, so that whatever
# else a browser command inherits was opened by the plugin.
# One line: script(1) hands the command to /bin/sh, which knows no $'...'
# quoting, the form printf %q takes for a newline.
# (No redirection around the loop: bash would park stderr on a high
# descriptor for it, which the loop then closes.)
HY_CLEAN=(bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done; exec "$@"' hy-clean)

# script(1) puts its own first and last lines into the typescript, the
# command line included; they are not the plugin's output.
_hy_untypescript() {
	sed -i -e '1{/^Script started on /d}' -e '${/^Script done on /d}' "$1"
}

hy_run() {
	local name=$1; shift
	script -qec "$(printf '%q ' "${HY_CLEAN[@]}" "$@") >$HY_W/$name.out 2>$HY_W/$name.err" \
		"$HY_W/$name.tty" >/dev/null </dev/null
	RC=$?
	_hy_untypescript "$HY_W/$name.tty"
}

hy_bg() {
	local name=$1; shift
	setsid -w "${HY_CLEAN[@]}" "$@" >"$HY_W/$name.out" 2>"$HY_W/$name.err" </dev/null
	RC=$?
}

# hy_pin_run NAME PIN CMD...: as test/e2e/fido2.sh's pin_run: the screen
# goes to $HY_W/NAME.tty as it appears (script -f), and PIN is typed once
# per PIN prompt after the prompt is on the screen (it flushes type-ahead).
# Bounded by the command's own --timeout.  Sets RC and PIN_PROMPTS.
hy_pin_run() {
	local name=$1 pin=$2; shift 2
	local fifo=$T/hy-pin.fifo tty=$HY_W/$name.tty spid w typed=0 seen
	rm -f "$fifo" "$tty"; mkfifo "$fifo"
	script -fqec "$(printf '%q ' "${HY_CLEAN[@]}" "$@") >$HY_W/$name.out 2>$HY_W/$name.err" \
		"$tty" <"$fifo" >/dev/null &
	spid=$!
	exec {w}>"$fifo"
	while kill -0 "$spid" 2>/dev/null; do
		seen=$(grep -o 'PIN of your security key' "$tty" 2>/dev/null | wc -l)
		if [ "$seen" -gt "$typed" ]; then
			printf '%s\r' "$pin" >&$w
			typed=$seen
		fi
		sleep 0.02
	done
	wait "$spid"; RC=$?
	PIN_PROMPTS=$typed
	exec {w}>&-
	_hy_untypescript "$tty"
}

# Everything the plugin may have written: HOME (cache, config, state), the
# runtime folder and TMPDIR.  tar skips sockets; that is fine.
hy_snap() {
	mkdir -p "$HY_W/snap/$1"
	tar -C "$T" -cf - home run tmp 2>/dev/null | tar -C "$HY_W/snap/$1" -xf -
}

# hy_proc NAME: cmdline and environ of every running plugin process.
# Prints how many it found.
hy_proc() {
	local p n=0 exe core front
	core=$(realpath "$KMFA_CORE"); front=$(realpath "$KMFA")
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		[ "$exe" = "$core" ] || [ "$exe" = "$front" ] || continue
		tr '\0' '\n' <"$p/cmdline" >"$HY_W/proc/$1-${p#/proc/}.cmdline" 2>/dev/null &&
			tr '\0' '\n' <"$p/environ" >"$HY_W/proc/$1-${p#/proc/}.environ" 2>/dev/null &&
			n=$((n + 1))
	done
	echo "$n"
}

# hy_allowed KIND PATH: may this canary kind be in this file?
hy_allowed() {
	local kind=$1 path=$2
	case $kind in
	*id_token | *access_token)
		case $path in
		"$HY_W"/gt-*.out) return 0 ;;
		"$HY_W"/keyring/*) return 0 ;;
		esac
		[[ $path =~ /(home/\.cache/[^/]+|run/kubectl-mfa)/[0-9a-f]{64}\.json$ ]] &&
			return 0 ;;
	off-refresh_token)
		[[ $path =~ /home/\.cache/[^/]+/[0-9a-f]{64}\.json$ ]] && return 0 ;;
	client_secret)
		case $path in
		*.cmdline) return 0 ;;
		esac ;;
	esac
	return 1
}

# hy_scan: every file under $HY_W, every canary.  Prints "LEAK: KIND in
# FILE" (relative to $HY_W) for each forbidden hit, never the canary;
# counts permitted hits in HY_ALLOWED_HITS; returns the number of leaks
# (at most 200).
HY_ALLOWED_HITS=0
hy_scan() {
	local kind value f leaks=0
	HY_ALLOWED_HITS=0
	while IFS=$'\t' read -r kind value; do
		[ -n "$value" ] || continue
		while IFS= read -r f; do
			if hy_allowed "$kind" "$f"; then
				HY_ALLOWED_HITS=$((HY_ALLOWED_HITS + 1))
			else
				echo "LEAK: $kind in ${f#"$HY_W"/}"
				leaks=$((leaks + 1))
			fi
		done < <(grep -rlaF -e "$value" "$HY_W" 2>/dev/null)
	done <"$HY_CANARIES"
	[ "$leaks" -gt 200 ] && leaks=200
	return "$leaks"
}

# hy_browser_fds: one line per descriptor beyond 0-2 that a spy browser
# inherited from the plugin (bash's own 255, the script, left out), as
# "fd N: KIND" with KIND a path, tcp, unix or pipe; unique lines.
hy_browser_fds() {
	local d n target inode kind
	for d in "$HY_W"/spy/b.*; do
		while read -r n target; do
			[ "$n" -gt 2 ] && [ "$n" -ne 255 ] || continue
			case $target in
			socket:*)
				inode=${target#socket:[}; inode=${inode%]}
				if awk -v i="$inode" '$10 == i { f = 1 } END { exit !f }' "$d/net"; then
					kind=tcp
				else
					kind=unix
				fi ;;
			pipe:*) kind=pipe ;;
			*) kind=$target ;;
			esac
			echo "fd $n: $kind"
		done <"$d/fds"
	done | sort -u
}

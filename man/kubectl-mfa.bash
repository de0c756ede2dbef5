# bash completion for kubectl-mfa(1): subcommands, each one's options, and
# the values of options that take a fixed set or a path.
#
# The option sets mirror lib/config.c's table (which command takes which
# option) and plugin/usage.c's --help texts; test/e2e/docs.sh fails when
# they drift apart.  Installed as
# $PREFIX/share/bash-completion/completions/kubectl-mfa; `kubectl mfa`
# reaches the same function through kubectl_complete-mfa.
# Needs nothing from the bash-completion package.

_kubectl_mfa_commands="get-token login status logout enroll keys setup version"

# _kubectl_mfa_options COMMAND: the options COMMAND accepts.
_kubectl_mfa_options() {
	local oidc="--oidc-issuer-url --oidc-client-id --oidc-client-secret
		--oidc-client-secret-file
		--oidc-extra-scope --oidc-use-access-token --oidc-offline-access
		--oidc-auth-request-extra-params --certificate-authority
		--certificate-authority-data --insecure-skip-tls-verify
		--token-cache-storage --token-cache-dir --skew
		--oidc-login-hint"
	local fido2="--fido2 --fido2-credentials --fido2-device --fido2-uv
		--session-max --server-proof"
	local login="--timeout --audit-log --skip-open-browser --browser-command
		--require-amr --require-acr
		--grant-type --listen-address --oidc-redirect-url"
	local common="--help -v"

	case $1 in
	get-token | login) echo "$oidc $fido2 $login $common" ;;
	status)
		echo "$oidc $fido2 --min-valid --json --all --require-amr" \
			"--require-acr $common"
		;;
	logout) echo "$oidc $fido2 $login --all $common" ;;
	enroll | keys)
		echo "--name --fido2-credentials --fido2-device --fido2-uv" \
			"--timeout --audit-log $common"
		;;
	setup) echo "$oidc $fido2 $login --kubeconfig --user --exec-command $common" ;;
	version) echo "--help" ;;
	esac
}

# _kubectl_mfa_takes_value OPTION: true when OPTION is followed by a value.
_kubectl_mfa_takes_value() {
	case $1 in
	--oidc-use-access-token | --insecure-skip-tls-verify | --fido2-uv | \
	--server-proof | \
		--skip-open-browser | --json | --all | --help | -h | -v | --verbose)
		return 1 ;;
	--*) return 0 ;;
	esac
	return 1
}

# _kubectl_mfa_add COMPGEN-ARGS...: append compgen's candidates to
# COMPREPLY, one a line, so that file names with spaces stay whole.
_kubectl_mfa_add() {
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen "$@")
}

# _kubectl_mfa_files COMPGEN-FLAG CUR: file or folder names; bash quotes
# them on insertion (-o filenames), and a typed "\ " is a space.
_kubectl_mfa_files() {
	compopt -o filenames 2>/dev/null
	_kubectl_mfa_add "$1" -- "${2//\\ / }"
}

# _kubectl_mfa_values OPTION CUR: fill COMPREPLY with values for OPTION.
_kubectl_mfa_values() {
	COMPREPLY=()
	case $1 in
	--token-cache-storage) _kubectl_mfa_add -W "auto keyring disk none" -- "$2" ;;
	--fido2) _kubectl_mfa_add -W "required off" -- "$2" ;;
	--oidc-offline-access) _kubectl_mfa_add -W "auto on off" -- "$2" ;;
	--certificate-authority | --fido2-credentials | --kubeconfig | \
		--oidc-client-secret-file)
		_kubectl_mfa_files -f "$2" ;;
	--audit-log)
		_kubectl_mfa_add -W "syslog off" -- "$2"
		_kubectl_mfa_files -f "$2"
		;;
	--token-cache-dir) _kubectl_mfa_files -d "$2" ;;
	--fido2-device)
		_kubectl_mfa_add -W "unix:" -- "$2"
		_kubectl_mfa_files -f "$2"
		;;
	--browser-command) _kubectl_mfa_add -c -- "$2" ;;
	--grant-type)
		_kubectl_mfa_add -W "auto authcode authcode-keyboard device-code" -- "$2"
		;;
	esac	# a URL, an id, a duration: nothing to offer
}

_kubectl_mfa() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev="" cmd="" i w nargs=0
	COMPREPLY=()
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# --opt=value: bash splits at '=' (COMP_WORDBREAKS), so the words
	# are "--opt" "=" "value", or "--opt" "=" while the value is empty.
	if [ "$cur" = "=" ] && [[ $prev == --* ]]; then
		_kubectl_mfa_values "$prev" ""
		return 0
	fi
	if [ "$prev" = "=" ] && [ "$COMP_CWORD" -ge 2 ]; then
		_kubectl_mfa_values "${COMP_WORDS[COMP_CWORD - 2]}" "$cur"
		return 0
	fi
	if [[ $cur == --*=* ]]; then
		# COMP_WORDBREAKS without '=': complete the value in place.
		local opt=${cur%%=*}
		_kubectl_mfa_values "$opt" "${cur#*=}"
		COMPREPLY=("${COMPREPLY[@]/#/$opt=}")
		return 0
	fi

	# The subcommand is the first word that is neither an option nor
	# an option's value; later plain words are positional arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ -z "$cmd" ]; then
			case $w in -*) continue ;; esac
			cmd=$w
			continue
		fi
		case $w in
		=) i=$((i + 1)) ;;	# the value of --opt=value
		--*=*) ;;
		-*)
			if _kubectl_mfa_takes_value "$w" &&
				[ "${COMP_WORDS[i + 1]:-}" != "=" ]; then
				i=$((i + 1))
			fi
			;;
		*) nargs=$((nargs + 1)) ;;
		esac
	done

	if [ -z "$cmd" ]; then
		_kubectl_mfa_add -W "$_kubectl_mfa_commands --help --version" -- "$cur"
		return 0
	fi
	if [[ $prev == -* ]] && _kubectl_mfa_takes_value "$prev" &&
		[[ $cur != -* || -z $cur ]]; then
		_kubectl_mfa_values "$prev" "$cur"
		return 0
	fi
	if [[ $cur == -* ]]; then
		_kubectl_mfa_add -W "$(_kubectl_mfa_options "$cmd")" -- "$cur"
		return 0
	fi
	if [ "$cmd" = keys ] && [ "$nargs" -eq 0 ]; then
		_kubectl_mfa_add -W "list remove rekey export" -- "$cur"
	fi
	return 0
}

complete -F _kubectl_mfa kubectl-mfa

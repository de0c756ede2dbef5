#!/usr/bin/env bash
# test/e2e/keyring_kubectl.sh against KeePassXC (issue 13): the same cases,
# the provider switched in test/components/keyring.sh.
export KMFA_KEYRING_PROVIDER=keepassxc
exec bash "$(dirname "$0")/keyring_kubectl.sh"

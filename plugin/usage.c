/*
 * --help texts.  They follow kubectl-mfa(1); when an option changes, change
 * both.  Printed on stdout because the user asked for them.
 */
#include <stdio.h>
#include <string.h>

#include "usage.h"

static const char oidc_opts[] =
"OIDC options:\n"
"  --oidc-issuer-url URL           the issuer (https; http only on loopback)\n"
"  --oidc-client-id ID             the client id registered at the issuer\n"
"  --oidc-client-secret-file FILE  a confidential client's secret, from a 0600\n"
"                                  file (or $KUBECTL_MFA_OIDC_CLIENT_SECRET)\n"
"  --oidc-client-secret SECRET     the same on the command line: avoid, any\n"
"                                  local user can read it in /proc\n"
"  --oidc-extra-scope SCOPE        repeatable; openid always\n"
"  --oidc-use-access-token         hand kubectl the access token, not the ID token\n"
"  --oidc-offline-access auto|on|off  ask for offline_access (a refresh token);\n"
"                                  auto: when the issuer lists it (default)\n"
"  --oidc-auth-request-extra-params K=V  repeatable, e.g. acr_values=mfa\n"
"  --oidc-login-hint ACCOUNT       sent as login_hint; one cache entry per account\n"
"  --certificate-authority FILE    PEM CA for the issuer (default: system)\n"
"  --certificate-authority-data B64  the same, base64 of the PEM\n"
"  --insecure-skip-tls-verify      do not verify the issuer's certificate\n"
"Cache options:\n"
"  --token-cache-storage auto|keyring|disk|none   (default auto)\n"
"  --token-cache-dir DIR           (default $XDG_CACHE_HOME/kubectl-mfa)\n"
"  --skew DURATION                 never hand out a token closer than this to\n"
"                                  its expiry (default 30s)\n";

static const char fido2_opts[] =
"Security key options:\n"
"  --fido2 required|off            (default required; off only for CI profiles)\n"
"  --fido2-credentials FILE        (default $XDG_CONFIG_HOME/kubectl-mfa/credentials.json)\n"
"  --fido2-device PATH             a hidraw path, or unix:SOCKET\n"
"  --fido2-uv                      require user verification (PIN)\n"
"  --server-proof                  print a bundle that proves the touch to\n"
"                                  kubectl-mfa-webhook at the API server\n"
"  --session-max DURATION          re-touch at least this often\n";

static const char login_opts[] =
"Login options:\n"
"  --timeout DURATION              bounds a whole login (default 5m)\n"
"  --skip-open-browser             never open a browser\n"
"  --browser-command PROGRAM       open the login page with PROGRAM URL\n"
"  --grant-type auto|authcode|authcode-keyboard|device-code\n"
"                                  browser login or device flow (default auto)\n"
"  --listen-address HOST:PORT      browser login listener (127.0.0.1:0)\n"
"  --oidc-redirect-url URL         redirect URI registered at the provider\n"
"  --require-amr VALUE             refuse ID tokens whose amr lacks VALUE\n"
"  --require-acr VALUE             refuse ID tokens whose acr is not VALUE\n"
"  --audit-log FILE|syslog|off     (default $XDG_STATE_HOME/kubectl-mfa/audit.log)\n"
"  -v                              say more on stderr\n";

static const char enroll_opts[] =
"Options:\n"
"  --name NAME                     the key's name (default key-1, key-2, ...)\n"
"  --fido2-credentials FILE        (default $XDG_CONFIG_HOME/kubectl-mfa/credentials.json)\n"
"  --fido2-device PATH             a hidraw path, or unix:SOCKET; a comma list\n"
"                                  means touch the one to use\n"
"  --fido2-uv                      require user verification (PIN) at every touch\n"
"  --timeout DURATION              bounds the touches (default 5m)\n"
"  --audit-log FILE|syslog|off     (default $XDG_STATE_HOME/kubectl-mfa/audit.log)\n";

static void
section(const char *head, int oidc, int fido2, int login)
{
	fputs(head, stdout);
	if (oidc)
		fputs(oidc_opts, stdout);
	if (fido2)
		fputs(fido2_opts, stdout);
	if (login)
		fputs(login_opts, stdout);
	fputs("DURATION: 90s, 15m, 1h30m.  Exit codes: 0 ok, 1 failure, 2 usage or\n"
	    "configuration, 3 login needed but unattended, 4 security key, 5 IdP.\n"
	    "See kubectl-mfa(1).\n", stdout);
}

void
kmfa_usage(const char *c)
{
	if (c == NULL) {
		fputs("kubectl-mfa: a FIDO2 security key in front of every new "
		    "Kubernetes credential\n\n"
		    "usage: kubectl-mfa COMMAND [options]\n\n"
		    "  get-token   print an ExecCredential (kubeconfig exec entry)\n"
		    "  login       touch + new token now, even if one is cached\n"
		    "  status      show the cached token; exit 0 only if valid\n"
		    "  logout      drop cached tokens (revoke where possible)\n"
		    "  enroll      register a security key\n"
		    "  keys        list, remove or re-key enrolled keys\n"
		    "  setup       check the issuer and print a kubeconfig user\n"
		    "  version     print the version\n\n"
		    "kubectl-mfa COMMAND --help shows a command's options.\n",
		    stdout);
		return;
	}
	if (strcmp(c, "get-token") == 0)
		section("usage: kubectl-mfa get-token --oidc-issuer-url URL "
		    "--oidc-client-id ID [options]\n\nPrints an ExecCredential "
		    "for kubectl: from the cache when a token is valid for\n"
		    "longer than --skew, else after a security-key touch and a "
		    "refresh or a\ndevice-flow login.  Unattended (CI set, or no "
		    "terminal) it never waits:\nit exits 3 with the command to "
		    "run.\n\n", 1, 1, 1);
	else if (strcmp(c, "login") == 0)
		section("usage: kubectl-mfa login --oidc-issuer-url URL "
		    "--oidc-client-id ID [options]\n\nA touch and a new token "
		    "now, even if one is cached.  Prints nothing on stdout.\n\n",
		    1, 1, 1);
	else if (strcmp(c, "status") == 0)
		section("usage: kubectl-mfa status [--oidc-issuer-url URL "
		    "--oidc-client-id ID | --all]\n"
		    "                          [--min-valid DURATION] [--json]\n\n"
		    "Shows the cached token.  Exits 0 only if a token is valid "
		    "(for at least\n--min-valid when given), else 1: CI runs "
		    "`status --min-valid 15m` first.\n\n"
		    "  --min-valid DURATION   require this much validity left\n"
		    "  --json                 one JSON document on stdout\n"
		    "  --all                  every cached entry\n"
		    "  --require-amr VALUE    the entry's policy, as get-token has it\n"
		    "  --require-acr VALUE    (part of which cached entry is meant)\n",
		    1, 1, 0);
	else if (strcmp(c, "logout") == 0)
		section("usage: kubectl-mfa logout [--oidc-issuer-url URL "
		    "--oidc-client-id ID | --all]\n\nDrops cached tokens.  An "
		    "unsealed refresh token is revoked at the IdP when it\n"
		    "advertises a revocation endpoint; a sealed one cannot be "
		    "read without a\ntouch, so it is deleted locally and the "
		    "IdP-side revocation is skipped.\nThis command's client "
		    "secret and TLS options go only to the entry they\nname: "
		    "--all revokes the others as public clients, with the TLS "
		    "options\ntheir own entries name.\n\n"
		    "  --all                  every cached entry\n", 1, 1, 1);
	else if (strcmp(c, "enroll") == 0) {
		fputs("usage: kubectl-mfa enroll [--name NAME] "
		    "[--fido2-device PATH] [--fido2-uv]\n\nRegisters a security "
		    "key (touch it when asked).  Enroll a second key as a\n"
		    "backup: you will touch an already-enrolled key too.\n\n",
		    stdout);
		section(enroll_opts, 0, 0, 0);
	}
	else if (strcmp(c, "version") == 0)
		fputs("usage: kubectl-mfa version\n\nPrints the version.\n",
		    stdout);
	else if (strcmp(c, "keys") == 0) {
		fputs("usage: kubectl-mfa keys [list | remove NAME | rekey | "
		    "export SUBJECT]\n\n"
		    "Lists the enrolled keys, or forgets one.  rekey makes a new "
		    "master key\n(one touch) and re-seals the cached refresh "
		    "tokens; remove does it too.\nexport prints the keys' "
		    "entries for the server-proof webhook's registry.\n\n",
		    stdout);
		section(enroll_opts, 0, 0, 0);
	}
	else if (strcmp(c, "setup") == 0)
		section("usage: kubectl-mfa setup --oidc-issuer-url URL "
		    "--oidc-client-id ID [options]\n"
		    "                         [--kubeconfig FILE --user NAME]\n"
		    "                         [--exec-command NAME]\n\n"
		    "Checks the issuer's discovery document and prints a "
		    "kubeconfig users[] entry;\nwith --kubeconfig and --user it "
		    "writes the entry into that file.\n"
		    "The entry runs this installed kubectl-mfa by its absolute "
		    "path (what a kubectl\n1.35 kuberc allowlist can name; the "
		    "kuberc that allows it goes to stderr);\n"
		    "--exec-command NAME writes NAME instead, e.g. kubectl-mfa "
		    "to find it on PATH.\n\n", 1, 1, 1);
	else
		kmfa_usage(NULL);
}

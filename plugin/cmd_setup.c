/*
 * setup: check the issuer, then print (or write) the kubeconfig user entry.
 * Findings go to stderr, the entry to stdout, so that
 * `kubectl mfa setup ... >> users.yaml` keeps only YAML.  The entry's
 * command is the installed front's absolute path unless --exec-command
 * names another: kubectl 1.35's kuberc allowlist matches the command, and
 * a full path there pins the one program that gets to see the tokens.
 * The kuberc that allows it follows the findings on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "commands.h"
#include "flow/kubeconfig.h"
#include "flow/setup.h"

static int
print_entry(const char *user, const char *command, char *const args[])
{
	struct kmfa_buf b = { 0 };
	int r = KMFA_ERR_NOMEM;

	if (kmfa_buf_printf(&b, "- name: ") != 0 ||
	    kmfa_buf_json_string(&b, user) != 0 ||
	    kmfa_buf_printf(&b, "\n  user:\n    exec:\n      apiVersion: "
	    "client.authentication.k8s.io/v1\n      command: ") != 0 ||
	    kmfa_buf_json_string(&b, command) != 0 ||
	    kmfa_buf_printf(&b, "\n      args:\n") != 0)
		goto out;
	/* JSON strings are YAML flow scalars: no quoting surprises. */
	for (size_t i = 0; args[i] != NULL; i++)
		if (kmfa_buf_printf(&b, "      - ") != 0 ||
		    kmfa_buf_json_string(&b, args[i]) != 0 ||
		    kmfa_buf_printf(&b, "\n") != 0)
			goto out;
	if (kmfa_buf_printf(&b, "      interactiveMode: IfAvailable\n"
	    "      provideClusterInfo: false\n") != 0)
		goto out;
	fputs(b.data, stdout);
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&b);
	return r;
}

/* The kuberc that allows `command`, on stderr with the findings. */
static int
print_kuberc(const char *command)
{
	struct kmfa_buf b = { 0 };
	int r;

	if (kmfa_buf_printf(&b, "  kuberc:  kubectl 1.35+ with a credential "
	    "plugin policy runs this entry's command only if ~/.kube/kuberc "
	    "allows it:\n") != 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = kmfa_kubeconfig_kuberc_allow(&b, command, "    ")) != KMFA_OK)
		goto out;
	fputs(b.data, stderr);
	r = KMFA_OK;
out:
	kmfa_buf_wipe(&b);
	return r;
}

int
kmfa_cmd_setup(struct kmfa_config *cfg)
{
	struct kmfa_setup_report rep;
	char **args = NULL, *secret, *command = NULL;
	int r;

	if ((cfg->kubeconfig == NULL) != (cfg->user == NULL))
		return kmfa_fail(KMFA_ERR_USAGE, "--kubeconfig and --user go "
		    "together");
	/* Before the issuer is asked anything: an entry without a command
	 * is not worth the round trips. */
	if (cfg->exec_command != NULL)
		command = strdup(cfg->exec_command);
	else if ((r = kmfa_kubeconfig_front_path(&command)) != KMFA_OK)
		return r;
	if (command == NULL)
		return KMFA_ERR_NOMEM;
	r = kmfa_setup_check(cfg, &rep);
	for (size_t i = 0; i < rep.nnotes; i++)
		fprintf(stderr, "  %s %s\n", rep.notes[i].problem ?
		    "problem:" : "ok:     ", rep.notes[i].text);
	if (r != KMFA_OK)
		goto out;
	/* A secret in argv or a kubeconfig is no secret: never write it. */
	secret = cfg->client_secret;
	cfg->client_secret = NULL;
	args = kmfa_setup_args(cfg);
	cfg->client_secret = secret;
	if (secret != NULL)
		kmfa_warn("--oidc-client-secret is not written into the entry; "
		    "prefer a public client, or add it yourself");
	if (args == NULL) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (cfg->kubeconfig != NULL) {
		if ((r = kmfa_kubeconfig_set_user(cfg->kubeconfig, cfg->user,
		    command, args)) == KMFA_OK)
			kmfa_info("wrote user '%s' into %s; point a context at "
			    "it: kubectl config set-context --current --user=%s",
			    cfg->user, cfg->kubeconfig, cfg->user);
	} else {
		r = print_entry("kubectl-mfa", command, args);
	}
	if (r == KMFA_OK)
		r = print_kuberc(command);
out:
	kmfa_setup_args_free(args);
	free(command);
	return r;
}

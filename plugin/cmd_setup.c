/*
 * setup: check the issuer, then print (or write) the kubeconfig user entry.
 * Findings go to stderr, the entry to stdout, so that
 * `kubectl mfa setup ... >> users.yaml` keeps only YAML.
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
print_entry(const char *user, char *const args[])
{
	struct kmfa_buf b = { 0 };
	int r = KMFA_ERR_NOMEM;

	if (kmfa_buf_printf(&b, "- name: ") != 0 ||
	    kmfa_buf_json_string(&b, user) != 0 ||
	    kmfa_buf_printf(&b, "\n  user:\n    exec:\n      apiVersion: "
	    "client.authentication.k8s.io/v1\n      command: kubectl-mfa\n"
	    "      args:\n") != 0)
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

int
kmfa_cmd_setup(struct kmfa_config *cfg)
{
	struct kmfa_setup_report rep;
	char **args = NULL, *secret;
	int r;

	if ((cfg->kubeconfig == NULL) != (cfg->user == NULL))
		return kmfa_fail(KMFA_ERR_USAGE, "--kubeconfig and --user go "
		    "together");
	r = kmfa_setup_check(cfg, &rep);
	for (size_t i = 0; i < rep.nnotes; i++)
		fprintf(stderr, "  %s %s\n", rep.notes[i].problem ?
		    "problem:" : "ok:     ", rep.notes[i].text);
	if (r != KMFA_OK)
		return r;
	/* A secret in argv or a kubeconfig is no secret: never write it. */
	secret = cfg->client_secret;
	cfg->client_secret = NULL;
	args = kmfa_setup_args(cfg);
	cfg->client_secret = secret;
	if (secret != NULL)
		kmfa_warn("--oidc-client-secret is not written into the entry; "
		    "prefer a public client, or add it yourself");
	if (args == NULL)
		return KMFA_ERR_NOMEM;
	if (cfg->kubeconfig != NULL) {
		if ((r = kmfa_kubeconfig_set_user(cfg->kubeconfig, cfg->user,
		    "kubectl-mfa", args)) == KMFA_OK)
			kmfa_info("wrote user '%s' into %s; point a context at "
			    "it: kubectl config set-context --current --user=%s",
			    cfg->user, cfg->kubeconfig, cfg->user);
	} else {
		r = print_entry("kubectl-mfa", args);
	}
	kmfa_setup_args_free(args);
	return r;
}

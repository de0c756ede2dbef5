/*
 * get-token and login.  get-token prints the ExecCredential on stdout and
 * nothing else; login prints only a line for the person on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "commands.h"
#include "flow/flow.h"
#include "token/execinfo.h"

static int
write_stdout(const struct kmfa_buf *b)
{
	const char *p = b->data;
	size_t n = b->len;

	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return kmfa_fail(KMFA_ERR_IO, "cannot write the "
			    "credential to stdout: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return KMFA_OK;
}

static void
say_logged_in(const struct kmfa_flow_result *res)
{
	char ts[21] = "?", who[sizeof(res->subject)];

	/* sub is the IdP's choice: no control byte reaches the terminal. */
	(void)kmfa_printable(who, sizeof(who), res->subject[0] ? res->subject :
	    "(unknown)");
	(void)kmfa_rfc3339(res->until, ts);
	if (res->stored)
		kmfa_info("logged in as %s; token valid until %s (%s storage%s%s)",
		    who, ts,
		    res->storage, res->storage_reason ? ": " : "",
		    res->storage_reason ? res->storage_reason : "");
	else
		kmfa_info("logged in as %s; token valid until %s (not cached)",
		    who, ts);
	if (res->stored && res->has_refresh && !res->sealed)
		kmfa_info("the refresh token is stored unsealed (no security "
		    "key with hmac-secret seals it)");
}

static int
run(struct kmfa_config *cfg, enum kmfa_flow_mode mode)
{
	struct kmfa_execinfo ei;
	struct kmfa_buf cred = { 0 };
	struct kmfa_flow_result res;
	int r;

	memset(&res, 0, sizeof(res));
	if ((r = kmfa_config_load_secret(cfg)) != KMFA_OK)
		goto out;
	if ((r = kmfa_execinfo_parse(getenv("KUBERNETES_EXEC_INFO"), &ei))
	    != KMFA_OK ||
	    (r = kmfa_config_merge_cluster(cfg, ei.cluster, ei.cluster_len))
	    != KMFA_OK)
		goto out;
	if ((r = kmfa_flow_run(cfg, &ei, mode, &cred, &res)) != KMFA_OK)
		goto out;
	if (mode == KMFA_FLOW_LOGIN) {
		say_logged_in(&res);
	} else {
		if (res.logged_in && isatty(STDERR_FILENO))
			say_logged_in(&res);
		r = write_stdout(&cred);
	}
out:
	kmfa_buf_wipe(&cred);
	return r;
}

int
kmfa_cmd_get_token(struct kmfa_config *cfg)
{
	return run(cfg, KMFA_FLOW_GET_TOKEN);
}

int
kmfa_cmd_login(struct kmfa_config *cfg)
{
	return run(cfg, KMFA_FLOW_LOGIN);
}

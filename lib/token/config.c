/*
 * Command-line options.  One table describes every option: its name, its
 * value, the subcommands that take it (a bit set), where its value goes,
 * and where else it is written: the cache identity, the exec arguments
 * `setup` puts into a kubeconfig, the login command printed when nobody is
 * there to log in.  Both `--flag value` and `--flag=value` are accepted, as
 * in kubelogin, whose flag names are kept where the meaning is the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/minijson.h"
#include "base/report.h"
#include "base/sha256.h"
#include "base/util.h"
#include "token/config.h"

struct opt {
	const char *name;
	enum kmfa_opt_value kind;
	unsigned set;		/* KMFA_OPTSET_*: the subcommands that take it */
	unsigned use;		/* KMFA_OPT_EXEC_ARGS, _HINT, _CLUSTER */
	/*
	 * Its tag in the cache identity, or NULL: a tag is what makes an
	 * option part of the identity (KMFA_OPT_IDENTITY).  The tags and the
	 * table's order are the identity's bytes, which cache records store:
	 * never rename, reorder or add one without a new identity version,
	 * except a field written only when set (id_when_set), which leaves
	 * the bytes of every configuration that does not set it as they were.
	 */
	const char *id;
	/*
	 * An identity field written only when the option is set, after every
	 * always-present field: the options that decide whether a cached
	 * token is acceptable (policy, trust) joined the identity later, and
	 * a configuration that sets none of them keeps its old bytes, so its
	 * cached tokens stay valid.
	 */
	int id_when_set;
	int id_hash;		/* the field is the SHA-256 of the value */
	size_t id_default_off;	/* an int saying the value counts as unset
				 * in the identity; 0 for none */
	size_t off;		/* offset of the field in struct kmfa_config */
	size_t count_off;	/* KMFA_VAL_LIST: offset of the count */
	size_t filled_off;	/* KMFA_VAL_STRING: offset of the flag saying
				 * finish() filled it in; 0 for none */
	int64_t def;		/* DURATION, STORAGE, FIDO2: the default */
};

#define F(field) offsetof(struct kmfa_config, field)
/* Where the value goes; designated, so that the fields after it may be left
 * out (-Wmissing-field-initializers ignores designated initializers). */
#define AT(field) .off = F(field)
#define EXEC KMFA_OPT_EXEC_ARGS
#define HINT KMFA_OPT_HINT
#define CLUSTER KMFA_OPT_CLUSTER

/*
 * In this order the options are rendered (setup's exec arguments, the
 * hint) and the identity's fields are written.
 */
static const struct opt opts[] = {
	/*
	 * CLUSTER marks what a cluster's exec extension may say (see
	 * kmfa_config_merge_cluster): which IdP, which client, which account
	 * and what the login asks for, and the CA that vouches for that IdP,
	 * as kubectl takes the API server's CA from the cluster entry.  A
	 * cluster entry is shared and shown (`kubectl config view` prints it
	 * whole), and is often handed out by whoever runs the cluster: no
	 * secret, no program to run, no file to write, and nothing that
	 * weakens the person's own policy (--fido2, --session-max,
	 * --insecure-skip-tls-verify) comes from there.
	 */
	{ "oidc-issuer-url", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "issuer", AT(issuer) },
	{ "oidc-client-id", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "client", AT(client_id) },
	/* `setup` takes the secret out of cfg before it renders. */
	{ "oidc-client-secret", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC, NULL, AT(client_secret) },
	/* The file's name, never its contents, goes into the entry. */
	{ "oidc-client-secret-file", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC, NULL, AT(client_secret_file) },
	{ "oidc-extra-scope", KMFA_VAL_LIST, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "scope", AT(scopes),
	    .count_off = F(nscopes) },
	{ "oidc-auth-request-extra-params", KMFA_VAL_LIST, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "param", AT(extra_params),
	    .count_off = F(nextra_params) },
	{ "oidc-use-access-token", KMFA_VAL_FLAG, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "access", AT(use_access_token) },
	/*
	 * Not in the identity: offline_access decides whether a refresh
	 * token comes with the login, not whose token it is or what it
	 * claims, so a cached token stays right for either value (and `auto`
	 * is resolved against discovery, which the identity never sees).  In
	 * the hint, so that the login it prints asks for what get-token would.
	 */
	{ "oidc-offline-access", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, NULL, AT(offline_access) },
	/*
	 * Which account at the IdP: sent as login_hint (OpenID Connect Core
	 * §3.1.2.1) and, as the account, part of the identity, so that two
	 * accounts at one issuer and client never share an entry.  The hint
	 * itself is the label rather than a separate --account: one option
	 * cannot contradict itself, and an entry for another account has to
	 * name that account to the IdP anyway.  Written only when set, so
	 * entries without it keep their identity.
	 */
	{ "oidc-login-hint", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "account", AT(login_hint),
	    .id_when_set = 1 },
	/*
	 * What the IdP is trusted by decides which tokens are acceptable: a
	 * token fetched without verification must not answer an entry that
	 * verifies.  The path, not the file's contents, names the trust: the
	 * hot path reads no CA file.  The inline data is hashed: the identity
	 * stays short and the status output shows no PEM.
	 */
	{ "certificate-authority", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "ca", AT(ca_file), .id_when_set = 1 },
	{ "certificate-authority-data", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC | HINT | CLUSTER, "ca-data", AT(ca_data), .id_when_set = 1,
	    .id_hash = 1 },
	{ "insecure-skip-tls-verify", KMFA_VAL_FLAG, KMFA_OPTSET_OIDC,
	    EXEC | HINT, "insecure", AT(insecure_skip_tls_verify),
	    .id_when_set = 1 },
	{ "token-cache-storage", KMFA_VAL_STORAGE, KMFA_OPTSET_OIDC,
	    EXEC, NULL, AT(storage), .def = KMFA_STORAGE_AUTO },
	{ "token-cache-dir", KMFA_VAL_STRING, KMFA_OPTSET_OIDC,
	    EXEC, NULL, AT(cache_dir), .filled_off = F(cache_dir_default) },
	{ "fido2", KMFA_VAL_FIDO2, KMFA_OPTSET_FIDO2,
	    EXEC | HINT, "fido2", AT(fido2), .def = KMFA_FIDO2_REQUIRED },
	/*
	 * Which keys may approve a login.  The default file, whether finish()
	 * filled it in or the command line names it, counts as unset: both
	 * ask for the same keys, and splitting their caches would only cost
	 * a touch.
	 */
	{ "fido2-credentials", KMFA_VAL_STRING,
	    KMFA_OPTSET_FIDO2 | KMFA_OPTSET_ENROLL, EXEC | HINT, "fido2-creds",
	    AT(fido2_credentials), .filled_off = F(fido2_credentials_default),
	    .id_when_set = 1,
	    .id_default_off = F(fido2_credentials_is_default) },
	{ "fido2-device", KMFA_VAL_STRING,
	    KMFA_OPTSET_FIDO2 | KMFA_OPTSET_ENROLL, EXEC, NULL,
	    AT(fido2_device) },
	/* setup writes it: an entry asked for with user verification must
	 * not silently lose it (and its cache would be another's). */
	{ "fido2-uv", KMFA_VAL_FLAG, KMFA_OPTSET_FIDO2 | KMFA_OPTSET_ENROLL,
	    EXEC | HINT, "fido2-uv", AT(fido2_uv), .id_when_set = 1 },
	/* The printed token is the kmfa1 bundle, not the bare ID token: a
	 * bundle must never answer an entry that wants the bare token. */
	{ "server-proof", KMFA_VAL_FLAG, KMFA_OPTSET_FIDO2,
	    EXEC | HINT, "server-proof", AT(server_proof), .id_when_set = 1 },
	{ "session-max", KMFA_VAL_DURATION, KMFA_OPTSET_FIDO2,
	    EXEC, NULL, AT(session_max), .def = KMFA_DEFAULT_SESSION_MAX },
	{ "skew", KMFA_VAL_DURATION, KMFA_OPTSET_OIDC,
	    EXEC, NULL, AT(skew), .def = KMFA_DEFAULT_SKEW },
	{ "timeout", KMFA_VAL_DURATION, KMFA_OPTSET_LOGIN | KMFA_OPTSET_ENROLL,
	    EXEC, NULL, AT(timeout), .def = KMFA_DEFAULT_TIMEOUT },
	{ "audit-log", KMFA_VAL_STRING, KMFA_OPTSET_LOGIN | KMFA_OPTSET_ENROLL,
	    EXEC, NULL, AT(audit_log) },
	{ "skip-open-browser", KMFA_VAL_FLAG, KMFA_OPTSET_LOGIN,
	    EXEC, NULL, AT(skip_open_browser) },
	{ "browser-command", KMFA_VAL_STRING, KMFA_OPTSET_LOGIN,
	    EXEC, NULL, AT(browser_command) },
	/*
	 * How a login gets the tokens, not which tokens: every grant yields
	 * the same issuer's tokens for the same client, scopes and policy, so
	 * none of these is in the identity (a token a browser login got
	 * answers a device-flow entry and back).  In the hint, so that the
	 * login it prints runs the grant get-token would.
	 */
	{ "grant-type", KMFA_VAL_STRING, KMFA_OPTSET_LOGIN,
	    EXEC | HINT, NULL, AT(grant_type) },
	{ "listen-address", KMFA_VAL_STRING, KMFA_OPTSET_LOGIN,
	    EXEC | HINT, NULL, AT(listen_address) },
	{ "oidc-redirect-url", KMFA_VAL_STRING, KMFA_OPTSET_LOGIN,
	    EXEC | HINT, NULL, AT(redirect_url) },
	/* Policy on the ID token: part of the identity, so that a token a
	 * laxer entry obtained never answers a stricter one.  status takes
	 * them to find that entry. */
	{ "require-amr", KMFA_VAL_STRING, KMFA_OPTSET_LOGIN |
	    KMFA_OPTSET_STATUS, EXEC | HINT | CLUSTER, "amr", AT(require_amr),
	    .id_when_set = 1 },
	{ "require-acr", KMFA_VAL_STRING, KMFA_OPTSET_LOGIN |
	    KMFA_OPTSET_STATUS, EXEC | HINT | CLUSTER, "acr", AT(require_acr),
	    .id_when_set = 1 },
	{ "min-valid", KMFA_VAL_DURATION, KMFA_OPTSET_STATUS,
	    0, NULL, AT(min_valid), .def = KMFA_DEFAULT_MIN_VALID },
	{ "json", KMFA_VAL_FLAG, KMFA_OPTSET_STATUS, 0, NULL, AT(json) },
	{ "all", KMFA_VAL_FLAG, KMFA_OPTSET_ALL, 0, NULL, AT(all) },
	{ "name", KMFA_VAL_STRING, KMFA_OPTSET_ENROLL, 0, NULL, AT(name) },
	{ "kubeconfig", KMFA_VAL_STRING, KMFA_OPTSET_SETUP,
	    0, NULL, AT(kubeconfig) },
	{ "user", KMFA_VAL_STRING, KMFA_OPTSET_SETUP, 0, NULL, AT(user) },
	/* The `command:` setup writes; by default the absolute path of the
	 * front beside this core, the name a kuberc allowlist can pin. */
	{ "exec-command", KMFA_VAL_STRING, KMFA_OPTSET_SETUP,
	    0, NULL, AT(exec_command) },
};

#undef EXEC
#undef HINT
#undef CLUSTER

/* The words of the enumerated values, indexed by the enum. */
static const char *const storage_names[] = {
	[KMFA_STORAGE_AUTO] = "auto",
	[KMFA_STORAGE_KEYRING] = "keyring",
	[KMFA_STORAGE_DISK] = "disk",
	[KMFA_STORAGE_NONE] = "none",
};
static const char *const fido2_names[] = {
	[KMFA_FIDO2_REQUIRED] = "required",
	[KMFA_FIDO2_OFF] = "off",
};

#define OPTS_N (sizeof(opts) / sizeof(opts[0]))

#define NAMES_N(a) (sizeof(a) / sizeof((a)[0]))

static const void *
field_of(const struct kmfa_config *cfg, size_t off)
{
	return (const char *)cfg + off;
}

/* The value of an enumerated or duration option, as the table's def. */
static int64_t
number_of(const struct kmfa_config *cfg, const struct opt *o)
{
	const void *field = field_of(cfg, o->off);

	switch (o->kind) {
	case KMFA_VAL_DURATION:
		return *(const int64_t *)field;
	case KMFA_VAL_STORAGE:
		return *(const enum kmfa_storage *)field;
	case KMFA_VAL_FIDO2:
		return *(const enum kmfa_fido2_mode *)field;
	default:
		return 0;
	}
}

static int
name_index(const char *const names[], size_t n, const char *val)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], val) == 0)
			return (int)i;
	return -1;
}

static const char *
index_name(const char *const names[], size_t n, int64_t i)
{
	return i >= 0 && (uint64_t)i < n ? names[i] : NULL;
}

/*
 * The table's defaults, written out: the front runs this twice per call, and
 * a loop over the table costs it several hundred instructions more.  Both
 * name the same macros, and test/unit/token/config.c checks that a config
 * fresh from here renders to no words, so the two cannot drift apart.
 */
void
kmfa_config_init(struct kmfa_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->storage = KMFA_STORAGE_AUTO;
	cfg->fido2 = KMFA_FIDO2_REQUIRED;
	cfg->session_max = KMFA_DEFAULT_SESSION_MAX;
	cfg->skew = KMFA_DEFAULT_SKEW;
	cfg->timeout = KMFA_DEFAULT_TIMEOUT;
	cfg->min_valid = KMFA_DEFAULT_MIN_VALID;
}

void
kmfa_config_free(struct kmfa_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < OPTS_N; i++) {
		char *base = (char *)cfg;
		if (opts[i].kind == KMFA_VAL_STRING) {
			char **p = (char **)(void *)(base + opts[i].off);
			kmfa_freezero_str(*p);
			*p = NULL;
		} else if (opts[i].kind == KMFA_VAL_LIST) {
			char **list = (char **)(void *)(base + opts[i].off);
			for (size_t j = 0; j < KMFA_MAX_LIST; j++) {
				free(list[j]);
				list[j] = NULL;
			}
		}
	}
	for (size_t i = 0; i < cfg->nargs; i++)
		free(cfg->args[i]);
	kmfa_config_init(cfg);
}

int
kmfa_config_parse_duration(const char *s, int64_t *out)
{
	int64_t total = 0;
	int any = 0;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*s != '\0') {
		char *end;
		long long v;
		int64_t unit;

		if (*s < '0' || *s > '9')
			return -1;	/* rejects signs and spaces */
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || end == s || v > 366LL * 24 * 3600)
			return -1;
		switch (*end) {
		case 'h': unit = 3600; break;
		case 'm': unit = 60; break;
		case 's': unit = 1; break;
		default: return -1;
		}
		total += (int64_t)v * unit;
		if (total > 366LL * 24 * 3600)
			return -1;
		s = end + 1;
		any = 1;
	}
	if (!any)
		return -1;
	*out = total;
	return 0;
}

static const struct opt *
find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < OPTS_N; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static int
set_opt(struct kmfa_config *cfg, const struct opt *o, const char *val)
{
	char *base = (char *)cfg;
	void *field = base + o->off;

	switch (o->kind) {
	case KMFA_VAL_FLAG:
		*(int *)field = 1;
		return KMFA_OK;
	case KMFA_VAL_STRING: {
		char **p = (char **)field;
		if (*val == '\0')
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--%s needs a non-empty value", o->name);
		kmfa_freezero_str(*p);
		if ((*p = strdup(val)) == NULL)
			return KMFA_ERR_NOMEM;
		return KMFA_OK;
	}
	case KMFA_VAL_LIST: {
		char **list = (char **)field;
		size_t *n = (size_t *)(void *)(base + o->count_off);
		if (*val == '\0')
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--%s needs a non-empty value", o->name);
		if (*n >= KMFA_MAX_LIST)
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--%s given more than %d times", o->name,
			    KMFA_MAX_LIST);
		if (o->off == F(extra_params) && strchr(val, '=') == NULL)
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--%s takes KEY=VALUE, got '%s'", o->name, val);
		if ((list[*n] = strdup(val)) == NULL)
			return KMFA_ERR_NOMEM;
		(*n)++;
		return KMFA_OK;
	}
	case KMFA_VAL_DURATION: {
		int64_t d;
		if (kmfa_config_parse_duration(val, &d) != 0)
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--%s: '%s' is not a duration like 90s, 15m or "
			    "1h30m", o->name, val);
		*(int64_t *)field = d;
		return KMFA_OK;
	}
	case KMFA_VAL_STORAGE: {
		int v = name_index(storage_names, NAMES_N(storage_names), val);
		if (v < 0)
			return kmfa_fail(KMFA_ERR_USAGE, "--token-cache-storage "
			    "takes auto, keyring, disk or none, not '%s'", val);
		*(enum kmfa_storage *)field = (enum kmfa_storage)v;
		return KMFA_OK;
	}
	case KMFA_VAL_FIDO2: {
		int v = name_index(fido2_names, NAMES_N(fido2_names), val);
		if (v < 0)
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--fido2 takes required or off, not '%s'", val);
		*(enum kmfa_fido2_mode *)field = (enum kmfa_fido2_mode)v;
		return KMFA_OK;
	}
	}
	return KMFA_ERR_INTERNAL;
}

int
kmfa_config_parse(struct kmfa_config *cfg, int argc, char *const argv[],
    unsigned allowed)
{
	int r;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *name, *eq, *val = NULL;
		const struct opt *o;
		size_t len;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cfg->help = 1;
			continue;
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			cfg->verbose++;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (a[0] == '-' && a[1] != '\0')
				return kmfa_fail(KMFA_ERR_USAGE,
				    "unknown option '%s' (see --help)", a);
			if (!(allowed & KMFA_OPTSET_POSITIONAL) ||
			    cfg->nargs >= sizeof(cfg->args) / sizeof(cfg->args[0]))
				return kmfa_fail(KMFA_ERR_USAGE,
				    "unexpected argument '%s' (see --help)", a);
			if ((cfg->args[cfg->nargs] = strdup(a)) == NULL)
				return KMFA_ERR_NOMEM;
			cfg->nargs++;
			continue;
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if ((o = find_opt(name, len)) == NULL || !(o->set & allowed))
			return kmfa_fail(KMFA_ERR_USAGE,
			    "unknown option '--%.*s' (see --help)", (int)len, name);
		if (o->kind == KMFA_VAL_FLAG) {
			if (eq != NULL)
				return kmfa_fail(KMFA_ERR_USAGE,
				    "--%s takes no value", o->name);
		} else if (eq != NULL) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return kmfa_fail(KMFA_ERR_USAGE, "--%s needs a value",
			    o->name);
		}
		if ((r = set_opt(cfg, o, val)) != KMFA_OK)
			return r;
	}
	return KMFA_OK;
}

/*
 * What the parser cannot refuse on its own, checked again once a cluster's
 * exec extension has added its part; err and where say whose mistake it is.
 */
static int
check_values(const struct kmfa_config *cfg, int err, const char *where)
{
	if (cfg->offline_access != NULL &&
	    strcmp(cfg->offline_access, "auto") != 0 &&
	    strcmp(cfg->offline_access, "on") != 0 &&
	    strcmp(cfg->offline_access, "off") != 0)
		return kmfa_fail(err, "%s--oidc-offline-access takes auto, on "
		    "or off", where);
	/* Two login_hint parameters would leave the IdP to pick one, and the
	 * identity would name only one of them. */
	if (cfg->login_hint != NULL) {
		for (size_t i = 0; i < cfg->nextra_params; i++)
			if (strncmp(cfg->extra_params[i], "login_hint=",
			    strlen("login_hint=")) == 0)
				return kmfa_fail(err, "%sgive the account as "
				    "--oidc-login-hint or as an extra "
				    "parameter login_hint, not both", where);
	}
	return KMFA_OK;
}

static char *
xdg_path(const char *var, const char *fallback, const char *leaf)
{
	const char *base = getenv(var);
	const char *home;
	char *out = NULL;

	/* XDG: a relative value is invalid and must be ignored. */
	if (base != NULL && base[0] == '/') {
		if (kmfa_asprintf(&out, "%s/%s", base, leaf) < 0)
			return NULL;
		return out;
	}
	if ((home = getenv("HOME")) == NULL || home[0] != '/')
		return NULL;
	if (kmfa_asprintf(&out, "%s/%s/%s", home, fallback, leaf) < 0)
		return NULL;
	return out;
}

int
kmfa_config_finish(struct kmfa_config *cfg)
{
	cfg->cache_dir_default = cfg->cache_dir == NULL;
	cfg->fido2_credentials_default = cfg->fido2_credentials == NULL;
	if (cfg->cache_dir == NULL &&
	    (cfg->cache_dir = xdg_path("XDG_CACHE_HOME", ".cache",
	    "kubectl-mfa")) == NULL)
		return kmfa_fail(KMFA_ERR_CONFIG, "cannot find a cache folder: "
		    "set HOME or XDG_CACHE_HOME, or pass --token-cache-dir");
	if (cfg->fido2_credentials == NULL &&
	    (cfg->fido2_credentials = xdg_path("XDG_CONFIG_HOME", ".config",
	    "kubectl-mfa/credentials.json")) == NULL)
		return kmfa_fail(KMFA_ERR_CONFIG, "cannot find a config folder: "
		    "set HOME or XDG_CONFIG_HOME, or pass --fido2-credentials");
	cfg->fido2_credentials_is_default = cfg->fido2_credentials_default;
	if (!cfg->fido2_credentials_is_default) {
		/* Named explicitly: the default file all the same?  Without
		 * a home to compare with, it is not. */
		char *def = xdg_path("XDG_CONFIG_HOME", ".config",
		    "kubectl-mfa/credentials.json");

		cfg->fido2_credentials_is_default = def != NULL &&
		    strcmp(def, cfg->fido2_credentials) == 0;
		free(def);
	}
	/* Checked here, not in a command: the front answers cache hits and
	 * must refuse the same configurations as the full program. */
	if (cfg->timeout == 0)
		return kmfa_fail(KMFA_ERR_USAGE, "--timeout must be more than 0s");
	return check_values(cfg, KMFA_ERR_USAGE, "");
}

int
kmfa_config_load_secret(struct kmfa_config *cfg)
{
	char *env = getenv(KMFA_SECRET_ENV), *data = NULL;
	size_t len = 0, size = 0;
	int r = KMFA_ERR_USAGE;

	if (cfg->client_secret != NULL && cfg->client_secret_file != NULL) {
		r = kmfa_fail(KMFA_ERR_USAGE, "give --oidc-client-secret or "
		    "--oidc-client-secret-file, not both");
		goto out;
	}
	if (cfg->client_secret == NULL && cfg->client_secret_file != NULL) {
		r = kmfa_file_read_private(cfg->client_secret_file,
		    KMFA_SECRET_FILE_MAX, &data, &len);
		if (r == KMFA_ERR_NOTFOUND)
			r = kmfa_fail(KMFA_ERR_CONFIG, "--oidc-client-secret-"
			    "file %s does not exist", cfg->client_secret_file);
		if (r != KMFA_OK)
			goto out;
		size = len + 1;	/* what was read, and its NUL */
		/* What `echo secret >file` leaves, and no more. */
		if (len > 0 && data[len - 1] == '\n')
			data[--len] = '\0';
		if (len == 0 || memchr(data, '\0', len) != NULL ||
		    strchr(data, '\n') != NULL) {
			r = kmfa_fail(KMFA_ERR_CONFIG, "--oidc-client-secret-"
			    "file %s holds no secret on one line",
			    cfg->client_secret_file);
			goto out;
		}
		cfg->client_secret = data;
		data = NULL;	/* transferred */
	} else if (cfg->client_secret == NULL && env != NULL &&
	    *env != '\0') {
		if ((cfg->client_secret = strdup(env)) == NULL) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
	}
	r = KMFA_OK;
out:
	if (env != NULL) {
		explicit_bzero(env, strlen(env));
		(void)unsetenv(KMFA_SECRET_ENV);
	}
	if (data != NULL)
		kmfa_freezero(data, size);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Append a length-prefixed field, so that no value can forge a separator:
 * "tag:length:value\n".  Written out rather than by kmfa_buf_printf: the
 * front builds the identity on every call, and vsnprintf twice per field
 * is most of its cost.
 */
static int
put_field(struct kmfa_buf *b, const char *tag, const char *val)
{
	char num[24];
	size_t vlen = strlen(val), n = vlen, i = sizeof(num);

	do {
		num[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	if (kmfa_buf_append(b, tag, strlen(tag)) != 0 ||
	    kmfa_buf_append(b, ":", 1) != 0 ||
	    kmfa_buf_append(b, num + i, sizeof(num) - i) != 0 ||
	    kmfa_buf_append(b, ":", 1) != 0 ||
	    kmfa_buf_append(b, val, vlen) != 0 ||
	    kmfa_buf_append(b, "\n", 1) != 0)
		return -1;
	return 0;
}

/*
 * The value of a single-valued option as its text: what follows "--name="
 * on a command line, and the value of its identity field.  A flag is "1" or
 * "0"; an unset string is NULL.  num holds a duration's digits.
 */
static const char *
value_text(const struct kmfa_config *cfg, const struct opt *o, char num[32])
{
	const void *field = field_of(cfg, o->off);

	switch (o->kind) {
	case KMFA_VAL_FLAG:
		return *(const int *)field ? "1" : "0";
	case KMFA_VAL_STRING:
		return *(char *const *)field;
	case KMFA_VAL_DURATION:
		(void)snprintf(num, 32, "%llds", (long long)number_of(cfg, o));
		return num;
	case KMFA_VAL_STORAGE:
		return index_name(storage_names, NAMES_N(storage_names),
		    number_of(cfg, o));
	case KMFA_VAL_FIDO2:
		return index_name(fido2_names, NAMES_N(fido2_names),
		    number_of(cfg, o));
	case KMFA_VAL_LIST:
		break;
	}
	return NULL;
}

/* A single-valued option left as kmfa_config_init() or finish() set it. */
static int
is_default(const struct kmfa_config *cfg, const struct opt *o)
{
	const void *field = field_of(cfg, o->off);

	switch (o->kind) {
	case KMFA_VAL_FLAG:
		return *(const int *)field == 0;
	case KMFA_VAL_STRING:
		return *(char *const *)field == NULL || (o->filled_off != 0 &&
		    *(const int *)field_of(cfg, o->filled_off));
	case KMFA_VAL_DURATION:
	case KMFA_VAL_STORAGE:
	case KMFA_VAL_FIDO2:
		return number_of(cfg, o) == o->def;
	case KMFA_VAL_LIST:
		break;
	}
	return 0;
}

static unsigned
use_of(const struct opt *o)
{
	return o->use | (o->id != NULL ? KMFA_OPT_IDENTITY : 0);
}

int
kmfa_config_option(size_t i, struct kmfa_option *out)
{
	if (i >= OPTS_N)
		return 0;
	out->name = opts[i].name;
	out->value = opts[i].kind;
	out->commands = opts[i].set;
	out->use = use_of(&opts[i]);
	return 1;
}

static int
push_word(char ***v, size_t *n, const char *name, const char *val)
{
	char **grown, *w = NULL;

	if ((val == NULL ? kmfa_asprintf(&w, "--%s", name) :
	    kmfa_asprintf(&w, "--%s=%s", name, val)) < 0)
		return -1;
	if ((grown = realloc(*v, (*n + 2) * sizeof(char *))) == NULL) {
		kmfa_freezero_str(w);
		return -1;
	}
	grown[(*n)++] = w;
	grown[*n] = NULL;
	*v = grown;
	return 0;
}

int
kmfa_config_argv(const struct kmfa_config *cfg, unsigned use, char ***argv,
    size_t *argc)
{
	char **v = NULL;
	size_t n = 0;
	int r = KMFA_ERR_NOMEM;

	*argv = NULL;
	if (argc != NULL)
		*argc = 0;
	/* An empty vector is still a vector: callers index it. */
	if ((v = calloc(1, sizeof(char *))) == NULL)
		goto out;
	for (size_t i = 0; i < OPTS_N; i++) {
		const struct opt *o = &opts[i];
		char num[32];

		if (use != KMFA_OPT_ALL && (use_of(o) & use) == 0)
			continue;
		if (o->kind == KMFA_VAL_LIST) {
			char *const *list = field_of(cfg, o->off);
			size_t cnt = *(const size_t *)field_of(cfg,
			    o->count_off);

			for (size_t j = 0; j < cnt; j++)
				if (push_word(&v, &n, o->name, list[j]) != 0)
					goto out;
		} else if (!is_default(cfg, o)) {
			const char *val = o->kind == KMFA_VAL_FLAG ? NULL :
			    value_text(cfg, o, num);

			if (o->kind != KMFA_VAL_FLAG && val == NULL) {
				r = KMFA_ERR_INTERNAL;	/* an enum off its table */
				goto out;
			}
			if (push_word(&v, &n, o->name, val) != 0)
				goto out;
		}
	}
	*argv = v;
	v = NULL;	/* transferred */
	if (argc != NULL)
		*argc = n;
	r = KMFA_OK;
out:
	kmfa_config_argv_free(&v);
	return r;
}

void
kmfa_config_argv_free(char ***argv)
{
	if (argv == NULL || *argv == NULL)
		return;
	for (size_t i = 0; (*argv)[i] != NULL; i++)
		kmfa_freezero_str((*argv)[i]);
	free(*argv);
	*argv = NULL;
}

/* Whether an option writes a field into the identity, and its value. */
static int
identity_value(const struct kmfa_config *cfg, const struct opt *o,
    char num[32], char hash[2 * KMFA_SHA256_LEN + 1], const char **val)
{
	uint8_t md[KMFA_SHA256_LEN];

	*val = NULL;
	if (o->id_when_set && (is_default(cfg, o) || (o->id_default_off != 0 &&
	    *(const int *)field_of(cfg, o->id_default_off))))
		return 0;
	*val = value_text(cfg, o, num);
	if (o->id_hash && *val != NULL) {
		kmfa_sha256(*val, strlen(*val), md);
		kmfa_hex(md, sizeof(md), hash);
		*val = hash;
	}
	return 1;
}

/*
 * The identity is every option with an identity tag, in table order: first
 * those always present (an unset string is empty), then those written only
 * when set; lists sorted so that the order they were given in does not
 * matter.
 */
char *
kmfa_config_identity(const struct kmfa_config *cfg)
{
	struct kmfa_buf b = { 0 };
	const char *sorted[KMFA_MAX_LIST];
	char *out = NULL;

	if (put_field(&b, "v", "1") < 0)
		goto out;
	for (int when_set = 0; when_set <= 1; when_set++) {
		for (size_t i = 0; i < OPTS_N; i++) {
			const struct opt *o = &opts[i];
			const char *val;
			char num[32], hash[2 * KMFA_SHA256_LEN + 1];

			if (o->id == NULL || o->id_when_set != when_set)
				continue;
			if (o->kind == KMFA_VAL_LIST) {
				size_t cnt = *(const size_t *)field_of(cfg,
				    o->count_off);

				memcpy(sorted, field_of(cfg, o->off),
				    cnt * sizeof(char *));
				qsort(sorted, cnt, sizeof(char *), cmp_str);
				for (size_t j = 0; j < cnt; j++)
					if (put_field(&b, o->id,
					    sorted[j]) < 0)
						goto out;
				continue;
			}
			if (!identity_value(cfg, o, num, hash, &val))
				continue;
			if (val == NULL && o->kind != KMFA_VAL_STRING)
				goto out;	/* an enum off its table */
			if (put_field(&b, o->id, val != NULL ? val : "") < 0)
				goto out;
		}
	}
	out = b.data;
	b.data = NULL;	/* transferred */
out:
	free(b.data);
	return out;
}

int
kmfa_config_from_identity(const char *identity, struct kmfa_config *cfg,
    char ca_data_hash[65])
{
	const char *p = identity;
	char *val = NULL;
	int r = KMFA_ERR_DAMAGED;

	ca_data_hash[0] = '\0';
	while (*p != '\0') {
		const char *colon = strchr(p, ':'), *v;
		const struct opt *o = NULL;
		char *end;
		unsigned long long len;

		if (colon == NULL || colon[1] < '0' || colon[1] > '9')
			goto out;
		errno = 0;
		len = strtoull(colon + 1, &end, 10);
		if (errno != 0 || *end != ':' || len > strlen(end + 1) ||
		    end[1 + len] != '\n')
			goto out;
		v = end + 1;
		for (size_t i = 0; i < OPTS_N; i++)
			if (opts[i].id != NULL && strlen(opts[i].id) ==
			    (size_t)(colon - p) && strncmp(opts[i].id, p,
			    (size_t)(colon - p)) == 0)
				o = &opts[i];
		p = v + len + 1;
		if (o == NULL || len == 0)
			continue;	/* "v", a tag of a later version, unset */
		if (o->id_hash) {
			if (len != 64)
				goto out;
			memcpy(ca_data_hash, v, 64);
			ca_data_hash[64] = '\0';
			continue;
		}
		if (o->kind == KMFA_VAL_FLAG && (len != 1 || *v != '1'))
			continue;	/* "0": unset */
		if ((val = strndup(v, (size_t)len)) == NULL) {
			r = KMFA_ERR_NOMEM;
			goto out;
		}
		if (set_opt(cfg, o, val) != KMFA_OK) {
			r = KMFA_ERR_DAMAGED;
			goto out;
		}
		free(val);
		val = NULL;
	}
	r = KMFA_OK;
out:
	free(val);
	return r;
}

void
kmfa_config_ca_data_hash(const struct kmfa_config *cfg, char out[65])
{
	uint8_t md[KMFA_SHA256_LEN];

	out[0] = '\0';
	if (cfg->ca_data == NULL)
		return;
	kmfa_sha256(cfg->ca_data, strlen(cfg->ca_data), md);
	kmfa_hex(md, sizeof(md), out);
}

void
kmfa_config_identity_key(const char *identity, char key[65])
{
	uint8_t md[KMFA_SHA256_LEN];

	kmfa_sha256(identity, strlen(identity), md);
	kmfa_hex(md, sizeof(md), key);
}

int
kmfa_config_cache_key(const struct kmfa_config *cfg, char key[65])
{
	char *id;

	if ((id = kmfa_config_identity(cfg)) == NULL)
		return KMFA_ERR_NOMEM;
	kmfa_config_identity_key(id, key);
	free(id);
	return KMFA_OK;
}

/* The cluster's exec extension (kmfa_config_merge_cluster). */

#define EXT_WHERE "the cluster's exec extension (spec.cluster.config): "

static const char *
json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/*
 * The end of the value that starts at p, in a document minijson has
 * already found well formed: only strings (whose quotes and brackets do
 * not count) and the nesting need attention.
 */
static const char *
json_skip(const char *p, const char *end)
{
	size_t depth = 0;

	do {
		if (p >= end)
			return end;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else if (depth == 0) {
			while (p < end && *p != ',' && *p != '}' &&
			    *p != ']' && *p != ' ' && *p != '\t' &&
			    *p != '\n' && *p != '\r')
				p++;
		} else {
			p++;
		}
	} while (depth > 0);
	return p < end ? p : end;
}

/* The span [p, end of its value) as a minijson field, for its getters. */
static void
json_field(struct kmfa_minijson_field *f, const char *p, const char *end)
{
	memset(f, 0, sizeof(*f));
	f->raw = p;
	f->rawlen = (size_t)(json_skip(p, end) - p);
	switch (*p) {
	case '"': f->type = KMFA_MINIJSON_STRING; break;
	case 't': f->type = KMFA_MINIJSON_TRUE; break;
	case 'f': f->type = KMFA_MINIJSON_FALSE; break;
	case 'n': f->type = KMFA_MINIJSON_NULL; break;
	case '{': f->type = KMFA_MINIJSON_OBJECT; break;
	case '[': f->type = KMFA_MINIJSON_ARRAY; break;
	default: f->type = KMFA_MINIJSON_NUMBER; break;
	}
}

/* One string of the extension into x, with the checks set_opt makes on a
 * command line, said about the extension. */
static int
ext_string(struct kmfa_config *x, const struct opt *o,
    const struct kmfa_minijson_field *f)
{
	char *val = NULL;
	int r = KMFA_ERR_CONFIG;

	if (f->type != KMFA_MINIJSON_STRING) {
		r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s takes %s", o->name,
		    o->kind == KMFA_VAL_LIST ? "a string or a list of strings" :
		    "a string");
		goto out;
	}
	if (kmfa_minijson_string(f, &val) != 0) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if (val[0] == '\0') {
		r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s is empty",
		    o->name);
		goto out;
	}
	if (o->kind == KMFA_VAL_LIST) {
		size_t n = *(const size_t *)field_of(x, o->count_off);

		if (n >= KMFA_MAX_LIST) {
			r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s has more "
			    "than %d values", o->name, KMFA_MAX_LIST);
			goto out;
		}
		if (o->off == F(extra_params) && (strchr(val, '=') == NULL ||
		    val[0] == '=')) {
			r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s takes "
			    "KEY=VALUE strings", o->name);
			goto out;
		}
	}
	/* Not relative to kubectl's working folder, which kubectl itself
	 * never uses for the paths of a cluster entry. */
	if (o->off == F(ca_file) && val[0] != '/') {
		r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s must be an "
		    "absolute path", o->name);
		goto out;
	}
	r = set_opt(x, o, val);
out:
	kmfa_freezero_str(val);
	return r;
}

/* One member of the extension, name=value, into x. */
static int
ext_member(struct kmfa_config *x, const char *name, const char *p,
    const char *end)
{
	struct kmfa_minijson_field f;
	const struct opt *o;
	char shown[48];

	if ((o = find_opt(name, strlen(name))) == NULL)
		return kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "unknown key "
		    "'%s' (the keys are option names without the dashes)",
		    kmfa_printable(shown, sizeof(shown), name));
	if ((o->use & KMFA_OPT_CLUSTER) == 0)
		return kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s may be set "
		    "only in the user entry's args, not by a cluster", o->name);
	json_field(&f, p, end);
	if (o->kind == KMFA_VAL_FLAG) {
		if (f.type != KMFA_MINIJSON_TRUE &&
		    f.type != KMFA_MINIJSON_FALSE)
			return kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s takes "
			    "true or false", o->name);
		*(int *)(void *)((char *)x + o->off) =
		    f.type == KMFA_MINIJSON_TRUE;
		return KMFA_OK;
	}
	if (o->kind == KMFA_VAL_LIST && f.type == KMFA_MINIJSON_ARRAY) {
		const char *q = json_ws(p + 1, end);
		int r;

		while (q < end && *q != ']') {
			json_field(&f, q, end);
			if ((r = ext_string(x, o, &f)) != KMFA_OK)
				return r;
			q = json_ws(f.raw + f.rawlen, end);
			if (q < end && *q == ',')
				q = json_ws(q + 1, end);
		}
		return KMFA_OK;
	}
	return ext_string(x, o, &f);
}

/* Move what x holds and cfg does not into cfg: cfg's own values win. */
static void
ext_fill(struct kmfa_config *cfg, struct kmfa_config *x)
{
	for (size_t i = 0; i < OPTS_N; i++) {
		const struct opt *o = &opts[i];
		void *to = (char *)cfg + o->off, *from = (char *)x + o->off;

		if (!(o->use & KMFA_OPT_CLUSTER))
			continue;
		switch (o->kind) {
		case KMFA_VAL_FLAG:
			if (*(int *)to == 0)
				*(int *)to = *(int *)from;
			break;
		case KMFA_VAL_STRING:
			if (*(char **)to == NULL) {
				*(char **)to = *(char **)from;
				*(char **)from = NULL;	/* transferred */
			}
			break;
		case KMFA_VAL_LIST: {
			size_t *nto = (size_t *)(void *)((char *)cfg +
			    o->count_off);
			size_t *nfrom = (size_t *)(void *)((char *)x +
			    o->count_off);

			if (*nto != 0)
				break;
			memcpy(to, from, *nfrom * sizeof(char *));
			memset(from, 0, *nfrom * sizeof(char *));
			*nto = *nfrom;
			*nfrom = 0;	/* transferred */
			break;
		}
		default:
			break;
		}
	}
}

int
kmfa_config_merge_cluster(struct kmfa_config *cfg, const char *ext,
    size_t len)
{
	struct kmfa_config x;
	const char *p, *end;
	uint64_t seen = 0;
	int r = KMFA_ERR_CONFIG;

	_Static_assert(OPTS_N <= 64, "one bit per option in `seen`");
	kmfa_config_init(&x);
	if (ext == NULL)
		return KMFA_OK;
	/* Well formed, and an object, before json_skip walks it. */
	if (kmfa_minijson_scan(ext, len, NULL, 0) != 0) {
		r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "not a JSON object "
		    "that can be read without doubt");
		goto out;
	}
	end = ext + len;
	p = json_ws(ext, end) + 1;	/* past the '{' */
	for (p = json_ws(p, end); p < end && *p != '}';) {
		struct kmfa_minijson_field key;
		char name[64];
		const struct opt *o;

		json_field(&key, p, end);
		if (kmfa_minijson_string_buf(&key, name, sizeof(name), NULL)
		    != 0) {
			r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "a key longer "
			    "than any option name");
			goto out;
		}
		p = json_ws(key.raw + key.rawlen, end);
		p = json_ws(p + 1, end);	/* past the ':' */
		/* The scan above already refuses any repeated member; this
		 * keeps two values for one option out should that change. */
		if ((o = find_opt(name, strlen(name))) != NULL) {
			uint64_t bit = UINT64_C(1) << (size_t)(o - opts);

			if (seen & bit) {
				r = kmfa_fail(KMFA_ERR_CONFIG, EXT_WHERE "%s is "
				    "given twice", o->name);
				goto out;
			}
			seen |= bit;
		}
		if ((r = ext_member(&x, name, p, end)) != KMFA_OK)
			goto out;
		p = json_ws(json_skip(p, end), end);
		if (p < end && *p == ',')
			p = json_ws(p + 1, end);
	}
	if ((r = check_values(&x, KMFA_ERR_CONFIG, EXT_WHERE)) != KMFA_OK)
		goto out;
	ext_fill(cfg, &x);
	if ((r = check_values(cfg, KMFA_ERR_CONFIG, "with the cluster's exec "
	    "extension, ")) != KMFA_OK)
		goto out;
	r = KMFA_OK;
out:
	kmfa_config_free(&x);
	return r;
}

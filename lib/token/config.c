/*
 * Command-line options.  One table describes every option: its name, the
 * subcommands that take it (a bit set) and where its value goes.  Both
 * `--flag value` and `--flag=value` are accepted, as in kubelogin, whose
 * flag names are kept where the meaning is the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/report.h"
#include "base/sha256.h"
#include "base/util.h"
#include "token/config.h"

enum opt_kind {
	OPT_STRING,	/* char * */
	OPT_LIST,	/* char *[KMFA_MAX_LIST], count follows */
	OPT_FLAG,	/* int set to 1 */
	OPT_DURATION,	/* int64_t seconds */
	OPT_STORAGE,
	OPT_FIDO2,
};

struct opt {
	const char *name;
	enum opt_kind kind;
	unsigned set;
	size_t off;		/* offset of the field in struct kmfa_config */
	size_t count_off;	/* OPT_LIST: offset of the count */
};

#define F(field) offsetof(struct kmfa_config, field)

static const struct opt opts[] = {
	{ "oidc-issuer-url", OPT_STRING, KMFA_OPTSET_OIDC, F(issuer), 0 },
	{ "oidc-client-id", OPT_STRING, KMFA_OPTSET_OIDC, F(client_id), 0 },
	{ "oidc-client-secret", OPT_STRING, KMFA_OPTSET_OIDC, F(client_secret), 0 },
	{ "oidc-extra-scope", OPT_LIST, KMFA_OPTSET_OIDC, F(scopes), F(nscopes) },
	{ "oidc-use-access-token", OPT_FLAG, KMFA_OPTSET_OIDC, F(use_access_token), 0 },
	{ "oidc-auth-request-extra-params", OPT_LIST, KMFA_OPTSET_OIDC,
	    F(extra_params), F(nextra_params) },
	{ "certificate-authority", OPT_STRING, KMFA_OPTSET_OIDC, F(ca_file), 0 },
	{ "certificate-authority-data", OPT_STRING, KMFA_OPTSET_OIDC, F(ca_data), 0 },
	{ "insecure-skip-tls-verify", OPT_FLAG, KMFA_OPTSET_OIDC,
	    F(insecure_skip_tls_verify), 0 },
	{ "token-cache-storage", OPT_STORAGE, KMFA_OPTSET_OIDC, F(storage), 0 },
	{ "token-cache-dir", OPT_STRING, KMFA_OPTSET_OIDC, F(cache_dir), 0 },
	{ "fido2", OPT_FIDO2, KMFA_OPTSET_FIDO2, F(fido2), 0 },
	{ "fido2-credentials", OPT_STRING, KMFA_OPTSET_FIDO2 | KMFA_OPTSET_ENROLL,
	    F(fido2_credentials), 0 },
	{ "fido2-device", OPT_STRING, KMFA_OPTSET_FIDO2 | KMFA_OPTSET_ENROLL,
	    F(fido2_device), 0 },
	{ "fido2-uv", OPT_FLAG, KMFA_OPTSET_FIDO2 | KMFA_OPTSET_ENROLL, F(fido2_uv), 0 },
	{ "session-max", OPT_DURATION, KMFA_OPTSET_FIDO2, F(session_max), 0 },
	{ "skew", OPT_DURATION, KMFA_OPTSET_OIDC, F(skew), 0 },
	{ "timeout", OPT_DURATION, KMFA_OPTSET_LOGIN | KMFA_OPTSET_ENROLL, F(timeout), 0 },
	{ "audit-log", OPT_STRING, KMFA_OPTSET_LOGIN | KMFA_OPTSET_ENROLL, F(audit_log), 0 },
	{ "skip-open-browser", OPT_FLAG, KMFA_OPTSET_LOGIN, F(skip_open_browser), 0 },
	{ "browser-command", OPT_STRING, KMFA_OPTSET_LOGIN, F(browser_command), 0 },
	{ "require-amr", OPT_STRING, KMFA_OPTSET_LOGIN, F(require_amr), 0 },
	{ "require-acr", OPT_STRING, KMFA_OPTSET_LOGIN, F(require_acr), 0 },
	{ "min-valid", OPT_DURATION, KMFA_OPTSET_STATUS, F(min_valid), 0 },
	{ "json", OPT_FLAG, KMFA_OPTSET_STATUS, F(json), 0 },
	{ "all", OPT_FLAG, KMFA_OPTSET_ALL, F(all), 0 },
	{ "name", OPT_STRING, KMFA_OPTSET_ENROLL, F(name), 0 },
	{ "kubeconfig", OPT_STRING, KMFA_OPTSET_SETUP, F(kubeconfig), 0 },
	{ "user", OPT_STRING, KMFA_OPTSET_SETUP, F(user), 0 },
};

#define OPTS_N (sizeof(opts) / sizeof(opts[0]))

void
kmfa_config_init(struct kmfa_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->storage = KMFA_STORAGE_AUTO;
	cfg->fido2 = KMFA_FIDO2_REQUIRED;
	cfg->skew = KMFA_DEFAULT_SKEW;
	cfg->timeout = KMFA_DEFAULT_TIMEOUT;
	cfg->min_valid = -1;
}

void
kmfa_config_free(struct kmfa_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < OPTS_N; i++) {
		char *base = (char *)cfg;
		if (opts[i].kind == OPT_STRING) {
			char **p = (char **)(void *)(base + opts[i].off);
			kmfa_freezero_str(*p);
			*p = NULL;
		} else if (opts[i].kind == OPT_LIST) {
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
kmfa_parse_duration(const char *s, int64_t *out)
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
	case OPT_FLAG:
		*(int *)field = 1;
		return KMFA_OK;
	case OPT_STRING: {
		char **p = (char **)field;
		if (*val == '\0')
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--%s needs a non-empty value", o->name);
		kmfa_freezero_str(*p);
		if ((*p = strdup(val)) == NULL)
			return KMFA_ERR_NOMEM;
		return KMFA_OK;
	}
	case OPT_LIST: {
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
	case OPT_DURATION: {
		int64_t d;
		if (kmfa_parse_duration(val, &d) != 0)
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--%s: '%s' is not a duration like 90s, 15m or "
			    "1h30m", o->name, val);
		*(int64_t *)field = d;
		return KMFA_OK;
	}
	case OPT_STORAGE: {
		enum kmfa_storage *p = field;
		if (strcmp(val, "auto") == 0)
			*p = KMFA_STORAGE_AUTO;
		else if (strcmp(val, "keyring") == 0)
			*p = KMFA_STORAGE_KEYRING;
		else if (strcmp(val, "disk") == 0)
			*p = KMFA_STORAGE_DISK;
		else if (strcmp(val, "none") == 0)
			*p = KMFA_STORAGE_NONE;
		else
			return kmfa_fail(KMFA_ERR_USAGE, "--token-cache-storage "
			    "takes auto, keyring, disk or none, not '%s'", val);
		return KMFA_OK;
	}
	case OPT_FIDO2: {
		enum kmfa_fido2_mode *p = field;
		if (strcmp(val, "required") == 0)
			*p = KMFA_FIDO2_REQUIRED;
		else if (strcmp(val, "off") == 0)
			*p = KMFA_FIDO2_OFF;
		else
			return kmfa_fail(KMFA_ERR_USAGE,
			    "--fido2 takes required or off, not '%s'", val);
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
		if (o->kind == OPT_FLAG) {
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
	/* Checked here, not in a command: the front answers cache hits and
	 * must refuse the same configurations as the full program. */
	if (cfg->timeout == 0)
		return kmfa_fail(KMFA_ERR_USAGE, "--timeout must be more than 0s");
	return KMFA_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append a length-prefixed field, so that no value can forge a separator. */
static int
put_field(struct kmfa_buf *b, const char *tag, const char *val)
{
	return kmfa_buf_printf(b, "%s:%zu:%s\n", tag, strlen(val), val);
}

char *
kmfa_config_identity(const struct kmfa_config *cfg)
{
	struct kmfa_buf b = { 0 };
	const char *sorted[KMFA_MAX_LIST];
	char *out = NULL;

	if (put_field(&b, "v", "1") < 0 ||
	    put_field(&b, "issuer", cfg->issuer ? cfg->issuer : "") < 0 ||
	    put_field(&b, "client", cfg->client_id ? cfg->client_id : "") < 0)
		goto out;
	memcpy(sorted, cfg->scopes, cfg->nscopes * sizeof(char *));
	qsort(sorted, cfg->nscopes, sizeof(char *), cmp_str);
	for (size_t i = 0; i < cfg->nscopes; i++)
		if (put_field(&b, "scope", sorted[i]) < 0)
			goto out;
	memcpy(sorted, cfg->extra_params, cfg->nextra_params * sizeof(char *));
	qsort(sorted, cfg->nextra_params, sizeof(char *), cmp_str);
	for (size_t i = 0; i < cfg->nextra_params; i++)
		if (put_field(&b, "param", sorted[i]) < 0)
			goto out;
	if (put_field(&b, "access", cfg->use_access_token ? "1" : "0") < 0 ||
	    put_field(&b, "fido2",
	    cfg->fido2 == KMFA_FIDO2_OFF ? "off" : "required") < 0)
		goto out;
	out = b.data;
	b.data = NULL;	/* transferred */
out:
	free(b.data);
	return out;
}

void
kmfa_identity_key(const char *identity, char key[65])
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
	kmfa_identity_key(id, key);
	free(id);
	return KMFA_OK;
}

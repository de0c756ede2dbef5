/*
 * The configuration of one invocation: every option of the command line in
 * parsed form.  The same parser runs in the small front binary (for the hot
 * path) and in the full program, so both compute the same cache identity.
 * Strings are owned by the config and freed by kmfa_config_free(); the
 * client secret is wiped.
 */
#ifndef KMFA_CONFIG_H
#define KMFA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum kmfa_storage {
	KMFA_STORAGE_AUTO = 0,	/* keyring when a Secret Service answers, else disk */
	KMFA_STORAGE_KEYRING,
	KMFA_STORAGE_DISK,
	KMFA_STORAGE_NONE,
};

enum kmfa_fido2_mode {
	KMFA_FIDO2_REQUIRED = 0,
	KMFA_FIDO2_OFF,
};

#define KMFA_MAX_LIST 32

struct kmfa_config {
	char *issuer;			/* --oidc-issuer-url */
	char *client_id;		/* --oidc-client-id */
	char *client_secret;		/* --oidc-client-secret (secret) */
	char *scopes[KMFA_MAX_LIST];	/* --oidc-extra-scope, repeatable */
	size_t nscopes;
	int use_access_token;		/* --oidc-use-access-token */
	char *extra_params[KMFA_MAX_LIST]; /* --oidc-auth-request-extra-params k=v */
	size_t nextra_params;
	char *ca_file;			/* --certificate-authority */
	char *ca_data;			/* --certificate-authority-data (base64 PEM) */
	int insecure_skip_tls_verify;	/* --insecure-skip-tls-verify */
	enum kmfa_storage storage;	/* --token-cache-storage */
	char *cache_dir;		/* --token-cache-dir */
	enum kmfa_fido2_mode fido2;	/* --fido2 */
	char *fido2_credentials;	/* --fido2-credentials */
	char *fido2_device;		/* --fido2-device */
	int fido2_uv;			/* --fido2-uv */
	int64_t session_max;		/* --session-max, seconds; 0 = none */
	int64_t skew;			/* --skew, seconds */
	int64_t timeout;		/* --timeout, seconds: bounds a whole login */
	int64_t min_valid;		/* --min-valid (status), seconds */
	char *audit_log;		/* --audit-log FILE|syslog|off */
	int skip_open_browser;		/* --skip-open-browser */
	char *browser_command;		/* --browser-command */
	char *require_amr;		/* --require-amr */
	char *require_acr;		/* --require-acr */
	char *name;			/* --name (enroll) */
	char *kubeconfig;		/* --kubeconfig (setup) */
	char *user;			/* --user (setup) */
	int all;			/* --all */
	int json;			/* --json */
	int help;			/* --help, -h */
	int verbose;			/* -v, repeatable */
	int cache_dir_default;		/* cache_dir was filled by finish() */
	int fido2_credentials_default;	/* likewise */
	char *args[4];			/* positional arguments after the command */
	size_t nargs;
};

#define KMFA_DEFAULT_SKEW 30
#define KMFA_DEFAULT_TIMEOUT 300

void kmfa_config_init(struct kmfa_config *cfg);
void kmfa_config_free(struct kmfa_config *cfg);

/*
 * Parse argv[0..argc) (the arguments after the subcommand) into cfg, which
 * must have been initialised.  `allowed` is a bit set of KMFA_OPTSET_* that
 * the subcommand accepts.  Returns KMFA_ERR_USAGE with a recorded cause for
 * an unknown option, a missing or malformed value, or too many positional
 * arguments.
 */
int kmfa_config_parse(struct kmfa_config *cfg, int argc, char *const argv[],
    unsigned allowed);

/* Fill defaults that depend on the environment (cache and config paths). */
int kmfa_config_finish(struct kmfa_config *cfg);

#define KMFA_OPTSET_OIDC	0x01u	/* issuer, client, scopes, TLS, cache */
#define KMFA_OPTSET_FIDO2	0x02u	/* --fido2*, --session-max */
#define KMFA_OPTSET_LOGIN	0x04u	/* --timeout, browser, audit, amr/acr */
#define KMFA_OPTSET_STATUS	0x08u	/* --min-valid, --json */
#define KMFA_OPTSET_ALL		0x10u	/* --all */
#define KMFA_OPTSET_ENROLL	0x20u	/* --name */
#define KMFA_OPTSET_SETUP	0x40u	/* --kubeconfig, --user */
#define KMFA_OPTSET_POSITIONAL	0x80u	/* up to 4 positional arguments */

/*
 * Parse a duration: "90s", "15m", "1h30m", "2h", "0s".  Returns 0 and sets
 * *out to seconds, or -1 on a malformed, negative or absurd (> 1 year) value.
 */
int kmfa_parse_duration(const char *s, int64_t *out);

/*
 * The canonical identity of the token this configuration asks for: issuer,
 * client id, sorted scopes, access-token flag, sorted extra parameters and
 * the FIDO2 policy.  The cache key is its SHA-256; cache records store it
 * whole so that a hash-named file can never answer for another
 * configuration.  Caller frees.
 */
char *kmfa_config_identity(const struct kmfa_config *cfg);

/* Hex SHA-256 of the identity: 64 characters and a NUL into key. */
int kmfa_config_cache_key(const struct kmfa_config *cfg, char key[65]);
/* The same, for an identity already built (saves building it twice). */
void kmfa_identity_key(const char *identity, char key[65]);

#endif

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
	char *client_secret;		/* --oidc-client-secret (secret), or
					 * what kmfa_config_load_secret read */
	char *client_secret_file;	/* --oidc-client-secret-file */
	char *scopes[KMFA_MAX_LIST];	/* --oidc-extra-scope, repeatable */
	size_t nscopes;
	int use_access_token;		/* --oidc-use-access-token */
	char *offline_access;		/* --oidc-offline-access auto|on|off;
					 * NULL is auto (oidc/discovery.h) */
	char *login_hint;		/* --oidc-login-hint: sent as login_hint,
					 * and the account in the identity */
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
	int server_proof;		/* --server-proof: print the kmfa1 bundle */
	int64_t session_max;		/* --session-max, seconds; 0 = none */
	int64_t skew;			/* --skew, seconds */
	int64_t timeout;		/* --timeout, seconds: bounds a whole login */
	int64_t min_valid;		/* --min-valid (status), seconds */
	char *audit_log;		/* --audit-log FILE|syslog|off */
	int skip_open_browser;		/* --skip-open-browser */
	char *browser_command;		/* --browser-command */
	char *grant_type;		/* --grant-type auto|authcode|
					 * authcode-keyboard|device-code;
					 * NULL is auto (flow/flow.c) */
	char *listen_address;		/* --listen-address HOST:PORT */
	char *redirect_url;		/* --oidc-redirect-url */
	char *require_amr;		/* --require-amr */
	char *require_acr;		/* --require-acr */
	char *name;			/* --name (enroll) */
	char *kubeconfig;		/* --kubeconfig (setup) */
	char *user;			/* --user (setup) */
	char *exec_command;		/* --exec-command (setup): the entry's
					 * command; NULL: the installed front's
					 * absolute path */
	int all;			/* --all */
	int json;			/* --json */
	int help;			/* --help, -h */
	int verbose;			/* -v, repeatable */
	int cache_dir_default;		/* cache_dir was filled by finish() */
	int fido2_credentials_default;	/* likewise */
	int fido2_credentials_is_default; /* it is the default file, filled
					 * in or named: not in the identity */
	char *args[4];			/* positional arguments after the command */
	size_t nargs;
};

#define KMFA_DEFAULT_SESSION_MAX 0	/* no cap */
#define KMFA_DEFAULT_SKEW 30
#define KMFA_DEFAULT_TIMEOUT 300
#define KMFA_DEFAULT_MIN_VALID (-1)	/* not given: any valid token will do */

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

/* The environment variable that may hold the client secret. */
#define KMFA_SECRET_ENV "KUBECTL_MFA_OIDC_CLIENT_SECRET"
/* The largest --oidc-client-secret-file read. */
#define KMFA_SECRET_FILE_MAX 4096

/*
 * Put the client secret into cfg->client_secret for the commands that talk
 * to the IdP: --oidc-client-secret as given, else the contents of
 * --oidc-client-secret-file (a private file: no group or other bits; one
 * trailing newline is dropped), else $KUBECTL_MFA_OIDC_CLIENT_SECRET.  The
 * variable's value is wiped in place and removed from the environment in
 * every case, so that no child (the browser command) inherits it and
 * /proc/PID/environ no longer shows it.  Not for the front: a cache hit
 * needs no secret, and the variable must reach the full program.  Giving
 * both options is KMFA_ERR_USAGE; a bad file KMFA_ERR_CONFIG or _IO.
 */
int kmfa_config_load_secret(struct kmfa_config *cfg);

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
int kmfa_config_parse_duration(const char *s, int64_t *out);

/*
 * The canonical identity of the token this configuration asks for: the
 * options the table marks KMFA_OPT_IDENTITY (issuer, client id, sorted
 * scopes, sorted extra parameters, access-token flag, FIDO2 policy), as
 * length-prefixed fields, followed by those that decide whether a token is
 * acceptable (--require-amr/-acr, --fido2-uv, a credentials file other than
 * the default, the TLS trust: CA path, SHA-256 of CA data, skip-verify)
 * and the account (--oidc-login-hint), each only when set; options merged
 * from the cluster's exec extension count as if given.  The cache key is its SHA-256; cache records
 * store it whole so that a hash-named file can never answer for another
 * configuration.  Caller frees.
 */
char *kmfa_config_identity(const struct kmfa_config *cfg);

/*
 * The option table, as the rest of the program may see it.  Each option
 * says what its value is, which subcommands take it (KMFA_OPTSET_*) and
 * where else it goes (KMFA_OPT_*): into the cache identity, into the exec
 * arguments `setup` writes, into the login command printed when nobody is
 * there to log in.
 */
enum kmfa_opt_value {
	KMFA_VAL_FLAG,		/* no value: --flag */
	KMFA_VAL_STRING,
	KMFA_VAL_LIST,		/* repeatable string */
	KMFA_VAL_DURATION,	/* kmfa_config_parse_duration() */
	KMFA_VAL_STORAGE,	/* auto|keyring|disk|none */
	KMFA_VAL_FIDO2,		/* required|off */
};

#define KMFA_OPT_IDENTITY	0x01u	/* part of kmfa_config_identity() */
#define KMFA_OPT_EXEC_ARGS	0x02u	/* written into the exec entry by setup */
#define KMFA_OPT_HINT		0x04u	/* shown in the login hint */
#define KMFA_OPT_CLUSTER	0x08u	/* may come from the cluster's exec
					 * extension (kmfa_config_merge_cluster) */
#define KMFA_OPT_ALL		(~0u)	/* render every option, whatever its use */

struct kmfa_option {
	const char *name;		/* without the leading "--" */
	enum kmfa_opt_value value;
	unsigned commands;		/* KMFA_OPTSET_* */
	unsigned use;			/* KMFA_OPT_* */
};

/* The i-th option of the table; 0 when i is past its end. */
int kmfa_config_option(size_t i, struct kmfa_option *out);

/*
 * Render cfg back into options: each option whose use meets `use` (or every
 * option for KMFA_OPT_ALL) and whose value is not its default, in table
 * order, lists in the order given, always as "--name=value" or "--flag".
 * Nothing is quoted: that is the concern of whoever hands the words to a
 * shell or a CSV reader.  *argv is NULL-terminated, *argc counts the words
 * (argc may be NULL); free with kmfa_config_argv_free(), which wipes them
 * (the client secret may be among them).  KMFA_OK or KMFA_ERR_NOMEM.
 */
int kmfa_config_argv(const struct kmfa_config *cfg, unsigned use,
    char ***argv, size_t *argc);
void kmfa_config_argv_free(char ***argv);

/*
 * The options an identity names, back into cfg (initialised by the
 * caller): what an entry of another configuration was made with, so that
 * `logout --all` can use its own issuer, client and TLS trust.  A hashed
 * field (the CA data) cannot be restored: *ca_data_hash receives its hex
 * (65 bytes, "" when absent) for the caller to compare.  Unknown tags are
 * skipped.  KMFA_OK, KMFA_ERR_DAMAGED for bytes that are no identity, or
 * KMFA_ERR_NOMEM; on failure cfg may hold some options (free it).
 */
int kmfa_config_from_identity(const char *identity, struct kmfa_config *cfg,
    char ca_data_hash[65]);

/*
 * Options from the cluster's exec extension: ext[0..len) is the JSON
 * object client-go hands over as spec.cluster.config in
 * KUBERNETES_EXEC_INFO (the kubeconfig cluster's `extensions` entry named
 * client.authentication.k8s.io/exec, with provideClusterInfo: true).  Its
 * keys are long option names without the dashes, limited to the options
 * the table marks KMFA_OPT_CLUSTER: where to log in and as whom, never a
 * secret, a program to run or a weaker policy.  Strings are JSON strings,
 * repeatable options a string or an array of strings, flags true or false.
 * What cfg already holds (the user entry's args) wins; the rest is filled
 * in, so the identity covers it.  Both the front and the full program call
 * it, after kmfa_config_finish(), so both compute the same identity.
 * KMFA_ERR_CONFIG with a recorded cause for anything else: malformed JSON,
 * a repeated, unknown or refused key, a value of the wrong type, a
 * combination the command line would refuse too; cfg may then hold part
 * of the extension and is not to be used.  ext NULL: nothing to merge.
 */
int kmfa_config_merge_cluster(struct kmfa_config *cfg, const char *ext,
    size_t len);

/* Hex SHA-256 of the value kmfa_config_identity() writes for the CA data,
 * "" when cfg has none. */
void kmfa_config_ca_data_hash(const struct kmfa_config *cfg, char out[65]);

/* Hex SHA-256 of the identity: 64 characters and a NUL into key. */
int kmfa_config_cache_key(const struct kmfa_config *cfg, char key[65]);
/* The same, for an identity already built (saves building it twice). */
void kmfa_config_identity_key(const char *identity, char key[65]);

#endif

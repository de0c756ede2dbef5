/*
 * Unit tests for lib/token/config.c: the option table and what is rendered
 * from a parsed configuration.  The cache identity's bytes are pinned here
 * because cache files and records store them (a change would orphan every
 * cached token); the login hint and the exec arguments `setup` writes are
 * pinned because people copy them and kubeconfigs hold them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/report.h"
#include "flow/flow.h"
#include "flow/setup.h"
#include "token/config.h"

#define ALL_SETS (KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 | KMFA_OPTSET_LOGIN | \
    KMFA_OPTSET_STATUS | KMFA_OPTSET_ALL | KMFA_OPTSET_ENROLL | \
    KMFA_OPTSET_SETUP)

/* Every option, mixing both spellings; lists out of order on purpose. */
static const char *const every[] = {
	"--oidc-issuer-url", "https://idp.example/realms/a",
	"--oidc-client-id=kube",
	"--oidc-client-secret", "s3cret",
	"--oidc-client-secret-file", "/tmp/secret",
	"--oidc-extra-scope=groups",
	"--oidc-extra-scope", "email",
	"--oidc-extra-scope=ev\nil",
	"--oidc-use-access-token",
	"--oidc-offline-access", "off",
	"--oidc-login-hint", "alice@example.com",
	"--oidc-auth-request-extra-params", "b=2",
	"--oidc-auth-request-extra-params=acr_values=mfa",
	"--certificate-authority", "/etc/ca.pem",
	"--certificate-authority-data=LS0tLS1=",
	"--insecure-skip-tls-verify",
	"--token-cache-storage", "disk",
	"--token-cache-dir=/tmp/c",
	"--fido2", "off",
	"--fido2-credentials=/tmp/creds.json",
	"--fido2-device", "unix:/tmp/sock",
	"--fido2-uv",
	"--server-proof",
	"--session-max=1h30m",
	"--skew", "45s",
	"--timeout=2m",
	"--audit-log", "syslog",
	"--skip-open-browser",
	"--browser-command=firefox",
	"--grant-type", "authcode",
	"--listen-address=127.0.0.1:8000",
	"--oidc-redirect-url", "http://localhost:8000/",
	"--require-amr", "hwk",
	"--require-acr=urn:mfa",
	"--min-valid", "15m",
	"--json",
	"--all",
	"--name=key-9",
	"--kubeconfig", "/tmp/kc",
	"--user=alice",
	"--exec-command=/opt/kmfa/bin/kubectl-mfa",
};

static const char every_identity[] =
    "v:1:1\n"
    "issuer:28:https://idp.example/realms/a\n"
    "client:4:kube\n"
    "scope:5:email\n"
    "scope:5:ev\nil\n"
    "scope:6:groups\n"
    "param:14:acr_values=mfa\n"
    "param:3:b=2\n"
    "access:1:1\n"
    "fido2:3:off\n"
    /* What decides whether a token is acceptable, appended when set. */
    "account:17:alice@example.com\n"
    "ca:11:/etc/ca.pem\n"
    "ca-data:64:298c75c6dd6557930a686ac97da8cf71"
    "bf571699f02520c2c081495c452359ad\n"
    "insecure:1:1\n"
    "fido2-creds:15:/tmp/creds.json\n"
    "fido2-uv:1:1\n"
    "server-proof:1:1\n"
    "amr:3:hwk\n"
    "acr:7:urn:mfa\n";

static const char every_hint[] =
    "kubectl mfa login --oidc-issuer-url=https://idp.example/realms/a "
    "--oidc-client-id=kube --oidc-extra-scope=groups "
    "--oidc-extra-scope=email --oidc-extra-scope=ev\nil "
    "--oidc-auth-request-extra-params=b=2 "
    "--oidc-auth-request-extra-params=acr_values=mfa "
    "--oidc-use-access-token --oidc-offline-access=off "
    "--oidc-login-hint=alice@example.com "
    "--certificate-authority=/etc/ca.pem "
    "--certificate-authority-data=LS0tLS1= --insecure-skip-tls-verify "
    "--fido2=off --fido2-credentials=/tmp/creds.json --fido2-uv "
    "--server-proof "
    "--grant-type=authcode --listen-address=127.0.0.1:8000 "
    "--oidc-redirect-url=http://localhost:8000/ "
    "--require-amr=hwk --require-acr=urn:mfa";

static const char *const every_setup[] = {
	"get-token",
	"--oidc-issuer-url=https://idp.example/realms/a",
	"--oidc-client-id=kube",
	"--oidc-client-secret=s3cret",
	"--oidc-client-secret-file=/tmp/secret",
	"--oidc-extra-scope=groups",
	"--oidc-extra-scope=email",
	"--oidc-extra-scope=ev\nil",
	"--oidc-auth-request-extra-params=b=2",
	"--oidc-auth-request-extra-params=acr_values=mfa",
	"--oidc-use-access-token",
	"--oidc-offline-access=off",
	"--oidc-login-hint=alice@example.com",
	"--certificate-authority=/etc/ca.pem",
	"--certificate-authority-data=LS0tLS1=",
	"--insecure-skip-tls-verify",
	"--token-cache-storage=disk",
	"--token-cache-dir=/tmp/c",
	"--fido2=off",
	"--fido2-credentials=/tmp/creds.json",
	"--fido2-device=unix:/tmp/sock",
	"--fido2-uv",
	"--server-proof",
	"--session-max=5400s",
	"--skew=45s",
	"--timeout=120s",
	"--audit-log=syslog",
	"--skip-open-browser",
	"--browser-command=firefox",
	"--grant-type=authcode",
	"--listen-address=127.0.0.1:8000",
	"--oidc-redirect-url=http://localhost:8000/",
	"--require-amr=hwk",
	"--require-acr=urn:mfa",
	NULL,
};

static void
parse_ok(struct kmfa_config *cfg, int argc, const char *const argv[])
{
	kmfa_config_init(cfg);
	kmfa_report_clear();
	assert_int_equal(kmfa_config_parse(cfg, argc, (char *const *)argv,
	    ALL_SETS), KMFA_OK);
}

static void
assert_args(char **got, const char *const want[])
{
	size_t i;

	assert_non_null(got);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
}

static void
test_identity_bytes_with_every_identity_option(void **state)
{
	struct kmfa_config cfg;
	char *id;

	(void)state;
	parse_ok(&cfg, (int)(sizeof(every) / sizeof(every[0])), every);
	assert_non_null(id = kmfa_config_identity(&cfg));
	assert_string_equal(id, every_identity);
	free(id);
	kmfa_config_free(&cfg);
}

static void
test_identity_bytes_of_the_defaults(void **state)
{
	static const char *const argv[] = { "--oidc-issuer-url=https://i.example",
	    "--oidc-client-id=c", "--token-cache-dir=/x", "--skew=1m" };
	struct kmfa_config cfg;
	char *id;

	(void)state;
	kmfa_config_init(&cfg);
	assert_non_null(id = kmfa_config_identity(&cfg));
	assert_string_equal(id, "v:1:1\nissuer:0:\nclient:0:\naccess:1:0\n"
	    "fido2:8:required\n");
	free(id);
	/* Options outside the identity leave it as it is. */
	parse_ok(&cfg, 4, argv);
	assert_non_null(id = kmfa_config_identity(&cfg));
	assert_string_equal(id, "v:1:1\nissuer:17:https://i.example\n"
	    "client:1:c\naccess:1:0\nfido2:8:required\n");
	free(id);
	kmfa_config_free(&cfg);
}

/*
 * Every option that decides whether a token is acceptable changes the
 * identity on its own, so a token a laxer entry obtained is never served to
 * a stricter one; a configuration without any of them keeps its bytes.
 */
static void
test_identity_binds_token_policy(void **state)
{
	static const char *const policy[] = { "--require-amr=hwk",
	    "--require-acr=urn:mfa", "--fido2-uv", "--server-proof",
	    "--fido2-credentials=/tmp/other.json",
	    "--certificate-authority=/etc/ca.pem",
	    "--certificate-authority-data=LS0tLS1=",
	    "--insecure-skip-tls-verify" };
	static const char *const base[] = { "--oidc-issuer-url=https://i.example",
	    "--oidc-client-id=c" };
	static const char plain[] = "v:1:1\nissuer:17:https://i.example\n"
	    "client:1:c\naccess:1:0\nfido2:8:required\n";
	struct kmfa_config cfg;
	char *id;

	(void)state;
	assert_int_equal(setenv("XDG_CONFIG_HOME", "/cfg", 1), 0);
	parse_ok(&cfg, 2, base);
	assert_int_equal(kmfa_config_finish(&cfg), KMFA_OK);
	assert_non_null(id = kmfa_config_identity(&cfg));
	assert_string_equal(id, plain);
	free(id);
	kmfa_config_free(&cfg);
	for (size_t i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
		const char *argv[] = { base[0], base[1], policy[i] };

		parse_ok(&cfg, 3, argv);
		assert_int_equal(kmfa_config_finish(&cfg), KMFA_OK);
		assert_non_null(id = kmfa_config_identity(&cfg));
		/* The old bytes, and one field more after them. */
		assert_memory_equal(id, plain, sizeof(plain) - 1);
		assert_true(strlen(id) > sizeof(plain) - 1);
		assert_ptr_equal(strchr(id + sizeof(plain) - 1, '\n'),
		    id + strlen(id) - 1);
		free(id);
		kmfa_config_free(&cfg);
	}
	/* The default credentials file named explicitly is still the
	 * default: naming it does not split the cache. */
	{
		const char *argv[] = { base[0], base[1],
		    "--fido2-credentials=/cfg/kubectl-mfa/credentials.json" };

		parse_ok(&cfg, 3, argv);
		assert_int_equal(kmfa_config_finish(&cfg), KMFA_OK);
		assert_non_null(id = kmfa_config_identity(&cfg));
		assert_string_equal(id, plain);
		free(id);
		kmfa_config_free(&cfg);
	}
	/* The CA data goes in as its hash, never as the PEM. */
	{
		const char *argv[] = { base[0], base[1],
		    "--certificate-authority-data=LS0tLS1=" };

		parse_ok(&cfg, 3, argv);
		assert_non_null(id = kmfa_config_identity(&cfg));
		assert_null(strstr(id, "LS0tLS1="));
		free(id);
		kmfa_config_free(&cfg);
	}
	assert_int_equal(unsetenv("XDG_CONFIG_HOME"), 0);
}

static void
write_file(const char *path, const char *data, mode_t mode)
{
	FILE *f;

	(void)unlink(path);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The secret's three sources, their order, and what is left behind. */
static void
test_load_secret_sources(void **state)
{
	char path[] = "/tmp/kmfa-secret-XXXXXX";
	const char *argv[] = { "--oidc-client-secret-file", path };
	const char *both[] = { "--oidc-client-secret=a",
	    "--oidc-client-secret-file", path };
	const char *given[] = { "--oidc-client-secret=from-argv" };
	struct kmfa_config cfg;
	char *env;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	(void)close(fd);
	/* One trailing newline goes; the environment is ignored then, but
	 * wiped and removed all the same. */
	write_file(path, "from-file\n", 0600);
	assert_int_equal(setenv(KMFA_SECRET_ENV, "from-env", 1), 0);
	env = getenv(KMFA_SECRET_ENV);
	parse_ok(&cfg, 2, argv);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_OK);
	assert_string_equal(cfg.client_secret, "from-file");
	assert_null(getenv(KMFA_SECRET_ENV));
	assert_memory_equal(env, "\0\0\0\0\0\0\0\0", 8);
	kmfa_config_free(&cfg);
	/* Group or other bits: refused, as kmfa_file_read_private says. */
	write_file(path, "from-file\n", 0640);
	parse_ok(&cfg, 2, argv);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_ERR_CONFIG);
	assert_null(cfg.client_secret);
	kmfa_config_free(&cfg);
	/* Two lines, or nothing: no secret. */
	write_file(path, "a\nb\n", 0600);
	parse_ok(&cfg, 2, argv);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_ERR_CONFIG);
	kmfa_config_free(&cfg);
	write_file(path, "\n", 0600);
	parse_ok(&cfg, 2, argv);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_ERR_CONFIG);
	kmfa_config_free(&cfg);
	/* Both options: which one was meant is not ours to guess. */
	parse_ok(&cfg, 3, both);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_ERR_USAGE);
	kmfa_config_free(&cfg);
	/* The environment alone; argv over the environment. */
	assert_int_equal(setenv(KMFA_SECRET_ENV, "from-env", 1), 0);
	kmfa_config_init(&cfg);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_OK);
	assert_string_equal(cfg.client_secret, "from-env");
	assert_null(getenv(KMFA_SECRET_ENV));
	kmfa_config_free(&cfg);
	assert_int_equal(setenv(KMFA_SECRET_ENV, "from-env", 1), 0);
	parse_ok(&cfg, 1, given);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_OK);
	assert_string_equal(cfg.client_secret, "from-argv");
	assert_null(getenv(KMFA_SECRET_ENV));
	kmfa_config_free(&cfg);
	/* No source: a public client. */
	kmfa_config_init(&cfg);
	assert_int_equal(kmfa_config_load_secret(&cfg), KMFA_OK);
	assert_null(cfg.client_secret);
	kmfa_config_free(&cfg);
	assert_int_equal(unlink(path), 0);
}

/* An identity read back names the same configuration, the CA data only
 * by its hash; bytes that are no identity are refused. */
static void
test_identity_read_back(void **state)
{
	static const char *const bad[] = { "v:1:1", "v:2:1\n", "v:x:1\n",
	    "issuer:99:https://i\n", "ca-data:3:abc\n" };
	struct kmfa_config cfg, again;
	char *id, hash[65], mine[65];

	(void)state;
	parse_ok(&cfg, (int)(sizeof(every) / sizeof(every[0])), every);
	kmfa_config_init(&again);
	assert_int_equal(kmfa_config_from_identity(every_identity, &again,
	    hash), KMFA_OK);
	kmfa_config_ca_data_hash(&cfg, mine);
	assert_string_equal(hash, mine);
	assert_null(again.ca_data);
	assert_null(again.client_secret);
	assert_string_equal(again.ca_file, "/etc/ca.pem");
	assert_true(again.insecure_skip_tls_verify);
	assert_non_null(again.ca_data = strdup("LS0tLS1="));
	assert_non_null(id = kmfa_config_identity(&again));
	assert_string_equal(id, every_identity);
	free(id);
	kmfa_config_free(&again);
	kmfa_config_free(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kmfa_config_init(&again);
		assert_int_equal(kmfa_config_from_identity(bad[i], &again,
		    hash), KMFA_ERR_DAMAGED);
		kmfa_config_free(&again);
	}
}

static void
test_cache_key_is_the_identity_hash(void **state)
{
	struct kmfa_config cfg;
	char key[65], again[65];

	(void)state;
	parse_ok(&cfg, (int)(sizeof(every) / sizeof(every[0])), every);
	assert_int_equal(kmfa_config_cache_key(&cfg, key), KMFA_OK);
	kmfa_config_identity_key(every_identity, again);
	assert_string_equal(key, again);
	/* The file name of the cached entry: SHA-256 of every_identity. */
	assert_string_equal(key, "396a6afc3f05f2354f0f3ddd798eb18d"
	    "a2dc46e70ec66bffea4c99a60a78861f");
	kmfa_config_free(&cfg);
}

static void
test_login_hint_with_every_option(void **state)
{
	struct kmfa_config cfg;
	char *hint;

	(void)state;
	parse_ok(&cfg, (int)(sizeof(every) / sizeof(every[0])), every);
	assert_non_null(hint = kmfa_flow_login_hint(&cfg));
	assert_string_equal(hint, every_hint);
	free(hint);
	kmfa_config_free(&cfg);
}

static void
test_login_hint_of_the_defaults(void **state)
{
	static const char *const argv[] = { "--oidc-issuer-url", "https://i.example",
	    "--oidc-client-id", "c", "--fido2=required", "--timeout=5m",
	    "--token-cache-storage=keyring" };
	struct kmfa_config cfg;
	char *hint;

	(void)state;
	parse_ok(&cfg, 7, argv);
	assert_non_null(hint = kmfa_flow_login_hint(&cfg));
	assert_string_equal(hint, "kubectl mfa login "
	    "--oidc-issuer-url=https://i.example --oidc-client-id=c");
	free(hint);
	kmfa_config_free(&cfg);
}

static void
test_setup_args_with_every_option(void **state)
{
	struct kmfa_config cfg;
	char **args;

	(void)state;
	parse_ok(&cfg, (int)(sizeof(every) / sizeof(every[0])), every);
	args = kmfa_setup_args(&cfg);
	assert_args(args, every_setup);
	kmfa_setup_args_free(args);
	kmfa_config_free(&cfg);
}

static void
test_setup_args_leave_out_defaults(void **state)
{
	/* Explicit defaults, and paths finish() fills, are not written. */
	static const char *const argv[] = { "--oidc-issuer-url=https://i.example",
	    "--oidc-client-id=c", "--token-cache-storage=auto",
	    "--fido2=required", "--skew=30s", "--timeout=5m",
	    "--session-max=0s" };
	static const char *const want[] = { "get-token",
	    "--oidc-issuer-url=https://i.example", "--oidc-client-id=c", NULL };
	struct kmfa_config cfg;
	char **args;

	(void)state;
	assert_int_equal(setenv("XDG_CACHE_HOME", "/tmp/xdg-cache", 1), 0);
	assert_int_equal(setenv("XDG_CONFIG_HOME", "/tmp/xdg-config", 1), 0);
	parse_ok(&cfg, 7, argv);
	assert_int_equal(kmfa_config_finish(&cfg), KMFA_OK);
	assert_string_equal(cfg.cache_dir, "/tmp/xdg-cache/kubectl-mfa");
	args = kmfa_setup_args(&cfg);
	assert_args(args, want);
	kmfa_setup_args_free(args);
	kmfa_config_free(&cfg);
}

static void
test_setup_args_name_each_storage(void **state)
{
	static const char *const names[] = { "keyring", "disk", "none" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = { "--oidc-issuer-url=https://i.example",
		    "--oidc-client-id=c", "--token-cache-storage",
		    names[i] };
		struct kmfa_config cfg;
		char **args;

		parse_ok(&cfg, 4, argv);
		args = kmfa_setup_args(&cfg);
		assert_non_null(args);
		assert_non_null(args[3]);
		assert_true(strncmp(args[3], "--token-cache-storage=", 22) == 0);
		assert_string_equal(args[3] + 22, names[i]);
		assert_null(args[4]);
		kmfa_setup_args_free(args);
		kmfa_config_free(&cfg);
	}
}

/* A value each kind of option takes, different from its default. */
static const char *
sample(enum kmfa_opt_value v)
{
	switch (v) {
	case KMFA_VAL_FLAG: return NULL;
	case KMFA_VAL_STRING: return "k=v";
	case KMFA_VAL_LIST: return "k=v";
	case KMFA_VAL_DURATION: return "90s";
	case KMFA_VAL_STORAGE: return "disk";
	case KMFA_VAL_FIDO2: return "off";
	}
	return NULL;
}

static char **
render(const struct kmfa_config *cfg, unsigned use, size_t *n)
{
	char **argv = NULL;

	assert_int_equal(kmfa_config_argv(cfg, use, &argv, n), KMFA_OK);
	assert_non_null(argv);
	assert_null(argv[*n]);
	return argv;
}

static void
test_names_unique_identity_options_in_hint(void **state)
{
	struct kmfa_option o, p;
	size_t i, j;

	(void)state;
	for (i = 0; kmfa_config_option(i, &o); i++) {
		assert_true(o.commands != 0);
		/* The login the hint asks for must fill the cache entry the
		 * failed get-token looked in. */
		if (o.use & KMFA_OPT_IDENTITY)
			assert_true(o.use & KMFA_OPT_HINT);
		for (j = 0; j < i; j++) {
			assert_true(kmfa_config_option(j, &p));
			assert_string_not_equal(o.name, p.name);
		}
	}
	assert_true(i >= 20);
	assert_false(kmfa_config_option(i, &o));
}

static void
test_every_option_parses_in_both_spellings(void **state)
{
	struct kmfa_option o;

	(void)state;
	for (size_t i = 0; kmfa_config_option(i, &o); i++) {
		struct kmfa_config a, b;
		char flag[64], joined[96], **ra, **rb;
		const char *val = sample(o.value);
		size_t na, nb;

		assert_true((size_t)snprintf(flag, sizeof(flag), "--%s",
		    o.name) < sizeof(flag));
		kmfa_config_init(&a);
		kmfa_config_init(&b);
		if (val == NULL) {
			const char *argv[] = { flag };
			assert_int_equal(kmfa_config_parse(&a, 1,
			    (char *const *)argv, o.commands), KMFA_OK);
			/* A flag takes no value. */
			(void)snprintf(joined, sizeof(joined), "%s=1", flag);
			argv[0] = joined;
			assert_int_equal(kmfa_config_parse(&b, 1,
			    (char *const *)argv, o.commands), KMFA_ERR_USAGE);
			kmfa_config_free(&b);
			kmfa_config_init(&b);
			argv[0] = flag;
			assert_int_equal(kmfa_config_parse(&b, 1,
			    (char *const *)argv, o.commands), KMFA_OK);
		} else {
			const char *two[] = { flag, val }, *one[] = { joined };
			(void)snprintf(joined, sizeof(joined), "%s=%s", flag,
			    val);
			assert_int_equal(kmfa_config_parse(&a, 2,
			    (char *const *)two, o.commands), KMFA_OK);
			assert_int_equal(kmfa_config_parse(&b, 1,
			    (char *const *)one, o.commands), KMFA_OK);
		}
		/* Both spellings set the same thing, and only that. */
		ra = render(&a, KMFA_OPT_ALL, &na);
		rb = render(&b, KMFA_OPT_ALL, &nb);
		assert_int_equal(na, 1);
		assert_int_equal(nb, 1);
		assert_string_equal(ra[0], val == NULL ? flag : joined);
		assert_string_equal(rb[0], ra[0]);
		kmfa_config_argv_free(&ra);
		kmfa_config_argv_free(&rb);
		assert_null(ra);
		kmfa_config_free(&a);
		kmfa_config_free(&b);
		/* Only the commands the table names take it. */
		kmfa_config_init(&a);
		{
			const char *argv[] = { flag, val };
			unsigned others = ALL_SETS & ~o.commands;
			if (others != 0)
				assert_int_equal(kmfa_config_parse(&a,
				    val == NULL ? 1 : 2, (char *const *)argv,
				    others), KMFA_ERR_USAGE);
		}
		kmfa_config_free(&a);
	}
}

static void
test_render_of_the_defaults_is_empty(void **state)
{
	struct kmfa_config cfg;
	char **argv;
	size_t n;

	(void)state;
	/* kmfa_config_init() and the table's defaults agree. */
	kmfa_config_init(&cfg);
	argv = render(&cfg, KMFA_OPT_ALL, &n);
	assert_int_equal(n, 0);
	kmfa_config_argv_free(&argv);
	argv = render(&cfg, KMFA_OPT_EXEC_ARGS, &n);
	assert_int_equal(n, 0);
	kmfa_config_argv_free(&argv);
	kmfa_config_argv_free(&argv);	/* twice is harmless */
}

static void
test_render_round_trips(void **state)
{
	static const unsigned uses[] = { KMFA_OPT_ALL, KMFA_OPT_EXEC_ARGS,
	    KMFA_OPT_HINT, KMFA_OPT_IDENTITY };
	struct kmfa_config cfg, again;
	struct kmfa_option o;
	char **all, **argv, **argv2, *id;
	size_t n, n2, i, j;

	(void)state;
	parse_ok(&cfg, (int)(sizeof(every) / sizeof(every[0])), every);
	/* `every` really sets every option of the table. */
	all = render(&cfg, KMFA_OPT_ALL, &n);
	for (i = 0; kmfa_config_option(i, &o); i++) {
		size_t len = strlen(o.name);
		for (j = 0; j < n; j++)
			if (strncmp(all[j] + 2, o.name, len) == 0 &&
			    (all[j][2 + len] == '=' || all[j][2 + len] == '\0'))
				break;
		assert_true(j < n);
	}
	kmfa_config_argv_free(&all);
	for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		argv = render(&cfg, uses[i], &n);
		parse_ok(&again, (int)n, (const char *const *)argv);
		assert_non_null(id = kmfa_config_identity(&again));
		assert_string_equal(id, every_identity);
		free(id);
		/* And rendering the parsed words gives the same words. */
		argv2 = render(&again, uses[i], &n2);
		assert_int_equal(n2, n);
		for (j = 0; j < n; j++)
			assert_string_equal(argv2[j], argv[j]);
		kmfa_config_argv_free(&argv2);
		kmfa_config_argv_free(&argv);
		kmfa_config_free(&again);
	}
	kmfa_config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_bytes_with_every_identity_option),
		cmocka_unit_test(test_identity_bytes_of_the_defaults),
		cmocka_unit_test(test_cache_key_is_the_identity_hash),
		cmocka_unit_test(test_identity_binds_token_policy),
		cmocka_unit_test(test_identity_read_back),
		cmocka_unit_test(test_load_secret_sources),
		cmocka_unit_test(test_login_hint_with_every_option),
		cmocka_unit_test(test_login_hint_of_the_defaults),
		cmocka_unit_test(test_setup_args_with_every_option),
		cmocka_unit_test(test_setup_args_leave_out_defaults),
		cmocka_unit_test(test_setup_args_name_each_storage),
		cmocka_unit_test(test_names_unique_identity_options_in_hint),
		cmocka_unit_test(test_every_option_parses_in_both_spellings),
		cmocka_unit_test(test_render_of_the_defaults_is_empty),
		cmocka_unit_test(test_render_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

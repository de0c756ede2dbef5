/*
 * The command line, which kubeconfig authors (not always the user) write.
 * The first byte is the set of options the subcommand allows
 * (KMFA_OPTSET_*); the rest is cut at NUL bytes into argv.  Each argument
 * also goes through kmfa_config_parse_duration.  An accepted command line must
 * stay within the documented bounds, yield a cache identity, and render
 * back into words that parse to the same identity and words.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "fuzzutil.h"
#include "token/config.h"

#define MAX_ARGS 256
#define YEAR (366LL * 24 * 3600)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	return 0;
}

static void
check_duration(const char *s)
{
	int64_t d = -1;

	if (kmfa_config_parse_duration(s, &d) == 0 && (d < 0 || d > YEAR))
		fz_die("a duration outside 0 .. 1 year was accepted");
}

/*
 * What setup writes and the hint prints is rendered from a config: parsed
 * back, the words must give the same config (the same words again) and so
 * the same cache entry.
 */
static void
check_round_trip(const struct kmfa_config *cfg, unsigned allowed,
    const char *id)
{
	struct kmfa_config again;
	char **argv = NULL, **argv2 = NULL, *id2;
	size_t n, n2;

	if (kmfa_config_argv(cfg, KMFA_OPT_ALL, &argv, &n) != KMFA_OK)
		fz_die("no rendering of an accepted configuration");
	kmfa_config_init(&again);
	if (n > INT_MAX || kmfa_config_parse(&again, (int)n, argv, allowed) !=
	    KMFA_OK)
		fz_die("a rendered configuration does not parse");
	if ((id2 = kmfa_config_identity(&again)) == NULL ||
	    strcmp(id, id2) != 0)
		fz_die("a rendered configuration has another identity");
	if (kmfa_config_argv(&again, KMFA_OPT_ALL, &argv2, &n2) != KMFA_OK ||
	    n2 != n)
		fz_die("a rendered configuration renders differently");
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[i], argv2[i]) != 0)
			fz_die("a rendered configuration renders differently");
	free(id2);
	kmfa_config_argv_free(&argv);
	kmfa_config_argv_free(&argv2);
	kmfa_config_free(&again);
}

static void
check_config(const struct kmfa_config *cfg, unsigned allowed)
{
	char key[65];
	char *id;

	if (cfg->nscopes > KMFA_MAX_LIST ||
	    cfg->nextra_params > KMFA_MAX_LIST ||
	    cfg->nargs > sizeof(cfg->args) / sizeof(cfg->args[0]))
		fz_die("a list outgrew its array");
	if (cfg->nargs > 0 && !(allowed & KMFA_OPTSET_POSITIONAL))
		fz_die("positional arguments where none are allowed");
	if (cfg->session_max < 0 || cfg->session_max > YEAR ||
	    cfg->skew < 0 || cfg->skew > YEAR ||
	    cfg->timeout < 0 || cfg->timeout > YEAR ||
	    cfg->min_valid < -1 || cfg->min_valid > YEAR)
		fz_die("a duration option out of range");
	for (size_t i = 0; i < cfg->nextra_params; i++)
		if (strchr(cfg->extra_params[i], '=') == NULL)
			fz_die("an extra parameter without '='");
	if ((id = kmfa_config_identity(cfg)) == NULL)
		fz_die("no identity for an accepted configuration");
	if (kmfa_config_cache_key(cfg, key) != KMFA_OK || strlen(key) != 64)
		fz_die("no cache key for an accepted configuration");
	check_round_trip(cfg, allowed, id);
	free(id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmfa_config cfg;
	char *argv[MAX_ARGS];
	char *buf;
	unsigned allowed;
	int argc = 0;

	if (size < 1 || (buf = fz_cstr(data + 1, size - 1)) == NULL)
		return 0;
	allowed = data[0];
	/* Every NUL ends an argument; the copy's own NUL ends the last. */
	for (size_t i = 0; i < size - 1 && argc < MAX_ARGS; ) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	for (int i = 0; i < argc; i++)
		check_duration(argv[i]);
	kmfa_config_init(&cfg);
	if (kmfa_config_parse(&cfg, argc, argv, allowed) == KMFA_OK)
		check_config(&cfg, allowed);
	kmfa_config_free(&cfg);
	free(buf);
	kmfa_report_clear();
	return 0;
}

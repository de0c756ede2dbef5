/*
 * The identity provider's JSON answers.  The first byte picks the parser
 * (discovery, device authorization, token, error); the rest is the body.
 * What a parser accepts must keep the promises of discovery.h, device.h
 * and oauth.h: the configured issuer, https or loopback endpoints, bounded
 * poll numbers, a printable user code, an access token, and printable
 * error text.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/err.h"
#include "base/json.h"
#include "base/report.h"
#include "fuzzutil.h"
#include "oidc/device.h"
#include "oidc/discovery.h"
#include "oidc/http.h"
#include "oidc/oauth.h"
#include "token/config.h"

static struct kmfa_config cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kmfa_json_init();
	kmfa_config_init(&cfg);
	if ((cfg.issuer = strdup(FZ_ISSUER)) == NULL ||
	    (cfg.client_id = strdup(FZ_CLIENT)) == NULL)
		fz_die("out of memory");
	return 0;
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/*
 * https, or http to a loopback host, as curl (which will fetch it) reads
 * the URL: curl takes "https:/host" for "https://host/", so the check
 * must ask curl, not compare prefixes.
 */
static int
web_url(const char *s)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (s != NULL && u != NULL &&
	    curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		ok = strcmp(scheme, "https") == 0 ||
		    (strcmp(scheme, "http") == 0 &&
		    kmfa_http_host_is_loopback(host));
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok && printable(s);
}

static void
discovery(const char *body, size_t len)
{
	struct kmfa_discovery *o = NULL;

	if (kmfa_discovery_parse(body, len, &cfg, &o) != KMFA_OK)
		return;
	if (o == NULL || o->issuer == NULL || strcmp(o->issuer, FZ_ISSUER) != 0)
		fz_die("discovery accepted another issuer");
	if (!web_url(o->token_endpoint) || !web_url(o->jwks_uri) ||
	    (o->device_authorization_endpoint != NULL &&
	    !web_url(o->device_authorization_endpoint)) ||
	    (o->revocation_endpoint != NULL &&
	    !web_url(o->revocation_endpoint)))
		fz_die("discovery accepted an endpoint that is not a web URL");
	kmfa_discovery_free(&o);
	if (o != NULL)
		fz_die("kmfa_discovery_free left the pointer");
}

static void
device_auth(const char *body, size_t len)
{
	struct kmfa_device_auth *d = NULL;

	if (kmfa_device_parse_auth(body, len, &d) != KMFA_OK)
		return;
	if (d == NULL || d->device_code == NULL || d->user_code == NULL ||
	    !web_url(d->verification_uri))
		fz_die("device answer accepted without its members");
	if (!printable(d->user_code))
		fz_die("device answer accepted an unprintable user code");
	if (d->expires_in < 1 || d->expires_in > KMFA_DEVICE_EXPIRES_MAX ||
	    d->interval < 1 || d->interval > KMFA_POLL_INTERVAL_MAX)
		fz_die("device answer accepted out-of-range numbers");
	kmfa_device_auth_free(&d);
}

static void
tokens(const char *body, size_t len)
{
	struct kmfa_tokens *t = NULL;

	if (kmfa_oauth_parse_tokens(body, len, &t) != KMFA_OK)
		return;
	if (t == NULL || t->access_token == NULL)
		fz_die("token answer accepted without access_token");
	kmfa_oauth_tokens_free(&t);
}

static void
error_answer(const char *body, size_t len)
{
	char error[64], desc[160];

	if (kmfa_oauth_parse_error(body, len, error, sizeof(error), desc,
	    sizeof(desc)) != KMFA_OK)
		return;
	if (memchr(error, '\0', sizeof(error)) == NULL ||
	    memchr(desc, '\0', sizeof(desc)) == NULL)
		fz_die("error answer left a buffer unterminated");
	if (!printable(error) || !printable(desc))
		fz_die("error answer passed unprintable text");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer's buffer is exactly size bytes: no NUL after the body. */
	const char *body = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		discovery(body, size - 1);
		break;
	case 1:
		device_auth(body, size - 1);
		break;
	case 2:
		tokens(body, size - 1);
		break;
	default:
		error_answer(body, size - 1);
		break;
	}
	kmfa_report_clear();
	return 0;
}

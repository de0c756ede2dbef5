/*
 * gen-seeds OUTDIR: write the seed corpora of every harness into
 * OUTDIR/<target>/, made the way the real thing is made: tokens signed
 * with keys generated here and the JWKS that holds them, cache records
 * from kmfa_record_encode, credentials files from kmfa_credfile_format,
 * envelopes from kmfa_seal_refresh, CTAP requests answered by the test
 * authenticator itself.  Where a harness has modes, each file starts with
 * the mode byte it expects (see the comment at the top of fuzz_<target>.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/util.h"
#include "cborutil.h"
#include "crypto.h"
#include "ctap.h"
#include "fuzzutil.h"
#include "hid.h"
#include "jose/jwk.h"
#include "key/credfile.h"
#include "key/seal.h"
#include "softkey.h"
#include "token/config.h"
#include "token/record.h"

static const char *outdir;
static int nfiles;

static void
fail(const char *what)
{
	fprintf(stderr, "gen-seeds: %s\n", what);
	exit(1);
}

/* OUTDIR/target/name := mode byte (unless < 0), then a, then b. */
static void
put2(const char *target, const char *name, int mode, const void *a,
    size_t alen, const void *b, size_t blen)
{
	char path[1024];
	FILE *f;
	uint8_t m = (uint8_t)mode;

	(void)snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		fail("mkdir");
	(void)snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	if ((f = fopen(path, "wb")) == NULL)
		fail(path);
	if ((mode >= 0 && fwrite(&m, 1, 1, f) != 1) ||
	    (alen > 0 && fwrite(a, 1, alen, f) != alen) ||
	    (blen > 0 && fwrite(b, 1, blen, f) != blen) || fclose(f) != 0)
		fail(path);
	nfiles++;
}

static void
put(const char *target, const char *name, int mode, const void *p, size_t n)
{
	put2(target, name, mode, p, n, NULL, 0);
}

static void
puts_(const char *target, const char *name, int mode, const char *s)
{
	put(target, name, mode, s, strlen(s));
}

static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	if (n < 0)
		fail("out of memory");
	return s;
}

/* ---- ID tokens and JWKS ---- */

static EVP_PKEY *rsa, *ec;
static char *jwks;

static const char *const headers[][2] = {
	{ "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"JWT\"}" },
	{ "PS256", "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}" },
	{ "ES256", "{\"alg\":\"ES256\",\"kid\":\"ec-1\",\"typ\":\"JWT\"}" },
	{ "RS512", "{\"typ\":\"JWT\",\"alg\":\"RS512\"}" },
};

/* Realistic claim sets: a Keycloak-like token and its near misses. */
static char *
claims(int variant)
{
	const long now = FZ_NOW;

	switch (variant) {
	case 0:
		return fmt("{\"exp\":%ld,\"iat\":%ld,\"auth_time\":%ld,"
		    "\"jti\":\"8c1f0e5a-62f4-4b7e-9d43-1b9f2f3c6a10\","
		    "\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"f3b2a6c8-"
		    "5d7e-4f41-a0c2-9e6d1b7a3c55\",\"typ\":\"ID\",\"azp\":"
		    "\"%s\",\"session_state\":\"b1e2\",\"acr\":\"1\","
		    "\"amr\":[\"pwd\",\"hwk\"],\"email_verified\":true,"
		    "\"name\":\"Dana Ops\",\"preferred_username\":\"dana\","
		    "\"email\":\"dana@example.test\",\"groups\":"
		    "[\"system:masters\"]}", now + 3600, now - 5, now - 30,
		    FZ_ISSUER, FZ_CLIENT, FZ_CLIENT);
	case 1:
		return fmt("{\"iss\":\"%s\",\"sub\":\"dana\",\"aud\":"
		    "[\"%s\",\"kubernetes\"],\"exp\":%ld,\"nbf\":%ld}",
		    FZ_ISSUER, FZ_CLIENT, now + 600, now - 60);
	case 2:	/* expired a second ago */
		return fmt("{\"iss\":\"%s\",\"sub\":\"dana\",\"aud\":\"%s\","
		    "\"exp\":%ld,\"iat\":%ld}", FZ_ISSUER, FZ_CLIENT,
		    now - 1, now - 3601);
	case 3:	/* another issuer */
		return fmt("{\"iss\":\"https://evil.example.test\",\"sub\":"
		    "\"dana\",\"aud\":\"%s\",\"exp\":%ld}", FZ_CLIENT,
		    now + 3600);
	default: /* types wrong on purpose */
		return fmt("{\"iss\":\"%s\",\"sub\":42,\"aud\":[1,\"%s\"],"
		    "\"exp\":\"%ld\",\"amr\":\"pwd\"}", FZ_ISSUER, FZ_CLIENT,
		    now + 3600);
	}
}

static char *
token(const char *alg_name, const char *header, const char *payload)
{
	const struct kmfa_jws_alg *alg = kmfa_jwk_alg_lookup(alg_name);
	char *t = NULL;

	if (fz_sign(alg != NULL && alg->kind != KMFA_JWS_ECDSA ? rsa : ec,
	    alg, header, strlen(header), payload, strlen(payload), &t) != 0)
		fail("cannot sign");
	return t;
}

static void
jose_seeds(void)
{
	char name[64], *p, *t, *other = NULL;
	EVP_PKEY *rsa2 = NULL, *ec2 = NULL;

	if (fz_keygen(&rsa, &ec) != 0 || fz_jwks(rsa, ec, &jwks) != 0)
		fail("cannot make keys");
	for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
		for (int v = 0; v < 5; v++) {
			p = claims(v);
			/* jwt, signed mode: the harness signs */
			(void)snprintf(name, sizeof(name), "signed-%s-%d",
			    headers[h][0], v);
			put2("jwt", name, 1, headers[h][1],
			    strlen(headers[h][1]) + 1, p, strlen(p));
			/* jwt, raw mode, and jwks, with the JWKS that signed */
			t = token(headers[h][0], headers[h][1], p);
			(void)snprintf(name, sizeof(name), "token-%s-%d",
			    headers[h][0], v);
			puts_("jwt", name, 0, t);
			put2("jwks", name, 1, t, strlen(t) + 1, jwks,
			    strlen(jwks));
			free(t);
			free(p);
		}
	}
	/* alg none and HS256 over the RSA modulus, the classic attacks */
	p = claims(0);
	t = token("none", "{\"alg\":\"none\"}", p);
	puts_("jwt", "token-none", 0, t);
	free(t);
	t = token("HS256", "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", p);
	puts_("jwt", "token-hs256", 0, t);
	put2("jwks", "token-hs256", 1, t, strlen(t) + 1, jwks, strlen(jwks));
	free(t);
	free(p);

	/* kmfa_jwk_find: alg index byte, kid, NUL, JWKS */
	put2("jwks", "find-rs256", 0, "\0rsa-1", 7, jwks, strlen(jwks));
	put2("jwks", "find-es256", 0, "\6ec-1", 6, jwks, strlen(jwks));
	put2("jwks", "find-nokid", 0, "\6", 2, jwks, strlen(jwks));
	put2("jwks", "find-ps384", 0, "\4rsa-1", 7, jwks, strlen(jwks));
	if (fz_keygen(&rsa2, &ec2) != 0 || fz_jwks(rsa2, ec2, &other) != 0)
		fail("cannot make keys");
	put2("jwks", "find-other", 0, "\0rsa-1", 7, other, strlen(other));
	free(other);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec2);
}

/* ---- the identity provider's answers ---- */

static void
oidc_seeds(void)
{
	const char *base = FZ_ISSUER "/protocol/openid-connect";
	char *s;

	s = fmt("{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/auth\","
	    "\"token_endpoint\":\"%s/token\",\"introspection_endpoint\":"
	    "\"%s/token/introspect\",\"userinfo_endpoint\":\"%s/userinfo\","
	    "\"end_session_endpoint\":\"%s/logout\",\"jwks_uri\":"
	    "\"%s/certs\",\"grant_types_supported\":[\"authorization_code\","
	    "\"refresh_token\",\"urn:ietf:params:oauth:grant-type:"
	    "device_code\"],\"response_types_supported\":[\"code\"],"
	    "\"subject_types_supported\":[\"public\",\"pairwise\"],"
	    "\"id_token_signing_alg_values_supported\":[\"PS384\",\"ES384\","
	    "\"RS384\",\"ES256\",\"RS256\",\"ES512\",\"PS256\",\"PS512\","
	    "\"RS512\"],\"scopes_supported\":[\"openid\",\"offline_access\","
	    "\"profile\",\"email\",\"groups\"],\"device_authorization_"
	    "endpoint\":\"%s/auth/device\",\"revocation_endpoint\":"
	    "\"%s/revoke\",\"code_challenge_methods_supported\":[\"plain\","
	    "\"S256\"],\"claims_parameter_supported\":true}", FZ_ISSUER,
	    base, base, base, base, base, base, base, base);
	puts_("oidc", "discovery-keycloak", 0, s);
	free(s);
	s = fmt("{\"issuer\":\"%s\",\"token_endpoint\":\"%s/oauth2/token\","
	    "\"jwks_uri\":\"%s/oauth2/keys\"}", FZ_ISSUER, FZ_ISSUER,
	    FZ_ISSUER);
	puts_("oidc", "discovery-minimal", 0, s);
	free(s);
	puts_("oidc", "discovery-loopback", 0, "{\"issuer\":\"http://127.0.0.1"
	    ":5556/dex\",\"token_endpoint\":\"http://127.0.0.1:5556/dex/token\","
	    "\"jwks_uri\":\"http://[::1]:5556/dex/keys\"}");

	s = fmt("{\"device_code\":\"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9"
	    "eS\",\"user_code\":\"WDJB-MJHT\",\"verification_uri\":\"%s/"
	    "device\",\"verification_uri_complete\":\"%s/device?user_code="
	    "WDJB-MJHT\",\"expires_in\":1800,\"interval\":5}", base, base);
	puts_("oidc", "device-rfc8628", 1, s);
	free(s);
	puts_("oidc", "device-google", 1, "{\"device_code\":\"AH-1Ng3k\","
	    "\"user_code\":\"GQVQ-JKEC\",\"verification_url\":\"https://www."
	    "google.com/device\",\"expires_in\":1800,\"interval\":5}");
	puts_("oidc", "device-absurd", 1, "{\"device_code\":\"x\",\"user_code"
	    "\":\"A\\u001b[2J\",\"verification_uri\":\"javascript:alert(1)\","
	    "\"expires_in\":-5,\"interval\":1e308}");

	{
		char *id = token("RS256", headers[0][1], "{}");

		s = fmt("{\"access_token\":\"eyJhbGciOiJSUzI1NiJ9.e30.sig\","
		    "\"expires_in\":300,\"refresh_expires_in\":1800,"
		    "\"refresh_token\":\"eyJhbGciOiJIUzI1NiJ9.e30.rt\","
		    "\"token_type\":\"Bearer\",\"id_token\":\"%s\","
		    "\"not-before-policy\":0,\"session_state\":\"b1e2\","
		    "\"scope\":\"openid offline_access email\"}", id);
		puts_("oidc", "tokens-keycloak", 2, s);
		free(s);
		free(id);
	}
	puts_("oidc", "tokens-minimal", 2, "{\"access_token\":\"at\","
	    "\"token_type\":\"bearer\"}");
	puts_("oidc", "tokens-wrongtypes", 2, "{\"access_token\":7,"
	    "\"token_type\":\"mac\",\"expires_in\":\"300\"}");
	/* The strict gate: a member twice, deep down; an escaped NUL. */
	puts_("oidc", "tokens-duplicate-deep", 2, "{\"access_token\":\"at\","
	    "\"authorization_details\":[{\"type\":\"a\",\"type\":\"b\"}]}");
	puts_("oidc", "tokens-nul", 2, "{\"access_token\":\"a\\u0000b\"}");

	puts_("oidc", "error-pending", 3, "{\"error\":\"authorization_"
	    "pending\",\"error_description\":\"The authorization request is "
	    "still pending\"}");
	puts_("oidc", "error-slowdown", 3, "{\"error\":\"slow_down\"}");
	puts_("oidc", "error-invalid-grant", 3, "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"Token is not active\\r\\n\\u001b[31m\","
	    "\"error_uri\":\"https://idp.example.test/errors\"}");
	puts_("oidc", "error-notjson", 3, "<html><body>502 Bad Gateway</body>"
	    "</html>");
}

/* ---- KUBERNETES_EXEC_INFO ---- */

static void
execinfo_seeds(void)
{
	puts_("execinfo", "v1-interactive", -1, "{\"kind\":\"ExecCredential\","
	    "\"apiVersion\":\"client.authentication.k8s.io/v1\",\"spec\":"
	    "{\"interactive\":true}}");
	puts_("execinfo", "v1-cluster", -1, "{\"kind\":\"ExecCredential\","
	    "\"apiVersion\":\"client.authentication.k8s.io/v1\",\"spec\":"
	    "{\"cluster\":{\"server\":\"https://10.0.0.1:6443\","
	    "\"certificate-authority-data\":\"LS0tLS1CRUdJTi0tLS0t\","
	    "\"config\":null},\"interactive\":false}}");
	puts_("execinfo", "v1beta1", -1, "{\"kind\":\"ExecCredential\","
	    "\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
	    "\"spec\":{\"interactive\":false}}");
	puts_("execinfo", "v1alpha1", -1, "{\"kind\":\"ExecCredential\","
	    "\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\","
	    "\"spec\":{}}");
	puts_("execinfo", "wrong-kind", -1, "{\"kind\":\"Pod\",\"apiVersion\":"
	    "\"client.authentication.k8s.io/v1\"}");
}

/* ---- sealed envelopes, cache records, credentials files ---- */

static void
store_seeds(void)
{
	uint8_t mk[KMFA_MK_LEN], hmac[KMFA_HMAC_OUT_LEN], id[62];
	struct kmfa_config cfg;
	struct kmfa_record *rec;
	struct kmfa_credfile *f;
	struct kmfa_cred c;
	char *sealed[3], *enc, *tok, *identity, *p, name[32];

	fz_master_key(mk);
	for (int i = 0; i < 3; i++) {
		p = fmt("%s%d-%s", FZ_SEAL_MARK, i, i == 2 ? "" :
		    "eyJhbGciOiJIUzUxMiIsInR5cCIgOiAiSldUIn0.eyJ0eXAiOiJSZWZy"
		    "ZXNoIn0.c2ln");
		if (kmfa_seal_refresh(mk, FZ_SEAL_HEADER, p, &sealed[i]) !=
		    KMFA_OK)
			fail("cannot seal");
		(void)snprintf(name, sizeof(name), "envelope-%d", i);
		puts_("seal", name, -1, sealed[i]);
		free(p);
	}
	puts_("seal", "plain-refresh", -1, "eyJhbGciOiJIUzUxMiJ9.e30.c2ln");

	kmfa_config_init(&cfg);
	cfg.issuer = strdup(FZ_ISSUER);
	cfg.client_id = strdup(FZ_CLIENT);
	if ((identity = kmfa_config_identity(&cfg)) == NULL)
		fail("no identity");
	p = claims(0);
	tok = token("RS256", headers[0][1], p);
	free(p);
	for (int i = 0; i < 3; i++) {
		if ((rec = kmfa_record_new()) == NULL)
			fail("out of memory");
		rec->identity = strdup(identity);
		rec->issuer = strdup(FZ_ISSUER);
		rec->client_id = strdup(FZ_CLIENT);
		rec->subject = strdup("f3b2a6c8-5d7e-4f41-a0c2-9e6d1b7a3c55");
		rec->token = strdup(tok);
		rec->token_exp = FZ_NOW + 3600;
		rec->obtained_at = FZ_NOW - 5;
		rec->touched_at = i == 2 ? 0 : FZ_NOW - 7;
		rec->key_name = i == 2 ? NULL : strdup("key-1");
		rec->refresh = strdup(i == 0 ? sealed[0] : "plain-refresh");
		rec->refresh_sealed = i == 0;
		if (kmfa_record_encode(rec, i != 2, &enc) != KMFA_OK)
			fail("cannot encode a record");
		(void)snprintf(name, sizeof(name), "record-%d", i);
		puts_("record", name, -1, enc);
		kmfa_freezero_str(enc);
		kmfa_record_free(&rec);
	}
	free(tok);
	free(identity);
	kmfa_config_free(&cfg);

	for (int n = 0; n < 3; n++) {
		/* a file that does not exist loads as an empty set */
		if (kmfa_credfile_load("/nonexistent/kubectl-mfa/"
		    "credentials.json", &f) != KMFA_OK)
			fail("cannot start a credentials file");
		for (int k = 0; k < n; k++) {
			memset(&c, 0, sizeof(c));
			if (kmfa_seal_random(id, sizeof(id)) != KMFA_OK ||
			    kmfa_seal_random(hmac, sizeof(hmac)) != KMFA_OK ||
			    kmfa_asprintf(&c.name, "key-%d", k + 1) < 0 ||
			    (c.rp_id = strdup(KMFA_FIDO2_RP_ID)) == NULL ||
			    (c.id = malloc(sizeof(id))) == NULL ||
			    (c.pubkey = malloc(KMFA_ES256_PK_LEN)) == NULL)
				fail("out of memory");
			memcpy(c.id, id, sizeof(id));
			c.id_len = sizeof(id);
			if (kmfa_seal_random(c.pubkey, KMFA_ES256_PK_LEN) !=
			    KMFA_OK)
				fail("no randomness");
			c.pubkey_len = KMFA_ES256_PK_LEN;
			c.uv_required = k == 1;
			c.pin = k == 1;
			c.hmac_secret = k == 0;
			if (c.hmac_secret && kmfa_seal_slot_wrap(hmac,
			    f->hmac_salt, c.id, c.id_len, mk, &c.slot,
			    &c.slot_len) != KMFA_OK)
				fail("cannot wrap a slot");
			c.sign_count = (uint32_t)(17 * k);
			c.created = FZ_NOW - 86400 * (k + 1);
			c.last_used = k == 0 ? FZ_NOW - 60 : 0;
			if (kmfa_credfile_add(f, &c) != KMFA_OK)
				fail("cannot add a credential");
		}
		if (kmfa_credfile_format(f, &enc) != KMFA_OK)
			fail("cannot format a credentials file");
		(void)snprintf(name, sizeof(name), "credentials-%d", n);
		puts_("credfile", name, -1, enc);
		free(enc);
		kmfa_credfile_free(&f);
	}
	for (int i = 0; i < 3; i++)
		free(sealed[i]);
}

/* ---- command lines, durations, base64 ---- */

static void
argv_seed(const char *name, unsigned allowed, const char *const *args)
{
	struct kmfa_buf b = { 0 };

	for (size_t i = 0; args[i] != NULL; i++)
		if (kmfa_buf_append(&b, args[i], strlen(args[i]) +
		    (args[i + 1] != NULL ? 1 : 0)) != 0)
			fail("out of memory");
	put("config", name, (int)allowed, b.data, b.len);
	kmfa_buf_wipe(&b);
}

static void
config_seeds(void)
{
	const unsigned token_set = KMFA_OPTSET_OIDC | KMFA_OPTSET_FIDO2 |
	    KMFA_OPTSET_LOGIN;
	static const char *const token[] = {
		"--oidc-issuer-url=" FZ_ISSUER, "--oidc-client-id", FZ_CLIENT,
		"--oidc-extra-scope", "email", "--oidc-extra-scope=groups",
		"--oidc-auth-request-extra-params", "prompt=consent",
		"--fido2=required", "--session-max", "8h", "--skew", "30s",
		"--timeout=5m", "--token-cache-storage", "keyring",
		"--audit-log", "syslog", "--require-amr", "hwk", "-v", NULL,
	};
	static const char *const status[] = {
		"--oidc-issuer-url", FZ_ISSUER, "--oidc-client-id=kubectl",
		"--min-valid", "1h30m", "--json", NULL,
	};
	static const char *const enroll[] = {
		"--name", "backup key", "--fido2-uv", "--fido2-device",
		"/dev/hidraw3", "--fido2-credentials", "/tmp/creds.json", NULL,
	};
	static const char *const setup[] = {
		"--kubeconfig", "/home/dana/.kube/config", "--user", "oidc",
		"--oidc-issuer-url", FZ_ISSUER, "--oidc-client-id", FZ_CLIENT,
		"prod", NULL,
	};
	static const char *const absurd[] = {
		"--skew", "-5s", "--timeout", "0", "--oidc-client-secret=",
		"--insecure-skip-tls-verify=yes", "-x", NULL,
	};

	argv_seed("token", token_set, token);
	argv_seed("status", KMFA_OPTSET_OIDC | KMFA_OPTSET_STATUS, status);
	argv_seed("enroll", KMFA_OPTSET_ENROLL | KMFA_OPTSET_LOGIN, enroll);
	argv_seed("setup", KMFA_OPTSET_SETUP | KMFA_OPTSET_OIDC |
	    KMFA_OPTSET_POSITIONAL, setup);
	argv_seed("absurd", token_set, absurd);
}

static void
b64_seeds(void)
{
	uint8_t bytes[96];
	char *s;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 1; n <= 4; n++) {
		char name[32];

		if (kmfa_b64url_encode(bytes, n * 7, &s) != KMFA_OK)
			fail("out of memory");
		(void)snprintf(name, sizeof(name), "url-%zu", n * 7);
		puts_("b64", name, -1, s);
		free(s);
		if (kmfa_b64_encode(bytes, n * 7, &s) != KMFA_OK)
			fail("out of memory");
		(void)snprintf(name, sizeof(name), "std-%zu", n * 7);
		puts_("b64", name, -1, s);
		free(s);
	}
	/* certificate-authority-data as kubectl users paste it: wrapped */
	if (kmfa_b64_encode(bytes, sizeof(bytes), &s) != KMFA_OK)
		fail("out of memory");
	{
		struct kmfa_buf b = { 0 };

		for (size_t i = 0; s[i] != '\0'; i += 64)
			if (kmfa_buf_append(&b, s + i, strlen(s + i) < 64 ?
			    strlen(s + i) : 64) != 0 ||
			    kmfa_buf_append(&b, "\r\n", 2) != 0)
				fail("out of memory");
		put("b64", "std-wrapped", -1, b.data, b.len);
		kmfa_buf_wipe(&b);
	}
	free(s);
}

/* ---- the test authenticator ---- */

static struct softkey sk;

static void
cbor_request(uint8_t cmd, cbor_item_t *params, uint8_t **out, size_t *len)
{
	uint8_t *enc = NULL;
	size_t n = 0;

	if (params != NULL && cb_encode(params, &enc, &n) < 0)
		fail("cannot encode CBOR");
	if ((*out = malloc(n + 1)) == NULL)
		fail("out of memory");
	(*out)[0] = cmd;
	if (n > 0)
		memcpy(*out + 1, enc, n);
	*len = n + 1;
	free(enc);
	if (params != NULL)
		cbor_decref(&params);
}

static cbor_item_t *
make_credential_params(const uint8_t cdh[32], int hmac)
{
	cbor_item_t *m = cbor_new_definite_map(6), *rp = cbor_new_definite_map(2);
	cbor_item_t *user = cbor_new_definite_map(2);
	cbor_item_t *params = cbor_new_definite_array(1);
	cbor_item_t *alg = cbor_new_definite_map(2);
	cbor_item_t *ext = cbor_new_definite_map(1);
	cbor_item_t *opts = cbor_new_definite_map(1);
	static const uint8_t uid[16] = "dana@example.te";

	if (cb_put(rp, cb_text("id"), cb_text(KMFA_FIDO2_RP_ID)) < 0 ||
	    cb_put(rp, cb_text("name"), cb_text("kubectl-mfa")) < 0 ||
	    cb_put(user, cb_text("id"), cb_bytes(uid, sizeof(uid))) < 0 ||
	    cb_put(user, cb_text("name"), cb_text("dana")) < 0 ||
	    cb_put(alg, cb_text("alg"), cb_int(-7)) < 0 ||
	    cb_put(alg, cb_text("type"), cb_text("public-key")) < 0 ||
	    cb_push(params, alg) < 0 ||
	    cb_put(ext, cb_text(hmac ? "hmac-secret" : "credProtect"),
	    hmac ? cb_bool(true) : cb_int(2)) < 0 ||
	    cb_put(opts, cb_text("rk"), cb_bool(false)) < 0 ||
	    cb_put(m, cb_int(1), cb_bytes(cdh, 32)) < 0 ||
	    cb_put(m, cb_int(2), rp) < 0 || cb_put(m, cb_int(3), user) < 0 ||
	    cb_put(m, cb_int(4), params) < 0 || cb_put(m, cb_int(6), ext) < 0 ||
	    cb_put(m, cb_int(7), opts) < 0)
		fail("cannot build makeCredential");
	return m;
}

static cbor_item_t *
get_assertion_params(const uint8_t cdh[32], const uint8_t *id, size_t idlen,
    int hmac)
{
	cbor_item_t *m = cbor_new_definite_map(hmac ? 5 : 4);
	cbor_item_t *list = cbor_new_definite_array(1);
	cbor_item_t *desc = cbor_new_definite_map(2);
	cbor_item_t *opts = cbor_new_definite_map(1);
	cbor_item_t *ext, *in;
	uint8_t x[32], y[32], priv[32], salt[32], auth[16];

	if (cb_put(desc, cb_text("id"), cb_bytes(id, idlen)) < 0 ||
	    cb_put(desc, cb_text("type"), cb_text("public-key")) < 0 ||
	    cb_push(list, desc) < 0 ||
	    cb_put(opts, cb_text("up"), cb_bool(true)) < 0 ||
	    cb_put(m, cb_int(1), cb_text(KMFA_FIDO2_RP_ID)) < 0 ||
	    cb_put(m, cb_int(2), cb_bytes(cdh, 32)) < 0 ||
	    cb_put(m, cb_int(3), list) < 0 || cb_put(m, cb_int(5), opts) < 0)
		fail("cannot build getAssertion");
	if (!hmac)
		return m;
	/* the shape of hmac-secret; the key agreement is this process's */
	if (RAND_bytes(priv, sizeof(priv)) != 1 ||
	    RAND_bytes(salt, sizeof(salt)) != 1 ||
	    RAND_bytes(auth, sizeof(auth)) != 1)
		fail("no randomness");
	priv[0] &= 0x7f;
	priv[31] |= 1;
	if (crypto_p256_public(priv, x, y) < 0 ||
	    (ext = cbor_new_definite_map(1)) == NULL ||
	    (in = cbor_new_definite_map(3)) == NULL ||
	    cb_put(in, cb_int(1), cb_cose_p256(x, y, -25)) < 0 ||
	    cb_put(in, cb_int(2), cb_bytes(salt, sizeof(salt))) < 0 ||
	    cb_put(in, cb_int(3), cb_bytes(auth, sizeof(auth))) < 0 ||
	    cb_put(ext, cb_text("hmac-secret"), in) < 0 ||
	    cb_put(m, cb_int(4), ext) < 0)
		fail("cannot build hmac-secret");
	return m;
}

static cbor_item_t *
client_pin_params(int sub)
{
	cbor_item_t *m = cbor_new_definite_map(2);

	if (cb_put(m, cb_int(1), cb_int(1)) < 0 ||
	    cb_put(m, cb_int(2), cb_int(sub)) < 0)
		fail("cannot build clientPIN");
	return m;
}

/* CTAPHID reports of one message on cid, without the report-ID byte. */
static void
frame(struct kmfa_buf *b, uint32_t cid, uint8_t cmd, const uint8_t *data,
    size_t len)
{
	uint8_t r[HID_REPORT_LEN];
	size_t off = 0, n;
	uint8_t seq = 0;

	memset(r, 0, sizeof(r));
	r[0] = (uint8_t)(cid >> 24);
	r[1] = (uint8_t)(cid >> 16);
	r[2] = (uint8_t)(cid >> 8);
	r[3] = (uint8_t)cid;
	r[4] = (uint8_t)(0x80 | cmd);
	r[5] = (uint8_t)(len >> 8);
	r[6] = (uint8_t)len;
	n = len < HID_INIT_DATA ? len : HID_INIT_DATA;
	memcpy(r + 7, data, n);
	if (kmfa_buf_append(b, r, sizeof(r)) != 0)
		fail("out of memory");
	for (off = n; off < len; off += n) {
		memset(r + 4, 0, sizeof(r) - 4);
		r[4] = seq++;
		n = len - off < HID_CONT_DATA ? len - off : HID_CONT_DATA;
		memcpy(r + 5, data + off, n);
		if (kmfa_buf_append(b, r, sizeof(r)) != 0)
			fail("out of memory");
	}
}

static void
softkey_seed(const char *name, int pin, uint8_t *req, size_t len)
{
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct kmfa_buf b = { 0 };
	char hname[64];

	put("softkey", name, pin ? 0x02 : 0x00, req, len);
	/* the same request as libfido2 sends it: INIT, then CBOR on cid 1 */
	frame(&b, HID_CID_BROADCAST, CTAPHID_INIT, nonce, sizeof(nonce));
	frame(&b, 1, CTAPHID_CBOR, req, len);
	(void)snprintf(hname, sizeof(hname), "hid-%s", name);
	put("softkey", hname, pin ? 0x03 : 0x01, b.data, b.len);
	kmfa_buf_wipe(&b);
	free(req);
}

static void
softkey_seeds(void)
{
	static uint8_t resp[HID_MAX_MSG];
	uint8_t cdh[32], *req, *credid = NULL;
	const uint8_t *ad;
	size_t len, rlen = 0, adlen;
	struct cbor_load_result res;
	cbor_item_t *reply;
	char *state = fmt("%s/.softkey-state", outdir);

	for (size_t i = 0; i < sizeof(cdh); i++)
		cdh[i] = (uint8_t)(0x42 + i);
	if (fz_softkey_setup(&sk, state, 0) != 0)
		fail("softkey set-up");
	cbor_request(0x04, NULL, &req, &len);
	softkey_seed("getinfo", 0, req, len);
	cbor_request(0x06, client_pin_params(1), &req, &len);
	softkey_seed("pin-retries", 1, req, len);
	cbor_request(0x06, client_pin_params(2), &req, &len);
	softkey_seed("pin-keyagreement", 1, req, len);
	cbor_request(0x07, NULL, &req, &len);
	softkey_seed("reset", 0, req, len);

	/* a credential made by the key, for the assertions below */
	cbor_request(0x01, make_credential_params(cdh, 1), &req, &len);
	ctap_dispatch(&sk, req, len, resp, sizeof(resp), &rlen);
	softkey_seed("makecred-hmac", 0, req, len);
	cbor_request(0x01, make_credential_params(cdh, 0), &req, &len);
	softkey_seed("makecred-protect", 0, req, len);
	if (rlen < 2 || resp[0] != CTAP2_OK ||
	    (reply = cbor_load(resp + 1, rlen - 1, &res)) == NULL)
		fail("the softkey made no credential");
	/* authData: rpIdHash 32, flags 1, counter 4, aaguid 16, idLen 2 */
	if (!cb_read_bytes(cb_get_int(reply, 2), &ad, &adlen) || adlen < 55 ||
	    adlen < 55 + (size_t)(ad[53] << 8 | ad[54]) ||
	    (credid = malloc((size_t)(ad[53] << 8 | ad[54]))) == NULL)
		fail("no credential id in the authenticator data");
	len = (size_t)(ad[53] << 8 | ad[54]);
	memcpy(credid, ad + 55, len);
	cbor_decref(&reply);
	{
		size_t idlen = len;

		cbor_request(0x02, get_assertion_params(cdh, credid, idlen, 0),
		    &req, &len);
		softkey_seed("assert", 0, req, len);
		cbor_request(0x02, get_assertion_params(cdh, credid, idlen, 1),
		    &req, &len);
		softkey_seed("assert-hmac", 0, req, len);
	}
	free(credid);
	(void)unlink(state);
	free(state);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		fail("cannot make OUTDIR");
	kmfa_json_init();
	jose_seeds();
	oidc_seeds();
	execinfo_seeds();
	store_seeds();
	config_seeds();
	b64_seeds();
	softkey_seeds();
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	free(jwks);
	printf("gen-seeds: %d files in %s\n", nfiles, outdir);
	return 0;
}

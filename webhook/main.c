/*
 * kubectl-mfa-webhook: options, the TLS listener (libmicrohttpd with
 * GnuTLS, from Debian's libmicrohttpd-dev: small, C, one internal thread,
 * TLS from PEM in memory), dropping root, and the request loop.  The
 * listening socket is bound and the TLS key read before privileges are
 * dropped, so a port below 1024 and a root-only key file both work; after
 * that the process holds no secret but the TLS key.
 *
 *   kubectl-mfa-webhook --issuer URL --audience CLIENT_ID --registry PATH
 *       --tls-cert PEM --tls-key PEM [--listen ADDR] [--port N]
 *       [--certificate-authority PEM] [--session-max DUR] [--leeway DUR]
 *       [--username-claim C] [--username-prefix P] [--groups-claim C]
 *       [--groups-prefix P] [--rp-id ID] [--user NAME]
 *
 * Prints `READY {"port":N,"url":"https://ADDR:N"}` on stdout once it
 * serves; logs JSON lines on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "key/credfile.h"
#include "key/fidodev.h"
#include "webhook.h"

#define PEM_MAX		(256 * 1024)
#define DEFAULT_PORT	8443
#define DEFAULT_SESSION	(12 * 3600)

struct conn {
	struct kmfa_buf body;
	int too_big;
};

void
wh_log(const char *event, const char *subject, const char *fmt, ...)
{
	struct kmfa_buf b = { 0 };
	char ts[21], *msg = NULL;
	va_list ap;
	int n;

	/* fmt NULL: no reason (an acceptance names only the subject). */
	if (fmt != NULL) {
		va_start(ap, fmt);
		n = vasprintf(&msg, fmt, ap);
		va_end(ap);
		if (n < 0)
			msg = NULL;
	}
	if (kmfa_rfc3339(kmfa_now(), ts) != 0)
		ts[0] = '\0';
	if (kmfa_buf_printf(&b, "{\"time\":\"%s\",\"event\":", ts) == 0 &&
	    kmfa_buf_json_string(&b, event) == 0 &&
	    (subject == NULL || (kmfa_buf_printf(&b, ",\"subject\":") == 0 &&
	    kmfa_buf_json_string(&b, subject) == 0)) &&
	    (msg == NULL || (kmfa_buf_printf(&b, ",\"reason\":") == 0 &&
	    kmfa_buf_json_string(&b, msg) == 0)) &&
	    kmfa_buf_printf(&b, "}\n") == 0)
		(void)fwrite(b.data, 1, b.len, stderr);
	fflush(stderr);
	free(msg);
	kmfa_buf_wipe(&b);
}

static void
usage(void)
{
	fprintf(stderr, "usage: kubectl-mfa-webhook --issuer URL --audience "
	    "CLIENT_ID --registry PATH\n"
	    "    --tls-cert PEM --tls-key PEM [--listen ADDR] [--port N]\n"
	    "    [--certificate-authority PEM] [--session-max DUR] "
	    "[--leeway DUR]\n"
	    "    [--username-claim C] [--username-prefix P] "
	    "[--groups-claim C]\n"
	    "    [--groups-prefix P] [--rp-id ID] [--user NAME] "
	    "[--cache-ttl DUR]\n");
}

static int
parse_args(int argc, char **argv, struct wh_conf *c)
{
	static const struct option lo[] = {
		{ "issuer", required_argument, NULL, 'i' },
		{ "audience", required_argument, NULL, 'a' },
		{ "certificate-authority", required_argument, NULL, 'C' },
		{ "registry", required_argument, NULL, 'r' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "session-max", required_argument, NULL, 's' },
		{ "leeway", required_argument, NULL, 'L' },
		{ "username-claim", required_argument, NULL, 'u' },
		{ "username-prefix", required_argument, NULL, 'U' },
		{ "groups-claim", required_argument, NULL, 'g' },
		{ "groups-prefix", required_argument, NULL, 'G' },
		{ "rp-id", required_argument, NULL, 'R' },
		{ "user", required_argument, NULL, 'x' },
		{ "cache-ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long port;
	int o;

	c->listen = "127.0.0.1";
	c->port = DEFAULT_PORT;
	c->session_max = DEFAULT_SESSION;
	c->leeway = 60;
	c->username_claim = "sub";
	c->username_prefix = "";
	c->groups_prefix = "";
	c->rp_id = KMFA_FIDO2_RP_ID;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'i': c->oidc.issuer = optarg; break;
		case 'a': c->oidc.client_id = optarg; break;
		case 'C': c->oidc.ca_file = optarg; break;
		case 'r': c->registry = optarg; break;
		case 'c': c->tls_cert = optarg; break;
		case 'k': c->tls_key = optarg; break;
		case 'l': c->listen = optarg; break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || port < 0 ||
			    port > 65535)
				return -1;
			c->port = (int)port;
			break;
		case 's':
			if (kmfa_config_parse_duration(optarg,
			    &c->session_max) != 0 || c->session_max <= 0)
				return -1;
			break;
		case 'L':
			if (kmfa_config_parse_duration(optarg, &c->leeway) !=
			    0 || c->leeway > 3600)
				return -1;
			break;
		case 'u': c->username_claim = optarg; break;
		case 'U': c->username_prefix = optarg; break;
		case 'g': c->groups_claim = optarg; break;
		case 'G': c->groups_prefix = optarg; break;
		case 'R': c->rp_id = optarg; break;
		case 'x': c->run_as = optarg; break;
		case 't':
			if (kmfa_config_parse_duration(optarg, &c->cache_ttl) !=
			    0)
				return -1;
			break;
		default: return -1;
		}
	}
	if (optind != argc || c->oidc.issuer == NULL ||
	    c->oidc.client_id == NULL || c->registry == NULL ||
	    c->tls_cert == NULL || c->tls_key == NULL)
		return -1;
	return 0;
}

static int
read_pem(const char *path, char **out)
{
	FILE *f;
	struct kmfa_buf b = { 0 };
	char chunk[4096];
	size_t n;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return kmfa_fail(KMFA_ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > PEM_MAX || kmfa_buf_append(&b, chunk, n) != 0) {
			fclose(f);
			kmfa_buf_wipe(&b);
			return kmfa_fail(KMFA_ERR_CONFIG, "%s: too large or out "
			    "of memory", path);
		}
	}
	fclose(f);
	if (b.data == NULL || kmfa_buf_append(&b, "", 1) != 0) {
		kmfa_buf_wipe(&b);
		return kmfa_fail(KMFA_ERR_CONFIG, "%s: empty", path);
	}
	*out = b.data;
	return KMFA_OK;
}

/* Bound before privileges go, so a port below 1024 works. */
static int
listen_on(const char *addr, int port, int *fd, int *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return kmfa_fail(KMFA_ERR_USAGE, "--listen: %s is not an IPv4 "
		    "address", addr);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return kmfa_fail(KMFA_ERR_IO, "socket: %s", strerror(errno));
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s, 64) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) != 0) {
		close(s);
		return kmfa_fail(KMFA_ERR_IO, "listen on %s:%d: %s", addr,
		    port, strerror(errno));
	}
	*fd = s;
	*bound = ntohs(sa.sin_port);
	return KMFA_OK;
}

/* Root gives up every privilege, for good, before serving. */
static int
drop_root(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 && getuid() != 0)
		return KMFA_OK;
	if (user == NULL)
		return kmfa_fail(KMFA_ERR_USAGE, "started as root: name the "
		    "unprivileged user to run as with --user");
	if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0)
		return kmfa_fail(KMFA_ERR_USAGE, "--user %s: no such "
		    "unprivileged user", user);
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0 || setuid(0) == 0)
		return kmfa_fail(KMFA_ERR_IO, "could not drop to user %s: %s",
		    user, strerror(errno));
	return KMFA_OK;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *k = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (k == NULL)
		return;
	kmfa_buf_wipe(&k->body);
	free(k);
	*con_cls = NULL;
}

static enum MHD_Result
send_json(struct MHD_Connection *c, int status, const char *body, size_t len)
{
	struct MHD_Response *res;
	enum MHD_Result ret;

	if ((res = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY)) == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(res, "Content-Type", "application/json");
	ret = MHD_queue_response(c, (unsigned)status, res);
	MHD_destroy_response(res);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct wh_state *st = cls;
	struct conn *k = *con_cls;
	struct kmfa_buf out = { 0 };
	char why[512];
	const char *cl;
	int status = 500, authn = 0;
	enum MHD_Result ret;

	(void)url;
	(void)version;
	if (k == NULL) {
		if (strcmp(method, "POST") != 0) {
			static const char m[] = "{\"error\":\"POST a TokenReview\"}";

			wh_log("refused", NULL, "method %.16s", method);
			return send_json(c, 405, m, sizeof(m) - 1);
		}
		if ((k = calloc(1, sizeof(*k))) == NULL)
			return MHD_NO;
		*con_cls = k;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && (strlen(cl) > 9 ||
		    strtoul(cl, NULL, 10) > WH_BODY_MAX)) {
			/* Refused before a byte of it is read. */
			k->too_big = 1;
			if (wh_review(st, "", WH_BODY_MAX + 1, &status, &authn,
			    &out, why, sizeof(why)) != KMFA_OK)
				return MHD_NO;
			wh_log("refused", NULL, "%s", why);
			ret = send_json(c, status, out.data, out.len);
			kmfa_buf_wipe(&out);
			return ret;
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!k->too_big && (k->body.len + *upload_size > WH_BODY_MAX ||
		    kmfa_buf_append(&k->body, upload, *upload_size) != 0))
			k->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->too_big) {
		/* wh_review answers 413 for a body over the bound. */
		if (wh_review(st, "", WH_BODY_MAX + 1, &status, &authn, &out,
		    why, sizeof(why)) != KMFA_OK)
			return MHD_NO;
	} else if (wh_review(st, k->body.data != NULL ? k->body.data : "",
	    k->body.len, &status, &authn, &out, why, sizeof(why)) !=
	    KMFA_OK) {
		kmfa_buf_wipe(&out);
		return MHD_NO;
	}
	if (authn)
		wh_log("authenticated", why, NULL);
	else
		wh_log("refused", NULL, "%s", why);
	ret = send_json(c, status, out.data, out.len);
	kmfa_buf_wipe(&out);
	return ret;
}

int
main(int argc, char **argv)
{
	static struct wh_conf conf;
	static struct wh_state st;
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL;
	sigset_t set;
	int fd = -1, port = 0, sig, r = KMFA_ERR_USAGE;

	kmfa_json_init();
	kmfa_fidodev_init();
	if (parse_args(argc, argv, &conf) != 0) {
		usage();
		return 2;
	}
	if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		fprintf(stderr, "kubectl-mfa-webhook: libmicrohttpd has no "
		    "TLS\n");
		return 1;
	}
	st.conf = &conf;
	if ((st.reg.path = strdup(conf.registry)) == NULL ||
	    (st.seen = calloc(WH_SEEN_MAX, sizeof(*st.seen))) == NULL ||
	    (conf.cache_ttl > 0 && (st.cache = calloc(WH_CACHE_SLOTS,
	    sizeof(*st.cache))) == NULL)) {
		r = KMFA_ERR_NOMEM;
		goto out;
	}
	if ((r = read_pem(conf.tls_cert, &cert)) != KMFA_OK ||
	    (r = read_pem(conf.tls_key, &key)) != KMFA_OK ||
	    (r = listen_on(conf.listen, conf.port, &fd, &port)) != KMFA_OK ||
	    (r = drop_root(conf.run_as)) != KMFA_OK)
		goto out;
	/* The registry must read now; later it is read again on change. */
	if ((r = wh_registry_refresh(&st.reg)) != KMFA_OK)
		goto out;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	/* Blocked before the server's thread starts, so it inherits it. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, &st,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_END);
	if (d == NULL) {
		r = kmfa_fail(KMFA_ERR_IO, "the TLS server did not start (is "
		    "the key the certificate's?)");
		goto out;
	}
	fd = -1;	/* the daemon's now */
	printf("READY {\"port\":%d,\"url\":\"https://%s:%d\"}\n", port,
	    conf.listen, port);
	fflush(stdout);
	wh_log("started", NULL, "serving on %s:%d for %s", conf.listen, port,
	    conf.oidc.issuer);
	for (;;) {
		if (sigwait(&set, &sig) == 0 && sig != SIGPIPE)
			break;
	}
	r = KMFA_OK;
out:
	if (r != KMFA_OK)
		fprintf(stderr, "kubectl-mfa-webhook: %s\n",
		    kmfa_report_cause() != NULL ? kmfa_report_cause() :
		    kmfa_report_reason(r));
	if (d != NULL)
		MHD_stop_daemon(d);
	if (fd >= 0)
		close(fd);
	if (key != NULL)
		kmfa_freezero_str(key);
	free(cert);
	wh_registry_clear(&st.reg);
	free(st.reg.path);
	free(st.seen);
	for (size_t i = 0; st.cache != NULL && i < WH_CACHE_SLOTS; i++)
		free(st.cache[i].user);
	free(st.cache);
	kmfa_buf_wipe(&st.jwks);
	return r == KMFA_OK ? 0 : r == KMFA_ERR_USAGE ? 2 : 1;
}

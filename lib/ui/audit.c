/*
 * Audit lines are written with one write(2) on an O_APPEND descriptor, so
 * lines from concurrent processes never interleave (POSIX appends are
 * atomic with respect to each other for regular files).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/report.h"
#include "base/util.h"
#include "ui/audit.h"

static char *
default_path(void)
{
	const char *base = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *p = NULL;

	if (base != NULL && base[0] == '/')
		(void)kmfa_asprintf(&p, "%s/kubectl-mfa/audit.log", base);
	else if (home != NULL && home[0] == '/')
		(void)kmfa_asprintf(&p, "%s/.local/state/kubectl-mfa/audit.log",
		    home);
	return p;
}

static int
add(struct kmfa_buf *b, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	if (kmfa_buf_printf(b, ",\"%s\":", k) != 0)
		return -1;
	return kmfa_buf_json_string(b, v);
}

static void
write_file(const char *path, const struct kmfa_buf *line)
{
	char dir[4096], *slash;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(dir))
		return;
	memcpy(dir, path, strlen(path) + 1);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		struct kmfa_report_scope sc;
		int made;

		*slash = '\0';
		kmfa_report_enter(&sc);
		made = kmfa_file_mkdir_private(dir) == 0;
		kmfa_report_leave(&sc);
		if (!made) {
			kmfa_warn("cannot create the audit log folder %s", dir);
			return;
		}
	}
	/* Rotation races are benign: at worst one extra generation rolls. */
	if (stat(path, &st) == 0 && st.st_size > KMFA_AUDIT_MAX) {
		char old[4200];
		int n = snprintf(old, sizeof(old), "%s.1", path);
		if (n > 0 && (size_t)n < sizeof(old))
			(void)rename(path, old);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0 || write(fd, line->data, line->len) != (ssize_t)line->len)
		kmfa_warn("cannot write the audit log %s: %s", path,
		    strerror(errno));
	if (fd >= 0)
		close(fd);
}

void
kmfa_audit(const struct kmfa_config *cfg, const struct kmfa_audit_event *ev)
{
	struct kmfa_buf b = { 0 };
	char ts[21], *path = NULL;
	const char *dest = cfg->audit_log;

	if (dest != NULL && strcmp(dest, "off") == 0)
		return;
	if (kmfa_rfc3339(kmfa_now(), ts) != 0)
		return;
	if (kmfa_buf_printf(&b, "{\"time\":\"%s\",\"event\":", ts) != 0 ||
	    kmfa_buf_json_string(&b, ev->event) != 0 ||
	    add(&b, "issuer", ev->issuer) != 0 ||
	    add(&b, "subject", ev->subject) != 0 ||
	    add(&b, "key", ev->key_name) != 0 ||
	    add(&b, "outcome", ev->outcome) != 0 ||
	    add(&b, "error", ev->error) != 0 ||
	    kmfa_buf_printf(&b, ",\"pid\":%ld}\n", (long)getpid()) != 0)
		goto out;
	if (dest != NULL && strcmp(dest, "syslog") == 0) {
		openlog("kubectl-mfa", LOG_PID, LOG_AUTHPRIV);
		syslog(LOG_NOTICE, "%.*s", (int)(b.len - 1), b.data);
		closelog();
		goto out;
	}
	if (dest == NULL && (path = default_path()) == NULL)
		goto out;
	write_file(dest != NULL ? dest : path, &b);
out:
	free(path);
	kmfa_buf_wipe(&b);
}

/*
 * kubeconfig editing through kubectl.  The copy keeps the original's mode
 * (a kubeconfig holding client keys is often 0600 and must stay so).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "flow/kubeconfig.h"

static int
copy_file(const char *from, int to_fd)
{
	char buf[8192];
	ssize_t n;
	int fd;

	if ((fd = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(to_fd, buf, (size_t)n) != n) {
			close(fd);
			return -1;
		}
	close(fd);
	return n < 0 ? -1 : 0;
}

/*
 * kubectl's --exec-arg is a string-slice flag: its value is read as one CSV
 * record, so "a,b" would become two arguments.  Quote any value with a
 * comma or a quote CSV-style (RFC 4180 §2: enclose in quotes, double the
 * quotes inside) so that each argument arrives whole.
 */
static int
exec_arg(char **out, const char *arg)
{
	struct kmfa_buf b = { 0 };

	*out = NULL;
	if (kmfa_buf_printf(&b, "--exec-arg=") != 0)
		goto fail;
	if (strpbrk(arg, ",\"") == NULL) {
		if (kmfa_buf_printf(&b, "%s", arg) != 0)
			goto fail;
	} else {
		if (kmfa_buf_append(&b, "\"", 1) != 0)
			goto fail;
		for (const char *p = arg; *p != '\0'; p++)
			if (kmfa_buf_append(&b, p, 1) != 0 ||
			    (*p == '"' && kmfa_buf_append(&b, "\"", 1) != 0))
				goto fail;
		if (kmfa_buf_append(&b, "\"", 1) != 0)
			goto fail;
	}
	*out = b.data;
	return 0;
fail:
	kmfa_buf_wipe(&b);
	return -1;
}

static int
run_kubectl(char *const argv[])
{
	pid_t pid;
	int status;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		/* kubectl's "User ... set." is not for our stdout. */
		if (devnull >= 0)
			(void)dup2(devnull, STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "kubectl-mfa: cannot run kubectl: %s\n",
		    strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
kmfa_kubeconfig_set_user(const char *path, const char *user,
    const char *command, char *const args[])
{
	char tmp[PATH_MAX], **argv = NULL;
	struct stat st;
	size_t nargs = 0, i = 0;
	int fd = -1, r = KMFA_ERR_NOMEM, rc, n;
	mode_t mode = 0600;

	n = snprintf(tmp, sizeof(tmp), "%s.kubectl-mfa.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return kmfa_fail(KMFA_ERR_CONFIG, "path too long: %s", path);
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return kmfa_fail(KMFA_ERR_CONFIG, "%s is not a regular "
			    "file", path);
		mode = st.st_mode & 0777;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot create a file beside %s: "
		    "%s", path, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	if (fchmod(fd, mode) != 0 || copy_file(path, fd) != 0 ||
	    fsync(fd) != 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot copy %s: %s", path,
		    strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	while (args[nargs] != NULL)
		nargs++;
	if ((argv = calloc(nargs + 12, sizeof(char *))) == NULL)
		goto out;
	argv[i++] = (char *)"kubectl";
	argv[i++] = (char *)"config";
	argv[i++] = (char *)"set-credentials";
	argv[i++] = (char *)user;
	if (kmfa_asprintf(&argv[i++], "--kubeconfig=%s", tmp) < 0 ||
	    kmfa_asprintf(&argv[i++], "--exec-command=%s", command) < 0)
		goto out;
	argv[i++] = (char *)"--exec-api-version=client.authentication.k8s.io/v1";
	argv[i++] = (char *)"--exec-interactive-mode=IfAvailable";
	argv[i++] = (char *)"--exec-provide-cluster-info=false";
	for (size_t j = 0; j < nargs; j++)
		if (exec_arg(&argv[i++], args[j]) != 0)
			goto out;
	argv[i] = NULL;
	if ((rc = run_kubectl(argv)) != 0) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "kubectl config set-credentials "
		    "failed (exit %d); %s is unchanged", rc, path);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		r = kmfa_fail(KMFA_ERR_IO, "cannot replace %s: %s", path,
		    strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	r = KMFA_OK;
out:
	if (argv != NULL) {
		free(argv[4]);
		free(argv[5]);
		for (size_t j = 9; j < 9 + nargs; j++)
			free(argv[j]);
		free(argv);
	}
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	return r;
}

int
kmfa_kubeconfig_front_path(char **out)
{
	char self[PATH_MAX], *front = NULL, *real = NULL, *slash = NULL;
	ssize_t n;
	int r = KMFA_ERR_NOMEM;

	*out = NULL;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return kmfa_fail(KMFA_ERR_CONFIG, "cannot find this program's "
		    "location: %s; name the command with --exec-command",
		    strerror(errno));
	self[n] = '\0';
	/* Up from .../libexec/kubectl-mfa/kubectl-mfa-core to the prefix. */
	for (int up = 0; up < 3; up++) {
		if ((slash = strrchr(self, '/')) == NULL)
			return kmfa_fail(KMFA_ERR_CONFIG, "this program is not "
			    "installed as .../libexec/kubectl-mfa/kubectl-mfa-"
			    "core; name the command with --exec-command");
		*slash = '\0';
	}
	if (kmfa_asprintf(&front, "%s/bin/kubectl-mfa", self) < 0)
		goto out;
	/* The front's real location: what kubectl will compare. */
	if ((real = realpath(front, NULL)) == NULL ||
	    access(real, X_OK) != 0) {
		r = kmfa_fail(KMFA_ERR_CONFIG, "no kubectl-mfa front at %s "
		    "beside this program; name the command with --exec-command",
		    front);
		goto out;
	}
	*out = real;
	real = NULL;
	r = KMFA_OK;
out:
	free(front);
	free(real);
	return r;
}

int
kmfa_kubeconfig_kuberc_allow(struct kmfa_buf *b, const char *command,
    const char *indent)
{
	/* JSON strings are YAML flow scalars: a path needs no more care. */
	if (kmfa_buf_printf(b, "%sapiVersion: kubectl.config.k8s.io/v1beta1\n"
	    "%skind: Preference\n%scredentialPluginPolicy: Allowlist\n"
	    "%scredentialPluginAllowlist:\n%s- name: ", indent, indent,
	    indent, indent, indent) != 0 ||
	    kmfa_buf_json_string(b, command) != 0 ||
	    kmfa_buf_printf(b, "\n") != 0)
		return KMFA_ERR_NOMEM;
	return KMFA_OK;
}

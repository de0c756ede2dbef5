/*
 * Writing a user entry into a kubeconfig.  kubectl itself edits the file
 * (`kubectl config set-credentials`), so every other part of it, comments
 * aside, is kept exactly as kubectl would keep it, without a YAML parser
 * here.  It edits a copy beside the file, which is then renamed over it:
 * readers see the old or the new file, never half of one.
 */
#ifndef KMFA_KUBECONFIG_H
#define KMFA_KUBECONFIG_H

#include "base/buf.h"

/*
 * Set user `user` in `path` to an exec entry running `command` with `args`
 * (NULL-terminated), apiVersion v1, interactiveMode IfAvailable.
 */
int kmfa_kubeconfig_set_user(const char *path, const char *user,
    const char *command, char *const args[]);

/*
 * The absolute path of the front installed beside the running program
 * (this core is DIR/libexec/kubectl-mfa/kubectl-mfa-core, make install's
 * and the package's layout, so the front is DIR/bin/kubectl-mfa), with
 * symbolic links resolved: the `command:` a kuberc allowlist can name
 * exactly.  KMFA_ERR_CONFIG when there is no executable front there.
 * *out is the caller's to free.
 */
int kmfa_kubeconfig_front_path(char **out);

/*
 * The kuberc (kubectl.config.k8s.io/v1beta1 Preference) that lets kubectl
 * 1.35 and later run `command` under its credential plugin policy:
 * credentialPluginPolicy Allowlist with one credentialPluginAllowlist entry
 * naming it (a full path, or a bare name kubectl looks up on PATH).  Each
 * line starts with `indent`.  Appended to *b.
 */
int kmfa_kubeconfig_kuberc_allow(struct kmfa_buf *b, const char *command,
    const char *indent);

#endif

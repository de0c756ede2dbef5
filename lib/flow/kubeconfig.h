/*
 * Writing a user entry into a kubeconfig.  kubectl itself edits the file
 * (`kubectl config set-credentials`), so every other part of it, comments
 * aside, is kept exactly as kubectl would keep it, without a YAML parser
 * here.  It edits a copy beside the file, which is then renamed over it:
 * readers see the old or the new file, never half of one.
 */
#ifndef KMFA_KUBECONFIG_H
#define KMFA_KUBECONFIG_H

/*
 * Set user `user` in `path` to an exec entry running `command` with `args`
 * (NULL-terminated), apiVersion v1, interactiveMode IfAvailable.
 */
int kmfa_kubeconfig_set_user(const char *path, const char *user,
    const char *command, char *const args[]);

#endif

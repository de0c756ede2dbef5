/*
 * Presence detection.  CI systems set CI=true (GitHub Actions, GitLab,
 * Buildkite, CircleCI, Travis); an explicit CI=false or CI=0 means a person
 * chose otherwise.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/presence.h"

int
kmfa_presence_attended(const char **why)
{
	const char *ci = getenv("CI");
	int fd;

	if (ci != NULL && ci[0] != '\0' && strcmp(ci, "false") != 0 &&
	    strcmp(ci, "0") != 0) {
		*why = "the CI variable is set";
		return 0;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		*why = "there is no terminal";
		return 0;
	}
	close(fd);
	*why = NULL;
	return 1;
}

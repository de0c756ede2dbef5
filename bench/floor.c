/*
 * The floor: the least a credential plugin answering from a cache can do.
 * Read a small JSON file, take the string value of "token" with a plain
 * scan (no JSON library, no validation), print an ExecCredential.  Built
 * by bench/run with `cc -O2 -static`, so it pays for no dynamic loading;
 * also built dynamic (PIE, linked against libcjson without calling it) to
 * show what dynamic loading alone costs.
 *
 *   floor FILE [v1|v1beta1]
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	static char buf[65536], out[70000];
	const char *api = "v1beta1";
	char *p, *q;
	ssize_t n, len = 0;
	int fd, w;

	if (argc < 2 || (fd = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	if (argc > 2)
		api = argv[2];
	if ((p = strstr(buf, "\"token\":\"")) == NULL)
		return 1;
	p += 9;
	if ((q = strchr(p, '"')) == NULL)
		return 1;
	*q = '\0';
	w = snprintf(out, sizeof(out), "{\"apiVersion\":\"client.authentication."
	    "k8s.io/%s\",\"kind\":\"ExecCredential\",\"status\":{\"token\":"
	    "\"%s\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}\n",
	    api, p);
	if (w <= 0 || (size_t)w >= sizeof(out))
		return 1;
	return write(STDOUT_FILENO, out, (size_t)w) == w ? 0 : 1;
}

/*
 * Benchmark driver: runs commands many times, interleaved, and reports
 * wall time per run (clock_gettime around spawn + read stdout + wait4) and
 * peak RSS (ru_maxrss from wait4), checking every run's output.
 *
 *   driver [-n RUNS] [-w WARMUP] [-c CONC] [-E STDERR_FILE] SPEC [:: SPEC]...
 *
 * SPEC is [@name=NAME] [@expect=TEXT] [@env=K=V]... [@unset=K]... CMD ARG...
 * Round r runs every SPEC once, in order (A B A B ...), so drift on a noisy
 * machine lands on all of them alike.  With -c K a run is K copies started
 * together, and its time is the wall time until the last one ends.
 * Warm-up runs are checked too (and counted in failures).
 * A run fails when it exits non-zero, is killed, or its stdout lacks a TEXT
 * (@expect may be given up to 8 times; every one must appear).
 *
 * Prints one JSON object per SPEC on stdout:
 *   {"name","runs","conc","failures","error","median_us","min_us","max_us",
 *    "p10_us","p90_us","mean_us","rss_kib_median","rss_kib_max",
 *    "diff_median_us"}
 * diff_median_us is the median over rounds of (this run - SPEC 1's run),
 * a paired difference that cancels slow drift.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define OUTMAX 65536
#define MAXCONC 256

struct spec {
	const char *name, *expect[8];
	int nexpect;
	char **argv, **envp;
	double *us;
	long *rss;
	int nsamp, failures;
	char error[256];
};

struct child {
	pid_t pid;
	int fd;
	size_t len;
	char out[OUTMAX];
	int status;
	long rss;
};

static int stderr_fd = -1, null_fd = -1;

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
die(const char *what)
{
	fprintf(stderr, "driver: %s: %s\n", what, strerror(errno));
	exit(2);
}

static char **
make_env(char **sets, int nsets, char **unsets, int nunsets)
{
	int n = 0, i, j, k = 0;
	char **e;

	while (environ[n] != NULL)
		n++;
	if ((e = calloc((size_t)(n + nsets + 1), sizeof(*e))) == NULL)
		die("calloc");
	for (i = 0; i < n; i++) {
		int drop = 0;

		for (j = 0; j < nsets + nunsets && !drop; j++) {
			const char *s = j < nsets ? sets[j] : unsets[j - nsets];
			size_t l = strcspn(s, "=");

			if (strncmp(environ[i], s, l) == 0 &&
			    environ[i][l] == '=')
				drop = 1;
		}
		if (!drop)
			e[k++] = environ[i];
	}
	for (j = 0; j < nsets; j++)
		e[k++] = sets[j];
	e[k] = NULL;
	return e;
}

static void
start(struct spec *s, struct child *c)
{
	posix_spawn_file_actions_t fa;
	int p[2], err;

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, null_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, stderr_fd, 2);
	err = posix_spawn(&c->pid, s->argv[0], &fa, NULL, s->argv, s->envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (err != 0) {
		errno = err;
		die(s->argv[0]);
	}
	c->fd = p[0];
	c->len = 0;
}

/* Read every child's stdout to EOF, then reap them all. */
static void
finish(struct child *c, int n)
{
	struct pollfd pf[MAXCONC];
	int open_n = n, i;

	for (i = 0; i < n; i++) {
		pf[i].fd = c[i].fd;
		pf[i].events = POLLIN;
	}
	while (open_n > 0) {
		if (n > 1 && poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = 0; i < n; i++) {
			char tmp[4096], *dst;
			size_t room;
			ssize_t r;

			if (pf[i].fd < 0 || (n > 1 && pf[i].revents == 0))
				continue;
			room = OUTMAX - 1 - c[i].len;
			dst = room > 0 ? c[i].out + c[i].len : tmp;
			if (room == 0)
				room = sizeof(tmp);
			r = read(pf[i].fd, dst, room);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_n--;
			} else if (dst != tmp)
				c[i].len += (size_t)r;
		}
	}
	for (i = 0; i < n; i++) {
		struct rusage ru;

		c[i].out[c[i].len] = '\0';
		while (wait4(c[i].pid, &c[i].status, 0, &ru) < 0)
			if (errno != EINTR)
				die("wait4");
		c[i].rss = ru.ru_maxrss;
	}
}

static int
check(struct spec *s, struct child *c)
{
	int i, ok = WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;

	for (i = 0; ok && i < s->nexpect; i++)
		ok = strstr(c->out, s->expect[i]) != NULL;
	if (ok)
		return 1;
	if (s->failures++ == 0)
		snprintf(s->error, sizeof(s->error), "%s %d, stdout %.120s",
		    WIFEXITED(c->status) ? "exit" : "signal",
		    WIFEXITED(c->status) ? WEXITSTATUS(c->status) :
		    WTERMSIG(c->status), c->out);
	return 0;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_l(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static double
quantile(const double *sorted, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (n == 0)
		return 0;
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void
report(struct spec *s, struct spec *base, int conc)
{
	int n = s->nsamp, i;
	double *d = malloc(sizeof(double) * (size_t)(n + 1));
	long *r = malloc(sizeof(long) * (size_t)(n + 1));
	double sum = 0;

	if (d == NULL || r == NULL)
		die("malloc");
	for (i = 0; i < n; i++) {
		d[i] = s->us[i];
		r[i] = s->rss[i];
		sum += d[i];
	}
	qsort(d, (size_t)n, sizeof(*d), cmp_d);
	qsort(r, (size_t)n, sizeof(*r), cmp_l);
	printf("{\"name\":");
	json_str(s->name);
	printf(",\"runs\":%d,\"conc\":%d,\"failures\":%d,\"error\":", n, conc,
	    s->failures);
	json_str(s->error);
	printf(",\"median_us\":%.1f,\"min_us\":%.1f,\"max_us\":%.1f,"
	    "\"p10_us\":%.1f,\"p90_us\":%.1f,\"mean_us\":%.1f,"
	    "\"rss_kib_median\":%ld,\"rss_kib_max\":%ld",
	    quantile(d, n, 0.5), n ? d[0] : 0, n ? d[n - 1] : 0,
	    quantile(d, n, 0.1), quantile(d, n, 0.9), n ? sum / n : 0,
	    n ? r[n / 2] : 0, n ? r[n - 1] : 0);
	for (i = 0; i < n; i++)
		d[i] = s->us[i] - base->us[i];
	qsort(d, (size_t)n, sizeof(*d), cmp_d);
	printf(",\"diff_median_us\":%.1f}\n", quantile(d, n, 0.5));
	free(d);
	free(r);
}

int
main(int argc, char *argv[])
{
	int runs = 100, warm = 10, conc = 1, nspec = 0, i, j, round;
	struct spec *specs;
	struct child *kids;
	const char *errfile = "/dev/null";
	int opt;

	while ((opt = getopt(argc, argv, "+n:w:c:E:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 'E': errfile = optarg; break;
		default: goto usage;
		}
	}
	if (runs < 1 || warm < 0 || conc < 1 || conc > MAXCONC || optind >= argc)
		goto usage;
	if ((specs = calloc((size_t)argc, sizeof(*specs))) == NULL ||
	    (kids = calloc((size_t)conc, sizeof(*kids))) == NULL)
		die("calloc");
	for (i = optind; i < argc; ) {
		struct spec *s = &specs[nspec++];
		char **sets = calloc((size_t)argc, sizeof(char *));
		char **unsets = calloc((size_t)argc, sizeof(char *));
		int nsets = 0, nunsets = 0, a0;

		if (sets == NULL || unsets == NULL)
			die("calloc");
		for (; i < argc && argv[i][0] == '@'; i++) {
			if (strncmp(argv[i], "@name=", 6) == 0)
				s->name = argv[i] + 6;
			else if (strncmp(argv[i], "@expect=", 8) == 0 &&
			    s->nexpect < 8)
				s->expect[s->nexpect++] = argv[i] + 8;
			else if (strncmp(argv[i], "@env=", 5) == 0)
				sets[nsets++] = argv[i] + 5;
			else if (strncmp(argv[i], "@unset=", 7) == 0)
				unsets[nunsets++] = argv[i] + 7;
			else
				goto usage;
		}
		a0 = i;
		while (i < argc && strcmp(argv[i], "::") != 0)
			i++;
		if (i == a0)
			goto usage;
		s->argv = &argv[a0];
		if (i < argc)
			argv[i++] = NULL;	/* the "::" ends this argv */
		s->envp = make_env(sets, nsets, unsets, nunsets);
		if (s->name == NULL)
			s->name = s->argv[0];
		if ((s->us = calloc((size_t)runs, sizeof(double))) == NULL ||
		    (s->rss = calloc((size_t)runs, sizeof(long))) == NULL)
			die("calloc");
	}
	if ((null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    (stderr_fd = open(errfile, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0600)) < 0)
		die(errfile);
	for (round = 0; round < warm + runs; round++) {
		for (j = 0; j < nspec; j++) {
			struct spec *s = &specs[j];
			double t0, t1;
			long rss = 0;

			t0 = now_us();
			for (i = 0; i < conc; i++)
				start(s, &kids[i]);
			finish(kids, conc);
			t1 = now_us();
			for (i = 0; i < conc; i++) {
				(void)check(s, &kids[i]);	/* warm-up too */
				if (kids[i].rss > rss)
					rss = kids[i].rss;
			}
			if (round >= warm) {
				s->us[s->nsamp] = t1 - t0;
				s->rss[s->nsamp++] = rss;
			}
		}
	}
	for (j = 0; j < nspec; j++)
		report(&specs[j], &specs[0], conc);
	return 0;
usage:
	fprintf(stderr, "usage: driver [-n RUNS] [-w WARMUP] [-c CONC] "
	    "[-E STDERR_FILE] [@name=N] [@expect=TEXT] [@env=K=V] [@unset=K] "
	    "CMD ARG... [:: SPEC]...\n");
	return 2;
}

/*
 * Cache-Control, read the way a private cache must (RFC 9111 §5.2): only
 * the directives that shorten or forbid reuse matter here, so anything this
 * file does not understand can only leave the default lifetime, never
 * lengthen it past KMFA_FRESHNESS_MAX.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "oidc/freshness.h"

#define DELTA_MAX 2147483648LL	/* RFC 9111 §1.2.2 */

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * delta-seconds at p..p+n, optionally quoted: -1 when not one, DELTA_MAX
 * when larger.
 */
static int64_t
delta_seconds(const char *p, size_t n)
{
	int64_t v = 0;

	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v < DELTA_MAX)
			v = v * 10 + (p[i] - '0');
	}
	return v > DELTA_MAX ? DELTA_MAX : v;
}

void
kmfa_freshness_parse(const char *cc, struct kmfa_freshness *f)
{
	const char *p = cc, *end, *eq;
	size_t nlen, vlen;

	memset(f, 0, sizeof(*f));
	f->max_age = -1;
	if (cc == NULL)
		return;
	while (*p != '\0') {
		while (*p == ',' || is_space(*p))
			p++;
		if (*p == '\0')
			break;
		/* A quoted value may hold a comma (no-cache="a, b"). */
		end = p;
		for (int q = 0; *end != '\0' && (q || *end != ','); end++)
			if (*end == '"')
				q = !q;
		eq = memchr(p, '=', (size_t)(end - p));
		nlen = (size_t)((eq != NULL ? eq : end) - p);
		while (nlen > 0 && is_space(p[nlen - 1]))
			nlen--;
		if (nlen == 8 && strncasecmp(p, "no-store", 8) == 0) {
			f->no_store = 1;
		} else if (nlen == 8 && strncasecmp(p, "no-cache", 8) == 0) {
			/* With field names it still forbids reuse unchecked
			 * for those fields; the body is what is kept here. */
			f->no_cache = 1;
		} else if (nlen == 7 && strncasecmp(p, "max-age", 7) == 0) {
			const char *v = eq != NULL ? eq + 1 : end;
			int64_t age;

			while (v < end && is_space(*v))
				v++;
			vlen = (size_t)(end - v);
			while (vlen > 0 && is_space(v[vlen - 1]))
				vlen--;
			age = eq != NULL ? delta_seconds(v, vlen) : -1;
			/* §4.2.1: a second max-age may as well be stale. */
			if (age < 0 || f->max_age >= 0)
				f->invalid = 1;
			else
				f->max_age = age;
		}
		p = end;
	}
}

int64_t
kmfa_freshness_lifetime(const char *cache_control, const char *age,
    int *keep)
{
	struct kmfa_freshness f;
	int64_t life, a = 0;

	kmfa_freshness_parse(cache_control, &f);
	*keep = !f.no_store;
	if (f.no_store || f.no_cache || f.invalid)
		return 0;
	if (f.max_age < 0)
		return KMFA_FRESHNESS_DEFAULT;
	if (age != NULL && (a = delta_seconds(age, strlen(age))) < 0)
		a = 0;
	life = f.max_age - a;
	if (life < 0)
		life = 0;
	return life > KMFA_FRESHNESS_MAX ? KMFA_FRESHNESS_MAX : life;
}

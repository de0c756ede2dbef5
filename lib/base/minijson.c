/*
 * The strict JSON reader (minijson.h): a recursive descent
 * over the RFC 8259 grammar that keeps nothing but a bit per requested
 * field, so that reading a record costs one pass and no allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "base/minijson.h"

/* A member name already read in an object that is still open. */
struct mj_key {
	const char *raw;	/* its opening quote */
	size_t rawlen;		/* quotes included */
	size_t len;		/* decoded */
};

struct mj {
	const char *p, *end;
	struct kmfa_minijson_field *f;
	size_t nf;
	unsigned seen[KMFA_MINIJSON_FIELDS];	/* path levels already matched */
	/* The names of every open object, innermost last: a stack, so that
	 * the whole scan needs no more than this and no allocation. */
	struct mj_key key[KMFA_MINIJSON_KEYS];
	size_t nkeys;
};

static void
skip_ws(struct mj *m)
{
	/* Only the four whitespace bytes of RFC 8259 §2; cJSON skips any
	 * byte up to 0x20, which we treat as malformed instead. */
	while (m->p < m->end && (*m->p == ' ' || *m->p == '\t' ||
	    *m->p == '\n' || *m->p == '\r'))
		m->p++;
}

static int
hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Append one byte, counting what does not fit in cap. */
static void
put(char *out, size_t cap, size_t *n, unsigned char c)
{
	if (out != NULL && *n < cap)
		out[*n] = (char)c;
	(*n)++;
}

static void
put_utf8(char *out, size_t cap, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		put(out, cap, n, (unsigned char)cp);
	} else if (cp < 0x800) {
		put(out, cap, n, (unsigned char)(0xc0 | (cp >> 6)));
		put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		put(out, cap, n, (unsigned char)(0xe0 | (cp >> 12)));
		put(out, cap, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		put(out, cap, n, (unsigned char)(0xf0 | (cp >> 18)));
		put(out, cap, n, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
		put(out, cap, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

/*
 * Validate the string starting at the quote *pp, decoding it into out
 * (up to cap bytes; out may be NULL) and its full decoded length into *n.
 * Bytes from 0x80 up pass through unchanged, as cJSON passes them.
 */
static int
string(const char **pp, const char *end, char *out, size_t cap, size_t *n)
{
	const char *p = *pp;
	unsigned cp, lo;

	*n = 0;
	if (p >= end || *p++ != '"')
		return -1;
	for (;;) {
		unsigned char c;

		if (p >= end)
			return -1;
		c = (unsigned char)*p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return -1;	/* §7: control characters are escaped */
		if (c != '\\') {
			put(out, cap, n, c);
			continue;
		}
		if (p >= end)
			return -1;
		switch (*p++) {
		case '"': put(out, cap, n, '"'); break;
		case '\\': put(out, cap, n, '\\'); break;
		case '/': put(out, cap, n, '/'); break;
		case 'b': put(out, cap, n, '\b'); break;
		case 'f': put(out, cap, n, '\f'); break;
		case 'n': put(out, cap, n, '\n'); break;
		case 'r': put(out, cap, n, '\r'); break;
		case 't': put(out, cap, n, '\t'); break;
		case 'u':
			if (hex4(p, end, &cp) != 0)
				return -1;
			p += 4;
			/* A NUL would cut the C string short of what cJSON
			 * and the core see; refuse it. */
			if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* §7: a high surrogate needs its low half. */
				if (end - p < 6 || p[0] != '\\' ||
				    p[1] != 'u' || hex4(p + 2, end, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			put_utf8(out, cap, n, cp);
			break;
		default:
			return -1;
		}
	}
	*pp = p;
	return 0;
}

/*
 * A string that string() has validated, decoded one byte at a time, so
 * that two names can be compared without a buffer for either.
 */
struct cursor {
	const char *p, *end;
	char pending[4];	/* the rest of a \u escape's UTF-8 */
	size_t n, i;
};

/* The next decoded byte, or -1 at the closing quote. */
static int
next_byte(struct cursor *c)
{
	unsigned cp, lo;

	if (c->i < c->n)
		return (unsigned char)c->pending[c->i++];
	if (c->p >= c->end || *c->p == '"')
		return -1;
	if (*c->p != '\\')
		return (unsigned char)*c->p++;
	c->p++;
	if (c->p >= c->end)
		return -1;
	switch (*c->p++) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'u':
		if (hex4(c->p, c->end, &cp) != 0)
			return -1;
		c->p += 4;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (hex4(c->p + 2, c->end, &lo) != 0)
				return -1;
			c->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		c->n = 0;
		put_utf8(c->pending, sizeof(c->pending), &c->n, cp);
		c->i = 1;
		return (unsigned char)c->pending[0];
	default:	/* '"', '\\' and '/' stand for themselves */
		return (unsigned char)c->p[-1];
	}
}

/*
 * Whether two names decode to the same bytes: the comparison the full
 * program's reader makes (json.c compares cJSON's decoded names with
 * strcmp; neither reader lets a NUL into a name), so that "a" and
 * "\u0061" are one name to both.
 */
static int
same_name(const struct mj_key *a, const struct mj_key *b, const char *end)
{
	struct cursor ca = { .p = a->raw + 1, .end = end };
	struct cursor cb = { .p = b->raw + 1, .end = end };
	int x;

	if (a->len != b->len)
		return 0;
	/* Escapes only shrink a name: no escape iff two bytes of quotes. */
	if (a->rawlen == a->len + 2 && b->rawlen == b->len + 2)
		return memcmp(a->raw + 1, b->raw + 1, a->len) == 0;
	do {
		if ((x = next_byte(&ca)) != next_byte(&cb))
			return 0;
	} while (x != -1);
	return 1;
}

static int
digits(struct mj *m)
{
	const char *start = m->p;

	while (m->p < m->end && *m->p >= '0' && *m->p <= '9')
		m->p++;
	return m->p > start ? 0 : -1;
}

/* §6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number(struct mj *m)
{
	if (m->p < m->end && *m->p == '-')
		m->p++;
	if (m->p < m->end && *m->p == '0')
		m->p++;
	else if (digits(m) != 0)
		return -1;
	if (m->p < m->end && *m->p == '.') {
		m->p++;
		if (digits(m) != 0)
			return -1;
	}
	if (m->p < m->end && (*m->p == 'e' || *m->p == 'E')) {
		m->p++;
		if (m->p < m->end && (*m->p == '+' || *m->p == '-'))
			m->p++;
		if (digits(m) != 0)
			return -1;
	}
	return 0;
}

static int
literal(struct mj *m, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(m->end - m->p) < n || memcmp(m->p, word, n) != 0)
		return -1;
	m->p += n;
	return 0;
}

static int value(struct mj *m, int depth, uint32_t want, int level);

static int
array(struct mj *m, int depth)
{
	m->p++;
	skip_ws(m);
	if (m->p < m->end && *m->p == ']') {
		m->p++;
		return 0;
	}
	for (;;) {
		if (value(m, depth, 0, 0) != 0)
			return -1;
		skip_ws(m);
		if (m->p >= m->end)
			return -1;
		if (*m->p == ']') {
			m->p++;
			return 0;
		}
		if (*m->p++ != ',')
			return -1;
	}
}

/*
 * An object at `level` keys down the paths of the fields in `want`:
 * a member whose key is the next key of such a path is either the field
 * itself (noted) or the object to descend into.
 */
static int
object(struct mj *m, int depth, uint32_t want, int level)
{
	char key[64];
	size_t klen, i, base = m->nkeys;

	m->p++;
	skip_ws(m);
	if (m->p < m->end && *m->p == '}') {
		m->p++;
		return 0;
	}
	for (;;) {
		uint32_t deeper = 0, here = 0;
		const char *start;
		struct mj_key *name;

		skip_ws(m);
		start = m->p;
		if (string(&m->p, m->end, key, sizeof(key), &klen) != 0)
			return -1;
		/* Any name given twice in one object, wanted or not, as the
		 * full program's reader refuses it; past the bound, doubt. */
		if (m->nkeys == KMFA_MINIJSON_KEYS)
			return -1;
		name = &m->key[m->nkeys];
		name->raw = start;
		name->rawlen = (size_t)(m->p - start);
		name->len = klen;
		for (i = base; i < m->nkeys; i++)
			if (same_name(&m->key[i], name, m->end))
				return -1;
		m->nkeys++;
		skip_ws(m);
		if (m->p >= m->end || *m->p++ != ':')
			return -1;
		for (i = 0; i < m->nf && klen < sizeof(key); i++) {
			const char *k;

			/* Only a wanted field's path is this deep. */
			if (!(want & (1u << i)))
				continue;
			k = m->f[i].path[level];
			if (strlen(k) != klen || memcmp(k, key, klen) != 0)
				continue;
			if (m->seen[i] & (1u << level))
				return -1;	/* repeated on the path */
			m->seen[i] |= 1u << level;
			if (m->f[i].path[level + 1] == NULL)
				here |= 1u << i;
			else
				deeper |= 1u << i;
		}
		skip_ws(m);
		start = m->p;
		if (value(m, depth, deeper, level + 1) != 0)
			return -1;
		for (i = 0; i < m->nf; i++) {
			if (!(here & (1u << i)))
				continue;
			m->f[i].raw = start;
			m->f[i].rawlen = (size_t)(m->p - start);
		}
		skip_ws(m);
		if (m->p >= m->end)
			return -1;
		if (*m->p == '}') {
			m->p++;
			m->nkeys = base;	/* closed: its names are done */
			return 0;
		}
		if (*m->p++ != ',')
			return -1;
	}
}

static int
value(struct mj *m, int depth, uint32_t want, int level)
{
	size_t n;

	skip_ws(m);
	if (m->p >= m->end)
		return -1;
	/* A path that continues must run through objects only. */
	if (want != 0 && *m->p != '{')
		return -1;
	switch (*m->p) {
	case '{':
		if (depth >= KMFA_MINIJSON_DEPTH)
			return -1;
		return object(m, depth + 1, want, level);
	case '[':
		if (depth >= KMFA_MINIJSON_DEPTH)
			return -1;
		return array(m, depth + 1);
	case '"':
		return string(&m->p, m->end, NULL, 0, &n);
	case 't':
		return literal(m, "true");
	case 'f':
		return literal(m, "false");
	case 'n':
		return literal(m, "null");
	default:
		return number(m);
	}
}

static enum kmfa_minijson_type
type_of(const char *raw)
{
	switch (raw[0]) {
	case '"': return KMFA_MINIJSON_STRING;
	case 't': return KMFA_MINIJSON_TRUE;
	case 'f': return KMFA_MINIJSON_FALSE;
	case 'n': return KMFA_MINIJSON_NULL;
	case '{': return KMFA_MINIJSON_OBJECT;
	case '[': return KMFA_MINIJSON_ARRAY;
	default: return KMFA_MINIJSON_NUMBER;
	}
}

int
kmfa_minijson_scan(const char *doc, size_t len, struct kmfa_minijson_field *f,
    size_t nf)
{
	struct mj m;	/* not zeroed whole: key[] is written before read */
	uint32_t want = 0;
	size_t i;

	if (doc == NULL || nf > KMFA_MINIJSON_FIELDS)
		return -1;
	m.f = f;
	m.nf = nf;
	m.nkeys = 0;
	memset(m.seen, 0, sizeof(m.seen));
	m.p = doc;
	m.end = doc + len;
	for (i = 0; i < nf; i++) {
		if (f[i].path[0] == NULL || f[i].path[KMFA_MINIJSON_PATH] != NULL)
			return -1;
		f[i].type = KMFA_MINIJSON_ABSENT;
		f[i].raw = NULL;
		f[i].rawlen = 0;
		want |= 1u << i;
	}
	skip_ws(&m);
	if (m.p >= m.end || *m.p != '{' || value(&m, 0, want, 0) != 0)
		return -1;
	skip_ws(&m);
	if (m.p != m.end)
		return -1;
	for (i = 0; i < nf; i++)
		if (f[i].raw != NULL)
			f[i].type = type_of(f[i].raw);
	return 0;
}

int
kmfa_minijson_string_buf(const struct kmfa_minijson_field *f, char *buf,
    size_t cap, size_t *outlen)
{
	const char *p = f->raw;
	size_t n;

	if (f->type != KMFA_MINIJSON_STRING || cap == 0 ||
	    string(&p, f->raw + f->rawlen, buf, cap - 1, &n) != 0 || n >= cap)
		return -1;
	buf[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return 0;
}

int
kmfa_minijson_string(const struct kmfa_minijson_field *f, char **out)
{
	const char *p = f->raw;
	char *s;
	size_t n;

	*out = NULL;
	if (f->type != KMFA_MINIJSON_STRING ||
	    string(&p, f->raw + f->rawlen, NULL, 0, &n) != 0 ||
	    (s = malloc(n + 1)) == NULL)
		return -1;
	if (kmfa_minijson_string_buf(f, s, n + 1, NULL) != 0) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
kmfa_minijson_int(const struct kmfa_minijson_field *f, int64_t *out)
{
	const char *p, *end;
	uint64_t v = 0, limit = (uint64_t)INT64_MAX;
	int neg = 0;

	/* An absent field has no text: raw is NULL, and NULL + 0 is
	 * undefined, so the span is taken only once there is one. */
	if (f->type != KMFA_MINIJSON_NUMBER)
		return -1;
	p = f->raw;
	end = f->raw + f->rawlen;
	if (p < end && *p == '-') {
		neg = 1;
		limit++;	/* |INT64_MIN| */
		p++;
	}
	if (p == end)
		return -1;
	for (; p < end; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return -1;	/* a fraction or an exponent */
		d = (unsigned)(*p - '0');
		if (v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int
kmfa_minijson_bool(const struct kmfa_minijson_field *f, int *out)
{
	if (f->type == KMFA_MINIJSON_TRUE)
		*out = 1;
	else if (f->type == KMFA_MINIJSON_FALSE)
		*out = 0;
	else
		return -1;
	return 0;
}

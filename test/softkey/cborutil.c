/*
 * CBOR helpers: lenient reading, canonical writing.  See cborutil.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cborutil.h"

static bool
item_int(const cbor_item_t *it, int64_t *v)
{
	uint64_t u;

	if (it == NULL)
		return false;
	if (cbor_isa_uint(it)) {
		u = cbor_get_int(it);
		if (u > INT64_MAX)
			return false;
		*v = (int64_t)u;
		return true;
	}
	if (cbor_isa_negint(it)) {
		u = cbor_get_int(it);	/* the value is -1 - u */
		if (u > INT64_MAX)
			return false;
		*v = -1 - (int64_t)u;
		return true;
	}
	return false;
}

cbor_item_t *
cb_get_int(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *pairs;
	size_t n;
	int64_t k;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++)
		if (item_int(pairs[i].key, &k) && k == key)
			return pairs[i].value;
	return NULL;
}

cbor_item_t *
cb_get_str(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *pairs;
	size_t n;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++)
		if (cb_text_eq(pairs[i].key, key))
			return pairs[i].value;
	return NULL;
}

bool
cb_read_bytes(const cbor_item_t *it, const uint8_t **p, size_t *len)
{
	if (it == NULL || !cbor_isa_bytestring(it) ||
	    !cbor_bytestring_is_definite(it))
		return false;
	*p = cbor_bytestring_handle(it);
	*len = cbor_bytestring_length(it);
	if (*p == NULL)		/* libcbor has no storage for b'' */
		*p = (const uint8_t *)"";
	return true;
}

bool
cb_read_int(const cbor_item_t *it, int64_t *v)
{
	return item_int(it, v);
}

bool
cb_read_bool(const cbor_item_t *it, bool *v)
{
	/* libcbor asserts on cbor_is_bool of a float: check the width first
	 * (found by fuzzing). */
	if (it == NULL || !cbor_isa_float_ctrl(it) ||
	    cbor_float_get_width(it) != CBOR_FLOAT_0 || !cbor_is_bool(it))
		return false;
	*v = cbor_get_bool(it);
	return true;
}

bool
cb_text_eq(const cbor_item_t *it, const char *s)
{
	size_t n = strlen(s);

	return it != NULL && cbor_isa_string(it) &&
	    cbor_string_is_definite(it) && cbor_string_length(it) == n &&
	    (n == 0 || memcmp(cbor_string_handle(it), s, n) == 0);
}

bool
cb_read_text(const cbor_item_t *it, char *out, size_t cap)
{
	size_t n;

	if (it == NULL || !cbor_isa_string(it) || !cbor_string_is_definite(it))
		return false;
	n = cbor_string_length(it);
	if (n >= cap || memchr(cbor_string_handle(it), '\0', n) != NULL)
		return false;
	if (n > 0)
		memcpy(out, cbor_string_handle(it), n);
	out[n] = '\0';
	return true;
}

/*
 * Integers in the shortest form: canonical CBOR requires it, and libfido2
 * compares key widths when it checks the key order.
 */
cbor_item_t *
cb_int(int64_t v)
{
	uint64_t u = v >= 0 ? (uint64_t)v : (uint64_t)(-1 - v);
	cbor_item_t *it;

	if (u <= UINT8_MAX)
		it = v >= 0 ? cbor_build_uint8((uint8_t)u) :
		    cbor_build_negint8((uint8_t)u);
	else if (u <= UINT16_MAX)
		it = v >= 0 ? cbor_build_uint16((uint16_t)u) :
		    cbor_build_negint16((uint16_t)u);
	else if (u <= UINT32_MAX)
		it = v >= 0 ? cbor_build_uint32((uint32_t)u) :
		    cbor_build_negint32((uint32_t)u);
	else
		it = v >= 0 ? cbor_build_uint64(u) : cbor_build_negint64(u);
	return it;
}

cbor_item_t *
cb_bytes(const uint8_t *p, size_t len)
{
	return cbor_build_bytestring(p, len);
}

cbor_item_t *
cb_text(const char *s)
{
	return cbor_build_string(s);
}

cbor_item_t *
cb_bool(bool v)
{
	return cbor_build_bool(v);
}

int
cb_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	int r = -1;

	if (map == NULL || key == NULL || value == NULL)
		goto out;
	if (!cbor_map_add(map, (struct cbor_pair){ .key = key,
	    .value = value }))
		goto out;
	r = 0;
out:
	/* the map took its own references */
	if (key != NULL)
		cbor_decref(&key);
	if (value != NULL)
		cbor_decref(&value);
	return r;
}

cbor_item_t *
cb_take(cbor_item_t **p)
{
	cbor_item_t *it = *p;

	*p = NULL;
	return it;
}

int
cb_push(cbor_item_t *array, cbor_item_t *item)
{
	int r = -1;

	if (array != NULL && item != NULL && cbor_array_push(array, item))
		r = 0;
	if (item != NULL)
		cbor_decref(&item);
	return r;
}

/*
 * CTAP2 canonical order for the keys CTAP uses: unsigned integers, then
 * negative integers, then text strings; integers by value, strings by
 * length and then bytewise.  This equals RFC 7049 §3.9 ordering for every
 * map CTAP defines, and it is the check libfido2's cbor_map_iter applies.
 */
static int
key_rank(const cbor_item_t *k)
{
	switch (cbor_typeof(k)) {
	case CBOR_TYPE_UINT:
		return 0;
	case CBOR_TYPE_NEGINT:
		return 1;
	case CBOR_TYPE_BYTESTRING:
		return 2;
	case CBOR_TYPE_STRING:
		return 3;
	default:
		return 4;
	}
}

static int
key_cmp(const void *a, const void *b)
{
	const cbor_item_t *ka = ((const struct cbor_pair *)a)->key;
	const cbor_item_t *kb = ((const struct cbor_pair *)b)->key;
	int ra = key_rank(ka), rb = key_rank(kb);
	size_t la, lb;
	int c;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (ra) {
	case 0:
	case 1:
		/* for negatives the stored value is -1 - v: same order */
		if (cbor_get_int(ka) != cbor_get_int(kb))
			return cbor_get_int(ka) < cbor_get_int(kb) ? -1 : 1;
		return 0;
	case 2:
	case 3:
		la = ra == 2 ? cbor_bytestring_length(ka) :
		    cbor_string_length(ka);
		lb = ra == 2 ? cbor_bytestring_length(kb) :
		    cbor_string_length(kb);
		if (la != lb)
			return la < lb ? -1 : 1;
		if (la == 0)
			return 0;
		c = memcmp(ra == 2 ? cbor_bytestring_handle(ka) :
		    cbor_string_handle(ka), ra == 2 ?
		    cbor_bytestring_handle(kb) : cbor_string_handle(kb), la);
		return c;
	default:
		return 0;
	}
}

static void
canonicalise(cbor_item_t *it)
{
	struct cbor_pair *pairs;
	cbor_item_t **items;
	size_t n;

	switch (cbor_typeof(it)) {
	case CBOR_TYPE_MAP:
		pairs = cbor_map_handle(it);
		n = cbor_map_size(it);
		for (size_t i = 0; i < n; i++)
			canonicalise(pairs[i].value);
		if (n > 1)
			qsort(pairs, n, sizeof(*pairs), key_cmp);
		break;
	case CBOR_TYPE_ARRAY:
		items = cbor_array_handle(it);
		n = cbor_array_size(it);
		for (size_t i = 0; i < n; i++)
			canonicalise(items[i]);
		break;
	case CBOR_TYPE_TAG:
		canonicalise(cbor_tag_item(it));
		break;
	default:
		break;
	}
}

int
cb_encode(cbor_item_t *item, uint8_t **out, size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0, n;

	if (item == NULL)
		return -1;
	canonicalise(item);
	if ((n = cbor_serialize_alloc(item, &buf, &cap)) == 0)
		return -1;
	*out = buf;
	*len = n;
	return 0;
}

cbor_item_t *
cb_cose_p256(const uint8_t x[32], const uint8_t y[32], int64_t alg)
{
	cbor_item_t *map = cbor_new_definite_map(5);

	/* kty EC2 (2), alg, crv P-256 (1), x, y: RFC 8152 §13.1.1 */
	if (cb_put(map, cb_int(1), cb_int(2)) < 0 ||
	    cb_put(map, cb_int(3), cb_int(alg)) < 0 ||
	    cb_put(map, cb_int(-1), cb_int(1)) < 0 ||
	    cb_put(map, cb_int(-2), cb_bytes(x, 32)) < 0 ||
	    cb_put(map, cb_int(-3), cb_bytes(y, 32)) < 0) {
		if (map != NULL)
			cbor_decref(&map);
		return NULL;
	}
	return map;
}

bool
cb_read_cose_p256(const cbor_item_t *key, uint8_t x[32], uint8_t y[32])
{
	const uint8_t *px, *py;
	size_t lx, ly;
	int64_t kty, crv;

	/* alg is not checked: platforms send -25 (ECDH-ES+HKDF-256) or -7 */
	if (!cb_read_int(cb_get_int(key, 1), &kty) || kty != 2 ||
	    !cb_read_int(cb_get_int(key, -1), &crv) || crv != 1 ||
	    !cb_read_bytes(cb_get_int(key, -2), &px, &lx) || lx != 32 ||
	    !cb_read_bytes(cb_get_int(key, -3), &py, &ly) || ly != 32)
		return false;
	memcpy(x, px, 32);
	memcpy(y, py, 32);
	return true;
}

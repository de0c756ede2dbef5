/*
 * lib/base/util.c: secrets are wiped before their memory goes back to the
 * allocator (kmfa_freezero, kmfa_freezero_str, kmfa_buf_wipe, and the old
 * block when a kmfa_buf grows).
 *
 * Reading a block after free() is undefined behaviour (and ASan stops it),
 * so the test looks at the block at the last moment it is still ours: this
 * binary defines free(), which the static libkmfa.a and every shared
 * library then call (the executable comes first in symbol lookup).  The
 * wrapper inspects one watched block, then hands every pointer to the next
 * free() in lookup order: libasan's under `make check`, libc's otherwise.
 * It is resolved in a constructor, before any test runs; a free() that
 * arrives while dlsym() itself runs is leaked rather than recursed into.
 * Under valgrind, memcheck redirects the executable's free() to its own, so
 * nothing can be observed: the group setup finds that out with a probe and
 * the cases skip, saying why (valgrind reports reads of freed memory in
 * its own right); test/run counts and names the skipped cases.  Anywhere
 * else a free() the probe cannot see means the instrument is broken, and
 * every case passing unobserved would prove nothing: the setup fails.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/util.h"

static void (*next_free)(void *);

/* The watched block; volatile because free() is declared leaf. */
static const void *volatile watch_p;
static volatile size_t watch_n;
static volatile int watch_seen;	/* how many times it reached free() */
static volatile int watch_clean; /* every byte zero at that moment */

__attribute__((constructor)) static void
resolve_free(void)
{
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
}

void
free(void *p)
{
	if (p != NULL && p == watch_p) {
		const volatile unsigned char *b = p;
		int clean = 1;

		for (size_t i = 0; i < watch_n; i++)
			if (b[i] != 0)
				clean = 0;
		watch_clean = clean;
		watch_seen++;
		watch_p = NULL;
	}
	if (next_free != NULL)
		next_free(p);
}

static void
watch(const void *p, size_t n)
{
	watch_seen = 0;
	watch_clean = 0;
	watch_n = n;
	watch_p = p;
}

static int observable;

/*
 * valgrind's preloaded core library is mapped into every process it runs
 * (vgpreload_core-*.so, through LD_PRELOAD).
 */
static int
under_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");

	return pre != NULL && strstr(pre, "vgpreload") != NULL;
}

/* Does a free() of a watched block reach our wrapper at all? */
static int
setup(void **state)
{
	void *p;

	(void)state;
	if (next_free == NULL || (p = calloc(1, 16)) == NULL)
		return -1;
	watch(p, 16);
	free(p);
	observable = watch_seen == 1;
	watch(NULL, 0);
	if (observable)
		return 0;
	if (!under_valgrind()) {
		print_message("free() does not reach the test's wrapper, and "
		    "this is not valgrind: the wipes cannot be checked\n");
		return -1;
	}
	print_message("free() is replaced by valgrind: wipes cannot be "
	    "observed in this process; every case skips\n");
	return 0;
}

#define NEED_OBSERVABLE() do { if (!observable) skip(); } while (0)

/*
 * Fill through a volatile pointer: the compiler may drop a plain memset()
 * into a block that is freed next (a dead store), which is the very reason
 * the library wipes with explicit_bzero().
 */
static void
fill(void *p, int c, size_t n)
{
	volatile unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)c;
}

/* The instrument itself: a block freed without a wipe is seen dirty. */
static void
test_watcher_sees_an_unwiped_block(void **state)
{
	unsigned char *p;

	(void)state;
	NEED_OBSERVABLE();
	p = malloc(48);
	assert_non_null(p);
	fill(p, 0xa5, 48);
	watch(p, 48);
	free(p);
	assert_int_equal(watch_seen, 1);
	assert_false(watch_clean);
}

static void
test_freezero_wipes_every_byte_before_free(void **state)
{
	unsigned char *p;

	(void)state;
	NEED_OBSERVABLE();
	p = malloc(97);
	assert_non_null(p);
	fill(p, 0xa5, 97);
	watch(p, 97);
	kmfa_freezero(p, 97);
	assert_int_equal(watch_seen, 1);
	assert_true(watch_clean);
}

static void
test_freezero_str_wipes_the_string_and_its_nul(void **state)
{
	char *s;
	size_t n;

	(void)state;
	NEED_OBSERVABLE();
	s = strdup("refresh-token-canary-0123456789");
	assert_non_null(s);
	n = strlen(s) + 1;
	watch(s, n);
	kmfa_freezero_str(s);
	assert_int_equal(watch_seen, 1);
	assert_true(watch_clean);
}

static void
test_freezero_null_is_harmless(void **state)
{
	(void)state;
	NEED_OBSERVABLE();
	watch(NULL, 0);
	kmfa_freezero(NULL, 32);
	kmfa_freezero_str(NULL);
	assert_int_equal(watch_seen, 0);
}

/* The whole capacity, not only len: slack may once have held more. */
static void
test_buf_wipe_wipes_the_whole_capacity(void **state)
{
	struct kmfa_buf b = { 0 };
	static const char secret[] = "id-token-canary.payload.signature";

	(void)state;
	NEED_OBSERVABLE();
	assert_int_equal(kmfa_buf_append(&b, secret, sizeof(secret) - 1), 0);
	assert_true(b.cap > b.len);
	fill(b.data + b.len + 1, 0x5a, b.cap - b.len - 1);
	watch(b.data, b.cap);
	kmfa_buf_wipe(&b);
	assert_int_equal(watch_seen, 1);
	assert_true(watch_clean);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* reusable afterwards */
	assert_int_equal(kmfa_buf_append(&b, "x", 1), 0);
	assert_string_equal(b.data, "x");
	kmfa_buf_wipe(&b);
}

/* Growth copies to a new block and wipes the old one before freeing it. */
static void
test_buf_append_growth_wipes_the_old_block(void **state)
{
	struct kmfa_buf b = { 0 };
	char first[40], more[200], want[241];
	const void *old;
	size_t oldcap;

	(void)state;
	NEED_OBSERVABLE();
	memset(first, 'R', sizeof(first));
	memset(more, 'T', sizeof(more));
	assert_int_equal(kmfa_buf_append(&b, first, sizeof(first)), 0);
	old = b.data;
	oldcap = b.cap;
	assert_true(oldcap < sizeof(first) + sizeof(more) + 1);
	watch(old, oldcap);
	assert_int_equal(kmfa_buf_append(&b, more, sizeof(more)), 0);
	assert_int_equal(watch_seen, 1);
	assert_true(watch_clean);
	assert_ptr_not_equal(b.data, old);
	memcpy(want, first, sizeof(first));
	memcpy(want + sizeof(first), more, sizeof(more));
	want[sizeof(want) - 1] = '\0';
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_string_equal(b.data, want);
	kmfa_buf_wipe(&b);
}

static void
test_buf_printf_growth_wipes_the_old_block(void **state)
{
	struct kmfa_buf b = { 0 };
	const void *old;
	size_t oldcap;

	(void)state;
	NEED_OBSERVABLE();
	assert_int_equal(kmfa_buf_printf(&b, "refresh=%s", "kmfa-canary"), 0);
	old = b.data;
	oldcap = b.cap;
	watch(old, oldcap);
	assert_int_equal(kmfa_buf_printf(&b, "&pad=%0200d", 7), 0);
	assert_int_equal(watch_seen, 1);
	assert_true(watch_clean);
	assert_int_equal(strncmp(b.data, "refresh=kmfa-canary&pad=000", 27), 0);
	assert_int_equal(b.len, strlen("refresh=kmfa-canary&pad=") + 200);
	kmfa_buf_wipe(&b);
}

static void
test_buf_json_string_growth_wipes_the_old_block(void **state)
{
	struct kmfa_buf b = { 0 };
	char s[300];
	const void *old;

	(void)state;
	NEED_OBSERVABLE();
	memset(s, 'P', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(kmfa_buf_append(&b, "{\"pin\":", 7), 0);
	old = b.data;
	watch(old, b.cap);
	assert_int_equal(kmfa_buf_json_string(&b, s), 0);
	assert_true(watch_seen >= 1);
	assert_true(watch_clean);
	assert_int_equal(b.len, 7 + 2 + sizeof(s) - 1);
	kmfa_buf_wipe(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watcher_sees_an_unwiped_block),
		cmocka_unit_test(test_freezero_wipes_every_byte_before_free),
		cmocka_unit_test(test_freezero_str_wipes_the_string_and_its_nul),
		cmocka_unit_test(test_freezero_null_is_harmless),
		cmocka_unit_test(test_buf_wipe_wipes_the_whole_capacity),
		cmocka_unit_test(test_buf_append_growth_wipes_the_old_block),
		cmocka_unit_test(test_buf_printf_growth_wipes_the_old_block),
		cmocka_unit_test(test_buf_json_string_growth_wipes_the_old_block),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/*
 * Keyring storage (lib/store/store.c over lib/store/keyring.c).  A Secret Service
 * cannot be faked honestly, so the keyring cases run against a real
 * gnome-keyring started by test/e2e/keyring.sh, which runs this binary with
 * KMFA_TEST_KEYRING naming the situation it set up:
 *
 *   present   an unlocked default collection
 *   locked    the same collection, locked
 *   stopped   gnome-keyring owns its name but is frozen by SIGSTOP
 *   absent    a session bus with no Secret Service on it
 *
 * Without the variable (test/run's plain unit pass) the cases that need no
 * bus run: `auto` falling back to disk, an explicit `keyring` failing fast,
 * a bus that never answers.  Keyring cases never run against a bus outside
 * KMFA_TEST_DIR: the user's own keyring is out of bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/json.h"
#include "base/report.h"
#include "base/util.h"
#include "store/keyring.h"
#include "store/store.h"
#include "token/cache.h"
#include "token/config.h"
#include "token/record.h"

#define KEY_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define KEY_B "bbbb000000000000000000000000000000000000000000000000000000000002"
#define KEY_C "cccc000000000000000000000000000000000000000000000000000000000003"
/* Left in the keyring for keyring.sh to inspect with secret-tool. */
#define KEY_SEED "5eed000000000000000000000000000000000000000000000000000000000000"
#define SEALED "kmfa-sealed-v1.AAAAbm90LWEtcmVhbC1lbnZlbG9wZQ"

/* Where a keyring call says why it needs the user (KMFA_ERR_LOCKED). */
static const char *kr_why;

static char tmp[256];		/* per process: cache and runtime folders */
static char cache_dir[300], run_dir[300];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct kmfa_record *
make_record(const char *token)
{
	struct kmfa_record *rec = kmfa_record_new();

	assert_non_null(rec);
	rec->identity = strdup("v1|https://idp.example|kubectl|openid");
	rec->issuer = strdup("https://idp.example");
	rec->client_id = strdup("kubectl");
	rec->subject = strdup("alice");
	rec->token = strdup(token);
	rec->token_exp = kmfa_now() + 3600;
	rec->obtained_at = kmfa_now();
	rec->touched_at = kmfa_now();
	rec->key_name = strdup("yubi");
	rec->refresh = strdup(SEALED);
	rec->refresh_sealed = 1;
	return rec;
}

static struct kmfa_store *
open_store(enum kmfa_storage kind, int want)
{
	struct kmfa_config cfg;
	struct kmfa_store *s = NULL;

	kmfa_config_init(&cfg);
	cfg.storage = kind;
	cfg.cache_dir = strdup(cache_dir);
	kmfa_report_clear();
	assert_int_equal(kmfa_store_open(&cfg, &s), want);
	kmfa_config_free(&cfg);
	return s;
}

static char *
mirror_path(const char *key)
{
	char *p = NULL;

	assert_true(kmfa_asprintf(&p, "%s/kubectl-mfa/%s.json", run_dir,
	    key) > 0);
	return p;
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
setup(void **state)
{
	const char *base = getenv("KMFA_TEST_DIR");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	(void)state;

	kmfa_json_init();
	snprintf(tmp, sizeof(tmp), "%s/store-XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", tmp);
	/*
	 * With a keyring, the runtime folder is the script's, shared by the
	 * runs of this binary: the locked run finds the seeded mirror.
	 */
	if (getenv("KMFA_TEST_KEYRING") != NULL && rt != NULL) {
		snprintf(run_dir, sizeof(run_dir), "%s", rt);
		return 0;
	}
	snprintf(run_dir, sizeof(run_dir), "%s/run", tmp);
	if (mkdir(run_dir, 0700) != 0)
		return -1;
	setenv("XDG_RUNTIME_DIR", run_dir, 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- no keyring needed ---- */

static void
test_auto_without_session_bus_uses_disk(void **state)
{
	struct kmfa_store *s;
	int64_t t0 = now_ms();
	(void)state;

	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	assert_true(now_ms() - t0 < 200);
	assert_string_equal(kmfa_store_kind(s), "disk");
	assert_non_null(strstr(kmfa_store_reason(s), "no session bus"));
	/* auto falls back silently: no failure cause left behind */
	assert_null(kmfa_report_cause());
	kmfa_store_free(&s);
}

static void
test_explicit_keyring_without_bus_is_config_error(void **state)
{
	int64_t t0 = now_ms();
	(void)state;

	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	open_store(KMFA_STORAGE_KEYRING, KMFA_ERR_CONFIG);
	assert_true(now_ms() - t0 < 2000);
	assert_non_null(kmfa_report_cause());
	assert_non_null(strstr(kmfa_report_cause(),
	    "--token-cache-storage keyring: no session bus"));
}

static void
test_auto_with_dead_bus_address_uses_disk(void **state)
{
	struct kmfa_store *s;
	char addr[400];
	int64_t t0 = now_ms();
	(void)state;

	snprintf(addr, sizeof(addr), "unix:path=%s/no-such-bus", tmp);
	setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
	s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	assert_true(now_ms() - t0 < 1500);
	assert_string_equal(kmfa_store_kind(s), "disk");
	assert_non_null(strstr(kmfa_store_reason(s),
	    "cannot connect to the session bus"));
	kmfa_store_free(&s);
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
}

/*
 * A socket that accepts connections (the kernel's backlog does) and never
 * says a word: the D-Bus handshake would wait forever without the
 * watchdog.
 */
static void
test_probe_gives_up_on_a_silent_bus(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *why = NULL;
	char addr[400];
	int fd, r;
	int64_t t0;
	(void)state;

	/* sun_path is short: a name relative to a short folder */
	assert_true(strlen(tmp) + 8 < sizeof(sa.sun_path));
	memcpy(sa.sun_path, tmp, strlen(tmp));
	memcpy(sa.sun_path + strlen(tmp), "/silent", 8);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	snprintf(addr, sizeof(addr), "unix:path=%s", sa.sun_path);
	setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
	t0 = now_ms();
	r = kmfa_keyring_probe(300, &why);
	assert_int_equal(r, KMFA_ERR_NOTFOUND);
	assert_true(now_ms() - t0 < 1300);
	assert_non_null(strstr(why, "did not answer in time"));
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	close(fd);
}

static void
test_disk_round_trip_unchanged(void **state)
{
	struct kmfa_store *s;
	struct kmfa_record *rec = make_record("disk-token"), *got = NULL;
	char *path;
	(void)state;

	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	assert_int_equal(kmfa_store_save(s, KEY_A, rec), KMFA_OK);
	assert_int_equal(kmfa_store_load(s, KEY_A, &got), KMFA_OK);
	assert_string_equal(got->token, "disk-token");
	assert_string_equal(got->refresh, SEALED);
	path = kmfa_cache_path(cache_dir, KEY_A, ".json");
	assert_true(exists(path));
	assert_int_equal(kmfa_store_remove(s, KEY_A), KMFA_OK);
	assert_false(exists(path));
	free(path);
	kmfa_record_free(&got);
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
}

/* ---- present: an unlocked private gnome-keyring ---- */

static void
test_auto_chooses_the_keyring(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	(void)state;

	assert_string_equal(kmfa_store_kind(s), "keyring");
	assert_non_null(strstr(kmfa_store_reason(s), "Secret Service"));
	kmfa_store_free(&s);
	s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	assert_string_equal(kmfa_store_kind(s), "keyring");
	kmfa_store_free(&s);
}

static void
test_keyring_round_trip(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("id-token-A"), *got = NULL;
	char *disk = kmfa_cache_path(cache_dir, KEY_A, ".json");
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_A, rec), KMFA_OK);
	assert_int_equal(kmfa_store_load(s, KEY_A, &got), KMFA_OK);
	assert_string_equal(got->token, "id-token-A");
	assert_string_equal(got->identity, rec->identity);
	assert_string_equal(got->refresh, SEALED);
	assert_true(got->refresh_sealed);
	assert_int_equal(got->token_exp, rec->token_exp);
	/* keyring storage writes no token file in the cache folder */
	assert_false(exists(disk));
	free(disk);
	kmfa_record_free(&got);
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
}

static void
test_item_holds_exactly_the_saved_record(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("id-token-A");
	char *want = NULL, *have = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_A, rec), KMFA_OK);
	assert_int_equal(kmfa_record_encode(rec, 1, &want), KMFA_OK);
	assert_int_equal(kmfa_keyring_load(KEY_A, &have, &len, &kr_why), KMFA_OK);
	assert_int_equal(len, strlen(want));
	assert_string_equal(have, want);
	/* the refresh token is stored as given: the sealed envelope */
	assert_non_null(strstr(have, SEALED));
	kmfa_freezero(have, len + 1);
	kmfa_freezero_str(want);
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
}

static void
test_mirror_is_private_and_has_no_refresh(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("id-token-A"), *got = NULL;
	char *path = mirror_path(KEY_A), *dir, *buf = NULL;
	size_t len = 0;
	struct stat st;
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_A, rec), KMFA_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(kmfa_asprintf(&dir, "%s/kubectl-mfa", run_dir) > 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(kmfa_file_read_private(path, KMFA_RECORD_MAX, &buf,
	    &len), KMFA_OK);
	assert_null(strstr(buf, "refresh"));
	assert_null(strstr(buf, SEALED));
	/* the front reads it with the same decoder */
	assert_int_equal(kmfa_cache_load(path, &got), KMFA_OK);
	assert_string_equal(got->token, "id-token-A");
	assert_null(got->refresh);
	kmfa_freezero(buf, len + 1);
	kmfa_record_free(&got);
	kmfa_record_free(&rec);
	free(dir);
	free(path);
	kmfa_store_free(&s);
}

static void
test_save_replaces_the_item(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *r1 = make_record("first"), *r2 = make_record("second");
	struct kmfa_record *got = NULL, *mirror = NULL;
	char **keys = NULL, *path = mirror_path(KEY_B);
	size_t n = 0, seen = 0;
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_B, r1), KMFA_OK);
	assert_int_equal(kmfa_store_save(s, KEY_B, r2), KMFA_OK);
	assert_int_equal(kmfa_store_load(s, KEY_B, &got), KMFA_OK);
	assert_string_equal(got->token, "second");
	assert_int_equal(kmfa_cache_load(path, &mirror), KMFA_OK);
	assert_string_equal(mirror->token, "second");
	assert_int_equal(kmfa_keyring_list(&keys, &n, &kr_why), KMFA_OK);
	for (size_t i = 0; i < n; i++)
		seen += strcmp(keys[i], KEY_B) == 0;
	assert_int_equal(seen, 1);
	kmfa_keyring_list_free(keys, n);
	kmfa_record_free(&got);
	kmfa_record_free(&mirror);
	kmfa_record_free(&r1);
	kmfa_record_free(&r2);
	free(path);
	kmfa_store_free(&s);
}

/* After a reboot the runtime folder is empty; the keyring is not. */
static void
test_load_rewrites_a_missing_mirror(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("id-token-A"), *got = NULL;
	char *path = mirror_path(KEY_A);
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_A, rec), KMFA_OK);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(kmfa_store_load(s, KEY_A, &got), KMFA_OK);
	kmfa_record_free(&got);
	assert_int_equal(kmfa_cache_load(path, &got), KMFA_OK);
	assert_string_equal(got->token, "id-token-A");
	kmfa_record_free(&got);
	kmfa_record_free(&rec);
	free(path);
	kmfa_store_free(&s);
}

/* A mirror whose item is gone (deleted in a keyring manager) is dropped. */
static void
test_load_drops_an_orphan_mirror(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("orphan"), *got = NULL;
	char *path = mirror_path(KEY_C);
	(void)state;

	assert_int_equal(kmfa_cache_save(path, rec, 0), KMFA_OK);
	assert_int_equal(kmfa_store_load(s, KEY_C, &got), KMFA_ERR_NOTFOUND);
	assert_null(got);
	assert_false(exists(path));
	kmfa_record_free(&rec);
	free(path);
	kmfa_store_free(&s);
}

/* Damaged like a damaged file: a miss the flow warns about, not exit 2. */
static void
test_damaged_item_is_damaged(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *got = NULL;
	(void)state;

	assert_int_equal(kmfa_keyring_save(KEY_C, "kubectl-mfa: damaged",
	    "{\"not\": \"a record\"}", &kr_why), KMFA_OK);
	assert_int_equal(kmfa_store_load(s, KEY_C, &got), KMFA_ERR_DAMAGED);
	assert_null(got);
	assert_non_null(strstr(kmfa_report_cause(), "is damaged"));
	assert_int_equal(kmfa_store_remove(s, KEY_C), KMFA_OK);
	kmfa_store_free(&s);
}

static void
test_list_finds_every_item(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("t");
	const char *want[] = { KEY_A, KEY_B, KEY_C };
	char **keys = NULL;
	size_t n = 0;
	(void)state;

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(kmfa_store_save(s, want[i], rec), KMFA_OK);
	assert_int_equal(kmfa_store_list(s, &keys, &n), KMFA_OK);
	for (size_t i = 0; i < 3; i++) {
		int found = 0;
		for (size_t j = 0; j < n; j++)
			found |= strcmp(keys[j], want[i]) == 0;
		assert_true(found);
	}
	kmfa_store_list_free(keys, n);
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
}

static void
test_remove_drops_item_and_mirror(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("t"), *got = NULL;
	const char *keys[] = { KEY_A, KEY_B, KEY_C };
	char **left = NULL, *json = NULL;
	size_t n = 0, len = 0;
	(void)state;

	for (size_t i = 0; i < 3; i++) {
		char *path = mirror_path(keys[i]);

		assert_int_equal(kmfa_store_save(s, keys[i], rec), KMFA_OK);
		assert_true(exists(path));
		assert_int_equal(kmfa_store_remove(s, keys[i]), KMFA_OK);
		assert_false(exists(path));
		assert_int_equal(kmfa_keyring_load(keys[i], &json, &len, &kr_why),
		    KMFA_ERR_NOTFOUND);
		assert_int_equal(kmfa_store_load(s, keys[i], &got),
		    KMFA_ERR_NOTFOUND);
		/* a second logout finds nothing and is fine */
		assert_int_equal(kmfa_store_remove(s, keys[i]), KMFA_OK);
		free(path);
	}
	assert_int_equal(kmfa_store_list(s, &left, &n), KMFA_OK);
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < 3; i++)
			assert_string_not_equal(left[j], keys[i]);
	kmfa_store_list_free(left, n);
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
}

static void
test_no_runtime_dir_means_no_mirror(void **state)
{
	struct kmfa_store *s;
	struct kmfa_record *rec = make_record("t"), *got = NULL;
	char *path = mirror_path(KEY_A);
	(void)state;

	unsetenv("XDG_RUNTIME_DIR");
	s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	assert_int_equal(kmfa_store_save(s, KEY_A, rec), KMFA_OK);
	assert_false(exists(path));
	assert_int_equal(kmfa_store_load(s, KEY_A, &got), KMFA_OK);
	assert_false(exists(path));
	assert_int_equal(kmfa_store_remove(s, KEY_A), KMFA_OK);
	setenv("XDG_RUNTIME_DIR", run_dir, 1);
	kmfa_record_free(&got);
	kmfa_record_free(&rec);
	free(path);
	kmfa_store_free(&s);
}

/* Stays behind: keyring.sh checks it with secret-tool, then locks. */
static void
test_seed_item_for_the_shell(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("seed-token");
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_SEED, rec), KMFA_OK);
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
}

/* ---- locked: the seeded item's collection is locked ---- */

/* auto wants a keyring that works without a prompt; a locked one doesn't. */
static void
test_auto_with_locked_keyring_uses_disk(void **state)
{
	struct kmfa_store *s;
	const char *why = NULL;
	int64_t t0 = now_ms();
	(void)state;

	assert_int_equal(kmfa_keyring_probe(1000, &why), KMFA_ERR_LOCKED);
	assert_string_equal(why, "the keyring's default collection is locked");
	s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	assert_true(now_ms() - t0 < 2000);
	assert_string_equal(kmfa_store_kind(s), "disk");
	assert_string_equal(kmfa_store_reason(s),
	    "the keyring's default collection is locked");
	assert_null(kmfa_report_cause());
	kmfa_store_free(&s);
}

static void
test_locked_load_is_a_quick_miss(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *got = NULL;
	char *json = NULL;
	size_t len = 0;
	int64_t t0 = now_ms();
	(void)state;

	assert_string_equal(kmfa_store_kind(s), "keyring");
	assert_int_equal(kmfa_keyring_load(KEY_SEED, &json, &len, &kr_why),
	    KMFA_ERR_LOCKED);
	assert_null(json);
	/* a miss, with one warning line on stderr (keyring.sh greps it) */
	assert_int_equal(kmfa_store_load(s, KEY_SEED, &got), KMFA_ERR_NOTFOUND);
	assert_null(got);
	assert_null(kmfa_report_cause());
	assert_true(now_ms() - t0 < 5000);
	kmfa_store_free(&s);
}

static void
test_locked_save_fails_without_prompt(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *rec = make_record("t");
	char *path = mirror_path(KEY_A);
	int64_t t0 = now_ms();
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_A, rec), KMFA_ERR_IO);
	assert_true(now_ms() - t0 < 5000);
	assert_non_null(strstr(kmfa_report_cause(), "keyring is locked"));
	assert_false(exists(path));
	kmfa_record_free(&rec);
	free(path);
	kmfa_store_free(&s);
}

static void
test_locked_remove_keeps_item_drops_mirror(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	char *path = mirror_path(KEY_SEED);
	int64_t t0 = now_ms();
	(void)state;

	assert_true(exists(path));	/* written by the seed case */
	assert_int_equal(kmfa_store_remove(s, KEY_SEED), KMFA_ERR_IO);
	assert_true(now_ms() - t0 < 5000);
	assert_non_null(strstr(kmfa_report_cause(), "keyring is locked"));
	assert_false(exists(path));
	free(path);
	kmfa_store_free(&s);
}

/*
 * A locked collection is not searched at all (KeePassXC answers that with
 * an unlock window): nothing is listed, and the store says why.
 */
static void
test_locked_list_lists_nothing_and_says_locked(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	char **keys = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(kmfa_keyring_list(&keys, &n, &kr_why),
	    KMFA_ERR_LOCKED);
	assert_string_equal(kr_why, "the keyring is locked");
	assert_int_equal(kmfa_store_list(s, &keys, &n), KMFA_OK);
	assert_int_equal(n, 0);
	assert_string_equal(kmfa_store_locked(s), "the keyring is locked");
	kmfa_store_list_free(keys, n);
	kmfa_store_free(&s);
}

/* auto passed over the locked keyring: a logout cannot claim it is clean. */
static void
test_locked_auto_remove_names_the_keyring(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	struct kmfa_record *rec = make_record("disk-token");
	char *path = kmfa_cache_path(cache_dir, KEY_SEED, ".json");
	(void)state;

	assert_string_equal(kmfa_store_kind(s), "disk");
	assert_string_equal(kmfa_store_locked(s), "the keyring is locked");
	assert_int_equal(kmfa_store_save(s, KEY_SEED, rec), KMFA_OK);
	assert_int_equal(kmfa_store_remove(s, KEY_SEED), KMFA_ERR_IO);
	assert_non_null(strstr(kmfa_report_cause(), "the keyring is locked, "
	    "so a token it may hold for this entry was not removed"));
	/* what could be removed went */
	assert_false(exists(path));
	free(path);
	kmfa_record_free(&rec);
	kmfa_store_free(&s);
}

/*
 * ---- settings: KeePassXC with one of its confirmations on ----
 * KMFA_TEST_CONFIRM names which: "none", "access" (confirm each access)
 * or "delete" (confirm each delete); "settings" stores, "settings-later"
 * reads and removes in another process, as the next kubectl call would.  test/e2e/keyring_keepassxc_settings.sh
 * starts KeePassXC so and checks that no window was shown.
 */
static int
confirming(const char *what)
{
	const char *c = getenv("KMFA_TEST_CONFIRM");

	return c != NULL && strcmp(c, what) == 0;
}

static void
test_settings_store_twice_keeps_one_item(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *r1 = make_record("first"), *r2 = make_record("second");
	char **keys = NULL;
	size_t n = 0, seen = 0;
	(void)state;

	assert_int_equal(kmfa_store_save(s, KEY_B, r1), KMFA_OK);
	/* the second is an update in place: no replacement, no access window */
	assert_int_equal(kmfa_store_save(s, KEY_B, r2), KMFA_OK);
	assert_int_equal(kmfa_keyring_list(&keys, &n, &kr_why), KMFA_OK);
	for (size_t i = 0; i < n; i++)
		seen += strcmp(keys[i], KEY_B) == 0;
	assert_int_equal(seen, 1);
	kmfa_keyring_list_free(keys, n);
	kmfa_record_free(&r1);
	kmfa_record_free(&r2);
	kmfa_store_free(&s);
}

static void
test_settings_load(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	struct kmfa_record *got = NULL;
	(void)state;

	if (confirming("access")) {
		/* a miss with one line, the access window never asked for */
		assert_int_equal(kmfa_store_load(s, KEY_B, &got),
		    KMFA_ERR_NOTFOUND);
		assert_non_null(strstr(kmfa_store_locked(s),
		    "confirmation window to read"));
	} else {
		assert_int_equal(kmfa_store_load(s, KEY_B, &got), KMFA_OK);
		assert_string_equal(got->token, "second");
		kmfa_record_free(&got);
	}
	kmfa_store_free(&s);
}

/*
 * KeePassXC 2.7.4 answers Item.Delete with a prompt under every setting,
 * and completes it without a window even with "confirm delete" on (the
 * shell checks that no window was shown): the item goes.
 */
static void
test_settings_remove(void **state)
{
	struct kmfa_store *s = open_store(KMFA_STORAGE_KEYRING, KMFA_OK);
	char *json = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(kmfa_store_remove(s, KEY_B), KMFA_OK);
	assert_int_equal(kmfa_keyring_load(KEY_B, &json, &len, &kr_why),
	    KMFA_ERR_NOTFOUND);
	kmfa_store_free(&s);
}

/* ---- stopped: gnome-keyring owns the name but is frozen (SIGSTOP) ---- */

static void
test_auto_gives_up_on_a_frozen_secret_service(void **state)
{
	struct kmfa_store *s;
	int64_t t0 = now_ms();
	(void)state;

	s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	assert_true(now_ms() - t0 < 2000);
	assert_string_equal(kmfa_store_kind(s), "disk");
	assert_string_equal(kmfa_store_reason(s),
	    "the Secret Service did not answer in time");
	kmfa_store_free(&s);
}

static void
test_load_from_a_frozen_secret_service_is_bounded(void **state)
{
	char *json = NULL;
	size_t len = 0;
	int64_t t0 = now_ms(), took;
	(void)state;

	kmfa_report_clear();
	assert_int_equal(kmfa_keyring_load(KEY_SEED, &json, &len, &kr_why), KMFA_ERR_IO);
	took = now_ms() - t0;
	assert_true(took >= KMFA_KEYRING_CALL_MS - 100);
	assert_true(took < KMFA_KEYRING_CALL_MS + 1500);
	assert_null(json);
	assert_non_null(strstr(kmfa_report_cause(), "did not answer within"));
}

/* ---- absent: a bus, no Secret Service (activation is configured) ---- */

static void
test_auto_on_a_bus_without_secret_service_uses_disk(void **state)
{
	struct kmfa_store *s;
	int64_t t0 = now_ms();
	(void)state;

	s = open_store(KMFA_STORAGE_AUTO, KMFA_OK);
	assert_true(now_ms() - t0 < 1500);
	assert_string_equal(kmfa_store_kind(s), "disk");
	assert_string_equal(kmfa_store_reason(s),
	    "no Secret Service on the session bus");
	kmfa_store_free(&s);
}

static void
test_explicit_keyring_without_secret_service_fails_fast(void **state)
{
	char *json = NULL;
	size_t len = 0;
	int64_t t0 = now_ms();
	(void)state;

	open_store(KMFA_STORAGE_KEYRING, KMFA_ERR_CONFIG);
	assert_true(now_ms() - t0 < 2000);
	assert_non_null(strstr(kmfa_report_cause(),
	    "--token-cache-storage keyring: no Secret Service on the "
	    "session bus"));
	kmfa_report_clear();
	/* and a direct call does not activate one either (keyring.sh checks) */
	assert_int_equal(kmfa_keyring_load(KEY_A, &json, &len, &kr_why), KMFA_ERR_IO);
	assert_null(json);
}

/* The bus address must be a socket in KMFA_TEST_DIR, set by keyring.sh. */
static int
private_bus(void)
{
	const char *dir = getenv("KMFA_TEST_DIR");
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	char want[300];

	if (dir == NULL || addr == NULL)
		return 0;
	snprintf(want, sizeof(want), "unix:path=%s/", dir);
	return strncmp(addr, want, strlen(want)) == 0;
}

int
main(void)
{
	const char *mode = getenv("KMFA_TEST_KEYRING");
	const struct CMUnitTest nobus[] = {
		cmocka_unit_test(test_auto_without_session_bus_uses_disk),
		cmocka_unit_test(test_explicit_keyring_without_bus_is_config_error),
		cmocka_unit_test(test_auto_with_dead_bus_address_uses_disk),
		cmocka_unit_test(test_probe_gives_up_on_a_silent_bus),
		cmocka_unit_test(test_disk_round_trip_unchanged),
	};
	const struct CMUnitTest present[] = {
		cmocka_unit_test(test_auto_chooses_the_keyring),
		cmocka_unit_test(test_keyring_round_trip),
		cmocka_unit_test(test_item_holds_exactly_the_saved_record),
		cmocka_unit_test(test_mirror_is_private_and_has_no_refresh),
		cmocka_unit_test(test_save_replaces_the_item),
		cmocka_unit_test(test_load_rewrites_a_missing_mirror),
		cmocka_unit_test(test_load_drops_an_orphan_mirror),
		cmocka_unit_test(test_damaged_item_is_damaged),
		cmocka_unit_test(test_list_finds_every_item),
		cmocka_unit_test(test_remove_drops_item_and_mirror),
		cmocka_unit_test(test_no_runtime_dir_means_no_mirror),
		cmocka_unit_test(test_seed_item_for_the_shell),
	};
	const struct CMUnitTest locked[] = {
		cmocka_unit_test(test_auto_with_locked_keyring_uses_disk),
		cmocka_unit_test(test_locked_load_is_a_quick_miss),
		cmocka_unit_test(test_locked_save_fails_without_prompt),
		cmocka_unit_test(test_locked_remove_keeps_item_drops_mirror),
		cmocka_unit_test(test_locked_list_lists_nothing_and_says_locked),
		cmocka_unit_test(test_locked_auto_remove_names_the_keyring),
	};
	/* Two processes, as two kubectl calls: KeePassXC lets the process
	 * that created an item at it without asking. */
	const struct CMUnitTest settings[] = {
		cmocka_unit_test(test_settings_store_twice_keeps_one_item),
	};
	const struct CMUnitTest settings_later[] = {
		cmocka_unit_test(test_settings_load),
		cmocka_unit_test(test_settings_remove),
	};
	const struct CMUnitTest stopped[] = {
		cmocka_unit_test(test_auto_gives_up_on_a_frozen_secret_service),
		cmocka_unit_test(test_load_from_a_frozen_secret_service_is_bounded),
	};
	const struct CMUnitTest absent[] = {
		cmocka_unit_test(test_auto_on_a_bus_without_secret_service_uses_disk),
		cmocka_unit_test(test_explicit_keyring_without_secret_service_fails_fast),
	};

	if (mode == NULL || mode[0] == '\0')
		return cmocka_run_group_tests_name("store_keyring (no bus)",
		    nobus, setup, teardown);
	if (!private_bus()) {
		fprintf(stderr, "store_keyring: KMFA_TEST_KEYRING=%s but the "
		    "session bus is not a private one in KMFA_TEST_DIR\n", mode);
		return 1;
	}
	if (strcmp(mode, "present") == 0)
		return cmocka_run_group_tests_name("store_keyring (present)",
		    present, setup, teardown);
	if (strcmp(mode, "locked") == 0)
		return cmocka_run_group_tests_name("store_keyring (locked)",
		    locked, setup, teardown);
	if (strcmp(mode, "settings") == 0)
		return cmocka_run_group_tests_name("store_keyring (settings)",
		    settings, setup, teardown);
	if (strcmp(mode, "settings-later") == 0)
		return cmocka_run_group_tests_name("store_keyring (settings, "
		    "later)", settings_later, setup, teardown);
	if (strcmp(mode, "stopped") == 0)
		return cmocka_run_group_tests_name("store_keyring (stopped)",
		    stopped, setup, teardown);
	if (strcmp(mode, "absent") == 0)
		return cmocka_run_group_tests_name("store_keyring (absent)",
		    absent, setup, teardown);
	fprintf(stderr, "store_keyring: unknown KMFA_TEST_KEYRING=%s\n", mode);
	return 1;
}

/*
 * Unit tests for lib/key/seal.c.  Each rejection is a way an attacker holding
 * the cache file (but not the key) might try to get a refresh token out or
 * move one between configurations: flip ciphertext bits, change the
 * header, use another key's slot, move a slot to another credential.  Keys
 * and hmac outputs are random per run, never pasted in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/report.h"
#include "base/util.h"
#include "key/seal.h"

static const char header[] = "issuer=https://idp.example\nclient_id=k8s";
static const char token[] = "rt-0123456789abcdef-refresh-token-value";

static void
rand_fill(uint8_t *p, size_t n)
{
	assert_int_equal(kmfa_seal_random(p, n), KMFA_OK);
}

static void
test_refresh_round_trip(void **state)
{
	uint8_t mk[KMFA_MK_LEN];
	char *sealed = NULL, *back = NULL;

	(void)state;
	assert_int_equal(kmfa_seal_new_mk(mk), KMFA_OK);
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &sealed), KMFA_OK);
	assert_true(kmfa_seal_is_sealed(sealed));
	assert_null(strstr(sealed, "refresh-token"));
	assert_int_equal(kmfa_seal_open_refresh(mk, header, sealed, &back),
	    KMFA_OK);
	assert_string_equal(back, token);
	kmfa_freezero_str(back);
	free(sealed);
}

static void
test_two_seals_differ(void **state)
{
	uint8_t mk[KMFA_MK_LEN];
	char *a = NULL, *b = NULL;

	(void)state;
	rand_fill(mk, sizeof(mk));
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &a), KMFA_OK);
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &b), KMFA_OK);
	assert_string_not_equal(a, b);	/* fresh nonce each time */
	free(a);
	free(b);
}

static void
test_empty_token_round_trips(void **state)
{
	uint8_t mk[KMFA_MK_LEN];
	char *sealed = NULL, *back = NULL;

	(void)state;
	rand_fill(mk, sizeof(mk));
	assert_int_equal(kmfa_seal_refresh(mk, header, "", &sealed), KMFA_OK);
	assert_int_equal(kmfa_seal_open_refresh(mk, header, sealed, &back),
	    KMFA_OK);
	assert_string_equal(back, "");
	free(back);
	free(sealed);
}

static void
expect_unseal_fails(const uint8_t *mk, const char *hdr, const char *sealed,
    const char *cause)
{
	char *back = (char *)(uintptr_t)1;

	kmfa_report_clear();
	assert_int_equal(kmfa_seal_open_refresh(mk, hdr, sealed, &back),
	    KMFA_ERR_FIDO2);
	assert_null(back);
	assert_non_null(kmfa_report_cause());
	assert_non_null(strstr(kmfa_report_cause(), cause));
	kmfa_report_clear();
}

static void
test_rejects_tampered_ciphertext(void **state)
{
	uint8_t mk[KMFA_MK_LEN];
	char *sealed = NULL;
	size_t n;

	(void)state;
	rand_fill(mk, sizeof(mk));
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &sealed), KMFA_OK);
	/*
	 * Flip one character of the ciphertext part; 'A' and 'Q' differ in
	 * the high bits, so the decoded bytes change but stay canonical.
	 */
	n = strlen(sealed);
	sealed[n - 10] = sealed[n - 10] == 'A' ? 'Q' : 'A';
	expect_unseal_fails(mk, header, sealed, "does not open with this key");
	free(sealed);
}

static void
test_rejects_tampered_nonce(void **state)
{
	uint8_t mk[KMFA_MK_LEN];
	char *sealed = NULL;
	size_t at = strlen(KMFA_SEAL_PREFIX) + 1;

	(void)state;
	rand_fill(mk, sizeof(mk));
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &sealed), KMFA_OK);
	sealed[at] = sealed[at] == 'A' ? 'Q' : 'A';
	expect_unseal_fails(mk, header, sealed, "does not open with this key");
	free(sealed);
}

static void
test_rejects_other_header(void **state)
{
	uint8_t mk[KMFA_MK_LEN];
	char *sealed = NULL;

	(void)state;
	rand_fill(mk, sizeof(mk));
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &sealed), KMFA_OK);
	expect_unseal_fails(mk, "issuer=https://idp.example\nclient_id=k9s",
	    sealed, "does not open with this key");
	expect_unseal_fails(mk, "", sealed, "does not open with this key");
	free(sealed);
}

static void
test_rejects_wrong_key(void **state)
{
	uint8_t mk[KMFA_MK_LEN], other[KMFA_MK_LEN];
	char *sealed = NULL;

	(void)state;
	rand_fill(mk, sizeof(mk));
	memcpy(other, mk, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &sealed), KMFA_OK);
	expect_unseal_fails(other, header, sealed, "does not open with this key");
	free(sealed);
}

static void
test_rejects_malformed(void **state)
{
	uint8_t mk[KMFA_MK_LEN];
	char *sealed = NULL, *cut = NULL;

	(void)state;
	rand_fill(mk, sizeof(mk));
	expect_unseal_fails(mk, header, token, "malformed");
	expect_unseal_fails(mk, header, "kmfa1.", "malformed");
	expect_unseal_fails(mk, header, "kmfa1.AAAA.AAAA", "malformed");
	expect_unseal_fails(mk, header, "kmfa1.AAAAAAAAAAAAAAAA.", "malformed");
	expect_unseal_fails(mk, header, "kmfa2.AAAAAAAAAAAAAAAA.AAAA",
	    "malformed");
	/* Truncated: malformed base64 or a failed tag, never a token. */
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &sealed), KMFA_OK);
	cut = strdup(sealed);
	assert_non_null(cut);
	cut[strlen(cut) - 4] = '\0';
	expect_unseal_fails(mk, header, cut, "sealed refresh token");
	free(cut);
	free(sealed);
}

static void
test_slot_round_trip(void **state)
{
	uint8_t hmac[KMFA_HMAC_OUT_LEN], salt[KMFA_HMAC_SALT_LEN];
	uint8_t mk[KMFA_MK_LEN], back[KMFA_MK_LEN];
	uint8_t id[48];
	uint8_t *slot = NULL;
	size_t slot_len = 0;

	(void)state;
	rand_fill(hmac, sizeof(hmac));
	rand_fill(salt, sizeof(salt));
	rand_fill(id, sizeof(id));
	rand_fill(mk, sizeof(mk));
	assert_int_equal(kmfa_seal_slot_wrap(hmac, salt, id, sizeof(id), mk,
	    &slot, &slot_len), KMFA_OK);
	/* version 2: version, slot public key, ephemeral public key, ... */
	assert_int_equal(slot_len, 1 + 32 + 32 + 12 + 32 + 16);
	assert_int_equal(kmfa_seal_slot_version(slot, slot_len), 2);
	assert_null(memmem(slot, slot_len, mk, sizeof(mk)));
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot, slot_len, back), KMFA_OK);
	assert_memory_equal(back, mk, sizeof(mk));
	free(slot);
}

static void
test_slot_rejects_wrong_hmac_salt_id_or_damage(void **state)
{
	uint8_t hmac[KMFA_HMAC_OUT_LEN], salt[KMFA_HMAC_SALT_LEN];
	uint8_t mk[KMFA_MK_LEN], back[KMFA_MK_LEN], zero[KMFA_MK_LEN] = { 0 };
	uint8_t id[48];
	uint8_t *slot = NULL;
	size_t slot_len = 0;

	(void)state;
	rand_fill(hmac, sizeof(hmac));
	rand_fill(salt, sizeof(salt));
	rand_fill(id, sizeof(id));
	rand_fill(mk, sizeof(mk));
	assert_int_equal(kmfa_seal_slot_wrap(hmac, salt, id, sizeof(id), mk,
	    &slot, &slot_len), KMFA_OK);

	/* Another key (or the same key read with the other UV setting). */
	hmac[0] ^= 0x80;
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot, slot_len, back), KMFA_ERR_FIDO2);
	assert_memory_equal(back, zero, sizeof(back));
	hmac[0] ^= 0x80;

	salt[5] ^= 1;
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot, slot_len, back), KMFA_ERR_FIDO2);
	salt[5] ^= 1;

	/* A slot moved onto another credential. */
	id[0] ^= 1;
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot, slot_len, back), KMFA_ERR_FIDO2);
	id[0] ^= 1;

	/* The slot public key, the ephemeral key, the nonce, the wrapped key. */
	for (size_t at = 1; at < slot_len; at += 7) {
		slot[at] ^= 1;
		assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id,
		    sizeof(id), slot, slot_len, back), KMFA_ERR_FIDO2);
		slot[at] ^= 1;
	}

	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot, slot_len - 1, back), KMFA_ERR_FIDO2);
	slot[0] = 3;	/* unknown slot version */
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot, slot_len, back), KMFA_ERR_FIDO2);
	free(slot);
}

/*
 * The re-key: a new master key is wrapped for a key that is not at hand,
 * from its slot's public key alone, and only that key's hmac-secret
 * output opens it.  The old slot still opens only the old master key.
 */
static void
test_slot_rewrap_without_the_key(void **state)
{
	uint8_t hmac[KMFA_HMAC_OUT_LEN], other[KMFA_HMAC_OUT_LEN];
	uint8_t salt[KMFA_HMAC_SALT_LEN], id[40];
	uint8_t mk[KMFA_MK_LEN], mk2[KMFA_MK_LEN], back[KMFA_MK_LEN];
	uint8_t *slot = NULL, *slot2 = NULL;
	size_t len = 0, len2 = 0;

	(void)state;
	rand_fill(hmac, sizeof(hmac));
	rand_fill(other, sizeof(other));
	rand_fill(salt, sizeof(salt));
	rand_fill(id, sizeof(id));
	rand_fill(mk, sizeof(mk));
	rand_fill(mk2, sizeof(mk2));
	assert_int_equal(kmfa_seal_slot_wrap(hmac, salt, id, sizeof(id), mk,
	    &slot, &len), KMFA_OK);
	assert_int_equal(kmfa_seal_slot_rewrap(slot, len, id, sizeof(id), mk2,
	    &slot2, &len2), KMFA_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(slot2 + 1, slot + 1, 32);	/* same slot key */
	assert_memory_not_equal(slot2 + 33, slot + 33, 32);	/* new ephemeral */
	assert_null(memmem(slot2, len2, mk2, sizeof(mk2)));
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot2, len2, back), KMFA_OK);
	assert_memory_equal(back, mk2, sizeof(mk2));
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot, len, back), KMFA_OK);
	assert_memory_equal(back, mk, sizeof(mk));
	assert_int_equal(kmfa_seal_slot_unwrap(other, salt, id, sizeof(id),
	    slot2, len2, back), KMFA_ERR_FIDO2);
	id[3] ^= 1;	/* rewrapped for another credential id */
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id),
	    slot2, len2, back), KMFA_ERR_FIDO2);
	free(slot);
	free(slot2);
}

/* A version-1 slot (from before re-keying) made the way version 1 did. */
static void
make_v1_slot(const uint8_t hmac[KMFA_HMAC_OUT_LEN],
    const uint8_t salt[KMFA_HMAC_SALT_LEN], const uint8_t *id, size_t id_len,
    const uint8_t mk[KMFA_MK_LEN], uint8_t out[61])
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	EVP_CIPHER_CTX *c;
	OSSL_PARAM params[5];
	uint8_t kek[32];
	int n;

	assert_non_null(kdf = EVP_KDF_fetch(NULL, "HKDF", NULL));
	assert_non_null(kctx = EVP_KDF_CTX_new(kdf));
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)hmac, KMFA_HMAC_OUT_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, KMFA_HMAC_SALT_LEN);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)"kubectl-mfa slot v1", strlen("kubectl-mfa slot v1"));
	params[4] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(kctx, kek, sizeof(kek), params), 1);
	out[0] = 1;
	rand_fill(out + 1, 12);
	assert_non_null(c = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, kek,
	    out + 1), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, id, (int)id_len), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + 13, &n, mk, KMFA_MK_LEN),
	    1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + 45, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
	    out + 45), 1);
	EVP_CIPHER_CTX_free(c);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
}

/* A version-1 slot still opens, and cannot be re-keyed without its key. */
static void
test_slot_v1_opens_but_does_not_rewrap(void **state)
{
	uint8_t hmac[KMFA_HMAC_OUT_LEN], salt[KMFA_HMAC_SALT_LEN], id[16];
	uint8_t mk[KMFA_MK_LEN], back[KMFA_MK_LEN], v1[61];
	uint8_t *slot2 = NULL;
	size_t len2 = 7;

	(void)state;
	rand_fill(hmac, sizeof(hmac));
	rand_fill(salt, sizeof(salt));
	rand_fill(id, sizeof(id));
	rand_fill(mk, sizeof(mk));
	make_v1_slot(hmac, salt, id, sizeof(id), mk, v1);
	assert_int_equal(kmfa_seal_slot_version(v1, sizeof(v1)), 1);
	assert_int_equal(kmfa_seal_slot_unwrap(hmac, salt, id, sizeof(id), v1,
	    sizeof(v1), back), KMFA_OK);
	assert_memory_equal(back, mk, sizeof(mk));
	assert_int_equal(kmfa_seal_slot_rewrap(v1, sizeof(v1), id, sizeof(id),
	    mk, &slot2, &len2), KMFA_ERR_NOTFOUND);
	assert_null(slot2);
	assert_int_equal(len2, 0);
	assert_int_equal(kmfa_seal_slot_version(v1, sizeof(v1) - 1), 0);
	assert_int_equal(kmfa_seal_slot_version(NULL, 0), 0);
}

/* A planted public key of small order is refused, not used. */
static void
test_slot_rewrap_refuses_low_order_key(void **state)
{
	uint8_t slot[1 + 32 + 32 + 12 + 32 + 16] = { 2 };
	uint8_t id[8] = { 1 }, mk[KMFA_MK_LEN] = { 0 };
	uint8_t *slot2 = NULL;
	size_t len2 = 0;

	(void)state;
	/* The public key 0 is of small order: X25519 gives all zeros. */
	assert_int_equal(kmfa_seal_slot_rewrap(slot, sizeof(slot), id,
	    sizeof(id), mk, &slot2, &len2), KMFA_ERR_FIDO2);
	assert_null(slot2);
	kmfa_report_clear();
}

/* Two keys, two slots, one master key: a backup key opens the same token. */
static void
test_two_slots_open_same_mk(void **state)
{
	uint8_t hmac_a[KMFA_HMAC_OUT_LEN], hmac_b[KMFA_HMAC_OUT_LEN];
	uint8_t salt[KMFA_HMAC_SALT_LEN], id_a[32], id_b[32];
	uint8_t mk[KMFA_MK_LEN], mk_a[KMFA_MK_LEN], mk_b[KMFA_MK_LEN];
	uint8_t *slot_a = NULL, *slot_b = NULL;
	size_t len_a = 0, len_b = 0;
	char *sealed = NULL, *back = NULL;

	(void)state;
	rand_fill(hmac_a, sizeof(hmac_a));
	rand_fill(hmac_b, sizeof(hmac_b));
	rand_fill(salt, sizeof(salt));
	rand_fill(id_a, sizeof(id_a));
	rand_fill(id_b, sizeof(id_b));
	assert_int_equal(kmfa_seal_new_mk(mk), KMFA_OK);
	assert_int_equal(kmfa_seal_slot_wrap(hmac_a, salt, id_a, sizeof(id_a),
	    mk, &slot_a, &len_a), KMFA_OK);
	assert_int_equal(kmfa_seal_refresh(mk, header, token, &sealed), KMFA_OK);

	/* Enrolling B: unwrap with A, wrap for B. */
	assert_int_equal(kmfa_seal_slot_unwrap(hmac_a, salt, id_a,
	    sizeof(id_a), slot_a, len_a, mk_a), KMFA_OK);
	assert_int_equal(kmfa_seal_slot_wrap(hmac_b, salt, id_b, sizeof(id_b),
	    mk_a, &slot_b, &len_b), KMFA_OK);

	assert_int_equal(kmfa_seal_slot_unwrap(hmac_b, salt, id_b,
	    sizeof(id_b), slot_b, len_b, mk_b), KMFA_OK);
	assert_memory_equal(mk_b, mk, sizeof(mk));
	assert_int_equal(kmfa_seal_open_refresh(mk_b, header, sealed, &back),
	    KMFA_OK);
	assert_string_equal(back, token);
	/* A's output does not open B's slot. */
	assert_int_equal(kmfa_seal_slot_unwrap(hmac_a, salt, id_b,
	    sizeof(id_b), slot_b, len_b, mk_b), KMFA_ERR_FIDO2);
	kmfa_freezero_str(back);
	free(sealed);
	free(slot_a);
	free(slot_b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_round_trip),
		cmocka_unit_test(test_two_seals_differ),
		cmocka_unit_test(test_empty_token_round_trips),
		cmocka_unit_test(test_rejects_tampered_ciphertext),
		cmocka_unit_test(test_rejects_tampered_nonce),
		cmocka_unit_test(test_rejects_other_header),
		cmocka_unit_test(test_rejects_wrong_key),
		cmocka_unit_test(test_rejects_malformed),
		cmocka_unit_test(test_slot_round_trip),
		cmocka_unit_test(test_slot_rejects_wrong_hmac_salt_id_or_damage),
		cmocka_unit_test(test_two_slots_open_same_mk),
		cmocka_unit_test(test_slot_rewrap_without_the_key),
		cmocka_unit_test(test_slot_v1_opens_but_does_not_rewrap),
		cmocka_unit_test(test_slot_rewrap_refuses_low_order_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The token vault: round trips, tampering, wrong associated data, key rings and rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/vault.h"

#define K1 "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K2 "k2:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="

static struct ml_vault *ring(const char *spec)
{
	struct ml_vault *v = NULL;
	assert_int_equal(ml_vault_new(&v, spec), 0);
	return v;
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct ml_vault *v = ring(K1);
	char *ct = NULL, *pt = NULL;
	size_t n = 0;
	const char *secret = "ya29.a-very-secret-token";
	assert_int_equal(ml_vault_encrypt(v, "con_1/access_token", secret, strlen(secret), &ct), 0);
	assert_true(strncmp(ct, "mlv1:k1:", 8) == 0);
	assert_null(strstr(ct, secret));
	assert_int_equal(ml_vault_decrypt(v, "con_1/access_token", ct, &pt, &n), 0);
	assert_int_equal(n, strlen(secret));
	assert_string_equal(pt, secret);
	ml_vault_wipe_free(pt, n);
	/* Same plaintext twice: different ciphertexts (fresh nonce). */
	char *ct2 = NULL;
	assert_int_equal(ml_vault_encrypt(v, "con_1/access_token", secret, strlen(secret), &ct2), 0);
	assert_string_not_equal(ct, ct2);
	/* Empty plaintext works too. */
	char *e = NULL;
	assert_int_equal(ml_vault_encrypt(v, "x", "", 0, &e), 0);
	assert_int_equal(ml_vault_decrypt(v, "x", e, &pt, &n), 0);
	assert_int_equal(n, 0);
	ml_vault_wipe_free(pt, 1);
	free(e);
	free(ct);
	free(ct2);
	ml_vault_free(v);
}

static void test_tamper_and_wrong_aad(void **state)
{
	(void)state;
	struct ml_vault *v = ring(K1);
	char *ct = NULL, *pt = NULL;
	assert_int_equal(ml_vault_encrypt(v, "con_1/refresh_token", "1//rt", 5, &ct), 0);
	/* Another row or column: does not open. */
	assert_int_equal(ml_vault_decrypt(v, "con_2/refresh_token", ct, &pt, NULL), ML_EAUTH);
	assert_int_equal(ml_vault_decrypt(v, "con_1/access_token", ct, &pt, NULL), ML_EAUTH);
	assert_null(pt);
	/* Every byte of the body flipped in turn: never opens. */
	size_t len = strlen(ct);
	for (size_t i = 8; i < len; i++) {
		char *t = strdup(ct);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		assert_int_equal(ml_vault_decrypt(v, "con_1/refresh_token", t, &pt, NULL), ML_EAUTH);
		free(t);
	}
	/* Truncated, garbage, another version, another key id. */
	char *t = strdup(ct);
	t[len - 3] = '\0';
	assert_int_equal(ml_vault_decrypt(v, "con_1/refresh_token", t, &pt, NULL), ML_EAUTH);
	free(t);
	assert_int_equal(ml_vault_decrypt(v, "a", "plaintext", &pt, NULL), ML_EAUTH);
	assert_int_equal(ml_vault_decrypt(v, "a", "mlv1:k1:", &pt, NULL), ML_EAUTH);
	t = strdup(ct);
	t[3] = '2';
	assert_int_equal(ml_vault_decrypt(v, "con_1/refresh_token", t, &pt, NULL), ML_EAUTH);
	free(t);
	/* The key id is authenticated: relabelled under another ring key, it does not open. */
	struct ml_vault *both = ring(K2 "," K1);
	char *relabel = NULL;
	assert_true(asprintf(&relabel, "mlv1:k2:%s", ct + 8) > 0);
	assert_int_equal(ml_vault_decrypt(both, "con_1/refresh_token", relabel, &pt, NULL),
			 ML_EAUTH);
	free(relabel);
	ml_vault_free(both);
	free(ct);
	ml_vault_free(v);
}

static void test_ring_and_rotation(void **state)
{
	(void)state;
	struct ml_vault *old = ring(K1), *rot = ring(K2 "," K1), *only_new = ring(K2);
	char *ct = NULL, *pt = NULL, *re = NULL;
	assert_int_equal(ml_vault_encrypt(old, "r/c", "secret", 6, &ct), 0);
	assert_true(ml_vault_is_current(old, ct));
	assert_false(ml_vault_is_current(rot, ct));
	/* Any ring key decrypts; the new one alone does not know k1. */
	assert_int_equal(ml_vault_decrypt(rot, "r/c", ct, &pt, NULL), 0);
	assert_string_equal(pt, "secret");
	ml_vault_wipe_free(pt, 0);
	assert_int_equal(ml_vault_decrypt(only_new, "r/c", ct, &pt, NULL), ML_EAUTH);
	/* Rotation re-seals under the current key, same binding. */
	assert_int_equal(ml_vault_reseal(rot, "r/c", ct, &re), 0);
	assert_true(strncmp(re, "mlv1:k2:", 8) == 0);
	assert_true(ml_vault_is_current(rot, re));
	assert_int_equal(ml_vault_decrypt(only_new, "r/c", re, &pt, NULL), 0);
	assert_string_equal(pt, "secret");
	ml_vault_wipe_free(pt, 0);
	assert_int_equal(ml_vault_decrypt(only_new, "r/other", re, &pt, NULL), ML_EAUTH);
	assert_string_equal(ml_vault_current_kid(rot), "k2");
	free(ct);
	free(re);
	ml_vault_free(old);
	ml_vault_free(rot);
	ml_vault_free(only_new);
}

static void test_bad_rings(void **state)
{
	(void)state;
	struct ml_vault *v = NULL;
	const char *bad[] = {"", "nokey", "k1:", "k1:AAAA", ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			     K1 "," K1, "bad id:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			     "k1:!!!!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL};
	for (int i = 0; bad[i]; i++) {
		assert_int_equal(ml_vault_new(&v, bad[i]), ML_EINVAL);
		assert_string_equal(ml_error_field(), "MEETLINK_VAULT_KEYS");
	}
	/* Spaces around entries are fine. */
	assert_int_equal(ml_vault_new(&v, " " K1 " , " K2 " "), 0);
	assert_string_equal(ml_vault_current_kid(v), "k1");
	ml_vault_free(v);
	char *spec = ml_vault_new_key_spec("fresh");
	assert_int_equal(ml_vault_new(&v, spec), 0);
	ml_vault_free(v);
	free(spec);
}

static void test_key_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/ml-vault-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char url[256], file[300];
	snprintf(url, sizeof url, "sqlite:%s/meetlink.db", dir);
	snprintf(file, sizeof file, "%s/vault.key", dir);
	struct ml_vault *a = NULL, *b = NULL;
	bool gen = false;
	char *path = NULL, *ct = NULL, *pt = NULL;
	assert_int_equal(ml_vault_load(&a, NULL, url, &gen, &path), 0);
	assert_true(gen);
	assert_string_equal(path, file);
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ml_vault_encrypt(a, "x", "y", 1, &ct), 0);
	/* The same file on the next start: what was sealed still opens. */
	assert_int_equal(ml_vault_load(&b, NULL, url, NULL, NULL), 0);
	assert_int_equal(ml_vault_decrypt(b, "x", ct, &pt, NULL), 0);
	ml_vault_wipe_free(pt, 0);
	/* A configured ring wins; PostgreSQL needs one. */
	struct ml_vault *c = NULL;
	assert_int_equal(ml_vault_load(&c, K1, url, &gen, NULL), 0);
	assert_false(gen);
	ml_vault_free(c);
	assert_int_equal(ml_vault_load(&c, NULL, "postgres://x/y", NULL, NULL), ML_EINVAL);
	free(ct);
	free(path);
	ml_vault_free(a);
	ml_vault_free(b);
	unlink(file);
	rmdir(dir);
}

static struct ml_vault *shared;

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500; i++) {
		char *ct = NULL, *pt = NULL, aad[32];
		snprintf(aad, sizeof aad, "row%d/col", i);
		assert_int_equal(ml_vault_encrypt(shared, aad, "token-value", 11, &ct), 0);
		assert_int_equal(ml_vault_decrypt(shared, aad, ct, &pt, NULL), 0);
		assert_string_equal(pt, "token-value");
		ml_vault_wipe_free(pt, 0);
		free(ct);
	}
	return NULL;
}

/* One vault shared by many threads (each with its own cipher context). */
static void test_threads(void **state)
{
	(void)state;
	shared = ring(K1);
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ml_vault_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),       cmocka_unit_test(test_tamper_and_wrong_aad),
		cmocka_unit_test(test_ring_and_rotation), cmocka_unit_test(test_bad_rings),
		cmocka_unit_test(test_key_file),        cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

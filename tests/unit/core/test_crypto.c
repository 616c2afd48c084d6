/* SHA-256 and HMAC-SHA256 (one EVP context per thread, HMAC built on it): the published
 * vectors (FIPS 180-2, RFC 4231), agreement with OpenSSL's own HMAC over keys of every length
 * around the block size, and threads hashing at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/crypto.h"

static void hex(const uint8_t *d, char out[65])
{
	ml_hex_encode(d, 32, out);
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	char h[65];
	ml_sha256_hex("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ml_sha256_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	ml_sha256_hex(m, strlen(m), h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hmac_rfc4231(void **state)
{
	(void)state;
	uint8_t out[32], key[131];
	char h[65];
	/* Test case 1 */
	memset(key, 0x0b, 20);
	ml_hmac_sha256(key, 20, "Hi There", 8, out);
	hex(out, h);
	assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Test case 2: a key shorter than the output */
	ml_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
	hex(out, h);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Test case 6: a key longer than the block (hashed first) */
	memset(key, 0xaa, 131);
	const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
	ml_hmac_sha256(key, 131, m, strlen(m), out);
	hex(out, h);
	assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_agrees_with_openssl(void **state)
{
	(void)state;
	uint8_t key[200], data[300], a[32], b[32];
	unsigned blen;
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	for (size_t kl = 0; kl <= sizeof key; kl += (kl >= 60 && kl <= 70) ? 1 : 9)
		for (size_t dl = 0; dl <= sizeof data; dl += 37) {
			ml_hmac_sha256(key, kl, data, dl, a);
			blen = 32;
			assert_non_null(HMAC(EVP_sha256(), key, (int)kl, data, dl, b, &blen));
			assert_memory_equal(a, b, 32);
		}
}

static void *hash_many(void *arg)
{
	(void)arg;
	char h[65];
	for (int i = 0; i < 2000; i++) {
		ml_sha256_hex("abc", 3, h);
		if (strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") != 0)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[8];
	void *r;
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hash_many, NULL), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], &r);
		assert_null(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_hmac_rfc4231),
	    cmocka_unit_test(test_hmac_agrees_with_openssl),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

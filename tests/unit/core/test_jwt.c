/* JWT signing: the computed vectors of the specs, RS256 checked with the public key alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/error.h"
#include "core/jwt.h"

static json_t *load_spec(const char *rel)
{
	const char *dir = getenv("ML_SPECS");
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../../shared/specs", rel);
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

/* Re-signs the payload of an expected token (claims kept in their order) and compares. */
static void resign_equals(const char *expected, const char *secret, json_t *header_extra)
{
	json_t *hdr = NULL, *claims = NULL;
	struct ml_jwt_key *k = NULL;
	char *tok = NULL;

	assert_int_equal(ml_jwt_decode(&hdr, &claims, expected), 0);
	assert_int_equal(ml_jwt_key_hs256(&k, secret, strlen(secret)), 0);
	assert_int_equal(ml_jwt_sign(&tok, k, NULL, header_extra, claims), 0);
	assert_string_equal(tok, expected);

	json_t *back = NULL;
	assert_int_equal(ml_jwt_verify(&back, k, expected), 0);
	assert_true(json_equal(back, claims));
	json_decref(back);
	assert_int_equal(ml_jwt_verify_hs256(NULL, secret, strlen(secret), expected), 0);
	assert_int_equal(ml_jwt_verify_hs256(NULL, "wrong", 5, expected), ML_EAUTH);

	free(tok);
	ml_jwt_key_free(k);
	json_decref(hdr);
	json_decref(claims);
}

static void test_hs256_jitsi_vector(void **state)
{
	(void)state;
	json_t *n = load_spec("jitsi/jitsi-notes.json");
	const char *t = json_string_value(json_object_get(
	    json_object_get(json_object_get(n, "self_hosted_token_auth"), "computed_example_hs256"),
	    "token"));
	assert_non_null(t);
	resign_equals(t, "my_app_secret", NULL);
	json_decref(n);
}

static void test_hs256_twilio_vector(void **state)
{
	(void)state;
	json_t *n = load_spec("twilio/twilio-video-notes.json");
	const char *t = json_string_value(json_object_get(
	    json_object_get(json_object_get(n, "access_token"), "computed_example"), "token"));
	assert_non_null(t);
	json_t *extra = json_pack("{s:s}", "cty", "twilio-fpa;v=1");
	resign_equals(t, "test-api-key-secret", extra);
	json_decref(extra);
	json_decref(n);
}

static void test_hs256_tamper(void **state)
{
	(void)state;
	struct ml_jwt_key *k;
	char *tok;
	json_t *c = json_pack("{s:s,s:I}", "sub", "x", "exp", (json_int_t)1700000000);
	assert_int_equal(ml_jwt_key_hs256(&k, "s3cret", 6), 0);
	assert_int_equal(ml_jwt_sign(&tok, k, "kid-1", NULL, c), 0);

	json_t *h;
	assert_int_equal(ml_jwt_decode(&h, NULL, tok), 0);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "HS256");
	assert_string_equal(json_string_value(json_object_get(h, "kid")), "kid-1");
	json_decref(h);

	assert_int_equal(ml_jwt_verify(NULL, k, tok), 0);
	char *last = strrchr(tok, '.');
	last[1] = last[1] == 'A' ? 'B' : 'A';
	assert_int_equal(ml_jwt_verify(NULL, k, tok), ML_EAUTH);
	assert_int_equal(ml_jwt_verify(NULL, k, "a.b"), ML_EAUTH);
	assert_int_equal(ml_jwt_verify(NULL, k, "a.b.c.d"), ML_EAUTH);
	assert_int_equal(ml_jwt_decode(NULL, NULL, "!!.??.x"), ML_EINVAL);
	assert_int_equal(ml_jwt_key_hs256(&k, "", 0), ML_EINVAL);
	free(tok);
	ml_jwt_key_free(k);
	json_decref(c);
}

/* BIO memory is not NUL-terminated: copy exactly n bytes. */
static char *dup_mem(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static char *gen_rsa_pem(char **pub_pem, int bits)
{
	EVP_PKEY *pk = EVP_RSA_gen((unsigned)bits);
	assert_non_null(pk);
	BIO *b = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL));
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *priv = dup_mem(p, (size_t)n);
	BIO_free(b);
	if (pub_pem) {
		b = BIO_new(BIO_s_mem());
		assert_true(PEM_write_bio_PUBKEY(b, pk));
		n = BIO_get_mem_data(b, &p);
		*pub_pem = dup_mem(p, (size_t)n);
		BIO_free(b);
	}
	EVP_PKEY_free(pk);
	return priv;
}

struct rs_ctx {
	struct ml_jwt_key *k;
	json_t *claims;
	int failures;
};

static void *rs_thread(void *arg)
{
	struct rs_ctx *c = arg;
	for (int i = 0; i < 20; i++) {
		char *t = NULL;
		if (ml_jwt_sign(&t, c->k, "app/kid", NULL, c->claims) < 0 ||
		    ml_jwt_verify(NULL, c->k, t) < 0)
			__atomic_add_fetch(&c->failures, 1, __ATOMIC_SEQ_CST);
		free(t);
	}
	return NULL;
}

static void test_rs256_roundtrip(void **state)
{
	(void)state;
	char *pub = NULL, *priv = gen_rsa_pem(&pub, 2048);
	struct ml_jwt_key *k;
	char *tok;
	json_t *c = json_pack("{s:s,s:s,s:s}", "aud", "jitsi", "iss", "chat", "room", "r1");

	assert_int_equal(ml_jwt_key_rs256_pem(&k, priv, strlen(priv)), 0);
	assert_string_equal(ml_jwt_key_alg(k), "RS256");
	assert_int_equal(ml_jwt_sign(&tok, k, "vpaas-magic-cookie-x/4f4910", NULL, c), 0);

	/* Verify with the public key only, independently of jwt.c. */
	const char *dot2 = strrchr(tok, '.');
	size_t siglen;
	uint8_t *sig = ml_base64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen);
	assert_int_equal(siglen, 256);
	BIO *b = BIO_new_mem_buf(pub, -1);
	EVP_PKEY *pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(pk);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(
	    EVP_DigestVerify(m, sig, siglen, (const uint8_t *)tok, (size_t)(dot2 - tok)), 1);
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(pk);
	free(sig);

	json_t *h, *back;
	assert_int_equal(ml_jwt_decode(&h, &back, tok), 0);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
	assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
	assert_string_equal(json_string_value(json_object_get(h, "kid")),
	                    "vpaas-magic-cookie-x/4f4910");
	assert_true(json_equal(back, c));
	json_decref(h);
	json_decref(back);
	assert_int_equal(ml_jwt_verify(NULL, k, tok), 0);

	/* An HS256 token is not accepted by an RS256 key (alg confusion). */
	struct ml_jwt_key *hk;
	char *htok;
	assert_int_equal(ml_jwt_key_hs256(&hk, pub, strlen(pub)), 0);
	assert_int_equal(ml_jwt_sign(&htok, hk, NULL, NULL, c), 0);
	assert_int_equal(ml_jwt_verify(NULL, k, htok), ML_EAUTH);
	free(htok);
	ml_jwt_key_free(hk);

	/* Many threads share one key. */
	struct rs_ctx rc = {k, c, 0};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, rs_thread, &rc);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(rc.failures, 0);

	free(tok);
	ml_jwt_key_free(k);
	json_decref(c);
	free(priv);
	free(pub);
}

static void test_rs256_bad_keys(void **state)
{
	(void)state;
	struct ml_jwt_key *k = NULL;
	assert_int_equal(ml_jwt_key_rs256_pem(&k, "nope", 4), ML_EINVAL);
	assert_null(k);
	char *small = gen_rsa_pem(NULL, 1024);
	assert_int_equal(ml_jwt_key_rs256_pem(&k, small, strlen(small)), ML_EINVAL);
	free(small);
	assert_int_equal(ml_jwt_key_rs256_file(&k, "/nonexistent/key.pem"), ML_EINVAL);

	char *priv = gen_rsa_pem(NULL, 2048);
	char path[] = "/tmp/ml-jwt-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs(priv, f);
	fclose(f);
	assert_int_equal(ml_jwt_key_rs256_file(&k, path), 0);
	unlink(path);
	ml_jwt_key_free(k);
	free(priv);
}

struct hs_ctx {
	struct ml_jwt_key *k;
	json_t *claims;
	const char *expect;
	int failures;
};

static void *hs_thread(void *arg)
{
	struct hs_ctx *c = arg;
	for (int i = 0; i < 2000; i++) {
		char *t = NULL;
		if (ml_jwt_sign(&t, c->k, NULL, NULL, c->claims) < 0 || strcmp(t, c->expect) != 0)
			__atomic_add_fetch(&c->failures, 1, __ATOMIC_SEQ_CST);
		free(t);
	}
	return NULL;
}

static void test_hs256_threads(void **state)
{
	(void)state;
	struct ml_jwt_key *k;
	char *expect;
	json_t *c = json_pack("{s:s}", "room", "abc");
	assert_int_equal(ml_jwt_key_hs256(&k, "k", 1), 0);
	assert_int_equal(ml_jwt_sign(&expect, k, NULL, NULL, c), 0);
	struct hs_ctx hc = {k, c, expect, 0};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hs_thread, &hc);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(hc.failures, 0);
	free(expect);
	ml_jwt_key_free(k);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hs256_jitsi_vector), cmocka_unit_test(test_hs256_twilio_vector),
	    cmocka_unit_test(test_hs256_tamper),       cmocka_unit_test(test_rs256_roundtrip),
	    cmocka_unit_test(test_rs256_bad_keys),     cmocka_unit_test(test_hs256_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

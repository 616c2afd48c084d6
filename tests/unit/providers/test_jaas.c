/* The jaas driver: 8x8.vc links, RS256 tokens with kid, minted per participant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/jwt.h"
#include "providers/provider.h"

#define APP "vpaas-magic-cookie-1fc542a3e4414a44b2611668195e2bfe"
#define KID APP "/4f4910"

static const uint8_t secret[] = "room-secret";
static struct ml_jwt_key *key;
static EVP_PKEY *pub;

static int setup(void **state)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	long n = BIO_get_mem_data(b, &p);
	int rc = ml_jwt_key_rs256_pem(&key, p, (size_t)n);
	BIO_free(b);
	/* Keep only the public half for verification. */
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(b, pk);
	pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	EVP_PKEY_free(pk);
	return rc == 0 && pub ? 0 : -1;
}

static int teardown(void **state)
{
	ml_jwt_key_free(key);
	EVP_PKEY_free(pub);
	return 0;
}

static struct ml_platform_settings settings(void)
{
	struct ml_platform_settings s = {0};
	s.jaas_app_id = APP;
	s.jaas_kid = KID;
	s.jaas_key = key;
	s.join_early_seconds = 600;
	s.join_late_seconds = 1800;
	s.room_secret = secret;
	s.room_secret_len = sizeof(secret) - 1;
	return s;
}

static struct ml_meeting_req req(const char *bkg, json_t *svc)
{
	struct ml_meeting_req r = {0};
	r.org_id = "org_1";
	r.booking_id = bkg;
	r.title = "Consultation";
	r.start = 1800000000;
	r.end = 1800001800;
	r.settings = svc;
	return r;
}

static const struct ml_provider_ops *drv(void)
{
	const struct ml_provider_ops *o = ml_provider_find("jaas");
	assert_non_null(o);
	return o;
}

/* Verifies the token's RS256 signature with the public key only; returns header and claims. */
static void verify_pub(const char *tok, json_t **hdr, json_t **claims)
{
	const char *dot = strrchr(tok, '.');
	size_t siglen;
	uint8_t *sig;
	assert_non_null(dot);
	assert_int_equal(ml_jwt_decode(hdr, claims, tok), 0);
	sig = ml_base64url_decode(dot + 1, strlen(dot + 1), &siglen);
	assert_non_null(sig);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pub), 1);
	assert_int_equal(
	    EVP_DigestVerify(m, sig, siglen, (const uint8_t *)tok, (size_t)(dot - tok)), 1);
	EVP_MD_CTX_free(m);
	free(sig);
}

static void test_create_and_tokens(void **state)
{
	(void)state;
	struct ml_platform_settings s = settings();
	struct ml_provider_ctx cx = {&s, 1799990000};
	json_t *svc = json_pack("{s:b}", "recording", 1);
	struct ml_meeting_req r = req("bkg_1", svc), r2 = req("bkg_2", svc);
	struct ml_meeting m = {0}, m2 = {0}, again = {0};
	struct ml_perr err = {0};

	assert_int_equal(drv()->meeting_create(&cx, &r, &m, &err), 0);
	assert_int_equal(drv()->meeting_create(&cx, &r, &again, &err), 0);
	assert_int_equal(drv()->meeting_create(&cx, &r2, &m2, &err), 0);
	assert_string_equal(m.join_url, again.join_url);
	assert_string_not_equal(m.join_url, m2.join_url);
	char expect[256];
	snprintf(expect, sizeof(expect), "https://8x8.vc/%s/%s", APP, m.external_id);
	assert_string_equal(m.join_url, expect);
	/* No token is minted eagerly. */
	assert_null(strstr(m.join_url, "jwt="));
	assert_null(strstr(m.host_url, "jwt="));

	struct ml_participant_ref host = {"prt_h", "host", "Hanna Host", "h@example.com"};
	struct ml_participant_ref cust = {"prt_c", "customer", "Carl", "c@example.com"};
	const struct ml_participant_ref *who[] = {&host, &cust};
	for (int i = 0; i < 2; i++) {
		char *url = NULL;
		json_t *h, *c;
		assert_int_equal(drv()->participant_url(&cx, &r, &m, who[i], &url, &err), 0);
		size_t n = strlen(m.join_url);
		assert_int_equal(strncmp(url, m.join_url, n), 0);
		assert_int_equal(strncmp(url + n, "?jwt=", 5), 0);
		verify_pub(url + n + 5, &h, &c);
		assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
		assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
		assert_string_equal(json_string_value(json_object_get(h, "kid")), KID);
		assert_string_equal(json_string_value(json_object_get(c, "aud")), "jitsi");
		assert_string_equal(json_string_value(json_object_get(c, "iss")), "chat");
		assert_string_equal(json_string_value(json_object_get(c, "sub")), APP);
		assert_string_equal(json_string_value(json_object_get(c, "room")), m.external_id);
		assert_int_equal(json_integer_value(json_object_get(c, "nbf")), 1800000000 - 600);
		assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1800001800 + 1800);
		assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1799990000);
		json_t *ctx = json_object_get(c, "context");
		json_t *user = json_object_get(ctx, "user");
		assert_string_equal(json_string_value(json_object_get(user, "id")), who[i]->id);
		assert_string_equal(json_string_value(json_object_get(user, "name")), who[i]->name);
		assert_string_equal(json_string_value(json_object_get(user, "email")),
		                    who[i]->email);
		assert_string_equal(json_string_value(json_object_get(user, "moderator")),
		                    i == 0 ? "true" : "false");
		json_t *feat = json_object_get(ctx, "features");
		if (i == 0) {
			assert_string_equal(json_string_value(json_object_get(feat, "recording")),
			                    "true");
			assert_string_equal(
			    json_string_value(json_object_get(feat, "livestreaming")), "false");
		} else {
			assert_null(feat);
		}
		json_decref(h);
		json_decref(c);
		free(url);
	}

	/* Reschedule keeps the room. */
	r.external_id = m.external_id;
	r.join_url = m.join_url;
	r.start += 3600;
	ml_meeting_clear(&again);
	assert_int_equal(drv()->meeting_update(&cx, &r, &again, &err), 0);
	assert_string_equal(again.join_url, m.join_url);
	assert_int_equal(drv()->meeting_delete(&cx, &r, &err), 0);

	ml_meeting_clear(&m);
	ml_meeting_clear(&m2);
	ml_meeting_clear(&again);
	json_decref(svc);
}

static void test_not_configured(void **state)
{
	(void)state;
	struct ml_platform_settings s = settings();
	struct ml_provider_ctx cx = {&s, 1799990000};
	struct ml_meeting_req r = req("bkg_1", NULL);
	struct ml_meeting m = {0};
	struct ml_perr err = {0};

	s.jaas_key = NULL;
	assert_true(drv()->meeting_create(&cx, &r, &m, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_PERMANENT);
	assert_string_equal(err.code, "platform_not_configured");
	assert_non_null(strstr(err.message, "private key"));
	assert_null(m.join_url);

	s = settings();
	s.jaas_app_id = NULL;
	memset(&err, 0, sizeof(err));
	assert_true(drv()->meeting_create(&cx, &r, &m, &err) < 0);
	assert_string_equal(err.code, "platform_not_configured");

	s = settings();
	struct ml_meeting ok = {0};
	assert_int_equal(drv()->meeting_create(&cx, &r, &ok, &err), 0);
	s.jaas_key = NULL;
	char *url = NULL;
	struct ml_participant_ref p = {"prt_1", "customer", "X", NULL};
	assert_true(drv()->participant_url(&cx, &r, &ok, &p, &url, &err) < 0);
	assert_null(url);
	ml_meeting_clear(&ok);
}

/* The organization's credential (cx->creds: config and secrets merged) wins over the server's
 * key: its app id in the link, its kid, its key signing (verified with its public half). */
static void test_org_credential(void **state)
{
	(void)state;
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	long n = BIO_get_mem_data(b, &pem);
	json_t *extra = json_pack("{s:s, s:s, s:s%}", "app_id", "vpaas-magic-cookie-org",
				  "key_id", "vpaas-magic-cookie-org/k1", "private_key", pem,
				  (size_t)n);
	BIO_free(b);
	struct ml_pcreds cr = {.extra = extra, .org_level = true};
	struct ml_platform_settings s = settings();
	struct ml_provider_ctx cx = {&s, 1799990000, &cr};
	struct ml_meeting_req r = req("bkg_1", NULL);
	struct ml_meeting m = {0};
	struct ml_perr err = {0};
	struct ml_participant_ref cust = {"prt_c", "customer", "Carl", NULL};
	char *url = NULL;
	json_t *h = NULL, *c = NULL;

	assert_non_null(drv()->ready);
	assert_int_equal(drv()->ready(&cx, &err), 0);
	assert_int_equal(drv()->meeting_create(&cx, &r, &m, &err), 0);
	assert_non_null(strstr(m.join_url, "https://8x8.vc/vpaas-magic-cookie-org/"));
	assert_int_equal(drv()->participant_url(&cx, &r, &m, &cust, &url, &err), 0);
	const char *tok = strstr(url, "?jwt=") + 5;
	assert_int_equal(ml_jwt_decode(&h, &c, tok), 0);
	assert_string_equal(json_string_value(json_object_get(h, "kid")),
			    "vpaas-magic-cookie-org/k1");
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "vpaas-magic-cookie-org");
	/* Signed by the organization's key, not the server's. */
	const char *dot = strrchr(tok, '.');
	size_t siglen;
	uint8_t *sig = ml_base64url_decode(dot + 1, strlen(dot + 1), &siglen);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, siglen, (const uint8_t *)tok, (size_t)(dot - tok)),
			 1);
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	assert_int_not_equal(
	    EVP_DigestVerify(md, sig, siglen, (const uint8_t *)tok, (size_t)(dot - tok)), 1);
	EVP_MD_CTX_free(md);
	free(sig);
	json_decref(h);
	json_decref(c);
	free(url);
	url = NULL;

	/* Without a server key the credential alone is enough; a broken one names what. */
	s.jaas_app_id = NULL;
	s.jaas_kid = NULL;
	s.jaas_key = NULL;
	assert_int_equal(drv()->ready(&cx, &err), 0);
	json_object_set_new(extra, "private_key", json_string("not a key"));
	assert_true(drv()->participant_url(&cx, &r, &m, &cust, &url, &err) < 0);
	assert_null(url);
	assert_string_equal(err.code, "platform_not_configured");
	assert_non_null(strstr(err.message, "private key"));
	cx.creds = NULL;
	memset(&err, 0, sizeof err);
	assert_true(drv()->ready(&cx, &err) < 0);
	assert_non_null(strstr(err.message, "/v1/credentials/jaas"));

	ml_meeting_clear(&m);
	json_decref(extra);
	EVP_PKEY_free(pk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_and_tokens),
	    cmocka_unit_test(test_not_configured),
	    cmocka_unit_test(test_org_credential),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* JaaS webhooks: the sandbox's X-Jaas-Signature and the jaas driver's verify/parse against
 * the computed example of specs/jitsi/jitsi-notes.json (jaas.webhooks.signature). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "providers/provider.h"
#include "sandbox/webhook_sig.h"

static json_t *vector(void)
{
	const char *dir = getenv("ML_SPECS");
	char path[1024];
	snprintf(path, sizeof path, "%s/jitsi/jitsi-notes.json", dir ? dir : "../../shared/specs");
	json_t *doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	json_t *sig = json_object_get(json_object_get(json_object_get(doc, "jaas"), "webhooks"),
				      "signature");
	json_t *v = json_deep_copy(json_object_get(sig, "computed_example"));
	json_decref(doc);
	assert_non_null(v);
	return v;
}

struct hdrs {
	const char *sig;
};

static const char *header(const void *arg, const char *name)
{
	const struct hdrs *h = arg;
	return strcmp(name, "x-jaas-signature") == 0 ? h->sig : NULL;
}

static int verify(const char *secret, const char *sig, const char *body, int64_t now)
{
	const struct ml_provider_ops *ops = ml_provider_find("jaas");
	assert_non_null(ops);
	assert_non_null(ops->inbound);
	struct hdrs h = {sig};
	struct ml_inbound_req r = {body, strlen(body), header, &h, now};
	int rc = ops->inbound->verify(secret, &r);
	ml_error_clear();
	return rc;
}

#define T 1632490060

static void test_sandbox_signature_matches_vector(void **state)
{
	(void)state;
	json_t *v = vector();
	const char *body = json_string_value(json_object_get(v, "raw_body"));
	char *sig = ml_sbx_jaas_signature(json_string_value(json_object_get(v, "secret")), T, body,
					  strlen(body));
	assert_string_equal(sig, json_string_value(json_object_get(v, "header")));
	free(sig);
	json_decref(v);
}

static void test_driver_accepts_vector(void **state)
{
	(void)state;
	json_t *v = vector();
	const char *body = json_string_value(json_object_get(v, "raw_body"));
	const char *secret = json_string_value(json_object_get(v, "secret"));
	const char *good = json_string_value(json_object_get(v, "header"));
	const char *b64 = strstr(good, "v1=") + 3;
	char buf[512];
	assert_int_equal(verify(secret, good, body, T), 0);
	assert_int_equal(verify(secret, good, body, T + 299), 0);
	/* Several v1 entries (rotation) and other schemes, in any order. */
	snprintf(buf, sizeof buf, "v0=abc,v1=AAAA,t=%d,v1=%s", T, b64);
	assert_int_equal(verify(secret, buf, body, T), 0);
	json_decref(v);
}

static void test_driver_refuses(void **state)
{
	(void)state;
	json_t *v = vector();
	const char *body = json_string_value(json_object_get(v, "raw_body"));
	const char *secret = json_string_value(json_object_get(v, "secret"));
	const char *good = json_string_value(json_object_get(v, "header"));
	const char *b64 = strstr(good, "v1=") + 3;
	char buf[512], *tampered = strdup(body);
	tampered[10] ^= 1;
	assert_int_equal(verify(secret, good, body, T + 301), ML_EAUTH);   /* stale */
	assert_int_equal(verify(secret, good, body, T - 301), ML_EAUTH);   /* from the future */
	assert_int_equal(verify("other", good, body, T), ML_EAUTH);       /* wrong secret */
	assert_int_equal(verify(secret, good, tampered, T), ML_EAUTH);    /* body changed */
	snprintf(buf, sizeof buf, "t=%d,v1=%s", T + 1, b64);               /* t changed */
	assert_int_equal(verify(secret, buf, body, T), ML_EAUTH);
	snprintf(buf, sizeof buf, "t=%d,v0=%s", T, b64);                   /* only another scheme */
	assert_int_equal(verify(secret, buf, body, T), ML_EAUTH);
	snprintf(buf, sizeof buf, "v1=%s", b64);                           /* no timestamp */
	assert_int_equal(verify(secret, buf, body, T), ML_EAUTH);
	snprintf(buf, sizeof buf, "t=%dx,v1=%s", T, b64);
	assert_int_equal(verify(secret, buf, body, T), ML_EAUTH);
	assert_int_equal(verify(secret, NULL, body, T), ML_EAUTH);
	assert_int_equal(verify(secret, "", body, T), ML_EAUTH);
	free(tampered);
	json_decref(v);
}

static void test_parse_keys_on_idempotency_key(void **state)
{
	(void)state;
	json_t *v = vector();
	const char *raw = json_string_value(json_object_get(v, "raw_body"));
	json_t *body = json_loads(raw, 0, NULL);
	const struct ml_provider_ops *ops = ml_provider_find("jaas");
	struct ml_inbound_req r = {raw, strlen(raw), header, NULL, T};
	struct ml_inbound_event ev = {0};
	assert_int_equal(ops->inbound->parse("s", &r, body, &ev), 0);
	assert_string_equal(ev.key, "d11f155d-ced5-4a7e-b6d9-aaa135c64f65");
	assert_string_equal(ev.external_id, "booking-42");
	json_object_del(body, "idempotencyKey");
	memset(&ev, 0, sizeof ev);
	assert_int_equal(ops->inbound->parse("s", &r, body, &ev), ML_EINVAL);
	ml_error_clear();
	json_object_set_new(body, "idempotencyKey", json_string("a\nb"));
	assert_int_equal(ops->inbound->parse("s", &r, body, &ev), ML_EINVAL);
	ml_error_clear();
	json_decref(body);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox_signature_matches_vector),
		cmocka_unit_test(test_driver_accepts_vector),
		cmocka_unit_test(test_driver_refuses),
		cmocka_unit_test(test_parse_keys_on_idempotency_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Zoom webhook signatures: x-zm-signature and the endpoint.url_validation answer against the
 * computed vector of specs/zoom/zoom-auth-webhooks-ratelimits.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/webhook_sig.h"

static json_t *vector(void)
{
	const char *dir = getenv("ML_SPECS");
	char path[1024];
	snprintf(path, sizeof path, "%s/zoom/zoom-auth-webhooks-ratelimits.json",
		 dir ? dir : "../../shared/specs");
	json_t *doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	json_t *v = json_deep_copy(json_object_get(json_object_get(doc, "webhooks"),
						   "computed_test_vector"));
	json_decref(doc);
	assert_non_null(v);
	return v;
}

static void test_signature_matches_vector(void **state)
{
	(void)state;
	json_t *v = vector();
	const char *body = json_string_value(json_object_get(v, "raw_body"));
	char sig[ML_ZOOM_SIG_MAX];
	ml_sbx_zoom_signature(json_string_value(json_object_get(v, "secret_token")),
			      json_string_value(json_object_get(v, "x-zm-request-timestamp")), body,
			      strlen(body), sig);
	assert_string_equal(sig, json_string_value(json_object_get(v, "expected_x-zm-signature")));
	json_decref(v);
}

static void test_signature_depends_on_every_input(void **state)
{
	(void)state;
	json_t *v = vector();
	const char *body = json_string_value(json_object_get(v, "raw_body"));
	const char *secret = json_string_value(json_object_get(v, "secret_token"));
	const char *expect = json_string_value(json_object_get(v, "expected_x-zm-signature"));
	char sig[ML_ZOOM_SIG_MAX];
	ml_sbx_zoom_signature(secret, "1700000001", body, strlen(body), sig);
	assert_string_not_equal(sig, expect);
	ml_sbx_zoom_signature("other-secret", "1700000000", body, strlen(body), sig);
	assert_string_not_equal(sig, expect);
	ml_sbx_zoom_signature(secret, "1700000000", body, strlen(body) - 1, sig);
	assert_string_not_equal(sig, expect);
	json_decref(v);
}

static void test_url_validation_matches_vector(void **state)
{
	(void)state;
	json_t *v = vector(), *uv = json_object_get(v, "url_validation");
	char enc[65];
	ml_sbx_zoom_url_token(json_string_value(json_object_get(v, "secret_token")),
			      json_string_value(json_object_get(uv, "plainToken")), enc);
	assert_string_equal(enc,
			    json_string_value(json_object_get(uv, "expected_encryptedToken")));
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_matches_vector),
		cmocka_unit_test(test_signature_depends_on_every_input),
		cmocka_unit_test(test_url_validation_matches_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

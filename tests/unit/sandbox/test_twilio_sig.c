/* X-Twilio-Signature against the computed vector of specs/twilio/twilio-video-notes.json. */
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
	snprintf(path, sizeof path, "%s/twilio/twilio-video-notes.json",
		 dir ? dir : "../../shared/specs");
	json_t *doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	json_t *v = json_deep_copy(json_object_get(
		json_object_get(json_object_get(doc, "status_callbacks"), "signature"),
		"computed_example"));
	json_decref(doc);
	assert_non_null(v);
	return v;
}

static void test_signature_matches_vector(void **state)
{
	(void)state;
	json_t *v = vector();
	char *sig = ml_sbx_twilio_signature(json_string_value(json_object_get(v, "auth_token")),
					    json_string_value(json_object_get(v, "url")),
					    json_object_get(v, "params"));
	assert_string_equal(sig,
			    json_string_value(json_object_get(v, "expected_X-Twilio-Signature")));
	free(sig);
	json_decref(v);
}

static void test_param_order_does_not_matter_but_values_do(void **state)
{
	(void)state;
	json_t *v = vector(), *params = json_object_get(v, "params"), *rev = json_object();
	const char *expect = json_string_value(json_object_get(v, "expected_X-Twilio-Signature"));
	const char *tok = json_string_value(json_object_get(v, "auth_token"));
	const char *url = json_string_value(json_object_get(v, "url"));
	/* Insert in reverse order: the algorithm sorts by name. */
	const char *keys[16];
	size_t n = 0;
	const char *k;
	json_t *val;
	json_object_foreach(params, k, val)
		keys[n++] = k;
	while (n--)
		json_object_set(rev, keys[n], json_object_get(params, keys[n]));
	char *sig = ml_sbx_twilio_signature(tok, url, rev);
	assert_string_equal(sig, expect);
	free(sig);
	json_object_set_new(rev, "RoomStatus", json_string("completed"));
	sig = ml_sbx_twilio_signature(tok, url, rev);
	assert_string_not_equal(sig, expect);
	free(sig);
	sig = ml_sbx_twilio_signature(tok, "https://example.com/other", params);
	assert_string_not_equal(sig, expect);
	free(sig);
	json_decref(rev);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_matches_vector),
		cmocka_unit_test(test_param_order_does_not_matter_but_values_do),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

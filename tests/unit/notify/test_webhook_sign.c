/* Standard Webhooks: the official signing vector, secrets, and endpoint event filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/error.h"
#include "notify/webhook.h"

static json_t *vectors(void)
{
	const char *dir = getenv("ML_SPECS");
	char path[1024];
	snprintf(path, sizeof path, "%s/standard-webhooks/standard-webhooks-test-vectors.json",
	         dir ? dir : "../../shared/specs");
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

/* The vector from the standard's own library tests, with and without the whsec_ prefix. */
static void official_vector(void **state)
{
	(void)state;
	json_t *all = vectors();
	json_t *v = json_array_get(json_object_get(all, "sign_vectors"), 0);
	assert_non_null(v);
	const char *body = json_string_value(json_object_get(v, "body"));
	const char *id = json_string_value(json_object_get(v, "webhook_id"));
	int64_t ts = json_integer_value(json_object_get(v, "webhook_timestamp"));
	const char *want = json_string_value(json_object_get(v, "expected_signature"));
	char *sig = NULL;

	assert_int_equal(ml_webhook_sign(&sig, json_string_value(json_object_get(v, "secret")), id,
	                                 ts, body, strlen(body)),
	                 0);
	assert_string_equal(sig, want);
	free(sig);
	assert_int_equal(
	    ml_webhook_sign(&sig, json_string_value(json_object_get(v, "secret_raw_bytes_b64")), id,
	                    ts, body, strlen(body)),
	    0);
	assert_string_equal(sig, want);
	free(sig);
	/* Any change to id, timestamp or body changes the signature. */
	const char *secret = json_string_value(json_object_get(v, "secret"));
	assert_int_equal(ml_webhook_sign(&sig, secret, id, ts + 1, body, strlen(body)), 0);
	assert_string_not_equal(sig, want);
	free(sig);
	assert_int_equal(ml_webhook_sign(&sig, secret, "msg_other", ts, body, strlen(body)), 0);
	assert_string_not_equal(sig, want);
	free(sig);
	assert_true(strlen(body) > 1);
	assert_int_equal(ml_webhook_sign(&sig, secret, id, ts, body, strlen(body) - 1), 0);
	assert_string_not_equal(sig, want);
	free(sig);
	json_decref(all);
}

static void bad_secrets(void **state)
{
	(void)state;
	char *sig = NULL;
	assert_int_equal(ml_webhook_sign(&sig, "", "msg_1", 1, "{}", 2), ML_EINVAL);
	assert_int_equal(ml_webhook_sign(&sig, "whsec_", "msg_1", 1, "{}", 2), ML_EINVAL);
	assert_int_equal(ml_webhook_sign(&sig, "whsec_!!!!", "msg_1", 1, "{}", 2), ML_EINVAL);
	/* An id with a '.' would make "id.timestamp.body" ambiguous. */
	assert_int_equal(
	    ml_webhook_sign(&sig, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg.1", 1, "{}", 2),
	    ML_EINVAL);
	assert_null(sig);
}

static void new_secret(void **state)
{
	(void)state;
	char *a = ml_webhook_secret_new(), *b = ml_webhook_secret_new();
	assert_true(strncmp(a, "whsec_", 6) == 0);
	size_t n = 0;
	uint8_t *raw = ml_base64_decode(a + 6, strlen(a + 6), &n);
	assert_non_null(raw);
	assert_int_equal(n, 32); /* the standard asks for 24 to 64 bytes */
	assert_string_not_equal(a, b);
	char *sig = NULL;
	assert_int_equal(ml_webhook_sign(&sig, a, "msg_x", 1700000000, "{}", 2), 0);
	assert_true(strncmp(sig, "v1,", 3) == 0);
	free(sig);
	free(raw);
	free(a);
	free(b);
}

static void filters(void **state)
{
	(void)state;
	json_t *f = json_pack("[s, s]", "booking.*", "meeting.ready");
	assert_int_equal(ml_webhook_filter_check(f), 0);
	assert_true(ml_webhook_filter_match(f, "booking.created"));
	assert_true(ml_webhook_filter_match(f, "booking.cancelled"));
	assert_true(ml_webhook_filter_match(f, "meeting.ready"));
	assert_false(ml_webhook_filter_match(f, "meeting.failed"));
	assert_false(ml_webhook_filter_match(f, "connection.reauth_required"));
	json_decref(f);

	f = json_pack("[s]", "*");
	assert_int_equal(ml_webhook_filter_check(f), 0);
	assert_true(ml_webhook_filter_match(f, "meeting.failed"));
	json_decref(f);

	f = json_pack("[s, s]", "booking.created", "nope.*");
	assert_int_equal(ml_webhook_filter_check(f), ML_EINVAL);
	assert_string_equal(ml_error_field(), "events[1]");
	json_decref(f);
	f = json_pack("[s]", "booking.exploded");
	assert_int_equal(ml_webhook_filter_check(f), ML_EINVAL);
	json_decref(f);
	f = json_array();
	assert_int_equal(ml_webhook_filter_check(f), ML_EINVAL);
	json_decref(f);
	f = json_pack("[i]", 3);
	assert_int_equal(ml_webhook_filter_check(f), ML_EINVAL);
	json_decref(f);
	/* "booking." must not match "bookings.x" through a sloppy prefix. */
	f = json_pack("[s]", "booking.*");
	assert_false(ml_webhook_filter_match(f, "bookingx.created"));
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(official_vector),
	    cmocka_unit_test(bad_secrets),
	    cmocka_unit_test(new_secret),
	    cmocka_unit_test(filters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

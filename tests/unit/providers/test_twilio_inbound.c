/* Twilio status callbacks: the twilio driver's verify/parse against the computed example of
 * specs/twilio/twilio-video-notes.json (status_callbacks.signature), and the form parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/form.h"
#include "providers/provider.h"

static json_t *vector(void)
{
	const char *dir = getenv("ML_SPECS");
	char path[1024];
	snprintf(path, sizeof path, "%s/twilio/twilio-video-notes.json",
		 dir ? dir : "../../shared/specs");
	json_t *doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	json_t *sig = json_object_get(json_object_get(doc, "status_callbacks"), "signature");
	json_t *v = json_deep_copy(json_object_get(sig, "computed_example"));
	json_decref(doc);
	assert_non_null(v);
	return v;
}

static const char *header(const void *arg, const char *name)
{
	return strcmp(name, "x-twilio-signature") == 0 ? arg : NULL;
}

static const struct ml_inbound_info *inbound(void)
{
	const struct ml_provider_ops *ops = ml_provider_find("twilio");
	assert_non_null(ops);
	assert_non_null(ops->inbound);
	return ops->inbound;
}

static int verify(const char *token, const char *sig, const char *url, json_t *form)
{
	struct ml_inbound_req r = {"", 0, header, sig, 0, url, form};
	int rc = inbound()->verify(token, &r);
	ml_error_clear();
	return rc;
}

static void test_driver_accepts_vector(void **state)
{
	(void)state;
	json_t *v = vector();
	const char *token = json_string_value(json_object_get(v, "auth_token"));
	const char *url = json_string_value(json_object_get(v, "url"));
	const char *want = json_string_value(json_object_get(v, "expected_X-Twilio-Signature"));
	json_t *params = json_object_get(v, "params");
	assert_int_equal(verify(token, want, url, params), 0);
	/* Another token, URL, parameter or signature: refused. */
	assert_int_equal(verify("other-token", want, url, params), ML_EAUTH);
	assert_int_equal(verify(token, want, "https://example.com/twilio/room-status?", params),
			 ML_EAUTH);
	json_t *changed = json_deep_copy(params);
	json_object_set_new(changed, "RoomName", json_string("booking-43"));
	assert_int_equal(verify(token, want, url, changed), ML_EAUTH);
	json_decref(changed);
	assert_int_equal(verify(token, "U2pZV56krFzI8+ffVH4nHLTj1+Z=", url, params), ML_EAUTH);
	assert_int_equal(verify(token, NULL, url, params), ML_EAUTH);
	/* Not a form (a JSON body): nothing to verify. */
	assert_int_equal(verify(token, want, url, NULL), ML_EAUTH);
	json_decref(v);
}

static void test_parse_presence_and_keys(void **state)
{
	(void)state;
	json_t *f = NULL;
	const char *body = "RoomName=ml-r&RoomSid=RM1&StatusCallbackEvent=participant-connected"
			   "&ParticipantSid=PA1&ParticipantIdentity=prt_abc&SequenceNumber=4"
			   "&Timestamp=2026-12-07T10%3A00%3A01.250Z";
	assert_int_equal(ml_form_parse(body, strlen(body), &f), 0);
	struct ml_inbound_req r = {body, strlen(body), header, "", 0, "u", f};
	struct ml_inbound_event e = {0};
	assert_int_equal(inbound()->parse("t", &r, f, &e), 0);
	assert_int_equal(e.kind, ML_INBOUND_PRESENCE);
	assert_string_equal(e.key, "RM1:PA1:participant-connected:4");
	assert_string_equal(e.external_id, "ml-r");
	assert_true(e.presence.joined);
	assert_string_equal(e.presence.session, "PA1");
	assert_string_equal(e.presence.identity, "prt_abc");
	assert_int_equal(e.presence.seq, 4);
	assert_int_equal(e.presence.at_ms, 1796637601250LL);
	/* A room event is handled once and ignored. */
	json_object_set_new(f, "StatusCallbackEvent", json_string("room-created"));
	memset(&e, 0, sizeof e);
	assert_int_equal(inbound()->parse("t", &r, f, &e), 0);
	assert_int_equal(e.kind, ML_INBOUND_IGNORE);
	/* A bad sequence number is named. */
	json_object_set_new(f, "SequenceNumber", json_string("4x"));
	assert_int_equal(inbound()->parse("t", &r, f, &e), ML_EINVAL);
	assert_string_equal(ml_error_field(), "SequenceNumber");
	ml_error_clear();
	json_decref(f);
}

static void test_form_parse(void **state)
{
	(void)state;
	json_t *f = NULL;
	assert_int_equal(ml_form_parse("a=b+c%21&d=&e&&", 15, &f), 0);
	assert_string_equal(json_string_value(json_object_get(f, "a")), "b c!");
	assert_string_equal(json_string_value(json_object_get(f, "d")), "");
	assert_string_equal(json_string_value(json_object_get(f, "e")), "");
	json_decref(f);
	assert_int_equal(ml_form_parse("a=1&a=2", 7, &f), ML_EINVAL);
	assert_string_equal(ml_error_field(), "a");
	assert_int_equal(ml_form_parse("a=%zz", 5, &f), ML_EINVAL);
	assert_int_equal(ml_form_parse("a=%00", 5, &f), ML_EINVAL);
	assert_int_equal(ml_form_parse("a=%01", 5, &f), ML_EINVAL);
	assert_int_equal(ml_form_parse("a=%ff", 5, &f), ML_EINVAL);
	assert_int_equal(ml_form_parse("=1", 2, &f), ML_EINVAL);
	assert_null(f);
	ml_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_driver_accepts_vector),
	    cmocka_unit_test(test_parse_presence_and_keys),
	    cmocka_unit_test(test_form_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Response helpers (http/server.c): a value jansson cannot serialize answers a generic 500 JSON
 * error instead of aborting the process, and nothing of the value is echoed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

static void resp_clear(struct ml_http_resp *r)
{
	free(r->body);
	for (int i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	memset(r, 0, sizeof *r);
}

static void assert_generic_500(struct ml_http_resp *r)
{
	assert_int_equal(r->status, 500);
	assert_string_equal(r->content_type, "application/json");
	assert_non_null(r->body);
	assert_non_null(strstr(r->body, "\"code\":\"internal_error\""));
	assert_null(memchr(r->body, 0xff, r->body_len));
}

static void test_json_null_answers_500(void **state)
{
	struct ml_http_resp r = {0};
	(void)state;
	ml_resp_json(&r, 200, NULL); /* what a failed json_pack hands over */
	assert_generic_500(&r);
	resp_clear(&r);
}

static void test_error_with_invalid_message_answers_500(void **state)
{
	struct ml_http_resp r = {0};
	(void)state;
	ml_resp_error(&r, 404, "not_found", "id", "No host with id \xff\xfe.");
	assert_generic_500(&r);
	resp_clear(&r);
	/* A field jansson refuses is left out; the error itself still goes out. */
	ml_resp_error(&r, 400, "invalid_field", "\xc3", "Bad input.");
	assert_int_equal(r.status, 400);
	assert_null(strstr(r.body, "\"field\""));
	resp_clear(&r);
}

static void test_error_ok(void **state)
{
	struct ml_http_resp r = {0};
	(void)state;
	ml_resp_error(&r, 404, "not_found", "id", "No host with id hst_1.");
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "{\"error\":{\"code\":\"not_found\",\"message\":\"No host with id "
				    "hst_1.\",\"field\":\"id\"}}");
	resp_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_null_answers_500),
		cmocka_unit_test(test_error_with_invalid_message_answers_500),
		cmocka_unit_test(test_error_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A token endpoint's answer (conn/oauth.c ml_oauth_parse_tokens) from a hostile or broken
 * provider: an access or refresh token with CR, LF, another control character or a non-ASCII
 * byte would become a header of its own when sent back as "Authorization: Bearer …" (libcurl
 * copies CURLOPT_XOAUTH2_BEARER as is). Such an answer is refused; ordinary tokens pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn/connections.h"
#include "core/error.h"

static void test_malformed_tokens_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "{\"access_token\":\"tok\\r\\nX-Injected: yes\",\"expires_in\":3600}",
	    "{\"access_token\":\"tok\\nX-Injected: yes\"}",
	    "{\"access_token\":\"tok\\u0000x\"}",
	    "{\"access_token\":\"tok\\u007f\"}",
	    "{\"access_token\":\"t\\u00e9k\"}",
	    "{\"access_token\":\"ok\",\"refresh_token\":\"r\\r\\nX-Injected: yes\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ml_oauth_tokens t = {0};
		int rc = ml_oauth_parse_tokens(200, bad[i], &t);
		if (rc != ML_EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_string_equal(ml_error_code(), "provider_error");
		assert_null(t.access_token);
	}
}

static void test_ordinary_tokens_pass(void **state)
{
	(void)state;
	struct ml_oauth_tokens t = {0};
	assert_int_equal(ml_oauth_parse_tokens(200,
	                                       "{\"access_token\":\"ya29.a0Af-_~+/=\","
	                                       "\"refresh_token\":\"1//0g~x y\",\"expires_in\":3599}",
	                                       &t),
	                 0);
	assert_string_equal(t.access_token, "ya29.a0Af-_~+/=");
	assert_string_equal(t.refresh_token, "1//0g~x y");
	ml_oauth_tokens_clear(&t);
}

/* A lifetime no token has (found by fuzz_oauth: expires_in "3599444…" saturated strtoll and
 * now + expires_in overflowed when the connection was saved): bounded to a year, as a number
 * or a string; none or a non-positive one is an hour. */
static void test_expires_in_bounded(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int64_t want;
	} cases[] = {
	    {"{\"access_token\":\"a\",\"expires_in\":\"359944444444444444444444444444\"}",
	     ML_OAUTH_EXPIRES_MAX},
	    {"{\"access_token\":\"a\",\"expires_in\":9223372036854775807}", ML_OAUTH_EXPIRES_MAX},
	    {"{\"access_token\":\"a\",\"expires_in\":31622401}", ML_OAUTH_EXPIRES_MAX},
	    {"{\"access_token\":\"a\",\"expires_in\":31622400}", 31622400},
	    {"{\"access_token\":\"a\",\"expires_in\":\"3600\"}", 3600},
	    {"{\"access_token\":\"a\",\"expires_in\":-5}", 3600},
	    {"{\"access_token\":\"a\"}", 3600},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ml_oauth_tokens t = {0};
		assert_int_equal(ml_oauth_parse_tokens(200, cases[i].body, &t), 0);
		if (t.expires_in != cases[i].want)
			fail_msg("%s: expires_in %lld", cases[i].body, (long long)t.expires_in);
		ml_oauth_tokens_clear(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_malformed_tokens_refused),
	    cmocka_unit_test(test_ordinary_tokens_pass),
	    cmocka_unit_test(test_expires_in_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

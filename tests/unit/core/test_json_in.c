/* JSON from outside: nesting measured on the raw text before jansson parses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/json_in.h"

static char *nested(const char *prefix, int depth, const char *suffix)
{
	size_t n = strlen(prefix) + 2 * (size_t)depth + strlen(suffix) + 1;
	char *s = malloc(n);
	size_t at = 0;
	memcpy(s, prefix, strlen(prefix));
	at += strlen(prefix);
	memset(s + at, '[', (size_t)depth);
	at += (size_t)depth;
	memset(s + at, ']', (size_t)depth);
	at += (size_t)depth;
	memcpy(s + at, suffix, strlen(suffix) + 1);
	return s;
}

static void test_depth_counts(void **state)
{
	(void)state;
	size_t at = 99;
	char key[16];
	assert_int_equal(ml_json_depth_check("{}", 2, 1, &at, key, sizeof key), 0);
	assert_int_equal(ml_json_depth_check("{\"a\":[]}", 8, 1, &at, key, sizeof key), ML_EINVAL);
	assert_int_equal(at, 5);
	assert_string_equal(key, "a");
	assert_int_equal(ml_json_depth_check("{\"a\":[]}", 8, 2, &at, key, sizeof key), 0);
	/* Brackets in strings, escaped quotes included, do not count. */
	const char *s = "{\"k\\\"[[\":\"[[[{{{\\\"[[\"}";
	assert_int_equal(ml_json_depth_check(s, strlen(s), 1, &at, key, sizeof key), 0);
	/* The member under which it went too deep; an escaped name is not copied. */
	s = "{\"a\":1,\"b\":{\"c\":[[1]]}}";
	assert_int_equal(ml_json_depth_check(s, strlen(s), 3, &at, key, sizeof key), ML_EINVAL);
	assert_string_equal(key, "b");
	s = "{\"\\u0062\":[[1]]}";
	assert_int_equal(ml_json_depth_check(s, strlen(s), 2, &at, key, sizeof key), ML_EINVAL);
	assert_string_equal(key, "");
	/* A long name is cut to the buffer, on a character boundary. */
	s = "{\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\":[[1]]}";
	assert_int_equal(ml_json_depth_check(s, strlen(s), 2, &at, key, sizeof key), ML_EINVAL);
	assert_int_equal(strlen(key), 14);
	/* An unterminated string or stray closers do not confuse it. */
	assert_int_equal(ml_json_depth_check("]]]}}[\"", 7, 1, NULL, NULL, 0), 0);
}

static void test_parse(void **state)
{
	(void)state;
	json_error_t err;
	char *ok = nested("", ML_JSON_MAX_DEPTH, "");
	json_t *j = ml_json_parse(ok, strlen(ok), 0, ML_JSON_MAX_DEPTH, &err);
	assert_non_null(j);
	json_decref(j);
	free(ok);
	char *deep = nested("{\"x\":", 100000, "}");
	j = ml_json_parse(deep, strlen(deep), 0, ML_JSON_MAX_DEPTH, &err);
	assert_null(j);
	assert_non_null(strstr(err.text, "nesting deeper than 32"));
	assert_int_equal(err.position, 5 + ML_JSON_MAX_DEPTH - 1);
	free(deep);
	j = ml_json_parse("{\"a\":[[[1]]]}", 13, 0, ML_JSON_MAX_DEPTH, &err);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_array_get(
	                     json_array_get(json_array_get(json_object_get(j, "a"), 0), 0), 0)),
	                 1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_depth_counts),
	    cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

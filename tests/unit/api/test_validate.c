/* Body validation: null only where nullable, no control characters in single-line strings,
 * bounded metadata, field paths named whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/validate.h"
#include "core/error.h"
#include "core/utf8.h"

static json_t *obj(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static void expect_field(int rc, const char *field)
{
	assert_int_equal(rc, ML_EINVAL);
	assert_string_equal(ml_error_field(), field);
}

static void test_null(void **state)
{
	(void)state;
	json_t *b = obj("{\"reason\": null, \"meta\": null, \"n\": null}");
	const char *s = "x";
	json_t *o;
	bool present;
	expect_field(ml_v_string(b, "reason", "reason", false, 10, &s), "reason");
	assert_string_equal(ml_error_code(), "invalid_field");
	assert_null(s);
	expect_field(ml_v_text(b, "reason", "reason", false, 10, &s), "reason");
	expect_field(ml_v_string(b, "reason", "reason", true, 10, &s), "reason");
	expect_field(ml_v_object(b, "meta", "meta", false, &o), "meta");
	expect_field(ml_v_metadata(b, "meta", "meta", &o), "meta");
	int64_t n;
	expect_field(ml_v_int(b, "n", "n", 0, 9, &n, &present), "n");
	/* Declared nullable: null is an answer, and it was given. */
	assert_int_equal(ml_v_string_or_null(b, "reason", "reason", 10, &s, &present), 0);
	assert_null(s);
	assert_true(present);
	/* Absent is still fine when optional, missing_field when required. */
	assert_int_equal(ml_v_string(b, "other", "other", false, 10, &s), 0);
	expect_field(ml_v_string(b, "other", "other", true, 10, &s), "other");
	assert_string_equal(ml_error_code(), "missing_field");
	json_decref(b);
}

static void test_control_characters(void **state)
{
	(void)state;
	static const char *const bad[] = {"a\r\nBcc: x@y", "a\nb", "a\rb", "a\tb", "a\x7f",
					  "a\x01", "a\xC2\x85", "a\xC2\x9F"};
	const char *s;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *b = json_pack("{s:s}", "v", bad[i]);
		expect_field(ml_v_string(b, "v", "x.v", false, 100, &s), "x.v");
		bool line = strchr(bad[i], '\n') || strchr(bad[i], '\r') || strchr(bad[i], '\t');
		assert_int_equal(ml_v_text(b, "v", "x.v", false, 100, &s), line ? 0 : ML_EINVAL);
		json_decref(b);
	}
	json_t *b = json_pack("{s:s}", "v", "Zo\xC3\xAB \xE2\x98\x83 \xC2\xA0 Bcc: a@b");
	assert_int_equal(ml_v_string(b, "v", "v", true, 100, &s), 0);
	json_decref(b);
}

static void test_metadata_bounds(void **state)
{
	(void)state;
	json_t *o;
	/* Five levels, the metadata object the first; a sixth is refused. */
	json_t *b = obj("{\"m\": {\"a\": {\"b\": {\"c\": {\"d\": [1]}}}}}");
	assert_int_equal(ml_v_metadata(b, "m", "metadata", &o), 0);
	json_decref(b);
	b = obj("{\"m\": {\"a\": {\"b\": {\"c\": {\"d\": [[]]}}}}}");
	expect_field(ml_v_metadata(b, "m", "metadata", &o), "metadata");
	json_decref(b);
	b = json_pack("{s:{}}", "m");
	json_t *m = json_object_get(b, "m");
	for (int i = 0; i < ML_META_MAX_KEYS; i++) {
		char k[8];
		snprintf(k, sizeof k, "k%d", i);
		json_object_set_new(m, k, json_true());
	}
	assert_int_equal(ml_v_metadata(b, "m", "metadata", &o), 0);
	json_object_set_new(m, "one_more", json_true());
	expect_field(ml_v_metadata(b, "m", "metadata", &o), "metadata");
	json_decref(b);
	char big[ML_META_MAX_BYTES + 1];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	b = json_pack("{s:{s:s}}", "m", "a", big);
	expect_field(ml_v_metadata(b, "m", "metadata", &o), "metadata");
	json_decref(b);
}

/* A field path of many multi-byte characters is cut whole: still UTF-8, still JSON. */
static void test_unknown_field_path(void **state)
{
	(void)state;
	static const char *const allowed[] = {"name", NULL};
	char key[301];
	for (int i = 0; i < 100; i++)
		memcpy(key + 3 * i, "\xE2\x82\xAC", 3);
	key[300] = '\0';
	json_t *b = json_pack("{s:i}", key, 1);
	assert_int_equal(ml_v_known(b, "customer", allowed), ML_EINVAL);
	const char *f = ml_error_field();
	assert_true(strncmp(f, "customer.\xE2\x82\xAC", 12) == 0);
	assert_true(ml_utf8_valid(f, strlen(f)));
	assert_true(ml_utf8_valid(ml_error_message(), strlen(ml_error_message())));
	json_t *e = json_pack("{s:s, s:s}", "field", f, "message", ml_error_message());
	assert_non_null(e);
	json_decref(e);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_null),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_metadata_bounds),
	    cmocka_unit_test(test_unknown_field_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

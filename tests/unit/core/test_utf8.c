/* UTF-8-safe cuts: never inside a character, never past an invalid sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"

static size_t cut(const char *s, size_t max)
{
	return ml_utf8_cut(s, strlen(s), max);
}

static void test_ascii(void **state)
{
	(void)state;
	assert_int_equal(cut("", 10), 0);
	assert_int_equal(cut("hello", 10), 5);
	assert_int_equal(cut("hello", 5), 5);
	assert_int_equal(cut("hello", 3), 3);
	assert_int_equal(cut("hello", 0), 0);
}

static void test_two_byte(void **state)
{
	(void)state;
	const char *s = "a\xC3\xA9"
	                "b"; /* aéb */
	assert_int_equal(cut(s, 4), 4);
	assert_int_equal(cut(s, 3), 3);
	assert_int_equal(cut(s, 2), 1); /* é would be cut in half */
	assert_int_equal(cut(s, 1), 1);
	/* 100 × é cut at 127 bytes: 63 whole characters. */
	char many[201];
	for (int i = 0; i < 100; i++)
		memcpy(many + 2 * i, "\xC3\xA9", 2);
	many[200] = '\0';
	assert_int_equal(cut(many, 127), 126);
}

static void test_three_byte(void **state)
{
	(void)state;
	const char *s = "x\xE2\x82\xAC"; /* x€ */
	assert_int_equal(cut(s, 4), 4);
	assert_int_equal(cut(s, 3), 1);
	assert_int_equal(cut(s, 2), 1);
	assert_int_equal(cut("\xE2\x82\xAC\xE2\x82\xAC", 5), 3);
}

static void test_four_byte(void **state)
{
	(void)state;
	const char *s = "\xF0\x9F\x98\x80!"; /* 😀! */
	assert_int_equal(cut(s, 5), 5);
	assert_int_equal(cut(s, 4), 4);
	for (size_t m = 1; m < 4; m++)
		assert_int_equal(cut(s, m), 0);
}

static void test_invalid(void **state)
{
	(void)state;
	/* A lone continuation byte, a truncated sequence, overlongs, a surrogate, above
	 * U+10FFFF, 0xFF: the cut stops before each. */
	assert_int_equal(cut("ab\x80z", 10), 2);
	assert_int_equal(cut("ab\xC3", 10), 2);
	assert_int_equal(cut("ab\xC3z", 10), 2);
	assert_int_equal(cut("a\xC0\xAF", 10), 1);
	assert_int_equal(cut("a\xE0\x80\xAF", 10), 1);
	assert_int_equal(cut("a\xF0\x80\x80\xAF", 10), 1);
	assert_int_equal(cut("a\xED\xA0\x80", 10), 1);
	assert_int_equal(cut("a\xF4\x90\x80\x80", 10), 1);
	assert_int_equal(cut("a\xFF", 10), 1);
	assert_int_equal(cut("a\xE2\x82z", 10), 1);
	assert_true(ml_utf8_valid("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9));
	assert_false(ml_utf8_valid("\xC3\xA9\xE2\x82", 4));
	/* The largest code points are valid. */
	assert_true(ml_utf8_valid("\xF4\x8F\xBF\xBF\xED\x9F\xBF", 7));
}

static void test_copy_and_clip(void **state)
{
	(void)state;
	char buf[4];
	assert_int_equal(ml_utf8_copy(buf, sizeof buf, "ab\xC3\xA9"), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(ml_utf8_copy(buf, sizeof buf, "a\xC3\xA9z"), 3);
	assert_string_equal(buf, "a\xC3\xA9");
	assert_int_equal(ml_utf8_copy(buf, sizeof buf, NULL), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ml_utf8_copy(buf, 1, "abc"), 0);
	assert_string_equal(buf, "");

	char s[16];
	/* What snprintf leaves after cutting "é€" at 4 bytes. */
	snprintf(s, sizeof s, "%s", "\xC3\xA9\xE2\x82");
	assert_int_equal(ml_utf8_clip(s), 2);
	assert_string_equal(s, "\xC3\xA9");
	snprintf(s, sizeof s, "%s", "fine");
	assert_int_equal(ml_utf8_clip(s), 4);
}

/* The error detail becomes JSON: its field and message are whole characters. */
static void test_error_detail(void **state)
{
	(void)state;
	char key[201];
	for (int i = 0; i < 100; i++)
		memcpy(key + 2 * i, "\xC3\xA9", 2);
	key[200] = '\0';
	ml_error_set(ML_EINVAL, "unknown_field", key, "%s is not a field of this object.", key);
	const char *f = ml_error_field(), *m = ml_error_message();
	assert_true(strlen(f) > 100 && strlen(f) % 2 == 0);
	assert_true(ml_utf8_valid(f, strlen(f)));
	assert_true(ml_utf8_valid(m, strlen(m)));
	char big[1200];
	memset(big, 'a', sizeof big);
	memcpy(big + 509, "\xE2\x82\xAC", 3); /* € across the 511-byte cut */
	big[sizeof big - 1] = '\0';
	ml_error_set(ML_EINVAL, "x", NULL, "%s", big);
	assert_int_equal(strlen(ml_error_message()), 509);
	ml_error_clear();
}

static void test_log_escape(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(ml_log_escape(out, sizeof out, "x\r\nBcc: evil"), 18);
	assert_string_equal(out, "x\\x0d\\x0aBcc: evil");
	ml_log_escape(out, sizeof out,
	              "a\tb\x7f\xFF"
	              "c\xC3\xA9");
	assert_string_equal(out, "a\\x09b\\x7f\\xffc\xC3\xA9");
	/* Cut whole: an escape or a character that does not fit is left out. */
	assert_int_equal(ml_log_escape(out, 4, "ab\xC3\xA9"), 2);
	assert_int_equal(ml_log_escape(out, 6, "ab\n"), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(ml_log_escape(out, 7, "ab\n"), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ascii),        cmocka_unit_test(test_two_byte),
	    cmocka_unit_test(test_three_byte),   cmocka_unit_test(test_four_byte),
	    cmocka_unit_test(test_invalid),      cmocka_unit_test(test_copy_and_clip),
	    cmocka_unit_test(test_error_detail), cmocka_unit_test(test_log_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Text checks (core/text.c): well-formed UTF-8 and "clean" text (no control characters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

#define V(s) ml_utf8_valid(s, sizeof s - 1)
#define C(s) ml_text_is_clean(s, sizeof s - 1)

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(V(""));
	assert_true(V("hst_1m98a6w254kcdez234ha5t69"));
	assert_true(V("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")); /* é € 😀 */
	assert_true(V("\xf4\x8f\xbf\xbf"));                        /* U+10FFFF */
	assert_true(V("a\0b"));                                    /* NUL is UTF-8 */
	assert_false(V("\xff"));
	assert_false(V("\x80"));                 /* lone continuation */
	assert_false(V("\xc3"));                 /* truncated */
	assert_false(V("\xe2\x82"));             /* truncated */
	assert_false(V("\xc0\xaf"));             /* overlong '/' */
	assert_false(V("\xe0\x80\xaf"));         /* overlong '/' */
	assert_false(V("\xf0\x80\x80\xaf"));     /* overlong '/' */
	assert_false(V("\xed\xa0\x80"));         /* surrogate U+D800 */
	assert_false(V("\xf4\x90\x80\x80"));     /* above U+10FFFF */
	assert_false(V("\xf8\x88\x80\x80\x80")); /* 5-byte form */
	assert_false(V("ok\xc3("));              /* bad continuation */
}

static void test_text_is_clean(void **state)
{
	(void)state;
	assert_true(C("hst_abc"));
	assert_true(C("Ada Lovelace \xc3\xa9"));
	assert_false(C("a\0b"));
	assert_false(C("a\r\nb"));
	assert_false(C("a\tb"));
	assert_false(C("a\x7f"));
	assert_false(C("a\xc2\x85")); /* U+0085 NEL, a C1 control */
	assert_true(C("a\xc2\xa0"));  /* U+00A0, not a control */
	assert_false(C("\xff"));
	char big[10240];
	memset(big, 'a', sizeof big);
	assert_true(ml_text_is_clean(big, sizeof big));
	big[sizeof big - 1] = '\x01';
	assert_false(ml_text_is_clean(big, sizeof big));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_text_is_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The outbound header guard (http/outhdr.h): a value with CR, LF, NUL-free control
 * characters or DEL, or a name that is not a token, is never appended, and the list the
 * caller holds is left as it was; clean values make exactly "Name: value". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "http/outhdr.h"

static int count(const struct curl_slist *l)
{
	int n = 0;
	for (; l; l = l->next)
		n++;
	return n;
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "k1\r\nX-Injected: yes", "k1\nX-Injected: yes", "k1\rX-Injected: yes", "a\x01", "a\x1f",
	    "a\x7f", "\r\n", "a\x0b", "a\x0c",
	};
	struct curl_slist *l = NULL;
	assert_int_equal(ml_outhdr_append(&l, "Accept", "application/json"), 0);
	struct curl_slist *before = l;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(ml_outhdr_value_ok(bad[i]));
		assert_int_equal(ml_outhdr_append(&l, "x-meeting-baas-api-key", bad[i]), ML_EINVAL);
		assert_string_equal(ml_error_code(), "invalid_header");
		assert_string_equal(ml_error_field(), "x-meeting-baas-api-key");
		/* The value (a credential, likely) is not quoted back. */
		assert_null(strstr(ml_error_message(), "Injected"));
		assert_ptr_equal(l, before);
		assert_int_equal(count(l), 1);
	}
	static const char *const bad_names[] = {"", "X Injected", "X:Y", "X\r\nY", "Ä", "a(b)"};
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
		assert_int_equal(ml_outhdr_append(&l, bad_names[i], "v"), ML_EINVAL);
	assert_int_equal(ml_outhdr_append(&l, NULL, "v"), ML_EINVAL);
	assert_int_equal(ml_outhdr_append(&l, "X-Null", NULL), ML_EINVAL);
	assert_int_equal(count(l), 1);
	curl_slist_free_all(l);
}

static void test_accepted(void **state)
{
	(void)state;
	struct curl_slist *l = NULL;
	assert_int_equal(ml_outhdr_append(&l, "Authorization", "Bearer abc.DEF-123_~+/="), 0);
	assert_int_equal(ml_outhdr_append(&l, "Expect", ""), 0);
	assert_int_equal(ml_outhdr_append(&l, "X-Tab", "a\tb"), 0);
	assert_int_equal(ml_outhdr_append(&l, "X-Utf8", "caf\xc3\xa9"), 0);
	assert_int_equal(ml_outhdr_append(&l, "webhook-signature", "v1,abc="), 0);
	assert_int_equal(count(l), 5);
	assert_string_equal(l->data, "Authorization: Bearer abc.DEF-123_~+/=");
	assert_string_equal(l->next->data, "Expect:");
	assert_string_equal(l->next->next->data, "X-Tab: a\tb");
	assert_string_equal(l->next->next->next->next->data, "webhook-signature: v1,abc=");
	curl_slist_free_all(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_accepted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

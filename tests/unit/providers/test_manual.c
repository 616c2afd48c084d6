/* The manual driver: the host's link, validated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "providers/provider.h"

static const struct ml_provider_ops *drv(void)
{
	const struct ml_provider_ops *o = ml_provider_find("manual");
	assert_non_null(o);
	return o;
}

static void test_valid(void **state)
{
	(void)state;
	struct ml_platform_settings s = {0};
	struct ml_provider_ctx cx = {&s, 0};
	struct ml_meeting_req r = {0};
	struct ml_meeting m = {0}, u = {0};
	struct ml_perr err = {0};
	const char *ok[] = {"https://zoom.us/j/123?pwd=abc", "http://example.com",
	                    "HTTPS://Example.com/room#x", "https://meet.example.com:8443/a/b"};

	assert_true(drv()->caps & ML_CAP_LOCAL);
	assert_null(drv()->participant_url);
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		r.manual_url = ok[i];
		assert_int_equal(drv()->meeting_create(&cx, &r, &m, &err), 0);
		assert_string_equal(m.join_url, ok[i]);
		assert_string_equal(m.host_url, ok[i]);
		assert_null(m.external_id);
		ml_meeting_clear(&m);
	}

	/* Update: a new link when given, else the current one. */
	r.manual_url = "https://a.example/1";
	assert_int_equal(drv()->meeting_create(&cx, &r, &m, &err), 0);
	r.manual_url = NULL;
	r.join_url = m.join_url;
	assert_int_equal(drv()->meeting_update(&cx, &r, &u, &err), 0);
	assert_string_equal(u.join_url, "https://a.example/1");
	ml_meeting_clear(&u);
	r.manual_url = "https://b.example/2";
	assert_int_equal(drv()->meeting_update(&cx, &r, &u, &err), 0);
	assert_string_equal(u.join_url, "https://b.example/2");
	ml_meeting_clear(&u);
	assert_int_equal(drv()->meeting_delete(&cx, &r, &err), 0);
	ml_meeting_clear(&m);
}

static void test_invalid(void **state)
{
	(void)state;
	struct ml_platform_settings s = {0};
	struct ml_provider_ctx cx = {&s, 0};
	struct ml_meeting_req r = {0};
	struct ml_meeting m = {0};
	const char *bad[] = {NULL,
	                     "",
	                     "zoom.us/j/1",
	                     "ftp://example.com",
	                     "javascript:alert(1)",
	                     "https://",
	                     "https:///path",
	                     "https://exa mple.com",
	                     "https://example.com/\"><script>",
	                     "https://example.com/\r\nX: y",
	                     "mailto:a@b.c"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct ml_perr err = {0};
		r.manual_url = bad[i];
		assert_true(drv()->meeting_create(&cx, &r, &m, &err) < 0);
		assert_int_equal(err.kind, ML_PERR_PERMANENT);
		assert_string_equal(err.code, "invalid_manual_url");
		assert_true(strlen(err.message) > 0);
		assert_null(m.join_url);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The request-schema validator (against the embedded Zoom create-meeting schema) and the
 * TZif-based local-time conversion the Zoom emulator uses for start_time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sandbox/schema.h"
#include "sandbox/tzlocal.h"
#include "sandbox/zoom_schemas.h"

static int check(const char *body, char *path, const char **why)
{
	json_t *s = json_loads(ZOOM_SCHEMA_MEETING_CREATE, 0, NULL), *b = json_loads(body, 0, NULL);
	assert_non_null(s);
	assert_non_null(b);
	int rc = ml_sb_schema_check(s, b, path, 128, why);
	json_decref(s);
	json_decref(b);
	return rc;
}

static void test_valid_body_passes(void **state)
{
	(void)state;
	char path[128];
	const char *why = NULL;
	assert_int_equal(check("{\"topic\":\"x\",\"type\":2,\"duration\":30,\"settings\":"
			       "{\"jbh_time\":5,\"audio\":\"voip\"},\"unknown_member\":1}",
			       path, &why),
			 0);
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	char path[128];
	const char *why = NULL;
	assert_int_equal(check("{\"type\":4}", path, &why), -1);
	assert_string_equal(path, "type");
	assert_string_equal(why, "enum");
	assert_int_equal(check("{\"duration\":\"30\"}", path, &why), -1);
	assert_string_equal(path, "duration");
	assert_string_equal(why, "type");
	assert_int_equal(check("{\"settings\":{\"jbh_time\":7}}", path, &why), -1);
	assert_string_equal(path, "settings.jbh_time");
	assert_int_equal(check("{\"password\":\"12345678901\"}", path, &why), -1);
	assert_string_equal(why, "maxLength");
	assert_int_equal(check("{\"recurrence\":{\"repeat_interval\":1}}", path, &why), -1);
	assert_string_equal(path, "recurrence.type");
	assert_string_equal(why, "required");
	assert_int_equal(check("{\"tracking_fields\":[{\"value\":\"v\"}]}", path, &why), -1);
	assert_string_equal(path, "tracking_fields.field");
}

static void test_tz_conversion(void **state)
{
	(void)state;
	int64_t utc;
	/* 2026-07-01T15:00:00 local, as seconds: London is BST (+1), New York EDT (-4). */
	int64_t local = 1782918000;
	assert_true(ml_sb_tz_local_to_utc("Europe/London", local, &utc));
	assert_int_equal(utc, local - 3600);
	assert_true(ml_sb_tz_local_to_utc("America/New_York", local, &utc));
	assert_int_equal(utc, local + 4 * 3600);
	/* December: London on GMT. */
	assert_true(ml_sb_tz_local_to_utc("Europe/London", 1796137200, &utc));
	assert_int_equal(utc, 1796137200);
	assert_false(ml_sb_tz_local_to_utc("Mars/Olympus_Mons", local, &utc));
	assert_false(ml_sb_tz_local_to_utc("../../etc/passwd", local, &utc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_body_passes),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_tz_conversion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

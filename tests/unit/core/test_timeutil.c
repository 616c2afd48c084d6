/* Time zone names (ml_tz_valid): an IANA name with a TZif file is accepted, the first time
 * (from the file) and every later time (remembered), from many threads at once; anything
 * else is refused, every time, and never remembered as valid. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/timeutil.h"

/* Times are bounded in UTC, after the offset: 1970-01-01T00:00:00Z to 2499-12-31T23:59:59Z. */
static void test_time_range(void **state)
{
	(void)state;
	int64_t t = 42;
	char buf[ML_RFC3339_MAX];
	assert_int_equal(ml_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, ML_TIME_MIN);
	assert_int_equal(ml_time_parse("2499-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, ML_TIME_MAX);
	ml_time_format(t, buf);
	assert_string_equal(buf, "2499-12-31T23:59:59Z");
	assert_int_equal(ml_time_parse("1970-01-01T00:00:00-00:01", &t), 0);
	assert_int_equal(t, 60);
	assert_int_equal(ml_time_parse("2500-01-01T23:58:59+23:59", &t), 0);
	assert_int_equal(t, ML_TIME_MAX);
	/* The examples of issue 15: year 10000 and 1969 once the offset is applied. */
	t = 42;
	assert_int_equal(ml_time_parse("9999-12-31T23:59:59-23:59", &t), ML_EINVAL);
	assert_int_equal(ml_time_parse("1970-01-01T00:00:00+23:59", &t), ML_EINVAL);
	assert_int_equal(ml_time_parse("1970-01-01T00:00:00+00:01", &t), ML_EINVAL);
	assert_int_equal(ml_time_parse("2499-12-31T23:59:59-00:01", &t), ML_EINVAL);
	assert_int_equal(ml_time_parse("2500-01-01T00:00:00Z", &t), ML_EINVAL);
	assert_int_equal(ml_time_parse("9999-12-31T23:59:59Z", &t), ML_EINVAL);
	assert_int_equal(ml_time_parse("1969-12-31T23:59:59Z", &t), ML_EINVAL);
	assert_int_equal(t, 42); /* untouched on failure */
	assert_true(ml_time_in_range(0) && ml_time_in_range(ML_TIME_MAX));
	assert_false(ml_time_in_range(-1) || ml_time_in_range(ML_TIME_MAX + 1));
}

static void test_zone_names(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(ml_tz_valid("Europe/London"));
		assert_true(ml_tz_valid("America/Argentina/Buenos_Aires"));
		assert_false(ml_tz_valid("Europe/Atlantis"));
		assert_false(ml_tz_valid(""));
		assert_false(ml_tz_valid("../../etc/passwd"));
		assert_false(ml_tz_valid("/etc/passwd"));
		assert_false(ml_tz_valid("Europe/London "));
		assert_false(ml_tz_valid("zone.tab")); /* a file, not a TZif one */
	}
}

static void *check_many(void *arg)
{
	(void)arg;
	static const char *const zones[] = {"Asia/Tokyo", "Africa/Lagos", "Pacific/Auckland",
					    "America/New_York", "Australia/Sydney"};
	for (int i = 0; i < 2000; i++)
		if (!ml_tz_valid(zones[i % 5]) || ml_tz_valid("Mars/Olympus"))
			return (void *)1;
	return NULL;
}

static void test_zone_names_from_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, check_many, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		assert_null(bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_range),
	    cmocka_unit_test(test_zone_names),
	    cmocka_unit_test(test_zone_names_from_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

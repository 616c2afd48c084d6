/* Time zone names (ml_tz_valid): an IANA name with a TZif file is accepted, the first time
 * (from the file) and every later time (remembered), from many threads at once; anything
 * else is refused, every time, and never remembered as valid. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/timeutil.h"

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
	    cmocka_unit_test(test_zone_names),
	    cmocka_unit_test(test_zone_names_from_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The waiting rooms' change bus (meeting/waitbus.h): a change wakes exactly the subscribers of
 * that booking of that organization, once each; after unsubscribing, never again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "meeting/waitbus.h"

static void count(void *arg)
{
	(*(int *)arg)++;
}

static void test_wakes_the_booking_only(void **state)
{
	(void)state;
	struct ml_waitbus *bus = ml_waitbus_new();
	int a1 = 0, a2 = 0, b = 0, other_org = 0;
	struct ml_waitsub *s1 = ml_waitbus_subscribe(bus, "org_1", "bkg_a", count, &a1);
	struct ml_waitsub *s2 = ml_waitbus_subscribe(bus, "org_1", "bkg_a", count, &a2);
	struct ml_waitsub *s3 = ml_waitbus_subscribe(bus, "org_1", "bkg_b", count, &b);
	struct ml_waitsub *s4 = ml_waitbus_subscribe(bus, "org_2", "bkg_a", count, &other_org);
	assert_int_equal(ml_waitbus_count(bus), 4);
	ml_waiting_changed(bus, "org_1", "bkg_a");
	assert_int_equal(a1, 1);
	assert_int_equal(a2, 1);
	assert_int_equal(b, 0);
	assert_int_equal(other_org, 0);
	ml_waitbus_unsubscribe(s1);
	ml_waiting_changed(bus, "org_1", "bkg_a");
	ml_waiting_changed(bus, "org_1", "bkg_b");
	assert_int_equal(a1, 1);
	assert_int_equal(a2, 2);
	assert_int_equal(b, 1);
	ml_waitbus_unsubscribe(s2);
	ml_waitbus_unsubscribe(s3);
	ml_waitbus_unsubscribe(s4);
	assert_int_equal(ml_waitbus_count(bus), 0);
	/* Nobody watching, or no bus: nothing happens. */
	ml_waiting_changed(bus, "org_1", "bkg_a");
	ml_waiting_changed(NULL, "org_1", "bkg_a");
	ml_waitbus_unsubscribe(NULL);
	ml_waitbus_free(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wakes_the_booking_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/booking.h"
#include "domain/retry.h"

static void test_backoff_grows_with_jitter_and_cap(void **state)
{
	(void)state;
	for (uint32_t rnd = 0; rnd < 5000; rnd += 997) {
		int64_t d1 = ml_retry_delay_ms(1, 2000, 3600000, 0, rnd);
		int64_t d3 = ml_retry_delay_ms(3, 2000, 3600000, 0, rnd);
		int64_t d30 = ml_retry_delay_ms(30, 2000, 3600000, 0, rnd);
		assert_true(d1 >= 1000 && d1 <= 2000);
		assert_true(d3 >= 4000 && d3 <= 8000);
		assert_true(d30 >= 1800000 && d30 <= 3600000);
	}
	/* The provider's Retry-After wins when it asks for longer. */
	assert_int_equal(ml_retry_delay_ms(1, 2000, 3600000, 90000, 7), 90000);
}

static void test_retry_after_forms(void **state)
{
	int64_t d;
	(void)state;
	assert_int_equal(ml_retry_after_parse("120", 0, &d), 0);
	assert_int_equal(d, 120000);
	/* 2015-10-21T07:28:00Z = 1445412480 */
	assert_int_equal(ml_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470, &d), 0);
	assert_int_equal(d, 10000);
	assert_int_equal(ml_retry_after_parse("2015-10-21T07:30:00Z", 1445412480, &d), 0);
	assert_int_equal(d, 120000);
	assert_int_equal(ml_retry_after_parse("2015-10-21T07:00:00Z", 1445412480, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(ml_retry_after_parse("soon", 0, &d), -1);
	assert_int_equal(ml_retry_after_parse("", 0, &d), -1);
}

static void test_booking_state_machine(void **state)
{
	(void)state;
	assert_string_equal(ml_booking_next("pending", ML_BK_CONFIRM), "confirmed");
	assert_null(ml_booking_next("confirmed", ML_BK_CONFIRM));
	assert_string_equal(ml_booking_next("confirmed", ML_BK_CANCEL), "cancelled");
	assert_null(ml_booking_next("completed", ML_BK_CANCEL));
	assert_null(ml_booking_next("cancelled", ML_BK_RESCHEDULE));
	assert_string_equal(ml_booking_next("pending", ML_BK_REJECT), "rejected");
	assert_null(ml_booking_next("confirmed", ML_BK_REJECT));
	assert_string_equal(ml_booking_next("in_progress", ML_BK_COMPLETE), "completed");
	/* Ending for all completes a confirmed or running booking; a completed one stays so
	 * (ending is idempotent); nothing else can be ended. */
	assert_string_equal(ml_booking_next("confirmed", ML_BK_END), "completed");
	assert_string_equal(ml_booking_next("in_progress", ML_BK_END), "completed");
	assert_string_equal(ml_booking_next("completed", ML_BK_END), "completed");
	assert_null(ml_booking_next("pending", ML_BK_END));
	assert_null(ml_booking_next("cancelled", ML_BK_END));
	assert_null(ml_booking_next("rejected", ML_BK_END));
	assert_string_equal(ml_booking_action_name(ML_BK_END), "end");
	assert_true(ml_meeting_can("pending", "ready"));
	assert_false(ml_meeting_can("cancelled", "ready"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_grows_with_jitter_and_cap),
		cmocka_unit_test(test_retry_after_forms),
		cmocka_unit_test(test_booking_state_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

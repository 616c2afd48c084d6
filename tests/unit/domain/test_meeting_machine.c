/* The meeting's state machine (domain/booking.h): the events the API and the worker decide
 * by, and the transitions they may not make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/booking.h"
#include "domain/meeting.h"

static void test_pipeline_events(void **state)
{
	(void)state;
	assert_string_equal(ml_meeting_next("none", ML_MEV_REQUEST), "pending");
	assert_string_equal(ml_meeting_next(NULL, ML_MEV_REQUEST), "pending");
	assert_string_equal(ml_meeting_next("error", ML_MEV_REQUEST), "pending");
	assert_null(ml_meeting_next("ready", ML_MEV_REQUEST));
	/* A create finishes only a meeting still waiting for it (or resumed after an error). */
	assert_string_equal(ml_meeting_next("pending", ML_MEV_MADE), "ready");
	assert_string_equal(ml_meeting_next("error", ML_MEV_MADE), "ready");
	assert_null(ml_meeting_next("cancelled", ML_MEV_MADE));
	assert_null(ml_meeting_next("none", ML_MEV_MADE));
	assert_string_equal(ml_meeting_next("pending", ML_MEV_FAILED), "error");
	assert_null(ml_meeting_next("ready", ML_MEV_FAILED));
	assert_string_equal(ml_meeting_next("ready", ML_MEV_UPDATED), "ready");
	assert_null(ml_meeting_next("pending", ML_MEV_UPDATED));
	assert_string_equal(ml_meeting_next("ready", ML_MEV_OPENED), "ready");
}

static void test_deleted_at_provider(void **state)
{
	(void)state;
	/* An update finds it gone only when it was ready; a webhook may report a pending one. */
	assert_string_equal(ml_meeting_next("ready", ML_MEV_GONE), "error");
	assert_null(ml_meeting_next("pending", ML_MEV_GONE));
	assert_string_equal(ml_meeting_next("pending", ML_MEV_GONE_REPORTED), "error");
	assert_null(ml_meeting_next("cancelled", ML_MEV_GONE_REPORTED));
	assert_null(ml_meeting_next("error", ML_MEV_GONE_REPORTED));
}

static void test_by_hand(void **state)
{
	(void)state;
	assert_string_equal(ml_meeting_next("error", ML_MEV_RETRY), "pending");
	assert_null(ml_meeting_next("ready", ML_MEV_RETRY));
	assert_string_equal(ml_meeting_next("ready", ML_MEV_REGENERATE), "pending");
	assert_string_equal(ml_meeting_next("error", ML_MEV_REGENERATE), "pending");
	assert_null(ml_meeting_next("pending", ML_MEV_REGENERATE));
	assert_string_equal(ml_meeting_next("ready", ML_MEV_CANCEL), "cancelled");
	assert_null(ml_meeting_next("cancelled", ML_MEV_CANCEL));
}

static void test_move_and_can(void **state)
{
	(void)state;
	json_t *m = json_pack("{s:s}", "status", "pending");
	assert_false(ml_meeting_move(m, ML_MEV_UPDATED));
	assert_string_equal(json_string_value(json_object_get(m, "status")), "pending");
	assert_true(ml_meeting_move(m, ML_MEV_MADE));
	assert_string_equal(json_string_value(json_object_get(m, "status")), "ready");
	json_decref(m);
	/* ml_meeting_can is the union of the events. */
	assert_true(ml_meeting_can("none", "ready"));
	assert_true(ml_meeting_can("ready", "pending"));
	assert_false(ml_meeting_can("cancelled", "pending"));
	assert_false(ml_meeting_can("ready", "none"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pipeline_events),
	    cmocka_unit_test(test_deleted_at_provider),
	    cmocka_unit_test(test_by_hand),
	    cmocka_unit_test(test_move_and_can),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Live presence's merge (domain/presence.h): any order, any repetition, one consistent end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/presence.h"

#include <stdio.h>

static enum ml_presence_change apply(json_t *stays, bool joined, int64_t at, const char *pid)
{
	struct ml_presence_fact f = {"twilio", "PA1", joined, at, pid, NULL, "prt_1", NULL};
	json_t *stay;
	return ml_presence_merge(stays, &f, 999, &stay);
}

static int64_t num(json_t *stays, const char *k)
{
	return json_integer_value(json_object_get(json_array_get(stays, 0), k));
}

static void test_in_order(void **state)
{
	(void)state;
	json_t *s = json_array();
	assert_int_equal(apply(s, true, 100, "prt_1"), ML_PRESENCE_JOINED);
	assert_true(ml_presence_stay_open(json_array_get(s, 0)));
	assert_int_equal(apply(s, true, 100, "prt_1"), ML_PRESENCE_NONE);
	assert_int_equal(apply(s, false, 200, NULL), ML_PRESENCE_LEFT);
	assert_int_equal(apply(s, false, 200, NULL), ML_PRESENCE_NONE);
	assert_false(ml_presence_stay_open(json_array_get(s, 0)));
	assert_int_equal(num(s, "joined_ms"), 100);
	assert_int_equal(num(s, "left_ms"), 200);
	assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0),
							      "participant_id")),
			    "prt_1");
	assert_int_equal(json_array_size(s), 1);
	json_decref(s);
}

static void test_left_before_joined(void **state)
{
	(void)state;
	json_t *s = json_array();
	assert_int_equal(apply(s, false, 200, NULL), ML_PRESENCE_LEFT);
	assert_int_equal(apply(s, true, 100, NULL), ML_PRESENCE_JOINED);
	assert_false(ml_presence_stay_open(json_array_get(s, 0)));
	assert_int_equal(num(s, "joined_ms"), 100);
	assert_int_equal(num(s, "left_ms"), 200);
	json_decref(s);
}

static void test_rejoin_and_stale_leave(void **state)
{
	(void)state;
	json_t *s = json_array();
	apply(s, true, 100, NULL);
	apply(s, false, 200, NULL);
	assert_int_equal(apply(s, true, 300, NULL), ML_PRESENCE_JOINED);
	assert_true(ml_presence_stay_open(json_array_get(s, 0)));
	/* The first visit's leave, delivered late again: nothing. */
	assert_int_equal(apply(s, false, 200, NULL), ML_PRESENCE_NONE);
	assert_true(ml_presence_stay_open(json_array_get(s, 0)));
	json_decref(s);
}

static void test_bounded(void **state)
{
	(void)state;
	json_t *s = json_array(), *stay;
	char session[32];
	for (int i = 0; i < ML_PRESENCE_MAX_STAYS + 5; i++) {
		snprintf(session, sizeof session, "PA%d", i);
		struct ml_presence_fact f = {"zoom", session, true, 1, NULL, NULL, NULL, NULL};
		ml_presence_merge(s, &f, 1, &stay);
	}
	assert_int_equal(json_array_size(s), ML_PRESENCE_MAX_STAYS);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_left_before_joined),
	    cmocka_unit_test(test_rejoin_and_stale_leave),
	    cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The waiting room's machine (domain/waiting.h): every state under every action. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/waiting.h"

static void expect_move(const char *from, enum ml_wr_action a, int asks, const char *to)
{
	const char *next, *why;
	assert_int_equal(ml_wr_next(from, a, asks, &next, &why), ML_WR_MOVE);
	assert_string_equal(next, to);
	assert_null(why);
}

static void expect_refuse(const char *from, enum ml_wr_action a, int asks, const char *reason)
{
	const char *next, *why;
	assert_int_equal(ml_wr_next(from, a, asks, &next, &why), ML_WR_REFUSE);
	assert_null(next);
	assert_string_equal(why, reason);
}

static void expect_same(const char *from, enum ml_wr_action a, int asks)
{
	const char *next, *why;
	assert_int_equal(ml_wr_next(from, a, asks, &next, &why), ML_WR_SAME);
}

static void test_asking(void **state)
{
	(void)state;
	expect_move(NULL, ML_WR_ASK, 0, "waiting");
	expect_move("left", ML_WR_ASK, 1, "waiting");
	expect_same("waiting", ML_WR_ASK, 1);
	/* An admitted guest who comes back goes straight in. */
	expect_same("admitted", ML_WR_ASK, 1);
	expect_move("rejected", ML_WR_ASK, 1, "waiting");
	expect_move("rejected", ML_WR_ASK, ML_WAITING_MAX_ASKS - 1, "waiting");
	expect_refuse("rejected", ML_WR_ASK, ML_WAITING_MAX_ASKS, "asks_exhausted");
	expect_refuse("closed", ML_WR_ASK, 1, "closed");
}

static void test_decisions_only_on_waiting(void **state)
{
	(void)state;
	expect_move("waiting", ML_WR_ADMIT, 1, "admitted");
	expect_move("waiting", ML_WR_REJECT, 1, "rejected");
	/* The second of two host tabs, and an admit racing the guest's leave, lose. */
	const char *others[] = {"admitted", "rejected", "left", NULL};
	for (int i = 0; others[i]; i++) {
		expect_refuse(others[i], ML_WR_ADMIT, 1, "not_waiting");
		expect_refuse(others[i], ML_WR_REJECT, 1, "not_waiting");
	}
	expect_refuse(NULL, ML_WR_ADMIT, 0, "not_waiting");
	expect_refuse("closed", ML_WR_ADMIT, 1, "closed");
}

static void test_leave_and_close(void **state)
{
	(void)state;
	expect_move("waiting", ML_WR_LEAVE, 1, "left");
	expect_same("left", ML_WR_LEAVE, 1);
	expect_refuse("admitted", ML_WR_LEAVE, 1, "not_waiting");
	expect_move("waiting", ML_WR_CLOSE, 1, "closed");
	expect_same("admitted", ML_WR_CLOSE, 1);
	expect_same("rejected", ML_WR_CLOSE, 1);
	assert_true(ml_wr_state_valid("closed"));
	assert_false(ml_wr_state_valid("gone"));
	assert_false(ml_wr_state_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asking),
		cmocka_unit_test(test_decisions_only_on_waiting),
		cmocka_unit_test(test_leave_and_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Per-connection limits: concurrency slots and the per-second token bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "queue/limiter.h"

static void test_inflight_cap(void **st)
{
	(void)st;
	struct ml_limiter *l = ml_limiter_new();
	for (int i = 0; i < 4; i++)
		assert_int_equal(ml_limiter_take(l, "con_1", 4, 0, 1000), 0);
	assert_int_equal(ml_limiter_take(l, "con_1", 4, 0, 1000), -1);
	/* Another connection is not held up by this one. */
	assert_int_equal(ml_limiter_take(l, "con_2", 4, 0, 1000), 0);
	ml_limiter_give(l, "con_1");
	assert_int_equal(ml_limiter_take(l, "con_1", 4, 0, 1000), 0);
	/* No limits: always free. */
	assert_int_equal(ml_limiter_take(l, "con_1", 0, 0, 1000), 0);
	ml_limiter_free(l);
}

static void test_rate(void **st)
{
	(void)st;
	struct ml_limiter *l = ml_limiter_new();
	/* 2 per second: a burst of 2, then the wait until the next token. */
	assert_int_equal(ml_limiter_take(l, "con_1", 0, 2, 10000), 0);
	assert_int_equal(ml_limiter_take(l, "con_1", 0, 2, 10000), 0);
	int64_t w = ml_limiter_take(l, "con_1", 0, 2, 10000);
	assert_true(w > 0 && w <= 501);
	/* Half a second later one token is back. */
	assert_int_equal(ml_limiter_take(l, "con_1", 0, 2, 10500), 0);
	assert_true(ml_limiter_take(l, "con_1", 0, 2, 10500) > 0);
	/* A second request of a running job spends too (the bucket may go negative), so the
	 * next taker waits longer; the refill never exceeds the one-second burst. */
	ml_limiter_spend(l, "con_1", 2, 10500);
	w = ml_limiter_take(l, "con_1", 0, 2, 10500);
	assert_true(w > 500 && w <= 1001);
	assert_int_equal(ml_limiter_take(l, "con_1", 0, 2, 60000), 0);
	assert_int_equal(ml_limiter_take(l, "con_1", 0, 2, 60000), 0);
	assert_true(ml_limiter_take(l, "con_1", 0, 2, 60000) > 0);
	ml_limiter_free(l);
}

/* A job that goes first (issue 18 §4) waits for a busy connection: the next free slot is its,
 * not an ordinary job's, until it takes it or the hold expires. */
static void test_first_holds_the_next_slot(void **st)
{
	(void)st;
	struct ml_limiter *l = ml_limiter_new();
	assert_int_equal(ml_limiter_take(l, "con_1", 1, 0, 1000), 0);
	assert_int_equal(ml_limiter_take_first(l, "con_1", 1, 0, 1000, 500), -1);
	ml_limiter_give(l, "con_1");
	/* Free now, but kept for the first job. */
	assert_int_equal(ml_limiter_take(l, "con_1", 1, 0, 1100), -1);
	assert_int_equal(ml_limiter_take(l, "con_2", 1, 0, 1100), 0); /* others unaffected */
	assert_int_equal(ml_limiter_take_first(l, "con_1", 1, 0, 1200, 500), 0);
	ml_limiter_give(l, "con_1");
	/* Taken: the hold is gone. */
	assert_int_equal(ml_limiter_take(l, "con_1", 1, 0, 1300), 0);
	/* A hold whose job never comes back lapses. */
	assert_int_equal(ml_limiter_take_first(l, "con_1", 1, 0, 2000, 500), -1);
	ml_limiter_give(l, "con_1");
	assert_int_equal(ml_limiter_take(l, "con_1", 1, 0, 2400), -1);
	assert_int_equal(ml_limiter_take(l, "con_1", 1, 0, 2600), 0);
	/* Rate limits: the first job waits its turn for a token, the others behind it. */
	ml_limiter_give(l, "con_1");
	assert_int_equal(ml_limiter_take(l, "con_3", 0, 1, 10000), 0);
	assert_true(ml_limiter_take_first(l, "con_3", 0, 1, 10000, 2000) > 0);
	assert_int_equal(ml_limiter_take(l, "con_3", 0, 1, 11500), -1);
	assert_int_equal(ml_limiter_take_first(l, "con_3", 0, 1, 11500, 2000), 0);
	ml_limiter_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inflight_cap),
	    cmocka_unit_test(test_rate),
	    cmocka_unit_test(test_first_holds_the_next_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

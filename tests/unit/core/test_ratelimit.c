/* Token buckets by key (core/ratelimit.c). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "core/ratelimit.h"

static void test_burst_then_refused(void **state)
{
	struct ml_ratelimit *rl = ml_ratelimit_new();
	int64_t wait = -1;
	(void)state;
	for (int i = 0; i < 10; i++)
		assert_true(ml_ratelimit_take(rl, "key_a", 5, 10, 1000, &wait));
	assert_false(ml_ratelimit_take(rl, "key_a", 5, 10, 1000, &wait));
	assert_int_equal(wait, 200); /* one token in 1/5 s */
	/* Another key has its own bucket. */
	assert_true(ml_ratelimit_take(rl, "key_b", 5, 10, 1000, &wait));
	/* 199 ms later still none; at 200 ms one. */
	assert_false(ml_ratelimit_take(rl, "key_a", 5, 10, 1199, &wait));
	assert_int_equal(wait, 1);
	assert_true(ml_ratelimit_take(rl, "key_a", 5, 10, 1200, &wait));
	assert_false(ml_ratelimit_take(rl, "key_a", 5, 10, 1200, &wait));
	/* A long pause refills to the burst, not beyond. */
	int ok = 0;
	for (int i = 0; i < 20; i++)
		ok += ml_ratelimit_take(rl, "key_a", 5, 10, 1000000, &wait);
	assert_int_equal(ok, 10);
	ml_ratelimit_free(rl);
}

static void test_off_and_changed_limits(void **state)
{
	struct ml_ratelimit *rl = ml_ratelimit_new();
	int64_t wait = -1;
	(void)state;
	for (int i = 0; i < 100000; i++)
		assert_true(ml_ratelimit_take(rl, "key_a", 0, 0, 0, &wait));
	/* burst < 1 counts as 1 */
	assert_true(ml_ratelimit_take(rl, "key_c", 1, 0, 0, &wait));
	assert_false(ml_ratelimit_take(rl, "key_c", 1, 0, 0, &wait));
	assert_int_equal(wait, 1000);
	/* A lowered burst caps what the bucket holds. */
	for (int i = 0; i < 3; i++)
		assert_true(ml_ratelimit_take(rl, "key_d", 100, 50, 0, &wait));
	assert_true(ml_ratelimit_take(rl, "key_d", 100, 1, 0, &wait));
	assert_false(ml_ratelimit_take(rl, "key_d", 100, 1, 0, &wait));
	assert_int_equal(wait, 10);
	/* Many keys: each its own bucket. */
	char k[16];
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "key_%d", i);
		assert_true(ml_ratelimit_take(rl, k, 1, 1, 0, &wait));
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "key_%d", i);
		assert_false(ml_ratelimit_take(rl, k, 1, 1, 0, &wait));
	}
	ml_ratelimit_free(rl);
}

struct racer {
	struct ml_ratelimit *rl;
	int ok;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	int64_t wait;
	for (int i = 0; i < 20000; i++)
		r->ok += ml_ratelimit_take(r->rl, "key_shared", 1, 100, 5000, &wait);
	return NULL;
}

static void test_threads_share_one_bucket(void **state)
{
	struct racer r[4];
	pthread_t t[4];
	struct ml_ratelimit *rl = ml_ratelimit_new();
	(void)state;
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){rl, 0};
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += r[i].ok;
	}
	assert_int_equal(total, 100); /* the burst, no more, whatever the interleaving */
	ml_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refused),
		cmocka_unit_test(test_off_and_changed_limits),
		cmocka_unit_test(test_threads_share_one_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

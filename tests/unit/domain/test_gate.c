/* The join gateway's time gate (domain/gateway.h): who may pass when, and a meeting ended for
 * everyone closing it to hosts and admins too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/gateway.h"

static enum ml_gate gate(const char *bstatus, const char *role, int64_t now, bool ended)
{
	struct ml_gate_in in = {bstatus, "ready", role, 10000, 13000, now, 900, 900, ended};
	return ml_gate_decide(&in);
}

static void test_gate(void **st)
{
	(void)st;
	/* In the window: open; before it: early, except for hosts and admins. */
	assert_int_equal(gate("confirmed", "customer", 9500, false), ML_GATE_OPEN);
	assert_int_equal(gate("confirmed", "customer", 5000, false), ML_GATE_EARLY);
	assert_int_equal(gate("confirmed", "host", 5000, false), ML_GATE_OPEN);
	/* Completed: over for guests; a host may still go in. */
	assert_int_equal(gate("completed", "customer", 11000, false), ML_GATE_ENDED);
	assert_int_equal(gate("completed", "host", 11000, false), ML_GATE_OPEN);
	/* Ended for everyone: closed to all, hosts and admins included, whatever the time. */
	assert_int_equal(gate("completed", "host", 11000, true), ML_GATE_ENDED);
	assert_int_equal(gate("completed", "admin", 5000, true), ML_GATE_ENDED);
	assert_int_equal(gate("completed", "customer", 11000, true), ML_GATE_ENDED);
	/* Cancelled still says cancelled. */
	assert_int_equal(gate("cancelled", "host", 11000, true), ML_GATE_CANCELLED);
	assert_string_equal(ml_gate_name(ML_GATE_ENDED), "ended");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

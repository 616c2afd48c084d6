/* The per-process list of an organization's webhook endpoints: served from memory until a
 * change is announced (or it is a second old), then read again; never another
 * organization's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify/endpoints.h"

#include "../tmpstore.h"

struct ep {
	const char *org, *id;
};

static int insert_fn(struct ml_tx *tx, void *arg)
{
	struct ep *e = arg;
	json_t *ep = json_pack("{s:s, s:s, s:[s]}", "id", e->id, "url",
			       "https://example.test/hook", "events", "*");
	int rc = ml_tx_webhook_endpoint_insert(tx, e->org, ep, "whsec_test");
	json_decref(ep);
	return rc;
}

static int delete_fn(struct ml_tx *tx, void *arg)
{
	struct ep *e = arg;
	return ml_tx_webhook_endpoint_delete(tx, e->org, e->id);
}

static size_t count(struct env *e, const char *org)
{
	json_t *list = NULL;
	assert_int_equal(ml_notify_endpoints(e->store, org, &list), 0);
	size_t n = json_array_size(list);
	json_decref(list);
	return n;
}

static void test_cached_until_changed(void **state)
{
	struct env *e = *state;
	struct ep a = {"org_a", "whe_a1"}, a2 = {"org_a", "whe_a2"}, b = {"org_b", "whe_b1"};

	assert_int_equal(ml_store_write(e->store, insert_fn, &a), 0);
	ml_notify_endpoints_changed();
	assert_int_equal(count(e, "org_a"), 1);
	assert_int_equal(count(e, "org_b"), 0);

	/* Written behind the cache's back: still the list it holds. */
	assert_int_equal(ml_store_write(e->store, insert_fn, &a2), 0);
	assert_int_equal(count(e, "org_a"), 1);
	/* Announced: read again. */
	ml_notify_endpoints_changed();
	assert_int_equal(count(e, "org_a"), 2);

	assert_int_equal(ml_store_write(e->store, insert_fn, &b), 0);
	ml_notify_endpoints_changed();
	assert_int_equal(count(e, "org_b"), 1);
	assert_int_equal(count(e, "org_a"), 2);

	assert_int_equal(ml_store_write(e->store, delete_fn, &a), 0);
	ml_notify_endpoints_changed();
	json_t *list = NULL;
	assert_int_equal(ml_notify_endpoints(e->store, "org_a", &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")),
			    "whe_a2");
	json_decref(list);

	/* Unannounced, the entry is read again once it is a second old. */
	assert_int_equal(ml_store_write(e->store, delete_fn, &a2), 0);
	assert_int_equal(count(e, "org_a"), 1);
	usleep(1100 * 1000);
	assert_int_equal(count(e, "org_a"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cached_until_changed, tmpstore_setup,
					    tmpstore_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The outbox on a real store: reconnect nudges (now, +1, +3, +7 days; cancelled on
 * reconnect; the connection.reauth_required webhook), webhook fan-out by event filter, and
 * which email a set of booking events calls for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/timeutil.h"
#include "notify/endpoints.h"
#include "notify/nudge.h"
#include "notify/outbox.h"
#include "store/store.h"

#define DAY (24 * 3600 * 1000LL)

#include "../tmpstore.h"

static void schedule(void **state)
{
	(void)state;
	int64_t at[ML_NUDGE_COUNT];
	ml_nudge_schedule(1000, at);
	assert_int_equal(at[0], 1000);
	assert_int_equal(at[1], 1000 + 1 * DAY);
	assert_int_equal(at[2], 1000 + 3 * DAY);
	assert_int_equal(at[3], 1000 + 7 * DAY);
}

static int endpoints_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	json_t *ep = json_pack("{s:s, s:s, s:[s]}", "id", "whe_1", "url", "http://127.0.0.1:9/",
	                       "events", "connection.*");
	int rc = ml_tx_webhook_endpoint_insert(tx, "org_1", ep,
	                                       "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	json_decref(ep);
	ep = json_pack("{s:s, s:s, s:[s]}", "id", "whe_2", "url", "http://127.0.0.1:9/", "events",
	               "booking.*");
	if (rc == 0)
		rc = ml_tx_webhook_endpoint_insert(tx, "org_1", ep,
		                                   "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	json_decref(ep);
	return rc;
}

static int reauth_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	json_t *host =
	    json_pack("{s:s, s:s, s:s}", "id", "hst_1", "name", "Ada", "email", "ada@example.test");
	int rc = ml_notify_reauth_required(tx, "org_1", "con_1", host, "zoom",
	                                   "https://x.test/connect", "invalid_grant");
	json_decref(host);
	return rc;
}

struct listing {
	const char *state;
	json_t *items;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct listing *l = arg;
	struct ml_list_query q = {.limit = 200};
	char *next = NULL;
	int rc = ml_tx_job_list(tx, "org_1", l->state, NULL, &q, &l->items, &next);
	free(next);
	return rc;
}

static int reconnected_fn(struct ml_tx *tx, void *arg)
{
	int *n = arg;
	*n = ml_notify_reconnected(tx, "con_1");
	return *n < 0 ? *n : 0;
}

static void nudges_queued_and_cancelled(void **state)
{
	struct env *e = *state;
	/* Endpoints are created in their own transaction, as the API does, and announced. */
	assert_int_equal(ml_store_write(e->store, endpoints_fn, NULL), 0);
	ml_notify_endpoints_changed();
	int64_t before = ml_now_ms();
	assert_int_equal(ml_store_write(e->store, reauth_fn, NULL), 0);
	int64_t after = ml_now_ms();

	struct listing l = {"queued", NULL};
	assert_int_equal(ml_store_read(e->store, list_fn, &l), 0);
	int nudges = 0, hooks = 0;
	size_t i;
	json_t *j;
	json_array_foreach(l.items, i, j)
	{
		const char *kind = json_string_value(json_object_get(j, "kind"));
		json_t *p = json_object_get(j, "payload");
		if (strcmp(kind, "email.reconnect_nudge") == 0) {
			int n = (int)json_integer_value(json_object_get(p, "nudge"));
			int64_t run_at;
			assert_int_equal(
			    ml_time_parse(json_string_value(json_object_get(j, "run_at")), &run_at),
			    0);
			int64_t want_lo = (before + ml_nudge_offsets_ms[n - 1]) / 1000;
			int64_t want_hi = (after + ml_nudge_offsets_ms[n - 1]) / 1000;
			assert_true(run_at >= want_lo && run_at <= want_hi);
			assert_string_equal(json_string_value(json_object_get(j, "group_key")),
			                    "nudge:con_1");
			assert_string_equal(json_string_value(json_object_get(p, "host_email")),
			                    "ada@example.test");
			nudges++;
		} else if (strcmp(kind, "webhook.deliver") == 0) {
			/* only the endpoint subscribed to connection.* */
			assert_string_equal(json_string_value(json_object_get(p, "endpoint_id")),
			                    "whe_1");
			assert_string_equal(json_string_value(json_object_get(p, "event_type")),
			                    "connection.reauth_required");
			hooks++;
		}
	}
	assert_int_equal(nudges, ML_NUDGE_COUNT);
	assert_int_equal(hooks, 1);
	json_decref(l.items);

	int cancelled = -1;
	assert_int_equal(ml_store_write(e->store, reconnected_fn, &cancelled), 0);
	assert_int_equal(cancelled, ML_NUDGE_COUNT);
	l = (struct listing){"cancelled", NULL};
	assert_int_equal(ml_store_read(e->store, list_fn, &l), 0);
	assert_int_equal(json_array_size(l.items), ML_NUDGE_COUNT);
	json_decref(l.items);
}

static json_t *booking(const char *status, const char *ms, bool online)
{
	return json_pack("{s:s, s:b, s:{s:s, s:s?}}", "status", status, "is_online", online,
	                 "meeting", "status", ms, "platform", online ? "jitsi" : NULL);
}

static const char *plan(json_t *b, const char *types)
{
	json_t *events = json_array();
	char buf[256];
	snprintf(buf, sizeof buf, "%s", types);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		json_array_append_new(events, json_pack("{s:s, s:{}}", "type", t, "data"));
	const char *p = ml_notify_email_plan(b, events);
	json_decref(events);
	json_decref(b);
	return p ? p : "none";
}

static void email_plan(void **state)
{
	(void)state;
	assert_string_equal(plan(booking("pending", "none", true), "booking.created"), "none");
	assert_string_equal(
	    plan(booking("confirmed", "ready", true), "booking.confirmed meeting.ready"),
	    "invitation");
	/* remote platform: the invitation waits for meeting.ready */
	assert_string_equal(plan(booking("confirmed", "pending", true), "booking.confirmed"),
	                    "none");
	assert_string_equal(plan(booking("confirmed", "ready", true), "meeting.ready"),
	                    "invitation");
	assert_string_equal(
	    plan(booking("confirmed", "error", true), "booking.confirmed meeting.failed"), "none");
	/* an offline booking is invited on confirm */
	assert_string_equal(plan(booking("confirmed", "none", false), "booking.confirmed"),
	                    "invitation");
	assert_string_equal(
	    plan(booking("confirmed", "ready", true), "booking.rescheduled meeting.updated"),
	    "update");
	assert_string_equal(plan(booking("pending", "none", true), "booking.rescheduled"), "none");
	assert_string_equal(
	    plan(booking("confirmed", "ready", true), "meeting.regenerated meeting.ready"),
	    "update");
	assert_string_equal(plan(booking("confirmed", "ready", true), "meeting.updated"), "none");
	assert_string_equal(
	    plan(booking("cancelled", "cancelled", true), "booking.cancelled meeting.cancelled"),
	    "cancellation");
	/* a manual link on a confirmed booking is news */
	json_t *ev =
	    json_pack("[{s:s, s:{s:s}}]", "type", "meeting.updated", "data", "platform", "manual");
	json_t *b = booking("confirmed", "ready", true);
	assert_string_equal(ml_notify_email_plan(b, ev), "update");
	json_decref(ev);
	/* cancelling a pending booking withdraws nothing */
	ev = json_pack("[{s:s, s:{s:s}}]", "type", "booking.cancelled", "data", "previous_status",
	               "pending");
	assert_null(ml_notify_email_plan(b, ev));
	json_decref(ev);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(schedule),
	    cmocka_unit_test_setup_teardown(nudges_queued_and_cancelled, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test(email_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

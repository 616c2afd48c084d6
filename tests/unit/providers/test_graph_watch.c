/* Microsoft Graph change notifications, sans-IO (providers/graph_watch.c): the subscription
 * requests, the notifications' parser and the read-back, fed canned answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "core/error.h"
#include "providers/provider.h"
#include "providers/watch.h"

static const uint8_t secret[32] = {9};
static struct ml_platform_settings S = {.room_secret = secret, .room_secret_len = 32};
static const struct ml_pcreds CR = {.api_base = "http://sb/microsoft", .access_token = "t"};

static struct ml_presp answer(long status, const char *body)
{
	struct ml_presp r = {ML_PT_OK, status, body, strlen(body), NULL, 1700000000};
	return r;
}

static json_t *note(const char *cs, const char *ct, const char *id, const char *etag)
{
	json_t *n = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "subscriptionId",
			      "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", "clientState", cs, "changeType",
			      ct, "resourceData", "@odata.type", "#Microsoft.Graph.Event", "id", id);
	if (etag)
		json_object_set_new(json_object_get(n, "resourceData"), "@odata.etag",
				    json_string(etag));
	return n;
}

static void test_subscription_requests(void **st)
{
	(void)st;
	struct ml_pstep s = {0};
	ml_graph_sub_req(&s, &CR, "mlw00", "SECRET", "https://ml.example/webhooks/microsoft", 60);
	assert_string_equal(s.http.method, "POST");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/subscriptions");
	json_t *b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "clientState")), "mlw00.SECRET");
	assert_string_equal(json_string_value(json_object_get(b, "resource")), "me/events");
	assert_string_equal(json_string_value(json_object_get(b, "changeType")), "updated,deleted");
	assert_string_equal(json_string_value(json_object_get(b, "notificationUrl")),
			    "https://ml.example/webhooks/microsoft");
	json_decref(b);
	ml_pstep_clear(&s);
	ml_graph_renew_req(&s, &CR, "a/b", 60);
	assert_string_equal(s.http.method, "PATCH");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/subscriptions/a%2Fb");
	assert_non_null(strstr(s.http.body, "\"expirationDateTime\""));
	assert_null(strstr(s.http.body, "clientState"));
	ml_pstep_clear(&s);
	/* The answer: id and expiration; 404 is gone (a new one is made). */
	char rid[129];
	int64_t exp = 0;
	struct ml_perr e = {0};
	struct ml_presp a = answer(201, "{\"id\":\"sub1\",\"expirationDateTime\":"
					"\"2026-12-10T10:00:00.0000000Z\"}");
	assert_int_equal(ml_graph_sub_parse(&a, rid, sizeof rid, &exp, &e), 0);
	assert_string_equal(rid, "sub1");
	assert_int_equal(exp, 1796896800000LL);
	a = answer(404, "{\"error\":{\"code\":\"ResourceNotFound\"}}");
	assert_true(ml_graph_sub_parse(&a, rid, sizeof rid, &exp, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_GONE);
	/* The handshake failed (the address briefly unreachable): tried again, not given up;
	 * any other refusal is for good. */
	a = answer(400, "{\"error\":{\"code\":\"ValidationError\",\"message\":\"no\"}}");
	assert_true(ml_graph_sub_parse(&a, rid, sizeof rid, &exp, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	assert_string_equal(e.code, "validation_failed");
	a = answer(400, "{\"error\":{\"code\":\"InvalidRequest\",\"message\":\"no\"}}");
	assert_true(ml_graph_sub_parse(&a, rid, sizeof rid, &exp, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_PERMANENT);
	a = answer(200, "{\"id\":\"sub1\"}");
	assert_true(ml_graph_sub_parse(&a, rid, sizeof rid, &exp, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
}

static void test_notes(void **st)
{
	(void)st;
	char tok[ML_WATCH_TOKEN_LEN + 1], cs[128];
	assert_int_equal(ml_watch_token(&S, ml_graph_watch.label, "mlwabc", tok), 0);
	snprintf(cs, sizeof cs, "mlwabc.%s", tok);
	json_t *body = json_pack("{s:[o, o]}", "value", note(cs, "deleted", "AAMk/1=", "W/\"x\""),
				 note(cs, "updated", "AAMk2", NULL));
	struct ml_watch_note n[4];
	size_t count = 0;
	assert_int_equal(ml_graph_notes_parse(body, n, 4, &count), 0);
	assert_int_equal(count, 2);
	assert_string_equal(n[0].channel_id, "mlwabc");
	assert_true(ml_watch_token_ok(&S, ml_graph_watch.label, n[0].channel_id, n[0].token));
	assert_string_equal(n[0].item, "event:AAMk/1=");
	assert_string_equal(n[0].subscription_id, "7f105c7d-2dc5-4530-97cd-4e7ae6534c07");
	assert_true(n[0].changed);
	assert_int_equal(strncmp(n[0].key, "graph:", 6), 0);
	/* Another change of the event, or another version of it, is another key; the same
	 * notification again is the same key. */
	assert_string_not_equal(n[0].key, n[1].key);
	struct ml_watch_note again[1];
	json_t *one = json_pack("{s:[O]}", "value", json_array_get(json_object_get(body, "value"), 0));
	assert_int_equal(ml_graph_notes_parse(one, again, 1, &count), 0);
	assert_string_equal(again[0].key, n[0].key);
	json_decref(one);
	/* Too many for `max`. */
	assert_int_equal(ml_graph_notes_parse(body, n, 1, &count), ML_EINVAL);
	ml_error_clear();
	json_decref(body);
	/* Malformed: the field is named. */
	static const struct {
		const char *cs, *ct, *id, *field;
	} bad[] = {
	    {"nodot", "deleted", "AAMk1", "value[0].clientState"},
	    {"mlw.", "deleted", "AAMk1", "value[0].clientState"},
	    {".tok", "deleted", "AAMk1", "value[0].clientState"},
	    {"ml w.tok", "deleted", "AAMk1", "value[0].clientState"},
	    {"mlw.tok", "missed", "AAMk1", "value[0].changeType"},
	    {"mlw.tok", "deleted", "AA Mk1", "value[0].resourceData.id"},
	    {"mlw.tok", "deleted", "", "value[0].resourceData.id"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		body = json_pack("{s:[o]}", "value", note(bad[i].cs, bad[i].ct, bad[i].id, NULL));
		assert_int_equal(ml_graph_notes_parse(body, n, 4, &count), ML_EINVAL);
		assert_string_equal(ml_error_field(), bad[i].field);
		ml_error_clear();
		json_decref(body);
	}
	body = json_pack("{s:[]}", "value");
	assert_int_equal(ml_graph_notes_parse(body, n, 4, &count), ML_EINVAL);
	ml_error_clear();
	json_decref(body);
}

static void test_read_back(void **st)
{
	(void)st;
	struct ml_pstep s = {0};
	assert_int_equal(ml_graph_read_req(&s, &CR, "event:AAMk/1="), 0);
	assert_string_equal(s.http.method, "GET");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/events/AAMk%2F1%3D"
					"?$select=id,start,end,isCancelled");
	ml_pstep_clear(&s);
	/* A standalone onlineMeeting (made before events were used) is not read. */
	assert_int_equal(ml_graph_read_req(&s, &CR, "MSo1"), -1);
	json_t *ch = json_array();
	struct ml_perr e = {0};
	struct ml_presp a = answer(200, "{\"id\":\"AAMk\",\"isCancelled\":false,"
					"\"start\":{\"dateTime\":\"2026-12-01T15:00:00.0000000\","
					"\"timeZone\":\"UTC\"},\"end\":{\"dateTime\":"
					"\"2026-12-01T16:00:00.0000000\",\"timeZone\":\"UTC\"}}");
	assert_int_equal(ml_graph_read_parse(&a, "event:AAMk", ch, &e), 0);
	json_t *c = json_array_get(ch, 0);
	assert_string_equal(json_string_value(json_object_get(c, "status")), "confirmed");
	assert_int_equal(json_integer_value(json_object_get(c, "start")), 1796137200);
	assert_int_equal(json_integer_value(json_object_get(c, "end")), 1796140800);
	/* Deleted in Outlook: 404 is a cancellation; so is isCancelled. */
	a = answer(404, "{\"error\":{\"code\":\"ErrorItemNotFound\"}}");
	assert_int_equal(ml_graph_read_parse(&a, "event:AAMk", ch, &e), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 1), "status")),
			    "cancelled");
	a = answer(200, "{\"isCancelled\":true}");
	assert_int_equal(ml_graph_read_parse(&a, "event:AAMk", ch, &e), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 2), "status")),
			    "cancelled");
	/* Times in another zone are not compared (no move reported from them). */
	a = answer(200, "{\"start\":{\"dateTime\":\"2026-12-01T15:00:00\",\"timeZone\":"
			"\"Pacific Standard Time\"},\"end\":{\"dateTime\":\"2026-12-01T16:00:00\","
			"\"timeZone\":\"Pacific Standard Time\"}}");
	assert_int_equal(ml_graph_read_parse(&a, "event:AAMk", ch, &e), 0);
	assert_null(json_object_get(json_array_get(ch, 3), "start"));
	/* Throttled: retried; the grant lost: reconnect. */
	a = answer(429, "{\"error\":{\"code\":\"ApplicationThrottled\"}}");
	assert_true(ml_graph_read_parse(&a, "event:AAMk", ch, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	a = answer(401, "{\"error\":{\"code\":\"InvalidAuthenticationToken\"}}");
	assert_true(ml_graph_read_parse(&a, "event:AAMk", ch, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_REAUTH);
	assert_int_equal(json_array_size(ch), 4);
	json_decref(ch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_subscription_requests),
	    cmocka_unit_test(test_notes),
	    cmocka_unit_test(test_read_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Google Calendar push channels and incremental sync, sans-IO (providers/watch.h): the
 * channel secret, the requests, the answers' parsers and the notification headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/error.h"
#include "providers/provider.h"
#include "providers/watch.h"

static const uint8_t secret[32] = {7, 7, 7};
static struct ml_platform_settings S = {.room_secret = secret, .room_secret_len = 32};
static struct ml_pcreds CR = {.api_base = "http://sb/google", .access_token = "tok"};

static struct ml_presp answer(long status, const char *body)
{
	struct ml_presp r = {ML_PT_OK, status, body, strlen(body), NULL, 1700000000};
	return r;
}

static void test_token(void **state)
{
	(void)state;
	char a[ML_WATCH_TOKEN_LEN + 1], b[ML_WATCH_TOKEN_LEN + 1];
	assert_int_equal(ml_watch_token(&S, "google-channel", "mlw1", a), 0);
	assert_int_equal(strlen(a), ML_WATCH_TOKEN_LEN);
	/* HMAC-SHA256(room secret, "meetlink-watch\ngoogle-channel\nmlw1"), base64url. */
	unsigned char mac[32];
	unsigned n = 0;
	const char *msg = "meetlink-watch\ngoogle-channel\nmlw1";
	HMAC(EVP_sha256(), secret, 32, (const unsigned char *)msg, strlen(msg), mac, &n);
	char *want = ml_base64url_encode(mac, n);
	assert_string_equal(a, want);
	free(want);
	assert_int_equal(ml_watch_token(&S, "google-channel", "mlw2", b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(ml_watch_token(&S, "other-label", "mlw1", b), 0);
	assert_string_not_equal(a, b);
	assert_true(ml_watch_token_ok(&S, "google-channel", "mlw1", a));
	assert_false(ml_watch_token_ok(&S, "google-channel", "mlw2", a));
	a[5] ^= 1;
	assert_false(ml_watch_token_ok(&S, "google-channel", "mlw1", a));
	assert_false(ml_watch_token_ok(&S, "google-channel", "mlw1", ""));
	assert_false(ml_watch_token_ok(&S, "google-channel", "mlw1", NULL));
	struct ml_platform_settings none = {0};
	assert_int_equal(ml_watch_token(&none, "google-channel", "mlw1", b), -1);
	char id[40];
	ml_watch_new_id(id);
	assert_int_equal(strlen(id), 35);
	assert_memory_equal(id, "mlw", 3);
}

static void test_watch_request_and_answer(void **state)
{
	(void)state;
	struct ml_pstep s = {0};
	ml_gcal_watch_req(&s, &CR, "mlw1", "tok-x", "https://m.example/webhooks/google", 3600);
	assert_string_equal(s.http.method, "POST");
	assert_string_equal(s.http.url, "http://sb/google/calendar/v3/calendars/primary/events/watch");
	json_t *b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "type")), "web_hook");
	assert_string_equal(json_string_value(json_object_get(b, "token")), "tok-x");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "params"), "ttl")),
			    "3600");
	json_decref(b);
	ml_pstep_clear(&s);

	char rid[129];
	int64_t exp = 0;
	struct ml_perr err = {0};
	struct ml_presp r = answer(200, "{\"kind\":\"api#channel\",\"id\":\"mlw1\",\"resourceId\":"
					"\"R1\",\"expiration\":\"1700000600000\"}");
	assert_int_equal(ml_gcal_watch_parse(&r, rid, sizeof rid, &exp, &err), 0);
	assert_string_equal(rid, "R1");
	assert_int_equal(exp, 1700000600000LL);
	r = answer(200, "{\"resourceId\":\"R1\"}");
	assert_true(ml_gcal_watch_parse(&r, rid, sizeof rid, &exp, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_RETRY);
	r = answer(401, "{\"error\":{\"code\":401,\"message\":\"Invalid Credentials\"}}");
	assert_true(ml_gcal_watch_parse(&r, rid, sizeof rid, &exp, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_REAUTH);
	r = answer(400, "{\"error\":{\"code\":400,\"message\":\"x\",\"errors\":[{\"reason\":"
			"\"invalid\"}]}}");
	assert_true(ml_gcal_watch_parse(&r, rid, sizeof rid, &exp, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_PERMANENT);

	ml_gcal_stop_req(&s, &CR, "mlw1", "R1");
	assert_string_equal(s.http.url, "http://sb/google/calendar/v3/channels/stop");
	ml_pstep_clear(&s);
	r = answer(204, "");
	assert_int_equal(ml_gcal_stop_parse(&r, &err), 0);
	r = answer(404, "{}");
	assert_int_equal(ml_gcal_stop_parse(&r, &err), 0);
	r = answer(503, "{}");
	assert_true(ml_gcal_stop_parse(&r, &err) < 0);
}

static void test_sync(void **state)
{
	(void)state;
	struct ml_pstep s = {0};
	ml_gcal_sync_req(&s, &CR, "s 1/+", NULL);
	assert_non_null(strstr(s.http.url, "syncToken=s%201%2F%2B"));
	assert_null(strstr(s.http.url, "showDeleted"));
	assert_non_null(strstr(s.http.url, "fields="));
	ml_pstep_clear(&s);
	ml_gcal_sync_req(&s, &CR, NULL, "p250.3");
	assert_non_null(strstr(s.http.url, "showDeleted=true"));
	assert_non_null(strstr(s.http.url, "pageToken=p250.3"));
	ml_pstep_clear(&s);

	json_t *ch = json_array();
	char *np, *ns;
	struct ml_perr err = {0};
	struct ml_presp r = answer(
	    200, "{\"items\":[{\"id\":\"ml1\",\"status\":\"cancelled\"},"
		 "{\"id\":\"ml2\",\"status\":\"confirmed\",\"start\":{\"dateTime\":"
		 "\"2026-12-01T15:00:00Z\"},\"end\":{\"dateTime\":\"2026-12-01T16:00:00+01:00\"},"
		 "\"extendedProperties\":{\"private\":{\"meetlink_booking\":\"bkg_9\"}}},"
		 "{\"status\":\"confirmed\"},{\"id\":\"allday\",\"start\":{\"date\":\"2026-12-01\"},"
		 "\"end\":{\"date\":\"2026-12-02\"}}],\"nextSyncToken\":\"s9\"}");
	assert_int_equal(ml_gcal_sync_parse(&r, ch, &np, &ns, &err), 0);
	assert_null(np);
	assert_string_equal(ns, "s9");
	free(ns);
	assert_int_equal(json_array_size(ch), 3); /* the one without an id is skipped */
	json_t *c1 = json_array_get(ch, 0), *c2 = json_array_get(ch, 1), *c3 = json_array_get(ch, 2);
	assert_string_equal(json_string_value(json_object_get(c1, "status")), "cancelled");
	assert_null(json_object_get(c1, "start"));
	assert_int_equal(json_integer_value(json_object_get(c2, "start")), 1796137200);
	assert_int_equal(json_integer_value(json_object_get(c2, "end")), 1796137200);
	assert_string_equal(json_string_value(json_object_get(c2, "booking")), "bkg_9");
	assert_null(json_object_get(c3, "start")); /* all-day: no times to compare */
	assert_string_equal(json_string_value(json_object_get(c3, "status")), "confirmed");
	json_decref(ch);

	ch = json_array();
	r = answer(200, "{\"items\":[],\"nextPageToken\":\"p1\"}");
	assert_int_equal(ml_gcal_sync_parse(&r, ch, &np, &ns, &err), 0);
	assert_string_equal(np, "p1");
	assert_null(ns);
	free(np);
	r = answer(200, "{\"items\":[]}");
	assert_true(ml_gcal_sync_parse(&r, ch, &np, &ns, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_RETRY);
	r = answer(200, "{\"nextSyncToken\":\"a\\nb\"}");
	assert_true(ml_gcal_sync_parse(&r, ch, &np, &ns, &err) < 0);
	r = answer(410, "{\"error\":{\"code\":410,\"errors\":[{\"reason\":\"fullSyncRequired\"}]}}");
	assert_true(ml_gcal_sync_parse(&r, ch, &np, &ns, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_GONE);
	assert_string_equal(err.code, "full_sync_required");
	r = answer(403, "{\"error\":{\"code\":403,\"errors\":[{\"reason\":\"rateLimitExceeded\"}]}}");
	assert_true(ml_gcal_sync_parse(&r, ch, &np, &ns, &err) < 0);
	assert_int_equal(err.kind, ML_PERR_RETRY);
	json_decref(ch);
}

static const char *const *H;

static const char *hdr(const void *arg, const char *name)
{
	(void)arg;
	for (int i = 0; H[i]; i += 2)
		if (strcasecmp(H[i], name) == 0)
			return H[i + 1];
	return NULL;
}

static void test_push_headers(void **state)
{
	(void)state;
	struct ml_gcal_push p;
	struct ml_watch_note n;
	static const char *const ok[] = {"X-Goog-Channel-ID", "mlw0a", "X-Goog-Channel-Token",
					 "t0k", "X-Goog-Resource-State", "exists",
					 "X-Goog-Message-Number", "42", "X-Goog-Resource-ID", "R1",
					 NULL};
	H = ok;
	assert_int_equal(ml_gcal_push_parse(hdr, NULL, &p), 0);
	assert_string_equal(p.channel_id, "mlw0a");
	assert_string_equal(p.state, "exists");
	assert_int_equal(p.message_number, 42);
	assert_int_equal(ml_gcal_note_parse(hdr, NULL, &n), 0);
	assert_string_equal(n.key, "mlw0a:42");
	assert_true(n.changed);
	static const char *const sync[] = {"X-Goog-Channel-ID", "mlw0a", "X-Goog-Channel-Token",
					   "t0k", "X-Goog-Resource-State", "sync",
					   "X-Goog-Message-Number", "1", NULL};
	H = sync;
	assert_int_equal(ml_gcal_note_parse(hdr, NULL, &n), 0);
	assert_false(n.changed);
	/* Each header missing or malformed: 400 naming it. */
	static const char *const bad[][9] = {
	    {"X-Goog-Channel-Token", "t", "X-Goog-Resource-State", "exists",
	     "X-Goog-Message-Number", "1", NULL},
	    {"X-Goog-Channel-ID", "a b", "X-Goog-Channel-Token", "t", "X-Goog-Resource-State",
	     "exists", "X-Goog-Message-Number", "1", NULL},
	    {"X-Goog-Channel-ID", "a", "X-Goog-Channel-Token", "t\r\nX: y",
	     "X-Goog-Resource-State", "exists", "X-Goog-Message-Number", "1", NULL},
	    {"X-Goog-Channel-ID", "a", "X-Goog-Channel-Token", "t", "X-Goog-Resource-State",
	     "gone", "X-Goog-Message-Number", "1", NULL},
	    {"X-Goog-Channel-ID", "a", "X-Goog-Channel-Token", "t", "X-Goog-Resource-State",
	     "exists", "X-Goog-Message-Number", "-1", NULL},
	    {"X-Goog-Channel-ID", "a", "X-Goog-Channel-Token", "t", "X-Goog-Resource-State",
	     "exists", "X-Goog-Message-Number", "123456789012345678901", NULL},
	};
	static const char *const field[] = {"X-Goog-Channel-ID", "X-Goog-Channel-ID",
					    "X-Goog-Channel-Token", "X-Goog-Resource-State",
					    "X-Goog-Message-Number", "X-Goog-Message-Number"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		H = bad[i];
		assert_int_equal(ml_gcal_push_parse(hdr, NULL, &p), ML_EINVAL);
		assert_string_equal(ml_error_field(), field[i]);
		ml_error_clear();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token),
	    cmocka_unit_test(test_watch_request_and_answer),
	    cmocka_unit_test(test_sync),
	    cmocka_unit_test(test_push_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

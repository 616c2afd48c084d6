/* Zoom, Teams and Twilio drivers, sans-IO: the idempotency technique of each, fed canned
 * answers (Google Meet: test_google_meet.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "core/error.h"
#include "core/jwt.h"
#include "providers/provider.h"

static const uint8_t secret[32] = {7};
static struct ml_platform_settings S = {.room_secret = secret,
                                        .room_secret_len = 32,
                                        .public_url = "https://ml.example",
                                        .open_lead_s = 600};
static struct ml_provider_ctx CX = {&S, 1700000000, NULL};

static struct ml_meeting_req req(void)
{
	struct ml_meeting_req r = {.org_id = "org_1",
	                           .booking_id = "bkg_1",
	                           .title = "Math",
	                           .start = 1796137200,
	                           .end = 1796140200,
	                           .timezone = "UTC"};
	return r;
}

static struct ml_presp answer(long status, const char *body)
{
	struct ml_presp r = {ML_PT_OK, status, body, strlen(body), NULL, 1700000000};
	return r;
}

static int step(const char *drv, enum ml_mop op, const struct ml_meeting_req *r,
                const struct ml_pcreds *cr, json_t *state, const struct ml_presp *a,
                struct ml_pstep *out, struct ml_perr *e)
{
	const struct ml_provider_ops *o = ml_provider_find(drv);
	assert_non_null(o);
	memset(e, 0, sizeof *e);
	ml_pstep_clear(out);
	return o->remote_step(&CX, op, r, cr, state, a, out, e);
}

static const char *ZM = "{\"id\":81234567890,\"join_url\":\"https://zoom.example/j/1\","
                        "\"start_url\":\"https://zoom.example/s/1\",\"password\":\"abc\","
                        "\"agenda\":\"meetlink:bkg_1:0\"}";

static void test_zoom_first_attempt_creates_then_looks_up(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/zoom", .access_token = "t"};
	struct ml_meeting_req r = req();
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_pack("{s:i}", "attempt", 1);

	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	assert_string_equal(s.http.url, "http://sb/zoom/v2/users/me/meetings");
	assert_true(s.http.not_idempotent);
	assert_non_null(strstr(s.http.body, "meetlink:bkg_1:0"));
	struct ml_presp a = answer(201, ZM);
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(s.meeting.external_id, "81234567890"); /* above 2^32, exact */
	assert_string_equal(s.meeting.host_url, "https://zoom.example/s/1");
	assert_string_equal(s.meeting.passcode, "abc");

	/* A later attempt (an earlier one may have made it) looks first and adopts it. */
	json_object_set_new(state, "attempt", json_integer(2));
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, "/v2/users/me/meetings?type=scheduled"));
	char list[512];
	snprintf(list, sizeof list, "{\"next_page_token\":\"\",\"meetings\":[%s]}", ZM);
	a = answer(200, list);
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_string_equal(s.http.url, "http://sb/zoom/v2/meetings/81234567890");
	a = answer(200, ZM);
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	/* Not found: create. */
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	a = answer(200, "{\"next_page_token\":\"\",\"meetings\":[]}");
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	/* A 5xx after the create is ambiguous: retry (the next attempt looks first). */
	a = answer(502, "{\"code\":0,\"message\":\"bad gateway\"}");
	assert_true(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_zoom_s2s_reconcile_and_delete(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/zoom",
	                       .access_token = "t",
	                       .account = "ada+x@zoom.example",
	                       .org_level = true};
	struct ml_meeting_req r = req();
	r.external_id = "81234567890";
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_object();
	/* Account tokens act for the host by email. */
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, NULL, &s, &e), 0);
	assert_non_null(strstr(s.http.url, "/v2/users/ada%2Bx%40zoom.example/meetings?"));
	const char *list = "{\"next_page_token\":\"\",\"meetings\":["
	                   "{\"id\":81234567890,\"agenda\":\"meetlink:bkg_1:0\"},"
	                   "{\"id\":85555555555,\"agenda\":\"x\\n\\nmeetlink:bkg_1:0\"},"
	                   "{\"id\":86666666666,\"agenda\":\"meetlink:bkg_2:0\"}]}";
	struct ml_presp a = answer(200, list);
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/zoom/v2/meetings/85555555555");
	a = answer(204, "");
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_int_equal(json_integer_value(json_object_get(state, "duplicates_removed")), 1);
	/* Delete: 404 means already gone. */
	assert_int_equal(step("zoom", ML_MOP_DELETE, &r, &cr, state, NULL, &s, &e), 0);
	a = answer(404, "{\"code\":3001,\"message\":\"Meeting does not exist\"}");
	assert_int_equal(step("zoom", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	/* Update of a meeting deleted in Zoom: reported. */
	assert_int_equal(step("zoom", ML_MOP_UPDATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "PATCH");
	assert_int_equal(step("zoom", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e), 0);
	assert_true(s.provider_cancelled);
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_zoom_lookup_pages_and_escapes(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/zoom",
	                       .access_token = "t",
	                       .org_level = true};
	struct ml_meeting_req r = req();
	r.host_email = "a/b?c#d@zoom.example"; /* S2S without an account: the host's email */
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_pack("{s:i}", "attempt", 2);
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.url, "http://sb/zoom/v2/users/a%2Fb%3Fc%23d%40zoom.example/"
	                                "meetings?type=scheduled&page_size=300");
	/* The marker is on the second page: the page token is passed on, escaped. */
	struct ml_presp a = answer(200, "{\"next_page_token\":\"p+2/=\",\"meetings\":["
	                                "{\"id\":1,\"agenda\":\"meetlink:bkg_2:0\"}]}");
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, "&next_page_token=p%2B2%2F%3D"));
	char list[512];
	snprintf(list, sizeof list, "{\"next_page_token\":\"\",\"meetings\":[%s]}", ZM);
	a = answer(200, list);
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.url, "http://sb/zoom/v2/meetings/81234567890");
	/* Deleted between the list and the get: created anew, never a second adoption. */
	a = answer(404, "{\"code\":3001,\"message\":\"Meeting does not exist\"}");
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	assert_true(s.http.not_idempotent);
	ml_pstep_clear(&s);
	json_decref(state);
}

/* A reconcile whose walk or delete fails resumes where it stopped: the next attempt asks for
 * the page that failed (not page 1), keeps the duplicates found before it, and tries again
 * the delete that failed without listing again. */
static void test_zoom_reconcile_resumes_across_attempts(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/zoom", .access_token = "t"};
	struct ml_meeting_req r = req();
	r.external_id = "81234567890";
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_pack("{s:i}", "attempt", 1);

	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, NULL, &s, &e), 0);
	assert_null(strstr(s.http.url, "next_page_token"));
	struct ml_presp a = answer(200, "{\"next_page_token\":\"tok2\",\"meetings\":["
	                                "{\"id\":85555555555,\"agenda\":\"meetlink:bkg_1:0\"},"
	                                "{\"id\":81234567890,\"agenda\":\"meetlink:bkg_1:0\"}]}");
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e), 0);
	assert_non_null(strstr(s.http.url, "&next_page_token=tok2"));
	a = answer(503, "{\"code\":0,\"message\":\"unavailable\"}");
	assert_true(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);

	/* The next attempt (the state as the job persisted it) resumes at page 2. */
	json_object_set_new(state, "attempt", json_integer(2));
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, "&next_page_token=tok2"));
	a = answer(200, "{\"next_page_token\":\"\",\"meetings\":["
	                "{\"id\":86666666666,\"agenda\":\"x\\n\\nmeetlink:bkg_1:0\"}]}");
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e), 0);
	/* The duplicate of page 1, found by the attempt before, is deleted first. */
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/zoom/v2/meetings/85555555555");
	a = answer(502, "{\"code\":0,\"message\":\"bad gateway\"}");
	assert_true(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e) < 0);

	/* A failed delete is tried again, without walking the list again. */
	json_object_set_new(state, "attempt", json_integer(3));
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/zoom/v2/meetings/85555555555");
	a = answer(204, "");
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.url, "http://sb/zoom/v2/meetings/86666666666");
	a = answer(404, "{\"code\":3001,\"message\":\"Meeting does not exist\"}");
	assert_int_equal(step("zoom", ML_MOP_RECONCILE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_int_equal(json_integer_value(json_object_get(state, "duplicates_removed")), 2);
	ml_pstep_clear(&s);
	json_decref(state);
}

/* A create's lookup resumes too; a page token Zoom refuses (expired: they live 15 minutes)
 * restarts the walk from page 1, a bounded number of times; a token older than that is not
 * tried. */
static void test_zoom_lookup_resume_and_expired_token(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/zoom", .access_token = "t"};
	struct ml_meeting_req r = req();
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_pack("{s:i}", "attempt", 2);
	const char *p1 = "{\"next_page_token\":\"tok2\",\"meetings\":["
	                 "{\"id\":1,\"agenda\":\"meetlink:bkg_9:0\"}]}";
	const char *expired = "{\"code\":300,\"message\":\"The next page token is invalid or "
	                      "expired.\"}";

	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	struct ml_presp a = answer(200, p1);
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_non_null(strstr(s.http.url, "&next_page_token=tok2"));
	struct ml_presp t = {ML_PT_TIMEOUT, 0, "", 0, NULL, 1700000000};
	assert_true(step("zoom", ML_MOP_CREATE, &r, &cr, state, &t, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	json_object_set_new(state, "attempt", json_integer(3));
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_non_null(strstr(s.http.url, "&next_page_token=tok2"));

	/* Refused: page 1 again, in the same attempt; at most three times per job. */
	for (int i = 0; i < 3; i++) {
		a = answer(400, expired);
		assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
		assert_string_equal(s.http.method, "GET");
		assert_null(strstr(s.http.url, "next_page_token"));
		a = answer(200, p1);
		assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
		assert_non_null(strstr(s.http.url, "&next_page_token=tok2"));
	}
	a = answer(400, expired);
	assert_true(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_PERMANENT);

	/* A token kept longer than Zoom keeps it is not tried: the walk starts at page 1. */
	json_object_set_new(state, "page_at", json_integer(1700000000 - 15 * 60));
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_null(strstr(s.http.url, "next_page_token"));
	/* The walk over without a match: created, and the next attempt walks from page 1. */
	a = answer(200, "{\"next_page_token\":\"\",\"meetings\":[]}");
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	assert_int_equal(step("zoom", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_null(strstr(s.http.url, "next_page_token"));
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_teams_event_create(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/microsoft", .access_token = "t"};
	struct ml_meeting_req r = req();
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_object();
	const struct ml_provider_ops *o = ml_provider_find("teams");
	assert_int_equal(o->remote->max_inflight_per_conn, 4);
	/* An Outlook event with Teams, its transactionId derived from booking and generation. */
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/events");
	assert_false(s.http.not_idempotent);
	json_t *b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "transactionId")),
			    "meetlink-bkg_1-0");
	assert_true(json_is_true(json_object_get(b, "isOnlineMeeting")));
	assert_string_equal(json_string_value(json_object_get(b, "onlineMeetingProvider")),
			    "teamsForBusiness");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "start"),
							      "dateTime")),
			    "2026-12-01T15:00:00");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "end"),
							      "timeZone")),
			    "UTC");
	json_decref(b);
	/* Its Teams meeting is found by the join URL ('' in the OData literal)... */
	struct ml_presp a = answer(201, "{\"id\":\"AAMk/1=\",\"onlineMeeting\":"
					"{\"joinUrl\":\"https://teams.example/l/1'x\"}}");
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_string_equal(s.http.url,
			    "http://sb/microsoft/v1.0/me/onlineMeetings?$filter=JoinWebUrl%20eq%20%27"
			    "https%3A%2F%2Fteams.example%2Fl%2F1%27%27x%27");
	/* ...and patched with the service's settings (no lobby, no passcode). */
	a = answer(200, "{\"value\":[{\"id\":\"MSo1\",\"joinWebUrl\":\"https://teams.example/l/1'x\"}]}");
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "PATCH");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/onlineMeetings/MSo1");
	b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(b, "lobbyBypassSettings"), "scope")),
			    "everyone");
	assert_true(json_is_false(
	    json_object_get(json_object_get(b, "joinMeetingIdSettings"), "isPasscodeRequired")));
	json_decref(b);
	a = answer(200, "{\"id\":\"MSo1\",\"joinMeetingIdSettings\":{\"passcode\":\"p1\"}}");
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(s.meeting.external_id, "event:AAMk/1=");
	assert_string_equal(s.meeting.join_url, "https://teams.example/l/1'x");
	assert_string_equal(s.meeting.passcode, "p1");
	/* A 429 is retried. */
	a = answer(429, "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"slow\"}}");
	a.retry_after = "3";
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_true(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	/* A mailbox without Teams: the event Graph made has no meeting; it is deleted and the
	 * create fails for good. */
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	a = answer(201, "{\"id\":\"AAMk2\",\"isOnlineMeeting\":false,\"onlineMeeting\":null}");
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/events/AAMk2");
	a = answer(204, "");
	assert_true(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_PERMANENT);
	assert_string_equal(e.code, "teams_not_allowed");
	/* A delete without the id makes the create call (the transactionId answers the event
	 * it made), then deletes that event. */
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/events");
	a = answer(201, "{\"id\":\"AAMk/1=\",\"onlineMeeting\":{\"joinUrl\":\"https://t/l/1\"}}");
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/events/AAMk%2F1%3D");
	a = answer(404, "{}");
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_teams_event_update_and_delete(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/microsoft", .access_token = "t"};
	struct ml_meeting_req r = req();
	json_t *set = json_pack("{s:b, s:s}", "waiting_room", 1, "passcode", "271828");
	r.settings = set;
	r.external_id = "event:AAMk/1=";
	r.join_url = "https://t/l/1";
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_object();
	/* Update: PATCH of the event's times, then the Teams meeting's settings again. */
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "PATCH");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/events/AAMk%2F1%3D");
	assert_null(strstr(s.http.body, "transactionId"));
	assert_non_null(strstr(s.http.body, "\"dateTime\":\"2026-12-01T15:00:00\""));
	struct ml_presp a = answer(200, "{\"id\":\"AAMk/1=\",\"onlineMeeting\":"
					"{\"joinUrl\":\"https://t/l/1\"}}");
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	a = answer(200, "{\"value\":[{\"id\":\"MSo1\"}]}");
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e), 0);
	assert_non_null(strstr(s.http.body, "\"lobbyBypassSettings\":{\"scope\":\"organizer\","
					    "\"isDialInBypassEnabled\":false}"));
	assert_non_null(strstr(s.http.body, "\"joinMeetingIdSettings\":{\"isPasscodeRequired\":true}"));
	a = answer(200, "{\"id\":\"MSo1\"}");
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_false(s.provider_cancelled);
	assert_string_equal(s.meeting.join_url, "https://t/l/1");
	/* The event was deleted in Outlook meanwhile: reported, not retried. */
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, NULL, &s, &e), 0);
	a = answer(404, "{\"error\":{\"code\":\"ErrorItemNotFound\"}}");
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_true(s.provider_cancelled);
	/* Delete: the event (its Teams meeting goes with it). */
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/events/AAMk%2F1%3D");
	a = answer(204, "");
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	ml_pstep_clear(&s);
	json_decref(set);
	json_decref(state);
}

/* Meetings made before events were used (standalone onlineMeetings, an external id without
 * "event:") keep being updated and deleted as onlineMeetings. */
static void test_teams_update_and_delete_by_id(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/microsoft", .access_token = "t"};
	struct ml_meeting_req r = req();
	json_t *set = json_pack("{s:b, s:s}", "waiting_room", 1, "passcode", "271828");
	r.settings = set;
	r.external_id = "MSo/x+y=";
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_object();
	/* Update: PATCH of the times at the meeting's own (escaped) URL, same link. */
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "PATCH");
	assert_string_equal(s.http.url,
	                    "http://sb/microsoft/v1.0/me/onlineMeetings/MSo%2Fx%2By%3D");
	assert_string_equal(s.http.authorization, "Bearer t");
	assert_non_null(strstr(s.http.body, "\"startDateTime\":\"2026-12-01T15:00:00Z\""));
	assert_non_null(strstr(s.http.body, "\"lobbyBypassSettings\":{\"scope\":\"organizer\","
	                                    "\"isDialInBypassEnabled\":false}"));
	assert_non_null(strstr(s.http.body, "\"joinMeetingIdSettings\":{\"isPasscodeRequired\":true}"));
	struct ml_presp a = answer(200, "{\"id\":\"MSo/x+y=\"}");
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_false(s.provider_cancelled);
	/* Deleted in Teams meanwhile: reported, not retried. */
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, NULL, &s, &e), 0);
	a = answer(404, "{\"error\":{\"code\":\"NotFound\"}}");
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_true(s.provider_cancelled);
	/* A 403 means the grant lacks the permission: reconnect, not a retry. */
	assert_int_equal(step("teams", ML_MOP_UPDATE, &r, &cr, state, NULL, &s, &e), 0);
	a = answer(403, "{\"error\":{\"code\":\"Forbidden\"}}");
	assert_true(step("teams", ML_MOP_UPDATE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(s.kind, ML_PSTEP_FAIL);
	assert_int_equal(e.kind, ML_PERR_REAUTH);
	/* Delete by id: 410 is already gone too; a 5xx is retried. */
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_null(s.http.body);
	a = answer(503, "{}");
	assert_true(step("teams", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, NULL, &s, &e), 0);
	a = answer(410, "");
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	ml_pstep_clear(&s);
	json_decref(set);
	json_decref(state);
}

static void test_twilio_unique_name(void **st)
{
	(void)st;
	json_t *extra = json_pack("{s:s, s:s, s:s}", "account_sid", "AC1", "api_key_sid", "SK1",
	                          "api_key_secret", "sec");
	struct ml_pcreds cr = {.api_base = "http://sb/twilio", .extra = extra, .org_level = true};
	struct ml_meeting_req r = req();
	struct ml_pstep s = {0};
	struct ml_perr e;
	struct ml_meeting m = {0};
	json_t *state = json_object();
	const struct ml_provider_ops *o = ml_provider_find("twilio");
	assert_true(o->caps & ML_CAP_LAZY);
	assert_int_equal(o->meeting_create(&CX, &r, &m, &e), 0);
	assert_non_null(strstr(m.join_url, "https://ml.example/video/ml-"));
	assert_int_equal(step("twilio", ML_MOP_OPEN, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.url, "http://sb/twilio/v1/Rooms");
	assert_non_null(strstr(s.http.body, m.external_id));
	assert_string_equal(s.http.authorization, "Basic U0sxOnNlYw==");
	struct ml_presp a = answer(400, "{\"code\":53113,\"message\":\"Room exists\"}");
	assert_int_equal(step("twilio", ML_MOP_OPEN, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	a = answer(200, "{\"sid\":\"RM1\",\"status\":\"in-progress\"}");
	assert_int_equal(step("twilio", ML_MOP_OPEN, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(s.meeting.external_id, "RM1");
	/* A participant's link carries an access token for the room (checked end to end). */
	struct ml_provider_ctx cx = CX;
	cx.creds = &cr;
	struct ml_participant_ref p = {"prt_1", "customer", "Grace", "g@example.test"};
	char *url = NULL, *url2 = NULL;
	assert_int_equal(o->participant_url(&cx, &r, &m, &p, &url, &e), 0);
	assert_non_null(strstr(url, "#access_token=ey"));
	/* The token is signed with the API key secret and grants this room to this participant
	 * only: verified, not just present. */
	const char *tok = strstr(url, "#access_token=") + strlen("#access_token=");
	assert_int_equal(strncmp(url, m.join_url, strlen(m.join_url)), 0);
	json_t *claims = NULL, *hdr = NULL;
	assert_int_equal(ml_jwt_verify_hs256(&claims, "sec", 3, tok), 0);
	assert_int_equal(ml_jwt_verify_hs256(NULL, "other", 5, tok), ML_EAUTH);
	assert_int_equal(ml_jwt_decode(&hdr, NULL, tok), 0);
	assert_string_equal(json_string_value(json_object_get(hdr, "cty")), "twilio-fpa;v=1");
	assert_string_equal(json_string_value(json_object_get(claims, "iss")), "SK1");
	assert_string_equal(json_string_value(json_object_get(claims, "sub")), "AC1");
	json_t *g = json_object_get(claims, "grants");
	assert_string_equal(json_string_value(json_object_get(g, "identity")), "prt_1");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(g, "video"), "room")), m.external_id);
	json_int_t nbf = json_integer_value(json_object_get(claims, "nbf"));
	json_int_t exp = json_integer_value(json_object_get(claims, "exp"));
	/* The meeting window, even when the link is minted long before it (CX.now is a year
	 * earlier): a token that expired before it became valid would never open the room. */
	assert_int_equal(nbf, r.start);
	assert_int_equal(exp, r.end);
	/* A window longer than Twilio's 24 h cap ends 24 h after it opens. */
	struct ml_meeting_req lr = r;
	lr.end = r.start + 3 * 86400;
	assert_int_equal(o->participant_url(&cx, &lr, &m, &p, &url2, &e), 0);
	json_t *lc = NULL;
	assert_int_equal(ml_jwt_verify_hs256(&lc, "sec", 3, strstr(url2, "=") + 1), 0);
	assert_int_equal(json_integer_value(json_object_get(lc, "nbf")), lr.start);
	assert_int_equal(json_integer_value(json_object_get(lc, "exp")), lr.start + 86400);
	json_decref(lc);
	free(url2);
	json_decref(claims);
	json_decref(hdr);
	free(url);
	ml_meeting_clear(&m);
	ml_pstep_clear(&s);
	json_decref(state);
	json_decref(extra);
}

/* End for all (ML_MOP_END): Zoom's status call, Twilio's room completed; a repeat after an
 * ambiguous failure, or a meeting the provider no longer has, is done. */
static void test_end_for_all(void **st)
{
	(void)st;
	struct ml_pcreds zc = {.api_base = "http://sb/zoom", .access_token = "t"};
	struct ml_meeting_req r = req();
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_object();
	assert_int_equal(ml_provider_find("zoom")->end->kind, ML_END_CALL);
	assert_int_equal(ml_provider_find("twilio")->end->kind, ML_END_CALL);
	assert_int_equal(ml_provider_find("jaas")->end->kind, ML_END_TOKENS);
	assert_null(ml_provider_find("google_meet")->end);
	assert_null(ml_provider_find("teams")->end);
	/* Zoom: never made, nothing to end; else PUT …/status {"action":"end"}. */
	assert_int_equal(step("zoom", ML_MOP_END, &r, &zc, state, NULL, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	r.external_id = "81234567890";
	assert_int_equal(step("zoom", ML_MOP_END, &r, &zc, state, NULL, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_HTTP);
	assert_string_equal(s.http.method, "PUT");
	assert_string_equal(s.http.url, "http://sb/zoom/v2/meetings/81234567890/status");
	assert_string_equal(s.http.body, "{\"action\":\"end\"}");
	struct ml_presp a = answer(204, "");
	assert_int_equal(step("zoom", ML_MOP_END, &r, &zc, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	a = answer(404, "{\"code\":3001,\"message\":\"Meeting does not exist\"}");
	assert_int_equal(step("zoom", ML_MOP_END, &r, &zc, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	a = answer(400, "{\"code\":3063,\"message\":\"Can not end\"}");
	assert_true(step("zoom", ML_MOP_END, &r, &zc, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_PERMANENT);
	assert_string_equal(e.code, "zoom_3063");
	a = answer(503, "{}");
	assert_true(step("zoom", ML_MOP_END, &r, &zc, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	/* Twilio: find the in-progress room by its name, complete it; none: done. */
	json_t *extra = json_pack("{s:s, s:s, s:s}", "account_sid", "AC1", "api_key_sid", "SK1",
	                          "api_key_secret", "sec");
	struct ml_pcreds tc = {.api_base = "http://sb/twilio", .extra = extra, .org_level = true};
	r.external_id = NULL;
	json_object_clear(state);
	assert_int_equal(step("twilio", ML_MOP_END, &r, &tc, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, "http://sb/twilio/v1/Rooms/ml-"));
	a = answer(200, "{\"sid\":\"RM1\",\"status\":\"in-progress\"}");
	assert_int_equal(step("twilio", ML_MOP_END, &r, &tc, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	assert_string_equal(s.http.url, "http://sb/twilio/v1/Rooms/RM1");
	assert_string_equal(s.http.body, "Status=completed");
	a = answer(400, "{\"code\":53118,\"message\":\"Room RM1 is not in-progress\"}");
	assert_int_equal(step("twilio", ML_MOP_END, &r, &tc, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	json_object_clear(state);
	assert_int_equal(step("twilio", ML_MOP_END, &r, &tc, state, NULL, &s, &e), 0);
	a = answer(404, "{\"code\":20404,\"message\":\"not found\"}");
	assert_int_equal(step("twilio", ML_MOP_END, &r, &tc, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	ml_pstep_clear(&s);
	json_decref(state);
	json_decref(extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_end_for_all),
	    cmocka_unit_test(test_zoom_first_attempt_creates_then_looks_up),
	    cmocka_unit_test(test_zoom_s2s_reconcile_and_delete),
	    cmocka_unit_test(test_teams_event_create),
	    cmocka_unit_test(test_teams_event_update_and_delete),
	    cmocka_unit_test(test_teams_update_and_delete_by_id),
	    cmocka_unit_test(test_zoom_lookup_pages_and_escapes),
	    cmocka_unit_test(test_zoom_reconcile_resumes_across_attempts),
	    cmocka_unit_test(test_zoom_lookup_resume_and_expired_token),
	    cmocka_unit_test(test_twilio_unique_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Zoom, Teams and Twilio drivers, sans-IO: the idempotency technique of each, fed canned
 * answers (Google Meet: test_google_meet.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

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

static void test_teams_create_or_get(void **st)
{
	(void)st;
	struct ml_pcreds cr = {.api_base = "http://sb/microsoft", .access_token = "t"};
	struct ml_meeting_req r = req();
	struct ml_pstep s = {0};
	struct ml_perr e;
	json_t *state = json_object();
	const struct ml_provider_ops *o = ml_provider_find("teams");
	assert_int_equal(o->remote->max_inflight_per_conn, 4);
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/onlineMeetings/createOrGet");
	assert_non_null(strstr(s.http.body, "\"externalId\":\"meetlink-bkg_1-0\""));
	assert_false(s.http.not_idempotent);
	struct ml_presp a =
	    answer(200, "{\"id\":\"MSo1\",\"joinWebUrl\":\"https://teams.example/l/1\","
	                "\"joinMeetingIdSettings\":{\"passcode\":\"p1\"}}");
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(s.meeting.external_id, "MSo1");
	assert_string_equal(s.meeting.passcode, "p1");
	a = answer(429, "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"slow\"}}");
	a.retry_after = "3";
	assert_int_equal(step("teams", ML_MOP_CREATE, &r, &cr, state, NULL, &s, &e), 0);
	assert_true(step("teams", ML_MOP_CREATE, &r, &cr, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	/* A delete without the id asks createOrGet for it, then deletes. */
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, NULL, &s, &e), 0);
	assert_non_null(strstr(s.http.url, "createOrGet"));
	a = answer(200, "{\"id\":\"MSo1\",\"joinWebUrl\":\"https://teams.example/l/1\"}");
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/microsoft/v1.0/me/onlineMeetings/MSo1");
	a = answer(404, "{}");
	assert_int_equal(step("teams", ML_MOP_DELETE, &r, &cr, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	ml_pstep_clear(&s);
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
	char *url = NULL;
	assert_int_equal(o->participant_url(&cx, &r, &m, &p, &url, &e), 0);
	assert_non_null(strstr(url, "#access_token=ey"));
	free(url);
	ml_meeting_clear(&m);
	ml_pstep_clear(&s);
	json_decref(state);
	json_decref(extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zoom_first_attempt_creates_then_looks_up),
	    cmocka_unit_test(test_zoom_s2s_reconcile_and_delete),
	    cmocka_unit_test(test_teams_create_or_get),
	    cmocka_unit_test(test_twilio_unique_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

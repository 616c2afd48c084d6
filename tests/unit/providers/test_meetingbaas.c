/* MeetingBaas recording bots, sans-IO: the bot's create (exactly once: later attempts look
 * first, a 409 duplicate adopts), leave, meeting data into meetlink's transcript, the
 * classification of refusals, and the webhooks' verification and parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "core/error.h"
#include "providers/provider.h"

static struct ml_platform_settings S = {0};
static struct ml_provider_ctx CX = {&S, 1700000000, NULL};

static struct ml_presp answer(long status, const char *body)
{
	struct ml_presp r = {ML_PT_OK, status, body, strlen(body), NULL, 1700000000};
	return r;
}

static struct ml_bot_req breq(void)
{
	struct ml_bot_req q = {.meeting_url = "https://meet.google.com/abc-defg-hij",
	                       .bot_name = "Notes",
	                       .recording_mode = "audio_only",
	                       .transcription = "Default",
	                       .waiting_room_timeout = 300,
	                       .start_time = 1700000120,
	                       .dedup_key = "meetlink-bkg_1-g0",
	                       .webhook_url = "https://ml.example/webhooks/meetingbaas",
	                       .recording_id = "rec_1",
	                       .bot_id = "8a1c2b3d-0000-4000-8000-000000000001"};
	return q;
}

static json_t *CRX;
static struct ml_pcreds creds(void)
{
	if (!CRX)
		CRX = json_pack("{s:s}", "api_key", "k-123");
	struct ml_pcreds cr = {.api_base = "http://sb/meetingbaas", .extra = CRX, .org_level = 1};
	return cr;
}

static int step(enum ml_rop op, const struct ml_bot_req *q, json_t *state,
                const struct ml_presp *a, struct ml_pstep *out, struct ml_perr *e)
{
	const struct ml_provider_ops *o = ml_provider_recorder();
	struct ml_pcreds cr = creds();
	assert_non_null(o);
	assert_string_equal(o->name, "meetingbaas");
	memset(e, 0, sizeof *e);
	ml_pstep_clear(out);
	return o->recorder->step(&CX, op, q, &cr, state, a, out, e);
}

static void test_dispatch_first_attempt_posts_once(void **st)
{
	(void)st;
	struct ml_bot_req q = breq();
	json_t *state = json_pack("{s:i}", "attempt", 1);
	struct ml_pstep s = {0};
	struct ml_perr e;
	assert_int_equal(step(ML_ROP_DISPATCH, &q, state, NULL, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_HTTP);
	assert_string_equal(s.http.method, "POST");
	assert_string_equal(s.http.url, "http://sb/meetingbaas/bots/");
	assert_true(s.http.not_idempotent);
	assert_string_equal(s.http.header_name, "x-meeting-baas-api-key");
	assert_string_equal(s.http.header_value, "k-123");
	assert_null(s.http.authorization);
	json_t *b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "deduplication_key")),
	                    "meetlink-bkg_1-g0");
	assert_string_equal(json_string_value(json_object_get(b, "recording_mode")), "audio_only");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(b, "speech_to_text"), "provider")),
	                    "Default");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(b, "automatic_leave"), "waiting_room_timeout")),
	                 300);
	assert_null(json_object_get(json_object_get(b, "automatic_leave"), "silence_timeout"));
	assert_int_equal(json_integer_value(json_object_get(b, "start_time")), 1700000120);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "extra"), "meetlink_key")),
	    "meetlink-bkg_1-g0");
	json_decref(b);
	struct ml_presp a = answer(200, "{\"bot_id\":\"uuid-1\"}");
	assert_int_equal(step(ML_ROP_DISPATCH, &q, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(json_string_value(json_object_get(state, "bot_id")), "uuid-1");
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_dispatch_later_attempt_adopts(void **st)
{
	(void)st;
	struct ml_bot_req q = breq();
	json_t *state = json_pack("{s:i}", "attempt", 2);
	struct ml_pstep s = {0};
	struct ml_perr e;
	assert_int_equal(step(ML_ROP_DISPATCH, &q, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, "/bots/bots_with_metadata?filter_by_extra="
	                                   "meetlink_key%3Ameetlink-bkg_1-g0"));
	/* Another bot of the account, then ours. */
	struct ml_presp a = answer(
	    200, "{\"bots\":[{\"uuid\":\"other\",\"extra\":{\"meetlink_key\":\"x\"}},"
	         "{\"uuid\":\"mine\",\"extra\":{\"meetlink_key\":\"meetlink-bkg_1-g0\"}}]}");
	assert_int_equal(step(ML_ROP_DISPATCH, &q, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(json_string_value(json_object_get(state, "bot_id")), "mine");
	assert_true(json_is_true(json_object_get(state, "adopted")));
	json_decref(state);

	/* Nothing found: it creates. */
	state = json_pack("{s:i}", "attempt", 3);
	step(ML_ROP_DISPATCH, &q, state, NULL, &s, &e);
	a = answer(200, "{\"bots\":[]}");
	assert_int_equal(step(ML_ROP_DISPATCH, &q, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_dispatch_duplicate_409_looks_up(void **st)
{
	(void)st;
	struct ml_bot_req q = breq();
	json_t *state = json_pack("{s:i}", "attempt", 1);
	struct ml_pstep s = {0};
	struct ml_perr e;
	step(ML_ROP_DISPATCH, &q, state, NULL, &s, &e);
	struct ml_presp a = answer(409, "{\"success\":false,\"code\":\"BOT_ALREADY_EXISTS\"}");
	assert_int_equal(step(ML_ROP_DISPATCH, &q, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	/* Not listed yet: retry later, never a second create now. */
	a = answer(200, "{\"bots\":[]}");
	assert_true(step(ML_ROP_DISPATCH, &q, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	assert_string_equal(e.code, "duplicate_bot");
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_dispatch_failures_classified(void **st)
{
	(void)st;
	struct ml_bot_req q = breq();
	struct ml_pstep s = {0};
	struct ml_perr e;
	struct {
		long status;
		enum ml_perr_kind kind;
		const char *code;
	} cases[] = {{401, ML_PERR_PERMANENT, "invalid_credentials"},
	             {400, ML_PERR_PERMANENT, "recorder_refused"},
	             {429, ML_PERR_RETRY, NULL},
	             {503, ML_PERR_RETRY, NULL}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *state = json_pack("{s:i}", "attempt", 1);
		step(ML_ROP_DISPATCH, &q, state, NULL, &s, &e);
		struct ml_presp a = answer(cases[i].status, "{\"message\":\"meeting_url bad\"}");
		assert_true(step(ML_ROP_DISPATCH, &q, state, &a, &s, &e) < 0);
		assert_int_equal(e.kind, cases[i].kind);
		if (cases[i].code)
			assert_string_equal(e.code, cases[i].code);
		json_decref(state);
	}
	/* A timeout is ambiguous: retry (the next attempt looks first). */
	json_t *state = json_pack("{s:i}", "attempt", 1);
	step(ML_ROP_DISPATCH, &q, state, NULL, &s, &e);
	struct ml_presp t = {ML_PT_TIMEOUT, 0, "", 0, NULL, 1700000000};
	assert_true(step(ML_ROP_DISPATCH, &q, state, &t, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	/* No meeting URL: refused before any call. */
	q.meeting_url = NULL;
	assert_true(step(ML_ROP_DISPATCH, &q, state, NULL, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_PERMANENT);
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_fetch_meeting_data(void **st)
{
	(void)st;
	struct ml_bot_req q = breq();
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;
	assert_int_equal(step(ML_ROP_FETCH, &q, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, "/bots/meeting_data?bot_id=8a1c2b3d-0000-4000-8000-"));
	struct ml_presp a = answer(
	    200, "{\"mp4\":\"https://s3/v.mp4\",\"audio\":\"\",\"duration\":42,\"bot_data\":{"
	         "\"bot\":{\"ended_at\":\"2026-01-01T00:00:00Z\",\"errors\":null},"
	         "\"transcripts\":[{\"speaker\":\"Ada\",\"start_time\":1.5,\"end_time\":2.4,"
	         "\"words\":[{\"start_time\":1.5,\"end_time\":1.9,\"text\":\"Hello\"},"
	         "{\"start_time\":2.0,\"end_time\":2.4,\"text\":\"all\"}]},"
	         "{\"speaker\":\"Grace\",\"start_time\":3,\"words\":[{\"start_time\":3,"
	         "\"end_time\":3.5,\"text\":\"Hi\"}]}]}}");
	assert_int_equal(step(ML_ROP_FETCH, &q, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	json_t *r = json_object_get(state, "result");
	assert_string_equal(json_string_value(json_object_get(r, "status")), "ready");
	assert_string_equal(json_string_value(json_object_get(r, "media_url")), "https://s3/v.mp4");
	assert_true(json_is_null(json_object_get(r, "audio_url")));
	assert_int_equal(json_integer_value(json_object_get(r, "duration_seconds")), 42);
	json_t *tr = json_object_get(r, "transcript");
	assert_int_equal(json_array_size(tr), 2);
	json_t *s0 = json_array_get(tr, 0);
	assert_string_equal(json_string_value(json_object_get(s0, "text")), "Hello all");
	assert_true(json_real_value(json_object_get(s0, "end")) == 2.4);
	/* A segment without end_time ends with its last word. */
	assert_true(json_real_value(json_object_get(json_array_get(tr, 1), "end")) == 3.5);
	assert_int_equal(json_array_size(json_object_get(r, "speakers")), 2);
	/* Not over yet; failed; gone. */
	a = answer(200, "{\"mp4\":\"\",\"audio\":\"\",\"duration\":0,\"bot_data\":{\"bot\":"
	                "{\"ended_at\":null},\"transcripts\":[]}}");
	step(ML_ROP_FETCH, &q, state, NULL, &s, &e);
	step(ML_ROP_FETCH, &q, state, &a, &s, &e);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(state, "result"), "status")),
	    "pending");
	a = answer(200, "{\"mp4\":\"\",\"bot_data\":{\"bot\":{\"errors\":\"BotNotAccepted\"}}}");
	step(ML_ROP_FETCH, &q, state, NULL, &s, &e);
	step(ML_ROP_FETCH, &q, state, &a, &s, &e);
	r = json_object_get(state, "result");
	assert_string_equal(json_string_value(json_object_get(r, "status")), "failed");
	assert_string_equal(json_string_value(json_object_get(r, "reason")), "BotNotAccepted");
	a = answer(404, "{}");
	step(ML_ROP_FETCH, &q, state, NULL, &s, &e);
	assert_true(step(ML_ROP_FETCH, &q, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_GONE);
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_leave_retranscribe_delete(void **st)
{
	(void)st;
	struct ml_bot_req q = breq();
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;
	step(ML_ROP_LEAVE, &q, state, NULL, &s, &e);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url,
	                    "http://sb/meetingbaas/bots/8a1c2b3d-0000-4000-8000-000000000001");
	struct ml_presp a = answer(404, "");
	assert_int_equal(step(ML_ROP_LEAVE, &q, state, &a, &s, &e), 0); /* gone is done */
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	step(ML_ROP_RETRANSCRIBE, &q, state, NULL, &s, &e);
	assert_string_equal(s.http.url, "http://sb/meetingbaas/bots/retranscribe");
	json_t *b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "bot_uuid")), q.bot_id);
	json_decref(b);
	a = answer(202, "");
	assert_int_equal(step(ML_ROP_RETRANSCRIBE, &q, state, &a, &s, &e), 0);
	step(ML_ROP_DELETE, &q, state, NULL, &s, &e);
	assert_string_equal(s.http.method, "POST");
	assert_non_null(strstr(s.http.url, "/delete_data"));
	a = answer(429, "");
	assert_true(step(ML_ROP_DELETE, &q, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	q.bot_id = NULL;
	q.dedup_key = NULL;
	assert_true(step(ML_ROP_LEAVE, &q, state, NULL, &s, &e) < 0);
	ml_pstep_clear(&s);
	json_decref(state);
}

/* A leave with no bot id (the dispatch's answer was lost): the bot is looked for by its key,
 * then taken out; none found is done, with nothing to remove. */
static void test_leave_finds_the_bot_of_a_lost_dispatch_answer(void **st)
{
	(void)st;
	struct ml_bot_req q = breq();
	q.bot_id = NULL;
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;
	assert_int_equal(step(ML_ROP_LEAVE, &q, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, "/bots/bots_with_metadata?filter_by_extra="
	                                   "meetlink_key%3Ameetlink-bkg_1-g0"));
	struct ml_presp a = answer(
	    200, "{\"bots\":[{\"uuid\":\"other\",\"extra\":{\"meetlink_key\":\"x\"}},"
	         "{\"uuid\":\"mine\",\"extra\":{\"meetlink_key\":\"meetlink-bkg_1-g0\"}}]}");
	assert_int_equal(step(ML_ROP_LEAVE, &q, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_HTTP);
	assert_string_equal(s.http.method, "DELETE");
	assert_string_equal(s.http.url, "http://sb/meetingbaas/bots/mine");
	assert_string_equal(json_string_value(json_object_get(state, "bot_id")), "mine");
	a = answer(200, "{\"ok\":true}");
	assert_int_equal(step(ML_ROP_LEAVE, &q, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	json_decref(state);

	/* None made: done without a call; the list refused: the provider's failure. */
	state = json_object();
	step(ML_ROP_LEAVE, &q, state, NULL, &s, &e);
	a = answer(200, "{\"bots\":[{\"uuid\":\"other\",\"extra\":{\"meetlink_key\":\"x\"}}]}");
	assert_int_equal(step(ML_ROP_LEAVE, &q, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_null(json_object_get(state, "bot_id"));
	step(ML_ROP_LEAVE, &q, state, NULL, &s, &e);
	a = answer(503, "");
	assert_true(step(ML_ROP_LEAVE, &q, state, &a, &s, &e) < 0);
	assert_int_equal(s.kind, ML_PSTEP_FAIL);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	ml_pstep_clear(&s);
	json_decref(state);
}

/* --- webhooks --- */

struct hdrs {
	const char *key;
};

static const char *header(const void *arg, const char *name)
{
	const struct hdrs *h = arg;
	return strcmp(name, "x-meeting-baas-api-key") == 0 ? h->key : NULL;
}

static int parse(const char *body, struct ml_inbound_event *ev)
{
	const struct ml_inbound_info *in = ml_provider_find("meetingbaas")->inbound;
	struct hdrs h = {"k"};
	struct ml_inbound_req r = {body, strlen(body), header, &h, 1700000000};
	json_t *j = json_loads(body, 0, NULL);
	memset(ev, 0, sizeof *ev);
	int rc = in->parse("k", &r, j, ev);
	json_decref(j);
	return rc;
}

static void test_webhook_verify_and_subject(void **st)
{
	(void)st;
	const struct ml_inbound_info *in = ml_provider_find("meetingbaas")->inbound;
	assert_non_null(in);
	assert_string_equal(in->cred_secret, "api_key");
	const char *body = "{\"event\":\"complete\",\"data\":{\"bot_id\":\"b-1\"}}";
	struct hdrs h = {"k-123"};
	struct ml_inbound_req r = {body, strlen(body), header, &h, 1700000000};
	assert_int_equal(in->verify("k-123", &r), 0);
	assert_int_equal(in->verify("k-124", &r), ML_EAUTH);
	assert_int_equal(in->verify("k-12", &r), ML_EAUTH);
	h.key = NULL;
	assert_int_equal(in->verify("k-123", &r), ML_EAUTH);
	h.key = "";
	assert_int_equal(in->verify("", &r), ML_EAUTH);
	ml_error_clear();
	char sub[64];
	json_t *j = json_loads(body, 0, NULL);
	assert_int_equal(in->subject(j, sub, sizeof sub), 0);
	assert_string_equal(sub, "b-1");
	json_decref(j);
	j = json_pack("{s:{s:s}}", "data", "bot_id", "a/../b");
	assert_int_equal(in->subject(j, sub, sizeof sub), ML_EINVAL);
	json_decref(j);
	j = json_pack("{s:{s:s}}", "data", "calendar_id", "cal-1");
	assert_int_equal(in->subject(j, sub, sizeof sub), 0);
	json_decref(j);
	ml_error_clear();
}

static void test_webhook_events(void **st)
{
	(void)st;
	struct ml_inbound_event ev, ev2;
	assert_int_equal(parse("{\"event\":\"bot.status_change\",\"data\":{\"bot_id\":\"b-1\","
	                       "\"status\":{\"code\":\"in_waiting_room\"}}}",
	                       &ev),
	                 0);
	assert_int_equal(ev.kind, ML_INBOUND_RECORDING);
	assert_string_equal(ev.external_id, "b-1");
	assert_string_equal(ev.state, "waiting_room");
	/* The same body twice: the same key; another body: another key. */
	parse("{\"event\":\"bot.status_change\",\"data\":{\"bot_id\":\"b-1\","
	      "\"status\":{\"code\":\"in_waiting_room\"}}}",
	      &ev2);
	assert_string_equal(ev.key, ev2.key);
	parse("{\"event\":\"bot.status_change\",\"data\":{\"bot_id\":\"b-1\","
	      "\"status\":{\"code\":\"in_call_recording\"}}}",
	      &ev2);
	assert_string_not_equal(ev.key, ev2.key);
	assert_string_equal(ev2.state, "recording");
	parse("{\"event\":\"bot.status_change\",\"data\":{\"bot_id\":\"b-1\",\"status\":{"
	      "\"code\":\"meeting_error\",\"error_message\":\"boom\"}}}",
	      &ev);
	assert_string_equal(ev.state, "failed");
	assert_string_equal(ev.reason, "meeting_error");
	assert_string_equal(ev.message, "boom");
	parse("{\"event\":\"complete\",\"data\":{\"bot_id\":\"b-1\",\"mp4\":\"x\"}}", &ev);
	assert_string_equal(ev.state, "processing");
	assert_string_equal(ev.fetch, "recording");
	parse("{\"event\":\"failed\",\"data\":{\"bot_id\":\"b-1\",\"error\":\"CannotJoinMeeting\"}}",
	      &ev);
	assert_string_equal(ev.state, "failed");
	assert_string_equal(ev.reason, "CannotJoinMeeting");
	parse("{\"event\":\"transcription_complete\",\"data\":{\"bot_id\":\"b-1\"}}", &ev);
	assert_string_equal(ev.state, "");
	assert_string_equal(ev.fetch, "transcript");
	/* Known but nothing to do; unknown codes; calendars. */
	parse("{\"event\":\"bot.status_change\",\"data\":{\"bot_id\":\"b-1\","
	      "\"status\":{\"code\":\"in_call_not_recording\"}}}",
	      &ev);
	assert_int_equal(ev.kind, ML_INBOUND_IGNORE);
	parse("{\"event\":\"calendar.sync_events\",\"data\":{\"calendar_id\":\"c-1\"}}", &ev);
	assert_int_equal(ev.kind, ML_INBOUND_CALENDAR);
	assert_string_equal(ev.external_id, "c-1");
	/* Malformed. */
	assert_int_equal(parse("{\"data\":{}}", &ev), ML_EINVAL);
	assert_int_equal(parse("{\"event\":\"complete\",\"data\":[]}", &ev), ML_EINVAL);
	assert_int_equal(parse("{\"event\":\"complete\",\"data\":{\"bot_id\":7}}", &ev), ML_EINVAL);
	assert_int_equal(parse("{\"event\":\"bot.status_change\",\"data\":{\"bot_id\":\"b\"}}", &ev),
	                 ML_EINVAL);
	ml_error_clear();
}

static int cstep(enum ml_cop op, const struct ml_cal_req *q, json_t *state,
                 const struct ml_presp *a, struct ml_pstep *out, struct ml_perr *e)
{
	const struct ml_provider_ops *o = ml_provider_recorder();
	struct ml_pcreds cr = creds();
	memset(e, 0, sizeof *e);
	ml_pstep_clear(out);
	return o->recorder->calendar_step(&CX, op, q, &cr, state, a, out, e);
}

static void test_calendar_create_events_schedule(void **st)
{
	(void)st;
	struct ml_cal_req q = {.platform = "google_meet",
	                       .client_id = "cid",
	                       .client_secret = "csecret",
	                       .refresh_token = "1//rt"};
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;
	assert_int_equal(cstep(ML_COP_CREATE, &q, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "POST");
	assert_string_equal(s.http.url, "http://sb/meetingbaas/calendars/");
	assert_string_equal(s.http.header_value, "k-123");
	json_t *b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "platform")), "Google");
	assert_string_equal(json_string_value(json_object_get(b, "oauth_refresh_token")), "1//rt");
	json_decref(b);
	struct ml_presp a = answer(200, "{\"calendar\":{\"uuid\":\"cal-1\",\"email\":\"a@x\","
	                                "\"name\":\"A\",\"google_id\":\"g\"}}");
	assert_int_equal(cstep(ML_COP_CREATE, &q, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(state, "calendar"), "id")), "cal-1");
	/* Only calendar platforms: Zoom has none. */
	q.platform = "zoom";
	assert_true(cstep(ML_COP_CREATE, &q, state, NULL, &s, &e) < 0);
	assert_string_equal(e.code, "invalid_field");
	ml_error_clear();

	struct ml_cal_req ev = {.calendar_id = "cal-1", .cursor = "c2"};
	cstep(ML_COP_EVENTS, &ev, state, NULL, &s, &e);
	assert_string_equal(s.http.url,
	                    "http://sb/meetingbaas/calendar_events/?calendar_id=cal-1&cursor=c2");
	a = answer(200, "{\"data\":[{\"uuid\":\"e1\",\"name\":\"Standup\",\"start_time\":"
	                "\"2026-01-01T09:00:00Z\",\"end_time\":\"2026-01-01T09:15:00Z\",\"is_recurring\":"
	                "true,\"bot_param\":{\"bot_name\":\"N\"},\"deleted\":false},{\"uuid\":\"e2\","
	                "\"deleted\":true}],\"next\":\"https://api/calendar_events/?cursor=abc&x=1\"}");
	assert_int_equal(cstep(ML_COP_EVENTS, &ev, state, &a, &s, &e), 0);
	json_t *evs = json_object_get(state, "events");
	assert_int_equal(json_array_size(evs), 1);
	assert_true(json_is_true(json_object_get(json_array_get(evs, 0), "recording")));
	assert_string_equal(json_string_value(json_object_get(state, "next")), "abc");

	struct ml_bot_req bot = breq();
	struct ml_cal_req sc = {.calendar_id = "cal-1", .event_id = "e1", .all_occurrences = true,
	                        .bot = &bot};
	cstep(ML_COP_SCHEDULE, &sc, state, NULL, &s, &e);
	assert_string_equal(s.http.url,
	                    "http://sb/meetingbaas/calendar_events/e1/bot?all_occurrences=true");
	b = json_loads(s.http.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "bot_name")), "Notes");
	json_decref(b);
	sc.all_occurrences = false;
	cstep(ML_COP_UNSCHEDULE, &sc, state, NULL, &s, &e);
	assert_string_equal(s.http.method, "DELETE");
	assert_non_null(strstr(s.http.url, "all_occurrences=false"));
	a = answer(401, "");
	assert_true(cstep(ML_COP_UNSCHEDULE, &sc, state, &a, &s, &e) < 0);
	assert_string_equal(e.code, "invalid_credentials");
	/* A calendar already gone is unregistered. */
	cstep(ML_COP_DELETE, &ev, state, NULL, &s, &e);
	a = answer(404, "");
	assert_int_equal(cstep(ML_COP_DELETE, &ev, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_platforms_bots_join(void **st)
{
	(void)st;
	assert_true(ml_provider_find("google_meet")->caps & ML_CAP_BOT_JOINS);
	assert_true(ml_provider_find("zoom")->caps & ML_CAP_BOT_JOINS);
	assert_true(ml_provider_find("teams")->caps & ML_CAP_BOT_JOINS);
	assert_false(ml_provider_find("jitsi")->caps & ML_CAP_BOT_JOINS);
	assert_false(ml_provider_find("twilio")->caps & ML_CAP_BOT_JOINS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dispatch_first_attempt_posts_once),
	    cmocka_unit_test(test_dispatch_later_attempt_adopts),
	    cmocka_unit_test(test_dispatch_duplicate_409_looks_up),
	    cmocka_unit_test(test_dispatch_failures_classified),
	    cmocka_unit_test(test_fetch_meeting_data),
	    cmocka_unit_test(test_leave_retranscribe_delete),
	    cmocka_unit_test(test_leave_finds_the_bot_of_a_lost_dispatch_answer),
	    cmocka_unit_test(test_webhook_verify_and_subject),
	    cmocka_unit_test(test_webhook_events),
	    cmocka_unit_test(test_calendar_create_events_schedule),
	    cmocka_unit_test(test_platforms_bots_join),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	json_decref(CRX);
	return rc;
}

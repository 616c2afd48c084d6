/* The Google Meet driver, sans-IO: requests it builds, answers it classifies, its state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/provider.h"
#include "sandbox/fields.h"

static const uint8_t secret[32] = {1, 2, 3};
static struct ml_platform_settings S = {
    .room_secret = secret, .room_secret_len = 32, .poll_ms = 250};
static struct ml_provider_ctx CX = {&S, 1700000000};
static struct ml_pcreds CR = {.api_base = "http://sb/google", .access_token = "tok"};

static const struct ml_provider_ops *drv(void)
{
	const struct ml_provider_ops *o = ml_provider_find("google_meet");
	assert_non_null(o);
	assert_true(o->abi >= 2 && (o->caps & ML_CAP_REMOTE) && o->remote_step);
	return o;
}

static struct ml_meeting_req req(unsigned gen)
{
	struct ml_meeting_req r = {.org_id = "org_1",
	                           .booking_id = "bkg_1",
	                           .title = "Math",
	                           .start = 1796137200,
	                           .end = 1796140200,
	                           .timezone = "Europe/London",
	                           .generation = gen};
	return r;
}

static struct ml_presp answer(long status, const char *body)
{
	struct ml_presp r = {ML_PT_OK, status, body, strlen(body), NULL, 1700000000};
	return r;
}

static int step(enum ml_mop op, const struct ml_meeting_req *r, json_t *state,
                const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err)
{
	memset(err, 0, sizeof *err);
	return drv()->remote_step(&CX, op, r, &CR, state, resp, out, err);
}

static const char *EV_OK = "{\"id\":\"%s\",\"status\":\"confirmed\",\"hangoutLink\":"
                           "\"https://meet.google.com/abc-defg-hij\",\"conferenceData\":{"
                           "\"createRequest\":{\"status\":{\"statusCode\":\"success\"}}}}";

/* The partial-response selector every request with an answer to read carries. */
#define FIELDS_Q                                                                                   \
	"fields=id%2Cstatus%2ChangoutLink%2CconferenceData%28createRequest%2Fstatus%2F"            \
	"statusCode%2CentryPoints%28entryPointType%2Curi%29%29"

static char *event_json(const char *fmt, const char *id)
{
	static char buf[512];
	snprintf(buf, sizeof buf, fmt, id);
	return buf;
}

static void test_create_insert_then_409_then_get(void **st)
{
	(void)st;
	struct ml_meeting_req r = req(0);
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;

	assert_int_equal(step(ML_MOP_CREATE, &r, state, NULL, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_HTTP);
	assert_string_equal(s.http.method, "POST");
	assert_non_null(
	    strstr(s.http.url, "http://sb/google/calendar/v3/calendars/primary/events?"));
	assert_non_null(strstr(s.http.url, "conferenceDataVersion=1"));
	assert_non_null(strstr(s.http.url, "sendUpdates=none"));
	assert_non_null(strstr(s.http.url, "&" FIELDS_Q));
	assert_string_equal(s.http.authorization, "Bearer tok");
	json_t *body = json_loads(s.http.body, 0, NULL);
	const char *id = json_string_value(json_object_get(body, "id"));
	assert_int_equal(strlen(id), 28);
	assert_int_equal(strspn(id, "0123456789abcdefghijklmnopqrstuv"), 28);
	const char *rid = json_string_value(json_object_get(
	    json_object_get(json_object_get(body, "conferenceData"), "createRequest"),
	    "requestId"));
	assert_non_null(rid);
	assert_string_equal(rid, json_string_value(json_object_get(state, "request_id")));
	char idc[64];
	snprintf(idc, sizeof idc, "%s", id);
	json_decref(body);

	/* Same booking, same generation: same id. Next generation: another. */
	struct ml_pstep s2 = {0};
	assert_int_equal(step(ML_MOP_CREATE, &r, state, NULL, &s2, &e), 0);
	assert_non_null(strstr(s2.http.body, idc));
	ml_pstep_clear(&s2);
	struct ml_meeting_req r1 = req(1);
	json_t *st1 = json_object();
	assert_int_equal(step(ML_MOP_CREATE, &r1, st1, NULL, &s2, &e), 0);
	assert_null(strstr(s2.http.body, idc));
	ml_pstep_clear(&s2);
	json_decref(st1);

	/* 409: the first insert went through; fetch and use it. */
	struct ml_presp a = answer(409, "{\"error\":{\"code\":409,\"message\":\"dup\",\"errors\":[{"
	                                "\"reason\":\"duplicate\"}]}}");
	ml_pstep_clear(&s);
	assert_int_equal(step(ML_MOP_CREATE, &r, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_HTTP);
	assert_string_equal(s.http.method, "GET");
	assert_non_null(strstr(s.http.url, idc));
	assert_non_null(strstr(s.http.url, "?" FIELDS_Q));
	a = answer(200, event_json(EV_OK, idc));
	ml_pstep_clear(&s);
	assert_int_equal(step(ML_MOP_CREATE, &r, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_string_equal(s.meeting.join_url, "https://meet.google.com/abc-defg-hij");
	assert_string_equal(s.meeting.external_id, idc);
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_pending_is_polled(void **st)
{
	(void)st;
	struct ml_meeting_req r = req(0);
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;
	struct ml_presp a =
	    answer(200, "{\"id\":\"mlx\",\"status\":\"confirmed\",\"conferenceData\":"
	                "{\"createRequest\":{\"status\":{\"statusCode\":\"pending\"}}}}");
	assert_int_equal(step(ML_MOP_CREATE, &r, state, NULL, &s, &e), 0);
	ml_pstep_clear(&s);
	assert_int_equal(step(ML_MOP_CREATE, &r, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_POLL);
	assert_int_equal(s.poll_after_ms, 250);
	ml_pstep_clear(&s);
	/* The next attempt (state persisted) looks, it does not insert again. */
	assert_int_equal(step(ML_MOP_CREATE, &r, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "GET");
	a = answer(200, event_json(EV_OK, "mlx"));
	ml_pstep_clear(&s);
	assert_int_equal(step(ML_MOP_CREATE, &r, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	ml_pstep_clear(&s);
	/* A conference that fails is permanent. */
	a = answer(200, "{\"id\":\"mlx\",\"status\":\"confirmed\",\"conferenceData\":"
	                "{\"createRequest\":{\"status\":{\"statusCode\":\"failure\"}}}}");
	assert_true(step(ML_MOP_CREATE, &r, state, &a, &s, &e) < 0);
	assert_int_equal(s.kind, ML_PSTEP_FAIL);
	assert_int_equal(e.kind, ML_PERR_PERMANENT);
	assert_string_equal(e.code, "conference_failed");
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_classification(void **st)
{
	(void)st;
	struct {
		enum ml_ptransport t;
		long status;
		const char *body;
		enum ml_perr_kind kind;
	} cases[] = {
	    {ML_PT_OK, 503,
	     "{\"error\":{\"code\":503,\"message\":\"b\",\"errors\":[{\"reason\":\"backendError\"}]"
	     "}}",
	     ML_PERR_RETRY},
	    {ML_PT_OK, 500, "", ML_PERR_RETRY},
	    {ML_PT_OK, 429, "{}", ML_PERR_RETRY},
	    {ML_PT_OK, 403, "{\"error\":{\"errors\":[{\"reason\":\"rateLimitExceeded\"}]}}",
	     ML_PERR_RETRY},
	    {ML_PT_OK, 403, "{\"error\":{\"errors\":[{\"reason\":\"insufficientPermissions\"}]}}",
	     ML_PERR_REAUTH},
	    {ML_PT_OK, 401, "{}", ML_PERR_REAUTH},
	    {ML_PT_OK, 400, "{\"error\":{\"errors\":[{\"reason\":\"invalid\"}]}}",
	     ML_PERR_PERMANENT},
	    {ML_PT_TIMEOUT, 0, "", ML_PERR_RETRY},
	    {ML_PT_DROPPED, 0, "", ML_PERR_RETRY},
	    {ML_PT_CONNECT, 0, "", ML_PERR_RETRY},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ml_meeting_req r = req(0);
		json_t *state = json_object();
		struct ml_pstep s = {0};
		struct ml_perr e;
		assert_int_equal(step(ML_MOP_CREATE, &r, state, NULL, &s, &e), 0);
		ml_pstep_clear(&s);
		struct ml_presp a = answer(cases[i].status, cases[i].body);
		a.transport = cases[i].t;
		assert_true(step(ML_MOP_CREATE, &r, state, &a, &s, &e) < 0);
		assert_int_equal(s.kind, ML_PSTEP_FAIL);
		assert_int_equal(e.kind, cases[i].kind);
		assert_non_null(strlen(e.code) ? e.code : NULL);
		assert_null(strstr(e.message, "tok"));
		ml_pstep_clear(&s);
		json_decref(state);
	}
}

static void test_update_and_delete(void **st)
{
	(void)st;
	struct ml_meeting_req r = req(0);
	r.external_id = "mlabc";
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;

	assert_int_equal(step(ML_MOP_UPDATE, &r, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "PATCH");
	assert_non_null(strstr(s.http.url, "/events/mlabc?"));
	assert_non_null(strstr(s.http.url, "&" FIELDS_Q));
	assert_non_null(strstr(s.http.body, "2026-12-01T15:00:00Z"));
	struct ml_presp a = answer(200, event_json(EV_OK, "mlabc"));
	ml_pstep_clear(&s);
	assert_int_equal(step(ML_MOP_UPDATE, &r, state, &a, &s, &e), 0);
	assert_int_equal(s.kind, ML_PSTEP_DONE);
	assert_false(s.provider_cancelled);
	assert_string_equal(s.meeting.join_url, "https://meet.google.com/abc-defg-hij");
	ml_pstep_clear(&s);
	/* Deleted in Google: reported, not hidden. */
	a = answer(200, "{\"id\":\"mlabc\",\"status\":\"cancelled\"}");
	assert_int_equal(step(ML_MOP_UPDATE, &r, state, &a, &s, &e), 0);
	assert_true(s.provider_cancelled);
	ml_pstep_clear(&s);
	a = answer(404, "{}");
	assert_int_equal(step(ML_MOP_UPDATE, &r, state, &a, &s, &e), 0);
	assert_true(s.provider_cancelled);
	ml_pstep_clear(&s);

	assert_int_equal(step(ML_MOP_DELETE, &r, state, NULL, &s, &e), 0);
	assert_string_equal(s.http.method, "DELETE");
	assert_null(strstr(s.http.url, "fields=")); /* 204: no body to select from */
	ml_pstep_clear(&s);
	long gone[] = {204, 200, 404, 410};
	for (size_t i = 0; i < 4; i++) {
		a = answer(gone[i], "");
		assert_int_equal(step(ML_MOP_DELETE, &r, state, &a, &s, &e), 0);
		assert_int_equal(s.kind, ML_PSTEP_DONE);
		ml_pstep_clear(&s);
	}
	a = answer(500, "");
	assert_true(step(ML_MOP_DELETE, &r, state, &a, &s, &e) < 0);
	assert_int_equal(e.kind, ML_PERR_RETRY);
	ml_pstep_clear(&s);
	/* Without a known id (a create that never finished), the derived id is deleted. */
	r.external_id = NULL;
	assert_int_equal(step(ML_MOP_DELETE, &r, state, NULL, &s, &e), 0);
	assert_non_null(strstr(s.http.url, "/events/ml"));
	ml_pstep_clear(&s);
	json_decref(state);
}

static void test_cancelled_event_on_create_is_revived(void **st)
{
	(void)st;
	struct ml_meeting_req r = req(0);
	json_t *state = json_object();
	struct ml_pstep s = {0};
	struct ml_perr e;
	assert_int_equal(step(ML_MOP_CREATE, &r, state, NULL, &s, &e), 0);
	ml_pstep_clear(&s);
	struct ml_presp a = answer(409, "{}");
	assert_int_equal(step(ML_MOP_CREATE, &r, state, &a, &s, &e), 0);
	ml_pstep_clear(&s);
	a = answer(200, "{\"id\":\"mlx\",\"status\":\"cancelled\"}");
	assert_int_equal(step(ML_MOP_CREATE, &r, state, &a, &s, &e), 0);
	assert_string_equal(s.http.method, "PATCH");
	assert_non_null(strstr(s.http.url, "&" FIELDS_Q));
	assert_non_null(strstr(s.http.body, "\"confirmed\""));
	assert_non_null(strstr(s.http.body, "hangoutsMeet"));
	ml_pstep_clear(&s);
	json_decref(state);
}

/* The `fields` value of a URL, percent-decoded (as the sandbox's query parser does). */
static char *fields_of(const char *url)
{
	const char *p = strstr(url, "fields=");
	assert_non_null(p);
	p += strlen("fields=");
	char *out = malloc(strlen(p) + 1), *o = out;
	for (; *p && *p != '&'; p++) {
		unsigned v;
		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* The driver decides the same on the partial answer its selector asks for as on Google's
 * whole event: the selection leaves out nothing it reads. */
static void test_fields_select_what_is_read(void **st)
{
	(void)st;
	static const char *const full[] = {
	    /* success: hangoutLink, entry points, everything else Google sends */
	    "{\"kind\":\"calendar#event\",\"etag\":\"\\\"3\\\"\",\"id\":\"mlx\",\"status\":"
	    "\"confirmed\",\"htmlLink\":\"https://www.google.com/calendar/event?eid=mlx\","
	    "\"summary\":\"Math\",\"start\":{\"dateTime\":\"2026-12-01T15:00:00Z\"},"
	    "\"end\":{\"dateTime\":\"2026-12-01T15:50:00Z\"},\"hangoutLink\":"
	    "\"https://meet.google.com/abc-defg-hij\",\"conferenceData\":{\"createRequest\":{"
	    "\"requestId\":\"r\",\"conferenceSolutionKey\":{\"type\":\"hangoutsMeet\"},"
	    "\"status\":{\"statusCode\":\"success\"}},\"entryPoints\":[{\"entryPointType\":"
	    "\"video\",\"uri\":\"https://meet.google.com/abc-defg-hij\",\"label\":\"x\"},"
	    "{\"entryPointType\":\"more\",\"uri\":\"https://tel.meet/abc\",\"pin\":\"1\"}],"
	    "\"conferenceSolution\":{\"key\":{\"type\":\"hangoutsMeet\"},\"name\":\"Google "
	    "Meet\"},\"conferenceId\":\"abc-defg-hij\"},\"sequence\":0}",
	    /* success with a video entry point only */
	    "{\"id\":\"mlx\",\"status\":\"confirmed\",\"summary\":\"Math\",\"conferenceData\":{"
	    "\"createRequest\":{\"status\":{\"statusCode\":\"success\"}},\"entryPoints\":[{"
	    "\"entryPointType\":\"video\",\"uri\":\"https://meet.google.com/xyz-abcd-efg\","
	    "\"label\":\"y\"}]}}",
	    /* pending, failed, cancelled, without a conference */
	    "{\"id\":\"mlx\",\"status\":\"confirmed\",\"summary\":\"Math\",\"conferenceData\":{"
	    "\"createRequest\":{\"requestId\":\"r\",\"status\":{\"statusCode\":\"pending\"}}}}",
	    "{\"id\":\"mlx\",\"status\":\"confirmed\",\"conferenceData\":{\"createRequest\":{"
	    "\"status\":{\"statusCode\":\"failure\"}}}}",
	    "{\"id\":\"mlx\",\"status\":\"cancelled\",\"summary\":\"Math\"}",
	    "{\"id\":\"mlx\",\"status\":\"confirmed\",\"summary\":\"Math\"}",
	};
	enum ml_mop ops[] = {ML_MOP_CREATE, ML_MOP_UPDATE};
	for (size_t o = 0; o < 2; o++) {
		for (size_t i = 0; i < sizeof full / sizeof full[0]; i++) {
			struct ml_meeting_req r = req(0);
			r.external_id = ops[o] == ML_MOP_UPDATE ? "mlx" : NULL;
			struct ml_pstep s[2] = {{0}};
			struct ml_perr e[2];
			int rc[2];
			json_t *state[2] = {json_object(), json_object()};
			assert_int_equal(step(ops[o], &r, state[0], NULL, &s[0], &e[0]), 0);
			char *sel = fields_of(s[0].http.url);
			struct ml_sb_fields *f = NULL;
			assert_int_equal(ml_sb_fields_parse(&f, sel), 0);
			json_t *ev = json_loads(full[i], 0, NULL);
			assert_non_null(ev);
			json_t *part = ml_sb_fields_apply(f, ev);
			char *ptext = json_dumps(part, JSON_COMPACT);
			assert_true(strlen(ptext) <= strlen(full[i]));
			assert_int_equal(step(ops[o], &r, state[1], NULL, &s[1], &e[1]), 0);
			ml_pstep_clear(&s[0]);
			ml_pstep_clear(&s[1]);
			struct ml_presp a[2] = {answer(200, full[i]), answer(200, ptext)};
			for (int k = 0; k < 2; k++)
				rc[k] = step(ops[o], &r, state[k], &a[k], &s[k], &e[k]);
			assert_int_equal(rc[0], rc[1]);
			assert_int_equal(s[0].kind, s[1].kind);
			assert_int_equal(s[0].provider_cancelled, s[1].provider_cancelled);
			if (s[0].kind == ML_PSTEP_DONE && !s[0].provider_cancelled)
				assert_string_equal(s[0].meeting.join_url, s[1].meeting.join_url);
			if (s[0].kind == ML_PSTEP_HTTP)
				assert_string_equal(s[0].http.method, s[1].http.method);
			if (rc[0] < 0) {
				assert_int_equal(e[0].kind, e[1].kind);
				assert_string_equal(e[0].code, e[1].code);
			}
			for (int k = 0; k < 2; k++) {
				ml_pstep_clear(&s[k]);
				json_decref(state[k]);
			}
			free(ptext);
			json_decref(part);
			json_decref(ev);
			ml_sb_fields_free(f);
			free(sel);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_insert_then_409_then_get),
	    cmocka_unit_test(test_pending_is_polled),
	    cmocka_unit_test(test_classification),
	    cmocka_unit_test(test_update_and_delete),
	    cmocka_unit_test(test_cancelled_event_on_create_is_revived),
	    cmocka_unit_test(test_fields_select_what_is_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* MeetingBaas recording bots (API v1, ../shared/specs/meetingbaas/): the sans-IO steps the
 * recording jobs run (send, leave, fetch, retranscribe, delete data) and the webhooks the
 * bots send back. Every request carries the organization's key in x-meeting-baas-api-key;
 * the webhooks carry the same key in the same header, compared in constant time.
 *
 * Exactly one bot per recording: the create carries `deduplication_key` (MeetingBaas refuses
 * a second bot with the same key) and `extra.meetlink_key`; any attempt after the first (an
 * earlier one may have reached MeetingBaas: a timeout, a daemon killed mid-call) first
 * looks the bot up by that extra field (`filter_by_extra`) and adopts it, and a create
 * refused as a duplicate looks it up too.
 */
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/url.h"
#include "core/utf8.h"
#include "providers/meetingbaas.h"
#include "providers/remote.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_HEADER "x-meeting-baas-api-key"

static const char *api_key(const struct ml_pcreds *cr)
{
	const char *k = json_string_value(json_object_get(cr ? cr->extra : NULL, "api_key"));
	return k ? k : "";
}

static void mb_http(struct ml_pstep *out, const struct ml_pcreds *cr, const char *method,
                    char *url, json_t *body)
{
	char *text = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
	}
	ml_pstep_http(out, method, url, text, text ? "application/json" : NULL, NULL);
	out->http.header_name = MB_HEADER;
	out->http.header_value = ml_strdup(api_key(cr));
}

/* MeetingBaas's words for a refusal: "error", "message" or "detail" of its body. */
static void mb_error_text(const struct ml_presp *r, char *out, size_t n)
{
	json_t *b = ml_presp_json(r);
	const char *m = ml_pjs(b, "message");
	if (!m)
		m = ml_pjs(b, "error");
	if (!m)
		m = ml_pjs(b, "detail");
	ml_utf8_copy(out, n, m ? m : "");
	json_decref(b);
}

/* A failure with no meaning special to the operation. */
static int mb_fail(const struct ml_presp *r, struct ml_pstep *out, struct ml_perr *err,
                   const char *what)
{
	char msg[160];
	out->kind = ML_PSTEP_FAIL;
	mb_error_text(r, msg, sizeof msg);
	if (r->transport == ML_PT_OK && (r->status == 401 || r->status == 403))
		return ml_perr_set(err, ML_PERR_PERMANENT, (int)r->status, "invalid_credentials",
		                   "MeetingBaas refused the organization's API key (%s).", what);
	if (r->transport == ML_PT_OK && r->status >= 400 && r->status < 500 && r->status != 408 &&
	    r->status != 425 && r->status != 429)
		return ml_perr_set(err, ML_PERR_PERMANENT, (int)r->status, "recorder_refused",
		                   "MeetingBaas refused to %s (HTTP %ld)%s%s", what, r->status,
		                   msg[0] ? ": " : ".", msg);
	return ml_perr_from_resp(err, r, "MeetingBaas", "recorder_unavailable", what);
}

/* --- dispatch --- */

static json_t *join_body(const struct ml_bot_req *q)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "meeting_url", q->meeting_url,
	                      "bot_name", q->bot_name ? q->bot_name : "meetlink recorder",
	                      "recording_mode", q->recording_mode ? q->recording_mode : "speaker_view",
	                      "deduplication_key", q->dedup_key, "extra", "meetlink_key",
	                      q->dedup_key, "meetlink_recording",
	                      q->recording_id ? q->recording_id : "");
	if (q->webhook_url)
		json_object_set_new(b, "webhook_url", json_string(q->webhook_url));
	if (q->transcription)
		json_object_set_new(b, "speech_to_text",
		                    json_pack("{s:s}", "provider", q->transcription));
	json_t *leave = json_object();
	if (q->waiting_room_timeout > 0)
		json_object_set_new(leave, "waiting_room_timeout",
		                    json_integer(q->waiting_room_timeout));
	if (q->noone_joined_timeout > 0)
		json_object_set_new(leave, "noone_joined_timeout",
		                    json_integer(q->noone_joined_timeout));
	if (q->silence_timeout > 0)
		json_object_set_new(leave, "silence_timeout", json_integer(q->silence_timeout));
	if (json_object_size(leave))
		json_object_set_new(b, "automatic_leave", leave);
	else
		json_decref(leave);
	if (q->start_time > 0)
		json_object_set_new(b, "start_time", json_integer(q->start_time));
	return b;
}

static void lookup(struct ml_pstep *out, const struct ml_bot_req *q, const struct ml_pcreds *cr,
                   json_t *state)
{
	char *filter = ml_asprintf("meetlink_key:%s", q->dedup_key);
	char *enc = ml_url_encode(filter);
	ml_pphase(state, "lookup");
	mb_http(out, cr, "GET",
	        ml_asprintf("%s/bots/bots_with_metadata?filter_by_extra=%s&limit=5", cr->api_base,
	                    enc),
	        NULL);
	free(enc);
	free(filter);
}

/* The bot an earlier attempt made, out of a bots_with_metadata answer; NULL when none. */
static const char *found_bot(json_t *b, const char *key)
{
	size_t i;
	json_t *e;
	json_t *bots = json_object_get(b, "bots");
	if (!bots)
		bots = json_object_get(b, "recent_bots");
	json_array_foreach(bots, i, e)
	{
		const char *k = ml_pjs(json_object_get(e, "extra"), "meetlink_key");
		if (k && strcmp(k, key) == 0 && ml_pjs(e, "uuid"))
			return ml_pjs(e, "uuid");
	}
	return NULL;
}

static int dispatch_step(const struct ml_bot_req *q, const struct ml_pcreds *cr, json_t *state,
                         const struct ml_presp *r, struct ml_pstep *out, struct ml_perr *err)
{
	const char *phase = ml_pjs(state, "phase");
	if (!q->dedup_key || !q->dedup_key[0] || !q->meeting_url || !q->meeting_url[0]) {
		out->kind = ML_PSTEP_FAIL;
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_request",
		                   "A bot needs a meeting URL and a deduplication key.");
	}
	if (!r) {
		/* A later attempt: an earlier one may have made the bot. */
		if (json_integer_value(json_object_get(state, "attempt")) > 1) {
			lookup(out, q, cr, state);
			return 0;
		}
		ml_pphase(state, "create");
		mb_http(out, cr, "POST", ml_asprintf("%s/bots/", cr->api_base), join_body(q));
		out->http.not_idempotent = true;
		return 0;
	}
	json_t *b = ml_presp_json(r);
	int rc = 0;
	if (phase && strcmp(phase, "lookup") == 0) {
		const char *id = ml_presp_ok(r) ? found_bot(b, q->dedup_key) : NULL;
		if (id) {
			json_object_set_new(state, "bot_id", json_string(id));
			json_object_set_new(state, "adopted", json_true());
			out->kind = ML_PSTEP_DONE;
		} else if (ml_presp_ok(r) && !json_is_true(json_object_get(state, "refused"))) {
			ml_pphase(state, "create");
			mb_http(out, cr, "POST", ml_asprintf("%s/bots/", cr->api_base), join_body(q));
			out->http.not_idempotent = true;
		} else if (ml_presp_ok(r)) {
			/* Refused as a duplicate, yet nowhere to be found: let a later attempt look
			 * again (the first one may still be on its way). */
			json_object_del(state, "refused");
			out->kind = ML_PSTEP_FAIL;
			rc = ml_perr_set(err, ML_PERR_RETRY, 409, "duplicate_bot",
			                 "MeetingBaas reports a bot with this key but lists none yet.");
		} else {
			rc = mb_fail(r, out, err, "list bots");
		}
		return ml_pstep_end(out, rc, b);
	}
	if (ml_presp_ok(r) && ml_pjs(b, "bot_id")) {
		json_object_set_new(state, "bot_id", json_string(ml_pjs(b, "bot_id")));
		out->kind = ML_PSTEP_DONE;
	} else if (r->transport == ML_PT_OK && r->status == 409) {
		/* A bot with this deduplication key exists: it is ours. */
		json_object_set_new(state, "refused", json_true());
		lookup(out, q, cr, state);
	} else if (ml_presp_ok(r)) {
		out->kind = ML_PSTEP_FAIL;
		rc = ml_perr_set(err, ML_PERR_RETRY, (int)r->status, "invalid_answer",
		                 "MeetingBaas answered without a bot_id.");
	} else {
		rc = mb_fail(r, out, err, "send the bot");
	}
	return ml_pstep_end(out, rc, b);
}

/* --- meeting data: the recording, its length and its transcript --- */

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *jnum(double d)
{
	return isfinite(d) ? json_real(round(d * 1000) / 1000) : json_null();
}

/* One transcript segment as meetlink shows it: speaker, start, end, text, words. */
static json_t *segment(json_t *t)
{
	json_t *words = json_array();
	struct ml_buf text = {0};
	size_t i;
	json_t *w;
	double start = num(t, "start_time"), end = num(t, "end_time");
	json_array_foreach(json_object_get(t, "words"), i, w)
	{
		const char *word = ml_pjs(w, "text");
		if (!word)
			word = ml_pjs(w, "word");
		if (!word)
			continue;
		double ws = num(w, "start_time"), we = num(w, "end_time");
		if (!isfinite(ws))
			ws = num(w, "start");
		if (!isfinite(we))
			we = num(w, "end");
		json_array_append_new(words, json_pack("{s:o, s:o, s:s}", "start", jnum(ws), "end",
		                                       jnum(we), "text", word));
		ml_buf_printf(&text, "%s%s", text.len ? " " : "", word);
		if (!isfinite(start))
			start = ws;
		if (isfinite(we) && (!isfinite(end) || we > end))
			end = we;
	}
	const char *speaker = ml_pjs(t, "speaker");
	json_t *seg = json_pack("{s:s, s:o, s:o, s:s, s:o}", "speaker", speaker ? speaker : "",
	                        "start", jnum(start), "end", jnum(end), "text",
	                        text.data ? text.data : "", "words", words);
	ml_buf_free(&text);
	return seg;
}

static json_t *result_of(json_t *b)
{
	json_t *bd = json_object_get(b, "bot_data");
	json_t *bot = json_object_get(bd, "bot");
	const char *mp4 = ml_pjs(b, "mp4"), *audio = ml_pjs(b, "audio");
	const char *errors = ml_pjs(bot, "errors");
	bool ended = json_is_string(json_object_get(bot, "ended_at"));
	json_t *segs = json_array(), *speakers = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(bd, "transcripts"), i, t)
	{
		json_t *seg = segment(t);
		const char *sp = ml_pjs(seg, "speaker");
		bool seen = false;
		size_t j;
		json_t *s;
		json_array_foreach(speakers, j, s) seen = seen || strcmp(json_string_value(s), sp) == 0;
		if (!seen && sp[0])
			json_array_append_new(speakers, json_string(sp));
		json_array_append_new(segs, seg);
	}
	const char *status = (mp4 && mp4[0]) || (audio && audio[0]) ? "ready"
	                     : errors && errors[0]                   ? "failed"
	                     : ended                                 ? "processing"
	                                                             : "pending";
	json_t *d = json_object_get(b, "duration");
	const char *url = ml_pjs(bot, "meeting_url");
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:O, s:o, s:o, s:s?}", "status", status, "reason",
	                 errors && errors[0] ? errors : NULL, "media_url",
	                 mp4 && mp4[0] ? mp4 : NULL, "audio_url", audio && audio[0] ? audio : NULL,
	                 "duration_seconds", json_is_integer(d) ? d : json_null(), "speakers",
	                 speakers, "transcript", segs, "meeting_url",
	                 url && url[0] && strlen(url) < 2048 ? url : NULL);
}

static int fetch_step(const struct ml_bot_req *q, const struct ml_pcreds *cr, json_t *state,
                      const struct ml_presp *r, struct ml_pstep *out, struct ml_perr *err)
{
	if (!r) {
		char *id = ml_url_encode(q->bot_id);
		ml_pphase(state, "fetch");
		mb_http(out, cr, "GET",
		        ml_asprintf("%s/bots/meeting_data?bot_id=%s&include_transcripts=true",
		                    cr->api_base, id),
		        NULL);
		free(id);
		return 0;
	}
	json_t *b = ml_presp_json(r);
	int rc = 0;
	if (ml_presp_ok(r) && json_is_object(b)) {
		json_object_set_new(state, "result", result_of(b));
		out->kind = ML_PSTEP_DONE;
	} else if (ml_presp_gone(r)) {
		out->kind = ML_PSTEP_FAIL;
		rc = ml_perr_set(err, ML_PERR_GONE, (int)r->status, "bot_not_found",
		                 "MeetingBaas no longer knows this bot.");
	} else {
		rc = mb_fail(r, out, err, "read the meeting data");
	}
	return ml_pstep_end(out, rc, b);
}

/* --- leave, retranscribe, delete: one request each --- */

static int simple_step(enum ml_rop op, const struct ml_bot_req *q, const struct ml_pcreds *cr,
                       json_t *state, const struct ml_presp *r, struct ml_pstep *out,
                       struct ml_perr *err)
{
	static const char *const what[] = {[ML_ROP_LEAVE] = "remove the bot",
	                                   [ML_ROP_RETRANSCRIBE] = "transcribe again",
	                                   [ML_ROP_DELETE] = "delete the recording"};
	const char *bot = q->bot_id && q->bot_id[0] ? q->bot_id : ml_pjs(state, "bot_id");
	if (op == ML_ROP_LEAVE && !bot && q->dedup_key && q->dedup_key[0]) {
		/* The bot an ambiguous dispatch may have made (see ml_rop): found by its key. */
		if (!r) {
			lookup(out, q, cr, state);
			return 0;
		}
		json_t *b = ml_presp_json(r);
		int rc = 0;
		const char *id = ml_presp_ok(r) ? found_bot(b, q->dedup_key) : NULL;
		if (id) {
			json_object_set_new(state, "bot_id", json_string(id));
			bot = ml_pjs(state, "bot_id");
			r = NULL; /* now remove it */
		} else if (ml_presp_ok(r)) {
			out->kind = ML_PSTEP_DONE; /* no bot was made: none to remove */
		} else {
			rc = mb_fail(r, out, err, "list bots");
		}
		json_decref(b);
		if (rc < 0)
			out->kind = ML_PSTEP_FAIL;
		if (!bot)
			return rc;
	}
	if (!bot) {
		out->kind = ML_PSTEP_FAIL;
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_request", "No bot id.");
	}
	if (!r) {
		char *id = ml_url_encode(bot);
		ml_pphase(state, "call");
		if (op == ML_ROP_LEAVE)
			mb_http(out, cr, "DELETE", ml_asprintf("%s/bots/%s", cr->api_base, id), NULL);
		else if (op == ML_ROP_DELETE)
			mb_http(out, cr, "POST",
			        ml_asprintf("%s/bots/%s/delete_data", cr->api_base, id), NULL);
		else {
			json_t *b = json_pack("{s:s}", "bot_uuid", bot);
			if (q->transcription)
				json_object_set_new(b, "speech_to_text",
				                    json_pack("{s:s}", "provider", q->transcription));
			if (q->webhook_url)
				json_object_set_new(b, "webhook_url", json_string(q->webhook_url));
			mb_http(out, cr, "POST", ml_asprintf("%s/bots/retranscribe", cr->api_base), b);
		}
		free(id);
		return 0;
	}
	if (ml_presp_ok(r) || (op != ML_ROP_RETRANSCRIBE && ml_presp_gone(r))) {
		out->kind = ML_PSTEP_DONE;
		return 0;
	}
	if (ml_presp_gone(r)) {
		out->kind = ML_PSTEP_FAIL;
		return ml_perr_set(err, ML_PERR_GONE, (int)r->status, "bot_not_found",
		                   "MeetingBaas no longer knows this bot.");
	}
	return mb_fail(r, out, err, what[op]);
}

int ml_mb_bot_step(const struct ml_provider_ctx *cx, enum ml_rop op, const struct ml_bot_req *q,
                   const struct ml_pcreds *cr, json_t *state, const struct ml_presp *r,
                   struct ml_pstep *out, struct ml_perr *err)
{
	(void)cx;
	switch (op) {
	case ML_ROP_DISPATCH:
		return dispatch_step(q, cr, state, r, out, err);
	case ML_ROP_FETCH:
		return fetch_step(q, cr, state, r, out, err);
	case ML_ROP_LEAVE:
	case ML_ROP_RETRANSCRIBE:
	case ML_ROP_DELETE:
		return simple_step(op, q, cr, state, r, out, err);
	}
	out->kind = ML_PSTEP_FAIL;
	return ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_request", "Unknown operation.");
}

/* --- webhooks: POST /webhooks/meetingbaas --- */

int ml_mb_verify(const char *secret, const struct ml_inbound_req *r)
{
	const char *got = r->header(r->arg, MB_HEADER);
	if (!got || !secret || !secret[0])
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    MB_HEADER " is required.");
	if (!ml_ct_equal(secret, strlen(secret), got, strlen(got)))
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    "The " MB_HEADER " header does not match.");
	return 0;
}

static bool id_ok(const char *s)
{
	if (!s || !s[0] || strlen(s) >= 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

/* The calendar a bot was sent to, as meetlink tagged it when it asked MeetingBaas to record
 * the calendar's event (meetingbaas_cal.c): data.extra.meetlink_calendar. */
static const char *calendar_tag(json_t *d)
{
	return ml_pjs(json_object_get(d, "extra"), "meetlink_calendar");
}

int ml_mb_subject(json_t *body, char *out, size_t n)
{
	json_t *d = json_object_get(body, "data");
	/* A calendar's bot is unknown until its outcome names its calendar: that calendar's
	 * organization vouches for it (ml_recording_on_event checks the bot is not another
	 * organization's). */
	const char *id = id_ok(calendar_tag(d)) ? calendar_tag(d) : ml_pjs(d, "bot_id");
	if (!id)
		id = ml_pjs(d, "calendar_id");
	if (!id_ok(id) || strlen(id) >= n)
		return ml_error_set(ML_EINVAL, "invalid_field", "data.bot_id",
		                    "data.bot_id (or data.calendar_id) is required.");
	snprintf(out, n, "%s", id);
	return 0;
}

/* bot.status_change codes (docs: getting-the-data) as meetlink's recording states. */
static const struct {
	const char *code, *state;
} status_map[] = {
    {"joining_call", "joining"},       {"in_waiting_room", "waiting_room"},
    {"in_call_recording", "recording"}, {"recording_paused", "recording"},
    {"recording_resumed", "recording"}, {"call_ended", "processing"},
    {"bot_rejected", "failed"},        {"waiting_room_timeout", "failed"},
    {"invalid_meeting_url", "failed"}, {"meeting_error", "failed"},
};

static void copy(char *dst, size_t n, const char *s)
{
	ml_utf8_copy(dst, n, s ? s : "");
}

int ml_mb_parse(const char *secret, const struct ml_inbound_req *r, json_t *body,
                struct ml_inbound_event *out)
{
	(void)secret;
	const char *event = ml_pjs(body, "event");
	json_t *d = json_object_get(body, "data");
	if (!event)
		return ml_error_set(ML_EINVAL, "invalid_field", "event", "event is required.");
	if (!json_is_object(d))
		return ml_error_set(ML_EINVAL, "invalid_field", "data", "data must be an object.");
	/* v1 deliveries carry no id of their own: a repeat is the same body. */
	ml_sha256_hex(r->body, r->body_len, out->key);
	out->kind = ML_INBOUND_IGNORE;
	if (strncmp(event, "calendar.", 9) == 0) {
		if (id_ok(ml_pjs(d, "calendar_id"))) {
			copy(out->external_id, sizeof out->external_id, ml_pjs(d, "calendar_id"));
			out->kind = ML_INBOUND_CALENDAR;
		}
		return 0;
	}
	const char *bot = ml_pjs(d, "bot_id");
	if (!id_ok(bot))
		return ml_error_set(ML_EINVAL, "invalid_field", "data.bot_id",
		                    "data.bot_id is required.");
	copy(out->external_id, sizeof out->external_id, bot);
	if (id_ok(calendar_tag(d))) {
		copy(out->calendar_id, sizeof out->calendar_id, calendar_tag(d));
		if (id_ok(ml_pjs(d, "event_uuid")))
			copy(out->event_id, sizeof out->event_id, ml_pjs(d, "event_uuid"));
	}
	if (strcmp(event, "bot.status_change") == 0) {
		json_t *st = json_object_get(d, "status");
		const char *code = ml_pjs(st, "code");
		if (!code)
			return ml_error_set(ML_EINVAL, "invalid_field", "data.status.code",
			                    "data.status.code is required.");
		for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
			if (strcmp(code, status_map[i].code) == 0) {
				copy(out->state, sizeof out->state, status_map[i].state);
				if (strcmp(status_map[i].state, "failed") == 0) {
					copy(out->reason, sizeof out->reason, code);
					copy(out->message, sizeof out->message,
					     ml_pjs(st, "error_message"));
				}
			}
		out->kind = out->state[0] ? ML_INBOUND_RECORDING : ML_INBOUND_IGNORE;
		return 0;
	}
	if (strcmp(event, "complete") == 0) {
		copy(out->state, sizeof out->state, "processing");
		copy(out->fetch, sizeof out->fetch, "recording");
	} else if (strcmp(event, "failed") == 0) {
		copy(out->state, sizeof out->state, "failed");
		copy(out->reason, sizeof out->reason,
		     ml_pjs(d, "error") ? ml_pjs(d, "error") : "failed");
		copy(out->message, sizeof out->message, ml_pjs(d, "message"));
	} else if (strcmp(event, "transcription_complete") == 0) {
		copy(out->fetch, sizeof out->fetch, "transcript");
	} else {
		return 0;
	}
	out->kind = ML_INBOUND_RECORDING;
	return 0;
}

/* MeetingBaas /bots/…: join (POST /bots/, with the documented de-duplication), leave
 * (DELETE /bots/{uuid}), GET /bots/bots_with_metadata (filters, sorting by extra, cursor
 * paging), GET /bots/meeting_data, POST /bots/{uuid}/delete_data (5 a minute per key),
 * POST /bots/retranscribe, GET /bots/{uuid}/screenshots. Shapes: the v1 OpenAPI's
 * JoinResponse, LeaveResponse, ListRecentBotsResponse, Metadata, DeleteResponse,
 * ScreenshotsList. */
#include "sandbox/meetingbaas_internal.h"

#include "core/crypto.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- join -------------------------------------------------------------------------------- */

static bool same_str(const json_t *a, const json_t *b)
{
	if (json_is_null(a) || !a)
		return json_is_null(b) || !b;
	return json_is_string(a) && json_is_string(b) &&
	       strcmp(json_string_value(a), json_string_value(b)) == 0;
}

/* "We prevent multiple bots with same API key joining a meeting within 5 mins, unless
 * overridden by deduplication_key": a bot of the account for the same meeting URL and the
 * same deduplication_key (or none) made within dedup_window_seconds, or still live. */
static json_t *duplicate_of(json_t *root, const json_t *acct, const json_t *body)
{
	int64_t window = ml_sb_cfg_int(MBP, "dedup_window_seconds", 300) * 1000;
	int64_t now = ml_sb_now_ms();
	json_t *url = json_object_get(body, "meeting_url"), *key;
	const char *k;
	json_t *bot;

	key = json_object_get(body, "deduplication_key");
	json_object_foreach(json_object_get(root, "bots"), k, bot)
	{
		if (ml_mb_int(bot, "account_id", -1) != ml_mb_int(acct, "id", -2) ||
		    !same_str(json_object_get(bot, "meeting_url"), url) ||
		    !same_str(json_object_get(bot, "deduplication_key"), key) ||
		    !json_is_null(json_object_get(bot, "event_uuid")))
			continue;
		if (ml_mb_bot_live(bot) || ml_mb_int(bot, "created_at", 0) + window > now)
			return bot;
	}
	return NULL;
}

void ml_mb_join(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *body = ml_sb_json_body(req);
	const char *what = NULL, *field = ml_mb_check_join(body, &what);
	if (field) {
		ml_mb_bad(resp, field, what);
	} else if (duplicate_of(root, acct, body)) {
		ml_mb_err(resp, 409, "BOT_ALREADY_EXISTS",
		          "A bot was already sent to this meeting with the same API key and "
		          "deduplication_key in the last 5 minutes");
	} else {
		json_t *bot = ml_mb_bot_create(root, acct, body, NULL);
		ml_resp_json(resp, 200, json_pack("{s:s}", "bot_id", ml_sb_str(bot, "uuid")));
	}
	json_decref(body);
}

/* ---- leave ------------------------------------------------------------------------------- */

void ml_mb_leave(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *bot = ml_mb_bot_find(root, acct, req->params[0]);
	if (!bot) {
		ml_mb_err(resp, 404, "BOT_NOT_FOUND", "Bot not found");
		return;
	}
	bool live = ml_mb_bot_live(bot);
	if (live)
		ml_mb_bot_leave(root, bot, "api_request");
	ml_resp_json(resp, 200, json_pack("{s:b}", "ok", live));
}

/* ---- list -------------------------------------------------------------------------------- */

struct filters {
	const char *bot_name, *meeting_url, *speaker, *by_extra, *sort_extra;
	int64_t created_after, created_before, ended_after; /* ms; INT64_MIN/MAX when absent */
};

static bool contains_ci(const char *hay, const char *needle)
{
	return !needle || (hay && strcasestr(hay, needle));
}

static const char *extra_str(const json_t *extra, const char *field, char *buf, size_t n)
{
	json_t *v = json_object_get(extra, field);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		return snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), buf;
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

/* filter_by_extra "field:value,field2:value2": every condition matches exactly. */
static bool extra_match(const json_t *extra, const char *spec)
{
	char buf[512], num[32];
	if (!spec)
		return true;
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *save = NULL, *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(c, ':');
		if (!colon)
			return false;
		*colon = '\0';
		const char *v = extra_str(extra, c, num, sizeof num);
		if (!v || strcmp(v, colon + 1) != 0)
			return false;
	}
	return true;
}

static bool keep(const json_t *bot, const struct filters *f)
{
	bool speaker = !f->speaker;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(bot, "speakers"), i, s) speaker =
	    speaker || contains_ci(json_string_value(s), f->speaker);
	int64_t created = ml_mb_int(bot, "created_at", 0);
	json_t *ended = json_object_get(bot, "finished_at");
	return contains_ci(ml_sb_str(bot, "bot_name"), f->bot_name) &&
	       contains_ci(ml_sb_str(bot, "meeting_url"), f->meeting_url) && speaker &&
	       created >= f->created_after && created <= f->created_before &&
	       (f->ended_after == INT64_MIN ||
	        (json_is_integer(ended) && json_integer_value(ended) >= f->ended_after)) &&
	       extra_match(json_object_get(bot, "extra"), f->by_extra);
}

static const char *sort_field;
static bool sort_desc;

static int by_created(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t ix = ml_mb_int(x, "id", 0), iy = ml_mb_int(y, "id", 0);
	if (sort_field) {
		char bx[32], by[32];
		const char *sx = extra_str(json_object_get(x, "extra"), sort_field, bx, sizeof bx);
		const char *sy = extra_str(json_object_get(y, "extra"), sort_field, by, sizeof by);
		if (sx && !sy)
			return -1; /* bots with the field come first */
		if (!sx && sy)
			return 1;
		int c = sx && sy ? strcmp(sx, sy) : 0;
		if (c)
			return sort_desc ? -c : c;
	}
	return ix < iy ? 1 : ix > iy ? -1 : 0; /* newest first */
}

static json_t *entry(const json_t *bot)
{
	json_t *fin = json_object_get(bot, "finished_at");
	const char *outcome = ml_sb_str(bot, "outcome");
	json_t *o = json_pack(
	    "{s:O, s:O, s:O, s:O, s:o, s:O, s:O, s:n, s:n, s:n}", "id", json_object_get(bot, "id"),
	    "uuid", json_object_get(bot, "uuid"), "bot_name", json_object_get(bot, "bot_name"),
	    "meeting_url", json_object_get(bot, "meeting_url"), "created_at",
	    ml_mb_time_ms(ml_mb_int(bot, "created_at", 0)), "extra", json_object_get(bot, "extra"),
	    "speakers", json_object_get(bot, "speakers"), "session_id", "access_count",
	    "last_accessed_at");
	json_object_set_new(o, "ended_at",
	                    json_is_integer(fin) ? ml_mb_time_ms(json_integer_value(fin))
	                                         : json_null());
	json_object_set_new(o, "duration",
	                    outcome && !strcmp(outcome, "complete")
	                        ? json_integer(ml_mb_int(bot, "duration", 0))
	                        : json_null());
	return o;
}

static bool query_time(struct ml_http_resp *resp, const char *v, const char *name, int64_t *out)
{
	int64_t t;
	if (!v)
		return true;
	if (!ml_mb_parse_time(v, &t)) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/%s must be an ISO-8601 date-time", name);
		return false;
	}
	*out = t * 1000;
	return true;
}

static bool parse_filters(struct ml_http_req *req, struct ml_http_resp *resp, struct filters *f)
{
	*f = (struct filters){ml_http_query(req, "bot_name"),
	                      ml_http_query(req, "meeting_url"),
	                      ml_http_query(req, "speaker_name"),
	                      ml_http_query(req, "filter_by_extra"),
	                      ml_http_query(req, "sort_by_extra"),
	                      INT64_MIN,
	                      INT64_MAX,
	                      INT64_MIN};
	return query_time(resp, ml_http_query(req, "created_after"), "created_after",
	                  &f->created_after) &&
	       query_time(resp, ml_http_query(req, "created_before"), "created_before",
	                  &f->created_before) &&
	       query_time(resp, ml_http_query(req, "ended_after"), "ended_after", &f->ended_after);
}

/* The cursor: base64 of "offset:N". */
static bool parse_cursor(const char *c, size_t *off)
{
	size_t n;
	if (!c || !*c)
		return *off = 0, true;
	uint8_t *d = ml_base64_decode(c, strlen(c), &n);
	char buf[32];
	bool ok = d && n < sizeof buf;
	if (ok) {
		memcpy(buf, d, n);
		buf[n] = '\0';
		char *end;
		ok = strncmp(buf, "offset:", 7) == 0;
		unsigned long long v = ok ? strtoull(buf + 7, &end, 10) : 0;
		ok = ok && buf[7] && !*end;
		*off = (size_t)v;
	}
	free(d);
	return ok;
}

void ml_mb_list_bots(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	struct filters f;
	size_t off;
	if (!acct || !parse_filters(req, resp, &f))
		return;
	const char *ls = ml_http_query(req, "limit");
	char *end = NULL;
	long limit = ls ? strtol(ls, &end, 10) : 10;
	if (ls && (!*ls || *end || limit < 1 || limit > 50)) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/limit must be an integer from 1 to 50");
		return;
	}
	if (!parse_cursor(ml_http_query(req, "cursor"), &off)) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/cursor is not a valid cursor");
		return;
	}
	size_t n = 0, cap = 16;
	json_t **v = ml_malloc(cap * sizeof *v), *bot;
	const char *k;
	json_object_foreach(json_object_get(root, "bots"), k, bot)
	{
		if (ml_mb_int(bot, "account_id", -1) != ml_mb_int(acct, "id", -2) || !keep(bot, &f))
			continue;
		if (n == cap)
			v = ml_realloc(v, (cap *= 2) * sizeof *v);
		v[n++] = bot;
	}
	char field[128] = "";
	if (f.sort_extra) {
		snprintf(field, sizeof field, "%s", f.sort_extra);
		char *colon = strchr(field, ':');
		sort_desc = colon && !strcasecmp(colon + 1, "desc");
		if (colon)
			*colon = '\0';
	}
	sort_field = field[0] ? field : NULL;
	qsort(v, n, sizeof *v, by_created); /* under the sandbox lock: the statics are safe */
	sort_field = NULL;
	json_t *bots = json_array();
	for (size_t i = off; i < n && i < off + (size_t)limit; i++)
		json_array_append_new(bots, entry(v[i]));
	json_t *out =
	    json_pack("{s:o, s:o}", "bots", bots, "last_updated", ml_mb_time_ms(ml_sb_now_ms()));
	if (off + (size_t)limit < n) {
		char c[48];
		snprintf(c, sizeof c, "offset:%zu", off + (size_t)limit);
		char *enc = ml_base64_encode(c, strlen(c));
		json_object_set_new(out, "next_cursor", json_string(enc));
		free(enc);
	} else {
		json_object_set_new(out, "next_cursor", json_null());
	}
	free(v);
	ml_resp_json(resp, 200, out);
}

/* ---- meeting data ------------------------------------------------------------------------ */

static json_t *opt_time(const json_t *bot, const char *k)
{
	json_t *v = json_object_get(bot, k);
	return json_is_integer(v) ? ml_mb_time_ms(json_integer_value(v)) : json_null();
}

/* BotWithParams: the bot and the parameters it was made with. */
static json_t *bot_with_params(const json_t *bot)
{
	static const char *const same[] = {"id",
	                                   "uuid",
	                                   "account_id",
	                                   "bot_param_id",
	                                   "bot_name",
	                                   "meeting_url",
	                                   "bot_image",
	                                   "deduplication_key",
	                                   "extra",
	                                   "recording_mode",
	                                   "waiting_room_timeout",
	                                   "noone_joined_timeout",
	                                   "silence_timeout",
	                                   "speech_to_text_provider",
	                                   "speech_to_text_api_key",
	                                   "streaming_input",
	                                   "streaming_output",
	                                   "streaming_audio_frequency",
	                                   "transcription_custom_parameters",
	                                   "event_id",
	                                   "zoom_access_token_url",
	                                   "zoom_obf_token",
	                                   "zoom_obf_token_url",
	                                   "zoom_obf_token_user_id",
	                                   "zoom_sdk_id",
	                                   "zoom_sdk_pwd",
	                                   NULL};
	json_t *o = json_object(), *v;
	for (int i = 0; same[i]; i++)
		json_object_set(o, same[i], (v = json_object_get(bot, same[i])) ? v : json_null());
	if (json_is_null(json_object_get(o, "transcription_custom_parameters")))
		json_object_set_new(o, "transcription_custom_parameters", json_object());
	json_object_set(o, "enter_message", json_object_get(bot, "entry_message"));
	const char *w = ml_sb_str(bot, "webhook_url");
	json_object_set_new(o, "webhook_url", json_string(w ? w : ""));
	json_object_set_new(o, "created_at", ml_mb_time_ms(ml_mb_int(bot, "created_at", 0)));
	json_object_set_new(o, "bot_joined_at", opt_time(bot, "joined_at"));
	json_object_set_new(o, "bot_exited_at", opt_time(bot, "exited_at"));
	json_object_set_new(o, "ended_at", opt_time(bot, "finished_at"));
	json_object_set_new(o, "is_stopped", json_boolean(!ml_mb_bot_live(bot)));
	json_object_set_new(o, "reserved", json_false());
	json_object_set_new(o, "diarization_v2", json_true());
	json_object_set_new(o, "mp4_s3_path", json_sprintf("%s/video.mp4", ml_sb_str(bot, "uuid")));
	json_object_set(o, "errors", (v = json_object_get(bot, "error")) ? v : json_null());
	json_object_set_new(o, "session_id", json_null());
	json_object_set_new(o, "scheduled_bot_id", json_null());
	return o;
}

void ml_mb_meeting_data(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	const char *id = ml_http_query(req, "bot_id"),
	           *inc = ml_http_query(req, "include_transcripts");
	if (!id) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring must have required property 'bot_id'");
		return;
	}
	if (inc && strcmp(inc, "true") != 0 && strcmp(inc, "false") != 0) {
		ml_mb_err(resp, 400, "FST_ERR_VALIDATION",
		          "querystring/include_transcripts must be boolean");
		return;
	}
	json_t *bot = ml_mb_bot_find(root, acct, id);
	if (!bot) {
		ml_mb_err(resp, 404, "BOT_NOT_FOUND", "Bot not found");
		return;
	}
	const char *outcome = ml_sb_str(bot, "outcome");
	bool media = outcome && !strcmp(outcome, "complete") &&
	             !json_is_true(json_object_get(bot, "data_deleted"));
	int64_t ttl = ml_sb_cfg_int(MBP, "media_url_ttl", 7200);
	char *mp4 = media ? ml_mb_media_url(bot, "video.mp4", ttl) : ml_strdup("");
	char *audio = media ? ml_mb_media_url(bot, "audio.wav", ttl) : ml_strdup("");
	bool with = !inc || !strcmp(inc, "true");
	json_t *ev = json_object_get(bot, "event_uuid");
	json_t *out = json_pack(
	    "{s:s, s:s, s:I, s:{s:o, s:O, s:o}, s:s, s:s, s:s}", "mp4", mp4, "audio", audio,
	    "duration", media ? ml_mb_int(bot, "duration", 0) : (json_int_t)0, "bot_data", "bot",
	    bot_with_params(bot), "event_uuid", ev ? ev : json_null(), "transcripts",
	    with ? ml_mb_transcript_api(bot) : json_array(), "meeting_participants_file", "",
	    "speaker_diarization_file", "", "speaker_diarization_file_network", "");
	free(mp4);
	free(audio);
	ml_resp_json(resp, 200, out);
}

/* ---- delete data ------------------------------------------------------------------------- */

static void empty(struct ml_http_resp *resp, int status)
{
	ml_resp_body(resp, status, "text/plain; charset=utf-8", "", 0); /* no content */
}

/* "Rate limited to 5 requests per minute per API key" (sandbox clock). */
static bool delete_rate_ok(json_t *acct)
{
	int64_t now = ml_sb_now_ms();
	json_t *times = json_object_get(acct, "deletes");
	if (!json_is_array(times)) {
		times = json_array();
		json_object_set_new(acct, "deletes", times);
	}
	while (json_array_size(times) &&
	       json_integer_value(json_array_get(times, 0)) <= now - 60000)
		json_array_remove(times, 0);
	if (json_array_size(times) >= 5)
		return false;
	json_array_append_new(times, json_integer(now));
	return true;
}

void ml_mb_delete_data(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct) {
		empty(resp, 401); /* the spec: "401: no content" */
		return;
	}
	json_t *bot = ml_mb_bot_find(root, acct, req->params[0]);
	if (!bot) {
		empty(resp, 404);
		return;
	}
	if (!delete_rate_ok(acct)) {
		empty(resp, 429);
		return;
	}
	const char *outcome = ml_sb_str(bot, "outcome"), *status;
	if (json_is_true(json_object_get(bot, "data_deleted")))
		status = "alreadyDeleted";
	else if (!outcome || strcmp(outcome, "complete") != 0)
		status = "noDataFound";
	else {
		status = "deleted";
		json_object_set_new(bot, "data_deleted", json_true());
		json_object_set_new(bot, "transcript", json_array());
		json_object_set_new(bot, "speakers", json_array());
	}
	ml_resp_json(
	    resp, 200,
	    json_pack("{s:b, s:s}", "ok", strcmp(status, "noDataFound") != 0, "status", status));
}

/* ---- retranscribe ------------------------------------------------------------------------ */

void ml_mb_retranscribe(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *body = ml_sb_json_body(req);
	const char *what = NULL, *field = ml_mb_check_retranscribe(body, &what);
	json_t *bot = field ? NULL : ml_mb_bot_find(root, acct, ml_sb_str(body, "bot_uuid"));
	const char *outcome = ml_sb_str(bot, "outcome");
	if (field)
		ml_mb_bad(resp, field, what);
	else if (!bot)
		ml_mb_err(resp, 404, "BOT_NOT_FOUND", "Bot not found");
	else if (!outcome || strcmp(outcome, "complete") != 0 ||
	         json_is_true(json_object_get(bot, "data_deleted")))
		ml_mb_err(resp, 400, "NO_AUDIO", "The bot has no recording to transcribe");
	else {
		const char *p = ml_mb_stt_provider(json_object_get(body, "speech_to_text"));
		int64_t at = ml_sb_now_ms() + ml_sb_cfg_int(MBP, "retranscribe_seconds", 10) * 1000;
		json_object_set_new(bot, "retranscribe",
		                    json_pack("{s:I, s:s, s:s?}", "at", (json_int_t)at, "provider",
		                              p ? p : "Default", "webhook_url",
		                              ml_sb_str(body, "webhook_url")));
		json_object_set_new(json_object_get(root, "live"), ml_sb_str(bot, "uuid"),
		                    json_true());
		empty(resp, 202);
	}
	json_decref(body);
}

/* ---- screenshots ------------------------------------------------------------------------- */

void ml_mb_screenshots(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_mb_auth(req, resp);
	if (!acct)
		return;
	json_t *bot = ml_mb_bot_find(root, acct, req->params[0]);
	if (!bot) {
		ml_mb_err(resp, 404, "BOT_NOT_FOUND", "Bot not found");
		return;
	}
	/* One screenshot when the bot reached the meeting (waiting room or call), one when it
	 * started recording; none once the data is deleted. */
	json_t *out = json_array(), *st;
	size_t i;
	int n = 0;
	if (!json_is_true(json_object_get(bot, "data_deleted")))
		json_array_foreach(json_object_get(bot, "statuses"), i, st)
		{
			const char *code = ml_sb_str(st, "code");
			if (strcmp(code, "in_waiting_room") != 0 &&
			    strcmp(code, "in_call_recording") != 0)
				continue;
			char name[32];
			snprintf(name, sizeof name, "screenshot-%d.png", ++n);
			char *url =
			    ml_mb_media_url(bot, name, ml_sb_cfg_int(MBP, "media_url_ttl", 7200));
			json_array_append_new(out, json_pack("{s:O, s:s}", "date",
			                                     json_object_get(st, "created_at"),
			                                     "url", url));
			free(url);
		}
	ml_resp_json(resp, 200, out);
}

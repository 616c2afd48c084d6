/* A MeetingBaas bot's life on the sandbox clock. A bot holds a plan: the steps still ahead of
 * it, each {"at": sandbox ms, "code": status} or {"at", "final": "complete"|"failed",
 * "error"}. The plan is made from the bot's script (per bot, else per meeting URL, else the
 * settings) when the bot is made, and remade when something happens to it (admitted, asked
 * to leave, the meeting ends, its script changes). The tick applies every step that is due,
 * in order, and each step sends its webhook: bot.status_change for a status, then complete
 * (recording, transcript) or failed (the documented error codes). */
#include "sandbox/meetingbaas_internal.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scripts ---------------------------------------------------------------------------- */

/* The bot's effective script: the settings, then the meeting URL's script, then its own. */
static json_t *script_of(json_t *root, const json_t *bot)
{
	static const char *const knobs[] = {"join_seconds",       "waiting_room_seconds",
	                                    "admit_seconds",      "recording_seconds",
	                                    "processing_seconds", NULL};
	json_t *s = json_object();
	for (int i = 0; knobs[i]; i++)
		json_object_set_new(s, knobs[i],
		                    json_integer(ml_sb_cfg_int(MBP, knobs[i], i == 3 ? 300 : 2)));
	json_t *byurl =
	    json_object_get(json_object_get(root, "scripts"), ml_sb_str(bot, "meeting_url"));
	if (json_is_object(byurl))
		json_object_update(s, byurl);
	json_t *own = json_object_get(bot, "script");
	if (json_is_object(own))
		json_object_update(s, own);
	return s;
}

static bool sflag(const json_t *s, const char *k)
{
	return json_is_true(json_object_get(s, k));
}

/* ---- plans ------------------------------------------------------------------------------ */

struct planner {
	json_t *plan;
	int64_t at; /* ms of the last step */
};

static void step(struct planner *p, int64_t after_s, const char *code)
{
	p->at += after_s * 1000;
	json_array_append_new(p->plan,
	                      json_pack("{s:I, s:s}", "at", (json_int_t)p->at, "code", code));
}

static void final(struct planner *p, int64_t after_s, const char *outcome, const char *error)
{
	p->at += after_s * 1000;
	json_array_append_new(p->plan, json_pack("{s:I, s:s, s:s?}", "at", (json_int_t)p->at,
	                                         "final", outcome, "error", error));
}

static int64_t bot_timeout(const json_t *bot, const char *k)
{
	json_int_t v = ml_mb_int(bot, k, 0);
	return v > 0 ? v : 600; /* the documented default: 10 minutes */
}

/* The steps from in_call_recording on (the recording starts `after_s` after `p->at`). */
static void plan_recording(struct planner *p, const json_t *bot, const json_t *s, int64_t after_s)
{
	const char *err = ml_sb_str(s, "error");
	int64_t rec = ml_mb_int(s, "recording_seconds", 300);
	step(p, after_s, "in_call_recording");
	if (err && strcmp(err, "BotRemoved") == 0) {
		step(p, rec, "bot_removed");
		final(p, 0, "failed", err);
	} else if (err && strcmp(err, "InternalError") == 0) {
		step(p, rec, "meeting_error");
		final(p, 0, "failed", err);
	} else {
		step(p, sflag(s, "silence") ? bot_timeout(bot, "silence_timeout") : rec,
		     "call_ended");
		final(p, ml_mb_int(s, "processing_seconds", 10), "complete", NULL);
	}
}

/* The steps once in the call (not recording yet), `after_s` after p->at. */
static void plan_in_call(struct planner *p, const json_t *bot, const json_t *s, int64_t after_s)
{
	step(p, after_s, "in_call_not_recording");
	if (sflag(s, "nobody_joins")) {
		step(p, bot_timeout(bot, "noone_joined_timeout"), "call_ended");
		final(p, 0, "failed", "TimeoutWaitingToStart");
		return;
	}
	plan_recording(p, bot, s, ml_mb_int(s, "admit_seconds", 2));
}

/* The steps after joining_call. */
static void plan_joining(struct planner *p, const json_t *bot, const json_t *s)
{
	const char *err = ml_sb_str(s, "error");
	int64_t join = ml_mb_int(s, "join_seconds", 2);
	if (!ml_mb_platform(ml_sb_str(bot, "meeting_url")) ||
	    (err && strcmp(err, "InvalidMeetingUrl") == 0)) {
		step(p, join, "invalid_meeting_url");
		final(p, 0, "failed", "InvalidMeetingUrl");
		return;
	}
	if (err && strcmp(err, "CannotJoinMeeting") == 0) {
		final(p, join, "failed", err);
		return;
	}
	json_t *wr = json_object_get(s, "waiting_room");
	if (json_is_false(wr)) {
		plan_in_call(p, bot, s, join);
		return;
	}
	step(p, join, "in_waiting_room");
	int64_t wait = ml_mb_int(s, "waiting_room_seconds", 3);
	if (err && strcmp(err, "BotNotAccepted") == 0) {
		step(p, wait, "bot_rejected");
		final(p, 0, "failed", err);
	} else if (sflag(s, "hold_waiting_room") ||
	           (err && strcmp(err, "TimeoutWaitingToStart") == 0)) {
		step(p, bot_timeout(bot, "waiting_room_timeout"), "waiting_room_timeout");
		final(p, 0, "failed", "TimeoutWaitingToStart");
	} else {
		plan_in_call(p, bot, s, wait);
	}
}

/* Remakes the plan from where the bot is now; `at` is when its current status began. */
static void replan_from(json_t *root, json_t *bot, int64_t at)
{
	json_t *s = script_of(root, bot);
	struct planner p = {json_array(), at};
	const char *st = ml_sb_str(bot, "status");
	if (!st) {
		p.at = ml_mb_int(bot, "join_at", at);
		step(&p, 0, "joining_call");
		plan_joining(&p, bot, s);
	} else if (!strcmp(st, "joining_call")) {
		plan_joining(&p, bot, s);
	} else if (!strcmp(st, "in_waiting_room")) {
		/* Re-plan the waiting room itself: drop its step, keep what follows. */
		json_t *tmp = json_array();
		struct planner q = {tmp, at - ml_mb_int(s, "join_seconds", 2) * 1000};
		plan_joining(&q, bot, s);
		size_t i;
		json_t *x;
		json_array_foreach(tmp, i, x)
		{
			if (i > 0)
				json_array_append(p.plan, x);
		}
		json_decref(tmp);
	} else if (!strcmp(st, "in_call_not_recording")) {
		json_t *tmp = json_array();
		struct planner q = {tmp, at};
		plan_in_call(&q, bot, s, 0);
		size_t i;
		json_t *x;
		json_array_foreach(tmp, i, x)
		{
			if (i > 0)
				json_array_append(p.plan, x);
		}
		json_decref(tmp);
	} else if (!strcmp(st, "in_call_recording")) {
		json_t *tmp = json_array();
		struct planner q = {tmp, at};
		plan_recording(&q, bot, s, 0);
		size_t i;
		json_t *x;
		json_array_foreach(tmp, i, x)
		{
			if (i > 0)
				json_array_append(p.plan, x);
		}
		json_decref(tmp);
	}
	json_decref(s);
	json_object_set_new(bot, "plan", p.plan);
}

void ml_mb_bot_replan(json_t *root, json_t *bot)
{
	if (!ml_mb_bot_live(bot))
		return;
	replan_from(root, bot, ml_mb_int(bot, "status_at", ml_sb_now_ms()));
	ml_mb_tick(root);
}

/* ---- steps ------------------------------------------------------------------------------ */

static const char *error_message(const char *e)
{
	static const char *const m[][2] = {
	    {"CannotJoinMeeting", "The bot could not join the meeting URL provided."},
	    {"TimeoutWaitingToStart", "The bot has quit after waiting to be accepted."},
	    {"BotNotAccepted", "The bot has been refused in the meeting."},
	    {"BotRemoved", "The bot was removed from the meeting."},
	    {"InternalError", "An unexpected error occurred."},
	    {"InvalidMeetingUrl",
	     "The meeting URL provided is not a valid (Zoom, Meet, Teams) URL."},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (!strcmp(m[i][0], e))
			return m[i][1];
	return "The bot failed.";
}

static json_t *account_of(json_t *root, const json_t *bot)
{
	return ml_mb_account_by_id(root, ml_mb_int(bot, "account_id", 0));
}

static void apply_status(json_t *root, json_t *bot, const char *code, int64_t at)
{
	json_t *status = json_pack("{s:s, s:o}", "code", code, "created_at", ml_mb_time_ms(at));
	ml_mb_set_str(bot, "status", code);
	json_object_set_new(bot, "status_at", json_integer(at));
	if (!strcmp(code, "in_call_not_recording"))
		json_object_set_new(bot, "joined_at", json_integer(at));
	if (!strcmp(code, "in_call_recording")) {
		json_object_set_new(bot, "recording_at", json_integer(at));
		json_object_set_new(status, "start_time", ml_mb_time_ms(at));
	}
	if (!strcmp(code, "meeting_error")) {
		json_object_set_new(status, "error_message",
		                    json_string("The meeting connection was lost."));
		json_object_set_new(status, "error_type", json_string("connection_error"));
	}
	if (!strcmp(code, "call_ended") || !strcmp(code, "bot_removed") ||
	    !strcmp(code, "bot_rejected") || !strcmp(code, "waiting_room_timeout") ||
	    !strcmp(code, "meeting_error") || !strcmp(code, "invalid_meeting_url"))
		json_object_set_new(bot, "ended_at", json_integer(at));
	json_array_append_new(json_object_get(bot, "statuses"), json_deep_copy(status));
	ml_mb_hook(root, account_of(root, bot), bot, NULL, "bot.status_change",
	           json_pack("{s:s, s:o}", "bot_id", ml_sb_str(bot, "uuid"), "status", status));
}

static void apply_final(json_t *root, json_t *bot, const json_t *st, int64_t at)
{
	const char *outcome = ml_sb_str(st, "final"), *error = ml_sb_str(st, "error");
	json_t *acct = account_of(root, bot), *data;
	json_t *ev = json_object_get(bot, "event_uuid");

	if (!json_object_get(bot, "ended_at") || json_is_null(json_object_get(bot, "ended_at")))
		json_object_set_new(bot, "ended_at", json_integer(at));
	json_object_set_new(bot, "exited_at", json_integer(at));
	json_object_set_new(bot, "finished_at", json_integer(at));
	ml_mb_set_str(bot, "outcome", outcome);
	json_object_del(json_object_get(root, "live"), ml_sb_str(bot, "uuid"));
	if (!strcmp(outcome, "complete")) {
		int64_t rec = ml_mb_int(bot, "recording_at", at);
		int64_t secs = (ml_mb_int(bot, "ended_at", at) - rec) / 1000;
		json_object_set_new(bot, "duration", json_integer(secs > 0 ? secs : 0));
		ml_mb_transcript_make(root, bot, secs);
		int64_t ttl = ml_sb_cfg_int(MBP, "media_url_ttl", 7200);
		char *mp4 = ml_mb_media_url(bot, "video.mp4", ttl);
		char *audio = ml_mb_media_url(bot, "audio.wav", ttl);
		data = json_pack("{s:s, s:O, s:o, s:O, s:s, s:s, s:s, s:O}", "bot_id",
		                 ml_sb_str(bot, "uuid"), "event_uuid", ev ? ev : json_null(),
		                 "transcript", ml_mb_transcript_hook(bot), "speakers",
		                 json_object_get(bot, "speakers"), "mp4", mp4, "audio", audio,
		                 "event", "complete", "extra", json_object_get(bot, "extra"));
		free(mp4);
		free(audio);
	} else {
		ml_mb_set_str(bot, "error", error);
		data = json_pack("{s:s, s:O, s:s, s:s, s:O}", "bot_id", ml_sb_str(bot, "uuid"),
		                 "event_uuid", ev ? ev : json_null(), "error", error, "message",
		                 error_message(error), "extra", json_object_get(bot, "extra"));
	}
	json_object_set_new(bot, "plan", json_array());
	ml_mb_hook(root, acct, bot, NULL, outcome, data);
}

/* Applies the bot's due steps in order. */
static void advance(json_t *root, json_t *bot, int64_t now)
{
	json_t *plan = json_object_get(bot, "plan");
	while (json_array_size(plan) > 0) {
		json_t *st = json_incref(json_array_get(plan, 0));
		int64_t at = ml_mb_int(st, "at", 0);
		if (at > now) {
			json_decref(st);
			break;
		}
		json_array_remove(plan, 0);
		if (json_object_get(st, "final"))
			apply_final(root, bot, st, at);
		else
			apply_status(root, bot, ml_sb_str(st, "code"), at);
		json_decref(st);
		plan = json_object_get(bot, "plan");
	}
}

static void retranscribe_due(json_t *root, json_t *bot, int64_t now)
{
	json_t *rt = json_object_get(bot, "retranscribe");
	if (!json_is_object(rt) || ml_mb_int(rt, "at", 0) > now)
		return;
	json_incref(rt);
	json_object_del(bot, "retranscribe");
	json_object_set(bot, "speech_to_text_provider", json_object_get(rt, "provider"));
	ml_mb_transcript_make(root, bot, ml_mb_int(bot, "duration", 0));
	ml_mb_hook(root, account_of(root, bot), bot, ml_sb_str(rt, "webhook_url"),
	           "transcription_complete", json_pack("{s:s}", "bot_id", ml_sb_str(bot, "uuid")));
	json_decref(rt);
}

void ml_mb_tick(json_t *root)
{
	int64_t now = ml_sb_now_ms();
	json_t *live = json_object_get(root, "live"), *bots = json_object_get(root, "bots");
	json_t *keys = json_array();
	const char *k;
	json_t *v;

	ml_mb_events_dispatch(root);
	json_object_foreach(live, k, v) json_array_append_new(keys, json_string(k));
	size_t i;
	json_array_foreach(keys, i, v)
	{
		json_t *bot = json_object_get(bots, json_string_value(v));
		if (!bot) {
			json_object_del(live, json_string_value(v));
			continue;
		}
		advance(root, bot, now);
		retranscribe_due(root, bot, now);
		if (!ml_mb_bot_live(bot) && !json_object_get(bot, "retranscribe"))
			json_object_del(live, json_string_value(v));
	}
	json_decref(keys);
	ml_mb_hooks_flush(root);
}

/* ---- bots ------------------------------------------------------------------------------- */

bool ml_mb_bot_live(const json_t *bot)
{
	return !ml_sb_str(bot, "outcome");
}

json_t *ml_mb_bot_find(json_t *root, const json_t *account, const char *uuid)
{
	json_t *bot = json_object_get(json_object_get(root, "bots"), uuid);
	if (!bot || ml_mb_int(bot, "account_id", -1) != ml_mb_int(account, "id", -2))
		return NULL;
	return bot;
}

static void copy_member(json_t *bot, const json_t *params, const char *from, const char *to)
{
	json_t *v = json_object_get(params, from);
	json_object_set_new(bot, to, v ? json_deep_copy(v) : json_null());
}

json_t *ml_mb_bot_create(json_t *root, json_t *account, const json_t *params, json_t *event)
{
	static const char *const same[] = {"bot_name",
	                                   "meeting_url",
	                                   "bot_image",
	                                   "deduplication_key",
	                                   "entry_message",
	                                   "recording_mode",
	                                   "webhook_url",
	                                   "transcription_custom_parameters",
	                                   "zoom_access_token_url",
	                                   "zoom_obf_token",
	                                   "zoom_obf_token_url",
	                                   "zoom_obf_token_user_id",
	                                   "zoom_sdk_id",
	                                   "zoom_sdk_pwd",
	                                   "start_time",
	                                   NULL};
	char *uuid = ml_mb_uuid();
	int64_t now = ml_sb_now_ms();
	json_t *bot = json_object(), *v;

	ml_mb_set_str(bot, "uuid", uuid);
	json_object_set_new(bot, "id", json_integer(ml_mb_next_id(root, "bot")));
	json_object_set_new(bot, "bot_param_id", json_integer(ml_mb_next_id(root, "param")));
	json_object_set(bot, "account_id", json_object_get(account, "id"));
	for (int i = 0; same[i]; i++)
		copy_member(bot, params, same[i], same[i]);
	if (json_is_null(json_object_get(bot, "entry_message")))
		copy_member(bot, params, "enter_message", "entry_message");
	v = json_object_get(params, "extra");
	json_object_set_new(bot, "extra",
	                    v && !json_is_null(v) ? json_deep_copy(v) : json_object());
	v = json_object_get(params, "speech_to_text");
	ml_mb_set_str(bot, "speech_to_text_provider", ml_mb_stt_provider(v));
	ml_mb_set_str(bot, "speech_to_text_api_key", ml_sb_str(v, "api_key"));
	json_t *leave = json_object_get(params, "automatic_leave");
	if (!json_is_object(leave))
		leave = (json_t *)params; /* calendar bots carry the timeouts flat */
	copy_member(bot, leave, "waiting_room_timeout", "waiting_room_timeout");
	copy_member(bot, leave, "noone_joined_timeout", "noone_joined_timeout");
	copy_member(bot, leave, "silence_timeout", "silence_timeout");
	json_t *stream = json_object_get(params, "streaming");
	copy_member(bot, stream, "input", "streaming_input");
	copy_member(bot, stream, "output", "streaming_output");
	copy_member(bot, stream, "audio_frequency", "streaming_audio_frequency");
	ml_mb_set_str(bot, "platform", ml_mb_platform(ml_sb_str(bot, "meeting_url")));
	json_object_set_new(bot, "created_at", json_integer(now));
	json_int_t start = ml_mb_int(params, "start_time", 0);
	json_object_set_new(bot, "join_at", json_integer(start * 1000 > now ? start * 1000 : now));
	ml_mb_set_str(bot, "status", NULL);
	json_object_set_new(bot, "statuses", json_array());
	json_object_set_new(bot, "transcript", json_array());
	json_object_set_new(bot, "speakers", json_array());
	json_object_set_new(bot, "data_deleted", json_false());
	char *tok = ml_sb_rand("", 32, ML_SB_HEX);
	ml_mb_set_str(bot, "media_key", tok);
	free(tok);
	json_object_set(bot, "event_uuid", event ? json_object_get(event, "uuid") : json_null());
	json_object_set(bot, "event_id", event ? json_object_get(event, "id") : json_null());
	json_object_set_new(json_object_get(root, "bots"), uuid, bot);
	json_object_set_new(json_object_get(root, "live"), uuid, json_true());
	free(uuid);
	replan_from(root, bot, now);
	advance(root, bot, now);
	return bot;
}

/* Ends a live bot now: complete when it was recording, else failed with `error`. */
static void end_now(json_t *root, json_t *bot, const char *reason, const char *error)
{
	int64_t now = ml_sb_now_ms();
	if (!ml_mb_bot_live(bot))
		return;
	advance(root, bot, now);
	if (!ml_mb_bot_live(bot))
		return;
	const char *st = ml_sb_str(bot, "status");
	bool recording = st && !strcmp(st, "in_call_recording");
	ml_mb_set_str(bot, "end_reason", reason);
	json_object_set_new(bot, "plan", json_array());
	if (st)
		apply_status(root, bot, "call_ended", now);
	json_t *f = recording ? json_pack("{s:s}", "final", "complete")
	                      : json_pack("{s:s, s:s}", "final", "failed", "error", error);
	if (recording) {
		json_t *s = script_of(root, bot);
		json_int_t proc = ml_mb_int(s, "processing_seconds", 10);
		json_decref(s);
		json_object_set_new(f, "at", json_integer(now + proc * 1000));
		json_array_append_new(json_object_get(bot, "plan"), f);
		return;
	}
	apply_final(root, bot, f, now);
	json_decref(f);
}

void ml_mb_bot_leave(json_t *root, json_t *bot, const char *reason)
{
	end_now(root, bot, reason, "BotRemoved");
}

void ml_mb_bot_meeting_end(json_t *root, json_t *bot)
{
	end_now(root, bot, "no_attendees", "CannotJoinMeeting");
}

bool ml_mb_bot_admit(json_t *root, json_t *bot)
{
	int64_t now = ml_sb_now_ms();
	advance(root, bot, now);
	const char *st = ml_sb_str(bot, "status");
	if (!ml_mb_bot_live(bot) || !st || strcmp(st, "in_waiting_room") != 0)
		return false;
	json_t *s = script_of(root, bot);
	struct planner p = {json_array(), now};
	plan_in_call(&p, bot, s, 0);
	json_decref(s);
	json_object_set_new(bot, "plan", p.plan);
	advance(root, bot, now);
	return true;
}

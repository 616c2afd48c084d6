/* MeetingBaas request bodies checked as specs/meetingbaas/meetingbaas-v1.openapi.json says:
 * JoinRequest (additionalProperties: false), BotParam2/BotParam3 (schedule / patch a
 * calendar bot), RetranscribeBody, CreateCalendarParams / UpdateCalendarParams /
 * ListRawCalendarsParams, plus the ranges the schema's descriptions give (automatic_leave:
 * waiting_room_timeout and noone_joined_timeout 120–1800 s, silence_timeout 300–1800 s) and
 * the docs' rule that Gladia and Runpod need an api_key. And the sandbox's own scripts. */
#include "sandbox/meetingbaas_internal.h"

#include <string.h>

enum kind {
	K_STR,      /* string */
	K_NSTR,     /* string or null */
	K_URL,      /* string or null; when a non-empty string, http(s) */
	K_NUINT,    /* integer >= 0 or null */
	K_BOOL,     /* boolean */
	K_ANY,      /* anything */
	K_MODE,     /* RecordingMode or null */
	K_STT,      /* SpeechToText or null */
	K_LEAVE,    /* AutomaticLeaveRequest or null */
	K_STREAM,   /* StreamingApiParameter or null */
	K_FREQ,     /* AudioFrequency or null */
	K_PLATFORM, /* Provider */
};

struct field {
	const char *name;
	enum kind kind;
	bool required;
};

static bool one_of(const char *s, const char *const *set)
{
	for (int i = 0; s && set[i]; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static const char *const modes[] = {"speaker_view", "gallery_view", "audio_only", NULL};
static const char *const providers[] = {"Gladia", "Runpod", "Default", NULL};
static const char *const freqs[] = {"16khz", "24khz", NULL};
static const char *const platforms[] = {"Google", "Microsoft", NULL};

const char *ml_mb_stt_provider(const json_t *stt)
{
	if (json_is_string(stt))
		return json_string_value(stt);
	return ml_sb_str(stt, "provider");
}

static bool is_url(const char *s)
{
	return ml_mb_url_ok(s);
}

/* Range checks of automatic_leave's members (descriptions in the schema). */
static const char *check_leave(const json_t *v, const char **what, const char **field)
{
	static const struct {
		const char *name;
		json_int_t lo, hi;
	} r[] = {{"waiting_room_timeout", 120, 1800},
	         {"noone_joined_timeout", 120, 1800},
	         {"silence_timeout", 300, 1800}};
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		json_t *x = json_object_get(v, r[i].name);
		*field = r[i].name;
		if (!x || json_is_null(x))
			continue;
		if (!json_is_integer(x))
			return *what = "must be integer,null", *field;
		if (json_integer_value(x) < r[i].lo)
			return *what = r[i].lo == 120 ? "must be >= 120" : "must be >= 300", *field;
		if (json_integer_value(x) > r[i].hi)
			return *what = "must be <= 1800", *field;
	}
	return NULL;
}

/* Checks one member; returns false with *what set. *sub names a nested member. */
static bool check_value(enum kind k, const json_t *v, const char **what, const char **sub)
{
	*sub = NULL;
	bool null = json_is_null(v);
	switch (k) {
	case K_STR:
		return json_is_string(v) || (*what = "must be string", false);
	case K_NSTR:
		return null || json_is_string(v) || (*what = "must be string,null", false);
	case K_URL:
		if (null)
			return true;
		if (!json_is_string(v))
			return *what = "must be string,null", false;
		return !*json_string_value(v) || is_url(json_string_value(v)) ||
		       (*what = "must be an http(s) URL", false);
	case K_NUINT:
		if (null)
			return true;
		if (!json_is_integer(v))
			return *what = "must be integer,null", false;
		return json_integer_value(v) >= 0 || (*what = "must be >= 0", false);
	case K_BOOL:
		return json_is_boolean(v) || (*what = "must be boolean", false);
	case K_ANY:
		return true;
	case K_MODE:
		return null || one_of(json_string_value(v), modes) ||
		       (*what = "must be equal to one of the allowed values: speaker_view, "
		                "gallery_view, audio_only",
		        false);
	case K_FREQ:
		return null || one_of(json_string_value(v), freqs) ||
		       (*what = "must be equal to one of the allowed values: 16khz, 24khz", false);
	case K_PLATFORM:
		return one_of(json_string_value(v), platforms) ||
		       (*what = "must be equal to one of the allowed values: Google, Microsoft",
		        false);
	case K_STT: {
		if (null)
			return true;
		const char *p = ml_mb_stt_provider(v);
		if (!json_is_string(v) && !json_is_object(v))
			return *what = "must be string,object", false;
		if (json_is_object(v))
			*sub = "provider";
		if (!one_of(p, providers))
			return *what =
			           "must be equal to one of the allowed values: Gladia, Runpod, "
			           "Default",
			       false;
		json_t *key = json_object_get(v, "api_key");
		if (key && !json_is_null(key) && !json_is_string(key))
			return *sub = "api_key", *what = "must be string,null", false;
		if (strcmp(p, "Default") != 0 && (!json_is_string(key) || !*json_string_value(key)))
			return *sub = "api_key", *what = "is required for Gladia and Runpod", false;
		return true;
	}
	case K_LEAVE:
		if (null)
			return true;
		if (!json_is_object(v))
			return *what = "must be object,null", false;
		return !check_leave(v, what, sub);
	case K_STREAM: {
		if (null)
			return true;
		if (!json_is_object(v))
			return *what = "must be object,null", false;
		static const char *const s[] = {"input", "output", NULL};
		for (int i = 0; s[i]; i++) {
			json_t *x = json_object_get(v, s[i]);
			if (x && !json_is_null(x) && !json_is_string(x))
				return *sub = s[i], *what = "must be string,null", false;
		}
		json_t *f = json_object_get(v, "audio_frequency");
		if (f && !json_is_null(f) && !one_of(json_string_value(f), freqs))
			return *sub = "audio_frequency",
			       *what = "must be equal to one of the allowed values: 16khz, 24khz",
			       false;
		return true;
	}
	}
	return true;
}

/* Checks `body` against `fields`; `closed`: no other member allowed. Returns the offending
 * field (a static string, "a.b" for nested ones) or NULL. */
static const char *check_fields(const json_t *body, const struct field *fields, bool closed,
                                const char **what)
{
	static _Thread_local char path[128];
	const char *k, *sub;
	json_t *v;

	if (!json_is_object(body))
		return *what = "must be object", "";
	for (const struct field *f = fields; f->name; f++)
		if (f->required && !json_object_get(body, f->name))
			return *what = "is required", f->name;
	json_object_foreach((json_t *)body, k, v)
	{
		const struct field *f = fields;
		while (f->name && strcmp(f->name, k) != 0)
			f++;
		if (!f->name) {
			if (closed)
				return *what = "is not allowed (additionalProperties: false)",
				       snprintf(path, sizeof path, "%.100s", k), path;
			continue;
		}
		if (!check_value(f->kind, v, what, &sub)) {
			snprintf(path, sizeof path, "%s%s%s", f->name, sub ? "/" : "",
			         sub ? sub : "");
			return path;
		}
	}
	return NULL;
}

#define ZOOM_FIELDS                                                                                \
	{"zoom_access_token_url", K_NSTR, false}, {"zoom_obf_token", K_NSTR, false},               \
	    {"zoom_obf_token_url", K_NSTR, false}, {"zoom_obf_token_user_id", K_NSTR, false},      \
	    {"zoom_sdk_id", K_NSTR, false},                                                        \
	{                                                                                          \
		"zoom_sdk_pwd", K_NSTR, false                                                      \
	}

static const struct field join_fields[] = {
    {"meeting_url", K_STR, true},
    {"bot_name", K_STR, true},
    {"automatic_leave", K_LEAVE, false},
    {"bot_image", K_URL, false},
    {"deduplication_key", K_NSTR, false},
    {"entry_message", K_NSTR, false},
    {"extra", K_ANY, false},
    {"recording_mode", K_MODE, false},
    {"reserved", K_BOOL, false},
    {"speech_to_text", K_STT, false},
    {"start_time", K_NUINT, false},
    {"streaming", K_STREAM, false},
    {"transcription_custom_parameters", K_ANY, false},
    {"webhook_url", K_URL, false},
    ZOOM_FIELDS,
    {NULL, K_ANY, false},
};

const char *ml_mb_check_join(const json_t *body, const char **what)
{
	const char *f = check_fields(body, join_fields, true, what);
	if (f)
		return f;
	if (!*json_string_value(json_object_get(body, "meeting_url")))
		return *what = "must NOT have fewer than 1 characters", "meeting_url";
	return NULL;
}

/* BotParam2 (schedule: bot_name required) and BotParam3 (patch: everything optional). */
static const struct field param_fields[] = {
    {"bot_name", K_STR, true},
    {"bot_image", K_URL, false},
    {"deduplication_key", K_NSTR, false},
    {"enter_message", K_NSTR, false},
    {"extra", K_ANY, false},
    {"noone_joined_timeout", K_NUINT, false},
    {"recording_mode", K_MODE, false},
    {"silence_timeout", K_NUINT, false},
    {"speech_to_text", K_STT, false},
    {"streaming_audio_frequency", K_FREQ, false},
    {"streaming_input", K_NSTR, false},
    {"streaming_output", K_NSTR, false},
    {"transcription_custom_parameters", K_ANY, false},
    {"waiting_room_timeout", K_NUINT, false},
    {"webhook_url", K_URL, false},
    ZOOM_FIELDS,
    {NULL, K_ANY, false},
};

const char *ml_mb_check_bot_param(const json_t *body, bool patch, const char **what)
{
	if (patch) {
		json_t *n = json_object_get(body, "bot_name");
		if (n && !json_is_null(n) && !json_is_string(n))
			return *what = "must be string,null", "bot_name";
		json_t *copy = json_deep_copy(body);
		if (json_is_object(copy) && (!n || json_is_null(n)))
			json_object_set_new(copy, "bot_name", json_string("x"));
		const char *f = check_fields(copy, param_fields, false, what);
		json_decref(copy);
		return f;
	}
	const char *f = check_fields(body, param_fields, false, what);
	if (f)
		return f;
	/* Ranges as for automatic_leave (the members are flat here). */
	const char *field = NULL;
	return check_leave(body, what, &field);
}

static const struct field retranscribe_fields[] = {
    {"bot_uuid", K_STR, true},
    {"speech_to_text", K_STT, false},
    {"webhook_url", K_URL, false},
    {NULL, K_ANY, false},
};

const char *ml_mb_check_retranscribe(const json_t *body, const char **what)
{
	return check_fields(body, retranscribe_fields, false, what);
}

static const struct field oauth_fields[] = {
    {"oauth_client_id", K_STR, true},     {"oauth_client_secret", K_STR, true},
    {"oauth_refresh_token", K_STR, true}, {"platform", K_PLATFORM, true},
    {"raw_calendar_id", K_NSTR, false},   {NULL, K_ANY, false},
};

const char *ml_mb_check_oauth(const json_t *body, bool raw_id, const char **what)
{
	(void)raw_id; /* UpdateCalendarParams has no raw_calendar_id: ignored there */
	return check_fields(body, oauth_fields, false, what);
}

/* The sandbox's scripts (docs/sandbox-meetingbaas.md, "Scripting a bot's life"). */
static const char *const outcomes[] = {"complete", "failed", NULL};
static const char *const errors[] = {"CannotJoinMeeting",
                                     "TimeoutWaitingToStart",
                                     "BotNotAccepted",
                                     "BotRemoved",
                                     "InternalError",
                                     "InvalidMeetingUrl",
                                     NULL};

const char *ml_mb_check_script(const json_t *body, const char **what)
{
	static const struct field f[] = {
	    {"meeting_url", K_STR, false},
	    {"outcome", K_STR, false},
	    {"error", K_NSTR, false},
	    {"waiting_room", K_BOOL, false},
	    {"hold_waiting_room", K_BOOL, false},
	    {"nobody_joins", K_BOOL, false},
	    {"silence", K_BOOL, false},
	    {"join_seconds", K_NUINT, false},
	    {"waiting_room_seconds", K_NUINT, false},
	    {"admit_seconds", K_NUINT, false},
	    {"recording_seconds", K_NUINT, false},
	    {"processing_seconds", K_NUINT, false},
	    {"speakers", K_ANY, false},
	    {"end_reason", K_NSTR, false},
	    {NULL, K_ANY, false},
	};
	const char *bad = check_fields(body, f, true, what);
	if (bad)
		return bad;
	const char *o = ml_sb_str(body, "outcome"), *e = ml_sb_str(body, "error");
	if (o && !one_of(o, outcomes))
		return *what = "must be complete or failed", "outcome";
	if (e && !one_of(e, errors))
		return *what = "must be one of CannotJoinMeeting, TimeoutWaitingToStart, "
		               "BotNotAccepted, BotRemoved, InternalError, InvalidMeetingUrl",
		       "error";
	json_t *sp = json_object_get(body, "speakers");
	size_t i;
	json_t *s;
	if (sp && (!json_is_array(sp) || json_array_size(sp) > 20))
		return *what = "must be an array of at most 20 names", "speakers";
	json_array_foreach(sp, i, s)
	{
		if (!json_is_string(s) || !*json_string_value(s) ||
		    strlen(json_string_value(s)) > 100)
			return *what = "must be names of 1 to 100 characters", "speakers";
	}
	return NULL;
}

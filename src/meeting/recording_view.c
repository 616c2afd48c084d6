/* A recording as the API shows it, and its transcript as WebVTT (W3C WebVTT: a cue per
 * transcript segment, the speaker as a voice span). */
#include "core/mem.h"
#include "meeting/recording.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *str_or(json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : def;
}

json_t *ml_recording_view(json_t *rec, bool brief)
{
	static const char *const shown[] = {
	    "id",        "object",           "booking_id",   "meeting_id", "host_id",
	    "platform",  "recorder",         "state",        "failure",    "bot_id",
	    "dispatch_at", "media_url",      "audio_url",    "duration_seconds",
	    "transcript_state", "speakers",  "transcript",   "created_at", "updated_at",
	    "calendar_id", "calendar_event_id", NULL};
	json_t *v = json_object();
	for (int i = 0; shown[i]; i++) {
		json_t *x = json_object_get(rec, shown[i]);
		if (brief && strcmp(shown[i], "transcript") == 0)
			continue;
		json_object_set(v, shown[i], x ? x : json_null());
	}
	json_object_set_new(v, "source", json_string(str_or(rec, "source", "booking")));
	json_t *opts = json_object_get(rec, "options");
	json_object_set_new(v, "options",
	                    opts ? json_deep_copy(opts) : json_object());
	return v;
}

json_t *ml_recording_participant(json_t *rec)
{
	static const struct {
		const char *rec, *participant;
	} states[] = {{"scheduled", "invited"}, {"joining", "invited"},
	              {"waiting_room", "waiting"}, {"recording", "in_meeting"},
	              {"processing", "left"},   {"ready", "left"},
	              {"failed", "left"}};
	const char *st = str_or(rec, "state", "");
	const char *ps = NULL;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (strcmp(states[i].rec, st) == 0)
			ps = states[i].participant;
	if (!ps || json_is_true(json_object_get(rec, "leave_requested")) ||
	    strcmp(str_or(rec, "source", "booking"), "booking") != 0)
		return NULL;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:[], s:s, s:s}", "id",
	                      str_or(rec, "id", ""), "object", "participant", "role", "recorder",
	                      "name",
	                      str_or(json_object_get(rec, "options"), "bot_name", "meetlink recorder"),
	                      "email", "", "join_url", "platform_url", "passes", "state", ps,
	                      "recording_id", str_or(rec, "id", ""));
	json_t *j = json_object_get(rec, "joined_at"), *l = json_object_get(rec, "left_at");
	json_object_set(o, "joined_at", j ? j : json_null());
	json_object_set(o, "left_at", j && l ? l : json_null());
	return o;
}

static void stamp(struct ml_buf *b, double t)
{
	if (!isfinite(t) || t < 0)
		t = 0;
	long long ms = llround(t * 1000);
	ml_buf_printf(b, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60,
	              ms / 1000 % 60, ms % 1000);
}

/* Cue text: no line breaks, and &, <, > escaped (a cue never holds "-->"). */
static void cue_text(struct ml_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			ml_buf_puts(b, "&amp;");
			break;
		case '<':
			ml_buf_puts(b, "&lt;");
			break;
		case '>':
			ml_buf_puts(b, "&gt;");
			break;
		case '\r':
		case '\n':
		case '\t':
			ml_buf_puts(b, " ");
			break;
		default:
			ml_buf_append(b, s, 1);
		}
	}
}

static double jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

char *ml_recording_vtt(json_t *rec)
{
	struct ml_buf b = {0};
	size_t i;
	json_t *seg;
	ml_buf_puts(&b, "WEBVTT\n");
	json_array_foreach(json_object_get(rec, "transcript"), i, seg)
	{
		double start = jnum(seg, "start"), end = jnum(seg, "end");
		if (!isfinite(end) || end <= start)
			end = (isfinite(start) ? start : 0) + 1;
		ml_buf_printf(&b, "\n%zu\n", i + 1);
		stamp(&b, start);
		ml_buf_puts(&b, " --> ");
		stamp(&b, end);
		ml_buf_puts(&b, "\n");
		const char *sp = json_string_value(json_object_get(seg, "speaker"));
		if (sp && *sp) {
			ml_buf_puts(&b, "<v ");
			cue_text(&b, sp);
			ml_buf_puts(&b, ">");
		}
		cue_text(&b, json_string_value(json_object_get(seg, "text")));
		ml_buf_puts(&b, "\n");
	}
	return ml_buf_steal(&b);
}

/* Live presence: merging the platforms' facts into a booking's stays (domain/presence.h). */
#include "domain/presence.h"

#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void set_opt(json_t *o, const char *k, const char *v)
{
	if (v && *v && !str(o, k))
		json_object_set_new(o, k, json_string(v));
}

bool ml_presence_stay_open(json_t *stay)
{
	return num(stay, "joined_ms") > 0 && num(stay, "left_ms") == 0;
}

static json_t *find(json_t *stays, const struct ml_presence_fact *f)
{
	size_t i;
	json_t *s;
	json_array_foreach(stays, i, s)
		if (eq(str(s, "session"), f->session) && eq(str(s, "platform"), f->platform))
			return s;
	return NULL;
}

enum ml_presence_change ml_presence_merge(json_t *stays, const struct ml_presence_fact *f,
                                          int64_t now_ms, json_t **stay)
{
	int64_t t = f->at_ms > 0 ? f->at_ms : now_ms;
	json_t *s = find(stays, f);
	*stay = NULL;
	if (!json_is_array(stays) || !f->session || !*f->session || !f->platform)
		return ML_PRESENCE_NONE;
	if (!s) {
		if (json_array_size(stays) >= ML_PRESENCE_MAX_STAYS)
			return ML_PRESENCE_NONE;
		s = json_pack("{s:s, s:s, s:n, s:I, s:I}", "session", f->session, "platform",
		              f->platform, "participant_id", "joined_ms", (json_int_t)0, "left_ms",
		              (json_int_t)0);
		json_array_append_new(stays, s);
	}
	*stay = s;
	/* What the platform says about the person fills what is still unknown. */
	if (f->participant_id && json_is_null(json_object_get(s, "participant_id")))
		json_object_set_new(s, "participant_id", json_string(f->participant_id));
	set_opt(s, "name", f->name);
	set_opt(s, "identity", f->identity);
	set_opt(s, "email", f->email);
	int64_t joined = num(s, "joined_ms"), left = num(s, "left_ms");
	if (f->joined) {
		if (joined == 0) {
			json_object_set_new(s, "joined_ms", json_integer(t));
			return ML_PRESENCE_JOINED;
		}
		if (left > 0 && t > left) {
			/* Back in on the same session: open again. */
			json_object_set_new(s, "joined_ms", json_integer(t));
			json_object_set_new(s, "left_ms", json_integer(0));
			return ML_PRESENCE_JOINED;
		}
		if (t < joined) {
			json_object_set_new(s, "joined_ms", json_integer(t));
			return ML_PRESENCE_MOVED;
		}
		return ML_PRESENCE_NONE;
	}
	if (joined > 0 && t < joined && left == 0)
		return ML_PRESENCE_NONE; /* a leave from before this visit */
	if (left == 0) {
		json_object_set_new(s, "left_ms", json_integer(t));
		return ML_PRESENCE_LEFT;
	}
	if (t > left) {
		json_object_set_new(s, "left_ms", json_integer(t));
		return ML_PRESENCE_MOVED;
	}
	return ML_PRESENCE_NONE;
}

/* The Zoom emulator's checks of a meeting's body, as Zoom makes them: the request schemas
 * (specs/zoom/zoom-meetings-core.openapi.json, zoom_schemas.h), then the rules beyond them
 * (time zone, start time, password, topic, duration), each refusal in Zoom's shape. */
#include "sandbox/zoom_internal.h"

#include "sandbox/schema.h"
#include "sandbox/tzlocal.h"

#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A JSON object body, or NULL after Zoom's answer to a missing or malformed one. */
json_t *ml_zoom_json_body(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = ml_sb_json_body(req);
	if (!json_is_object(b)) {
		json_decref(b);
		ml_zoom_err(resp, 400, 300, "Request Body should be a valid JSON object.");
		return NULL;
	}
	return b;
}

void ml_zoom_invalid_field(struct ml_http_resp *resp, const char *field)
{
	ml_resp_json(resp, 400,
	             json_pack("{s:i, s:s, s:[{s:s, s:s}]}", "code", 300, "message",
	                       "Validation Failed.", "errors", "field", field, "message",
	                       "Invalid field."));
}

/* Validates `b` against the embedded schema text; false after answering. */
bool ml_zoom_validate(struct ml_http_resp *resp, const char *schema_text, const json_t *b)
{
	json_t *schema = json_loads(schema_text, 0, NULL);
	char path[256];
	int rc = ml_sb_schema_check(schema, b, path, sizeof path, NULL);
	json_decref(schema);
	if (rc < 0)
		ml_zoom_invalid_field(resp, path[0] ? path : "body");
	return rc == 0;
}

/* Zoom's start_time: "yyyy-MM-ddTHH:mm:ssZ" (GMT) or "yyyy-MM-ddTHH:mm:ss" in `timezone`. */
static bool parse_start(const char *s, const char *tz, int64_t *out)
{
	int y, mo, d, h, mi, se, n = 0;
	if (ml_time_parse(s, out) == 0)
		return true;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
	    s[n] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = se};
	int64_t local = (int64_t)timegm(&tm);
	return ml_sb_tz_local_to_utc(tz && *tz ? tz : "UTC", local, out);
}

static bool password_ok(const char *p)
{
	size_t n = strlen(p);
	if (n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || strchr("@-_*", p[i])))
			return false;
	return true;
}

/* Checks beyond the schema that Zoom makes; false after answering. */
bool ml_zoom_check_fields(struct ml_http_resp *resp, const json_t *b, const char *tz_fallback,
                          int64_t *start)
{
	const char *tz = ml_sb_str(b, "timezone"), *st = ml_sb_str(b, "start_time"),
	           *pw = ml_sb_str(b, "password"), *topic = ml_sb_str(b, "topic");
	json_t *dur = json_object_get(b, "duration");
	long off;

	if (tz && *tz && !ml_sb_tz_offset(tz, 0, &off)) {
		ml_zoom_invalid_field(resp, "timezone");
		return false;
	}
	if (st && !parse_start(st, tz && *tz ? tz : tz_fallback, start)) {
		ml_zoom_invalid_field(resp, "start_time");
		return false;
	}
	if (pw && !password_ok(pw)) {
		ml_zoom_err(
		    resp, 400, 300,
		    "Password can only contain the following characters: [a-z A-Z 0-9 @ - _ "
		    "*] and can be up to 10 characters.");
		return false;
	}
	if (topic && strlen(topic) > 200) {
		ml_zoom_invalid_field(resp, "topic");
		return false;
	}
	if (json_is_integer(dur) &&
	    (json_integer_value(dur) < 0 || json_integer_value(dur) > 1440 * 365)) {
		ml_zoom_invalid_field(resp, "duration");
		return false;
	}
	return true;
}

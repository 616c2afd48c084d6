#include "api/validate.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int invalid(const char *path, const char *fmt, const char *what)
{
	return ml_error_set(ML_EINVAL, "invalid_field", path, fmt, path, what);
}

/* The member `key` of obj, or NULL when it is absent (*rc: missing_field when it is
 * required, else 0) or null (*rc: invalid_field; a member the OpenAPI document declares
 * nullable is read with the _or_null functions, which look for null first). */
static json_t *member(json_t *obj, const char *key, const char *path, bool required, int *rc)
{
	json_t *v = json_object_get(obj, key);
	*rc = 0;
	if (v && !json_is_null(v))
		return v;
	if (v)
		*rc = ml_error_set(ML_EINVAL, "invalid_field", path, "%s must not be null.%s",
				   path, required ? "" : " Leave it out instead.");
	else if (required)
		*rc = ml_error_set(ML_EINVAL, "missing_field", path, "%s is required.", path);
	return NULL;
}

int ml_v_known(json_t *obj, const char *prefix, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(allowed[i], key) == 0;
		if (!ok) {
			/* Any length here: the error detail cuts it on a character boundary. */
			char *path = ml_asprintf("%s%s%s", prefix ? prefix : "",
						 prefix && *prefix ? "." : "", key);
			int rc = ml_error_set(ML_EINVAL, "unknown_field", path,
					      "%s is not a field of this object.", path);
			free(path);
			return rc;
		}
	}
	return 0;
}

int ml_v_none(json_t *obj)
{
	static const char *const none[] = {NULL};
	return ml_v_known(obj, NULL, none);
}

/* jansson already guarantees UTF-8. Refused: C0 controls, DEL and the C1 controls (U+0080 to
 * U+009F, NEL among them); a multiline text keeps tab, CR and LF. A single-line value goes
 * into mail headers, .ics parameters, provider requests and log lines: a CR or LF there
 * would start a new header or line. */
static bool text_ok(const char *s, bool multiline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t' || *p == '\r')))
			return false;
		if (*p == 0x7f || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
			return false;
	}
	return true;
}

static int string_at(json_t *obj, const char *key, const char *path, bool required, size_t max,
		     bool multiline, const char **out)
{
	int rc;
	json_t *v = member(obj, key, path, required, &rc);
	*out = NULL;
	if (!v)
		return rc;
	if (!json_is_string(v))
		return invalid(path, "%s must be a string%s.", "");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n != strlen(s))
		return invalid(path, "%s must not contain NUL characters%s.", "");
	if (required && n == 0)
		return invalid(path, "%s must not be empty%s.", "");
	if (n > max) {
		char what[48];
		snprintf(what, sizeof what, " (at most %zu bytes)", max);
		return invalid(path, "%s is too long%s.", what);
	}
	if (!text_ok(s, multiline))
		return invalid(path, "%s must not contain control characters%s.",
			       multiline ? " other than tab and line breaks" : " or line breaks");
	*out = s;
	return 0;
}

int ml_v_string(json_t *obj, const char *key, const char *path, bool required, size_t max,
		const char **out)
{
	return string_at(obj, key, path, required, max, false, out);
}

int ml_v_text(json_t *obj, const char *key, const char *path, bool required, size_t max,
	      const char **out)
{
	return string_at(obj, key, path, required, max, true, out);
}

int ml_v_name(json_t *obj, const char *key, const char *path, bool required, size_t max,
	      const char **out)
{
	int rc = ml_v_string(obj, key, path, required, max, out);
	if (rc == 0 && *out && !**out)
		return invalid(path, "%s must not be empty%s.", "");
	return rc;
}

int ml_v_string_or_null(json_t *obj, const char *key, const char *path, size_t max,
			const char **out, bool *present)
{
	json_t *v = json_object_get(obj, key);
	*present = v != NULL;
	*out = NULL;
	if (json_is_null(v))
		return 0;
	return ml_v_string(obj, key, path, false, max, out);
}

int ml_v_bool(json_t *obj, const char *key, const char *path, bool *out, bool *present)
{
	json_t *v = json_object_get(obj, key);
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return invalid(path, "%s must be true or false%s.", "");
	*out = json_is_true(v);
	return 0;
}

int ml_v_int(json_t *obj, const char *key, const char *path, int64_t min, int64_t max,
	     int64_t *out, bool *present)
{
	json_t *v = json_object_get(obj, key);
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return invalid(path, "%s must be an integer%s.", "");
	json_int_t n = json_integer_value(v);
	if (n < min || n > max) {
		char what[64];
		snprintf(what, sizeof what, " between %lld and %lld", (long long)min,
			 (long long)max);
		return invalid(path, "%s must be%s.", what);
	}
	*out = n;
	return 0;
}

int ml_v_time(json_t *obj, const char *key, const char *path, bool required, int64_t *out,
	      bool *present)
{
	const char *s;
	int rc = ml_v_string(obj, key, path, required, 64, &s);
	if (present)
		*present = s != NULL;
	if (rc < 0 || !s)
		return rc;
	if (ml_time_parse(s, out) < 0)
		return invalid(path,
			       "%s must be an RFC 3339 time with an offset, like "
			       "2026-12-01T15:00:00Z, %s in UTC.",
			       ML_TIME_RANGE_TEXT);
	return 0;
}

int ml_v_email(const char *s, const char *path)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);
	bool ok = at && at != s && strchr(at + 1, '@') == NULL && n <= 254;
	if (ok) {
		const char *dom = at + 1;
		const char *dot = strrchr(dom, '.');
		ok = *dom && dot && dot != dom && dot[1] && dom[0] != '.' && !strstr(dom, "..");
		for (const char *p = s; ok && *p; p++)
			ok = (unsigned char)*p > 0x20 && !strchr("<>()[]\\,;:\"", *p);
	}
	if (!ok)
		return ml_error_set(ML_EINVAL, "invalid_email", path,
				    "%s must be an email address like name@example.com.", path);
	return 0;
}

int ml_v_timezone(const char *s, const char *path)
{
	if (!ml_tz_valid(s))
		return ml_error_set(ML_EINVAL, "invalid_timezone", path,
				    "%s must be an IANA time zone name like Europe/London.", path);
	return 0;
}

int ml_v_url(const char *s, const char *path)
{
	bool ok = strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
	const char *host = ok ? strstr(s, "://") + 3 : NULL;
	ok = ok && *host && *host != '/' && strlen(s) <= 2048;
	for (const char *p = s; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && *p != 0x7f && *p != '"' && *p != '<' && *p != '>';
	if (!ok)
		return ml_error_set(ML_EINVAL, "invalid_url", path,
				    "%s must be an http(s) URL.", path);
	return 0;
}

/* The depth of v (a scalar is 0), walking no deeper than limit + 1; *bad: a member name
 * longer than ML_META_MAX_KEY, when one is found. */
static int meta_depth(json_t *v, int limit, const char **bad)
{
	int deepest = 0;
	if (limit < 0)
		return 1;
	if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach(v, k, m) {
			if (strlen(k) > ML_META_MAX_KEY && !*bad)
				*bad = k;
			int d = meta_depth(m, limit - 1, bad);
			if (d > deepest)
				deepest = d;
		}
		return deepest + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m) {
			int d = meta_depth(m, limit - 1, bad);
			if (d > deepest)
				deepest = d;
		}
		return deepest + 1;
	}
	return 0;
}

int ml_v_metadata(json_t *obj, const char *key, const char *path, json_t **out)
{
	const char *bad = NULL;
	json_t *v;
	int rc = ml_v_object(obj, key, path, false, &v);

	*out = NULL;
	if (rc < 0 || !v)
		return rc;
	if (json_object_size(v) > ML_META_MAX_KEYS)
		return ml_error_set(ML_EINVAL, "invalid_field", path,
				    "%s has at most %d members.", path, ML_META_MAX_KEYS);
	if (meta_depth(v, ML_META_MAX_DEPTH, &bad) > ML_META_MAX_DEPTH)
		return ml_error_set(ML_EINVAL, "invalid_field", path,
				    "%s nests at most %d levels deep.", path, ML_META_MAX_DEPTH);
	if (bad) {
		char *p = ml_asprintf("%s.%s", path, bad);
		rc = ml_error_set(ML_EINVAL, "invalid_field", p,
				  "A member name in %s is longer than %d bytes.", path,
				  ML_META_MAX_KEY);
		free(p);
		return rc;
	}
	char *text = ml_json_text(v);
	size_t n = text ? strlen(text) : 0;
	free(text);
	if (n > ML_META_MAX_BYTES)
		return ml_error_set(ML_EINVAL, "invalid_field", path,
				    "%s is at most %d bytes as JSON.", path, ML_META_MAX_BYTES);
	*out = v;
	return 0;
}

int ml_v_object(json_t *obj, const char *key, const char *path, bool required, json_t **out)
{
	int rc;
	json_t *v = member(obj, key, path, required, &rc);
	*out = NULL;
	if (!v)
		return rc;
	if (!json_is_object(v))
		return invalid(path, "%s must be an object%s.", "");
	*out = v;
	return 0;
}

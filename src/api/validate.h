/* Input validation for JSON bodies: each check names the offending field and sets the error
 * detail (ML_EINVAL, code "invalid_field" or "missing_field"). */
#ifndef ML_API_VALIDATE_H
#define ML_API_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Fails when `obj` has a member not listed in the NULL-terminated `allowed`. */
int ml_v_known(json_t *obj, const char *prefix, const char *const *allowed);
/* A body without fields (none sent, or {}): any member is unknown_field. */
int ml_v_none(json_t *obj);
/* A single-line string member; *out is borrowed (NULL when absent and !required). max: byte
 * length. Control characters (C0 including CR, LF and tab, DEL, C1) are refused: the value
 * may reach a mail header, an .ics parameter, a URL or a log line. */
int ml_v_string(json_t *obj, const char *key, const char *path, bool required, size_t max,
		const char **out);
/* A multiline text member (a reason, a template body): like ml_v_string, but tab, CR and LF
 * are allowed; whoever emits it escapes them for the format (RFC 5545 TEXT, quoted-printable). */
int ml_v_text(json_t *obj, const char *key, const char *path, bool required, size_t max,
	      const char **out);
/* Like ml_v_string, but never empty when given (create or update). */
int ml_v_name(json_t *obj, const char *key, const char *path, bool required, size_t max,
	      const char **out);
/* Every function here refuses a JSON null (invalid_field naming the path) unless its name says
 * _or_null: only members the OpenAPI document declares nullable are read with those. */

/* A string or null member: *present tells whether the key was given at all. */
int ml_v_string_or_null(json_t *obj, const char *key, const char *path, size_t max,
			const char **out, bool *present);
int ml_v_bool(json_t *obj, const char *key, const char *path, bool *out, bool *present);
int ml_v_int(json_t *obj, const char *key, const char *path, int64_t min, int64_t max,
	     int64_t *out, bool *present);
/* RFC 3339 with offset, the instant within ML_TIME_MIN..ML_TIME_MAX (core/timeutil.h). */
int ml_v_time(json_t *obj, const char *key, const char *path, bool required, int64_t *out,
	      bool *present);
int ml_v_email(const char *s, const char *path);
int ml_v_timezone(const char *s, const char *path);
/* An http(s) URL without spaces or control characters. */
int ml_v_url(const char *s, const char *path);
/* Bounds of a `metadata` object: the OpenAPI document states them. */
#define ML_META_MAX_KEYS 50    /* members of the object itself */
#define ML_META_MAX_KEY 100    /* bytes of a member name, at any level */
#define ML_META_MAX_DEPTH 5    /* nesting, the metadata object itself counting as 1 */
#define ML_META_MAX_BYTES 8192 /* its compact JSON text */
/* A `metadata` object (borrowed), or NULL when absent; refused beyond the bounds above, the
 * error naming `path` (or the member name that is too long). */
int ml_v_metadata(json_t *obj, const char *key, const char *path, json_t **out);
/* An object member (borrowed), or NULL when absent. */
int ml_v_object(json_t *obj, const char *key, const char *path, bool required, json_t **out);

#endif

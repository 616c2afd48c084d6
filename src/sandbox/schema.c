#include "sandbox/schema.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool type_is(const char *t, const json_t *v)
{
	if (!strcmp(t, "object"))
		return json_is_object(v);
	if (!strcmp(t, "array"))
		return json_is_array(v);
	if (!strcmp(t, "string"))
		return json_is_string(v);
	if (!strcmp(t, "integer"))
		return json_is_integer(v);
	if (!strcmp(t, "number"))
		return json_is_number(v);
	if (!strcmp(t, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(t, "null"))
		return json_is_null(v);
	return true;
}

static bool type_ok(const json_t *type, const json_t *v)
{
	size_t i;
	json_t *t;

	if (json_is_string(type))
		return type_is(json_string_value(type), v);
	if (!json_is_array(type))
		return true;
	json_array_foreach(type, i, t)
		if (json_is_string(t) && type_is(json_string_value(t), v))
			return true;
	return false;
}

static bool enum_ok(const json_t *en, const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(en))
		return true;
	json_array_foreach(en, i, e)
		if (json_equal(e, (json_t *)v))
			return true;
	return false;
}

/* Number of UTF-8 code points, which is what JSON Schema's length keywords count. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static void path_push(char *path, size_t sz, size_t base, const char *name)
{
	snprintf(path + base, sz - base, "%s%s", base ? "." : "", name);
}

static int check(const json_t *s, const json_t *v, char *path, size_t sz, const char **why)
{
	json_t *kw;
	size_t base = strlen(path);

	if (!json_is_object(s))
		return 0;
	if ((kw = json_object_get(s, "type")) && !type_ok(kw, v))
		return *why = "type", -1;
	if ((kw = json_object_get(s, "enum")) && !enum_ok(kw, v))
		return *why = "enum", -1;
	if (json_is_string(v)) {
		size_t n = utf8_len(json_string_value(v));
		if ((kw = json_object_get(s, "maxLength")) && json_is_integer(kw) &&
		    n > (size_t)json_integer_value(kw))
			return *why = "maxLength", -1;
		if ((kw = json_object_get(s, "minLength")) && json_is_integer(kw) &&
		    n < (size_t)json_integer_value(kw))
			return *why = "minLength", -1;
		if ((kw = json_object_get(s, "format")) && json_is_string(kw) &&
		    !strcmp(json_string_value(kw), "email") && *json_string_value(v) &&
		    !strchr(json_string_value(v), '@'))
			return *why = "format", -1;
	}
	if (json_is_number(v)) {
		double d = json_number_value(v);
		if ((kw = json_object_get(s, "maximum")) && json_is_number(kw) &&
		    d > json_number_value(kw))
			return *why = "maximum", -1;
		if ((kw = json_object_get(s, "minimum")) && json_is_number(kw) &&
		    d < json_number_value(kw))
			return *why = "minimum", -1;
	}
	if (json_is_object(v)) {
		json_t *req = json_object_get(s, "required"), *props = json_object_get(s, "properties");
		json_t *r, *ps;
		const char *k;
		size_t i;

		json_array_foreach(req, i, r) {
			if (json_is_string(r) && !json_object_get(v, json_string_value(r))) {
				path_push(path, sz, base, json_string_value(r));
				return *why = "required", -1;
			}
		}
		json_object_foreach(props, k, ps) {
			json_t *m = json_object_get(v, k);
			if (!m)
				continue;
			path_push(path, sz, base, k);
			if (check(ps, m, path, sz, why) < 0)
				return -1;
			path[base] = '\0';
		}
	}
	if (json_is_array(v)) {
		json_t *items = json_object_get(s, "items"), *it;
		size_t i;

		if ((kw = json_object_get(s, "maxItems")) && json_is_integer(kw) &&
		    json_array_size(v) > (size_t)json_integer_value(kw))
			return *why = "maxItems", -1;
		json_array_foreach(v, i, it) {
			/* Zoom names array members by the array's field, so the path stays. */
			if (check(items, it, path, sz, why) < 0)
				return -1;
		}
	}
	return 0;
}

int ml_sb_schema_check(const json_t *schema, const json_t *v, char *path, size_t pathsz,
		       const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	path[0] = '\0';
	return check(schema, v, path, pathsz, why);
}
